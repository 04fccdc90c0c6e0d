"""``python -m benchmarks.row_process ROW EPOCHS SEED THREADS PRED_PERIOD``: one row, one process.

Every row of the training benchmark trains in a process of its own, so no
two rows share MXNet's engine, its thread pools or its memory: in one
process, MXNet work that ran after other rows' epochs was seen to slow
down by 15 % and more (docs/benchmarks.md). A process is also what PyTorch
needs: it shares one OpenMP runtime with MXNet in a process, and MXNet's
import sets the importing thread's OpenMP thread count to 1, so the torch
row imports PyTorch first and sets its own thread count (THREADS > 0; 0:
PyTorch's default). An MXNet row trains in a thread of its own, since the
main thread that imported MXNet is left one OpenMP thread. Each process runs
with the benchmark's thread settings (:data:`benchmarks.THREAD_SETTINGS`).

The parent (:func:`run_process`) drives the epochs over the pipes: before
each epoch the process writes ``@@ wait E`` and waits for a ``go`` line, so
the parent decides when it runs, and rows can take turns epoch by epoch
(:mod:`benchmarks.turns`). ``@@ start`` marks the end of the imports;
``@@ result {json}`` carries the perplexities, the epoch seconds and the
thread count. Every other line on stdout is the chapter's output.
"""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = ["child_environment", "run_process", "main"]


def _say(message):
    sys.stdout.write("@@ %s\n" % message)
    sys.stdout.flush()


def child_environment():
    """Return ``(root, env)`` for a worker process: the checkout and the thread settings."""
    from . import thread_environment
    root = str(Path(__file__).resolve().parent.parent)
    env = thread_environment()
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [env.get("PYTHONPATH")] if p])
    return root, env


def run_process(name, num_epochs, seed=0, before=None, threads=0, pred_period=None):
    """Run row ``name`` in a process of its own; return ``(perplexity, seconds, total, threads)``.

    The chapter's lines the process prints are printed here;
    ``before(epoch)`` runs here before the process may start each epoch
    (off its clock). ``total`` is the time from the end of the imports to
    the result, less the time spent in ``before``. ``threads`` > 0 sets
    PyTorch's thread count for the torch row (the count used is returned;
    None for an MXNet row). ``pred_period`` replaces the chapter's 50.
    """
    root, env = child_environment()
    command = [sys.executable, "-m", "benchmarks.row_process", name, str(num_epochs),
               str(seed), str(threads), str(pred_period or 0)]
    result, start, end, waited = None, None, None, 0.0
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                          env=env, cwd=root) as child:
        for line in child.stdout:
            if not line.startswith("@@ "):
                print(line, end="")
                continue
            word, _, rest = line[3:].rstrip("\n").partition(" ")
            if word == "start":
                start = time.time()
            elif word == "wait":
                if before is not None:
                    paused = time.time()
                    before(int(rest))
                    waited += time.time() - paused
                child.stdin.write("go\n")
                child.stdin.flush()
            elif word == "result":
                # The clock stops here, not when the process has exited: tearing
                # down PyTorch and MXNet takes it most of a second. Leaving the
                # `with` waits for that, so the next row's turn starts after it.
                result, end = json.loads(rest), time.time()
    if child.returncode or result is None:
        raise RuntimeError("the %s row's process failed (exit status %s); its error output "
                           "is above" % (name, child.returncode))
    return result["perplexity"], result["seconds"], end - start - waited, result["threads"]


def _train(name, num_epochs, seed, pred_period):
    """The child's row: ``(perplexity, seconds)``, each epoch after a ``go`` from the parent."""
    import d2l_rnn

    from .common import CHAPTER, epoch_timer
    from .rows import RUNNERS, epoch_function
    settings = dict(CHAPTER, pred_period=pred_period or CHAPTER["pred_period"])
    data, ctx = d2l_rnn.load_data_time_machine(), d2l_rnn.try_gpu()
    module, attribute = epoch_function(name)
    d2l_rnn.set_seed(seed)

    def wait_for_go(epoch):
        _say("wait %d" % epoch)
        if sys.stdin.readline().strip() != "go":
            sys.exit("benchmarks.row_process: the parent stopped sending 'go'")

    _say("start")
    with epoch_timer(module, attribute, before=wait_for_go) as seconds:
        perplexity = RUNNERS[name](data, num_epochs, ctx, settings)
    return perplexity, seconds


def main(argv=None):
    """Train one row under the parent's control; print its result last."""
    argv = sys.argv[1:] if argv is None else argv
    name, num_epochs, seed, threads, pred_period = argv[0], *map(int, argv[1:5])
    if name == "torch":
        import torch  # first: before MXNet changes this thread's OpenMP settings
        threads = threads or torch.get_num_threads()
        torch.set_num_threads(threads)
        torch.manual_seed(seed)
        from . import torch_rnn
        torch_rnn.import_torch()   # and its one-off imports, before the clock
        perplexity, seconds = _train(name, num_epochs, seed, pred_period)
    else:
        import d2l_rnn  # noqa: F401  (MXNet, imported by this main thread)
        threads, out = None, {}
        worker = threading.Thread(target=lambda: out.update(
            zip(("perplexity", "seconds"), _train(name, num_epochs, seed, pred_period))))
        worker.start()
        worker.join()
        if not out:
            return 1   # the thread's traceback is on stderr
        perplexity, seconds = out["perplexity"], out["seconds"]
    _say("result " + json.dumps({"perplexity": perplexity, "seconds": seconds,
                                 "threads": threads}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
