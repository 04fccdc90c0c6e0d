"""``python -m d2l_rnn.distributed.cluster ARGS``: MXNet's ``tools/launch.py``, on Python 3.9+.

The launcher in the mxnet 1.9.1 wheel (``mxnet/tools/launch.py`` and the
``dmlc_tracker`` package beside it) calls ``threading.Thread.isAlive``,
which Python 3.9 removed: on 3.9-3.11 every launch (``--launcher ssh``,
``local``, ``mpi``) dies with ``AttributeError: 'Thread' object has no
attribute 'isAlive'`` right after starting the scheduler. This module puts
the old name back (an alias of ``is_alive``) and runs that very script with
the arguments given; nothing else changes. On Python 3.8 the script works
as it is.
"""

import runpy
import sys
import threading
from pathlib import Path

__all__ = ["launch_script", "restore_isalive", "main"]


def launch_script():
    """Path of ``tools/launch.py`` in the installed mxnet wheel."""
    import importlib.util

    spec = importlib.util.find_spec("mxnet")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("mxnet is not installed; pip install 'd2l_rnn[cpu]'")
    path = Path(spec.origin).parent / "tools" / "launch.py"
    if not path.is_file():
        raise FileNotFoundError("this mxnet has no tools/launch.py (looked at %s)" % path)
    return path


def restore_isalive():
    """Give ``threading.Thread`` back its pre-3.9 ``isAlive`` name."""
    if not hasattr(threading.Thread, "isAlive"):
        threading.Thread.isAlive = threading.Thread.is_alive


def main(argv=None):
    """Run ``launch.py`` with ``argv`` (default: this process's arguments)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    script = launch_script()
    restore_isalive()
    sys.argv = [str(script)] + argv
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
