"""The pieces of a distributed job that need no kvstore: job files, row shards,
environment checks, and the bounds the launcher puts on every process."""

import json
import signal
import subprocess
import sys
import threading
import time

import pytest
from clitools import alive, sigint_restored

from d2l_rnn.distributed import cluster as mxlaunch
from d2l_rnn.distributed import job as worker
from d2l_rnn.distributed import kvstore as distributed
from d2l_rnn.distributed import local as launcher
from d2l_rnn.distributed import processes as _processes


@pytest.mark.parametrize("num_workers,batch_size", [(1, 5), (2, 32), (3, 32), (4, 7), (5, 5)])
def test_shards_tile_the_batch(num_workers, batch_size):
    shards = [distributed.shard_rows(r, num_workers, batch_size) for r in range(num_workers)]
    rows = [i for s in shards for i in range(batch_size)[s]]
    assert rows == list(range(batch_size))
    sizes = [s.stop - s.start for s in shards]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


def test_fewer_rows_than_workers():
    with pytest.raises(ValueError, match="smaller than the 3 workers"):
        distributed.shard_rows(0, 3, 2)


def test_environment_check_names_what_is_missing():
    env = {"DMLC_ROLE": "worker", "DMLC_PS_ROOT_URI": "127.0.0.1"}
    with pytest.raises(RuntimeError, match="DMLC_PS_ROOT_PORT, DMLC_NUM_SERVER, DMLC_NUM_WORKER"):
        distributed.check_environment(env)
    env.update(DMLC_PS_ROOT_PORT="9000", DMLC_NUM_SERVER="1", DMLC_NUM_WORKER="2")
    distributed.check_environment(env)
    with pytest.raises(RuntimeError, match="only a worker trains"):
        distributed.check_environment(dict(env, DMLC_ROLE="server"))


@pytest.mark.parametrize("value", ["0", "-3", "soon"])
def test_bad_stall_timeout(value):
    env = {"DMLC_ROLE": "worker", "DMLC_PS_ROOT_URI": "127.0.0.1", "DMLC_PS_ROOT_PORT": "1",
           "DMLC_NUM_SERVER": "1", "DMLC_NUM_WORKER": "1", "D2L_RNN_STALL_TIMEOUT": value}
    with pytest.raises(ValueError, match="D2L_RNN_STALL_TIMEOUT"):
        distributed.KVStoreWorker("dist_sync", env)


def test_watchdog_exits_a_stuck_process():
    code = ("from d2l_rnn.distributed.kvstore import Watchdog; import time; "
            "w = Watchdog(0.5, 'test'); w.arm(); time.sleep(30)")
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == distributed.EXIT_STALLED
    assert "test made no progress" in run.stderr
    assert time.monotonic() - start < 25


def test_a_disarmed_watchdog_lets_the_process_live():
    code = ("from d2l_rnn.distributed.kvstore import Watchdog; import time; "
            "w = Watchdog(0.3, 'test'); w.arm(); w.disarm(); time.sleep(1.5); print('alive')")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "alive"


def _write(tmp_path, data):
    path = tmp_path / "job.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_job_file_defaults_are_the_chapters(tmp_path):
    job = worker.load_job(_write(tmp_path, {"kvstore": "dist_async", "num_epochs": 3}))
    assert job["num_epochs"] == 3 and job["kvstore"] == "dist_async"
    assert (job["num_hiddens"], job["num_steps"], job["batch_size"], job["lr"],
            job["clipping_theta"]) == (256, 35, 32, 100.0, 0.01)


@pytest.mark.parametrize("data,match", [
    ("{not json", "cannot read job file"),
    ("[1, 2]", "JSON object"),
    ({"kvstore": "dist_sync", "epochs": 3}, "unknown keys epochs; known keys: batch_size"),
    ({"num_epochs": 3}, "kvstore must be 'dist_sync' or 'dist_async', got None"),
    ({"kvstore": "device"}, "kvstore must be"),
    ({"kvstore": "dist_sync", "cell": "transformer"}, "cell must be one of rnn, gru, lstm"),
])
def test_bad_job_files(tmp_path, data, match):
    with pytest.raises(ValueError, match=match):
        worker.load_job(_write(tmp_path, data))


def test_worker_main_reports_errors_and_usage(tmp_path, capsys):
    assert worker.main([]) == 2
    assert "usage" in capsys.readouterr().err
    assert worker.main([str(tmp_path / "missing.json")]) == 2
    assert "cannot read job file" in capsys.readouterr().err


def test_child_lifetime_survives_exec():
    # The alarm set before exec ends the process even though it never
    # asked for it: the bound that holds when everything else fails.
    start = time.monotonic()
    proc = subprocess.Popen(["sleep", "60"], preexec_fn=_processes.child_setup(1))
    assert proc.wait(timeout=30) == -signal.SIGALRM
    assert time.monotonic() - start < 10


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_children_die_with_the_launcher(tmp_path):
    code = ("import subprocess, sys; from d2l_rnn.distributed import processes as _processes; "
            "p = subprocess.Popen(['sleep', '60'], preexec_fn=_processes.child_setup(120)); "
            "print(p.pid, flush=True); sys.stdin.read()")
    parent = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        parent.kill()
        parent.wait(timeout=30)
        end = time.monotonic() + 10
        while time.monotonic() < end and alive(child):
            time.sleep(0.05)
        assert not alive(child)
    finally:
        parent.kill()
        parent.wait(timeout=30)




def _one_line(capsys):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("argv,message", [
    (["-n", "2"], "give the worker's command after --"),
    (["-n", "0", "--", "true"], "argument -n/--num-workers: expected a number from 1 to 63"),
    (["-n", "100000", "--", "true"], "expected a number from 1 to 63, got '100000'"),
    (["-n", "two", "--", "true"], "got 'two'"),
    (["-n", "1", "-s", "0", "--", "true"], "argument -s/--num-servers"),
    (["-n", "1", "--timeout", "inf", "--", "true"], "argument --timeout: expected a number"),
    (["-n", "1", "--timeout", "nan", "--", "true"], "got 'nan'"),
    (["-n", "1", "--timeout", "1e10", "--", "true"], "got '1e10'"),
    (["-n", "1", "--timeout", "0", "--", "true"], "got '0'"),
    (["-n", "1", "--", "/no/such/program"], "'/no/such/program' is not an executable program"),
    (["--bogus"], "the following arguments are required: -n/--num-workers"),
])
def test_launcher_bad_arguments_are_one_line_and_exit_2(argv, message, capsys):
    assert launcher.main(argv) == 2
    line = _one_line(capsys)
    assert line.startswith("python -m d2l_rnn.distributed.local: error: ") and message in line, line


def test_launcher_log_dir_that_is_a_file(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert launcher.main(["-n", "1", "--log-dir", str(tmp_path / "file"), "--", "true"]) == 2
    assert "--log-dir %s is a file" % (tmp_path / "file") in _one_line(capsys)
    assert launcher.main(["-n", "1", "--log-dir", str(tmp_path / "file" / "sub"), "--",
                          "true"]) == 2
    assert "Not a directory" in _one_line(capsys)


def test_local_job_bounds_its_arguments():
    for bad in (dict(num_workers=0), dict(num_workers=70), dict(timeout=float("nan")),
                dict(timeout=1e10), dict(timeout=0)):
        args = dict(command=["true"], num_workers=1)
        args.update(bad)
        with pytest.raises(ValueError):
            launcher.LocalJob(**args)


@pytest.mark.dist  # a scheduler and a server on 127.0.0.1
def test_launcher_ctrl_c_stops_the_job_silently_with_130(tmp_path):
    # Ctrl-C as a terminal delivers it, even when the suite runs with SIGINT
    # ignored (`make test &` in a script): clitools.sigint_restored.
    code = ("import sys; from d2l_rnn.distributed import local; "
            "sys.exit(local.main(['-n', '1', '--log-dir', sys.argv[1], '--', 'sleep', '60']))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_restored)
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and not (tmp_path / "worker-0.log").exists():
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130 and err == "", err


@pytest.mark.dist  # a scheduler and a server on 127.0.0.1
def test_a_ctrl_c_while_the_processes_start_is_not_lost(tmp_path):
    """Bug it catches: a KeyboardInterrupt raised inside a fork hook is only printed
    ('Exception ignored in ...'), and the launcher waited for the 60 s job it was told to
    stop (seen in 6 of 8 tries with Ctrl-C right as worker-0.log appeared). Here the
    SIGINT comes, every time, in the hook after the worker's fork."""
    code = ("import os, signal, sys; from d2l_rnn.distributed import local; forks = []; "
            "os.register_at_fork(after_in_parent=lambda: forks.append(1) or len(forks) == 3 "
            "and os.kill(os.getpid(), signal.SIGINT)); "   # scheduler, server, worker-0
            "sys.exit(local.main(['-n', '1', '--log-dir', sys.argv[1], '--', 'sleep', '30']))")
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, timeout=90, preexec_fn=sigint_restored)
    assert run.returncode == 130 and "KeyboardInterrupt" not in run.stderr, run.stderr
    assert time.monotonic() - start < 20   # not the 30 s the worker would sleep
    assert (tmp_path / "worker-0.log").exists()


def test_free_port_is_bindable():
    import socket
    port = launcher.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    assert 0 < port < 65536


def test_mxnet_launch_script_runs_on_this_python():
    # Only --help: a real launch would look up this machine's outward address.
    run = subprocess.run([sys.executable, "-m", "d2l_rnn.distributed.cluster", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "--launcher {local,ssh,mpi,sge,yarn}" in run.stdout and "--hostfile" in run.stdout


def test_isalive_is_restored():
    # Adding the alias in this process is harmless: it is the same method.
    mxlaunch.restore_isalive()
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()
    assert thread.isAlive() is False
    assert threading.Thread.isAlive is threading.Thread.is_alive
    assert mxlaunch.launch_script().name == "launch.py"
