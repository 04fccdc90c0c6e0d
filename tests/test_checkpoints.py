"""save_checkpoint / load_checkpoint: round trips, atomic saves, crashes, bad files."""

import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from modeltools import edit_json as _edit_json
from modeltools import rewrite as _rewrite
from mxnet import nd

import d2l_rnn
from d2l_rnn.checkpoint import layout as checkpoints
from d2l_rnn.checkpoint.folder import Folder
from d2l_rnn.model import build_model, describe_model

VOCAB = list("abcdefg")


def _model(cell="lstm", layers=2, **kw):
    model = build_model(cell, 8, layers, len(VOCAB), **kw)
    model.initialize()
    model(nd.array([[0, 1, 2]]), model.begin_state(batch_size=1))  # finish deferred init
    return model


def _params(model):
    return {name: p.data().asnumpy() for name, p in model._collect_params_with_prefix().items()}


def _names(directory):
    return sorted(p.name for p in directory.iterdir())


def test_round_trip(tmp_path, ctx):
    model = _model()
    snapshot = d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, settings={"lr": 1.5},
                                       epoch=3, history=[9.0, 8.0, 7.5], val_history=[9.5] * 3)
    assert snapshot == tmp_path / "epoch-000003"
    loaded = d2l_rnn.load_checkpoint(tmp_path, ctx)
    assert (loaded.epoch, loaded.history, loaded.val_history) == (3, [9.0, 8.0, 7.5], [9.5] * 3)
    assert loaded.settings == {"lr": 1.5} and loaded.path == snapshot
    assert loaded.idx_to_char == VOCAB and loaded.char_to_idx["c"] == 2
    assert loaded.architecture == describe_model(model)
    saved, got = _params(model), _params(loaded.model)
    assert saved.keys() == got.keys()
    for name in saved:
        np.testing.assert_array_equal(saved[name], got[name])
    expected = d2l_rnn.predict_rnn_gluon("cab", 12, model, 7, ctx, VOCAB, loaded.char_to_idx)
    assert d2l_rnn.predict_rnn_gluon("cab", 12, loaded.model, 7, ctx, VOCAB,
                                     loaded.char_to_idx) == expected


@pytest.mark.parametrize("kw", [dict(cell="rnn", activation="tanh", bidirectional=True),
                                dict(cell="gru", layers=1)])
def test_other_layers_are_rebuilt_alike(kw, tmp_path, ctx):
    model = _model(**kw)
    loaded = d2l_rnn.load_checkpoint(d2l_rnn.save_checkpoint(tmp_path, model, VOCAB), ctx)
    assert describe_model(loaded.model) == describe_model(model)
    X = nd.array([[3, 1, 4, 1]])
    np.testing.assert_array_equal(model(X, model.begin_state(batch_size=1))[0].asnumpy(),
                                  loaded.model(X, loaded.model.begin_state(batch_size=1))[0]
                                  .asnumpy())


def test_random_state_is_restored(tmp_path):
    d2l_rnn.save_checkpoint(tmp_path, _model(), VOCAB)
    expected = (random.random(), np.random.rand())
    random.seed(123), np.random.seed(123)
    d2l_rnn.load_checkpoint(tmp_path).restore_random_state()
    assert (random.random(), np.random.rand()) == expected


def test_only_the_newest_snapshot_stays_and_leftovers_go(tmp_path):
    (tmp_path / ".d2l_rnn-tmp-dead").mkdir()  # left by a killed save
    (tmp_path / ".d2l_rnn-old-snapshot-000009").mkdir()
    (tmp_path / ".tmp-not-ours").mkdir()  # a user's folder: never touched
    (tmp_path / "notes.txt").write_text("mine")
    model = _model()
    for epoch in (1, 2, 3):
        d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, epoch=epoch)
    assert _names(tmp_path) == [".tmp-not-ours", "epoch-000003", "notes.txt"]
    assert d2l_rnn.load_checkpoint(tmp_path).epoch == 3


def test_a_snapshot_folder_can_be_loaded_directly(tmp_path):
    snapshot = d2l_rnn.save_checkpoint(tmp_path, _model(), VOCAB, epoch=4)
    assert d2l_rnn.load_checkpoint(snapshot).epoch == 4
    assert checkpoints.checkpoint_root(snapshot) == tmp_path


@pytest.mark.parametrize("bad,match", [
    (dict(idx_to_char=VOCAB[:-1]), "vocab_size is 7"),
    (dict(settings={"f": object()}), "JSON-serialisable"),
    (dict(epoch=-1), "epoch"),
])
def test_bad_arguments_write_nothing(bad, match, tmp_path):
    args = dict(idx_to_char=VOCAB)
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        d2l_rnn.save_checkpoint(tmp_path / "c", _model(), args.pop("idx_to_char"), **args)
    assert not (tmp_path / "c").exists()


def test_a_failing_disk_keeps_the_previous_snapshot(tmp_path, monkeypatch):
    model = _model()
    d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, epoch=1)

    def full(folder, name, data):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Folder, "write", full)
    with pytest.raises(OSError, match="No space"):
        d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, epoch=2)
    assert _names(tmp_path) == ["epoch-000001"]
    assert d2l_rnn.load_checkpoint(tmp_path).epoch == 1


_KILLER = textwrap.dedent("""
    import os, signal, sys
    import d2l_rnn  # before mxnet: it readies numpy and the CUDA libraries for it
    from mxnet import nd
    from d2l_rnn.checkpoint import save as _save
    from d2l_rnn.model import build_model

    directory, point = sys.argv[1:]
    model = build_model("gru", 8, 1, 7)
    model.initialize()
    model(nd.array([[0, 1]]), model.begin_state(batch_size=1))
    d2l_rnn.save_checkpoint(directory, model, list("abcdefg"), epoch=1)

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    def half_written(path):  # the parameters file is cut off, then the process dies
        with open(path, "wb") as f:
            f.write(b"partial")
        die()

    if point == "params":
        model.save_parameters = half_written
    elif point == "rename":
        os.rename = die
    else:
        _save._retire = die
    d2l_rnn.save_checkpoint(directory, model, list("abcdefg"), epoch=2)
    print("the save finished: the kill did not happen")
""")


@pytest.mark.parametrize("point,survivor", [("params", 1), ("rename", 1), ("retire", 2)])
def test_sigkill_in_the_middle_of_a_save(point, survivor, tmp_path):
    """A save killed at any point leaves a complete snapshot, and the next save tidies up."""
    directory = tmp_path / "ckpt"
    proc = subprocess.run([sys.executable, "-c", _KILLER, str(directory), point],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stdout + proc.stderr
    visible = [n for n in _names(directory) if not n.startswith(".")]
    assert visible == ["epoch-000001", "epoch-000002"][:survivor]
    # The killed save's temporary or retired folder is left (its lock file too).
    leftovers = (".d2l_rnn-tmp-", ".d2l_rnn-old-")
    assert any(n.startswith(leftovers) for n in _names(directory)) == (survivor == 1)
    assert d2l_rnn.load_checkpoint(directory).epoch == survivor
    d2l_rnn.save_checkpoint(directory, _model(cell="gru", layers=1), VOCAB, epoch=3,
                            overwrite=True)  # another process's run
    assert _names(directory) == ["epoch-000003"]


@pytest.fixture
def snapshot(tmp_path):
    return d2l_rnn.save_checkpoint(tmp_path / "ckpt", _model(), VOCAB, epoch=2)


@pytest.mark.parametrize("damage,match", [
    (lambda s: (s / "vocab.json").unlink(), r"incomplete: vocab\.json is missing"),
    (lambda s: (s / "manifest.json").unlink(), r"incomplete: manifest\.json is missing"),
    (lambda s: (s / "model.params").write_bytes(b"\0" * 10),
     r"model\.params is corrupt: its SHA-256 does not match"),
    (lambda s: (s / "manifest.json").write_text("{oops"), r"manifest\.json is corrupt: not valid"),
    (lambda s: _rewrite(s, "hparams.json", b"{oops"), r"hparams\.json is corrupt: not valid JSON"),
    (lambda s: _rewrite(s, "model.params", b"junk"), r"model\.params is corrupt: it ends early"),
    (lambda s: _edit_json(s, "hparams.json", lambda d: d["model"].update(num_hiddens=9)),
     r"model\.params does not fit"),
    (lambda s: _edit_json(s, "vocab.json", lambda d: d.append("z")),
     r"hparams\.json is corrupt: model\.vocab_size is 7 but vocab\.json has 8"),
    (lambda s: _edit_json(s, "state.json", lambda d: d.update(python_random=[1])),
     r"state\.json is corrupt: python_random"),
    (lambda s: _edit_json(s, "manifest.json", lambda d: d["files"].update({"../x": "0"})),
     r"manifest\.json is corrupt: unknown file '\.\./x'"),
    (lambda s: _edit_json(s, "manifest.json", lambda d: d.update(format=99)),
     r"format 99 is newer"),
])
def test_damaged_checkpoints_name_the_file(snapshot, damage, match):
    damage(snapshot)
    with pytest.raises(d2l_rnn.CheckpointError, match=match):
        d2l_rnn.load_checkpoint(snapshot.parent)


def test_missing_and_empty_directories(tmp_path):
    with pytest.raises(d2l_rnn.CheckpointError, match="does not exist"):
        d2l_rnn.load_checkpoint(tmp_path / "nope")
    with pytest.raises(d2l_rnn.CheckpointError, match="holds no checkpoint"):
        d2l_rnn.load_checkpoint(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(d2l_rnn.CheckpointError, match="not a directory"):
        d2l_rnn.load_checkpoint(tmp_path / "file")


def test_another_runs_folder_is_refused_without_overwrite(tmp_path):
    mine, other = _model(), _model(cell="gru", layers=1)
    first = d2l_rnn.save_checkpoint(tmp_path, mine, VOCAB, epoch=1)
    with pytest.raises(d2l_rnn.CheckpointError, match=r"holds a checkpoint of another run "
                                                      r"\(epoch-000001\).*overwrite=True"):
        d2l_rnn.save_checkpoint(tmp_path, other, VOCAB, epoch=9)
    assert _names(tmp_path) == ["epoch-000001"]
    assert d2l_rnn.load_checkpoint(tmp_path).architecture == describe_model(mine)
    # The same model again, or one loaded from the folder, continues its run.
    d2l_rnn.save_checkpoint(tmp_path, mine, VOCAB, epoch=2)
    resumed = d2l_rnn.load_checkpoint(tmp_path)
    d2l_rnn.save_checkpoint(tmp_path, resumed.model, VOCAB, epoch=3)
    assert _names(tmp_path) == ["epoch-000003"] and first.name == "epoch-000001"
    # overwrite=True replaces the other run's snapshots; the folder is then this run's.
    d2l_rnn.save_checkpoint(tmp_path, other, VOCAB, epoch=9, overwrite=True)
    d2l_rnn.save_checkpoint(tmp_path, other, VOCAB, epoch=10)
    loaded = d2l_rnn.load_checkpoint(tmp_path)
    assert (loaded.epoch, loaded.architecture) == (10, describe_model(other))
    with pytest.raises(d2l_rnn.CheckpointError, match="another run"):
        d2l_rnn.save_checkpoint(tmp_path, mine, VOCAB, epoch=4)
