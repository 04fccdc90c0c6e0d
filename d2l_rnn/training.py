"""Training with Gluon: gradient clipping, one epoch, the chapter's function.

The loop keeps MXNet's asynchronous engine busy. Python never waits inside
an epoch: the loss is summed on the device (see :mod:`d2l_rnn.loop`) and the
clipping scale ``min(1, theta / norm)`` is computed on the device instead of
being read back to decide on the host whether to clip; with the chapter's
trainer the scale goes straight into the SGD update
(:mod:`d2l_rnn.sgd_trainer`). The model is hybridized with static
allocation, so its forward pass is one cached graph.
"""

from ._compat import import_mxnet
from .clipping import grad_clipping
from .devices import context_list
from .loop import check_training_args, epoch_line, fit, perplexity, run_epoch
from .prediction import predict_rnn_gluon
from .sgd_trainer import ClippedSGDTrainer

__all__ = ["grad_clipping", "perplexity", "make_trainer", "train_epoch",
           "period_lines", "train_and_predict_rnn_gluon"]

def make_trainer(model, lr, kvstore="device", update_on_kvstore=None):
    """Plain SGD as in the chapter: no momentum, no weight decay.

    Returns a :class:`~d2l_rnn.sgd_trainer.ClippedSGDTrainer`, a
    ``gluon.Trainer`` whose ``clipped_step`` :func:`train_epoch` uses.
    ``kvstore`` and ``update_on_kvstore`` are passed to ``gluon.Trainer``;
    they matter only for several devices or machines (:mod:`.parallel`).
    """
    return ClippedSGDTrainer(model.collect_params(), lr, kvstore=kvstore,
                             update_on_kvstore=update_on_kvstore)


def _gluon_batch_trainer(model, trainer, clipping_theta, ctx):
    """Return ``train_batch(X, Y, state) -> (l, state)`` for :func:`run_epoch`."""
    mx = import_mxnet()
    params = []  # filled after the first forward: shapes may be deferred

    def train_batch(X, Y, state):
        y = Y.T.reshape((-1,))   # time-major, like the output rows
        with mx.autograd.record():
            output, state = model(X, state)
            # The mean cross-entropy that SoftmaxCrossEntropyLoss()(...).mean()
            # gives, in four operators instead of six. (The fused
            # softmax_cross_entropy operator is slower here: log_softmax has
            # a oneDNN kernel, it has none.)
            l = -mx.nd.pick(mx.nd.log_softmax(output), y).mean()
        l.backward()
        # The loss is already a mean, so the gradient needs no rescaling.
        if isinstance(trainer, ClippedSGDTrainer):
            trainer.clipped_step(clipping_theta)
        else:
            if not params:  # after the first forward: shapes may be deferred
                params.extend(p.data(ctx) for p in model.collect_params().values())
            grad_clipping(params, clipping_theta, ctx)
            trainer.step(1)
        return l, state

    return train_batch


def train_epoch(model, trainer, corpus_indices, batch_size, num_steps,
                clipping_theta, ctx, is_random_iter=False):
    """Train ``model`` for one pass over the corpus; return the mean loss.

    With consecutive sampling the hidden state is carried from batch to
    batch (detached); with random sampling it is reset for every batch.
    Gradients are clipped to a global norm of ``clipping_theta`` and then
    ``trainer.step(1)`` is called (the loss is a mean already).

    Returns
    -------
    float
        Mean cross-entropy per predicted character (nats); its exponential
        is the perplexity. Reading it is the epoch's only host sync.
    """
    return run_epoch(
        _gluon_batch_trainer(model, trainer, clipping_theta, ctx),
        lambda: model.begin_state(batch_size=batch_size, ctx=ctx),
        corpus_indices, batch_size, num_steps, ctx, is_random_iter)


def period_lines(epoch, train_ppl, seconds, model, ctx, idx_to_char, char_to_idx,
                 prefixes, pred_len, val_ppl=None):
    """Return the chapter's lines for the end of a period, without printing them.

    ``epoch E, perplexity P, time T sec`` (with ``, validation perplexity V``
    before the time when ``val_ppl`` is given), then `` - `` and
    ``pred_len`` greedily predicted characters for each prefix.
    """
    samples = [' - ' + predict_rnn_gluon(prefix, pred_len, model, len(idx_to_char), ctx,
                                         idx_to_char, char_to_idx) for prefix in prefixes]
    return [epoch_line(epoch, train_ppl, seconds, val_ppl)] + samples


def train_and_predict_rnn_gluon(model, num_hiddens, vocab_size, ctx,
                                corpus_indices, idx_to_char, char_to_idx,
                                num_epochs, num_steps, lr, clipping_theta,
                                batch_size, pred_period, pred_len, prefixes,
                                *, kvstore="device"):
    """Train ``model`` as in the chapter and print its progress.

    Parameters are the chapter's: the model is (re)initialised with
    ``Normal(0.01)``, hybridized with static allocation, and trained with
    SGD at learning rate ``lr`` on consecutive minibatches of shape
    ``(batch_size, num_steps)`` with the gradient norm clipped to
    ``clipping_theta``. Every ``pred_period`` epochs it prints ``epoch E,
    perplexity P, time T sec`` and, for each prefix, `` - `` and
    ``pred_len`` generated characters.

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
    check_training_args(prefixes, char_to_idx, num_epochs=num_epochs,
                        num_steps=num_steps, batch_size=batch_size,
                        pred_period=pred_period, vocab_size=vocab_size)
    ctxs = context_list(ctx)
    model.initialize(ctx=ctxs, force_reinit=True, init=mx.init.Normal(0.01))
    model.hybridize(static_alloc=True)
    if len(ctxs) == 1 and kvstore == "device":
        trainer = make_trainer(model, lr)

        def train_one_epoch():
            return train_epoch(model, trainer, corpus_indices, batch_size, num_steps,
                               clipping_theta, ctxs[0])
    else:
        from .parallel import DataParallel  # lazy: parallel imports this module
        train_one_epoch = DataParallel(model, lr, corpus_indices, batch_size, num_steps,
                                       clipping_theta, ctxs, kvstore).train_epoch
    # Prediction needs one device; every copy of the parameters is the same.
    return fit(
        train_one_epoch,
        lambda prefix: predict_rnn_gluon(prefix, pred_len, model, vocab_size,
                                         ctxs[0], idx_to_char, char_to_idx),
        num_epochs, lr, pred_period, prefixes)
