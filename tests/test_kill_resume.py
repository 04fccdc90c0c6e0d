"""SIGKILL at random moments, in the middle of saves within an epoch too: every run resumes
and ends with the numbers of a run that was never stopped (perplexities and parameters).

The command is run again and again with ``--resume`` (or ``--save`` while the folder holds
no snapshot yet), each time killed once it has trained a little further (a new snapshot
appeared) and a random few milliseconds more, until a run is let finish. Saves come every
4 batches, so many kills land in or near one; some kills are placed inside a save on
purpose: before anything is written, or with everything written but not yet renamed into
place. The model has dropout, so MXNet's reseeded generator is tested across processes.

The short test runs with each optimizer: SGD, Adam and RMSprop (on the own-text recipe's
shape, a GRU fed an embedding), whose state a resume must put back too.

Planted bugs this caught (each seen failing, then restored): the snapshot renamed into
place before its manifest was written (a kill left a snapshot that does not load), and
the random state saved as of the save instead of the epoch's start; Adam's update counts
not restored (adam), the optimizer's state not restored (adam, rmsprop).
"""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from clitools import run

import d2l_rnn
from d2l_rnn.checkpoint import snapshots

ARGS = ["train", "--cell", "lstm", "--num-layers", "2", "--dropout", "0.2", "--num-hiddens",
        "16", "--ctx", "cpu", "--batch-size", "8", "--num-steps", "10", "--num-chars", "2000",
        "--val-chars", "300", "--pred-period", "100", "--seed", "11",
        "--save-every-batches", "4"]
OPTIMIZER_ARGS = {"sgd": [], "adam": ["--optimizer", "adam"],
                  "rmsprop": ["--optimizer", "rmsprop", "--cell", "gru", "--embed-size", "8"]}

# python -c DRIVER ARGS: d2l-rnn, killed by itself inside its KILL_SAVE-th save if asked.
_DRIVER = textwrap.dedent("""
    import os, signal, sys
    import d2l_rnn.cli
    from d2l_rnn.checkpoint import save

    where, nth = os.environ.get("KILL_WHERE"), int(os.environ.get("KILL_SAVE", "0"))
    real, count = save._write_snapshot, [0]

    def write(tmp, *args):
        count[0] += 1
        if count[0] == nth and where == "start":
            os.kill(os.getpid(), signal.SIGKILL)
        real(tmp, *args)
        if count[0] == nth and where == "written":
            os.kill(os.getpid(), signal.SIGKILL)

    save._write_snapshot = write
    sys.exit(d2l_rnn.cli.main(sys.argv[1:]))
""")


def _newest(directory):
    found = snapshots(directory) if directory.is_dir() else []
    return found[-1][0] if found else None


def _invoke(directory, epochs, kill, rng, extra=()):
    """Run the command once; kill it as ``kill`` says (None: let it finish). Return the code."""
    start = _newest(directory)
    where = ["--resume", str(directory)] if start is not None else ["--save", str(directory)]
    env = dict(os.environ)
    if kill in ("start", "written"):
        env.update(KILL_WHERE=kill, KILL_SAVE=str(rng.randint(1, 4)))
    proc = subprocess.Popen([sys.executable, "-c", _DRIVER, *ARGS, *extra, "--epochs",
                             str(epochs), *where], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        if kill == "random":
            deadline = time.monotonic() + 120
            while proc.poll() is None and _newest(directory) == start \
                    and time.monotonic() < deadline:
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.05))
            proc.kill()
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in err, err
    return proc.returncode


def _killed_and_resumed(tmp_path, kills, epochs, seed, landed=0, extra=()):
    """Invoke once per kill in ``kills``; with ``landed``, go on drawing kills from ``kills``
    until that many SIGKILLs landed (a kill can miss: the run ended first). Then finish."""
    rng = random.Random(seed)
    directory = tmp_path / "killed"
    codes = [_invoke(directory, epochs, kill, rng, extra) for kill in kills]
    while codes.count(-signal.SIGKILL) < landed and len(codes) < 3 * landed:
        codes.append(_invoke(directory, epochs, rng.choice(kills), rng, extra))
    assert _invoke(directory, epochs, None, rng, extra) == 0
    return codes, d2l_rnn.load_checkpoint(directory)


def _uninterrupted(capsys, tmp_path, epochs, extra=()):
    assert run(capsys, *ARGS, *extra, "--epochs", epochs, "--save-every-batches", "0", "--save",
               tmp_path / "whole").code == 0
    return d2l_rnn.load_checkpoint(tmp_path / "whole")


def _assert_same(a, b):
    assert (a.epoch, a.batch, a.history, a.val_history) == (b.epoch, b.batch, b.history,
                                                             b.val_history)
    for x, y in zip(a.model.collect_params().values(), b.model.collect_params().values()):
        np.testing.assert_array_equal(x.data().asnumpy(), y.data().asnumpy())


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZER_ARGS))
def test_killed_twice_then_resumed_is_the_uninterrupted_run(optimizer, capsys, tmp_path):
    extra = OPTIMIZER_ARGS[optimizer]
    codes, resumed = _killed_and_resumed(tmp_path, ["start", "random"], 2, seed=1, extra=extra)
    assert codes == [-signal.SIGKILL] * 2
    assert resumed.settings["optimizer"] == optimizer
    _assert_same(resumed, _uninterrupted(capsys, tmp_path, 2, extra))


@pytest.mark.extended
@pytest.mark.timeout(900)
def test_killed_twenty_four_times_then_resumed_is_the_uninterrupted_run(capsys, tmp_path):
    kills = ["random"] * 16 + ["start"] * 4 + ["written"] * 4
    random.Random(7).shuffle(kills)
    # A kill may miss (the run ended, or its save came later than the kill asked for): the
    # test draws more until 20 landed, on a run long enough for it (10 epochs of 24 batches,
    # a save every 4).
    codes, resumed = _killed_and_resumed(tmp_path, kills, 10, seed=7, landed=20)
    assert codes.count(-signal.SIGKILL) >= 20, codes
    _assert_same(resumed, _uninterrupted(capsys, tmp_path, 10))
