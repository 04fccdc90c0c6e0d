"""Device helpers: use a GPU when one really works, else the CPU.

"Works" means an array can be created on it: a GPU build of MXNet on a
machine without a usable driver reports devices it cannot use.
:func:`context_list` turns the ``ctx`` argument of the training function
(one context or several) into the list that data-parallel training needs;
:func:`parse_contexts` reads devices written as text (``cpu:0,cpu:1``).
"""

from __future__ import annotations

from ._compat import import_mxnet
from ._util.hints import Context

__all__ = ["try_gpu", "try_all_gpus", "context_list", "parse_contexts", "MAX_CPU_INDEX"]

# MXNet keeps per-device state for every index it has seen: cpu:100000000
# costs gigabytes. More CPU "devices" than this only repeat the same cores.
MAX_CPU_INDEX = 63


def _gpu_works(mx, index):
    try:  # asked first: trying a GPU that is not there makes MXNet log to stderr
        if index >= mx.context.num_gpus():
            return False
    except mx.base.MXNetError:
        return False
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


def try_gpu() -> Context:
    """Return ``mx.gpu(0)`` if it works, else ``mx.cpu()``."""
    mx = import_mxnet()
    gpus = _working_gpus(mx)
    return gpus[0] if gpus else mx.cpu()


def try_all_gpus() -> list[Context]:
    """Return every working GPU, or ``[mx.cpu()]`` if there is none."""
    mx = import_mxnet()
    return _working_gpus(mx) or [mx.cpu()]


def context_list(ctx):
    """Return ``ctx`` as a non-empty list of distinct contexts.

    Parameters
    ----------
    ctx : mxnet.Context or sequence of mxnet.Context
        One device (``mx.cpu()``) or several (``try_all_gpus()``,
        ``[mx.cpu(0), mx.cpu(1)]``).

    Raises
    ------
    ValueError
        If the list is empty, holds something that is not a context, or
        names a device twice (its rows would be trained twice per batch).
    """
    mx = import_mxnet()
    if isinstance(ctx, str):
        raise ValueError("ctx must be an mxnet context such as mx.cpu() or d2l.try_gpu(), "
                         "not the string %r (the command line reads names; Python takes "
                         "contexts)" % (ctx,))
    try:
        ctxs = [ctx] if isinstance(ctx, mx.Context) else list(ctx)
    except TypeError:
        ctxs = [ctx]  # not iterable: reported as a bad element below
    if not ctxs:
        raise ValueError("ctx is an empty list; pass one context such as "
                         "mx.cpu() or a list such as try_all_gpus()")
    bad = [c for c in ctxs if not isinstance(c, mx.Context)]
    if bad:
        raise ValueError("ctx must hold mxnet contexts (mx.cpu(0), mx.gpu(1)), "
                         "got %r" % (bad[0],))
    if len(set(ctxs)) != len(ctxs):
        raise ValueError("ctx names a device more than once: %s; list each "
                         "device once" % ", ".join(str(c) for c in ctxs))
    return ctxs


def parse_contexts(text):
    """Return the contexts named by ``text``.

    ``'auto'`` is :func:`try_gpu`, ``'gpus'`` :func:`try_all_gpus`; ``'cpu'``
    and ``'gpu'`` (the first working GPU) take an index (``'cpu:1'``); a
    comma separates several (``'gpu:0,gpu:1'``). A GPU must work.

    Raises
    ------
    ValueError
        For any other text, naming the part that is wrong.
    """
    mx = import_mxnet()
    text = str(text).strip().lower()
    if text == "gpus":
        return try_all_gpus()
    if text == "auto":
        return [try_gpu()]
    if text == "gpu":
        gpus = _working_gpus(mx)
        if not gpus:
            raise ValueError("no working GPU was found (none that MXNet can put an "
                             "array on); use the CPU instead")
        return gpus[:1]
    ctxs = []
    for part in text.split(","):
        kind, _, index = part.strip().partition(":")
        if kind not in ("cpu", "gpu") or not (index == "" or index.isascii()
                                              and index.isdigit()):
            raise ValueError(
                "cannot read device %r in %r; write cpu, gpu, cpu:N or gpu:N, "
                "several separated by commas, or gpus / auto" % (part, text))
        if len(index) > 3 or int(index or 0) > MAX_CPU_INDEX:
            raise ValueError("device index %s is too large: cpu:N takes N from 0 to %d and "
                             "gpu:N a working GPU's number" % (index, MAX_CPU_INDEX))
        if kind == "gpu" and not _gpu_works(mx, int(index or 0)):
            raise ValueError("gpu:%d does not work here (MXNet cannot put an array on "
                             "it); name working devices, or use the CPU" % int(index or 0))
        ctxs.append(getattr(mx, kind)(int(index or 0)))
    return context_list(ctxs)
