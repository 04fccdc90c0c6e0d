"""``RNNModel``'s forward pass in NumPy, for one sequence: the fast generation step.

Generation feeds the model one character per call. Through Gluon each call
runs the fused ``RNN`` operator for a single time step of a single
sequence, after concatenating the layer's weights into one vector, and goes
through MXNet's engine: about 0.5 ms (RNN) to 1.5 ms (LSTM) per character
on a CPU. The same arithmetic in NumPy is a handful of small products:
tens of microseconds. :func:`host_feed` reads the model's weights once, on
its first call (one host sync), and then runs every step on the host.

What it computes is what ``model(X, state)`` computes, for every layer
``RNNModel`` accepts (:func:`supports` says which): Gluon's layer keeps,
per layer ``i`` and direction (``l`` forward, ``r`` backward),
``{d}{i}_i2h_weight`` ``(G * H, inputs)``, ``{d}{i}_h2h_weight`` ``(G * H,
H)`` and the two biases ``(G * H,)``, with the ``G`` gates stacked in the
order LSTM: input, forget, candidate, output; GRU: reset, update, new, where
the new gate scales its whole recurrent term (bias included) by the reset
gate. The first layer's input is one-hot, or a row of the model's
embedding ``E`` ``(vocab_size, embed_size)``: either way its input term for
character ``i`` is row ``i`` of a table computed once, ``Wx.T`` or ``E @
Wx.T`` (plus the biases), so a step looks the term up instead of
multiplying. The state is ``(layers * directions, batch, H)``, each layer's
forward direction first. A bidirectional layer runs its backward direction
over each call's characters last to first, from the state the previous call
left, exactly as the fused operator does on the same calls.
"""

import numpy as np

from .._compat import import_mxnet
from .._util.blas import on_one_blas_thread

__all__ = ["HostScores", "supports", "host_feed"]

_GATES = {"rnn_relu": 1, "rnn_tanh": 1, "gru": 3, "lstm": 4}


class HostScores(np.ndarray):
    """Scores on the host that also answer NDArray's ``asnumpy()`` and ``asscalar()``.

    So a ``choose`` function written for the Gluon step's scores works on
    these unchanged.
    """

    def asnumpy(self):
        return self.view(np.ndarray)

    def asscalar(self):
        return self.item()


def _layer_params(layer):
    """The layer's parameters, per layer and direction: ``[[(Wx, Wh, bx, bh), ...], ...]``."""
    directions = "lr"[:layer._dir]
    return [[tuple(getattr(layer, "%s%d_%s" % (d, i, name))
                   for name in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"))
             for d in directions] for i in range(layer._num_layers)]


def supports(model, ctx):
    """Whether :func:`host_feed` computes exactly what ``model`` does on ``ctx``.

    True for an :class:`~d2l_rnn.RNNModel` (not a subclass with its own
    forward pass), with one-hot input or an ``nn.Embedding``, around a plain
    Gluon RNN, GRU or LSTM layer in float32
    (any number of layers, either direction, with or without dropout, which
    generation does not apply), on a CPU context. False for a GPU context,
    in autograd's training mode (where dropout applies), for an LSTM with a
    projection or state clipping, other dtypes or other blocks: those keep
    the Gluon step.
    """
    mx = import_mxnet()
    from ..model import RNNModel
    rnn, nn = mx.gluon.rnn, mx.gluon.nn
    layer, dense = getattr(model, "rnn", None), getattr(model, "dense", None)
    embedding = getattr(model, "embedding", None)
    if not (ctx.device_type == "cpu" and not mx.autograd.is_training()   # no dropout
            and isinstance(model, RNNModel)
            and (embedding is None or type(embedding) is nn.Embedding)
            and type(model).hybrid_forward is RNNModel.hybrid_forward
            and type(layer) in (rnn.RNN, rnn.GRU, rnn.LSTM) and layer._mode in _GATES
            and layer._projection_size is None and layer._lstm_state_clip_min is None
            and layer._lstm_state_clip_max is None and not layer._use_sequence_length
            and type(dense) is nn.Dense and dense.act is None and dense.bias is not None):
        return False
    params = [p for group in _layer_params(layer) for d in group for p in d]
    params += [dense.weight, dense.bias] + ([] if embedding is None else [embedding.weight])
    return all(np.dtype(p.dtype) == np.float32 for p in params)


def _read_weights(model, ctx):
    """The model's weights as NumPy arrays, in one host sync.

    Returns ``(layers, dense_weight, dense_bias, embedding)``, ``layers`` as
    :func:`_layer_params` orders them, ``embedding`` None for one-hot input.
    """
    mx = import_mxnet()
    nested = _layer_params(model.rnn)
    params = [p for group in nested for d in group for p in d]
    params += [model.dense.weight, model.dense.bias]
    if model.embedding is not None:
        params.append(model.embedding.weight)
    try:
        arrays = [p.data(ctx) for p in params]
    except mx.gluon.parameter.DeferredInitializationError:
        # Initialised but never called: one call fixes the input sizes and
        # runs the initialiser, as the Gluon step's first call would.
        model(mx.nd.zeros((1, 1), ctx=ctx), model.begin_state(batch_size=1, ctx=ctx))
        arrays = [p.data(ctx) for p in params]
    flat = mx.nd.concat(*[a.reshape((-1,)) for a in arrays], dim=0).asnumpy()
    pieces, start = [], 0
    for a in arrays:
        pieces.append(flat[start:start + a.size].reshape(a.shape))
        start += a.size
    it = iter(pieces)
    layers = [[tuple(next(it) for _ in range(4)) for _ in group] for group in nested]
    return layers, next(it), next(it), next(it, None)


def _sigmoid(x):
    # tanh form: no overflow warnings for large negative inputs.
    return 0.5 * np.tanh(0.5 * x) + 0.5


class _Direction:
    """One direction of one layer: input projection, recurrence and cell."""

    def __init__(self, mode, weights, first, embedding=None):
        Wx, Wh, bx, bh = weights
        H = Wh.shape[1]
        # Fold the recurrent bias into the input's where the cell adds them
        # anyway: all of it but the GRU new gate's, which the reset gate scales.
        folded = bh.copy() if mode != "gru" else np.concatenate([bh[:2 * H], 0 * bh[2 * H:]])
        self.bias_new = bh[2 * H:] if mode == "gru" else None
        # First layer: the input is one-hot or an embedding's row, so its
        # product is a row lookup in a (vocab_size, G * H) table.
        inputs = None if not first else Wx.T if embedding is None else embedding @ Wx.T
        self.table = None if inputs is None else np.ascontiguousarray(inputs + bx + folded)
        self.Wx, self.bias = (None, None) if first else (Wx, bx + folded)
        self.Wh, self.H, self.cell = Wh, H, getattr(self, "_" + mode)

    def inputs(self, x):
        """``(T, G * H)`` input terms for ids (first layer) or ``(T, inputs)`` features."""
        return self.table[x] if self.table is not None else x @ self.Wx.T + self.bias

    def _rnn_relu(self, g, h, c):
        g = g + self.Wh @ h
        return np.maximum(g, 0, out=g), c

    def _rnn_tanh(self, g, h, c):
        g = g + self.Wh @ h
        return np.tanh(g, out=g), c

    def _lstm(self, g, h, c):
        H = self.H
        g = g + self.Wh @ h
        s = _sigmoid(g)
        c = s[H:2 * H] * c + s[:H] * np.tanh(g[2 * H:3 * H])
        return s[3 * H:] * np.tanh(c), c

    def _gru(self, g, h, c):
        H = self.H
        r = self.Wh @ h
        rz = _sigmoid(g[:2 * H] + r[:2 * H])
        n = np.tanh(g[2 * H:] + rz[:H] * (r[2 * H:] + self.bias_new))
        return n + rz[H:] * (h - n), c


class _HostModel:
    """The model's weights and its state for one sequence, on the host."""

    def __init__(self, model, ctx):
        layers, self.Wd, self.bd, embedding = _read_weights(model, ctx)
        mode = model.rnn._mode
        self.layers = [[_Direction(mode, w, i == 0, embedding) for w in group]
                       for i, group in enumerate(layers)]
        size = (sum(len(group) for group in layers), model.rnn._hidden_size)
        self.h = np.zeros(size, np.float32)
        self.c = np.zeros(size, np.float32) if mode == "lstm" else [None] * size[0]

    def __call__(self, ids):
        """Advance the state over ``ids``; return the ``(len(ids), vocab_size)`` scores."""
        x = self._step(ids[0]) if len(ids) == 1 else self._chunk(ids)
        return (x @ self.Wd.T + self.bd).view(HostScores)

    def _step(self, i):
        # One character: both directions read just it, so no order and no buffers.
        x, k = i, 0
        for group in self.layers:
            outputs = []
            for direction in group:
                g = direction.table[x] if direction.table is not None else (
                    direction.Wx @ x + direction.bias)
                self.h[k], self.c[k] = direction.cell(g, self.h[k], self.c[k])
                outputs.append(self.h[k])
                k += 1
            x = outputs[0] if len(outputs) == 1 else np.concatenate(outputs)
        return x[None]

    def _chunk(self, ids):
        x, k = ids, 0
        for group in self.layers:
            outputs = []
            for j, direction in enumerate(group):
                g = direction.inputs(x)
                Y = np.empty((len(g), direction.H), np.float32)
                h, c = self.h[k], self.c[k]
                for t in (range(len(g)) if j == 0 else range(len(g) - 1, -1, -1)):
                    h, c = direction.cell(g[t], h, c)
                    Y[t] = h
                self.h[k], self.c[k] = h, c
                outputs.append(Y)
                k += 1
            x = outputs[0] if len(outputs) == 1 else np.concatenate(outputs, axis=1)
        return x


def host_feed(model, ctx):
    """Return ``feed(ids) -> scores`` running ``model`` in NumPy (see the module).

    The weights are read on the first call, so the feed generates with the
    weights the model has then; build a new feed after training further.
    The state starts at zero. Check :func:`supports` first.
    """
    host = None

    def feed(ids):
        nonlocal host
        if host is None:
            host = _HostModel(model, ctx)
        return host(ids)

    return on_one_blas_thread(feed)
