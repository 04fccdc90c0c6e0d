"""Saving a checkpoint: a new snapshot, written aside and renamed into place.

A snapshot (see :mod:`.layout`) is written into a hidden folder in ``DIR``,
flushed to disk, and renamed to the name of the point it holds
(:mod:`.names`); only then are the others moved aside and deleted. Renaming
to a new name is atomic (a non-empty directory cannot be replaced), and a
name is never reused, so a crash or SIGKILL at any moment
leaves the old or the new snapshot complete; the next save tidies up.

A save holds the folder's lock (:mod:`.lock`), so no other process writes,
numbers or tidies up there meanwhile. It works through the folder's
descriptor (:mod:`.folder`) and follows no link in it. Everything it will
write is checked first, by the checks ``load_checkpoint`` applies: a save
either writes a snapshot that loads or touches nothing. Parameters and
optimizer states that are NaN or infinite are never written: a snapshot is
always a model worth going back to.

A folder belongs to one run: each model saved (or loaded) in this process
is tied to a run id that every snapshot's manifest records, and a model of
another run may replace a folder's snapshots only with ``overwrite=True``,
so a mistyped folder never silently replaces someone else's model. Only
this library's own snapshots are ever deleted (:func:`.layout.is_own_snapshot`).
"""

from __future__ import annotations

import errno
import json
import secrets
from pathlib import Path
from typing import Any, Mapping, Sequence

from .._compat import import_mxnet
from .._util.errors import mxnet_message
from .._util.hints import Block, StrPath, Trainer
from .documents import check_finite_parameters, documents, position_arrays
from .folder import Folder
from .layout import (
    BEST,
    FORMAT,
    MANIFEST,
    PARAMS,
    POSITION,
    SAVED_NAMES,
    TRAINER,
    TRAINER_ARRAYS,
    WRITER,
    is_own_snapshot,
)
from .lock import holds_lock, lock_folder
from .names import snapshot_name, snapshots
from .owner import check_names, check_save_dir, run_of, tie_to_run
from .trainer_state import trainer_documents

__all__ = ["save_checkpoint", "check_finite_parameters"]

# Distinctive prefixes, and what is inside checked too: a save only ever
# deletes folders that it made (Folder.remove_own).
_TMP, _OLD = ".d2l_rnn-tmp-", ".d2l_rnn-old-"


def _mxnet_write(tmp, name, write):
    mx = import_mxnet()
    try:
        write(tmp.writer_path(name))  # a path through the folder's descriptor
    except mx.base.MXNetError as err:  # e.g. a full disk or a file size limit
        raise OSError(errno.EIO, "cannot write %s: %s"
                      % (tmp.path / name, mxnet_message(err))) from None


def _write_snapshot(tmp, model, trainer_state, position, encoded, run):
    nd = import_mxnet().nd
    _mxnet_write(tmp, PARAMS, model.save_parameters)
    if position:
        _mxnet_write(tmp, POSITION, lambda path: nd.save(path, position))
    if trainer_state is not None:
        doc, arrays = trainer_state
        encoded = dict(encoded, **{TRAINER: json.dumps(doc).encode("utf-8")})
        if arrays:
            _mxnet_write(tmp, TRAINER_ARRAYS, lambda path: nd.save(path, arrays))
    for name, data in encoded.items():
        tmp.write(name, data)
    digests = {name: tmp.digest(name) for name in tmp.names()}
    manifest = {"format": FORMAT, "writer": WRITER, "run": run, "files": digests}
    tmp.write(MANIFEST, json.dumps(manifest, indent=1).encode("utf-8"))
    tmp.publish()  # written in a folder only this user could enter; now as the umask says
    tmp.fsync()


def _free_name(folder, epoch, batch):
    generation = 1
    while folder.lstat(snapshot_name(epoch, batch, generation)) is not None:
        generation += 1  # the same point saved again: never reuse a name
    return snapshot_name(epoch, batch, generation)


def _remove(folder, name):
    """Remove the folder ``name`` if a save wrote it (errors are left for the next save)."""
    try:
        folder.remove_own(name, SAVED_NAMES)
    except OSError:
        pass


def _retire(folder, name):
    """Delete the snapshot ``name``: rename it aside (atomic), then remove it."""
    hidden = "%s%s-%s" % (_OLD, name, secrets.token_hex(4))  # a name no one holds
    try:
        folder.rename(name, hidden)
    except OSError:
        return
    _remove(folder, hidden)


def _new_snapshot(folder, model, trainer_state, position, encoded, run, point):
    for name in folder.names():  # the lock says no one else is saving
        if name.startswith((_TMP, _OLD)):
            _remove(folder, name)  # a leftover of a killed save; anything else stays
    name = _TMP + secrets.token_hex(8)
    try:
        with folder.private_dir(name) as tmp:
            _write_snapshot(tmp, model, trainer_state, position, encoded, run)
        others = snapshots(folder.path)
        final = _free_name(folder, *point)
        folder.rename(name, final)
        folder.fsync()
    except BaseException:
        _remove(folder, name)
        raise
    tie_to_run(model, run)
    for _, old in others:  # only now, with the new one complete; never a user's folder
        if is_own_snapshot(old):
            _retire(folder, old.name)
    return folder.path / final


def save_checkpoint(directory: StrPath, model: Block, idx_to_char: Sequence[str], *,
                    settings: Mapping[str, Any] | None = None, epoch: int = 0,
                    history: Sequence[float] = (), val_history: Sequence[float] = (),
                    trainer: Trainer | None = None, overwrite: bool = False,
                    batch: int = 0, position: Mapping[str, Any] | None = None,
                    random_state: tuple | None = None, best: bool = False) -> Path:
    """Write a new snapshot of ``model`` into ``directory``; return its path.

    The snapshot is named by the point it holds: ``epoch-000012``, or
    ``epoch-000013-batch-000340`` within an epoch (see
    :mod:`d2l_rnn.checkpoint.names`).

    Parameters
    ----------
    directory : str or os.PathLike
        Created if needed; the other snapshots in it are removed once the new
        one is complete (only this library's own: other files stay). It may
        be a link to a folder; no link inside it is ever followed.
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
    best : bool
        Save into ``directory/best``, the folder of the run's best snapshot
        (made if needed, never followed if it is a link), under the lock of
        ``directory``.

    Raises
    ------
    OtherRunError
        If ``directory`` holds another run's checkpoint, or (with
        ``overwrite``) files that are not this library's (nothing is written).
    CheckpointError
        If a name this library uses in ``directory`` (a snapshot, ``best``,
        the lock) is a link or of the wrong kind (nothing is written).
    FolderBusyError
        If another process is saving into ``directory``.
    FloatingPointError
        If a parameter is NaN or infinite (nothing is written).
    ValueError
        For a model (not initialised, not describable), vocabulary
        (duplicates, multi-character entries, more than 65,536), settings or
        optimizer state that cannot be saved, or anything ``load_checkpoint``
        would refuse (nothing is written).
    TypeError
        For an ``idx_to_char`` that is not a list of characters.
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
        run, point = run_of(model) or secrets.token_hex(16), (epoch, batch)
        with Folder.open(directory) as top:
            check_names(directory)  # nothing d2l_rnn names there is a link
            if not best:
                check_save_dir(directory, model, overwrite)
                return _new_snapshot(top, model, trainer_state, arrays, encoded, run, point)
            with top.child(BEST, create=True) as folder:
                check_save_dir(folder.path, model, overwrite)
                return _new_snapshot(folder, model, trainer_state, arrays, encoded, run, point)
    finally:
        if lock is not None:
            lock.release()
