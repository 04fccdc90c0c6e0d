"""RNNModel: its numbers against a NumPy computation for every cell, hybridization, bad input."""

import numpy as np
import pytest
from modeltools import initialize_with_biases
from mxnet import init, nd
from mxnet.gluon import rnn
from numpy_rnn import run_model

import d2l_rnn
from d2l_rnn.model import build_model, describe_model

V = 7

_CELLS = {"rnn-relu": lambda **kw: rnn.RNN(6, **kw),  # Gluon's default, the chapter's layer
          "rnn-tanh": lambda **kw: rnn.RNN(6, activation="tanh", **kw),
          "gru": lambda **kw: rnn.GRU(6, **kw), "lstm": lambda **kw: rnn.LSTM(6, **kw)}
# Every cell, one and two layers, each direction.
LAYERS = {"%s-%d-layer%s" % (cell, layers, "-bidirectional" if bi else ""):
          (lambda make=make, layers=layers, bi=bi: make(num_layers=layers, bidirectional=bi))
          for cell, make in _CELLS.items() for layers in (1, 2) for bi in (False, True)}


def _model(layer, hybridize=False):
    """Every parameter drawn, biases too, large enough that every gate and the state matter."""
    model = initialize_with_biases(d2l_rnn.RNNModel(layer, V), 0.5)
    if hybridize:
        model.hybridize()
    return model


def _random_state(model, batch_size):
    return [nd.random.normal(shape=s.shape) for s in model.begin_state(batch_size=batch_size)]


@pytest.mark.parametrize("hybridize", [False, True], ids=["imperative", "hybridized"])
@pytest.mark.parametrize("name", LAYERS)
def test_output_and_state_match_numpy(name, hybridize):
    model = _model(LAYERS[name](), hybridize)
    batch_size, num_steps = 3, 5
    X = np.random.randint(0, V, size=(batch_size, num_steps))
    state = _random_state(model, batch_size)
    output, new_state = model(nd.array(X), state)
    expected_output, expected_state = run_model(model, X, [s.asnumpy() for s in state])
    assert output.shape == (num_steps * batch_size, V)
    np.testing.assert_allclose(output.asnumpy(), expected_output, rtol=1e-5, atol=1e-5)
    assert len(new_state) == len(expected_state)
    for got, want in zip(new_state, expected_state):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cell,activation", [("rnn", "relu"), ("rnn", "tanh"), ("gru", None),
                                             ("lstm", None)])
def test_build_model_matches_numpy(cell, activation):
    # build_model's default activation is ReLU, the chapter's (Gluon's default).
    kwargs = {"activation": activation} if activation == "tanh" else {}
    model = initialize_with_biases(build_model(cell, 5, 2, V, **kwargs), 0.5)
    assert describe_model(model)["activation"] == activation
    X = np.random.randint(0, V, size=(2, 4))
    state = _random_state(model, 2)
    output, _ = model(nd.array(X), state)
    expected, _ = run_model(model, X, [s.asnumpy() for s in state])
    np.testing.assert_allclose(output.asnumpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("bad", [0, -1, 3.5])
def test_bad_vocab_size(bad):
    with pytest.raises(ValueError, match="vocab_size"):
        d2l_rnn.RNNModel(rnn.RNN(4), bad)


def test_rejects_ntc_layout():
    with pytest.raises(ValueError, match="TNC"):
        d2l_rnn.RNNModel(rnn.RNN(4, layout="NTC"), V)


@pytest.mark.parametrize("hybridize", [False, True])
def test_dropout_acts_in_training_only_and_is_described(hybridize):
    from mxnet import autograd

    from d2l_rnn.model import build_model, describe_model, model_from_description
    model = build_model("lstm", 32, 2, V, dropout=0.5)
    model.initialize(init.Normal(1.0))
    plain = model_from_description(dict(describe_model(model), dropout=0.0, output_dropout=0.0))
    plain.initialize()
    X = nd.array(np.random.randint(0, V, size=(3, 4)))
    state = model.begin_state(batch_size=3)
    model(X, state), plain(X, state)  # the deferred shapes
    for p, q in zip(model.collect_params().values(), plain.collect_params().values()):
        q.set_data(p.data())
    if hybridize:
        model.hybridize()
    np.testing.assert_allclose(model(X, state)[0].asnumpy(), plain(X, state)[0].asnumpy(),
                               rtol=1e-5)
    with autograd.record():  # training mode: dropped units change the output
        dropped = model(X, state)[0].asnumpy()
    assert np.abs(dropped - plain(X, state)[0].asnumpy()).max() > 0.1
    described = describe_model(model)
    assert (described["dropout"], described["output_dropout"]) == (0.5, 0.5)
    assert describe_model(model_from_description(described)) == described
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\)"):
        build_model("gru", 8, 1, V, dropout=1.0)
