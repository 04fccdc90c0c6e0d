"""A checkpoint folder's layout: file names, and reading a snapshot back.

A folder given to ``save_checkpoint`` holds snapshot folders named by the
point of training they hold (:mod:`.names`), each a complete checkpoint with
a manifest written last::

    DIR/epoch-000012/
        model.params    the parameters (MXNet's array file, nd.save)
        vocab.json      the characters in id order (idx_to_char)
        hparams.json    {"model": the architecture, "settings": training settings}
        state.json      epochs done, batches done in the next epoch, per-epoch
                        perplexities, Python's and NumPy's RNG state at the start
                        of the epoch in progress
        trainer.json    the optimizer's name, learning rate and update counts, if a
                        trainer is given
        trainer.params  the optimizer's state arrays (nd.save), if it has any
        position.params only within an epoch: the losses (and gradient norms) of its
                        batches so far and the hidden state carried after them (nd.save)
        manifest.json   the format, the writer, the run, every other file's SHA-256
    DIR/epoch-000013-batch-000340/   a snapshot 340 batches into epoch 13
    DIR/.d2l_rnn-lock   the lock a saving process holds (see :mod:`.lock`)
    DIR/best/epoch-000011/   the snapshot with the lowest validation
                             perplexity so far, saved the same way

No file is a pickle: nothing read from a checkpoint can run code. Everything
read is checked before use: the manifest, each file's SHA-256, each array
file's structure (:mod:`.arrays`) and each JSON field (:mod:`.fields`). The
first problem raises :class:`CheckpointError` naming the file. Format 3
(``snapshot-N`` folders, no batch count) is read as well.

Every file is read as :mod:`.reading` says: never through a link, never a
FIFO or a device, and only up to a size limit. A snapshot folder or
``best`` that is a link, or not a folder, is refused, never followed.
"""

import hashlib
import json
import os
import re
import stat
from pathlib import Path

from .errors import CheckpointError, need
from .fields import check_hparams, check_state, check_vocab
from .names import LOCK, checkpoint_root, snapshots
from .reading import check_entry, parse_json, read_file, read_or_fail

__all__ = ["CheckpointError", "FORMAT", "WRITER", "PARAMS", "VOCAB", "HPARAMS", "STATE",
           "TRAINER", "TRAINER_ARRAYS", "POSITION", "MANIFEST", "LOCK", "REQUIRED", "BEST",
           "SAVED_NAMES", "snapshots", "find_snapshot", "find_best", "checkpoint_root",
           "read_snapshot", "run_of_snapshot", "is_own_snapshot", "parse_json"]

# 3: no pickle (the optimizer state as JSON and nd.save arrays), a writer marker.
# 4: snapshots within an epoch (state.json's batch, position.params), named by epoch.
FORMAT, WRITER = 4, "d2l_rnn"
PARAMS, VOCAB, HPARAMS, STATE = "model.params", "vocab.json", "hparams.json", "state.json"
TRAINER, TRAINER_ARRAYS, MANIFEST = "trainer.json", "trainer.params", "manifest.json"
POSITION = "position.params"
REQUIRED = (PARAMS, VOCAB, HPARAMS, STATE)
BEST = "best"  # the folder, inside a checkpoint folder, of the best snapshot
_KNOWN = {FORMAT: REQUIRED + (TRAINER, TRAINER_ARRAYS, POSITION),
          3: REQUIRED + (TRAINER, TRAINER_ARRAYS),
          2: REQUIRED + ("trainer.states",), 1: REQUIRED + ("trainer.states",)}
_READ = (3, FORMAT)  # formats 1 and 2 held a pickle
SAVED_NAMES = frozenset(_KNOWN[FORMAT] + (MANIFEST,))  # every file a save writes (format 4)
_HEX = re.compile(r"[0-9a-f]+\Z")


def _is_digest(value, length):
    return isinstance(value, str) and len(value) == length and bool(_HEX.match(value))


def _read_manifest(snapshot):
    path = snapshot / MANIFEST
    manifest = parse_json(path, read_or_fail(path, snapshot))
    need(isinstance(manifest, dict) and isinstance(manifest.get("format"), int)
         and not isinstance(manifest["format"], bool), path,
         "expected {'format': %d, 'writer': %r, 'run': ..., 'files': {...}}" % (FORMAT, WRITER))
    version = manifest["format"]
    need(version <= FORMAT, path, "format %s is newer than this d2l_rnn reads (%d); upgrade "
         "d2l_rnn" % (version, FORMAT))
    # Refused before anything else is read: formats 1 and 2 stored a pickle.
    need(version in _READ, path, "format %s was written by an older d2l_rnn and holds a "
         "pickle, which this one never loads; train the model again" % version)
    need(set(manifest) == {"format", "writer", "run", "files"} and manifest["writer"] == WRITER,
         path, "it was not written by d2l_rnn (expected format, writer, run and files)")
    need(_is_digest(manifest["run"], 32), path, "run must be 32 hexadecimal digits")
    files = manifest["files"]
    need(isinstance(files, dict), path, "files must map file names to SHA-256 digests")
    for name in files:  # only known names: a manifest must not lead out of the folder
        need(name in _KNOWN[version], path, "unknown file %r" % name)
    need(all(_is_digest(d, 64) for d in files.values()), path,
         "files must map file names to SHA-256 digests")
    for name in REQUIRED:
        need(name in files, path, "it does not list %s" % name)
    need((TRAINER_ARRAYS not in files) or TRAINER in files, path,
         "it lists %s without %s" % (TRAINER_ARRAYS, TRAINER))
    return manifest


def run_of_snapshot(snapshot):
    """Return the run id in the manifest of ``snapshot``, or None if it cannot be read."""
    try:
        return _read_manifest(snapshot)["run"]
    except CheckpointError:
        return None


def _read_files(snapshot):
    manifest = _read_manifest(snapshot)
    contents = {MANIFEST: manifest}
    for name, digest in manifest["files"].items():
        path = snapshot / name
        data = read_or_fail(path, snapshot)
        need(hashlib.sha256(data).hexdigest() == digest, path,
             "its SHA-256 does not match %s" % MANIFEST)
        contents[name] = data
    return contents


def is_own_snapshot(snapshot):
    """True if ``snapshot`` is a complete snapshot written by this library.

    Its manifest must carry a format this library wrote (older ones too),
    list only known files, and every file must match its SHA-256, with
    nothing else in the folder: only such a folder is ever deleted.
    """
    try:
        if not stat.S_ISDIR(os.lstat(str(snapshot)).st_mode):
            return False  # a link is never ours, whatever it leads to
        manifest = json.loads(read_file(snapshot / MANIFEST).decode("utf-8"))
        files, version = manifest["files"], manifest["format"]
        if (version not in _KNOWN or not isinstance(manifest.get("run"), str)
                or (version in _READ and manifest.get("writer") != WRITER)
                or not set(files) <= set(_KNOWN[version])
                or {p.name for p in snapshot.iterdir()} != set(files) | {MANIFEST}):
            return False
        return all(hashlib.sha256(read_file(snapshot / n)).hexdigest() == d
                   for n, d in files.items())
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return False


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
    try:
        found = snapshots(directory)
    except OSError as err:
        raise CheckpointError("cannot read checkpoint directory %s: %s"
                              % (directory, err.strerror or err)) from None
    if not found:
        raise CheckpointError("%s holds no checkpoint (no epoch-* or snapshot-* folder); save "
                              "one with `d2l-rnn train --save %s`" % (directory, directory))
    return found[-1][1]


def find_best(directory):
    """Return ``directory/best`` if it holds a snapshot of the run ``directory`` holds, else None.

    A best snapshot of another run (left by a run that replaced this
    folder's with ``overwrite``) is not this folder's best.
    """
    best = Path(directory) / BEST
    if not check_entry(best, want_dir=True) or not snapshots(best):
        return None
    found = snapshots(Path(directory))
    if found and run_of_snapshot(found[-1][1]) != run_of_snapshot(snapshots(best)[-1][1]):
        return None
    return best


def read_snapshot(snapshot):
    """Return ``(docs, blobs)`` for a snapshot folder, all checked.

    ``docs`` maps vocab.json, hparams.json and state.json (and trainer.json
    if saved) to their parsed contents (RNG states as the tuples
    ``setstate`` takes) and manifest.json to the manifest; ``blobs`` maps
    model.params (and trainer.params and position.params if saved) to their
    verified bytes. ``docs[STATE]["batch"]`` is 0 for format 3.
    """
    contents = _read_files(snapshot)
    docs = {name: parse_json(snapshot / name, contents[name])
            for name in (VOCAB, HPARAMS, STATE, TRAINER) if name in contents}
    docs[MANIFEST] = contents[MANIFEST]
    check_vocab(snapshot / VOCAB, docs[VOCAB])
    check_hparams(snapshot / HPARAMS, docs[HPARAMS], len(docs[VOCAB]))
    check_state(snapshot / STATE, docs[STATE], docs[MANIFEST]["format"])
    need((POSITION in contents) == (docs[STATE]["batch"] > 0), snapshot / MANIFEST,
         "%s must be listed exactly when state.json's batch is not 0" % POSITION)
    blobs = {name: contents[name] for name in (PARAMS, TRAINER_ARRAYS, POSITION)
             if name in contents}
    return docs, blobs
