"""Asking a run to stop: from a callback, another thread, a signal, or the time budget.

:class:`StopRequest` is the one flag a run looks at after every batch (and
after every epoch). Anything may set it, from any thread. While a run
trains, :func:`handling_signals` turns SIGINT (Ctrl-C) and SIGTERM into
such a request, so the run ends after the batch in progress with a
snapshot of that point; a second signal raises :class:`Interrupted` (a
``KeyboardInterrupt``) at once, e.g. during that save: saves are atomic,
so the snapshot before stays intact. Signal handlers can only be set in
the main thread; elsewhere the signals keep their handlers.
"""

import contextlib
import signal
import threading

__all__ = ["StopRequest", "Interrupted", "handling_signals", "STOP_SIGNALS"]

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM")
                     if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """A second stop signal: the run ends at once. ``signal`` is its number."""

    def __init__(self, signum):
        super().__init__("interrupted by signal %d" % signum)
        self.signal = signum


class StopRequest:
    """A thread-safe request to stop: why (``reason``) and by which signal, if one."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reason, self.signal, self.signals = None, None, 0

    def __bool__(self):
        return self.reason is not None

    def request(self, reason="interrupted", signum=None):
        """Ask for a stop; the first reason stays. Returns whether this was a second signal."""
        with self._lock:
            if signum is not None:
                self.signals += 1
                self.signal = self.signal or signum
            if self.reason is None:
                self.reason = reason
            return signum is not None and self.signals > 1

    def clear(self):
        """Forget the request (a new ``fit`` starts without one)."""
        with self._lock:
            self.reason, self.signal, self.signals = None, None, 0


@contextlib.contextmanager
def handling_signals(stop, enabled=True):
    """While in the block, SIGINT and SIGTERM ask ``stop`` to stop (the second one raises
    :class:`Interrupted`); the previous handlers come back after it."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if stop.request("interrupted", signum):
            raise Interrupted(signum)

    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
