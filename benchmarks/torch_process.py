"""``python -m benchmarks.torch_process EPOCHS SEED [THREADS]``: the PyTorch row, alone.

PyTorch and MXNet share one OpenMP runtime when they share a process, and
MXNet's import sets the importing thread's OpenMP thread count to 1: in the
benchmark's main thread PyTorch would train on one thread, in any other on
two. Here PyTorch is imported first and keeps its default thread count,
unless THREADS (> 0) sets another. The process runs with the benchmark's
thread settings (:data:`benchmarks.THREAD_SETTINGS`).

The parent (:func:`run_process`, called by :func:`benchmarks.speed.run_row`)
drives the epochs over the pipes: before each epoch this process writes
``@@ wait E`` and waits for a ``go`` line, so the parent decides when it
runs. ``@@ start`` marks the end
of the imports; ``@@ result {json}`` carries the perplexities and epoch
seconds. Every other line on stdout is the chapter's output.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["child_environment", "run_process", "main"]


def _say(message):
    sys.stdout.write("@@ %s\n" % message)
    sys.stdout.flush()


def _train(data, num_epochs):
    from .common import CHAPTER
    from .torch_rnn import train_torch
    corpus_indices, char_to_idx, idx_to_char, vocab_size = data
    c = CHAPTER
    return train_torch(corpus_indices, vocab_size, idx_to_char, char_to_idx, c["num_hiddens"],
                       num_epochs, c["num_steps"], c["lr"], c["clipping_theta"],
                       c["batch_size"], c["pred_period"], c["pred_len"], c["prefixes"])


def child_environment():
    """Return ``(root, env)`` for a worker process: the checkout and the thread settings."""
    from . import thread_environment
    root = str(Path(__file__).resolve().parent.parent)
    env = thread_environment()
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [env.get("PYTHONPATH")] if p])
    return root, env


def run_process(num_epochs, seed, before=None, threads=0):
    """Run the PyTorch row in a process of its own; return ``(perplexity, seconds, total)``.

    The chapter's lines the process prints are printed here; ``before(epoch)``
    runs here before the process may start each epoch. ``threads`` > 0 sets
    PyTorch's thread count (default: PyTorch's own choice).
    """
    root, env = child_environment()
    command = [sys.executable, "-m", "benchmarks.torch_process", str(num_epochs), str(seed),
               str(threads)]
    result, start, waited = None, None, 0.0
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
                # down PyTorch and MXNet takes it most of a second.
                result, end = json.loads(rest), time.time()
    if child.returncode or result is None:
        raise RuntimeError("the PyTorch process failed (exit status %s); its error output is "
                           "above" % child.returncode)
    print("(PyTorch used %d threads)" % result["threads"])
    return result["perplexity"], result["seconds"], end - start - waited


def main(argv=None):
    """Train the PyTorch row for ``EPOCHS`` epochs under the parent's control."""
    argv = sys.argv[1:] if argv is None else argv
    num_epochs, seed = int(argv[0]), int(argv[1])
    import torch  # first: before MXNet changes this thread's OpenMP settings
    threads = int(argv[2]) if len(argv) > 2 and int(argv[2]) > 0 else torch.get_num_threads()
    import d2l_rnn

    from . import torch_rnn
    from .common import epoch_timer
    torch.set_num_threads(threads)
    torch_rnn.import_torch()   # and its one-off imports, before the clock
    data = d2l_rnn.load_data_time_machine()
    d2l_rnn.set_seed(seed)
    torch.manual_seed(seed)

    def wait_for_go(epoch):
        _say("wait %d" % epoch)
        if sys.stdin.readline().strip() != "go":
            sys.exit("benchmarks.torch_process: the parent stopped sending 'go'")

    _say("start")
    with epoch_timer(torch_rnn, "train_epoch", before=wait_for_go) as seconds:
        perplexity = _train(data, num_epochs)
    _say("result " + json.dumps({"perplexity": perplexity, "seconds": seconds,
                                 "threads": threads}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
