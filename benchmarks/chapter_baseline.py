"""Chapter 6.6's Gluon training loop as printed: row 2 of the benchmark, and the tests' book.

This is the book's loop, the one copy of it in the project: the benchmark
keeps it as the baseline every other row is compared with, and the tests
(``tests/test_book_loop.py``, ``tests/test_dropin.py``) train with it to
check the library against the book. It is deliberately *not* optimised: an
imperative ``nn.Block`` model (one engine call per operator, no cached
graph), ``asscalar()`` on the loss of every batch and a gradient clipping
that reads the norm back to Python before deciding whether to rescale. Each
of those reads makes Python wait until MXNet's asynchronous engine has
finished everything queued so far.

The lines the printed listing lost are restored (the prediction's ``else``
branch, ``l.backward()``, ``trainer.step(1)``, the body of
``for s in state:`` and the trailing ``char_to_idx`` arguments). The
printed ``s.detach()``, whose result is thrown away, is kept as printed (the
state goes into the next batch undetached) unless ``fix_detach=True``
keeps its result, as the library does. The loop calls the two ``d2l``
functions the book's calls, ``d2l.data_iter_consecutive`` and
``d2l.grad_clipping``, on a ``d2l`` it is given: by default :data:`CHAPTER_D2L`
(the library's sampler, which draws the book's batches, and the book's
clipping); the tests pass ``d2l_rnn`` itself, or the book's restated sampler.
The corpus comes from :func:`d2l_rnn.load_data_time_machine`, so every row
of the benchmark trains on the same ids.
"""

import math
import time
import types

from d2l_rnn import data_iter_consecutive
from d2l_rnn._compat import import_mxnet

__all__ = ["ChapterRNNModel", "chapter_grad_clipping", "chapter_predict_rnn_gluon",
           "CHAPTER_D2L", "chapter_train_epoch", "chapter_train_and_predict_rnn_gluon"]

_mx = import_mxnet()
_nd, _nn = _mx.nd, _mx.gluon.nn


class ChapterRNNModel(_nn.Block):
    """The chapter's ``RNNModel``: an imperative ``nn.Block``.

    ``model(inputs, state)`` takes ``(batch_size, num_steps)`` ids and returns
    ``(output, state)`` with ``output`` of shape ``(num_steps * batch_size,
    vocab_size)``, time-major, like :class:`d2l_rnn.RNNModel`.
    """

    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super().__init__(**kwargs)
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.dense = _nn.Dense(vocab_size)

    def forward(self, inputs, state):
        X = _nd.one_hot(inputs.T, self.vocab_size)   # (num_steps, batch_size, vocab_size)
        Y, state = self.rnn(X, state)
        # Y.shape is read on the host: an imperative block can do that, a
        # hybridized one could not.
        output = self.dense(Y.reshape((-1, Y.shape[-1])))
        return output, state

    def begin_state(self, *args, **kwargs):
        return self.rnn.begin_state(*args, **kwargs)


def chapter_grad_clipping(params, theta, ctx):
    """The book's clipping (saved in its ``d2l`` package in 6.5).

    The squared norms are summed one parameter at a time and the total is
    read back with ``asscalar()``: a host sync in every batch, and the
    ``if`` on a Python float is why the book's version needs it.
    """
    norm = _nd.array([0], ctx)
    for param in params:
        norm += (param.grad ** 2).sum()
    norm = norm.sqrt().asscalar()
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm


def chapter_predict_rnn_gluon(prefix, num_chars, model, vocab_size, ctx, idx_to_char,
                              char_to_idx):
    """The chapter's prediction: one forward call and one host read per character."""
    state = model.begin_state(batch_size=1, ctx=ctx)
    output = [char_to_idx[prefix[0]]]
    for t in range(num_chars + len(prefix) - 1):
        X = _nd.array([output[-1]], ctx=ctx).reshape((1, 1))
        Y, state = model(X, state)
        if t < len(prefix) - 1:
            output.append(char_to_idx[prefix[t + 1]])
        else:
            output.append(int(Y.argmax(axis=1).asscalar()))
    return ''.join([idx_to_char[i] for i in output])


# The book's d2l functions the loop calls: the sampler (the library's draws
# the book's batches, tests/test_book_samplers.py) and the book's clipping.
CHAPTER_D2L = types.SimpleNamespace(data_iter_consecutive=data_iter_consecutive,
                                    grad_clipping=chapter_grad_clipping)


def chapter_train_epoch(model, trainer, loss, corpus_indices, batch_size, num_steps,
                        clipping_theta, ctx, d2l=CHAPTER_D2L, fix_detach=False):
    """One epoch of the chapter's loop (its body, unchanged); return ``(l_sum, n)``.

    A function of its own so the benchmark can time epochs the same way in
    every row. ``d2l`` and ``fix_detach``: see the module docstring.
    """
    autograd = _mx.autograd
    l_sum, n = 0.0, 0
    data_iter = d2l.data_iter_consecutive(corpus_indices, batch_size, num_steps, ctx)
    state = model.begin_state(batch_size=batch_size, ctx=ctx)
    for X, Y in data_iter:
        if fix_detach:
            state = [s.detach() for s in state]
        else:
            for s in state:
                s.detach()  # as printed: the detached copy is discarded
        with autograd.record():
            output, state = model(X, state)
            y = Y.T.reshape((-1,))
            l = loss(output, y).mean()
        l.backward()
        params = [p.data() for p in model.collect_params().values()]
        d2l.grad_clipping(params, clipping_theta, ctx)
        trainer.step(1)  # the loss is a mean already
        l_sum += l.asscalar() * y.size
        n += y.size
    return l_sum, n


def chapter_train_and_predict_rnn_gluon(model, num_hiddens, vocab_size, ctx,
                                        corpus_indices, idx_to_char, char_to_idx,
                                        num_epochs, num_steps, lr, clipping_theta,
                                        batch_size, pred_period, pred_len, prefixes, *,
                                        d2l=CHAPTER_D2L, fix_detach=False):
    """The chapter's training function; prints its lines (``d2l``, ``fix_detach``: see above).

    Returns
    -------
    list of float
        The perplexity of every epoch (the book returns nothing).
    """
    gluon = _mx.gluon
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    model.initialize(ctx=ctx, force_reinit=True, init=_mx.init.Normal(0.01))
    trainer = gluon.Trainer(model.collect_params(), 'sgd',
                            {'learning_rate': lr, 'momentum': 0, 'wd': 0})
    perplexities = []
    for epoch in range(num_epochs):
        start = time.time()
        l_sum, n = chapter_train_epoch(model, trainer, loss, corpus_indices, batch_size,
                                       num_steps, clipping_theta, ctx, d2l, fix_detach)
        perplexities.append(math.exp(l_sum / n))
        if (epoch + 1) % pred_period == 0:
            print('epoch %d, perplexity %f, time %.2f sec' % (
                epoch + 1, perplexities[-1], time.time() - start))
            for prefix in prefixes:
                print(' -', chapter_predict_rnn_gluon(
                    prefix, pred_len, model, vocab_size, ctx, idx_to_char, char_to_idx))
    return perplexities
