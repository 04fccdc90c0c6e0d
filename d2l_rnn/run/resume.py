"""What a resumed run may change, and the checks of a checkpoint against the text.

A resumed run takes its settings from the checkpoint and the changes it is
given, by the rules the command line's ``--resume`` follows: the model's
shape (its embedding too), its dropout, the optimizer (whose state the
checkpoint holds) and the seed are fixed (:data:`FIXED_ON_RESUME`), since a
run with other values would not be the same run; everything else (the
number of epochs, the learning rate, validation, the samples, ...) may
change. The training text must have the checkpoint's vocabulary.
"""

import dataclasses
import math

from ..checkpoint import load_checkpoint
from ..checkpoint.fields import EXTRA_SETTINGS
from ..settings import TrainSettings
from .folder import find_resumable, save_root
from .position import cursor_from

__all__ = ["FIXED_ON_RESUME", "FixedSettingError", "VocabularyError", "resume_settings",
           "check_vocabulary", "load_resumable", "restore"]

# Settings that define the model's shape, its random stream or its optimizer's state.
FIXED_ON_RESUME = ("cell", "num_hiddens", "num_layers", "seed", "dropout", "embed_size",
                   "optimizer")


class FixedSettingError(ValueError):
    """A setting fixed on resume was given another value; ``name``, ``given``, ``saved``."""

    def __init__(self, name, given, saved):
        super().__init__("%s=%r does not match the checkpoint's %r: the model's shape, its "
                         "dropout, the optimizer and the seed cannot change on resume"
                         % (name, given, saved))
        self.name, self.given, self.saved = name, given, saved


class VocabularyError(ValueError):
    """The text's vocabulary is not the checkpoint's; ``extra`` and ``missing`` characters."""

    def __init__(self, saved, text):
        self.saved, self.text = list(saved), list(text)
        self.extra, self.missing = sorted(set(text) - set(saved)), sorted(set(saved) - set(text))
        super().__init__("the checkpoint's vocabulary (%d characters) does not match the "
                         "training text's (%d): %s; resume with the text it was trained with"
                         % (len(saved), len(text), self.difference()))

    def difference(self):
        """What differs, in words."""
        parts = []
        if self.extra:
            parts.append("the text has %s, which the checkpoint lacks"
                         % ", ".join(map(repr, self.extra)))
        if self.missing:
            parts.append("the checkpoint has %s, which the text lacks"
                         % ", ".join(map(repr, self.missing)))
        return "; ".join(parts) or "the same characters in another order"


def resume_settings(checkpoint, **overrides):
    """The settings of a run resumed from ``checkpoint`` with ``overrides`` applied.

    Raises
    ------
    FixedSettingError
        If an override changes a setting of :data:`FIXED_ON_RESUME`.
    TypeError
        For a name that is not a setting.
    ValueError
        For saved settings no setting can take.
    """
    names = {f.name for f in dataclasses.fields(TrainSettings)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise TypeError("not a training setting: %s (see TrainSettings)" % ", ".join(unknown))
    arch = checkpoint.architecture
    saved = dataclasses.replace(
        TrainSettings.from_dict(checkpoint.settings), cell=arch["cell"],
        num_hiddens=arch["num_hiddens"], num_layers=arch["num_layers"],
        embed_size=arch.get("embed_size"))
    for name in FIXED_ON_RESUME:  # embed_size 0 is None: one-hot input
        if name in overrides and (overrides[name] or None) != (getattr(saved, name) or None):
            raise FixedSettingError(name, overrides[name], getattr(saved, name))
    if "prefixes" in overrides:
        overrides["prefixes"] = tuple(overrides["prefixes"])
    return dataclasses.replace(saved, **overrides)


def check_vocabulary(saved, text):
    """Raise :class:`VocabularyError` unless the id-ordered vocabularies are the same."""
    if list(saved) != list(text):
        raise VocabularyError(saved, text)


def load_resumable(directory, ctx=None):
    """Load the newest resumable snapshot of ``directory`` (see :func:`.folder.find_resumable`).

    Raises CheckpointError for a missing or damaged checkpoint.
    """
    return load_checkpoint(find_resumable(directory), ctx)


def restore(run, checkpoint):
    """Put ``checkpoint``'s state into the freshly started ``run`` (a TrainingRun): its
    place, histories, random states, the epoch in progress, the optimizer, the schedule."""
    checkpoint.restore_random_state()
    run.epoch, run.batch = checkpoint.epoch, checkpoint.batch
    run.history = list(checkpoint.history)
    run.val_history = list(checkpoint.val_history)
    if len(run.text.val) and len(run.val_history) < run.epoch:
        # Validation switched on at resume: NaN (not drawn) for the epochs before,
        # so val_history[i] is always the epoch of history[i].
        run.val_history[:0] = [math.nan] * (run.epoch - len(run.val_history))
    if checkpoint.batch:
        run.pending = cursor_from(checkpoint, run.train_one_epoch.parallel.begin_state(
            run.model), run.ctxs, run.settings.sampler == "random")
    if run.saves_trainer:
        checkpoint.restore_trainer(run.trainer)
        # The checkpoint brings its own rate; the settings may change it.
        run.trainer.set_learning_rate(run.settings.lr)
    run.saved_schedule = {k: checkpoint.settings[k] for k in EXTRA_SETTINGS
                          if k in checkpoint.settings}
    run.resumed_from, run.saved_point = checkpoint.path, (run.epoch, run.batch)
    run.save_dir = save_root(checkpoint.path)
