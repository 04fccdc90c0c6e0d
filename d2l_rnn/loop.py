"""The training engine every path shares: the loss, one epoch, and the schedule.

The Gluon loop (chapter 6.6) on one device, on several, or as one worker of
a kvstore job, the from-scratch loop (chapter 6.5) and the command line's
resumable run differ only in how one minibatch is trained and in what
happens after an epoch. Everything else lives here, once:

* :func:`sequence_loss`, the one loss every path trains and evaluates with;
* :func:`run_epoch`: choose the sampler, reset or detach the hidden state,
  train each batch, sum the loss; with an :class:`EpochCursor`, hooks around
  each batch, a stop after any batch, and a resume from there;
* :func:`fit`: the epochs, a divergence check, and callbacks after each
  epoch (:func:`print_progress` prints the chapter's lines; the training run,
  :mod:`d2l_rnn.run`, adds validation, progress and checkpoints).

The loss is summed on the device, so an epoch has exactly one host sync (the
read of that sum at its end). Everything before it is queued on MXNet's
asynchronous engine while Python runs ahead.
"""

import dataclasses
import math
import random
import time
from typing import Optional

import numpy as np

from ._compat import import_mxnet
from ._util.checks import check_ids, check_number, check_positive_int, check_prefix, check_prefixes
from .samplers import data_iter_consecutive, data_iter_random

__all__ = ["sequence_loss", "perplexity", "detach", "EpochCursor", "run_epoch",
           "check_training_args", "check_finite", "epoch_line", "EpochEnd", "fit",
           "print_progress"]


def sequence_loss(output, Y, num_targets):
    """Cross-entropy of ``output`` against ``Y``, summed and divided by ``num_targets``.

    ``output`` has shape ``(num_steps * batch_size, vocab_size)``, time-major
    as :class:`~d2l_rnn.model.RNNModel` returns it; ``Y`` holds the target
    ids, ``(batch_size, num_steps)``. ``num_targets=Y.size`` gives the mean
    per character, the size of the global batch a device's share of it, 1
    the sum. Returns an NDArray of shape ``(1,)``, left on the device.
    """
    # SoftmaxCrossEntropyLoss's number in fewer operators; the fused
    # softmax_cross_entropy is slower (log_softmax has a oneDNN kernel, it has none).
    nd = import_mxnet().nd
    y = Y.T.reshape((-1,))  # time-major, like the output rows
    return nd.pick(nd.log_softmax(output), y).sum() * (-1.0 / num_targets)


def perplexity(mean_loss):
    """``exp(mean_loss)``, or ``inf`` where that overflows a float."""
    try:
        return math.exp(mean_loss)
    except OverflowError:
        return math.inf


def detach(state):
    """Return ``state`` (an array, or lists and tuples of them) cut from its history.

    ``NDArray.detach()`` returns a new array, so the result must be kept.
    """
    if isinstance(state, (list, tuple)):
        return type(state)(detach(s) for s in state)
    return state.detach()


class EpochCursor:
    """How far an epoch has got: enough to stop it after any batch and go on from there.

    Give one to :func:`run_epoch`. ``python_random`` and ``numpy_random`` are
    the generators' states at the epoch's start: given, they are restored
    before the sampler draws, so a resumed epoch draws its batches again;
    None, they are recorded there. The first ``batches_done`` batches are
    then skipped: ``losses`` holds their losses (NDArrays of shape ``(1,)``,
    in order) and ``state`` the hidden state carried after them (consecutive
    sampling; None with random sampling). ``before_batch(i)`` runs before
    batch ``i`` (from 0) is issued; ``after_batch(cursor, last)`` after it,
    when the cursor counts it already (``last``: it was the epoch's last
    batch). If ``after_batch`` returns true the epoch ends there:
    ``stopped`` is set and :func:`run_epoch` returns None.
    """

    def __init__(self, batches_done=0, losses=(), state=None, python_random=None,
                 numpy_random=None, before_batch=None, after_batch=None):
        if len(losses) != batches_done:
            raise ValueError("a cursor after %d batches needs their %d losses, got %d"
                             % (batches_done, batches_done, len(losses)))
        self.batches_done, self.losses, self.state = batches_done, list(losses), state
        self.python_random, self.numpy_random = python_random, numpy_random
        self.before_batch, self.after_batch, self.stopped = before_batch, after_batch, False

    def _start(self):
        if self.python_random is None:
            self.python_random, self.numpy_random = random.getstate(), np.random.get_state()
        else:
            random.setstate(self.python_random)
            np.random.set_state(self.numpy_random)

    def _follow(self, batches, train_batch, begin_state, is_random_iter):
        nd = import_mxnet().nd
        self._start()
        losses, state, skip = self.losses, self.state, self.batches_done
        batches = iter(batches)
        upcoming, i = next(batches, None), 0
        while upcoming is not None:
            (X, Y), upcoming = upcoming, next(batches, None)
            if i >= skip:
                if self.before_batch is not None:
                    self.before_batch(i)
                state = begin_state() if is_random_iter or state is None else detach(state)
                l, state = train_batch(X, Y, state)
                losses.append(l.detach())
                self.batches_done, self.state = i + 1, state
                if self.after_batch is not None and self.after_batch(self, upcoming is None):
                    self.stopped = True
                    return None
            i += 1
        if i <= skip:
            raise ValueError("the cursor is after batch %d, but this epoch has %d" % (skip, i))
        # Every batch has the same number of targets, so the mean of the batch means is the
        # mean per character: one sum, one read, divided in float64 on any NumPy (NEP 50).
        return float(nd.add_n(*losses).asscalar()) / len(losses)


def run_epoch(train_batch, begin_state, corpus_indices, batch_size, num_steps,
              ctx, is_random_iter=False, cursor=None):
    """Train for one pass over the corpus; return the mean of the batches' losses.

    ``train_batch(X, Y, state) -> (l, state)`` trains on one minibatch
    (``X``, ``Y`` of shape ``(batch_size, num_steps)``) and returns its loss,
    an NDArray of shape ``(1,)`` on ``ctx``, and the new state;
    ``begin_state()`` returns a fresh zero state. Random sampling starts
    every batch from a fresh state; consecutive sampling starts once per
    epoch and carries the state, detached, from batch to batch (truncated
    back-propagation through time). With mean batch losses the result is the
    mean cross-entropy per predicted character, in nats. A ``cursor``
    (:class:`EpochCursor`) starts the epoch after a given batch, runs hooks
    around each, and may stop it after any (the result is then None); the
    losses are summed in one order, so a resumed epoch's mean is bit for bit
    the uninterrupted one's.
    """
    sampler = data_iter_random if is_random_iter else data_iter_consecutive
    return (cursor or EpochCursor())._follow(
        sampler(corpus_indices, batch_size, num_steps, ctx), train_batch, begin_state,
        is_random_iter)


def check_training_args(prefixes, char_to_idx, rates=None, corpus_indices=None, **sizes):
    """Raise ValueError for a bad size, rate, corpus id or prefix.

    ``sizes`` must be positive integers and ``rates`` (name to value)
    positive finite numbers; with ``corpus_indices`` and a ``vocab_size``,
    every id must be a vocabulary id. Called before training so a typo fails
    at once, not after the last epoch.
    """
    for name, value in sizes.items():
        check_positive_int(name, value)
    for name, value in (rates or {}).items():
        check_number(name, value)
    if corpus_indices is not None and "vocab_size" in sizes:
        check_ids("corpus_indices", corpus_indices, sizes["vocab_size"])
    for prefix in check_prefixes(prefixes):
        check_prefix(prefix, char_to_idx)


def check_finite(mean_loss, epoch, lr):
    """Raise FloatingPointError naming the epoch if ``mean_loss`` is NaN or infinite."""
    if not math.isfinite(mean_loss):
        raise FloatingPointError(
            "training diverged: the loss became %s in epoch %d; try a smaller "
            "learning rate than lr=%g (or a smaller clipping_theta)"
            % (mean_loss, epoch, lr))


def epoch_line(epoch, train_ppl, seconds, val_ppl=None):
    """Return the chapter's progress line, ``epoch E, perplexity P, time T sec``.

    With ``val_ppl``, ``, validation perplexity V`` comes before the time.
    """
    line = 'epoch %d, perplexity %f' % (epoch, train_ppl)
    if val_ppl is not None:
        line += ', validation perplexity %f' % val_ppl
    return line + ', time %.2f sec' % seconds


@dataclasses.dataclass
class EpochEnd:
    """What the callbacks of :func:`fit` get after each epoch.

    ``seconds`` is the epoch's training time. A callback may fill in
    ``val_perplexity`` for the callbacks after it, and set ``stop`` to end
    training after this epoch (early stopping).
    """

    epoch: int
    perplexity: float
    seconds: float
    val_perplexity: Optional[float] = None
    stop: bool = False


def fit(train_one_epoch, num_epochs, lr, callbacks=(), first_epoch=1):
    """Train epochs ``first_epoch`` to ``num_epochs``; return their perplexities.

    ``train_one_epoch()`` returns the epoch's mean loss, or None if it
    stopped within the epoch (training ends there); after every epoch
    each callback is called, in order, with an :class:`EpochEnd`; training
    ends early after an epoch whose ``stop`` a callback set. ``lr`` is only
    named in the error. An epoch whose loss is NaN or infinite raises
    ``FloatingPointError`` naming it, before any callback sees it.
    """
    history = []
    for epoch in range(first_epoch, num_epochs + 1):
        start = time.time()
        mean_loss = train_one_epoch()
        if mean_loss is None:
            break
        check_finite(mean_loss, epoch, lr)
        end = EpochEnd(epoch, perplexity(mean_loss), time.time() - start)
        history.append(end.perplexity)
        for callback in callbacks:
            callback(end)
        if end.stop:
            break
    return history


def print_progress(pred_period, prefixes, predict, write=print):
    """Return the callback that prints the chapter's lines every ``pred_period`` epochs.

    It writes ``epoch E, perplexity P, time T sec`` (with the validation
    perplexity, if a callback before it set one) and then `` - `` followed
    by ``predict(prefix)`` for each prefix.
    """
    prefixes = check_prefixes(prefixes)

    def callback(end):
        if end.epoch % pred_period == 0:
            write(epoch_line(end.epoch, end.perplexity, end.seconds, end.val_perplexity))
            for prefix in prefixes:
                write(' - ' + predict(prefix))
    return callback
