"""Top-k and top-p sampling, and generation streamed one character at a time."""

import numpy as np
import pytest
from modeltools import RecordingGenerator, small_model
from numpy_rnn import greedy as numpy_greedy

import d2l_rnn
from d2l_rnn import generation
from d2l_rnn.generation import choosing, softmax_with_temperature, truncate

VOCAB = list("abcdef")
C2I = {c: i for i, c in enumerate(VOCAB)}


@pytest.fixture
def model(ctx):
    return small_model("gru", len(VOCAB), scale=1.0, ctx=ctx)


def test_truncate_keeps_the_likeliest():
    probs = np.array([0.1, 0.4, 0.05, 0.3, 0.15])
    np.testing.assert_allclose(truncate(probs, top_k=2), [0, 4 / 7, 0, 3 / 7, 0])
    # 0.4 + 0.3 = 0.7 < 0.75: the third likeliest (0.15) is needed too.
    np.testing.assert_allclose(truncate(probs, top_p=0.75), np.array([0, 8, 0, 6, 3]) / 17)
    np.testing.assert_allclose(truncate(probs, top_p=0.7), [0, 4 / 7, 0, 3 / 7, 0])
    np.testing.assert_allclose(truncate(probs, top_k=1, top_p=0.99), [0, 1, 0, 0, 0])
    np.testing.assert_allclose(truncate(probs, top_p=1.0), probs)
    np.testing.assert_allclose(truncate(probs), probs)
    assert truncate([0.25, 0.5, 0.25], top_k=2).tolist() == [1 / 3, 2 / 3, 0]  # ties: lower id


@pytest.mark.parametrize("kwargs,kept", [({"top_k": 3}, lambda p: 3),
                                         ({"top_p": 0.6}, lambda p: _nucleus(p, 0.6))])
def test_every_draw_is_from_the_cut_distribution(kwargs, kept, model, ctx, monkeypatch):
    full = []
    original = choosing.softmax_with_temperature
    monkeypatch.setattr(choosing, "softmax_with_temperature",
                        lambda logits, t: full.append(original(logits, t)) or full[-1])
    rng = RecordingGenerator(0)
    d2l_rnn.generate("ab", 20, model, ctx, VOCAB, C2I, rng=rng, **kwargs)
    assert len(rng.drawn_from) == len(full) == 20
    for p, q in zip(full, rng.drawn_from):
        assert np.count_nonzero(q) == kept(p) < len(VOCAB)
        support = np.argsort(-p, kind="stable")[:kept(p)]
        np.testing.assert_allclose(q[support], p[support] / p[support].sum())


def _nucleus(p, top_p):
    return int(np.searchsorted(np.cumsum(np.sort(p)[::-1]), top_p)) + 1


def test_top_k_1_is_greedy(ctx):
    # Large enough that the text depends on the whole prefix and does not settle at once.
    model = small_model("gru", len(VOCAB), num_hiddens=32, ctx=ctx)
    greedy = d2l_rnn.generate("ab", 40, model, ctx, VOCAB, C2I)
    # The greedy text recomputed in NumPy (tests/numpy_rnn.py), not through generate.
    assert greedy == "".join(VOCAB[i] for i in numpy_greedy(model, [C2I["a"], C2I["b"]], 40))
    assert greedy[1:] != d2l_rnn.generate("b", 40, model, ctx, VOCAB, C2I)
    assert len(set(greedy[2:])) > 1
    for seed in range(3):
        assert d2l_rnn.generate("ab", 40, model, ctx, VOCAB, C2I, top_k=1, rng=seed) == greedy
    sampled = {d2l_rnn.generate("ab", 40, model, ctx, VOCAB, C2I, top_k=3, rng=s)
               for s in range(3)}
    assert any(text != greedy for text in sampled)  # the model is not greedy by nature


@pytest.mark.parametrize("temperature", [0, 1.0])
def test_characters_are_handed_out_as_they_are_chosen(temperature, model, ctx, monkeypatch):
    events = []
    original = generation.model_feed

    def logged_feed(*args):
        feed = original(*args)
        return lambda ids: events.append("feed") or feed(ids)

    monkeypatch.setattr(generation, "model_feed", logged_feed)
    streamed = []
    text = d2l_rnn.generate("abc", 5, model, ctx, VOCAB, C2I, temperature, rng=1,
                            on_char=lambda c: (streamed.append(c), events.append("char")))
    assert "".join(streamed) == text[3:] and len(text) == 8
    assert events == ["feed"] + ["feed", "char"] * 5  # the prefix, then one step per char


@pytest.mark.parametrize("kwargs,message", [
    ({"top_k": 0}, "top_k must be a positive integer"),
    ({"top_k": 1.5}, "top_k must be a positive integer"),
    ({"top_p": 0}, r"top_p must be a number in \(0, 1\]"),
    ({"top_p": 1.2}, r"top_p must be a number in \(0, 1\]"),
])
def test_bad_top_k_and_top_p(kwargs, message, model, ctx):
    with pytest.raises(ValueError, match=message):
        d2l_rnn.generate("a", 3, model, ctx, VOCAB, C2I, **kwargs)


def test_softmax_is_unchanged_without_a_cut():
    logits = np.array([1.0, 2.0, 0.5])
    assert truncate(softmax_with_temperature(logits, 1.0)).tolist() == \
        softmax_with_temperature(logits, 1.0).tolist()
