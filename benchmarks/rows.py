"""What each row of the training benchmark trains, and the per-epoch function it is timed by.

A row is a function ``train(data, num_epochs, ctx, settings)`` that trains
(or, for the floor, only times) the chapter's model with the chapter's
settings and returns the per-epoch perplexities (None for the floor), and an
epoch function ``(module, attribute)`` that the row's training function
calls once per epoch through the module, so that wrapping it
(:func:`benchmarks.common.epoch_timer`) times every epoch the same way in
every row. ``settings`` is :data:`benchmarks.common.CHAPTER`, or a copy with
another ``pred_period``.

Rows: ``scratch`` (chapter 6.5's model, :func:`d2l_rnn.train_and_predict_rnn`),
``chapter`` (6.6 as printed, :mod:`benchmarks.chapter_baseline`),
``shipped`` (:func:`d2l_rnn.train_and_predict_rnn_gluon`), ``torch`` (the same
model in PyTorch, :mod:`benchmarks.torch_rnn`) and ``floor``
(:mod:`benchmarks.floor`). Each runs in a process of its own
(:mod:`benchmarks.row_process`); :mod:`benchmarks.profile` runs the MXNet
rows in its own process, one at a time.
"""

import importlib

import d2l_rnn
from d2l_rnn._compat import import_mxnet

__all__ = ["RUNNERS", "EPOCH_FUNCTIONS", "MXNET_ROWS", "epoch_function"]


def _scratch(data, num_epochs, ctx, c):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = data
    get_params = d2l_rnn.make_get_params(vocab_size, c["num_hiddens"], vocab_size, ctx)
    return d2l_rnn.train_and_predict_rnn(
        d2l_rnn.rnn, get_params, d2l_rnn.init_rnn_state, c["num_hiddens"], vocab_size,
        ctx, corpus_indices, idx_to_char, char_to_idx, False, num_epochs,
        c["num_steps"], c["lr"], c["clipping_theta"], c["batch_size"],
        c["pred_period"], c["pred_len"], c["prefixes"])


def _gluon_args(data, num_epochs, ctx, c):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = data
    return (c["num_hiddens"], vocab_size, ctx, corpus_indices, idx_to_char, char_to_idx,
            num_epochs, c["num_steps"], c["lr"], c["clipping_theta"], c["batch_size"],
            c["pred_period"], c["pred_len"], c["prefixes"])


def _chapter(data, num_epochs, ctx, c):
    from .chapter_baseline import ChapterRNNModel, chapter_train_and_predict_rnn_gluon
    model = ChapterRNNModel(import_mxnet().gluon.rnn.RNN(c["num_hiddens"]), data[3])
    return chapter_train_and_predict_rnn_gluon(model, *_gluon_args(data, num_epochs, ctx, c))


def _shipped(data, num_epochs, ctx, c):
    model = d2l_rnn.RNNModel(import_mxnet().gluon.rnn.RNN(c["num_hiddens"]), data[3])
    return d2l_rnn.train_and_predict_rnn_gluon(model, *_gluon_args(data, num_epochs, ctx, c))


def _torch(data, num_epochs, ctx, c):
    from .torch_rnn import train_torch
    corpus_indices, char_to_idx, idx_to_char, vocab_size = data
    return train_torch(corpus_indices, vocab_size, idx_to_char, char_to_idx, c["num_hiddens"],
                       num_epochs, c["num_steps"], c["lr"], c["clipping_theta"],
                       c["batch_size"], c["pred_period"], c["pred_len"], c["prefixes"])


def _floor(data, num_epochs, ctx, c):
    from .floor import model_floor
    rnn = import_mxnet().gluon.rnn
    model_floor(lambda: rnn.RNN(c["num_hiddens"]), data[0], data[3], num_epochs,
                c["num_steps"], c["batch_size"], ctx)
    return None  # no training, no perplexity


RUNNERS = {"scratch": _scratch, "chapter": _chapter, "shipped": _shipped, "torch": _torch,
           "floor": _floor}

# (module, attribute) of each row's per-epoch function.
EPOCH_FUNCTIONS = {
    "scratch": ("d2l_rnn.scratch", "run_epoch"),
    "chapter": ("benchmarks.chapter_baseline", "chapter_train_epoch"),
    "shipped": ("d2l_rnn.training", "run_epoch"),
    "torch": ("benchmarks.torch_rnn", "train_epoch"),
    "floor": ("benchmarks.floor", "floor_epoch"),
}
MXNET_ROWS = ("scratch", "chapter", "shipped", "floor")


def epoch_function(name):
    """``(module, attribute)`` of row ``name``'s per-epoch function, the module imported."""
    module, attribute = EPOCH_FUNCTIONS[name]
    return importlib.import_module(module), attribute
