"""What every row of the benchmark shares: the chapter's settings and the epoch timer."""

import contextlib
import time

from d2l_rnn._compat import import_mxnet
from d2l_rnn.settings import TrainSettings

__all__ = ["CHAPTER", "epoch_timer"]

# The chapter's settings (6.5 uses the same ones), as train_and_predict_rnn_gluon
# takes them; the values come from d2l_rnn's one record of them.
_SETTINGS = TrainSettings()
CHAPTER = dict(num_hiddens=_SETTINGS.num_hiddens, **_SETTINGS.chapter_args())
del CHAPTER["num_epochs"]  # each run chooses its own


@contextlib.contextmanager
def epoch_timer(module, name, before=None):
    """Time every call of ``module.name`` while in the block; yield the list.

    The training functions call their per-epoch function through a module
    attribute, so wrapping it times each epoch of the function as shipped,
    without the predictions printed between epochs, until MXNet's engine is
    idle. ``before(epoch)``, if given, runs before each call (``epoch``
    counts from 1), off the clock.
    """
    original = getattr(module, name)
    seconds = []

    def timed(*args, **kwargs):
        if before is not None:
            before(len(seconds) + 1)
        start = time.time()
        try:
            return original(*args, **kwargs)
        finally:
            # An epoch ends when the engine is idle: MXNet may still be running
            # the last batch's backward pass and update when the loss is read,
            # and that work belongs to this epoch, not the next one (or to none).
            import_mxnet().nd.waitall()
            seconds.append(time.time() - start)

    setattr(module, name, timed)
    try:
        yield seconds
    finally:
        setattr(module, name, original)
