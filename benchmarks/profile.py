"""``python -m benchmarks.profile``: where an epoch's time goes, by MXNet's profiler.

Runs a few epochs of one MXNet row of :mod:`benchmarks.rows` in this
process (after two warm-up epochs) under ``mx.profiler`` with aggregate
statistics, then prints, per epoch: every operator's calls and milliseconds on the engine, the host
syncs (``MXNDArraySyncCopyToCPU``: each one makes Python wait for the
engine), and the Python thread's own CPU time. The README's findings come
from this script.
"""

import argparse
import atexit
import json
import os
import sys
import tempfile
import time

import d2l_rnn
from d2l_rnn._compat import import_mxnet

from .common import CHAPTER, epoch_timer
from .rows import MXNET_ROWS, RUNNERS, epoch_function

__all__ = ["profile_row", "format_profile", "main"]


def profile_row(name, num_epochs=5, warmup=2, seed=0):
    """Profile ``num_epochs`` epochs of row ``name`` after ``warmup`` epochs.

    Returns
    -------
    dict
        ``epochs``; ``wall`` and ``python_cpu`` seconds per epoch;
        ``operators``: ``{op: (calls, ms)}`` per epoch, on the engine;
        ``api``: ``{C API call: (calls, ms)}`` per epoch.
    """
    if name not in MXNET_ROWS:
        raise ValueError("row %r is not an MXNet row; choose from %s"
                         % (name, ", ".join(MXNET_ROWS)))
    mx = import_mxnet()
    marks = {}
    # set_config deletes the file it is given at once and writes a new one at
    # exit: given /dev/null, it replaced the device with a regular file. A
    # file of our own, in a folder that is gone by then, is all it may touch.
    scratch = tempfile.TemporaryDirectory(prefix="d2l_rnn-profile-")
    atexit.register(scratch.cleanup)

    def before(epoch):
        mx.nd.waitall()
        if epoch == warmup + 1:
            mx.profiler.set_config(profile_all=True, aggregate_stats=True,
                                   filename=os.path.join(scratch.name, "profile.json"))
            mx.profiler.set_state("run")
            marks["start"] = (time.time(), time.thread_time())

    with epoch_timer(*epoch_function(name), before=before):
        RUNNERS[name](d2l_rnn.load_data_time_machine(), warmup + num_epochs,
                      d2l_rnn.try_gpu(), CHAPTER)
    mx.nd.waitall()
    wall, cpu = time.time() - marks["start"][0], time.thread_time() - marks["start"][1]
    mx.profiler.set_state("stop")
    stats = json.loads(mx.profiler.dumps(format="json", reset=True))["Time"]

    def per_epoch(table):
        return {k: (v["Count"] / num_epochs, v["Total"] / num_epochs)
                for k, v in table.items()}

    return {"epochs": num_epochs, "wall": wall / num_epochs,
            "python_cpu": cpu / num_epochs,
            "operators": per_epoch(stats.get("operator", {})),
            "api": per_epoch(stats.get("MXNET_C_API", {}))}


def format_profile(name, profile, top=12):
    """Return the profile as text: a summary line and the busiest operators."""
    ops = profile["operators"]
    total = sum(ms for _, ms in ops.values())
    syncs = profile["api"].get("MXNDArraySyncCopyToCPU", (0, 0))[0]
    lines = ["%s: %.1f ms/epoch wall, %.1f ms/epoch Python CPU, %.0f operator calls and "
             "%.1f ms of operators/epoch, %.0f host syncs/epoch"
             % (name, 1e3 * profile["wall"], 1e3 * profile["python_cpu"],
                sum(n for n, _ in ops.values()), total, syncs),
             "| operator | calls/epoch | ms/epoch | share |", "| --- | --- | --- | --- |"]
    for op, (calls, ms) in sorted(ops.items(), key=lambda kv: -kv[1][1])[:top]:
        lines.append("| %s | %.0f | %.2f | %.0f%% |" % (op, calls, ms, 100 * ms / total))
    return "\n".join(lines)


def main(argv=None):
    """Profile the rows named on the command line; print one table per row."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="*", default=["chapter", "shipped", "floor"],
                        choices=MXNET_ROWS, help="MXNet rows (default: chapter shipped floor)")
    parser.add_argument("--epochs", type=int, default=5, help="profiled epochs (default 5)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be a positive integer, got %d" % args.epochs)
    for name in args.rows:
        print(format_profile(name, profile_row(name, args.epochs)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
