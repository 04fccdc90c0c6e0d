"""``python -m benchmarks.run_path``: is the training run as fast as the chapter's function?

The training run (:class:`d2l_rnn.TrainingRun`, what ``d2l-rnn train`` uses) waits
for batch ``i - 1`` after issuing batch ``i`` so that a stop takes effect within a
batch; the chapter's ``train_and_predict_rnn_gluon`` never waits inside an epoch.
This times both on the chapter's model and settings (no validation, no saves),
each in a fresh process, in turns, and prints the median seconds per epoch:
the time between two epochs' printed lines (a one-character sample each), the
first epoch left out (it builds the cached graph).

``--old-source DIR`` adds the run path of another checkout of d2l_rnn (e.g.
``git archive`` of an older commit unpacked into DIR), run with ``PYTHONPATH=DIR``:
before issue #19 the run lived in ``d2l_rnn.cli.run`` with a ``run()`` method.
"""

import argparse
import os
import statistics
import subprocess
import sys

# One variant in this process: print the time at which each epoch's line was written.
_CHILD = r"""
import sys, time
import mxnet as mx
import d2l_rnn as d2l
from d2l_rnn.settings import TrainSettings, load_text
variant, epochs = sys.argv[1], int(sys.argv[2])
s = TrainSettings(num_epochs=epochs, pred_period=1, pred_len=1, prefixes=("t",))
stamps = []
def write(line):
    if line.startswith("epoch "):
        stamps.append(time.perf_counter())
if variant == "chapter":
    from mxnet.gluon import rnn
    import d2l_rnn.loop as loop
    d2l.set_seed(s.seed)
    corpus, c2i, i2c, v = d2l.load_data_time_machine(num_chars=s.num_chars)
    printed = loop.print_progress
    d2l.training.print_progress = lambda p, q, r, w=print: printed(p, q, r, write)
    d2l.train_and_predict_rnn_gluon(d2l.RNNModel(rnn.RNN(s.num_hiddens), v), s.num_hiddens,
                                    v, mx.cpu(), corpus, i2c, c2i, **s.chapter_args())
else:
    try:
        from d2l_rnn.run import TrainingRun
        TrainingRun(s, mx.cpu(), load_text(s)).fit(progress=False, handle_signals=False,
                                                   write=write)
    except ImportError:  # before issue #19
        from d2l_rnn.cli.run import TrainingRun
        TrainingRun(s, mx.cpu(), load_text(s)).run(progress=False, write=write)
print(" ".join(repr(t) for t in stamps))
"""


def _epoch_seconds(variant, epochs, source=None):
    env = dict(os.environ)
    if source:
        env["PYTHONPATH"] = source
    out = subprocess.run([sys.executable, "-c", _CHILD, variant, str(epochs)], env=env,
                         capture_output=True, text=True, check=True).stdout
    stamps = [float(t) for t in out.split()]
    assert len(stamps) == epochs, out
    return [b - a for a, b in zip(stamps, stamps[1:])]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--old-source", metavar="DIR")
    args = parser.parse_args(argv)
    variants = [("chapter's function", "chapter", None), ("training run", "run", None)]
    if args.old_source:
        variants.append(("training run, %s" % args.old_source, "run", args.old_source))
    times = {label: [] for label, _, _ in variants}
    for _ in range(args.rounds):  # in turns, so that every variant meets the same load
        for label, variant, source in variants:
            times[label] += _epoch_seconds(variant, args.epochs, source)
    print("| path | median s/epoch | epochs timed |\n| --- | --- | --- |")
    for label, values in times.items():
        print("| %s | %.4f | %d |" % (label, statistics.median(values), len(values)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
