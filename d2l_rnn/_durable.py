"""File operations that survive a crash: flushed writes, renames, cleanup.

A rename is only durable once the data it points at and the directory entry
are on disk, hence the fsync calls; without them a power cut soon after a
"successful" save could leave an empty file under the final name.
"""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["write_bytes", "sha256_durable", "fsync_dir", "retire", "remove_leftovers",
           "replace_atomically"]


def write_bytes(path, data):
    """Write ``data`` to ``path`` and flush it to disk."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def sha256_durable(path):
    """Flush a file someone else wrote (e.g. MXNet) to disk; return its SHA-256."""
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
        os.fsync(f.fileno())
    return digest


def fsync_dir(path):
    """Flush a directory's entries (new names, renames) to disk where the OS can."""
    if os.name != "posix":  # Windows cannot open a directory; NTFS journals names
        return
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def retire(path, hidden):
    """Delete folder ``path``: first rename it to ``hidden``, then remove that.

    The rename is atomic, so a crash mid-way never leaves a half-deleted folder
    under its original name. Failing to clean up is harmless and left for the
    next call of :func:`remove_leftovers`, so errors are ignored.
    """
    try:
        os.rename(path, hidden)
    except OSError:
        return
    shutil.rmtree(hidden, ignore_errors=True)


def remove_leftovers(directory, prefixes):
    """Delete folders in ``directory`` whose names start with one of ``prefixes``."""
    for entry in Path(directory).iterdir():
        if entry.name.startswith(tuple(prefixes)) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def replace_atomically(path, write):
    """Call ``write(tmp_path)``, then rename the flushed file over ``path``.

    The temporary file sits next to ``path`` and keeps its suffix (some
    writers, e.g. matplotlib, choose the format from it). Readers see the
    old file or the new one, never a partial one.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".%s." % path.name, suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        sha256_durable(tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    fsync_dir(path.parent)
