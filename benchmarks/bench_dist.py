"""Scaling of ``dist_sync`` training on this machine: 1 process, 1 worker, 2 workers.

``python benchmarks/bench_dist.py`` (or ``make bench-dist``) trains the
chapter's model (256-unit ReLU RNN, global batch 32 x 35) three ways with the
same global batch and prints characters per second for each:

* one process, no kvstore (``train_and_predict_rnn_gluon`` on the CPU);
  like the job's processes (:class:`~d2l_rnn.distributed.local.LocalJob`'s default)
  it runs with ``OMP_NUM_THREADS=1``, so all rows use one thread each;
* a ``dist_sync`` job with 1 worker, 1 server, 1 scheduler;
* a ``dist_sync`` job with 2 workers (16 rows each), 1 server, 1 scheduler.

Throughput comes from the per-epoch times the training function prints
(``pred_period=1``), first epoch dropped (warm-up), median of the rest, so
process start-up and MXNet's import are not counted. The jobs are started
with :mod:`d2l_rnn.distributed.local`, on 127.0.0.1.
"""

import argparse
import contextlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_EPOCH = re.compile(r"^epoch (\d+), perplexity \S+, time (\d+\.\d+) sec$", re.M)


def _epoch_times(text):
    times = [float(t) for _, t in _EPOCH.findall(text)]
    if len(times) < 2:
        raise RuntimeError("expected per-epoch lines in the output, got:\n" + text[-2000:])
    return times[1:]


def _chars_per_epoch(num_chars, batch_size, num_steps):
    # Consecutive sampling: the epoch's offset changes the batch count by at
    # most one, so take the count of the longest cut (offset 0).
    batches = (num_chars // batch_size - 1) // num_steps
    return batches * batch_size * num_steps


def _train_here(settings):
    from mxnet import cpu
    from mxnet.gluon import rnn

    import d2l_rnn as d2l

    d2l.set_seed(0)
    corpus_indices, char_to_idx, idx_to_char, vocab_size = \
        d2l.load_data_time_machine(num_chars=settings["num_chars"])
    model = d2l.RNNModel(rnn.RNN(settings["num_hiddens"]), vocab_size)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        d2l.train_and_predict_rnn_gluon(
            model, settings["num_hiddens"], vocab_size, cpu(), corpus_indices,
            idx_to_char, char_to_idx, settings["num_epochs"], settings["num_steps"],
            settings["lr"], settings["clipping_theta"], settings["batch_size"], 1,
            settings["pred_len"], settings["prefixes"])
    return out.getvalue()


def _one_process(settings):
    # In a child: the thread count must be set before MXNet is imported.
    env = dict(os.environ, OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, __file__, "--one-process", json.dumps(settings)],
                         env=env, capture_output=True, text=True, timeout=1800, check=True)
    return run.stdout


def _job(settings, num_workers, workdir):
    from d2l_rnn.distributed.local import LocalJob

    job_file = Path(workdir) / ("job-%d.json" % num_workers)
    job_file.write_text(json.dumps(dict(settings, kvstore="dist_sync", pred_period=1)))
    logs = Path(workdir) / ("logs-%d" % num_workers)
    command = [sys.executable, "-m", "d2l_rnn.distributed.job", str(job_file)]
    with LocalJob(command, num_workers, timeout=1800, log_dir=logs) as job:
        paths = job.wait()
    return paths[0].read_text()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-epochs", type=int, default=6)
    parser.add_argument("--num-chars", type=int, default=40000)
    parser.add_argument("--num-hiddens", type=int, default=256)
    parser.add_argument("--one-process", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_process:
        print(_train_here(json.loads(args.one_process)))
        return 0
    settings = {"num_epochs": args.num_epochs, "num_chars": args.num_chars,
                "num_hiddens": args.num_hiddens, "num_steps": 35, "batch_size": 32,
                "lr": 100.0, "clipping_theta": 0.01, "pred_len": 1, "prefixes": ["t"]}
    chars = _chars_per_epoch(args.num_chars, 32, 35)
    rows = []
    with tempfile.TemporaryDirectory(prefix="d2l_rnn-bench-") as workdir:
        for name, run in [("1 process, no kvstore", lambda: _one_process(settings)),
                          ("dist_sync, 1 worker", lambda: _job(settings, 1, workdir)),
                          ("dist_sync, 2 workers", lambda: _job(settings, 2, workdir))]:
            seconds = statistics.median(_epoch_times(run()))
            rows.append((name, seconds, chars / seconds))
    print("| setup (global batch 32 x 35, %d hidden units, %d chars) | s/epoch | chars/s |"
          % (args.num_hiddens, args.num_chars))
    print("| --- | ---: | ---: |")
    for name, seconds, rate in rows:
        print("| %s | %.2f | %.0f |" % (name, seconds, rate))
    print("2 workers vs 1 worker: %.2fx" % (rows[2][2] / rows[1][2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
