"""Text generation: the chapter's greedy ``predict_rnn_gluon``, and sampling.

Every generator here is one loop, :func:`generate_ids`: warm the state up on
the prefix, then feed the model one character at a time and choose the next
one from its scores. Greedy prediction chooses the arg max; at temperature
``T > 0`` the next character is drawn from ``softmax(logits / T)`` (``T = 1``
samples the model's own distribution, smaller ``T`` sharpens it towards the
greedy choice, larger ``T`` flattens it towards uniform). Top-k keeps only
the ``k`` likeliest characters, top-p (nucleus sampling) the fewest whose
probabilities add up to ``p``; the draw is from what is kept, renormalised.
Each way of choosing is a ``choose`` function for :func:`generate_ids`
(:mod:`.choosing`). The model is fed through a ``feed(ids) -> scores``:
:func:`model_feed` runs it in NumPy on a CPU (:mod:`.host_step`, the same
scores, tens of times faster) and calls it as it is elsewhere (:func:`gluon_feed`).
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

from .._compat import import_mxnet
from .._util.checks import (
    check_count,
    check_fraction,
    check_number,
    check_positive_int,
)
from .._util.hints import Block, Context
from . import host_step
from .arguments import check_context, prefix_ids
from .choosing import (
    greedy_choose,
    sampling_choose,
    softmax_with_temperature,
    streaming,
    truncate,
)

__all__ = ["generate_ids", "greedy_generate", "model_feed", "gluon_feed", "predict_rnn_gluon",
           "softmax_with_temperature", "truncate", "sampling_choose", "generate"]


def _decode(ids, idx_to_char):
    if max(ids) >= len(idx_to_char):
        raise ValueError("the model chose character id %d, but idx_to_char has only %d "
                         "characters; pass the vocabulary the model was trained with"
                         % (max(ids), len(idx_to_char)))
    return "".join(idx_to_char[i] for i in ids)


def generate_ids(ids, num_chars, feed, choose=greedy_choose):
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


def greedy_generate(prefix, num_chars, feed, idx_to_char, char_to_idx, model=None):
    """Return ``prefix`` followed by ``num_chars`` greedily chosen characters.

    ``feed`` is as for :func:`generate_ids`; ``idx_to_char`` and
    ``char_to_idx`` are the vocabulary, as ``load_data_time_machine``
    returns it (checked against each other, and against ``model``'s
    ``vocab_size`` if given).

    Raises
    ------
    ValueError
        If ``prefix`` is empty or has characters outside the vocabulary, the
        two halves of the vocabulary disagree, or ``num_chars`` is negative.
    """
    ids = prefix_ids(prefix, model, idx_to_char, char_to_idx)
    check_count("num_chars", num_chars)
    return _decode(generate_ids(ids, num_chars, feed), idx_to_char)


def gluon_feed(model, ctx):
    """Return ``feed(ids) -> scores`` calling ``model`` itself (the Gluon step), batch 1.

    Works on any device; the state starts at zero and is carried over calls.
    """
    nd = import_mxnet().nd
    state = model.begin_state(batch_size=1, ctx=ctx)

    def feed(ids):
        nonlocal state
        scores, state = model(nd.array([ids], ctx=ctx), state)
        return scores

    return feed


def model_feed(model, ctx):
    """Return ``feed(ids) -> scores`` for :func:`generate_ids`, on a batch of one.

    On a CPU, for every layer :class:`~d2l_rnn.RNNModel` accepts, the model
    runs in NumPy on its own weights, read when generation starts (see
    :mod:`.host_step`: the same scores, tens of times faster); elsewhere (a
    GPU, other blocks) it is called as it is (:func:`gluon_feed`).
    """
    if host_step.supports(model, ctx):
        return host_step.host_feed(model, ctx)
    return gluon_feed(model, ctx)


def predict_rnn_gluon(prefix: str, num_chars: int, model: Block, vocab_size: int,
                      ctx: Context, idx_to_char: Sequence[str],
                      char_to_idx: Mapping[str, int]) -> str:
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
        If ``prefix`` is empty or has characters outside the vocabulary, or
        ``char_to_idx`` disagrees with ``idx_to_char``.
    TypeError
        If ``ctx`` is not an mxnet context.
    """
    check_context(ctx, "predict_rnn_gluon")
    return greedy_generate(prefix, num_chars, model_feed(model, ctx), idx_to_char,
                           char_to_idx, model)


def generate(prefix: str, num_chars: int, model: Block, ctx: Context,
             idx_to_char: Sequence[str], char_to_idx: Mapping[str, int],
             temperature: float | None = None,
             rng: np.random.Generator | int | None = None, *, top_k: int | None = None,
             top_p: float | None = None,
             on_char: Callable[[str], object] | None = None) -> str:
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
    temperature : float, optional
        0 for greedy prediction (the chapter's ``predict_rnn_gluon``), else
        the softmax temperature. Default: 0, or 1 when ``top_k`` or
        ``top_p`` is given.
    rng : numpy.random.Generator or int, optional
        Source of the draws (an int seeds a new one); default unseeded.
    top_k : int, optional
        Draw only among the ``top_k`` likeliest characters (1 is greedy).
    top_p : float in (0, 1], optional
        Draw only among the fewest likeliest characters whose probabilities
        add up to ``top_p``.
    on_char : callable, optional
        Called with each generated character as soon as it is chosen (to
        stream a long generation).

    Raises
    ------
    ValueError
        For a negative or non-finite temperature, ``top_k < 1``, ``top_p``
        outside (0, 1], a negative ``num_chars``, a prefix with characters
        outside the vocabulary (named), or a ``char_to_idx`` that disagrees
        with ``idx_to_char``.
    TypeError
        For a ``ctx`` that is not an mxnet context (a call in
        ``predict_rnn_gluon``'s argument order, with ``vocab_size`` fourth,
        is named as such) or a vocabulary of the wrong kind.
    """
    check_context(ctx, "generate")
    ids = prefix_ids(prefix, model, idx_to_char, char_to_idx)
    if temperature is None:
        temperature = 1.0 if top_k is not None or top_p is not None else 0.0
    temperature = check_number("temperature", temperature, 0.0, inclusive=True)
    if top_k is not None:
        check_positive_int("top_k", top_k)
    if top_p is not None:
        check_fraction("top_p", top_p, low_inclusive=False, high_inclusive=True)
    check_count("num_chars", num_chars)
    choose = (greedy_choose if temperature == 0
              else sampling_choose(temperature, top_k, top_p, rng))
    if on_char is not None:
        choose = streaming(choose, idx_to_char, on_char)
    output = generate_ids(ids, num_chars, model_feed(model, ctx), choose)
    return _decode(output, idx_to_char)
