"""``python -m benchmarks.speed``: chapter 6.6's exercise, answered with numbers.

Trains the chapter's character model with the chapter's hyperparameters,
once per row (:mod:`benchmarks.rows`), and prints a Markdown table: seconds
per epoch, total seconds and last-epoch perplexity, each also as a ratio to
row 2 (the chapter's loop as printed), and seconds per epoch as a ratio to
the floor (the model's own forward and backward passes).

Every row trains in a process of its own (:mod:`benchmarks.row_process`),
so no two rows share MXNet's engine. The rows take turns, :data:`TURN_EPOCHS`
epochs at a time (:mod:`benchmarks.turns`), so that on a shared machine every
row meets the same load (``--sequential``: one after the other). Not one
epoch at a time: an epoch that starts right after another process had the
cores runs slower than one that follows the row's own epoch (caches and idle
cores gone cold: 10 ms, 20 %, for the chapter's loop here), so epoch-by-epoch
turns measured every row's cold epoch. Each row's lines print as one block.
The PyTorch row runs on one and on two threads; the faster is reported.

Then each row runs again alone (``--solo-epochs``), in a fresh process, and
the table shows its figure alone beside its figure in turns, and says
whether every row is within 10 % of itself alone: turns are only fair if so.
"""

import argparse
import contextlib
import importlib.util
import io
import os
import sys
import threading
from collections import namedtuple

from d2l_rnn._util.checks import check_positive_int

from .common import CHAPTER, epoch_timer
from .report import LABELS, ROWS, format_table, machine_summary, report_label, solo_check
from .row_process import run_process
from .turns import ThreadOutput, Turns

__all__ = ["ROWS", "LABELS", "CHAPTER", "TORCH_THREADS", "TURN_EPOCHS", "Result", "epoch_timer",
           "run_row", "run_rows", "run_alone", "machine_summary", "format_table", "main"]

# seconds: per epoch, training only; total: the whole call, including
# initialisation and the predictions printed every pred_period epochs;
# threads: PyTorch's thread count (None for the MXNet rows).
Result = namedtuple("Result", "seconds total perplexity threads", defaults=(None,))

# The PyTorch row is measured at each of these thread counts; the faster is reported.
TORCH_THREADS = (1, 2)
# Epochs a row trains in one turn (see the module docstring).
TURN_EPOCHS = 5


def run_row(name, num_epochs, seed=0, turns=None, torch_threads=0, pred_period=None,
            turn_epochs=TURN_EPOCHS):
    """Train (or time) one row in a process of its own; return its :class:`Result`.

    ``perplexity`` is the per-epoch list (None for the floor row). With
    ``turns`` (a :class:`~benchmarks.turns.Turns` naming this row), the row
    hands the turn on at the start of every ``turn_epochs``-th epoch (1, 1 +
    ``turn_epochs``, ...); an epoch that prints the chapter's lines keeps it,
    so the time in those lines is their own. Time spent waiting for the turn
    counts in neither ``seconds`` nor ``total``. ``torch_threads`` > 0 sets
    PyTorch's thread count for the torch row.
    """
    if name not in ROWS:
        raise ValueError("unknown row %r; choose from %s" % (name, ", ".join(ROWS)))
    check_positive_int("num_epochs", num_epochs)
    period = pred_period or CHAPTER["pred_period"]
    before = None
    if turns is not None:
        def before(epoch):
            if epoch % period and (epoch - 1) % turn_epochs == 0:
                turns.pass_on(turns_key(name, torch_threads))
    perplexity, seconds, total, threads = run_process(name, num_epochs, seed, before,
                                                      torch_threads, pred_period)
    if name == "torch":
        print("(PyTorch used %d thread%s)" % (threads, "s"[:threads > 1]))
    return Result(seconds, total, perplexity, threads)


def turns_key(name, torch_threads):
    """The name a row (the torch row: at one thread count) takes turns under."""
    return "%s@%d" % (name, torch_threads) if name == "torch" else name


def _runs(rows, torch_threads):
    """``[(name, threads)]``: every row once, the torch row once per thread count."""
    counts = (torch_threads,) if torch_threads else TORCH_THREADS
    return [(name, t) for name in rows for t in (counts if name == "torch" else (0,))]


def _best(results):
    """``{name: Result}`` with the faster of the torch row's thread counts."""
    best = {}
    for (name, _), result in results.items():
        mean = sum(result.seconds) / len(result.seconds)
        if name not in best or mean < sum(best[name].seconds) / len(best[name].seconds):
            best[name] = result
    return best


def _run_interleaved(runs, num_epochs, seed, log, pred_period, turn_epochs):
    keys = [turns_key(*run) for run in runs]
    turns, output = Turns(keys), ThreadOutput(sys.stdout)
    results, errors, idents = {}, {}, {}

    def work(run, key):
        output.register()
        idents[run] = threading.get_ident()
        turns.begin(key)
        try:
            results[run] = run_row(run[0], num_epochs, seed, turns, run[1], pred_period,
                                   turn_epochs)
        except BaseException as err:  # re-raised in the main thread below
            errors[run] = err
        finally:
            turns.done(key)

    threads = [threading.Thread(target=work, args=(run, key), name="row-" + key, daemon=True)
               for run, key in zip(runs, keys)]
    real_stdout, sys.stdout = sys.stdout, output
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.stdout = real_stdout
    for run in runs:
        log("\n## %s (%d epochs, interleaved)" % (_title(*run), num_epochs))
        print(output.take(idents[run]), end="")
    for run in runs:
        if run in errors:
            raise RuntimeError("row %r failed: %r" % (run[0], errors[run])) from errors[run]
    return results


def _title(name, threads):
    return report_label(name, Result(None, None, None, threads if name == "torch" else None))


def run_rows(rows=ROWS, num_epochs=200, seed=0, log=print, interleave=True, torch_threads=0,
             pred_period=None, turn_epochs=TURN_EPOCHS):
    """Run the rows; return ``{name: Result}``. ``log`` gets a header line per row.

    With ``interleave`` the rows take turns, ``turn_epochs`` epochs each (see
    :mod:`benchmarks.turns`); otherwise they run one after the other. The
    torch row runs at each of :data:`TORCH_THREADS` (or at ``torch_threads``
    if > 0); the faster is returned.
    """
    runs = _runs(rows, torch_threads)
    if interleave:
        return _best(_run_interleaved(runs, num_epochs, seed, log, pred_period, turn_epochs))
    results = {}
    for run in runs:
        log("\n## %s (%d epochs)" % (_title(*run), num_epochs))
        results[run] = run_row(run[0], num_epochs, seed, None, run[1], pred_period)
    return _best(results)


def run_alone(results, num_epochs, seed=0):
    """Run each row of ``results`` again alone, in a fresh process, one after the other.

    The torch row runs at the thread count it was reported with. The chapter's
    lines are not printed. Returns ``{name: Result}``.
    """
    with contextlib.redirect_stdout(io.StringIO()):
        return {name: run_row(name, num_epochs, seed, torch_threads=result.threads or 0)
                for name, result in results.items()}


def _parser():
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=200,
                        help="epochs per row (default: 200, the chapter's)")
    parser.add_argument("--rows", default=None,
                        help="comma-separated subset of %s (default: all; the torch row only "
                             "if PyTorch is installed)" % ",".join(ROWS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="PyTorch's thread count for the torch row (default: 0, measure "
                             "%s and report the faster)" % " and ".join(map(str, TORCH_THREADS)))
    parser.add_argument("--pred-period", type=int, default=None,
                        help="print the chapter's lines every N epochs (default: 50)")
    parser.add_argument("--turn-epochs", type=int, default=TURN_EPOCHS,
                        help="epochs a row trains in one turn (default: %d; 1: epoch by "
                             "epoch, which measures cold epochs)" % TURN_EPOCHS)
    parser.add_argument("--solo-epochs", type=int, default=None,
                        help="after the interleaved run, run each row alone for this many "
                             "epochs and compare (default: --epochs; 0: skip)")
    parser.add_argument("--sequential", action="store_true",
                        help="run the rows one after the other instead of epoch by epoch "
                             "in turn")
    return parser


def _rows(parser, args):
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
    for flag, value, low in (("--epochs", args.epochs, 1), ("--solo-epochs", args.solo_epochs,
                             0), ("--torch-threads", args.torch_threads, 0),
                             ("--pred-period", args.pred_period, 1),
                             ("--turn-epochs", args.turn_epochs, 1)):
        if value is not None and value < low:
            parser.error("%s must be %s, got %d" % (flag, "a positive integer" if low else
                                                    ">= 0", value))
    if "torch" in rows and not has_torch:
        parser.error("the torch row needs PyTorch: `pip install '.[bench]'` (torch==2.13.0, "
                     "the CPU build), or leave it out with --rows")
    return rows


def main(argv=None):
    """Parse the command line, run the rows, print the table; return 0."""
    parser = _parser()
    args = parser.parse_args(argv)
    rows = _rows(parser, args)
    before = machine_summary()
    results = run_rows(rows, args.epochs, args.seed, interleave=not args.sequential,
                       torch_threads=args.torch_threads, pred_period=args.pred_period,
                       turn_epochs=args.turn_epochs)
    alone, warnings = None, []
    epochs = args.epochs if args.solo_epochs is None else args.solo_epochs
    if not args.sequential and epochs:
        print("\n(each row again alone, %d epochs, one after the other, each in a fresh "
              "process; their lines not shown)" % epochs)
        alone = run_alone(results, epochs, args.seed)
        warnings = solo_check(results, alone)
    print("\n%s; rows %s" % (before, "one after the other" if args.sequential
                              else "interleaved, %d epochs a turn" % args.turn_epochs))
    print("after: load average %.2f %.2f %.2f\n" % os.getloadavg())
    print(format_table(results, alone))
    for line in warnings:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
