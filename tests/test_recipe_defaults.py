"""The recipe for one's own text applies with --data only; the chapter's run stays the chapter's.

Planted bugs these tests were seen to catch: OWN_TEXT_DEFAULTS applied with or
without ``data`` (test_without_data_every_setting_is_the_chapters,
test_the_cli_without_data_prints_the_chapters_lines); the recipe's rate kept
when another optimizer is asked for (test_flags_override_the_recipe); a recipe
key missing from the help, a setting the recipe leaves as the chapter's listed as a change, the
optimizer's rate and clipping norm left out (test_help_says_which_defaults_data_changes); the
description's list written out by hand (test_the_help_follows_the_recipe);
bits per character computed as log10 (test_bits_per_char, test_evaluate_prints_bits).
"""

import dataclasses
import math
from pathlib import Path

import pytest
from clitools import run, without_times
from mxnet.gluon import rnn

import d2l_rnn
from d2l_rnn.cli.commands import _given, _settings
from d2l_rnn.cli.main import build_parser
from d2l_rnn.optimizer import OPTIMIZER_DEFAULTS
from d2l_rnn.settings import OWN_TEXT_DEFAULTS, TrainSettings


def _parsed(*argv):
    return _settings(_given(build_parser().parse_args(["train", *map(str, argv)])), None)


@pytest.fixture
def text_file(tmp_path):
    """The first 30,000 characters of the book, as a file of one's own."""
    path = tmp_path / "own.txt"
    book = Path(__file__).resolve().parent.parent / "data" / "timemachine.txt"
    path.write_text(book.read_text(encoding="utf-8")[:30000], encoding="utf-8")
    return path


def test_without_data_every_setting_is_the_chapters():
    assert _parsed() == TrainSettings()
    chapter = TrainSettings()
    assert (chapter.optimizer, chapter.lr, chapter.clipping_theta, chapter.embed_size) == (
        "sgd", 100, 0.01, None)


def test_with_data_the_recipe_applies(text_file):
    settings = _parsed("--data", text_file)
    for name, value in OWN_TEXT_DEFAULTS.items():
        assert getattr(settings, name) == value, name
    optimizer = OPTIMIZER_DEFAULTS[settings.optimizer]
    assert (settings.lr, settings.clipping_theta) == (optimizer["lr"], optimizer["clipping_theta"])
    untouched = {f.name for f in dataclasses.fields(TrainSettings)} - set(OWN_TEXT_DEFAULTS) - {
        "data", "lr", "clipping_theta"}
    for name in untouched:  # everything else stays the chapter's
        assert getattr(settings, name) == getattr(TrainSettings(), name), name


def test_flags_override_the_recipe(text_file):
    settings = _parsed("--data", text_file, "--cell", "gru", "--optimizer", "sgd",
                       "--num-layers", "3")
    assert (settings.cell, settings.optimizer, settings.num_layers) == ("gru", "sgd", 3)
    assert (settings.lr, settings.clipping_theta) == (100, 0.01)  # SGD's, not the recipe's
    assert _parsed("--data", text_file, "--lr", "0.01").lr == 0.01


def test_flags_can_undo_every_recipe_default(text_file):
    """0 means one-hot for --embed-size and never for --patience, so the chapter's model
    is reachable with --data (planted bug it caught: --embed-size 0 kept as 0)."""
    settings = _parsed("--data", text_file, "--cell", "rnn", "--num-hiddens", "256",
                       "--embed-size", "0", "--optimizer", "sgd", "--dropout", "0",
                       "--lr-decay", "1", "--patience", "0")
    chapter = TrainSettings()
    for name in OWN_TEXT_DEFAULTS:
        if name not in ("num_chars", "val_frac", "prefixes"):
            assert getattr(settings, name) == getattr(chapter, name), name
    assert (settings.lr, settings.clipping_theta) == (chapter.lr, chapter.clipping_theta)


def test_without_validation_the_recipe_drops_what_follows_it(text_file):
    """Planted bug it caught: the recipe's patience kept with --val-frac 0 (check() refuses)."""
    settings = _parsed("--data", text_file, "--val-frac", "0")
    assert (settings.patience, settings.lr_decay, settings.validates) == (None, 1.0, False)
    assert settings.cell == OWN_TEXT_DEFAULTS["cell"]  # the rest of the recipe stays
    kept = _parsed("--data", text_file, "--val-chars", "500")
    assert (kept.patience, kept.lr_decay) == (OWN_TEXT_DEFAULTS["patience"],
                                              OWN_TEXT_DEFAULTS["lr_decay"])


def test_the_cli_without_data_prints_the_chapters_lines(capsys, time_machine, ctx):
    """No model or optimizer flag: the chapter's RNN(256) and SGD, line for line."""
    result = run(capsys, "train", "--epochs", "3", "--pred-period", "1", "--ctx", "cpu")
    assert result.code == 0, result.err
    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    d2l_rnn.set_seed(0)
    d2l_rnn.train_and_predict_rnn_gluon(
        d2l_rnn.RNNModel(rnn.RNN(256), vocab_size), 256, vocab_size, ctx, corpus_indices,
        idx_to_char, char_to_idx, 3, 35, 1e2, 1e-2, 32, 1, 50, ["traveller", "time traveller"])
    chapter = capsys.readouterr().out.splitlines()
    assert without_times(result.out) == [line.split(", time ")[0] for line in chapter]
    assert len(chapter) == 9


def test_the_cli_with_data_trains_the_recipe(capsys, tmp_path, text_file, ctx):
    result = run(capsys, "train", "--data", text_file, "--epochs", "1", "--ctx", "cpu",
                 "--save", tmp_path / "ckpt")
    assert result.code == 0, result.err
    loaded = d2l_rnn.load_checkpoint(tmp_path / "ckpt", ctx)
    expected = TrainSettings.create(data=str(text_file))
    for name in ("cell", "num_hiddens", "num_layers", "embed_size"):
        assert loaded.architecture[name] == getattr(expected, name), name
    for name in ("optimizer", "num_steps", "batch_size", "lr", "clipping_theta", "val_frac"):
        assert loaded.settings[name] == getattr(expected, name), name
    assert len(loaded.val_history) == 1  # validation is on


def _train_help(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    return " ".join(capsys.readouterr().out.split())


def _recipe_listed(text):
    """``{flag: value}`` of the description's list of the defaults --data changes."""
    listed = text.split("--data FILE changes these defaults to a recipe measured to train well "
                        "on one's own text: ")[1].split(", and samples start")[0]
    return dict(item.rsplit(" ", 1) for item in listed.split(", "))


def _shown(value):
    return "%g" % value if isinstance(value, float) else str(value)


def test_help_says_which_defaults_data_changes(capsys):
    text = _train_help(capsys)
    listed, chapter = _recipe_listed(text), TrainSettings()
    for name, value in OWN_TEXT_DEFAULTS.items():
        flag = "--" + name.replace("_", "-")
        if name == "prefixes" or value == getattr(chapter, name):
            assert flag not in listed, flag  # not a change
            continue
        assert flag in listed, flag
        if value is not None:
            assert listed[flag] == _shown(value), flag
        assert "; with --data: %s" % listed[flag] in text, flag  # in the flag's own help
    rates = OPTIMIZER_DEFAULTS[OWN_TEXT_DEFAULTS["optimizer"]]
    assert (listed["--lr"], listed["--clip"]) == (_shown(rates["lr"]),
                                                  _shown(rates["clipping_theta"]))
    assert "samples start with the text's first words" in text


def test_the_help_follows_the_recipe(capsys, monkeypatch):
    """One place for the fact: change the recipe, and the help says the new defaults."""
    for name, value in [("cell", "lstm"), ("patience", 7), ("num_hiddens", 512),
                        ("optimizer", "adam"), ("dropout", 0.0)]:
        monkeypatch.setitem(OWN_TEXT_DEFAULTS, name, value)
    text = _train_help(capsys)
    listed = _recipe_listed(text)
    assert (listed["--cell"], listed["--patience"], listed["--num-hiddens"],
            listed["--optimizer"]) == ("lstm", "7", "512", "adam")
    assert "--dropout" not in listed  # 0.0: the chapter's
    assert "hidden units per layer (default: 256; with --data: 512)" in text
    assert "recurrent layer (default: rnn; with --data: lstm)" in text


def test_bits_per_char():
    assert d2l_rnn.bits_per_char(math.log(2)) == pytest.approx(1.0)
    assert d2l_rnn.bits_per_char(math.log(8.0)) == pytest.approx(3.0)
    assert d2l_rnn.bits_per_char(0.0) == 0.0


def test_evaluate_prints_bits(capsys, tmp_path, text_file):
    args = ["train", "--data", text_file, "--epochs", "1", "--ctx", "cpu", "--num-hiddens",
            "16", "--num-layers", "1", "--embed-size", "4", "--save", tmp_path / "ckpt"]
    assert run(capsys, *args).code == 0
    result = run(capsys, "evaluate", "--checkpoint", tmp_path / "ckpt", "--data", text_file,
                 "--ctx", "cpu")
    assert result.code == 0, result.err
    words = result.out.split()
    perplexity, bits = float(words[1]), float(words[2].lstrip("("))
    assert words[3:6] == ["bits", "per", "character)"]
    assert bits == pytest.approx(math.log2(perplexity), abs=1e-4)
