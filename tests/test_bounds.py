"""Inputs that used to crash or exhaust the machine, and failures that used to print a
traceback: each now ends in one clear error (CLI: one line, exit 2)."""

import http.server
import os
import resource
import stat
import subprocess
import sys
import threading
import time

import mxnet as mx
import pytest
from clitools import TINY, one_error_line, run, run_process
from mxnet.gluon import rnn

import d2l_rnn
from d2l_rnn import data
from d2l_rnn._util.errors import mxnet_message
from d2l_rnn.cli.plotting import plot_perplexity
from d2l_rnn.model import MAX_LAYERS, build_model

no_gpu = pytest.mark.skipif(d2l_rnn.try_gpu() != mx.cpu(), reason="a GPU works here")


@pytest.mark.parametrize("args,message", [
    (("--ctx", "cpu:100000000"), "device index 100000000 is too large"),
    (("--ctx", "cpu:99999999999999999999"), "cpu:N takes N from 0 to 63"),
    (("--ctx", "cpu:" + "9" * 5000), "is too large"),
    (("--num-layers", "11"), "argument --num-layers: expected an integer from 1 to 10"),
    (("--num-hiddens", "1000000"), "GB to train, more than this machine's"),
    (("--seed", "8589934592"), "argument --seed: expected an integer from 0 to 4294967295"),
    (("--pred-len", "10000000"), "argument --pred-len: expected an integer from 1 to 1000000"),
])
def test_inputs_that_exhausted_the_machine_are_one_line(args, message, capsys, tmp_path):
    """Bug it catches: a bound removed (e.g. MAX_CPU_INDEX, the memory estimate)."""
    result = run(capsys, "train", *TINY, "--epochs", "1", *args, "--save", tmp_path / "c")
    assert message in one_error_line(result)
    assert not (tmp_path / "c").exists()  # refused before anything was made


@no_gpu
def test_a_missing_gpu_is_one_line_without_mxnets_log(tmp_path):
    """Bug it catches: asking MXNet for a GPU it lacks (it logs to stderr first)."""
    line = one_error_line(run_process("train", "--ctx", "gpu:7", "--epochs", "1"))
    assert "gpu:7 does not work here" in line


def test_the_deepest_model_gluon_can_save_trains_saves_and_loads(capsys, tmp_path):
    result = run(capsys, "train", "--num-hiddens", "4", "--num-layers", str(MAX_LAYERS),
                 "--ctx", "cpu", "--epochs", "1", "--num-chars", "2000", "--pred-len", "3",
                 "--save", tmp_path)
    assert result.code == 0, result.err
    assert d2l_rnn.load_checkpoint(tmp_path, mx.cpu()).architecture["num_layers"] == 10
    with pytest.raises(ValueError, match="num_layers must be at most 10"):
        build_model("rnn", 4, MAX_LAYERS + 1, 5)


def test_grad_clipping_of_no_parameters_is_a_value_error():
    """Bug it catches: multi_sum_sq of no arrays, which kills the interpreter."""
    code = ("import d2l_rnn, mxnet as mx\n"
            "try:\n    d2l_rnn.grad_clipping([], 1.0, mx.cpu())\n"
            "except ValueError as err:\n    print(err)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "no gradients to clip" in proc.stdout


def test_a_tiny_temperature_samples_greedily_without_warnings(capsys, tmp_path):
    assert run(capsys, "train", *TINY, "--epochs", "2", "--save", tmp_path).code == 0
    args = ["generate", "--checkpoint", tmp_path, "--prefix", "time", "--len", "20",
            "--ctx", "cpu"]
    tiny = run_process(*args, "--temperature", "1e-320")
    greedy = run_process(*args)
    assert (tiny.code, tiny.err) == (0, "") and tiny.out == greedy.out


def test_a_failing_write_inside_mxnet_is_one_line(tmp_path):
    """``ulimit -f``: MXNet's write of model.params fails (Python ignores SIGXFSZ)."""
    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
    proc = subprocess.run([sys.executable, "-m", "d2l_rnn", "train", *TINY, "--epochs", "1",
                           "--save", str(tmp_path)], capture_output=True, text=True,
                          timeout=120, preexec_fn=small_files)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "could not write a checkpoint" in lines[0] and "model.params" in lines[0]
    assert not list(tmp_path.glob("epoch-*"))


def test_an_mxnet_error_keeps_its_useful_line(capsys, monkeypatch):
    try:
        mx.nd.zeros((2, 3)) + mx.nd.zeros((4, 5))
    except mx.base.MXNetError as err:
        caught = err
    assert str(caught).startswith("Traceback")  # why the first line is not enough
    assert mxnet_message(caught).startswith("Check failed: ")

    def broken(*args, **kwargs):
        raise caught
    monkeypatch.setattr("d2l_rnn.training.run_epoch", broken)
    line = one_error_line(run(capsys, "train", *TINY, "--epochs", "1"))
    assert line.startswith("d2l-rnn: error: MXNet: Check failed: ")


def test_an_unreadable_corpus_is_one_line(capsys, monkeypatch):
    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(data, "read_regular", denied)
    line = one_error_line(run(capsys, "train", *TINY, "--epochs", "1"))
    assert "cannot read" in line and "timemachine.txt: Permission denied" in line


# From Python: point 7 of the issue.

def _chapter_args(time_machine, **changes):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    args = dict(model=d2l_rnn.RNNModel(rnn.RNN(8), vocab_size), num_hiddens=8,
                vocab_size=vocab_size, ctx=mx.cpu(), corpus_indices=corpus_indices[:2000],
                idx_to_char=idx_to_char, char_to_idx=char_to_idx, num_epochs=1, num_steps=5,
                lr=1.0, clipping_theta=1e-2, batch_size=4, pred_period=1, pred_len=3,
                prefixes=["the"])
    args.update(changes)
    return args


@pytest.mark.parametrize("changes,match", [
    (dict(lr=0), "lr must be a number > 0"),
    (dict(lr=-1.0), "lr must be a number > 0"),
    (dict(lr=float("inf")), "lr must be a number > 0"),
    (dict(clipping_theta=-1.0), "clipping_theta must be a number > 0"),
    (dict(ctx="cpu"), "not the string 'cpu'"),
    (dict(corpus_indices=[0, 1, 99] * 500), "corpus_indices must be ids from 0 to"),
    (dict(corpus_indices=[0.5] * 1500), "corpus_indices must be ids"),
])
def test_the_chapters_function_refuses_what_cannot_train(changes, match, time_machine, capsys):
    with pytest.raises(ValueError, match=match):
        d2l_rnn.train_and_predict_rnn_gluon(**_chapter_args(time_machine, **changes))
    assert capsys.readouterr().out == ""  # refused before the first epoch


def test_generation_with_a_short_vocabulary_or_no_length(time_machine):
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    model = d2l_rnn.RNNModel(rnn.RNN(8), vocab_size)
    model.initialize()
    # Refused before the first step now (#21), not when an id past the third is chosen.
    with pytest.raises(ValueError, match="idx_to_char has 3 characters but the model's "
                                         "vocab_size is"):
        for prefix in ("the", "time", "a", "b"):  # some prefix leads past the third id
            d2l_rnn.predict_rnn_gluon(prefix, 20, model, vocab_size, mx.cpu(),
                                      idx_to_char[:3], char_to_idx)
    with pytest.raises(ValueError, match="num_chars must be an integer >= 0, got None"):
        d2l_rnn.predict_rnn_gluon("the", None, model, vocab_size, mx.cpu(), idx_to_char,
                                  char_to_idx)


def test_a_short_local_corpus_is_not_silently_short(tmp_path):
    (tmp_path / "timemachine.txt").write_text("the time machine " * 30)  # 510 characters
    with pytest.raises(data.ShortTextError, match=r"num_chars=10000, but the text .* has "
                                                  r"only 510 characters"):
        d2l_rnn.load_data_time_machine(tmp_path, num_chars=10000)
    assert len(d2l_rnn.load_data_time_machine(tmp_path, num_chars=None)[0]) == 510


def test_a_plot_of_no_finite_perplexity_is_refused(tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="no epoch has a finite training perplexity"):
        plot_perplexity([float("inf")] * 3, [], tmp_path / "p.png")
    assert list(tmp_path.iterdir()) == []


# Files the library writes follow the umask.

class _Server(http.server.BaseHTTPRequestHandler):
    """/good: the text; /slow: one byte every 50 ms; /huge: endless bytes, no length."""

    def do_GET(self):
        self.send_response(200)
        if self.path == "/good":
            self.send_header("Content-Length", str(len(self.server.text)))
            self.end_headers()
            self.wfile.write(self.server.text)
            return
        if self.path == "/slow":
            self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"x" if self.path == "/slow" else b"x" * 65536)
                self.wfile.flush()
                if self.path == "/slow":
                    time.sleep(0.05)
        except OSError:  # the client gave up
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    httpd.daemon_threads = True
    httpd.text = (data.find_time_machine()).read_bytes()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_a_slow_server_meets_the_deadline(server, tmp_path):
    """Bug it catches: only per-read timeouts (a trickle passes every one of them)."""
    start = time.monotonic()
    with pytest.raises(OSError, match=r"could not download .*it took longer than 1 s"):
        data.download_time_machine(tmp_path, url=server + "/slow", deadline=1.0)
    assert time.monotonic() - start < 5
    assert list(tmp_path.iterdir()) == []


def test_a_huge_body_meets_the_size_cap(server, tmp_path):
    """Bug it catches: reading the whole body into memory before any check."""
    with pytest.raises(OSError, match="it is more than the 1048576 bytes allowed"):
        data.download_time_machine(tmp_path, url=server + "/huge", max_bytes=2 ** 20)
    with pytest.raises(OSError, match="it is 1000 bytes, more than the 100 allowed"):
        data.download_time_machine(tmp_path, url=server + "/slow", max_bytes=100)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_written_files_follow_the_umask(server, tmp_path, capsys, umask_022):
    """Bug it catches: a temporary file made with mkstemp (always 0600)."""
    corpus = data.download_time_machine(tmp_path / "d", url=server + "/good")
    assert _mode(corpus) == 0o644
    args = ["train", *TINY, "--epochs", "1", "--save", tmp_path / "c"]
    plot = tmp_path / "p.png"
    if pytest.importorskip("matplotlib"):
        args += ["--plot", plot]
    assert run(capsys, *args).code == 0
    assert _mode(plot) == 0o644
    snapshot = d2l_rnn.checkpoint.find_snapshot(tmp_path / "c")
    assert _mode(snapshot) == 0o755
    assert {_mode(p) for p in snapshot.iterdir()} == {0o644}
