"""``python -m d2l_rnn.worker JOB.json``: one worker of a distributed training job.

Every worker of a job runs this with the same job file, under a launcher
(:mod:`.launcher` on one machine, ``mxnet/tools/launch.py`` on a cluster).
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

__all__ = ["DEFAULTS", "load_job", "run_worker", "main"]

DEFAULTS = {
    "kvstore": None, "seed": 0, "cell": "rnn", "num_hiddens": 256,
    "num_chars": 10000, "num_epochs": 200, "num_steps": 35, "batch_size": 32,
    "lr": 100.0, "clipping_theta": 0.01, "pred_period": 50, "pred_len": 50,
    "prefixes": ["traveller", "time traveller"], "ctx": "cpu", "output_dir": None,
}
_CELLS = ("rnn", "gru", "lstm")


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
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise ValueError("job file %s has unknown keys %s; known keys: %s"
                         % (path, ", ".join(unknown), ", ".join(sorted(DEFAULTS))))
    job = dict(DEFAULTS, **given)
    if job["kvstore"] not in ("dist_sync", "dist_async"):
        raise ValueError("job file %s: kvstore must be 'dist_sync' or "
                         "'dist_async', got %r" % (path, job["kvstore"]))
    if job["cell"] not in _CELLS:
        raise ValueError("job file %s: cell must be one of %s, got %r"
                         % (path, ", ".join(_CELLS), job["cell"]))
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
    from mxnet.gluon import rnn

    import d2l_rnn as d2l
    from d2l_rnn.devices import parse_contexts

    d2l.set_seed(job["seed"])
    corpus_indices, char_to_idx, idx_to_char, vocab_size = \
        d2l.load_data_time_machine(num_chars=job["num_chars"])
    layer = {"rnn": rnn.RNN, "gru": rnn.GRU, "lstm": rnn.LSTM}[job["cell"]]
    model = d2l.RNNModel(layer(job["num_hiddens"]), vocab_size)
    ctx = parse_contexts(job["ctx"])
    history = d2l.train_and_predict_rnn_gluon(
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
