"""The perplexity curve of a run (training and validation), as an image file.

matplotlib is optional: it is imported only here, and only when asked for.
The figure is drawn on matplotlib's Agg canvas directly rather than through
``pyplot``, so no global backend or figure state is touched in the caller.
"""

import math
import tempfile
from pathlib import Path

from .._util.files import replace_atomically

__all__ = ["PLOT_SUFFIXES", "check_plot_path", "plot_perplexity"]

PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import FormatStrFormatter
    except ImportError:
        raise ValueError("plotting needs matplotlib, which is not installed; install it "
                         "with `pip install matplotlib` (or the d2l_rnn[plot] extra)") from None
    return Figure, FigureCanvasAgg, FormatStrFormatter


def check_plot_path(path):
    """Raise ValueError unless a plot can be written to ``path``; return it as a Path.

    Checked before training so a long run does not end in an error: matplotlib
    must import, the suffix must be one of :data:`PLOT_SUFFIXES` and the
    folder must exist and take a new file.
    """
    path = Path(path)
    _matplotlib()
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise ValueError("plot file %s must end in %s" % (path, ", ".join(PLOT_SUFFIXES)))
    if not path.parent.is_dir():
        raise ValueError("cannot write the plot %s: folder %s does not exist"
                         % (path, path.parent))
    if path.is_dir():
        raise ValueError("cannot write the plot %s: it is a directory" % path)
    try:
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as err:
        raise ValueError("cannot write the plot %s: %s" % (path, err.strerror or err)) from None
    return path


def plot_perplexity(history, val_history, path):
    """Draw perplexity per epoch (log scale) and write it to ``path`` atomically.

    Parameters
    ----------
    history : sequence of float
        Training perplexity of epochs 1, 2, ...
    val_history : sequence of float
        Validation perplexity per epoch, or empty.
    path : str or os.PathLike
        Image file; the format follows the suffix.

    Raises
    ------
    ValueError
        If no training perplexity is finite: there would be nothing to see.
    """
    if not any(math.isfinite(p) for p in history):
        raise ValueError("nothing to draw: no epoch has a finite training perplexity")
    Figure, FigureCanvasAgg, FormatStrFormatter = _matplotlib()
    figure = Figure(figsize=(6, 4))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    epochs = range(1, len(history) + 1)
    axes.plot(epochs, history, label="training")
    if len(val_history):
        axes.plot(range(1, len(val_history) + 1), val_history, label="validation")
    axes.set_xlabel("epoch")
    axes.set_ylabel("perplexity")
    axes.set_yscale("log")
    # Plain numbers on the log axis: "10^0, 10^1" alone say little about 1.3 vs 4.
    axes.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    axes.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    replace_atomically(path, figure.savefig)
