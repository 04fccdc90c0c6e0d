"""Helpers for the command-line tests: run ``d2l-rnn`` in this process or in a new one."""

import collections
import signal
import subprocess
import sys
import time
from pathlib import Path

from d2l_rnn.cli import main

Result = collections.namedtuple("Result", "code out err")

# A model small enough that an epoch takes a few milliseconds.
TINY = ["--num-hiddens", "16", "--ctx", "cpu", "--pred-len", "10"]


def run(capsys, *argv):
    """Run ``main(argv)`` in-process; return its exit code and what it printed."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return Result(code, out, err)


def run_process(*args, script=False, timeout=120):
    """Run ``python -m d2l_rnn ARGS`` (or the ``d2l-rnn`` script) in a new process."""
    command = [str(Path(sys.executable).parent / "d2l-rnn")] if script else \
        [sys.executable, "-m", "d2l_rnn"]
    proc = subprocess.run(command + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def one_error_line(result):
    """Assert exit code 2 and a single stderr line without a traceback; return the line."""
    lines = result.err.strip().splitlines()
    assert result.code == 2, result
    assert len(lines) == 1, result.err
    assert "Traceback" not in "\n".join(lines)
    assert "error:" in lines[0]
    return lines[0]


def chapter_lines(out):
    """The lines ``d2l-rnn train`` printed before its summary (the chapter's lines)."""
    lines = out.splitlines()
    assert sum(line.startswith("summary: ") for line in lines) == 1, out
    return lines[:next(i for i, line in enumerate(lines) if line.startswith("summary: "))]


def without_times(text):
    """The chapter's lines with the wall-clock ``time T sec`` parts removed."""
    return [line.split(", time ")[0] for line in chapter_lines(text)]


class FifoGuard:
    """Unblock whoever opens the FIFO ``path`` to read it, and remember that someone did.

    A reader that opens a FIFO waits for a writer, for ever if none comes:
    a test of "FIFOs are refused" would hang on a regression. While the
    guard is on, a thread opens the FIFO for writing whenever a reader is
    waiting (``O_NONBLOCK`` succeeds only then), closes it at once (the
    reader sees an empty file) and sets :attr:`blocked`. A reader that
    refuses FIFOs holds one open for microseconds, without blocking: the
    guard waits ``grace`` seconds before it starts looking.
    """

    def __init__(self, path, grace=0.5):
        import threading
        self.path, self.grace, self.blocked = str(path), grace, False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        import os
        if self._stop.wait(self.grace):
            return
        while not self._stop.wait(0.05):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: no reader waiting; ENOENT: the FIFO is gone
                continue
            os.close(fd)
            self.blocked = True

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False


def kill_when(args, predicate, timeout=120):
    """Run ``python -m d2l_rnn ARGS``; SIGKILL it as soon as ``predicate()`` holds.

    ``predicate`` is polled every 5 ms (a save can come and go between two
    looks, so it should test for "this far or further"). Asserts that it
    held while the process was still running and that SIGKILL ended it;
    returns the process's stderr.
    """
    proc = subprocess.Popen([sys.executable, "-m", "d2l_rnn", *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    held, deadline = False, time.monotonic() + timeout
    try:
        while not held and proc.poll() is None and time.monotonic() < deadline:
            held = predicate()
            time.sleep(0 if held else 0.005)
        proc.kill()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert held, err.decode()
    assert proc.returncode == -signal.SIGKILL, err.decode()  # killed while still running
    return err.decode()


def sigint_restored():
    """``preexec_fn`` for a child that a test interrupts: SIGINT back to its default action.

    A suite started with SIGINT ignored (``make test &`` in a script: a shell
    ignores it in background jobs) passes that on to every child, which would
    then never see the test's Ctrl-C (Python installs its handler at start
    only over the default). A terminal's Ctrl-C finds a process that has not
    chosen to ignore it; so does the test's, with this.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def alive(pid):
    """Whether process ``pid`` still runs (Linux's /proc): a killed child of a dead parent is
    reaped by init, and until then it is a zombie, which counts as gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False
