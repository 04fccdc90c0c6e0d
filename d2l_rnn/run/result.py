"""What :meth:`TrainingRun.fit <d2l_rnn.run.TrainingRun.fit>` returns: how a run ended."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

from .._util.metrics import perplexity_bits

__all__ = ["RunResult", "REASONS"]

REASONS = ("finished", "early_stop", "time_up", "interrupted", "nothing_to_train")


@dataclasses.dataclass
class RunResult:
    """How and where a call of ``fit`` ended.

    Attributes
    ----------
    reason : str
        ``'finished'`` (all epochs trained), ``'early_stop'`` (the patience
        ran out, or an epoch callback set ``stop``), ``'time_up'`` (the
        ``max_time`` budget), ``'interrupted'`` (a signal or
        :meth:`~d2l_rnn.run.TrainingRun.request_stop`) or
        ``'nothing_to_train'`` (a resumed run already at its last epoch, or
        stopped early before).
    epoch, batch : int
        Epochs done, and batches done of the next one (0 at an epoch's end).
    perplexity : float or None
        The training perplexity of the last epoch done (None before the first);
        :attr:`bits_per_char` is the same in bits per character.
    best_val_perplexity : float or None
        The lowest validation perplexity so far, and ``best_epoch`` its
        epoch (None without validation); :attr:`best_val_bits_per_char` in bits.
    best_epoch : int or None
    seconds : float
        Wall-clock time of this call.
    last_saved : pathlib.Path or None
        The snapshot holding the run as it ended (None: not saved).
    best_saved : pathlib.Path or None
        The best snapshot, if one was saved.
    signal : int or None
        The signal that asked the run to stop (SIGINT 2, SIGTERM 15), if any.
    """

    reason: str
    epoch: int
    batch: int
    perplexity: Optional[float]
    best_val_perplexity: Optional[float]
    best_epoch: Optional[int]
    seconds: float
    last_saved: Optional[Path]
    best_saved: Optional[Path]
    signal: Optional[int] = None

    @property
    def saved(self) -> bool:
        """Whether the point the run ended at is in a snapshot (and can be resumed)."""
        return self.last_saved is not None

    @property
    def bits_per_char(self) -> Optional[float]:
        """The training perplexity in bits per character, ``log2(perplexity)`` (or None)."""
        return None if self.perplexity is None else perplexity_bits(self.perplexity)

    @property
    def best_val_bits_per_char(self) -> Optional[float]:
        """The best validation perplexity in bits per character (or None)."""
        return None if self.best_val_perplexity is None \
            else perplexity_bits(self.best_val_perplexity)
