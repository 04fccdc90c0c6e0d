"""Training with Gluon: one minibatch, one epoch, the chapter's function, and evaluation.

:class:`GluonEpoch` is the Gluon side of the engine in :mod:`d2l_rnn.loop`:
its :meth:`~GluonEpoch.train_batch` runs the forward and backward pass on
each device's rows (one device is the case of one), then one clipped update
(:mod:`d2l_rnn.optimizer`: SGD, Adam, RMSprop). :func:`make_epoch` builds it
for one device, several, or a kvstore job: the one place that choice is
made, for :func:`train_and_predict_rnn_gluon` and the command line alike.

The loop keeps MXNet's asynchronous engine busy. Python never waits inside
an epoch: the loss is summed on the device, and the clipping scale
``min(1, theta / norm)`` is computed on the device instead of being read
back to decide on the host whether to clip. The model is hybridized with
static allocation, so its forward pass is one cached graph.

:func:`evaluate_perplexity` reads a text (ids, or a string with its
vocabulary) once through a model: the validation perplexity of the command
line's runs and of ``d2l-rnn evaluate``.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ._compat import import_mxnet
from ._util.checks import check_ids
from ._util.hints import Block, Context, Contexts, Corpus
from .clipping import grad_clipping
from .devices import context_list
from .distributed.parallel import DataParallel
from .generation import predict_rnn_gluon
from .loop import check_training_args, fit, perplexity, print_progress, run_epoch, sequence_loss
from .optimizer import ClippedTrainer, check_optimizer, make_trainer

__all__ = ["GluonEpoch", "make_epoch", "train_epoch", "evaluate_perplexity",
           "train_and_predict_rnn_gluon"]

# Long texts are evaluated in pieces of this many characters (the state is
# carried across pieces), to bound the memory of one forward pass.
_EVAL_CHUNK = 4096


class GluonEpoch:
    """One epoch of training ``model`` with ``trainer``; call it to train one.

    ``model`` is initialised on every device of ``parallel`` (a
    :class:`~d2l_rnn.distributed.parallel.DataParallel`: the devices, and this
    process's rows of each global ``(batch_size, num_steps)`` batch). A
    :class:`~d2l_rnn.optimizer.ClippedTrainer` clips the gradient to
    ``clipping_theta`` and updates on any number of devices; any other
    trainer steps after ``grad_clipping``, on one device.
    """

    def __init__(self, model, trainer, corpus_indices, batch_size, num_steps, clipping_theta,
                 parallel, is_random_iter=False):
        self.model, self.trainer, self.parallel = model, trainer, parallel
        self.corpus_indices, self.batch_size, self.num_steps = (corpus_indices, batch_size,
                                                                num_steps)
        self.clipping_theta, self.is_random_iter = clipping_theta, is_random_iter
        self._params = None  # set after the first forward pass: shapes may be deferred
        self.norms = []  # the gradient norm of each batch of the epoch, on the device

    def __call__(self, cursor=None, norms=()):
        """Train one pass over the corpus; return the mean loss per character (of the job).

        ``cursor`` (an :class:`~d2l_rnn.loop.EpochCursor`) follows the epoch
        and may resume it after some batches, whose gradient norms are then
        ``norms``; if it stops the epoch, the result is None.
        """
        self.norms = list(norms)
        return self.parallel.over_the_job(lambda: run_epoch(
            self.train_batch, lambda: self.parallel.begin_state(self.model),
            self.corpus_indices, self.batch_size, self.num_steps, self.parallel.ctxs[0],
            self.is_random_iter, cursor))

    def train_batch(self, X, Y, states):
        """Train on one minibatch; return its loss (on the first device) and the new states."""
        mx = import_mxnet()
        num_targets = self.batch_size * self.num_steps  # of the global batch
        with mx.autograd.record():
            losses = []
            for k, (X_k, Y_k) in enumerate(self.parallel.split(X, Y)):
                output, states[k] = self.model(X_k, states[k])
                losses.append(sequence_loss(output, Y_k, num_targets))
        mx.autograd.backward(losses)
        self.parallel.before_update(self.trainer)
        self.norms.append(self._update())
        ctx = self.parallel.ctxs[0]
        loss = losses[0] if len(losses) == 1 else mx.nd.add_n(
            *(l.as_in_context(ctx) for l in losses))
        return loss, states

    def mean_grad_norm(self):
        """The mean over the last epoch's batches of the gradient norm before clipping.

        Reading it is a host sync, so it is read only when asked for.
        """
        if not self.norms:
            return float("nan")
        nd, ctx = import_mxnet().nd, self.parallel.ctxs[0]
        total = nd.add_n(*(n.as_in_context(ctx) for n in self.norms)).asscalar()
        return float(total) / len(self.norms)  # float64 on any NumPy (loop.run_epoch)

    def _update(self):
        # The loss is a mean already, so the gradient needs no rescaling.
        if isinstance(self.trainer, ClippedTrainer):
            return self.trainer.clipped_step(self.clipping_theta)
        if self._params is None:
            ctx = self.parallel.ctxs[0]
            self._params = [p.data(ctx) for p in self.model.collect_params().values()]
        norm = grad_clipping(self._params, self.clipping_theta, self.parallel.ctxs[0])
        self.trainer.step(1)
        return norm


def make_epoch(model, lr, corpus_indices, batch_size, num_steps, clipping_theta, ctx,
               kvstore="device", is_random_iter=False, optimizer="sgd"):
    """Return the :class:`GluonEpoch` for ``model`` on ``ctx``; by default with the chapter's SGD.

    ``ctx`` is one context or a list (several devices train data parallel);
    ``kvstore`` is ``'device'`` or, in a job started by a launcher,
    ``'dist_sync'`` / ``'dist_async'``; ``optimizer`` is ``'sgd'``, ``'adam'``
    or ``'rmsprop'`` (``lr=None``: its default rate; ValueError for another,
    or one but SGD with ``dist_async``: :func:`~d2l_rnn.optimizer.check_optimizer`).
    The epoch's ``trainer`` attribute is the optimizer (for checkpoints).
    """
    check_optimizer(optimizer, kvstore)
    parallel = DataParallel(context_list(ctx), batch_size, kvstore)
    trainer = make_trainer(model, lr, optimizer, kvstore=parallel.kvstore)
    if parallel.worker is not None:
        parallel.worker.prepare(trainer.optimizer)
    return GluonEpoch(model, trainer, corpus_indices, batch_size, num_steps, clipping_theta,
                      parallel, is_random_iter)


def train_epoch(model, trainer, corpus_indices, batch_size, num_steps,
                clipping_theta, ctx, is_random_iter=False):
    """Train ``model`` for one pass over the corpus on ``ctx``; return the mean loss.

    The mean cross-entropy per predicted character (nats), whose exponential
    is the perplexity; reading it is the epoch's only host sync.
    """
    return GluonEpoch(model, trainer, corpus_indices, batch_size, num_steps, clipping_theta,
                      DataParallel([ctx], batch_size), is_random_iter)()


def evaluate_perplexity(model: Block, corpus_indices: Corpus | str,
                        ctx: Context | None = None, *,
                        char_to_idx: Mapping[str, int] | None = None) -> float:
    """Perplexity of ``model`` on a text read once, left to right, from a zero state.

    Parameters
    ----------
    model : RNNModel
        An initialised model (dropout is off outside training).
    corpus_indices : str, or sequence of int or numpy array
        The text: at least 2 characters, each of ``2..n`` predicted from
        those before it. A ``str`` is encoded with ``char_to_idx`` (a model
        keeps no vocabulary); ids (a list, a NumPy array) are used as they are.
    ctx : mxnet.Context, optional
        Where to run; default the device of the model's first parameter.
    char_to_idx : dict, optional
        The vocabulary the model was trained with; needed for a ``str``.

    Returns
    -------
    float
        ``exp`` of the mean cross-entropy of those ``n - 1`` predictions.

    Raises
    ------
    TypeError
        If ``corpus_indices`` is neither a ``str`` nor ids (saying what it
        got), or a ``str`` comes without ``char_to_idx``.
    ValueError
        For fewer than 2 characters, characters outside ``char_to_idx``, or
        ids not in ``range(vocab_size)`` (a model reads those as all-zero).
    """
    nd = import_mxnet().nd
    ids = check_ids("corpus_indices", corpus_indices, getattr(model, "vocab_size", None),
                    char_to_idx).astype(np.float32)
    if ctx is None:
        ctx = next(iter(model.collect_params().values())).list_ctx()[0]
    if len(ids) < 2:
        raise ValueError("need at least 2 characters to evaluate, got %d" % len(ids))
    state = model.begin_state(batch_size=1, ctx=ctx)
    total = nd.zeros((1,), ctx=ctx)
    inputs, targets = ids[None, :-1], ids[None, 1:]
    for start in range(0, inputs.shape[1], _EVAL_CHUNK):
        piece = slice(start, start + _EVAL_CHUNK)
        output, state = model(nd.array(inputs[:, piece], ctx=ctx), state)
        total += sequence_loss(output, nd.array(targets[:, piece], ctx=ctx), 1)
    return perplexity(float(total.asscalar()) / (len(ids) - 1))  # see loop.run_epoch


def train_and_predict_rnn_gluon(model: Block, num_hiddens: int, vocab_size: int,
                                ctx: Contexts, corpus_indices: Corpus,
                                idx_to_char: Sequence[str], char_to_idx: Mapping[str, int],
                                num_epochs: int, num_steps: int, lr: float,
                                clipping_theta: float, batch_size: int, pred_period: int,
                                pred_len: int, prefixes: Sequence[str],
                                *, kvstore: str = "device") -> list[float]:
    """Train ``model`` as in the chapter and print its progress.

    Parameters are the chapter's: the model is (re)initialised with
    ``Normal(0.01)``, hybridized with static allocation, and trained with
    SGD at learning rate ``lr`` on consecutive minibatches of shape
    ``(batch_size, num_steps)`` with the gradient norm clipped to
    ``clipping_theta``. Every ``pred_period`` epochs it prints ``epoch E,
    perplexity P, time T sec`` and, for each prefix, `` - `` and
    ``pred_len`` generated characters.

    ``ctx`` may be one context or a list (``try_all_gpus()``): with several,
    the batch rows are split across them. ``kvstore`` is ``'device'`` (one
    machine) or ``'dist_sync'`` / ``'dist_async'`` for a job started by a
    launcher (:mod:`d2l_rnn.distributed`); the returned and printed perplexities
    are then those of the whole job.

    Returns
    -------
    list of float
        The perplexity of every epoch (``num_epochs`` values).

    Raises
    ------
    ValueError
        For non-positive sizes or rates, corpus ids outside the vocabulary,
        a corpus too short for one batch, or a prefix the vocabulary cannot
        encode (checked before training).
    FloatingPointError
        If the loss becomes NaN or infinite.
    """
    mx = import_mxnet()
    check_training_args(prefixes, char_to_idx,
                        dict(lr=lr, clipping_theta=clipping_theta), corpus_indices,
                        num_epochs=num_epochs, num_steps=num_steps, batch_size=batch_size,
                        pred_period=pred_period, vocab_size=vocab_size)
    ctxs = context_list(ctx)
    model.initialize(ctx=ctxs, force_reinit=True, init=mx.init.Normal(0.01))
    model.hybridize(static_alloc=True)
    train_one_epoch = make_epoch(model, lr, corpus_indices, batch_size, num_steps,
                                 clipping_theta, ctxs, kvstore)

    def predict(prefix):  # on the first device: every copy of the parameters is the same
        return predict_rnn_gluon(prefix, pred_len, model, vocab_size, ctxs[0], idx_to_char,
                                 char_to_idx)

    return fit(train_one_epoch, num_epochs, lr, [print_progress(pred_period, prefixes, predict)])
