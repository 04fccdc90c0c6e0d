"""The training run: a model trained on a text with validation, checkpoints and saves.

:class:`~.training_run.TrainingRun` trains like the chapter's
``train_and_predict_rnn_gluon`` and adds the held-out text's perplexity, the
best snapshot, learning-rate decay and early stopping (:mod:`.judge`), a
metrics file (:mod:`.log`) and checkpoints into a folder (:mod:`.folder`).
"""

from .folder import prepare_save_dir
from .judge import Judge, replay
from .log import LOG_FIELDS, CsvLog, check_log_path
from .training_run import TrainingRun

__all__ = ["TrainingRun", "Judge", "replay", "CsvLog", "LOG_FIELDS", "check_log_path",
           "prepare_save_dir"]
