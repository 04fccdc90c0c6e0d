"""When a run saves, and how long it may train: the save schedule and the time budget.

A run saves every ``epochs`` epochs, after every ``batches`` batches and
every ``minutes`` minutes (0: never), at its last epoch and when it stops.
The counts start again after every save, whatever caused it. The chapter's
run saves every :data:`SAVE_EVERY` epochs; a run on a text of one's own
also every :data:`SAVE_EVERY_MINUTES` minutes, so that a crash loses at
most about that much training. A resumed run keeps its checkpoint's
schedule unless told otherwise: the schedule is saved with the settings.

:func:`parse_duration` reads a time budget such as ``90s``, ``20m``,
``2h`` or ``1h30m``.
"""

import dataclasses
import math
import re

from .._util.checks import check_count, check_number, check_positive_int

__all__ = ["SAVE_EVERY", "SAVE_EVERY_MINUTES", "SaveSchedule", "parse_duration"]

SAVE_EVERY = 10  # epochs
SAVE_EVERY_MINUTES = 10.0  # with a text of one's own (settings.data)
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_DURATION = re.compile(r"(?:(\d+(?:\.\d*)?|\.\d+)([dhms]))")
_MAX_SECONDS = 366 * 86400.0


def parse_duration(value, name="max_time"):
    """Return a duration in seconds from ``'90s'``, ``'20m'``, ``'2h'``, ``'1h30m'`` or ``'45'``.

    A plain number is seconds (a str or a number); units are ``d``, ``h``,
    ``m`` and ``s``, fractions allowed (``'1.5h'``). The result is more
    than 0 and at most a year.

    Raises
    ------
    ValueError
        Naming ``name``, for anything else.
    """
    seconds = None
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            parts = _DURATION.findall(text)
            if parts and "".join(n + u for n, u in parts) == text.replace(" ", ""):
                seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    elif not isinstance(value, bool) and isinstance(value, (int, float)):
        seconds = float(value)
    if seconds is None or not math.isfinite(seconds) or not 0 < seconds <= _MAX_SECONDS:
        raise ValueError("%s must be a duration of up to a year such as 90s, 20m, 2h or 1h30m "
                         "(a plain number is seconds), got %r" % (name, value))
    return seconds


@dataclasses.dataclass(frozen=True)
class SaveSchedule:
    """Save every ``epochs`` epochs, ``batches`` batches and ``minutes`` minutes (0: never)."""

    epochs: int = SAVE_EVERY
    batches: int = 0
    minutes: float = 0.0

    @classmethod
    def resolve(cls, saved, own_text, epochs=None, batches=None, minutes=None):
        """The schedule from the values given, else ``saved`` (a checkpoint's settings), else
        the defaults (``own_text``: also every :data:`SAVE_EVERY_MINUTES` minutes).

        Raises ValueError naming a bad value.
        """
        def pick(name, given, default):
            return given if given is not None else saved.get(name, default)

        epochs = check_positive_int("save_every", pick("save_every", epochs, SAVE_EVERY))
        batches = check_count("save_every_batches", pick("save_every_batches", batches, 0) or 0)
        minutes = check_number("save_every_minutes", pick(
            "save_every_minutes", minutes, SAVE_EVERY_MINUTES if own_text else 0.0) or 0.0,
            0.0, inclusive=True)
        return cls(epochs, batches, minutes)

    def to_settings(self):
        """The schedule as the settings a checkpoint keeps."""
        return {"save_every": self.epochs, "save_every_batches": self.batches,
                "save_every_minutes": self.minutes}

    def due(self, batches_since, seconds_since, epoch=None):
        """Whether to save now, ``batches_since`` batches and ``seconds_since`` seconds after
        the last save; ``epoch``: at the end of that epoch."""
        return bool((epoch is not None and epoch % self.epochs == 0)
                    or (self.batches and batches_since >= self.batches)
                    or (self.minutes and seconds_since >= 60 * self.minutes))
