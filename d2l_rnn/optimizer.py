"""The chapter's optimizer, plain SGD, with gradient clipping folded into its step.

:meth:`ClippedSGDTrainer.clipped_step` clips to a global norm and updates:

* on one device, in one pass per parameter: plain SGD's ``w -= lr * g``
  takes the clipping scale into its rate, ``w -= (lr * scale) * g``, and
  ``preloaded_multi_sgd_update`` reads that rate from a device array, so
  the scale never leaves the device (one call per parameter: its kernel is
  about 1.6 times faster on one array than on all);
* on several devices or in a ``dist_sync`` job, the gradients are summed
  first, so every device clips the whole gradient by the same global norm;
* with ``dist_async`` the servers apply each push as it arrives, so only
  this worker's own gradient can be clipped.
"""

from typing import Any

import numpy as np

from ._compat import import_mxnet
from .clipping import clip_scale, grad_clipping

__all__ = ["ClippedSGDTrainer", "make_trainer"]

_gluon = import_mxnet().gluon
# MXNet has no type information: to the type checker the base class is Any.
_Trainer: Any = _gluon.Trainer


def _kvstore_type(kvstore):
    return kvstore if isinstance(kvstore, str) or kvstore is None else kvstore.type


class ClippedSGDTrainer(_Trainer):
    """A ``gluon.Trainer`` for SGD without momentum, with :meth:`clipped_step`.

    Parameters
    ----------
    params : ParameterDict
        ``model.collect_params()``.
    lr : float
        Learning rate.
    kvstore : str or mxnet.kvstore.KVStore
        Passed to ``gluon.Trainer`` (several devices or machines).
    update_on_kvstore : bool, optional
        Default: False, so that the summed gradient can be clipped before it
        is applied; only ``dist_async`` updates on the kvstore (MXNet
        requires it there).

    Everything a ``gluon.Trainer`` does (``step``, ``set_learning_rate``,
    ``allreduce_grads``, ``update``, ...) works as usual.
    """

    def __init__(self, params, lr, kvstore="device", update_on_kvstore=None):
        if update_on_kvstore is None:
            update_on_kvstore = _kvstore_type(kvstore) == "dist_async"
        super().__init__(params, "sgd", {"learning_rate": lr, "momentum": 0, "wd": 0},
                         kvstore=kvstore, update_on_kvstore=update_on_kvstore)
        self._device_rates = None  # (host values, device array) of lr and wd

    def _fusable(self):
        # One device and no distributed kvstore: otherwise gradients must go
        # through the kvstore, which only the Trainer knows how to do.
        kvstore = self._kvstore_params["kvstore"]
        return (len(self._contexts) == 1 and isinstance(kvstore, str)
                and "dist" not in kvstore and not self._kvstore_params["update_on_kvstore"]
                and not self._contains_sparse_weight
                and not self._contains_sparse_grad
                and self._optimizer.lr_scheduler is None
                and self._optimizer.clip_gradient is None
                and not self._optimizer.multi_precision)

    def _rates(self, indices):
        # lr and wd per parameter (lr_mult and wd_mult included), copied to
        # the device only when they change, e.g. after set_learning_rate.
        opt = self._optimizer
        values = (tuple(opt._get_lrs(indices)), tuple(opt._get_wds(indices)))
        if self._device_rates is None or self._device_rates[0] != values:
            nd, ctx = import_mxnet().nd, self._contexts[0]
            # A rate beyond float32 becomes inf, as the chapter's update makes it;
            # NumPy >= 1.24 would also warn from inside nd.array (docs/numpy2.md).
            with np.errstate(over="ignore"):
                arrays = (nd.array(values[0], ctx=ctx), nd.array(values[1], ctx=ctx))
            self._device_rates = (values, arrays)
        return self._device_rates[1]

    def clipped_step(self, theta):
        """Clip the gradients to a global norm of ``theta``, then update.

        Equivalent to summing the gradients over the devices, clipping the
        sum with ``grad_clipping`` and applying it with ``update(1)`` (use it
        after a backward pass on a mean loss); on one device it is done in a
        few device operators and without a host sync.

        Returns
        -------
        NDArray, shape ``(1,)``
            The global gradient norm before clipping, on the first device.
        """
        params = [(i, p) for i, p in enumerate(self._params) if p.grad_req != "null"]
        if self._fusable():
            return self._fused_step(params, theta)
        if not self._kv_initialized:
            self._init_kvstore()
        if self._update_on_kvstore:  # dist_async: the servers apply each push
            norm = grad_clipping([p.data(self._contexts[0]) for _, p in params], theta,
                                 self._contexts[0])
            self.step(1)
            return norm
        self.allreduce_grads()
        # Every device now holds the summed gradient, so each computes the
        # same global norm and scales its copy alike.
        norms = [grad_clipping([p.data(ctx) for _, p in params], theta, ctx)
                 for ctx in self._contexts]
        self.update(1)
        return norms[0]

    def _fused_step(self, params, theta):
        nd, ctx = import_mxnet().nd, self._contexts[0]
        weights = [p.data(ctx) for _, p in params]
        grads = [p.grad(ctx) for _, p in params]
        norm, scale = clip_scale(grads, theta)
        lrs, wds = self._rates([i for i, _ in params])
        lrs = nd.broadcast_mul(lrs, scale)
        for k, (w, g) in enumerate(zip(weights, grads)):
            # lrs[k] and wds[k] are views of one element: no operator runs.
            nd.preloaded_multi_sgd_update(w, g, lrs[k], wds[k], rescale_grad=self._scale,
                                          num_weights=1, out=w)
        return norm


def make_trainer(model, lr, kvstore="device", update_on_kvstore=None):
    """Plain SGD as in the chapter (no momentum, no weight decay) for ``model``.

    Returns a :class:`ClippedSGDTrainer`; ``kvstore`` and ``update_on_kvstore``
    are passed to it and matter only for several devices or machines.
    """
    return ClippedSGDTrainer(model.collect_params(), lr, kvstore=kvstore,
                             update_on_kvstore=update_on_kvstore)
