"""Temperature sampling: greedy at 0, the softmax of logits / T above."""

import math

import numpy as np
import pytest
from modeltools import RecordingGenerator, initialize_with_biases, small_model
from mxnet import nd
from numpy_rnn import greedy

from d2l_rnn.generation import generate, softmax_with_temperature
from d2l_rnn.model import build_model

VOCAB = list("abcd")
C2I = {c: i for i, c in enumerate(VOCAB)}


@pytest.fixture
def model(ctx):
    # Large weights give a peaked, far-from-uniform next-character distribution.
    return small_model("gru", len(VOCAB), scale=1.0, ctx=ctx)


def _softmax(logits, temperature):
    """softmax(logits / T), in float64, written out here (not the library's)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def test_temperature_zero_is_the_chapters_greedy_prediction(time_machine, ctx):
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    # A GRU at this scale is far from deterministic: sampling would show.
    model = initialize_with_biases(build_model("gru", 32, 1, vocab_size), 0.3, ctx)
    got = generate("time traveller", 30, model, ctx, idx_to_char, char_to_idx, 0)
    ids = greedy(model, [char_to_idx[c] for c in "time traveller"], 30)  # after the shapes
    expected = "".join(idx_to_char[i] for i in ids)
    assert got == expected
    # A tiny temperature puts all the mass on the arg max: the same text.
    assert generate("time traveller", 30, model, ctx, idx_to_char, char_to_idx, 1e-8,
                    rng=1) == expected


def test_softmax_with_temperature():
    logits = np.array([1.0, 2.0, 0.5, -1.0])
    plain = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(softmax_with_temperature(logits, 1.0), plain)
    for t in (0.25, 0.7, 3.0, 50):   # exp(l / T) / sum, from the definition
        expected = np.exp(logits / t) / np.exp(logits / t).sum()
        np.testing.assert_allclose(softmax_with_temperature(logits, t), expected, rtol=1e-12)
    sharp, flat = softmax_with_temperature(logits, 0.25), softmax_with_temperature(logits, 50)
    assert sharp.max() > plain.max() > flat.max()
    np.testing.assert_allclose(flat, 0.25, atol=0.01)
    huge = softmax_with_temperature(np.array([1e6, 0.0]), 1e-3)  # no overflow
    np.testing.assert_array_equal(huge, [1.0, 0.0])


def test_same_seed_same_text_other_seed_other_text(model, ctx):
    texts = [generate("ab", 40, model, ctx, VOCAB, C2I, 1.0, rng=seed) for seed in (5, 5, 6)]
    assert texts[0] == texts[1] != texts[2]
    assert all(t.startswith("ab") and len(t) == 42 and set(t) <= set(VOCAB) for t in texts)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_each_draw_is_from_softmax_of_logits_over_t(temperature, model, ctx):
    rng = RecordingGenerator(0)
    text = generate("ca", 6, model, ctx, VOCAB, C2I, temperature, rng=rng)
    # Replay the text one character at a time and recompute each distribution.
    state = model.begin_state(batch_size=1, ctx=ctx)
    expected = []
    for t in range(len(text) - 1):
        logits, state = model(nd.array([[C2I[text[t]]]], ctx=ctx), state)
        if t >= 1:  # after the prefix "ca": the steps that were sampled
            expected.append(_softmax(logits[0].asnumpy(), temperature))
    assert len(rng.drawn_from) == len(expected) == 6
    for got, want in zip(rng.drawn_from, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
        assert got.max() < 0.999  # the test model is not deterministic at any T used


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, "1"])
def test_bad_temperature(bad, model, ctx):
    with pytest.raises(ValueError, match="temperature"):
        generate("a", 3, model, ctx, VOCAB, C2I, bad)


@pytest.mark.parametrize("temperature", [0, 1.0])
def test_unknown_prefix_characters_are_named(temperature, model, ctx):
    with pytest.raises(ValueError, match="'x', 'z'"):
        generate("abzx", 3, model, ctx, VOCAB, C2I, temperature)
