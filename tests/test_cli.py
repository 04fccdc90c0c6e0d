"""The d2l-rnn command line: entry points, help, every bad input, a SIGKILL mid-run."""

import argparse
import importlib
import json
import re
import sys

import mxnet as mx
import pytest
from clitools import TINY, kill_when, latest_snapshot_number, one_error_line, run, run_process

import d2l_rnn
from d2l_rnn._util import files as _durable
from d2l_rnn.cli import build_parser


def test_help_documents_every_flag():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subparsers.choices) == {"train", "generate", "evaluate"}
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            assert action.help, (name, action.option_strings)
    flags = {s for a in subparsers.choices["train"]._actions for s in a.option_strings}
    assert flags >= {"--cell", "--num-hiddens", "--num-layers", "--epochs", "--num-steps",
                     "--batch-size", "--lr", "--clip", "--sampler", "--num-chars",
                     "--val-chars", "--ctx", "--seed", "--pred-period", "--pred-len",
                     "--prefix", "--save", "--save-every", "--resume", "--plot", "--data",
                     "--lower", "--encoding", "--val-frac", "--patience", "--lr-decay",
                     "--dropout", "--log", "--device"}
    flags = {s for a in subparsers.choices["generate"]._actions for s in a.option_strings}
    assert flags >= {"--top-k", "--top-p", "--num-samples", "--seed", "--which", "--device"}


def test_python_dash_m_shows_the_help():
    module = run_process("generate", "--help")
    assert module.code == 0
    assert all(flag in module.out for flag in ("--checkpoint", "--prefix", "--len",
                                               "--temperature", "--seed"))


def test_console_script_reports_a_bad_input_in_one_line_with_exit_2(tmp_path):
    line = one_error_line(run_process("generate", "--checkpoint", tmp_path / "nope",
                                      "--prefix", "time", script=True))
    assert line == "d2l-rnn: error: checkpoint directory %s does not exist" % (tmp_path / "nope")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A small trained checkpoint, trained on 2000 characters (a 40-character vocabulary)."""
    directory = tmp_path_factory.mktemp("ckpt")
    code = d2l_rnn.cli.main(["train", *TINY, "--epochs", "1", "--num-chars", "2000",
                             "--save", str(directory)])
    assert code == 0
    return directory


def _corrupt(checkpoint, tmp_path):
    copy = tmp_path / "copy"
    snapshot = d2l_rnn.checkpoint.find_snapshot(checkpoint)
    target = copy / snapshot.name
    target.mkdir(parents=True)
    for f in snapshot.iterdir():
        target.joinpath(f.name).write_bytes(f.read_bytes())
    data = bytearray((target / "model.params").read_bytes())
    data[-1] ^= 0xFF
    (target / "model.params").write_bytes(bytes(data))
    return copy


def _incomplete(checkpoint, tmp_path):
    copy = _corrupt(checkpoint, tmp_path)
    next(copy.iterdir()).joinpath("model.params").unlink()
    return copy


def _a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    return tmp_path / "file"


no_gpu = pytest.mark.skipif(d2l_rnn.try_gpu() != mx.cpu(), reason="a GPU works here")

# (arguments, a piece of the error line); callables get (checkpoint, tmp_path).
BAD_TRAIN = [
    (("--epochs", "0"), "argument --epochs: expected a positive integer, got '0'"),
    (("--lr", "0"), "argument --lr: expected a number > 0"),
    (("--clip", "-1"), "argument --clip: expected a number > 0"),
    (("--lr", "nan"), "argument --lr"),
    (("--val-chars", "-5"), "argument --val-chars: expected an integer >= 0"),
    (("--val-chars", "1"), "val_chars must be 0 (no validation) or at least 2"),
    (("--cell", "tree"), "argument --cell: invalid choice"),
    (("--bogus",), "unrecognized arguments: --bogus"),
    (("--num-chars", "1000"), "the consecutive sampler needs at least 1186"),
    (("--num-chars", "178000", "--val-chars", "5000"), "has only 178979 characters"),
    (("--prefix", "Time Traveller"), "not in the vocabulary: 'T'"),
    pytest.param(("--ctx", "gpu"), "--ctx gpu: no working GPU", marks=no_gpu),
    (lambda c, t: ("--save", _a_file(t)), "is a file, not a directory"),
    (lambda c, t: ("--save", _a_file(t) / "sub"), "cannot write checkpoints to --save"),
    (lambda c, t: ("--save", c), "already holds a checkpoint of another run"),
    (lambda c, t: ("--plot", t / "curve.jpg"), "must end in .png, .pdf, .svg"),
    (lambda c, t: ("--plot", t / "nowhere" / "curve.png"), "does not exist"),
    (lambda c, t: ("--resume", t / "nope"), "does not exist"),
    (lambda c, t: ("--resume", t), "holds no checkpoint"),
    (lambda c, t: ("--resume", _corrupt(c, t)), "model.params is corrupt"),
    (lambda c, t: ("--resume", _incomplete(c, t)), "incomplete: model.params is missing"),
    (lambda c, t: ("--resume", c, "--num-chars", "10000"),
     "vocabulary (40 characters) does not match the training text's (43)"),
    (lambda c, t: ("--resume", c, "--num-hiddens", "32"),
     "--num-hiddens 32 does not match the checkpoint's 16"),
    (lambda c, t: ("--resume", c, "--cell", "gru"), "--cell gru does not match"),
    (lambda c, t: ("--resume", c, "--seed", "9"), "--seed 9 does not match"),
]


# Every size flag shares one argparse type: checked once here, with a table of
# texts, instead of once per flag.
SIZE_FLAGS = {"train": ("--num-hiddens", "--epochs", "--num-steps", "--batch-size",
                        "--num-chars", "--pred-period", "--save-every"),
              "generate": ()}
# Sizes with an upper bound: what Gluon can save, what fits in memory, a 32-bit seed.
BOUNDED_FLAGS = {"train": {"--num-layers": "_layers", "--pred-len": "_length",
                           "--seed": "_seed"},
                 "generate": {"--len": "_length", "--seed": "_seed"}}


def test_every_size_flag_takes_a_positive_integer():
    cli_main = importlib.import_module("d2l_rnn.cli.main")
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command, flags in SIZE_FLAGS.items():
        types = {s: a.type for a in subparsers.choices[command]._actions
                 for s in a.option_strings}
        assert {f: types[f] for f in flags} == {f: cli_main._positive_int for f in flags}


def test_every_bounded_flag_has_its_bounded_type():
    cli_main = importlib.import_module("d2l_rnn.cli.main")
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command, flags in BOUNDED_FLAGS.items():
        types = {s: a.type for a in subparsers.choices[command]._actions
                 for s in a.option_strings}
        assert {f: types[f] for f in flags} == {f: getattr(cli_main, t) for f, t in flags.items()}


@pytest.mark.parametrize("name,good,bad,expected", [
    ("_layers", "10", "11", "an integer from 1 to 10"),
    ("_length", "1000000", "1000001", "an integer from 1 to 1000000"),
    ("_seed", "4294967295", "4294967296", "an integer from 0 to 4294967295"),
])
def test_the_bounded_types(name, good, bad, expected):
    check = getattr(importlib.import_module("d2l_rnn.cli.main"), name)
    assert check(good) == int(good)
    for text in (bad, "-1", "x"):
        with pytest.raises(argparse.ArgumentTypeError,
                           match="^expected %s, got %s$" % (expected, re.escape(repr(text)))):
            check(text)


@pytest.mark.parametrize("text,expected", [
    ("1", 1), ("35", 35), (" 7 ", 7), ("0", None), ("-3", None), ("many", None),
    ("1.5", None), ("", None), ("1e3", None),
])
def test_the_positive_integer_type(text, expected):
    cli_main = importlib.import_module("d2l_rnn.cli.main")
    if expected is not None:
        assert cli_main._positive_int(text) == expected
    else:
        with pytest.raises(argparse.ArgumentTypeError,
                           match="^expected a positive integer, got %s$" % re.escape(repr(text))):
            cli_main._positive_int(text)


@pytest.mark.parametrize("args,message", BAD_TRAIN)
def test_bad_train_input(args, message, checkpoint, tmp_path, capsys):
    if callable(args):
        args = args(checkpoint, tmp_path)
    result = run(capsys, "train", *TINY, "--epochs", "1", *args)
    assert message in one_error_line(result)
    assert result.out == ""


BAD_GENERATE = [
    (lambda c, t: ("--checkpoint", t / "nope"), "does not exist"),
    (lambda c, t: ("--checkpoint", t), "holds no checkpoint"),
    (lambda c, t: ("--checkpoint", _corrupt(c, t)), "model.params is corrupt"),
    (lambda c, t: ("--checkpoint", _incomplete(c, t)), "incomplete: model.params is missing"),
    (lambda c, t: ("--checkpoint", c, "--prefix", "Qué"), "vocabulary: 'Q', 'é'"),
    (lambda c, t: ("--checkpoint", c, "--len", "0"),
     "argument --len: expected an integer from 1 to 1000000, got '0'"),
    (lambda c, t: ("--checkpoint", c, "--temperature", "-1"),
     "argument --temperature: expected a number >= 0"),
    (lambda c, t: ("--checkpoint", c, "--temperature", "inf"), "argument --temperature"),
    (lambda c, t: ("--prefix", "the"), "the following arguments are required: --checkpoint"),
    pytest.param(lambda c, t: ("--checkpoint", c, "--ctx", "gpu"), "no working GPU",
                 marks=no_gpu),
]


@pytest.mark.parametrize("args,message", BAD_GENERATE)
def test_bad_generate_input(args, message, checkpoint, tmp_path, capsys):
    args = args(checkpoint, tmp_path)
    if "--prefix" not in args:
        args += ("--prefix", "time")
    result = run(capsys, "generate", *args)
    assert message in one_error_line(result)
    assert result.out == ""


def test_no_command_is_one_line(capsys):
    assert "required: {train,generate,evaluate}" in one_error_line(run(capsys))


def test_plot_without_matplotlib_fails_before_training(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    result = run(capsys, "train", *TINY, "--plot", tmp_path / "p.png", "--save", tmp_path / "c")
    assert "needs matplotlib, which is not installed" in one_error_line(result)
    assert not (tmp_path / "c").exists()


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch, capsys, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr("d2l_rnn.training.run_epoch", interrupted)
    result = run(capsys, "train", *TINY, "--save", tmp_path)
    assert result.code == 130 and result.err.strip().splitlines() == [
        "d2l-rnn: interrupted; checkpoints written so far are intact"]


def test_divergence_ends_with_one_line_and_keeps_the_checkpoint(capsys, tmp_path):
    assert run(capsys, "train", *TINY, "--epochs", "1", "--save", tmp_path).code == 0
    result = run(capsys, "train", "--resume", tmp_path, "--epochs", "5", "--lr", "1e30")
    assert result.code == 2 and "Traceback" not in result.err
    last = result.err.strip().splitlines()[-1]
    assert "training diverged: the loss became nan in epoch 2" in last
    assert "the checkpoint it resumed from, %s, is intact" % (tmp_path / "snapshot-000001") \
        in last
    assert d2l_rnn.load_checkpoint(tmp_path).epoch == 1
    fresh = run(capsys, "train", *TINY, "--lr", "1e30", "--save", tmp_path / "new")
    assert "no checkpoint was saved by this run" in one_error_line(fresh)


def test_a_failing_disk_during_training_is_one_line(capsys, tmp_path, monkeypatch):
    def full(path, data):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(_durable, "write_bytes", full)
    result = run(capsys, "train", *TINY, "--epochs", "1", "--save", tmp_path)
    assert "could not write a checkpoint" in one_error_line(result)
    assert [p.name for p in tmp_path.iterdir()] == []


def test_sigkill_during_training_then_resume_gives_the_uninterrupted_history(capsys, tmp_path):
    args = ["train", *TINY, "--epochs", "25", "--pred-period", "5", "--seed", "4",
            "--val-chars", "300", "--save-every", "1"]
    directory = tmp_path / "killed"
    kill_when([*args, "--save", directory], lambda: latest_snapshot_number(directory) >= 3)
    killed_at = d2l_rnn.load_checkpoint(directory).epoch
    assert 3 <= killed_at < 25
    resumed = run(capsys, "train", "--resume", directory)
    whole = run(capsys, *args, "--save", tmp_path / "whole")
    assert resumed.code == whole.code == 0, resumed.err
    a = d2l_rnn.load_checkpoint(directory)
    b = d2l_rnn.load_checkpoint(tmp_path / "whole")
    assert len(a.history) == 25 and a.history == b.history and a.val_history == b.val_history
    assert json.loads((a.path / "hparams.json").read_text())["settings"]["num_epochs"] == 25


def test_overwrite_replaces_another_runs_checkpoint(capsys, tmp_path):
    assert run(capsys, "train", *TINY, "--epochs", "1", "--save", tmp_path).code == 0
    result = run(capsys, "train", *TINY, "--epochs", "2", "--save", tmp_path, "--overwrite")
    assert result.code == 0, result.err
    assert [p.name for p in tmp_path.iterdir()] == ["snapshot-000002"]
    assert d2l_rnn.load_checkpoint(tmp_path).epoch == 2
