"""A training run that can stop and go on: resume, validation, saves, progress bar.

:class:`TrainingSession` trains like the chapter's ``train_and_predict_rnn_gluon``
(same initialisation, optimizer, epoch function and printed lines) but keeps
its state between epochs, so it can save a checkpoint after any epoch and be
rebuilt from one. Resuming restores the parameters, the optimizer state and
Python's and NumPy's generators (the samplers draw from Python's), so the
epochs after a resume are the very epochs an uninterrupted run would train.
"""

import math
import sys
import time

import numpy as np
from tqdm import tqdm

from ._compat import import_mxnet
from .architecture import build_model
from .checkpoints import save_checkpoint
from .devices import context_list
from .loop import check_finite
from .parallel import DataParallel
from .seeding import set_seed
from .training import make_trainer, period_lines, perplexity, train_epoch

__all__ = ["TrainingSession", "evaluate_perplexity"]

# Long held-out texts are read in pieces of this many characters (the state is
# carried across pieces), to bound the memory of one forward pass.
_EVAL_CHUNK = 4096


def evaluate_perplexity(model, corpus_indices, ctx):
    """Perplexity of ``model`` on a text read once, left to right, from a zero state.

    Parameters
    ----------
    model : RNNModel
    corpus_indices : sequence of int
        At least 2 ids; each of ids ``1..n-1`` is predicted from those before it.
    ctx : mxnet.Context

    Returns
    -------
    float
        ``exp`` of the mean cross-entropy over the ``n - 1`` predictions.
    """
    mx = import_mxnet()
    loss = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    ids = np.asarray(corpus_indices, dtype=np.float32)
    if len(ids) < 2:
        raise ValueError("need at least 2 characters to evaluate, got %d" % len(ids))
    state = model.begin_state(batch_size=1, ctx=ctx)
    total = mx.nd.zeros((1,), ctx=ctx)
    inputs, targets = ids[:-1], ids[1:]
    for start in range(0, len(inputs), _EVAL_CHUNK):
        X = mx.nd.array(inputs[None, start:start + _EVAL_CHUNK], ctx=ctx)
        Y = mx.nd.array(targets[start:start + _EVAL_CHUNK], ctx=ctx)
        # Batch size 1: the output rows are the steps in order, as are Y's.
        output, state = model(X, state)
        total += loss(output, Y).sum()
    return perplexity(total.asscalar() / (len(ids) - 1))


class TrainingSession:
    """A model, its optimizer and its per-epoch history, trained epoch by epoch.

    Parameters
    ----------
    settings : TrainSettings
        Checked settings (``settings.check()``).
    ctx : mxnet.Context or list of mxnet.Context
        Several devices train data parallel (:mod:`.parallel`); evaluation
        and samples run on the first.
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
        self.last_saved = None
        if checkpoint is None:
            set_seed(settings.seed)
            self.model = build_model(settings.cell, settings.num_hiddens,
                                     settings.num_layers, text.vocab_size)
            self.model.initialize(ctx=ctxs, init=mx.init.Normal(0.01))
            self.epoch, self.history, self.val_history = 0, [], []
        else:
            self.model = checkpoint.model
            checkpoint.restore_random_state()
            self.epoch = checkpoint.epoch
            self.history = list(checkpoint.history)
            self.val_history = list(checkpoint.val_history)
            if text.val and len(self.val_history) < self.epoch:
                # Validation switched on at resume: NaN (not drawn) for the epochs before,
                # so val_history[i] is always the epoch of history[i].
                self.val_history[:0] = [math.nan] * (self.epoch - len(self.val_history))
        self.model.hybridize(static_alloc=True)
        self._parallel = None
        if len(ctxs) == 1 and kvstore == "device":
            self.trainer = make_trainer(self.model, settings.lr)
        else:
            self._parallel = DataParallel(
                self.model, settings.lr, text.train, settings.batch_size, settings.num_steps,
                settings.clip, ctxs, kvstore, is_random_iter=settings.sampler == "random")
            self.trainer = self._parallel.trainer
        group = self._parallel.group if self._parallel else None
        self.saves = group is None or group.rank == 0
        self._saves_trainer = kvstore != "dist_async"
        if checkpoint is not None and self._saves_trainer:
            checkpoint.restore_trainer(self.trainer)
            # The pickled optimizer brings its own rate; the settings may change it.
            self.trainer.set_learning_rate(settings.lr)

    def save(self, directory):
        """Write a checkpoint of the state after :attr:`epoch`; return the snapshot path."""
        self.last_saved = save_checkpoint(
            directory, self.model, self.text.idx_to_char, settings=self.settings.to_dict(),
            epoch=self.epoch, history=self.history, val_history=self.val_history,
            trainer=self.trainer if self._saves_trainer else None)
        return self.last_saved

    def train_one_epoch(self):
        """Train epoch :attr:`epoch` + 1; return its training time in seconds."""
        s = self.settings
        start = time.time()
        if self._parallel is not None:
            mean_loss = self._parallel.train_epoch()
        else:
            mean_loss = train_epoch(self.model, self.trainer, self.text.train, s.batch_size,
                                    s.num_steps, s.clip, self.ctx,
                                    is_random_iter=s.sampler == "random")
        check_finite(mean_loss, self.epoch + 1, s.lr)
        seconds = time.time() - start
        self.history.append(perplexity(mean_loss))
        if self.text.val:
            self.val_history.append(evaluate_perplexity(self.model, self.text.val, self.ctx))
        elif self.val_history:  # validation switched off at resume: keep the epochs aligned
            self.val_history.append(math.nan)
        self.epoch += 1
        return seconds

    def run(self, save_dir=None, save_every=1, write=None, progress=None, progress_file=None):
        """Train up to ``settings.epochs``; return the per-epoch training perplexities.

        Every ``pred_period`` epochs the chapter's lines go to ``write``
        (default ``tqdm.write``: stdout, around the bar). With ``save_dir``, a
        checkpoint is written every ``save_every`` epochs and after the last.
        The bar goes to ``progress_file`` (stderr); ``progress=None`` shows
        it only on a terminal.

        Raises
        ------
        FloatingPointError
            If the loss diverges (checkpoints written before stay intact).
        """
        s = self.settings
        write = write or tqdm.write
        bar = tqdm(total=s.epochs, initial=min(self.epoch, s.epochs), unit="epoch",
                   desc="training", file=progress_file or sys.stderr,
                   disable=None if progress is None else not progress, dynamic_ncols=True)
        try:
            while self.epoch < s.epochs:
                seconds = self.train_one_epoch()
                val = self.val_history[-1] if self.text.val else None
                postfix = {"ppl": "%.3f" % self.history[-1]}
                if val is not None:
                    postfix["val_ppl"] = "%.3f" % val
                bar.set_postfix(postfix, refresh=False)
                bar.update(1)
                if self.epoch % s.pred_period == 0:
                    for line in period_lines(self.epoch, self.history[-1], seconds, self.model,
                                             self.ctx, self.text.idx_to_char,
                                             self.text.char_to_idx, s.prefixes, s.pred_len,
                                             val_ppl=val):
                        write(line)
                if save_dir is not None and self.saves and (self.epoch % save_every == 0
                                                            or self.epoch == s.epochs):
                    self.save(save_dir)
        finally:
            bar.close()
        return self.history
