"""NumPy names that MXNet 1.9.1 reads and NumPy has removed, lent to MXNet alone.

MXNet 1.9.1's Python files read, while they are imported, names that NumPy
1.24 (``np.bool``) and 2.0 (``np.PZERO``, ``np.in1d``, ``np.sometrue``, ...)
removed, and a few of its functions read such names when they are called.
The user's ``numpy`` is left as it is:

* :func:`lent_to_mxnet` adds to ``numpy`` the names it lacks for the
  duration of ``import mxnet`` and then takes exactly those away again;
* :func:`patch_mxnet_modules` gives each MXNet module that reads a missing
  name at run time (:data:`RUN_TIME_READERS`) its own view of ``numpy``
  (:class:`NumpyView`) that has the name; ``numpy`` itself is not touched.

Each stand-in is what NumPy 1.23 had under that name, or calls the function
that replaced it. docs/numpy2.md lists every place, with MXNet's file and line.
Only the standard library is imported here; ``numpy`` is passed in or
imported when a function runs.
"""

import contextlib
import types
import warnings

__all__ = ["STAND_INS", "READ_AT_IMPORT", "RUN_TIME_READERS", "NumpyView", "has_name",
           "missing_names", "lent_to_mxnet", "patch_mxnet_modules"]


def _calls(name, replacement):
    """A stand-in for ``numpy.<name>`` that calls ``replacement(np)``'s result.

    The function is looked up at each call, as NumPy's own name would be.
    """
    def make(np):
        def stand_in(*args, **kwargs):
            return replacement(np)(*args, **kwargs)
        stand_in.__name__ = stand_in.__qualname__ = name
        stand_in.__doc__ = "numpy.%s, which NumPy removed." % name
        return stand_in
    return make


def _financial(name):
    """The stub NumPy 1.20-1.26 kept for a function moved to numpy_financial."""
    def make(np):
        def removed(*args, **kwargs):
            raise RuntimeError("numpy.%s was removed from NumPy in version 1.20 (NEP 32); "
                               "use the numpy_financial package" % name)
        removed.__name__ = removed.__qualname__ = name
        return removed
    return make


def _constant(value):
    return lambda np: value


def _in1d(np):
    return lambda ar1, ar2, *args, **kwargs: np.isin(ar1, ar2, *args, **kwargs).ravel()


# Every removed name MXNet 1.9.1 reads, with what stands in for it. The
# constants were Python floats, np.bool and np.int the builtins.
STAND_INS = {
    "bool": _constant(bool),
    "int": _constant(int),
    "Inf": _constant(float("inf")),
    "PINF": _constant(float("inf")),
    "NINF": _constant(float("-inf")),
    "PZERO": _constant(0.0),
    "NZERO": _constant(-0.0),
    "NAN": _constant(float("nan")),
    "NaN": _constant(float("nan")),
    "compat": _constant(types.SimpleNamespace(basestring=str)),
    "alltrue": _calls("alltrue", lambda np: np.all),
    "sometrue": _calls("sometrue", lambda np: np.any),
    "product": _calls("product", lambda np: np.prod),
    "round_": _calls("round_", lambda np: np.round),
    "msort": _calls("msort", lambda np: lambda a: np.sort(a, axis=0)),
    "trapz": _calls("trapz", lambda np: getattr(np, "trapezoid", None) or np.trapz),
    "in1d": _calls("in1d", _in1d),
}
STAND_INS.update((name, _financial(name))
                 for name in ("mirr", "npv", "pmt", "ppmt", "pv", "rate"))

# The names ``import mxnet`` reads (the others only at run time): in
# mxnet/numpy/utils.py, fallback.py, numpy_dispatch_protocol.py and
# gluon/contrib/estimator/event_handler.py.
READ_AT_IMPORT = ("bool", "Inf", "PINF", "NINF", "PZERO", "NZERO", "NAN", "NaN", "alltrue",
                   "sometrue", "product", "round_", "msort", "trapz", "in1d", "mirr", "npv",
                   "pmt", "ppmt", "pv", "rate")

# MXNet modules whose functions read a removed name when called:
# {module: (the name it gives numpy, the names)}. docs/numpy2.md has the lines.
RUN_TIME_READERS = {
    "mxnet.numpy.multiarray": ("_np", ("bool",)),
    "mxnet.ndarray.numpy._op": ("_np", ("bool", "compat")),
    "mxnet.symbol.numpy._symbol": ("_np", ("bool", "compat")),
    "mxnet.gluon.contrib.estimator.event_handler": ("np", ("Inf",)),
    "mxnet.test_utils": ("np", ("bool", "int")),
}


def has_name(np, name):
    """``hasattr(np, name)``, without the warnings NumPy gives for old names."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return hasattr(np, name)


def missing_names(np, names):
    """``{name: stand-in}`` for each of ``names`` that ``np`` lacks."""
    return {name: STAND_INS[name](np) for name in names if not has_name(np, name)}


@contextlib.contextmanager
def lent_to_mxnet(np=None):
    """Within the block, ``np`` (numpy) has every name ``import mxnet`` reads.

    Yields the ``{name: stand-in}`` added; on leaving, exactly those are
    removed (one that something else has replaced since is left alone).
    """
    if np is None:
        import numpy as np
    lent = missing_names(np, READ_AT_IMPORT)
    for name, value in lent.items():
        setattr(np, name, value)
    try:
        yield lent
    finally:
        for name, value in lent.items():
            if vars(np).get(name) is value:
                delattr(np, name)


class NumpyView(types.ModuleType):
    """``numpy`` as one MXNet module sees it: every numpy name, plus ``lent``.

    Parameters
    ----------
    np : module
        The real numpy, which reads of every other name go to.
    lent : dict
        ``{name: value}`` this view has and numpy lacks.
    """

    def __init__(self, np, lent):
        super().__init__(np.__name__, np.__doc__)
        vars(self).update(lent, __wrapped__=np)

    def __getattr__(self, name):  # called only for names not lent
        return getattr(vars(self)["__wrapped__"], name)


def patch_mxnet_modules(modules, np=None):
    """Give each loaded module of :data:`RUN_TIME_READERS` a :class:`NumpyView`.

    ``modules`` is ``sys.modules``. Only modules that hold the real numpy
    and read a name it lacks are changed. Returns ``{module: sorted names}``.
    """
    if np is None:
        import numpy as np
    patched = {}
    for module_name, (alias, names) in RUN_TIME_READERS.items():
        module = modules.get(module_name)
        lent = missing_names(np, names)
        if module is None or not lent or getattr(module, alias, None) is not np:
            continue
        setattr(module, alias, NumpyView(np, lent))
        patched[module_name] = sorted(lent)
    return patched
