"""What ``d2l-rnn train`` does once its flags are parsed, and the checks every command shares.

Every input is checked before any training starts, so a typo never costs a
run: the device, the checkpoint, the settings, the text and the prefixes, the
save folder, the log and the plot file. Problems the user can fix become
:class:`UsageError` with a message saying what is wrong and what to do.
(``generate`` and ``evaluate`` are in :mod:`.use`.)
"""

import dataclasses
import os
import sys

from ..checkpoint import (
    CheckpointError,
    load_checkpoint,
)
from ..data import TextDecodeError
from ..devices import parse_contexts
from ..settings import TrainSettings, load_text
from .callbacks import check_log_path
from .plotting import check_plot_path, plot_perplexity
from .run import TrainingRun
from .saving import prepare_save_dir, save_dir_of, save_every_of

__all__ = ["UsageError", "train", "text_error"]

# Settings that define the model's shape, its random stream or its optimizer's
# state: a resumed run cannot change them and still be the same run.
_FIXED_ON_RESUME = ("cell", "num_hiddens", "num_layers", "seed", "dropout", "embed_size",
                    "optimizer")


class UsageError(Exception):
    """A failure the user caused; its message is the one line printed."""


def _fail(err):
    return UsageError("d2l-rnn: error: %s" % err)


def _ctxs(text):
    try:
        return parse_contexts(text)
    except ValueError as err:
        raise _fail("--ctx %s: %s; pass --ctx cpu or --ctx auto" % (text, err)) from None


def _training_run(settings, ctxs, text, checkpoint, kvstore):
    try:
        return TrainingRun(settings, ctxs, text, checkpoint, kvstore=kvstore)
    except CheckpointError as err:  # the optimizer state does not fit
        raise _fail(err) from None
    except (ValueError, RuntimeError) as err:  # devices, rows, a missing launcher
        raise _fail("--ctx %s --kvstore %s: %s" % (",".join(str(c) for c in ctxs), kvstore,
                                                   err)) from None


def _load(directory, ctx):
    try:
        return load_checkpoint(directory, ctx)
    except CheckpointError as err:
        raise _fail(err) from None


def _settings(args, checkpoint):
    fields = [f.name for f in dataclasses.fields(TrainSettings)]
    given = {name: getattr(args, name) for name in fields if getattr(args, name) is not None}
    if "prefixes" in given:
        given["prefixes"] = tuple(given["prefixes"])
    if "data" in given:  # absolute: a resume from another folder finds it
        given["data"] = os.path.abspath(given["data"])
    if checkpoint is None:
        settings = TrainSettings.create(**given)
    else:
        arch = checkpoint.architecture
        saved = dataclasses.replace(
            TrainSettings.from_dict(checkpoint.settings), cell=arch["cell"],
            num_hiddens=arch["num_hiddens"], num_layers=arch["num_layers"],
            embed_size=arch.get("embed_size"))
        for name in _FIXED_ON_RESUME:
            if name in given and (given[name] or None) != (getattr(saved, name) or None):
                raise _fail("--%s %s does not match the checkpoint's %s; drop the flag to "
                            "resume, or start a new run without --resume"
                            % (name.replace("_", "-"), given[name], getattr(saved, name)))
        settings = dataclasses.replace(saved, **given)
    try:
        return settings.check()
    except ValueError as err:
        raise _fail(err) from None


def _vocab_mismatch(saved, text):
    extra = sorted(set(text) - set(saved))
    missing = sorted(set(saved) - set(text))
    parts = []
    if extra:
        parts.append("the text has %s, which the checkpoint lacks" % ", ".join(map(repr, extra)))
    if missing:
        parts.append("the checkpoint has %s, which the text lacks"
                     % ", ".join(map(repr, missing)))
    return _fail("the checkpoint's vocabulary (%d characters) does not match the training "
                 "text's (%d): %s; resume with the text (--data, --lower, --num-chars, "
                 "--val-chars) it was trained with" % (len(saved), len(text),
                                   "; ".join(parts) or "the same characters in another order"))


def _what_is_kept(run, checkpoint):
    if run.last_saved is not None:
        return "the last checkpoint, %s, is intact" % run.last_saved
    if checkpoint is not None:
        return "the checkpoint it resumed from, %s, is intact" % checkpoint.path
    return "no checkpoint was saved by this run"


def text_error(err, flag="--data"):
    """The UsageError for a text file that cannot be read (``err`` from reading it)."""
    if isinstance(err, TextDecodeError):
        return _fail("%s %s is not valid %s: byte 0x%02x at offset %d cannot be decoded; pass "
                     "--encoding with the file's encoding (e.g. --encoding latin-1)"
                     % (flag, err.path, err.encoding, err.byte, err.offset))
    if isinstance(err, OSError):
        return _fail("cannot read %s %s (%s)" % (flag, err.filename, err.strerror or err))
    message = str(err)  # read_text_file names the file as the argument "path"
    return _fail(flag + message[len("path"):] if message.startswith("path ") else message)


def _text(settings):
    try:
        text = load_text(settings)
    except (ValueError, TypeError, OSError) as err:
        raise text_error(err) from None
    if not settings.prefixes:  # a text of one's own: samples start the way it starts
        settings = dataclasses.replace(settings, prefixes=(text.opening(),))
    return settings, text


def _log_path(path):
    try:
        return check_log_path(path) if path else None
    except ValueError as err:
        raise _fail("--log: %s" % err) from None


def _report(run):
    judge, stream = run.judge, sys.stderr
    if judge.stopped:
        print("d2l-rnn: stopped early after epoch %d: no better validation perplexity for %d "
              "epochs" % (run.epoch, judge.since), file=stream)
    if run.best_saved is not None:
        print("d2l-rnn: best validation perplexity %f at epoch %d, in %s"
              % (judge.best, judge.best_epoch, run.best_saved), file=stream)
    if run.last_saved is not None:
        print("d2l-rnn: saved epoch %d in %s" % (run.epoch, run.last_saved), file=stream)


def _announce(run, checkpoint, settings):
    """Say on stderr what a resumed run will do; return whether there is anything to train."""
    if checkpoint is None:
        return True
    if run.epoch >= settings.num_epochs:
        print("d2l-rnn: nothing to train: the checkpoint is at epoch %d and --epochs is %d"
              % (run.epoch, settings.num_epochs), file=sys.stderr)
        return False
    if run.judge.exhausted:
        print("d2l-rnn: nothing to train: the checkpoint stopped early at epoch %d, %d epochs "
              "after its best; pass a larger --patience to go on"
              % (run.epoch, run.judge.since), file=sys.stderr)
        return False
    print("d2l-rnn: resuming %s at epoch %d of %d"
          % (checkpoint.path, run.epoch + 1, settings.num_epochs), file=sys.stderr)
    return True


def train(args):
    """``d2l-rnn train``; return the exit code."""
    ctxs = _ctxs(args.ctx)
    checkpoint = _load(args.resume, ctxs) if args.resume else None
    settings, text = _text(_settings(args, checkpoint))
    if checkpoint is not None and checkpoint.idx_to_char != text.idx_to_char:
        raise _vocab_mismatch(checkpoint.idx_to_char, text.idx_to_char)
    log = _log_path(args.log)
    try:
        plot = check_plot_path(args.plot) if args.plot else None
    except ValueError as err:
        raise _fail("--plot: %s" % err) from None
    try:
        save_dir, save_every = save_dir_of(args, checkpoint), save_every_of(args, checkpoint)
        # Last checks: they create the folder. The lock is held until the run ends. The
        # workers of a kvstore job learn only once connected which of them saves: that
        # one takes the lock then, still before training.
        early = args.kvstore == "device"
        lock = prepare_save_dir(save_dir, checkpoint, args.overwrite, early) if save_dir else None
    except ValueError as err:
        raise _fail(err) from None
    try:
        run = _training_run(settings, ctxs, text, checkpoint, args.kvstore)
        if save_dir and not early and run.saves:
            try:
                lock = prepare_save_dir(save_dir, checkpoint, args.overwrite, True)
            except ValueError as err:
                raise _fail(err) from None
        _train(args, run, checkpoint, settings, save_dir, save_every, log)
    finally:
        if lock is not None:
            lock.release()
    if plot is not None:
        try:
            plot_perplexity(run.history, run.val_history, plot)
        except (OSError, ValueError) as err:
            raise _fail("could not write the plot %s (%s)" % (plot, err)) from None
    _report(run)
    return 0


def _train(args, run, checkpoint, settings, save_dir, save_every, log):
    try:
        if _announce(run, checkpoint, settings):
            run.run(save_dir, save_every, overwrite=args.overwrite, log=log)
    except FloatingPointError as err:
        raise _fail("%s; %s" % (err, _what_is_kept(run, checkpoint))) from None
    except OSError as err:
        raise _fail("could not write a checkpoint or the log to %s (%s); %s"
                    % (save_dir or log, err, _what_is_kept(run, checkpoint))) from None
