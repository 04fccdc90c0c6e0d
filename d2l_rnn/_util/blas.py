"""Run small NumPy products on one BLAS thread.

NumPy's OpenBLAS splits even a 256 x 256 matrix-vector product across its
threads. For one product that size the hand-over costs more than it saves
(measured here: 2.8 us on one thread against 7 us on two, worse when other
processes load the machine), and the woken threads then spin for a while,
taking a core from whatever runs next. :func:`on_one_blas_thread` sets
OpenBLAS to one thread around a function's calls and restores its setting after,
through OpenBLAS's C interface; with any other BLAS, or none found, it
does nothing.
"""

import ctypes
import glob
import os

import numpy as np

__all__ = ["blas_thread_functions", "on_one_blas_thread"]

# OpenBLAS's names for its thread setters: plain, ILP64 (NumPy's own wheels)
# and the scipy-openblas builds of newer NumPys.
_PREFIXES = ("openblas", "scipy_openblas")
_SUFFIXES = ("", "64_")
_NOT_LOOKED_UP = object()
_functions = _NOT_LOOKED_UP


def _candidates():
    root = os.path.dirname(np.__file__)
    for folder in (os.path.join(root, os.pardir, "numpy.libs"), os.path.join(root, ".dylibs"),
                   os.path.join(root, ".libs")):
        yield from sorted(glob.glob(os.path.join(folder, "*openblas*")))


def _find():
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)   # already loaded by NumPy: the same library
        except OSError:
            continue
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                get = getattr(lib, "%s_get_num_threads%s" % (prefix, suffix), None)
                set_ = getattr(lib, "%s_set_num_threads%s" % (prefix, suffix), None)
                if get is not None and set_ is not None:
                    get.restype, set_.argtypes = ctypes.c_int, [ctypes.c_int]
                    return get, set_
    return None


def blas_thread_functions():
    """Return OpenBLAS's ``(get_num_threads, set_num_threads)`` for NumPy, or None."""
    global _functions
    if _functions is _NOT_LOOKED_UP:
        _functions = _find()
    return _functions


def on_one_blas_thread(function):
    """Return ``function`` wrapped to run with NumPy's OpenBLAS on one thread.

    OpenBLAS's own thread count is read before each call and put back after
    it, so the rest of the program keeps its setting. Without OpenBLAS the
    function comes back unwrapped.
    """
    functions = blas_thread_functions()
    if functions is None:
        return function
    get, set_ = functions

    def wrapped(*args):
        before = get()
        set_(1)
        try:
            return function(*args)
        finally:
            set_(before)

    return wrapped
