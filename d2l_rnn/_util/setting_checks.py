"""Each training setting on its own: what values it may take, and how much memory a model needs.

:func:`check_setting` is the one rule per setting, used by
``TrainSettings.check``, by ``TrainSettings.from_dict`` and by the checks
of a checkpoint's saved settings, so a value read from disk is held to the
same bounds as one typed on the command line.
"""

import os

from ..model import CELLS, MAX_LAYERS
from ..optimizer import OPTIMIZERS
from .checks import check_count, check_fraction, check_number, check_positive_int
from .text import check_encoding

__all__ = ["SAMPLERS", "MAX_SEED", "MAX_GENERATED", "MAX_COUNT", "check_setting", "training_bytes",
           "memory_bytes"]

SAMPLERS = ("consecutive", "random")
MAX_SEED = 2 ** 32 - 1  # NumPy's and MXNet's seeds are 32-bit
MAX_GENERATED = 10 ** 6  # characters of one sample
MAX_COUNT = 10 ** 9  # epochs, characters: far beyond any run, short of an overflow
MAX_EMBED = 1 << 16  # embedding sizes: as many as the largest vocabulary
_GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def _check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError("%s must be one of %s, got %r" % (name, ", ".join(choices), value))
    return value


def _check_prefixes(name, value):
    if (not isinstance(value, (list, tuple))
            or not all(isinstance(p, str) and p for p in value)):
        raise ValueError("%s must be a list of non-empty strings, got %r" % (name, value))
    return tuple(value)


def _check_val_chars(name, value):
    if check_count(name, value, MAX_COUNT) == 1:  # one character predicts nothing
        raise ValueError("%s must be 0 (no validation) or at least 2, got 1" % name)
    return value


def _optional(check):
    return lambda name, value: None if value is None else check(name, value)


def _check_kind(kind, expected):
    def check(name, value):
        if not isinstance(value, kind):
            raise ValueError("%s must be %s, got %r" % (name, expected, value))
        return value
    return check


_CHECKS = {
    "cell": lambda n, v: _check_choice(n, v, CELLS),
    "sampler": lambda n, v: _check_choice(n, v, SAMPLERS),
    "optimizer": lambda n, v: _check_choice(n, v, OPTIMIZERS),
    "embed_size": _optional(lambda n, v: check_count(n, v, MAX_EMBED)),  # 0: one-hot
    "num_layers": lambda n, v: check_positive_int(n, v, MAX_LAYERS),
    "num_chars": _optional(lambda n, v: check_positive_int(n, v, MAX_COUNT)),
    "lr": check_number, "clipping_theta": check_number,
    "seed": lambda n, v: check_count(n, v, MAX_SEED),
    "val_chars": _check_val_chars,
    "prefixes": _check_prefixes,
    "pred_len": lambda n, v: check_positive_int(n, v, MAX_GENERATED),
    "data": _optional(_check_kind(str, "the path of a text file")),
    "lower": _check_kind(bool, "true or false"),
    "encoding": lambda n, v: check_encoding(v, n),
    "val_frac": check_fraction, "dropout": check_fraction,
    "patience": _optional(lambda n, v: check_count(n, v, MAX_COUNT)),  # 0: never
    "lr_decay": lambda n, v: check_number(n, v, 1.0, inclusive=True),
    # A training run's save schedule (0: never).
    "save_every_batches": _optional(lambda n, v: check_count(n, v, MAX_COUNT)),
    "save_every_minutes": _optional(lambda n, v: check_number(n, v, 0.0, inclusive=True)),
}


def check_setting(name, value):
    """Raise ValueError unless ``value`` can be the setting ``name`` on its own; return it."""
    check = _CHECKS.get(name, lambda n, v: check_positive_int(n, v, MAX_COUNT))
    return check(name, value)


def training_bytes(cell, num_hiddens, num_layers, vocab_size, batch_size, num_steps,
                   embed_size=None):
    """A generous estimate of the memory training takes, in bytes.

    Weights, gradients and two copies (Adam's state: its two moments), plus
    every step's activations kept for back-propagation, in float32.
    """
    gates, params = _GATES.get(cell, 4), vocab_size * (num_hiddens + 1)
    inputs = vocab_size if embed_size is None else embed_size
    params += 0 if embed_size is None else vocab_size * embed_size
    for _ in range(num_layers):
        params += gates * num_hiddens * (inputs + num_hiddens + 2)
        inputs = num_hiddens
    activations = num_steps * batch_size * (4 * gates * num_hiddens * num_layers + 3 * vocab_size)
    return 4 * (4 * params + activations)


def memory_bytes():
    """The machine's physical memory in bytes, or None where it cannot be told."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX: no bound known
        return None
