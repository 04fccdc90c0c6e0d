"""Import MXNet for the rest of the package, or say clearly why it cannot be.

Every module of :mod:`d2l_rnn` that needs MXNet imports it from here, so the
checks on the Python version and on the installed MXNet flavour live in one
place and run before MXNet's own import (whose failures are cryptic: a numpy
build error, ``np.bool`` missing, a missing ``libcudnn.so.8``).
"""

import sys

__all__ = ["SUPPORTED_PYTHONS", "check_python", "import_mxnet"]

# MXNet 1.9.1, the last release, needs numpy<1.24, whose wheels stop at 3.11.
SUPPORTED_PYTHONS = ((3, 8), (3, 11))


def check_python(version_info=None):
    """Raise ImportError when this Python cannot run MXNet 1.9.1.

    Parameters
    ----------
    version_info : tuple, optional
        ``(major, minor, ...)``; defaults to :data:`sys.version_info`.
    """
    version = tuple((version_info or sys.version_info)[:2])
    low, high = SUPPORTED_PYTHONS
    if not low <= version <= high:
        raise ImportError(
            "d2l_rnn needs Python %d.%d to %d.%d (MXNet 1.9.1 needs numpy<1.24); "
            "this is Python %d.%d. Create the environment with a supported "
            "interpreter, e.g. `make PYTHON=python3.11`."
            % (low + high + version))


def import_mxnet():
    """Return the ``mxnet`` module, or raise ImportError saying what to install."""
    check_python()
    try:
        import mxnet
    except ImportError as err:
        if getattr(err, "name", None) not in (None, "mxnet"):
            raise
        raise ImportError(
            "d2l_rnn needs MXNet, which is not installed. Install the CPU "
            "flavour with `pip install 'd2l_rnn[cpu]'` (or `pip install "
            "mxnet==1.9.1`), or the GPU flavour with `pip install "
            "'d2l_rnn[cu112]'`.") from err
    return mxnet


if __name__ == "__main__":
    # `python d2l_rnn/_compat.py`: the Makefile's interpreter check, so the
    # supported range is written down only once.
    try:
        check_python()
    except ImportError as err:
        sys.exit("error: %s" % err)
