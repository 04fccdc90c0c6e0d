"""Training: gradient clipping, one epoch, and the chapter's training function.

The loop keeps MXNet's asynchronous engine busy: the loss is summed on the
device and the clipping scale is computed on the device, so Python never
waits for a result inside an epoch. The one host sync per epoch reads the
summed loss (and is where a NaN is noticed).
"""

import functools
import math
import time

from ._checks import check_positive_int, check_prefix
from ._compat import import_mxnet
from .devices import context_list
from .prediction import predict_rnn_gluon
from .samplers import data_iter_consecutive, data_iter_random

__all__ = ["grad_clipping", "perplexity", "make_trainer", "train_epoch",
           "period_lines", "train_and_predict_rnn_gluon"]


def _grad(param):
    # Accept NDArrays with an attached gradient (the book passes p.data())
    # as well as gluon Parameters, whose grad() is a method.
    grad = param.grad
    return grad() if callable(grad) else grad


def grad_clipping(params, theta, ctx):
    """Rescale the gradients of ``params`` so their global L2 norm is <= theta.

    Parameters
    ----------
    params : list of NDArray
        Arrays with attached gradients (``[p.data() for p in ...]``).
    theta : float
        Largest allowed norm.
    ctx : mxnet.Context
        Device of the gradients (kept for the book's signature).

    Returns
    -------
    NDArray, shape ``(1,)``
        The global norm before clipping, left on the device: reading it
        (``.asscalar()``) is a host sync the training loop avoids.
    """
    nd = import_mxnet().nd
    grads = [_grad(p) for p in params]
    norm = nd.sqrt(nd.add_n(*[(g * g).sum() for g in grads]))
    # min(1, theta / norm) on the device: no branch on a host value, so no
    # sync. A zero norm gives theta / 0 = inf and a scale of 1.
    scale = nd.minimum(theta / norm, 1.0)
    for g in grads:
        nd.broadcast_mul(g, scale, out=g)
    return norm


def perplexity(mean_loss):
    """``exp(mean_loss)``, or ``inf`` where that overflows a float."""
    try:
        return math.exp(mean_loss)
    except OverflowError:
        return math.inf


def make_trainer(model, lr, kvstore="device", update_on_kvstore=None):
    """Plain SGD as in the chapter: no momentum, no weight decay.

    ``kvstore`` and ``update_on_kvstore`` are passed to ``gluon.Trainer``;
    they matter only for several devices or machines (:mod:`.parallel`).
    """
    gluon = import_mxnet().gluon
    return gluon.Trainer(model.collect_params(), "sgd",
                         {"learning_rate": lr, "momentum": 0, "wd": 0},
                         kvstore=kvstore, update_on_kvstore=update_on_kvstore)


def train_epoch(model, trainer, corpus_indices, batch_size, num_steps,
                clipping_theta, ctx, is_random_iter=False):
    """Train ``model`` for one pass over the corpus; return the mean loss.

    With consecutive sampling the hidden state is carried from batch to
    batch (detached); with random sampling it is reset for every batch.

    Returns
    -------
    float
        Mean cross-entropy per predicted character (nats); its exponential
        is the perplexity.
    """
    mx = import_mxnet()
    loss = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    sampler = data_iter_random if is_random_iter else data_iter_consecutive
    l_sum, n, state, params = mx.nd.zeros((1,), ctx=ctx), 0, None, None
    for X, Y in sampler(corpus_indices, batch_size, num_steps, ctx):
        if is_random_iter or state is None:
            state = model.begin_state(batch_size=batch_size, ctx=ctx)
        else:
            # Truncated BPTT: the state keeps its value but must not link
            # this batch's graph to the previous ones. detach() returns a
            # new array, so the result has to be assigned.
            state = [s.detach() for s in state]
        with mx.autograd.record():
            output, state = model(X, state)
            y = Y.T.reshape((-1,))
            l = loss(output, y).mean()
        l.backward()
        if params is None:  # after the first forward: shapes may be deferred
            params = [p.data(ctx) for p in model.collect_params().values()]
        grad_clipping(params, clipping_theta, ctx)
        # The loss is already a mean, so the gradient needs no rescaling.
        trainer.step(1)
        l_sum += l * y.size
        n += y.size
    return l_sum.asscalar() / n


def _check_finite(mean_loss, epoch, lr):
    if not math.isfinite(mean_loss):
        raise FloatingPointError(
            "training diverged: the loss became %s in epoch %d; try a smaller "
            "learning rate than lr=%g (or a smaller clipping_theta)"
            % (mean_loss, epoch, lr))


def period_lines(epoch, train_ppl, seconds, model, ctx, idx_to_char, char_to_idx,
                 prefixes, pred_len, val_ppl=None):
    """Return the chapter's lines for the end of a period, without printing them.

    ``epoch E, perplexity P, time T sec`` (with ``, validation perplexity V``
    before the time when ``val_ppl`` is given), then `` - `` and
    ``pred_len`` greedily predicted characters for each prefix.
    """
    line = 'epoch %d, perplexity %f' % (epoch, train_ppl)
    if val_ppl is not None:
        line += ', validation perplexity %f' % val_ppl
    samples = [' - ' + predict_rnn_gluon(prefix, pred_len, model, len(idx_to_char), ctx,
                                         idx_to_char, char_to_idx) for prefix in prefixes]
    return [line + ', time %.2f sec' % seconds] + samples


def train_and_predict_rnn_gluon(model, num_hiddens, vocab_size, ctx,
                                corpus_indices, idx_to_char, char_to_idx,
                                num_epochs, num_steps, lr, clipping_theta,
                                batch_size, pred_period, pred_len, prefixes,
                                *, kvstore="device"):
    """Train ``model`` as in the chapter and print its progress.

    Parameters are the chapter's: the model is (re)initialised with
    ``Normal(0.01)``, trained with SGD at learning rate ``lr`` on
    consecutive minibatches of shape ``(batch_size, num_steps)`` with the
    gradient norm clipped to ``clipping_theta``. Every ``pred_period``
    epochs it prints ``epoch E, perplexity P, time T sec`` and, for each
    prefix, `` - `` and ``pred_len`` generated characters.

    ``ctx`` may be one context or a list (``try_all_gpus()``): with several,
    the batch rows are split across them (:mod:`.parallel`). ``kvstore``
    is ``'device'`` (one machine) or ``'dist_sync'`` / ``'dist_async'``
    for a job started by a launcher (:mod:`.distributed`); the returned and
    printed perplexities are then those of the whole job.

    Returns
    -------
    list of float
        The perplexity of every epoch (``num_epochs`` values).

    Raises
    ------
    ValueError
        For non-positive sizes, a corpus too short for one batch, or a
        prefix the vocabulary cannot encode (checked before training).
    FloatingPointError
        If the loss becomes NaN or infinite.
    """
    mx = import_mxnet()
    for name, value in [("num_epochs", num_epochs), ("num_steps", num_steps),
                        ("batch_size", batch_size), ("pred_period", pred_period),
                        ("vocab_size", vocab_size)]:
        check_positive_int(name, value)
    for prefix in prefixes:  # fail before training, not after it
        check_prefix(prefix, char_to_idx)
    ctxs = context_list(ctx)
    model.initialize(ctx=ctxs, force_reinit=True, init=mx.init.Normal(0.01))
    model.hybridize(static_alloc=True)
    if len(ctxs) == 1 and kvstore == "device":
        run_epoch = functools.partial(
            train_epoch, model, make_trainer(model, lr), corpus_indices,
            batch_size, num_steps, clipping_theta, ctxs[0])
    else:
        from .parallel import DataParallel  # lazy: parallel imports this module
        run_epoch = DataParallel(model, lr, corpus_indices, batch_size, num_steps,
                                 clipping_theta, ctxs, kvstore).train_epoch
    ctx = ctxs[0]  # prediction needs one device; every copy is the same
    history = []
    for epoch in range(1, num_epochs + 1):
        start = time.time()
        mean_loss = run_epoch()
        _check_finite(mean_loss, epoch, lr)
        history.append(perplexity(mean_loss))
        if epoch % pred_period == 0:
            for line in period_lines(epoch, history[-1], time.time() - start, model, ctx,
                                     idx_to_char, char_to_idx, prefixes, pred_len):
                print(line)
    return history
