"""What a save writes besides the parameters, built and checked before anything is written.

A save must never write what ``load_checkpoint`` refuses: it would replace
a good snapshot with one that cannot be read. So the documents (vocab.json,
hparams.json, state.json) are built here from the arguments of
``save_checkpoint``, each argument checked with a message naming it, and
then the very checks of :mod:`.fields` that loading applies are run on them
(:func:`documents`); the arrays of a snapshot within an epoch are checked as
loading checks them too (:func:`position_arrays`). :func:`check_saveable`
runs the checks that do not need a trained model, so a training run can
make them before its first epoch.
"""

import json
import math
import numbers
import random
from typing import Sequence

import numpy as np

from .._compat import import_mxnet
from ..model import describe_model
from ..settings import TrainSettings, check_setting
from .arrays import check_position
from .errors import CheckpointError
from .fields import EXTRA_SETTINGS, check_hparams, check_state, vocabulary_problem
from .layout import HPARAMS, POSITION, STATE, VOCAB

__all__ = ["check_vocabulary", "check_saveable", "documents", "position_arrays",
           "check_finite_parameters"]

_KNOWN_SETTINGS = set(TrainSettings.__dataclass_fields__)
_MAX_POINT = 10 ** 9  # epochs and batches: the loader's bound


def _random_states(states):
    """Python's and NumPy's generator states as JSON lists (``states``: theirs, or now)."""
    try:
        python_random, numpy_random = states or (random.getstate(), np.random.get_state())
        version, internal, gauss = python_random
        name, keys, pos, has_gauss, cached = numpy_random
        return ([version, list(internal), gauss],
                [name, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)])
    except (TypeError, ValueError, OverflowError):
        raise ValueError("random_state must be (random.getstate(), np.random.get_state()), "
                         "got %.80r" % (states,)) from None


def _perplexities(name, values):
    try:
        values = [float(p) for p in values]
    except (TypeError, ValueError, OverflowError):
        raise ValueError("%s must be a sequence of perplexities (numbers >= 1, or NaN for "
                         "none)" % name) from None
    if not all(p >= 1 or math.isnan(p) for p in values):
        raise ValueError("%s must hold perplexities (>= 1, or NaN for none), got %r"
                         % (name, min(values)))
    return values


def _point(name, value):
    """``epoch`` or ``batch`` as an int from 0 to 10**9, else ValueError naming it."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) \
            or not 0 <= value <= _MAX_POINT:
        raise ValueError("%s must be an integer from 0 to 10**9, got %r" % (name, value))
    return int(value)


def check_vocabulary(idx_to_char):
    """Return ``idx_to_char`` as a list if a checkpoint can hold it; else raise ValueError.

    A checkpoint holds distinct single characters, 1 to 65,536 of them
    (what :func:`~d2l_rnn.load_checkpoint` accepts). TypeError for a value
    that is not a sequence of characters at all (a str, a dict).
    """
    if isinstance(idx_to_char, (str, bytes)) or not isinstance(idx_to_char, Sequence):
        raise TypeError("idx_to_char must be a list of characters, got %s"
                        % type(idx_to_char).__name__)
    idx_to_char = list(idx_to_char)
    problem = vocabulary_problem(idx_to_char)
    if problem:
        raise ValueError("idx_to_char %s; a checkpoint holds a list of 1 to 65,536 distinct "
                         "single characters (nothing was written)" % problem)
    return idx_to_char


def _settings(settings):
    settings = dict(settings or {})
    for name in sorted(set(settings) & (set(EXTRA_SETTINGS) | _KNOWN_SETTINGS)):
        check_setting(name, settings[name])  # what is saved must load again
    try:
        json.dumps(settings)
    except (TypeError, ValueError) as err:
        raise ValueError("settings must be JSON-serialisable: %s" % err) from None
    return settings


def check_saveable(idx_to_char, settings=None, model=None):
    """Raise ValueError (or TypeError) unless a checkpoint of these can be saved.

    For a run to call before its first epoch: what a save would refuse at
    its end (a vocabulary a checkpoint cannot hold, a count out of range
    such as ``save_every``, with ``model`` a shape the loader refuses) is
    refused while nothing is lost yet. ``model`` need not be initialised.
    """
    if model is not None:
        documents(model, idx_to_char, settings, 0, 0, (), ())
    check_vocabulary(idx_to_char)
    _settings(settings)


def _loads_back(encoded):
    """Raise ValueError if ``load_checkpoint`` would refuse these documents."""
    docs = {name: json.loads(data.decode("utf-8")) for name, data in encoded.items()}
    try:
        check_hparams(HPARAMS, docs[HPARAMS], len(docs[VOCAB]))
        check_state(STATE, docs[STATE])
    except CheckpointError as err:
        raise ValueError("the checkpoint could not be loaded back, so it is not written: %s"
                         % str(err).replace("checkpoint file ", "")) from None


def documents(model, idx_to_char, settings, epoch, batch, history, val_history,
              random_state=None):
    """``{file name: bytes}`` of vocab.json, hparams.json and state.json, checked as loading checks.

    ``random_state`` is (Python's, NumPy's) generator state at the start of
    the epoch in progress; default: their states now. Raises ValueError
    (TypeError for an ``idx_to_char`` that is no sequence) naming the
    argument that cannot be saved.
    """
    architecture = describe_model(model)
    idx_to_char = check_vocabulary(idx_to_char)
    if len(idx_to_char) != architecture["vocab_size"]:
        raise ValueError("idx_to_char has %d characters but the model's vocab_size is %d"
                         % (len(idx_to_char), architecture["vocab_size"]))
    python_random, numpy_random = _random_states(random_state)
    docs = {
        VOCAB: idx_to_char,
        HPARAMS: {"model": architecture, "settings": _settings(settings)},
        STATE: {"epoch": _point("epoch", epoch), "batch": _point("batch", batch),
                "history": _perplexities("history", history),
                "val_history": _perplexities("val_history", val_history),
                "python_random": python_random, "numpy_random": numpy_random},
    }
    encoded = {name: json.dumps(doc).encode("utf-8") for name, doc in docs.items()}
    _loads_back(encoded)
    return encoded


def position_arrays(batch, position):
    """The position arrays on the CPU, checked: ``losses`` etc. of ``batch`` batches.

    None at an epoch's end (``batch`` 0). Raises ValueError naming ``batch``
    or ``position``.
    """
    batch = _point("batch", batch)
    if not batch:
        if position:
            raise ValueError("position is only saved within an epoch (batch > 0)")
        return None
    cpu = import_mxnet().cpu()
    try:
        arrays = {name: array.as_in_context(cpu) for name, array in dict(position or {}).items()}
    except (TypeError, ValueError, AttributeError):
        raise ValueError("position must map names to NDArrays, got %.80r" % (position,)) \
            from None
    try:
        check_position(arrays, batch, POSITION)
    except CheckpointError as err:
        raise ValueError("position: %s" % str(err).split(" is corrupt: ")[-1]) from None
    return arrays


def check_finite_parameters(model):
    """Raise FloatingPointError naming the first parameter of ``model`` that is NaN or infinite.

    Raises ValueError if a parameter has no value yet (the model is not initialised).
    """
    mx = import_mxnet()
    for name, param in model._collect_params_with_prefix().items():
        try:
            values = param.data().asnumpy()
        except (RuntimeError, mx.gluon.parameter.DeferredInitializationError):
            raise ValueError("model is not initialised: parameter %s has no value yet; call "
                             "model.initialize() (and run the model once, for shapes it "
                             "infers) before saving it" % name) from None
        if not np.isfinite(values).all():
            raise FloatingPointError("the model's parameter %s holds NaN or infinite values"
                                     % name)
