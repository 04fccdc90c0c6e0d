"""Saving a checkpoint: a new snapshot, written aside and renamed into place.

A snapshot (see :mod:`.layout`) is written into a hidden folder in ``DIR``,
flushed to disk, and renamed to the next ``snapshot-N``; only then is the
previous one moved aside and deleted. Renaming to a new name is atomic (a
non-empty directory cannot be replaced), so a crash or SIGKILL at any moment
leaves the old or the new snapshot complete; the next save tidies up.

A folder belongs to one run: each model saved (or loaded) in this process
is tied to a run id that every snapshot's manifest records, and a model of
another run may replace a folder's snapshots only with ``overwrite=True``,
so a mistyped folder never silently replaces someone else's model. One
process at a time may save into a folder.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import weakref
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .._util import files
from .._util.hints import Block, StrPath, Trainer
from ..model import describe_model
from .layout import (
    FORMAT,
    HPARAMS,
    MANIFEST,
    PARAMS,
    STATE,
    TRAINER,
    VOCAB,
    CheckpointError,
    run_of_snapshot,
    snapshots,
)

__all__ = ["OtherRunError", "save_checkpoint", "check_save_dir", "run_of", "tie_to_run"]

# Distinctive prefixes: a save only ever deletes folders that it could have made.
_TMP, _OLD = ".d2l_rnn-tmp-", ".d2l_rnn-old-"

# The run each model of this process belongs to: set by its first save, or by
# load_checkpoint for a model it rebuilt (a resumed run is the same run).
_RUNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class OtherRunError(CheckpointError):
    """A folder holds snapshots of another run; the caller did not allow replacing them."""


def run_of(model):
    """The run id ``model`` is tied to in this process, or None."""
    return _RUNS.get(model)


def tie_to_run(model, run):
    """Tie ``model`` to the run ``run`` (a resumed model continues its checkpoint's run)."""
    _RUNS[model] = run


def check_save_dir(directory, model=None, overwrite=False):
    """Raise :class:`OtherRunError` if ``directory`` holds another run's snapshot.

    Snapshots of ``model`` may go where there is none, where the newest
    belongs to ``model``'s run (the same run, continued), or with ``overwrite``.
    """
    directory = Path(directory)
    if overwrite or not directory.is_dir():
        return
    found = snapshots(directory)
    if not found:
        return
    newest = found[-1][1]
    run = run_of(model) if model is not None else None
    if run is None or run_of_snapshot(newest) != run:
        raise OtherRunError(
            "%s already holds a checkpoint of another run (%s); pass overwrite=True to "
            "replace it, continue that run from load_checkpoint(%r), or save elsewhere"
            % (directory, newest.name, str(directory)))


def _random_states():
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return ([version, list(internal), gauss],
            [name, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)])


def _documents(model, idx_to_char, settings, epoch, history, val_history):
    architecture = describe_model(model)
    idx_to_char = list(idx_to_char)
    if len(idx_to_char) != architecture["vocab_size"]:
        raise ValueError("idx_to_char has %d characters but the model's vocab_size is %d"
                         % (len(idx_to_char), architecture["vocab_size"]))
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError("epoch must be an integer >= 0, got %r" % (epoch,))
    python_random, numpy_random = _random_states()
    documents = {
        VOCAB: idx_to_char,
        HPARAMS: {"model": architecture, "settings": dict(settings or {})},
        STATE: {"epoch": epoch, "history": [float(p) for p in history],
                "val_history": [float(p) for p in val_history],
                "python_random": python_random, "numpy_random": numpy_random},
    }
    try:
        return {name: json.dumps(doc).encode("utf-8") for name, doc in documents.items()}
    except TypeError as err:
        raise ValueError("settings must be JSON-serialisable: %s" % err) from None


def _write_snapshot(tmp, model, trainer, encoded, run):
    model.save_parameters(str(tmp / PARAMS))
    if trainer is not None:
        trainer.save_states(str(tmp / TRAINER))
    for name, data in encoded.items():
        files.write_bytes(tmp / name, data)
    digests = {path.name: files.sha256_durable(path) for path in tmp.iterdir()}
    manifest = {"format": FORMAT, "run": run, "files": digests}
    files.write_bytes(tmp / MANIFEST, json.dumps(manifest, indent=1).encode("utf-8"))
    files.fsync_dir(tmp)


def save_checkpoint(directory: StrPath, model: Block, idx_to_char: Sequence[str], *,
                    settings: Mapping[str, Any] | None = None, epoch: int = 0,
                    history: Sequence[float] = (), val_history: Sequence[float] = (),
                    trainer: Trainer | None = None, overwrite: bool = False) -> Path:
    """Write a new snapshot of ``model`` into ``directory``; return its path.

    Parameters
    ----------
    directory : str or os.PathLike
        Created if needed; earlier snapshots in it are removed once the new
        one is complete.
    model : RNNModel
        Initialised model around a Gluon RNN, GRU or LSTM layer.
    idx_to_char : list of str
        The vocabulary in id order (``vocab_size`` characters).
    settings : dict, optional
        JSON-ready training settings, returned as ``Checkpoint.settings``.
    epoch : int
        Epochs trained so far.
    history, val_history : sequence of float
        Training and validation perplexity per epoch.
    trainer : gluon.Trainer, optional
        Its optimizer state is saved too.
    overwrite : bool
        Replace the snapshots of another run that ``directory`` holds.
        Without it that is refused; saving the same model again, or a model
        loaded from ``directory``, continues its run and needs no flag.

    Raises
    ------
    OtherRunError
        If ``directory`` holds another run's checkpoint (nothing is written).
    ValueError
        For a model or vocabulary that cannot be saved (nothing is written).
    OSError
        If the disk refuses; the previous snapshot is then left intact.
    """
    encoded = _documents(model, idx_to_char, settings, epoch, history, val_history)
    directory = Path(directory)
    check_save_dir(directory, model, overwrite)
    run = run_of(model) or secrets.token_hex(16)
    directory.mkdir(parents=True, exist_ok=True)
    files.remove_leftovers(directory, (_TMP, _OLD))
    # os.mkdir rather than mkdtemp: the snapshot gets the umask's permissions, not 0700.
    tmp = directory / (_TMP + secrets.token_hex(8))
    tmp.mkdir()
    try:
        _write_snapshot(tmp, model, trainer, encoded, run)
        older = snapshots(directory)
        final = directory / ("snapshot-%06d" % (older[-1][0] + 1 if older else 1))
        os.rename(tmp, final)
        files.fsync_dir(directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tie_to_run(model, run)
    for _, old in older:
        files.retire(old, directory / (_OLD + old.name))
    return final
