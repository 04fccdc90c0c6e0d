"""Gradient clipping by global norm, computed and applied on the device.

The book's clipping reads the norm back to Python to decide whether to
rescale, which makes Python wait for every queued operator in every batch.
Here the decision is arithmetic instead: the gradients are multiplied by
``min(1, theta / norm)``, a scale that never leaves the device, so MXNet's
asynchronous engine keeps running ahead.
"""

from __future__ import annotations

from typing import Sequence

from ._compat import import_mxnet
from ._util.hints import Context, NDArray, Parameter

__all__ = ["clip_scale", "grad_clipping"]


def _grad(param):
    # Accept NDArrays with an attached gradient (the book passes p.data())
    # as well as gluon Parameters, whose grad() is a method.
    grad = param.grad
    return grad() if callable(grad) else grad


def clip_scale(grads, theta):
    """Return ``(norm, scale)``: the global L2 norm and ``min(1, theta / norm)``.

    Parameters
    ----------
    grads : list of NDArray
        The gradients, any shapes, one device.
    theta : float
        Largest allowed norm.

    Raises ValueError for an empty list.

    Returns
    -------
    norm, scale : NDArray, shape ``(1,)``
        Left on the device. One fused ``multi_sum_sq`` replaces a square and
        a sum per gradient. A zero norm gives ``theta / 0 = inf`` and so a
        scale of 1.
    """
    nd = import_mxnet().nd
    if not grads:  # multi_sum_sq of no arrays crashes the interpreter
        raise ValueError("there are no gradients to clip: pass at least one parameter")
    norm = nd.sqrt(nd.multi_sum_sq(*grads, num_arrays=len(grads)).sum(keepdims=True))
    return norm, nd.minimum(theta / norm, 1.0)


def grad_clipping(params: Sequence[NDArray | Parameter], theta: float,
                  ctx: Context) -> NDArray:
    """Rescale the gradients of ``params`` so their global L2 norm is <= theta.

    Parameters
    ----------
    params : list of NDArray or list of gluon Parameter
        Arrays with attached gradients (``[p.data() for p in ...]``).
    theta : float
        Largest allowed norm.
    ctx : mxnet.Context
        Device of the gradients (kept for the book's signature).

    Returns
    -------
    NDArray, shape ``(1,)``
        The global norm before clipping, left on the device: reading it
        (``.asscalar()``) is a host sync the training loop avoids.

    Raises
    ------
    ValueError
        If ``params`` is empty.
    """
    nd = import_mxnet().nd
    grads = [_grad(p) for p in params]
    norm, scale = clip_scale(grads, theta)
    for g in grads:
        nd.broadcast_mul(g, scale, out=g)
    return norm
