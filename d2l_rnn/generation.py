"""Text generation: the chapter's greedy ``predict_rnn_gluon``, and sampling with a temperature.

Every generator here is one loop, :func:`generate_ids`: warm the state up on
the prefix, then feed the model one character at a time and choose the next
one from its scores. Greedy prediction chooses the arg max; at temperature
``T > 0`` the next character is drawn from ``softmax(logits / T)`` (``T = 1``
samples the model's own distribution, smaller ``T`` sharpens it towards the
greedy choice, larger ``T`` flattens it towards uniform).
"""

import numpy as np

from ._compat import import_mxnet
from ._util.checks import check_count, check_number, check_prefix

__all__ = ["generate_ids", "greedy_generate", "model_feed", "predict_rnn_gluon",
           "softmax_with_temperature", "generate"]


def _argmax(scores):
    # The one host sync per character: the next input depends on it.
    return int(scores.argmax(axis=1).asscalar())


def generate_ids(ids, num_chars, feed, choose=_argmax):
    """Return ``ids`` followed by ``num_chars`` generated ids.

    Parameters
    ----------
    ids : list of int
        The prefix, at least one id.
    num_chars : int
        How many ids to add.
    feed : callable
        ``feed(ids) -> scores``: advances the model's state over the ids (a
        list of int, one sequence) and returns its output; called with a
        single id it must return that step's scores, shape ``(1,
        vocab_size)``.
    choose : callable
        ``choose(scores) -> int``, the next id; the arg max by default.
    """
    # Warm the state up on the whole prefix in one call instead of one call
    # per character: the same recurrence, without a host round trip per step.
    if len(ids) > 1:
        feed(ids[:-1])
    output = list(ids)
    for _ in range(num_chars):
        output.append(choose(feed([output[-1]])))
    return output


def greedy_generate(prefix, num_chars, feed, idx_to_char, char_to_idx):
    """Return ``prefix`` followed by ``num_chars`` greedily chosen characters.

    ``feed`` is as for :func:`generate_ids`; ``idx_to_char`` and
    ``char_to_idx`` are the vocabulary, as ``load_data_time_machine``
    returns it.

    Raises
    ------
    ValueError
        If ``prefix`` is empty or has characters outside the vocabulary, or
        ``num_chars`` is negative.
    """
    ids = check_prefix(prefix, char_to_idx)
    check_count("num_chars", num_chars)
    return "".join(idx_to_char[i] for i in generate_ids(ids, num_chars, feed))


def model_feed(model, ctx):
    """Return ``feed(ids) -> scores`` for :func:`generate_ids`, on a batch of one.

    The model's state starts at zero and is carried from call to call.
    """
    nd = import_mxnet().nd
    state = model.begin_state(batch_size=1, ctx=ctx)

    def feed(ids):
        nonlocal state
        scores, state = model(nd.array([ids], ctx=ctx), state)
        return scores

    return feed


def predict_rnn_gluon(prefix, num_chars, model, vocab_size, ctx, idx_to_char,
                      char_to_idx):
    """Return ``prefix`` followed by ``num_chars`` greedily predicted characters.

    Parameters
    ----------
    prefix : str
        Non-empty text made only of vocabulary characters.
    num_chars : int
        How many characters to generate (0 returns ``prefix``).
    model : RNNModel
        Initialised model; called with ``(1, steps)`` inputs.
    vocab_size : int
        Size of the vocabulary (kept for the book's signature).
    ctx : mxnet.Context
        Device the model lives on.
    idx_to_char, char_to_idx
        The vocabulary, as returned by ``load_data_time_machine``.

    Raises
    ------
    ValueError
        If ``prefix`` is empty or has characters outside the vocabulary.
    """
    return greedy_generate(prefix, num_chars, model_feed(model, ctx), idx_to_char,
                           char_to_idx)


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
        0 for greedy prediction (the chapter's ``predict_rnn_gluon``), else
        the softmax temperature.
    rng : numpy.random.Generator or int, optional
        Source of the draws (an int seeds a new one); default unseeded.

    Raises
    ------
    ValueError
        For a negative or non-finite temperature, a negative ``num_chars``,
        or a prefix with characters outside the vocabulary (named).
    """
    temperature = check_number("temperature", temperature, 0.0, inclusive=True)
    ids = check_prefix(prefix, char_to_idx)
    check_count("num_chars", num_chars)
    if temperature == 0:
        choose = _argmax
    else:
        rng = np.random.default_rng(rng)

        def choose(scores):
            probs = softmax_with_temperature(scores[0].asnumpy(), temperature)
            return int(rng.choice(len(probs), p=probs))

    output = generate_ids(ids, num_chars, model_feed(model, ctx), choose)
    return "".join(idx_to_char[i] for i in output)
