"""Training sessions: the chapter's run, exact resume, validation, progress bar, plot."""

import math

import numpy as np
import pytest
from clitools import TINY, chapter_lines, run, without_times
from modeltools import initialize_with_biases
from mxnet import nd
from mxnet.gluon import rnn

import d2l_rnn
from d2l_rnn.model import build_model
from d2l_rnn.run import TrainingRun
from d2l_rnn.settings import TrainSettings, load_text
from d2l_rnn.training import evaluate_perplexity


def test_defaults_are_the_chapters():
    s = TrainSettings()
    assert (s.cell, s.num_hiddens, s.num_layers, s.num_steps) == ("rnn", 256, 1, 35)
    assert (s.num_epochs, s.batch_size, s.lr, s.clipping_theta) == (200, 32, 1e2, 1e-2)
    assert (s.pred_period, s.pred_len, s.prefixes) == (50, 50, ("traveller", "time traveller"))
    assert (s.num_chars, s.val_chars, s.sampler) == (10000, 0, "consecutive")


def test_cli_prints_what_the_chapters_function_prints(capsys, tmp_path, time_machine, ctx):
    """Same lines (but the times) and the same history as train_and_predict_rnn_gluon."""
    result = run(capsys, "train", "--num-hiddens", "32", "--epochs", "4", "--pred-period",
                 "2", "--pred-len", "10", "--ctx", "cpu", "--save", tmp_path)
    assert result.code == 0, result.err
    d2l_rnn.set_seed(0)  # the CLI's default seed
    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    history = d2l_rnn.train_and_predict_rnn_gluon(
        d2l_rnn.RNNModel(rnn.RNN(32), vocab_size), 32, vocab_size, ctx, corpus_indices,
        idx_to_char, char_to_idx, 4, 35, 1e2, 1e-2, 32, 2, 10, ["traveller", "time traveller"])
    chapter = capsys.readouterr().out
    assert without_times(result.out) == [line.split(", time ")[0]
                                         for line in chapter.splitlines()]
    assert len(chapter_lines(result.out)) == 6 and result.out.startswith("epoch 2, perplexity ")
    assert d2l_rnn.load_checkpoint(tmp_path, ctx).history == history


@pytest.mark.parametrize("flags", [
    ["--val-chars", "300"],
    ["--cell", "lstm", "--sampler", "random", "--num-layers", "2"],
])
def test_resume_reproduces_an_uninterrupted_run(flags, capsys, tmp_path, ctx):
    common = ["train", *TINY, "--epochs", "6", "--pred-period", "2", "--seed", "3", *flags]
    whole = run(capsys, *common, "--save", tmp_path / "whole")
    first = run(capsys, *common, "--epochs", "3", "--save", tmp_path / "part")
    d2l_rnn.set_seed(12345)  # as in a new process: only the checkpoint can restore the state
    second = run(capsys, "train", "--resume", tmp_path / "part", "--epochs", "6")
    assert (whole.code, first.code, second.code) == (0, 0, 0), second.err
    assert "resuming" in second.err and "at epoch 4 of 6" in second.err
    assert without_times(first.out) + without_times(second.out) == without_times(whole.out)
    a = d2l_rnn.load_checkpoint(tmp_path / "whole", ctx)
    b = d2l_rnn.load_checkpoint(tmp_path / "part", ctx)
    assert (a.epoch, len(a.history)) == (b.epoch, len(b.history)) == (6, 6)
    assert a.history == b.history and a.val_history == b.val_history
    assert bool(a.val_history) == ("--val-chars" in flags)
    for pa, pb in zip(a.model.collect_params().values(), b.model.collect_params().values()):
        np.testing.assert_array_equal(pa.data().asnumpy(), pb.data().asnumpy())


def test_resume_can_override_training_settings(capsys, tmp_path):
    assert run(capsys, "train", *TINY, "--epochs", "1", "--save", tmp_path).code == 0
    result = run(capsys, "train", "--resume", tmp_path, "--epochs", "2", "--lr", "50",
                 "--pred-period", "1", "--prefix", "the")
    assert result.code == 0, result.err
    assert result.out.startswith("epoch 2,") and " - the" in result.out
    assert d2l_rnn.load_checkpoint(tmp_path).settings["lr"] == 50


def test_resume_at_the_last_epoch_has_nothing_to_do(capsys, tmp_path):
    assert run(capsys, "train", *TINY, "--epochs", "1", "--save", tmp_path).code == 0
    result = run(capsys, "train", "--resume", tmp_path)
    assert result.code == 0 and result.out.splitlines()[0].startswith(
        "summary: nothing to train: the checkpoint is at epoch 1 and --epochs is 1")
    assert "saved in %s" % (tmp_path / "epoch-000001") in result.out


def _one_char_at_a_time(model, ids, ctx):
    state, nll = model.begin_state(batch_size=1, ctx=ctx), 0.0
    for x, y in zip(ids[:-1], ids[1:]):
        output, state = model(nd.array([[x]], ctx=ctx), state)
        logits = output[0].asnumpy().astype(np.float64)
        nll += np.log(np.exp(logits - logits.max()).sum()) + logits.max() - logits[y]
    return math.exp(nll / (len(ids) - 1))


def test_validation_perplexity_is_the_held_out_texts(time_machine, ctx, monkeypatch):
    corpus_indices, *_, vocab_size = time_machine
    model = build_model("gru", 16, 1, vocab_size)
    model.initialize(ctx=ctx)
    ids = corpus_indices[:300]
    expected = _one_char_at_a_time(model, ids, ctx)
    assert evaluate_perplexity(model, ids, ctx) == pytest.approx(expected, rel=1e-4)
    # Reading in pieces carries the state across them: the same number.
    monkeypatch.setattr("d2l_rnn.training._EVAL_CHUNK", 7)
    assert evaluate_perplexity(model, ids, ctx) == pytest.approx(expected, rel=1e-4)


def test_evaluate_perplexity_takes_the_text_as_a_string_or_as_ids(time_machine, ctx):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    # Far from uniform: every character's loss differs, so each one counts.
    model = initialize_with_biases(build_model("gru", 16, 1, vocab_size), 1.0, ctx)
    text = "".join(idx_to_char[i] for i in corpus_indices[:200])
    expected = _one_char_at_a_time(model, corpus_indices[:200], ctx)
    for given in (list(corpus_indices[:200]), np.array(corpus_indices[:200], dtype=np.int32),
                  nd.array(corpus_indices[:200])):
        assert evaluate_perplexity(model, given, ctx) == pytest.approx(expected, rel=1e-4)
    got = d2l_rnn.evaluate_perplexity(model, text, ctx, char_to_idx=char_to_idx)
    assert got == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("given,error,message", [
    ("the time", TypeError, "corpus_indices is a str: pass char_to_idx"),
    (3.5, TypeError, "corpus_indices must be a str .* got float"),
    (None, TypeError, "got NoneType"),
    ({"t": 1}, TypeError, "got dict"),
    (["t", "h"], TypeError, r"got list of <U1, shape \(2,\)"),
    (np.zeros((2, 3), dtype=int), TypeError, r"shape \(2, 3\)"),
    ([0.5, 1.0], ValueError, r"must be ids \(whole numbers\), got an array of float64"),
    ([1, 2, 99], ValueError, "must be ids from 0 to vocab_size - 1 = 42, got values from 1 to 99"),
    ([1, -1, 2], ValueError, "got values from -1 to 2"),
    ([3], ValueError, "at least 2 characters"),
])
def test_evaluate_perplexity_says_what_it_got_when_it_is_neither(given, error, message,
                                                                  time_machine, ctx):
    model = build_model("gru", 8, 1, time_machine[3])
    model.initialize(ctx=ctx)
    with pytest.raises(error, match=message):
        evaluate_perplexity(model, given, ctx)


def test_evaluate_perplexity_names_characters_outside_the_vocabulary(time_machine, ctx):
    _, char_to_idx, _, vocab_size = time_machine
    model = build_model("gru", 8, 1, vocab_size)
    model.initialize(ctx=ctx)
    with pytest.raises(ValueError, match="not in the vocabulary: 'T', 'X'"):
        evaluate_perplexity(model, "The time machine X", ctx, char_to_idx=char_to_idx)


def test_validation_uses_the_characters_after_the_training_text(capsys):
    settings = TrainSettings(num_chars=2000, val_chars=500).check()
    text = load_text(settings)
    full, char_to_idx, *_ = d2l_rnn.load_data_time_machine(num_chars=2500)
    assert (text.train, text.val) == (full[:2000], full[2000:])
    assert text.char_to_idx == char_to_idx


def test_progress_bar_shows_the_perplexity(ctx, capsys):
    settings = TrainSettings(num_hiddens=16, num_epochs=3, pred_period=100, val_chars=200).check()
    session = TrainingRun(settings, ctx, load_text(settings))
    session.fit(progress=True, handle_signals=False)
    shown = capsys.readouterr().err
    assert "epoch 3/3" in shown and "ppl=%.3f" % session.history[-1] in shown
    assert "val_ppl=%.3f" % session.val_history[-1] in shown


def test_plot_is_written(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "curve.png"
    result = run(capsys, "train", *TINY, "--epochs", "3", "--val-chars", "200", "--plot", plot)
    assert result.code == 0, result.err
    assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and plot.stat().st_size > 5000
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]  # no temporary file left


def test_generate_at_t0_repeats_the_last_training_sample(capsys, tmp_path):
    train = run(capsys, "train", *TINY, "--epochs", "4", "--pred-period", "4", "--pred-len",
                "30", "--save", tmp_path)
    sample = chapter_lines(train.out)[-1][len(" - "):]
    result = run(capsys, "generate", "--checkpoint", tmp_path, "--prefix", "time traveller",
                 "--len", "30", "--ctx", "cpu")
    assert result.code == 0 and result.out == sample + "\n"


def test_validation_switched_on_and_off_at_resume_stays_aligned(capsys, tmp_path):
    assert run(capsys, "train", *TINY, "--epochs", "2", "--save", tmp_path).code == 0
    on = run(capsys, "train", "--resume", tmp_path, "--epochs", "4", "--val-chars", "300")
    off = run(capsys, "train", "--resume", tmp_path, "--epochs", "5", "--val-chars", "0")
    assert on.code == off.code == 0, on.err + off.err
    val = d2l_rnn.load_checkpoint(tmp_path).val_history
    assert len(val) == 5 and all(math.isnan(v) for v in val[:2] + val[4:])
    assert all(math.isfinite(v) and v > 1 for v in val[2:4])
