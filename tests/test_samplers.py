"""Samplers: shapes, shifted targets, coverage, continuity, offsets, errors."""

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import d2l_rnn
from d2l_rnn.samplers import min_corpus_length

SAMPLERS = {"random": d2l_rnn.data_iter_random,
            "consecutive": d2l_rnn.data_iter_consecutive}


def _batches(sampler, corpus, batch_size, num_steps):
    return [(X.asnumpy(), Y.asnumpy())
            for X, Y in SAMPLERS[sampler](corpus, batch_size, num_steps)]


sizes = st.tuples(st.integers(1, 8), st.integers(1, 12), st.integers(0, 200))


@settings(max_examples=60, deadline=None)
@given(sizes=sizes, sampler=st.sampled_from(sorted(SAMPLERS)), seed=st.integers(0, 2**16))
def test_batches_are_shifted_corpus_slices(sizes, sampler, seed):
    batch_size, num_steps, extra = sizes
    length = min_corpus_length(batch_size, num_steps, sampler) + extra
    corpus = np.arange(length)  # value == position, so slices are checkable
    random.seed(seed)
    batches = _batches(sampler, corpus, batch_size, num_steps)
    assert batches, "a corpus of the minimum length must give a batch"
    starts = []
    for X, Y in batches:
        assert X.shape == Y.shape == (batch_size, num_steps)
        np.testing.assert_array_equal(Y, X + 1)                       # Y is X shifted
        np.testing.assert_array_equal(X, X[:, :1] + np.arange(num_steps))  # contiguous
        starts.extend(X[:, 0].tolist())
    assert len(set(starts)) == len(starts), "examples overlap"
    if sampler == "consecutive":
        assert min(starts) < num_steps, "offset must be in [0, num_steps)"
        for (X0, _), (X1, _) in zip(batches, batches[1:]):
            np.testing.assert_array_equal(X1[:, 0], X0[:, -1] + 1)    # rows continue
    else:
        # Examples sit on one grid offset + k * num_steps: non-overlapping.
        assert len({s % num_steps for s in starts}) == 1


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_one_below_the_minimum_is_a_clear_error(sampler):
    needed = min_corpus_length(4, 5, sampler)
    with pytest.raises(ValueError, match="at least %d" % needed):
        _batches(sampler, list(range(needed - 1)), 4, 5)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_minimum_gives_a_batch_at_every_offset(sampler, monkeypatch):
    needed = min_corpus_length(4, 5, sampler)
    for offset in range(5):
        # The samplers draw the offset as the book does: int(random.uniform(0, num_steps)).
        monkeypatch.setattr(random, "uniform", lambda a, b, o=offset: o + 0.5)
        assert len(_batches(sampler, list(range(needed)), 4, 5)) >= 1


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_chapter_settings_give_eight_batches(sampler, time_machine):
    corpus = time_machine[0]
    for _ in range(10):
        assert len(_batches(sampler, corpus, 32, 35)) == 8


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_epochs_see_different_cuts(sampler):
    corpus = np.arange(3000)
    firsts = {_batches(sampler, corpus, 4, 7)[0][0][0, 0] % 7 for _ in range(40)}
    assert len(firsts) > 1


def test_random_sampler_shuffles():
    corpus = np.arange(3000)
    orders = {tuple(_batches("random", corpus, 4, 7)[0][0][:, 0] % 1000) for _ in range(5)}
    assert len(orders) > 1


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
@pytest.mark.parametrize("batch_size,num_steps", [(0, 5), (4, 0), (-1, 5), (2.0, 5), (4, None)])
def test_bad_sizes(sampler, batch_size, num_steps):
    name = "batch_size" if batch_size in (0, -1, 2.0) else "num_steps"
    with pytest.raises(ValueError, match=name):
        _batches(sampler, list(range(1000)), batch_size, num_steps)


def test_arrays_are_on_the_requested_context(ctx):
    X, Y = next(d2l_rnn.data_iter_consecutive(list(range(500)), 2, 5, ctx))
    assert X.context == ctx and Y.context == ctx
