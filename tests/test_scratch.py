"""Chapter 6.5's helpers and from-scratch RNN: shapes, contracts, bad input, training."""

import re

import numpy as np
import pytest
from mxnet import autograd, nd

import d2l_rnn as d2l

PREFIXES = ["traveller", "time traveller"]


def test_to_onehot_gives_one_array_per_step():
    X = nd.array([[0, 3, 1], [2, 2, 4]])
    inputs = d2l.to_onehot(X, 5)
    assert isinstance(inputs, list) and len(inputs) == 3
    for t, x in enumerate(inputs):
        assert x.shape == (2, 5)
        np.testing.assert_array_equal(x.asnumpy(), np.eye(5)[X[:, t].asnumpy().astype(int)])


def test_to_onehot_single_step_is_still_a_list():
    inputs = d2l.to_onehot(nd.array([[1], [0]]), 3)
    assert isinstance(inputs, list) and len(inputs) == 1 and inputs[0].shape == (2, 3)


@pytest.mark.parametrize("size", [0, -1, 2.5])
def test_to_onehot_bad_size(size):
    with pytest.raises(ValueError, match="size"):
        d2l.to_onehot(nd.array([[1, 2]]), size)


def test_to_onehot_needs_a_matrix():
    with pytest.raises(ValueError, match=r"\(batch_size, num_steps\)"):
        d2l.to_onehot(nd.array([1, 2, 3]), 4)


def test_sgd_updates_in_place():
    param = nd.array([1.0, -2.0, 3.0])
    param.attach_grad()
    with autograd.record():
        y = (param * nd.array([2.0, 4.0, -6.0])).sum()
    y.backward()
    same_array = param
    d2l.sgd([param], 0.5, 4)
    assert param is same_array
    np.testing.assert_allclose(param.asnumpy(), [1 - 0.25, -2 - 0.5, 3 + 0.75], rtol=1e-6)


@pytest.mark.parametrize("batch_size", [0, -2, 1.5])
def test_sgd_bad_batch_size(batch_size):
    param = nd.ones(2)
    param.attach_grad()
    with pytest.raises(ValueError, match="batch_size"):
        d2l.sgd([param], 0.1, batch_size)


def test_get_params_shapes_init_and_gradients(ctx):
    get_params = d2l.make_get_params(43, 256, 40, ctx)
    params = get_params()
    assert [p.shape for p in params] == [(43, 256), (256, 256), (256,), (256, 40), (40,)]
    W_xh, W_hh, b_h, W_hq, b_q = (p.asnumpy() for p in params)
    assert not b_h.any() and not b_q.any()
    assert 0.009 < W_hh.std() < 0.011 and abs(W_hh.mean()) < 1e-3
    assert all(p.grad is not None and p.grad.shape == p.shape for p in params)
    assert not np.array_equal(get_params()[1].asnumpy(), W_hh), "each call draws anew"


@pytest.mark.parametrize("sizes,name", [((0, 4, 4), "num_inputs"), ((4, -1, 4), "num_hiddens"),
                                        ((4, 4, 2.0), "num_outputs")])
def test_get_params_bad_sizes(sizes, name, ctx):
    with pytest.raises(ValueError, match=name):
        d2l.make_get_params(*sizes, ctx)


def test_init_rnn_state(ctx):
    state = d2l.init_rnn_state(3, 8, ctx)
    assert isinstance(state, tuple) and len(state) == 1
    assert state[0].shape == (3, 8) and not state[0].asnumpy().any()


def test_rnn_computes_the_tanh_recurrence(ctx):
    params = d2l.make_get_params(5, 4, 6, ctx)()
    for p in params:  # non-zero biases so that they are checked too
        p[:] = nd.random.normal(shape=p.shape)
    X = nd.array([[0, 4, 2], [1, 1, 3]])
    outputs, (H,) = d2l.rnn(d2l.to_onehot(X, 5), d2l.init_rnn_state(2, 4, ctx), params)
    W_xh, W_hh, b_h, W_hq, b_q = (p.asnumpy() for p in params)
    h = np.zeros((2, 4))
    assert len(outputs) == 3
    for t in range(3):
        x = np.eye(5)[X[:, t].asnumpy().astype(int)]
        h = np.tanh(x @ W_xh + h @ W_hh + b_h)
        np.testing.assert_allclose(outputs[t].asnumpy(), h @ W_hq + b_q, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(H.asnumpy(), h, rtol=1e-4, atol=1e-5)


def _one_char_at_a_time(prefix, num_chars, params, vocab_size, ctx, idx_to_char, char_to_idx):
    """The book's prediction algorithm: one rnn call per character."""
    state = d2l.init_rnn_state(1, params[1].shape[0], ctx)
    output = [char_to_idx[prefix[0]]]
    for t in range(num_chars + len(prefix) - 1):
        X = d2l.to_onehot(nd.array([[output[-1]]], ctx=ctx), vocab_size)
        Y, state = d2l.rnn(X, state, params)
        if t < len(prefix) - 1:
            output.append(char_to_idx[prefix[t + 1]])
        else:
            output.append(int(Y[0].argmax(axis=1).asscalar()))
    return "".join(idx_to_char[i] for i in output)


@pytest.mark.parametrize("prefix", ["t", "time traveller"])
def test_predict_rnn_matches_the_book_algorithm(prefix, time_machine, ctx):
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    params = d2l.make_get_params(vocab_size, 16, vocab_size, ctx)()
    for p in params:  # large weights, so the prediction depends on the whole prefix
        p[:] = nd.random.normal(shape=p.shape)
    got = d2l.predict_rnn(prefix, 15, d2l.rnn, params, d2l.init_rnn_state, 16, vocab_size,
                          ctx, idx_to_char, char_to_idx)
    assert got == _one_char_at_a_time(prefix, 15, params, vocab_size, ctx, idx_to_char,
                                      char_to_idx)
    assert got.startswith(prefix) and len(got) == len(prefix) + 15


@pytest.mark.parametrize("prefix,match", [("Time", "'T'"), ("", "non-empty")])
def test_predict_rnn_bad_prefix(prefix, match, time_machine, ctx):
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    params = d2l.make_get_params(vocab_size, 8, vocab_size, ctx)()
    with pytest.raises(ValueError, match=match):
        d2l.predict_rnn(prefix, 3, d2l.rnn, params, d2l.init_rnn_state, 8, vocab_size, ctx,
                        idx_to_char, char_to_idx)


class _Spy:
    """Wraps init_rnn_state and rnn to record how the training loop uses them."""

    def __init__(self):
        self.inits = 0          # training-sized states created
        self.states_in = []     # H given to rnn, per training batch
        self.states_out = []    # H returned by rnn, per training batch

    def init_rnn_state(self, batch_size, num_hiddens, ctx):
        if batch_size > 1:
            self.inits += 1
        return d2l.init_rnn_state(batch_size, num_hiddens, ctx)

    def rnn(self, inputs, state, params):
        outputs, new_state = d2l.rnn(inputs, state, params)
        if inputs[0].shape[0] > 1:
            self.states_in.append(state[0])
            self.states_out.append(new_state[0])
        return outputs, new_state


def _train(time_machine, ctx, is_random_iter, spy=None, num_epochs=2, lr=1e2, **kw):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    spy = spy or _Spy()
    args = dict(num_steps=35, lr=lr, clipping_theta=1e-2, batch_size=32, pred_period=1,
                pred_len=10, prefixes=PREFIXES)
    args.update(kw)
    get_params = d2l.make_get_params(vocab_size, 64, vocab_size, ctx)
    history = d2l.train_and_predict_rnn(
        spy.rnn, get_params, spy.init_rnn_state, 64, vocab_size, ctx, corpus_indices,
        idx_to_char, char_to_idx, is_random_iter, num_epochs, **args)
    return history, spy


def test_consecutive_training_carries_the_state(time_machine, ctx, capsys):
    history, spy = _train(time_machine, ctx, is_random_iter=False)
    assert len(history) == 2
    assert history[1] < 0.95 * history[0], history  # learning, not drifting around 43
    assert spy.inits == 2, "consecutive sampling initialises the state once per epoch"
    per_epoch = len(spy.states_in) // 2
    for epoch in range(2):
        first = epoch * per_epoch
        assert not spy.states_in[first].asnumpy().any()
        for i in range(first + 1, first + per_epoch):
            # The value is carried over, through a detached copy.
            assert spy.states_in[i] is not spy.states_out[i - 1]
            np.testing.assert_array_equal(spy.states_in[i].asnumpy(),
                                          spy.states_out[i - 1].asnumpy())
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 * (1 + len(PREFIXES))
    for i in range(2):
        match = re.fullmatch(r"epoch (\d+), perplexity (\d+\.\d{6}), time \d+\.\d\d sec",
                             lines[3 * i])
        assert match and int(match.group(1)) == i + 1
        assert float(match.group(2)) == pytest.approx(history[i], abs=1e-6)
        for j, prefix in enumerate(PREFIXES):
            assert lines[3 * i + 1 + j].startswith(" - " + prefix)
            assert len(lines[3 * i + 1 + j]) == 3 + len(prefix) + 10


def test_random_training_starts_every_batch_afresh(time_machine, ctx):
    history, spy = _train(time_machine, ctx, is_random_iter=True)
    assert history[1] < 0.95 * history[0], history
    assert spy.inits == len(spy.states_in) == 16, "8 batches per epoch, each from zeros"
    assert not any(s.asnumpy().any() for s in spy.states_in)


def test_lstm_style_state_of_two_arrays(time_machine, ctx):
    """A book-style model whose state is a tuple (H, C) trains through the same loop.

    Bugs it catches: only the first array of a state carried into the next
    batch (C restarting from zeros), or its gradient path cut (the gate that
    mixes C in never moving from zero).
    """
    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    base = d2l.make_get_params(vocab_size, 32, vocab_size, ctx)
    gates, cells_in, cells_out = [], [], []

    def get_params():  # the RNN's parameters plus a gate that mixes in C
        params = base()
        gate = nd.zeros(32, ctx=ctx)
        gate.attach_grad()
        gates.append(gate)
        return params + [gate]

    def init_state(batch_size, num_hiddens, ctx):
        return (nd.zeros((batch_size, num_hiddens), ctx=ctx),
                nd.ones((batch_size, num_hiddens), ctx=ctx))

    def lstm_like(inputs, state, params):
        H, C = state
        outputs, (H,) = d2l.rnn(inputs, (H + params[5] * C,), params[:5])
        new_state = (H, 0.5 * C + 0.5 * H)
        if len(inputs) > 1:  # training, not prediction
            cells_in.append(C.asnumpy())
            cells_out.append(new_state[1].asnumpy())
        return outputs, new_state

    history = d2l.train_and_predict_rnn(
        lstm_like, get_params, init_state, 32, vocab_size, ctx, corpus_indices, idx_to_char,
        char_to_idx, False, 2, 35, 1e2, 1e-2, 32, 5, 5, PREFIXES)
    assert len(history) == 2 and all(np.isfinite(history))
    per_epoch = len(cells_in) // 2
    for epoch in range(2):
        first = epoch * per_epoch
        assert (cells_in[first] == 1).all()  # each epoch starts from init_state
        for i in range(first + 1, first + per_epoch):
            np.testing.assert_array_equal(cells_in[i], cells_out[i - 1])
    assert np.abs(gates[0].asnumpy()).max() > 0  # trained through C


@pytest.mark.parametrize("name", ["num_epochs", "num_steps", "batch_size", "pred_period"])
def test_bad_sizes(name, time_machine, ctx):
    with pytest.raises(ValueError, match=name):
        _train(time_machine, ctx, False, **{name: 0})


def test_bad_prefix_fails_before_training(time_machine, ctx, capsys):
    spy = _Spy()
    with pytest.raises(ValueError, match="'X'"):
        _train(time_machine, ctx, False, spy, prefixes=["traveller", "X"])
    assert spy.inits == 0 and capsys.readouterr().out == ""


def test_divergence_names_the_epoch(time_machine, ctx):
    with pytest.raises(FloatingPointError, match=r"epoch 1\b.*smaller learning rate"):
        _train(time_machine, ctx, False, lr=1e38, num_epochs=3, pred_period=10)
