"""What a save writes besides the arrays: the JSON documents, checked, and the position.

:func:`documents` turns the arguments of ``save_checkpoint`` into the bytes
of vocab.json, hparams.json and state.json, refusing (ValueError) what
could not be loaded again; :func:`position_arrays` checks the arrays of a
snapshot within an epoch.
"""

import json
import math
import random

import numpy as np

from .._compat import import_mxnet
from ..model import describe_model
from ..settings import TrainSettings, check_setting
from .arrays import check_position
from .errors import CheckpointError
from .fields import EXTRA_SETTINGS
from .layout import HPARAMS, POSITION, STATE, VOCAB

__all__ = ["documents", "position_arrays"]

_KNOWN_SETTINGS = set(TrainSettings.__dataclass_fields__)


def _random_states(states):
    python_random, numpy_random = states or (random.getstate(), np.random.get_state())
    version, internal, gauss = python_random
    name, keys, pos, has_gauss, cached = numpy_random
    return ([version, list(internal), gauss],
            [name, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)])


def _perplexities(name, values):
    values = [float(p) for p in values]
    if not all(p >= 1 or math.isnan(p) for p in values):
        raise ValueError("%s must hold perplexities (>= 1, or NaN for none), got %r"
                         % (name, min(values)))
    return values


def _check_settings(settings):
    settings = dict(settings or {})
    for name in sorted(set(settings) & (set(EXTRA_SETTINGS) | _KNOWN_SETTINGS)):
        check_setting(name, settings[name])  # what is saved must load again
    return settings


def position_arrays(batch, position):
    """The position arrays on the CPU, checked: ``losses`` etc. of ``batch`` batches."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 0:
        raise ValueError("batch must be an integer >= 0, got %r" % (batch,))
    if not batch:
        if position:
            raise ValueError("position is only saved within an epoch (batch > 0)")
        return None
    cpu = import_mxnet().cpu()
    arrays = {name: array.as_in_context(cpu) for name, array in dict(position or {}).items()}
    try:
        check_position(arrays, batch, POSITION)
    except CheckpointError as err:
        raise ValueError("position: %s" % str(err).split(" is corrupt: ")[-1]) from None
    return arrays


def documents(model, idx_to_char, settings, epoch, batch, history, val_history,
              random_state):
    """The encoded vocab.json, hparams.json and state.json of a snapshot; raise ValueError."""
    architecture = describe_model(model)
    idx_to_char = list(idx_to_char)
    if len(idx_to_char) != architecture["vocab_size"]:
        raise ValueError("idx_to_char has %d characters but the model's vocab_size is %d"
                         % (len(idx_to_char), architecture["vocab_size"]))
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError("epoch must be an integer >= 0, got %r" % (epoch,))
    python_random, numpy_random = _random_states(random_state)
    docs = {
        VOCAB: idx_to_char,
        HPARAMS: {"model": architecture, "settings": _check_settings(settings)},
        STATE: {"epoch": epoch, "batch": batch, "history": _perplexities("history", history),
                "val_history": _perplexities("val_history", val_history),
                "python_random": python_random, "numpy_random": numpy_random},
    }
    try:
        encoded = {name: json.dumps(doc).encode("utf-8") for name, doc in docs.items()}
    except (TypeError, ValueError) as err:
        raise ValueError("settings must be JSON-serialisable: %s" % err) from None
    return encoded
