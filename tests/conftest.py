"""Shared fixtures: a printed seed, the CPU context, the chapter's corpus, the chapter's run.

Under pytest-xdist (``make test``), :func:`pytest_collection_modifyitems`
puts the tests that share an expensive or exclusive resource into one
``xdist_group``, which ``--dist loadgroup`` runs on one worker: the chapter's
200-epoch run (computed once, not once per worker), the costlier
module-scoped fixtures (:data:`SHARED_FIXTURES`: made once, not once per
worker), and the kvstore jobs (a scheduler, a server and workers each, on
ports picked when the job starts; one job at a time keeps them from
competing for the cores). test_notebooks.py groups itself.
"""

import os

import pytest

import d2l_rnn

# The xdist groups (see the module docstring): a fixture's users run on one worker.
SHARED_FIXTURES = {
    "chapter_run": "chapter_run",              # conftest: the chapter's 200 epochs
    "two_rows": "bench_two_rows",              # test_bench: four benchmark processes
    "session": "own_text_session",             # test_own_text: an 8-epoch run with saves
    "origin": "init_from_origin",              # test_init_from: the checkpoint it starts from
}
KVSTORE_GROUP = "kvstore_jobs"


def _group(item):
    for name, group in SHARED_FIXTURES.items():
        if name in item.fixturenames:
            return group
    if item.get_closest_marker("dist"):
        return KVSTORE_GROUP
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        group = _group(item)
        if group is not None and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(group))
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
