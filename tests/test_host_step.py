"""The fast generation step (NumPy on the host) against the Gluon step it replaces on a CPU.

The Gluon step (``gluon_feed``: the model called once per character) is the
reference: the host step must give the same scores on every layer kind, and
the same text, greedy and sampled, from trained models.
"""

import contextlib
import io
import itertools

import mxnet as mx
import numpy as np
import pytest
from modeltools import initialize_with_biases
from mxnet import gluon
from numpy_rnn import run_model

import d2l_rnn
from d2l_rnn import generation
from d2l_rnn._util.blas import blas_thread_functions, on_one_blas_thread
from d2l_rnn.generation import generate, gluon_feed, host_step, model_feed
from d2l_rnn.model import build_model

KINDS = [("rnn", "relu"), ("rnn", "tanh"), ("gru", "relu"), ("lstm", "relu")]
CHUNKS = [[1, 2, 3, 4, 5], [6], [7], [0, 10, 9], [2], [8]]   # a warm-up, then steps


def _model(ctx, cell, activation="relu", num_layers=1, bidirectional=False, vocab_size=11,
           num_hiddens=16, scale=0.5, **kwargs):
    """Every parameter drawn, biases too: a dropped, swapped or doubled bias shows."""
    model = build_model(cell, num_hiddens, num_layers, vocab_size, activation=activation,
                        bidirectional=bidirectional, **kwargs)
    return initialize_with_biases(model, scale, ctx)


@pytest.mark.parametrize("kind,num_layers,bidirectional",
                         list(itertools.product(KINDS, [1, 2, 3], [False, True])))
def test_same_scores_as_the_gluon_step(kind, num_layers, bidirectional, ctx):
    """Bugs it catches (biases drawn): the first layer's recurrent bias dropped; a GRU's
    input and recurrent biases swapped, or its new gate's recurrent bias folded in twice."""
    model = _model(ctx, *kind, num_layers=num_layers, bidirectional=bidirectional)
    assert host_step.supports(model, ctx)
    gluon_step, fast = gluon_feed(model, ctx), host_step.host_feed(model, ctx)
    for ids in CHUNKS:
        expected, got = gluon_step(ids).asnumpy(), fast(ids)
        assert got.shape == expected.shape == (len(ids), 11)
        # float32 rounding only: relative to the largest score.
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("kind,num_layers,bidirectional",
                         list(itertools.product(KINDS, [1, 2], [False, True])))
def test_same_scores_as_the_numpy_reference(kind, num_layers, bidirectional, ctx):
    """The host step against tests/numpy_rnn.py (float64, from the equations), not only
    against MXNet: chunks of several characters, then single ones, one state throughout."""
    model = _model(ctx, *kind, num_layers=num_layers, bidirectional=bidirectional)
    fast = host_step.host_feed(model, ctx)
    shape = (num_layers * (2 if bidirectional else 1), 1, 16)
    state = [np.zeros(shape) for _ in range(2 if kind[0] == "lstm" else 1)]
    for ids in CHUNKS:
        got = fast(ids)   # first: its first call fixes the deferred shapes
        expected, state = run_model(model, [ids], state)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


def test_the_state_carries_over_between_calls(ctx):
    # Steps after a warm-up give the scores of one call over the whole text.
    model = _model(ctx, "lstm", num_layers=2)
    whole = gluon_feed(model, ctx)(sum(CHUNKS, [])).asnumpy()
    fast = host_step.host_feed(model, ctx)
    pieces = np.concatenate([fast(ids) for ids in CHUNKS])
    np.testing.assert_allclose(pieces, whole, rtol=0, atol=1e-5 * np.abs(whole).max())


def test_scores_answer_the_ndarray_reads(ctx):
    scores = host_step.host_feed(_model(ctx, "gru"), ctx)([3])
    assert isinstance(scores.asnumpy(), np.ndarray) and scores.asnumpy().shape == (1, 11)
    assert scores.argmax(axis=1).asscalar() == int(np.argmax(scores.asnumpy()))
    assert type(scores[0].asnumpy()) is np.ndarray


def test_the_weights_are_read_when_generation_starts(ctx, time_machine):
    # Train further between two generations: the second uses the new weights.
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    model = _model(ctx, "rnn", vocab_size=vocab_size, num_hiddens=32, scale=0.3)
    before = d2l_rnn.predict_rnn_gluon("time", 40, model, vocab_size, ctx, idx_to_char,
                                       char_to_idx)
    for param in model.collect_params().values():
        param.set_data(param.data() * 1.5)
    after = d2l_rnn.predict_rnn_gluon("time", 40, model, vocab_size, ctx, idx_to_char,
                                      char_to_idx)
    reference = generation.greedy_generate("time", 40, gluon_feed(model, ctx), idx_to_char,
                                           char_to_idx)
    assert after == reference != before


def test_a_model_never_called_is_initialised_as_by_its_first_call(ctx):
    model = build_model("gru", 8, 2, 11)
    model.initialize(ctx=ctx)
    scores = model_feed(model, ctx)([1, 2])   # deferred shapes: fixed on the way
    assert scores.shape == (2, 11)
    np.testing.assert_allclose(scores, gluon_feed(model, ctx)([1, 2]).asnumpy(), rtol=1e-5,
                               atol=1e-7)


def test_which_step_runs_where(ctx):
    model = _model(ctx, "lstm")
    assert host_step.supports(model, ctx)
    assert not host_step.supports(model, mx.gpu(0))        # GPUs keep the Gluon step

    class Doubled(d2l_rnn.RNNModel):
        def hybrid_forward(self, F, inputs, state):
            output, state = super().hybrid_forward(F, inputs, state)
            return 2 * output, state

    assert not host_step.supports(Doubled(gluon.rnn.GRU(4), 11), ctx)
    projected = d2l_rnn.RNNModel(gluon.rnn.LSTM(8, projection_size=4), 11)
    assert not host_step.supports(projected, ctx)
    half = _model(ctx, "rnn")
    half.cast("float16")
    assert not host_step.supports(half, ctx)
    with mx.autograd.train_mode():                         # dropout would apply
        assert not host_step.supports(model, ctx)


def test_dropout_is_not_applied_when_generating(ctx):
    model = _model(ctx, "gru", num_layers=2, dropout=0.5)
    assert model.drop is not None and model.rnn._dropout == 0.5
    assert host_step.supports(model, ctx)
    expected = gluon_feed(model, ctx)([1, 2, 3]).asnumpy()
    got = host_step.host_feed(model, ctx)([1, 2, 3])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


def test_bidirectional_generation_is_the_gluon_steps(ctx, time_machine):
    # Generating, the backward direction reads each call's characters last
    # to first: the warm-up prefix, then one character per call.
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    model = _model(ctx, "gru", num_layers=2, bidirectional=True, vocab_size=vocab_size,
                   num_hiddens=32, scale=0.3)
    for prefix in ["t", "the time traveller"]:
        fast = generation.greedy_generate(prefix, 60, model_feed(model, ctx), idx_to_char,
                                          char_to_idx)
        slow = generation.greedy_generate(prefix, 60, gluon_feed(model, ctx), idx_to_char,
                                          char_to_idx)
        assert fast == slow and len(set(fast[len(prefix):])) > 1


def test_one_blas_thread_inside_the_settings_back_after():
    functions = blas_thread_functions()
    if functions is None:
        pytest.skip("NumPy does not use OpenBLAS here")
    get, set_ = functions
    set_(2)
    seen = on_one_blas_thread(lambda x: (get(), x))(5)
    assert seen == (1, 5) and get() == 2


# --- the same text from trained models --------------------------------------------------

@pytest.fixture(scope="module", params=["chapter", "gru", "lstm"])
def trained(request, time_machine):
    """The chapter's model (its 200 epochs), or a GRU or LSTM trained for 30 epochs.

    Module-scoped: each model is trained once for both tests that use it; the
    chapter's is the session's one chapter run.
    """
    if request.param == "chapter":
        return request.getfixturevalue("chapter_run")[2]
    corpus_indices, _, _, vocab_size = time_machine
    d2l_rnn.set_seed(0)
    model, epochs = build_model(request.param, 128, 1, vocab_size), 30
    with contextlib.redirect_stdout(io.StringIO()):   # no prefixes: nothing to print
        d2l_rnn.train_and_predict_rnn_gluon(
            model, model.rnn._hidden_size, vocab_size, mx.cpu(), corpus_indices, [], {},
            epochs, 35, 1e2, 1e-2, 32, epochs, 1, [])
    return model


def _prefixes(time_machine, count=20):
    corpus_indices, _, idx_to_char, _ = time_machine
    starts = np.linspace(0, len(corpus_indices) - 100, count).astype(int)
    return ["".join(idx_to_char[i] for i in corpus_indices[s:s + 1 + s % 23]) for s in starts]


def _gluon_only(monkeypatch):
    monkeypatch.setattr(host_step, "supports", lambda model, ctx: False)


# The slow tier: the fast checks above compare the scores of every layer kind;
# these compare 500-character texts of trained models. One xdist worker takes
# them all, so the chapter's run and the two trained models are made once.
@pytest.mark.extended
@pytest.mark.xdist_group("chapter_run")
def test_greedy_text_is_the_gluon_steps(trained, time_machine, ctx, monkeypatch):
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    prefixes = _prefixes(time_machine)
    assert len(set(prefixes)) == 20

    def predict(prefix):
        return d2l_rnn.predict_rnn_gluon(prefix, 500, trained, vocab_size, ctx, idx_to_char,
                                         char_to_idx)

    fast = [predict(prefix) for prefix in prefixes]
    _gluon_only(monkeypatch)
    assert [predict(prefix) for prefix in prefixes] == fast
    assert len({text[-500:] for text in fast}) > 1   # trained: the prefix matters


@pytest.mark.extended
@pytest.mark.xdist_group("chapter_run")
def test_sampled_text_is_the_gluon_steps(trained, time_machine, ctx, monkeypatch):
    _, char_to_idx, idx_to_char, _ = time_machine
    prefixes = _prefixes(time_machine, 4)

    def sample(prefix, seed):
        return generate(prefix, 500, trained, ctx, idx_to_char, char_to_idx, 1.0, rng=seed)

    fast = [sample(prefix, seed) for seed, prefix in enumerate(prefixes)]
    _gluon_only(monkeypatch)
    assert [sample(prefix, seed) for seed, prefix in enumerate(prefixes)] == fast


def test_sampling_through_both_steps_draws_from_the_same_scores(ctx, monkeypatch):
    # The quick version of the sampled-text test above, on untrained weights.
    vocab = list("abcdefghijk")
    char_to_idx = {c: i for i, c in enumerate(vocab)}
    model = _model(ctx, "lstm", num_layers=2, scale=1.0)
    fast = generate("abc", 200, model, ctx, vocab, char_to_idx, 0.7, rng=3)
    _gluon_only(monkeypatch)
    assert generate("abc", 200, model, ctx, vocab, char_to_idx, 0.7, rng=3) == fast

