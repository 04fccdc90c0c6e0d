"""Bounds and reports for the processes of a job (used by :mod:`.local`).

A process started through :func:`child_setup` is sent SIGKILL when its parent
dies (Linux ``PR_SET_PDEATHSIG``) and SIGALRM when it outlives its lifetime;
both settings survive ``exec``, so they hold for any program, MXNet's
scheduler and servers included. :func:`interrupts_held` keeps a Ctrl-C that
comes while processes are being started for the moment they all are.
"""

import contextlib
import ctypes
import signal
import sys
import threading

__all__ = ["child_setup", "interrupts_held", "describe_exit", "Follower", "MAX_PROCESSES",
           "MAX_TIMEOUT"]

# Bounds on what one machine is asked to run: processes, and seconds (the
# lifetime alarm takes an unsigned int; a week is more than any job here).
MAX_PROCESSES, MAX_TIMEOUT = 64, 7 * 24 * 3600.0

_PR_SET_PDEATHSIG = 1


def child_setup(lifetime):
    """Return a ``preexec_fn``: SIGKILL when the parent dies, SIGALRM after ``lifetime`` s."""
    # Resolved in the parent: the child, forked from a threaded process, should
    # only make async-signal-safe calls before exec.
    prctl = ctypes.CDLL(None).prctl if sys.platform.startswith("linux") else None

    def setup():
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the launcher
        signal.alarm(lifetime)  # kept across exec: a hard end in any case
    return setup


@contextlib.contextmanager
def interrupts_held():
    """Hold SIGINT inside the block and deliver it, as it would have been, on the way out.

    A ``KeyboardInterrupt`` raised while ``subprocess`` forks can land in one of
    the Python hooks that run around ``fork`` (``logging`` has some), which
    only print it ("Exception ignored in ..."): the Ctrl-C would be lost and
    the launcher would go on waiting for the job it was told to stop. Held
    here, it is raised once the block is done, every process started in it
    known and so stopped. Only the main thread can do this; elsewhere, or
    with SIGINT ignored (which the children inherit), the block runs as it is.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) == signal.SIG_IGN):
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and callable(previous):
            previous(signal.SIGINT, caught[0])
        elif caught and previous == signal.SIG_DFL:
            signal.raise_signal(signal.SIGINT)


def describe_exit(returncode, lifetime):
    """How a process ended, in words, from its ``returncode``."""
    if returncode >= 0:
        return "exited with status %d" % returncode
    name = signal.Signals(-returncode).name
    if -returncode == signal.SIGALRM:
        return "was stopped by SIGALRM: it outlived its %d s lifetime" % lifetime
    return "was killed by %s" % name


class Follower:
    """Copy what a log file gains to a stream (a follower, like ``tail -f``)."""

    def __init__(self, path, stream):
        self.stream = stream
        self.file = open(path, "rb") if stream is not None else None

    def copy(self):
        """Write what the file gained since the last call."""
        if self.file is not None:
            data = self.file.read()
            if data:
                self.stream.write(data.decode(errors="replace"))
                self.stream.flush()

    def close(self):
        """Close the file."""
        if self.file is not None:
            self.file.close()
