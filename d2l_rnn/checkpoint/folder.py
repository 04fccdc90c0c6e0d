"""A checkpoint folder opened once: every name in it is resolved through the folder's descriptor.

A checkpoint folder may be shared, and others can put anything into it
under any name (a symbolic link called ``best`` or ``.d2l_rnn-lock``, a
FIFO called ``model.params``) or swap a folder for a link between two steps
of a save. So a save opens the folder once and works relative to that
descriptor (``openat``, ``mkdirat``, ``renameat``, ``unlinkat``), and never
follows a link in it: files are created with ``O_EXCL | O_NOFOLLOW``,
sub-folders opened with ``O_NOFOLLOW | O_DIRECTORY``, and a folder is removed
only when it holds nothing but the regular files a save writes
(:meth:`Folder.remove_own`). Only the folder the caller names may itself
be a link (it is the caller's choice); nothing inside it is followed.
"""

import errno
import hashlib
import os
import stat
import sys
from pathlib import Path

from .._util.reading import describe_kind
from .errors import CheckpointError

__all__ = ["Folder", "refused"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_READ = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def refused(path, kind, wanted):
    """The CheckpointError for ``path``, ``kind`` where d2l_rnn keeps ``wanted``."""
    return CheckpointError(
        "%s is %s, not %s that d2l_rnn made; it is never followed, replaced or removed: move "
        "it away, or use another folder" % (path, kind, wanted))


def _umask():
    """The process's umask, read without changing it where Linux says it."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class Folder:
    """An open folder; names are relative to it and no link in it is followed.

    Use :meth:`open` for the folder a caller names and :meth:`child` for one
    inside; close it (or use ``with``) when done.
    """

    def __init__(self, path, fd):
        self.path, self.fd = Path(path), fd

    @classmethod
    def open(cls, path):
        """The folder ``path`` (a link to a folder is followed: the caller named it)."""
        try:
            return cls(path, os.open(str(path), _DIR))
        except NotADirectoryError:
            raise CheckpointError("checkpoint %s is not a directory" % path) from None

    def child(self, name, create=False):
        """The sub-folder ``name``, made if ``create``; a link or a file there is refused."""
        if create:
            try:
                os.mkdir(name, 0o777, dir_fd=self.fd)
            except FileExistsError:
                pass
        try:
            return Folder(self.path / name, os.open(name, _DIR | _NOFOLLOW, dir_fd=self.fd))
        except OSError as err:
            if err.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                raise
            raise refused(self.path / name, self.kind(name), "a folder") from None

    def lstat(self, name):
        """``lstat`` of ``name``, or None if there is none."""
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def kind(self, name):
        """What ``name`` is, in words (``a symbolic link``, ``a FIFO (named pipe)``...)."""
        info = self.lstat(name)
        return "missing" if info is None else describe_kind(info.st_mode)

    def names(self):
        """The names of the folder's entries."""
        return os.listdir(self.fd)

    def private_dir(self, name):
        """Make the sub-folder ``name`` that only this user can enter until :meth:`publish`."""
        os.mkdir(name, 0o700, dir_fd=self.fd)
        return self.child(name)

    def publish(self):
        """Give this folder the permissions a folder made under the umask has."""
        os.fchmod(self.fd, 0o777 & ~_umask())

    def write(self, name, data):
        """Create the file ``name`` (never an existing one, never through a link) and flush it."""
        fd = os.open(name, _CREATE, 0o666, dir_fd=self.fd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

    def writer_path(self, name):
        """A path to ``name`` for writers that take paths (MXNet); on Linux, through the fd."""
        if sys.platform.startswith("linux") and os.path.isdir("/proc/self/fd"):
            return "/proc/self/fd/%d/%s" % (self.fd, name)
        return str(self.path / name)

    def digest(self, name):
        """Flush the regular file ``name`` (written by someone else) to disk; return its SHA-256."""
        fd = os.open(name, _READ, dir_fd=self.fd)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise refused(self.path / name, self.kind(name), "a file")
            digest = hashlib.sha256()
            for chunk in iter(lambda: os.read(fd, 1 << 20), b""):
                digest.update(chunk)
            os.fsync(fd)
        finally:
            os.close(fd)
        return digest.hexdigest()

    def rename(self, src, dst):
        """Rename ``src`` to ``dst`` inside this folder (a link is renamed, never followed)."""
        os.rename(src, dst, src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def fsync(self):
        """Flush the folder's entries (new names, renames) to disk."""
        os.fsync(self.fd)

    def remove_own(self, name, allowed):
        """Remove the sub-folder ``name`` if it holds only regular files named in ``allowed``.

        Anything else there (a link, a folder, another name) shows that it
        is not what a save wrote: it is left as it is and False returned.
        The manifest goes last, so a removal cut short leaves a folder that
        is still recognised as this library's.
        """
        try:
            sub = self.child(name)
        except (CheckpointError, OSError):
            return False
        try:
            names = sub.names()
            if not all(n in allowed and stat.S_ISREG(getattr(sub.lstat(n), "st_mode", 0))
                       for n in names):
                return False
            for n in sorted(names, key=lambda n: n == "manifest.json"):
                os.unlink(n, dir_fd=sub.fd)
        finally:
            sub.close()
        os.rmdir(name, dir_fd=self.fd)
        return True

    def close(self):
        """Close the descriptor (idempotent)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
