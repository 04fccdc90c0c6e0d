"""A seeded ``train_and_predict_rnn_gluon`` trains as the book's chapter 6.6 loop does.

The book's side is the chapter's Gluon loop written plainly here, with its
``detach`` fixed (the state is reassigned to its detached copy), on
minibatches from the book's sampler (:mod:`book_reference`), with the
chapter's ``RNNModel`` and ``grad_clipping`` as kept in
:mod:`benchmarks.chapter_baseline`. Both sides start from the same
parameters: the models' shapes are known before training, so each
``initialize(force_reinit=True)`` draws them at once, in the same order,
from the same MXNet seed.
"""

import math
import random

import mxnet as mx
import numpy as np
import pytest
from book_reference import book_data_iter_consecutive
from mxnet import autograd, gluon, nd
from mxnet.gluon import rnn

import d2l_rnn
from benchmarks.chapter_baseline import ChapterRNNModel, chapter_grad_clipping

NUM_HIDDENS, NUM_STEPS, BATCH_SIZE, LR, THETA = 32, 35, 32, 1e2, 1e-2
SEED = 11


def book_train(model, corpus_indices, ctx, num_epochs):
    """The chapter's training loop (no printing); return the perplexity of each epoch."""
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    model.initialize(ctx=ctx, force_reinit=True, init=mx.init.Normal(0.01))
    trainer = gluon.Trainer(model.collect_params(), 'sgd',
                            {'learning_rate': LR, 'momentum': 0, 'wd': 0})
    perplexities = []
    for _ in range(num_epochs):
        l_sum, n = 0.0, 0
        state = model.begin_state(batch_size=BATCH_SIZE, ctx=ctx)
        for X, Y in book_data_iter_consecutive(corpus_indices, BATCH_SIZE, NUM_STEPS):
            X, Y = nd.array(X, ctx), nd.array(Y, ctx)
            state = [s.detach() for s in state]  # the book's line, with its result kept
            with autograd.record():
                output, state = model(X, state)
                y = Y.T.reshape((-1,))
                l = loss(output, y).mean()
            l.backward()
            params = [p.data() for p in model.collect_params().values()]
            chapter_grad_clipping(params, THETA, ctx)
            trainer.step(1)
            l_sum += l.asscalar() * y.size
            n += y.size
        perplexities.append(math.exp(l_sum / n))
    return perplexities


def _shaped(model, vocab_size, ctx):
    """``model`` with its parameter shapes known (one forward pass on a dummy batch)."""
    model.initialize(ctx=ctx)
    model(nd.zeros((BATCH_SIZE, NUM_STEPS), ctx),
          model.begin_state(batch_size=BATCH_SIZE, ctx=ctx))
    return model


def _params(model):
    return [p.data().asnumpy() for p in model.collect_params().values()]


def _train_both(time_machine, ctx, num_epochs):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    ours = _shaped(d2l_rnn.RNNModel(rnn.RNN(NUM_HIDDENS), vocab_size), vocab_size, ctx)
    book = _shaped(ChapterRNNModel(rnn.RNN(NUM_HIDDENS), vocab_size), vocab_size, ctx)
    random.seed(SEED), mx.random.seed(SEED)
    our_history = d2l_rnn.train_and_predict_rnn_gluon(
        ours, NUM_HIDDENS, vocab_size, ctx, corpus_indices, idx_to_char, char_to_idx,
        num_epochs, NUM_STEPS, LR, THETA, BATCH_SIZE, 1000, 10, ["traveller"])
    our_state = random.getstate()
    random.seed(SEED), mx.random.seed(SEED)
    book_history = book_train(book, corpus_indices, ctx, num_epochs)
    assert random.getstate() == our_state, "the two runs drew differently from random"
    return (ours, our_history), (book, book_history)


def test_both_sides_start_from_the_same_parameters(time_machine, ctx):
    _, _, _, vocab_size = time_machine
    starts = []
    for model in (d2l_rnn.RNNModel(rnn.RNN(NUM_HIDDENS), vocab_size),
                  ChapterRNNModel(rnn.RNN(NUM_HIDDENS), vocab_size)):
        _shaped(model, vocab_size, ctx)
        mx.random.seed(SEED)
        model.initialize(ctx=ctx, force_reinit=True, init=mx.init.Normal(0.01))
        starts.append(_params(model))
    assert [p.shape for p in starts[0]] == [p.shape for p in starts[1]]
    for ours, book in zip(*starts):
        np.testing.assert_array_equal(ours, book)


def test_one_epoch_gives_the_books_parameters_and_perplexity(time_machine, ctx):
    (ours, our_history), (book, book_history) = _train_both(time_machine, ctx, 1)
    assert our_history == pytest.approx(book_history, rel=1e-5)
    for mine, theirs in zip(_params(ours), _params(book)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-5)


def test_three_epochs_give_the_books_perplexities(time_machine, ctx):
    (_, our_history), (_, book_history) = _train_both(time_machine, ctx, 3)
    assert len(our_history) == 3
    assert our_history == pytest.approx(book_history, rel=1e-5)
