"""Data parallelism: which rows of every minibatch each of this process's devices trains.

Each minibatch ``(X, Y)`` of shape ``(batch_size, num_steps)`` is cut by rows:
a distributed job first gives every worker its own block of rows (see
:mod:`.kvstore`), then each worker splits its block across its devices. A
device always gets the same rows, so with consecutive sampling it carries
the hidden state of *its* streams from batch to batch, exactly as one device
carries the state of all of them. One device is simply the case of one part.

Every device's loss is the *sum* over its rows divided by the number of
predicted characters in the whole global batch, so the gradients summed over
devices and workers are the gradient of the single-device mean loss, and the
losses summed the same way are the job's mean loss.
"""

from .kvstore import KVStoreWorker, check_kvstore

__all__ = ["DataParallel"]


class DataParallel:
    """This process's devices, its rows of every global batch, and its kvstore.

    Parameters
    ----------
    ctxs : list of mxnet.Context
        This process's devices; each needs at least one row.
    batch_size : int
        Rows of the *global* batch, over all workers and devices.
    kvstore : {'device', 'dist_sync', 'dist_async'}
        ``'device'`` sums over the devices of one machine; the ``dist_*``
        kinds make this process one worker of a job started by a launcher
        (:mod:`.local`, :mod:`.cluster`) and need its environment.

    Raises
    ------
    ValueError
        For an unknown kvstore, ``dist_async`` with several devices, or fewer
        rows than devices.
    RuntimeError
        For a ``dist_*`` kvstore outside a launched job.
    """

    def __init__(self, ctxs, batch_size, kvstore="device"):
        self.ctxs = list(ctxs)
        check_kvstore(kvstore, self.ctxs)
        self.worker = KVStoreWorker(kvstore) if kvstore.startswith("dist") else None
        rows = self.worker.rows(batch_size) if self.worker else slice(0, batch_size)
        num_rows = rows.stop - rows.start
        if num_rows < len(self.ctxs):
            workers = self.worker.num_workers if self.worker else 1
            raise ValueError(
                "batch_size=%d leaves %d rows for this process's %d devices; every "
                "device needs at least one row: use batch_size >= %d"
                % (batch_size, num_rows, len(self.ctxs), workers * len(self.ctxs)))
        # Equal parts, the first ones a row longer where the rows do not divide.
        size, extra = divmod(num_rows, len(self.ctxs))
        self.sizes = [size + 1] * extra + [size] * (len(self.ctxs) - extra)
        starts = [rows.start + sum(self.sizes[:k]) for k in range(len(self.ctxs))]
        self.bounds = [(start, start + n) for start, n in zip(starts, self.sizes)]
        # One device with every row: hand the batch on untouched.
        self.whole = len(self.ctxs) == 1 and num_rows == batch_size
        self.kvstore = self.worker.kv if self.worker else kvstore

    @property
    def saves(self):
        """Whether this process writes checkpoints: worker 0 of a job, or a lone process."""
        return self.worker is None or self.worker.rank == 0

    def split(self, X, Y):
        """Return ``[(X_k, Y_k)]``, this process's rows of the batch, one part per device."""
        if self.whole:
            return [(X, Y)]
        # Row ranges of the first axis are views; only the copy to a device runs.
        return [(X[a:b].as_in_context(ctx), Y[a:b].as_in_context(ctx))
                for (a, b), ctx in zip(self.bounds, self.ctxs)]

    def begin_state(self, model):
        """Return a fresh zero state for each device's rows."""
        return [model.begin_state(batch_size=n, ctx=ctx) for n, ctx in zip(self.sizes, self.ctxs)]

    def before_update(self, trainer):
        """Call after each backward pass: a job's first one hands the trainer to the kvstore."""
        if self.worker is not None:
            if not self.worker.trainer_ready:
                self.worker.init_trainer(trainer)
            self.worker.watchdog.progress()

    def over_the_job(self, run_epoch):
        """Return ``run_epoch()`` (this process's share of the mean loss) summed over the job."""
        if self.worker is None:
            return run_epoch()
        self.worker.watchdog.arm()
        try:
            return self.worker.sum_over_workers(run_epoch())
        finally:
            self.worker.watchdog.disarm()
