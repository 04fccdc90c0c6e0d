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


def without_times(text):
    """The printed lines with the wall-clock ``time T sec`` parts removed."""
    return [line.split(", time ")[0] for line in text.splitlines()]


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


def latest_snapshot_number(directory):
    """The highest ``snapshot-N`` number in ``directory`` (0 if none yet)."""
    return max((int(p.name.split("-")[1]) for p in Path(directory).glob("snapshot-*")
                if p.name.split("-")[1].isdigit()), default=0)
