"""Where a run saves: the --save folder and how often.

Each function raises ValueError with the message the command line prints.
"""

from ..checkpoint import checkpoint_root
from ..run import prepare_save_dir

__all__ = ["SAVE_EVERY", "prepare_save_dir", "save_dir_of", "save_every_of"]

SAVE_EVERY = 10  # epochs between checkpoints unless --save-every (or the checkpoint) says


def save_dir_of(args, checkpoint):
    """The folder a run saves into: --save, else the --resume folder's, else None."""
    if args.save:
        return args.save
    if checkpoint is None:
        return None
    root = checkpoint_root(checkpoint.path)
    if root is None:
        raise ValueError("--resume %s is a snapshot folder outside its --save folder; pass "
                         "--save DIR to say where the continued run's checkpoints go"
                         % args.resume)
    return root


def save_every_of(args, checkpoint):
    """--save-every, else the checkpoint's, else :data:`SAVE_EVERY`."""
    if args.save_every is not None:
        return args.save_every
    if checkpoint is not None:
        return checkpoint.settings.get("save_every", SAVE_EVERY)
    return SAVE_EVERY
