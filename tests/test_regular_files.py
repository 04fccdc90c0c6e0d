"""Rule 2 of issue 21: read only regular files, each within a size limit checked first.

A FIFO where a file is read used to hang every reader for ever, and a link
to /dev/zero was read until memory ran out. Every reader of the package now
opens without blocking and checks the kind and the size before the first
byte. A FIFO is watched by a :class:`~clitools.FifoGuard`, which unblocks a
reader that waits on it and tells: a regression fails, it does not hang.
Endless devices are read in a process with a memory limit.

Bugs these tests caught (each planted again after the fix): ``Path.read_bytes``
in the checkpoint reader and in ``is_own_snapshot``; ``open(path, 'rb')`` for
the log's first line; ``Path.read_text`` for job files; a whole text read
into a str and then an int32 array (6x its size); the cache's copy never
hashed.
"""

import hashlib
import http.server
import json
import os
import resource
import subprocess
import sys
import textwrap
import threading
import tracemalloc
from pathlib import Path

import pytest
from clitools import TINY, FifoGuard, one_error_line, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import d2l_rnn
from d2l_rnn import data
from d2l_rnn.distributed import job as worker

pytestmark = pytest.mark.timeout(60)

FILES = ["model.params", "manifest.json", "vocab.json", "hparams.json", "state.json"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt") / "ck"
    assert d2l_rnn.cli.main(["train", *TINY, "--epochs", "1", "--save", str(folder)]) == 0
    return folder


@pytest.fixture
def snapshot(checkpoint, tmp_path):
    copy = tmp_path / "ck"
    for path in sorted(checkpoint.rglob("*")):
        target = copy / path.relative_to(checkpoint)
        if path.is_dir():
            target.mkdir(parents=True)
        else:
            target.write_bytes(path.read_bytes())
    return next(copy.glob("epoch-*"))


def _replace(path, how):
    path.unlink()
    if how == "fifo":
        os.mkfifo(path)
    elif how == "directory":
        path.mkdir()
    else:  # a link to a device, or to a copy of the very same file
        path.symlink_to(how)


# In this process only what cannot exhaust the machine if a reader regressed; the
# endless devices are read in a process of their own, with a memory limit.
KINDS = ["fifo", "/dev/null", "directory"]
EXPECTED = r"is (a FIFO|a symbolic link|a directory)"


@given(name=st.sampled_from(FILES), how=st.sampled_from(KINDS))
@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_checkpoint_file_that_is_not_a_regular_file_is_refused_at_once(
        checkpoint, tmp_path_factory, name, how):
    snapshot = tmp_path_factory.mktemp("s") / "epoch-000001"
    snapshot.mkdir()
    for path in next(checkpoint.glob("epoch-*")).iterdir():
        (snapshot / path.name).write_bytes(path.read_bytes())
    _replace(snapshot / name, how)
    with FifoGuard(snapshot / name) as guard:
        with pytest.raises(d2l_rnn.CheckpointError, match=r"%s.*%s" % (name, EXPECTED)):
            d2l_rnn.load_checkpoint(snapshot)
    assert not guard.blocked


_ENDLESS = textwrap.dedent("""
    import contextlib, io, os, shutil, sys
    import d2l_rnn
    from d2l_rnn.cli import main
    checkpoint, tmp = sys.argv[1:]
    for device in ("/dev/zero", "/dev/urandom"):
        for name in %r:
            copy = os.path.join(tmp, "c", "epoch-000001")
            shutil.rmtree(os.path.join(tmp, "c"), ignore_errors=True)
            shutil.copytree(checkpoint, copy)
            os.unlink(os.path.join(copy, name))
            os.symlink(device, os.path.join(copy, name))
            try:
                d2l_rnn.load_checkpoint(copy)
                print("loaded", name, device)
            except d2l_rnn.CheckpointError as err:
                print("refused" if "symbolic link" in str(err) else err)
        link = os.path.join(tmp, "link.txt")
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(device, link)
        for argv in (["--data", link], ["--log", link[:-4] + ".csv"]):
            if argv[0] == "--log" and not os.path.lexists(argv[1]):
                os.symlink(device, argv[1])
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                code = main(["train", "--num-hiddens", "8", "--ctx", "cpu", "--epochs", "1"]
                            + argv)
            lines = err.getvalue().strip().splitlines()
            print("refused" if code == 2 and len(lines) == 1 else (code, lines))
""" % FILES)


@pytest.mark.timeout(180)
def test_a_link_to_an_endless_device_is_refused_not_read(checkpoint, tmp_path):
    """Run with a 3 GiB address-space limit: a reader that regressed fails, not the machine."""
    def limited():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    proc = subprocess.run([sys.executable, "-c", _ENDLESS,
                           str(next(checkpoint.glob("epoch-*"))), str(tmp_path)],
                          capture_output=True, text=True, timeout=150, preexec_fn=limited)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["refused"] * (2 * (len(FILES) + 2)), proc.stdout


def test_a_link_to_the_right_bytes_is_refused_too(snapshot):
    """Not followed, even to a copy that would verify: a checkpoint holds no links."""
    real = snapshot.parent / "elsewhere.params"
    real.write_bytes((snapshot / "model.params").read_bytes())
    _replace(snapshot / "model.params", real)
    with pytest.raises(d2l_rnn.CheckpointError, match="model.params is a symbolic link"):
        d2l_rnn.load_checkpoint(snapshot)


@pytest.fixture(scope="module")
def within_epoch(tmp_path_factory):
    """A save folder whose one snapshot is 5 batches into epoch 1 (so with a position.params)."""
    import mxnet as mx
    from runtools import settings as small
    from runtools import stop_after
    folder = tmp_path_factory.mktemp("within") / "ck"
    training = d2l_rnn.TrainingRun(small(), mx.cpu())
    stop_after(training, 5)
    training.fit(folder, progress=False, handle_signals=False)
    return folder


@pytest.mark.parametrize("how", KINDS)
def test_a_position_file_is_read_as_every_checkpoint_file(how, within_epoch, tmp_path, capsys):
    """Issue 19's snapshots within an epoch add position.params; issue 21's rule holds for it:
    not through a link, never a FIFO or a folder, from Python and from ``--resume``.
    Planted: ``read_file`` with ``follow=True`` and without the regular-file check."""
    import re
    import shutil
    copy = tmp_path / "ck"
    shutil.copytree(within_epoch, copy, symlinks=True)
    snapshot = copy / "epoch-000001-batch-000005"
    assert (snapshot / "position.params").is_file()
    _replace(snapshot / "position.params", how)
    with FifoGuard(snapshot / "position.params") as guard:
        with pytest.raises(d2l_rnn.CheckpointError, match="position.params %s" % EXPECTED):
            d2l_rnn.load_checkpoint(copy)
        line = one_error_line(run(capsys, "train", "--resume", copy, "--epochs", "2"))
    assert not guard.blocked and re.search("position.params %s" % EXPECTED, line), line


@pytest.mark.parametrize("command", [
    lambda ck, tmp: ("generate", "--checkpoint", ck, "--prefix", "t", "--ctx", "cpu"),
    lambda ck, tmp: ("evaluate", "--checkpoint", ck, "--data", _text(tmp), "--ctx", "cpu"),
    lambda ck, tmp: ("train", "--resume", ck, "--epochs", "3"),
], ids=["generate", "evaluate", "resume"])
@pytest.mark.parametrize("name", ["model.params", "manifest.json"])
def test_commands_refuse_a_fifo_in_one_line(command, name, snapshot, tmp_path, capsys):
    _replace(snapshot / name, "fifo")
    with FifoGuard(snapshot / name) as guard:
        line = one_error_line(run(capsys, *command(snapshot.parent, tmp_path)))
    assert not guard.blocked and name in line and "is a FIFO" in line


def _text(tmp_path):
    path = tmp_path / "held_out.txt"
    path.write_text("the time traveller " * 20)
    return path


def test_a_file_larger_than_its_limit_is_refused_before_it_is_read(snapshot, monkeypatch):
    from d2l_rnn.checkpoint import reading
    path = snapshot / "manifest.json"
    with open(path, "r+b") as f:  # sparse: 2 MiB that take no disk and are never read
        f.truncate(2 << 20)
    with pytest.raises(d2l_rnn.CheckpointError, match=r"manifest.json is 2,097,152 bytes, "
                                                      r"more than the 1,048,576"):
        d2l_rnn.load_checkpoint(snapshot)
    monkeypatch.setattr(reading, "_MAX_ARRAYS", 100)
    with pytest.raises(d2l_rnn.CheckpointError, match="model.params is .* more than the 100"):
        reading.read_or_fail(snapshot / "model.params", snapshot)


# Devices: in test_a_link_to_an_endless_device_is_refused_not_read (/dev/null itself may
# be a regular file on a machine where some program replaced it).
@pytest.mark.parametrize("how", ["fifo", "directory"])
def test_a_log_that_is_not_a_regular_file_is_one_line(how, tmp_path, capsys):
    log = tmp_path / "log.csv"
    log.write_text("")
    _replace(log, how)
    with FifoGuard(log) as guard:
        line = one_error_line(run(capsys, "train", *TINY, "--epochs", "1", "--log", log))
    assert not guard.blocked and "--log" in line and ("is a FIFO" in line or "symbolic link" in line
                                or "is a directory" in line)


@pytest.mark.parametrize("how", ["fifo", "directory"])
def test_data_that_is_not_a_regular_file_is_one_line(how, tmp_path, capsys):
    text = tmp_path / "text.txt"
    text.write_text("")
    _replace(text, how)
    with FifoGuard(text) as guard:
        line = one_error_line(run(capsys, "train", *TINY, "--epochs", "1", "--data", text))
    assert not guard.blocked and line.startswith("d2l-rnn: error: --data %s is a" % text)


_TOO_BIG = textwrap.dedent("""
    import contextlib, io, sys
    import d2l_rnn
    from d2l_rnn.cli import main
    big = sys.argv[1]
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        print(main(["train", "--num-hiddens", "8", "--ctx", "cpu", "--data", big]))
    print(err.getvalue().strip())
    try:
        d2l_rnn.load_corpus(big)
    except ValueError as error:
        print(error)
    print(d2l_rnn.load_corpus(big, num_chars=1000)[0].size)
""")


@pytest.mark.timeout(120)
def test_a_text_this_machine_cannot_hold_is_refused_before_reading(tmp_path):
    """In a process of its own with a 3 GiB limit: a regression fails there, not here."""
    from d2l_rnn._util.setting_checks import memory_bytes
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:  # sparse: as large as half the memory, on no disk
        f.truncate(memory_bytes() // 2 + (1 << 20))

    def limited():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    proc = subprocess.run([sys.executable, "-c", _TOO_BIG, str(big)], capture_output=True,
                          text=True, timeout=100, preexec_fn=limited)
    code, line, error, part = proc.stdout.strip().splitlines()
    assert code == "2" and line.startswith("d2l-rnn: error: --data %s is " % big)
    for message in (line, error):
        assert "GB of memory (2 bytes per character), more than this machine's" in message
    assert part == "1000"  # a part of it is read


@pytest.mark.parametrize("text,dtype", [
    (b"The Time Traveller (for so it will be convenient to speak of him)\n", "uint8"),
    ("".join(chr(0x4E00 + i) for i in range(300)).encode() + b"\n", "uint16"),  # 301 chars
], ids=["english", "cjk"])
def test_a_text_takes_at_most_twice_its_size_in_memory(text, dtype, tmp_path):
    path = tmp_path / "large.txt"
    path.write_bytes(text * (8_000_000 // len(text)))
    size = path.stat().st_size
    tracemalloc.start()
    try:
        corpus = d2l_rnn.load_corpus(path)[0]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert corpus.dtype == dtype and corpus.size <= size
    assert peak <= 2 * size, "%.2f times the file's size" % (peak / size)


def test_a_job_file_that_is_a_fifo_or_too_large_is_refused(tmp_path):
    fifo = tmp_path / "job.json"
    os.mkfifo(fifo)
    with FifoGuard(fifo) as guard, pytest.raises(ValueError, match="job.json: .*is a FIFO"):
        worker.load_job(fifo)
    assert not guard.blocked
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"kvstore": "dist_sync", "prefixes": ["x" * (1 << 20)]}))
    with pytest.raises(ValueError, match="more than the 1,048,576"):
        worker.load_job(big)


class _Server(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (Path(data.__file__).parent.parent / "data" / data.FILE_NAME).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_changed_copy_in_the_cache_is_downloaded_again(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / data.FILE_NAME).write_text("the time traveller was someone else " * 500)
    monkeypatch.setenv("D2L_RNN_CACHE", str(cache))
    monkeypatch.setattr(data, "_PACKAGE_DIR", tmp_path / "nowhere" / "d2l_rnn")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d/timemachine.txt" % httpd.server_address[1]
        corpus, _, _, vocab_size = d2l_rnn.load_data_time_machine(url=url)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert vocab_size == 43  # the book's text, not the planted one
    assert hashlib.sha1((cache / data.FILE_NAME).read_bytes()).hexdigest() == data.DATA_SHA1
