"""Shared fixtures: a printed seed, the CPU context, the chapter's corpus."""

import os

import pytest

import d2l_rnn


def pytest_collection_modifyitems(config, items):
    # GPU tests need a device that works; elsewhere they are skipped, not
    # failed, unless D2L_RNN_REQUIRE_GPU=1 (benchmarks/gpu_check.sh) says a
    # GPU must be there.
    if os.environ.get("D2L_RNN_REQUIRE_GPU") == "1":
        return
    if any(item.get_closest_marker("gpu") for item in items):
        import mxnet as mx
        if d2l_rnn.try_gpu() == mx.cpu():
            skip = pytest.mark.skip(reason="no working GPU")
            for item in items:
                if item.get_closest_marker("gpu"):
                    item.add_marker(skip)


@pytest.fixture(autouse=True)
def seed(request):
    """Seed every generator; print the seed so a failure can be repeated.

    Set D2L_RNN_TEST_SEED to run with another seed.
    """
    value = int(os.environ.get("D2L_RNN_TEST_SEED", "0"))
    print("\n[seed] %s: D2L_RNN_TEST_SEED=%d" % (request.node.nodeid, value))
    d2l_rnn.set_seed(value)
    return value


@pytest.fixture
def ctx():
    import mxnet as mx
    return mx.cpu()


@pytest.fixture(scope="session")
def time_machine():
    """``(corpus_indices, char_to_idx, idx_to_char, vocab_size)`` for 10,000 chars."""
    return d2l_rnn.load_data_time_machine()


@pytest.fixture(scope="session")
def chapter_run(time_machine):
    """The chapter's full run on the CPU, once per session: ``(history, printed text, model)``.

    Shared by the checks of its printed lines and numbers and by the
    generation tests that need the chapter's trained model.
    """
    import contextlib
    import io

    import mxnet as mx
    from mxnet.gluon import rnn

    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    d2l_rnn.set_seed(0)
    model = d2l_rnn.RNNModel(rnn.RNN(256), vocab_size)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        history = d2l_rnn.train_and_predict_rnn_gluon(
            model, 256, vocab_size, mx.cpu(), corpus_indices, idx_to_char, char_to_idx,
            200, 35, 1e2, 1e-2, 32, 50, 50, ["traveller", "time traveller"])
    return history, printed.getvalue(), model
