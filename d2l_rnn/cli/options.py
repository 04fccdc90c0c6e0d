"""Flag types and the flags of training on one's own text, of sampling and of ``evaluate``.

Each flag type converts the text and then applies the library's own check
(:mod:`d2l_rnn._util.checks`), so a flag and the Python argument it sets
refuse the same values with the same words.
"""

import argparse
import functools

from .._util.checks import BadValue, check_count, check_fraction, check_number, check_positive_int
from .._util.setting_checks import MAX_COUNT
from ..model import MAX_LAYERS
from ..optimizer import OPTIMIZER_DEFAULTS
from ..run import LOG_FIELDS, SAVE_EVERY, SAVE_EVERY_MINUTES, parse_duration
from ..settings import MAX_GENERATED, MAX_SEED, OWN_TEXT_DEFAULTS, TrainSettings

__all__ = ["add_own_text", "add_saving", "add_sampling", "add_checkpoint", "add_evaluate",
           "MAX_SAMPLES", "default_help", "data_defaults"]

MAX_SAMPLES = 10 ** 4  # samples of one generate command
_CHAPTER = TrainSettings()
# What None means for a setting, in the help; the flags not named after their setting.
_NONE = {"num_chars": "all", "embed_size": "one-hot", "patience": "never"}
_FLAGS = {"clipping_theta": "--clip", "num_epochs": "--epochs", "prefixes": "--prefix"}


def _shown(name, value):
    if value is None:
        return _NONE.get(name, "none")
    return "%g" % value if isinstance(value, float) else str(value)


def _flag(name):
    return _FLAGS.get(name, "--" + name.replace("_", "-"))


def data_defaults():
    """``[(flag, value)]``: the defaults ``--data`` changes, as the help shows them.

    Taken from :data:`~d2l_rnn.settings.OWN_TEXT_DEFAULTS` (the recipe for
    one's own text; its samples' prefix, the text's opening, is said apart),
    with the rate and clipping norm of the recipe's optimizer.
    """
    changed = []
    for name, value in OWN_TEXT_DEFAULTS.items():
        if name == "prefixes" or value == getattr(_CHAPTER, name):
            continue
        changed.append((_flag(name), _shown(name, value)))
        if name == "optimizer":
            changed += [(_flag(n), _shown(n, OPTIMIZER_DEFAULTS[value][n]))
                        for n in ("lr", "clipping_theta")
                        if OPTIMIZER_DEFAULTS[value][n] != getattr(_CHAPTER, n)]
    return changed


def default_help(name):
    """``default: V`` for the setting ``name``, and ``; with --data: W`` where --data changes it."""
    text = "default: " + _shown(name, getattr(_CHAPTER, name))
    if name in OWN_TEXT_DEFAULTS and OWN_TEXT_DEFAULTS[name] != getattr(_CHAPTER, name):
        text += "; with --data: " + _shown(name, OWN_TEXT_DEFAULTS[name])
    return text


def _flag_type(check, convert, **bounds):
    """An argparse type: ``convert`` the text, then apply the library's own ``check``."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None  # not a number at all: the check below says what it wants
        try:
            return check("value", value, **bounds)
        except BadValue as err:
            raise argparse.ArgumentTypeError("expected %s, got %r" % (err.expected, text)) \
                from None
    return parse


_positive_int = _flag_type(check_positive_int, int)
_count = _flag_type(check_count, int)
_seed = _flag_type(check_count, int, high=MAX_SEED)
_length = _flag_type(check_positive_int, int, high=MAX_GENERATED)
_layers = _flag_type(check_positive_int, int, high=MAX_LAYERS)
# Saved with a checkpoint: held to the loader's bound, so no first save fails after training.
_many = _flag_type(check_positive_int, int, high=MAX_COUNT)
_many_or_none = _flag_type(check_count, int, high=MAX_COUNT)
_samples = _flag_type(check_positive_int, int, high=MAX_SAMPLES)
_number = functools.partial(_flag_type, check_number, float)


_fraction = functools.partial(_flag_type, check_fraction, float)


def _duration(text):
    """An argparse type: a duration (``90s``, ``20m``, ``2h``, ``1h30m``), kept as its text."""
    try:
        parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a duration such as 90s, 20m, 2h or 1h30m "
                                         "(a plain number is seconds), got %r" % text) from None
    return text


def add_saving(p):
    """``train``'s flags for checkpoints: where, how often, resuming, and a time budget."""
    p.add_argument("--save", metavar="DIR",
                   help="write checkpoints into DIR (default: the --resume folder, else none)")
    p.add_argument("--save-every", type=_many, metavar="K",
                   help="checkpoint every K epochs and after the last (default: the "
                   "checkpoint's with --resume, else %d)" % SAVE_EVERY)
    p.add_argument("--save-every-batches", type=_many_or_none, metavar="N",
                   help="also checkpoint every N batches, within epochs; 0 = never (default: "
                   "the checkpoint's with --resume, else never)")
    p.add_argument("--save-every-minutes", type=_number(low=0.0, inclusive=True), metavar="M",
                   help="also checkpoint every M minutes (fractions allowed), within epochs; "
                   "0 = never (default: the checkpoint's with --resume, else %g with --data, "
                   "never without)" % SAVE_EVERY_MINUTES)
    p.add_argument("--max-time", type=_duration, metavar="DURATION",
                   help="end training when this much time is up, after the batch in "
                   "progress, with a checkpoint to --resume from, e.g. 90s, 20m, 2h, 1h30m")
    p.add_argument("--resume", metavar="DIR",
                   help="continue the newest checkpoint in DIR (or DIR/best) where it stopped; "
                   "checkpoints go on into DIR; not with --init-from")
    p.add_argument("--init-from", metavar="DIR",
                   help="start a new run from the weights of a trained checkpoint (fine-tuning): "
                   "DIR is a --save folder (see --which) or a snapshot in it; the text's "
                   "characters must all be in its vocabulary, the model's shape is its own, "
                   "the optimizer, epochs and seed start afresh, and nothing is written into "
                   "DIR (--save elsewhere); not with --resume")
    p.add_argument("--which", choices=("best", "last"),
                   help="with --init-from: its snapshot with the lowest validation perplexity "
                   "(DIR/best) or the latest (default: best when the folder has one)")
    p.add_argument("--overwrite", action="store_true",
                   help="let --save replace a checkpoint of another run already in DIR")


def add_own_text(p):
    """``train``'s flags for a text of one's own, validation, stopping and the metrics file."""
    p.add_argument("--data", metavar="FILE",
                   help="train on this text file instead of The Time Machine, kept as it is "
                   "(case, line breaks, any Unicode); its characters are the vocabulary (with "
                   "--init-from: the checkpoint's); it changes the defaults named above")
    p.add_argument("--lower", action="store_true", default=None,
                   help="lower-case the --data text first")
    p.add_argument("--encoding", metavar="NAME",
                   help="how the --data file's bytes are decoded (default: utf-8)")
    p.add_argument("--val-frac", type=_fraction(), metavar="F",
                   help="hold out the last fraction F of the text for validation (%s); not "
                   "together with --val-chars" % default_help("val_frac"))
    p.add_argument("--patience", type=_count, metavar="N",
                   help="stop after N epochs without a better validation perplexity (%s; "
                   "0 = never)" % default_help("patience"))
    p.add_argument("--lr-decay", type=_number(low=1.0, inclusive=True), metavar="F",
                   help="divide the learning rate by F after each epoch without a better "
                   "validation perplexity (%s; 1 = never)" % default_help("lr_decay"))
    p.add_argument("--dropout", type=_fraction(), metavar="P",
                   help="dropout between stacked layers and before the output layer "
                   "(%s); fixed by the checkpoint on --resume" % default_help("dropout"))
    p.add_argument("--log", metavar="FILE.csv",
                   help="write a row per epoch (%s) as training goes; continued on --resume"
                   % ", ".join(LOG_FIELDS))


def add_checkpoint(p):
    """``--checkpoint DIR`` and ``--which {best,last}``: the snapshot a command reads."""
    p.add_argument("--checkpoint", required=True, metavar="DIR",
                   help="a folder written by `d2l-rnn train --save DIR` (or a snapshot in it)")
    p.add_argument("--which", choices=("best", "last"),
                   help="the snapshot with the lowest validation perplexity (DIR/best) or the "
                   "latest (default: best when the folder has one)")


def add_sampling(p):
    """``generate``'s flags beyond the temperature."""
    p.add_argument("--top-k", type=_positive_int, metavar="K",
                   help="draw only among the K likeliest characters (1 = greedy)")
    p.add_argument("--top-p", type=_fraction(low_inclusive=False, high_inclusive=True),
                   metavar="P", help="draw only among the fewest likeliest characters whose "
                   "probabilities add up to P (nucleus sampling)")
    p.add_argument("--num-samples", type=_samples, default=1, metavar="N",
                   help="print N samples, separated by a blank line (at most %d; default: 1)"
                   % MAX_SAMPLES)


def add_evaluate(subparsers):
    """The ``evaluate`` command."""
    p = subparsers.add_parser(
        "evaluate", help="print a checkpoint's perplexity on a text", allow_abbrev=False,
        description="Read FILE once, left to right, and print the checkpoint's perplexity "
        "on it: exp of the mean cross-entropy of predicting each character from those "
        "before it. The text is prepared as the checkpoint's training text was (The Time "
        "Machine's: lower-cased, line breaks as spaces).")
    add_checkpoint(p)
    p.add_argument("--data", required=True, metavar="FILE", help="the text to evaluate on")
    p.add_argument("--lower", action="store_true", default=None,
                   help="lower-case the text first (default: as the checkpoint was trained)")
    p.add_argument("--encoding", default="utf-8", metavar="NAME",
                   help="how the file's bytes are decoded (default: utf-8)")
    p.add_argument("--ctx", "--device", choices=("auto", "cpu", "gpu"), default="auto",
                   help="device; auto = a working GPU, else the CPU (default: auto)")
    p.set_defaults(run="evaluate")
