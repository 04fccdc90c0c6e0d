"""Run the benchmark's rows epoch by epoch in turn, so they share the machine's load.

On a machine shared with other work, rows run one after the other meet
different loads, and their ratios measure the neighbours as much as the
code. Interleaving epochs (row 1 epoch 1, row 2 epoch 1, ..., row 1 epoch 2,
...) spreads any load over every row alike. Each row trains in a process of
its own (:mod:`benchmarks.row_process`), driven by a thread of the
benchmark's; :class:`Turns` lets exactly one of those threads let its
process run at any time and passes the turn on at the start of an epoch. The
rows never run concurrently, so they do not compete for the cores.
"""

import io
import sys
import threading
import time

__all__ = ["Turns", "ThreadOutput"]


class Turns:
    """A token passed round-robin between named threads.

    Parameters
    ----------
    names : list of str
        The threads, in turn order; the first one holds the token at start.
    """

    def __init__(self, names):
        self._names = list(names)
        self._index = 0
        self._cond = threading.Condition()
        self.waited = {name: 0.0 for name in names}   # seconds spent waiting

    def _holder(self):
        return self._names[self._index] if self._names else None

    def _wait_for(self, name):
        start = time.time()
        self._cond.wait_for(lambda: self._holder() == name)
        self.waited[name] += time.time() - start

    def begin(self, name):
        """Block until ``name`` holds the token (call once, first)."""
        with self._cond:
            self._wait_for(name)

    def pass_on(self, name):
        """Give the token to the next thread and block until it comes back."""
        with self._cond:
            self._index = (self._index + 1) % len(self._names)
            self._cond.notify_all()
            self._wait_for(name)

    def done(self, name):
        """Leave the rotation; the next thread gets the token."""
        with self._cond:
            position = self._names.index(name)
            del self._names[position]
            if position < self._index:
                self._index -= 1
            if self._index >= len(self._names):
                self._index = 0
            self._cond.notify_all()


class ThreadOutput(io.TextIOBase):
    """A ``sys.stdout`` stand-in that keeps each thread's output apart.

    Text written by a registered thread goes to that thread's buffer, to be
    printed as one block when the thread is done; anything else goes
    straight to the real stdout.
    """

    def __init__(self, stream=None):
        super().__init__()
        self._stream = stream if stream is not None else sys.stdout
        self._buffers = {}

    def register(self):
        """Capture the calling thread's output from now on."""
        self._buffers[threading.get_ident()] = io.StringIO()

    def take(self, ident):
        """Return and forget what thread ``ident`` wrote."""
        return self._buffers.pop(ident).getvalue()

    def writable(self):
        return True

    def write(self, text):
        buffer = self._buffers.get(threading.get_ident())
        return (self._stream if buffer is None else buffer).write(text)

    def flush(self):
        self._stream.flush()
