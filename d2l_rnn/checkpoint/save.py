"""Saving a checkpoint: a new snapshot, written aside and renamed into place.

A snapshot (see :mod:`.layout`) is written into a hidden folder in ``DIR``,
flushed to disk, and renamed to the name of the point it holds
(:mod:`.names`); only then are the others moved aside and deleted. Renaming
to a new name is atomic (a non-empty directory cannot be replaced), and a
name is never reused, so a crash or SIGKILL at any moment
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
import os
import secrets
import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .._compat import import_mxnet
from .._util import files
from .._util.errors import mxnet_message
from .._util.hints import Block, StrPath, Trainer
from .documents import documents, position_arrays
from .layout import (
    FORMAT,
    MANIFEST,
    PARAMS,
    POSITION,
    TRAINER,
    TRAINER_ARRAYS,
    WRITER,
    is_own_snapshot,
)
from .lock import holds_lock, lock_folder
from .names import snapshot_name, snapshots
from .owner import check_save_dir, run_of, tie_to_run
from .trainer_state import trainer_documents

__all__ = ["save_checkpoint", "check_finite_parameters"]

# Distinctive prefixes: a save only ever deletes folders that it could have made.
_TMP, _OLD = ".d2l_rnn-tmp-", ".d2l_rnn-old-"


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


def _write_snapshot(tmp, model, trainer_state, position, encoded, run):
    nd = import_mxnet().nd
    _mxnet_write(tmp / PARAMS, model.save_parameters)
    if position:
        _mxnet_write(tmp / POSITION, lambda path: nd.save(path, position))
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


def _free_name(directory, epoch, batch):
    generation = 1
    while (directory / snapshot_name(epoch, batch, generation)).exists():
        generation += 1  # the same point saved again: never reuse a name
    return directory / snapshot_name(epoch, batch, generation)


def _new_snapshot(directory, model, trainer_state, position, encoded, run, point):
    files.remove_leftovers(directory, (_TMP, _OLD))  # the lock says no one else is saving
    # os.mkdir rather than mkdtemp: the snapshot gets the umask's permissions, not 0700.
    tmp = directory / (_TMP + secrets.token_hex(8))
    tmp.mkdir()
    try:
        _write_snapshot(tmp, model, trainer_state, position, encoded, run)
        others = snapshots(directory)
        final = _free_name(directory, *point)
        os.rename(tmp, final)
        files.fsync_dir(directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tie_to_run(model, run)
    for _, old in others:  # only now, with the new one complete; never a user's folder
        if is_own_snapshot(old):
            files.retire(old, directory / (_OLD + old.name))
    return final


def save_checkpoint(directory: StrPath, model: Block, idx_to_char: Sequence[str], *,
                    settings: Mapping[str, Any] | None = None, epoch: int = 0,
                    history: Sequence[float] = (), val_history: Sequence[float] = (),
                    trainer: Trainer | None = None, overwrite: bool = False,
                    batch: int = 0, position: Mapping[str, Any] | None = None,
                    random_state: tuple | None = None) -> Path:
    """Write a new snapshot of ``model`` into ``directory``; return its path.

    The snapshot is named by the point it holds: ``epoch-000012``, or
    ``epoch-000013-batch-000340`` within an epoch (see
    :mod:`d2l_rnn.checkpoint.names`).

    Parameters
    ----------
    directory : str or os.PathLike
        Created if needed; the other snapshots in it are removed once the new
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
    batch : int
        Batches done of epoch ``epoch + 1`` (0: at an epoch's end).
    position : dict of str to NDArray, optional
        Within an epoch (``batch > 0``), what resuming it needs: ``losses``
        (shape ``(batch,)``, float32: the loss of each batch done), optionally
        ``norms`` (the same for the gradient norms), and the carried hidden
        state as ``state.K.J`` (device ``K``, array ``J``).
    random_state : (tuple, tuple), optional
        Python's and NumPy's generator states (``random.getstate()``,
        ``np.random.get_state()``) at the start of the epoch in progress;
        default: their states now.

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
    arrays = position_arrays(batch, position)
    encoded = documents(model, idx_to_char, settings, epoch, batch, history, val_history,
                        random_state)
    check_finite_parameters(model)
    trainer_state = trainer_documents(trainer) if trainer is not None else None
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lock = None if holds_lock(directory) else lock_folder(directory)
    try:
        check_save_dir(directory, model, overwrite)
        return _new_snapshot(directory, model, trainer_state, arrays, encoded,
                             run_of(model) or secrets.token_hex(16), (epoch, batch))
    finally:
        if lock is not None:
            lock.release()
