"""How a new run starts: its model built and initialised as the chapter's, or a user's own.

The chapter seeds every generator with ``settings.seed``, then builds the
model and initialises it with ``Normal(0.01)``; a model of one's own is
taken as it is when initialised (training goes on from its parameters).
Gluon draws the parameters at the first forward pass (their shapes wait
for the input's); one pass on a single character makes it draw them at
once, right after seeding, as the chapter's first batch would: with
dropout, MXNet's generator is seeded again before every batch.
"""

from .._compat import import_mxnet
from ..model import build_model, describe_model
from ..seeding import set_seed

__all__ = ["start_model", "with_prefixes"]


def _initialised(model):
    try:
        for param in model.collect_params().values():
            param.list_ctx()  # raises for a parameter that was never initialised
    except RuntimeError:
        return False
    return True


def _settings_of(settings, model, text):
    """``settings`` with the shape of a user's ``model``, which must fit the text."""
    description = describe_model(model)  # ValueError for a model that cannot be saved
    if description["vocab_size"] != text.vocab_size:
        raise ValueError("model has vocab_size %d but the text has %d characters"
                         % (description["vocab_size"], text.vocab_size))
    return settings.__class__(**dict(
        vars(settings), cell=description["cell"], num_hiddens=description["num_hiddens"],
        num_layers=description["num_layers"], embed_size=description["embed_size"],
        dropout=max(description["dropout"], description["output_dropout"])))


def _draw_parameters(model, ctx):
    nd = import_mxnet().nd
    model(nd.zeros((1, 1), ctx=ctx), model.begin_state(batch_size=1, ctx=ctx))


def start_model(settings, text, ctxs, model=None):
    """Seed, then return ``(settings, model)``: the model initialised on ``ctxs``."""
    init = import_mxnet().init.Normal(0.01)
    set_seed(settings.seed)
    if model is None:
        model = build_model(settings.cell, settings.num_hiddens, settings.num_layers,
                            text.vocab_size, dropout=settings.dropout,
                            embed_size=settings.embed_size)
        model.initialize(ctx=ctxs, init=init)
        _draw_parameters(model, ctxs[0])
        return settings, model
    settings = _settings_of(settings, model, text)
    if not _initialised(model):
        model.initialize(ctx=ctxs, init=init)
        _draw_parameters(model, ctxs[0])
    elif {str(c) for p in model.collect_params().values() for c in p.list_ctx()} \
            != {str(c) for c in ctxs}:
        model.collect_params().reset_ctx(ctxs)
    return settings, model


def with_prefixes(settings, text):
    """``settings``, with the text's opening as the prefix if they name none (own text)."""
    if settings.prefixes:
        return settings
    return settings.__class__(**dict(vars(settings), prefixes=(text.opening(),)))
