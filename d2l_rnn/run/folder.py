"""The folder a run saves into, and the snapshot a resume starts from.

* :func:`prepare_save_dir` checks a save folder before any training, locks
  it for the run, and refuses one that holds another run's snapshots or a
  newer snapshot of this run (going on from an older point would replace
  work saved after it: :class:`NewerSnapshotError`); :func:`check_run_saveable`,
  called before it, refuses what the run's first save would refuse after training.
* :func:`find_resumable` picks the newest snapshot of a folder's run,
  wherever the run put it: the folder itself or its ``best/`` (a ``best``
  that is a link, or not a folder, is refused, never followed).
* :func:`save_root` is the folder a resumed run goes on saving into: the
  snapshot's own folder, or ``DIR`` for a snapshot in ``DIR/best``.

Each function raises ValueError (or a :class:`~d2l_rnn.checkpoint.CheckpointError`)
with a message that says what to do.
"""

import os
import tempfile
from pathlib import Path

from ..checkpoint import (
    BEST,
    CheckpointError,
    check_save_dir,
    check_saveable,
    checkpoint_root,
    lock_folder,
)
from ..checkpoint.layout import find_snapshot, run_of_snapshot
from ..checkpoint.lock import holds_lock
from ..checkpoint.names import snapshots
from ..checkpoint.owner import run_of
from ..checkpoint.reading import check_entry

__all__ = ["prepare_save_dir", "check_run_saveable", "find_resumable", "save_root",
           "newest_of_run", "NewerSnapshotError"]


class NewerSnapshotError(ValueError):
    """The save folder holds a snapshot of this run newer than the point it would go on from.

    ``newest`` is that snapshot's path, ``point`` the run's ``(epochs, batches)``.
    """

    def __init__(self, save_dir, newest, point):
        super().__init__(
            "%s holds %s, newer than the point this run would go on from (epoch %d, batch %d): "
            "resume from %s to go on from the newest, or save elsewhere"
            % (save_dir, newest, point[0], point[1], save_dir))
        self.save_dir, self.newest, self.point = save_dir, newest, point


def newest_of_run(directory, run):
    """``(point, path)`` of the newest snapshot of ``run`` in ``directory`` or its best/."""
    directory = Path(directory)
    if not directory.is_dir():  # (it may be a link: the caller named it)
        return None
    folders = [directory] + ([directory / BEST] if check_entry(directory / BEST, True) else [])
    found = [(key[:2], path) for folder in folders for key, path in snapshots(folder)
             if run_of_snapshot(path) == run]
    return max(found, default=None)


def check_run_saveable(run, schedule):
    """Raise ValueError now, before training and before a folder is touched, if a snapshot of
    ``run`` (a :class:`~.training_run.TrainingRun`) with ``schedule`` (the save settings)
    could not be saved: a vocabulary or a setting a checkpoint cannot hold."""
    try:
        check_saveable(run.text.idx_to_char, dict(run.settings.to_dict(), **schedule),
                       run.model)
    except (ValueError, TypeError) as err:
        raise ValueError("a checkpoint of this run could not be saved: %s; nothing was "
                         "trained" % err) from None


def _check_apart(path, protected):
    """Raise ValueError if ``path`` is one of the ``protected`` folders, inside or around one."""
    where = path.resolve()
    for folder in protected:
        relation = ("is" if where == folder else "is inside" if folder in where.parents
                    else "holds" if where in folder.parents else None)
        if relation is not None:
            raise ValueError("%s %s the checkpoint folder %s this run started from, which it "
                             "never writes into; save into a folder of its own"
                             % (path, relation, folder))


def prepare_save_dir(directory, model=None, overwrite=False, point=None, protected=()):
    """Check ``directory`` for a run of ``model`` and lock it; return the lock.

    ``point`` is where the run goes on from, ``(epochs, batches)``, when it
    continues a checkpoint. ``protected``: resolved folders the run must not
    save into, nor inside or around them (the checkpoint a fine-tuned run
    started from). A folder this process has locked already is checked all
    the same, and None is returned (the lock stays its holder's).

    Raises
    ------
    ValueError
        For a file, an unwritable folder, a protected one, or a newer snapshot of the run.
    CheckpointError
        If another process holds the folder, or (OtherRunError) it holds
        another run's snapshots and ``overwrite`` is not given.
    """
    path = Path(directory)
    _check_apart(path, protected)
    if path.exists() and not path.is_dir():
        raise ValueError("%s is a file, not a directory; choose another path" % path)
    try:  # find out now, not after hours of training, that nothing can be written
        path.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(dir=path))
        lock = None if holds_lock(path) else lock_folder(path)  # one run per folder
    except OSError as err:
        raise ValueError("cannot write checkpoints to %s (%s); choose a writable folder"
                         % (path, err.strerror or err)) from None
    try:
        for folder in (path, path / BEST):
            check_save_dir(folder, model, overwrite)
        run = run_of(model)  # None for a new run: no snapshot of it anywhere yet
        newest = newest_of_run(path, run) if point is not None and run is not None else None
        if newest is not None and newest[0] > tuple(point):
            raise NewerSnapshotError(path, newest[1], point)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return lock


def find_resumable(directory):
    """The snapshot to resume from: ``directory`` if it is one, else the newest of the
    run in ``directory`` and ``directory/best`` (the folder's own on a tie).

    Raises
    ------
    CheckpointError
        If there is none (the message says how to save one).
    """
    directory = Path(directory)
    try:
        newest = find_snapshot(directory)  # the folder's own, or the errors of a bad folder
    except CheckpointError:
        # Only a folder holding no snapshot (snapshots raises for a link named like one).
        best = (snapshots(directory / BEST) if directory.is_dir() and not snapshots(directory)
                and check_entry(directory / BEST, want_dir=True) else [])
        if not best:
            raise
        return best[-1][1]  # a run stopped before its first regular save
    if newest.parent != directory or not check_entry(directory / BEST, want_dir=True):
        return newest
    best = snapshots(directory / BEST)
    if best and run_of_snapshot(best[-1][1]) == run_of_snapshot(newest) \
            and best[-1][0][:2] > snapshots(directory)[-1][0][:2]:
        return best[-1][1]
    return newest


def save_root(snapshot):
    """The folder a run resumed from ``snapshot`` saves into, or None if it cannot tell
    (a snapshot folder copied out of its save folder).

    For a snapshot in a folder called ``best`` that is the folder around it,
    unless that one holds snapshots of another run, or the ``best`` folder
    has a ``best/`` of its own (then it was itself a save folder).
    """
    root = checkpoint_root(snapshot)
    if root is None or root.name != BEST or check_entry(root / BEST, want_dir=True):
        return root
    around = snapshots(root.parent)
    if around and run_of_snapshot(around[-1][1]) != run_of_snapshot(Path(snapshot)):
        return root
    return root.parent
