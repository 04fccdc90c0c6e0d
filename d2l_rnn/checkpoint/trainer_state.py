"""A Gluon trainer's state as JSON and plain arrays, never as a pickle.

``Trainer.save_states`` writes a pickle, and unpickling a file someone sent
you can run any code. What a trainer needs to go on is small and plain: the
optimizer's name and learning rate, its update counts (JSON, trainer.json),
and per parameter a state that is nothing, one array or a tuple of arrays
(SGD with momentum: one array; the chapter's SGD: nothing; Adam: its two
moments, in that order; RMSprop: its mean square). The arrays go into
trainer.params with ``nd.save``, named ``I`` or ``I.J`` (parameter ``I``,
array ``J`` of its tuple), so a tuple comes back in its order. A state of
any other shape cannot be stored this way, and saving it is refused with a
ValueError.

Every state array must hold finite numbers, when saved and when read back
(a NaN moment would make every parameter NaN after one step), and must
have the shape the trainer's optimizer gives that parameter's state.
"""

import numpy as np

from .._compat import import_mxnet
from .arrays import load_arrays
from .errors import CheckpointError, corrupt, need

__all__ = ["trainer_documents", "read_trainer_state", "restore_trainer_state"]

_MAX_COUNT = 1 << 62


def _optimizer_name(trainer):
    return type(trainer._optimizer).__name__.lower()


def _updates_on_kvstore(trainer):
    return bool(trainer._update_on_kvstore or trainer._kvstore_params.get("update_on_kvstore"))


def _layout(index, state, arrays):
    """The JSON layout of one state, adding its arrays to ``arrays``."""
    nd = import_mxnet().nd
    if state is None:
        return None
    if isinstance(state, nd.NDArray):
        arrays[str(index)] = state
        return "array"
    if isinstance(state, (tuple, list)) and state and all(
            isinstance(s, nd.NDArray) for s in state):
        for j, s in enumerate(state):
            arrays["%d.%d" % (index, j)] = s
        return len(state)
    raise ValueError("the state of this %s optimizer (parameter %d) is not arrays; "
                     "save_checkpoint can only store plain array states: pass trainer=None"
                     % (type(state).__name__, index))


def trainer_documents(trainer):
    """Return ``(trainer.json document, {name: NDArray})`` for ``trainer``.

    Raises
    ------
    ValueError
        If the state lives on a kvstore (``dist_async``) or is not arrays.
    """
    if _updates_on_kvstore(trainer):
        raise ValueError("the optimizer state of a trainer that updates on the kvstore "
                         "lives on the servers and cannot be saved; pass trainer=None")
    opt, arrays = trainer._optimizer, {}
    states = trainer._updaters[0].states if trainer._updaters else {}
    layout = {str(i): _layout(i, s, arrays) for i, s in sorted(states.items())
              if isinstance(i, int)}
    counts = {str(dev): {str(i): int(c) for i, c in per.items() if isinstance(i, int)}
              for dev, per in getattr(opt, "_all_index_update_counts", {}).items()}
    doc = {"optimizer": _optimizer_name(trainer), "learning_rate": float(trainer.learning_rate),
           "num_update": int(opt.num_update), "update_counts": counts, "states": layout}
    try:
        _check_document("trainer.json", doc)  # as it is checked when read back
    except CheckpointError as err:
        raise ValueError("the trainer's state cannot be saved: %s" % err) from None
    arrays = {k: v.as_in_context(import_mxnet().cpu()) for k, v in arrays.items()}
    for name, array in arrays.items():
        if not np.isfinite(array.asnumpy()).all():
            raise FloatingPointError("the optimizer's state %s (of parameter %s) holds NaN or "
                                     "infinite values" % (name, name.split(".")[0]))
    return doc, arrays


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_COUNT


def _index(path, key, field):
    need(isinstance(key, str) and key.isascii() and key.isdigit() and len(key) < 10, path,
         "%s has the key %r, not a parameter index" % (field, key))
    return int(key)


def _check_document(path, doc):
    keys = {"optimizer", "learning_rate", "num_update", "update_counts", "states"}
    need(isinstance(doc, dict) and set(doc) == keys, path,
         "expected the keys %s" % ", ".join(sorted(keys)))
    need(isinstance(doc["optimizer"], str) and doc["optimizer"].isidentifier(), path,
         "optimizer must be an optimizer's name")
    lr = doc["learning_rate"]
    need(isinstance(lr, (int, float)) and not isinstance(lr, bool) and 0 <= lr < float("inf"),
         path, "learning_rate must be a finite number >= 0")
    need(_is_count(doc["num_update"]), path, "num_update must be an integer >= 0")
    need(isinstance(doc["update_counts"], dict), path, "update_counts must be an object")
    for dev, per in doc["update_counts"].items():
        _index(path, dev, "update_counts")
        need(isinstance(per, dict) and all(_is_count(c) for c in per.values()), path,
             "update_counts.%s must map parameter indices to counts" % dev)
        for key in per:
            _index(path, key, "update_counts.%s" % dev)
    need(isinstance(doc["states"], dict), path, "states must be an object")
    for key, layout in doc["states"].items():
        _index(path, key, "states")
        need(layout in (None, "array") or _is_count(layout) and 1 <= layout <= 16, path,
             "states.%s must be null, \"array\" or a count of arrays" % key)


def read_trainer_state(snapshot, doc, arrays_data):
    """Check trainer.json and trainer.params; return ``(doc, {index: state})``."""
    path = snapshot / "trainer.json"
    _check_document(path, doc)
    arrays_path = snapshot / "trainer.params"
    # Say which two files disagree: either one may be the one that changed.
    need(arrays_data is not None or all(v is None for v in doc["states"].values()), path,
         "it lists state arrays, but manifest.json lists no trainer.params")
    arrays = load_arrays(arrays_data, arrays_path) if arrays_data is not None else {}
    for name, array in arrays.items():
        if not np.isfinite(array.asnumpy()).all():
            raise corrupt(arrays_path, "the optimizer state %s holds NaN or infinite values"
                          % name)
    states, used = {}, set()
    for key, layout in doc["states"].items():
        names = ([] if layout is None else [key] if layout == "array"
                 else ["%s.%d" % (key, j) for j in range(layout)])
        for name in names:
            need(name in arrays, arrays_path, "it has no array %r, which %s lists"
                 % (name, path.name))
        used.update(names)
        got = [arrays[n] for n in names]
        for name, array in zip(names, got):  # Adam's moments, RMSprop's mean square, ...
            need(np.isfinite(array.asnumpy()).all(), arrays_path,
                 "optimizer state %s holds NaN or infinite values" % name)
        states[int(key)] = None if layout is None else got[0] if layout == "array" \
            else tuple(got)
    need(used == set(arrays), arrays_path, "it holds arrays that trainer.json does not list")
    return doc, states


def _same_shape(saved, fresh):
    nd = import_mxnet().nd
    if saved is None or fresh is None:
        return saved is None and fresh is None
    if isinstance(fresh, nd.NDArray):
        return isinstance(saved, nd.NDArray) and saved.shape == fresh.shape
    return (isinstance(saved, tuple) and isinstance(fresh, (tuple, list))
            and len(saved) == len(fresh)
            and all(_same_shape(s, f) for s, f in zip(saved, fresh)))


def restore_trainer_state(trainer, doc, states, path):
    """Put a checked trainer state into ``trainer``; raise CheckpointError if it does not fit."""
    if _optimizer_name(trainer) != doc["optimizer"]:
        raise CheckpointError("%s holds the state of a %s optimizer, but the trainer uses %s"
                              % (path, doc["optimizer"], _optimizer_name(trainer)))
    if _updates_on_kvstore(trainer):
        raise CheckpointError("cannot restore %s into a trainer that updates on the kvstore"
                              % path)
    params, opt = trainer._params, trainer._optimizer
    for index, state in states.items():
        need(index < len(params), path, "states has parameter %d; the model has %d"
             % (index, len(params)))
        weight = params[index].list_data()[0]
        need(_same_shape(state, opt.create_state_multi_precision(index, weight)), path,
             "the state of parameter %d (%s) does not fit this trainer"
             % (index, params[index].name))
    if opt.lr_scheduler is None:  # a scheduler computes the rate from num_update
        trainer.set_learning_rate(doc["learning_rate"])
    opt.num_update = doc["num_update"]
    if hasattr(opt, "_all_index_update_counts"):
        counts = {int(d): {int(i): c for i, c in per.items()}
                  for d, per in doc["update_counts"].items()}
        opt._all_index_update_counts = counts or {0: {}}
        opt._index_update_count = opt._all_index_update_counts.setdefault(0, {})
    for updater in trainer._updaters:  # each device its own copy, moved on first use
        updater.states = {i: _copy(s) for i, s in states.items()}
        updater.states_synced = dict.fromkeys(states, False)


def _copy(state):
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.copy() for s in state)
    return state.copy()

