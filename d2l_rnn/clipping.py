"""Gradient clipping by global norm, computed and applied on the device.

The book's clipping reads the norm back to Python to decide whether to
rescale, which makes Python wait for every queued operator in every batch.
Here the decision is arithmetic instead: the gradients are multiplied by
``min(1, theta / norm)``, a scale that never leaves the device, so MXNet's
asynchronous engine keeps running ahead.
"""

from __future__ import annotations

import numbers
from typing import Sequence

from ._compat import import_mxnet
from ._util.checks import is_finite_number
from ._util.hints import Context, NDArray, Parameter

__all__ = ["clip_scale", "grad_clipping", "check_theta"]


def check_theta(theta):
    """Return ``theta`` as a float if it is a finite number > 0; else TypeError / ValueError.

    0 would zero every gradient, a negative threshold flip its sign, NaN
    make every parameter NaN: none is a threshold.
    """
    if isinstance(theta, bool) or not isinstance(theta, numbers.Real):
        raise TypeError("theta must be a number (the largest gradient norm allowed), got %r"
                        % (theta,))
    if not is_finite_number(theta) or theta <= 0:
        raise ValueError("theta must be a finite number > 0 (the largest gradient norm "
                         "allowed), got %r" % (theta,))
    return float(theta)


def _grad(param, index):
    # Accept NDArrays with an attached gradient (the book passes p.data())
    # as well as gluon Parameters, whose grad() is a method.
    mx = import_mxnet()
    if isinstance(param, mx.gluon.Parameter):
        if param.grad_req == "null":
            raise ValueError("params[%d] (%s) has grad_req='null': it has no gradient to clip; "
                             "pass only the parameters that are trained" % (index, param.name))
        try:
            return param.grad()
        except RuntimeError as err:  # not initialised yet
            raise ValueError("params[%d] (%s) has no gradient yet: %s"
                             % (index, param.name, str(err).splitlines()[0])) from None
    if not isinstance(param, mx.nd.NDArray):
        raise TypeError("params must hold NDArrays with gradients or gluon Parameters, got %s "
                        "at index %d" % (type(param).__name__, index))
    if param.grad is None:
        raise ValueError("params[%d] has no gradient: call attach_grad() on it, or pass the "
                         "data of an initialised gluon Parameter (p.data())" % index)
    return param.grad


def clip_scale(grads, theta):
    """Return ``(norm, scale)``: the global L2 norm and ``min(1, theta / norm)``.

    Parameters
    ----------
    grads : list of NDArray
        The gradients, any shapes, one device.
    theta : float
        Largest allowed norm.

    Raises ValueError for an empty list or a ``theta`` that is not a finite
    number > 0 (TypeError if it is not a number).

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
    theta = check_theta(theta)
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
        If ``params`` is empty, a parameter has no gradient (``grad_req='null'``,
        no ``attach_grad()``), or ``theta`` is not a finite number > 0.
    TypeError
        If ``theta`` is not a number, or ``params`` holds something that is
        neither an NDArray nor a gluon Parameter.
    """
    nd = import_mxnet().nd
    grads = [_grad(p, i) for i, p in enumerate(params)]
    norm, scale = clip_scale(grads, theta)
    for g in grads:
        nd.broadcast_mul(g, scale, out=g)
    return norm
