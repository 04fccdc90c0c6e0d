"""The book's 2019 ``d2l`` samplers, restated in plain Python as the tests' spec.

These are facts about the MXNet edition's ``d2l`` package (``d2l/d2l.py``
of d2l-en, 2019), written out here so that a test can replay them draw for
draw; they are deliberately slow and simple, lists all the way:

* the epoch's offset is ``int(random.uniform(0, num_steps))``, one call to
  ``random.random()``;
* random sampling cuts the offset off, counts ``((len - 1) // num_steps) -
  1`` examples (one fewer than fit: the book "subtracts 1 extra"), puts
  their starts ``0, num_steps, 2 * num_steps, ...`` in the order
  ``random.shuffle`` gives, and takes ``batch_size`` of them per batch in
  that order, dropping an incomplete last batch;
* consecutive sampling keeps, after the offset, the longest prefix that
  ``batch_size`` divides, lays it out as ``batch_size`` rows of
  ``row_len`` characters, and makes ``(row_len - 1) // num_steps`` batches:
  batch ``i`` is columns ``i * num_steps`` to ``(i + 1) * num_steps`` of
  every row, and its targets are the same columns one further on.

Both are generators, as the book's are, so nothing is drawn before the
first batch is asked for. :data:`BOOK_D2L` is the book's ``d2l`` as the
chapter's loop (``benchmarks.chapter_baseline``) calls it: this consecutive
sampler, yielding NDArrays, and the book's gradient clipping.
"""

import random
import types

from benchmarks.chapter_baseline import chapter_grad_clipping

__all__ = ["book_offset", "book_num_examples", "book_consecutive_num_batches",
           "book_data_iter_random",
           "book_data_iter_consecutive", "BOOK_SAMPLERS", "BOOK_D2L"]


def book_offset(num_steps):
    """The book's draw of where an epoch starts."""
    return int(random.uniform(0, num_steps))


def book_num_examples(corpus_len, offset, num_steps):
    """The random sampler's examples in an epoch, before whole batches are taken."""
    return (corpus_len - offset - 1) // num_steps - 1


def book_consecutive_num_batches(corpus_len, offset, batch_size, num_steps):
    """The consecutive sampler's batches in an epoch (one column kept for the targets)."""
    return ((corpus_len - offset) // batch_size - 1) // num_steps


def book_data_iter_random(corpus, batch_size, num_steps):
    """Yield ``(X, Y)`` as lists of lists, as the book's random sampler would."""
    offset = book_offset(num_steps)
    text = list(corpus)[offset:]
    count = book_num_examples(len(text) + offset, offset, num_steps)
    starts = [k * num_steps for k in range(max(count, 0))]
    random.shuffle(starts)
    for b in range(count // batch_size):
        chosen = starts[b * batch_size:(b + 1) * batch_size]
        yield ([text[s:s + num_steps] for s in chosen],
               [text[s + 1:s + 1 + num_steps] for s in chosen])


def book_data_iter_consecutive(corpus, batch_size, num_steps):
    """Yield ``(X, Y)`` as lists of lists, as the book's consecutive sampler would."""
    offset = book_offset(num_steps)
    text = list(corpus)
    row_len = (len(text) - offset) // batch_size
    rows = [text[offset + r * row_len:offset + (r + 1) * row_len] for r in range(batch_size)]
    for i in range(book_consecutive_num_batches(len(text), offset, batch_size, num_steps)):
        first = i * num_steps
        yield ([row[first:first + num_steps] for row in rows],
               [row[first + 1:first + 1 + num_steps] for row in rows])


BOOK_SAMPLERS = {"random": book_data_iter_random,
                 "consecutive": book_data_iter_consecutive}


def _book_batches(corpus, batch_size, num_steps, ctx):
    from mxnet import nd
    for X, Y in book_data_iter_consecutive(corpus, batch_size, num_steps):
        yield nd.array(X, ctx), nd.array(Y, ctx)


BOOK_D2L = types.SimpleNamespace(data_iter_consecutive=_book_batches,
                                 grad_clipping=chapter_grad_clipping)
