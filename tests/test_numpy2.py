"""NumPy 2 at the library's boundary, and the same numbers on NumPy 1 and NumPy 2.

NumPy 2 keeps ``np.float32 / int`` in float32 (NEP 50) where NumPy 1 gave
float64, and warns when a float beyond float32's range is cast: d2l_rnn turns
MXNet's scalars into Python floats before any arithmetic, and hands MXNet its
learning rates under ``np.errstate``. docs/numpy2.md lists each place.
"""

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import mxnet as mx
import pytest
from clitools import TINY

from d2l_rnn import loop, training

REPO = Path(__file__).resolve().parent.parent
# The two environments `make test` and `make PYTHON=python3.13 test` create.
VENVS = {"Python 3.11, NumPy 1": REPO / ".venv", "Python 3.13, NumPy 2": REPO / ".venv-py313"}


def _fixed_losses(values):
    """A ``train_batch`` whose batches' losses are ``values``, in turn."""
    values = iter(values)

    def train_batch(X, Y, state):
        return mx.nd.array([next(values)]), state
    return train_batch


def test_the_epochs_mean_loss_is_a_python_float_divided_in_float64():
    """Three batches (36 ids, batch_size 2, num_steps 5, any offset) whose float32 losses sum
    exactly to 1.75. Bug it catches: ``asscalar() / len(losses)`` (NumPy 2: float32,
    0.58333331; NumPy 1: a numpy.float64)."""
    mean = loop.run_epoch(_fixed_losses([0.5, 0.25, 1.0]), lambda: mx.nd.zeros((1,)),
                          list(range(36)), 2, 5, mx.cpu())
    assert type(mean) is float and mean == 1.75 / 3


def test_the_mean_gradient_norm_is_a_python_float_divided_in_float64():
    """Bug it catches: the same division on the norms (GluonEpoch.mean_grad_norm)."""
    epoch = object.__new__(training.GluonEpoch)
    epoch.norms = [mx.nd.array([v]) for v in (0.5, 0.25, 1.0)]
    epoch.parallel = types.SimpleNamespace(ctxs=[mx.cpu()])
    norm = epoch.mean_grad_norm()
    assert type(norm) is float and norm == 1.75 / 3


def test_a_rate_beyond_float32_gives_one_error_line_and_no_numpy_warning(tmp_path):
    """NumPy >= 1.24 warns 'overflow encountered in cast' inside nd.array
    (mxnet/ndarray/ndarray.py:3364). Bug it catches: the rates handed to MXNet
    without np.errstate (optimizer._rates): a second stderr line."""
    proc = subprocess.run([sys.executable, "-m", "d2l_rnn", "train", *TINY, "--epochs", "2",
                           "--lr", "1e39"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "training diverged" in lines[0]


# The chapter's run as `make demo` makes it (d2l_rnn/cli/demo.py), then the
# trained model's perplexity on the corpus (9,999 predictions: a division
# that is not exact in float32), as JSON with every number's repr.
_CHAPTER = """
import contextlib, io, json, re
import numpy
import d2l_rnn as d2l
from mxnet.gluon import rnn
from d2l_rnn.settings import TrainSettings
s = TrainSettings()
d2l.set_seed(s.seed)
corpus_indices, char_to_idx, idx_to_char, vocab_size = d2l.load_data_time_machine(
    num_chars=s.num_chars)
model = d2l.RNNModel(rnn.RNN(s.num_hiddens), vocab_size)
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    history = d2l.train_and_predict_rnn_gluon(
        model, s.num_hiddens, vocab_size, d2l.try_gpu(), corpus_indices, idx_to_char,
        char_to_idx, **s.chapter_args())
print(json.dumps({
    "numpy": numpy.__version__,
    "lines": [re.sub(r", time [0-9.]+ sec", "", l) for l in printed.getvalue().splitlines()],
    "history": [repr(h) for h in history],
    "evaluated": repr(d2l.evaluate_perplexity(model, corpus_indices)),
}))
"""


@pytest.mark.extended
def test_the_chapter_prints_the_same_numbers_on_numpy_1_and_numpy_2(tmp_path):
    """The chapter's 200-epoch run with the pinned seed, in the 3.11 venv (NumPy 1.23)
    and the 3.13 venv (NumPy 2), at once: the printed lines (times left out), all 200
    perplexities and the trained model's perplexity on the corpus are equal, bit for
    bit. Tolerance none: the same libmxnet.so does every float32 operation, and the
    host's arithmetic is float64 on Python floats, so the NumPy version cannot move a
    number. Bug it catches: a NumPy-dependent host computation (planted:
    evaluate_perplexity without its float())."""
    pythons = {name: venv / "bin" / "python" for name, venv in VENVS.items()}
    missing = [str(p) for p in pythons.values() if not p.exists()]
    if missing:
        pytest.skip("needs both venvs (`make test`, `make PYTHON=python3.13 test`); "
                    "missing %s" % ", ".join(missing))
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", PYTHONPATH=str(REPO))
    runs = {name: subprocess.Popen([str(python), "-c", _CHAPTER], cwd=tmp_path,
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
            for name, python in pythons.items()}
    results = {}
    for name, proc in runs.items():
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, (name, err[-2000:])
        results[name] = json.loads(out)
    old, new = results.values()
    assert old["numpy"].startswith("1.") and new["numpy"].startswith("2."), results
    assert len(old["lines"]) == 12 and old["lines"] == new["lines"]
    assert len(old["history"]) == 200 and old["history"] == new["history"]
    assert old["evaluated"] == new["evaluated"]
