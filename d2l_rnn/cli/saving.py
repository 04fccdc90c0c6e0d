"""Where a run saves: the --save folder checked, locked for the run, and how often.

Each function raises ValueError with the message the command line prints.
"""

import os
import tempfile
from pathlib import Path

from ..checkpoint import (
    BEST,
    CheckpointError,
    OtherRunError,
    check_save_dir,
    checkpoint_root,
    lock_folder,
)

__all__ = ["SAVE_EVERY", "prepare_save_dir", "save_dir_of", "save_every_of"]

SAVE_EVERY = 10  # epochs between checkpoints unless --save-every (or the checkpoint) says


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


def save_dir_of(args, checkpoint):
    """The folder a run saves into: --save, else the --resume folder's, else None."""
    if args.save:
        return args.save
    if checkpoint is None:
        return None
    root = checkpoint_root(checkpoint.path)
    if root is None:
        raise ValueError("--resume %s is a snapshot folder outside its --save folder; pass "
                         "--save DIR to say where the continued run's checkpoints go"
                         % args.resume)
    return root


def save_every_of(args, checkpoint):
    """--save-every, else the checkpoint's, else :data:`SAVE_EVERY`."""
    if args.save_every is not None:
        return args.save_every
    if checkpoint is not None:
        return checkpoint.settings.get("save_every", SAVE_EVERY)
    return SAVE_EVERY
