"""The "floor" row: the model's own forward and backward passes, nothing else.

A training loop around :class:`d2l_rnn.RNNModel` cannot be faster than the
model itself: one-hot encoding, Gluon's fused RNN layer and the dense
output, forward and backward, once per minibatch. This module times exactly
that on the epoch's real minibatches (no loss, no clipping, no update, no
state carried over) so the benchmark can say how much of an epoch is
overhead.
"""

import time

from d2l_rnn import RNNModel, data_iter_consecutive
from d2l_rnn._compat import import_mxnet

__all__ = ["floor_epoch", "model_floor"]


def floor_epoch(model, batches, state):
    """Forward and backward over ``batches``; return the seconds it took.

    Measured from an idle engine to an idle engine (``nd.waitall()`` before
    and after), with ``state`` as every batch's initial state.
    """
    mx = import_mxnet()
    mx.nd.waitall()
    start = time.time()
    for X in batches:
        with mx.autograd.record():
            output, _ = model(X, state)
        output.backward()   # head gradient of ones: the same backward work
    mx.nd.waitall()
    return time.time() - start


def model_floor(make_rnn_layer, corpus_indices, vocab_size, num_epochs, num_steps,
                batch_size, ctx):
    """Time forward + backward of the hybridized model over each epoch's batches.

    Parameters
    ----------
    make_rnn_layer : callable
        ``make_rnn_layer() -> gluon.rnn layer``, e.g. ``lambda: rnn.RNN(256)``.
    corpus_indices, vocab_size, num_steps, batch_size, ctx
        As for training.
    num_epochs : int
        How many passes to time.

    Returns
    -------
    list of float
        Seconds per pass (see :func:`floor_epoch`).
    """
    mx = import_mxnet()
    model = RNNModel(make_rnn_layer(), vocab_size)
    model.initialize(ctx=ctx, init=mx.init.Normal(0.01))
    model.hybridize(static_alloc=True)   # as train_and_predict_rnn_gluon does
    state = model.begin_state(batch_size=batch_size, ctx=ctx)
    seconds = []
    for _ in range(num_epochs):
        # The batches are cut before the clock starts: that is data work.
        batches = [X for X, _ in data_iter_consecutive(corpus_indices, batch_size,
                                                       num_steps, ctx)]
        seconds.append(floor_epoch(model, batches, state))
    return seconds
