"""One call of :meth:`TrainingRun.fit <d2l_rnn.run.TrainingRun.fit>`, batch by batch.

Around every batch (the engine's :class:`~d2l_rnn.loop.EpochCursor` hooks):
with dropout, MXNet's generator is seeded from (seed, epoch, batch), since
its state cannot be saved, so a resumed run draws the same dropout masks;
after batch ``i`` is issued, Python waits until batch ``i - 1`` is done
(``wait_to_read`` on its loss, no copy to the host), so it never runs more
than a batch ahead of MXNet's engine: a stop takes effect within about one
batch and the progress shown is true. Then a stop request or the time
budget may end the epoch there, and the schedule may save a snapshot of
that point. After every epoch (the callbacks of :func:`~d2l_rnn.loop.fit`):
validation, the metrics file, the judge, progress, the chapter's lines, the
user's callbacks, then a save by the schedule or at a stop. A kvstore job
(``dist_*``) stops and saves at epoch ends only: its workers must agree.
"""

import hashlib
import math
import time
from pathlib import Path

from .._compat import import_mxnet
from ..checkpoint import find_best, save_checkpoint, snapshots
from ..generation import predict_rnn_gluon
from ..loop import EpochCursor, print_progress
from ..loop import fit as fit_epochs
from ..training import evaluate_perplexity
from .folder import check_run_saveable, prepare_save_dir
from .log import CsvLog, check_log_path
from .position import position_of
from .progress import Progress
from .result import RunResult
from .schedule import SaveSchedule, parse_duration
from .stopping import handling_signals

__all__ = ["fit", "save_point", "save_best", "batch_seed"]

_clock = time.monotonic  # the budget's and the schedule's clock (tests give another)


def batch_seed(seed, epoch, batch):
    """MXNet's seed before ``batch`` (from 0) of ``epoch``: dropout masks a resume repeats."""
    digest = hashlib.blake2b(b"%d/%d/%d" % (seed, epoch, batch), digest_size=4).digest()
    return int.from_bytes(digest, "little") & 0x7FFFFFFF


def _snapshot(run, directory, overwrite, cursor=None, best=False):
    schedule = run.schedule.to_settings() if run.schedule else run.saved_schedule
    extra = {} if cursor is None else dict(
        batch=cursor.batches_done, random_state=(cursor.python_random, cursor.numpy_random),
        position=position_of(cursor, run.train_one_epoch.norms, run.ctx,
                             run.settings.sampler == "random"))
    try:
        return save_checkpoint(
            directory, run.model, run.text.idx_to_char, settings=dict(
                run.settings.to_dict(), **schedule), epoch=run.epoch, history=run.history,
            val_history=run.val_history, trainer=run.trainer if run.saves_trainer else None,
            overwrite=overwrite, best=best, **extra)
    except FloatingPointError as err:
        where = "epoch %d" % run.epoch + (", batch %d" % run.batch if cursor else "")
        raise FloatingPointError(
            "training diverged: after %s %s, so it was not saved; try a smaller learning rate "
            "than lr=%g" % (where, str(err).replace("the model's ", ""),
                            run.settings.lr)) from None


def save_point(run, directory, overwrite=False):
    """Save the run where it is (within an epoch too) into ``directory``; return the path."""
    cursor = run.pending[0] if run.pending else None
    run.last_saved = _snapshot(run, directory, overwrite, cursor)
    run.saved_point = (run.epoch, run.batch)
    return run.last_saved


def save_best(run):
    """The judge's call after a new best validation perplexity: save into ``save_dir/best``
    (under ``save_dir``'s lock, never through a link named ``best``)."""
    fitting = getattr(run, "fitting", None)
    if fitting is not None and fitting.saving:
        run.best_saved = _snapshot(run, fitting.save_dir, fitting.overwrite, best=True)


class _Fit:
    def __init__(self, run, save_dir, schedule, budget, log, progress, callbacks, write,
                 overwrite):
        self.run, self.save_dir, self.schedule, self.budget = run, save_dir, schedule, budget
        self.log, self.callbacks, self.overwrite = log, callbacks, overwrite
        self.saving = save_dir is not None and run.saves
        self.batch_level = not run.kvstore.startswith("dist")
        self.start = self.last_save = _clock()
        self.since_save, self.reason, self.epoch = 0, None, run.epoch + 1
        self.progress = Progress.choose(progress, run.settings, len(run.text.train))
        self.write = write

    def _wants_stop(self):
        if self.run.stop:
            self.reason = self.run.stop.reason
        elif self.budget is not None and _clock() - self.start >= self.budget:
            self.reason = "time_up"
        return self.reason is not None

    def _save(self, cursor=None):
        run = self.run
        done = run.last_saved or run.resumed_from
        if not (run.saved_point == (run.epoch, run.batch) and done is not None  # saved already
                and Path(done).parent.resolve() == Path(self.save_dir).resolve()):
            run.last_saved = _snapshot(run, self.save_dir, self.overwrite, cursor)
            run.saved_point = (run.epoch, run.batch)
        self.since_save, self.last_save = 0, _clock()

    def _before_batch(self, i):
        import_mxnet().random.seed(batch_seed(self.run.settings.seed, self.epoch, i))

    def _after_batch(self, cursor, last):
        losses = cursor.losses
        if len(losses) >= 2:
            losses[-2].wait_to_read()  # never more than a batch ahead of the engine
        self.since_save += 1
        self.progress.batch(cursor.batches_done)
        if last or not self.batch_level:
            return False  # the epoch's end saves and stops
        self.run.batch = cursor.batches_done
        if self._wants_stop():
            return True
        if self.saving and self.schedule.due(self.since_save, _clock() - self.last_save):
            self._save(cursor)
            return self._wants_stop()  # asked during the save: stop at the point just saved
        return False

    def _train_epoch(self):
        run = self.run
        cursor, norms = run.pending or (EpochCursor(), [])
        cursor.before_batch = self._before_batch if run.reseeds else None
        cursor.after_batch = self._after_batch
        self.epoch = run.epoch + 1
        self.progress.start_epoch(self.epoch, cursor.batches_done)
        run.pending = (cursor, norms)
        mean = run.train_one_epoch(cursor, norms)
        run.pending = (cursor, list(run.train_one_epoch.norms)) if mean is None else None
        return mean

    def _record(self, end):
        run = self.run
        run.epoch, run.batch = end.epoch, 0
        run.history.append(end.perplexity)
        if len(run.text.val):
            end.val_perplexity = evaluate_perplexity(run.model, run.text.val, run.ctx)
            run.val_history.append(end.val_perplexity)
        elif run.val_history:  # validation switched off at resume: keep the epochs aligned
            run.val_history.append(math.nan)

    def _end_of_epoch(self, end):
        if end.stop:
            self.reason = self.reason or "early_stop"
        elif end.epoch < self.run.settings.num_epochs and self._wants_stop():
            end.stop = True
        if self.saving and (end.stop or end.epoch >= self.run.settings.num_epochs or
                            self.schedule.due(self.since_save, _clock() - self.last_save,
                                              end.epoch)):
            self._save()

    def _predict(self, prefix):
        run = self.run
        return predict_rnn_gluon(prefix, run.settings.pred_len, run.model, run.text.vocab_size,
                                 run.ctx, run.text.idx_to_char, run.text.char_to_idx)

    def _write(self, line):
        with self.progress.writing():
            self.write(line)

    def run_epochs(self):
        run, s = self.run, self.run.settings
        csv_log = None
        if self.log is not None and run.saves:
            csv_log = CsvLog(self.log, run.epoch + 1, lambda: run.trainer.learning_rate,
                             run.train_one_epoch.mean_grad_norm)
        callbacks = [self._record, csv_log, run.judge, self.progress.end_epoch,
                     print_progress(s.pred_period, s.prefixes, self._predict, self._write),
                     *self.callbacks, self._end_of_epoch]
        try:
            fit_epochs(self._train_epoch, s.num_epochs, s.lr, [c for c in callbacks if c],
                       first_epoch=run.epoch + 1)
        finally:
            if csv_log is not None:
                csv_log.close()
        if run.pending is not None and self.saving:  # stopped within an epoch
            self._save(run.pending[0])
        return self.reason or ("early_stop" if run.judge.stopped else "finished")


def _result(run, reason, start, save_dir):
    best = run.best_saved
    if best is None and save_dir is not None and run.judge.best_epoch:
        folder = find_best(save_dir)
        found = snapshots(folder) if folder is not None else []
        if found and found[-1][0][:2] == (run.judge.best_epoch, 0):
            best = found[-1][1]
    saved = run.last_saved or run.resumed_from
    return RunResult(
        reason, run.epoch, run.batch, run.history[-1] if run.history else None,
        run.judge.best if run.judge.best_epoch else None, run.judge.best_epoch or None,
        _clock() - start, saved if run.saved_point == (run.epoch, run.batch) else None,
        best, run.stop.signal)


def fit(run, save_dir, given, max_time, log, overwrite, callbacks, progress, handle_signals,
        write):
    """:meth:`TrainingRun.fit`; see there."""
    start = _clock()
    dist = run.kvstore.startswith("dist")
    if dist and (max_time is not None or given["batches"] or given["minutes"]):
        raise ValueError("a kvstore job (%s) stops and saves at epoch ends only: max_time, "
                         "save_every_batches and save_every_minutes are not for it" % run.kvstore)
    budget = None if max_time is None else parse_duration(max_time)
    schedule = SaveSchedule.resolve(run.saved_schedule, run.settings.data is not None
                                    and not dist, **given)
    save_dir = run.save_dir if save_dir is None else Path(save_dir)
    log = check_log_path(log) if log is not None else None
    run.stop.clear()
    if run.epoch >= run.settings.num_epochs or run.judge.exhausted:
        return _result(run, "nothing_to_train", start, save_dir)
    lock = None
    if save_dir is not None and run.saves:
        check_run_saveable(run, schedule.to_settings())  # before the folder is touched
        lock = prepare_save_dir(save_dir, run.model, overwrite, (run.epoch, run.batch),
                                run.protected)
    run.schedule, run.fitting = schedule, None
    try:
        with handling_signals(run.stop, handle_signals and not dist):
            run.fitting = _Fit(run, save_dir, schedule, budget, log, progress, callbacks,
                               write, overwrite)
            try:
                reason = run.fitting.run_epochs()
            finally:
                run.fitting.progress.close()
                run.fitting = None
            return _result(run, reason, start, save_dir)
    finally:
        if lock is not None:
            lock.release()
