"""Several contexts on one machine: same numbers as one context, and bad input."""

import re

import mxnet as mx
import numpy as np
import pytest
from mxnet.gluon import rnn

import d2l_rnn
from d2l_rnn.optimizer import make_trainer
from d2l_rnn.training import make_epoch, train_epoch

TWO = [mx.cpu(0), mx.cpu(1)]


def _train(time_machine, ctx, cell=rnn.RNN, seed=3, num_epochs=3, lr=1e2, theta=1e-2, **kw):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    d2l_rnn.set_seed(seed)
    model = d2l_rnn.RNNModel(cell(24), vocab_size)
    history = d2l_rnn.train_and_predict_rnn_gluon(
        model, 24, vocab_size, ctx, corpus_indices, idx_to_char, char_to_idx,
        num_epochs, 35, lr, theta, kw.pop("batch_size", 32), 1, 8, ["traveller"], **kw)
    return model, history


def _params(model, ctx):
    # In order: the two models' parameter names differ by their prefix.
    return [p.data(ctx).asnumpy() for p in model.collect_params().values()]


@pytest.mark.parametrize("cell", [rnn.RNN, rnn.LSTM])
def test_two_contexts_match_one(cell, time_machine, capsys):
    one, history_one = _train(time_machine, mx.cpu(), cell)
    out_one = capsys.readouterr().out
    two, history_two = _train(time_machine, TWO, cell)
    out_two = capsys.readouterr().out
    # Float tolerance only: the sums run in another order.
    np.testing.assert_allclose(history_two, history_one, rtol=1e-5)
    assert history_two != _train(time_machine, TWO, cell, seed=4)[1]
    # Every copy is the same after training, and equal to the one-device model.
    reference = _params(one, mx.cpu())
    for ctx in TWO:
        for value, expected in zip(_params(two, ctx), reference):
            np.testing.assert_allclose(value, expected, rtol=1e-4, atol=1e-6)
    # The same printed lines: one epoch line and one sample per epoch.
    epoch_line = r"epoch \d+, perplexity \d+\.\d{6}, time \d+\.\d\d sec"
    for out in (out_one, out_two):
        lines = out.splitlines()
        assert len(lines) == 6
        assert all(re.fullmatch(epoch_line, line) for line in lines[::2])
        assert all(line.startswith(" - traveller") for line in lines[1::2])


def test_loss_scaling_without_clipping(time_machine):
    # With the chapter's settings clipping is always active and would hide a
    # wrongly scaled gradient; a huge theta turns it off.
    _, history_one = _train(time_machine, mx.cpu(), lr=1.0, theta=1e6, num_epochs=2)
    _, history_two = _train(time_machine, TWO, lr=1.0, theta=1e6, num_epochs=2)
    np.testing.assert_allclose(history_two, history_one, rtol=1e-5)
    assert history_one[-1] < history_one[0]


def test_uneven_split_matches_one(time_machine):
    # 32 rows over 3 devices: 10, 10 and 12 rows.
    _, history_one = _train(time_machine, mx.cpu(), num_epochs=2)
    _, history_three = _train(time_machine, [mx.cpu(i) for i in range(3)], num_epochs=2)
    np.testing.assert_allclose(history_three, history_one, rtol=1e-5)


def test_random_sampling_matches_one(time_machine):
    corpus_indices, _, _, vocab_size = time_machine
    losses = []
    for ctxs in ([mx.cpu()], TWO):
        d2l_rnn.set_seed(5)
        model = d2l_rnn.RNNModel(rnn.GRU(16), vocab_size)
        model.initialize(ctx=ctxs, init=mx.init.Normal(0.01))
        if len(ctxs) == 1:
            losses.append([train_epoch(model, make_trainer(model, 1e2), corpus_indices, 32, 35,
                                       1e-2, ctxs[0], is_random_iter=True) for _ in range(2)])
        else:
            runner = make_epoch(model, 1e2, corpus_indices, 32, 35, 1e-2, ctxs,
                                is_random_iter=True)
            losses.append([runner() for _ in range(2)])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
    assert losses[0][1] < losses[0][0]


def test_one_element_list_trains_exactly_as_one_context(time_machine):
    _, history = _train(time_machine, mx.cpu(), num_epochs=2)
    _, history_list = _train(time_machine, [mx.cpu()], num_epochs=2)
    assert history_list == history


def test_more_devices_than_rows(time_machine, capsys):
    with pytest.raises(ValueError, match=r"at least one row: use batch_size >= 3"):
        _train(time_machine, [mx.cpu(i) for i in range(3)], batch_size=2)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("kvstore,ctx,error,match", [
    ("local", TWO, ValueError, "kvstore must be one of"),
    ("dist_async", TWO, ValueError, "one context per worker"),
    ("dist_sync", [mx.cpu()], RuntimeError,
     "DMLC_ROLE, DMLC_PS_ROOT_URI.*d2l_rnn.distributed.local"),
])
def test_bad_kvstore(kvstore, ctx, error, match, time_machine, monkeypatch, capsys):
    for name in ("DMLC_ROLE", "DMLC_PS_ROOT_URI", "DMLC_PS_ROOT_PORT", "DMLC_NUM_SERVER",
                 "DMLC_NUM_WORKER"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(error, match=match):
        _train(time_machine, ctx, kvstore=kvstore)
    assert capsys.readouterr().out == ""
