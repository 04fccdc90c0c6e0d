"""Using a trained checkpoint: ``d2l-rnn generate`` and ``d2l-rnn evaluate``.

Both read the snapshot ``--which`` names: a folder's best one (``DIR/best``,
kept when training had validation) by default when there is one, else its
latest. Generated text streams to stdout as it is produced.
"""

import sys

import numpy as np

from .._util.checks import check_prefix
from .._util.metrics import perplexity_bits
from .._util.setting_checks import memory_bytes
from .._util.text_file import load_ids
from ..checkpoint import CheckpointError
from ..data import chapter_text
from ..generation import generate as generate_text
from ..run import pick_snapshot
from ..settings import TrainSettings
from ..training import evaluate_perplexity
from .commands import _ctxs, _fail, _load, text_error

__all__ = ["generate", "evaluate"]


def _snapshot_folder(directory, which):
    """The folder to load for ``--which`` (None: best when there is one)."""
    try:
        return pick_snapshot(directory, which)
    except CheckpointError as err:  # a best that is a link, or not a folder
        raise _fail(err) from None
    except ValueError:
        raise _fail("%s has no best snapshot (a best/ folder is kept when training with "
                    "validation and --save); use --which last" % directory) from None


def _loaded(args, ctx):
    checkpoint = _load(_snapshot_folder(args.checkpoint, args.which), ctx)
    # Hybridized as during training, so T = 0 repeats the training samples exactly and
    # evaluate repeats the validation perplexity.
    checkpoint.model.hybridize(static_alloc=True)
    return checkpoint


def _write(text, stream=None):
    stream = stream or sys.stdout
    stream.write(text)
    stream.flush()


def generate(args):
    """``d2l-rnn generate``; return the exit code."""
    ctx = _ctxs(args.ctx)[0]
    checkpoint = _loaded(args, ctx)
    try:  # before anything is printed
        check_prefix(args.prefix, checkpoint.char_to_idx)
    except ValueError as err:
        raise _fail(err) from None
    rng = np.random.default_rng(args.seed)  # one stream for all samples: repeatable
    for n in range(args.num_samples):
        _write(("\n" if n else "") + args.prefix)
        generate_text(args.prefix, args.len, checkpoint.model, ctx, checkpoint.idx_to_char,
                      checkpoint.char_to_idx, temperature=args.temperature, rng=rng,
                      top_k=args.top_k, top_p=args.top_p, on_char=_write)
        _write("\n")
    return 0


def _preparation(settings, lower):
    """How a text is prepared as the checkpoint's training text was (None: kept as it is)."""
    if settings.data is None:  # The Time Machine as the chapter reads it
        return chapter_text
    return str.lower if lower or (lower is None and settings.lower) else None


def evaluate(args):
    """``d2l-rnn evaluate``; return the exit code."""
    ctx = _ctxs(args.ctx)[0]
    checkpoint = _loaded(args, ctx)
    settings = TrainSettings.from_dict(checkpoint.settings)
    try:
        corpus, _ = load_ids(args.data, args.encoding, _preparation(settings, args.lower),
                             idx_to_char=checkpoint.idx_to_char, memory=memory_bytes())
    except (ValueError, TypeError, OSError) as err:
        if isinstance(err, ValueError) and "not in the vocabulary" in str(err):
            raise _fail("--data %s: %s; the checkpoint (%s) cannot predict them"
                        % (args.data, err, checkpoint.path)) from None
        raise text_error(err) from None
    if len(corpus) < 2:
        raise _fail("--data %s has %d character; evaluation needs at least 2"
                    % (args.data, len(corpus)))
    perplexity = evaluate_perplexity(checkpoint.model, corpus, ctx)
    print("perplexity %f (%.4f bits per character) on %d characters of %s (%s, epoch %d)"
          % (perplexity, perplexity_bits(perplexity), len(corpus), args.data,
             checkpoint.path, checkpoint.epoch))
    return 0
