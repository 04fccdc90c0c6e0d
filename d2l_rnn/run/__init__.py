"""The training run: a model trained on a text, stopped at any batch, resumed exactly.

:class:`TrainingRun` (:mod:`.training_run`) trains like the chapter's
``train_and_predict_rnn_gluon`` and adds what a run on one's own text needs:
validation, the best snapshot, learning-rate decay and early stopping
(:mod:`.judge`), a metrics file (:mod:`.log`), checkpoints on a schedule
and a time budget (:mod:`.schedule`) into a checked, locked folder
(:mod:`.folder`), a stop after any batch on request or on SIGINT/SIGTERM
(:mod:`.stopping`), progress per batch (:mod:`.progress`), and a resume
from any snapshot (:mod:`.resume`, :mod:`.position`) that goes on bit for
bit. :meth:`TrainingRun.init_from` (:mod:`.init_from`) starts a new run
from a trained checkpoint's weights on another text (fine-tuning).
:meth:`TrainingRun.fit` (:mod:`.fitting`) returns a :class:`RunResult`.
"""

from .._util.foreign import ForeignCharacterError
from .folder import (
    NewerSnapshotError,
    check_run_saveable,
    find_resumable,
    prepare_save_dir,
    save_root,
)
from .init_from import SHAPE, InitShapeError, pick_snapshot
from .judge import Judge, replay
from .log import LOG_FIELDS, CsvLog, check_log_path
from .result import REASONS, RunResult
from .resume import (
    FIXED_ON_RESUME,
    FixedSettingError,
    VocabularyError,
    load_resumable,
    resume_settings,
)
from .schedule import SAVE_EVERY, SAVE_EVERY_MINUTES, SaveSchedule, parse_duration
from .stopping import Interrupted, StopRequest
from .training_run import TrainingRun

__all__ = ["TrainingRun", "RunResult", "REASONS", "parse_duration", "SaveSchedule",
           "SAVE_EVERY", "SAVE_EVERY_MINUTES", "Interrupted", "StopRequest", "Judge", "replay",
           "CsvLog", "LOG_FIELDS", "check_log_path", "prepare_save_dir", "check_run_saveable",
           "find_resumable", "save_root", "NewerSnapshotError", "FIXED_ON_RESUME",
           "FixedSettingError", "VocabularyError", "load_resumable", "resume_settings",
           "SHAPE", "InitShapeError", "pick_snapshot", "ForeignCharacterError"]
