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

The lock file is opened through the folder's descriptor, without following
a link and without blocking, and must then be a regular file with no other
name (no hard link) holding nothing but a holder's note: anything else
named ``.d2l_rnn-lock`` (a link to a file of yours, a FIFO, a file with
other contents) is refused, never emptied or written.
"""

import datetime
import errno
import os
import socket
import stat
import sys
from pathlib import Path

from .._util.reading import describe_kind
from .errors import FolderBusyError
from .folder import Folder, refused
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

    def __init__(self, directory, fd, folder=None):
        self.directory, self.path, self._fd = Path(directory), Path(directory) / LOCK, fd
        self._folder = folder
        self.held = True

    def release(self):
        """Remove the lock file and unlock (idempotent)."""
        if not self.held:
            return
        self.held = False
        _HELD.pop(_key(self.directory), None)
        if self._fd is not None:
            try:  # while still locked: a waiting taker then sees the path is gone
                if os.path.samestat(os.fstat(self._fd), self._folder.lstat(LOCK)):
                    os.unlink(LOCK, dir_fd=self._folder.fd)  # ours, not a file put there since
            except (OSError, TypeError):
                pass
            os.close(self._fd)
        if self._folder is not None:
            self._folder.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
        return False


_OPEN = (os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
         | getattr(os, "O_CLOEXEC", 0))


def _open_lock(folder):
    """Open (or create) the lock file: a regular file with one name, never through a link."""
    path = folder.path / LOCK
    try:
        fd = os.open(LOCK, _OPEN, 0o666, dir_fd=folder.fd)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.EMLINK, errno.ENXIO, errno.EISDIR):
            raise refused(path, folder.kind(LOCK), "the lock file") from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        raise refused(path, _describe(info), "the lock file")
    note = os.pread(fd, 1024, 0)
    if note and not (note.startswith(b"pid ") and len(note) < 1024):
        os.close(fd)
        raise refused(path, "a file that is not a lock's note", "the lock file")
    return fd


def _describe(info):
    if stat.S_ISREG(info.st_mode) and info.st_nlink != 1:
        return "a file with %d names (hard links)" % info.st_nlink
    return describe_kind(info.st_mode)


def _take(folder):
    """Return a locked fd of the folder's lock, or None if the file was replaced meanwhile."""
    fd = _open_lock(folder)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise FolderBusyError(
            "%s is in use by another run (%s); wait for it to end, or save elsewhere"
            % (folder.path, holder)) from None
    except BaseException:
        os.close(fd)
        raise
    now = folder.lstat(LOCK)
    if now is None or not os.path.samestat(os.fstat(fd), now):
        os.close(fd)  # released and removed between our open and our flock
        return None
    return fd


def lock_folder(directory):
    """Lock ``directory`` (which must exist) for this process; return the FolderLock.

    Raises
    ------
    FolderBusyError
        If another process holds it; the message names the folder and the holder.
    CheckpointError
        If ``.d2l_rnn-lock`` there is not a lock file d2l_rnn made (a link, a
        FIFO, a file with other contents or other names): it is left as it is.
    """
    key = _key(directory)
    if key in _HELD:
        raise FolderBusyError("%s is already locked by this process" % directory)
    folder, fd = Folder.open(directory), None
    try:
        while fcntl is not None and fd is None:
            fd = _take(folder)
    except BaseException:
        folder.close()
        raise
    if fd is not None:
        when = datetime.datetime.now().isoformat(timespec="seconds")
        note = "pid %d on %s since %s: %s" % (os.getpid(), socket.gethostname(), when,
                                              " ".join(sys.argv)[:160])
        os.ftruncate(fd, 0)
        os.pwrite(fd, note.encode("utf-8", "replace")[:1000], 0)
    lock = FolderLock(directory, fd, folder)
    _HELD[key] = lock
    return lock


def holds_lock(directory):
    """True if this process holds the lock of ``directory``."""
    return _key(directory) in _HELD
