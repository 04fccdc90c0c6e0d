"""Saving a checkpoint: a new snapshot, written aside and renamed into place.

A snapshot (see :mod:`.layout`) is written into a hidden folder in ``DIR``,
flushed to disk, and renamed to the next ``snapshot-N``; only then is the
previous one moved aside and deleted. Renaming to a new name is atomic (a
non-empty directory cannot be replaced), so a crash or SIGKILL at any moment
leaves the old or the new snapshot complete; the next save tidies up.

A save holds the folder's lock (:mod:`.lock`), so no other process writes,
numbers or tidies up there meanwhile. Parameters that are NaN or infinite
are never written: a snapshot is always a model worth going back to.

A folder belongs to one run: each model saved (or loaded) in this process
is tied to a run id that every snapshot's manifest records, and a model of
another run may replace a folder's snapshots only with ``overwrite=True``,
so a mistyped folder never silently replaces someone else's model. Only
this library's own snapshots are ever deleted (:func:`.layout.is_own_snapshot`).
"""

from __future__ import annotations

import errno
import json
import math
import os
import random
import secrets
import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .._compat import import_mxnet
from .._util import files
from .._util.errors import mxnet_message
from .._util.hints import Block, StrPath, Trainer
from ..model import describe_model
from ..settings import TrainSettings, check_setting
from .fields import EXTRA_SETTINGS
from .layout import (
    FORMAT,
    HPARAMS,
    MANIFEST,
    PARAMS,
    STATE,
    TRAINER,
    TRAINER_ARRAYS,
    VOCAB,
    WRITER,
    is_own_snapshot,
    snapshots,
)
from .lock import holds_lock, lock_folder
from .owner import check_save_dir, run_of, tie_to_run
from .trainer_state import trainer_documents

__all__ = ["save_checkpoint", "check_finite_parameters"]

# Distinctive prefixes: a save only ever deletes folders that it could have made.
_TMP, _OLD = ".d2l_rnn-tmp-", ".d2l_rnn-old-"
_KNOWN_SETTINGS = set(TrainSettings.__dataclass_fields__)


def _random_states():
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return ([version, list(internal), gauss],
            [name, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)])


def _perplexities(name, values):
    values = [float(p) for p in values]
    if not all(p >= 1 or math.isnan(p) for p in values):
        raise ValueError("%s must hold perplexities (>= 1, or NaN for none), got %r"
                         % (name, min(values)))
    return values


def _check_settings(settings):
    settings = dict(settings or {})
    for name in sorted(set(settings) & (set(EXTRA_SETTINGS) | _KNOWN_SETTINGS)):
        check_setting(name, settings[name])  # what is saved must load again
    return settings


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
        HPARAMS: {"model": architecture, "settings": _check_settings(settings)},
        STATE: {"epoch": epoch, "history": _perplexities("history", history),
                "val_history": _perplexities("val_history", val_history),
                "python_random": python_random, "numpy_random": numpy_random},
    }
    try:
        encoded = {name: json.dumps(doc).encode("utf-8") for name, doc in documents.items()}
    except (TypeError, ValueError) as err:
        raise ValueError("settings must be JSON-serialisable: %s" % err) from None
    return encoded


def check_finite_parameters(model):
    """Raise FloatingPointError naming the first parameter of ``model`` that is NaN or infinite."""
    for name, param in model._collect_params_with_prefix().items():
        if not np.isfinite(param.data().asnumpy()).all():
            raise FloatingPointError("the model's parameter %s holds NaN or infinite values"
                                     % name)


def _mxnet_write(path, write):
    mx = import_mxnet()
    try:
        write(str(path))
    except mx.base.MXNetError as err:  # e.g. a full disk or a file size limit
        raise OSError(errno.EIO, "cannot write %s: %s" % (path, mxnet_message(err))) from None


def _write_snapshot(tmp, model, trainer_state, encoded, run):
    nd = import_mxnet().nd
    _mxnet_write(tmp / PARAMS, model.save_parameters)
    if trainer_state is not None:
        doc, arrays = trainer_state
        encoded = dict(encoded, **{TRAINER: json.dumps(doc).encode("utf-8")})
        if arrays:
            _mxnet_write(tmp / TRAINER_ARRAYS, lambda path: nd.save(path, arrays))
    for name, data in encoded.items():
        files.write_bytes(tmp / name, data)
    digests = {path.name: files.sha256_durable(path) for path in tmp.iterdir()}
    manifest = {"format": FORMAT, "writer": WRITER, "run": run, "files": digests}
    files.write_bytes(tmp / MANIFEST, json.dumps(manifest, indent=1).encode("utf-8"))
    files.fsync_dir(tmp)


def _new_snapshot(directory, model, trainer_state, encoded, run):
    files.remove_leftovers(directory, (_TMP, _OLD))  # the lock says no one else is saving
    # os.mkdir rather than mkdtemp: the snapshot gets the umask's permissions, not 0700.
    tmp = directory / (_TMP + secrets.token_hex(8))
    tmp.mkdir()
    try:
        _write_snapshot(tmp, model, trainer_state, encoded, run)
        older = snapshots(directory)
        final = directory / ("snapshot-%06d" % (older[-1][0] + 1 if older else 1))
        os.rename(tmp, final)
        files.fsync_dir(directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tie_to_run(model, run)
    for _, old in older:  # only now, with the new one complete; never a user's folder
        if is_own_snapshot(old):
            files.retire(old, directory / (_OLD + old.name))
    return final


def save_checkpoint(directory: StrPath, model: Block, idx_to_char: Sequence[str], *,
                    settings: Mapping[str, Any] | None = None, epoch: int = 0,
                    history: Sequence[float] = (), val_history: Sequence[float] = (),
                    trainer: Trainer | None = None, overwrite: bool = False) -> Path:
    """Write a new snapshot of ``model`` into ``directory``; return its path.

    Parameters
    ----------
    directory : str or os.PathLike
        Created if needed; earlier snapshots in it are removed once the new
        one is complete (only this library's own: other files stay).
    model : RNNModel
        Initialised model around a Gluon RNN, GRU or LSTM layer.
    idx_to_char : list of str
        The vocabulary in id order (``vocab_size`` characters).
    settings : dict, optional
        JSON-ready training settings, returned as ``Checkpoint.settings``;
        those named like :class:`~d2l_rnn.settings.TrainSettings` fields
        must be valid values for them.
    epoch : int
        Epochs trained so far.
    history, val_history : sequence of float
        Training and validation perplexity per epoch (NaN for none).
    trainer : gluon.Trainer, optional
        Its optimizer state is saved too, as JSON and arrays (no pickle).
    overwrite : bool
        Replace the snapshots of another run that ``directory`` holds.
        Without it that is refused; saving the same model again, or a model
        loaded from ``directory``, continues its run and needs no flag.

    Raises
    ------
    OtherRunError
        If ``directory`` holds another run's checkpoint, or (with
        ``overwrite``) files that are not this library's (nothing is written).
    FolderBusyError
        If another process is saving into ``directory``.
    FloatingPointError
        If a parameter is NaN or infinite (nothing is written).
    ValueError
        For a model, vocabulary, settings or optimizer state that cannot be
        saved (nothing is written).
    OSError
        If the disk refuses; the previous snapshot is then left intact.
    """
    encoded = _documents(model, idx_to_char, settings, epoch, history, val_history)
    check_finite_parameters(model)
    trainer_state = trainer_documents(trainer) if trainer is not None else None
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lock = None if holds_lock(directory) else lock_folder(directory)
    try:
        check_save_dir(directory, model, overwrite)
        return _new_snapshot(directory, model, trainer_state, encoded,
                             run_of(model) or secrets.token_hex(16))
    finally:
        if lock is not None:
            lock.release()
