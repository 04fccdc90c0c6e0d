"""The command lines' console: Ctrl-C at any moment, and output any terminal can take.

Importing the package imports MXNet, which takes one or two seconds, and a
Ctrl-C then would print a KeyboardInterrupt traceback of 30 lines from deep
inside it (or worse, numpy turns it into an ImportError). So when this
process is one of the package's command lines (``d2l-rnn``, ``python -m
d2l_rnn...``), the package's very first statement installs a SIGINT handler
that prints one line and exits with 130 (:func:`on_startup`); each ``main``
puts Python's own handler back when it starts (:func:`started`), so its
``except KeyboardInterrupt`` handles the rest, and installs the quiet exit
again when it ends (:func:`finishing`), for the interpreter's shutdown.
Only the standard library is used here: it runs before anything is imported.

:func:`escape_unencodable` makes stdout and stderr write ``\\u00e9`` for what
their encoding cannot hold (``PYTHONIOENCODING=ascii``, a Latin-1 terminal)
instead of raising UnicodeEncodeError halfway through a sample.
"""

import os
import signal
import sys

__all__ = ["is_command_line", "on_startup", "started", "finishing", "escape_unencodable"]

_COMMANDS = ("d2l-rnn",)


def _command_line():
    """This process's command line as it was typed (Python 3.10+, else Linux's /proc)."""
    argv = getattr(sys, "orig_argv", None)
    if argv:
        return list(argv)
    try:
        with open("/proc/self/cmdline", "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return None


def is_command_line():
    """Whether this process runs one of the package's command lines.

    The console script is called ``d2l-rnn``; ``python -m d2l_rnn...`` is
    told by its command line (where that cannot be read, by ``sys.argv[0]``
    being ``'-m'`` while the package is imported, as Python sets it).
    """
    name = os.path.basename(str(sys.argv[0] or "")) if sys.argv else ""
    if name in _COMMANDS:
        return True
    argv = _command_line()
    if argv is None:
        return name == "-m"
    if "-m" not in argv[1:-1]:
        return False
    module = argv[argv.index("-m", 1) + 1]
    return module == "d2l_rnn" or module.startswith("d2l_rnn.")


def _program():
    """How this command names itself (``d2l-rnn``, ``python -m d2l_rnn.distributed.local``)."""
    argv = _command_line() or []
    if "-m" in argv[1:-1]:
        module = argv[argv.index("-m", 1) + 1]
        return "d2l-rnn" if module == "d2l_rnn" else "python -m " + module
    return "d2l-rnn" if os.path.basename(str(sys.argv[0] or "") if sys.argv else "") \
        in _COMMANDS else "d2l_rnn"


_MESSAGES: dict = {}


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a reentrant flush or a closed pipe: exit anyway
            pass


def _quit_starting(signum, frame):
    os.write(2, _MESSAGES.get("starting", b""))
    os._exit(130)


def _quit_finishing(signum, frame):
    _flush()  # what was printed stays printed
    os.write(2, _MESSAGES.get("finishing", b""))
    os._exit(130)


def _install(handler):
    program = _program()
    _MESSAGES.update(
        starting=("%s: interrupted while starting; nothing was done\n" % program).encode(),
        finishing=("%s: interrupted while exiting; its work was done\n" % program).encode())
    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: Python's handler stays
        pass


def on_startup():
    """In a command line, make a Ctrl-C before ``main`` one line and exit 130."""
    if is_command_line() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        _install(_quit_starting)


def started():
    """Give Ctrl-C back to ``main`` (KeyboardInterrupt) once it can handle it."""
    if signal.getsignal(signal.SIGINT) in (_quit_starting, _quit_finishing):
        _install(signal.default_int_handler)


def finishing():
    """In a command line, make a Ctrl-C after ``main`` (the shutdown) one line and exit 130."""
    if is_command_line():
        _install(_quit_finishing)


def escape_unencodable():
    """Have stdout and stderr escape what their encoding cannot write (``\\xe9``, ``\\u65e5``)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) == "strict":
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a closed or detached stream
                pass
