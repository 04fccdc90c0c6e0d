"""A new run that starts from a trained checkpoint's weights: fine-tuning on another text.

What comes from the checkpoint: the weights, the vocabulary and its ids,
and the model's shape (:data:`SHAPE`: cell, sizes, embedding, dropout),
which settings given to the run may repeat but not change
(:class:`InitShapeError`). Everything else is the new run's own, from the
settings given and the defaults (with a text of one's own, the recipe's):
the optimizer starts fresh, the epochs count from 0, the seed is the new
run's. The model is no longer tied to the checkpoint's run, so its saves
are a new run's, and they never go into the checkpoint's folders
(:func:`protected_folders`, refused by
:func:`~d2l_rnn.run.folder.prepare_save_dir`).
"""

import dataclasses
from pathlib import Path

from .._util.foreign import ForeignCharacterError
from ..checkpoint import find_best
from ..checkpoint.owner import tie_to_run
from ..settings import TrainSettings, load_text
from .folder import save_root
from .resume import check_vocabulary

__all__ = ["SHAPE", "InitShapeError", "pick_snapshot", "init_settings", "start_settings",
           "protected_folders"]

# The settings a model's shape fixes (dropout too: it is built into its layers).
SHAPE = ("cell", "num_hiddens", "num_layers", "embed_size", "dropout")


class InitShapeError(ValueError):
    """A shape setting given to a run that starts from a checkpoint disagrees with the
    checkpoint's model; ``name``, ``given``, ``saved``."""

    def __init__(self, name, given, saved):
        super().__init__("%s=%r does not match the checkpoint's %r: a run that starts from a "
                         "checkpoint's weights keeps its model's shape (%s)"
                         % (name, given, saved, ", ".join(SHAPE)))
        self.name, self.given, self.saved = name, given, saved


def pick_snapshot(directory, which=None):
    """The snapshot folder to load from ``directory`` (a save folder or a snapshot).

    ``which``: ``'best'`` (``directory/best``), ``'last'`` (the newest
    snapshot of ``directory`` itself), or None: best when there is one, else
    last. Raises ValueError for ``'best'`` without a best snapshot, and
    CheckpointError for a ``best`` that is a link or not a folder.
    """
    path = Path(directory)
    if which not in (None, "best", "last"):
        raise ValueError("which must be 'best', 'last' or None, got %r" % (which,))
    if which == "last" or not path.is_dir():
        return path  # a missing folder: load_checkpoint says so
    best = find_best(path)
    if best is None and which == "best":
        raise ValueError("%s has no best snapshot (a best/ folder is kept when training with "
                         "validation and a save folder); use the last one" % path)
    return best or path


def _shape(checkpoint):
    arch = checkpoint.architecture
    return dict(cell=arch["cell"], num_hiddens=arch["num_hiddens"],
                num_layers=arch["num_layers"], embed_size=arch.get("embed_size"),
                dropout=max(arch.get("dropout", 0.0), arch.get("output_dropout", 0.0)))


def init_settings(checkpoint, **given):
    """The settings of a run that starts from ``checkpoint``'s weights: ``given``, the
    defaults for the rest (:meth:`TrainSettings.create`), the model's shape.

    Raises
    ------
    InitShapeError
        If ``given`` sets a shape setting (:data:`SHAPE`) to another value.
    TypeError
        For a name that is not a setting.
    """
    names = {f.name for f in dataclasses.fields(TrainSettings)}
    unknown = sorted(set(given) - names)
    if unknown:
        raise TypeError("not a training setting: %s (see TrainSettings)" % ", ".join(unknown))
    shape = _shape(checkpoint)
    for name in SHAPE:  # embed_size 0 is None: one-hot input
        if name in given and (given[name] or None) != (shape[name] or None):
            raise InitShapeError(name, given[name], shape[name])
    if "prefixes" in given:
        given["prefixes"] = tuple(given["prefixes"])
    return dataclasses.replace(TrainSettings.create(**given), **shape)


def protected_folders(checkpoint):
    """The folders a run started from ``checkpoint`` never saves into, nor in or around:
    the snapshot's and the save folder it belongs to (resolved)."""
    folders = [Path(checkpoint.path), save_root(checkpoint.path)]
    return tuple(sorted({f.resolve() for f in folders if f is not None}))


def start_settings(checkpoint, text, given):
    """``(settings, text)`` of a run that starts from ``checkpoint``'s weights (see
    :meth:`~d2l_rnn.run.TrainingRun.init_from`), its model untied from the checkpoint's run."""
    settings = init_settings(checkpoint, **given).check(len(checkpoint.idx_to_char))
    if text is None:
        try:
            text = load_text(settings, idx_to_char=checkpoint.idx_to_char)
        except ForeignCharacterError as err:
            raise err.naming(str(checkpoint.path)) from None
    check_vocabulary(checkpoint.idx_to_char, text.idx_to_char)
    tie_to_run(checkpoint.model, None)  # its saves are a new run's
    return settings, text
