"""Checkpoints: a model with its vocabulary, settings and training state, crash-safe.

:func:`save_checkpoint` writes a new snapshot into a folder (:mod:`.save`),
:func:`load_checkpoint` reads the newest one back, checked file by file
(:mod:`.load`); :mod:`.layout` names the files and validates what is read.
"""

from .layout import BEST, CheckpointError, checkpoint_root, find_best, find_snapshot
from .load import Checkpoint, load_checkpoint
from .save import OtherRunError, check_save_dir, save_checkpoint

__all__ = ["Checkpoint", "CheckpointError", "OtherRunError", "save_checkpoint",
           "load_checkpoint", "check_save_dir", "find_snapshot", "find_best", "checkpoint_root",
           "BEST"]
