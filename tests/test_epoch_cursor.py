"""The engine's cursor: an epoch stopped after any batch and resumed there is the whole epoch.

Planted bugs these tests caught: the cursor not restoring Python's random state before the
sampler draws (the resumed epoch trains other batches), the restored losses summed after the
new ones instead of before them (another float32 rounding of the mean), and the carried
hidden state replaced by a fresh one at the resume.
"""

import random

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd

import d2l_rnn
from d2l_rnn.loop import EpochCursor
from d2l_rnn.model import build_model
from d2l_rnn.training import make_epoch


def _epoch(cell, is_random_iter, corpus, vocab_size, ctx):
    d2l_rnn.set_seed(1)
    model = build_model(cell, 16, 1, vocab_size)
    model.initialize(ctx=ctx, init=mx.init.Normal(0.01))
    model.hybridize(static_alloc=True)
    return make_epoch(model, 1e2, corpus, 8, 10, 1e-2, ctx, is_random_iter=is_random_iter)


def _params(model):
    return [p.data().asnumpy() for p in model.collect_params().values()]


def _as_if_read_from_disk(state):
    if state is None:
        return None
    return [[nd.array(a.asnumpy()) for a in per_device] for per_device in state]


@pytest.mark.parametrize("cell,is_random_iter,stop_after", [
    ("rnn", False, 1), ("lstm", False, 7), ("gru", True, 4)])
def test_an_epoch_stopped_after_any_batch_resumes_bit_for_bit(cell, is_random_iter, stop_after,
                                                              time_machine, ctx):
    corpus, _, _, vocab_size = time_machine
    corpus = corpus[:1500]
    whole = _epoch(cell, is_random_iter, corpus, vocab_size, ctx)
    expected = [whole(), whole()]
    after = random.getstate()

    part = _epoch(cell, is_random_iter, corpus, vocab_size, ctx)
    assert part() == expected[0]
    seen = []
    cursor = EpochCursor(before_batch=seen.append,
                         after_batch=lambda c, last: c.batches_done == stop_after)
    assert part(cursor) is None and cursor.stopped and cursor.batches_done == stop_after
    assert seen == list(range(stop_after))
    d2l_rnn.set_seed(12345)  # as a new process would be: only the cursor restores the draw
    resumed = EpochCursor(stop_after, [nd.array(l.asnumpy()) for l in cursor.losses],
                          _as_if_read_from_disk(cursor.state), cursor.python_random,
                          cursor.numpy_random, before_batch=seen.append)
    assert part(resumed, norms=part.norms) == expected[1]
    assert seen[stop_after:] == list(range(stop_after, resumed.batches_done))
    assert random.getstate() == after
    for a, b in zip(_params(whole.model), _params(part.model)):
        np.testing.assert_array_equal(a, b)
    assert part.mean_grad_norm() == whole.mean_grad_norm()


def test_after_batch_is_told_the_last_batch_and_a_cursor_past_the_end_is_refused(
        time_machine, ctx):
    corpus, _, _, vocab_size = time_machine
    epoch = _epoch("rnn", False, corpus[:1500], vocab_size, ctx)
    lasts = []
    cursor = EpochCursor(after_batch=lambda c, last: lasts.append(last))
    assert epoch(cursor) > 0
    assert lasts == [False] * (len(lasts) - 1) + [True] and len(lasts) == cursor.batches_done
    losses = [nd.zeros((1,))] * len(lasts)
    with pytest.raises(ValueError, match="after batch %d, but this epoch has %d"
                       % (len(lasts), len(lasts))):
        epoch(EpochCursor(len(lasts), losses, None, cursor.python_random, cursor.numpy_random))
    with pytest.raises(ValueError, match="needs their 2 losses, got 1"):
        EpochCursor(2, losses[:1])
