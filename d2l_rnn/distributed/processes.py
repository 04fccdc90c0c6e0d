"""Bounds and reports for the processes of a job (used by :mod:`.local`).

A process started through :func:`child_setup` is sent SIGKILL when its parent
dies (Linux ``PR_SET_PDEATHSIG``) and SIGALRM when it outlives its lifetime;
both settings survive ``exec``, so they hold for any program, MXNet's
scheduler and servers included. Neither reaches the processes *they* start
(a shell's children, say): those share the job process's group, and a
:class:`Watchdog`, a small process of its own, kills every group of the job
as soon as the launcher is gone, however it went (SIGKILL included: it
learns it from the end of a pipe only the launcher held). A process that has
exited is not reaped until its group has been killed (:func:`exit_status`),
so a group's number cannot be reused by an unrelated process meanwhile.
:func:`interrupts_held` keeps a Ctrl-C that comes while processes are being
started for the moment they all are.
"""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading

__all__ = ["child_setup", "interrupts_held", "describe_exit", "Follower", "Watchdog",
           "exit_status", "end_group", "JobFailed", "free_port", "MAX_PROCESSES", "MAX_TIMEOUT"]

# Bounds on what one machine is asked to run: processes, and seconds (the
# lifetime alarm takes an unsigned int; a week is more than any job here).
MAX_PROCESSES, MAX_TIMEOUT = 64, 7 * 24 * 3600.0

_PR_SET_PDEATHSIG = 1


class JobFailed(RuntimeError):
    """A process of the job failed, or the job outlived its timeout.

    :attr:`summary` says it in one line (the message adds the log's last lines).
    """

    def __init__(self, message, summary=None):
        super().__init__(message)
        self.summary = summary or " ".join(message.split())


def free_port(host="127.0.0.1"):
    """Return a TCP port on ``host`` that is free at the time of the call."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def child_setup(lifetime, watchdog=None):
    """Return a ``preexec_fn``: SIGKILL when the parent dies, SIGALRM after ``lifetime`` s.

    ``lifetime=None`` sets no alarm. With a :class:`Watchdog`, the child
    tells it its process group itself, before exec, so the group is known
    before the command can start anything: told by the parent once ``Popen``
    returned, a launcher killed in between left what the command had started
    running (seen under load: ``tests/test_orphans.py``).
    """
    # Resolved in the parent: the child, forked from a threaded process, should
    # only make async-signal-safe calls before exec.
    prctl = ctypes.CDLL(None).prctl if sys.platform.startswith("linux") else None
    fd = None if watchdog is None else watchdog.fd

    def setup():
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the launcher
        if lifetime is not None:
            signal.alarm(lifetime)  # kept across exec: a hard end in any case
        if fd is not None:  # one line, below PIPE_BUF: written whole beside the parent's
            try:
                os.write(fd, b"add %d\n" % os.getpgrp())
            except OSError:  # the watchdog is gone: the launcher's own stop still works
                pass
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


def exit_status(proc):
    """``proc``'s return code if it has exited, else None, without reaping it where possible.

    An exited process that is not reaped keeps its process group's number,
    so :func:`end_group` can still kill what is left in the group.
    """
    if proc.returncode is not None or not hasattr(os, "waitid"):
        return proc.poll()
    try:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return proc.poll()
    if info is None:
        return None
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def end_group(proc):
    """Kill ``proc``'s process group (it and whatever it started), then reap ``proc``."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


_WATCHDOG = """
import os, signal, sys
for name in ("SIGINT", "SIGHUP", "SIGTERM"):  # the launcher's to handle, not ours
    signal.signal(getattr(signal, name), signal.SIG_IGN)
groups = set()
for line in sys.stdin:  # until the launcher is gone: its end of the pipe closes
    verb, _, group = line.partition(" ")
    (groups.add if verb == "add" else groups.discard)(int(group))
for group in groups:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
"""


class Watchdog:
    """A process that kills the job's process groups once the launcher is gone.

    Each group the launcher starts is told to it (:meth:`add`, or by the
    child itself through :attr:`fd`: :func:`child_setup`), and each the
    launcher has ended itself (:meth:`forget`); when its pipe closes (the
    launcher ended, even by SIGKILL) it kills the groups it still knows. It
    runs in a session of its own, so a Ctrl-C or a closed terminal reaches
    the launcher, not it.
    """

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _WATCHDOG],
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     start_new_session=True)
        self.fd = self.proc.stdin.fileno()  # the write end, for children before their exec

    def _tell(self, verb, group):
        try:
            self.proc.stdin.write(b"%s %d\n" % (verb.encode(), group))
            self.proc.stdin.flush()
        except (OSError, ValueError):  # it is gone: the launcher's own stop still works
            pass

    def add(self, group):
        """Have the group ``group`` killed if the launcher ends without ending it."""
        self._tell("add", group)

    def forget(self, group):
        """The launcher ended ``group`` itself."""
        self._tell("forget", group)

    def close(self):
        """End the watchdog: it kills the groups it still knows, then exits."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait()
