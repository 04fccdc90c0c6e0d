"""``python -m benchmarks.stop_latency``: how long Ctrl-C takes to end ``d2l-rnn train``.

On a text of about 1 MB (The Time Machine repeated) with the chapter's model
(a 256-unit RNN, 32 x 35 batches), ``d2l-rnn train --data TEXT --save DIR``
is started in a process of its own, left to train for a while, and sent
SIGINT; the time from the signal to the process's exit is what a user
waits after Ctrl-C: the batch in progress, a snapshot of that point, the
summary, and the interpreter's exit. For comparison, the same model's time
per batch and the time of one such save are measured in this process.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import d2l_rnn
from d2l_rnn._compat import import_mxnet
from d2l_rnn.checkpoint import snapshots


def _text(folder, size):
    book = (Path(d2l_rnn.__file__).parent.parent / "data" / "timemachine.txt")
    if not book.exists():
        book = Path("/work/shared/data/timemachine.txt")
    text = book.read_text(encoding="utf-8")
    path = Path(folder) / "text-1mb.txt"
    path.write_text((text * (size // len(text) + 1))[:size], encoding="utf-8")
    return path


def _one_stop(text, folder, wait):
    save = Path(folder) / "ckpt"
    proc = subprocess.Popen([sys.executable, "-m", "d2l_rnn", "train", "--data", str(text),
                             "--ctx", "cpu", "--save", str(save)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(wait)
    start = time.perf_counter()
    proc.send_signal(2)
    out, err = proc.communicate(timeout=600)
    seconds = time.perf_counter() - start
    found = snapshots(save)
    return seconds, proc.returncode, found[-1][1].name if found else None, err.splitlines()[-1:]


def _batch_and_save_seconds(text, folder, batches=60):
    mx = import_mxnet()
    settings = d2l_rnn.TrainSettings.create(data=str(text), num_epochs=1)
    run = d2l_rnn.TrainingRun(settings, mx.cpu())
    count, stamps = [0], []
    real = run.train_one_epoch.train_batch

    def timed(*args):
        count[0] += 1
        stamps.append(time.perf_counter())
        if count[0] == batches:
            run.request_stop()
        return real(*args)

    run.train_one_epoch.train_batch = timed
    run.fit(Path(folder) / "inproc", progress=False, handle_signals=False)
    per_batch = statistics.median(b - a for a, b in zip(stamps[10:], stamps[11:]))
    saves = []
    for i in range(5):
        start = time.perf_counter()
        run.save(Path(folder) / ("s%d" % i))
        saves.append(time.perf_counter() - start)
    return per_batch, statistics.median(saves)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--wait", type=float, default=12.0,
                        help="seconds from the start of the process to the signal")
    parser.add_argument("--size", type=int, default=1_000_000, help="characters of text")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        text = _text(folder, args.size)
        per_batch, save = _batch_and_save_seconds(text, folder)
        print("one batch: %.1f ms (median), one save within an epoch: %.1f ms (median of 5)"
              % (1000 * per_batch, 1000 * save))
        latencies = []
        for trial in range(args.trials):
            with tempfile.TemporaryDirectory(dir=folder) as work:
                seconds, code, name, last = _one_stop(text, work, args.wait)
            latencies.append(seconds)
            print("trial %d: Ctrl-C to exit %.3f s, exit %d, saved %s; %s"
                  % (trial + 1, seconds, code, name, " ".join(last)))
        print("Ctrl-C to exit: median %.3f s, max %.3f s over %d trials"
              % (statistics.median(latencies), max(latencies), len(latencies)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
