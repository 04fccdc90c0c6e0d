"""The embedding input: RNNModel against the NumPy reference, the host step, checkpoints, CLI.

Planted bugs these tests were seen to catch: the host step's first-layer table
built from ``Wx.T`` alone, ignoring the embedding (test_host_step_equals_the_gluon_step);
``hybrid_forward`` using one-hot input although an embedding exists (its shapes then
fail: test_same_output_as_the_numpy_reference); describe_model leaving out
``embed_size`` (test_checkpoint_round_trip); the saved model description's
embed_size not checked (test_a_bad_embed_size_in_a_checkpoint_is_named);
``embed_size`` left out of _FIXED_ON_RESUME (test_cli_trains_and_resumes_with_an_embedding).
"""

import json

import mxnet as mx
import numpy as np
import pytest
from clitools import TINY, one_error_line, run
from mxnet import init, nd
from numpy_rnn import run_model

import d2l_rnn
from d2l_rnn.generation import gluon_feed, host_step
from d2l_rnn.model import build_model, describe_model

V, E = 13, 6
KINDS = [("rnn", "relu"), ("rnn", "tanh"), ("gru", "relu"), ("lstm", "relu")]


def _model(ctx, cell, activation="relu", num_layers=2, bidirectional=False, embed_size=E):
    model = build_model(cell, 10, num_layers, V, activation=activation,
                        bidirectional=bidirectional, embed_size=embed_size)
    model.initialize(ctx=ctx, init=init.Normal(0.4))
    model(nd.zeros((1, 1), ctx=ctx), model.begin_state(batch_size=1, ctx=ctx))
    rng = np.random.RandomState(1)
    for name, param in model.collect_params().items():
        if name.endswith("bias"):  # Gluon starts biases at zero: make them count
            param.set_data(nd.array(rng.normal(0, 0.5, param.shape), ctx=ctx))
    return model


def test_one_hot_stays_the_default(ctx):
    model = build_model("rnn", 8, 1, V)
    assert model.embedding is None and model.embed_size is None
    assert d2l_rnn.RNNModel(mx.gluon.rnn.RNN(8), V).embedding is None
    assert describe_model(_model(ctx, "rnn", embed_size=None))["embed_size"] is None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_same_output_as_the_numpy_reference(kind, bidirectional, ctx):
    model = _model(ctx, *kind, bidirectional=bidirectional)
    assert model.embedding.weight.shape == (V, E)
    ids = np.random.RandomState(2).randint(0, V, (3, 7))
    state = model.begin_state(batch_size=3, ctx=ctx)
    state = [nd.array(np.random.RandomState(3).normal(0, 0.3, s.shape), ctx=ctx) for s in state]
    output, new_state = model(nd.array(ids, ctx=ctx), state)
    expected, expected_state = run_model(model, ids, [s.asnumpy() for s in state])
    np.testing.assert_allclose(output.asnumpy(), expected, rtol=1e-4, atol=1e-5)
    for got, want in zip(new_state, expected_state):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, True)])
def test_host_step_equals_the_gluon_step(kind, num_layers, bidirectional, ctx):
    model = _model(ctx, *kind, num_layers=num_layers, bidirectional=bidirectional)
    assert host_step.supports(model, ctx)
    gluon_step, fast = gluon_feed(model, ctx), host_step.host_feed(model, ctx)
    for ids in [[1, 2, 3, 4, 5], [6], [12], [0, 11, 9], [7]]:
        expected, got = gluon_step(ids).asnumpy(), fast(ids)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


def test_greedy_text_matches_the_numpy_reference(ctx):
    from numpy_rnn import greedy
    model = _model(ctx, "lstm")
    idx_to_char = [chr(ord("a") + i) for i in range(V)]
    char_to_idx = {c: i for i, c in enumerate(idx_to_char)}
    text = d2l_rnn.predict_rnn_gluon("abc", 20, model, V, ctx, idx_to_char, char_to_idx)
    assert text == "".join(idx_to_char[i] for i in greedy(model, [0, 1, 2], 20))


def test_checkpoint_round_trip(tmp_path, ctx):
    model = _model(ctx, "gru")
    vocab = [chr(ord("a") + i) for i in range(V)]
    loaded = d2l_rnn.load_checkpoint(d2l_rnn.save_checkpoint(tmp_path, model, vocab), ctx)
    assert loaded.architecture["embed_size"] == E
    assert loaded.model.embedding.weight.shape == (V, E)
    X = nd.array([[3, 1, 4, 1, 5]], ctx=ctx)
    np.testing.assert_array_equal(
        model(X, model.begin_state(batch_size=1, ctx=ctx))[0].asnumpy(),
        loaded.model(X, loaded.model.begin_state(batch_size=1, ctx=ctx))[0].asnumpy())


@pytest.mark.parametrize("value", [0, -3, 2.5, "8", True, 1 << 17])
def test_a_bad_embed_size_in_a_checkpoint_is_named(value, tmp_path, ctx):
    from test_checkpoint_safety import _rewrite
    vocab = [chr(ord("a") + i) for i in range(V)]
    snapshot = d2l_rnn.save_checkpoint(tmp_path, _model(ctx, "rnn"), vocab)
    hparams = json.loads((snapshot / "hparams.json").read_text())
    hparams["model"]["embed_size"] = value
    _rewrite(snapshot, "hparams.json", json.dumps(hparams).encode())
    with pytest.raises(d2l_rnn.CheckpointError, match="model.embed_size must be null"):
        d2l_rnn.load_checkpoint(snapshot)


def test_a_checkpoint_without_embed_size_is_one_hot(tmp_path, ctx):
    # Checkpoints written before the embedding existed have no embed_size.
    from test_checkpoint_safety import _rewrite
    vocab = [chr(ord("a") + i) for i in range(V)]
    snapshot = d2l_rnn.save_checkpoint(tmp_path, _model(ctx, "rnn", embed_size=None), vocab)
    hparams = json.loads((snapshot / "hparams.json").read_text())
    del hparams["model"]["embed_size"]
    _rewrite(snapshot, "hparams.json", json.dumps(hparams).encode())
    assert d2l_rnn.load_checkpoint(snapshot, ctx).model.embedding is None


def test_cli_trains_and_resumes_with_an_embedding(capsys, tmp_path, ctx):
    args = ["train", *TINY, "--embed-size", "8", "--num-chars", "2000", "--pred-period", "1"]
    first = run(capsys, *args, "--epochs", "1", "--save", tmp_path)
    assert first.code == 0, first.err
    loaded = d2l_rnn.load_checkpoint(tmp_path, ctx)
    assert loaded.architecture["embed_size"] == 8 and loaded.settings["embed_size"] == 8
    line = one_error_line(run(capsys, "train", "--resume", tmp_path, "--epochs", "2",
                              "--embed-size", "4"))
    assert "--embed-size 4 does not match the checkpoint's 8" in line
    resumed = run(capsys, "train", "--resume", tmp_path, "--epochs", "2")
    assert resumed.code == 0 and resumed.out.startswith("epoch 2,"), resumed.err
