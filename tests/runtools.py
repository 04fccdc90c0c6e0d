"""Helpers for the tests of the training run: small settings, a stop after batch k, comparisons."""

import dataclasses

import mxnet as mx
import numpy as np

import d2l_rnn

# Small and fast: about 0.1 s an epoch's worth of runs, 24 batches an epoch on 2000 characters.
SMALL = dict(num_hiddens=16, num_chars=2000, val_chars=300, batch_size=8, num_steps=10,
             pred_period=100, seed=3)
KINDS = {
    "rnn": dict(cell="rnn"),
    "rnn-random": dict(cell="rnn", sampler="random"),
    "lstm-dropout": dict(cell="lstm", num_layers=2, dropout=0.3),
    "lstm-dropout-random": dict(cell="lstm", num_layers=2, dropout=0.3, sampler="random"),
    # Optimizers with a state (Adam's moments and step counts, RMSprop's mean square), and
    # the own-text recipe's shape: a GRU fed an embedding.
    "lstm-dropout-adam": dict(cell="lstm", num_layers=2, dropout=0.3, optimizer="adam"),
    "gru-embed-rmsprop-random": dict(cell="gru", embed_size=8, dropout=0.2,
                                     optimizer="rmsprop", sampler="random"),
}


def settings(kind="rnn", **changes):
    values = dict(SMALL, **KINDS[kind])
    values.update(changes)
    return d2l_rnn.TrainSettings(**values)


def stop_after(run, k, action=None):
    """Make ``run`` ask to stop (or call ``action()``) once it has trained ``k`` more batches."""
    epoch = run.train_one_epoch
    real, count = epoch.train_batch, [0]

    def counted(X, Y, state):
        out = real(X, Y, state)
        count[0] += 1
        if count[0] == k:
            (action or run.request_stop)()
        return out

    epoch.train_batch = counted
    return count


def params(model):
    return [p.data().asnumpy() for p in model.collect_params().values()]


def assert_same_run(a, b):
    """Two runs ended with the same perplexities and the same parameters, bit for bit."""
    assert (a.epoch, a.batch) == (b.epoch, b.batch)
    assert a.history == b.history
    assert np.array_equal(np.array(a.val_history), np.array(b.val_history), equal_nan=True)
    for x, y in zip(params(a.model), params(b.model)):
        np.testing.assert_array_equal(x, y)


def whole_run(s):
    run = d2l_rnn.TrainingRun(s, mx.cpu())
    result = run.fit(progress=False, handle_signals=False)
    assert result.reason == "finished"
    return run


def replace(s, **changes):
    return dataclasses.replace(s, **changes)
