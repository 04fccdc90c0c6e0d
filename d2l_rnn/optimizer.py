"""The optimizers, with gradient clipping folded into their step: the chapter's SGD, Adam, RMSprop.

:data:`OPTIMIZERS` names them and :data:`OPTIMIZER_DEFAULTS` holds the
learning rate and clipping norm each starts from (SGD's are the chapter's).
:meth:`ClippedTrainer.clipped_step` clips to a global norm and updates:

* with SGD on one device, in one pass per parameter: plain SGD's ``w -= lr * g``
  takes the clipping scale into its rate, ``w -= (lr * scale) * g``, and
  ``preloaded_multi_sgd_update`` reads that rate from a device array, so
  the scale never leaves the device (one call per parameter: its kernel is
  about 1.6 times faster on one array than on all);
* with Adam on one device, in one operator for all parameters: MXNet's
  ``multi_adamw_update`` (without weight decay it is Adam) takes the
  gradients' scale as a device array, so the clipping scale goes in there,
  and the bias correction into each rate, computed on the host from the
  update counts, as MXNet's ``Adam`` does;
* with RMSprop on one device, the gradients are multiplied by that
  device-side scale (:func:`~d2l_rnn.clipping.grad_clipping`) and MXNet's
  own ``rmsprop_update`` applies them: no host sync either;
* on several devices or in a ``dist_sync`` job, the gradients are summed
  first, so every device clips the whole gradient by the same global norm;
* with ``dist_async`` the servers apply each push as it arrives, so only
  this worker's own gradient can be clipped.
"""

import math
from typing import Any

import numpy as np

from ._compat import import_mxnet
from .clipping import clip_scale, grad_clipping

__all__ = ["OPTIMIZERS", "OPTIMIZER_DEFAULTS", "ClippedTrainer", "ClippedSGDTrainer",
           "check_optimizer", "make_trainer"]

OPTIMIZERS = ("sgd", "adam", "rmsprop")
# What each optimizer starts from when no lr or clipping_theta is given: SGD's
# are the chapter's; Adam's and RMSprop's were chosen by measurement (docs/cli.md).
OPTIMIZER_DEFAULTS = {
    "sgd": {"lr": 1e2, "clipping_theta": 1e-2},
    "adam": {"lr": 2e-3, "clipping_theta": 5.0},
    "rmsprop": {"lr": 2e-3, "clipping_theta": 5.0},
}
# MXNet's optimizer arguments besides the rate: no momentum and no weight decay
# (the chapter's SGD); RMSprop averages the squared gradient over about 20
# batches (gamma1 = 0.95, char-rnn's decay rate); Adam keeps MXNet's betas.
_ARGUMENTS = {"sgd": {"momentum": 0, "wd": 0}, "adam": {"wd": 0},
              "rmsprop": {"gamma1": 0.95, "wd": 0}}

_gluon = import_mxnet().gluon
# MXNet has no type information: to the type checker the base class is Any.
_Trainer: Any = _gluon.Trainer


def _kvstore_type(kvstore):
    return kvstore if isinstance(kvstore, str) or kvstore is None else kvstore.type


def check_optimizer(optimizer, kvstore="device"):
    """Return ``optimizer`` if it is one of :data:`OPTIMIZERS`; else raise ValueError.

    Only SGD works with ``kvstore='dist_async'``: its servers run the
    optimizer on the job's loss counters too, which only SGD's update adds up.
    """
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        raise ValueError("optimizer must be one of %s, got %r"
                         % (", ".join(OPTIMIZERS), optimizer))
    if _kvstore_type(kvstore) == "dist_async" and optimizer != "sgd":
        raise ValueError("dist_async works with optimizer 'sgd' only (its servers apply the "
                         "updates, and sum the job's losses with SGD's); got %r: use "
                         "dist_sync" % optimizer)
    return optimizer


class ClippedTrainer(_Trainer):
    """A ``gluon.Trainer`` for SGD (no momentum), Adam or RMSprop, with :meth:`clipped_step`.

    Parameters
    ----------
    params : ParameterDict
        ``model.collect_params()``.
    lr : float or None
        Learning rate; None: the optimizer's default (:data:`OPTIMIZER_DEFAULTS`).
    kvstore : str or mxnet.kvstore.KVStore
        Passed to ``gluon.Trainer`` (several devices or machines).
    update_on_kvstore : bool, optional
        Default: False, so that the summed gradient can be clipped before it
        is applied; only ``dist_async`` updates on the kvstore (MXNet
        requires it there).
    optimizer : {'sgd', 'adam', 'rmsprop'}
        Its state (Adam's two moments, RMSprop's mean square, per parameter)
        lives in the Trainer's updater, where checkpoints find it.

    Everything a ``gluon.Trainer`` does (``step``, ``set_learning_rate``,
    ``allreduce_grads``, ``update``, ...) works as usual.
    """

    def __init__(self, params, lr, kvstore="device", update_on_kvstore=None, optimizer="sgd"):
        check_optimizer(optimizer)
        if lr is None:
            lr = OPTIMIZER_DEFAULTS[optimizer]["lr"]
        if update_on_kvstore is None:
            update_on_kvstore = _kvstore_type(kvstore) == "dist_async"
        super().__init__(params, optimizer, dict(_ARGUMENTS[optimizer], learning_rate=lr),
                         kvstore=kvstore, update_on_kvstore=update_on_kvstore)
        self.optimizer_name = optimizer
        self._device_rates = None  # (host values, device array) of lr and wd

    def _fusable(self):
        # SGD on one device and no distributed kvstore: otherwise gradients must go
        # through the kvstore, which only the Trainer knows how to do.
        kvstore = self._kvstore_params["kvstore"]
        return (self.optimizer_name in ("sgd", "adam") and len(self._contexts) == 1
                and isinstance(kvstore, str) and "dist" not in kvstore
                and not self._kvstore_params["update_on_kvstore"]
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
        after a backward pass on a mean loss), which it does for Adam and
        RMSprop; for SGD on one device it is done in fewer device operators.
        On one device there is no host sync.

        Returns
        -------
        NDArray, shape ``(1,)``
            The global gradient norm before clipping, on the first device.
        """
        params = [(i, p) for i, p in enumerate(self._params) if p.grad_req != "null"]
        if self._fusable():
            fused = self._fused_adam_step if self.optimizer_name == "adam" else self._fused_step
            return fused(params, theta)
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


    def _fused_adam_step(self, params, theta):
        nd, ctx = import_mxnet().nd, self._contexts[0]
        opt, updater = self._optimizer, self._updaters[0]
        indices = [i for i, _ in params]
        weights = [p.data(ctx) for _, p in params]
        grads = [p.grad(ctx) for _, p in params]
        norm, scale = clip_scale(grads, theta)
        if self._scale != 1:
            scale = scale * self._scale
        for i, w in zip(indices, weights):  # as the Trainer's updater keeps them
            if i not in updater.states:
                updater.states[i] = opt.create_state_multi_precision(i, w)
            elif not updater.states_synced[i]:
                updater.states[i] = updater.sync_state_context(updater.states[i], ctx)
            updater.states_synced[i] = True
        opt._set_current_context(ctx.device_id)
        opt._update_count(indices)
        # Adam's bias correction, per parameter from its own count, as MXNet's Adam.
        lrs = [lr * math.sqrt(1 - opt.beta2 ** t) / (1 - opt.beta1 ** t)
               for lr, t in zip(opt._get_lrs(indices),
                                (opt._index_update_count[i] for i in indices))]
        states = [updater.states[i] for i in indices]
        nd.contrib.multi_adamw_update(
            weights, grads, [s[0] for s in states], [s[1] for s in states], scale, lrs=lrs,
            wds=opt._get_wds(indices), etas=[1.0] * len(indices), beta1=opt.beta1,
            beta2=opt.beta2, epsilon=opt.epsilon, out=weights)
        return norm


# The name from before Adam and RMSprop, for callers that use it.
ClippedSGDTrainer = ClippedTrainer


def make_trainer(model, lr, optimizer="sgd", kvstore="device", update_on_kvstore=None):
    """The trainer for ``model``: by default plain SGD as in the chapter.

    Parameters
    ----------
    model : Block
    lr : float or None
        Learning rate; None: the optimizer's default (:data:`OPTIMIZER_DEFAULTS`).
    optimizer : {'sgd', 'adam', 'rmsprop'}
        SGD has no momentum and no weight decay; Adam and RMSprop no weight decay.
    kvstore, update_on_kvstore
        Passed to :class:`ClippedTrainer`; they matter only for several
        devices or machines.

    Returns
    -------
    ClippedTrainer

    Raises
    ------
    ValueError
        For an unknown optimizer.
    """
    return ClippedTrainer(model.collect_params(), lr, kvstore=kvstore,
                          update_on_kvstore=update_on_kvstore, optimizer=optimizer)
