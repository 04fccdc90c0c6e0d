"""``d2l-rnn train --ctx DEVICES --kvstore KIND``: several devices and kvstore jobs."""

import re
import subprocess
import sys

import numpy as np
import pytest
from clitools import TINY, chapter_lines, one_error_line, run

import d2l_rnn

FLAGS = [*TINY, "--epochs", "3", "--pred-period", "1", "--val-chars", "500"]
_PERPLEXITIES = re.compile(r"perplexity (\d+\.\d+), validation perplexity (\d+\.\d+)")


def _numbers(out):
    return np.array([[float(a), float(b)] for a, b in _PERPLEXITIES.findall(out)])


def test_two_devices_print_what_one_prints(capsys, tmp_path):
    one = run(capsys, "train", *FLAGS, "--save", tmp_path / "one")
    two = run(capsys, "train", *FLAGS, "--ctx", "cpu:0,cpu:1", "--save", tmp_path / "two")
    assert one.code == two.code == 0, two.err
    assert len(chapter_lines(two.out)) == len(chapter_lines(one.out)) == 9
    # Training and validation perplexity of every epoch, to float tolerance.
    np.testing.assert_allclose(_numbers(two.out), _numbers(one.out), rtol=1e-5)
    assert _numbers(one.out).shape == (3, 2)
    a = d2l_rnn.load_checkpoint(tmp_path / "one")
    b = d2l_rnn.load_checkpoint(tmp_path / "two")
    np.testing.assert_allclose(b.history, a.history, rtol=1e-5)


def test_resume_on_two_devices_continues_the_run(capsys, tmp_path):
    flags = [*TINY, "--ctx", "cpu:0,cpu:1", "--pred-period", "1"]
    whole = run(capsys, "train", *flags, "--epochs", "3", "--save", tmp_path / "whole")
    first = run(capsys, "train", *flags, "--epochs", "2", "--save", tmp_path / "part")
    second = run(capsys, "train", *flags, "--epochs", "3", "--resume", tmp_path / "part")
    assert whole.code == first.code == second.code == 0, second.err
    a = d2l_rnn.load_checkpoint(tmp_path / "whole")
    b = d2l_rnn.load_checkpoint(tmp_path / "part")
    assert b.epoch == 3
    np.testing.assert_allclose(b.history, a.history, rtol=1e-5)


@pytest.mark.parametrize("args,message", [
    (("--ctx", "cpu:0,cpu:0"), "--ctx cpu:0,cpu:0: ctx names a device more than once"),
    (("--ctx", "tpu:0"), "cannot read device 'tpu:0'"),
    (("--ctx", "cpu:0,cpu:1,cpu:2", "--batch-size", "2", "--num-chars", "500"),
     "every device needs at least one row: use batch_size >= 3"),
    (("--kvstore", "dist_sync"), "needs the environment of a launcher; DMLC_ROLE"),
    (("--kvstore", "dist_async", "--ctx", "cpu:0,cpu:1"), "one context per worker"),
])
def test_bad_devices_and_kvstores_are_one_line(args, message, capsys, tmp_path, monkeypatch):
    for name in ("DMLC_ROLE", "DMLC_PS_ROOT_URI", "DMLC_PS_ROOT_PORT", "DMLC_NUM_SERVER",
                 "DMLC_NUM_WORKER"):
        monkeypatch.delenv(name, raising=False)
    result = run(capsys, "train", *TINY, "--epochs", "1", "--save", tmp_path / "s", *args)
    assert message in one_error_line(result)
    assert result.out == ""
    assert not (tmp_path / "s").exists() or not any((tmp_path / "s").iterdir())


def test_unknown_kvstore_is_refused(capsys):
    result = run(capsys, "train", "--kvstore", "local")
    assert "invalid choice: 'local'" in one_error_line(result)


def _job(tmp_path, *train_args):
    return subprocess.run(
        [sys.executable, "-m", "d2l_rnn.distributed.local", "-n", "2", "--timeout", "150",
         "--log-dir", str(tmp_path / "logs"), "--", sys.executable, "-m", "d2l_rnn",
         "train", *TINY, "--pred-period", "1", "--kvstore", "dist_sync", *train_args],
        capture_output=True, text=True, timeout=200)


@pytest.mark.dist
@pytest.mark.timeout(300)
def test_dist_sync_through_the_command_line_with_resume(capsys, tmp_path):
    alone = run(capsys, "train", *TINY, "--pred-period", "1", "--epochs", "3",
                "--save", tmp_path / "alone")
    assert alone.code == 0
    first = _job(tmp_path, "--epochs", "2", "--save", tmp_path / "job")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("epoch 2, perplexity") == 1  # worker 0's lines
    # Only worker 0 saves.
    logs = [p.read_text() for p in sorted((tmp_path / "logs").glob("worker-*.log"))]
    assert sum("model saved in %s" % (tmp_path / "job" / "epoch-000002") in log
               for log in logs) == 1
    second = _job(tmp_path, "--epochs", "3", "--resume", tmp_path / "job")
    assert second.returncode == 0, second.stderr
    resumed = d2l_rnn.load_checkpoint(tmp_path / "job")
    assert resumed.epoch == 3
    np.testing.assert_allclose(resumed.history, d2l_rnn.load_checkpoint(tmp_path / "alone")
                               .history, rtol=1e-4)
