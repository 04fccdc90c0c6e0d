"""Fine-tuning: a new run from a origin checkpoint's weights on another text (--init-from).

Planted bugs these tests caught (each seen failing, then restored):
- the model initialised again by the new run (force_reinit in start_model):
  test_before_its_first_update_the_model_is_the_checkpoints;
- the new text kept in its own ids, not put into the model's vocabulary (to_vocabulary
  skipped): the same test and test_the_vocabulary_and_ids_stay_the_models;
- the run saving into the checkpoint's folder when no --save is given (save_dir taken from
  the checkpoint, as for --resume): test_the_checkpoint_folder_is_never_written;
- the protected-folder check dropped (prepare_save_dir without protected):
  test_a_save_folder_in_or_around_the_checkpoint_is_refused;
- the model left tied to the checkpoint's run (its saves a continuation of it):
  test_the_checkpoint_folder_is_never_written;
- the lower-case hint given when lowering does not help, and the encoding hint not given
  for a UTF-8 file read as Latin-1: test_a_foreign_character_is_one_line_with_its_hint;
- --init-from with --resume not refused (the resume won): test_what_is_refused.
"""

import json
import re
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest
from clitools import TINY, one_error_line, run
from runtools import params

import d2l_rnn
from d2l_rnn.run import ForeignCharacterError, InitShapeError, TrainingRun

OLD = ("the time traveller (for so it will be convenient to speak of him) was expounding a "
       "recondite matter to us. his grey eyes shone and twinkled, and his usually pale face "
       "was flushed and animated. the fire burned brightly \u2014 and the soft radiance. ") * 30
NEW = ("his grey eyes twinkled, the fire was flushed and pale \u2014 and so was he. "
       "the soft matter of time burned to us. ") * 40
SIZE = len(set(OLD))  # the checkpoint's vocabulary


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    """A checkpoint trained on OLD (2 epochs, validation, best kept) and NEW as a file."""
    folder = tmp_path_factory.mktemp("init")
    (folder / "old.txt").write_text(OLD, encoding="utf-8")
    (folder / "new.txt").write_text(NEW, encoding="utf-8")
    code = d2l_rnn.cli.main([str(a) for a in (
        "train", *TINY, "--data", folder / "old.txt", "--epochs", "2", "--batch-size", "8",
        "--num-steps", "10", "--cell", "gru", "--embed-size", "8", "--dropout", "0.1",
        "--save", folder / "ckpt")])
    assert code == 0
    return folder


def _state(folder):
    """Every file under ``folder``: its bytes and modification time."""
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(Path(folder).rglob("*"))
            if p.is_file()}


def test_before_its_first_update_the_model_is_the_checkpoints(origin, capsys):
    printed = run(capsys, "evaluate", "--checkpoint", origin / "ckpt", "--data",
                  origin / "new.txt", "--ctx", "cpu")
    assert printed.code == 0, printed.err
    evaluated = float(re.match(r"perplexity (\S+) ", printed.out).group(1))
    run_ = TrainingRun.init_from(origin / "ckpt", mx.cpu(), data=str(origin / "new.txt"),
                                 num_epochs=1, batch_size=8, num_steps=10)
    whole = np.concatenate([run_.text.train, run_.text.val])
    before = []
    inner = run_.train_one_epoch.train_batch

    def first_batch(X, Y, state):
        if not before:  # the model as the run starts training it
            before.append(d2l_rnn.evaluate_perplexity(run_.model, whole, mx.cpu()))
        return inner(X, Y, state)

    run_.train_one_epoch.train_batch = first_batch
    assert run_.fit(progress=False, handle_signals=False).reason == "finished"
    assert before[0] == pytest.approx(evaluated, abs=1e-6)  # evaluate prints 6 decimals
    assert len(run_.history) == 1
    start = d2l_rnn.load_checkpoint(origin / "ckpt" / "best", mx.cpu())
    assert any(not np.array_equal(a, b) for a, b in zip(params(run_.model), params(start.model)))


def test_the_vocabulary_and_ids_stay_the_models(origin):
    start = d2l_rnn.load_checkpoint(origin / "ckpt", mx.cpu())
    run_ = TrainingRun.init_from(origin / "ckpt", mx.cpu(), data=str(origin / "new.txt"),
                                 batch_size=8, num_steps=10, which="last")
    assert run_.text.idx_to_char == start.idx_to_char
    assert len(set(NEW)) < len(start.idx_to_char)  # not the new text's own vocabulary
    assert "".join(start.idx_to_char[i] for i in run_.text.train) == NEW[:len(run_.text.train)]
    assert run_.settings.optimizer == "rmsprop" and run_.trainer._updaters[0].states == {}
    shape = tuple(getattr(run_.settings, name) for name in
                  ("cell", "num_hiddens", "embed_size", "dropout", "num_layers"))
    assert shape == ("gru", 16, 8, 0.1, 1)  # the model's, not the recipe's
    assert run_.epoch == 0 and run_.history == []
    with pytest.raises(InitShapeError, match="num_hiddens=32 does not match the checkpoint's 16"):
        TrainingRun.init_from(origin / "ckpt", mx.cpu(), data=str(origin / "new.txt"),
                              num_hiddens=32)


def test_the_checkpoint_folder_is_never_written(origin, capsys, tmp_path):
    before = _state(origin / "ckpt")
    common = ["train", "--init-from", origin / "ckpt", "--data", origin / "new.txt",
              "--epochs", "2", "--ctx", "cpu", "--batch-size", "8", "--num-steps", "10",
              "--pred-len", "5"]
    unsaved = run(capsys, *common)
    assert unsaved.code == 0, unsaved.err
    assert "the model was not saved: pass --save DIR" in unsaved.out
    saved = run(capsys, *common, "--optimizer", "adam", "--save", tmp_path / "tuned")
    assert saved.code == 0, saved.err
    assert "d2l-rnn: starting from the weights of %s" % (origin / "ckpt" / "best") in saved.err
    assert _state(origin / "ckpt") == before
    tuned, start = (d2l_rnn.load_checkpoint(tmp_path / "tuned"),
                    d2l_rnn.load_checkpoint(origin / "ckpt"))
    assert tuned.idx_to_char == start.idx_to_char and tuned.epoch == 2
    assert tuned.settings["optimizer"] == "adam" and tuned.settings["data"].endswith("new.txt")
    manifests = [json.loads((c.path / "manifest.json").read_text()) for c in (tuned, start)]
    assert manifests[0]["run"] != manifests[1]["run"]  # a new run, not the old one continued


@pytest.mark.parametrize("where", ["ckpt", "ckpt/best", "ckpt/inside", "."])
def test_a_save_folder_in_or_around_the_checkpoint_is_refused(where, origin, capsys):
    before = _state(origin / "ckpt")
    save = origin / where
    line = one_error_line(run(capsys, "train", "--init-from", origin / "ckpt", "--data",
                              origin / "new.txt", "--ctx", "cpu", "--save", save))
    assert "the checkpoint folder %s this run started from, which it never writes into" \
        % (origin / "ckpt").resolve() in line
    assert _state(origin / "ckpt") == before and not (origin / "ckpt" / "inside").exists()
    run_ = TrainingRun.init_from(origin / "ckpt", mx.cpu(), data=str(origin / "new.txt"),
                                 batch_size=8, num_steps=10, num_epochs=1)
    with pytest.raises(ValueError, match="never writes into"):
        run_.fit(save, progress=False, handle_signals=False)
    assert _state(origin / "ckpt") == before


def test_a_foreign_character_is_one_line_with_its_hint(origin, capsys, tmp_path):
    cases = [("Жили были мы", "utf-8", None, "'Ж' (U+0416), 'б' (U+0431), 'и' (U+0438), "
              "'л' (U+043B), 'м' (U+043C) and 1 more in %s are not in the vocabulary of %s"),
             (NEW + "The End.", "utf-8", None, "'E' (U+0045) and 'T' (U+0054) in %s are not "
              "in the vocabulary of %s (" + str(SIZE) + " characters); the model keeps its "
              "vocabulary: use a text without them, or pass --lower (lower-cased, every "
              "character is in it)"),
             (NEW, "utf-8", "latin-1", "the file looks mis-decoded: --encoding utf-8 reads its "
              "start with the vocabulary's characters only"),
             (NEW + "1", "utf-8", None, "'1' (U+0031) in %s is not in the vocabulary of %s ("
              + str(SIZE) + " characters); the model keeps its vocabulary: use a text without "
              "it")]
    for n, (text, written, read, message) in enumerate(cases):
        path = tmp_path / ("t%d.txt" % n)
        path.write_bytes(text.encode(written))
        args = ["train", "--init-from", origin / "ckpt", "--data", path, "--ctx", "cpu"]
        line = one_error_line(run(capsys, *args, *(["--encoding", read] if read else [])))
        expected = message % (path, origin / "ckpt") if "%s" in message else message
        assert line.endswith(expected) if n == 3 else expected in line, line
        if n != 2:
            assert "mis-decoded" not in line
        if n != 1:
            assert "--lower" not in line
    with pytest.raises(ForeignCharacterError, match=r"or pass lower=True") as caught:
        TrainingRun.init_from(origin / "ckpt", mx.cpu(), data=str(tmp_path / "t1.txt"))
    assert caught.value.characters == ["E", "T"] and caught.value.lower
    assert str(caught.value).startswith("'E' (U+0045) and 'T' (U+0054) in %s are not in the "
                                        "vocabulary of %s" % (tmp_path / "t1.txt", origin
                                                              / "ckpt" / "best" / "epoch-000002"))
    fixed = run(capsys, "train", "--init-from", origin / "ckpt", "--data", tmp_path / "t1.txt",
                "--lower", "--epochs", "1", "--ctx", "cpu", "--batch-size", "8")
    assert fixed.code == 0, fixed.err


@pytest.mark.parametrize("extra,message", [
    (["--resume", "ckpt"], "--init-from starts a new run from a checkpoint's weights, --resume "
                           "goes on with a run"),
    (["--num-layers", "2"], "--num-layers 2 does not match the checkpoint's 1: a run started "
                            "with --init-from keeps its model's shape; drop the flag"),
    (["--embed-size", "0"], "--embed-size 0 does not match the checkpoint's 8"),
    (["--dropout", "0.2"], "--dropout 0.2 does not match the checkpoint's 0.1"),
    (["--which", "best", "--init-from", "nowhere"], "checkpoint directory nowhere does not exist"),
])
def test_what_is_refused(extra, message, origin, capsys):
    before = _state(origin / "ckpt")
    extra = [origin / e if e == "ckpt" else e for e in extra]
    init = [] if "--init-from" in extra else ["--init-from", origin / "ckpt"]
    line = one_error_line(run(capsys, "train", *init, "--data", origin / "new.txt", "--ctx",
                              "cpu", *extra))
    assert message in line, line
    assert _state(origin / "ckpt") == before


def test_which_needs_init_from_and_the_same_shape_is_fine(origin, capsys, tmp_path):
    line = one_error_line(run(capsys, "train", *TINY, "--which", "last"))
    assert "--which chooses the snapshot of --init-from DIR" in line
    same = run(capsys, "train", "--init-from", origin / "ckpt", "--data", origin / "new.txt",
               "--num-hiddens", "16", "--cell", "gru", "--embed-size", "8", "--dropout", "0.1",
               "--which", "last", "--epochs", "1", "--ctx", "cpu", "--batch-size", "8")
    assert same.code == 0, same.err
    assert "the weights of %s (epoch 2)" % (origin / "ckpt" / "epoch-000002") in same.err
