"""Reading files that anyone may have made: regular files only, each within a size limit.

A FIFO blocks its reader until a writer comes, forever if none does; a
device such as ``/dev/zero`` never ends; a symbolic link can lead to either.
So every file the package reads is opened here without blocking
(``O_NONBLOCK``: opening a FIFO returns at once) and, where it must be the
file itself (a checkpoint's files), without following a link
(``O_NOFOLLOW``). Then ``fstat`` must say it is a regular file, and its size
must be within the caller's limit, before the first byte is read; reading
stops at the limit even if the file grows meanwhile.
"""

import errno
import os
import stat

__all__ = ["RefusedFile", "open_regular", "read_regular", "describe_kind"]

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))


class RefusedFile(ValueError):
    """A file that is not read: not a regular file, a link where none is followed, too large.

    :attr:`path` is the file, :attr:`why` the reason without the path.
    """

    def __init__(self, path, why):
        super().__init__("%s %s" % (path, why))
        self.path, self.why = path, why


def describe_kind(mode):
    """What a file of ``st_mode`` ``mode`` is, in words ("a FIFO (named pipe)", ...)."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def _size(value):
    return "{:,} bytes".format(value)


def open_regular(path, limit, follow=True, dir_fd=None):
    """Open ``path`` to read; return ``(fd, size)`` of a regular file of at most ``limit`` bytes.

    Parameters
    ----------
    path : str or os.PathLike
        The file (relative to ``dir_fd`` if given).
    limit : int
        The largest size accepted, in bytes.
    follow : bool
        Whether a symbolic link is followed (to a regular file only); False
        refuses a link itself.

    Raises
    ------
    RefusedFile
        A ValueError: not a regular file (a FIFO, a device, a directory, a
        link where ``follow`` is False), or larger than ``limit``. Nothing
        was read, and a FIFO was never waited on.
    OSError
        If the file is missing or cannot be opened (the OS's reason).
    """
    flags = os.O_RDONLY | _NONBLOCK | _CLOEXEC | (0 if follow else _NOFOLLOW)
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.EMLINK) and not follow:
            raise RefusedFile(path, "is a symbolic link, which is never followed here") \
                from None
        if err.errno == errno.ENXIO:  # a socket, or a device without its driver
            raise RefusedFile(path, "is not a regular file") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RefusedFile(path, "is %s, not a regular file; only regular files are read"
                              % describe_kind(info.st_mode))
        if info.st_size > limit:
            raise RefusedFile(path, "is %s, more than the %s read from such a file"
                              % (_size(info.st_size), _size(limit)))
    except BaseException:
        os.close(fd)
        raise
    return fd, info.st_size


def read_regular(path, limit, follow=True, dir_fd=None):
    """Return the bytes of the regular file ``path`` (see :func:`open_regular` for the checks).

    At most ``limit`` bytes are read: a file that grew past it meanwhile is
    refused, never read to its end.
    """
    fd, size = open_regular(path, limit, follow, dir_fd)
    try:
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(max(size - total, 0) + 1, limit + 1 - total) or 1)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise RefusedFile(path, "grew past the %s read from such a file while it "
                                  "was read" % _size(limit))
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)
