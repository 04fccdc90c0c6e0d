"""Loading a checkpoint: the newest snapshot, every file checked, the model rebuilt.

MXNet's random generator state cannot be read or set through its API, so it
is not saved. Here it only draws the initial parameters, which the
checkpoint holds. ``trainer.states`` is a pickle written by MXNet: load only
checkpoints you trust.
"""

from __future__ import annotations

import dataclasses
import random
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from .._compat import import_mxnet
from .._util.hints import Block, CharToIdx, Context, IdxToChar, StrPath, Trainer
from ..devices import try_gpu
from ..model import model_from_description
from .layout import (
    HPARAMS,
    MANIFEST,
    PARAMS,
    STATE,
    TRAINER,
    VOCAB,
    CheckpointError,
    find_snapshot,
    read_snapshot,
)
from .save import tie_to_run

__all__ = ["Checkpoint", "load_checkpoint"]


@dataclasses.dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns.

    ``model`` is initialised on the requested ``ctx`` and ready for
    ``predict_rnn_gluon``; ``idx_to_char`` / ``char_to_idx`` are its
    vocabulary; ``architecture`` rebuilds it; ``settings`` are the training
    settings it was saved with; ``history`` / ``val_history`` hold one
    perplexity per epoch up to ``epoch``; ``path`` is the snapshot folder.
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
    trainer_states: Optional[bytes] = None

    @property
    def vocab_size(self) -> int:
        return len(self.idx_to_char)

    def restore_random_state(self) -> None:
        """Put Python's and NumPy's generators back where they were at the save."""
        random.setstate(self.python_random)
        np.random.set_state(self.numpy_random)

    def restore_trainer(self, trainer: Trainer) -> None:
        """Load the saved optimizer state into ``trainer`` (nothing if none was saved)."""
        if self.trainer_states is None:
            return
        with tempfile.TemporaryDirectory() as tmp:  # Trainer.load_states wants a file
            path = Path(tmp) / TRAINER
            path.write_bytes(self.trainer_states)
            trainer.load_states(str(path))


def load_checkpoint(directory: StrPath, ctx: Context | None = None) -> Checkpoint:
    """Load the newest checkpoint in ``directory``; see :class:`Checkpoint`.

    The model belongs to the checkpoint's run: saving it again into its
    folder continues that run.

    Parameters
    ----------
    directory : str or os.PathLike
        A folder given to ``save_checkpoint`` or one of its snapshot folders.
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
    tie_to_run(model, docs[MANIFEST]["run"])
    state = docs[STATE]
    return Checkpoint(
        model=model, idx_to_char=docs[VOCAB],
        char_to_idx={c: i for i, c in enumerate(docs[VOCAB])},
        architecture=docs[HPARAMS]["model"], settings=docs[HPARAMS]["settings"],
        epoch=state["epoch"], history=state["history"], val_history=state["val_history"],
        path=snapshot, python_random=state["python_random"],
        numpy_random=state["numpy_random"], trainer_states=trainer_states)
