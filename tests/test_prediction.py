"""predict_rnn_gluon: the chapter's greedy algorithm, recomputed in NumPy, and bad prefixes.

The model's weights are drawn large enough that its state carries the
prefix: a prediction that ignored the prefix (or all but its last character)
would continue "traveller" and "time traveller" the same way.
"""

import pytest
from modeltools import initialize_with_biases
from mxnet.gluon import rnn
from numpy_rnn import greedy

import d2l_rnn

LAYERS = {"rnn": lambda: rnn.RNN(32), "gru": lambda: rnn.GRU(32),
          "lstm-2-layers": lambda: rnn.LSTM(32, num_layers=2)}


def _model(make_layer, vocab_size, ctx):
    return initialize_with_biases(d2l_rnn.RNNModel(make_layer(), vocab_size), 0.3, ctx)


@pytest.fixture
def model(time_machine, ctx):
    return _model(LAYERS["rnn"], time_machine[3], ctx)


def _predict(prefix, num_chars, model, time_machine, ctx):
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    return d2l_rnn.predict_rnn_gluon(prefix, num_chars, model, vocab_size, ctx, idx_to_char,
                                     char_to_idx)


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("prefix", ["t", "traveller", "time traveller"])
def test_matches_the_chapter_algorithm_in_numpy(prefix, layer, time_machine, ctx):
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    model = _model(LAYERS[layer], vocab_size, ctx)
    got = _predict(prefix, 20, model, time_machine, ctx)
    expected = greedy(model, [char_to_idx[c] for c in prefix], 20)
    assert got == "".join(idx_to_char[i] for i in expected)
    assert got.startswith(prefix) and len(got) == len(prefix) + 20


def test_the_whole_prefix_steers_the_prediction(model, time_machine, ctx):
    # The same last characters, different beginnings: different continuations.
    short = _predict("traveller", 20, model, time_machine, ctx)[len("traveller"):]
    long = _predict("time traveller", 20, model, time_machine, ctx)[len("time traveller"):]
    assert short != long


def test_zero_chars_returns_prefix(model, time_machine, ctx):
    assert _predict("time", 0, model, time_machine, ctx) == "time"


@pytest.mark.parametrize("prefix,named", [("Traveller", "'T'"), ("time\u00e9x%", "'%'")])
def test_unknown_characters_are_named(prefix, named, model, time_machine, ctx):
    with pytest.raises(ValueError, match=named):
        _predict(prefix, 5, model, time_machine, ctx)


def test_empty_prefix(model, time_machine, ctx):
    with pytest.raises(ValueError, match="non-empty"):
        _predict("", 5, model, time_machine, ctx)
