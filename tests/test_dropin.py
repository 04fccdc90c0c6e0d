"""Book-style code: `import d2l_rnn as d2l`, positional calls as the chapter makes them.

The chapter's own loop (the project's one copy, ``benchmarks.chapter_baseline``)
runs with ``d2l`` being this library, and trains as it does with the book's
``d2l`` (its sampler restated in ``book_reference``, its clipping): the same
perplexities, so the library's ``RNNModel``, ``data_iter_consecutive`` and
``grad_clipping`` are drop-ins for the book's.
"""

import contextlib
import io
import random

import mxnet as mx
import pytest
from book_reference import BOOK_D2L
from modeltools import shaped
from mxnet import nd
from mxnet.gluon import rnn

import d2l_rnn as d2l
from benchmarks.chapter_baseline import ChapterRNNModel, chapter_train_and_predict_rnn_gluon


def _chapter_loop(model, helpers, data, ctx, num_epochs=3):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = data
    random.seed(5), mx.random.seed(5)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        history = chapter_train_and_predict_rnn_gluon(
            model, 64, vocab_size, ctx, corpus_indices, idx_to_char, char_to_idx, num_epochs,
            35, 1e2, 1e-2, 32, num_epochs, 10, ['traveller'], d2l=helpers)
    return history, printed.getvalue()


def test_the_chapters_loop_on_d2l_rnn_trains_as_on_the_books_d2l():
    """Bugs it catches: a helper that is not a drop-in (other batches, another clipping,
    a model computing something else) changes the chapter's perplexities."""
    data = d2l.load_data_time_machine()
    ctx = d2l.try_gpu()
    vocab_size = data[3]
    ours = shaped(d2l.RNNModel(rnn.RNN(64), vocab_size), 32, 35, ctx)
    book = shaped(ChapterRNNModel(rnn.RNN(64), vocab_size), 32, 35, ctx)
    our_history, our_lines = _chapter_loop(ours, d2l, data, ctx)
    book_history, book_lines = _chapter_loop(book, BOOK_D2L, data, ctx)
    assert our_history == pytest.approx(book_history, rel=1e-5)
    assert our_lines.splitlines()[1] == book_lines.splitlines()[1]   # the sample after it
    text = d2l.predict_rnn_gluon('traveller', 10, ours, vocab_size, ctx, data[2], data[1])
    assert len(text) == 19 and text.startswith('traveller')


def test_the_samplers_answer_as_the_books():
    corpus_indices = d2l.load_data_time_machine()[0]
    X, Y = next(d2l.data_iter_random(corpus_indices, 2, 3, d2l.try_gpu()))
    assert X.shape == Y.shape == (2, 3)
    assert nd.sum(X[:, 1:] != Y[:, :-1]).asscalar() == 0
