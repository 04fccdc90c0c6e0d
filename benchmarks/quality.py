"""``python -m benchmarks.quality``: the best validation perplexity in equal wall-clock time.

On a text (by default the whole *Time Machine*, its last 5 % held out), each
trainer gets the same time of its own (``--budget``, 180 s) and the table
shows the best validation perplexity it reached: ``d2l-rnn train --data``
with no other flag (its recipe, :data:`d2l_rnn.settings.OWN_TEXT_DEFAULTS`),
and two PyTorch baselines (:mod:`benchmarks.torch_own_text`: char-rnn's
defaults, and Adam on the chapter's shape), each at 1 and 2 PyTorch threads.
The trainers run side by side in processes of their own, taking turns
(:mod:`benchmarks.budget_turns`), so the machine's load meets each alike.
MXNet runs with 2 OpenMP threads. The ratio column divides by the better
PyTorch figure (either recipe, either thread count); the issue's targets
are at most 0.9 on the *Time Machine* and the Chinese prose, at most 1.0
elsewhere.
"""

import argparse
import importlib.util
import math
import sys
from pathlib import Path

from .budget_turns import child_command, child_env, run_in_turns
from .report import load_average, machine_summary

__all__ = ["ROWS", "rows_for", "format_quality", "main"]

_ROOT = Path(__file__).resolve().parent.parent
ROWS = ("d2l-rnn --data", "char-rnn 1t", "char-rnn 2t", "adam-chapter 1t", "adam-chapter 2t")


def rows_for(data, budget, slice_seconds, names=ROWS, seed=0):
    """The ``(name, command, env)`` of each row, for :func:`run_in_turns`."""
    rows = []
    for name in names:
        spec = dict(data=str(data), budget=budget, slice=slice_seconds, seed=seed)
        if name == "d2l-rnn --data":
            rows.append((name, child_command("own_text_run", spec), child_env(2)))
        else:
            recipe, threads = name.split()
            spec.update(recipe=recipe, threads=int(threads[:-1]))
            rows.append((name, child_command("torch_own_text", spec), child_env(spec["threads"])))
    return rows


def format_quality(results):
    """A Markdown table of ``{row: result}`` with the ratio to the best PyTorch row."""
    torch_best = min((r["best"] for name, r in results.items() if name != "d2l-rnn --data"),
                     default=math.nan)
    lines = ["| trainer | best val. ppl | bits/char | ratio to best PyTorch | epochs | "
             "own seconds |", "| --- | --- | --- | --- | --- | --- |"]
    for name, r in results.items():
        lines.append("| %s | %.3f | %.3f | %.2f | %d | %.0f |" % (
            name, r["best"], math.log2(r["best"]), r["best"] / torch_best, r["epochs"],
            r["seconds"]))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__)
    parser.add_argument("--data", action="append", metavar="FILE",
                        help="a text (repeatable; default: the whole Time Machine)")
    parser.add_argument("--budget", type=float, default=180.0, metavar="S",
                        help="own seconds per trainer (default: 180)")
    parser.add_argument("--slice", type=float, default=5.0, metavar="S",
                        help="seconds a trainer runs before passing the turn (default: 5)")
    parser.add_argument("--rows", nargs="+", choices=ROWS, default=list(ROWS))
    args = parser.parse_args(argv)
    if importlib.util.find_spec("torch") is None:
        print("PyTorch is not installed (`pip install '.[bench]'`, Python 3.11): the PyTorch "
              "rows are left out")
        args.rows = [r for r in args.rows if r == "d2l-rnn --data"]
    for data in args.data or [str(_ROOT / "data" / "timemachine.txt")]:
        print("## %s, %g s each\n\n%s; before: %s" % (Path(data).name, args.budget,
                                                      machine_summary(), load_average()))
        sys.stdout.flush()
        results = run_in_turns(rows_for(data, args.budget, args.slice, args.rows))
        print("after: %s\n" % load_average())
        print(format_quality(results) + "\n")
        recipe = results.get("d2l-rnn --data")
        if recipe is not None:
            print("d2l-rnn's settings: %s; stopped by: %s\n" % (
                ", ".join("%s=%s" % kv for kv in sorted(recipe["settings"].items())
                          if kv[0] not in ("data",)), recipe["stopped"]))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
