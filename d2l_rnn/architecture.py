"""Recurrent layers by name: build a model for a cell type, and describe one.

A checkpoint stores a model's description as JSON rather than pickling the
model, so any process can rebuild the same :class:`~d2l_rnn.model.RNNModel`
and load the saved parameters into it.
"""

from ._checks import check_positive_int
from ._compat import import_mxnet
from .model import RNNModel

__all__ = ["CELLS", "build_model", "describe_model", "model_from_description"]

CELLS = ("rnn", "gru", "lstm")

# Gluon's internal mode names; "rnn" alone is ambiguous about the activation.
_MODES = {"rnn_relu": ("rnn", "relu"), "rnn_tanh": ("rnn", "tanh"),
          "gru": ("gru", None), "lstm": ("lstm", None)}


def build_model(cell, num_hiddens, num_layers, vocab_size, *, activation="relu",
                bidirectional=False, dropout=0.0):
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
        Dropout between stacked layers (Gluon's ``dropout``).

    Raises
    ------
    ValueError
        For an unknown cell or activation, or non-positive sizes.
    """
    rnn = import_mxnet().gluon.rnn
    check_positive_int("num_hiddens", num_hiddens)
    check_positive_int("num_layers", num_layers)
    common = dict(num_layers=num_layers, bidirectional=bidirectional, dropout=dropout)
    if cell == "rnn":
        if activation not in ("relu", "tanh"):
            raise ValueError("activation must be 'relu' or 'tanh', got %r" % (activation,))
        layer = rnn.RNN(num_hiddens, activation=activation, **common)
    elif cell == "gru":
        layer = rnn.GRU(num_hiddens, **common)
    elif cell == "lstm":
        layer = rnn.LSTM(num_hiddens, **common)
    else:
        raise ValueError("cell must be one of %s, got %r" % (", ".join(CELLS), cell))
    return RNNModel(layer, vocab_size)


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
            "vocab_size": int(model.vocab_size)}


def model_from_description(description):
    """Return an uninitialised ``RNNModel`` built from :func:`describe_model`'s dict."""
    d = description
    return build_model(d["cell"], d["num_hiddens"], d["num_layers"], d["vocab_size"],
                       activation=d.get("activation") or "relu",
                       bidirectional=bool(d.get("bidirectional", False)),
                       dropout=float(d.get("dropout", 0.0)))
