"""The benchmark's rows as a reader sees them: their names, the machine, the table."""

import contextlib
import datetime
import importlib.metadata
import os
import platform

from d2l_rnn._compat import import_mxnet

__all__ = ["ROWS", "LABELS", "TOLERANCE", "machine_summary", "report_label", "format_table",
           "solo_check"]

ROWS = ("scratch", "chapter", "shipped", "torch", "floor")
LABELS = {
    "scratch": "1. from scratch (6.5): `train_and_predict_rnn`",
    "chapter": "2. chapter 6.6 loop as printed (baseline)",
    "shipped": "3. `d2l_rnn.train_and_predict_rnn_gluon`",
    "torch": "4. PyTorch `nn.RNN`, same loop",
    "floor": "5. floor: model forward+backward x batches",
}


def machine_summary():
    """One line: date, CPU model, core count, load average, library versions."""
    model = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.startswith("model name")), model)
    mx = import_mxnet()
    versions = "MXNet %s" % mx.__version__
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        versions += ", PyTorch %s" % importlib.metadata.version("torch")
    threads = ", ".join("%s=%s" % (k, os.environ[k]) for k in sorted(os.environ)
                        if k.startswith(("OMP_", "MXNET_")))
    return ("%s; %s, %d cores; load average %.2f %.2f %.2f; Python %s, %s%s"
            % (datetime.date.today().isoformat(), model, os.cpu_count(),
               *os.getloadavg(), platform.python_version(), versions,
               "; " + threads if threads else ""))


# How far a row's interleaved s/epoch may be from the same row's run alone.
TOLERANCE = 0.10


def mean(seconds):
    return sum(seconds) / len(seconds)


def report_label(name, result):
    """The row's label; the torch row's says how many threads it used."""
    if name == "torch" and result.threads:
        return "%s (%d thread%s)" % (LABELS[name], result.threads, "s"[:result.threads > 1])
    return LABELS[name]


def _solo_cells(name, results, alone, tolerance):
    if alone is None or name not in alone:
        return []
    together, solo = mean(results[name].seconds), mean(alone[name].seconds)
    ratio = together / solo
    return ["%.4f" % solo, "%.2f%s" % (ratio, "" if abs(ratio - 1) <= tolerance else " (!)")]


def format_table(results, alone=None, tolerance=TOLERANCE):
    """Return the Markdown table of ``{name: Result}`` (row 2 and the floor optional).

    With ``alone`` (the same rows, each run alone), two more columns give
    each row's s/epoch alone and its figure in turns over it, and a last
    line says whether every row is within ``tolerance`` of itself alone.
    """
    def ratio(value, base):
        return " (%.2fx)" % (value / base) if base else ""

    base = results.get("chapter")
    floor = results.get("floor")
    head = ["row", "s/epoch (x row 2)", "total s (x row 2)", "perplexity, last epoch (x row 2)",
            "s/epoch x floor"] + (["s/epoch alone", "in turns / alone"] if alone else [])
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name in ROWS:
        if name not in results:
            continue
        r = results[name]
        per_epoch = mean(r.seconds)
        cells = [report_label(name, r),
                 "%.4f%s" % (per_epoch, ratio(per_epoch, base and mean(base.seconds))),
                 "%.1f%s" % (r.total, ratio(r.total, base and base.total)),
                 "n/a" if r.perplexity is None else "%.3f%s" % (
                     r.perplexity[-1], ratio(r.perplexity[-1], base and base.perplexity[-1])),
                 "%.2f" % (per_epoch / mean(floor.seconds)) if floor else "n/a"]
        lines.append("| " + " | ".join(cells + _solo_cells(name, results, alone, tolerance))
                     + " |")
    if alone:
        off = solo_check(results, alone, tolerance)
        lines.append("")
        lines.append("Every row ran within %.0f %% of itself alone: the turns were fair."
                     % (100 * tolerance) if not off else
                     "%d of %d rows ran more than %.0f %% off themselves alone (!): their "
                     "ratios are not reliable." % (len(off), len(results), 100 * tolerance))
    return "\n".join(lines)


def solo_check(interleaved, alone, tolerance=TOLERANCE):
    """Compare each row's s/epoch interleaved with the same row run alone.

    Returns
    -------
    list of str
        One warning line per row whose interleaved figure is more than
        ``tolerance`` away from its figure alone.
    """
    warnings = []
    for name in ROWS:
        if name not in interleaved or name not in alone:
            continue
        together, solo = mean(interleaved[name].seconds), mean(alone[name].seconds)
        if abs(together / solo - 1) > tolerance:
            warnings.append(
                "warning: %s: %.4f s/epoch interleaved is %+.0f%% off its %.4f s/epoch alone "
                "(more than %.0f%%): the machine's load changed during the run, or the rows "
                "slow each other down; this row's ratios above are not reliable"
                % (LABELS[name], together, 100 * (together / solo - 1), solo, 100 * tolerance))
    return warnings


def load_average():
    """``uptime``'s three load averages, as the benchmark tables' headers print them."""
    return "load average %.2f %.2f %.2f" % os.getloadavg()
