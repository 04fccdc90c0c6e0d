"""dist_sync / dist_async jobs on 127.0.0.1, and what happens when a process dies.

Every job here is 1 scheduler + 1 server + 2 workers started by
d2l_rnn.distributed.local with a bounded timeout; LocalJob kills every process group
on the way out, and pytest-timeout bounds each test as a last resort.
"""

import json
import os
import signal
import subprocess
import sys
import time

import mxnet as mx
import numpy as np
import pytest
from mxnet.gluon import rnn

import d2l_rnn
from d2l_rnn.distributed.job import job_defaults
from d2l_rnn.distributed.local import JobFailed, LocalJob

pytestmark = [pytest.mark.dist, pytest.mark.timeout(240)]

TINY = {"num_hiddens": 32, "num_epochs": 4, "pred_period": 2, "pred_len": 10,
        "prefixes": ["traveller"]}
WORKER = [sys.executable, "-m", "d2l_rnn.distributed.job"]


def _job_file(tmp_path, **settings):
    job = dict(TINY, output_dir=str(tmp_path / "out"))
    job.update(settings)
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    return path


def _results(tmp_path):
    found = sorted((tmp_path / "out").glob("worker-*.json"))
    results = [json.loads(path.read_text()) for path in found]
    params = [mx.nd.load(str(tmp_path / "out" / r["params"])) for r in results]
    return results, params


def _single_process(settings):
    """The same training in this process, one context, the same global batch."""
    job = dict(job_defaults(), **settings)
    d2l_rnn.set_seed(job["seed"])
    corpus_indices, char_to_idx, idx_to_char, vocab_size = d2l_rnn.load_data_time_machine()
    model = d2l_rnn.RNNModel(rnn.RNN(job["num_hiddens"]), vocab_size)
    history = d2l_rnn.train_and_predict_rnn_gluon(
        model, job["num_hiddens"], vocab_size, mx.cpu(), corpus_indices, idx_to_char,
        char_to_idx, job["num_epochs"], job["num_steps"], job["lr"], job["clipping_theta"],
        job["batch_size"], job["pred_period"], job["pred_len"], job["prefixes"])
    return model, history


def test_dist_sync_matches_one_process(tmp_path, seed):
    # The README's recipe, as a command line.
    job = _job_file(tmp_path, kvstore="dist_sync", seed=seed)
    run = subprocess.run(
        [sys.executable, "-m", "d2l_rnn.distributed.local", "-n", "2", "--timeout", "150",
         "--log-dir", str(tmp_path / "logs"), "--", *WORKER, str(job)],
        capture_output=True, text=True, timeout=200)
    assert run.returncode == 0, run.stderr
    assert "epoch 4, perplexity" in run.stdout and " - traveller" in run.stdout
    results, params = _results(tmp_path)
    assert len(results) == 2
    # Both workers pulled the same sums and applied the same updates.
    assert results[0]["history"] == results[1]["history"]
    assert params[0].keys() == params[1].keys()
    for name in params[0]:
        np.testing.assert_array_equal(params[0][name].asnumpy(), params[1][name].asnumpy())
    # One process with the same global batch of 32 rows: equal up to float
    # rounding (sums in another order), stated tolerance rtol=1e-4.
    model, history = _single_process(dict(TINY, kvstore="dist_sync", seed=seed))
    np.testing.assert_allclose(results[0]["history"], history, rtol=1e-4)
    model.save_parameters(str(tmp_path / "single.params"))
    single = mx.nd.load(str(tmp_path / "single.params"))
    for name in single:
        np.testing.assert_allclose(params[0][name].asnumpy(), single[name].asnumpy(),
                                   rtol=1e-3, atol=1e-5)


def test_dist_async_trains_and_agrees_on_the_global_perplexity(tmp_path, seed):
    job = _job_file(tmp_path, kvstore="dist_async", num_epochs=3, pred_period=10, seed=seed)
    with LocalJob(WORKER + [str(job)], 2, timeout=150, log_dir=tmp_path / "logs") as local:
        local.wait()
    results, _ = _results(tmp_path)
    histories = [r["history"] for r in results]
    assert len(histories) == 2 and histories[0] == histories[1]
    assert all(np.isfinite(histories[0]))
    assert histories[0][-1] < 0.95 * histories[0][0], histories[0]  # learning


def _wait_for(path, text, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise AssertionError("%r never appeared in %s" % (text, path))


def _long_job(tmp_path, **env):
    job = _job_file(tmp_path, kvstore="dist_sync", num_hiddens=16, num_epochs=1000,
                    pred_period=1, pred_len=1, prefixes=["t"], output_dir=None)
    return LocalJob(WORKER + [str(job)], 2, timeout=150, log_dir=tmp_path / "logs", env=env)


def _assert_all_gone(job):
    for _, proc, _ in job.processes:
        assert proc.returncode is not None
        with pytest.raises(ProcessLookupError):
            os.kill(proc.pid, 0)


@pytest.mark.parametrize("sig,env,match,limit", [
    # A dead worker: the launcher sees its exit and stops the job.
    (signal.SIGKILL, {}, r"worker-1 \(pid \d+\) was killed by SIGKILL"
                         r".*cannot go on without every process", 15),
    # A hung worker (here: stopped) looks alive to the launcher; the other
    # worker's watchdog ends that one, and the launcher reports it.
    (signal.SIGSTOP, {"D2L_RNN_STALL_TIMEOUT": "4"},
     r"(?s)worker-0 .* exited with status 75.*made no progress for \d+ s", 30),
], ids=["killed", "frozen"])
def test_a_lost_worker_ends_the_job_with_a_clear_error(tmp_path, sig, env, match, limit):
    with _long_job(tmp_path, **env) as job:
        _wait_for(tmp_path / "logs" / "worker-1.log", "epoch 2,", 90)
        os.kill(job.worker(1).pid, sig)
        lost = time.monotonic()
        with pytest.raises(JobFailed, match=match):
            job.wait()
        assert time.monotonic() - lost < limit
    _assert_all_gone(job)


def test_the_job_timeout_is_enforced(tmp_path):
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    start = time.monotonic()
    with LocalJob(sleeper, 2, timeout=3, log_dir=tmp_path / "logs") as job:
        with pytest.raises(JobFailed, match=r"timed out after 3 s; still running were: .*"
                                             r"worker-0, worker-1"):
            job.wait()
    assert time.monotonic() - start < 20
    _assert_all_gone(job)


def test_a_bad_job_file_fails_with_the_workers_message(tmp_path):
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"kvstore": "dist_sync", "num_epoch": 3}))
    with LocalJob(WORKER + [str(job)], 2, timeout=60, log_dir=tmp_path / "logs") as local:
        with pytest.raises(JobFailed, match=r"(?s)exited with status 2.*unknown keys num_epoch"):
            local.wait()
    _assert_all_gone(local)
