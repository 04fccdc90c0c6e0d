"""The training run as a Python API: stopped at any batch or epoch and resumed bit for bit,
format 3 resumed, a user's model, the resume rules, and where a resume starts and saves.

Planted bugs these tests caught (each seen failing, then restored):
- the saved random state taken at the stop instead of the epoch's start (mid-epoch resume
  trains other batches): test_a_run_stopped_and_resumed_is_the_uninterrupted_run[*-mid];
- the dropout reseed skipped (lstm-dropout cases), and the parameters' draw left to the
  first batch (test_the_parameters_are_drawn_right_after_seeding);
- the carried hidden state not restored (rnn-mid);
- Adam's update counts not restored, so its bias correction restarts (lstm-dropout-adam-*),
  and the optimizer's saved state not put back (gru-embed-rmsprop-random-mid, adam);
- a user's initialised model initialised again (test_a_users_model_...);
- find_resumable ignoring best/ (the issue's "holds no checkpoint" after Ctrl-C);
- save_root keeping DIR/best (a resumed run saving into DIR/best/best);
- the newest-snapshot check skipped (test_a_resume_from_an_older_point_is_refused).
"""

import shutil
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest
from runtools import assert_same_run, params, replace, settings, stop_after, whole_run

import d2l_rnn
from d2l_rnn.checkpoint import snapshots
from d2l_rnn.model import build_model
from d2l_rnn.run import FixedSettingError, NewerSnapshotError, TrainingRun, VocabularyError

FORMAT3 = Path(__file__).parent / "data" / "format3"


def _names(folder):
    return sorted(p.name for p in Path(folder).iterdir())


_WHOLE = {}  # kind -> the uninterrupted run, trained once for this module


def _whole(kind, s):
    if kind not in _WHOLE:
        _WHOLE[kind] = whole_run(s)
    return _WHOLE[kind]


@pytest.mark.parametrize("kind,stop", [
    ("rnn", "mid"), ("rnn-random", "mid"), ("lstm-dropout", "mid"),
    ("lstm-dropout-random", "mid"), ("rnn", "end"), ("lstm-dropout-random", "end"),
    ("lstm-dropout-adam", "mid"), ("gru-embed-rmsprop-random", "mid"),
    ("lstm-dropout-adam", "end")])
def test_a_run_stopped_and_resumed_is_the_uninterrupted_run(kind, stop, tmp_path):
    s = settings(kind, num_epochs=2)
    whole = _whole(kind, s)
    part = TrainingRun(s, mx.cpu())
    if stop == "mid":
        stop_after(part, 30)  # 24 batches an epoch: batch 6 of epoch 2
        callbacks = ()
    else:
        callbacks = [lambda end: part.request_stop() if end.epoch == 1 else None]
    result = part.fit(tmp_path, progress=False, handle_signals=False, callbacks=callbacks)
    expected = (1, 6) if stop == "mid" else (1, 0)
    assert (result.reason, result.epoch, result.batch) == ("interrupted", *expected)
    name = "epoch-000002-batch-000006" if stop == "mid" else "epoch-000001"
    assert result.last_saved == tmp_path / name and _names(tmp_path) == ["best", name]
    d2l_rnn.set_seed(999)  # as in a new process: only the checkpoint restores the state
    resumed = TrainingRun.resume(tmp_path, mx.cpu())
    assert (resumed.epoch, resumed.batch, resumed.save_dir) == (*expected, tmp_path)
    assert resumed.fit(progress=False, handle_signals=False).reason == "finished"
    assert_same_run(resumed, whole)
    assert _names(tmp_path) == ["best", "epoch-000002"]


def test_the_parameters_are_drawn_right_after_seeding():
    """With dropout MXNet's generator is reseeded before each batch: the parameters must be
    drawn before that, from the seed, as the chapter draws them."""
    s = settings("lstm-dropout", num_epochs=1)
    d2l_rnn.set_seed(s.seed)  # the chapter's recipe, by hand
    model = build_model("lstm", 16, 2, 40, dropout=0.3)
    model.initialize(init=mx.init.Normal(0.01))
    model(mx.nd.zeros((1, 1)), model.begin_state(batch_size=1))
    by_hand = TrainingRun(s, mx.cpu(), model=model)
    by_hand.fit(progress=False, handle_signals=False)
    assert_same_run(whole_run(s), by_hand)


def test_a_format_3_checkpoint_resumes(tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(FORMAT3, copy)
    old = d2l_rnn.load_checkpoint(copy)
    run = TrainingRun.resume(copy, mx.cpu(), num_epochs=4)
    assert (run.epoch, run.save_dir, run.settings.num_hiddens) == (2, copy, 8)
    result = run.fit(progress=False, handle_signals=False)
    assert result.reason == "finished" and run.history[:2] == old.history
    assert "epoch-000004" in _names(copy) and "snapshot-000002" not in _names(copy)
    whole = whole_run(replace(d2l_rnn.TrainSettings.from_dict(old.settings), num_epochs=4))
    np.testing.assert_allclose(run.history, whole.history, rtol=1e-5)
    np.testing.assert_allclose(run.val_history, whole.val_history, rtol=1e-5)


def test_a_users_model_is_initialised_as_the_chapters_or_trained_on_as_it_is():
    s = settings(num_epochs=1)
    chapter = whole_run(s)
    mine = TrainingRun(s, mx.cpu(), model=build_model("rnn", 16, 1, chapter.text.vocab_size))
    mine.fit(progress=False, handle_signals=False)
    assert_same_run(mine, chapter)
    before = params(chapter.model)
    on = TrainingRun(replace(s, num_hiddens=99), mx.cpu(), model=chapter.model)
    assert on.settings.num_hiddens == 16  # the model's shape, not the settings'
    for a, b in zip(before, params(on.model)):
        np.testing.assert_array_equal(a, b)  # not initialised again
    on.fit(progress=False, handle_signals=False)
    assert on.history[0] < chapter.history[0]
    with pytest.raises(ValueError, match="vocab_size 7 but the text has"):
        TrainingRun(s, mx.cpu(), model=build_model("rnn", 16, 1, 7))
    with pytest.raises(TypeError, match="settings must be a TrainSettings"):
        TrainingRun({"num_epochs": 1})


def test_resume_applies_overrides_and_refuses_what_is_fixed(tmp_path):
    TrainingRun(settings(num_epochs=1), mx.cpu()).fit(tmp_path, progress=False,
                                                        handle_signals=False)
    run = TrainingRun.resume(tmp_path, mx.cpu(), num_epochs=3, lr=50.0)
    assert (run.settings.num_epochs, run.trainer.learning_rate) == (3, 50.0)
    for name, value in [("num_hiddens", 32), ("seed", 9), ("dropout", 0.5), ("cell", "gru")]:
        with pytest.raises(FixedSettingError, match="^%s=" % name) as caught:
            TrainingRun.resume(tmp_path, mx.cpu(), **{name: value})
        assert caught.value.name == name
    with pytest.raises(VocabularyError, match=r"vocabulary \(40 characters\) does not match "
                                              r"the training text's \(43\)"):
        TrainingRun.resume(tmp_path, mx.cpu(), num_chars=10000)
    with pytest.raises(TypeError, match="not a training setting: epochs"):
        TrainingRun.resume(tmp_path, mx.cpu(), epochs=3)


def test_resume_finds_the_newest_snapshot_best_included_and_saves_beside_best(tmp_path):
    """The issue's case: stopped (here: killed) after a best snapshot, before a regular one."""
    run = TrainingRun(settings(num_epochs=2), mx.cpu())
    run.fit(tmp_path, progress=False, handle_signals=False)
    shutil.rmtree(tmp_path / "epoch-000002")
    assert _names(tmp_path / "best") == ["epoch-000002"]
    for where in (tmp_path, tmp_path / "best"):
        resumed = TrainingRun.resume(where, mx.cpu(), num_epochs=3)
        assert (resumed.epoch, resumed.save_dir) == (2, tmp_path)
    resumed.fit(progress=False, handle_signals=False)
    assert _names(tmp_path) == ["best", "epoch-000003"]
    assert [p.name for _, p in snapshots(tmp_path / "best")] == _names(tmp_path / "best")
    assert not (tmp_path / "best" / "best").exists()


def test_a_resume_from_an_older_point_is_refused(tmp_path):
    s = settings(num_epochs=1)
    TrainingRun(s, mx.cpu()).fit(tmp_path / "run", progress=False, handle_signals=False)
    shutil.copytree(tmp_path / "run" / "epoch-000001", tmp_path / "copies" / "epoch-000001")
    TrainingRun.resume(tmp_path / "run", mx.cpu(), num_epochs=2).fit(
        progress=False, handle_signals=False)
    older = TrainingRun.resume(tmp_path / "copies", mx.cpu(), num_epochs=2)
    with pytest.raises(NewerSnapshotError, match="epoch-000002, newer than the point this run "
                                                 "would go on from .epoch 1, batch 0."):
        older.fit(tmp_path / "run", progress=False, handle_signals=False)
    assert _names(tmp_path / "run") == ["best", "epoch-000002"]  # nothing written
    result = older.fit(tmp_path / "branch", progress=False, handle_signals=False)
    assert result.last_saved == tmp_path / "branch" / "epoch-000002"


def test_a_snapshot_within_an_epoch_on_two_devices(tmp_path):
    """Each device carries the state of its rows: it comes back to each, or is refused
    (planted: the state of device 1 restored onto device 0)."""
    two, s = [mx.cpu(0), mx.cpu(1)], settings(cell="lstm", num_epochs=2)
    whole = TrainingRun(s, two)
    whole.fit(progress=False, handle_signals=False)
    part = TrainingRun(s, two)
    stop_after(part, 30)
    part.fit(tmp_path, progress=False, handle_signals=False)
    for changed in (dict(ctx=mx.cpu()), dict(ctx=two, sampler="random")):
        with pytest.raises(d2l_rnn.CheckpointError, match="holds the hidden state of another "
                                                          "kind of run"):
            TrainingRun.resume(tmp_path, **changed)
    resumed = TrainingRun.resume(tmp_path, two)
    resumed.fit(progress=False, handle_signals=False)
    assert_same_run(resumed, whole)
