"""Ctrl-C and SIGTERM end ``d2l-rnn train`` after the batch in progress, with a snapshot of
that point, one stderr line and exit 130 / 143; the resumed run is the uninterrupted one.

Planted bugs these tests caught (each seen failing, then restored):
- the signal handler left installed after the run (test_sigint_...: the handler check);
- the stop point not saved at a signal (no snapshot: the resume starts elsewhere);
- exit 0 after a signal (both the in-process and the subprocess tests);
- a second signal waiting for the save to end instead of raising at once;
- the stderr line naming no snapshot (it said "interrupted" only).
"""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from clitools import run, without_times

import d2l_rnn
from d2l_rnn.checkpoint import snapshots
from d2l_rnn.training import GluonEpoch

ARGS = ["train", "--num-hiddens", "16", "--ctx", "cpu", "--pred-len", "5", "--batch-size", "8",
        "--num-steps", "10", "--num-chars", "2000", "--pred-period", "1", "--seed", "5"]


def _signal_at_batch(monkeypatch, k, signum=signal.SIGINT):
    """Send ``signum`` to this process while batch ``k`` (from 1) is being trained."""
    real, count = GluonEpoch.train_batch, [0]

    def train_batch(self, X, Y, state):
        count[0] += 1
        if count[0] == k:
            os.kill(os.getpid(), signum)
        return real(self, X, Y, state)

    monkeypatch.setattr(GluonEpoch, "train_batch", train_batch)


def _same_models(a, b):
    assert a.history == b.history and (a.epoch, a.batch) == (b.epoch, b.batch)
    for x, y in zip(a.model.collect_params().values(), b.model.collect_params().values()):
        np.testing.assert_array_equal(x.data().asnumpy(), y.data().asnumpy())


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_after_the_batch_and_the_resume_is_exact(signum, code, capsys, tmp_path,
                                                                monkeypatch):
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    whole = run(capsys, *ARGS, "--epochs", "3", "--save", tmp_path / "whole")
    with monkeypatch.context() as patch:
        _signal_at_batch(patch, 30, signum)  # batch 6 of epoch 2
        stopped = run(capsys, *ARGS, "--epochs", "3", "--save", tmp_path / "part")
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
    name = signal.Signals(signum).name
    saved = tmp_path / "part" / "epoch-000002-batch-000006"
    assert stopped.code == code and stopped.err.splitlines()[-1] == (
        "d2l-rnn: interrupted by %s in epoch 2 after batch 6 (1 epoch done); saved in %s; "
        "go on with: d2l-rnn train --resume %s" % (name, saved, tmp_path / "part"))
    assert without_times(stopped.out) == without_times(whole.out)[:3]  # epoch 1's lines
    resumed = run(capsys, "train", "--resume", tmp_path / "part")
    assert resumed.code == 0 and "resuming %s at epoch 2 of 3, from batch 7" % saved in resumed.err
    _same_models(d2l_rnn.load_checkpoint(tmp_path / "part"),
                 d2l_rnn.load_checkpoint(tmp_path / "whole"))


def test_a_signal_without_save_says_how_to_save(capsys, monkeypatch):
    _signal_at_batch(monkeypatch, 5)
    result = run(capsys, *ARGS, "--epochs", "3")
    assert result.code == 130
    assert result.err.splitlines()[-1] == (
        "d2l-rnn: interrupted by SIGINT in epoch 1 after batch 5 (0 epochs done); not saved: "
        "pass --save DIR next time to keep the model and go on with --resume DIR")
    assert result.out.splitlines()[-1] == (
        " - the model was not saved: pass --save DIR to keep it (and --resume DIR to go on "
        "from where it stopped)")


def test_a_second_signal_during_the_save_ends_at_once_and_keeps_the_last_snapshot(
        capsys, tmp_path, monkeypatch):
    from d2l_rnn.checkpoint import save
    _signal_at_batch(monkeypatch, 12)
    real = save._write_snapshot

    def interrupted_write(tmp, *args):
        if (tmp.path.parent / "epoch-000001-batch-000010").is_dir():  # the stop's own save
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(120)  # the handler raises before this ends
        return real(tmp, *args)

    monkeypatch.setattr(save, "_write_snapshot", interrupted_write)
    start = time.monotonic()
    result = run(capsys, *ARGS, "--epochs", "3", "--save-every-batches", "10", "--save",
                 tmp_path)
    # Far below the sleep, far above the run itself on a busy machine (under a second alone).
    assert time.monotonic() - start < 60
    assert result.code == 130 and result.err.splitlines()[-1] == (
        "d2l-rnn: interrupted; checkpoints written so far are intact")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-000001-batch-000010"]
    assert d2l_rnn.load_checkpoint(tmp_path).batch == 10


def _wait_for_a_snapshot(directory, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if directory.is_dir() and snapshots(directory):
            return True
        time.sleep(0.002)
    return False


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_to_the_command_in_a_process(signum, code, capsys, tmp_path):
    directory = tmp_path / "killed"
    args = [*ARGS, "--num-chars", "6000", "--save-every-batches", "20"]
    proc = subprocess.Popen([sys.executable, "-m", "d2l_rnn", *args, "--epochs", "50",
                             "--save", str(directory)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        appeared = _wait_for_a_snapshot(directory, proc)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert appeared, err
    assert proc.returncode == code, err
    stopped = d2l_rnn.load_checkpoint(directory)
    name = signal.Signals(signum).name
    assert err.splitlines()[-1].startswith("d2l-rnn: interrupted by %s" % name)
    assert "saved in %s; go on with: d2l-rnn train --resume %s" % (stopped.path, directory) \
        in err.splitlines()[-1]
    assert out.splitlines()[-1].startswith(" - model saved in %s" % stopped.path)
    epochs = stopped.epoch + 1  # finish the epoch it stopped in, and compare
    assert run(capsys, "train", "--resume", directory, "--epochs", epochs).code == 0
    whole = run(capsys, *args, "--epochs", epochs, "--save", tmp_path / "whole")
    assert whole.code == 0
    _same_models(d2l_rnn.load_checkpoint(directory),
                 d2l_rnn.load_checkpoint(tmp_path / "whole"))
