"""The compatibility layer: the Python range, NumPy's removed names, the package metadata.

The CUDA preload of the GPU flavour is tested in ``test_cuda_preload.py``.
"""

import ast
import math
import runpy
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

from d2l_rnn import _compat
from d2l_rnn._util import numpy_names

REPO = Path(__file__).resolve().parent.parent


def _bare_numpy(**own):
    """A module with numpy's functions the stand-ins call, ``own`` and nothing else."""
    module = types.ModuleType("fake_numpy")
    for name in ("all", "any", "prod", "round", "sort", "isin"):
        setattr(module, name, getattr(np, name))
    module.trapezoid = getattr(np, "trapezoid", None) or np.trapz
    vars(module).update(own)

    def __getattr__(name):  # numpy >= 1.24 for a removed name: warns, then refuses
        warnings.warn("np.%s was removed" % name, DeprecationWarning, stacklevel=2)
        raise AttributeError(name)

    module.__getattr__ = __getattr__
    return module


def test_missing_names_are_lent_for_the_block_and_exactly_those_taken_back():
    """Bugs it catches: lent names left on numpy; a name someone else set meanwhile
    taken away; a name dropped from READ_AT_IMPORT."""
    fake = _bare_numpy(NAN="numpy's own")
    before = dict(vars(fake))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with numpy_names.lent_to_mxnet(fake) as lent:
            assert set(lent) == set(numpy_names.READ_AT_IMPORT) - {"NAN"}
            assert fake.NAN == "numpy's own" and fake.bool is bool and fake.PZERO == 0.0
            assert math.copysign(1, fake.NZERO) == -1 and fake.NINF == -math.inf
            fake.PINF = "replaced by someone else meanwhile"
    assert caught == []  # probing numpy for the old names warns; the user sees none
    assert vars(fake).pop("PINF") == "replaced by someone else meanwhile"
    assert vars(fake) == before


def test_the_lent_names_are_taken_back_when_the_import_fails():
    """Bug it catches: no try/finally around the import."""
    fake = _bare_numpy()
    before = dict(vars(fake))
    with pytest.raises(ImportError), numpy_names.lent_to_mxnet(fake):
        assert fake.in1d is not None
        raise ImportError("mxnet")
    assert vars(fake) == before


# What each stand-in must return: NumPy 1.23's own function where this numpy
# still has it (Python 3.11), else the documented result.
STAND_IN_CALLS = [
    ("alltrue", ([[True, False], [True, True]],), {"axis": 0}, [True, False]),
    ("sometrue", ([False, True],), {}, True),
    ("product", ([2, 3, 4],), {}, 24),
    ("round_", ([1.26, -0.5],), {"decimals": 1}, [1.3, -0.5]),
    ("msort", ([[3, 1], [2, 5]],), {}, [[2, 1], [3, 5]]),
    ("trapz", ([1.0, 2.0, 4.0],), {"dx": 2.0}, 9.0),
    ("in1d", ([[1, 2], [3, 4]], [4, 1]), {"invert": True}, [False, True, True, False]),
]


@pytest.mark.parametrize("name, args, kwargs, expected", STAND_IN_CALLS, ids=lambda v: str(v))
def test_each_stand_in_does_what_numpys_own_did(name, args, kwargs, expected):
    """Bug it catches: in1d returning isin's shape (no ravel)."""
    stand_in = numpy_names.STAND_INS[name](np)
    got = stand_in(*args, **kwargs)
    assert np.array_equal(got, expected) and stand_in.__name__ == name
    if numpy_names.has_name(np, name):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert np.array_equal(got, getattr(np, name)(*args, **kwargs))


def test_the_financial_stand_ins_refuse_as_numpy_1_23_did():
    """Bug it catches: a stand-in that returns instead of raising."""
    with pytest.raises(RuntimeError, match="numpy_financial"):
        numpy_names.STAND_INS["npv"](np)(0.1, [1, 2])


def test_a_view_of_numpy_adds_names_and_hides_none():
    """Bug it catches: a view that does not pass other reads on to numpy."""
    view = numpy_names.NumpyView(np, {"Inf": math.inf})
    assert view.Inf == math.inf and view.float32 is np.float32 and view.ndarray is np.ndarray
    assert view.__name__ == "numpy" and not numpy_names.has_name(view, "no_such_name")


def _numpy_reads(tree, aliases):
    """``(name, line, at_run_time)`` of every ``alias.name`` read in ``tree``."""
    found = []

    def visit(node, run_time):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases):
            found.append((node.attr, node.lineno, run_time))
        body = getattr(node, "body", None) if isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else None
        inside = body if isinstance(body, list) else [body]
        for child in ast.iter_child_nodes(node):
            # A function's body runs when it is called; its defaults at import.
            visit(child, run_time or child in inside)

    visit(tree, False)
    return found


def test_every_read_of_a_removed_name_in_mxnet_is_covered():
    """Reads ``np.NAME`` in all of MXNet's Python files: a removed name (one this
    numpy lacks, or one with a stand-in) read at import must be lent during the
    import; one read in a function body must be in RUN_TIME_READERS for its
    module, which ``import mxnet`` loads. Bug it catches: a dropped table entry."""
    import mxnet as mx

    root = Path(mx.__file__).parent
    removed = set(numpy_names.STAND_INS)
    at_import, at_run_time = set(), {}
    for path in sorted(root.rglob("*.py")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MXNet's regex strings: invalid escapes
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        aliases = {a.asname or a.name for node in tree.body if isinstance(node, ast.Import)
                   for a in node.names if a.name == "numpy"}
        module = ".".join(("mxnet",) + path.relative_to(root).with_suffix("").parts)
        module = module[:-len(".__init__")] if module.endswith(".__init__") else module
        for name, line, run_time in _numpy_reads(tree, aliases):
            if name in removed or not numpy_names.has_name(np, name):
                if run_time:
                    alias = next(a for a in aliases if "%s.%s" % (a, name) in
                                 path.read_text(encoding="utf-8").splitlines()[line - 1])
                    at_run_time.setdefault((module, alias), set()).add(name)
                else:
                    at_import.add(name)
    assert at_import <= set(numpy_names.READ_AT_IMPORT), at_import
    covered = {(m, a): set(n) for m, (a, n) in numpy_names.RUN_TIME_READERS.items()}
    for key, names in at_run_time.items():
        assert names <= covered.get(key, set()), (key, names)
        assert key[0] in sys.modules, key  # loaded by import mxnet, so patched then


# Every name with a stand-in, gone from whichever numpy this venv has (numpy
# 1.23 has them all, some behind its module __getattr__), before d2l_rnn loads;
# but NumPy 2's np.bool is a name of its own again, which NumPy itself uses.
_AS_IF_REMOVED = """
import numpy as np
STAND_INS = [n for n in %r if n != "bool" or np.__version__ < "2"]
for _name in STAND_INS:
    np.__dict__.pop(_name, None)
_numpy_getattr = getattr(np, "__getattr__", None)
def _refuse(name):
    if name in STAND_INS or _numpy_getattr is None:
        raise AttributeError(name)
    return _numpy_getattr(name)
np.__getattr__ = _refuse
"""

_KEEPS_NUMPY = """
import numpy
before, had_in1d = dir(numpy), hasattr(numpy, "in1d")
import d2l_rnn
assert dir(numpy) == before, set(dir(numpy)) ^ set(before)
assert hasattr(numpy, "in1d") == had_in1d
import mxnet as mx
# One call per MXNet module that reads a removed name at run time (docs/numpy2.md).
x = mx.np.array([1.0, 2.0, 3.0])
assert x[True].shape == (1, 3)                                       # multiarray: _np.bool
x[mx.np.array([True, False, True])] = 0                              # multiarray: _np.bool
assert mx.nd.np.full((2,), True).dtype == numpy.bool_                # _op: _np.bool
assert mx.nd.np.pad(mx.nd.np.ones((2, 2)), ((1, 1),) * 2).shape == (4, 4)  # _op: _np.compat
mx.sym.np.full((2,), True)                                           # _symbol: _np.bool
mx.sym.np.pad(mx.sym.var("a").as_np_ndarray(), ((1, 1),) * 2)        # _symbol: _np.compat
assert mx.test_utils.default_rtols()[numpy.dtype(numpy.bool_)] == 0  # test_utils: np.bool
from mxnet.gluon.contrib.estimator.event_handler import EarlyStoppingHandler
handler = EarlyStoppingHandler(mx.metric.Loss(), mode="min")
handler.train_begin(None)                                            # event_handler: np.Inf
assert handler.best == float("inf")
print(had_in1d)
"""


@pytest.mark.parametrize("as_if_numpy_2", [False, True], ids=["this numpy", "as if numpy 2"])
def test_import_leaves_numpy_as_it_was_and_mxnet_reads_what_it_needs(as_if_numpy_2):
    """In a fresh Python: ``dir(numpy)`` and ``hasattr(numpy, 'in1d')`` are the same
    before and after ``import d2l_rnn``, and MXNet's functions that read removed names
    work. Bugs it catches: lent names not taken back; a RUN_TIME_READERS entry dropped."""
    removed = _AS_IF_REMOVED % sorted(numpy_names.STAND_INS)
    code = (removed if as_if_numpy_2 else "") + _KEEPS_NUMPY
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    has_in1d = numpy_names.has_name(np, "in1d") and not as_if_numpy_2
    assert result.stdout == "%s\n" % has_in1d


def test_python_3_13_is_supported_and_3_14_says_why_not():
    _compat.check_python((3, 13, 0))
    with pytest.raises(ImportError, match=r"Python 3\.14 .*untried.*python3\.13"):
        _compat.check_python((3, 14, 0))


def _hatch_hook():
    pytest.importorskip("hatchling")
    return runpy.run_path(str(REPO / "hatch_build.py"))["CheckPython"](str(REPO), {})


def test_package_metadata_gets_the_supported_range():
    from packaging.specifiers import SpecifierSet

    metadata = {}
    _hatch_hook().update(metadata)
    requires = SpecifierSet(metadata["requires-python"])
    low, high = _compat.SUPPORTED_PYTHONS
    for minor in range(6, 16):
        assert ("3.%d" % minor in requires) == (low <= (3, minor) <= high), minor


def test_install_on_python_3_14_stops_with_the_reason():
    _hatch_hook()  # skips without hatchling
    code = ("import runpy, sys; sys.version_info = (3, 14, 0, 'final', 0); "
            "hook = runpy.run_path(%r)['CheckPython'](%r, {}); hook.update({})"
            % (str(REPO / "hatch_build.py"), str(REPO)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith("error: d2l_rnn needs Python 3.8 to 3.13; this is Python 3.14")


def _chosen(requirements, minor):
    from packaging.requirements import Requirement

    env = {"python_version": "3.%d" % minor}
    return [r for r in map(Requirement, requirements) if r.marker is None or r.marker.evaluate(env)]


def _pyproject():
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def test_dependencies_follow_the_python_version():
    from packaging.version import Version

    project = _pyproject()
    low, high = _compat.SUPPORTED_PYTHONS
    for minor in range(low[1], high[1] + 1):
        chosen = _chosen(project["dependencies"], minor)
        (numpy,) = [d.specifier for d in chosen if d.name == "numpy"]
        assert ("1.23.5" in numpy) == (minor < 12), minor
        assert ("1.26.4" in numpy) == (minor == 12), minor
        assert ("2.1.0" in numpy and "2.5.5" in numpy) == (minor >= 13), minor
        assert any(d.name == "setuptools" for d in chosen) == (minor >= 12), minor
        if (3, minor) == sys.version_info[:2]:  # and pip installed accordingly
            assert Version(np.__version__) in numpy


@pytest.mark.parametrize("extra", ["cpu", "cu112"])
def test_mxnet_is_in_the_extra_or_installed_without_deps_never_both(extra):
    """On 3.13 the extra leaves MXNet out (pip would build numpy 1.x for it) and
    _compat names the same pinned MXNet for ``pip install --no-deps``. Bug it catches:
    the marker dropped from the cpu extra."""
    extras = _pyproject()["optional-dependencies"]
    low, high = _compat.SUPPORTED_PYTHONS
    for minor in range(low[1], high[1] + 1):
        mxnet = ["%s%s" % (r.name, r.specifier) for r in _chosen(extras[extra], minor)
                 if r.name.startswith("mxnet")]
        without_deps = _compat.mxnet_without_deps(extra, (3, minor))
        assert (mxnet == []) == (without_deps is not None) == (minor >= 13), minor
        if mxnet:
            pinned = mxnet[0]
    assert _compat.mxnet_without_deps(extra, (3, 13)) == pinned
    assert _compat.mxnet_without_deps("notebook,cu112,test", (3, 13)) == "mxnet-cu112==1.9.1"
