"""Writing files so that a crash never leaves half of one: the package's one way to write.

Every file the package writes (checkpoints, the downloaded corpus, plots, a
job's results) goes to a temporary name next to its target, is flushed to
disk, and is then renamed over the target. A rename is only durable once the
data it points at and the directory entry are on disk, hence the fsync
calls; without them a power cut soon after a "successful" save could leave
an empty file under the final name.
"""

import hashlib
import os
import secrets
import shutil
from pathlib import Path

__all__ = ["write_bytes", "fsync_file", "sha256_durable", "fsync_dir", "retire",
           "remove_leftovers", "replace_atomically", "write_atomically"]


def write_bytes(path, data):
    """Write ``data`` to ``path`` and flush it to disk."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def fsync_file(path):
    """Flush a file someone else wrote (matplotlib, MXNet) to disk."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def sha256_durable(path):
    """Flush a file someone else wrote to disk; return its SHA-256."""
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


def _new_file(target):
    # O_EXCL with mode 0666: the kernel applies the umask, as for any file the
    # user creates (mkstemp would make it 0600 whatever the umask says).
    for _ in range(100):
        path = target.with_name(".%s.%s%s" % (target.name, secrets.token_hex(6), target.suffix))
        try:
            os.close(os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return path
    raise FileExistsError("cannot create a temporary file next to %s" % target)


def replace_atomically(path, write):
    """Call ``write(tmp_path)``, then rename the flushed file over ``path``.

    The temporary file sits next to ``path`` and ends in the same suffix
    (some writers, e.g. matplotlib, choose the format from it). Readers see
    the old file or the new one, never a partial one; on any error the
    temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    tmp = _new_file(path)
    try:
        write(tmp)
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)


def write_atomically(path, data):
    """Write the bytes ``data`` to ``path`` atomically and durably."""
    replace_atomically(path, lambda tmp: write_bytes(tmp, data))
