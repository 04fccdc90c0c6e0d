"""Rule 1 of issue 21: never follow a link, never touch what is not yours.

A shared checkpoint folder can hold anything under the names d2l_rnn uses:
a link named ``.d2l_rnn-lock`` or ``best`` that leads to a user's file or to
another checkpoint, a FIFO, a hard link, a folder of someone's files named
like a leftover of a save. Whatever it is, a save, an overwrite, a resume
or a cleanup must refuse it in one line or leave it alone, and the thing it
leads to must be exactly as it was.

Bugs these tests caught (each planted again after the fix): the lock opened
with ``os.open(path, O_RDWR | O_CREAT)`` (its target emptied and
overwritten); ``best`` saved through ``Path(save_dir) / 'best'`` (another
folder's snapshots replaced with ``--overwrite``); leftovers removed by their
name alone; snapshots listed with ``is_dir()``, which follows links.
"""

import hashlib
import os
import stat

import pytest
from clitools import one_error_line, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mxnet import nd

import d2l_rnn
from d2l_rnn.checkpoint import CheckpointError, OtherRunError
from d2l_rnn.model import build_model

VOCAB = list("abcdefg")
TINY = ["--num-hiddens", "8", "--ctx", "cpu", "--pred-len", "3"]


@pytest.fixture(scope="module")
def model():
    model = build_model("gru", 8, 1, len(VOCAB))
    model.initialize()
    model(nd.array([[0, 1, 2]]), model.begin_state(batch_size=1))
    return model


def _fresh_model():
    model = build_model("gru", 8, 1, len(VOCAB))
    model.initialize()
    model(nd.array([[0, 1, 2]]), model.begin_state(batch_size=1))
    return model


def _state(path):
    """Everything about ``path`` and what is under it, without following links."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISDIR(info.st_mode):
        return ("dir", {e: _state(os.path.join(path, e)) for e in sorted(os.listdir(path))})
    if stat.S_ISREG(info.st_mode):
        with open(path, "rb") as f:
            return ("file", hashlib.sha256(f.read()).hexdigest(), info.st_nlink)
    return ("other", stat.S_IFMT(info.st_mode))


@pytest.fixture
def victim(tmp_path):
    """A user's file and a user's checkpoint folder elsewhere, and how they are now."""
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "victim.txt").write_text("years of work")
    other = d2l_rnn.save_checkpoint(tmp_path / "home" / "other_ckpt", _fresh_model(), VOCAB,
                                    epoch=7)
    return tmp_path / "home", _state(tmp_path / "home"), other


def _unchanged(victim):
    home, before, other = victim
    assert _state(home) == before
    assert d2l_rnn.load_checkpoint(other.parent).epoch == 7


@pytest.mark.parametrize("how", ["save_checkpoint", "train --save", "train --resume"])
def test_a_lock_that_is_a_link_is_refused_and_its_target_untouched(how, victim, tmp_path,
                                                                   model, capsys):
    folder = tmp_path / "ck"
    assert run(capsys, "train", *TINY, "--epochs", "1", "--save", folder).code == 0
    (folder / ".d2l_rnn-lock").symlink_to(victim[0] / "victim.txt")
    if how == "save_checkpoint":
        with pytest.raises(CheckpointError, match=r"\.d2l_rnn-lock is a symbolic link"):
            d2l_rnn.save_checkpoint(folder, model, VOCAB, overwrite=True)
    else:
        args = ["--save", folder, "--overwrite"] if how == "train --save" else ["--resume",
                                                                              folder]
        line = one_error_line(run(capsys, "train", *TINY, "--epochs", "2", *args))
        assert ".d2l_rnn-lock is a symbolic link" in line
    _unchanged(victim)
    assert os.path.islink(folder / ".d2l_rnn-lock")  # left as it was, for its owner


@pytest.mark.parametrize("make", [
    lambda p, v: os.mkfifo(p),
    lambda p, v: os.link(v / "victim.txt", p),                       # a hard link
    lambda p, v: p.write_text("my shopping list"),                   # someone's file
    lambda p, v: p.symlink_to(v / "nowhere.txt"),                    # a dangling link
    lambda p, v: p.mkdir(),
], ids=["fifo", "hard-link", "foreign-file", "dangling-link", "folder"])
def test_a_lock_of_any_other_kind_is_refused_and_left_as_it_was(make, victim, tmp_path, model):
    folder = tmp_path / "ck"
    folder.mkdir()
    make(folder / ".d2l_rnn-lock", victim[0])
    before, home = _state(folder), _state(victim[0])  # a hard link counts as a name
    with pytest.raises(CheckpointError, match=r"\.d2l_rnn-lock is .*not the lock file"):
        d2l_rnn.save_checkpoint(folder, model, VOCAB)
    assert _state(folder) == before and _state(victim[0]) == home
    assert not (victim[0] / "nowhere.txt").exists()  # O_CREAT never went through a link


def test_overwrite_never_follows_best_into_another_folder(victim, tmp_path, capsys):
    """The issue's case: ln -s ~/other_ckpt ck/best; train --save ck --overwrite."""
    folder = tmp_path / "ck"
    args = ["train", *TINY, "--val-chars", "500", "--epochs", "2", "--save", folder]
    assert run(capsys, *args).code == 0
    for entry in (folder / "best").iterdir():
        entry.rename(tmp_path / entry.name)
    (folder / "best").rmdir()
    (folder / "best").symlink_to(victim[2].parent)
    line = one_error_line(run(capsys, *args, "--overwrite"))
    assert "best is a symbolic link" in line
    _unchanged(victim)
    for which in (["--which", "best"], []):  # readers of best refuse it too, in one line
        line = one_error_line(run(capsys, "generate", "--checkpoint", folder, "--prefix", "t",
                                  "--ctx", "cpu", *which))
        assert "best is a symbolic link" in line
    assert run(capsys, "generate", "--checkpoint", folder, "--prefix", "t", "--ctx", "cpu",
               "--which", "last").code == 0  # the last snapshot has nothing to do with it


def test_a_best_made_a_link_during_the_run_is_not_followed(victim, tmp_path, capsys,
                                                            monkeypatch):
    """Checked at the start is not enough: the folder may change while the run trains."""
    from d2l_rnn.run.fitting import _Fit
    folder, real = tmp_path / "ck", _Fit._record

    def record_then_plant(fit, end):
        real(fit, end)
        if end.epoch == 1:  # before the epoch's best snapshot is saved
            (folder / "best").symlink_to(victim[2].parent)
    monkeypatch.setattr(_Fit, "_record", record_then_plant)
    line = one_error_line(run(capsys, "train", *TINY, "--val-chars", "500", "--epochs", "2",
                              "--save", folder, "--overwrite"))
    assert "could not save a checkpoint: %s is a symbolic link" % (folder / "best") in line
    _unchanged(victim)


def test_save_best_is_never_followed_from_python(victim, tmp_path, model):
    folder = tmp_path / "ck"
    folder.mkdir()
    (folder / "best").symlink_to(victim[2].parent)
    with pytest.raises(CheckpointError, match="best is a symbolic link"):
        d2l_rnn.save_checkpoint(folder, model, VOCAB, best=True, overwrite=True)
    _unchanged(victim)
    (folder / "best").unlink()
    saved = d2l_rnn.save_checkpoint(folder, model, VOCAB, best=True)
    assert saved.parent == folder / "best" and not (folder / "best" / ".d2l_rnn-lock").exists()


@pytest.mark.parametrize("name", ["snapshot-000009", "epoch-000009",
                                  "epoch-000010-batch-000002"])  # format 3's names and 4's
def test_a_snapshot_that_is_a_link_is_never_followed_replaced_or_read(name, victim, tmp_path,
                                                                      model):
    folder = tmp_path / "ck"
    folder.mkdir()
    (folder / name).symlink_to(victim[2])
    for overwrite in (False, True):
        with pytest.raises(CheckpointError, match="%s is a symbolic link" % name):
            d2l_rnn.save_checkpoint(folder, model, VOCAB, overwrite=overwrite)
    with pytest.raises(CheckpointError, match="%s is a symbolic link" % name):
        d2l_rnn.load_checkpoint(folder)
    _unchanged(victim)


def test_only_leftovers_a_save_wrote_are_removed(tmp_path, model):
    folder = tmp_path / "ck"
    mine = folder / ".d2l_rnn-tmp-0123456789abcdef"  # named like a leftover, a user's files
    mine.mkdir(parents=True)
    (mine / "thesis.txt").write_text("years of work")
    (folder / ".d2l_rnn-old-snapshot-000001").symlink_to(mine)
    dead = folder / ".d2l_rnn-tmp-dead"  # what a killed save leaves: checkpoint files only
    dead.mkdir()
    (dead / "model.params").write_bytes(b"partial")
    (dead / "vocab.json").write_text("[]")
    d2l_rnn.save_checkpoint(folder, model, VOCAB)
    d2l_rnn.save_checkpoint(folder, model, VOCAB)
    assert (mine / "thesis.txt").read_text() == "years of work"
    assert os.path.islink(folder / ".d2l_rnn-old-snapshot-000001")
    assert not dead.exists()
    assert sorted(p.name for p in folder.iterdir()) == [
        ".d2l_rnn-old-snapshot-000001", ".d2l_rnn-tmp-0123456789abcdef", "epoch-000000.2"]
    with pytest.raises(OtherRunError, match=r"not d2l_rnn snapshots \(\.d2l_rnn-old"):
        d2l_rnn.save_checkpoint(folder, _fresh_model(), VOCAB, overwrite=True)


def test_a_folder_swapped_for_a_link_after_it_was_opened_is_not_followed(tmp_path):
    """What dir fds buy: a save's names stay in the folder it opened."""
    from d2l_rnn.checkpoint.folder import Folder
    (tmp_path / "ck").mkdir()
    (tmp_path / "elsewhere").mkdir()
    with Folder.open(tmp_path / "ck") as folder:
        (tmp_path / "ck").rename(tmp_path / "moved")
        (tmp_path / "ck").symlink_to(tmp_path / "elsewhere")
        folder.write("vocab.json", b"[]")
        with open(folder.writer_path("model.params"), "wb") as f:  # as MXNet writes
            f.write(b"x")
        folder.rename("vocab.json", "v.json")
        with pytest.raises(CheckpointError, match="is a symbolic link"):
            (tmp_path / "moved" / "best").symlink_to(tmp_path / "elsewhere")
            folder.child("best")
    assert sorted(os.listdir(tmp_path / "moved")) == ["best", "model.params", "v.json"]
    assert os.listdir(tmp_path / "elsewhere") == []


KINDS = {
    "link to a file": lambda p, v: p.symlink_to(v / "victim.txt"),
    "link to a folder": lambda p, v: p.symlink_to(v / "other_ckpt"),
    "link to a snapshot": lambda p, v: p.symlink_to(next((v / "other_ckpt").iterdir())),
    "dangling link": lambda p, v: p.symlink_to(v / "nowhere"),
    "fifo": lambda p, v: os.mkfifo(p),
    "file": lambda p, v: p.write_text("someone's"),
    "folder of someone's": lambda p, v: (p.mkdir(), (p / "notes.txt").write_text("mine")),
}
# epoch-000000: the very name the save below writes (epoch 0); snapshot-N: format 3's.
NAMES = [".d2l_rnn-lock", "best", "snapshot-000001", "epoch-000000", "epoch-000005-batch-000002",
         ".d2l_rnn-tmp-1a2b", ".d2l_rnn-old-epoch-000003", "best/epoch-000000",
         "best/.d2l_rnn-lock"]


@pytest.mark.timeout(120)
@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), kind=st.sampled_from(sorted(KINDS)),
       overwrite=st.booleans(), best=st.booleans())
def test_whatever_sits_under_a_name_d2l_rnn_uses_a_save_follows_and_removes_nothing(
        name, kind, overwrite, best, tmp_path_factory, model):
    root = tmp_path_factory.mktemp("case")
    (root / "home").mkdir()
    (root / "home" / "victim.txt").write_text("years of work")
    d2l_rnn.save_checkpoint(root / "home" / "other_ckpt", _fresh_model(), VOCAB, epoch=7)
    home_before = _state(root / "home")
    folder = root / "ck"
    (folder / "best").mkdir(parents=True)
    target = folder / name
    if target.exists() or target.is_symlink():
        target.rmdir()
    KINDS[kind](target, root / "home")
    planted = _state(target)
    try:
        d2l_rnn.save_checkpoint(folder, model, VOCAB, overwrite=overwrite, best=best)
    except CheckpointError:  # refused in one exception (OtherRunError is one too)
        pass
    assert _state(root / "home") == home_before
    assert d2l_rnn.load_checkpoint(root / "home" / "other_ckpt").epoch == 7
    # Nothing planted is gone or changed (a save may add a snapshot to a real best/).
    assert os.path.lexists(target) and _kept(planted, _state(target))


def _kept(before, after):
    if before[0] != "dir" or after[0] != "dir":
        return before == after
    return all(name in after[1] and _kept(state, after[1][name])
               for name, state in before[1].items())


@pytest.mark.parametrize("planted", ["best", "epoch-000003"])
def test_a_resume_never_follows_a_link_to_find_its_snapshot(planted, victim, tmp_path, capsys):
    """Issue 19's --resume looks into DIR/best too (a run stopped before its first regular
    save); issue 21's rule holds there: a ``best`` that is a link, or a link named like a
    snapshot beside a real best/, is refused in one line, never resumed from or saved into.
    Planted: ``find_resumable`` testing ``(DIR / 'best').is_dir()`` (which follows the link)
    and falling back to best/ whatever the folder's own error was."""
    folder = tmp_path / "ck"
    if planted == "best":
        folder.mkdir()
        (folder / "best").symlink_to(victim[2].parent)
    else:
        d2l_rnn.save_checkpoint(folder, _fresh_model(), VOCAB, epoch=2, best=True)
        (folder / planted).symlink_to(victim[2])
    with pytest.raises(CheckpointError, match="%s is a symbolic link" % planted):
        d2l_rnn.TrainingRun.resume(folder)
    line = one_error_line(run(capsys, "train", "--ctx", "cpu", "--resume", folder,
                              "--epochs", "9"))
    assert "%s is a symbolic link" % (folder / planted) in line
    _unchanged(victim)
