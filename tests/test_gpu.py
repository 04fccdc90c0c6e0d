"""The model, a training step and prediction on ``mx.gpu(0)``; CPU and GPU agree.

Marked ``gpu``: skipped where no GPU works (conftest), run by
``benchmarks/gpu_check.sh`` on a machine with an NVIDIA card.
"""

import math
import random

import mxnet as mx
import numpy as np
import pytest
from mxnet.gluon import rnn

import d2l_rnn
from d2l_rnn.optimizer import make_trainer
from d2l_rnn.training import train_epoch

pytestmark = pytest.mark.gpu

NUM_HIDDENS, BATCH_SIZE, NUM_STEPS, LR, THETA = 64, 32, 35, 1e2, 1e-2


@pytest.fixture
def gpu():
    return mx.gpu(0)


def _model_on(ctx, vocab_size):
    """A model with the same weights on any device for the same seed.

    Weights are drawn on the CPU (a forward pass ends deferred
    initialisation there) and then moved, so the GPU's own generator, which
    differs from the CPU's, plays no part.
    """
    model = d2l_rnn.RNNModel(rnn.RNN(NUM_HIDDENS), vocab_size)
    model.initialize(ctx=mx.cpu(), init=mx.init.Normal(0.01))
    model(mx.nd.zeros((1, 1)), model.begin_state(batch_size=1, ctx=mx.cpu()))
    model.collect_params().reset_ctx(ctx)
    return model


def _train(model, corpus, ctx, num_epochs):
    trainer = make_trainer(model, LR)
    random.seed(1)  # the sampler's random offsets
    return [train_epoch(model, trainer, corpus, BATCH_SIZE, NUM_STEPS, THETA, ctx)
            for _ in range(num_epochs)]


def test_model_runs_on_the_gpu(gpu, time_machine):
    vocab_size = time_machine[3]
    model = _model_on(gpu, vocab_size)
    model.hybridize()
    X = mx.nd.array(np.random.randint(0, vocab_size, size=(BATCH_SIZE, NUM_STEPS)), ctx=gpu)
    output, state = model(X, model.begin_state(batch_size=BATCH_SIZE, ctx=gpu))
    assert output.shape == (NUM_STEPS * BATCH_SIZE, vocab_size) and output.context == gpu
    assert state[0].shape == (1, BATCH_SIZE, NUM_HIDDENS) and state[0].context == gpu
    assert np.isfinite(output.asnumpy()).all()


def test_training_and_prediction_on_the_gpu(gpu, time_machine):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    model = _model_on(gpu, vocab_size)
    losses = _train(model, corpus_indices, gpu, num_epochs=3)
    assert all(math.isfinite(l) for l in losses) and losses[-1] < losses[0]
    assert all(p.data(gpu).context == gpu for p in model.collect_params().values())
    text = d2l_rnn.predict_rnn_gluon("traveller", 20, model, vocab_size, gpu,
                                     idx_to_char, char_to_idx)
    assert text.startswith("traveller") and len(text) == len("traveller") + 20


def test_chapter_function_trains_on_the_gpu(gpu, time_machine, capsys):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    model = d2l_rnn.RNNModel(rnn.RNN(NUM_HIDDENS), vocab_size)
    history = d2l_rnn.train_and_predict_rnn_gluon(
        model, NUM_HIDDENS, vocab_size, gpu, corpus_indices, idx_to_char, char_to_idx,
        4, NUM_STEPS, LR, THETA, BATCH_SIZE, 2, 10, ["traveller"])
    assert len(history) == 4 and history[-1] < history[0]
    assert capsys.readouterr().out.count("perplexity") == 2


def test_cpu_and_gpu_give_the_same_loss(gpu, time_machine):
    corpus = time_machine[0][:5000]  # 4 batches an epoch: a few steps
    losses = {}
    for ctx in (mx.cpu(), gpu):
        d2l_rnn.set_seed(0)
        losses[ctx] = _train(_model_on(ctx, time_machine[3]), corpus, ctx, num_epochs=2)
    np.testing.assert_allclose(losses[gpu], losses[mx.cpu()], rtol=1e-4)
