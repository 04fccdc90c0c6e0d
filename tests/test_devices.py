"""Devices: the GPU probe's verdicts, simulated, and devices written as text.

The probe (``mx.context.num_gpus`` and ``devices._gpu_works``) is replaced
here, so the same checks run on a machine with or without a GPU: no GPU at
all, a GPU build without a driver, GPUs that are listed but fail, two
working GPUs.
"""

import mxnet as mx
import pytest

import d2l_rnn
from d2l_rnn import devices
from d2l_rnn.devices import context_list, parse_contexts

TWO = [mx.cpu(0), mx.cpu(1)]


@pytest.fixture
def gpus(monkeypatch):
    """``gpus(listed, working)``: MXNet lists ``listed`` GPUs; indices in ``working`` work.

    ``listed=None`` makes ``num_gpus`` fail, as a GPU build without a driver does.
    """
    def simulate(listed, working=()):
        def num_gpus():
            if listed is None:
                raise mx.base.MXNetError("no CUDA driver")
            return listed
        monkeypatch.setattr(mx.context, "num_gpus", num_gpus)
        monkeypatch.setattr(devices, "_gpu_works", lambda mx_, index: index in working)
    return simulate


@pytest.mark.parametrize("listed,working", [(0, ()), (None, ()), (2, ())],
                         ids=["none", "no-driver", "listed-but-broken"])
def test_without_a_working_gpu_everything_falls_back_to_the_cpu(listed, working, gpus):
    gpus(listed, working)
    assert d2l_rnn.try_gpu() == mx.cpu()
    assert d2l_rnn.try_all_gpus() == [mx.cpu()]
    assert parse_contexts("gpus") == [mx.cpu()] and parse_contexts("auto") == [mx.cpu()]
    with pytest.raises(ValueError, match="no working GPU"):
        parse_contexts("gpu")
    for text in ("gpu:1", "cpu:0,gpu:0"):
        with pytest.raises(ValueError, match=r"gpu:\d does not work"):
            parse_contexts(text)


def test_working_gpus_are_chosen(gpus):
    gpus(3, working=(1, 2))  # gpu(0) is listed but fails
    assert d2l_rnn.try_gpu() == mx.gpu(1)
    assert d2l_rnn.try_all_gpus() == [mx.gpu(1), mx.gpu(2)]
    assert parse_contexts("auto") == [mx.gpu(1)] and parse_contexts("gpu") == [mx.gpu(1)]
    assert parse_contexts("gpus") == [mx.gpu(1), mx.gpu(2)]
    assert parse_contexts("gpu:2,cpu") == [mx.gpu(2), mx.cpu(0)]
    with pytest.raises(ValueError, match="gpu:0 does not work"):
        parse_contexts("gpu:0")


@pytest.mark.parametrize("ctx,match", [
    ([], "empty"), ([mx.cpu(0), mx.cpu(0)], "more than once"), (["cpu"], "contexts"),
    (0, "contexts"),
])
def test_bad_context_lists(ctx, match):
    with pytest.raises(ValueError, match=match):
        context_list(ctx)


@pytest.mark.parametrize("text,expected", [
    ("cpu", [mx.cpu(0)]), ("cpu:0,cpu:1", TWO), (" CPU:2 ", [mx.cpu(2)]),
])
def test_parse_contexts(text, expected):
    assert parse_contexts(text) == expected


@pytest.mark.parametrize("text", ["tpu", "cpu:x", "cpu:0,,cpu:1", "cpu:-1", ""])
def test_parse_contexts_rejects(text):
    with pytest.raises(ValueError, match="cannot read device"):
        parse_contexts(text)
