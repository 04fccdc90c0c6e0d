"""The metrics file of a training run: one CSV row per epoch, never lost, never twice.

:class:`CsvLog` writes one row per epoch, flushed to disk as soon as the
epoch ends; a resumed run first drops the rows after its checkpoint's
epoch (the epochs it trains again), so no epoch appears twice or is lost.
:func:`check_log_path` refuses a path before training starts.
"""

import csv
import io
import os
from pathlib import Path

from .._util.files import replace_atomically, write_bytes

__all__ = ["CsvLog", "LOG_FIELDS", "check_log_path"]

LOG_FIELDS = ("epoch", "perplexity", "val_perplexity", "lr", "grad_norm", "seconds")


def _header():
    return ",".join(LOG_FIELDS) + "\n"


def check_log_path(path):
    """Raise ValueError unless a log can be written to ``path``; return it as a Path.

    Refuses anything but a ``.csv`` file in an existing folder, and an
    existing file that is not a log this package wrote (never clobber data).
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise ValueError("log file %s must end in .csv" % path)
    if path.is_dir():
        raise ValueError("log file %s is a directory" % path)
    if not path.parent.is_dir():
        raise ValueError("cannot write the log %s: folder %s does not exist"
                         % (path, path.parent))
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError("cannot write the log %s: permission denied" % path)
    if path.exists():
        with open(path, "rb") as f:
            first = f.readline()
        if first and first.decode("utf-8", "replace") != _header():
            raise ValueError("%s exists and is not a d2l-rnn log; choose another file name"
                             % path)
    return path


def _rows_before(path, first_epoch):
    """The complete rows of an existing log for epochs 1 .. ``first_epoch - 1``, in order."""
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        text = f.read()
    kept = []
    for row in list(csv.reader(io.StringIO(text)))[1:]:
        if len(row) != len(LOG_FIELDS) or not row[0].isdigit():
            break  # a row cut short by a crash: it and anything after are dropped
        if int(row[0]) >= first_epoch:
            break
        kept.append(row)
    return kept


class CsvLog:
    """Append a row per epoch to ``path``; rows of epochs ``>= first_epoch`` are dropped first.

    ``lr()`` and ``grad_norm()`` give the epoch's learning rate and mean
    gradient norm before clipping, read when the epoch's row is written.
    """

    def __init__(self, path, first_epoch, lr, grad_norm):
        self.path, self.lr, self.grad_norm = Path(path), lr, grad_norm
        rows = _rows_before(self.path, first_epoch) if first_epoch > 1 else []
        body = io.StringIO()
        body.write(_header())
        csv.writer(body, lineterminator="\n").writerows(rows)
        data = body.getvalue().encode("utf-8")
        replace_atomically(self.path, lambda tmp: write_bytes(tmp, data))
        self._file = open(self.path, "a", encoding="utf-8", newline="")

    def __call__(self, end):
        val = "" if end.val_perplexity is None else repr(float(end.val_perplexity))
        self._file.write("%d,%r,%s,%r,%r,%.4f\n" % (
            end.epoch, float(end.perplexity), val, float(self.lr()), float(self.grad_norm()),
            end.seconds))
        self._file.flush()
        os.fsync(self._file.fileno())  # a crash keeps every finished epoch's row

    def close(self):
        self._file.close()
