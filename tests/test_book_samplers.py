"""Seed for seed, the samplers give the book's batches and leave ``random`` as the book does."""

import random

import numpy as np
import pytest
from book_reference import (
    BOOK_SAMPLERS,
    book_consecutive_num_batches,
    book_num_examples,
    book_offset,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import d2l_rnn
from d2l_rnn.samplers import min_corpus_length

SAMPLERS = {"random": d2l_rnn.data_iter_random,
            "consecutive": d2l_rnn.data_iter_consecutive}

# How a caller may hold the corpus: the book's list, or a compact array.
CONTAINERS = {"list": list,
              "int32": lambda ids: np.asarray(ids, dtype=np.int32),
              "int64": lambda ids: np.asarray(ids, dtype=np.int64)}


def _run(sampler, corpus, batch_size, num_steps, seed):
    """Seed ``random``, run a whole epoch; return its batches as lists and the state after."""
    random.seed(seed)
    batches = [(X.asnumpy().tolist(), Y.asnumpy().tolist())
               for X, Y in SAMPLERS[sampler](corpus, batch_size, num_steps)]
    return batches, random.getstate()


def _run_book(sampler, corpus, batch_size, num_steps, seed):
    random.seed(seed)
    batches = [([[float(c) for c in row] for row in X], [[float(c) for c in row] for row in Y])
               for X, Y in BOOK_SAMPLERS[sampler](list(corpus), batch_size, num_steps)]
    return batches, random.getstate()


def _assert_same_as_book(sampler, ids, container, batch_size, num_steps, seed):
    got, state = _run(sampler, CONTAINERS[container](ids), batch_size, num_steps, seed)
    want, book_state = _run_book(sampler, ids, batch_size, num_steps, seed)
    assert len(got) == len(want), "batch count differs from the book's"
    assert got == want, "batches differ from the book's"
    assert state == book_state, "random is left in another state than the book leaves it"


@settings(max_examples=150, deadline=None)
@given(sampler=st.sampled_from(sorted(SAMPLERS)), batch_size=st.integers(1, 8),
       num_steps=st.integers(1, 40), extra=st.integers(0, 400),
       container=st.sampled_from(sorted(CONTAINERS)), seed=st.integers(0, 2**32 - 1),
       data=st.data())
def test_same_batches_and_random_state_as_the_book(sampler, batch_size, num_steps, extra,
                                                   container, seed, data):
    length = min_corpus_length(batch_size, num_steps, sampler) + extra
    # Distinct ids (a shuffled range) would hide nothing; repeated small ids
    # are what a text looks like, so draw both.
    vocab = data.draw(st.sampled_from([length, 28]), label="vocab")
    ids = random.Random(seed).choices(range(vocab), k=length)
    _assert_same_as_book(sampler, ids, container, batch_size, num_steps, seed)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
@pytest.mark.parametrize("length", [30, 100, 2000, 10000])
@pytest.mark.parametrize("batch_size,num_steps", [(2, 6), (3, 7), (4, 10), (32, 35)])
def test_the_issues_grid_of_corpora_and_shapes(sampler, length, batch_size, num_steps):
    """The 40 measured cases of the issue (and their random twins), seeds 0 to 4."""
    if length < min_corpus_length(batch_size, num_steps, sampler):
        with pytest.raises(ValueError, match="at least"):
            _run(sampler, list(range(length)), batch_size, num_steps, 0)
        return
    for seed in range(5):
        _assert_same_as_book(sampler, list(range(length)), "list", batch_size, num_steps, seed)


def _lengths_where_one_batch_was_added(offset, batch_size, num_steps):
    """Corpus lengths at which counting every example that fits gives one batch more.

    Those are the lengths where ``(len - offset - 1) // num_steps``, all the
    examples that fit, is a multiple of ``batch_size``: dropping the book's
    extra example then leaves one batch short of it.
    """
    low = min_corpus_length(batch_size, num_steps, "random")
    for multiple in (2, 3):
        for rest in (0, num_steps - 1):
            length = offset + 1 + multiple * batch_size * num_steps + rest
            fit = (length - offset - 1) // num_steps
            book = book_num_examples(length, offset, num_steps)
            assert fit // batch_size == book // batch_size + 1
            if length >= low:
                yield length


@pytest.mark.parametrize("batch_size,num_steps", [(1, 1), (1, 3), (2, 6), (4, 5), (3, 7),
                                                  (32, 35)])
def test_short_corpora_where_the_old_count_gave_one_more_batch(batch_size, num_steps):
    checked = 0
    for seed in range(30):
        random.seed(seed)
        offset = book_offset(num_steps)
        for length in _lengths_where_one_batch_was_added(offset, batch_size, num_steps):
            ids = list(range(length))
            _assert_same_as_book("random", ids, "list", batch_size, num_steps, seed)
            checked += 1
    assert checked >= 30


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
@pytest.mark.parametrize("batch_size,num_steps", [(1, 1), (2, 6), (4, 5), (32, 35)])
def test_corpora_at_the_minimum_length(sampler, batch_size, num_steps):
    low = min_corpus_length(batch_size, num_steps, sampler)
    for length in range(low, low + 3):
        for seed in range(20):
            _assert_same_as_book(sampler, list(range(length)), "list", batch_size, num_steps,
                                 seed)


@settings(max_examples=80, deadline=None)
@given(batch_size=st.integers(1, 8), num_steps=st.integers(1, 40),
       extra=st.integers(0, 400), seed=st.integers(0, 2**32 - 1))
def test_random_sampler_examples_per_epoch_is_the_books_count(batch_size, num_steps, extra,
                                                              seed):
    length = min_corpus_length(batch_size, num_steps, "random") + extra
    random.seed(seed)
    offset = book_offset(num_steps)
    # Whole batches of the book's count: one example fewer than would fit.
    expected = book_num_examples(length, offset, num_steps) // batch_size * batch_size
    batches, _ = _run("random", list(range(length)), batch_size, num_steps, seed)
    assert sum(len(X) for X, _ in batches) == expected
    # Every example starts on the grid offset + k * num_steps.
    assert {row[0] % num_steps for X, _ in batches for row in X} <= {offset % num_steps}


@settings(max_examples=60, deadline=None)
@given(batch_size=st.integers(1, 8), num_steps=st.integers(1, 40),
       extra=st.integers(0, 400), seed=st.integers(0, 2**32 - 1))
def test_consecutive_sampler_batches_per_epoch_is_the_books_count(batch_size, num_steps,
                                                                  extra, seed):
    length = min_corpus_length(batch_size, num_steps, "consecutive") + extra
    random.seed(seed)
    offset = book_offset(num_steps)
    expected = book_consecutive_num_batches(length, offset, batch_size, num_steps)
    batches, _ = _run("consecutive", list(range(length)), batch_size, num_steps, seed)
    assert len(batches) == expected
    assert batches[0][0][0][0] == offset  # the first row starts at the book's offset


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_all_draws_happen_at_the_first_batch_as_in_the_book(sampler):
    random.seed(3)
    before = random.getstate()
    epoch = SAMPLERS[sampler](list(range(500)), 4, 7)
    assert random.getstate() == before  # a generator: nothing drawn yet
    next(epoch)
    after_first = random.getstate()
    list(epoch)
    assert random.getstate() == after_first != before


def _book_batches_at(sampler, length, offset, batch_size, num_steps):
    """How many batches the book's sampler gives from ``offset`` (its count formulas)."""
    if sampler == "random":
        return book_num_examples(length, offset, num_steps) // batch_size
    return book_consecutive_num_batches(length, offset, batch_size, num_steps)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
@pytest.mark.parametrize("batch_size", [1, 2, 3, 32])
@pytest.mark.parametrize("num_steps", [1, 2, 5, 35])
def test_the_minimum_is_the_shortest_corpus_the_book_batches_at_every_offset(
        sampler, batch_size, num_steps):
    low = min_corpus_length(batch_size, num_steps, sampler)
    assert all(_book_batches_at(sampler, low, offset, batch_size, num_steps) >= 1
               for offset in range(num_steps))
    # One shorter, the book yields nothing from some offset: the library refuses.
    assert any(_book_batches_at(sampler, low - 1, offset, batch_size, num_steps) == 0
               for offset in range(num_steps))
