"""Bits per character: the mean cross-entropy in base 2, the number char-level work compares.

A perplexity ``p`` is ``exp`` of a mean cross-entropy in nats; the same
loss in bits is ``log2(p)``. :func:`bits_per_char` is the one conversion
(exported as ``d2l.bits_per_char``); :func:`perplexity_bits` applies it to
a perplexity, as ``evaluate``, the metrics file and the summary report it.
"""

from __future__ import annotations

import math

__all__ = ["bits_per_char", "perplexity_bits"]


def bits_per_char(mean_loss: float) -> float:
    """The mean cross-entropy per character in bits: ``mean_loss`` (nats) / ln 2.

    The number the character-level literature compares models by;
    ``bits_per_char(math.log(p))`` is ``log2(p)`` for a perplexity ``p``.
    """
    return mean_loss / math.log(2.0)


def perplexity_bits(perplexity: float) -> float:
    """Bits per character of a ``perplexity`` (>= 1, or ``inf``); NaN stays NaN."""
    if math.isnan(perplexity):
        return math.nan
    return bits_per_char(math.log(perplexity))
