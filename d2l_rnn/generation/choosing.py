"""How the next character is chosen from a step's scores: ``choose`` functions.

:func:`~d2l_rnn.generation.generate_ids` calls ``choose(scores) -> id`` once
per generated character. :func:`greedy_choose` is the chapter's arg max;
:func:`sampling_choose` draws from ``softmax(scores / T)``, optionally cut
to the ``top_k`` likeliest ids or to the fewest whose probabilities reach
``top_p`` (:func:`truncate`).
"""

import numpy as np

__all__ = ["greedy_choose", "softmax_with_temperature", "truncate", "sampling_choose",
           "streaming"]


def greedy_choose(scores):
    """The arg max of ``scores`` (shape ``(1, vocab_size)``), as an int."""
    # The one host sync per character: the next input depends on it.
    return int(scores.argmax(axis=1).asscalar())


def softmax_with_temperature(logits, temperature):
    """Return ``softmax(logits / temperature)`` in float64, for ``temperature > 0``.

    Parameters
    ----------
    logits : array-like, shape ``(vocab_size,)``
    temperature : float
    """
    logits = np.asarray(logits, dtype=np.float64)
    if not np.isfinite(logits).all():
        raise ValueError("the model's scores are not finite (NaN or infinite parameters?); "
                         "it cannot be sampled from")
    # Subtracting the maximum first keeps exp() finite; dividing after it, a
    # tiny temperature sends every other score to -inf, i.e. greedy.
    with np.errstate(over="ignore"):
        weights = np.exp((logits - logits.max()) / temperature)
    return weights / weights.sum()


def truncate(probs, top_k=None, top_p=None):
    """Keep the ``top_k`` likeliest ids, and of those the fewest reaching ``top_p``; renormalise.

    Ties are broken towards the lower id, as the arg max does, so ``top_k=1``
    keeps the greedy choice. None keeps everything.
    """
    probs = np.asarray(probs, dtype=np.float64)
    order = np.argsort(-probs, kind="stable")
    keep = len(probs) if top_k is None else min(top_k, len(probs))
    if top_p is not None:
        # The first place where the running total reaches top_p, counted in.
        reached = np.searchsorted(np.cumsum(probs[order]), top_p * probs.sum(), side="left")
        keep = min(keep, int(reached) + 1)
    kept = np.zeros_like(probs)
    kept[order[:keep]] = probs[order[:keep]]
    return kept / kept.sum()


def sampling_choose(temperature=1.0, top_k=None, top_p=None, rng=None):
    """Return ``choose(scores) -> id`` for :func:`generate_ids` that draws the next id.

    The draw is from ``softmax(scores / temperature)``, cut to ``top_k`` /
    ``top_p`` by :func:`truncate`; ``rng`` is a ``numpy.random.Generator`` or
    a seed (default unseeded).
    """
    rng = np.random.default_rng(rng)

    def choose(scores):
        probs = softmax_with_temperature(scores[0].asnumpy(), temperature)
        if top_k is not None or top_p is not None:
            probs = truncate(probs, top_k, top_p)
        return int(rng.choice(len(probs), p=probs))

    return choose


def streaming(choose, idx_to_char, on_char):
    """Return ``choose`` that also calls ``on_char`` with each chosen character."""
    def choose_and_pass_on(scores):
        i = choose(scores)
        if i >= len(idx_to_char):
            raise ValueError("the model chose character id %d, but idx_to_char has only %d "
                             "characters; pass the vocabulary the model was trained with"
                             % (i, len(idx_to_char)))
        on_char(idx_to_char[i])
        return i
    return choose_and_pass_on
