"""Import MXNet for the rest of the package, or say clearly why it cannot be.

Every module of :mod:`d2l_rnn` that needs MXNet imports it from here, so the
facts about which Pythons, numpys and MXNet flavours work live in one place,
and the steps that make them work run before MXNet's own import, whose
failures are cryptic (a numpy build error, ``np.bool`` missing, a missing
``libcudnn.so.8``):

* Python 3.8 to 3.13 (:func:`check_python`) with the NumPy each has wheels
  of: 1.23 up to 3.11, 1.26 on 3.12, 2.x on 3.13. MXNet 1.9.1, the last
  release, reads names NumPy 1.24 and 2.0 removed: :mod:`._util.numpy_names`
  lends them to MXNet alone, and the user's ``numpy`` keeps exactly the
  attributes it had. (``setuptools`` provides ``distutils`` from 3.12 on.)
* From 3.13 on, MXNet goes in with ``pip install --no-deps``, after the rest
  (:func:`mxnet_without_deps`): its metadata asks for numpy<2.
* The GPU flavour, ``mxnet-cu112``, links the CUDA 11 runtime, cuDNN 8 and
  friends by name, but their PyPI wheels put them in
  ``site-packages/nvidia/*/lib``, which the loader does not search.
  :func:`preload_cuda_libraries` loads them first with ``RTLD_GLOBAL``, so
  ``libmxnet.so`` finds them already loaded. Only the NVIDIA driver's
  ``libcuda.so.1`` cannot come from PyPI; without it the import stops with
  an error that says how to use the CPU flavour instead.

On the CPU flavour none of the GPU steps run. Only the standard library is
imported at module level: the Makefile runs this file as ``python
d2l_rnn/_compat.py`` with a bare interpreter, before any environment exists.
"""

import re
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "SUPPORTED_PYTHONS", "NO_DEPS_PYTHON", "GPU_DRIVER", "requires_python", "check_python",
    "mxnet_without_deps", "install_hint", "mxnet_flavours", "cuda_library_paths",
    "preload_cuda_libraries", "prepare_gpu_flavour", "import_mxnet",
]

SUPPORTED_PYTHONS = ((3, 8), (3, 13))

# From this Python on numpy 1.x has no wheels: MXNet goes in with --no-deps.
NO_DEPS_PYTHON = (3, 13)
_MXNET = {"cpu": "mxnet==1.9.1", "cu112": "mxnet-cu112==1.9.1"}

# The one library of the GPU stack that only the NVIDIA driver installs.
GPU_DRIVER = "libcuda.so.1"


def requires_python():
    """Return :data:`SUPPORTED_PYTHONS` as a specifier: ``">=3.8,<3.13"``.

    ``hatch_build.py`` puts it into the package metadata, so pip and this
    module share one range.
    """
    low, high = SUPPORTED_PYTHONS
    return ">=%d.%d,<%d.%d" % (low[0], low[1], high[0], high[1] + 1)


def check_python(version_info=None):
    """Raise ImportError when this Python cannot run MXNet 1.9.1.

    Parameters
    ----------
    version_info : tuple, optional
        ``(major, minor, ...)``; defaults to :data:`sys.version_info`.
    """
    version = tuple((version_info or sys.version_info)[:2])
    low, high = SUPPORTED_PYTHONS
    if low <= version <= high:
        return
    why = ("MXNet 1.9.1 is untried on Python %d.%d and newer" % (high[0], high[1] + 1)
           if version > high else "older Pythons are not tested")
    raise ImportError(
        "d2l_rnn needs Python %d.%d to %d.%d; this is Python %d.%d (%s). "
        "Create the environment with a supported interpreter, e.g. "
        "`make PYTHON=python3.13`." % (low + high + version + (why,)))


def mxnet_without_deps(extras="cpu", version_info=None):
    """The MXNet requirement to ``pip install --no-deps`` here, or None.

    ``extras``: the install's, comma-separated (``"cpu"``, ``"cu112,test"``).
    From :data:`NO_DEPS_PYTHON` on, pyproject's extras leave MXNet out (pip
    would build numpy 1.x for it), so it is installed alone, after them.
    """
    version = tuple((version_info or sys.version_info)[:2])
    flavour = "cu112" if "cu112" in extras.split(",") else "cpu"
    return _MXNET[flavour] if version >= NO_DEPS_PYTHON else None


def install_hint(extra="cpu", version_info=None):
    """The commands that install d2l_rnn with MXNet's ``extra`` flavour on this Python."""
    without_deps = mxnet_without_deps(extra, version_info)
    then = ", then `pip install --no-deps %s`" % without_deps if without_deps else ""
    return "`pip install 'd2l_rnn[%s]'`%s" % (extra, then)


def _cpu_hint():
    return ("use the CPU flavour instead: `pip uninstall -y mxnet-cu112`, then %s "
            "(or `make demo` without GPU=1)" % install_hint("cpu"))


def mxnet_flavours(site_dir):
    """Return the MXNet distributions installed in ``site_dir``.

    Returns
    -------
    set of str
        ``"cpu"`` for ``mxnet`` (or ``mxnet-mkl``, ``mxnet-native``),
        ``"gpu"`` for any ``mxnet-cu*`` such as ``mxnet-cu112``, read from
        the ``*.dist-info`` folders that pip writes next to the ``mxnet``
        package.
    """
    found = set()
    for entry in Path(site_dir).glob("mxnet*.dist-info"):
        if re.match(r"mxnet[-_]cu\d+(mkl)?-\d", entry.name, re.IGNORECASE):
            found.add("gpu")
        elif re.match(r"mxnet([-_](mkl|native))?-\d", entry.name, re.IGNORECASE):
            found.add("cpu")
    return found


def cuda_library_paths(site_dir):
    """Return the shared libraries of the ``nvidia-*`` wheels, sorted by path."""
    return sorted(Path(site_dir).glob("nvidia/*/lib/lib*.so*"))


def preload_cuda_libraries(paths, load=None):
    """Load ``paths`` into the process so later libraries can link to them.

    The wheels' libraries need each other (cuSOLVER needs cuBLAS, ...), so a
    library whose dependency is not loaded yet is retried after the others,
    until a round loads nothing more. ``paths`` are shared libraries (e.g.
    :func:`cuda_library_paths`); ``load(path)`` raises OSError on failure, by
    default ``ctypes.CDLL(path, RTLD_GLOBAL)``, which makes the symbols
    visible to every library loaded later. Returns the ``(path, OSError)``
    of the libraries that could not be loaded.
    """
    if load is None:
        import ctypes

        def load(path):
            ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)

    pending = list(paths)
    while pending:
        failed = []
        for path in pending:
            try:
                load(path)
            except OSError as err:
                failed.append((path, err))
        if len(failed) == len(pending):
            return failed
        pending = [path for path, _ in failed]
    return []


def prepare_gpu_flavour(site_dir, driver=GPU_DRIVER):
    """Make ``libmxnet.so`` of ``mxnet-cu112`` loadable; return what failed.

    Loads the NVIDIA driver (raising ImportError with instructions when it
    is missing), then every library of the ``nvidia-*`` wheels in
    ``site_dir``. Returns :func:`preload_cuda_libraries`' failures.
    """
    import ctypes

    try:
        ctypes.CDLL(driver, mode=ctypes.RTLD_GLOBAL)
    except OSError as err:
        raise ImportError(
            "the GPU flavour of MXNet (mxnet-cu112) is installed, but the "
            "NVIDIA driver is not: %s cannot be loaded (%s). Install the "
            "NVIDIA driver (`nvidia-smi` then lists your GPU), or %s."
            % (driver, err, _cpu_hint())) from err
    return preload_cuda_libraries(cuda_library_paths(site_dir))


def _mxnet_site_dir():
    import importlib.util

    spec = importlib.util.find_spec("mxnet")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]).parent


def _prepare(site_dir):
    """Run the steps MXNet needs before its import; return preload failures."""
    flavours = mxnet_flavours(site_dir)
    if flavours == {"cpu", "gpu"}:
        raise ImportError(
            "both MXNet flavours, mxnet (CPU) and mxnet-cu* (GPU), are installed "
            "in %s; they share the `mxnet` package, so one has overwritten the "
            "other. Keep one: `pip uninstall -y mxnet mxnet-cu112`, then %s or %s."
            % (site_dir, install_hint("cpu"), install_hint("cu112")))
    return prepare_gpu_flavour(site_dir) if flavours == {"gpu"} else []


def import_mxnet() -> Any:
    """Return the ``mxnet`` module, or raise ImportError saying what to do.

    Typed ``Any``: MXNet 1.x ships no type information.
    """
    loaded = sys.modules.get("mxnet")
    if loaded is not None:  # the common case: every call after the first
        return loaded
    check_python()
    site_dir = _mxnet_site_dir()
    failed = _prepare(site_dir) if site_dir is not None else []
    from ._util import numpy_names

    try:
        with numpy_names.lent_to_mxnet():
            import mxnet
    except ImportError as err:
        if getattr(err, "name", None) not in (None, "mxnet"):
            raise
        why = (" (from Python 3.13 on, MXNet goes in by itself, without its dependencies: "
               "its metadata asks for numpy<2)" if mxnet_without_deps() else "")
        raise ImportError(
            "d2l_rnn needs MXNet, which is not installed. Install the CPU flavour with %s, "
            "or the GPU flavour with %s%s." % (install_hint("cpu"), install_hint("cu112"),
                                               why)) from err
    except OSError as err:
        if not failed:
            raise
        raise ImportError(
            "MXNet's GPU flavour cannot load libmxnet.so (%s); these CUDA "
            "libraries of the nvidia-* wheels failed to load: %s. Reinstall "
            "them with `pip install --force-reinstall 'd2l_rnn[cu112]'`, or %s."
            % (err, "; ".join("%s (%s)" % (p.name, e) for p, e in failed),
               _cpu_hint())) from err
    numpy_names.patch_mxnet_modules(sys.modules)
    return mxnet


if __name__ == "__main__":
    # `python d2l_rnn/_compat.py`: the Makefile's interpreter check, so the
    # supported range is written down only once. With `--mxnet-without-deps
    # EXTRAS`, the Makefile's question: which MXNet to install with --no-deps.
    try:
        check_python()
    except ImportError as err:
        sys.exit("error: %s" % err)
    if sys.argv[1:2] == ["--mxnet-without-deps"]:
        print(mxnet_without_deps(*sys.argv[2:3]) or "")
