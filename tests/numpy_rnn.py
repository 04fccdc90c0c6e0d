"""A NumPy re-computation of ``RNNModel``, written from the equations, for the tests.

Gluon's fused layers (MXNet 1.x ``gluon.rnn.RNN``, ``GRU``, ``LSTM``) keep,
for layer ``i`` and direction ``l`` (forward) or ``r`` (backward), the
parameters ``{l,r}{i}_i2h_weight`` of shape ``(gates * num_hiddens,
inputs)``, ``{l,r}{i}_h2h_weight`` of shape ``(gates * num_hiddens,
num_hiddens)`` and the two matching biases. The gates are stacked in this
order: LSTM ``i, f, g, o`` (input, forget, candidate, output); GRU ``r, z,
n`` (reset, update, candidate), where the reset gate multiplies the
state's transformation *after* its bias, ``n = tanh(W_in x + b_in + r *
(W_hn h + b_hn))``, and ``h' = (1 - z) * n + z * h``. A layer above the first
reads the forward and backward outputs concatenated; the state arrays stack
``(layer, direction)`` pairs in the order ``l0, r0, l1, r1, ...``.

Everything here runs in float64, so it is an independent reference for
MXNet's float32 kernels.
"""

import numpy as np


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _rnn_step(activation):
    act = np.tanh if activation == "tanh" else (lambda v: np.maximum(v, 0))

    def step(x_part, h_part, state):
        return act(x_part + h_part), None

    return step


def _gru_step(x_part, h_part, state):
    xr, xz, xn = np.split(x_part, 3, axis=1)
    hr, hz, hn = np.split(h_part, 3, axis=1)
    r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * state[0], None


def _lstm_step(x_part, h_part, state):
    i, f, g, o = np.split(x_part + h_part, 4, axis=1)
    c = _sigmoid(f) * state[1] + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


def _step_for(mode):
    if mode.startswith("rnn_"):
        return _rnn_step(mode[len("rnn_"):])
    return {"gru": _gru_step, "lstm": _lstm_step}[mode]


def layer_params(layer):
    """The layer's parameters as float64 arrays, by Gluon's attribute name."""
    return {name: p.data().asnumpy().astype(np.float64) for name, p in layer._reg_params.items()}


def run_layer(layer, X, state):
    """Return ``(Y, state)`` of a Gluon RNN/GRU/LSTM layer on ``X``, in NumPy.

    ``X`` has shape ``(num_steps, batch_size, inputs)``; ``state`` is a list
    of arrays of shape ``(num_layers * directions, batch_size, num_hiddens)``
    (one for RNN and GRU; ``h`` and ``c`` for an LSTM).
    """
    params = layer_params(layer)
    step = _step_for(layer._mode)
    directions = "lr"[:layer._dir]
    new_state = [np.empty_like(s, dtype=np.float64) for s in state]
    inputs = np.asarray(X, dtype=np.float64)
    for i in range(layer._num_layers):
        outputs = []
        for d, name in enumerate(directions):
            row = i * len(directions) + d
            p = {k: params["%s%d_%s" % (name, i, k)]
                 for k in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")}
            h = state[0][row].astype(np.float64)
            c = state[1][row].astype(np.float64) if len(state) == 2 else None
            order = range(len(inputs)) if name == "l" else reversed(range(len(inputs)))
            Y = np.empty(inputs.shape[:2] + (h.shape[1],))
            for t in order:
                x_part = inputs[t] @ p["i2h_weight"].T + p["i2h_bias"]
                h_part = h @ p["h2h_weight"].T + p["h2h_bias"]
                h, c = step(x_part, h_part, (h, c))
                Y[t] = h
            outputs.append(Y)
            new_state[0][row] = h
            if c is not None:
                new_state[1][row] = c
        inputs = np.concatenate(outputs, axis=2)
    return inputs, new_state


def run_model(model, ids, state):
    """Return ``(output, state)`` of an ``RNNModel`` on ``ids`` ``(batch_size, num_steps)``.

    ``output`` has shape ``(num_steps * batch_size, vocab_size)``, time-major,
    as ``RNNModel`` promises. The input is one-hot, or with an embedding the
    embedding's rows.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if getattr(model, "embedding", None) is None:
        X = np.eye(model.vocab_size)[ids.T]  # (steps, batch, vocab): one-hot, TNC
    else:  # (steps, batch, embed_size)
        X = model.embedding.weight.data().asnumpy().astype(np.float64)[ids.T]
    Y, state = run_layer(model.rnn, X, [np.asarray(s) for s in state])
    weight = model.dense.weight.data().asnumpy().astype(np.float64)
    bias = model.dense.bias.data().asnumpy().astype(np.float64)
    return Y.reshape(-1, Y.shape[2]) @ weight.T + bias, state


def greedy(model, prefix_ids, num_chars):
    """The chapter's greedy prediction, one character at a time, in NumPy."""
    num_states = 2 if model.rnn._mode == "lstm" else 1
    shape = (model.rnn._num_layers * model.rnn._dir, 1, model.rnn._hidden_size)
    state = [np.zeros(shape) for _ in range(num_states)]
    output = [prefix_ids[0]]
    for t in range(len(prefix_ids) - 1 + num_chars):
        scores, state = run_model(model, [[output[-1]]], state)
        output.append(prefix_ids[t + 1] if t + 1 < len(prefix_ids) else int(scores.argmax()))
    return output
