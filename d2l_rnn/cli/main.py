"""The ``d2l-rnn`` command line (also ``python -m d2l_rnn``): ``train``, ``generate``, ``evaluate``.

Nothing is parsed at import: :func:`main` builds the parser when called.
Every failure a user can cause is reported as one line on stderr with exit
code 2; a traceback means a bug. Flags are never abbreviated (``--cel`` is
refused, not taken for ``--cell``). A run stopped by SIGINT or SIGTERM
exits with 130 or 143.
"""

import argparse
import signal
import sys
import textwrap

from .._compat import import_mxnet
from .._util import console
from .._util.errors import mxnet_message
from ..distributed.kvstore import KVSTORES
from ..model import CELLS
from ..optimizer import OPTIMIZER_DEFAULTS, OPTIMIZERS
from ..settings import SAMPLERS, TrainSettings
from . import commands, use
from .commands import UsageError
from .options import (
    _count,
    _layers,
    _length,
    _number,
    _positive_int,
    _seed,
    add_checkpoint,
    add_evaluate,
    add_own_text,
    add_sampling,
    add_saving,
    data_defaults,
)
from .options import default_help as _default

__all__ = ["build_parser", "main"]

_CHAPTER = TrainSettings()


def _per_optimizer(name):
    return "default: " + ", ".join("%g for %s" % (d[name], o)
                                   for o, d in OPTIMIZER_DEFAULTS.items())


class _Formatter(argparse.HelpFormatter):
    """argparse's layout, but a line never breaks inside a flag's name (``--embed-``)."""

    def _split_lines(self, text, width):
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text, width, indent):
        return textwrap.fill(" ".join(text.split()), width, initial_indent=indent,
                             subsequent_indent=indent, break_on_hyphens=False)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        # argparse would print the usage block too; one line says enough.
        raise UsageError("%s: error: %s (see %s --help)" % (self.prog, message, self.prog))


def _add_train(subparsers):
    p = subparsers.add_parser(
        "train", help="train a character-level RNN language model", allow_abbrev=False,
        description="Train on The Time Machine, or on your own text with --data FILE. "
        "Without flags this is chapter 6.6's run and prints the chapter's lines; every run "
        "ends with a summary. Ctrl-C (or SIGTERM, or --max-time) stops after the batch in "
        "progress, with a checkpoint of that point when there is a --save folder. With "
        "--resume DIR the model, optimizer, random state, place in the epoch "
        "and settings come from the checkpoint; flags given again override the training "
        "settings, except the model's shape, --dropout, --optimizer and --seed, which must "
        "match. --data FILE changes these defaults to a recipe measured to train well on one's "
        "own text: %s, and samples start with the text's first words (each flag's help names "
        "both defaults)." % ", ".join("%s %s" % change for change in data_defaults()))
    d = _CHAPTER
    p.add_argument("--cell", choices=CELLS, help="recurrent layer (%s)" % _default("cell"))
    p.add_argument("--num-hiddens", type=_positive_int, metavar="N",
                   help="hidden units per layer (%s)" % _default("num_hiddens"))
    p.add_argument("--num-layers", type=_layers, metavar="N",
                   help="stacked recurrent layers (%s)" % _default("num_layers"))
    p.add_argument("--embed-size", type=_count, metavar="N",
                   help="feed the recurrent layer a learned embedding of N values per "
                   "character instead of a one-hot vector (%s; 0 = one-hot); fixed by "
                   "the checkpoint on --resume" % _default("embed_size"))
    p.add_argument("--epochs", type=_positive_int, metavar="N", dest="num_epochs",
                   help="train until this epoch; with --resume the total, not extra epochs "
                   "(default: %d)" % d.num_epochs)
    p.add_argument("--num-steps", type=_positive_int, metavar="N",
                   help="time steps per minibatch (%s)" % _default("num_steps"))
    p.add_argument("--batch-size", type=_positive_int, metavar="N",
                   help="sequences per minibatch (%s)" % _default("batch_size"))
    p.add_argument("--optimizer", choices=OPTIMIZERS,
                   help="sgd: plain SGD, the chapter's; adam; rmsprop (%s); fixed by the "
                   "checkpoint on --resume" % _default("optimizer"))
    p.add_argument("--lr", type=_number(low=0.0), metavar="LR",
                   help="learning rate (%s)" % _per_optimizer("lr"))
    p.add_argument("--clip", type=_number(low=0.0), metavar="THETA", dest="clipping_theta",
                   help="clip the gradients' global L2 norm to THETA (%s)"
                   % _per_optimizer("clipping_theta"))
    p.add_argument("--sampler", choices=SAMPLERS,
                   help="minibatch sampling; consecutive carries the hidden state across "
                   "batches (default: %s, the chapter's code)" % d.sampler)
    p.add_argument("--num-chars", type=_positive_int, metavar="N",
                   help="train on the first N characters of the text (%s)"
                   % _default("num_chars"))
    p.add_argument("--val-chars", type=_count, metavar="N",
                   help="hold out the N characters after the training text and report their "
                   "perplexity; 0 = none, as in the chapter (default: %d)" % d.val_chars)
    add_own_text(p)
    p.add_argument("--ctx", "--device", default="auto", metavar="DEVICES",
                   help="device(s): auto = a working GPU, else the CPU; cpu; gpu; several "
                   "to train data parallel, e.g. cpu:0,cpu:1 or gpu:0,gpu:1; gpus = every "
                   "working GPU (default: auto)")
    p.add_argument("--kvstore", choices=KVSTORES, default="device",
                   help="how gradients are summed: device = over the devices of --ctx; "
                   "dist_sync or dist_async = as one worker of a job started by a launcher "
                   "(python -m d2l_rnn.distributed.local, python -m d2l_rnn.distributed.cluster) "
                   "(default: device)")
    p.add_argument("--seed", type=_seed, metavar="N",
                   help="seed for Python's, NumPy's and MXNet's generators; not allowed to "
                   "change on --resume (default: %d)" % d.seed)
    p.add_argument("--pred-period", type=_positive_int, metavar="N",
                   help="print perplexity and samples every N epochs (default: %d)"
                   % d.pred_period)
    p.add_argument("--pred-len", type=_length, metavar="N",
                   help="characters generated per sample (default: %d)" % d.pred_len)
    p.add_argument("--prefix", action="append", dest="prefixes", metavar="TEXT",
                   help="start of a sample; repeat for several (default: %s; with --data: "
                   "the text's first words)" % " and ".join(repr(x) for x in d.prefixes))
    add_saving(p)
    p.add_argument("--plot", metavar="FILE.png",
                   help="after training, draw training (and validation) perplexity per epoch "
                   "into FILE (.png, .pdf or .svg; needs matplotlib)")
    p.set_defaults(run="train")


def _add_generate(subparsers):
    p = subparsers.add_parser(
        "generate", help="generate text from a checkpoint", allow_abbrev=False,
        description="Print PREFIX followed by generated characters, as they are generated. "
        "Temperature 0 is the chapter's greedy predict_rnn_gluon; T > 0 samples from "
        "softmax(logits / T), cut to the K likeliest characters (--top-k) or to the fewest "
        "whose probabilities reach P (--top-p).")
    add_checkpoint(p)
    p.add_argument("--prefix", required=True, metavar="TEXT",
                   help="text to start from; only characters of the model's vocabulary")
    p.add_argument("--len", type=_length, default=50, metavar="N",
                   help="characters to generate (default: 50)")
    p.add_argument("--temperature", type=_number(low=0.0, inclusive=True), metavar="T",
                   help="0 = greedy; 1 = the model's distribution; lower is more "
                   "conservative, higher more random (default: 0, or 1 with --top-k or "
                   "--top-p)")
    add_sampling(p)
    p.add_argument("--seed", type=_seed, metavar="N",
                   help="seed for sampling, to repeat a run (default: unseeded)")
    p.add_argument("--ctx", "--device", choices=("auto", "cpu", "gpu"), default="auto",
                   help="device; auto = a working GPU, else the CPU (default: auto)")
    p.set_defaults(run="generate")


def build_parser():
    """Return the ``d2l-rnn`` argument parser."""
    parser = _Parser(
        prog="d2l-rnn", allow_abbrev=False,
        description="Train character-level RNN language models on The Time Machine "
        "(Dive into Deep Learning, chapter 6.6) or your own text, generate text from them "
        "and measure their perplexity.")
    subparsers = parser.add_subparsers(title="commands", dest="command", required=True,
                                       metavar="{train,generate,evaluate}")
    _add_train(subparsers)
    _add_generate(subparsers)
    add_evaluate(subparsers)
    return parser


def _error(message):
    print(" ".join(message.split()), file=sys.stderr)  # one line, whatever the message holds
    return 2


def main(argv=None):
    """Run ``d2l-rnn`` with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    console.started()
    console.escape_unencodable()  # a sample the terminal cannot show is escaped, not a crash
    try:
        return _run(argv)
    except KeyboardInterrupt as err:  # at any moment, even while an error is being reported:
        # a second Ctrl-C or SIGTERM during a run, or one outside a run's training
        print("d2l-rnn: interrupted; checkpoints written so far are intact", file=sys.stderr)
        return 128 + getattr(err, "signal", signal.SIGINT)
    finally:
        console.finishing()


def _run(argv):
    try:
        args = build_parser().parse_args(argv)
        if args.run == "train":
            return commands.train(args)
        if args.run == "evaluate":
            return use.evaluate(args)
        return use.generate(args)
    except UsageError as err:
        return _error(str(err))
    except (OSError, MemoryError) as err:  # a disk, a file or the memory failed mid-way
        return _error("d2l-rnn: error: %s" % (str(err) or type(err).__name__))
    except import_mxnet().base.MXNetError as err:
        return _error("d2l-rnn: error: MXNet: %s" % mxnet_message(err))
