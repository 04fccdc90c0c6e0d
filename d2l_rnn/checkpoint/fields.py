"""Every field of a checkpoint's JSON documents, checked before it is used.

The hashes in the manifest only show that files belong together, not that
they were written by this library: anyone can rewrite a file and its hash.
So each value read back is checked here for its type, its range and, for
names, membership of the known set; the first bad one raises
:class:`CheckpointError` naming the file and the field.
"""

import math
import numbers
import random

import numpy as np

from ..model import ACTIVATIONS, CELLS, MAX_LAYERS
from ..settings import TrainSettings, check_setting
from .errors import corrupt, need

__all__ = ["check_vocab", "vocabulary_problem", "check_hparams", "check_settings",
           "check_state", "degenerate_mt", "EXTRA_SETTINGS", "MAX_VOCAB"]

_MODEL_KEYS = {"cell", "activation", "num_hiddens", "num_layers", "bidirectional", "dropout",
               "output_dropout", "vocab_size", "embed_size"}
MAX_VOCAB, _MAX_HIDDENS = 1 << 16, 1 << 20
# Settings a training run keeps besides TrainSettings: how often it saves.
EXTRA_SETTINGS = ("save_every", "save_every_batches", "save_every_minutes")
_SETTING_NAMES = {f for f in TrainSettings.__dataclass_fields__} | set(EXTRA_SETTINGS)
_MT_WORDS = 624


def _is_int(value, low, high):
    return (isinstance(value, int) and not isinstance(value, bool)
            and low <= value <= high)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_finite(value):
    """A finite real number (an int too large for a float is not: it overflows on use)."""
    try:
        return _is_real(value) and math.isfinite(value)
    except OverflowError:
        return False


def vocabulary_problem(vocab):
    """What is wrong with ``vocab`` as a checkpoint's vocabulary, in words; None if nothing."""
    if not isinstance(vocab, list) or not 0 < len(vocab) <= MAX_VOCAB:
        return "has %s entries, not 1 to %d" % (len(vocab) if isinstance(vocab, list)
                                                 else "no", MAX_VOCAB)
    bad = [c for c in vocab if not (isinstance(c, str) and len(c) == 1)][:1]
    if bad:
        return "holds %r, which is not a single character" % (bad[0],)
    if len(set(vocab)) != len(vocab):
        seen = set()
        twice = next(c for c in vocab if c in seen or seen.add(c))
        return "holds %r more than once" % twice
    return None


def check_vocab(path, vocab):
    """A non-empty list of distinct single characters."""
    need(vocabulary_problem(vocab) is None, path,
         "expected a non-empty list of distinct single characters (at most %d)" % MAX_VOCAB)


def _check_model(path, model, vocab_size):
    need(isinstance(model, dict) and set(model) <= _MODEL_KEYS, path,
         "model must be an object with the keys %s" % ", ".join(sorted(_MODEL_KEYS)))
    need(model.get("cell") in CELLS, path, "model.cell must be one of %s" % ", ".join(CELLS))
    allowed = ACTIVATIONS if model["cell"] == "rnn" else (None,)
    need(model.get("activation") in allowed, path,
         "model.activation must be one of %s for a %s cell" % (allowed, model["cell"]))
    need(_is_int(model.get("num_hiddens"), 1, _MAX_HIDDENS), path,
         "model.num_hiddens must be an integer from 1 to %d" % _MAX_HIDDENS)
    need(_is_int(model.get("num_layers"), 1, MAX_LAYERS), path,
         "model.num_layers must be an integer from 1 to %d" % MAX_LAYERS)
    need(isinstance(model.get("bidirectional", False), bool), path,
         "model.bidirectional must be true or false")
    for name in ("dropout", "output_dropout"):
        value = model.get(name, 0.0)
        need(_is_real(value) and 0 <= value < 1, path,
             "model.%s must be a number from 0 to below 1" % name)
    embed_size = model.get("embed_size")
    need(embed_size is None or _is_int(embed_size, 1, MAX_VOCAB), path,
         "model.embed_size must be null (one-hot input) or an integer from 1 to %d"
         % MAX_VOCAB)
    need(_is_int(model.get("vocab_size"), 1, MAX_VOCAB), path,
         "model.vocab_size must be a positive integer")
    need(model["vocab_size"] == vocab_size, path, "model.vocab_size is %d but vocab.json has "
         "%d characters" % (model["vocab_size"], vocab_size))


def check_settings(path, settings):
    """A JSON object; the settings this library knows must each be valid."""
    need(isinstance(settings, dict), path, "settings must be an object")
    for name in sorted(_SETTING_NAMES & set(settings)):
        try:
            check_setting(name, settings[name])
        except ValueError as err:
            raise corrupt(path, "settings.%s" % err) from None


def check_hparams(path, hparams, vocab_size):
    """``{"model": a model description, "settings": {...}}``."""
    need(isinstance(hparams, dict) and set(hparams) == {"model", "settings"}, path,
         "expected {'model': {...}, 'settings': {...}}")
    _check_model(path, hparams["model"], vocab_size)
    check_settings(path, hparams["settings"])


def _perplexities(value):
    # v >= 1 first: isnan of an int past a float's range would overflow.
    return isinstance(value, list) and all(
        _is_real(v) and (v >= 1 or isinstance(v, float) and math.isnan(v)) for v in value)


def degenerate_mt(words):
    """Whether Mersenne Twister key ``words`` (624 of them) is a state no generator reaches.

    MT19937's state is 19,937 bits (the top bit of the first word and the
    623 others). From the all-zero state it returns 0 for ever, and from a
    state with few bits set it returns runs of zeros for hundreds of
    thousands of draws. A state a generator reaches has about half its bits
    set; fewer than an eighth is refused (a chance of about 10**-2700 for a
    real one).
    """
    bits = bin(int(words[0]) & 0x80000000).count("1")
    bits += sum(bin(int(w)).count("1") for w in words[1:])
    return bits < 19937 // 8


def _python_random(path, value):
    need(isinstance(value, list) and len(value) == 3 and value[0] == 3
         and isinstance(value[1], list) and len(value[1]) == _MT_WORDS + 1
         and all(_is_int(w, 0, 2 ** 32 - 1) for w in value[1][:-1])
         and _is_int(value[1][-1], 0, _MT_WORDS)
         and (value[2] is None or _is_finite(value[2])), path,
         "python_random must be [3, 625 words, null or a number] (random.getstate())")
    need(not degenerate_mt(value[1][:-1]), path,
         "python_random is the all-zero state or close to it, from which random() returns 0.0 "
         "again and again; it is not a state random.getstate() gives")
    state = (3, tuple(value[1]), value[2])
    try:  # the generator itself is the last judge (e.g. a state of all zeros)
        random.Random().setstate(state)
    except (TypeError, ValueError, OverflowError) as err:
        need(False, path, "python_random is not a generator state (%s)" % err)
    return state


def _numpy_random(path, value):
    need(isinstance(value, list) and len(value) == 5 and value[0] == "MT19937"
         and isinstance(value[1], list) and len(value[1]) == _MT_WORDS
         and all(_is_int(w, 0, 2 ** 32 - 1) for w in value[1])
         and _is_int(value[2], 0, _MT_WORDS) and value[3] in (0, 1)
         and _is_finite(value[4]), path,
         "numpy_random must be ['MT19937', 624 words, position, 0 or 1, a number] "
         "(numpy.random.get_state())")
    need(not degenerate_mt(value[1]), path,
         "numpy_random is the all-zero state or close to it, from which the generator returns "
         "0 again and again; it is not a state numpy.random.get_state() gives")
    state = ("MT19937", np.array(value[1], dtype=np.uint32), value[2], value[3],
             float(value[4]))
    try:
        np.random.RandomState().set_state(state)
    except (TypeError, ValueError) as err:
        need(False, path, "numpy_random is not a generator state (%s)" % err)
    return state


def check_state(path, state, version=4):
    """Epochs, batches, histories and generator states; the states become what ``setstate`` takes.

    Format 3 has no ``batch`` (its snapshots are all at an epoch's end): it is set to 0.
    """
    keys = {"epoch", "history", "val_history", "python_random", "numpy_random"}
    keys |= {"batch"} if version >= 4 else set()
    need(isinstance(state, dict) and set(state) == keys, path,
         "expected the keys %s" % ", ".join(sorted(keys)))
    need(_is_int(state["epoch"], 0, 10 ** 9), path, "epoch must be an integer >= 0")
    state.setdefault("batch", 0)
    need(_is_int(state["batch"], 0, 10 ** 9), path, "batch must be an integer >= 0")
    for name in ("history", "val_history"):
        need(_perplexities(state[name]), path, "%s must be a list of perplexities (>= 1)" % name)
    state["python_random"] = _python_random(path, state["python_random"])
    state["numpy_random"] = _numpy_random(path, state["numpy_random"])
