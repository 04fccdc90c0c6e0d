"""``RNNModel``: a Gluon recurrent layer with one-hot (or embedded) input and a dense output.

The block is a ``HybridBlock``, so ``model.hybridize()`` turns the forward
pass into one cached graph. The book's version (an ``nn.Block`` using
``inputs.T`` and ``Y.shape[-1]``) cannot be hybridized: symbols have neither
``.T`` nor a known shape.

A model is also described here as plain data (:func:`describe_model`), so a
checkpoint stores JSON rather than a pickled model and any process can
rebuild the same ``RNNModel`` (:func:`model_from_description`).
"""

from __future__ import annotations

from typing import Any

from ._compat import import_mxnet
from ._util.checks import check_fraction, check_positive_int
from ._util.hints import Block, NDArray

__all__ = ["RNNModel", "CELLS", "ACTIVATIONS", "MAX_LAYERS", "build_model", "describe_model",
           "model_from_description"]

_gluon = import_mxnet().gluon
# MXNet has no type information: to the type checker the base class is Any.
_HybridBlock: Any = _gluon.nn.HybridBlock

CELLS = ("rnn", "gru", "lstm")
ACTIVATIONS = ("relu", "tanh")
# Gluon names a layer's parameters l0_..., r0_... and reads the index back
# with a one-digit pattern: a model of 11 layers trains but cannot be saved.
MAX_LAYERS = 10

# Gluon's internal mode names; "rnn" alone is ambiguous about the activation.
_MODES = {"rnn_relu": ("rnn", "relu"), "rnn_tanh": ("rnn", "tanh"),
          "gru": ("gru", None), "lstm": ("lstm", None)}


class RNNModel(_HybridBlock):
    """A character language model around any Gluon recurrent layer.

    Parameters
    ----------
    rnn_layer : mxnet.gluon.rnn.RNN, GRU or LSTM
        Layer with layout ``'TNC'`` (Gluon's default); any number of layers,
        uni- or bidirectional.
    vocab_size : int
        Number of distinct characters; the size of the one-hot input and of
        the output layer.
    dropout : float
        Dropout on the recurrent layer's output, before the dense layer
        (training only); 0, the chapter's, adds no block at all.
    embed_size : int, optional
        None (the chapter's): each character enters as a one-hot vector of
        ``vocab_size``. An integer: as a learned vector of that size, row
        ``id`` of an ``nn.Embedding(vocab_size, embed_size)`` (attribute
        ``embedding``), whose rows start at about unit length, like the
        one-hot vectors they replace. For a large vocabulary it is much
        less work than a one-hot product.

    Call
    ----
    ``model(inputs, state)`` with ``inputs`` of shape ``(batch_size,
    num_steps)`` (character ids) and ``state`` from :meth:`begin_state`
    returns ``(output, state)``: ``output`` has shape ``(num_steps *
    batch_size, vocab_size)``, time-major (all of step 0, then step 1, ...),
    and ``state`` is the layer's new state list (two arrays for an LSTM).

    The forward pass does not check the ids: checking them on the device
    and reading the answer back would cost a host sync per batch, which the
    training loop avoids. An id outside ``[0, vocab_size)`` becomes an
    all-zero one-hot row (``F.one_hot``), so ids are checked on the host
    where they enter: by the samplers (``>= 0``), the training functions and
    :func:`~d2l_rnn.evaluate_perplexity` (below ``vocab_size``) and the
    generation functions (the prefix's ids against the vocabulary).
    """

    def __init__(self, rnn_layer: Block, vocab_size: int, dropout: float = 0.0,
                 embed_size: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_positive_int("vocab_size", vocab_size)
        check_fraction("dropout", dropout)
        if embed_size is not None:
            check_positive_int("embed_size", embed_size)
        if getattr(rnn_layer, "_layout", "TNC") != "TNC":
            raise ValueError("RNNModel needs a layer with layout='TNC', got %r"
                             % rnn_layer._layout)
        self.vocab_size, self.dropout = vocab_size, float(dropout)
        self.embed_size = None if embed_size is None else int(embed_size)
        with self.name_scope():
            self.embedding = None if embed_size is None else _gluon.nn.Embedding(
                vocab_size, embed_size,
                weight_initializer=import_mxnet().init.Normal(embed_size ** -0.5))
            self.rnn = rnn_layer
            self.drop = _gluon.nn.Dropout(dropout) if dropout else None
            self.dense = _gluon.nn.Dense(vocab_size)

    def hybrid_forward(self, F: Any, inputs: NDArray,
                       state: list[NDArray]) -> tuple[NDArray, list[NDArray]]:
        # (batch, steps) ids -> (steps, batch, vocab) one-hot, or (steps, batch,
        # embed_size) rows of the embedding: the TNC layout.
        ids = F.transpose(inputs)
        X = F.one_hot(ids, self.vocab_size) if self.embedding is None else self.embedding(ids)
        Y, state = self.rnn(X, state)
        if self.drop is not None:
            Y = self.drop(Y)
        # Merge the step and batch axes: (steps * batch, hiddens) rows, so the
        # output rows line up with the targets Y.T.reshape((-1,)).
        output = self.dense(F.reshape(Y, shape=(-3, -2)))
        return output, state

    def begin_state(self, *args: Any, **kwargs: Any) -> list[NDArray]:
        """Return the layer's initial state (see ``rnn_layer.begin_state``)."""
        return self.rnn.begin_state(*args, **kwargs)


def build_model(cell, num_hiddens, num_layers, vocab_size, *, activation="relu",
                bidirectional=False, dropout=0.0, output_dropout=None, embed_size=None):
    """Return an uninitialised ``RNNModel`` around a Gluon ``cell`` layer.

    Parameters
    ----------
    cell : {'rnn', 'gru', 'lstm'}
        The recurrent layer; ``'rnn'`` uses ``activation`` (ReLU by default,
        Gluon's default and the chapter's).
    num_hiddens, num_layers, vocab_size : int
        Hidden units per layer, stacked layers, and vocabulary size.
    activation : {'relu', 'tanh'}
        Only for ``cell='rnn'``.
    bidirectional : bool
    dropout : float
        Dropout between stacked layers (Gluon's ``dropout``) and, with
        ``output_dropout=None``, before the output layer too.
    output_dropout : float, optional
        Dropout before the output layer (:class:`RNNModel`'s ``dropout``).
    embed_size : int, optional
        None: one-hot input (the chapter's); else a learned embedding of this
        size (:class:`RNNModel`).

    Raises
    ------
    ValueError
        For an unknown cell or activation, or non-positive sizes.
    """
    rnn = import_mxnet().gluon.rnn
    check_positive_int("num_hiddens", num_hiddens)
    if check_positive_int("num_layers", num_layers) > MAX_LAYERS:
        raise ValueError("num_layers must be at most %d (Gluon cannot save or load the "
                         "parameters of more stacked layers), got %d" % (MAX_LAYERS, num_layers))
    if not isinstance(bidirectional, bool):
        raise ValueError("bidirectional must be True or False, got %r" % (bidirectional,))
    check_fraction("dropout", dropout)
    common = dict(num_layers=num_layers, bidirectional=bidirectional, dropout=dropout)
    if cell == "rnn":
        if activation not in ACTIVATIONS:
            raise ValueError("activation must be 'relu' or 'tanh', got %r" % (activation,))
        layer = rnn.RNN(num_hiddens, activation=activation, **common)
    elif cell == "gru":
        layer = rnn.GRU(num_hiddens, **common)
    elif cell == "lstm":
        layer = rnn.LSTM(num_hiddens, **common)
    else:
        raise ValueError("cell must be one of %s, got %r" % (", ".join(CELLS), cell))
    return RNNModel(layer, vocab_size, dropout if output_dropout is None else output_dropout,
                    embed_size=embed_size)


def describe_model(model):
    """Return a JSON-ready dict from which :func:`model_from_description` rebuilds ``model``.

    Raises
    ------
    ValueError
        If ``model`` is not an ``RNNModel`` around a plain Gluon RNN, GRU or
        LSTM layer (an LSTM with a projection cannot be described).
    """
    layer = getattr(model, "rnn", None)
    mode = getattr(layer, "_mode", None)
    if not isinstance(model, RNNModel) or mode not in _MODES:
        raise ValueError("can only describe an RNNModel around a gluon.rnn RNN, GRU or "
                         "LSTM layer, got %r" % (type(model).__name__,))
    if getattr(layer, "_projection_size", None):
        raise ValueError("LSTM layers with projection_size are not supported")
    cell, activation = _MODES[mode]
    return {"cell": cell, "activation": activation,
            "num_hiddens": int(layer._hidden_size), "num_layers": int(layer._num_layers),
            "bidirectional": layer._dir == 2, "dropout": float(layer._dropout),
            "output_dropout": model.dropout, "vocab_size": int(model.vocab_size),
            "embed_size": model.embed_size}


def model_from_description(description):
    """Return an uninitialised ``RNNModel`` built from :func:`describe_model`'s dict.

    Raises
    ------
    ValueError
        If a value is missing or of the wrong kind (the key is named).
    """
    d = description
    try:
        return build_model(d["cell"], d["num_hiddens"], d["num_layers"], d["vocab_size"],
                           activation=d.get("activation") or "relu",
                           bidirectional=d.get("bidirectional", False),
                           dropout=d.get("dropout", 0.0),
                           output_dropout=d.get("output_dropout", 0.0),
                           embed_size=d.get("embed_size"))
    except (KeyError, TypeError, AttributeError) as err:
        raise ValueError("a model description needs cell, num_hiddens, num_layers and "
                         "vocab_size (%s: %s)" % (type(err).__name__, err)) from None
