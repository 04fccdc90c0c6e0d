"""Writing files so that a crash never leaves half of one.

Every file the package writes (the downloaded corpus, plots, a job's
results, the metrics log; checkpoints do the same through their folder's
descriptor, :mod:`d2l_rnn.checkpoint.folder`) goes to a temporary name next
to its target, is flushed to disk, and is then renamed over the target. A
rename is only durable once the data it points at and the directory entry
are on disk, hence the fsync calls; without them a power cut soon after a
"successful" save could leave an empty file under the final name.
"""

import os
import secrets
from pathlib import Path

__all__ = ["write_bytes", "fsync_file", "fsync_dir", "replace_atomically", "write_atomically"]


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


def fsync_dir(path):
    """Flush a directory's entries (new names, renames) to disk where the OS can."""
    if os.name != "posix":  # Windows cannot open a directory; NTFS journals names
        return
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
