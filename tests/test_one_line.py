"""Rule 4 of issue 21: one line, always; and Python callers get the right error type.

Every error the command line and the launchers can meet is one line on
stderr with exit 2 (130 for Ctrl-C, at any moment, the first second of
startup included); text the terminal cannot encode is escaped; Python
callers get ValueError or TypeError (or CheckpointError) naming the
argument.

Bugs these tests caught (each planted again after the fix): ``codecs.lookup``
alone as the encoding check (base64 passed it, LookupError followed); the
JSON reader catching ``JSONDecodeError`` but not the ValueError of an
integer of 5,000 digits; ``math.isfinite`` of such an integer (OverflowError);
``str.isdigit`` taking '²' for a digit; no SIGINT handler before MXNet's
import; stdout left ``strict``; ``param.grad()`` on ``grad_req='null'``; the
uninitialised model's RuntimeError; ``ctx.device_type`` on a string.
"""

import hashlib
import io
import json
import signal
import subprocess
import sys
import threading
import time

import mxnet as mx
import pytest
from clitools import TINY, one_error_line, run, sigint_restored
from mxnet import gluon, nd
from mxnet.gluon import rnn

import d2l_rnn
from d2l_rnn.cli import main

CODECS = ["base64", "rot13", "hex", "zlib", "bz2", "uu", "quopri"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt") / "ck"
    text = folder.parent / "text.txt"
    text.write_text("Ünïcode Tëxt, 日本語 and 😀. " * 80, encoding="utf-8")
    assert main(["train", *TINY, "--epochs", "1", "--data", str(text), "--save",
                 str(folder)]) == 0
    return folder, text


@pytest.mark.parametrize("codec", CODECS)
def test_a_codec_that_is_not_a_text_encoding_is_one_line(codec, checkpoint, capsys):
    folder, text = checkpoint
    for command in (["train", *TINY, "--epochs", "1", "--data", text, "--encoding", codec],
                    ["evaluate", "--checkpoint", folder, "--data", text, "--encoding", codec,
                     "--ctx", "cpu"]):
        assert "%r is not a text encoding" % codec in one_error_line(run(capsys, *command))
    with pytest.raises(ValueError, match="not a text encoding"):
        d2l_rnn.load_corpus(text, encoding=codec)


def _rewrite(snapshot, name, change):
    doc = json.loads((snapshot / name).read_text())
    data = change(doc) if callable(change) else change
    data = data if isinstance(data, bytes) else json.dumps(doc).encode()
    (snapshot / name).write_bytes(data)
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256(data).hexdigest()
    (snapshot / "manifest.json").write_text(json.dumps(manifest))


def _copy(folder, tmp_path):
    copy = tmp_path / "epoch-000001"
    copy.mkdir()
    for path in next(folder.glob("epoch-*")).iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    return copy


HUGE = b"1" + b"0" * 5000  # an integer Python 3.11 will not parse from text


@pytest.mark.parametrize("name,change,match", [
    ("hparams.json", lambda d: d["settings"].update(encoding="rot13"), "not a text encoding"),
    ("hparams.json", lambda d: d["settings"].update(lr=10 ** 400), "settings.lr"),
    ("hparams.json", lambda d: d["settings"].update(clipping_theta=-10 ** 400), "clipping"),
    ("hparams.json", lambda d: d["settings"].update(val_frac=10 ** 400), "val_frac"),
    ("state.json", lambda d: d.update(history=[-10 ** 400]), "history"),
    ("state.json", lambda d: d["python_random"].__setitem__(2, 10 ** 400), "python_random"),
    ("state.json", lambda d: d["numpy_random"].__setitem__(4, -10 ** 400), "numpy_random"),
    ("state.json", lambda d: b'{"epoch": %s}' % HUGE, "not valid JSON"),
    ("vocab.json", lambda d: b"[%s]" % HUGE, "not valid JSON"),
], ids=["codec", "lr", "theta", "val_frac", "history", "gauss", "cached", "epoch", "vocab"])
def test_malformed_values_are_a_checkpoint_error_and_one_line(name, change, match, checkpoint,
                                                            tmp_path, capsys):
    snapshot = _copy(checkpoint[0], tmp_path)
    _rewrite(snapshot, name, change)
    with pytest.raises(d2l_rnn.CheckpointError, match=r"%s is corrupt.*%s" % (name, match)):
        d2l_rnn.load_checkpoint(snapshot)
    line = one_error_line(run(capsys, "generate", "--checkpoint", snapshot, "--prefix", "Ü",
                              "--ctx", "cpu"))
    assert "%s is corrupt" % name in line


def test_digits_that_are_not_ascii_are_not_parameter_indices(tmp_path):
    model = d2l_rnn.model.build_model("gru", 8, 1, 7)
    model.initialize()
    model(nd.array([[0, 1]]), model.begin_state(batch_size=1))
    trainer = gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": 0.1})
    snapshot = d2l_rnn.save_checkpoint(tmp_path / "ck", model, list("abcdefg"), trainer=trainer)
    _rewrite(snapshot, "trainer.json", lambda d: d["states"].update({"²": None}))
    with pytest.raises(d2l_rnn.CheckpointError, match="not a parameter index"):
        d2l_rnn.load_checkpoint(snapshot)


def test_text_the_terminal_cannot_encode_is_escaped(checkpoint, monkeypatch):
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict")
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["generate", "--checkpoint", str(checkpoint[0]), "--prefix", "Ün",
                 "--len", "20", "--ctx", "cpu"]) == 0
    out.flush()
    printed = out.buffer.getvalue().decode("ascii")
    assert printed.startswith("\\xdcn") and len(printed) > 20


def _mapped(pid, library):
    try:
        with open("/proc/%d/maps" % pid) as f:
            return library in f.read()
    except OSError:
        return False


def _interrupt_at(command, library, delay):
    """Run ``command``; SIGINT it ``delay`` s after ``library`` is loaded; ``(code, stderr)``.

    The library marks a moment of startup: numpy's core is loaded by the
    package's import of MXNet, libmxnet.so then; None waits for nothing.
    """
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, preexec_fn=sigint_restored)
    end = time.monotonic() + 60
    while library and not _mapped(proc.pid, library) and time.monotonic() < end:
        time.sleep(0.005)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=120)[1]
    return proc.returncode, err


# Later moments (training, saving) are test_cli.py's test_ctrl_c_is_one_line_and_exit_130.
MOMENTS = [("_multiarray_umath", 0.0), ("libmxnet", 0.0), ("libmxnet", 0.3),
           ("libmxnet", 0.8)]


@pytest.mark.timeout(180)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/maps")
@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "d2l_rnn", "train", *TINY, "--epochs", "1000"],
    pytest.param([sys.executable, "-m", "d2l_rnn.distributed.local", "-n", "1", "--", "sleep",
                  "30"], marks=[pytest.mark.extended, pytest.mark.dist]),   # 4 kvstore jobs
], ids=["d2l-rnn", "launcher"])
def test_ctrl_c_at_any_moment_of_startup_is_one_line_and_130(command):
    """While numpy and MXNet load (the first 1-2 s), and later: never a traceback.

    (Before the package's first line, in Python's own start, a Ctrl-C is Python's.)
    """
    results = [None] * len(MOMENTS)

    def one(i, library, delay):
        results[i] = _interrupt_at(command, library, delay)
    threads = [threading.Thread(target=one, args=(i,) + moment)
               for i, moment in enumerate(MOMENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for (library, delay), (code, err) in zip(MOMENTS, results):
        lines = err.strip().splitlines()
        assert code == 130 and len(lines) <= 1 and "Traceback" not in err, (library, delay,
                                                                            code, err)
        assert not lines or "interrupted" in lines[0]


def _with_grad(shape=(3,)):
    x = nd.ones(shape)
    x.attach_grad()
    return x


@pytest.mark.parametrize("params,theta,error,match", [
    (lambda: [nd.ones(3)], 1.0, ValueError, r"params\[0\] has no gradient"),
    (lambda: [_with_grad(), nd.ones(2)], 1.0, ValueError, r"params\[1\] has no gradient"),
    (lambda: [_null_param()], 1.0, ValueError, "grad_req='null'"),
    (lambda: ["w"], 1.0, TypeError, "params must hold NDArrays"),
    (lambda: [_with_grad()], "1", TypeError, "theta must be a number"),
    (lambda: [_with_grad()], None, TypeError, "theta must be a number"),
], ids=["no-grad", "second-no-grad", "grad_req-null", "str-param", "str-theta", "no-theta"])
def test_grad_clipping_errors_name_the_argument(params, theta, error, match):
    with pytest.raises(error, match=match):
        d2l_rnn.grad_clipping(params(), theta, mx.cpu())


def _null_param():
    param = gluon.Parameter("frozen", shape=(3,), grad_req="null")
    param.initialize()
    return param


def test_load_checkpoint_takes_a_device_name_and_refuses_other_things(checkpoint):
    assert d2l_rnn.load_checkpoint(checkpoint[0], "cpu").model is not None
    for bad in (5, 1.5, object()):
        with pytest.raises(TypeError, match="ctx must be an mxnet context"):
            d2l_rnn.load_checkpoint(checkpoint[0], bad)
    with pytest.raises(ValueError, match="ctx 'tpu'"):
        d2l_rnn.load_checkpoint(checkpoint[0], "tpu")


def test_generate_in_predict_rnn_gluons_argument_order_is_named(time_machine):
    corpus, char_to_idx, idx_to_char, vocab_size = time_machine
    model = d2l_rnn.RNNModel(rnn.RNN(8), vocab_size)
    model.initialize()
    with pytest.raises(TypeError, match="no vocab_size argument") as info:
        d2l_rnn.generate("time", 10, model, vocab_size, mx.cpu(), idx_to_char, char_to_idx)
    assert len(str(info.value)) < 400  # not the whole vocabulary as a temperature


@pytest.mark.parametrize("change", [
    lambda c2i, i2c: dict(c2i, t=len(i2c) + 5),   # past the vocabulary
    lambda c2i, i2c: dict(c2i, t=c2i["i"]),       # another character's id
    lambda c2i, i2c: dict(c2i, t=-1),
    lambda c2i, i2c: dict(c2i, t="3"),
], ids=["past", "other", "negative", "str"])
def test_a_char_to_idx_that_disagrees_with_idx_to_char_is_a_value_error(change, time_machine):
    _, char_to_idx, idx_to_char, vocab_size = time_machine
    model = d2l_rnn.RNNModel(rnn.RNN(8), vocab_size)
    model.initialize()
    bad = change(char_to_idx, idx_to_char)
    for call in (lambda: d2l_rnn.predict_rnn_gluon("time", 5, model, vocab_size, mx.cpu(),
                                                   idx_to_char, bad),
                 lambda: d2l_rnn.generate("time", 5, model, mx.cpu(), idx_to_char, bad,
                                          temperature=1.0)):
        with pytest.raises(ValueError, match="char_to_idx disagrees with idx_to_char"):
            call()


def test_saving_an_uninitialised_model_is_a_value_error(tmp_path):
    model = d2l_rnn.RNNModel(rnn.RNN(8), 5)
    with pytest.raises(ValueError, match="model is not initialised"):
        d2l_rnn.save_checkpoint(tmp_path / "ck", model, list("abcde"))
    assert not list((tmp_path / "ck").glob("epoch-*"))


@pytest.mark.extended
def test_another_programs_python_dash_m_keeps_its_own_ctrl_c(tmp_path):
    """Only d2l_rnn's command lines get the quiet exit: a tool that imports the package while
    `python -m tool` loads it keeps Python's KeyboardInterrupt (and its own cleanup)."""
    tool = tmp_path / "tool"
    tool.mkdir()
    (tool / "__init__.py").write_text("import d2l_rnn\n")
    (tool / "__main__.py").write_text(
        "import signal\nprint(signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n")
    proc = subprocess.run([sys.executable, "-m", "tool"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, preexec_fn=sigint_restored)
    assert proc.stdout.strip() == "True", proc.stderr
