"""Where ``d2l-rnn train`` saves, and its run's ``fit`` called with the flags.

:func:`fit_run` turns the failures of a run (a save folder that cannot be
used, a newer snapshot, divergence, a full disk) into the one line the
command line prints; the checks themselves are the library's
(:func:`d2l_rnn.run.prepare_save_dir`).
"""

from ..checkpoint import CheckpointError, FolderBusyError, OtherRunError
from ..run import NewerSnapshotError, check_run_saveable, prepare_save_dir

__all__ = ["save_dir_of", "lock_save_dir", "fit_run"]


def save_dir_of(args, run):
    """The folder a run saves into: --save, else the --resume folder's, else None."""
    if args.save:
        return args.save
    if args.resume and run.save_dir is None:
        raise ValueError("--resume %s is a snapshot folder outside its --save folder; pass "
                         "--save DIR to say where the continued run's checkpoints go"
                         % args.resume)
    return run.save_dir


def _what_is_kept(run, checkpoint):
    if run.last_saved is not None:
        return "the last checkpoint, %s, is intact" % run.last_saved
    if checkpoint is not None:
        return "the checkpoint it resumed from, %s, is intact" % checkpoint.path
    return "no checkpoint was saved by this run"


def _folder_error(err, save_dir, args):
    if isinstance(err, NewerSnapshotError):
        point = "epoch %d" % err.point[0] + (", batch %d" % err.point[1] if err.point[1] else "")
        return ("--resume %s goes on from %s, but %s holds a newer snapshot of the run, %s; "
                "resume from %s to go on from the newest, or pass --save DIR to go on from "
                "%s into another folder" % (args.resume, point, err.save_dir, err.newest.name,
                                            err.save_dir, point))
    if isinstance(err, OtherRunError) and not args.overwrite and "another run" in str(err):
        return ("--save %s already holds a checkpoint of another run; continue it with "
                "--resume %s, or pass --overwrite to replace it" % (save_dir, save_dir))
    return "--save: %s" % err if isinstance(err, CheckpointError) else str(err)


def lock_save_dir(args, run, save_dir, fail):
    """Check the save folder and lock it for the whole run, before anything is said or
    trained (the run checks it again, holding the lock); return the lock or None."""
    if save_dir is None or not run.saves:
        return None
    given = {name: getattr(args, name) for name in ("save_every", "save_every_batches",
                                                     "save_every_minutes")}
    try:  # before the folder is made: what the first save would refuse, after training
        check_run_saveable(run, dict(run.saved_schedule, **{
            name: value for name, value in given.items() if value is not None}))
    except ValueError as err:
        raise fail(err) from None
    try:
        return prepare_save_dir(save_dir, run.model, args.overwrite, (run.epoch, run.batch),
                                run.protected)
    except ValueError as err:
        raise fail(_folder_error(err, save_dir, args)) from None


def fit_run(args, run, save_dir, log, checkpoint, fail):
    """``run.fit`` with the flags; its failures raise ``fail(message)``."""
    try:
        return run.fit(save_dir, save_every=args.save_every,
                       save_every_batches=args.save_every_batches,
                       save_every_minutes=args.save_every_minutes, max_time=args.max_time,
                       log=log, overwrite=args.overwrite,
                       handle_signals=args.kvstore == "device")
    except FloatingPointError as err:
        raise fail("%s; %s" % (err, _what_is_kept(run, checkpoint))) from None
    except CheckpointError as err:
        if isinstance(err, (OtherRunError, FolderBusyError)):
            raise fail(_folder_error(err, save_dir, args)) from None
        # The folder changed under the run (a link put where a snapshot or best/ goes).
        raise fail("could not save a checkpoint: %s; %s"
                   % (err, _what_is_kept(run, checkpoint))) from None
    except ValueError as err:  # the save folder (checked before training)
        raise fail(_folder_error(err, save_dir, args)) from None
    except OSError as err:
        raise fail("could not write a checkpoint or the log to %s (%s); %s"
                   % (save_dir or log, err, _what_is_kept(run, checkpoint))) from None
