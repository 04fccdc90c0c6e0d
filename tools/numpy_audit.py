"""Find reads of NumPy names this NumPy lacks, from MXNet's and d2l_rnn's code.

How docs/numpy2.md's list was checked: run the suite with this pytest plugin
on each NumPy (``.venv-py313/bin/python -m pytest -p tools.numpy_audit``),
or a script after ``tools.numpy_audit.install()``. Every ``AttributeError``
that ``numpy``'s module ``__getattr__`` raises for a read from a file of
``mxnet/`` or ``d2l_rnn/`` is recorded with the reading line, and the list
is printed at the end (pytest: in the terminal summary; a script: at exit,
to stderr or, with ``NUMPY_AUDIT_LOG=FILE``, appended to FILE). For the
suite's subprocesses (the CLI, kvstore workers, notebook kernels) put a
``sitecustomize.py`` that calls ``install()`` on ``PYTHONPATH``.
A read that is only a probe (``getattr(np, name, None)``, ``hasattr``) shows
up too; the line printed tells which it is.
"""

import atexit
import os
import sys
from pathlib import Path

__all__ = ["install", "report"]

_SEEN = {}  # (file, line, name) -> count
_SKIP = ["numpy_names.py", "numpy_audit.py"]  # and numpy's own folder, once installed


def _reader(frame):
    """The first frame outside numpy and the lending module: the real reader.

    None for d2l_rnn's own probes (``numpy_names.has_name``), which expect misses.
    (MXNet's ``mxnet/numpy/`` and ``mxnet/ndarray/numpy/`` are readers, not numpy.)
    """
    while frame is not None and any(frame.f_code.co_filename.endswith(part)
                                    or frame.f_code.co_filename.startswith(part)
                                    for part in _SKIP):
        if frame.f_code.co_name == "has_name":
            return None
        frame = frame.f_back
    return frame


def install():
    """Wrap ``numpy.__getattr__`` so failed reads are recorded; idempotent."""
    import numpy

    original = getattr(numpy, "__getattr__", None)
    if getattr(original, "_audit", False):
        return
    _SKIP.append(os.path.dirname(numpy.__file__) + os.sep)

    def audited(name):
        try:
            if original is None:
                raise AttributeError(name)
            return original(name)
        except AttributeError:
            frame = _reader(sys._getframe(1))
            path = frame.f_code.co_filename if frame else ""
            if frame is not None and ("/mxnet/" in path or "/d2l_rnn/" in path):
                key = (path, frame.f_lineno, name)
                _SEEN[key] = _SEEN.get(key, 0) + 1
            raise

    audited._audit = True  # type: ignore[attr-defined]
    numpy.__getattr__ = audited


def report():
    """The recorded reads, one line each: ``file:line numpy.NAME (count)``."""
    lines = []
    for (path, line, name), count in sorted(_SEEN.items()):
        short = path.split("site-packages/")[-1] if "site-packages/" in path else Path(path).name
        lines.append("%s:%d numpy.%s (%d)" % (short, line, name, count))
    return lines


def pytest_configure(config):
    install()


def pytest_terminal_summary(terminalreporter):
    terminalreporter.section("reads of NumPy names this NumPy lacks")
    for line in report() or ["none"]:
        terminalreporter.write_line(line)


def _at_exit():
    if not _SEEN:
        return
    log = os.environ.get("NUMPY_AUDIT_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write("".join("%s [%s]\n" % (line, " ".join(sys.argv)[:80]) for line in report()))
    else:
        print("\n".join(["reads of NumPy names this NumPy lacks:"] + report()), file=sys.stderr)


atexit.register(_at_exit)
