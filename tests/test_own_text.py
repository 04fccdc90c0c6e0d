"""Training on one's own text from the command line (the decay on resume through TrainingRun):
validation, best snapshot, early stopping, the metrics file (also across a SIGKILL),
evaluate, sampling, and bad input."""

import csv
import dataclasses
import math
import random

import mxnet as mx
import pytest
from clitools import TINY, kill_when, one_error_line, run
from runtools import assert_same_run

import d2l_rnn
from d2l_rnn.checkpoint import snapshots
from d2l_rnn.data import load_corpus
from d2l_rnn.run import TrainingRun

WORDS = ["l'été", "naïve", "café", "Straße", "über", "façade", "año", "smörgåsbord", "the",
         "time", "traveller", "Ωmega", "Ärger"]
OTHER = ["日本語", "😀", "🚀", "中文", "ÆØÅ", "ß"]
# The chapter's model and SGD, not --data's recipe: these tests follow its rates and epochs.
CHAPTER_MODEL = ["--cell", "rnn", "--embed-size", "0", "--optimizer", "sgd", "--dropout", "0",
                 "--lr-decay", "1", "--patience", "0"]
SMALL = [*TINY, "--batch-size", "8", "--num-steps", "10", *CHAPTER_MODEL]
CHAPTER_SETTINGS = dict(cell="rnn", embed_size=0, optimizer="sgd", dropout=0.0, patience=0)
QUIET = dict(progress=False, handle_signals=False, write=lambda line: None)


def _lines(words, num_lines, seed):
    rng = random.Random(seed)
    return "".join(" ".join(rng.choice(words) for _ in range(7)) + "\n"
                   for _ in range(num_lines))


def _write(path, text):
    path.write_bytes(text.encode("utf-8"))
    return path


def _split(path, val_frac):
    """The training and held-out text, as load_text splits them."""
    corpus, _, idx_to_char, _ = load_corpus(path)
    held_out = int(round(val_frac * len(corpus)))
    text = "".join(idx_to_char[i] for i in corpus)
    return text[:len(text) - held_out], text[len(text) - held_out:]


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _epoch_lines(out):
    """``{epoch: (perplexity, validation perplexity)}`` as printed."""
    printed = {}
    for line in out.splitlines():
        if line.startswith("epoch "):
            parts = line.replace(",", "").split()
            printed[int(parts[1])] = (parts[3], parts[6])
    return printed


@pytest.fixture(scope="session")  # one xdist worker takes its tests (conftest)
def session(tmp_path_factory):
    """A run on a small non-ASCII text: validation, a log, the best and the latest snapshot."""
    folder = tmp_path_factory.mktemp("own")
    data = _write(folder / "texte.txt", _lines(WORDS + OTHER, 110, seed=1))
    argv = ["train", *SMALL, "--device", "cpu", "--data", data, "--val-frac", "0.1",
            "--epochs", "8", "--pred-period", "1", "--save-every", "3",
            "--log", folder / "log.csv", "--save", folder / "ckpt"]
    code = d2l_rnn.cli.main([str(a) for a in argv])
    return folder, data, code


def test_the_log_rows_are_the_printed_perplexities(session, capsys):
    folder, data, code = session
    assert code == 0
    rows = _rows(folder / "log.csv")
    assert [int(r["epoch"]) for r in rows] == list(range(1, 9))
    assert all(float(r["lr"]) == 1e2 and float(r["grad_norm"]) > 0 and float(r["seconds"]) >= 0
               for r in rows)
    # Printed lines are re-created from the checkpoint's history, which is what was printed.
    latest = d2l_rnn.load_checkpoint(folder / "ckpt")
    for row, ppl, val in zip(rows, latest.history, latest.val_history):
        assert "%f" % float(row["perplexity"]) == "%f" % ppl
        assert "%f" % float(row["val_perplexity"]) == "%f" % val


def test_printed_lines_match_the_log(tmp_path, capsys):
    data = _write(tmp_path / "t.txt", _lines(WORDS, 80, seed=2))
    result = run(capsys, "train", *SMALL, "--data", data, "--epochs", "3", "--pred-period", "1",
                 "--log", tmp_path / "log.csv")
    assert result.code == 0, result.err
    printed = _epoch_lines(result.out)
    rows = _rows(tmp_path / "log.csv")
    assert sorted(printed) == [1, 2, 3] == [int(r["epoch"]) for r in rows]
    for row in rows:
        ppl, val = printed[int(row["epoch"])]
        assert ("%f" % float(row["perplexity"]), "%f" % float(row["val_perplexity"])) == (ppl, val)
    # The samples start the way the text starts (its opening: the default prefix with --data).
    assert result.out.splitlines()[1].startswith(" - " + data.read_text("utf-8")[:16].strip())


def test_best_and_latest_snapshots_and_the_vocabulary(session):
    folder, data, _ = session
    latest = d2l_rnn.load_checkpoint(folder / "ckpt")
    best = d2l_rnn.load_checkpoint(folder / "ckpt" / "best")
    assert latest.epoch == 8 and latest.path.name == "epoch-000008"  # saved after epochs 3, 6, 8
    best_epoch = min(range(8), key=lambda i: latest.val_history[i]) + 1
    assert best.epoch == best_epoch and best.val_history == latest.val_history[:best_epoch]
    assert {"é", "ß", "日", "😀", "\n"} <= set(latest.idx_to_char)
    assert latest.idx_to_char == load_corpus(data)[2]


@pytest.mark.parametrize("which", [None, "best", "last"])
def test_evaluate_repeats_the_validation_perplexity(session, which, capsys, tmp_path):
    folder, data, _ = session
    _, held_out = _split(data, 0.1)
    val_file = _write(tmp_path / "val.txt", held_out)
    result = run(capsys, "evaluate", "--checkpoint", folder / "ckpt", "--data", val_file,
                 "--ctx", "cpu", *(["--which", which] if which else []))
    assert result.code == 0, result.err
    reported = float(result.out.split()[1])
    snapshot = d2l_rnn.load_checkpoint(folder / "ckpt" / ("" if which == "last" else "best"))
    assert reported == pytest.approx(snapshot.val_history[-1], rel=1e-4)
    assert str(snapshot.path) in result.out  # by default, the best one


def test_generate_top_k_1_is_greedy_and_samples_stream(session, capsys):
    folder, data, _ = session
    common = ["generate", "--checkpoint", folder / "ckpt", "--prefix", "l'été", "--len", "40",
              "--ctx", "cpu"]
    greedy = run(capsys, *common)
    top1 = run(capsys, *common, "--top-k", "1", "--seed", "3")
    hot_top1 = run(capsys, *common, "--top-k", "1", "--temperature", "2", "--seed", "3")
    hot = run(capsys, *common, "--temperature", "2", "--seed", "3")
    assert greedy.code == top1.code == hot_top1.code == 0
    assert greedy.out == top1.out == hot_top1.out != hot.out
    assert len(greedy.out) == len("l'été") + 40 + 1
    samples = run(capsys, *common, "--top-p", "0.9", "--num-samples", "3", "--seed", "1")
    again = run(capsys, *common, "--top-p", "0.9", "--num-samples", "3", "--seed", "1")
    assert samples.out == again.out
    texts = samples.out.split("\n\n")
    assert len(texts) == 3 and all(t.startswith("l'été") for t in texts)


def test_patience_stops_early_and_lr_decay_divides_the_rate(tmp_path, capsys):
    # The held-out end has words the rest lacks: its perplexity goes up and down.
    data = _write(tmp_path / "t.txt", _lines(WORDS, 90, seed=3) + _lines(WORDS + OTHER, 12, 4))
    args = ["train", *SMALL, "--data", data, "--val-frac", "0.1", "--epochs", "60",
            "--pred-period", "100", "--patience", "3", "--lr-decay", "2",
            "--log", tmp_path / "log.csv", "--save", tmp_path / "ckpt"]
    result = run(capsys, *args)
    assert result.code == 0, result.err
    rows = _rows(tmp_path / "log.csv")
    stopped = len(rows)
    assert stopped < 60 and "stopped early after epoch %d: no better validation perplexity " \
        "for 3 epochs" % stopped in result.out
    vals = [float(r["val_perplexity"]) for r in rows]
    best_epoch = vals.index(min(vals)) + 1
    assert best_epoch == stopped - 3
    lr, best = 1e2, math.inf
    for row, val in zip(rows, vals):
        assert float(row["lr"]) == pytest.approx(lr)
        if val < best:
            best = val
        else:
            lr /= 2
    assert d2l_rnn.load_checkpoint(tmp_path / "ckpt").epoch == stopped
    assert d2l_rnn.load_checkpoint(tmp_path / "ckpt" / "best").epoch == best_epoch
    again = run(capsys, "train", "--resume", tmp_path / "ckpt")
    assert again.code == 0 and again.out.startswith("summary: nothing to train: the checkpoint "
                                                    "stopped early at epoch %d" % stopped)


def _decays(vals):
    """How many epochs of ``vals`` did not improve on the best before them."""
    best, count = math.inf, 0
    for val in vals:
        best, count = (val, count) if val < best else (best, count + 1)
    return count


def _latest_epoch(directory):
    return max((key[0] for key, _ in snapshots(directory)), default=0) if directory.is_dir() \
        else 0


def test_a_resumed_run_decays_the_rate_as_the_uninterrupted_one(tmp_path):
    """Bug it catches: on resume, the decay replayed for the wrong count of epochs (those
    since the best, or all of them): here the validation perplexity improves, worsens,
    improves and worsens before the resume, so every count differs. Through the library's
    TrainingRun (the CLI's lr column across a resume: the killed-log test below)."""
    data = _write(tmp_path / "t.txt", _lines(WORDS, 90, seed=3) + _lines(WORDS + OTHER, 12, 1))
    s = d2l_rnn.TrainSettings.create(data=str(data), num_hiddens=16, batch_size=8,
                                     num_steps=10, val_frac=0.1, pred_period=100,
                                     lr_decay=2.0, seed=1, num_epochs=5, **CHAPTER_SETTINGS)
    TrainingRun(s, mx.cpu()).fit(tmp_path / "ckpt", **QUIET)
    vals = d2l_rnn.load_checkpoint(tmp_path / "ckpt").val_history
    since_best = len(vals) - 1 - vals.index(min(vals))
    assert len({_decays(vals), since_best, len(vals)}) == 3, vals   # the data does its part

    def rates_after_each_epoch(run):
        rates = {}
        run.fit(callbacks=[lambda end: rates.update({end.epoch: run.trainer.learning_rate})],
                **QUIET)
        return rates
    resumed = TrainingRun.resume(tmp_path / "ckpt", mx.cpu(), num_epochs=10)
    got = rates_after_each_epoch(resumed)
    whole = TrainingRun(dataclasses.replace(s, num_epochs=10), mx.cpu())
    expected = rates_after_each_epoch(whole)
    assert sorted(got) == list(range(6, 11))
    for epoch, rate in got.items():  # 100 halved once per epoch so far without a new best
        assert rate == expected[epoch] == 1e2 / 2 ** _decays(whole.val_history[:epoch])
    assert_same_run(resumed, whole)


def test_the_resumed_log_continues_the_killed_one(tmp_path, capsys):
    data = _write(tmp_path / "t.txt", _lines(WORDS, 90, seed=3) + _lines(OTHER, 12, seed=4))
    args = ["train", *SMALL, "--data", data, "--epochs", "24", "--pred-period", "100",
            "--lr-decay", "1.5", "--save-every", "4", "--seed", "5"]
    killed, log = tmp_path / "killed", tmp_path / "killed.csv"
    # Killed between two saves: the log has rows the checkpoint does not.
    kill_when([*args, "--save", killed, "--log", log],
              lambda: _latest_epoch(killed) >= 8 and log.exists() and len(_rows(log)) % 4 >= 2)
    saved_at = d2l_rnn.load_checkpoint(killed).epoch
    before = _rows(log)
    assert len(before) > saved_at  # epochs the resumed run trains again
    resumed = run(capsys, "train", "--resume", killed, "--log", log)
    whole = run(capsys, *args, "--save", tmp_path / "whole", "--log", tmp_path / "whole.csv")
    assert resumed.code == whole.code == 0, resumed.err
    rows, expected = _rows(log), _rows(tmp_path / "whole.csv")
    assert [int(r["epoch"]) for r in rows] == list(range(1, 25))
    assert rows[:saved_at] == before[:saved_at]  # kept as written
    for got, want in zip(rows, expected):
        for field in ("perplexity", "val_perplexity", "lr", "grad_norm"):
            assert got[field] == want[field], (got, want)


def _a_checkpoint(tmp_path, capsys):
    data = _write(tmp_path / "t.txt", _lines(WORDS, 80, seed=2))
    assert run(capsys, "train", *SMALL, "--data", data, "--epochs", "1", "--val-frac", "0",
               "--save", tmp_path / "ckpt").code == 0
    return tmp_path / "ckpt"


BAD_TRAIN = [
    (lambda t: ("--data", t / "missing.txt"), "no such file"),
    (lambda t: ("--data", t), "is a directory, not a text file"),
    (lambda t: ("--data", _write(t / "e.txt", "")), "is empty"),
    (lambda t: ("--data", _write(t / "s.txt", "ein kurzer Text\n" * 5)),
     "holding out 4 for validation leaves 76 to train on"),
    (lambda t: ("--data", (t / "b.txt").write_bytes(b"caf\xc3\xa9 \xff") and t / "b.txt"),
     "is not valid utf-8: byte 0xff at offset 6 cannot be decoded; pass --encoding"),
    (lambda t: ("--data", _write(t / "t.txt", "x" * 999), "--encoding", "klingon"),
     "'klingon' is not one Python knows"),
    (lambda t: ("--val-frac", "1"), "argument --val-frac: expected a number in [0, 1), got '1'"),
    (lambda t: ("--val-frac", "-0.1"), "argument --val-frac: expected a number in [0, 1)"),
    (lambda t: ("--val-frac", "0.1", "--val-chars", "300"), "both hold text out; give one"),
    (lambda t: ("--dropout", "-0.5"), "argument --dropout: expected a number in [0, 1)"),
    (lambda t: ("--dropout", "1"), "argument --dropout: expected a number in [0, 1)"),
    (lambda t: ("--patience", "-1"), "argument --patience: expected an integer >= 0"),
    (lambda t: ("--patience", "3"), "patience and lr_decay follow the validation perplexity"),
    (lambda t: ("--lr-decay", "0.5", "--val-chars", "300"), "argument --lr-decay: expected a"),
    (lambda t: ("--log", t / "log.txt"), "must end in .csv"),
    (lambda t: ("--log", _write(t / "mine.csv", "a,b\n1,2\n")), "is not a d2l-rnn log"),
    (lambda t: ("--log", t / "nowhere" / "log.csv"), "does not exist"),
]


@pytest.mark.parametrize("args,message", BAD_TRAIN)
def test_bad_input_is_one_line_and_loses_no_checkpoint(args, message, tmp_path, capsys):
    checkpoint = _a_checkpoint(tmp_path, capsys)
    saved = {p: p.read_bytes() for p in checkpoint.rglob("*") if p.is_file()}
    result = run(capsys, "train", *SMALL, "--epochs", "1", "--save", checkpoint,
                 "--overwrite", *args(tmp_path))
    assert message in one_error_line(result)
    assert result.out == ""
    assert {p: p.read_bytes() for p in checkpoint.rglob("*") if p.is_file()} == saved


BAD_USE = [
    (("generate", "--top-k", "0"), "argument --top-k: expected a positive integer, got '0'"),
    (("generate", "--top-p", "0"), "argument --top-p: expected a number in (0, 1], got '0'"),
    (("generate", "--top-p", "1.5"), "argument --top-p: expected a number in (0, 1]"),
    (("generate", "--which", "best"), "has no best snapshot"),
    (("evaluate", "--data", "UNKNOWN"), "2 characters that are not in the vocabulary: '#', '€'"),
    (("evaluate", "--data", "MISSING"), "no such file"),
]


@pytest.mark.parametrize("args,message", BAD_USE)
def test_bad_generate_and_evaluate_input(args, message, tmp_path, capsys):
    checkpoint = _a_checkpoint(tmp_path, capsys)
    unknown = _write(tmp_path / "u.txt", "café # €")
    args = [{"UNKNOWN": unknown, "MISSING": tmp_path / "m.txt"}.get(a, a) for a in args]
    extra = ["--prefix", "the"] if args[0] == "generate" else []
    result = run(capsys, *args, "--checkpoint", checkpoint, *extra)
    assert message in one_error_line(result)
    assert result.out == ""
