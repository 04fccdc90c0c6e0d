"""Trainers in processes of their own, taking turns, each given the same time of its own.

For comparing what trainers reach in equal wall-clock time on a shared
machine (benchmarks.recipe, benchmarks.quality). Every trainer runs in a
process of its own (MXNet and PyTorch each with their own thread pools; no
shared OpenMP runtime, no GIL), and only one of them runs at a time: the
others block on a pipe. A trainer is timed only during its own turns, so
load that comes and goes on the machine meets every trainer alike, and each
trains until its turns add up to the budget.

Parent side: :func:`run_in_turns` starts the processes, waits until each is
ready (imports, data, model: untimed), then hands the turn round-robin. Child
side: :class:`Turn`, whose :meth:`Turn.check` the trainer calls after every
batch; it passes the turn on every ``slice_seconds`` and raises
:class:`OutOfTime` once the budget is used. The protocol on the child's
stdout: ``@@ wait`` (give me the turn; the parent answers ``go`` on stdin)
and ``@@ result JSON``; every other line is printed by the parent.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["OutOfTime", "Turn", "run_in_turns", "child_command", "child_env"]

_ROOT = Path(__file__).resolve().parent.parent


class OutOfTime(Exception):
    """The trainer's turns add up to its budget."""


class Turn:
    """The child's side: wait for turns, keep the own time, stop at the budget.

    ``sync()`` must make the device finish queued work (MXNet:
    ``nd.waitall``): it runs before the clock is read at a turn's end, so
    no work runs on in another trainer's turn.
    """

    def __init__(self, budget, slice_seconds=5.0, sync=lambda: None):
        self.budget, self.slice, self.sync = float(budget), float(slice_seconds), sync
        self.used, self._since = 0.0, None

    def ready(self):
        """Wait for the first turn (call once the trainer is built)."""
        self._wait()

    def _wait(self):
        sys.stdout.write("@@ wait\n")
        sys.stdout.flush()
        if sys.stdin.readline().strip() != "go":
            sys.exit("budget_turns: the parent stopped sending 'go'")
        self._since = time.time()

    def elapsed(self):
        """Own seconds so far, the current turn included (as far as the host knows)."""
        return self.used + time.time() - self._since

    def check(self):
        """Pass the turn on if the slice is over; raise OutOfTime if the budget is."""
        now = time.time()
        if now - self._since < self.slice and self.used + now - self._since < self.budget:
            return
        self.sync()
        now = time.time()
        self.used += now - self._since
        self._since = now
        if self.used >= self.budget:
            raise OutOfTime()
        self._wait()

    @staticmethod
    def result(value):
        """Send the trainer's result (a JSON-ready dict) to the parent."""
        sys.stdout.write("@@ result %s\n" % json.dumps(value))
        sys.stdout.flush()


def child_env(threads):
    """A trainer process's environment: the checkout importable, ``threads`` OpenMP threads."""
    from . import thread_environment
    env = thread_environment()
    env["PYTHONPATH"] = os.pathsep.join([str(_ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    env["OMP_NUM_THREADS"] = str(threads)
    return env


def child_command(module, spec):
    """``python -m benchmarks.MODULE SPEC_JSON``."""
    return [sys.executable, "-m", "benchmarks." + module, json.dumps(spec)]


class _Child:
    def __init__(self, name, command, env):
        self.name = name
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env, cwd=str(_ROOT))
        self.result = None

    def until_wait(self, write):
        """Read the child's lines until it asks for the turn (True) or is done (False)."""
        for line in self.proc.stdout:
            if line.startswith("@@ wait"):
                return True
            if line.startswith("@@ result "):
                self.result = json.loads(line[len("@@ result "):])
                continue
            write("[%s] %s" % (self.name, line.rstrip("\n")))
        self.proc.wait()
        if self.proc.returncode or self.result is None:
            raise RuntimeError("trainer %s failed (exit status %s); its error output is above"
                               % (self.name, self.proc.returncode))
        return False

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_in_turns(trainers, write=print):
    """Run ``trainers`` (a list of ``(name, command, env)``) in turns; return ``{name: result}``.

    Each process is started and made ready first (untimed, one after the
    other), then the turn goes round until every one has sent its result.
    """
    children = []
    try:
        for name, command, env in trainers:
            child = _Child(name, command, env)
            children.append(child)
            if not child.until_wait(write):
                raise RuntimeError("trainer %s ended before its first turn" % name)
        alive = list(children)
        while alive:
            for child in list(alive):
                child.go()
                if not child.until_wait(write):
                    alive.remove(child)
        return {child.name: child.result for child in children}
    finally:
        for child in children:
            child.kill()
