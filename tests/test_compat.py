"""The compatibility layer: the Python range, ``np.bool``, the package metadata.

The CUDA preload of the GPU flavour is tested in ``test_cuda_preload.py``.
"""

import runpy
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

from d2l_rnn import _compat

REPO = Path(__file__).resolve().parent.parent


def _numpy_1_26_like():
    module = types.ModuleType("fake_numpy")

    def __getattr__(name):  # numpy >= 1.24: warns, then refuses
        warnings.warn("np.bool will be np.bool_ one day", FutureWarning, stacklevel=2)
        raise AttributeError(name)

    module.__getattr__ = __getattr__
    return module


def test_np_bool_is_restored_only_where_missing():
    new = _numpy_1_26_like()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _compat.restore_numpy_bool(new) is True
    assert new.bool is bool and caught == []
    old = types.ModuleType("fake_numpy")
    old.bool = "numpy's own"
    assert _compat.restore_numpy_bool(old) is False and old.bool == "numpy's own"


# numpy >= 1.24 as MXNet meets it: no np.bool, whichever numpy this venv has.
_WITHOUT_NP_BOOL = """
import warnings
import numpy as np
np.__dict__.pop("bool", None)
_numpy_getattr = getattr(np, "__getattr__", None)
def _refuse_bool(name):
    if name == "bool" or _numpy_getattr is None:
        raise AttributeError(name)
    return _numpy_getattr(name)
np.__getattr__ = _refuse_bool
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    assert not hasattr(np, "bool")
"""


def test_importing_the_package_gives_mxnet_a_numpy_without_np_bool_its_alias():
    code = _WITHOUT_NP_BOOL + "import d2l_rnn, mxnet\nassert np.bool is bool\nprint('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr[-2000:]


def test_python_3_12_is_supported_and_3_13_says_why_not():
    _compat.check_python((3, 12, 1))
    with pytest.raises(ImportError, match=r"Python 3\.13 .*numpy 1\.x.*python3\.12"):
        _compat.check_python((3, 13, 0))


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


def test_install_on_python_3_13_stops_with_the_reason():
    _hatch_hook()  # skips without hatchling
    code = ("import runpy, sys; sys.version_info = (3, 13, 0, 'final', 0); "
            "hook = runpy.run_path(%r)['CheckPython'](%r, {}); hook.update({})"
            % (str(REPO / "hatch_build.py"), str(REPO)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith("error: d2l_rnn needs Python 3.8 to 3.12; this is Python 3.13")


def test_dependencies_follow_the_python_version():
    tomllib = pytest.importorskip("tomllib")
    from packaging.requirements import Requirement
    from packaging.version import Version

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = [Requirement(d) for d in project["dependencies"]]
    low, high = _compat.SUPPORTED_PYTHONS
    for minor in range(low[1], high[1] + 1):
        env = {"python_version": "3.%d" % minor}
        chosen = [d for d in deps if d.marker is None or d.marker.evaluate(env)]
        (numpy,) = [d.specifier for d in chosen if d.name == "numpy"]
        assert "2.0" not in numpy and ("1.23.5" in numpy) == (minor < 12), minor
        assert ("1.26.4" in numpy) == (minor >= 12), minor
        assert any(d.name == "setuptools" for d in chosen) == (minor >= 12), minor
        if (3, minor) == sys.version_info[:2]:  # and pip installed accordingly
            assert Version(np.__version__) in numpy
