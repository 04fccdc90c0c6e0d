"""The launcher's command line, read strictly: every bad argument is one :class:`Usage`.

Counts and the timeout are bounded (:data:`~.processes.MAX_PROCESSES`,
:data:`~.processes.MAX_TIMEOUT`), and the worker's program must exist and
the log folder must be a folder, all before any process starts.
"""

import argparse
import math
import shutil
from pathlib import Path

from .processes import MAX_PROCESSES, MAX_TIMEOUT

__all__ = ["PROG", "Usage", "parse_args"]

PROG = "python -m d2l_rnn.distributed.local"


class Usage(Exception):
    """A bad command line; the message says what is wrong."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(message)


def _number(text, kind, low, high):
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or not low <= value <= high:
        raise argparse.ArgumentTypeError("expected a number from %g to %g, got %r"
                                         % (low, high, text))
    return value


def parse_args(argv):
    """Return the parsed arguments; raise :class:`Usage` for any bad one."""
    parser = _Parser(
        prog=PROG, description="Run COMMAND as N kvstore workers with 1 scheduler and S "
        "servers on 127.0.0.1; worker 0's output is shown.")
    parser.add_argument("-n", "--num-workers", required=True,
                        type=lambda t: _number(t, int, 1, MAX_PROCESSES - 1))
    parser.add_argument("-s", "--num-servers", default=1,
                        type=lambda t: _number(t, int, 1, MAX_PROCESSES - 1))
    parser.add_argument("--timeout", default=3600.0,
                        type=lambda t: _number(t, float, 1e-3, MAX_TIMEOUT),
                        help="seconds the whole job may take (default 3600)")
    parser.add_argument("--log-dir", help="where the processes' logs go")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    args.command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not args.command:
        raise Usage("give the worker's command after --")
    program = args.command[0]
    if shutil.which(program) is None:
        raise Usage("the worker's command %r is not an executable program" % program)
    if args.log_dir and Path(args.log_dir).exists() and not Path(args.log_dir).is_dir():
        raise Usage("--log-dir %s is a file, not a directory" % args.log_dir)
    return args
