"""Text generation with a temperature: greedy at 0, softmax sampling above.

At temperature ``T > 0`` each next character is drawn from
``softmax(logits / T)``: ``T = 1`` samples the model's own distribution,
smaller ``T`` sharpens it towards the greedy choice, larger ``T`` flattens it
towards uniform. ``T = 0`` is the chapter's greedy ``predict_rnn_gluon``.
"""

import math
import numbers

import numpy as np

from ._checks import check_prefix
from ._compat import import_mxnet
from .prediction import predict_rnn_gluon

__all__ = ["softmax_with_temperature", "generate"]


def softmax_with_temperature(logits, temperature):
    """Return ``softmax(logits / temperature)`` in float64, for ``temperature > 0``.

    Parameters
    ----------
    logits : array-like, shape ``(vocab_size,)``
    temperature : float
    """
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    # Subtracting the maximum keeps exp() finite even for tiny temperatures.
    weights = np.exp(scaled - scaled.max())
    return weights / weights.sum()


def _check_temperature(temperature):
    if (isinstance(temperature, bool) or not isinstance(temperature, numbers.Real)
            or not math.isfinite(temperature) or temperature < 0):
        raise ValueError("temperature must be a finite number >= 0, got %r" % (temperature,))
    return float(temperature)


def generate(prefix, num_chars, model, ctx, idx_to_char, char_to_idx, temperature=0.0,
             rng=None):
    """Return ``prefix`` followed by ``num_chars`` generated characters.

    Parameters
    ----------
    prefix : str
        Non-empty text made of vocabulary characters.
    num_chars : int
        How many characters to add (>= 0).
    model : RNNModel
        Initialised model on ``ctx``; called with ``(1, steps)`` inputs.
    ctx : mxnet.Context
    idx_to_char, char_to_idx
        The model's vocabulary.
    temperature : float
        0 for greedy prediction (exactly ``predict_rnn_gluon``), else the
        softmax temperature.
    rng : numpy.random.Generator or int, optional
        Source of the draws (an int seeds a new one); default unseeded.

    Raises
    ------
    ValueError
        For a negative or non-finite temperature, a negative ``num_chars``,
        or a prefix with characters outside the vocabulary (named).
    """
    temperature = _check_temperature(temperature)
    if temperature == 0:
        return predict_rnn_gluon(prefix, num_chars, model, len(idx_to_char), ctx,
                                 idx_to_char, char_to_idx)
    nd = import_mxnet().nd
    ids = check_prefix(prefix, char_to_idx)
    if num_chars < 0:
        raise ValueError("num_chars must be >= 0, got %r" % (num_chars,))
    rng = np.random.default_rng(rng)
    state = model.begin_state(batch_size=1, ctx=ctx)
    if len(ids) > 1:  # the whole prefix but its last character in one call
        _, state = model(nd.array([ids[:-1]], ctx=ctx), state)
    output = list(ids)
    for _ in range(num_chars):
        logits, state = model(nd.array([[output[-1]]], ctx=ctx), state)
        probs = softmax_with_temperature(logits[0].asnumpy(), temperature)
        output.append(int(rng.choice(len(probs), p=probs)))
    return "".join(idx_to_char[i] for i in output)
