"""``python -m d2l_rnn.distributed.job JOB.json``: train as one worker of a distributed job.

Every worker of a job runs this with the same job file, under a launcher
(:mod:`.local` on one machine, :mod:`.cluster` on a cluster). Unlike
``d2l-rnn train --kvstore dist_sync`` (checkpoints, written by worker 0
only), it runs the chapter's ``train_and_predict_rnn_gluon`` and lets
*every* worker write its perplexities and parameters, to compare them.

The job file is a JSON object. ``kvstore`` ('dist_sync' or 'dist_async') is
required. Every other key is optional: the training settings, with the
names and the chapter's defaults of :class:`~d2l_rnn.settings.TrainSettings`
(``seed``, ``cell``, ``num_hiddens``, ``num_layers``, ``num_chars``,
``num_epochs``, ``num_steps``, ``batch_size`` (the *global* batch), ``lr``,
``clipping_theta``, ``pred_period``, ``pred_len``, ``prefixes``), and
``ctx`` (each worker's devices, as :func:`~d2l_rnn.devices.parse_contexts`
reads them: 'cpu') and ``output_dir`` (none; else each worker writes
``worker-HOST-PID.json`` with its history and ``worker-HOST-PID.params``).
"""

import dataclasses
import json
import os
import socket
import sys
from pathlib import Path

from .._util import console
from .._util.errors import mxnet_message
from .._util.files import replace_atomically, write_atomically
from .._util.reading import RefusedFile, read_regular
from ..data import load_data_time_machine
from ..devices import parse_contexts
from ..model import build_model
from ..seeding import set_seed
from ..settings import TrainSettings
from ..training import train_and_predict_rnn_gluon

__all__ = ["job_defaults", "load_job", "run_job", "main"]

# What the chapter's function cannot do: only the command line samples at
# random, holds text out, trains on another text, stops early, drops out, uses
# another optimizer than SGD or an embedding.
_NOT_IN_JOBS = ("sampler", "val_chars", "data", "lower", "encoding", "val_frac", "patience",
                "lr_decay", "dropout", "optimizer", "embed_size")
MAX_JOB_BYTES = 1 << 20  # a job file is a few settings


def job_defaults():
    """The job keys and their defaults: the chapter's, from :class:`TrainSettings`."""
    settings = TrainSettings().to_dict()
    for name in _NOT_IN_JOBS:
        del settings[name]
    return dict(settings, kvstore=None, ctx="cpu", output_dir=None)


def load_job(path):
    """Read and check a job file; return its settings with defaults filled in.

    Raises
    ------
    ValueError
        For a file that is not a regular file of at most 1 MiB (a FIFO or a
        device is refused before it is read) holding a JSON object, an
        unknown key, a missing or wrong ``kvstore``, or a setting
        ``TrainSettings.check`` refuses; each message names the key.
    """
    try:
        given = json.loads(read_regular(str(path), MAX_JOB_BYTES).decode("utf-8"))
    except (OSError, RefusedFile, UnicodeDecodeError, ValueError, RecursionError) as err:
        why = err.strerror if isinstance(err, OSError) and err.strerror else err
        raise ValueError("cannot read job file %s: %s" % (path, why)) from None
    if not isinstance(given, dict):
        raise ValueError("job file %s must hold a JSON object" % path)
    defaults = job_defaults()
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError("job file %s has unknown keys %s; known keys: %s"
                         % (path, ", ".join(unknown), ", ".join(sorted(defaults))))
    job = dict(defaults, **given)
    if job["kvstore"] not in ("dist_sync", "dist_async"):
        raise ValueError("job file %s: kvstore must be 'dist_sync' or "
                         "'dist_async', got %r" % (path, job["kvstore"]))
    try:
        _settings(job).check()
    except (TypeError, ValueError) as err:
        raise ValueError("job file %s: %s" % (path, err)) from None
    return job


def _settings(job):
    names = {f.name for f in dataclasses.fields(TrainSettings)}
    return TrainSettings.from_dict({k: v for k, v in job.items() if k in names})


def run_job(job):
    """Train as one worker of the job; return the perplexity history.

    The model, data and seed are the same in every worker, so all start
    from the same parameters and draw the same sampler offsets.
    """
    s = _settings(job)
    set_seed(s.seed)
    corpus_indices, char_to_idx, idx_to_char, vocab_size = \
        load_data_time_machine(num_chars=s.num_chars)
    model = build_model(s.cell, s.num_hiddens, s.num_layers, vocab_size)
    history = train_and_predict_rnn_gluon(
        model, s.num_hiddens, vocab_size, parse_contexts(job["ctx"]), corpus_indices,
        idx_to_char, char_to_idx, kvstore=job["kvstore"], **s.chapter_args())
    if job["output_dir"]:
        # Named by host and pid: the kvstore rank stays inside the training
        # function, and a name must not clash on a shared file system.
        name = "worker-%s-%d" % (socket.gethostname(), os.getpid())
        out = Path(job["output_dir"])
        out.mkdir(parents=True, exist_ok=True)
        replace_atomically(out / (name + ".params"),
                           lambda tmp: model.save_parameters(str(tmp)))
        write_atomically(out / (name + ".json"), json.dumps({
            "kvstore": job["kvstore"], "history": history,
            "params": name + ".params"}).encode())
    return history


def main(argv=None):
    """Entry point: ``python -m d2l_rnn.distributed.job JOB.json``; returns the exit status."""
    console.started()
    try:
        return _run(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    finally:
        console.finishing()


def _run(argv):
    if len(argv) != 1:
        print("usage: python -m d2l_rnn.distributed.job JOB.json (see the module's "
              "docstring for the keys)", file=sys.stderr)
        return 2
    try:
        run_job(load_job(argv[0]))
    except (ValueError, RuntimeError, OSError) as err:  # MXNetError is a RuntimeError
        print("error: %s" % mxnet_message(err), file=sys.stderr)  # its one useful line
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
