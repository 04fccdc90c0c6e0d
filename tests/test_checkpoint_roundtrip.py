"""What a checkpoint gives back is what was saved, and only what may be kept is kept.

The optimizer's next step after a restore is the uninterrupted one, bit for
bit, for optimizers with one, two and three state arrays per parameter; a
rebuilt model drops out where the saved one did; a save never retires a
folder it did not write; each field check holds at its boundary; a reader
whose snapshot is retired while it reads gets the one that replaced it (also
after several saves).
"""

import json
import shutil
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest
from clitools import one_error_line, run
from modeltools import edit_json, one_step_trainer, small_model, step
from mxnet import autograd, gluon, nd

import d2l_rnn
from d2l_rnn.checkpoint import load as checkpoint_load
from d2l_rnn.model import build_model, describe_model, model_from_description

VOCAB = list("abcdefg")

OPTIMIZERS = {  # state arrays per parameter: 1, 2 and 3
    "sgd-momentum": ("sgd", {"learning_rate": 0.1, "momentum": 0.9}),
    "adam": ("adam", {"learning_rate": 0.01}),
    "rmsprop-centered": ("rmsprop", {"learning_rate": 0.01, "centered": True}),
}


def _params(model):
    return {name: p.data().asnumpy() for name, p in model._collect_params_with_prefix().items()}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_the_step_after_a_restore_is_the_uninterrupted_step(name, tmp_path):
    """Bug it catches: a state's arrays saved in another order than read back (with Adam
    the next step is NaN), or update counts, learning rate or states left behind."""
    optimizer, params = OPTIMIZERS[name]
    model = small_model("lstm", len(VOCAB), num_layers=2)
    trainer = one_step_trainer(model, optimizer, params, ids=(1, 2, 3))
    step(model, trainer, (4, 0, 6))
    d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, trainer=trainer)
    loaded = d2l_rnn.load_checkpoint(tmp_path, mx.cpu())
    fresh = gluon.Trainer(loaded.model.collect_params(), optimizer, dict(params))
    loaded.restore_trainer(fresh)
    step(model, trainer, (2, 5, 5))           # the uninterrupted run
    step(loaded.model, fresh, (2, 5, 5))      # the resumed one
    expected, got = _params(model), _params(loaded.model)
    assert all(np.isfinite(v).all() for v in got.values())
    for key, value in expected.items():
        np.testing.assert_array_equal(got[key], value, err_msg=key)


def _names(directory):
    return sorted(p.name for p in directory.iterdir())


def test_a_users_snapshot_folders_survive_every_save(tmp_path):
    """Bug it catches: a save that retires every older snapshot folder, the user's too
    (named like a snapshot of this release or of format 3, or a copy of one with a note)."""
    model = small_model()
    d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, epoch=1)
    mine = [tmp_path / "epoch-000000", tmp_path / "snapshot-000000"]   # older points
    for folder in mine:
        folder.mkdir()
        (folder / "notes.txt").write_text("mine")
    copied = tmp_path / "epoch-0000001"          # a copy of a real snapshot, with a note
    shutil.copytree(tmp_path / "epoch-000001", copied)
    (copied / "notes.txt").write_text("kept")
    for epoch in (2, 3, 4):
        d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, epoch=epoch)
        assert all((folder / "notes.txt").read_text() == "mine" for folder in mine)
        assert (copied / "notes.txt").read_text() == "kept"
    assert _names(tmp_path) == ["epoch-000000", "epoch-0000001", "epoch-000004",
                                "snapshot-000000"]
    assert d2l_rnn.load_checkpoint(tmp_path).epoch == 4


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def change(doc):
        for key in keys[:-1]:
            doc = doc[key]
        doc[keys[-1]] = value
    return change


# (file, change, accepted): each check's boundary, on both sides.
BOUNDARIES = [
    ("state.json", _set("history", [2.0, 1.0]), True),          # a perplexity is >= 1
    ("state.json", _set("history", [2.0, 0.999]), False),
    ("state.json", _set("val_history", [0.5, 1.5]), False),
    ("state.json", _set("epoch", 0), True),
    ("state.json", _set("epoch", -1), False),
    ("hparams.json", _set("model", "dropout", 0.999), True),   # a dropout is below 1
    ("hparams.json", _set("model", "dropout", 1), False),
    ("hparams.json", _set("model", "dropout", 1.0), False),
    ("hparams.json", _set("model", "dropout", -0.001), False),
    ("hparams.json", _set("model", "output_dropout", 0.999), True),
    ("hparams.json", _set("model", "output_dropout", 1.0), False),
    ("hparams.json", _set("model", "num_hiddens", 0), False),
    ("hparams.json", _set("model", "num_layers", 0), False),
    ("hparams.json", _set("model", "num_layers", 11), False),
    ("trainer.json", _set("learning_rate", 0.0), True),
    ("trainer.json", _set("learning_rate", -1e-9), False),
    ("trainer.json", _set("num_update", -1), False),
]


@pytest.fixture
def snapshot(tmp_path):
    model = small_model("gru", len(VOCAB), dropout=0.2)
    trainer = one_step_trainer(model, "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    return d2l_rnn.save_checkpoint(tmp_path / "ckpt", model, VOCAB, epoch=2,
                                   history=[3.0, 2.0], val_history=[3.5, 2.5], trainer=trainer)


@pytest.mark.parametrize("name,change,accepted", BOUNDARIES,
                         ids=["%s-%d" % (b[0], i) for i, b in enumerate(BOUNDARIES)])
def test_each_field_check_holds_at_its_boundary(name, change, accepted, snapshot):
    """Bugs it catches: a perplexity below 1 or a dropout of 1 accepted (the dropout then
    escapes as a plain ValueError from building the model), or a boundary refused."""
    edit_json(snapshot, name, change)
    if accepted:
        checkpoint = d2l_rnn.load_checkpoint(snapshot, mx.cpu())
        checkpoint.restore_trainer(one_step_trainer(checkpoint.model, "sgd", {
            "learning_rate": 0.1, "momentum": 0.9}))
        return
    with pytest.raises(d2l_rnn.CheckpointError, match=name.replace(".", r"\.")):
        d2l_rnn.load_checkpoint(snapshot, mx.cpu())


def test_a_dropout_of_1_from_the_command_line_is_one_line(snapshot, capsys):
    edit_json(snapshot, "hparams.json", _set("model", "dropout", 1))
    result = run(capsys, "generate", "--checkpoint", snapshot, "--prefix", "ab", "--ctx", "cpu")
    line = one_error_line(result)
    assert "hparams.json" in line and "model.dropout" in line, line


def _outputs_in_training_mode(model, seed):
    X = nd.array([[1, 2, 3, 4], [5, 6, 0, 1]])
    mx.random.seed(seed)
    with autograd.train_mode():
        return model(X, model.begin_state(batch_size=2))[0].asnumpy()


@pytest.mark.parametrize("dropout,output_dropout", [(0.0, 0.5), (0.3, 0.6), (0.4, 0.0)])
def test_a_rebuilt_model_drops_out_as_the_saved_one(dropout, output_dropout, tmp_path):
    """Bug it catches: a model rebuilt from a checkpoint without its output dropout (or
    with the recurrent layer's in its place), which the description alone cannot show."""
    model = small_model("lstm", len(VOCAB), num_layers=2, dropout=dropout,
                        output_dropout=output_dropout)
    assert (model.rnn._dropout, model.dropout) == (dropout, output_dropout)
    rebuilt = model_from_description(json.loads(json.dumps(describe_model(model))))
    loaded = d2l_rnn.load_checkpoint(d2l_rnn.save_checkpoint(tmp_path, model, VOCAB),
                                     mx.cpu()).model
    for other in (rebuilt, loaded):
        assert other.rnn._dropout == dropout
        assert (other.drop._rate if other.drop is not None else 0.0) == output_dropout
    # Behaviour: the same parameters and the same random seed drop the same units.
    rebuilt.initialize()
    rebuilt(nd.array([[0, 1]]), rebuilt.begin_state(batch_size=1))
    for p, q in zip(model.collect_params().values(), rebuilt.collect_params().values()):
        q.set_data(p.data())
    expected = _outputs_in_training_mode(model, 5)
    for other in (rebuilt, loaded):
        np.testing.assert_array_equal(_outputs_in_training_mode(other, 5), expected)
    if output_dropout:  # the dropout really acts: another seed drops other units
        assert not np.array_equal(_outputs_in_training_mode(model, 6), expected)


def test_a_snapshot_retired_while_it_is_read_gives_way_to_the_newer(tmp_path, monkeypatch):
    """Bug it catches: a reader failing when a save retires the snapshot it chose
    (deterministic: the save happens between choosing the snapshot and reading it)."""
    model = small_model()
    d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, epoch=1)
    real, read = checkpoint_load.read_snapshot, []

    def save_then_read(snapshot):
        read.append(snapshot.name)
        if len(read) == 1:
            d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, epoch=2)   # retires it
        return real(snapshot)

    monkeypatch.setattr(checkpoint_load, "read_snapshot", save_then_read)
    assert d2l_rnn.load_checkpoint(tmp_path).epoch == 2
    assert read == ["epoch-000001", "epoch-000002"]
    # Named directly, the snapshot that went away is an error, not another snapshot.
    read.clear()
    with pytest.raises(d2l_rnn.CheckpointError, match="epoch-000002"):
        d2l_rnn.load_checkpoint(tmp_path / "epoch-000002")


@pytest.mark.parametrize("saves", [4, 5])
def test_a_reader_slower_than_several_saves_still_gets_one(tmp_path, monkeypatch, saves):
    """Bug it catches: one retry only (seen under load in the parallel suite: 4 of 200 loads
    failed in the readers-during-saves test, 'epoch-000067 is incomplete: state.json is
    missing'). Bounded: a folder whose snapshot is retired on every read is reported after
    the fifth."""
    model = small_model()
    d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, epoch=1)
    real, read = checkpoint_load.read_snapshot, []

    def save_then_read(snapshot):
        read.append(snapshot.name)
        if len(read) <= saves:
            d2l_rnn.save_checkpoint(tmp_path, model, VOCAB, epoch=len(read) + 1)  # retires it
        return real(snapshot)

    monkeypatch.setattr(checkpoint_load, "read_snapshot", save_then_read)
    if saves == 4:
        assert d2l_rnn.load_checkpoint(tmp_path).epoch == 5
    else:
        with pytest.raises(d2l_rnn.CheckpointError, match="epoch-000005"):
            d2l_rnn.load_checkpoint(tmp_path)
    assert read == ["epoch-%06d" % epoch for epoch in range(1, 6)]


def test_build_model_keeps_both_dropouts():
    model = build_model("gru", 8, 2, len(VOCAB), dropout=0.1, output_dropout=0.3)
    assert (model.rnn._dropout, model.drop._rate, model.dropout) == (0.1, 0.3, 0.3)


def test_state_arrays_the_manifest_does_not_list_name_both_files(snapshot):
    """Found by the deep fuzz search: the manifest without trainer.params was reported as
    'trainer.params has no array 0.0', blaming a file nobody changed."""
    manifest = json.loads((snapshot / "manifest.json").read_text())
    del manifest["files"]["trainer.params"]
    (snapshot / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(d2l_rnn.CheckpointError,
                       match=r"trainer\.json is corrupt: it lists state arrays, but "
                             r"manifest\.json lists no trainer\.params"):
        d2l_rnn.load_checkpoint(snapshot, mx.cpu())


def test_a_listing_that_misses_both_snapshots_of_a_save_looks_again(tmp_path, monkeypatch):
    """Seen under load in the readers-during-saves test (1 in 200 loads): a directory listing
    made while a save renames its new snapshot in and the old one out can show neither, and
    the reader was told the folder 'holds no checkpoint'. While a save holds the folder's
    lock, names.snapshots lists it again; without a lock an empty listing is the answer."""
    d2l_rnn.save_checkpoint(tmp_path, small_model(), VOCAB, epoch=3)
    (tmp_path / ".d2l_rnn-lock").write_text("")   # a save holds the folder
    real_iterdir, listings = Path.iterdir, []

    def racing(self, empty=lambda count: count == 1):
        if self != tmp_path:
            return real_iterdir(self)
        listings.append(self)
        return iter([]) if empty(len(listings)) else real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", racing)
    assert d2l_rnn.load_checkpoint(tmp_path).epoch == 3 and len(listings) >= 2
    (tmp_path / ".d2l_rnn-lock").unlink()   # no save: an empty listing is the answer
    listings.clear()
    monkeypatch.setattr(Path, "iterdir", lambda self: racing(self, empty=lambda count: True))
    with pytest.raises(d2l_rnn.CheckpointError, match="holds no checkpoint"):
        d2l_rnn.load_checkpoint(tmp_path)
    assert len(listings) == 1
