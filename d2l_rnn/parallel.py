"""Data-parallel training: the chapter's epoch on several devices or machines.

Each minibatch ``(X, Y)`` of shape ``(batch_size, num_steps)`` is cut by rows:
a distributed job first gives every worker its own block of rows (see
:mod:`.distributed`), then each worker splits its block across its devices
with ``split_and_load``. A device always gets the same rows, so with
consecutive sampling it carries the hidden state of *its* streams from batch
to batch, exactly as one device carries the state of all of them.

Every device's loss is the *sum* over its rows divided by the number of
predicted characters in the whole global batch, so the gradients summed by
the kvstore equal the gradient of the single-device mean loss. Clipping then
needs the norm of that sum (the global norm), so the gradients are reduced
first (``allreduce_grads``), clipped, and only then applied (``update``):
``Trainer(update_on_kvstore=False)``. ``dist_async`` cannot work that way
(MXNet applies its updates on the servers, one push at a time), so there
each worker clips its own gradient before pushing it.
"""

from ._checks import check_positive_int
from ._compat import import_mxnet
from .samplers import data_iter_consecutive, data_iter_random
from .training import grad_clipping, make_trainer

__all__ = ["KVSTORES", "DataParallel"]

KVSTORES = ("device", "dist_sync", "dist_async")


def _check_kvstore(kvstore, ctxs):
    if kvstore not in KVSTORES:
        raise ValueError("kvstore must be one of %s, got %r"
                         % (", ".join(repr(k) for k in KVSTORES), kvstore))
    if kvstore == "dist_async" and len(ctxs) > 1:
        # The servers update on every push, so there is no moment at which a
        # worker holds the sum over its devices to clip; one device per worker
        # (one worker per GPU) keeps per-worker clipping well defined.
        raise ValueError(
            "kvstore='dist_async' takes one context per worker, got %d (%s); "
            "start one worker per device instead"
            % (len(ctxs), ", ".join(str(c) for c in ctxs)))


class DataParallel:
    """The training epoch of :func:`~d2l_rnn.training.train_epoch`, data parallel.

    Parameters
    ----------
    model : RNNModel
        Initialised on every context of ``ctxs``.
    lr : float
        SGD learning rate.
    corpus_indices : sequence of int
        The encoded text.
    batch_size : int
        Rows of the *global* batch, over all workers and devices.
    num_steps : int
        Characters per row.
    clipping_theta : float
        Largest norm of the (global) gradient.
    ctxs : list of mxnet.Context
        This process's devices; each needs at least one row.
    kvstore : {'device', 'dist_sync', 'dist_async'}
        ``'device'`` sums over the devices of one machine; the ``dist_*``
        kinds need the environment of a launcher (:mod:`.distributed`).
    is_random_iter : bool
        Random instead of consecutive sampling (state reset every batch).
    """

    def __init__(self, model, lr, corpus_indices, batch_size, num_steps,
                 clipping_theta, ctxs, kvstore="device", is_random_iter=False):
        _check_kvstore(kvstore, ctxs)
        self.model, self.corpus_indices = model, corpus_indices
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.num_steps = check_positive_int("num_steps", num_steps)
        self.clipping_theta, self.ctxs = clipping_theta, list(ctxs)
        self.is_random_iter = is_random_iter
        self.group = None
        rows = slice(0, self.batch_size)
        if kvstore.startswith("dist"):
            from .distributed import WorkerGroup  # lazy: starts no process
            self.group = WorkerGroup(kvstore)
            rows = self.group.rows(self.batch_size)
        if rows.stop - rows.start < len(self.ctxs):
            workers = self.group.num_workers if self.group else 1
            raise ValueError(
                "batch_size=%d leaves %d rows for this process's %d devices; every "
                "device needs at least one row: use batch_size >= %d"
                % (self.batch_size, rows.stop - rows.start, len(self.ctxs),
                   workers * len(self.ctxs)))
        self.rows = rows
        self.update_on_kvstore = kvstore == "dist_async"
        self.trainer = make_trainer(
            model, lr, kvstore=self.group.kv if self.group else kvstore,
            update_on_kvstore=self.update_on_kvstore)
        if self.group:
            self.group.prepare(self.trainer.optimizer)

    def train_epoch(self):
        """Train one pass over the corpus; return the mean loss of the whole job."""
        if self.group is None:
            loss_sum, n = self._local_epoch()
            return loss_sum / n
        self.group.arm()
        try:
            loss_sum, n = self.group.sum_over_workers(*self._local_epoch())
        finally:
            self.group.disarm()
        return loss_sum / n

    def _begin_states(self, X_parts):
        return [self.model.begin_state(batch_size=X.shape[0], ctx=ctx)
                for X, ctx in zip(X_parts, self.ctxs)]

    def _local_epoch(self):
        mx = import_mxnet()
        split = mx.gluon.utils.split_and_load
        loss = mx.gluon.loss.SoftmaxCrossEntropyLoss()
        sampler = data_iter_random if self.is_random_iter else data_iter_consecutive
        # Dividing by the global count (not this device's) makes the summed
        # gradient the gradient of the global mean loss.
        scale = 1.0 / (self.batch_size * self.num_steps)
        sums = [mx.nd.zeros((1,), ctx=ctx) for ctx in self.ctxs]
        states, params, n = None, None, 0
        for X, Y in sampler(self.corpus_indices, self.batch_size, self.num_steps):
            X_parts = split(X[self.rows], self.ctxs, even_split=False)
            Y_parts = split(Y[self.rows], self.ctxs, even_split=False)
            if self.is_random_iter or states is None:
                states = self._begin_states(X_parts)
            else:  # truncated BPTT, as in train_epoch
                states = [[s.detach() for s in state] for state in states]
            with mx.autograd.record():
                losses = []
                for k, (X_k, Y_k) in enumerate(zip(X_parts, Y_parts)):
                    output, states[k] = self.model(X_k, states[k])
                    losses.append(loss(output, Y_k.T.reshape((-1,))).sum())
                scaled = [l * scale for l in losses]
            mx.autograd.backward(scaled)
            if params is None:  # after the first forward: shapes may be deferred
                params = [[p.data(ctx) for p in self.model.collect_params().values()]
                          for ctx in self.ctxs]
                if self.group is not None and not self.group.trainer_ready:
                    self.group.init_trainer(self.trainer)
            self._step(params)
            for total, l in zip(sums, losses):
                total += l
            n += sum(X_k.size for X_k in X_parts)
            if self.group is not None:
                self.group.progress()
        return sum(total.asscalar() for total in sums), n

    def _step(self, params):
        if self.update_on_kvstore:
            # dist_async: the servers apply each push, so only this worker's
            # gradient can be clipped (one context, checked in __init__).
            grad_clipping(params[0], self.clipping_theta, self.ctxs[0])
            self.trainer.step(1)
            return
        self.trainer.allreduce_grads()
        # After the reduction every device holds the same summed gradient, so
        # each computes the same global norm and scales its copy alike.
        for ctx_params, ctx in zip(params, self.ctxs):
            grad_clipping(ctx_params, self.clipping_theta, ctx)
        self.trainer.update(1)
