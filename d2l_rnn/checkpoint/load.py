"""Loading a checkpoint: the newest snapshot, every file checked, the model rebuilt.

Nothing read here can run code: the parameters and optimizer arrays are
MXNet array files, checked byte by byte before MXNet reads them from
memory (never again from disk, so what was hashed is what is used), and
everything else is JSON, checked field by field. A loaded model must hold
finite numbers and run one step, or the checkpoint is refused.

A save retires the previous snapshot once the new one is complete, so a
reader that picked the newest snapshot just before can find it gone; it then
reads the snapshot that replaced it (up to :data:`_READ_TRIES` snapshots in
all: a reader slower than several saves, as on a busy machine, still gets
one; a folder that changes on every read is reported). MXNet's random
generator state cannot be read or set through its API, so it is not saved;
here it only draws the initial parameters, which the checkpoint holds.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from .._compat import import_mxnet
from .._util.errors import mxnet_message
from .._util.hints import Block, CharToIdx, Context, IdxToChar, StrPath, Trainer
from ..devices import parse_contexts, try_gpu
from ..model import model_from_description
from .arrays import check_position, load_arrays
from .errors import CheckpointError
from .layout import (
    HPARAMS,
    MANIFEST,
    PARAMS,
    POSITION,
    STATE,
    TRAINER,
    TRAINER_ARRAYS,
    VOCAB,
    find_snapshot,
    read_snapshot,
)
from .owner import tie_to_run
from .trainer_state import read_trainer_state, restore_trainer_state

__all__ = ["Checkpoint", "load_checkpoint"]

_READ_TRIES = 5  # snapshots read in turn while saves retire each one as it is read


@dataclasses.dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns.

    ``model`` is initialised on the requested ``ctx`` and ready for
    ``predict_rnn_gluon``; ``idx_to_char`` / ``char_to_idx`` are its
    vocabulary; ``architecture`` rebuilds it; ``settings`` are the training
    settings it was saved with; ``history`` / ``val_history`` hold one
    perplexity per epoch up to ``epoch``; ``path`` is the snapshot folder.
    A snapshot within an epoch has ``batch`` > 0 batches of epoch ``epoch +
    1`` done and ``position``, the checked arrays of ``position.params``
    (see :func:`~d2l_rnn.checkpoint.arrays.check_position`); the random
    states are those at that epoch's start.
    """

    model: Block
    idx_to_char: IdxToChar
    char_to_idx: CharToIdx
    architecture: Dict[str, Any]
    settings: Dict[str, Any]
    epoch: int
    history: List[float]
    val_history: List[float]
    path: Path
    python_random: tuple
    numpy_random: tuple
    trainer_state: Optional[tuple] = None  # (trainer.json document, {index: state}), if saved
    batch: int = 0
    position: Optional[Dict[str, Any]] = None  # name -> NDArray (CPU), within an epoch

    @property
    def vocab_size(self) -> int:
        return len(self.idx_to_char)

    def restore_random_state(self) -> None:
        """Put Python's and NumPy's generators back where they were at the save."""
        random.setstate(self.python_random)
        np.random.set_state(self.numpy_random)

    def restore_trainer(self, trainer: Trainer) -> None:
        """Load the saved optimizer state into ``trainer`` (nothing if none was saved).

        The learning rate, the update counts and the per-parameter state
        arrays are set; the optimizer's kind must match the saved one.

        Raises
        ------
        CheckpointError
            If the state does not fit ``trainer`` (another optimizer or model).
        """
        if self.trainer_state is not None:
            doc, states = self.trainer_state
            restore_trainer_state(trainer, doc, states, self.path / TRAINER)


def _load_parameters(model, data, snapshot, ctx):
    mx = import_mxnet()
    path = snapshot / PARAMS
    arrays = load_arrays(data, path)
    params = model._collect_params_with_prefix()
    if set(arrays) != set(params):
        missing, extra = sorted(set(params) - set(arrays)), sorted(set(arrays) - set(params))
        raise CheckpointError("%s does not fit the model described in %s: %s"
                              % (path, snapshot / HPARAMS,
                                 "missing %s" % ", ".join(missing) if missing
                                 else "unknown %s" % ", ".join(extra)))
    first = ctx[0] if isinstance(ctx, (list, tuple)) else ctx
    try:
        for name, param in params.items():
            if param.shape and len(param.shape) != arrays[name].ndim:
                raise ValueError("%s has %d dimensions, expected %d"
                                 % (name, arrays[name].ndim, len(param.shape)))
            param._load_init(arrays[name], ctx)
        # One step on a batch of one: shapes that load but cannot compute fail here.
        output, _ = model(mx.nd.zeros((1, 1), ctx=first),
                          model.begin_state(batch_size=1, ctx=first))
        output.wait_to_read()
    except (AssertionError, ValueError, mx.base.MXNetError) as err:
        why = mxnet_message(err) if isinstance(err, mx.base.MXNetError) else str(err)
        raise CheckpointError("%s does not fit the model described in %s: %s"
                              % (path, snapshot / HPARAMS, why.strip().splitlines()[0]
                                 if why.strip() else type(err).__name__)) from None
    for name, array in arrays.items():
        if not np.isfinite(array.asnumpy()).all():
            raise CheckpointError("checkpoint file %s is corrupt: parameter %s holds NaN or "
                                  "infinite values" % (path, name))


def _load_snapshot(snapshot, ctx):
    docs, blobs = read_snapshot(snapshot)
    trainer_state = None
    if TRAINER in docs:
        trainer_state = read_trainer_state(snapshot, docs[TRAINER], blobs.get(TRAINER_ARRAYS))
    model = model_from_description(docs[HPARAMS]["model"])
    _load_parameters(model, blobs[PARAMS], snapshot, ctx)
    tie_to_run(model, docs[MANIFEST]["run"])
    state = docs[STATE]
    position = None
    if POSITION in blobs:
        position = load_arrays(blobs[POSITION], snapshot / POSITION)
        check_position(position, state["batch"], snapshot / POSITION)
    return Checkpoint(
        model=model, idx_to_char=docs[VOCAB],
        char_to_idx={c: i for i, c in enumerate(docs[VOCAB])},
        architecture=docs[HPARAMS]["model"], settings=docs[HPARAMS]["settings"],
        epoch=state["epoch"], history=state["history"], val_history=state["val_history"],
        path=snapshot, python_random=state["python_random"],
        numpy_random=state["numpy_random"], trainer_state=trainer_state,
        batch=state["batch"], position=position)


def _context(ctx):
    """``ctx`` as a context or a list of contexts: names are read as the command line reads them."""
    mx = import_mxnet()
    if ctx is None:
        return try_gpu()
    if isinstance(ctx, str):
        try:
            found = parse_contexts(ctx)
        except ValueError as err:
            raise ValueError("ctx %r: %s" % (ctx, err)) from None
        return found[0] if len(found) == 1 else found
    if isinstance(ctx, mx.Context) or (isinstance(ctx, (list, tuple)) and ctx
                                       and all(isinstance(c, mx.Context) for c in ctx)):
        return ctx
    raise TypeError("ctx must be an mxnet context (mx.cpu(), d2l.try_gpu()), a list of them or "
                    "a device name such as 'cpu' or 'gpu:0', got %r" % (ctx,))


def load_checkpoint(directory: StrPath, ctx: Context | str | None = None) -> Checkpoint:
    """Load the newest checkpoint in ``directory``; see :class:`Checkpoint`.

    The model belongs to the checkpoint's run: saving it again into its
    folder continues that run.

    Parameters
    ----------
    directory : str or os.PathLike
        A folder given to ``save_checkpoint`` or one of its snapshot folders.
    ctx : mxnet.Context, list of mxnet.Context or str, optional
        Where to put the parameters; default :func:`~d2l_rnn.devices.try_gpu`.
        A name is read as ``--ctx`` reads it: ``'cpu'``, ``'gpu:1'``, ``'auto'``.

    Raises
    ------
    CheckpointError
        If the checkpoint is missing, incomplete or corrupt; the message
        names the file that is wrong.
    TypeError, ValueError
        For a ``ctx`` that is neither a context nor a device name (TypeError),
        or a name of a device that does not work here (ValueError).
    """
    ctx = _context(ctx)
    snapshot = find_snapshot(directory)
    for _ in range(_READ_TRIES - 1):
        try:
            return _load_snapshot(snapshot, ctx)
        except CheckpointError:
            if snapshot == Path(directory) or snapshot.is_dir():
                raise  # named directly, or still there: the error is real
        snapshot = find_snapshot(directory)  # a save retired it while we read: its successor
    return _load_snapshot(snapshot, ctx)  # a folder that changes on every read: reported
