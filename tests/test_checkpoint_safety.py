"""Checkpoints from someone else: no code runs, bad fields are named, NaN is never saved,
user files are never deleted, one writer per folder, and readers during saves."""

import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import time

import mxnet as mx
import numpy as np
import pytest
from clitools import one_error_line, run
from modeltools import edit_json as _edit_json
from modeltools import momentum_trainer
from modeltools import rewrite as _rewrite
from mxnet import nd

import d2l_rnn
from d2l_rnn.checkpoint import FolderBusyError, OtherRunError, lock_folder
from d2l_rnn.checkpoint import layout as checkpoints
from d2l_rnn.model import build_model

VOCAB = list("abcdefg")


def _model(cell="gru", layers=1):
    model = build_model(cell, 8, layers, len(VOCAB))
    model.initialize()
    model(nd.array([[0, 1, 2]]), model.begin_state(batch_size=1))
    return model


class _Payload:
    """Unpickling this calls os.system, which creates the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch %s" % self.marker,))


def _evil(marker):
    return pickle.dumps(_Payload(marker))


@pytest.fixture
def momentum_snapshot(tmp_path):
    """A checkpoint with every kind of file, trainer arrays included."""
    model = _model()
    return d2l_rnn.save_checkpoint(tmp_path / "ckpt", model, VOCAB, epoch=1,
                                   trainer=momentum_trainer(model))


def test_a_snapshot_holds_no_pickle(momentum_snapshot):
    names = sorted(p.name for p in momentum_snapshot.iterdir())
    assert names == ["hparams.json", "manifest.json", "model.params", "state.json",
                     "trainer.json", "trainer.params", "vocab.json"]
    for path in momentum_snapshot.iterdir():
        with pytest.raises(Exception):  # noqa: B017 - anything but a successful unpickle
            pickle.loads(path.read_bytes())


def _plant(snapshot, names, marker):
    for name in names:
        if name == "manifest.json":
            (snapshot / name).write_bytes(_evil(marker))
        else:
            _rewrite(snapshot, name, _evil(marker))


ALL_FILES = ["model.params", "vocab.json", "hparams.json", "state.json", "trainer.json",
             "trainer.params"]


@pytest.mark.parametrize("names", [[n] for n in ALL_FILES + ["manifest.json"]] + [ALL_FILES],
                         ids=lambda n: "+".join(n))
def test_a_planted_pickle_never_runs(names, momentum_snapshot, tmp_path, capsys):
    """Bug it catches: any pickle.loads / Trainer.load_states on a checkpoint file."""
    marker = tmp_path / "pwned"
    _plant(momentum_snapshot, names, marker)
    root = momentum_snapshot.parent
    with pytest.raises(d2l_rnn.CheckpointError, match="corrupt|not valid JSON"):
        d2l_rnn.load_checkpoint(root)
    for argv in (["generate", "--checkpoint", root, "--prefix", "abc", "--ctx", "cpu"],
                 ["train", "--resume", root, "--ctx", "cpu", "--epochs", "3"]):
        assert "corrupt" in one_error_line(run(capsys, *argv))
    assert not marker.exists()


def test_the_old_pickled_trainer_file_is_never_read(momentum_snapshot, tmp_path):
    marker = tmp_path / "pwned"
    _rewrite(momentum_snapshot, "trainer.states", _evil(marker))
    with pytest.raises(d2l_rnn.CheckpointError, match=r"unknown file 'trainer\.states'"):
        d2l_rnn.load_checkpoint(momentum_snapshot)
    manifest = json.loads((momentum_snapshot / "manifest.json").read_text())
    manifest.update(format=2)
    del manifest["writer"]
    (momentum_snapshot / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(d2l_rnn.CheckpointError, match=r"format 2 was written by an older "
                                                      r"d2l_rnn and holds a pickle"):
        d2l_rnn.load_checkpoint(momentum_snapshot)
    assert not marker.exists()


@pytest.mark.parametrize("name,change,match", [
    ("hparams.json", lambda d: d["model"].update(activation="foo"), "model.activation"),
    ("hparams.json", lambda d: d["model"].update(dropout="abc"), "model.dropout"),
    ("hparams.json", lambda d: d["model"].update(num_layers=11), "model.num_layers"),
    ("hparams.json", lambda d: d["model"].update(num_hiddens=True), "model.num_hiddens"),
    ("hparams.json", lambda d: d["settings"].update(prefixes=5), "settings.prefixes"),
    ("hparams.json", lambda d: d["settings"].update(lr="fast"), "settings.lr"),
    ("hparams.json", lambda d: d["settings"].update(sampler="any"), "settings.sampler"),
    ("hparams.json", lambda d: d["settings"].update(save_every=0), "settings.save_every"),
    ("hparams.json", lambda d: d["settings"].update(seed=2 ** 40), "settings.seed"),
    ("state.json", lambda d: d.update(numpy_random=d["numpy_random"][:3]), "numpy_random"),
    ("state.json", lambda d: d["python_random"][1].__setitem__(0, -1), "python_random"),
    ("state.json", lambda d: d.update(epoch=-1), "epoch"),
    ("state.json", lambda d: d.update(history=["x"]), "history"),
    ("vocab.json", lambda d: d.__setitem__(0, "ab"), "single characters"),
    ("trainer.json", lambda d: d.update(optimizer="__import__('os')"), "optimizer"),
    ("trainer.json", lambda d: d.update(learning_rate=float("nan")), "learning_rate"),
    ("trainer.json", lambda d: d["states"].update({"0": "pickle"}), "states.0"),
    ("trainer.json", lambda d: d["states"].update({"99": None}), "parameter 99"),
    ("trainer.json", lambda d: d["states"].update({"x": None}), "not a parameter index"),
])
def test_a_bad_field_is_named_with_its_file(name, change, match, momentum_snapshot):
    """Bug it catches: a field passed on unchecked (KeyError, TypeError, MXNet errors)."""
    _edit_json(momentum_snapshot, name, change)
    with pytest.raises(d2l_rnn.CheckpointError, match=r"%s.*%s" % (name.replace(".", r"\."),
                                                                 match)):
        checkpoint = d2l_rnn.load_checkpoint(momentum_snapshot)
        checkpoint.restore_trainer(momentum_trainer(checkpoint.model))


def test_an_unreadable_file_is_a_checkpoint_error(momentum_snapshot, monkeypatch):
    from d2l_rnn.checkpoint import reading
    real = reading.read_regular

    def read_regular(path, *args, **kwargs):
        if path.endswith("model.params"):
            raise PermissionError(13, "Permission denied")
        return real(path, *args, **kwargs)
    monkeypatch.setattr(reading, "read_regular", read_regular)
    with pytest.raises(d2l_rnn.CheckpointError, match=r"cannot read checkpoint file .*"
                                                      r"model\.params: Permission denied"):
        d2l_rnn.load_checkpoint(momentum_snapshot)


def test_an_optimizer_state_that_is_not_arrays_is_refused(tmp_path):
    model = _model()
    trainer = momentum_trainer(model)
    trainer._updaters[0].states[0] = {"not": "arrays"}
    with pytest.raises(ValueError, match="can only store plain array states"):
        d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, trainer=trainer)
    assert list(tmp_path.iterdir()) == []


def test_a_nan_model_is_never_saved(tmp_path):
    """Bug it catches: saving without checking the parameters are finite."""
    model = _model()
    first = d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, epoch=1)
    param = next(iter(model.collect_params().values()))
    param.set_data(param.data() * np.nan)
    with pytest.raises(FloatingPointError, match="NaN or infinite"):
        d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, epoch=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name]
    assert d2l_rnn.load_checkpoint(tmp_path).epoch == 1


def test_a_planted_nan_is_refused_on_load(momentum_snapshot):
    model = d2l_rnn.load_checkpoint(momentum_snapshot).model
    param = next(iter(model.collect_params().values()))
    param.set_data(param.data() * np.inf)
    planted = momentum_snapshot.parent / "planted.params"
    model.save_parameters(str(planted))
    _rewrite(momentum_snapshot, "model.params", planted.read_bytes())
    with pytest.raises(d2l_rnn.CheckpointError, match="holds NaN or infinite values"):
        d2l_rnn.load_checkpoint(momentum_snapshot)


def _nan_run(capsys, *args):
    return run(capsys, "train", "--num-hiddens", "32", "--num-chars", "100", "--batch-size", "8",
               "--num-steps", "10", "--lr", "1e39", "--save-every", "1", "--ctx", "cpu", *args)


def test_the_nan_run_of_the_issue_saves_nothing_and_says_so(tmp_path, capsys):
    """Bug it catches: a snapshot full of NaN declared intact (the loss is read before
    the epoch's last update, so only a check of the parameters sees it)."""
    line = one_error_line(_nan_run(capsys, "--save", tmp_path))
    assert "training diverged: after epoch 1" in line and "holds NaN or infinite" in line
    assert line.endswith("no checkpoint was saved by this run")
    assert list(tmp_path.iterdir()) == []


def test_a_diverging_resume_names_a_snapshot_that_is_intact(tmp_path, capsys):
    assert run(capsys, "train", "--num-hiddens", "32", "--num-chars", "100", "--batch-size",
               "8", "--num-steps", "10", "--ctx", "cpu", "--epochs", "1", "--pred-len", "5",
               "--save", tmp_path).code == 0
    result = _nan_run(capsys, "--resume", tmp_path, "--epochs", "9")
    assert result.code == 2 and "Traceback" not in result.err
    resuming, line = result.err.strip().splitlines()  # "resuming ...", then the error
    good = tmp_path / "epoch-000001"
    assert line.endswith("the checkpoint it resumed from, %s, is intact" % good)
    checkpoint = d2l_rnn.load_checkpoint(tmp_path, mx.cpu())
    assert checkpoint.path == good and checkpoint.epoch == 1
    assert all(np.isfinite(p.data().asnumpy()).all()
               for p in checkpoint.model.collect_params().values())


def _user_snapshot(directory, name="snapshot-000001"):
    folder = directory / name
    folder.mkdir(parents=True)
    (folder / "thesis.txt").write_text("years of work")
    return folder


@pytest.mark.parametrize("name", ["snapshot-000001", "epoch-000001-batch-000002"])
@pytest.mark.parametrize("overwrite", [False, True])
def test_a_users_snapshot_folder_is_never_replaced(overwrite, name, tmp_path):
    """Bug it catches: --overwrite deleting any folder named like a snapshot."""
    folder = _user_snapshot(tmp_path, name)
    with pytest.raises(OtherRunError, match="%s, which is not a complete d2l_rnn checkpoint"
                                            % name):
        d2l_rnn.save_checkpoint(tmp_path, _model(), VOCAB, overwrite=overwrite)
    assert (folder / "thesis.txt").read_text() == "years of work"


def test_overwrite_refuses_a_folder_with_other_files(tmp_path, capsys):
    assert run(capsys, "train", "--num-hiddens", "8", "--ctx", "cpu", "--epochs", "1",
               "--pred-len", "5", "--save", tmp_path).code == 0
    (tmp_path / "notes.txt").write_text("mine")
    result = run(capsys, "train", "--num-hiddens", "8", "--ctx", "cpu", "--epochs", "1",
                 "--save", tmp_path, "--overwrite")
    assert "holds files that are not d2l_rnn snapshots (notes.txt)" in one_error_line(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-000001", "notes.txt"]
    _user_snapshot(tmp_path / "user")
    result = run(capsys, "train", "--num-hiddens", "8", "--ctx", "cpu", "--epochs", "1",
                 "--save", tmp_path / "user", "--overwrite")
    assert "not a complete d2l_rnn checkpoint" in one_error_line(result)
    assert (tmp_path / "user" / "snapshot-000001" / "thesis.txt").exists()


_HOLDER = textwrap.dedent("""
    import sys
    from d2l_rnn.checkpoint import lock_folder
    lock = lock_folder(sys.argv[1])
    print("locked", flush=True)
    sys.stdin.read()
""")


def test_a_locked_folder_is_refused_naming_the_holder(tmp_path, capsys):
    """Bug it catches: saving into a folder another process is writing to."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(FolderBusyError, match=r"in use by another run \(pid %d on "
                                                  % holder.pid):
            d2l_rnn.save_checkpoint(tmp_path, _model(), VOCAB)
        result = run(capsys, "train", "--num-hiddens", "8", "--ctx", "cpu", "--save", tmp_path)
        line = one_error_line(result)
        assert str(tmp_path) in line and "pid %d" % holder.pid in line and result.out == ""
    finally:
        holder.kill()
        holder.wait()
    d2l_rnn.save_checkpoint(tmp_path, _model(), VOCAB)  # a dead holder's lock is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-000000"]


def test_two_runs_on_one_folder_second_refused_first_intact(tmp_path, capsys):
    args = ["train", "--num-hiddens", "8", "--ctx", "cpu", "--num-chars", "2000",
            "--pred-len", "5", "--save-every", "1", "--save", str(tmp_path)]
    first = subprocess.Popen([sys.executable, "-m", "d2l_rnn", *args, "--epochs", "60"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 120
        while time.monotonic() < end and not list(tmp_path.glob("epoch-*")):
            assert first.poll() is None, first.stderr.read()
            time.sleep(0.02)
        second = run(capsys, *args, "--epochs", "3", "--overwrite")
        assert first.poll() is None  # the refusal came while the first was training
        assert "in use by another run (pid %d" % first.pid in one_error_line(second)
        assert first.wait(timeout=300) == 0, first.stderr.read()
    finally:
        first.kill()
        first.wait()
    checkpoint = d2l_rnn.load_checkpoint(tmp_path)
    assert checkpoint.epoch == 60 and len(checkpoint.history) == 60
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-000060"]


def test_the_lock_is_per_process_and_released(tmp_path):
    lock = lock_folder(tmp_path)
    d2l_rnn.save_checkpoint(tmp_path, _model(), VOCAB)  # this process holds it: fine
    assert (tmp_path / checkpoints.LOCK).exists()
    lock.release()
    lock.release()
    assert not (tmp_path / checkpoints.LOCK).exists()


_SAVER = textwrap.dedent("""
    import os, sys, time
    import d2l_rnn
    from mxnet import nd
    from d2l_rnn.model import build_model

    model = build_model("gru", 8, 1, 7)
    model.initialize()
    model(nd.array([[0, 1]]), model.begin_state(batch_size=1))
    end = time.monotonic() + 120  # a bound, should the test never say stop
    epoch = 0
    while time.monotonic() < end and not os.path.exists(sys.argv[2]):
        epoch += 1
        d2l_rnn.save_checkpoint(sys.argv[1], model, list("abcdefg"), epoch=epoch)
    print(epoch)
""")


def test_readers_during_saves_never_fail(tmp_path):
    """Bug it catches: a reader failing when a save retires the snapshot it reads.

    The saver saves until the reader has made 200 loads that saw 20 different
    snapshots, however long that takes on a busy machine (no fixed duration).
    """
    folder, stop = tmp_path / "ckpt", tmp_path / "stop"
    saver = subprocess.Popen([sys.executable, "-c", _SAVER, str(folder), str(stop)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    loads, failures, epochs = 0, [], set()
    try:
        while saver.poll() is None and not list(folder.glob("epoch-*")):
            time.sleep(0.01)
        while saver.poll() is None and not (loads >= 200 and len(epochs) >= 20):
            try:
                epochs.add(d2l_rnn.load_checkpoint(folder, mx.cpu()).epoch)
            except (d2l_rnn.CheckpointError, OSError) as err:
                failures.append(str(err))
            loads += 1
        stop.touch()
        out, err = saver.communicate(timeout=60)
    finally:
        saver.kill()
        saver.wait()
    assert saver.returncode == 0, err
    print("%d loads during %s saves" % (loads, out.strip()))
    assert failures == [], "%d of %d loads failed, e.g. %s" % (len(failures), loads, failures[0])
    assert loads >= 200 and len(epochs) >= 20  # the saves really raced the loads


def test_a_copied_snapshot_resumes_only_with_save(tmp_path, capsys):
    assert run(capsys, "train", "--num-hiddens", "8", "--ctx", "cpu", "--epochs", "1",
               "--pred-len", "5", "--save", tmp_path / "a").code == 0
    copy = tmp_path / "copy"
    shutil.copytree(d2l_rnn.checkpoint.find_snapshot(tmp_path / "a"), copy)
    result = run(capsys, "train", "--resume", copy, "--epochs", "2")
    assert "pass --save DIR" in one_error_line(result)
    result = run(capsys, "train", "--resume", copy, "--epochs", "2", "--save", tmp_path / "b")
    assert result.code == 0 and d2l_rnn.load_checkpoint(tmp_path / "b").epoch == 2


def test_save_every_is_kept_for_a_resumed_run(tmp_path, capsys):
    """Bug it catches: a resumed run going back to --save-every 10."""
    assert run(capsys, "train", "--num-hiddens", "8", "--ctx", "cpu", "--epochs", "2",
               "--save-every", "3", "--pred-len", "5", "--save", tmp_path).code == 0
    assert d2l_rnn.load_checkpoint(tmp_path).settings["save_every"] == 3
    saved = []
    real = d2l_rnn.run.fitting.save_checkpoint

    def spy(directory, model, idx_to_char, **kw):
        saved.append(kw["epoch"])
        return real(directory, model, idx_to_char, **kw)
    d2l_rnn.run.fitting.save_checkpoint = spy
    try:
        assert run(capsys, "train", "--resume", tmp_path, "--epochs", "7").code == 0
    finally:
        d2l_rnn.run.fitting.save_checkpoint = real
    assert saved == [3, 6, 7]


def test_overwrite_replaces_a_run_with_its_best_snapshot_but_not_a_users_file(tmp_path, capsys):
    """Bug it catches: best/ counted as a user's folder (overwrite always refused), or
    anything inside best/ counted as ours."""
    args = ["train", "--num-hiddens", "8", "--ctx", "cpu", "--val-chars", "300",
            "--pred-len", "3", "--save", tmp_path]
    assert run(capsys, *args, "--epochs", "2").code == 0
    assert (tmp_path / "best").is_dir()
    assert run(capsys, *args, "--epochs", "1", "--overwrite").code == 0
    assert d2l_rnn.load_checkpoint(tmp_path).epoch == 1
    (tmp_path / "best" / "notes.txt").write_text("mine")
    assert run(capsys, *args, "--epochs", "3").code == 2  # another run, no --overwrite
    line = one_error_line(run(capsys, *args, "--epochs", "3", "--overwrite"))
    assert "holds files that are not d2l_rnn snapshots (best)" in line
    assert (tmp_path / "best" / "notes.txt").read_text() == "mine"


def test_a_listing_that_a_save_overtakes_is_made_again(tmp_path, monkeypatch):
    """A save renames epoch-000002 in and retires epoch-000001 between the folder's
    listing and the check of what it listed (names.snapshots). Bug it catches: 'holds
    no checkpoint' from one listing only (seen on Python 3.13, in
    test_readers_during_saves_never_fail about every other run)."""
    from pathlib import Path

    from d2l_rnn.checkpoint import names

    (tmp_path / "epoch-000001").mkdir()
    listings = []
    real_iterdir = Path.iterdir

    def iterdir_then_a_save(self):
        entries = list(real_iterdir(self))
        if not listings:
            (tmp_path / "epoch-000002").mkdir()
            (tmp_path / "epoch-000001").rename(tmp_path / ".d2l_rnn-old-epoch-000001")
        listings.append(entries)
        return iter(entries)

    monkeypatch.setattr(Path, "iterdir", iterdir_then_a_save)
    assert [path for _, path in names.snapshots(tmp_path)] == [tmp_path / "epoch-000002"]
    assert len(listings) == 2
