"""Checkpoints: a model with its vocabulary, settings and training state, crash-safe.

:func:`save_checkpoint` writes a new snapshot into a folder (:mod:`.save`),
holding the folder's lock (:mod:`.lock`) and working through the folder's
descriptor without following any link in it (:mod:`.folder`), after
checking what it will write as loading checks it (:mod:`.documents`);
:func:`load_checkpoint` reads the newest one back, checked file by file
(:mod:`.load`); :mod:`.layout` names the files and :mod:`.names` the
snapshots (by the epoch and batch they hold), :mod:`.reading` reads them
(regular files only, bounded), :mod:`.arrays`, :mod:`.fields` and
:mod:`.trainer_state` check what is read; :mod:`.owner` decides who may
write into a folder. No file of a checkpoint is a pickle.
"""

from .documents import check_saveable
from .errors import CheckpointError, FolderBusyError, OtherRunError
from .layout import BEST, find_best, find_snapshot
from .load import Checkpoint, load_checkpoint
from .lock import lock_folder
from .names import checkpoint_root, snapshot_point, snapshots
from .owner import check_save_dir
from .save import save_checkpoint

__all__ = ["Checkpoint", "CheckpointError", "OtherRunError", "FolderBusyError",
           "save_checkpoint", "load_checkpoint", "check_save_dir", "lock_folder",
           "find_snapshot", "find_best", "checkpoint_root", "snapshots", "snapshot_point",
           "BEST", "check_saveable"]
