"""Rule 3 of issue 21: everything a save needs is checked before its first byte is written.

``save_checkpoint(['a', 'a', 'b'])`` used to write a snapshot its loader
refuses and delete the good one before it; ``--save-every 10**10`` was
accepted and failed at the first save, after training. Now a save checks
what it will write with the loader's own checks, and the command line checks
what its first save will need before it trains: a failing save leaves the
previous snapshot in place, loadable, byte for byte.

Bugs these tests caught (each planted again after the fix): no vocabulary
check in the save (the loader's ``check_vocab`` only on load); the checks run
after ``remove_leftovers``/the retire; no ``check_saveable`` before training.
"""

import hashlib
import random

import numpy as np
import pytest
from clitools import TINY, one_error_line, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mxnet import autograd, gluon, nd

import d2l_rnn
from d2l_rnn.model import build_model

VOCAB = list("abcdefg")


def _model(vocab_size=7):
    model = build_model("gru", 8, 1, vocab_size)
    model.initialize()
    model(nd.array([[0, 1, 2]]), model.begin_state(batch_size=1))
    return model


def _files(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def model():
    return _model()


@pytest.fixture
def saved(tmp_path, model):
    """A folder holding a good snapshot of ``model`` (epoch 1), and its files' hashes."""
    folder = tmp_path / "ck"
    d2l_rnn.save_checkpoint(folder, model, VOCAB, epoch=1, history=[5.0])
    return folder, _files(folder)


def _intact(saved):
    folder, before = saved
    assert _files(folder) == before
    assert d2l_rnn.load_checkpoint(folder).epoch == 1


def _vocabularies():
    """Vocabularies of the model's size that no checkpoint can hold."""
    good = st.lists(st.characters(), min_size=7, max_size=7, unique=True)
    return st.one_of(
        good.flatmap(lambda v: st.integers(1, 6).map(lambda i: v[:i] + [v[0]] + v[i + 1:])),
        good.flatmap(lambda v: st.text(min_size=2, max_size=3).map(lambda t: [t] + v[1:])),
        good.map(lambda v: [""] + v[1:]),
        good.map(lambda v: [1] + v[1:]),
        good.map(lambda v: [None] + v[1:]))


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(vocab=_vocabularies(), overwrite=st.booleans())
def test_a_vocabulary_the_loader_refuses_is_never_saved(vocab, overwrite, saved, model):
    """The issue's ['a', 'a', 'b']: duplicates, strings of several characters, non-strings."""
    with pytest.raises(ValueError, match="idx_to_char (holds|has)"):
        d2l_rnn.save_checkpoint(saved[0], model, vocab, epoch=2, overwrite=overwrite)
    _intact(saved)


def test_more_than_65536_characters_are_refused_before_anything_is_written(tmp_path):
    vocab = [chr(0x100 + i) for i in range(65537)]
    model = build_model("rnn", 1, 1, len(vocab))  # never initialised: refused before that
    with pytest.raises(ValueError, match="has 65537 entries, not 1 to 65536"):
        d2l_rnn.save_checkpoint(tmp_path / "ck", model, vocab)
    assert not (tmp_path / "ck").exists()


@pytest.mark.parametrize("bad,error,match", [
    (dict(idx_to_char="abcdefg"), TypeError, "idx_to_char must be a list"),
    (dict(settings={"save_every": 0}), ValueError, "save_every must be"),
    (dict(settings={"encoding": "rot13"}), ValueError, "not a text encoding"),
    (dict(settings={"lr": 10 ** 400}), ValueError, "lr must be a number"),
    (dict(settings={"prefixes": "abc"}), ValueError, "prefixes must be a list"),
    (dict(history=[10 ** 400]), ValueError, "history must be a sequence of perplexities"),
    (dict(val_history=[0.5]), ValueError, "val_history must hold perplexities"),
    (dict(epoch=10 ** 10), ValueError, "epoch must be an integer from 0 to 10\\*\\*9"),
], ids=["str-vocab", "save_every", "codec", "huge-lr", "str-prefixes", "huge-history",
        "low-val", "epoch"])
def test_a_save_that_would_not_load_back_leaves_the_previous_snapshot(bad, error, match, saved,
                                                                      model):
    args = dict(idx_to_char=VOCAB, epoch=2)
    args.update(bad)
    with pytest.raises(error, match=match):
        d2l_rnn.save_checkpoint(saved[0], model, args.pop("idx_to_char"), **args)
    _intact(saved)


def test_an_uninitialised_model_is_a_value_error_naming_it(saved):
    with pytest.raises(ValueError, match="model is not initialised: parameter .* has no "
                                         "value yet"):
        d2l_rnn.save_checkpoint(saved[0], build_model("gru", 8, 1, len(VOCAB)), VOCAB)
    _intact(saved)


def test_an_all_zero_random_state_is_never_saved(saved, model):
    state = random.getstate()
    try:
        random.setstate((3, (0,) * 624 + (624,), None))
        assert random.random() == 0.0  # what it would restore: zeros for ever
        with pytest.raises(ValueError, match="python_random is the all-zero state"):
            d2l_rnn.save_checkpoint(saved[0], model, VOCAB, epoch=2)
    finally:
        random.setstate(state)
    _intact(saved)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_an_optimizer_state_that_is_not_finite_is_never_saved(value, saved, model):
    trainer = gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": 0.1,
                                                            "momentum": 0.9})
    with autograd.record():
        out, _ = model(nd.array([[1, 2, 3]]), model.begin_state(batch_size=1))
        out.sum().backward()
    trainer.step(1)
    states = trainer._updaters[0].states
    states[0][:] = value
    with pytest.raises(FloatingPointError, match="optimizer's state 0 .* NaN or infinite"):
        d2l_rnn.save_checkpoint(saved[0], model, VOCAB, epoch=2, trainer=trainer)
    _intact(saved)


def test_a_vocabulary_no_checkpoint_can_hold_fails_before_training(tmp_path, capsys,
                                                                    monkeypatch):
    """--data with 65,537 distinct characters and --save: refused before the first epoch."""
    def trains(*args, **kwargs):  # a regression fails here at once, not after hours
        raise AssertionError("training started")
    monkeypatch.setattr(d2l_rnn.run.TrainingRun, "fit", trains)
    text = tmp_path / "many.txt"
    text.write_text("".join(chr(0x4E00 + i % 0x5000) if i < 0x5000 else chr(0x10000 + i)
                            for i in range(65537)) * 2, encoding="utf-8")
    line = one_error_line(run(capsys, "train", *TINY, "--data", text, "--batch-size", "2",
                              "--num-steps", "2", "--save", tmp_path / "ck"))
    assert "could not be saved: idx_to_char has 65537 entries" in line
    assert "nothing was trained" in line and not (tmp_path / "ck").exists()


def test_save_every_past_what_a_checkpoint_holds_is_refused_by_the_parser(tmp_path, capsys):
    line = one_error_line(run(capsys, "train", *TINY, "--save-every", "10000000000",
                              "--save", tmp_path / "ck"))
    assert "--save-every: expected an integer from 1 to 1000000000" in line
    assert not (tmp_path / "ck").exists()


@pytest.mark.parametrize("schedule", [dict(save_every=10 ** 10),
                                      dict(save_every_batches=10 ** 10)])
def test_the_run_api_checks_its_first_save_before_it_trains(schedule, tmp_path):
    """``TrainingRun.fit`` (issue 19's run as a library) makes the CLI's check too, with the
    save schedule a checkpoint keeps: refused before training and before the folder exists.
    Planted: no ``check_run_saveable`` in ``fitting.fit`` (the save after epoch 1 failed)."""
    import mxnet as mx
    from runtools import settings as small
    run = d2l_rnn.TrainingRun(small(num_epochs=1), mx.cpu())
    with pytest.raises(ValueError, match="could not be saved: save_every.* must be .*nothing "
                                         "was trained"):
        run.fit(tmp_path / "ck", progress=False, handle_signals=False, **schedule)
    assert run.history == [] and not (tmp_path / "ck").exists()
