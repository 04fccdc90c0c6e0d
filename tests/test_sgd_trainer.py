"""ClippedSGDTrainer: its fused step equals clipping then Trainer.step(1)."""

import random

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, gluon, nd
from mxnet.gluon import rnn

import d2l_rnn
from d2l_rnn.optimizer import ClippedSGDTrainer, make_trainer
from d2l_rnn.training import train_epoch

V = 11


def _twin_models(ctx, num_hiddens=16, sigma=0.5, vocab_size=V):
    """Two RNNModels with identical parameters on ``ctx`` (a context or a list)."""
    models = []
    for _ in range(2):
        mx.random.seed(3)
        model = d2l_rnn.RNNModel(rnn.RNN(num_hiddens), vocab_size)
        model.initialize(ctx=ctx, init=mx.init.Normal(sigma))
        for c in ctx if isinstance(ctx, list) else [ctx]:
            # The first call draws the deferred parameters, right after the seed.
            model(nd.zeros((1, 1), ctx=c), model.begin_state(batch_size=1, ctx=c))
        models.append(model)
    return models


def _backward(model, ctx, scale):
    X = nd.array(np.arange(12).reshape(3, 4) % V, ctx=ctx)
    with autograd.record():
        output, _ = model(X, model.begin_state(batch_size=3, ctx=ctx))
        l = (output * scale).mean()
    l.backward()


def _weights(model, ctx):
    return [p.data(ctx).asnumpy() for p in model.collect_params().values()]


def _grad_norm(model, ctx):
    return np.sqrt(sum(float((p.grad(ctx) ** 2).sum().asscalar())
                       for p in model.collect_params().values()))


@pytest.mark.parametrize("scale,theta", [(1e3, 1e-2), (1e-3, 1e3)], ids=["clips", "no-clip"])
def test_fused_step_equals_clipping_then_step(scale, theta, ctx):
    fused, reference = _twin_models(ctx)
    trainer = make_trainer(fused, 0.7)
    plain = gluon.Trainer(reference.collect_params(), "sgd", {"learning_rate": 0.7})
    for _ in range(3):
        _backward(fused, ctx, scale)
        _backward(reference, ctx, scale)
        expected_norm = _grad_norm(reference, ctx)
        norm = trainer.clipped_step(theta)
        d2l_rnn.grad_clipping([p.data(ctx) for p in reference.collect_params().values()],
                              theta, ctx)
        plain.step(1)
        assert norm.asscalar() == pytest.approx(expected_norm, rel=1e-5)
    for a, b in zip(_weights(fused, ctx), _weights(reference, ctx)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_fused_step_follows_set_learning_rate(ctx):
    fused, reference = _twin_models(ctx)
    trainer = make_trainer(fused, 1.0)
    plain = gluon.Trainer(reference.collect_params(), "sgd", {"learning_rate": 1.0})
    for lr in (1.0, 0.1):
        trainer.set_learning_rate(lr)
        plain.set_learning_rate(lr)
        _backward(fused, ctx, 1.0)
        _backward(reference, ctx, 1.0)
        trainer.clipped_step(1e3)
        plain.step(1)
        for a, b in zip(_weights(fused, ctx), _weights(reference, ctx)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("num_devices", [2, 3])
def test_several_devices_clip_the_global_norm_of_the_summed_gradient(num_devices):
    """clipped_step on N devices is: sum the gradients, clip the sum, apply it."""
    ctxs = [mx.cpu(i) for i in range(num_devices)]
    fused, reference = _twin_models(ctxs)
    trainer = ClippedSGDTrainer(fused.collect_params(), 0.5)
    plain = gluon.Trainer(reference.collect_params(), "sgd", {"learning_rate": 0.5},
                          update_on_kvstore=False)
    for model in (fused, reference):
        for k, c in enumerate(ctxs):  # other data on every device: other gradients
            _backward(model, c, 1e3 * (k + 1))
    plain.allreduce_grads()
    summed = _grad_norm(reference, ctxs[0])
    norm = trainer.clipped_step(1e-2)
    assert norm.asscalar() == pytest.approx(summed, rel=1e-5)
    for c in ctxs:
        d2l_rnn.grad_clipping([p.data(c) for p in reference.collect_params().values()],
                              1e-2, c)
    plain.update(1)
    for c in ctxs:
        for a, b in zip(_weights(fused, c), _weights(reference, c)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_train_epoch_is_the_same_with_any_sgd_trainer(time_machine, ctx):
    """The fused path (make_trainer) and the generic path (a plain Trainer) agree."""
    corpus_indices = time_machine[0]
    models = _twin_models(ctx, num_hiddens=32, sigma=0.01, vocab_size=time_machine[3])
    losses = []
    for model, trainer in zip(models, [make_trainer(models[0], 1e2),
                                       gluon.Trainer(models[1].collect_params(), "sgd",
                                                     {"learning_rate": 1e2})]):
        random.seed(5)  # the sampler's offset
        model.hybridize(static_alloc=True)
        losses.append(train_epoch(model, trainer, corpus_indices, 32, 35, 1e-2, ctx))
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    for a, b in zip(_weights(models[0], ctx), _weights(models[1], ctx)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_other_optimizers_still_train(time_machine, ctx):
    model = d2l_rnn.RNNModel(rnn.RNN(32), time_machine[3])
    model.initialize(ctx=ctx, init=mx.init.Normal(0.01))
    trainer = gluon.Trainer(model.collect_params(), "adam", {"learning_rate": 1e-2})
    first = train_epoch(model, trainer, time_machine[0], 32, 35, 1.0, ctx)
    for _ in range(2):
        last = train_epoch(model, trainer, time_machine[0], 32, 35, 1.0, ctx)
    assert last < first
