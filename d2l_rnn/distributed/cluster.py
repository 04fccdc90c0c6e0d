"""``python -m d2l_rnn.distributed.cluster ARGS``: MXNet's launch script, bounded, on Python 3.9+.

The launcher in the mxnet 1.9.1 wheel (``mxnet/tools/launch.py`` and the
``dmlc_tracker`` package beside it) calls ``threading.Thread.isAlive``,
which Python 3.9 removed: on 3.9-3.11 every launch (``--launcher ssh``,
``local``, ``mpi``) dies with ``AttributeError: 'Thread' object has no
attribute 'isAlive'`` right after starting the scheduler. This module puts
the old name back (an alias of ``is_alive``) and runs that very script with
the arguments given.

It also bounds what the script leaves unbounded. With ``--launcher ssh``
(its default) every host of the host file is first reached with ``ssh -o
BatchMode=yes -o ConnectTimeout=S ... true``, all at once, within S seconds
(``--connect-timeout S``, default 10, taken out before the script sees the
arguments): an unreachable host, or one that asks for a password, is one
line naming it, where the script would print a thread's traceback and wait
for ever. The script's own ssh calls get the same options; each command it
runs (the scheduler, each ssh) is a process group of its own that ends with
the launcher, however it ends (:class:`~.processes.Watchdog`); a command
that fails in one of its threads ends the launch with one line (exit 2). A
bad argument is one line too, and Ctrl-C exits 130.
"""

import argparse
import logging
import os
import re
import runpy
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .._util import console
from .._util.reading import RefusedFile, read_regular
from .processes import Watchdog, child_setup

__all__ = ["launch_script", "restore_isalive", "read_hosts", "check_hosts", "main"]

PROG = "python -m d2l_rnn.distributed.cluster"
CONNECT_TIMEOUT = 10.0
_MAX_HOST_FILE = 1 << 20


class _Usage(Exception):
    """One line for the user."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _Usage("%s (see %s --help)" % (message, PROG))


def launch_script():
    """Path of ``tools/launch.py`` in the installed mxnet wheel."""
    import importlib.util

    spec = importlib.util.find_spec("mxnet")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("mxnet is not installed; pip install 'd2l_rnn[cpu]'")
    path = Path(spec.origin).parent / "tools" / "launch.py"
    if not path.is_file():
        raise FileNotFoundError("this mxnet has no tools/launch.py (looked at %s)" % path)
    return path


def restore_isalive():
    """Give ``threading.Thread`` back its pre-3.9 ``isAlive`` name."""
    if not hasattr(threading.Thread, "isAlive"):
        threading.Thread.isAlive = threading.Thread.is_alive


def read_hosts(path):
    """``[(host, port)]`` of a host file as ``dmlc_tracker`` reads it (``host[:port] [slots=N]``).

    The file must be a regular file of at most 1 MiB (never a FIFO).
    """
    try:
        text = read_regular(str(path), _MAX_HOST_FILE).decode("utf-8", "replace")
    except (OSError, RefusedFile) as err:
        raise _Usage("cannot read the host file %s: %s"
                     % (path, err.strerror if isinstance(err, OSError) else err.why)) from None
    hosts = []
    for line in text.splitlines():
        entry = line.split("slots=")[0].strip()
        if entry:
            host, _, port = entry.partition(":")
            hosts.append((host, port or "22"))
    if not hosts:
        raise _Usage("the host file %s names no host" % path)
    return hosts


def _ssh(host, port, timeout):
    return ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=%d" % max(1, round(timeout)),
            "-o", "StrictHostKeyChecking=no", "-p", port, host, "true"]


def check_hosts(hosts, timeout=CONNECT_TIMEOUT):
    """Raise a one-line error naming the hosts ssh cannot reach within ``timeout`` seconds.

    All hosts are tried at once, and whatever ssh does (its own timeout is
    whole seconds), each try is ended at ``timeout`` plus up to 2 seconds.
    """
    tries = [(h, p, subprocess.Popen(_ssh(h, p, timeout), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
             for h, p in hosts]
    deadline, failed = time.monotonic() + timeout + min(2.0, timeout), []
    for host, port, proc in tries:
        try:
            _, err = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            failed.append("%s:%s (no answer within %g s)" % (host, port, timeout))
            continue
        if proc.returncode != 0:
            lines = [ln for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
            failed.append("%s:%s (%s)" % (host, port, lines[-1].strip() if lines else
                                          "ssh exited with status %d" % proc.returncode))
    if failed:
        raise _Usage("cannot reach %s by ssh; check the host file, and that ssh logs in "
                     "without a password (BatchMode)" % ", ".join(failed))


class _Commands:
    """What ``dmlc_tracker`` sees as ``subprocess``: each command a group that ends with us.

    Its ssh calls also get ``BatchMode`` and ``ConnectTimeout``.
    """

    CalledProcessError = subprocess.CalledProcessError

    def __init__(self, timeout):
        self.ssh = "ssh -o BatchMode=yes -o ConnectTimeout=%d " % max(1, round(timeout))
        self.procs, self.watchdog = [], Watchdog()

    def check_call(self, command, **kwargs):
        if isinstance(command, str) and command.startswith(("ssh ", "rsync ")):
            command = re.sub(r"(^|[\"'=])ssh ", lambda m: m.group(1) + self.ssh, command,
                             count=1)
        proc = subprocess.Popen(command, start_new_session=True,  # told to the watchdog
                                preexec_fn=child_setup(None, self.watchdog), **kwargs)
        self.procs.append(proc)
        if proc.wait():
            raise subprocess.CalledProcessError(proc.returncode, command)
        return 0

    def end(self):
        """Kill what is left of every command's group."""
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.watchdog.close()


_COMMANDS: list = []  # the one _Commands of this launch


def _fail_fast(args):
    """``threading.excepthook``: a failure in one of the script's threads ends the launch."""
    err = args.exc_value
    why = ("%s exited with status %d" % (str(err.cmd)[:200], err.returncode)
           if isinstance(err, subprocess.CalledProcessError) else "%s: %s"
           % (type(err).__name__, err))
    sys.stderr.write("%s: error: %s\n" % (PROG, " ".join(why.split())))
    sys.stderr.flush()
    for commands in _COMMANDS:
        commands.end()
    os._exit(2)


def _options(argv):
    """Our own options out of ``argv``: ``(timeout, hosts or None, the rest)``."""
    parser = _Parser(add_help=False)
    parser.add_argument("--connect-timeout", type=float, default=CONNECT_TIMEOUT)
    parser.add_argument("--launcher", default="ssh")
    parser.add_argument("-H", "--hostfile")
    ours, _ = parser.parse_known_args(argv)
    if not 0.1 <= ours.connect_timeout <= 600:
        raise _Usage("--connect-timeout must be a number of seconds from 0.1 to 600")
    rest, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--connect-timeout":
            skip = True
        elif not arg.startswith("--connect-timeout="):
            rest.append(arg)
    hosts = read_hosts(ours.hostfile) if ours.launcher == "ssh" and ours.hostfile else None
    return ours.connect_timeout, hosts, rest


def _launch(argv):
    timeout, hosts, argv = _options(argv)
    if hosts is not None:
        check_hosts(hosts, timeout)
    script = launch_script()
    restore_isalive()
    import dmlc_tracker.ssh
    import dmlc_tracker.tracker
    commands = _Commands(timeout)
    _COMMANDS.append(commands)
    dmlc_tracker.ssh.subprocess = dmlc_tracker.tracker.subprocess = commands
    threading.excepthook = _fail_fast
    # Its own parsers' errors are one line too; its main, not its __main__ block, which
    # would turn Ctrl-C into exit 0.
    argparse.ArgumentParser.error = _Parser.error
    launch = runpy.run_path(str(script), run_name="mxnet_launch")
    logging.basicConfig(format="%(asctime)s %(levelname)s %(message)s", level=logging.INFO)
    sys.argv = [str(script)] + argv
    launch["main"]()


def main(argv=None):
    """Run ``launch.py`` with ``argv`` (default: this process's arguments); return the exit code."""
    console.started()
    try:
        _launch(sys.argv[1:] if argv is None else list(argv))
    except _Usage as err:
        print("%s: error: %s" % (PROG, " ".join(str(err).split())), file=sys.stderr)
        return 2
    except (OSError, RuntimeError) as err:  # no mxnet, no launch.py, a tracker failure
        print("%s: error: %s" % (PROG, " ".join(str(err).split())), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        for commands in _COMMANDS:
            commands.end()
        console.finishing()
    return 0


if __name__ == "__main__":
    sys.exit(main())
