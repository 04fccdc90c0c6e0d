"""Test models whose every parameter matters, the trainers the checkpoint tests restore, a
checkpoint file changed as an attacker would, and a random generator that records what each
draw was made from.

Gluon's ``init.Normal`` draws the *weights* only: every bias keeps its own
initialiser, zeros. A test model initialised with it alone cannot tell a
dropped, swapped or doubled bias from a correct one, so the tests draw every
parameter, biases included, with :func:`initialize_with_biases`.
"""

import hashlib
import json

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon, nd

from d2l_rnn.model import build_model

__all__ = ["initialize_with_biases", "small_model", "shaped", "one_step_trainer", "step",
           "momentum_trainer", "rewrite", "edit_json", "RecordingGenerator"]


def initialize_with_biases(model, scale=0.5, ctx=None):
    """Initialise every parameter of ``model``, biases too, from ``Normal(scale)``; return it."""
    for param in model.collect_params().values():
        param.init = mx.init.Normal(scale)   # a parameter's own init wins over the global one
    model.initialize(init=mx.init.Normal(scale), ctx=ctx, force_reinit=True)
    return model


def small_model(cell="gru", vocab_size=7, num_hiddens=8, num_layers=1, scale=0.5, ctx=None,
                **kwargs):
    """A ``build_model`` model with every parameter drawn and its shapes fixed."""
    model = initialize_with_biases(build_model(cell, num_hiddens, num_layers, vocab_size,
                                               **kwargs), scale, ctx)
    model(nd.array([[0, 1]], ctx=ctx), model.begin_state(batch_size=1, ctx=ctx))
    return model


def shaped(model, batch_size, num_steps, ctx=None):
    """``model`` initialised with its parameter shapes known (one pass on a dummy batch).

    A later ``initialize(force_reinit=True)`` then draws every parameter at
    once, in order, so two models of the same shapes seeded alike start alike.
    """
    model.initialize(ctx=ctx)
    model(nd.zeros((batch_size, num_steps), ctx=ctx),
          model.begin_state(batch_size=batch_size, ctx=ctx))
    return model


def one_step_trainer(model, optimizer, params, ids=(1, 2, 3)):
    """A ``gluon.Trainer`` of ``model`` that has taken one step on the ids ``ids``."""
    trainer = gluon.Trainer(model.collect_params(), optimizer, params)
    step(model, trainer, ids)
    return trainer


def step(model, trainer, ids):
    """One training step of ``model`` on one sequence ``ids`` (the sum of the scores as loss)."""
    ctx = next(iter(model.collect_params().values())).list_ctx()[0]
    with autograd.record():
        out, _ = model(nd.array([list(ids)], ctx=ctx), model.begin_state(batch_size=1, ctx=ctx))
        (out * out).sum().backward()
    trainer.step(1)


def momentum_trainer(model):
    """SGD with momentum after one step: one state array per parameter."""
    return one_step_trainer(model, "sgd", {"learning_rate": 0.1, "momentum": 0.9})


def rewrite(snapshot, name, data):
    """Replace a snapshot's file ``name`` by ``data`` and its hash in the manifest to match,
    as an attacker would (the hashes only show that files belong together); the manifest
    itself is just replaced."""
    (snapshot / name).write_bytes(data)
    if name == "manifest.json":
        return
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256(data).hexdigest()
    (snapshot / "manifest.json").write_text(json.dumps(manifest))


def edit_json(snapshot, name, change):
    """:func:`rewrite` a JSON file with ``change(doc)`` applied to its document."""
    doc = json.loads((snapshot / name).read_text())
    change(doc)
    rewrite(snapshot, name, json.dumps(doc).encode())


class RecordingGenerator(np.random.Generator):
    """A NumPy generator that remembers the probabilities each draw was made from."""

    def __init__(self, seed):
        super().__init__(np.random.PCG64(seed))
        self.drawn_from = []

    def choice(self, a, p=None):
        self.drawn_from.append(p)
        return super().choice(a, p=p)
