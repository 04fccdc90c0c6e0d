"""The chapter's hyperparameters, written down once, and the text they select.

:class:`TrainSettings` holds everything that decides a training run's
numbers, in the book's vocabulary; its defaults are chapter 6.6's. The
command line, checkpoints, distributed job files, the demo and the
benchmarks all take the chapter's values from here. A run on the user's own
text (``data``) starts from :data:`OWN_TEXT_DEFAULTS` instead where they
differ (:meth:`TrainSettings.create`), a recipe chosen by measurement.
The text they select, :class:`Text` from :func:`load_text`, is read in
:mod:`d2l_rnn._util.training_text` (both are named here too).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

from ._util.setting_checks import (
    MAX_GENERATED,
    MAX_SEED,
    SAMPLERS,
    check_setting,
    memory_bytes,
    training_bytes,
)
from ._util.training_text import Text, load_text
from .optimizer import OPTIMIZER_DEFAULTS
from .samplers import min_corpus_length

__all__ = ["TrainSettings", "Text", "SAMPLERS", "OWN_TEXT_DEFAULTS", "MAX_SEED", "MAX_GENERATED",
           "check_setting", "training_bytes", "load_text"]

# With a text of one's own: all of it, 5% of it held out (the end), samples that
# start the way the text does (an empty prefixes: see Text.opening), and the recipe
# that reached the lowest validation perplexity in a few minutes on a 2-core CPU,
# on texts in several languages (benchmarks/recipe.py; the measurements: docs/cli.md).
OWN_TEXT_DEFAULTS = {"num_chars": None, "val_frac": 0.05, "prefixes": (),
                     "cell": "gru", "num_hiddens": 256, "embed_size": 128, "optimizer": "rmsprop",
                     "dropout": 0.2, "lr_decay": 2.0, "patience": 5}
# The recipe's defaults that need validation: dropped when a run holds nothing out.
_NEED_VALIDATION = ("lr_decay", "patience")

# The settings train_and_predict_rnn_gluon takes, in its argument order.
_CHAPTER_ARGS = ("num_epochs", "num_steps", "lr", "clipping_theta", "batch_size",
                 "pred_period", "pred_len", "prefixes")


@dataclasses.dataclass
class TrainSettings:
    """Everything that decides a training run's numbers. Defaults: chapter 6.6.

    ``num_chars`` characters of *The Time Machine*, or of the text file
    ``data`` (None: all of it), are trained on; the ``val_chars`` after them
    are held out for validation (0: none, as in the chapter), or else the
    last ``val_frac`` of them. ``sampler`` is ``'consecutive'`` (the
    chapter's code) or ``'random'``; ``clipping_theta`` bounds the
    gradient's global norm. With validation, ``patience`` epochs without a
    better validation perplexity end training (None or 0: never), and each
    such epoch divides the learning rate by ``lr_decay`` (1: never).
    ``dropout`` applies between stacked layers and before the output layer. ``optimizer``: ``'sgd'``
    (the chapter's), ``'adam'`` or ``'rmsprop'``; ``lr`` and
    ``clipping_theta`` left at None become its defaults when the settings
    are made (:data:`~d2l_rnn.optimizer.OPTIMIZER_DEFAULTS`; SGD's are the
    chapter's 100 and 0.01). ``embed_size``: None (or 0) for one-hot input
    (the chapter's), or the size of a learned embedding.
    """

    cell: str = "rnn"
    num_hiddens: int = 256
    num_layers: int = 1
    num_epochs: int = 200
    num_steps: int = 35
    batch_size: int = 32
    lr: Optional[float] = None  # None: the optimizer's default (SGD: the chapter's 100)
    clipping_theta: Optional[float] = None  # likewise (SGD: 0.01)
    sampler: str = "consecutive"
    num_chars: int = 10000
    val_chars: int = 0
    seed: int = 0
    pred_period: int = 50
    pred_len: int = 50
    prefixes: tuple = ("traveller", "time traveller")
    data: Optional[str] = None
    lower: bool = False
    encoding: str = "utf-8"
    val_frac: float = 0.0
    patience: Optional[int] = None
    lr_decay: float = 1.0
    dropout: float = 0.0
    optimizer: str = "sgd"
    embed_size: Optional[int] = None

    def __post_init__(self):
        defaults = OPTIMIZER_DEFAULTS.get(self.optimizer, OPTIMIZER_DEFAULTS["sgd"])
        for name in ("lr", "clipping_theta"):
            if getattr(self, name) is None:
                setattr(self, name, defaults[name])
        for name in ("embed_size", "patience"):  # 0: one-hot input, no early stop (None)
            if type(getattr(self, name)) is int and getattr(self, name) == 0:
                setattr(self, name, None)

    @classmethod
    def create(cls, **given: Any) -> TrainSettings:
        """Settings with ``given`` values; with ``data``, :data:`OWN_TEXT_DEFAULTS` for the rest
        (without validation, ``val_frac=0``, not its decay and patience, unless given)."""
        if given.get("data") is not None:
            defaults = dict(OWN_TEXT_DEFAULTS)
            if given.get("val_chars"):  # held out by count: no fraction on top
                defaults["val_frac"] = 0.0
            elif given.get("val_frac") == 0:
                for name in _NEED_VALIDATION:
                    del defaults[name]
            given = dict(defaults, **given)
        return cls(**given)

    @property
    def validates(self) -> bool:
        """Whether text is held out for validation."""
        return bool(self.val_chars or self.val_frac)

    def check(self, vocab_size: int = 64) -> TrainSettings:
        """Raise ValueError naming the first setting that cannot work; return self.

        ``vocab_size`` bounds the memory estimate (the book has fewer characters).
        """
        for field in dataclasses.fields(self):
            check_setting(field.name, getattr(self, field.name))
        if self.data is None and self.num_chars is None:
            raise ValueError("num_chars must be a positive integer, got None")
        if self.val_frac and self.val_chars:
            raise ValueError("val_chars=%d and val_frac=%g both hold text out; give one"
                             % (self.val_chars, self.val_frac))
        if (self.patience is not None or self.lr_decay != 1) and not self.validates:
            raise ValueError("patience and lr_decay follow the validation perplexity; hold "
                             "text out with val_frac or val_chars")
        needed = min_corpus_length(self.batch_size, self.num_steps, self.sampler)
        if self.num_chars is not None and self.num_chars < needed:
            raise ValueError(
                "num_chars=%d is too short for batch_size=%d, num_steps=%d: the %s sampler "
                "needs at least %d characters" % (self.num_chars, self.batch_size,
                                                   self.num_steps, self.sampler, needed))
        if not self.prefixes and self.data is None:
            raise ValueError("prefixes must name at least one prefix")
        needed, memory = training_bytes(self.cell, self.num_hiddens, self.num_layers, vocab_size,
                                        self.batch_size, self.num_steps,
                                        self.embed_size), memory_bytes()
        if memory is not None and needed > memory:
            raise ValueError(
                "num_hiddens=%d with num_layers=%d needs about %.3g GB to train, more than "
                "this machine's %.3g GB of memory; choose smaller sizes"
                % (self.num_hiddens, self.num_layers, needed / 1e9, memory / 1e9))
        return self

    def chapter_args(self) -> dict[str, Any]:
        """The keyword arguments of ``train_and_predict_rnn_gluon`` these settings give."""
        args = {name: getattr(self, name) for name in _CHAPTER_ARGS}
        args["prefixes"] = list(self.prefixes)
        return args

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (prefixes as a list)."""
        d = dataclasses.asdict(self)
        d["prefixes"] = list(self.prefixes)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainSettings:
        """Inverse of :meth:`to_dict`; unknown keys are ignored, missing ones defaulted.

        Raises ValueError for a value that no setting can take (see :func:`check_setting`).
        """
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: check_setting(k, v) for k, v in d.items() if k in known}
        return cls(**values)
