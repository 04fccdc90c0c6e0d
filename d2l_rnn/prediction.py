"""Greedy text generation, for Gluon models and for the book's functions.

Both prediction functions feed the prefix and then one character at a time;
:func:`greedy_generate` is that loop, given a way to feed ids to a model.
"""

from ._checks import check_prefix
from ._compat import import_mxnet

__all__ = ["greedy_generate", "predict_rnn_gluon"]


def greedy_generate(prefix, num_chars, feed, idx_to_char, char_to_idx):
    """Return ``prefix`` followed by ``num_chars`` greedily chosen characters.

    Parameters
    ----------
    prefix : str
        Non-empty text made only of vocabulary characters.
    num_chars : int
        How many characters to generate (0 returns ``prefix``).
    feed : callable
        ``feed(ids) -> scores``: advances the model's state over the ids (a
        list of int, one sequence) and returns its output; called with a
        single id it must return that step's scores, shape ``(1,
        vocab_size)``.
    idx_to_char, char_to_idx
        The vocabulary, as returned by ``load_data_time_machine``.

    Raises
    ------
    ValueError
        If ``prefix`` is empty or has characters outside the vocabulary, or
        ``num_chars`` is negative.
    """
    ids = check_prefix(prefix, char_to_idx)
    if num_chars < 0:
        raise ValueError("num_chars must be >= 0, got %r" % (num_chars,))
    # Warm the state up on the whole prefix in one call instead of one call
    # per character: the same recurrence, without a host round trip per step.
    if len(ids) > 1:
        feed(ids[:-1])
    output = list(ids)
    for _ in range(num_chars):
        scores = feed([output[-1]])
        # The one host sync per character: the next input depends on it.
        output.append(int(scores.argmax(axis=1).asscalar()))
    return "".join(idx_to_char[i] for i in output)


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
    nd = import_mxnet().nd
    state = model.begin_state(batch_size=1, ctx=ctx)

    def feed(ids):
        nonlocal state
        scores, state = model(nd.array([ids], ctx=ctx), state)
        return scores

    return greedy_generate(prefix, num_chars, feed, idx_to_char, char_to_idx)
