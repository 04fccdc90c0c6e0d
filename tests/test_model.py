"""RNNModel: output layout, state shapes for every cell type, hybridization."""

import numpy as np
import pytest
from mxnet import nd
from mxnet.gluon import rnn

import d2l_rnn

V = 7


def _model(layer, hybridize=False):
    model = d2l_rnn.RNNModel(layer, V)
    model.initialize()
    if hybridize:
        model.hybridize()
    return model


def test_chapter_shapes():
    layer = rnn.RNN(256)
    state = layer.begin_state(batch_size=2)
    assert len(state) == 1 and state[0].shape == (1, 2, 256)
    layer.initialize()
    Y, state_new = layer(nd.random.uniform(shape=(35, 2, V)), state)
    assert (Y.shape, len(state_new), state_new[0].shape) == ((35, 2, 256), 1, (1, 2, 256))


@pytest.mark.parametrize("hybridize", [False, True])
@pytest.mark.parametrize("make_layer,n_states,layers,dirs", [
    (lambda: rnn.RNN(16), 1, 1, 1),
    (lambda: rnn.GRU(16, num_layers=2), 1, 2, 1),
    (lambda: rnn.LSTM(16), 2, 1, 1),
    (lambda: rnn.LSTM(16, num_layers=3, bidirectional=True), 2, 3, 2),
    (lambda: rnn.RNN(16, num_layers=2, bidirectional=True, activation="tanh"), 1, 2, 2),
])
def test_shapes_for_every_cell(make_layer, n_states, layers, dirs, hybridize):
    model = _model(make_layer(), hybridize)
    batch_size, num_steps = 3, 5
    state = model.begin_state(batch_size=batch_size)
    X = nd.array(np.random.randint(0, V, size=(batch_size, num_steps)))
    output, state = model(X, state)
    assert output.shape == (num_steps * batch_size, V)
    assert len(state) == n_states
    assert all(s.shape == (layers * dirs, batch_size, 16) for s in state)


def test_output_rows_are_time_major():
    # Row t * batch_size + b of the output belongs to step t of example b:
    # compare against running each example alone.
    model = _model(rnn.GRU(8))
    X = nd.array(np.random.randint(0, V, size=(4, 6)))
    output, _ = model(X, model.begin_state(batch_size=4))
    output = output.asnumpy().reshape(6, 4, V)
    for b in range(4):
        alone, _ = model(X[b:b + 1], model.begin_state(batch_size=1))
        np.testing.assert_allclose(output[:, b], alone.asnumpy(), rtol=1e-5, atol=1e-6)


def test_hybridized_equals_imperative():
    model = _model(rnn.LSTM(8))
    X = nd.array(np.random.randint(0, V, size=(2, 5)))
    before, _ = model(X, model.begin_state(batch_size=2))
    model.hybridize(static_alloc=True)
    after, _ = model(X, model.begin_state(batch_size=2))
    np.testing.assert_allclose(before.asnumpy(), after.asnumpy(), rtol=1e-5, atol=1e-6)


def test_default_rnn_is_relu_like_the_chapter():
    assert rnn.RNN(4)._mode == "rnn_relu"


@pytest.mark.parametrize("bad", [0, -1, 3.5])
def test_bad_vocab_size(bad):
    with pytest.raises(ValueError, match="vocab_size"):
        d2l_rnn.RNNModel(rnn.RNN(4), bad)


def test_rejects_ntc_layout():
    with pytest.raises(ValueError, match="TNC"):
        d2l_rnn.RNNModel(rnn.RNN(4, layout="NTC"), V)


@pytest.mark.parametrize("hybridize", [False, True])
def test_dropout_acts_in_training_only_and_is_described(hybridize):
    from mxnet import autograd, init

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
