"""Host syncs: one per epoch in the chapter's training, one read per epoch and one wait per
batch in a training run, at most one per generated character.

A host sync is a call that makes Python wait for MXNet's engine: copying an
array to the host (``asnumpy``, ``asscalar``), ``wait_to_read`` or
``waitall``. They are counted where they enter MXNet's C library, so no way
of reading a value back can slip past the count. (The printed chapter loop's
two syncs per batch are counted once, by the profiler test in test_bench.py.)
The training run waits for batch ``i - 1`` after issuing batch ``i``, so that
it is never more than a batch ahead of MXNet's engine (a stop takes effect
within a batch); the chapter's function never waits inside an epoch.

Planted bugs these tests caught: a ``wait_to_read`` in the engine's loop (the
chapter's function then syncs every batch), the run's wait removed (no longer
one per batch), and ``asscalar`` instead of ``wait_to_read`` for it (a copy).
"""

import pytest
from mxnet import base
from mxnet.gluon import rnn

import d2l_rnn as d2l
from d2l_rnn.optimizer import make_trainer
from d2l_rnn.training import train_epoch

SYNCS = ("MXNDArraySyncCopyToCPU", "MXNDArrayWaitToRead", "MXNDArrayWaitAll", "MXRandomSeed")


@pytest.fixture
def syncs(monkeypatch):
    """A list that gets the name of every host sync (and MXNet reseed) made while the test runs.

    ``MXRandomSeed`` pushes an operation on the engine and returns; it is
    listed only to count the reseeds of a run with dropout.
    """
    seen = []
    for name in SYNCS:
        original = getattr(base._LIB, name)

        def counted(*args, _name=name, _original=original):
            seen.append(_name)
            return _original(*args)

        monkeypatch.setattr(base._LIB, name, counted)
    return seen


def test_the_counter_sees_a_read(syncs):
    d2l.to_onehot(d2l.init_rnn_state(1, 2, None)[0], 3)[0].asnumpy()
    assert syncs == ["MXNDArraySyncCopyToCPU"]


@pytest.mark.parametrize("is_random_iter,optimizer", [(False, "sgd"), (True, "sgd"),
                                                      (False, "adam"), (False, "rmsprop")])
def test_train_epoch_syncs_once(is_random_iter, optimizer, time_machine, ctx, syncs):
    """Planted bug it caught: Adam's and RMSprop's step reading the norm back (asscalar)."""
    corpus_indices, _, _, vocab_size = time_machine
    model = d2l.RNNModel(rnn.RNN(32), vocab_size)
    model.initialize(ctx=ctx)
    model.hybridize(static_alloc=True)
    trainer = make_trainer(model, None, optimizer)
    mean_loss = train_epoch(model, trainer, corpus_indices, 32, 35, 1e-2, ctx, is_random_iter)
    assert mean_loss > 0
    assert len(syncs) == 1


def test_the_chapters_function_syncs_once_per_epoch(time_machine, ctx, syncs):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    model = d2l.RNNModel(rnn.RNN(16), vocab_size)
    history = d2l.train_and_predict_rnn_gluon(
        model, 16, vocab_size, ctx, corpus_indices[:3000], idx_to_char, char_to_idx, 3, 35,
        1e2, 1e-2, 32, 100, 10, ["traveller"])
    assert len(history) == 3 and syncs == ["MXNDArraySyncCopyToCPU"] * 3


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_a_run_reads_once_per_epoch_and_waits_once_per_batch(dropout, ctx, syncs):
    settings = d2l.TrainSettings(cell="lstm", num_layers=2, dropout=dropout, num_hiddens=16,
                                 num_chars=2000, batch_size=8, num_steps=10, num_epochs=3,
                                 pred_period=100)
    run = d2l.TrainingRun(settings, ctx)
    batches = []
    real = run.train_one_epoch.train_batch
    run.train_one_epoch.train_batch = lambda *a: batches.append(1) or real(*a)
    syncs.clear()
    run.fit(progress=False, handle_signals=False)
    assert len(batches) == 3 * 24
    assert syncs.count("MXNDArraySyncCopyToCPU") == 3  # the epoch's loss
    assert syncs.count("MXNDArrayWaitToRead") == 3 * (24 - 1)  # batch i waits for i - 1
    assert syncs.count("MXRandomSeed") == (len(batches) if dropout else 0)
    assert len(syncs) == 3 + 3 * 23 + syncs.count("MXRandomSeed")


@pytest.mark.parametrize("num_chars", [7, 70])
def test_predict_rnn_gluon_syncs_once_per_generation_on_the_cpu(num_chars, time_machine, ctx,
                                                                 syncs):
    # The host step reads the weights once, then generates without MXNet.
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    model = d2l.RNNModel(rnn.LSTM(16, num_layers=2), vocab_size)
    model.initialize(ctx=ctx)
    d2l.predict_rnn_gluon("time traveller", num_chars, model, vocab_size, ctx, idx_to_char,
                          char_to_idx)
    assert syncs == ["MXNDArraySyncCopyToCPU"]


def test_the_gluon_step_syncs_once_per_character(time_machine, ctx, syncs, monkeypatch):
    # The step GPUs use: one read of each character's scores.
    from d2l_rnn.generation import host_step
    monkeypatch.setattr(host_step, "supports", lambda model, ctx: False)
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    model = d2l.RNNModel(rnn.RNN(16), vocab_size)
    model.initialize(ctx=ctx)
    d2l.predict_rnn_gluon("time traveller", 7, model, vocab_size, ctx, idx_to_char,
                          char_to_idx)
    assert len(syncs) == 7


def test_predict_rnn_syncs_once_per_character(time_machine, ctx, syncs):
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    params = d2l.make_get_params(vocab_size, 16, vocab_size, ctx)()
    d2l.predict_rnn("time traveller", 7, d2l.rnn, params, d2l.init_rnn_state, 16, vocab_size,
                    ctx, idx_to_char, char_to_idx)
    assert len(syncs) == 7
