"""One writer per checkpoint folder: an exclusive ``flock`` on ``DIR/.d2l_rnn-lock``.

Two runs saving into one folder would each number, write and retire
snapshots as if alone, and one would lose its work or delete the other's
temporary folder. So a process takes the folder's lock before it writes
there: ``d2l-rnn train`` for its whole run (a second run is refused before
it trains), ``save_checkpoint`` for one save unless this process already
holds it. The lock file records who holds it, for the refusal's message.

The kernel drops a ``flock`` when its holder dies, even by SIGKILL, so a
crash never leaves a folder locked. The file is removed on release, which
is safe because a taker checks, once it has the lock, that the path still
names the file it locked (else it tries again on the new one).
"""

import datetime
import os
import socket
import sys
from pathlib import Path

from .errors import FolderBusyError
from .layout import LOCK

try:
    import fcntl
except ImportError:  # Windows: no flock; one writer per folder is then up to the user
    fcntl = None  # type: ignore[assignment]

__all__ = ["FolderLock", "lock_folder", "holds_lock"]

_HELD: dict = {}  # realpath of a folder -> its FolderLock, for this process


def _key(directory):
    return os.path.realpath(str(directory))


def _holder(fd):
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 300).decode("utf-8", "replace")
    except OSError:
        text = ""
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return text or "a process that has not said who it is"


class FolderLock:
    """The lock of one folder, held by this process; :meth:`release` gives it up."""

    def __init__(self, directory, fd):
        self.directory, self.path, self._fd = Path(directory), Path(directory) / LOCK, fd
        self.held = True

    def release(self):
        """Remove the lock file and unlock (idempotent)."""
        if not self.held:
            return
        self.held = False
        _HELD.pop(_key(self.directory), None)
        if self._fd is not None:
            try:  # while still locked: a waiting taker then sees the path is gone
                os.unlink(str(self.path))
            except OSError:
                pass
            os.close(self._fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
        return False


def _take(path):
    """Return a locked fd of ``path``, or None if the file was replaced meanwhile."""
    fd = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise FolderBusyError(
            "%s is in use by another run (%s); wait for it to end, or save elsewhere"
            % (path.parent, holder)) from None
    except BaseException:
        os.close(fd)
        raise
    try:
        same = os.path.samestat(os.fstat(fd), os.stat(str(path)))
    except FileNotFoundError:
        same = False
    if not same:  # released and removed between our open and our flock
        os.close(fd)
        return None
    return fd


def lock_folder(directory):
    """Lock ``directory`` (which must exist) for this process; return the FolderLock.

    Raises
    ------
    FolderBusyError
        If another process holds it; the message names the folder and the holder.
    """
    key = _key(directory)
    if key in _HELD:
        raise FolderBusyError("%s is already locked by this process" % directory)
    fd = None
    while fcntl is not None and fd is None:
        fd = _take(Path(directory) / LOCK)
    if fd is not None:
        when = datetime.datetime.now().isoformat(timespec="seconds")
        note = "pid %d on %s since %s: %s" % (os.getpid(), socket.gethostname(), when,
                                              " ".join(sys.argv)[:160])
        os.ftruncate(fd, 0)
        os.pwrite(fd, note.encode("utf-8", "replace"), 0)
    lock = FolderLock(directory, fd)
    _HELD[key] = lock
    return lock


def holds_lock(directory):
    """True if this process holds the lock of ``directory``."""
    return _key(directory) in _HELD
