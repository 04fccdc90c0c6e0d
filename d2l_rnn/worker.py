"""``python -m d2l_rnn.worker JOB.json``: one worker of a distributed training job.

Every worker of a job runs this with the same job file, under a launcher
(:mod:`.launcher` on one machine, ``mxnet/tools/launch.py`` on a cluster).
Unlike ``d2l-rnn train --kvstore dist_sync`` (checkpoints, written by worker
0 only), it runs the chapter's ``train_and_predict_rnn_gluon`` and lets
*every* worker write its perplexities and parameters, to compare them.
The job file is a JSON object; every key is optional except ``kvstore``,
and the defaults are the chapter's:

``kvstore`` ('dist_sync' or 'dist_async'), ``seed`` (0), ``cell`` ('rnn',
'gru' or 'lstm'), ``num_hiddens`` (256), ``num_chars`` (10000),
``num_epochs`` (200), ``num_steps`` (35), ``batch_size`` (32, the *global*
batch), ``lr`` (100), ``clipping_theta`` (0.01), ``pred_period`` (50),
``pred_len`` (50), ``prefixes`` (['traveller', 'time traveller']), ``ctx``
(devices of each worker, as :func:`~d2l_rnn.devices.parse_contexts` reads
them: 'cpu'), ``output_dir`` (none; else each worker writes
``worker-HOST-PID.json`` with its history and ``worker-HOST-PID.params``).
"""

import json
import os
import socket
import sys
from pathlib import Path

from .architecture import CELLS, build_model
from .data import load_data_time_machine
from .devices import parse_contexts
from .seeding import set_seed
from .settings import TrainSettings
from .training import train_and_predict_rnn_gluon

__all__ = ["job_defaults", "load_job", "run_worker", "main"]


def job_defaults():
    """The job keys and their defaults: the chapter's, from :class:`TrainSettings`."""
    chapter = TrainSettings()
    return {
        "kvstore": None, "seed": chapter.seed, "cell": chapter.cell,
        "num_hiddens": chapter.num_hiddens, "num_chars": chapter.num_chars,
        "num_epochs": chapter.epochs, "num_steps": chapter.num_steps,
        "batch_size": chapter.batch_size, "lr": chapter.lr, "clipping_theta": chapter.clip,
        "pred_period": chapter.pred_period, "pred_len": chapter.pred_len,
        "prefixes": list(chapter.prefixes), "ctx": "cpu", "output_dir": None,
    }


def load_job(path):
    """Read and check a job file; return its settings with defaults filled in.

    Raises
    ------
    ValueError
        For a file that is not a JSON object, an unknown key, a missing or
        wrong ``kvstore`` or ``cell``; each message names the key.
    """
    try:
        given = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError("cannot read job file %s: %s" % (path, err)) from err
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
    if job["cell"] not in CELLS:
        raise ValueError("job file %s: cell must be one of %s, got %r"
                         % (path, ", ".join(CELLS), job["cell"]))
    return job


def _write_atomically(path, data):
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def run_worker(job):
    """Train as one worker of the job; return the perplexity history.

    The model, data and seed are the same in every worker, so all start
    from the same parameters and draw the same sampler offsets.
    """
    set_seed(job["seed"])
    corpus_indices, char_to_idx, idx_to_char, vocab_size = \
        load_data_time_machine(num_chars=job["num_chars"])
    model = build_model(job["cell"], job["num_hiddens"], 1, vocab_size)
    ctx = parse_contexts(job["ctx"])
    history = train_and_predict_rnn_gluon(
        model, job["num_hiddens"], vocab_size, ctx, corpus_indices, idx_to_char,
        char_to_idx, job["num_epochs"], job["num_steps"], job["lr"],
        job["clipping_theta"], job["batch_size"], job["pred_period"],
        job["pred_len"], job["prefixes"], kvstore=job["kvstore"])
    if job["output_dir"]:
        # Named by host and pid: the kvstore rank stays inside the training
        # function, and a name must not clash on a shared file system.
        name = "worker-%s-%d" % (socket.gethostname(), os.getpid())
        out = Path(job["output_dir"])
        out.mkdir(parents=True, exist_ok=True)
        model.save_parameters(str(out / (name + ".params")))
        _write_atomically(out / (name + ".json"), json.dumps({
            "kvstore": job["kvstore"], "history": history,
            "params": name + ".params"}).encode())
    return history


def main(argv=None):
    """Entry point: ``python -m d2l_rnn.worker JOB.json``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m d2l_rnn.worker JOB.json (see the module's "
              "docstring for the keys)", file=sys.stderr)
        return 2
    try:
        run_worker(load_job(argv[0]))
    except (ValueError, RuntimeError) as err:
        print("error: %s" % err, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
