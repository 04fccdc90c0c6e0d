"""The folder a run saves into: checked, and locked for the run.

Each function raises ValueError with a message that says what to do.
"""

import os
import tempfile
from pathlib import Path

from ..checkpoint import BEST, CheckpointError, OtherRunError, check_save_dir, lock_folder

__all__ = ["prepare_save_dir"]


def prepare_save_dir(save_dir, checkpoint, overwrite, take_lock):
    """Check the --save folder and, with ``take_lock``, lock it for this run; return the lock."""
    path = Path(save_dir)
    if path.exists() and not path.is_dir():
        raise ValueError("--save %s is a file, not a directory; choose another path" % path)
    try:  # find out now, not after hours of training, that nothing can be written
        path.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(dir=path))
        lock = lock_folder(path) if take_lock else None  # one run per folder, all its life
    except OSError as err:
        raise ValueError("cannot write checkpoints to --save %s (%s); choose a writable "
                         "folder" % (path, err.strerror or err)) from None
    except CheckpointError as err:  # another run holds the folder
        raise ValueError("--save: %s" % err) from None
    try:
        for folder in (path, path / BEST):
            check_save_dir(folder, checkpoint.model if checkpoint is not None else None,
                           overwrite)
    except OtherRunError as err:
        if lock is not None:
            lock.release()
        if overwrite or "another run" not in str(err):
            raise ValueError("--save: %s" % err) from None
        raise ValueError("--save %s already holds a checkpoint of another run; continue it "
                         "with --resume %s, or pass --overwrite to replace it"
                         % (path, path)) from None
    return lock
