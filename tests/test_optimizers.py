"""Adam and RMSprop beside the chapter's SGD: the clipped step, defaults, and exact resumes.

Planted bugs these tests were seen to catch: Adam's clipped step without the
clipping (test_clipped_step_is_clipping_then_the_optimizers_own_step); RMSprop
trained with SGD's update (same test); the optimizer's default rate ignored
(``lr`` left None passed on as SGD's 100: test_each_optimizer_starts_from_its_own_defaults);
the update counts not restored, so Adam's bias correction restarts at step 1
(test_resume_from_python_continues_exactly, adam); Adam's two moments restored
in swapped order (same test); a NaN moment accepted on load
(test_a_nan_moment_is_refused); the optimizer left out of _FIXED_ON_RESUME
(test_resume_with_another_optimizer_is_refused_in_one_line).
"""

import math
import random

import mxnet as mx
import numpy as np
import pytest
from clitools import TINY, one_error_line, run
from mxnet import autograd, gluon, nd

import d2l_rnn
from d2l_rnn.checkpoint.trainer_state import trainer_documents
from d2l_rnn.model import build_model
from d2l_rnn.optimizer import OPTIMIZER_DEFAULTS, OPTIMIZERS, make_trainer
from d2l_rnn.settings import TrainSettings
from d2l_rnn.training import make_epoch

V = 11
# MXNet's own optimizers with the arguments the library promises (no weight decay,
# RMSprop's decay 0.95): the reference each clipped step must equal.
REFERENCE = {"adam": ("adam", {"wd": 0}), "rmsprop": ("rmsprop", {"gamma1": 0.95, "wd": 0})}


def _twins(ctx, cell="gru"):
    models = []
    for _ in range(2):
        mx.random.seed(7)
        model = build_model(cell, 12, 2, V)
        model.initialize(ctx=ctx, init=mx.init.Normal(0.3))
        model(nd.zeros((1, 1), ctx=ctx), model.begin_state(batch_size=1, ctx=ctx))
        models.append(model)
    return models


def _backward(model, ctx, scale, seed):
    X = nd.array(np.random.RandomState(seed).randint(0, V, (3, 5)), ctx=ctx)
    with autograd.record():
        output, _ = model(X, model.begin_state(batch_size=3, ctx=ctx))
        l = (output * scale).mean()
    l.backward()


def _weights(model):
    return {k: p.data().asnumpy() for k, p in model._collect_params_with_prefix().items()}


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
@pytest.mark.parametrize("scale,theta", [(1e3, 1e-2), (1e-3, 1e3)], ids=["clips", "no-clip"])
def test_clipped_step_is_clipping_then_the_optimizers_own_step(optimizer, scale, theta, ctx):
    ours, reference = _twins(ctx)
    trainer = make_trainer(ours, 0.01, optimizer)
    name, kwargs = REFERENCE[optimizer]
    plain = gluon.Trainer(reference.collect_params(), name, dict(kwargs, learning_rate=0.01))
    for step in range(4):
        _backward(ours, ctx, scale, step)
        _backward(reference, ctx, scale, step)
        trainer.clipped_step(theta)
        d2l_rnn.grad_clipping([p.data(ctx) for p in reference.collect_params().values()],
                              theta, ctx)
        plain.step(1)
    expected = _weights(reference)
    for key, value in _weights(ours).items():
        # Adam's fused operator rounds apart from adam_update by float32 ulps (1e-6 of
        # steps of 0.01): far below what an unclipped or another update changes.
        np.testing.assert_allclose(value, expected[key], rtol=1e-5, atol=2e-6)


def test_each_optimizer_starts_from_its_own_defaults(ctx):
    model = _twins(ctx)[0]
    for optimizer in OPTIMIZERS:
        trainer = make_trainer(model, None, optimizer)
        assert trainer.learning_rate == OPTIMIZER_DEFAULTS[optimizer]["lr"]
        assert type(trainer._optimizer).__name__.lower() == optimizer
        settings = TrainSettings(optimizer=optimizer)
        assert (settings.lr, settings.clipping_theta) == (
            OPTIMIZER_DEFAULTS[optimizer]["lr"], OPTIMIZER_DEFAULTS[optimizer]["clipping_theta"])
    assert make_trainer(model, 0.25, "adam").learning_rate == 0.25  # a given rate wins
    assert TrainSettings(optimizer="rmsprop", lr=0.5, clipping_theta=2.0).lr == 0.5
    # The chapter's numbers, from the book: SGD at 100, clipped to 0.01.
    assert (OPTIMIZER_DEFAULTS["sgd"]["lr"], OPTIMIZER_DEFAULTS["sgd"]["clipping_theta"]) == (
        100, 0.01)
    chapter = TrainSettings().chapter_args()
    assert (chapter["lr"], chapter["clipping_theta"]) == (100, 0.01)


@pytest.mark.parametrize("bad", ["adamw", "SGD", None, 3])
def test_an_unknown_optimizer_is_named(bad, ctx):
    with pytest.raises(ValueError, match="optimizer must be one of sgd, adam, rmsprop"):
        make_trainer(_twins(ctx)[0], 0.1, bad)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        TrainSettings(optimizer=bad).check()


def test_dist_async_is_refused_with_adam(ctx):
    with pytest.raises(ValueError, match="dist_async works with optimizer 'sgd' only"):
        make_epoch(_twins(ctx)[0], None, list(range(V)) * 50, 4, 5, 1.0, ctx,
                   kvstore="dist_async", optimizer="adam")


def _train(model, optimizer, corpus, epochs, ctx, trainer_from=None):
    model.hybridize(static_alloc=True)
    epoch = make_epoch(model, None, corpus, 8, 10, OPTIMIZER_DEFAULTS[optimizer][
        "clipping_theta"], ctx, optimizer=optimizer)
    if trainer_from is not None:
        trainer_from.restore_trainer(epoch.trainer)
    return [epoch() for _ in range(epochs)], epoch.trainer


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_resume_from_python_continues_exactly(optimizer, time_machine, tmp_path, ctx):
    corpus, _, idx_to_char, vocab_size = time_machine
    corpus = corpus[:1500]

    def fresh():
        d2l_rnn.set_seed(2)
        model = build_model("lstm", 16, 2, vocab_size)
        model.initialize(ctx=ctx, init=mx.init.Normal(0.1))
        return model

    whole_model = fresh()
    whole, _ = _train(whole_model, optimizer, corpus, 4, ctx)
    part_model = fresh()
    first, trainer = _train(part_model, optimizer, corpus, 2, ctx)
    d2l_rnn.save_checkpoint(tmp_path, part_model, idx_to_char, epoch=2, trainer=trainer)
    random.seed(99), np.random.seed(99)  # only the checkpoint can put the state back
    loaded = d2l_rnn.load_checkpoint(tmp_path, ctx)
    loaded.restore_random_state()
    second, _ = _train(loaded.model, optimizer, corpus, 2, ctx, trainer_from=loaded)
    assert first + second == whole
    expected = _weights(whole_model)
    for key, value in _weights(loaded.model).items():
        np.testing.assert_array_equal(value, expected[key])


@pytest.mark.parametrize("optimizer,arrays", [("adam", 2), ("rmsprop", 1)])
def test_the_state_is_saved_as_arrays_in_order(optimizer, arrays, ctx):
    model = _twins(ctx)[0]
    trainer = make_trainer(model, None, optimizer)
    _backward(model, ctx, 1.0, 0)
    trainer.clipped_step(5.0)
    doc, saved = trainer_documents(trainer)
    assert doc["optimizer"] == optimizer and doc["num_update"] == 1
    assert set(doc["states"].values()) == {arrays}
    state = trainer._updaters[0].states[0]
    for j in range(arrays):  # Adam: the mean, then the variance
        np.testing.assert_array_equal(saved["0.%d" % j].asnumpy(), state[j].asnumpy())


def _adam_checkpoint(tmp_path, ctx):
    model = _twins(ctx)[0]
    trainer = make_trainer(model, None, "adam")
    _backward(model, ctx, 1.0, 0)
    trainer.clipped_step(5.0)
    return d2l_rnn.save_checkpoint(tmp_path / "ckpt", model, list("abcdefghijk"), epoch=1,
                                   trainer=trainer)


def _plant(snapshot, change):
    from modeltools import rewrite as _rewrite
    arrays = nd.load(str(snapshot / "trainer.params"))
    arrays = change(arrays)
    planted = snapshot.parent / "planted.params"
    nd.save(str(planted), arrays)
    _rewrite(snapshot, "trainer.params", planted.read_bytes())


@pytest.mark.parametrize("moment", ["0.0", "3.1"])
def test_a_nan_moment_is_refused(moment, tmp_path, ctx):
    snapshot = _adam_checkpoint(tmp_path, ctx)

    def poison(arrays):
        arrays[moment] = arrays[moment] * np.nan
        return arrays

    _plant(snapshot, poison)
    with pytest.raises(d2l_rnn.CheckpointError,
                       match=r"trainer.params is corrupt: the optimizer state %s holds NaN"
                       % moment.replace(".", r"\.")):
        d2l_rnn.load_checkpoint(snapshot)


def test_a_wrongly_shaped_moment_is_refused(tmp_path, ctx):
    snapshot = _adam_checkpoint(tmp_path, ctx)

    def reshape(arrays):
        arrays["1.1"] = nd.zeros((arrays["1.1"].size + 1,))
        return arrays

    _plant(snapshot, reshape)
    loaded = d2l_rnn.load_checkpoint(snapshot, ctx)
    with pytest.raises(d2l_rnn.CheckpointError, match=r"the state of parameter 1 .* does not "
                       "fit this trainer"):
        loaded.restore_trainer(make_trainer(loaded.model, None, "adam"))


def test_cli_refuses_a_nan_moment_in_one_line(tmp_path, capsys):
    args = ["train", *TINY, "--optimizer", "adam", "--num-chars", "2000", "--epochs", "1"]
    assert run(capsys, *args, "--save", tmp_path / "ckpt").code == 0
    snapshot = d2l_rnn.load_checkpoint(tmp_path / "ckpt").path

    def poison(arrays):
        key = sorted(arrays)[0]
        arrays[key] = arrays[key] * np.inf
        return arrays

    _plant(snapshot, poison)
    line = one_error_line(run(capsys, "train", "--resume", tmp_path / "ckpt", "--epochs", "2"))
    assert "trainer.params is corrupt" in line and "NaN or infinite" in line


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_cli_resume_continues_exactly(optimizer, capsys, tmp_path, ctx):
    common = ["train", *TINY, "--optimizer", optimizer, "--num-chars", "3000", "--val-chars",
              "300", "--epochs", "4", "--pred-period", "2", "--seed", "5"]
    whole = run(capsys, *common, "--save", tmp_path / "whole")
    first = run(capsys, *common, "--epochs", "2", "--save", tmp_path / "part")
    d2l_rnn.set_seed(4321)
    second = run(capsys, "train", "--resume", tmp_path / "part", "--epochs", "4")
    assert (whole.code, first.code, second.code) == (0, 0, 0), second.err
    a = d2l_rnn.load_checkpoint(tmp_path / "whole", ctx)
    b = d2l_rnn.load_checkpoint(tmp_path / "part", ctx)
    assert a.settings["optimizer"] == b.settings["optimizer"] == optimizer
    assert a.settings["lr"] == OPTIMIZER_DEFAULTS[optimizer]["lr"]
    assert a.history == b.history and a.val_history == b.val_history
    assert len(a.history) == 4 and all(math.isfinite(p) for p in a.history)
    expected = _weights(a.model)
    for key, value in _weights(b.model).items():
        np.testing.assert_array_equal(value, expected[key])


def test_resume_with_another_optimizer_is_refused_in_one_line(capsys, tmp_path):
    assert run(capsys, "train", *TINY, "--epochs", "1", "--save", tmp_path).code == 0
    line = one_error_line(run(capsys, "train", "--resume", tmp_path, "--epochs", "2",
                              "--optimizer", "adam"))
    assert "--optimizer adam does not match the checkpoint's sgd" in line
    assert d2l_rnn.load_checkpoint(tmp_path).epoch == 1  # nothing trained, nothing lost
    same = run(capsys, "train", "--resume", tmp_path, "--epochs", "2", "--optimizer", "sgd")
    assert same.code == 0, same.err


def test_a_bad_optimizer_in_saved_settings_is_named(tmp_path, ctx):
    with pytest.raises(ValueError, match="optimizer must be one of"):
        d2l_rnn.save_checkpoint(tmp_path, _twins(ctx)[0], list("abcdefghijk"),
                                settings={"optimizer": "adamw"})
