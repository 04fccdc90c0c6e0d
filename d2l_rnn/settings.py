"""The chapter's hyperparameters, written down once, and the text they select.

:class:`TrainSettings` holds everything that decides a training run's
numbers, in the book's vocabulary; its defaults are chapter 6.6's. The
command line, checkpoints, distributed job files, the demo and the
benchmarks all take the chapter's values from here.
"""

import dataclasses

from ._util.checks import check_count, check_number, check_positive_int, check_prefix
from .data import load_data_time_machine
from .model import CELLS
from .samplers import min_corpus_length

__all__ = ["TrainSettings", "Text", "SAMPLERS", "load_text"]

SAMPLERS = ("consecutive", "random")

# The settings train_and_predict_rnn_gluon takes, in its argument order.
_CHAPTER_ARGS = ("num_epochs", "num_steps", "lr", "clipping_theta", "batch_size",
                 "pred_period", "pred_len", "prefixes")


@dataclasses.dataclass
class TrainSettings:
    """Everything that decides a training run's numbers. Defaults: chapter 6.6.

    ``num_chars`` characters of *The Time Machine* are trained on; the
    ``val_chars`` after them are held out for validation (0: none, as in the
    chapter). ``sampler`` is ``'consecutive'`` (the chapter's code) or
    ``'random'``; ``clipping_theta`` bounds the gradient's global norm.
    """

    cell: str = "rnn"
    num_hiddens: int = 256
    num_layers: int = 1
    num_epochs: int = 200
    num_steps: int = 35
    batch_size: int = 32
    lr: float = 1e2
    clipping_theta: float = 1e-2
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
        for name in ("num_hiddens", "num_layers", "num_epochs", "num_steps", "batch_size",
                     "num_chars", "pred_period", "pred_len"):
            check_positive_int(name, getattr(self, name))
        for name in ("lr", "clipping_theta"):
            check_number(name, getattr(self, name))
        check_count("seed", self.seed)
        if check_count("val_chars", self.val_chars) == 1:  # one character predicts nothing
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

    def chapter_args(self):
        """The keyword arguments of ``train_and_predict_rnn_gluon`` these settings give."""
        args = {name: getattr(self, name) for name in _CHAPTER_ARGS}
        args["prefixes"] = list(self.prefixes)
        return args

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
