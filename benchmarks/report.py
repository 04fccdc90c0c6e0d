"""The benchmark's rows as a reader sees them: their names, the machine, the table."""

import contextlib
import datetime
import importlib.metadata
import os
import platform

from d2l_rnn._compat import import_mxnet

__all__ = ["ROWS", "LABELS", "machine_summary", "format_table"]

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


def format_table(results):
    """Return the Markdown table of ``{name: Result}`` (row 2 and the floor optional)."""
    def mean(seconds):
        return sum(seconds) / len(seconds)

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


