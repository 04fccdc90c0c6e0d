"""Device helpers: use a GPU when one really works, else the CPU.

"Works" means an array can be created on it: a GPU build of MXNet on a
machine without a usable driver reports devices it cannot use.
"""

from ._compat import import_mxnet

__all__ = ["try_gpu", "try_all_gpus", "ctx_from_name"]


def _gpu_works(mx, index):
    try:
        mx.nd.zeros((1,), ctx=mx.gpu(index)).wait_to_read()
    except mx.base.MXNetError:
        return False
    return True


def _working_gpus(mx):
    try:
        count = mx.context.num_gpus()
    except mx.base.MXNetError:
        return []
    return [mx.gpu(i) for i in range(count) if _gpu_works(mx, i)]


def try_gpu():
    """Return ``mx.gpu(0)`` if it works, else ``mx.cpu()``."""
    mx = import_mxnet()
    gpus = _working_gpus(mx)
    return gpus[0] if gpus else mx.cpu()


def try_all_gpus():
    """Return every working GPU, or ``[mx.cpu()]`` if there is none."""
    mx = import_mxnet()
    return _working_gpus(mx) or [mx.cpu()]


def ctx_from_name(name):
    """Return the context for ``'auto'`` (:func:`try_gpu`), ``'cpu'`` or ``'gpu'``.

    Raises
    ------
    ValueError
        For ``'gpu'`` when no GPU works, or for another name.
    """
    mx = import_mxnet()
    if name == "auto":
        return try_gpu()
    if name == "cpu":
        return mx.cpu()
    if name == "gpu":
        gpus = _working_gpus(mx)
        if not gpus:
            raise ValueError("no working GPU was found (none that MXNet can put an "
                             "array on); use the CPU instead")
        return gpus[0]
    raise ValueError("device must be 'auto', 'cpu' or 'gpu', got %r" % (name,))
