"""Build shared libraries for the tests: the stand-in NVIDIA driver and fakes.

``python tests/stub_driver.py DIR`` compiles ``tests/libcuda_stub.c`` into
``DIR/libcuda.so.1``; with DIR on ``LD_LIBRARY_PATH`` the GPU flavour of
MXNet imports and runs on the CPU (``make test-cu112`` does this). The tests
import :func:`compile_shared` to build the same stand-in, and the fake CUDA
libraries of a fake ``site-packages``, with the one gcc command line here.
"""

import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["STUB_SOURCE", "DRIVER_SONAME", "compile_shared", "build_stub_driver"]

STUB_SOURCE = Path(__file__).resolve().with_name("libcuda_stub.c")
DRIVER_SONAME = "libcuda.so.1"


def compile_shared(source, out, libs=(), lib_dirs=()):
    """Compile C ``source`` (a path) into the shared library ``out``.

    The file name of ``out`` is also its soname, which is what libraries
    linked against it (``libs``: file names found in ``lib_dirs``) record.
    Returns ``out`` as a Path; raises RuntimeError if gcc is missing or fails.
    """
    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError("gcc is needed to build test libraries; install it "
                           "(e.g. `apt-get install gcc`)")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [gcc, "-shared", "-fPIC", "-O2", "-Wl,-soname," + out.name,
           "-o", str(out), str(source)]
    cmd += ["-L" + str(d) for d in lib_dirs] + ["-l:" + lib for lib in libs]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("gcc failed on %s:\n%s" % (source, result.stderr))
    return out


def build_stub_driver(out_dir):
    """Build the stand-in ``libcuda.so.1`` in ``out_dir``; return its path."""
    return compile_shared(STUB_SOURCE, Path(out_dir) / DRIVER_SONAME)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/stub_driver.py OUT_DIR")
    print("built", build_stub_driver(sys.argv[1]))
