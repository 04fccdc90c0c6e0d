"""predict_rnn_gluon: the book's step-by-step algorithm, and bad prefixes."""

import pytest
from mxnet import nd
from mxnet.gluon import rnn

import d2l_rnn


@pytest.fixture
def model(time_machine, ctx):
    model = d2l_rnn.RNNModel(rnn.RNN(32), time_machine[3])
    model.initialize(ctx=ctx)
    return model


def _one_step_at_a_time(prefix, num_chars, model, ctx, idx_to_char, char_to_idx):
    """The chapter's algorithm, one character per forward call."""
    state = model.begin_state(batch_size=1, ctx=ctx)
    output = [char_to_idx[prefix[0]]]
    for t in range(num_chars + len(prefix) - 1):
        Y, state = model(nd.array([[output[-1]]], ctx=ctx), state)
        if t < len(prefix) - 1:
            output.append(char_to_idx[prefix[t + 1]])
        else:
            output.append(int(Y.argmax(axis=1).asscalar()))
    return "".join(idx_to_char[i] for i in output)


@pytest.mark.parametrize("prefix", ["t", "traveller", "time traveller"])
def test_matches_the_chapter_algorithm(prefix, model, time_machine, ctx):
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    got = d2l_rnn.predict_rnn_gluon(prefix, 20, model, vocab_size, ctx, idx_to_char,
                                    char_to_idx)
    assert got == _one_step_at_a_time(prefix, 20, model, ctx, idx_to_char, char_to_idx)
    assert got.startswith(prefix) and len(got) == len(prefix) + 20


def test_zero_chars_returns_prefix(model, time_machine, ctx):
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    assert d2l_rnn.predict_rnn_gluon("time", 0, model, vocab_size, ctx, idx_to_char,
                                     char_to_idx) == "time"


@pytest.mark.parametrize("prefix,named", [("Traveller", "'T'"), ("time\u00e9x%", "'%'")])
def test_unknown_characters_are_named(prefix, named, model, time_machine, ctx):
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    with pytest.raises(ValueError, match=named):
        d2l_rnn.predict_rnn_gluon(prefix, 5, model, vocab_size, ctx, idx_to_char, char_to_idx)


def test_empty_prefix(model, time_machine, ctx):
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    with pytest.raises(ValueError, match="non-empty"):
        d2l_rnn.predict_rnn_gluon("", 5, model, vocab_size, ctx, idx_to_char, char_to_idx)
