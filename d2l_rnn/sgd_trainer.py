"""The chapter's optimizer, plain SGD, with clipping folded into its update.

Clipping then updating costs, per parameter, a pass over the gradient to
rescale it and another to update the weight, plus the Python of
``Trainer.step``. Plain SGD's update ``w -= lr * g`` can take the clipping
scale into its learning rate instead: ``w -= (lr * scale) * g`` is the same
arithmetic in one pass. MXNet's
``preloaded_multi_sgd_update`` reads the learning rate from a device array,
so each parameter is clipped and updated by one operator with the scale
never leaving the device. (One call per parameter, not one for all: the
operator's kernel is about 1.6 times faster on a single array.)
"""

from ._compat import import_mxnet
from .clipping import clip_scale, grad_clipping

__all__ = ["ClippedSGDTrainer"]

_gluon = import_mxnet().gluon


class ClippedSGDTrainer(_gluon.Trainer):
    """A ``gluon.Trainer`` for SGD without momentum, with :meth:`clipped_step`.

    Parameters
    ----------
    params : ParameterDict
        ``model.collect_params()``.
    lr : float
        Learning rate.
    kvstore, update_on_kvstore
        Passed to ``gluon.Trainer`` (several devices or machines).

    Everything a ``gluon.Trainer`` does (``step``, ``set_learning_rate``,
    ``allreduce_grads``, ``update``, ...) works as usual.
    """

    def __init__(self, params, lr, kvstore="device", update_on_kvstore=None):
        super().__init__(params, "sgd", {"learning_rate": lr, "momentum": 0, "wd": 0},
                         kvstore=kvstore, update_on_kvstore=update_on_kvstore)
        self._device_rates = None  # (host values, device array) of lr and wd

    def _fusable(self):
        # One device and no distributed kvstore: otherwise gradients must go
        # through the kvstore, which only Trainer.step knows how to do.
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
            arrays = (nd.array(values[0], ctx=ctx), nd.array(values[1], ctx=ctx))
            self._device_rates = (values, arrays)
        return self._device_rates[1]

    def clipped_step(self, theta):
        """Clip the gradients to a global norm of ``theta``, then update.

        Equivalent to ``grad_clipping(params, theta, ctx)`` followed by
        ``step(1)`` (use it after a backward pass on a mean loss), done in a
        few device operators and without a host sync.

        Returns
        -------
        NDArray, shape ``(1,)``
            The global gradient norm before clipping, on the device.
        """
        params = [(i, p) for i, p in enumerate(self._params) if p.grad_req != "null"]
        if not self._fusable():
            for ctx in self._contexts:  # each device clips its own gradients
                norm = grad_clipping([p.data(ctx) for _, p in params], theta, ctx)
            self.step(1)
            return norm
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
