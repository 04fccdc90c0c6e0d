"""Checkpoints: a model with its vocabulary, settings and training state.

``save_checkpoint(DIR, ...)`` writes one *snapshot* folder inside ``DIR``::

    DIR/snapshot-000003/
        model.params    the parameters (Block.save_parameters)
        vocab.json      the characters in id order (idx_to_char)
        hparams.json    {"model": the architecture, "settings": training settings}
        state.json      epoch, per-epoch perplexities, Python's and NumPy's RNG state
        trainer.states  the optimizer state (Trainer.save_states), if a trainer is given
        manifest.json   the format version and every other file's SHA-256

A snapshot is written into a hidden temporary folder in ``DIR``, flushed to
disk, then renamed to the next ``snapshot-N`` name; only after that is the
previous snapshot moved aside and deleted. Renaming to a new name is atomic,
while replacing a non-empty directory is not possible, hence snapshots inside
``DIR`` rather than ``DIR`` itself. A crash or SIGKILL at any moment thus
leaves the old or the new snapshot complete; the hidden leftovers are deleted
by the next save. :func:`load_checkpoint` reads the newest snapshot and checks
every file against the manifest, so a damaged file is named, not half-loaded.

MXNet's random generator state cannot be read or set through its API, so it
is not saved. Here it only draws the initial parameters, which the
checkpoint holds. ``trainer.states`` is a pickle written by MXNet: load only
checkpoints you trust. One process at a time may save into a directory.
"""

import dataclasses
import json
import os
import random
import secrets
import shutil
import tempfile
from pathlib import Path

import numpy as np

from . import _durable
from ._compat import import_mxnet
from ._snapshot import (
    FORMAT,
    HPARAMS,
    MANIFEST,
    PARAMS,
    STATE,
    TRAINER,
    VOCAB,
    CheckpointError,
    checkpoint_root,
    find_snapshot,
    read_snapshot,
    snapshots,
)
from .architecture import describe_model, model_from_description
from .devices import try_gpu

__all__ = ["Checkpoint", "CheckpointError", "save_checkpoint", "load_checkpoint",
           "find_snapshot", "checkpoint_root"]

# Distinctive prefixes: a save only ever deletes folders that it could have made.
_TMP, _OLD = ".d2l_rnn-tmp-", ".d2l_rnn-old-"


@dataclasses.dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns.

    ``model`` is initialised on the requested ``ctx`` and ready for
    ``predict_rnn_gluon``; ``idx_to_char`` / ``char_to_idx`` are its
    vocabulary; ``architecture`` rebuilds it; ``settings`` are the training
    settings it was saved with; ``history`` / ``val_history`` hold one
    perplexity per epoch up to ``epoch``; ``path`` is the snapshot folder.
    """

    model: object
    idx_to_char: list
    char_to_idx: dict
    architecture: dict
    settings: dict
    epoch: int
    history: list
    val_history: list
    path: Path
    python_random: tuple
    numpy_random: tuple
    trainer_states: bytes = None

    @property
    def vocab_size(self):
        return len(self.idx_to_char)

    def restore_random_state(self):
        """Put Python's and NumPy's generators back where they were at the save."""
        random.setstate(self.python_random)
        np.random.set_state(self.numpy_random)

    def restore_trainer(self, trainer):
        """Load the saved optimizer state into ``trainer`` (nothing if none was saved)."""
        if self.trainer_states is None:
            return
        with tempfile.TemporaryDirectory() as tmp:  # Trainer.load_states wants a file
            path = Path(tmp) / TRAINER
            path.write_bytes(self.trainer_states)
            trainer.load_states(str(path))


def _random_states():
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return ([version, list(internal), gauss],
            [name, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)])


def save_checkpoint(directory, model, idx_to_char, *, settings=None, epoch=0,
                    history=(), val_history=(), trainer=None):
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

    Raises
    ------
    ValueError
        For a model or vocabulary that cannot be saved (nothing is written).
    OSError
        If the disk refuses; the previous snapshot is then left intact.
    """
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
        encoded = {name: json.dumps(doc).encode("utf-8") for name, doc in documents.items()}
    except TypeError as err:
        raise ValueError("settings must be JSON-serialisable: %s" % err) from None
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _durable.remove_leftovers(directory, (_TMP, _OLD))
    # os.mkdir rather than mkdtemp: the snapshot gets the umask's permissions, not 0700.
    tmp = directory / (_TMP + secrets.token_hex(8))
    tmp.mkdir()
    try:
        model.save_parameters(str(tmp / PARAMS))
        if trainer is not None:
            trainer.save_states(str(tmp / TRAINER))
        for name, data in encoded.items():
            _durable.write_bytes(tmp / name, data)
        digests = {path.name: _durable.sha256_durable(path) for path in tmp.iterdir()}
        manifest = {"format": FORMAT, "files": digests}
        _durable.write_bytes(tmp / MANIFEST, json.dumps(manifest, indent=1).encode("utf-8"))
        _durable.fsync_dir(tmp)
        older = snapshots(directory)
        final = directory / ("snapshot-%06d" % (older[-1][0] + 1 if older else 1))
        os.rename(tmp, final)
        _durable.fsync_dir(directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for _, old in older:
        _durable.retire(old, directory / (_OLD + old.name))
    return final


def load_checkpoint(directory, ctx=None):
    """Load the newest checkpoint in ``directory``; see :class:`Checkpoint`.

    Parameters
    ----------
    directory : str or os.PathLike
        A ``--save`` folder or one of its snapshot folders.
    ctx : mxnet.Context, optional
        Where to put the parameters; default :func:`~d2l_rnn.devices.try_gpu`.

    Raises
    ------
    CheckpointError
        If the checkpoint is missing, incomplete or corrupt; the message
        names the file that is wrong.
    """
    snapshot = find_snapshot(directory)
    docs, trainer_states = read_snapshot(snapshot)
    ctx = try_gpu() if ctx is None else ctx
    model = model_from_description(docs[HPARAMS]["model"])
    try:
        model.load_parameters(str(snapshot / PARAMS), ctx=ctx)
    except (AssertionError, ValueError, KeyError, import_mxnet().base.MXNetError) as err:
        raise CheckpointError("%s does not fit the model described in %s: %s"
                              % (snapshot / PARAMS, snapshot / HPARAMS,
                                 str(err).strip().splitlines()[0])) from None
    state = docs[STATE]
    return Checkpoint(
        model=model, idx_to_char=docs[VOCAB],
        char_to_idx={c: i for i, c in enumerate(docs[VOCAB])},
        architecture=docs[HPARAMS]["model"], settings=docs[HPARAMS]["settings"],
        epoch=state["epoch"], history=state["history"], val_history=state["val_history"],
        path=snapshot, python_random=state["python_random"],
        numpy_random=state["numpy_random"], trainer_states=trainer_states)
