"""Start a kvstore job on this machine, on 127.0.0.1, and make sure it ends.

``python -m d2l_rnn.distributed.local -n 2 -- COMMAND...`` starts what
``mxnet/tools/launch.py --launcher local`` means to start (one scheduler,
``-s`` servers, ``-n`` workers running COMMAND), but with every ``DMLC_*``
variable ps-lite needs on loopback, a free port, and bounds: it watches the
processes and, as soon as one of them fails, stops all of them and raises
:class:`JobFailed` naming it, because a ps-lite job waits forever for a
peer that died. The scheduler and servers are ``python -c 'import d2l_rnn'``,
which imports MXNet after the steps it needs (:mod:`d2l_rnn._compat`): with
``DMLC_ROLE`` set, importing MXNet runs the node and exits with the job.
Each process is in its own process group, is sent SIGKILL when the launcher
dies (Linux), and is ended by ``SIGALRM`` if it outlives the job's timeout.
When the job ends, and when the launcher dies (a :class:`~.processes.Watchdog`
sees to it), each group is killed whole: the processes a worker started
end with it.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .._util import console
from .launch_args import PROG, Usage, parse_args
from .processes import (
    MAX_PROCESSES,
    MAX_TIMEOUT,
    Follower,
    JobFailed,
    Watchdog,
    child_setup,
    describe_exit,
    end_group,
    exit_status,
    free_port,
    interrupts_held,
)

__all__ = ["JobFailed", "LocalJob", "free_port", "main"]

_GRACE = 30.0  # seconds the scheduler and servers get to exit after the workers


class LocalJob:
    """One scheduler, ``num_servers`` servers and ``num_workers`` workers.

    Parameters
    ----------
    command : list of str
        The worker's command line (its ``argv``).
    num_workers, num_servers : int
        Process counts (``DMLC_NUM_WORKER``, ``DMLC_NUM_SERVER``).
    timeout : float
        Seconds the whole job may take; then it is stopped and fails.
    log_dir : str or os.PathLike, optional
        Where each process's output goes (``worker-0.log``, ...); a new
        temporary folder by default.
    env : mapping, optional
        Extra environment variables for every process. ``OMP_NUM_THREADS``
        defaults to 1: several processes share the cores.
    echo : file, optional
        Where to copy worker 0's output as it is written (e.g. ``sys.stdout``).

    Use it as a context manager, so that every process is ended on the way
    out, whatever happens::

        with LocalJob([sys.executable, "-m", "d2l_rnn.distributed.job", "job.json"], 2) as job:
            job.wait()
    """

    def __init__(self, command, num_workers, num_servers=1, timeout=600.0,
                 log_dir=None, env=None, echo=None):
        if num_workers < 1 or num_servers < 1:
            raise ValueError("a kvstore job needs at least one worker and one "
                             "server, got %d and %d" % (num_workers, num_servers))
        if num_workers + num_servers > MAX_PROCESSES:
            raise ValueError("a job on one machine runs at most %d workers and servers, "
                             "got %d" % (MAX_PROCESSES, num_workers + num_servers))
        if not 0 < timeout <= MAX_TIMEOUT:  # NaN fails too
            raise ValueError("timeout must be a number of seconds from 0 to %d, got %r"
                             % (MAX_TIMEOUT, timeout))
        self.command, self.timeout, self.echo = list(command), float(timeout), echo
        self.num_workers, self.num_servers = num_workers, num_servers
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="d2l_rnn-job-"))
        self.extra_env = dict(env or {})
        self.processes = []  # (name, Popen, log path), in start order
        self.port = None
        self._started = self._watchdog = None

    def _environ(self, role):
        environ = dict(os.environ)
        environ.setdefault("OMP_NUM_THREADS", "1")
        environ.update(self.extra_env)
        environ.update({
            "DMLC_ROLE": role, "DMLC_PS_ROOT_URI": "127.0.0.1",
            "DMLC_PS_ROOT_PORT": str(self.port), "DMLC_INTERFACE": "lo",
            "DMLC_NUM_SERVER": str(self.num_servers),
            "DMLC_NUM_WORKER": str(self.num_workers), "PYTHONUNBUFFERED": "1"})
        return environ

    def _spawn(self, name, role, argv):
        path = self.log_dir / ("%s.log" % name)
        lifetime = int(self.timeout + 2 * _GRACE)
        with open(path, "wb") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, env=self._environ(role),
                                    start_new_session=True,  # its group: it and
                                    # whatever it starts, told to the watchdog before exec
                                    preexec_fn=child_setup(lifetime, self._watchdog))
        self.processes.append((name, proc, path))

    def start(self):
        """Start every process; return ``self``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self._started = time.monotonic()
        node = [sys.executable, "-c", "import d2l_rnn"]
        try:
            with interrupts_held():  # a Ctrl-C during a fork would be lost
                self._watchdog = Watchdog()
                self._spawn("scheduler", "scheduler", node)
                for i in range(self.num_servers):
                    self._spawn("server-%d" % i, "server", node)
                for i in range(self.num_workers):
                    self._spawn("worker-%d" % i, "worker", self.command)
        except BaseException:
            self.stop()
            raise
        return self

    def worker(self, index):
        """The ``Popen`` of worker ``index`` (launch order, not kvstore rank)."""
        return self.processes[1 + self.num_servers + index][1]

    def wait(self):
        """Wait for the workers to finish; return the paths of their logs.

        Raises
        ------
        JobFailed
            As soon as any process fails, or when the job outlives its
            timeout; every process is stopped first.
        """
        workers = self.processes[1 + self.num_servers:]
        echo = Follower(workers[0][2], self.echo)
        try:
            while True:
                echo.copy()
                for name, proc, path in self.processes:
                    if exit_status(proc):  # neither still running nor status 0
                        self._fail(name, proc, path)
                if all(exit_status(proc) == 0 for _, proc, _ in workers):
                    break
                if time.monotonic() - self._started > self.timeout:
                    self._fail_timeout()
                time.sleep(0.1)
            # The workers are done; the scheduler and servers end with them.
            end = time.monotonic() + _GRACE
            while time.monotonic() < end and any(exit_status(p) is None
                                                 for _, p, _ in self.processes):
                time.sleep(0.1)
            echo.copy()
        finally:
            echo.close()
            self.stop()
        return [path for _, _, path in workers]

    def _fail(self, name, proc, path):
        others = sum(exit_status(p) is None for _, p, _ in self.processes)
        self.stop()
        tail = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
        what = "distributed job failed: %s (pid %d) %s after %.1f s" % (
            name, proc.pid, describe_exit(proc.returncode, int(self.timeout + 2 * _GRACE)),
            time.monotonic() - self._started)
        raise JobFailed(
            "%s. A kvstore job cannot go on without every process (ps-lite would wait "
            "for it forever), so the %d other running processes were stopped. Last lines "
            "of %s:\n%s" % (what, others, path, "\n".join("  " + line for line in tail[-12:])),
            summary="%s; the %d other processes were stopped; its log %s ends: %s"
            % (what, others, path, tail[-1].strip() if tail else "(empty)"))

    def _fail_timeout(self):
        running = [name for name, p, _ in self.processes if exit_status(p) is None]
        self.stop()
        raise JobFailed(
            "distributed job timed out after %.0f s; still running were: %s. "
            "Logs are in %s; raise the timeout for a longer run"
            % (self.timeout, ", ".join(running), self.log_dir))

    def stop(self):
        """Kill every process group of the job, with whatever its processes started."""
        for _, proc, _ in self.processes:
            if proc.returncode is None:  # not reaped: its group number is still its own
                end_group(proc)
            if self._watchdog is not None:
                self._watchdog.forget(proc.pid)
        if self._watchdog is not None:
            self._watchdog.close()
            self._watchdog = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def main(argv=None):
    """``python -m d2l_rnn.distributed.local -n N [-s S] [--timeout T] -- COMMAND...``.

    Returns 0 when every worker succeeded; 2 with one line on stderr for a
    bad argument or a failed job; 130, silently, on Ctrl-C (the job's
    processes are stopped first).
    """
    console.started()
    console.escape_unencodable()  # worker 0's output is copied to stdout
    try:
        return _run(argv)
    except KeyboardInterrupt:
        return 130
    finally:
        console.finishing()


def _run(argv):
    try:
        args = parse_args(argv)
        job = LocalJob(args.command, args.num_workers, args.num_servers, args.timeout,
                       args.log_dir, echo=sys.stdout)
        with job:
            job.wait()
    except Usage as err:
        print("%s: error: %s (see %s --help)" % (PROG, err, PROG), file=sys.stderr)
        return 2
    except JobFailed as err:
        print("%s: error: %s" % (PROG, err.summary), file=sys.stderr)
        return 2
    except (ValueError, OSError) as err:  # counts, an unwritable log folder, a failed start
        print("%s: error: %s" % (PROG, " ".join(str(err).split())), file=sys.stderr)
        return 2
    print("logs: %s" % job.log_dir, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
