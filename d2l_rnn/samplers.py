"""Minibatch samplers over an encoded corpus (the book's two ways to cut it).

Both yield ``(X, Y)`` pairs of shape ``(batch_size, num_steps)`` where ``Y``
is ``X`` shifted one character ahead. Each epoch begins at a random offset in
``[0, num_steps)`` so that successive epochs see different cuts of the text.

* :func:`data_iter_random` takes non-overlapping slices in random order; the
  hidden state must be reset for every batch.
* :func:`data_iter_consecutive` lays the corpus out as ``batch_size`` parallel
  streams; row ``r`` of batch ``i + 1`` continues where row ``r`` of batch
  ``i`` stopped, so the hidden state can be carried from batch to batch.

Both follow the book's 2019 ``d2l`` package draw for draw: from the same
state of Python's ``random`` they yield the same batches (values, order and
count) and leave ``random`` in the same state, so a seeded experiment from
the book repeats here. Where the book would silently yield no batch for a
too short corpus, they raise ``ValueError`` naming the minimum length.

An epoch's indices are built in NumPy and copied to the device once, not
batch by batch: each copy is a host-to-device transfer the engine must wait
for. They are laid out as ``(num_batches, batch_size, num_steps)`` so that
batch ``i`` is ``X_all[i]``, a view MXNet hands out without running an
operator (slicing ``[:, a:b]`` would cost an operator and, in MXNet's
Python indexing code, about 0.1 ms of host time per batch).
"""

from __future__ import annotations

import random
from typing import Iterator

import numpy as np

from ._compat import import_mxnet
from ._util.checks import check_ids, check_positive_int
from ._util.hints import Context, Corpus, NDArray

__all__ = ["data_iter_random", "data_iter_consecutive",
           "min_corpus_length", "num_batches"]


def min_corpus_length(batch_size, num_steps, sampler="consecutive"):
    """Shortest corpus that gives at least one batch for every offset."""
    if sampler == "random":
        # (len - offset - 1) // num_steps - 1 >= batch_size with offset = num_steps - 1
        return (batch_size + 2) * num_steps
    if sampler == "consecutive":
        # (len - offset) // batch_size >= num_steps + 1 with offset = num_steps - 1
        return batch_size * (num_steps + 1) + num_steps - 1
    raise ValueError("sampler must be 'random' or 'consecutive', got %r"
                     % (sampler,))


def num_batches(num_chars, batch_size, num_steps, sampler="consecutive", offset=0):
    """The number of batches an epoch over ``num_chars`` characters has, from ``offset``.

    The offset is drawn at the start of each epoch, in ``[0, num_steps)``,
    so the count varies by at most one from epoch to epoch.
    """
    if sampler == "random":
        num_examples = (num_chars - offset - 1) // num_steps - 1
        return max(num_examples // batch_size, 0)
    return max(((num_chars - offset) // batch_size - 1) // num_steps, 0)


def _checked_corpus(corpus_indices, batch_size, num_steps, sampler):
    check_positive_int("batch_size", batch_size)
    check_positive_int("num_steps", num_steps)
    # No copy for an integer array: only the epoch's windows are converted. The ids
    # are checked here, where they enter (the model cannot, without a host sync).
    corpus = check_ids("corpus_indices", corpus_indices)
    needed = min_corpus_length(batch_size, num_steps, sampler)
    if len(corpus) < needed:
        raise ValueError(
            "corpus of %d characters is too short for batch_size=%d, "
            "num_steps=%d: the %s sampler needs at least %d; use more text "
            "or smaller sizes" % (len(corpus), batch_size, num_steps, sampler,
                                  needed))
    return corpus


def _offset(num_steps):
    """The book's draw of the epoch's first character, in ``[0, num_steps)``.

    ``int(random.uniform(0, num_steps))``, not ``random.randint``: the same
    range, but another use of Python's random stream, and a seeded run must
    see the book's cuts and leave ``random`` as the book leaves it.
    (``num_steps * random()`` rounds to less than ``num_steps``.)
    """
    return int(random.uniform(0, num_steps))


def _batches_on_device(windows, ctx):
    """Yield ``(X, Y)`` from ``windows`` of shape ``(batches, batch_size, num_steps + 1)``."""
    nd = import_mxnet().nd
    ctx = ctx if ctx is not None else import_mxnet().cpu()
    # One transfer each for the epoch's inputs and targets.
    X_all = nd.array(windows[:, :, :-1], ctx=ctx, dtype=np.float32)
    Y_all = nd.array(windows[:, :, 1:], ctx=ctx, dtype=np.float32)
    for i in range(len(windows)):
        yield X_all[i], Y_all[i]


def data_iter_random(corpus_indices: Corpus, batch_size: int, num_steps: int,
                     ctx: Context | None = None) -> Iterator[tuple[NDArray, NDArray]]:
    """Yield shuffled, non-overlapping ``(X, Y)`` minibatches.

    As the book's: from a random offset, the corpus is cut into examples of
    ``num_steps`` characters, one fewer than fit (the book subtracts one
    extra), whose starts are put in order by ``random.shuffle``; batches take
    them in that order and an incomplete last batch is dropped.

    Parameters
    ----------
    corpus_indices : list of int or 1-D integer array
        The encoded text.
    batch_size, num_steps : int
        Batch shape ``(batch_size, num_steps)``.
    ctx : mxnet.Context, optional
        Device of the yielded arrays (default CPU).

    Yields
    ------
    X, Y : NDArray, shape ``(batch_size, num_steps)``, float32
        Inputs and next-character targets.

    Raises
    ------
    ValueError
        If the corpus is shorter than ``min_corpus_length(batch_size,
        num_steps, 'random')`` (the book yields nothing, or not at every
        offset), holds something else than whole numbers >= 0, or a size is
        not a positive int.
    TypeError
        If the corpus is not a 1-D sequence of numbers (a ``str``, a 2-D
        array: the message says what it got).
    """
    corpus = _checked_corpus(corpus_indices, batch_size, num_steps, "random")
    corpus = corpus[_offset(num_steps):]
    # "- 1" inside: the last input character needs a target; "- 1" outside:
    # the book's extra example left out, kept so that the shuffle draws what
    # the book's draws.
    num_examples = (len(corpus) - 1) // num_steps - 1
    count = num_batches(len(corpus), batch_size, num_steps, "random")
    starts = list(range(0, num_examples * num_steps, num_steps))
    random.shuffle(starts)
    chosen = np.array(starts[:count * batch_size])
    offsets = chosen[:, None] + np.arange(num_steps + 1)
    windows = corpus[offsets].reshape(count, batch_size, num_steps + 1)
    yield from _batches_on_device(windows, ctx)


def data_iter_consecutive(corpus_indices: Corpus, batch_size: int, num_steps: int,
                          ctx: Context | None = None) -> Iterator[tuple[NDArray, NDArray]]:
    """Yield ``(X, Y)`` minibatches whose rows continue across batches.

    As the book's: from a random offset, the longest prefix of the rest
    that ``batch_size`` divides is laid out as ``batch_size`` rows, and
    batch ``i`` takes columns ``i * num_steps`` onward of every row (one
    column is kept back for the last target). Parameters, yielded arrays
    and errors are as in :func:`data_iter_random`.
    """
    corpus = _checked_corpus(corpus_indices, batch_size, num_steps,
                             "consecutive")
    corpus = corpus[_offset(num_steps):]
    batch_len = len(corpus) // batch_size
    streams = corpus[:batch_size * batch_len].reshape(batch_size, batch_len)
    # Batch i holds columns [i * num_steps, (i + 1) * num_steps] of every
    # stream: the inputs and, one further, the last target.
    starts = np.arange(num_batches(len(corpus), batch_size, num_steps)) * num_steps
    windows = streams[:, starts[:, None] + np.arange(num_steps + 1)]  # (bs, batches, ns + 1)
    yield from _batches_on_device(windows.transpose(1, 0, 2), ctx)
