"""Training settings: the chapter's defaults, their checks, and the text they select.

:class:`TrainSettings` is the one place that writes down the chapter's
hyperparameters for the command line; checkpoints store it as a dict.
"""

import dataclasses
import math
import numbers

from ._checks import check_positive_int, check_prefix
from .architecture import CELLS
from .data import load_data_time_machine
from .samplers import min_corpus_length

__all__ = ["TrainSettings", "Text", "SAMPLERS", "load_text"]

SAMPLERS = ("consecutive", "random")


@dataclasses.dataclass
class TrainSettings:
    """Everything that decides a training run's numbers. Defaults: chapter 6.6.

    ``num_chars`` characters of *The Time Machine* are trained on; the
    ``val_chars`` after them are held out for validation (0: none, as in the
    chapter). ``sampler`` is ``'consecutive'`` (the chapter's code) or
    ``'random'``; ``clip`` is the gradient-norm bound ``clipping_theta``.
    """

    cell: str = "rnn"
    num_hiddens: int = 256
    num_layers: int = 1
    epochs: int = 200
    num_steps: int = 35
    batch_size: int = 32
    lr: float = 1e2
    clip: float = 1e-2
    sampler: str = "consecutive"
    num_chars: int = 10000
    val_chars: int = 0
    seed: int = 0
    pred_period: int = 50
    pred_len: int = 50
    prefixes: tuple = ("traveller", "time traveller")

    def check(self):
        """Raise ValueError naming the first setting that cannot work; return self."""
        if self.cell not in CELLS:
            raise ValueError("cell must be one of %s, got %r" % (", ".join(CELLS), self.cell))
        if self.sampler not in SAMPLERS:
            raise ValueError("sampler must be one of %s, got %r"
                             % (", ".join(SAMPLERS), self.sampler))
        for name in ("num_hiddens", "num_layers", "epochs", "num_steps", "batch_size",
                     "num_chars", "pred_period", "pred_len"):
            check_positive_int(name, getattr(self, name))
        for name in ("lr", "clip"):
            value = getattr(self, name)
            if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                    or not math.isfinite(value) or value <= 0):
                raise ValueError("%s must be a positive number, got %r" % (name, value))
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError("seed must be an integer >= 0, got %r" % (self.seed,))
        if self.val_chars != 0:  # one character predicts nothing
            if check_positive_int("val_chars", self.val_chars) < 2:
                raise ValueError("val_chars must be 0 (no validation) or at least 2, got 1")
        needed = min_corpus_length(self.batch_size, self.num_steps, self.sampler)
        if self.num_chars < needed:
            raise ValueError(
                "num_chars=%d is too short for batch_size=%d, num_steps=%d: the %s sampler "
                "needs at least %d characters" % (self.num_chars, self.batch_size,
                                                   self.num_steps, self.sampler, needed))
        if not self.prefixes:
            raise ValueError("prefixes must name at least one prefix")
        return self

    def to_dict(self):
        """Return a JSON-ready dict (prefixes as a list)."""
        d = dataclasses.asdict(self)
        d["prefixes"] = list(self.prefixes)
        return d

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict`; unknown keys are ignored, missing ones defaulted."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in d.items() if k in known}
        if "prefixes" in values:
            values["prefixes"] = tuple(values["prefixes"])
        return cls(**values)


@dataclasses.dataclass
class Text:
    """The encoded training text, the held-out text after it, and the vocabulary."""

    train: list
    val: list
    char_to_idx: dict
    idx_to_char: list

    @property
    def vocab_size(self):
        return len(self.idx_to_char)


def load_text(settings, data_dir=None):
    """Load ``num_chars + val_chars`` characters, split them, check the prefixes.

    The vocabulary covers both parts, so every held-out character has an id.

    Raises
    ------
    ValueError
        If the book is shorter than asked for, or a prefix has characters the
        vocabulary lacks (they are named).
    """
    wanted = settings.num_chars + settings.val_chars
    corpus, char_to_idx, idx_to_char, _ = load_data_time_machine(data_dir, num_chars=wanted)
    if len(corpus) < wanted:
        raise ValueError(
            "num_chars + val_chars = %d, but The Time Machine has only %d characters"
            % (wanted, len(corpus)))
    for prefix in settings.prefixes:
        check_prefix(prefix, char_to_idx)
    return Text(corpus[:settings.num_chars], corpus[settings.num_chars:], char_to_idx,
                idx_to_char)
