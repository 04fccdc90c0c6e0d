"""A checkpoint folder's layout: snapshot names, file names, and reading them back.

A folder given to ``save_checkpoint`` holds numbered snapshot folders, each
a complete checkpoint with a manifest written last::

    DIR/snapshot-000003/
        model.params    the parameters (Block.save_parameters)
        vocab.json      the characters in id order (idx_to_char)
        hparams.json    {"model": the architecture, "settings": training settings}
        state.json      epoch, per-epoch perplexities, Python's and NumPy's RNG state
        trainer.states  the optimizer state (Trainer.save_states), if a trainer is given
        manifest.json   the format, the run it belongs to, every other file's SHA-256
    DIR/best/snapshot-000001/   the snapshot with the lowest validation
                                perplexity so far, saved the same way

Everything read from disk is checked before use: the manifest's SHA-256 of
each file, then each JSON document's shape. The first problem found raises
:class:`CheckpointError` naming the file, instead of a KeyError or an MXNet
error from deep inside the loading code.
"""

import hashlib
import json
import numbers
import random
import re
from pathlib import Path

import numpy as np

from ..model import CELLS

__all__ = ["CheckpointError", "FORMAT", "PARAMS", "VOCAB", "HPARAMS", "STATE", "TRAINER",
           "MANIFEST", "REQUIRED", "BEST", "snapshots", "find_snapshot", "find_best",
           "checkpoint_root", "read_snapshot", "run_of_snapshot"]

# 2: settings in the book's names (num_epochs, clipping_theta), and the run id.
FORMAT = 2
PARAMS, VOCAB, HPARAMS, STATE = "model.params", "vocab.json", "hparams.json", "state.json"
TRAINER, MANIFEST = "trainer.states", "manifest.json"
REQUIRED = (PARAMS, VOCAB, HPARAMS, STATE)
BEST = "best"  # the folder, inside a checkpoint folder, of the best snapshot
_SNAPSHOT = re.compile(r"snapshot-(\d{6,})\Z")


class CheckpointError(ValueError):
    """A checkpoint is missing, incomplete or corrupt; the message names the file."""


def _corrupt(path, why):
    return CheckpointError("checkpoint file %s is corrupt: %s" % (path, why))


def _json(path, data):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _corrupt(path, "not valid JSON (%s)" % err) from None


def _need(ok, path, why):
    if not ok:
        raise _corrupt(path, why)


def _is_count(value, low):
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _numbers(value):
    return isinstance(value, list) and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)


def _read_manifest(snapshot):
    manifest_path = snapshot / MANIFEST
    if not manifest_path.is_file():
        raise CheckpointError("checkpoint %s is incomplete: %s is missing"
                              % (snapshot, MANIFEST))
    manifest = _json(manifest_path, manifest_path.read_bytes())
    _need(isinstance(manifest, dict) and isinstance(manifest.get("files"), dict)
          and _is_count(manifest.get("format"), 1), manifest_path,
          "expected {'format': int, 'run': str, 'files': {name: sha256}}")
    _need(manifest["format"] <= FORMAT, manifest_path,
          "format %s is newer than this d2l_rnn reads (%d); upgrade d2l_rnn"
          % (manifest["format"], FORMAT))
    _need(manifest["format"] == FORMAT, manifest_path,
          "format %s was written by an older d2l_rnn, which this one does not read; "
          "train the model again" % manifest["format"])
    _need(isinstance(manifest.get("run"), str), manifest_path, "it names no run")
    return manifest


def run_of_snapshot(snapshot):
    """Return the run id in the manifest of ``snapshot``, or None if it cannot be read."""
    try:
        return _read_manifest(snapshot)["run"]
    except (CheckpointError, OSError):
        return None


def _read_files(snapshot):
    manifest_path = snapshot / MANIFEST
    manifest = _read_manifest(snapshot)
    listed = manifest["files"]
    for name in REQUIRED:
        _need(name in listed, manifest_path, "it does not list %s" % name)
    contents = {MANIFEST: manifest}
    for name, digest in listed.items():
        # Only known names: a manifest must not lead the reader out of the folder.
        _need(name in REQUIRED + (TRAINER,), manifest_path, "unknown file %r" % name)
        path = snapshot / name
        if not path.is_file():
            raise CheckpointError("checkpoint %s is incomplete: %s is missing" % (snapshot, name))
        data = path.read_bytes()
        _need(hashlib.sha256(data).hexdigest() == digest, path,
              "its SHA-256 does not match %s" % MANIFEST)
        contents[name] = data
    return contents


def _check_vocab(path, vocab):
    _need(isinstance(vocab, list) and vocab
          and all(isinstance(c, str) and len(c) == 1 for c in vocab)
          and len(set(vocab)) == len(vocab), path,
          "expected a non-empty list of distinct single characters")


def _check_hparams(path, hparams, vocab_size):
    model = hparams.get("model") if isinstance(hparams, dict) else None
    _need(isinstance(model, dict) and isinstance(hparams.get("settings"), dict), path,
          "expected {'model': {...}, 'settings': {...}}")
    _need(model.get("cell") in CELLS, path, "model.cell must be one of %s" % (CELLS,))
    for key in ("num_hiddens", "num_layers", "vocab_size"):
        _need(_is_count(model.get(key), 1), path, "model.%s must be a positive integer" % key)
    _need(model["vocab_size"] == vocab_size, path,
          "model.vocab_size is %d but %s has %d characters"
          % (model["vocab_size"], VOCAB, vocab_size))


def _check_state(path, state):
    _need(isinstance(state, dict) and _is_count(state.get("epoch"), 0)
          and _numbers(state.get("history")) and _numbers(state.get("val_history")), path,
          "expected an integer epoch >= 0 and lists of perplexities")
    try:  # the generators themselves are the best judges of a state's shape
        version, internal, gauss = state["python_random"]
        state["python_random"] = (version, tuple(internal), gauss)
        random.Random().setstate(state["python_random"])
        name, keys, pos, has_gauss, cached = state["numpy_random"]
        state["numpy_random"] = (name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached)
        np.random.RandomState().set_state(state["numpy_random"])
    except (KeyError, TypeError, ValueError, OverflowError):
        raise _corrupt(path, "python_random or numpy_random is not a generator state") from None


def snapshots(directory):
    """Return ``[(number, path)]`` of the snapshot folders in ``directory``, oldest first."""
    found = []
    for entry in directory.iterdir():
        match = _SNAPSHOT.match(entry.name)
        if match and entry.is_dir():
            found.append((int(match.group(1)), entry))
    return sorted(found)


def find_snapshot(directory):
    """Return the snapshot folder ``load_checkpoint(directory)`` would read.

    ``directory`` may be a folder given to ``--save`` (its newest snapshot is
    used) or one snapshot folder itself.
    """
    directory = Path(directory)
    if not directory.exists():
        raise CheckpointError("checkpoint directory %s does not exist" % directory)
    if not directory.is_dir():
        raise CheckpointError("checkpoint %s is not a directory" % directory)
    if any((directory / name).exists() for name in REQUIRED + (MANIFEST,)):
        return directory
    found = snapshots(directory)
    if not found:
        raise CheckpointError("%s holds no checkpoint (no snapshot-* folder); save one with "
                              "`d2l-rnn train --save %s`" % (directory, directory))
    return found[-1][1]


def find_best(directory):
    """Return ``directory/best`` if it holds a snapshot of the run ``directory`` holds, else None.

    A best snapshot of another run (left by a run that replaced this
    folder's with ``overwrite``) is not this folder's best.
    """
    best = Path(directory) / BEST
    if not best.is_dir() or not snapshots(best):
        return None
    found = snapshots(Path(directory))
    if found and run_of_snapshot(found[-1][1]) != run_of_snapshot(snapshots(best)[-1][1]):
        return None
    return best


def checkpoint_root(snapshot):
    """Return the folder that ``save_checkpoint`` wrote ``snapshot`` into.

    None for a snapshot folder that was copied out under another name.
    """
    snapshot = Path(snapshot)
    return snapshot.parent if _SNAPSHOT.match(snapshot.name) else None


def read_snapshot(snapshot):
    """Return ``(docs, trainer_states)`` for a snapshot folder, all checked.

    ``docs`` maps vocab.json, hparams.json and state.json to their parsed
    contents (RNG states as the tuples ``setstate`` takes) and manifest.json
    to the manifest; ``trainer_states`` is the bytes of trainer.states, or
    None if it was not saved.
    """
    contents = _read_files(snapshot)
    docs = {name: _json(snapshot / name, contents[name]) for name in (VOCAB, HPARAMS, STATE)}
    docs[MANIFEST] = contents[MANIFEST]
    _check_vocab(snapshot / VOCAB, docs[VOCAB])
    _check_hparams(snapshot / HPARAMS, docs[HPARAMS], len(docs[VOCAB]))
    _check_state(snapshot / STATE, docs[STATE])
    return docs, contents.get(TRAINER)
