"""The benchmark's rows as a reader sees them: their names, the machine, the table."""

import contextlib
import datetime
import importlib.metadata
import os
import platform

from d2l_rnn._compat import import_mxnet

__all__ = ["ROWS", "LABELS", "TOLERANCE", "machine_summary", "format_table", "solo_check"]

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


def format_table(results):
    """Return the Markdown table of ``{name: Result}`` (row 2 and the floor optional)."""
    def ratio(value, base):
        return " (%.2fx)" % (value / base) if base else ""

    base = results.get("chapter")
    floor = results.get("floor")
    lines = ["| row | s/epoch (x row 2) | total s (x row 2) | perplexity, last epoch (x row 2) "
             "| s/epoch x floor |",
             "| --- | --- | --- | --- | --- |"]
    for name in ROWS:
        if name not in results:
            continue
        r = results[name]
        per_epoch = mean(r.seconds)
        cells = [LABELS[name],
                 "%.4f%s" % (per_epoch, ratio(per_epoch, base and mean(base.seconds))),
                 "%.1f%s" % (r.total, ratio(r.total, base and base.total)),
                 "n/a" if r.perplexity is None else "%.3f%s" % (
                     r.perplexity[-1], ratio(r.perplexity[-1], base and base.perplexity[-1])),
                 "%.2f" % (per_epoch / mean(floor.seconds)) if floor else "n/a"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def solo_check(interleaved, alone, tolerance=TOLERANCE):
    """Compare each row's s/epoch interleaved with the same row run alone.

    Returns
    -------
    (str, list of str)
        The Markdown table, and one warning line per row whose interleaved
        figure is more than ``tolerance`` away from its figure alone.
    """
    lines = ["| row | s/epoch interleaved | s/epoch alone | interleaved / alone |",
             "| --- | --- | --- | --- |"]
    warnings = []
    for name in ROWS:
        if name not in interleaved or name not in alone:
            continue
        together, solo = mean(interleaved[name].seconds), mean(alone[name].seconds)
        lines.append("| %s | %.4f | %.4f | %.2f |" % (LABELS[name], together, solo,
                                                      together / solo))
        if abs(together / solo - 1) > tolerance:
            warnings.append(
                "warning: %s: %.4f s/epoch interleaved is %+.0f%% off its %.4f s/epoch alone "
                "(more than %.0f%%): the machine's load changed during the run, or the rows "
                "slow each other down; this row's ratios above are not reliable"
                % (LABELS[name], together, 100 * (together / solo - 1), solo, 100 * tolerance))
    return "\n".join(lines), warnings
