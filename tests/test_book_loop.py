"""A seeded ``train_and_predict_rnn_gluon`` trains as the book's chapter 6.6 loop does.

The book's side is the chapter's Gluon loop, the project's one copy of it in
:mod:`benchmarks.chapter_baseline`, with its ``detach`` fixed (the state is
reassigned to its detached copy), on minibatches from the book's sampler and
with the book's clipping (:data:`book_reference.BOOK_D2L`), around the
chapter's ``RNNModel``. Both sides start from the same parameters: the
models' shapes are known before training, so each
``initialize(force_reinit=True)`` draws them at once, in the same order, from
the same MXNet seed. Every cell the library offers trains alike.
"""

import contextlib
import io
import random

import mxnet as mx
import numpy as np
import pytest
from book_reference import BOOK_D2L
from modeltools import shaped
from mxnet.gluon import rnn

import d2l_rnn
from benchmarks.chapter_baseline import ChapterRNNModel, chapter_train_and_predict_rnn_gluon

NUM_HIDDENS, NUM_STEPS, BATCH_SIZE, LR, THETA = 32, 35, 32, 1e2, 1e-2
SEED = 11
CELLS = {"rnn": rnn.RNN, "gru": rnn.GRU, "lstm": rnn.LSTM}


def book_train(model, corpus_indices, ctx, num_epochs):
    """The chapter's training loop (nothing printed); return the perplexity of each epoch."""
    with contextlib.redirect_stdout(io.StringIO()):
        return chapter_train_and_predict_rnn_gluon(
            model, NUM_HIDDENS, model.vocab_size, ctx, corpus_indices, [], {}, num_epochs,
            NUM_STEPS, LR, THETA, BATCH_SIZE, num_epochs + 1, 0, [], d2l=BOOK_D2L,
            fix_detach=True)


def _params(model):
    return [p.data().asnumpy() for p in model.collect_params().values()]


def _train_both(time_machine, ctx, num_epochs, cell=rnn.RNN):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    ours = shaped(d2l_rnn.RNNModel(cell(NUM_HIDDENS), vocab_size), BATCH_SIZE, NUM_STEPS, ctx)
    book = shaped(ChapterRNNModel(cell(NUM_HIDDENS), vocab_size), BATCH_SIZE, NUM_STEPS, ctx)
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
        shaped(model, BATCH_SIZE, NUM_STEPS, ctx)
        mx.random.seed(SEED)
        model.initialize(ctx=ctx, force_reinit=True, init=mx.init.Normal(0.01))
        starts.append(_params(model))
    assert [p.shape for p in starts[0]] == [p.shape for p in starts[1]]
    for ours, book in zip(*starts):
        np.testing.assert_array_equal(ours, book)


@pytest.mark.parametrize("cell", CELLS)
def test_one_epoch_gives_the_books_parameters_and_perplexity(cell, time_machine, ctx):
    """Bugs it catches: any change to what an epoch computes for any cell (the loss, its
    mean, the clipping, the update, the state carried or detached, the batches)."""
    (ours, our_history), (book, book_history) = _train_both(time_machine, ctx, 1, CELLS[cell])
    assert our_history == pytest.approx(book_history, rel=1e-5)
    for mine, theirs in zip(_params(ours), _params(book)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-5)


def test_three_epochs_give_the_books_perplexities(time_machine, ctx):
    (_, our_history), (_, book_history) = _train_both(time_machine, ctx, 3)
    assert len(our_history) == 3
    assert our_history == pytest.approx(book_history, rel=1e-5)
