"""The metrics file of a training run: one CSV row per epoch, never lost, never twice.

:class:`CsvLog` writes one row per epoch, flushed to disk as soon as the
epoch ends; a resumed run first drops the rows after its checkpoint's
epoch (the epochs it trains again), so no epoch appears twice or is lost.
:func:`check_log_path` refuses a path before training starts.

The columns are :data:`LOG_FIELDS`: the first six as before bits per
character were added (:data:`OLD_FIELDS`), then the two perplexities in
bits, so a reader that takes columns by name or by position keeps working.
A log of the old six columns continued on resume is rewritten with the new
columns, the old rows' bits computed from their perplexities.
"""

import csv
import io
import os
from pathlib import Path

from .._util.files import replace_atomically, write_bytes
from .._util.metrics import perplexity_bits
from .._util.reading import RefusedFile, read_regular

__all__ = ["CsvLog", "LOG_FIELDS", "OLD_FIELDS", "check_log_path", "MAX_LOG_BYTES"]

OLD_FIELDS = ("epoch", "perplexity", "val_perplexity", "lr", "grad_norm", "seconds")
LOG_FIELDS = OLD_FIELDS + ("bits_per_char", "val_bits_per_char")
MAX_LOG_BYTES = 256 << 20  # a row is about 80 bytes: millions of epochs


def _read_log(path):
    """The text of an existing log: a regular file (not a link, a FIFO), at most MAX_LOG_BYTES."""
    try:
        return read_regular(str(path), MAX_LOG_BYTES, follow=False).decode("utf-8", "replace")
    except RefusedFile as err:
        raise ValueError("log file %s; choose another file name" % err) from None


def _header(fields=LOG_FIELDS):
    return ",".join(fields) + "\n"


def _bits(perplexity):
    """A perplexity column's value in bits, as written ('' for none)."""
    return "" if perplexity is None else repr(perplexity_bits(float(perplexity)))


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
    if os.path.lexists(path):
        text = _read_log(path)
        if text and not (text.startswith(_header()) or text.startswith(_header(OLD_FIELDS))):
            raise ValueError("%s exists and is not a d2l-rnn log; choose another file name"
                             % path)
    return path


def _rows_before(path, first_epoch):
    """The complete rows of an existing log for epochs 1 .. ``first_epoch - 1``, in order."""
    if not os.path.lexists(path):
        return []
    kept = []
    rows = list(csv.reader(io.StringIO(_read_log(path), newline="")))
    width = len(rows[0]) if rows and rows[0] == list(OLD_FIELDS) else len(LOG_FIELDS)
    for row in rows[1:]:
        if len(row) != width or not (row[0].isascii() and row[0].isdigit()):
            break  # a row cut short by a crash: it and anything after are dropped
        if int(row[0]) >= first_epoch:
            break
        try:  # an old row: its bits from its perplexities
            kept.append(row + [_bits(row[1]), _bits(row[2] or None)][:len(LOG_FIELDS) - width])
        except ValueError:
            break  # not a number: not a row this package wrote
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
        fd = os.open(str(self.path), os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0))
        self._file = open(fd, "a", encoding="utf-8", newline="")  # the file just renamed there

    def __call__(self, end):
        val = "" if end.val_perplexity is None else repr(float(end.val_perplexity))
        self._file.write("%d,%r,%s,%r,%r,%.4f,%s,%s\n" % (
            end.epoch, float(end.perplexity), val, float(self.lr()), float(self.grad_norm()),
            end.seconds, _bits(end.perplexity), _bits(end.val_perplexity)))
        self._file.flush()
        os.fsync(self._file.fileno())  # a crash keeps every finished epoch's row

    def close(self):
        self._file.close()
