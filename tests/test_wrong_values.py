"""Rule 5 of issue 21: nothing wrong accepted, silently or otherwise.

Clipping thresholds must be finite and > 0 (with -1 the gradient's sign
flipped); optimizer states read back must be finite and of the right shape
(a NaN moment made every parameter NaN after one step); random states must
not be the all-zero state (``random()`` then returns 0.0 for ever); ids must
lie in the vocabulary where they enter from the host; prefixes must be a
sequence of strings (``'abc'`` was used one character at a time).

Bugs these tests caught (each planted again after the fix): no theta check
in ``clip_scale``; no finite check in ``read_trainer_state``; the generator's
own ``setstate`` as the only judge of a state; ``np.asarray(ids, float32)``
unchecked in ``evaluate_perplexity`` and the samplers; ``for prefix in
prefixes`` over a str.
"""

import hashlib
import json
import math
import random

import mxnet as mx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mxnet import autograd, gluon, nd
from mxnet.gluon import rnn

import d2l_rnn
from d2l_rnn.loop import print_progress
from d2l_rnn.model import build_model
from d2l_rnn.samplers import data_iter_consecutive, data_iter_random

VOCAB = list("abcdefg")
FAST = dict(deadline=None, derandomize=True, database=None)


def _grads(values):
    x = nd.array(values)
    x.attach_grad()
    x.grad[:] = nd.array(values)
    return x


@settings(max_examples=40, **FAST)
@given(theta=st.one_of(st.floats(max_value=0.0), st.sampled_from([math.nan, math.inf]),
                       st.integers(max_value=0), st.just(-10 ** 400), st.just(10 ** 400)))
def test_a_threshold_that_is_not_finite_and_positive_is_refused(theta):
    x = _grads([3.0, -4.0])
    with pytest.raises(ValueError, match="theta must be a finite number > 0"):
        d2l_rnn.grad_clipping([x], theta, mx.cpu())
    np.testing.assert_array_equal(x.grad.asnumpy(), [3.0, -4.0])  # untouched


@settings(max_examples=40, **FAST)
@given(theta=st.floats(1e-6, 1e6), values=st.lists(st.floats(-1e3, 1e3), min_size=1,
                                                    max_size=6))
def test_a_valid_threshold_keeps_the_gradients_direction(theta, values):
    x = _grads(values)
    d2l_rnn.grad_clipping([x], theta, mx.cpu())
    clipped, original = x.grad.asnumpy().astype(np.float64), np.array(values, np.float32)
    assert np.linalg.norm(clipped) <= max(theta, np.linalg.norm(original)) * (1 + 1e-5)
    assert (np.sign(clipped) * np.sign(original) >= 0).all()  # never flipped


def _momentum_snapshot(directory):
    model = build_model("gru", 8, 1, len(VOCAB))
    model.initialize()
    trainer = gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": 0.1,
                                                            "momentum": 0.9})
    with autograd.record():
        out, _ = model(nd.array([[1, 2, 3]]), model.begin_state(batch_size=1))
        out.sum().backward()
    trainer.step(1)
    return d2l_rnn.save_checkpoint(directory, model, VOCAB, trainer=trainer), trainer


def _rewrite(snapshot, name, data):
    (snapshot / name).write_bytes(data)
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256(data).hexdigest()
    (snapshot / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_an_optimizer_state_that_is_not_finite_is_refused_on_load(value, tmp_path):
    snapshot, _ = _momentum_snapshot(tmp_path / "ck")
    arrays = nd.load(str(snapshot / "trainer.params"))
    name = sorted(arrays)[-1]
    arrays[name][:] = value
    nd.save(str(tmp_path / "bad.params"), arrays)
    _rewrite(snapshot, "trainer.params", (tmp_path / "bad.params").read_bytes())
    with pytest.raises(d2l_rnn.CheckpointError, match="trainer.params is corrupt: the optimizer "
                                                      "state %s holds NaN" % name):
        d2l_rnn.load_checkpoint(snapshot)


def test_an_optimizer_state_of_the_wrong_shape_is_refused(tmp_path):
    snapshot, _ = _momentum_snapshot(tmp_path / "ck")
    arrays = nd.load(str(snapshot / "trainer.params"))
    name = sorted(arrays)[0]
    arrays[name] = nd.zeros(arrays[name].shape[:-1] + (arrays[name].shape[-1] + 1,))
    nd.save(str(tmp_path / "bad.params"), arrays)
    _rewrite(snapshot, "trainer.params", (tmp_path / "bad.params").read_bytes())
    checkpoint = d2l_rnn.load_checkpoint(snapshot)
    _, trainer = _momentum_snapshot(tmp_path / "other")
    with pytest.raises(d2l_rnn.CheckpointError, match="does not fit this trainer"):
        checkpoint.restore_trainer(trainer)


def _state_snapshot(tmp_path, change):
    model = build_model("gru", 8, 1, len(VOCAB))
    model.initialize()
    model(nd.array([[0, 1]]), model.begin_state(batch_size=1))
    snapshot = d2l_rnn.save_checkpoint(tmp_path / "ck", model, VOCAB)
    doc = json.loads((snapshot / "state.json").read_text())
    change(doc)
    _rewrite(snapshot, "state.json", json.dumps(doc).encode())
    return snapshot


@pytest.mark.parametrize("which,words", [
    ("python_random", lambda d: d["python_random"][1]),
    ("numpy_random", lambda d: d["numpy_random"][1]),
])
@pytest.mark.parametrize("first,rest", [
    (0, 0), (0x7FFFFFFF, 0),  # MT19937 reads only the top bit of the first word
    (0x80000000, 0),          # one bit: zeros for hundreds of thousands of draws
    (0, 0x00010001),          # 1,246 bits of 19,937
])
def test_the_all_zero_generator_state_and_its_neighbours_are_refused(which, words, first, rest,
                                                                     tmp_path):
    def zero(doc):
        key = words(doc)
        key[0] = first
        key[1:624] = [rest] * 623
    with pytest.raises(d2l_rnn.CheckpointError, match="%s is the all-zero state" % which):
        d2l_rnn.load_checkpoint(_state_snapshot(tmp_path, zero))


def test_what_one_bit_gives_and_a_seeded_state_is_accepted(tmp_path):
    saved = random.getstate()
    try:
        random.setstate((3, (0x80000000,) + (0,) * 623 + (624,), None))
        assert [random.random() for _ in range(1000)].count(0.0) > 900  # why it is refused
        random.seed(12345)
        checkpoint = d2l_rnn.load_checkpoint(_state_snapshot(tmp_path, lambda doc: None))
        checkpoint.restore_random_state()
        assert len({random.random() for _ in range(1000)}) == 1000
    finally:
        random.setstate(saved)


def _bad_ids(vocab_size):
    """Id lists with one id that is not in ``range(vocab_size)``, at any place."""
    bad = st.sampled_from([vocab_size, vocab_size + 7, -1, -300, 1.5])
    return st.tuples(st.lists(st.integers(0, vocab_size - 1), min_size=2, max_size=40),
                     bad, st.integers(0, 40)).map(
        lambda t: t[0][:t[2]] + [t[1]] + t[0][t[2]:])


@settings(max_examples=25, **FAST)
@given(ids=_bad_ids(len(VOCAB)))
def test_evaluate_perplexity_refuses_ids_outside_the_vocabulary(ids):
    model = d2l_rnn.RNNModel(rnn.RNN(4), len(VOCAB))
    model.initialize()
    with pytest.raises(ValueError, match=r"corpus_indices must be ids (from 0 to vocab_size - 1 "
                                         r"= 6|\(whole numbers\))"):
        d2l_rnn.evaluate_perplexity(model, ids, mx.cpu())


@settings(max_examples=25, **FAST)
@given(ids=_bad_ids(len(VOCAB)).filter(lambda ids: any(i < 0 or i != int(i) for i in ids)),
       sampler=st.sampled_from([data_iter_random, data_iter_consecutive]))
def test_the_samplers_refuse_ids_no_vocabulary_has(ids, sampler):
    corpus = (ids * 50)[:200]
    with pytest.raises(ValueError, match="corpus_indices must be"):
        next(sampler(corpus, 2, 5))


def test_the_chapters_training_refuses_ids_past_its_vocabulary(time_machine):
    corpus, char_to_idx, idx_to_char, vocab_size = time_machine
    model = d2l_rnn.RNNModel(rnn.RNN(8), vocab_size)
    with pytest.raises(ValueError, match="ids from 0 to vocab_size - 1"):
        d2l_rnn.train_and_predict_rnn_gluon(
            model, 8, vocab_size, mx.cpu(), list(corpus[:-1]) + [vocab_size], idx_to_char,
            char_to_idx, 1, 35, 1e2, 1e-2, 32, 1, 5, ["time"])


@pytest.mark.parametrize("call", [
    lambda tm: d2l_rnn.train_and_predict_rnn_gluon(
        d2l_rnn.RNNModel(rnn.RNN(8), tm[3]), 8, tm[3], mx.cpu(), tm[0], tm[2], tm[1], 1, 35, 1e2,
        1e-2, 32, 1, 5, "traveller"),
    lambda tm: d2l_rnn.train_and_predict_rnn(
        d2l_rnn.rnn, d2l_rnn.make_get_params(tm[3], 8, tm[3], mx.cpu()), d2l_rnn.init_rnn_state, 8,
        tm[3], mx.cpu(), tm[0], tm[2], tm[1], True, 1, 35, 1e2, 1e-2, 32, 1, 5, "traveller"),
    lambda tm: print_progress(1, "traveller", str),
], ids=["gluon", "scratch", "print_progress"])
def test_prefixes_given_as_one_string_are_refused(call, time_machine):
    with pytest.raises(ValueError, match=r"got the string 'traveller'.*pass \['traveller'\]"):
        call(time_machine)
