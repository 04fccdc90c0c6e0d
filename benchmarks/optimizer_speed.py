"""``python -m benchmarks.optimizer_speed``: an epoch's time with SGD, Adam and RMSprop.

The chapter's model and data (RNN(256), 10,000 characters, batch 32, 35
steps, :func:`d2l_rnn.training.make_epoch`) trained with each optimizer of
``d2l-rnn train --optimizer``, each in a process of its own (MXNet with 2
OpenMP threads), the three taking turns epoch by epoch
(:mod:`benchmarks.budget_turns`), so every optimizer meets the same load.
An epoch is timed until MXNet's engine is idle. The issue's target: Adam's
and RMSprop's epochs at most 1.1 times SGD's (the update is not where the
time goes). The table gives the median of the epochs after the first two
(warm-up) and their 10th percentile: on a machine shared with other work
the median moves with the neighbours' load, the fast epochs much less.
"""

import argparse
import json
import os
import statistics
import sys
import time

from .budget_turns import Turn, child_command, child_env, run_in_turns
from .report import machine_summary

__all__ = ["OPTIMIZERS", "format_speed", "main"]

OPTIMIZERS = ("sgd", "adam", "rmsprop")
_WARMUP = 2


def _child(spec):
    import mxnet as mx

    import d2l_rnn
    from d2l_rnn.model import build_model
    from d2l_rnn.settings import TrainSettings
    from d2l_rnn.training import make_epoch
    s = TrainSettings(optimizer=spec["optimizer"])
    corpus, _, _, vocab_size = d2l_rnn.load_data_time_machine(num_chars=s.num_chars)
    d2l_rnn.set_seed(0)
    model = build_model(s.cell, s.num_hiddens, s.num_layers, vocab_size)
    model.initialize(ctx=mx.cpu(), init=mx.init.Normal(0.01))
    model.hybridize(static_alloc=True)
    epoch = make_epoch(model, s.lr, corpus, s.batch_size, s.num_steps, s.clipping_theta,
                       mx.cpu(), optimizer=s.optimizer)
    turn, seconds = Turn(float("inf"), 0.0, sync=mx.nd.waitall), []
    turn.ready()
    for _ in range(spec["epochs"]):
        start = time.time()
        epoch()
        mx.nd.waitall()
        seconds.append(time.time() - start)
        turn.check()  # a slice of 0: pass the turn after every epoch
    Turn.result({"seconds": seconds})


def format_speed(results):
    """A Markdown table of each optimizer's epoch times and their ratio to SGD's."""
    def stats(name):
        times = sorted(results[name]["seconds"][_WARMUP:])
        return statistics.median(times), times[len(times) // 10]
    sgd = stats("sgd")
    lines = ["| optimizer | median s/epoch | 10th percentile | median / SGD | "
             "10th percentile / SGD |", "| --- | --- | --- | --- | --- |"]
    for name in results:
        median, fast = stats(name)
        lines.append("| %s | %.4f | %.4f | %.2f | %.2f |" % (name, median, fast,
                                                            median / sgd[0], fast / sgd[1]))
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        _child(json.loads(argv[1]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks.optimizer_speed",
                                     description=__doc__)
    parser.add_argument("--epochs", type=int, default=60, help="epochs each (default: 60)")
    args = parser.parse_args(argv)
    print("%s; before: load average %.2f %.2f %.2f" % ((machine_summary(),) + os.getloadavg()))
    rows = []
    for name in OPTIMIZERS:
        command = child_command("optimizer_speed", dict(optimizer=name, epochs=args.epochs))
        rows.append((name, command[:3] + ["child"] + command[3:], child_env(2)))
    results = run_in_turns(rows)
    print("after: load average %.2f %.2f %.2f\n" % os.getloadavg())
    print(format_speed(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
