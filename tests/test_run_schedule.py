"""Saves by epochs, batches and minutes, the time budget, and a stop from another thread.

Planted bugs these tests caught (each seen failing, then restored):
- the batch count not reset by an epoch's save (saves at (1, 10) instead of (1, 6));
- a stop asked during a periodic save saving the same point again (as epoch-...-batch-12.2);
- the schedule not stored with the settings (a resumed run back at the defaults);
- the own-text default of 10 minutes missing;
- the budget counted from the run's first start instead of this call (a resume with more
  time stops at once);
- '1h30m' read as 1 hour (parse_duration keeping only the first unit).
"""

import threading

import mxnet as mx
import pytest
from runtools import assert_same_run, settings, whole_run

import d2l_rnn
from d2l_rnn.run import SaveSchedule, TrainingRun, fitting, parse_duration


@pytest.fixture
def saves(monkeypatch):
    """The (epoch, batch) of every snapshot written (best/ apart) while the test runs."""
    points, real = [], fitting.save_checkpoint

    def spy(directory, *args, **kw):
        if not kw.get("best"):  # best/ is saved as save_checkpoint(save_dir, best=True)
            points.append((kw["epoch"], kw.get("batch", 0)))
        return real(directory, *args, **kw)

    monkeypatch.setattr(fitting, "save_checkpoint", spy)
    return points


def test_saves_every_n_batches_count_from_the_last_save(saves, tmp_path):
    run = TrainingRun(settings(num_epochs=2), mx.cpu())  # 24 batches an epoch
    run.fit(tmp_path, save_every=1, save_every_batches=10, progress=False,
            handle_signals=False)
    assert saves == [(0, 10), (0, 20), (1, 0), (1, 10), (1, 20), (2, 0)]
    assert [p.name for p in tmp_path.iterdir() if p.name != "best"] == ["epoch-000002"]
    saved = d2l_rnn.load_checkpoint(tmp_path).settings
    assert (saved["save_every"], saved["save_every_batches"], saved["save_every_minutes"]) \
        == (1, 10, 0.0)


def test_a_resumed_run_keeps_its_schedule_unless_told(saves, tmp_path):
    run = TrainingRun(settings(num_epochs=1), mx.cpu())
    run.fit(tmp_path, save_every_batches=20, progress=False, handle_signals=False)
    saves.clear()
    TrainingRun.resume(tmp_path, mx.cpu(), num_epochs=2).fit(progress=False,
                                                               handle_signals=False)
    assert saves == [(1, 20), (2, 0)]
    saves.clear()
    TrainingRun.resume(tmp_path, mx.cpu(), num_epochs=3).fit(
        save_every_batches=0, progress=False, handle_signals=False)
    assert saves == [(3, 0)]


def test_every_minutes_within_epochs(saves, tmp_path, monkeypatch):
    ticks = iter(range(10 ** 6))
    monkeypatch.setattr(fitting, "_clock", lambda: 5.0 * next(ticks))  # 5 s a look
    run = TrainingRun(settings(num_epochs=1), mx.cpu())
    run.fit(tmp_path, save_every_minutes=1, progress=False, handle_signals=False)
    assert len(saves) >= 2 and saves[-1] == (1, 0) and all(b for _, b in saves[:-1])


def test_the_default_schedule_and_its_own_text_minutes(tmp_path):
    assert SaveSchedule.resolve({}, own_text=False) == SaveSchedule(10, 0, 0.0)
    assert SaveSchedule.resolve({}, own_text=True) == SaveSchedule(10, 0, 10.0)
    assert SaveSchedule.resolve({"save_every_minutes": 0.0}, own_text=True).minutes == 0
    assert SaveSchedule.resolve({"save_every": 3}, True, epochs=5).epochs == 5
    with pytest.raises(ValueError, match="save_every_batches must be an integer >= 0"):
        SaveSchedule.resolve({}, False, batches=-1)
    data = tmp_path / "t.txt"
    data.write_text("the time traveller held in his hand a glittering metallic framework. " * 40)
    s = d2l_rnn.TrainSettings.create(data=str(data), num_hiddens=16, num_epochs=1,
                                     batch_size=8, num_steps=10, pred_period=5)
    TrainingRun(s, mx.cpu()).fit(tmp_path / "c", progress=False, handle_signals=False)
    assert d2l_rnn.load_checkpoint(tmp_path / "c").settings["save_every_minutes"] == 10.0


def test_a_stop_asked_during_a_periodic_save_ends_there_and_writes_once(saves, tmp_path,
                                                                      monkeypatch):
    run = TrainingRun(settings(num_epochs=2), mx.cpu())
    spy = fitting.save_checkpoint

    def stop_while_saving(directory, *args, **kw):
        path = spy(directory, *args, **kw)
        if kw.get("batch") == 12:
            run.request_stop()  # as a signal arriving during the save would
        return path

    monkeypatch.setattr(fitting, "save_checkpoint", stop_while_saving)
    result = run.fit(tmp_path, save_every_batches=6, progress=False, handle_signals=False)
    assert saves == [(0, 6), (0, 12)]
    assert (result.reason, result.epoch, result.batch) == ("interrupted", 0, 12)
    assert result.last_saved == tmp_path / "epoch-000001-batch-000012"
    assert [p.name for p in tmp_path.iterdir() if p.name != "best"] == [result.last_saved.name]


def test_the_budget_ends_the_run_and_a_resume_with_more_time_goes_on(tmp_path, monkeypatch):
    s = settings(num_epochs=3)
    whole = whole_run(s)
    looks = iter(range(10 ** 6))
    monkeypatch.setattr(fitting, "_clock", lambda: float(next(looks)))  # 1 s a look
    run = TrainingRun(s, mx.cpu())
    result = run.fit(tmp_path, max_time="30s", progress=False, handle_signals=False)
    assert result.reason == "time_up" and result.saved and result.batch > 0  # within an epoch
    assert result.seconds >= 30
    again = run.fit(max_time="30s", progress=False, handle_signals=False)  # the same object
    trained = (again.epoch * 24 + again.batch) - (result.epoch * 24 + result.batch)
    assert again.reason == "time_up" and trained > 5  # the budget is this call's
    last = TrainingRun.resume(tmp_path, mx.cpu())
    assert last.fit(max_time="1h30m", progress=False, handle_signals=False).reason == "finished"
    assert_same_run(last, whole)


def test_request_stop_from_another_thread(tmp_path):
    run = TrainingRun(settings(num_epochs=10 ** 6), mx.cpu())
    timer = threading.Timer(0.3, run.request_stop)
    timer.start()
    try:
        result = run.fit(tmp_path, progress=False)
    finally:
        timer.cancel()
    assert result.reason == "interrupted" and result.signal is None
    assert result.last_saved is not None and result.last_saved.exists()


@pytest.mark.parametrize("text,seconds", [
    ("90s", 90), ("20m", 1200), ("2h", 7200), ("1h30m", 5400), ("45", 45), ("1.5h", 5400),
    (" 2m ", 120), ("1d", 86400), (0.5, 0.5), (10, 10)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "0", "-5", "5x", "inf", "nan", "1h 30", "h",
                                  "400d", True, None, "1m1"])
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError, match="max_time must be a duration"):
        parse_duration(text)
