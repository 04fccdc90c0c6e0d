"""A run's place within an epoch, as a snapshot keeps it and as a resume restores it.

Within an epoch a snapshot holds what the engine's
:class:`~d2l_rnn.loop.EpochCursor` needs to go on exactly: the losses of the
batches done (float32, summed again in their order at the epoch's end), the
gradient norms of those batches (for the metrics file), the hidden state
carried after them (consecutive sampling: ``state.K.J`` is array ``J`` of
device ``K``'s state) and the random states as of the epoch's start (in
state.json), from which the sampler draws the epoch's batches again.
"""

from .._compat import import_mxnet
from ..checkpoint import CheckpointError
from ..loop import EpochCursor

__all__ = ["position_of", "cursor_from"]


def _stack(arrays, ctx):
    nd = import_mxnet().nd
    return nd.concat(*(a.as_in_context(ctx).reshape((1,)) for a in arrays), dim=0)


def position_of(cursor, norms, ctx, random_sampler):
    """The ``position`` arrays ``save_checkpoint`` takes for ``cursor`` (norms: NDArrays).

    The random sampler starts every batch from a fresh state: none is kept.
    """
    position = {"losses": _stack(cursor.losses, ctx)}
    if norms:
        position["norms"] = _stack(norms, ctx)
    for k, per_device in enumerate(() if random_sampler else cursor.state or ()):
        for j, array in enumerate(per_device):
            position["state.%d.%d" % (k, j)] = array
    return position


def _pieces(array, ctx):
    array = array.as_in_context(ctx)
    return [array[i:i + 1] for i in range(array.shape[0])]


def cursor_from(checkpoint, fresh_state, ctxs, random_sampler):
    """Return ``(cursor, norms)`` that resume the epoch a snapshot stopped within.

    ``fresh_state`` is a zero state of this run (one list of arrays per
    device), against which the saved state is checked.

    Raises
    ------
    CheckpointError
        If the saved state does not fit this run's model, devices or sampler.
    """
    position, where = checkpoint.position, checkpoint.path / "position.params"
    saved = sorted(name for name in position if name.startswith("state."))
    expected = [] if random_sampler else sorted(
        "state.%d.%d" % (k, j) for k, per in enumerate(fresh_state) for j in range(len(per)))
    if saved != expected:
        raise CheckpointError(
            "%s holds the hidden state of another kind of run (%s) than this one (%s: %s on "
            "%d device(s)); resume with the sampler and devices it was saved with"
            % (where, ", ".join(saved) or "none", ", ".join(expected) or "none",
               "random sampler" if random_sampler else "consecutive sampler", len(ctxs)))
    state = None
    if not random_sampler:
        state = [[position["state.%d.%d" % (k, j)].as_in_context(ctxs[k])
                  for j in range(len(per))] for k, per in enumerate(fresh_state)]
        for got, want in zip(sum(state, []), sum(fresh_state, [])):
            if got.shape != want.shape:
                raise CheckpointError("%s holds a hidden state of shape %s; this run's is %s"
                                      % (where, got.shape, want.shape))
    norms = _pieces(position["norms"], ctxs[0]) if "norms" in position else []
    cursor = EpochCursor(checkpoint.batch, _pieces(position["losses"], ctxs[0]), state,
                         checkpoint.python_random, checkpoint.numpy_random)
    return cursor, norms
