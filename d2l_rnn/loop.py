"""The training engine every path shares: the loss, one epoch, and the schedule.

The Gluon loop (chapter 6.6) on one device, on several, or as one worker of
a kvstore job, the from-scratch loop (chapter 6.5) and the command line's
resumable run differ only in how one minibatch is trained and in what
happens after an epoch. Everything else lives here, once:

* :func:`sequence_loss`, the one loss every path trains and evaluates with;
* :func:`run_epoch`: choose the sampler, reset or detach the hidden state,
  train each batch, sum the loss;
* :func:`fit`: the epochs, a divergence check, and callbacks after each
  epoch (:func:`print_progress` prints the chapter's lines; the command line
  adds validation, a progress bar and checkpoints).

The loss is summed on the device, so an epoch has exactly one host sync (the
read of that sum at its end). Everything before it is queued on MXNet's
asynchronous engine while Python runs ahead.
"""

import dataclasses
import math
import time
from typing import Optional

import numpy as np

from ._compat import import_mxnet
from ._util.checks import check_number, check_positive_int, check_prefix
from .samplers import data_iter_consecutive, data_iter_random

__all__ = ["sequence_loss", "perplexity", "bits_per_char", "detach", "run_epoch",
           "check_training_args", "check_finite", "epoch_line", "EpochEnd", "fit", "print_progress"]


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


def bits_per_char(mean_loss):
    """The mean cross-entropy per character in bits: ``mean_loss`` (nats) / ln 2.

    The number the character-level literature compares models by;
    ``bits_per_char(math.log(p))`` is ``log2(p)`` for a perplexity ``p``.
    """
    return mean_loss / math.log(2.0)


def detach(state):
    """Return ``state`` (an array, or lists and tuples of them) cut from its history.

    ``NDArray.detach()`` returns a new array, so the result must be kept.
    """
    if isinstance(state, (list, tuple)):
        return type(state)(detach(s) for s in state)
    return state.detach()


def run_epoch(train_batch, begin_state, corpus_indices, batch_size, num_steps,
              ctx, is_random_iter=False):
    """Train for one pass over the corpus; return the mean of the batches' losses.

    ``train_batch(X, Y, state) -> (l, state)`` trains on one minibatch
    (``X``, ``Y`` of shape ``(batch_size, num_steps)``) and returns its loss,
    an NDArray of shape ``(1,)`` on ``ctx``, and the new state;
    ``begin_state()`` returns a fresh zero state. Random sampling starts
    every batch from a fresh state; consecutive sampling starts once per
    epoch and carries the state, detached, from batch to batch (truncated
    back-propagation through time). With mean batch losses the result is the
    mean cross-entropy per predicted character, in nats.
    """
    nd = import_mxnet().nd
    sampler = data_iter_random if is_random_iter else data_iter_consecutive
    losses, state = [], None
    for X, Y in sampler(corpus_indices, batch_size, num_steps, ctx):
        state = begin_state() if is_random_iter or state is None else detach(state)
        l, state = train_batch(X, Y, state)
        losses.append(l.detach())
    # Every batch has the same number of targets, so the mean of the batch
    # means is the mean per character: one sum for the epoch, one read.
    return nd.add_n(*losses).asscalar() / len(losses)


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
        ids = np.asarray(corpus_indices)
        if ids.size and (ids.dtype.kind not in "iu" or ids.min() < 0
                         or ids.max() >= sizes["vocab_size"]):
            raise ValueError("corpus_indices must be ids from 0 to vocab_size - 1 = %d, got "
                             "values from %s to %s" % (sizes["vocab_size"] - 1, ids.min(),
                                                       ids.max()))
    for prefix in prefixes:
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

    ``train_one_epoch()`` returns the epoch's mean loss; after every epoch
    each callback is called, in order, with an :class:`EpochEnd`; training
    ends early after an epoch whose ``stop`` a callback set. ``lr`` is only
    named in the error. An epoch whose loss is NaN or infinite raises
    ``FloatingPointError`` naming it, before any callback sees it.
    """
    history = []
    for epoch in range(first_epoch, num_epochs + 1):
        start = time.time()
        mean_loss = train_one_epoch()
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
    def callback(end):
        if end.epoch % pred_period == 0:
            write(epoch_line(end.epoch, end.perplexity, end.seconds, end.val_perplexity))
            for prefix in prefixes:
                write(' - ' + predict(prefix))
    return callback
