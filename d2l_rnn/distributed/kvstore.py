"""A worker's side of a ``dist_sync`` / ``dist_async`` job (MXNet's kvstore).

A distributed job is MXNet's own: one scheduler, one or more parameter
servers (ps-lite, inside ``libmxnet``) and N workers, each a process started
by a launcher (:mod:`.local` on one machine, :mod:`.cluster` on a cluster)
with the ``DMLC_*`` variables set. This module is what a *worker* adds to the
data-parallel training of :mod:`.parallel`:

* its block of rows of every global batch (all workers draw the same sampler
  offsets because they are seeded alike, so the blocks tile the batch);
* the job's loss, summed over the workers through the kvstore itself;
* a watchdog: ps-lite waits forever for a peer that died, so a worker that
  makes no progress inside an epoch for ``D2L_RNN_STALL_TIMEOUT`` seconds
  (default 600) says so on stderr and exits with status
  :data:`EXIT_STALLED`.
"""

import os
import sys
import threading
import time

from .._compat import import_mxnet

__all__ = ["KVSTORES", "REQUIRED_ENV", "EXIT_STALLED", "LOSS_KEY", "check_kvstore",
           "check_environment", "shard_rows", "Watchdog", "KVStoreWorker"]

KVSTORES = ("device", "dist_sync", "dist_async")

REQUIRED_ENV = ("DMLC_ROLE", "DMLC_PS_ROOT_URI", "DMLC_PS_ROOT_PORT",
                "DMLC_NUM_SERVER", "DMLC_NUM_WORKER")
EXIT_STALLED = 75
# Far above the Trainer's keys (0 .. number of parameters - 1).
LOSS_KEY = 1 << 20
_DEFAULT_STALL_TIMEOUT = 600.0


def check_kvstore(kvstore, ctxs):
    """Raise ValueError for an unknown kvstore, or ``dist_async`` with several devices."""
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


def check_environment(environ=None):
    """Raise RuntimeError unless this process was started as a kvstore worker.

    Without these variables ``mx.kv.create('dist_sync')`` aborts the process
    (a failed CHECK in ps-lite) instead of raising.
    """
    environ = os.environ if environ is None else environ
    missing = [name for name in REQUIRED_ENV if not environ.get(name)]
    if missing:
        raise RuntimeError(
            "a dist_sync/dist_async kvstore needs the environment of a launcher; "
            "%s not set. Start the job with `python -m d2l_rnn.distributed.local -n 2 -- "
            "COMMAND` on one machine, or `python -m d2l_rnn.distributed.cluster` on a cluster"
            % ", ".join(missing))
    if environ["DMLC_ROLE"] != "worker":
        raise RuntimeError("DMLC_ROLE is %r; only a worker trains"
                           % environ["DMLC_ROLE"])


def shard_rows(rank, num_workers, batch_size):
    """Return the ``slice`` of batch rows that worker ``rank`` trains.

    Blocks are contiguous and differ in size by at most one row.
    """
    if batch_size < num_workers:
        raise ValueError("batch_size=%d is smaller than the %d workers; every "
                         "worker needs at least one row" % (batch_size, num_workers))
    return slice(rank * batch_size // num_workers,
                 (rank + 1) * batch_size // num_workers)


def _stall_timeout(environ):
    value = environ.get("D2L_RNN_STALL_TIMEOUT", "")
    try:
        timeout = float(value) if value else _DEFAULT_STALL_TIMEOUT
    except ValueError:
        timeout = -1.0
    if not timeout > 0:
        raise ValueError("D2L_RNN_STALL_TIMEOUT must be a positive number of "
                         "seconds, got %r" % value)
    return timeout


class Watchdog:
    """Exit the process when, while armed, nothing moves for ``timeout`` s.

    It is armed only around kvstore work (:meth:`arm` / :meth:`disarm`), so
    a script that goes on after training is never stopped by it. The exit
    is ``os._exit``: the main thread is then blocked inside ps-lite, where
    neither an exception nor ``sys.exit`` could reach it.
    """

    def __init__(self, timeout, what):
        self.timeout, self.what = timeout, what
        self._since = None  # monotonic time of the last progress while armed
        thread = threading.Thread(target=self._watch, daemon=True,
                                  name="d2l_rnn-watchdog")
        thread.start()

    def arm(self):
        """Start watching (a kvstore call may block from now on)."""
        self._since = time.monotonic()

    progress = arm  # progress restarts the clock, exactly as arming does

    def disarm(self):
        """Stop watching until the next :meth:`arm`."""
        self._since = None

    def _watch(self):
        while True:
            time.sleep(min(1.0, self.timeout / 4))
            since = self._since
            if since is not None and time.monotonic() - since > self.timeout:
                sys.stderr.write(
                    "d2l_rnn: %s made no progress for %.0f s (D2L_RNN_STALL_TIMEOUT="
                    "%g); a peer worker, server or the scheduler has probably "
                    "died, and ps-lite would wait for it forever. Exiting with "
                    "status %d.\n" % (self.what, time.monotonic() - since,
                                       self.timeout, EXIT_STALLED))
                sys.stderr.flush()
                os._exit(EXIT_STALLED)


class KVStoreWorker:
    """This worker's view of the job: its kvstore, rank, rows and watchdog.

    Parameters
    ----------
    kind : {'dist_sync', 'dist_async'}
        The kvstore type; every worker of a job must use the same.
    environ : mapping, optional
        Defaults to ``os.environ``.
    """

    def __init__(self, kind, environ=None):
        environ = os.environ if environ is None else environ
        check_environment(environ)
        timeout = _stall_timeout(environ)
        # Started before the kvstore: creating it already waits for every
        # other process of the job to register with the scheduler.
        self.watchdog = Watchdog(timeout, "kvstore worker (pid %d)" % os.getpid())
        self.kind = kind
        self.watchdog.arm()
        self.kv = import_mxnet().kv.create(kind)
        self.watchdog.disarm()
        self.rank, self.num_workers = self.kv.rank, self.kv.num_workers
        self.watchdog.what = "worker %d of %d (pid %d)" % (
            self.rank, self.num_workers, os.getpid())
        self._loss_ready = False
        self.trainer_ready = False
        self._previous = 0.0

    def rows(self, batch_size):
        """The slice of every global batch that this worker trains."""
        return shard_rows(self.rank, self.num_workers, batch_size)

    def prepare(self, optimizer):
        """Adapt ``optimizer`` before the Trainer sends it to the servers.

        With ``dist_async`` the servers run the optimizer on *every* key,
        the loss counters included; a learning-rate multiplier of ``-1/lr``
        turns SGD's ``w -= lr * g`` into ``w += g`` for that key, so the
        servers keep a running total of the pushed losses.
        """
        if self.kind == "dist_async":
            optimizer.set_lr_mult({LOSS_KEY: -1.0 / optimizer.learning_rate})

    def init_trainer(self, trainer):
        """Give ``trainer``'s parameters to the kvstore and wait until that is done.

        Call it once, after the first backward pass (the parameters' shapes
        are known only then) and before the first reduction. ``Trainer``
        would do this lazily in ``allreduce_grads``, but in MXNet 1.9.1 the
        first gradient push is not ordered after the pull that copies rank
        0's initial weights into the other workers' parameters; the server
        can answer that pull with the summed gradient, which then replaces
        the weights (seen here with ``update_on_kvstore=False``).
        """
        if not trainer._kv_initialized:  # load_states may have done it already
            trainer._init_kvstore()
        if trainer._params_to_init:
            trainer._init_params()
        import_mxnet().nd.waitall()
        self.trainer_ready = True

    def sum_over_workers(self, value):
        """Return ``value`` (a float) summed over every worker of the job."""
        nd = import_mxnet().nd
        # float64: the async totals grow over the whole run.
        if not self._loss_ready:
            self.kv.init(LOSS_KEY, nd.zeros((1,), dtype="float64"))
            self._loss_ready = True
        out = nd.zeros((1,), dtype="float64")
        self.kv.push(LOSS_KEY, nd.array([value], dtype="float64"))
        # A pull after a push on the same key waits for the push, so this
        # worker's number is on the server once it returns.
        self.kv.pull(LOSS_KEY, out=out)
        total = float(out.asscalar())
        if self.kind == "dist_async":
            # The servers keep a running total; the second barrier stops a
            # fast worker from pushing its next epoch before all have read.
            self.kv._barrier()
            self.kv.pull(LOSS_KEY, out=out)
            running = float(out.asscalar())
            self.kv._barrier()
            total, self._previous = running - self._previous, running
        return total
