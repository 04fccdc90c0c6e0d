"""Snapshot folder names: what point of training each holds, and which is the newest.

A snapshot's name says where training was when it was saved:
``epoch-000012`` after epoch 12, ``epoch-000013-batch-000340`` 340 batches
into epoch 13 (12 epochs done). Saving the same point again into a folder
that still holds it adds ``.2``, ``.3``, ... so no name is ever reused.
Snapshots are ordered by (epochs done, batches done, that suffix).

Checkpoints written before these names (format 3) are called
``snapshot-000008``: a save counter, not a point. They are still read, and
placed by the epoch their ``state.json`` records (read leniently here, only
to order them, as :mod:`.reading` reads: never through a link, bounded;
:mod:`.load` checks it in full).

An entry with a snapshot's name that is not a folder of its own (a link to
one included) is refused, never followed (:func:`snapshots`).
"""

import json
import os
import re
from pathlib import Path

from .reading import check_entry, read_file

__all__ = ["snapshot_name", "snapshot_point", "snapshots", "is_snapshot_name",
           "checkpoint_root", "LOCK"]

LOCK = ".d2l_rnn-lock"  # the lock a saving process holds in the folder (see .lock)

_NAME = re.compile(r"epoch-(\d{6,})(?:-batch-(\d{6,}))?(?:\.(\d+))?\Z")
_LEGACY = re.compile(r"snapshot-(\d{6,})\Z")
_LIST_TRIES = 5  # listings of a folder whose snapshots vanish while they are checked


def snapshot_name(epoch, batch=0, generation=1):
    """The name of a snapshot after ``epoch`` epochs and ``batch`` batches of the next one."""
    name = ("epoch-%06d-batch-%06d" % (epoch + 1, batch)) if batch else "epoch-%06d" % epoch
    return name if generation == 1 else "%s.%d" % (name, generation)


def is_snapshot_name(name):
    """Whether ``name`` is a snapshot folder's name (this release's or format 3's)."""
    return bool(_NAME.match(name) or _LEGACY.match(name))


def _legacy_epoch(path):
    try:
        epoch = json.loads(read_file(path / "state.json").decode("utf-8"))["epoch"]
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return -1
    return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else -1


def _key(path):
    """``(epochs done, batches done, kind, number)``: the order of snapshots, or None."""
    match = _NAME.match(path.name)
    if match:
        epoch, batch, generation = (int(g) if g else 0 for g in match.groups())
        if batch:
            return (epoch - 1, batch, 1, generation)
        return (epoch, 0, 1, generation)
    match = _LEGACY.match(path.name)
    if match:
        return (_legacy_epoch(path), 0, 0, int(match.group(1)))
    return None


def snapshot_point(path):
    """``(epochs done, batches done)`` of the snapshot folder ``path``, or None if not one."""
    key = _key(Path(path))
    return None if key is None else key[:2]


def snapshots(directory):
    """Return ``[(key, path)]`` of the snapshot folders in ``directory``, oldest first.

    ``key[:2]`` is ``(epochs done, batches done)``. Raises CheckpointError for
    an entry named like a snapshot that is not a folder (a link to one
    included): it is never followed. A save renames its new snapshot in
    before it retires the old ones, so a listing made meanwhile can see no
    snapshot although the folder never lacks one: every snapshot listed is
    gone by the time it is looked at (seen on Python 3.13, whose listing
    leaves a wider gap), or the listing missed both names (seen with the
    suite in parallel) while the save held the folder's lock. Either way the
    folder is listed again.
    """
    lock = os.path.join(directory, LOCK)
    for _ in range(_LIST_TRIES):
        listed = [entry for entry in Path(directory).iterdir() if is_snapshot_name(entry.name)]
        found = []
        for entry in listed:
            if not check_entry(entry, want_dir=True):
                continue  # gone since the listing: a save retired it
            key = _key(entry)
            if key is not None:
                found.append((key, entry))
        if found or not (listed or os.path.lexists(lock)):
            break
    return sorted(found)


def checkpoint_root(snapshot):
    """Return the folder that ``save_checkpoint`` wrote ``snapshot`` into.

    None for a snapshot folder that was copied out under another name.
    """
    snapshot = Path(snapshot)
    return snapshot.parent if is_snapshot_name(snapshot.name) else None
