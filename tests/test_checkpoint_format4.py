"""Checkpoint format 4: snapshots named by the point they hold, snapshots within an epoch,
and format 3 (``snapshot-N``) still read.

Planted bugs these tests caught: names ordered as text (``epoch-000010`` before
``epoch-000009-batch-...`` is right, but ``batch-000100`` before ``batch-000020``
is not), a second save of the same point reusing the name (the rename fails), the
position's losses not checked against the batch count, and format 3 refused.
"""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from mxnet import nd

import d2l_rnn
from d2l_rnn.checkpoint import CheckpointError, snapshot_point, snapshots
from d2l_rnn.checkpoint.names import snapshot_name
from d2l_rnn.model import build_model

FORMAT3 = Path(__file__).parent / "data" / "format3"
VOCAB = list("abcdefg")


def _model():
    model = build_model("lstm", 8, 1, len(VOCAB))
    model.initialize()
    model(nd.array([[0, 1, 2]]), model.begin_state(batch_size=1))
    return model


def _position(batch):
    return {"losses": nd.array(np.linspace(2.0, 1.5, batch), dtype="float32"),
            "norms": nd.array(np.linspace(0.5, 0.4, batch), dtype="float32"),
            "state.0.0": nd.ones((1, 4, 8)), "state.0.1": nd.zeros((1, 4, 8))}


def test_names_say_the_epoch_and_batch():
    assert snapshot_name(12) == "epoch-000012"
    assert snapshot_name(12, 340) == "epoch-000013-batch-000340"
    assert snapshot_name(12, 0, 2) == "epoch-000012.2"
    assert snapshot_point("x/epoch-000013-batch-000340") == (12, 340)
    assert snapshot_point("x/epoch-000012") == (12, 0)
    assert snapshot_point("x/notes") is None


def test_snapshots_are_ordered_by_epochs_then_batches(tmp_path):
    names = ["epoch-000009", "epoch-000010-batch-000020", "epoch-000010-batch-000100",
             "epoch-000010", "epoch-000010.2", "epoch-000011-batch-000001"]
    for name in reversed(names):
        (tmp_path / name).mkdir()
    (tmp_path / "not-a-snapshot").mkdir()
    assert [p.name for _, p in snapshots(tmp_path)] == names
    # Issue 21: what has a snapshot's name but is not a folder is refused, not skipped.
    (tmp_path / "epoch-000012").write_text("a file, not a snapshot")
    with pytest.raises(CheckpointError, match="epoch-000012 is a regular file, not a folder"):
        snapshots(tmp_path)


def test_a_snapshot_within_an_epoch_round_trips(tmp_path, ctx):
    model = _model()
    python_random = d2l_rnn.load_checkpoint(FORMAT3).python_random
    states = (python_random, np.random.RandomState(5).get_state())
    path = d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, epoch=3, batch=5, history=[9, 8, 7],
                                   position=_position(5), random_state=states)
    assert path.name == "epoch-000004-batch-000005"
    loaded = d2l_rnn.load_checkpoint(tmp_path, ctx)
    assert (loaded.epoch, loaded.batch, loaded.history) == (3, 5, [9, 8, 7])
    assert loaded.python_random == python_random
    assert loaded.numpy_random[2] == states[1][2]
    np.testing.assert_array_equal(loaded.numpy_random[1], states[1][1])
    assert sorted(loaded.position) == ["losses", "norms", "state.0.0", "state.0.1"]
    for name, array in _position(5).items():
        np.testing.assert_array_equal(loaded.position[name].asnumpy(), array.asnumpy())
    # The epoch's end replaces it; a snapshot of the same point again gets a new name.
    d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, epoch=4)
    d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, epoch=4)
    assert [p.name for p in tmp_path.iterdir()] == ["epoch-000004.2"]
    assert d2l_rnn.load_checkpoint(tmp_path).batch == 0


@pytest.mark.parametrize("kw,match", [
    (dict(batch=5), "position: it has no losses array"),
    (dict(batch=5, position={"losses": nd.ones((4,))}), "losses must hold 5 values"),
    (dict(batch=2, position={"losses": nd.ones((2,)), "x": nd.ones((2,))}),
     "unknown array 'x'"),
    (dict(batch=1, position={"losses": nd.array([np.nan])}), "finite float32"),
    (dict(position={"losses": nd.ones((2,))}), "only saved within an epoch"),
    (dict(batch=-1), "batch must be an integer from 0 to 10\\*\\*9"),  # the loader's bound (#21)
    (dict(batch=10 ** 10), "batch must be an integer from 0 to 10\\*\\*9"),
])
def test_a_bad_position_is_refused_and_nothing_written(kw, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        d2l_rnn.save_checkpoint(tmp_path / "c", _model(), VOCAB, **kw)
    assert not (tmp_path / "c").exists()


def _rewrite(snapshot, name, change):
    path = snapshot / name
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    manifest = json.loads((snapshot / "manifest.json").read_text())
    if name != "manifest.json":
        manifest["files"][name] = hashlib.sha256(path.read_bytes()).hexdigest()
        (snapshot / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("damage,match", [
    (lambda s: _rewrite(s, "state.json", lambda d: d.update(batch=0)),
     "position.params must be listed exactly when state.json's batch is not 0"),
    (lambda s: _rewrite(s, "state.json", lambda d: d.update(batch=4)),
     r"position.params is corrupt: losses must hold 4 values"),
    (lambda s: _rewrite(s, "state.json", lambda d: d.pop("batch")), "expected the keys batch"),
    (lambda s: _rewrite(s, "manifest.json", lambda d: d.update(format=3)),
     "unknown file 'position.params'"),
])
def test_a_damaged_snapshot_within_an_epoch_is_refused(damage, match, tmp_path):
    snapshot = d2l_rnn.save_checkpoint(tmp_path, _model(), VOCAB, epoch=1, batch=3,
                                       position=_position(3))
    damage(snapshot)
    with pytest.raises(CheckpointError, match=match):
        d2l_rnn.load_checkpoint(tmp_path)


def test_a_format_3_checkpoint_still_loads(tmp_path, ctx):
    latest = d2l_rnn.load_checkpoint(FORMAT3, ctx)
    best = d2l_rnn.load_checkpoint(FORMAT3 / "best", ctx)
    assert (latest.epoch, latest.batch, latest.position) == (2, 0, None)
    assert latest.path.name == "snapshot-000002" and best.epoch == 2
    assert latest.history == pytest.approx([40.001356, 32.738464], abs=1e-6)
    assert latest.settings["seed"] == 7 and latest.settings["save_every"] == 1
    # Saving the same run into it goes on in the new names and retires the old one.
    copy = tmp_path / "copy"
    shutil.copytree(FORMAT3, copy)
    resumed = d2l_rnn.load_checkpoint(copy, ctx)
    d2l_rnn.save_checkpoint(copy, resumed.model, resumed.idx_to_char, epoch=3,
                            history=resumed.history + [30.0])
    assert sorted(p.name for p in copy.iterdir()) == ["best", "epoch-000003"]
    assert d2l_rnn.load_checkpoint(copy).epoch == 3
