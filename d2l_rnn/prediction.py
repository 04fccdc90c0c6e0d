"""Text generation with a trained :class:`~d2l_rnn.model.RNNModel`."""

from ._checks import check_prefix
from ._compat import import_mxnet

__all__ = ["predict_rnn_gluon"]


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
    ids = check_prefix(prefix, char_to_idx)
    if num_chars < 0:
        raise ValueError("num_chars must be >= 0, got %r" % (num_chars,))
    state = model.begin_state(batch_size=1, ctx=ctx)
    # Warm the state up on the whole prefix in one call instead of one call
    # per character: the same recurrence, without a host round trip per step.
    if len(ids) > 1:
        _, state = model(nd.array([ids[:-1]], ctx=ctx), state)
    output = list(ids)
    for _ in range(num_chars):
        X = nd.array([[output[-1]]], ctx=ctx)
        Y, state = model(X, state)
        # The one host sync per character: the next input depends on it.
        output.append(int(Y.argmax(axis=1).asscalar()))
    return "".join(idx_to_char[i] for i in output)
