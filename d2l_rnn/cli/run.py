"""A training run that can stop and go on: ``fit`` with validation, progress and saves.

:class:`TrainingRun` trains like the chapter's ``train_and_predict_rnn_gluon``
(same initialisation, the same epoch from :func:`~d2l_rnn.training.make_epoch`,
the same schedule and printed lines from :func:`~d2l_rnn.loop.fit`) and adds
callbacks: the held-out text's perplexity, a metrics file, the best snapshot,
the learning-rate decay and early stopping (:mod:`.callbacks`), a progress
bar and checkpoints.
It keeps its state between epochs, so it can save after any epoch and be
rebuilt from a checkpoint. Resuming restores the parameters, the optimizer
state and Python's and NumPy's generators (the samplers draw from Python's),
so the epochs after a resume are the very epochs an uninterrupted run trains.
"""

import math
import sys
from pathlib import Path

from tqdm import tqdm

from .._compat import import_mxnet
from ..checkpoint import BEST, save_checkpoint
from ..devices import context_list
from ..generation import predict_rnn_gluon
from ..loop import fit, print_progress
from ..model import build_model
from ..seeding import set_seed
from ..training import evaluate_perplexity, make_epoch
from .callbacks import CsvLog, Judge

__all__ = ["TrainingRun"]


class TrainingRun:
    """A model, its optimizer and its per-epoch history, trained epoch by epoch.

    Parameters
    ----------
    settings : TrainSettings
        Checked settings (``settings.check()``).
    ctx : mxnet.Context or list of mxnet.Context
        Several devices train data parallel; evaluation and samples run on
        the first.
    text : Text
        Training and held-out text from :func:`~d2l_rnn.settings.load_text`.
    checkpoint : Checkpoint, optional
        Continue from it (loaded on ``ctx``); otherwise seed everything with
        ``settings.seed`` and initialise a new model as the chapter does.
    kvstore : {'device', 'dist_sync', 'dist_async'}
        ``dist_*`` make this process one worker of a launched job: only
        worker 0 saves checkpoints, and with ``dist_async`` without the
        optimizer state (MXNet keeps it on the servers, where it cannot be
        saved; plain SGD has none).
    """

    def __init__(self, settings, ctx, text, checkpoint=None, kvstore="device"):
        mx = import_mxnet()
        ctxs = context_list(ctx)
        self.settings, self.ctx, self.text = settings, ctxs[0], text
        self.last_saved = self.best_saved = None
        if checkpoint is None:
            set_seed(settings.seed)
            self.model = build_model(settings.cell, settings.num_hiddens,
                                     settings.num_layers, text.vocab_size,
                                     dropout=settings.dropout, embed_size=settings.embed_size)
            self.model.initialize(ctx=ctxs, init=mx.init.Normal(0.01))
            self.epoch, self.history, self.val_history = 0, [], []
        else:
            self.model = checkpoint.model
            checkpoint.restore_random_state()
            self.epoch = checkpoint.epoch
            self.history = list(checkpoint.history)
            self.val_history = list(checkpoint.val_history)
            if len(text.val) and len(self.val_history) < self.epoch:
                # Validation switched on at resume: NaN (not drawn) for the epochs before,
                # so val_history[i] is always the epoch of history[i].
                self.val_history[:0] = [math.nan] * (self.epoch - len(self.val_history))
        self.model.hybridize(static_alloc=True)
        self.train_one_epoch = make_epoch(
            self.model, settings.lr, text.train, settings.batch_size, settings.num_steps,
            settings.clipping_theta, ctxs, kvstore,
            is_random_iter=settings.sampler == "random", optimizer=settings.optimizer)
        self.trainer = self.train_one_epoch.trainer
        self.saves = self.train_one_epoch.parallel.saves
        self._saves_trainer = kvstore != "dist_async"
        if checkpoint is not None and self._saves_trainer:
            checkpoint.restore_trainer(self.trainer)
            # The checkpoint brings its own rate; the settings may change it.
            self.trainer.set_learning_rate(settings.lr)
        self.judge = Judge(settings, self.val_history, self.trainer.set_learning_rate,
                           self._save_best)
        if self.judge.lr != self.trainer.learning_rate:  # decayed before the resume
            self.trainer.set_learning_rate(self.judge.lr)
        self._save_dir, self._overwrite, self._save_every = None, False, None

    def _snapshot(self, directory, overwrite):
        settings = self.settings.to_dict()
        if self._save_every is not None:  # for a resumed run
            settings["save_every"] = self._save_every
        try:
            return save_checkpoint(
                directory, self.model, self.text.idx_to_char, settings=settings,
                epoch=self.epoch, history=self.history, val_history=self.val_history,
                trainer=self.trainer if self._saves_trainer else None, overwrite=overwrite)
        except FloatingPointError as err:
            raise FloatingPointError(
                "training diverged: after epoch %d %s, so it was not saved; try a smaller "
                "learning rate than lr=%g" % (self.epoch, str(err).replace("the model's ", ""),
                                              self.settings.lr)) from None

    def save(self, directory, overwrite=False):
        """Write a checkpoint of the state after :attr:`epoch`; return the snapshot path.

        Raises
        ------
        FloatingPointError
            If the parameters are NaN or infinite (nothing is written: the
            last checkpoint stays the newest).
        """
        self.last_saved = self._snapshot(directory, overwrite)
        return self.last_saved

    def _save_best(self):
        if self._save_dir is not None and self.saves:
            self.best_saved = self._snapshot(Path(self._save_dir) / BEST, self._overwrite)

    def _record(self, end):
        self.epoch = end.epoch
        self.history.append(end.perplexity)
        if len(self.text.val):
            end.val_perplexity = evaluate_perplexity(self.model, self.text.val, self.ctx)
            self.val_history.append(end.val_perplexity)
        elif self.val_history:  # validation switched off at resume: keep the epochs aligned
            self.val_history.append(math.nan)

    def _predict(self, prefix):
        return predict_rnn_gluon(prefix, self.settings.pred_len, self.model,
                                 self.text.vocab_size, self.ctx, self.text.idx_to_char,
                                 self.text.char_to_idx)

    def run(self, save_dir=None, save_every=1, write=None, progress=None, progress_file=None,
            overwrite=False, log=None):
        """Train up to ``settings.num_epochs``; return the per-epoch training perplexities.

        Every ``pred_period`` epochs the chapter's lines go to ``write``
        (default ``tqdm.write``: stdout, around the bar). With ``save_dir``, a
        checkpoint is written every ``save_every`` epochs and after the last
        (``overwrite`` lets the first replace another run's), and, with
        validation, the best one into ``save_dir/best``. ``log`` is a CSV
        file that gets a row per epoch. Training ends early when the
        ``patience`` runs out. The bar goes to ``progress_file`` (stderr);
        ``progress=None`` shows it only on a terminal.

        Raises
        ------
        FloatingPointError
            If the loss diverges (checkpoints written before stay intact).
        """
        s = self.settings
        bar = tqdm(total=s.num_epochs, initial=min(self.epoch, s.num_epochs), unit="epoch",
                   desc="training", file=progress_file or sys.stderr,
                   disable=None if progress is None else not progress, dynamic_ncols=True)

        def show(end):
            postfix = {"ppl": "%.3f" % end.perplexity}
            if end.val_perplexity is not None:
                postfix["val_ppl"] = "%.3f" % end.val_perplexity
            bar.set_postfix(postfix, refresh=False)
            bar.update(1)

        def save(end):
            if save_dir is not None and self.saves and (
                    end.epoch % save_every == 0 or end.epoch == s.num_epochs or end.stop):
                self.save(save_dir, overwrite)

        self._save_dir, self._overwrite, self._save_every = save_dir, overwrite, save_every
        csv_log = None
        if log is not None and self.saves:
            csv_log = CsvLog(log, self.epoch + 1, lambda: self.trainer.learning_rate,
                             self.train_one_epoch.mean_grad_norm)
        callbacks = [self._record, csv_log, self.judge, show,
                     print_progress(s.pred_period, s.prefixes, self._predict,
                                    write or tqdm.write), save]
        try:
            fit(self.train_one_epoch, s.num_epochs, s.lr, [c for c in callbacks if c],
                first_epoch=self.epoch + 1)
        finally:
            bar.close()
            if csv_log is not None:
                csv_log.close()
        return self.history
