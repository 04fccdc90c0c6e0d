"""What every training function of the book shares: the epoch and the schedule.

The Gluon loop (chapter 6.6) and the from-scratch loop (chapter 6.5) differ
only in how one minibatch is trained. Everything around that lives here once:
choosing the sampler, resetting or detaching the hidden state, summing the
loss, checking the arguments, and printing the chapter's lines every
``pred_period`` epochs.

The loss is summed on the device, so an epoch has exactly one host sync (the
read of that sum at its end). Everything before it is queued on MXNet's
asynchronous engine while Python runs ahead.
"""

import math
import time

from ._checks import check_positive_int, check_prefix
from ._compat import import_mxnet
from .samplers import data_iter_consecutive, data_iter_random

__all__ = ["perplexity", "check_training_args", "run_epoch", "check_finite", "epoch_line",
           "fit"]


def perplexity(mean_loss):
    """``exp(mean_loss)``, or ``inf`` where that overflows a float."""
    try:
        return math.exp(mean_loss)
    except OverflowError:
        return math.inf


def check_training_args(prefixes, char_to_idx, **sizes):
    """Raise ValueError for a non-positive size or an unencodable prefix.

    Called before training so a typo fails at once, not after the last epoch.
    """
    for name, value in sizes.items():
        check_positive_int(name, value)
    for prefix in prefixes:
        check_prefix(prefix, char_to_idx)


def run_epoch(train_batch, begin_state, corpus_indices, batch_size, num_steps,
              ctx, is_random_iter=False):
    """Train for one pass over the corpus; return the mean loss per character.

    Parameters
    ----------
    train_batch : callable
        ``train_batch(X, Y, state) -> (l, state)``: trains on one minibatch
        (``X``, ``Y`` of shape ``(batch_size, num_steps)``) and returns its
        mean loss as an NDArray of shape ``(1,)`` (left on the device) and
        the new hidden state.
    begin_state : callable
        ``begin_state() -> state``, a fresh zero state for ``batch_size``.
    corpus_indices, batch_size, num_steps, ctx
        As for the samplers.
    is_random_iter : bool
        Random sampling starts every batch from a fresh state; consecutive
        sampling starts once per epoch and carries the state (detached)
        from batch to batch.

    Returns
    -------
    float
        Mean cross-entropy per predicted character, in nats.
    """
    nd = import_mxnet().nd
    sampler = data_iter_random if is_random_iter else data_iter_consecutive
    losses, state = [], None
    for X, Y in sampler(corpus_indices, batch_size, num_steps, ctx):
        if is_random_iter or state is None:
            state = begin_state()
        else:
            # Truncated BPTT: keep the state's value, cut its history.
            # detach() returns a new array, so the result must be kept.
            state = type(state)(s.detach() for s in state)
        l, state = train_batch(X, Y, state)
        losses.append(l.detach())
    # Every batch has the same number of targets, so the mean of the batch
    # means is the mean per character: one sum for the epoch, one read.
    return nd.add_n(*losses).asscalar() / len(losses)


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


def fit(train_one_epoch, predict, num_epochs, lr, pred_period, prefixes):
    """Run ``num_epochs`` epochs and print the chapter's progress lines.

    Every ``pred_period`` epochs prints ``epoch E, perplexity P, time T sec``
    (``T``: that epoch's training time) and then `` - `` followed by
    ``predict(prefix)`` for each prefix.

    Parameters
    ----------
    train_one_epoch : callable
        ``train_one_epoch() -> float`` mean loss of the epoch.
    predict : callable
        ``predict(prefix) -> str``.
    lr : float
        Only named in the error raised when training diverges.

    Returns
    -------
    list of float
        The perplexity of every epoch.

    Raises
    ------
    FloatingPointError
        When an epoch's loss is NaN or infinite (naming the epoch).
    """
    history = []
    for epoch in range(1, num_epochs + 1):
        start = time.time()
        mean_loss = train_one_epoch()
        check_finite(mean_loss, epoch, lr)
        history.append(perplexity(mean_loss))
        if epoch % pred_period == 0:
            print(epoch_line(epoch, history[-1], time.time() - start))
            for prefix in prefixes:
                print(' -', predict(prefix))
    return history
