"""d2l_rnn: chapter 6.6 of *Dive into Deep Learning* (MXNet/Gluon) as a library.

``import d2l_rnn as d2l`` gives the helpers the book's RNN chapters call:
the *Time Machine* loader (and :func:`load_corpus` for any text), the two
minibatch samplers, :class:`RNNModel`,
gradient clipping, prediction and sampling (:func:`generate`), the training
function, :func:`evaluate_perplexity` (and :func:`bits_per_char`) and device
helpers;
chapter 6.5's from-scratch RNN with the helpers it saved (``to_onehot``,
``sgd``, ``predict_rnn``, ``train_and_predict_rnn``);
and :func:`save_checkpoint` / :func:`load_checkpoint` for trained models;
:class:`TrainingRun` with :class:`TrainSettings`, the ``d2l-rnn train`` run as a
Python API (validation, checkpoints, a stop at any batch, exact resume), whose
``fit`` returns a :class:`RunResult`.
Below this face: the chapter's own modules (:mod:`.data`, :mod:`.samplers`,
:mod:`.model`, :mod:`.clipping`, :mod:`.optimizer`, :mod:`.loop`,
:mod:`.training`, :mod:`.generation` (the loop and, in a module of its own,
its fast step), :mod:`.scratch`, :mod:`.devices`, :mod:`.seeding`,
:mod:`.settings`), and one sub-package per other concern:
the training run (:mod:`.run`), the ``d2l-rnn`` command line (:mod:`.cli`),
checkpoints (:mod:`.checkpoint`) and several devices and machines
(:mod:`.distributed`).
"""

from ._util import console as _console

_console.on_startup()  # a command line's Ctrl-C while MXNet loads: one line, exit 130

from ._compat import import_mxnet as _import_mxnet  # noqa: E402

try:
    _import_mxnet()  # fail early with an install hint rather than deep inside
except ImportError as _err:
    import os as _os
    import sys as _sys

    # The command line (`d2l-rnn`, `python -m d2l_rnn`) says it in one line, e.g.
    # on Python 3.13 after `pip install 'd2l_rnn[cpu]'`, which leaves MXNet out.
    if _os.path.basename(_sys.argv[0] if _sys.argv else "") in ("d2l-rnn", "-m"):
        _sys.stderr.write("d2l-rnn: error: %s\n" % _err)
        raise SystemExit(2) from None
    raise

from ._util.metrics import bits_per_char  # noqa: E402
from .checkpoint import (  # noqa: E402
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from .clipping import grad_clipping  # noqa: E402
from .data import load_corpus, load_data_time_machine  # noqa: E402
from .devices import try_all_gpus, try_gpu  # noqa: E402
from .generation import generate, predict_rnn_gluon  # noqa: E402
from .model import RNNModel  # noqa: E402
from .run import RunResult, TrainingRun  # noqa: E402
from .samplers import data_iter_consecutive, data_iter_random  # noqa: E402
from .scratch import (  # noqa: E402
    init_rnn_state,
    make_get_params,
    predict_rnn,
    rnn,
    sgd,
    to_onehot,
    train_and_predict_rnn,
)
from .seeding import set_seed  # noqa: E402
from .settings import TrainSettings  # noqa: E402
from .training import evaluate_perplexity, train_and_predict_rnn_gluon  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "load_data_time_machine", "data_iter_random", "data_iter_consecutive",
    "RNNModel", "grad_clipping", "predict_rnn_gluon",
    "train_and_predict_rnn_gluon", "try_gpu", "try_all_gpus", "set_seed",
    "save_checkpoint", "load_checkpoint", "Checkpoint", "CheckpointError",
    "to_onehot", "sgd", "predict_rnn", "train_and_predict_rnn",
    "rnn", "init_rnn_state", "make_get_params",
    "load_corpus", "evaluate_perplexity", "bits_per_char", "generate",
    "TrainingRun", "RunResult", "TrainSettings",
]
