"""What ``d2l-rnn train`` does once its flags are parsed, and the checks every command shares.

The training run itself is the library's (:class:`~d2l_rnn.run.TrainingRun`):
here flags become its settings and arguments, and its errors and its
:class:`~d2l_rnn.run.RunResult` become lines. Every input is checked before
any training starts, so a typo never costs a run: the device, the
checkpoint, the settings, the text and the prefixes, the save folder, the
log and the plot file. Problems the user can fix become :class:`UsageError`
with a message saying what is wrong and what to do. (``generate`` and
``evaluate`` are in :mod:`.use`; the summary in :mod:`.summary`.)
"""

import dataclasses
import os
import sys

from .._util.foreign import ForeignCharacterError
from ..checkpoint import CheckpointError, load_checkpoint
from ..data import TextDecodeError
from ..devices import parse_contexts
from ..run import (
    FixedSettingError,
    InitShapeError,
    TrainingRun,
    VocabularyError,
    check_log_path,
    load_resumable,
    pick_snapshot,
    resume_settings,
)
from ..run.init_from import init_settings
from ..settings import TrainSettings, load_text
from .plotting import check_plot_path, plot_perplexity
from .saving import fit_run, lock_save_dir, save_dir_of
from .summary import exit_code, stop_line, summary_lines

__all__ = ["UsageError", "train", "text_error"]


class UsageError(Exception):
    """A failure the user caused; its message is the one line printed."""


def _fail(err):
    return UsageError("d2l-rnn: error: %s" % err)


def _ctxs(text):
    try:
        return parse_contexts(text)
    except ValueError as err:
        raise _fail("--ctx %s: %s; pass --ctx cpu or --ctx auto" % (text, err)) from None


def _training_run(settings, ctxs, text, checkpoint, args):
    kvstore, given = args.kvstore, dataclasses.asdict(settings)
    try:
        if checkpoint is None:
            return TrainingRun(settings, ctxs, text, kvstore=kvstore)
        if args.init_from:
            return TrainingRun.init_from(checkpoint, ctxs, text, kvstore=kvstore, **given)
        return TrainingRun.resume(checkpoint, ctxs, text, kvstore=kvstore, **given)
    except CheckpointError as err:  # the optimizer state or the position does not fit
        raise _fail(err) from None
    except (ValueError, RuntimeError) as err:  # devices, rows, a missing launcher
        raise _fail("--ctx %s --kvstore %s: %s" % (",".join(str(c) for c in ctxs), kvstore,
                                                   err)) from None


def _load(directory, ctx, resumable=False):
    try:
        return (load_resumable if resumable else load_checkpoint)(directory, ctx)
    except CheckpointError as err:
        raise _fail(err) from None


def _given(args):
    """The settings given as flags."""
    fields = [f.name for f in dataclasses.fields(TrainSettings)]
    given = {name: getattr(args, name) for name in fields if getattr(args, name) is not None}
    if "prefixes" in given:
        given["prefixes"] = tuple(given["prefixes"])
    if "data" in given:  # absolute: a resume from another folder finds it
        given["data"] = os.path.abspath(given["data"])
    return given


def _starting_point(args, ctxs):
    """The checkpoint the run goes on with (--resume) or starts from (--init-from), or None."""
    if args.init_from and args.resume:
        raise _fail("--init-from starts a new run from a checkpoint's weights, --resume goes on "
                    "with a run (its weights, optimizer state and place): give one of them")
    if args.which and not args.init_from:
        raise _fail("--which chooses the snapshot of --init-from DIR; give --init-from too")
    if args.resume:
        return _load(args.resume, ctxs, resumable=True)
    if not args.init_from:
        return None
    try:
        return _load(pick_snapshot(args.init_from, args.which), ctxs)
    except CheckpointError as err:
        raise _fail(err) from None
    except ValueError:
        raise _fail("--init-from %s has no best snapshot (a best/ folder is kept when training "
                    "with validation and --save); use --which last" % args.init_from) from None


def _settings(given, checkpoint, init=False):
    try:
        if checkpoint is None:
            return TrainSettings.create(**given).check()
        if init:
            return init_settings(checkpoint, **given).check(len(checkpoint.idx_to_char))
        return resume_settings(checkpoint, **given).check()
    except (FixedSettingError, InitShapeError) as err:
        flag = "--%s %s" % (err.name.replace("_", "-"), err.given)
        if init:
            raise _fail("%s does not match the checkpoint's %s: a run started with --init-from "
                        "keeps its model's shape; drop the flag" % (flag, err.saved)) from None
        raise _fail("%s does not match the checkpoint's %s; drop the flag to resume, or "
                    "start a new run without --resume" % (flag, err.saved)) from None
    except ValueError as err:
        raise _fail(err) from None


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


def _text(settings, checkpoint, args):
    try:
        text = load_text(settings, idx_to_char=checkpoint.idx_to_char if args.init_from else None)
    except ForeignCharacterError as err:
        raise _fail(err.naming(args.init_from, args.data).describe(flags=True)) from None
    except (ValueError, TypeError, OSError) as err:
        raise text_error(err) from None
    if checkpoint is not None and checkpoint.idx_to_char != text.idx_to_char:
        mismatch = VocabularyError(checkpoint.idx_to_char, text.idx_to_char)
        raise _fail("the checkpoint's vocabulary (%d characters) does not match the training "
                    "text's (%d): %s; resume with the text (--data, --lower, --num-chars, "
                    "--val-chars) it was trained with"
                    % (len(mismatch.saved), len(mismatch.text), mismatch.difference()))
    return text


def _checked_paths(args):
    try:
        log = check_log_path(args.log) if args.log else None
    except ValueError as err:
        raise _fail("--log: %s" % err) from None
    try:
        plot = check_plot_path(args.plot) if args.plot else None
    except ValueError as err:
        raise _fail("--plot: %s" % err) from None
    if args.kvstore != "device" and (args.max_time is not None or args.save_every_batches
                                     or args.save_every_minutes):
        raise _fail("--kvstore %s stops and saves at epoch ends only: --max-time, "
                    "--save-every-batches and --save-every-minutes are not for it"
                    % args.kvstore)
    return log, plot


def _announce(run, checkpoint, args):
    """Say on stderr where a resumed run goes on from, or whose weights a new run starts from."""
    if checkpoint is not None and args.init_from:
        print("d2l-rnn: starting from the weights of %s (epoch %d)" % (
            checkpoint.path, checkpoint.epoch), file=sys.stderr)
    elif checkpoint is not None and run.epoch < run.settings.num_epochs \
            and not run.judge.exhausted:
        within = ", from batch %d" % (run.batch + 1) if run.batch else ""
        print("d2l-rnn: resuming %s at epoch %d of %d%s" % (
            checkpoint.path, run.epoch + 1, run.settings.num_epochs, within), file=sys.stderr)


def train(args):
    """``d2l-rnn train``; return the exit code."""
    ctxs = _ctxs(args.ctx)
    checkpoint = _starting_point(args, ctxs)
    settings = _settings(_given(args), checkpoint, bool(args.init_from))
    text = _text(settings, checkpoint, args)
    log, plot = _checked_paths(args)
    run = _training_run(settings, ctxs, text, checkpoint, args)
    try:
        save_dir = save_dir_of(args, run)
    except ValueError as err:
        raise _fail(err) from None
    lock = lock_save_dir(args, run, save_dir, _fail)
    try:
        _announce(run, checkpoint, args)
        result = fit_run(args, run, save_dir, log, checkpoint, _fail)
    finally:
        if lock is not None:
            lock.release()
    if plot is not None:
        try:
            plot_perplexity(run.history, run.val_history, plot)
        except (OSError, ValueError) as err:
            raise _fail("could not write the plot %s (%s)" % (plot, err)) from None
    for line in summary_lines(result, run, args):
        print(line)
    if result.signal is not None:
        print(stop_line(result, run, args), file=sys.stderr)
    return exit_code(result)
