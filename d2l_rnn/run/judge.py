"""The callback of a training run that follows the validation perplexity.

:class:`Judge` keeps the best validation perplexity: it saves the best
snapshot, divides the learning rate by ``lr_decay`` after an epoch that did
not improve on it, and stops after ``patience`` such epochs in a row. Its
state is recomputed from the per-epoch validation history a checkpoint
holds (:func:`replay`), so a resumed run judges as the uninterrupted one would.
"""

import math

__all__ = ["Judge", "replay"]


def replay(val_history):
    """``(best, best_epoch, epochs_since_best, epochs_without_improvement)`` of a history.

    Epochs without validation (NaN) are skipped; ``best_epoch`` is 0 when
    no epoch was validated.
    """
    best, best_epoch, since, worse = math.inf, 0, 0, 0
    for epoch, value in enumerate(val_history, start=1):
        if math.isnan(value):
            continue
        if value < best:
            best, best_epoch, since = value, epoch, 0
        else:
            since, worse = since + 1, worse + 1
    return best, best_epoch, since, worse


class Judge:
    """Follow the validation perplexity of each epoch; see the module docstring.

    ``set_lr(lr)`` changes the optimizer's rate; ``save_best()`` writes the
    best snapshot (called after each new best).
    """

    def __init__(self, settings, val_history, set_lr, save_best):
        self.settings, self.set_lr, self.save_best = settings, set_lr, save_best
        self.best, self.best_epoch, self.since, worse = replay(val_history)
        # The rate the uninterrupted run reached, divided as it divided (bit for bit).
        self.lr = settings.lr
        for _ in range(worse if settings.lr_decay != 1 else 0):
            self.lr /= settings.lr_decay
        self.stopped = False

    @property
    def exhausted(self):
        """Whether the patience ran out already (a resumed run that had stopped early)."""
        p = self.settings.patience
        return p is not None and self.since >= p

    def __call__(self, end):
        if end.val_perplexity is None or math.isnan(end.val_perplexity):
            return
        if end.val_perplexity < self.best:
            self.best, self.best_epoch, self.since = end.val_perplexity, end.epoch, 0
            self.save_best()
            return
        self.since += 1
        if self.settings.lr_decay != 1:
            self.lr /= self.settings.lr_decay
            self.set_lr(self.lr)
        if self.exhausted:
            end.stop = self.stopped = True
