"""Whose a checkpoint folder is: the run each model belongs to, and who may write where.

Each model saved (or loaded) in this process is tied to a run id, which
every snapshot's manifest records. A folder whose newest snapshot is of
another run is refused unless the caller allows replacing it, and even then
only when everything in the folder is this library's own (snapshots that
verify, its lock and leftovers): a user's files are never replaced. What
looks like this library's by its name but is a link, or of another kind
than this library makes, is refused (:func:`check_names`).
"""

import os
import stat
import weakref
from pathlib import Path

from .errors import OtherRunError
from .layout import BEST, LOCK, SAVED_NAMES, is_own_snapshot, run_of_snapshot
from .names import is_snapshot_name, snapshots
from .reading import check_entry

__all__ = ["run_of", "tie_to_run", "check_save_dir", "check_names", "is_own_leftover"]

_LEFTOVERS = (".d2l_rnn-tmp-", ".d2l_rnn-old-")

# The run each model of this process belongs to: set by its first save, or by
# load_checkpoint for a model it rebuilt (a resumed run is the same run).
_RUNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def run_of(model):
    """The run id ``model`` is tied to in this process, or None."""
    return _RUNS.get(model) if model is not None else None


def tie_to_run(model, run):
    """Tie ``model`` to the run ``run`` (a resumed model continues its checkpoint's run)."""
    _RUNS[model] = run


def _mode(path):
    try:
        return os.lstat(str(path)).st_mode
    except OSError:
        return 0


def is_own_leftover(path):
    """Whether ``path`` is a folder a killed save left: only regular files a save writes."""
    if not stat.S_ISDIR(_mode(path)):
        return False
    try:
        return all(e.name in SAVED_NAMES and stat.S_ISREG(_mode(e)) for e in path.iterdir())
    except OSError:
        return False


def _is_ours(entry, top=True):
    if entry.name == LOCK:
        return stat.S_ISREG(_mode(entry))  # its contents are checked when it is locked
    if entry.name.startswith(_LEFTOVERS):
        return is_own_leftover(entry)
    if top and entry.name == BEST and stat.S_ISDIR(_mode(entry)):  # the best snapshot
        return all(_is_ours(e, top=False) for e in entry.iterdir())
    return is_snapshot_name(entry.name) and is_own_snapshot(entry)


def check_names(directory):
    """Raise CheckpointError if a name d2l_rnn uses in ``directory`` is a link or of another kind.

    ``best`` and snapshots must be folders, the lock a file; none may be a
    link, which would lead a save out of the folder.
    """
    directory = Path(directory)
    check_entry(directory / BEST, want_dir=True)
    check_entry(directory / LOCK, want_dir=False)
    snapshots(directory)  # each snapshot name is checked there


def check_save_dir(directory, model=None, overwrite=False):
    """Raise :class:`OtherRunError` unless snapshots of ``model`` may go into ``directory``.

    They may where there is no snapshot, where the newest belongs to
    ``model``'s run (the same run, continued), or with ``overwrite`` where
    the folder holds nothing but this library's own snapshots and files.
    A folder with a snapshot's name that is not a d2l_rnn checkpoint is never replaced.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return
    check_names(directory)
    found = snapshots(directory)
    if not found:
        return
    newest = found[-1][1]
    run = run_of(model)
    if run is not None and run_of_snapshot(newest) == run:
        return
    if not is_own_snapshot(newest):
        raise OtherRunError(
            "%s holds %s, which is not a complete d2l_rnn checkpoint; it is never replaced: "
            "move it away, or save elsewhere" % (directory, newest.name))
    if not overwrite:
        raise OtherRunError(
            "%s already holds a checkpoint of another run (%s); pass overwrite=True to "
            "replace it, continue that run from load_checkpoint(%r), or save elsewhere"
            % (directory, newest.name, str(directory)))
    foreign = sorted(e.name for e in directory.iterdir() if not _is_ours(e))
    if foreign:
        raise OtherRunError(
            "%s holds files that are not d2l_rnn snapshots (%s); overwriting only ever "
            "replaces this library's own checkpoints: move them away, or save elsewhere"
            % (directory, ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")))
