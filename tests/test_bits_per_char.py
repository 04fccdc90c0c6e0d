"""Bits per character next to every perplexity of a run: the metrics file, the summary, RunResult.

Each expected value is ``math.log2`` of the perplexity beside it, computed here.
Planted bugs these tests caught (each seen failing, then restored): bits computed with
``math.log10`` in perplexity_bits (every test); the validation bits written from the training
perplexity (test_the_log_has_bits_beside_each_perplexity); the old six-column header refused
on resume (test_an_old_log_is_continued_with_the_new_columns); the old rows dropped instead
of given their bits (same test); the summary's bits of the last epoch in the best line
(test_the_summary_and_the_result_give_bits).
"""

import csv
import math

import mxnet as mx
import pytest
from clitools import TINY, run
from runtools import settings

import d2l_rnn
from d2l_rnn.run import LOG_FIELDS, TrainingRun

TEXT = "the time traveller held in his hand a glittering metallic framework. " * 40


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _close(written, perplexity):
    if perplexity == "":
        return written == ""
    return float(written) == pytest.approx(math.log2(float(perplexity)), rel=1e-12)


def test_the_log_has_bits_beside_each_perplexity(tmp_path, capsys):
    data = tmp_path / "t.txt"
    data.write_text(TEXT)
    result = run(capsys, "train", *TINY, "--data", data, "--epochs", "3", "--batch-size", "8",
                 "--num-steps", "10", "--log", tmp_path / "log.csv")
    assert result.code == 0, result.err
    rows = _rows(tmp_path / "log.csv")
    # The old columns first, in their order: readers by position keep working.
    assert rows[0] == ["epoch", "perplexity", "val_perplexity", "lr", "grad_norm", "seconds",
                       "bits_per_char", "val_bits_per_char"] == list(LOG_FIELDS)
    assert len(rows) == 4
    for row in rows[1:]:
        assert _close(row[6], row[1]) and _close(row[7], row[2]) and row[2] != ""


def test_without_validation_the_validation_bits_are_blank(tmp_path, capsys):
    assert run(capsys, "train", *TINY, "--epochs", "2", "--log", tmp_path / "log.csv").code == 0
    for row in _rows(tmp_path / "log.csv")[1:]:
        assert row[2] == row[7] == "" and _close(row[6], row[1])


def test_an_old_log_is_continued_with_the_new_columns(tmp_path, capsys):
    log = tmp_path / "log.csv"
    common = ["train", *TINY, "--val-chars", "300", "--log", log, "--save", tmp_path / "ckpt"]
    assert run(capsys, *common, "--epochs", "2").code == 0
    old = [row[:6] for row in _rows(log)]  # as a version before bits per character wrote it
    log.write_text("".join(",".join(row) + "\n" for row in old), encoding="utf-8")
    assert run(capsys, *common, "--epochs", "3", "--resume", tmp_path / "ckpt").code == 0
    rows = _rows(log)
    assert rows[0] == list(LOG_FIELDS) and [r[:6] for r in rows[:3]] == old
    assert [row[0] for row in rows[1:]] == ["1", "2", "3"]
    for row in rows[1:]:
        assert _close(row[6], row[1]) and _close(row[7], row[2])


def test_the_summary_and_the_result_give_bits(tmp_path, capsys):
    result = run(capsys, "train", *TINY, "--epochs", "3", "--val-chars", "300", "--save",
                 tmp_path)
    assert result.code == 0, result.err
    saved = d2l_rnn.load_checkpoint(tmp_path)
    best = min(saved.val_history)
    lines = result.out.splitlines()
    assert " - training perplexity %f, %.4f bits per character (epoch 3)" % (
        saved.history[-1], math.log2(saved.history[-1])) in lines
    assert " - best validation perplexity %f, %.4f bits per character (epoch %d), saved in %s" % (
        best, math.log2(best), saved.val_history.index(best) + 1,
        d2l_rnn.checkpoint.find_snapshot(tmp_path / "best")) in lines
    own = TrainingRun(settings(num_epochs=2), mx.cpu()).fit(progress=False,
                                                             handle_signals=False)
    assert own.bits_per_char == pytest.approx(math.log2(own.perplexity), rel=1e-12)
    assert own.best_val_bits_per_char == pytest.approx(math.log2(own.best_val_perplexity),
                                                       rel=1e-12)
    nothing = TrainingRun(settings(num_epochs=2, val_chars=0), mx.cpu())
    nothing.epoch = 2  # nothing to train: no perplexity, no bits
    empty = nothing.fit(progress=False, handle_signals=False)
    assert empty.bits_per_char is None and empty.best_val_bits_per_char is None
