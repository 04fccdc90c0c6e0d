"""``python -m benchmarks.speed``: chapter 6.6's exercise, answered with numbers.

Trains the chapter's character model with the chapter's hyperparameters in
one process and prints a Markdown table: seconds per epoch, total seconds
and last-epoch perplexity, each also as a ratio to row 2 (the chapter's loop
as printed), and seconds per epoch as a ratio to the floor (the model's own
forward and backward passes).

By default the rows take turns epoch by epoch (:mod:`benchmarks.turns`), so
that on a shared machine every row meets the same load; ``--sequential``
runs them one after the other instead. Either way each row's chapter lines
are printed as one block. After an interleaved run each row runs again
alone (``--solo-epochs``), and a second table compares the two figures,
with a warning for any row more than 10 % apart: turns are only fair if a
row runs as fast in turn as on its own.

Rows: ``scratch`` (chapter 6.5's model, :func:`d2l_rnn.train_and_predict_rnn`),
``chapter`` (6.6 as printed, :mod:`benchmarks.chapter_baseline`),
``shipped`` (:func:`d2l_rnn.train_and_predict_rnn_gluon`), ``torch`` (the same
model in PyTorch, :mod:`benchmarks.torch_rnn`) and ``floor``
(:mod:`benchmarks.floor`).
"""

import argparse
import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections import namedtuple
from pathlib import Path

import d2l_rnn
from d2l_rnn import scratch, training
from d2l_rnn._compat import import_mxnet
from d2l_rnn._util.checks import check_positive_int

from . import chapter_baseline, floor, thread_environment
from .chapter_baseline import ChapterRNNModel, chapter_train_and_predict_rnn_gluon
from .common import CHAPTER, epoch_timer
from .floor import model_floor
from .report import LABELS, ROWS, format_table, machine_summary, solo_check
from .torch_process import run_process
from .turns import ThreadOutput, Turns

__all__ = ["ROWS", "LABELS", "CHAPTER", "Result", "epoch_timer", "run_row", "run_rows",
           "machine_summary", "format_table", "run_alone", "main"]

# seconds: per epoch, training only; total: the whole call, including
# initialisation and the predictions printed every pred_period epochs.
Result = namedtuple("Result", "seconds total perplexity")

# The per-epoch function each row's training function calls, as (module,
# attribute): wrapping it times every epoch the same way in every row.
EPOCH_FUNCTIONS = {
    "scratch": (scratch, "run_epoch"),
    "chapter": (chapter_baseline, "chapter_train_epoch"),
    "shipped": (training, "run_epoch"),
    "floor": (floor, "floor_epoch"),
}  # the torch row times its epochs in its own process (benchmarks.torch_process)


def _scratch(data, num_epochs, ctx):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = data
    c = CHAPTER
    get_params = d2l_rnn.make_get_params(vocab_size, c["num_hiddens"], vocab_size, ctx)
    return d2l_rnn.train_and_predict_rnn(
        d2l_rnn.rnn, get_params, d2l_rnn.init_rnn_state, c["num_hiddens"], vocab_size,
        ctx, corpus_indices, idx_to_char, char_to_idx, False, num_epochs,
        c["num_steps"], c["lr"], c["clipping_theta"], c["batch_size"],
        c["pred_period"], c["pred_len"], c["prefixes"])


def _gluon_args(data, num_epochs, ctx):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = data
    c = CHAPTER
    return (c["num_hiddens"], vocab_size, ctx, corpus_indices, idx_to_char, char_to_idx,
            num_epochs, c["num_steps"], c["lr"], c["clipping_theta"], c["batch_size"],
            c["pred_period"], c["pred_len"], c["prefixes"])


def _chapter(data, num_epochs, ctx):
    rnn = import_mxnet().gluon.rnn
    model = ChapterRNNModel(rnn.RNN(CHAPTER["num_hiddens"]), data[3])
    return chapter_train_and_predict_rnn_gluon(model, *_gluon_args(data, num_epochs, ctx))


def _shipped(data, num_epochs, ctx):
    rnn = import_mxnet().gluon.rnn
    model = d2l_rnn.RNNModel(rnn.RNN(CHAPTER["num_hiddens"]), data[3])
    return d2l_rnn.train_and_predict_rnn_gluon(model, *_gluon_args(data, num_epochs, ctx))


def _floor(data, num_epochs, ctx):
    rnn = import_mxnet().gluon.rnn
    model_floor(lambda: rnn.RNN(CHAPTER["num_hiddens"]), data[0], data[3], num_epochs,
                CHAPTER["num_steps"], CHAPTER["batch_size"], ctx)
    return None  # no training, no perplexity


_RUNNERS = {"scratch": _scratch, "chapter": _chapter, "shipped": _shipped, "floor": _floor}


def run_row(name, num_epochs, seed=0, data=None, ctx=None, turns=None, torch_threads=0):
    """Train (or time) one row; return its :class:`Result`.

    ``perplexity`` is the per-epoch list (None for the floor row). With
    ``turns`` (a :class:`~benchmarks.turns.Turns` naming this row), the row
    hands the turn on at the start of each epoch; epochs that print the
    chapter's lines keep it, so the time in those lines is their own. Time
    spent waiting for the turn counts in neither ``seconds`` nor ``total``.
    ``torch_threads`` > 0 sets PyTorch's thread count for the torch row.
    """
    if name not in ROWS:
        raise ValueError("unknown row %r; choose from %s" % (name, ", ".join(ROWS)))
    check_positive_int("num_epochs", num_epochs)
    data = data if data is not None else d2l_rnn.load_data_time_machine()
    ctx = ctx if ctx is not None else d2l_rnn.try_gpu()
    before = None
    if turns is not None:
        def before(epoch):
            if epoch % CHAPTER["pred_period"]:
                turns.pass_on(name)
    if name == "torch":
        perplexity, seconds, total = run_process(num_epochs, seed, before, torch_threads)
        return Result(seconds, total, perplexity)
    waited = turns.waited[name] if turns is not None else 0.0
    d2l_rnn.set_seed(seed)
    start = time.time()
    with epoch_timer(*EPOCH_FUNCTIONS[name], before=before) as seconds:
        perplexity = _RUNNERS[name](data, num_epochs, ctx)
    import_mxnet().nd.waitall()
    total = time.time() - start
    if turns is not None:
        total -= turns.waited[name] - waited
    return Result(seconds, total, perplexity)


def _run_interleaved(rows, num_epochs, seed, data, ctx, log, torch_threads):
    turns, output = Turns(rows), ThreadOutput(sys.stdout)
    results, errors, idents = {}, {}, {}

    def work(name):
        output.register()
        idents[name] = threading.get_ident()
        turns.begin(name)
        try:
            results[name] = run_row(name, num_epochs, seed, data, ctx, turns, torch_threads)
        except BaseException as err:  # re-raised in the main thread below
            errors[name] = err
        finally:
            turns.done(name)

    threads = [threading.Thread(target=work, args=(name,), name="row-" + name, daemon=True)
               for name in rows]
    real_stdout, sys.stdout = sys.stdout, output
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.stdout = real_stdout
    for name in rows:
        log("\n## %s (%d epochs, interleaved)" % (LABELS[name], num_epochs))
        print(output.take(idents[name]), end="")
    for name in rows:
        if name in errors:
            raise RuntimeError("row %r failed: %r" % (name, errors[name])) from errors[name]
    return results


def run_rows(rows=ROWS, num_epochs=200, seed=0, log=print, interleave=True, torch_threads=0):
    """Run the rows; return ``{name: Result}``. ``log`` gets a header line per row.

    With ``interleave`` the rows take turns epoch by epoch (see
    :mod:`benchmarks.turns`); otherwise they run one after the other.
    """
    data, ctx = d2l_rnn.load_data_time_machine(), d2l_rnn.try_gpu()
    if interleave:
        return _run_interleaved(list(rows), num_epochs, seed, data, ctx, log, torch_threads)
    results = {}
    for name in rows:
        log("\n## %s (%d epochs)" % (LABELS[name], num_epochs))
        results[name] = run_row(name, num_epochs, seed, data, ctx, torch_threads=torch_threads)
    return results


def run_alone(rows, num_epochs, seed=0, torch_threads=0):
    """Run each row alone, one after the other, each in a fresh process; return results.

    A fresh process each: MXNet work that runs in a process after other rows'
    epochs was seen to slow down (to about the speed of MXNet's shared-pool
    engine), which would make a row's figure alone depend on what ran
    before it. In the child the row runs in a thread of its own, as in turns
    (MXNet's import leaves the main thread one OpenMP thread).
    """
    root = Path(__file__).resolve().parent.parent
    results = {}
    for name in rows:
        command = [sys.executable, "-m", "benchmarks.speed", "--alone", name, "--epochs",
                   str(num_epochs), "--seed", str(seed), "--torch-threads", str(torch_threads)]
        out = subprocess.run(command, cwd=root, env=thread_environment(), capture_output=True,
                             text=True, check=True).stdout
        fields = json.loads(out.rsplit("@@ result ", 1)[1])
        results[name] = Result(fields["seconds"], fields["total"], fields["perplexity"])
    return results


def _run_alone_here(name, num_epochs, seed, torch_threads):
    """The child's side of :func:`run_alone`: one row, its result as the last line."""
    data, ctx = d2l_rnn.load_data_time_machine(), d2l_rnn.try_gpu()
    with contextlib.redirect_stdout(io.StringIO()):
        result = _run_interleaved([name], num_epochs, seed, data, ctx, lambda line: None,
                                  torch_threads)[name]
    print("@@ result " + json.dumps(result._asdict()))


def _print_solo_check(results, rows, args):
    epochs = args.epochs if args.solo_epochs is None else args.solo_epochs
    print("\n## Each row alone, %d epochs, one after the other (its lines not shown)\n" % epochs)
    alone = run_alone(rows, epochs, args.seed, args.torch_threads)
    table, warnings = solo_check(results, alone)
    print(table)
    print("after: load average %.2f %.2f %.2f" % os.getloadavg())
    for line in warnings:
        print(line)


def main(argv=None):
    """Parse the command line, run the rows, print the table; return 0."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=200,
                        help="epochs per row (default: 200, the chapter's)")
    parser.add_argument("--rows", default=None,
                        help="comma-separated subset of %s (default: all; the torch row only "
                             "if PyTorch is installed)" % ",".join(ROWS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="PyTorch's thread count for the torch row (default: PyTorch's "
                             "own choice, the core count)")
    parser.add_argument("--solo-epochs", type=int, default=None,
                        help="after the interleaved table, run each row alone for this many "
                             "epochs and compare (default: --epochs; 0: skip)")
    parser.add_argument("--alone", choices=ROWS, help=argparse.SUPPRESS)
    parser.add_argument("--sequential", action="store_true",
                        help="run the rows one after the other instead of epoch by epoch "
                             "in turn")
    args = parser.parse_args(argv)
    if args.alone:
        _run_alone_here(args.alone, args.epochs, args.seed, args.torch_threads)
        return 0
    has_torch = importlib.util.find_spec("torch") is not None
    if args.rows is None:
        rows = [r for r in ROWS if r != "torch" or has_torch]
        if not has_torch:
            print("PyTorch is not installed: the torch row is left out "
                  "(`pip install '.[bench]'` on Python 3.11 adds it)")
    else:
        rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = [r for r in rows if r not in ROWS]
    if unknown or not rows:
        parser.error("--rows: unknown %s; choose from %s" % (unknown, ",".join(ROWS)))
    if args.epochs < 1:
        parser.error("--epochs must be a positive integer, got %d" % args.epochs)
    if args.solo_epochs is not None and args.solo_epochs < 0:
        parser.error("--solo-epochs must be >= 0 (0: no solo runs), got %d" % args.solo_epochs)
    if args.torch_threads < 0:
        parser.error("--torch-threads must be >= 0 (0: PyTorch's default), got %d"
                     % args.torch_threads)
    if "torch" in rows and not has_torch:
        parser.error("the torch row needs PyTorch: `pip install '.[bench]'` (torch==2.13.0, "
                     "the CPU build), or leave it out with --rows")
    before = machine_summary()
    results = run_rows(rows, args.epochs, args.seed, interleave=not args.sequential,
                       torch_threads=args.torch_threads)
    print("\n%s; rows %s" % (before, "one after the other" if args.sequential
                              else "interleaved epoch by epoch"))
    print("after: load average %.2f %.2f %.2f\n" % os.getloadavg())
    print(format_table(results))
    if not args.sequential and args.solo_epochs != 0:
        _print_solo_check(results, rows, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
