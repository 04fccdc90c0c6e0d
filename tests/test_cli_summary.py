"""Nothing lost silently: every ``d2l-rnn train`` ends with a summary, abbreviations are
refused, and progress is shown per batch (a bar) or every 30 s (plain lines).

Planted bugs these tests caught (each seen failing, then restored):
- the summary printed only when a chapter line was (pred_period > epochs printed nothing);
- the "not saved" line missing without --save;
- allow_abbrev left on for the subcommands (``--cel lstm`` was taken for ``--cell lstm``);
- plain progress lines printed at every batch (no 30 s spacing), and one before 30 s;
- the bar's run ETA computed from the epoch alone;
- "finished 1 epochs" (the count's noun not following it).
"""

import argparse
import io
import math

import pytest
from clitools import TINY, one_error_line, run

import d2l_rnn
from d2l_rnn.cli import build_parser
from d2l_rnn.run import progress as progress_module
from d2l_rnn.run.progress import Progress

TEXT = "the time traveller held in his hand a glittering metallic framework. " * 40


def test_a_short_run_off_a_terminal_still_ends_with_a_summary(tmp_path, capsys):
    data = tmp_path / "t.txt"
    data.write_text(TEXT)
    result = run(capsys, "train", *TINY, "--data", data, "--epochs", "3", "--batch-size", "8",
                 "--num-steps", "10")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("summary: finished 3 epochs, time ")
    assert lines[1].startswith(" - training perplexity ") and lines[1].endswith(" (epoch 3)")
    assert lines[2].startswith(" - best validation perplexity ")  # --data holds 5% out
    assert lines[3] == (" - the model was not saved: pass --save DIR to keep it (and --resume "
                        "DIR to go on from where it stopped)")
    assert len(lines) == 4


def test_one_epoch_is_one_epoch(tmp_path, capsys):
    data = tmp_path / "t.txt"
    data.write_text(TEXT)
    result = run(capsys, "train", *TINY, "--data", data, "--epochs", "1", "--batch-size", "8",
                 "--num-steps", "10")
    assert result.code == 0, result.err
    assert result.out.splitlines()[0].startswith("summary: finished 1 epoch, time ")


def test_the_summary_says_where_the_model_is(tmp_path, capsys):
    result = run(capsys, "train", *TINY, "--epochs", "2", "--val-chars", "300", "--save",
                 tmp_path)
    assert result.code == 0
    best = min(d2l_rnn.load_checkpoint(tmp_path).val_history)
    assert result.out.splitlines()[-2:] == [
        " - best validation perplexity %f, %.4f bits per character (epoch %d), saved in %s"
        % (best, math.log2(best),
           d2l_rnn.load_checkpoint(tmp_path / "best").epoch,
           d2l_rnn.checkpoint.find_snapshot(tmp_path / "best")),
        " - model saved in %s" % (tmp_path / "epoch-000002")]


@pytest.mark.parametrize("argv,flag", [
    (("train", "--cel", "lstm"), "--cel"),
    (("train", "--epoch", "3"), "--epoch"),
    (("generate", "--checkpoint", "x", "--prefix", "a", "--temp", "1"), "--temp"),
    (("evaluate", "--checkpoint", "x", "--data", "y", "--whic", "last"), "--whic"),
])
def test_abbreviated_flags_are_refused(argv, flag, capsys):
    line = one_error_line(run(capsys, *argv))
    assert "unrecognized arguments: %s" % flag in line


def test_every_parser_refuses_abbreviations():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert not parser.allow_abbrev
    assert not any(sub.allow_abbrev for sub in subparsers.choices.values())


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _progress(mode, monkeypatch, clock):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    settings = d2l_rnn.TrainSettings(num_epochs=3, batch_size=8, num_steps=10)
    return Progress(mode, settings, 2000, clock=clock), stream  # 24 batches an epoch


def test_plain_lines_at_most_every_30_seconds_and_none_before(monkeypatch):
    clock = _Clock()
    progress, stream = _progress("lines", monkeypatch, clock)
    progress.start_epoch(1, 0)
    for batch in range(1, 21):  # 2 s a batch
        clock.now += 2.0
        progress.batch(batch)
    lines = stream.getvalue().splitlines()
    assert lines == ["training: epoch 1/3, batch 15 of about 24, 40 characters/s, epoch ends in "
                     "0:00:18, run in 0:01:54"]
    monkeypatch.setattr(progress_module, "PLAIN_EVERY", 4.0)  # the interval tests shorten
    for batch in range(21, 25):
        clock.now += 2.0
        progress.batch(batch)
    assert len(stream.getvalue().splitlines()) == 3


def test_the_bar_advances_per_batch_with_the_run_eta(monkeypatch):
    clock = _Clock()
    progress, stream = _progress("bar", monkeypatch, clock)
    progress.start_epoch(2, 4)
    assert progress.bar.n == 4 * 80 and progress.bar.desc.startswith("epoch 2/3")
    for batch in range(5, 9):
        clock.now += 1.0
        progress.batch(batch)
    assert progress.bar.n == 8 * 80
    # 1 s a batch: 16 left in epoch 2 and 24 in epoch 3.
    assert progress.postfix["run"] == "0:00:40"
    progress.close()
