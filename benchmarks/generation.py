"""``python -m benchmarks.generation``: characters per second, generating greedily.

Batch 1, greedy, from a 256-unit RNN (ReLU, the chapter's), GRU and LSTM
over the chapter's vocabulary, weights drawn from ``Normal(0.01)`` (the
speed does not depend on them). Measured ways, each through the library's
one generation loop (:func:`d2l_rnn.generation.generate_ids`):

* ``before``: the Gluon step (:func:`~d2l_rnn.generation.gluon_feed`), the
  hybridized model called once per character, as ``predict_rnn_gluon`` did;
* ``after``: :func:`~d2l_rnn.generation.model_feed`, what generation uses
  now (on a CPU, the NumPy step of :mod:`d2l_rnn.generation.host_step`);
* PyTorch: the same model (``nn.RNN``/``GRU``/``LSTM`` and ``nn.Linear``
  on one-hot input) called once per character, the arg max read with
  ``.item()``, in a process of its own (see :mod:`benchmarks.row_process`),
  with PyTorch's default thread count and with one thread.

The ways take turns: each round measures every way on every model once, and
the table gives each figure's median over the rounds. Each measurement
generates for about ``--seconds`` seconds from a fresh start, so the
one-off costs (reading the weights) are in it.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

__all__ = ["CELLS", "WAYS", "rate", "run", "format_table", "main"]

CELLS = ("rnn", "gru", "lstm")
WAYS = ("before", "after", "torch", "torch1")
PREFIX = [0, 1, 2]   # any three ids: the speed does not depend on them
SAMPLE = 2000        # the user's view: seconds for a sample this long


def rate(generate, seconds):
    """Characters per second of ``generate(num_chars)``, run for about ``seconds``."""
    start = time.perf_counter()
    generate(20)   # a probe: how many characters fit into the time
    probe = time.perf_counter() - start
    num_chars = max(20, int(20 * seconds / max(probe, 1e-6)))
    start = time.perf_counter()
    generate(num_chars)
    return num_chars / (time.perf_counter() - start)


def _mxnet_generators(num_hiddens, vocab_size):
    import mxnet as mx

    from d2l_rnn.generation import generate_ids, gluon_feed, model_feed
    from d2l_rnn.model import build_model
    ctx, models = mx.cpu(), {}
    for cell in CELLS:
        model = build_model(cell, num_hiddens, 1, vocab_size)
        model.initialize(ctx=ctx, init=mx.init.Normal(0.01))
        model.hybridize(static_alloc=True)   # as training and the command line leave it
        models[cell] = model

    def make(feed):
        return {cell: (lambda n, m=m: generate_ids(PREFIX, n, feed(m, ctx)))
                for cell, m in models.items()}

    return {"before": make(gluon_feed), "after": make(model_feed)}


def _torch_generators(torch, num_hiddens, vocab_size):
    from d2l_rnn.generation import generate_ids
    nn, F = torch.nn, torch.nn.functional
    generators = {}
    for cell in CELLS:
        kind = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
        extra = {"nonlinearity": "relu"} if cell == "rnn" else {}
        layer, dense = kind(vocab_size, num_hiddens, **extra), nn.Linear(num_hiddens, vocab_size)
        for module in (layer, dense):
            for name, param in module.named_parameters():
                if "weight" in name:
                    nn.init.normal_(param, std=0.01)
                else:
                    nn.init.zeros_(param)

        def generate(num_chars, layer=layer, dense=dense):
            state = None

            def feed(ids):
                nonlocal state
                X = F.one_hot(torch.tensor([ids]).T, vocab_size).float()
                Y, state = layer(X, state)
                return dense(Y.reshape(-1, num_hiddens))

            with torch.no_grad():
                return generate_ids(PREFIX, num_chars, feed,
                                    lambda scores: int(scores.argmax(dim=1).item()))

        generators[cell] = generate
    return generators


def child(argv):
    """The PyTorch side: answer ``cell threads seconds`` lines with ``@@ rate R``."""
    import torch  # first: before MXNet changes this thread's OpenMP settings
    default = torch.get_num_threads()
    num_hiddens, vocab_size = int(argv[0]), int(argv[1])
    generators = _torch_generators(torch, num_hiddens, vocab_size)
    print("@@ ready %d" % default, flush=True)
    for line in sys.stdin:
        cell, threads, seconds = line.split()
        torch.set_num_threads(int(threads) or default)
        print("@@ rate %r" % rate(generators[cell], float(seconds)), flush=True)
    return 0


class _TorchProcess:
    def __init__(self, num_hiddens, vocab_size):
        from .row_process import child_environment
        root, env = child_environment()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.generation", "--child", str(num_hiddens),
             str(vocab_size)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=env, cwd=root)
        self.threads = int(self._answer("ready"))

    def _answer(self, word):
        line = self.process.stdout.readline()
        if not line.startswith("@@ %s " % word):
            raise RuntimeError("the PyTorch process failed (it said %r); its error output "
                               "is above" % line)
        return line.split()[2]

    def rate(self, cell, threads, seconds):
        self.process.stdin.write("%s %d %r\n" % (cell, threads, seconds))
        self.process.stdin.flush()
        return float(self._answer("rate"))

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def run(cells=CELLS, rounds=3, seconds=0.5, num_hiddens=256, torch=True):
    """Measure; return ``({(way, cell): [chars/s per round]}, PyTorch's default threads)``."""
    import d2l_rnn
    vocab_size = d2l_rnn.load_data_time_machine()[3]
    generators = _mxnet_generators(num_hiddens, vocab_size)
    worker = _TorchProcess(num_hiddens, vocab_size) if torch else None
    rates = {}
    try:
        for _ in range(rounds):
            for cell in cells:
                for way in ("before", "after"):
                    rates.setdefault((way, cell), []).append(
                        rate(generators[way][cell], seconds))
                if worker is not None:
                    for way, threads in (("torch", 0), ("torch1", 1)):
                        rates.setdefault((way, cell), []).append(
                            worker.rate(cell, threads, seconds))
    finally:
        if worker is not None:
            worker.close()
    return rates, worker.threads if worker is not None else None


def format_table(rates, torch_threads=None, num_hiddens=256):
    """Return the Markdown table of :func:`run`'s medians."""
    def median(way, cell):
        return statistics.median(rates[way, cell]) if (way, cell) in rates else None

    torch_label = "PyTorch (%s threads)" % (torch_threads or "default")
    lines = ["| model | before: Gluon step, chars/s | after: d2l_rnn now, chars/s | after / "
             "before | %s, chars/s | PyTorch (1 thread), chars/s | after / best PyTorch | "
             "%d characters: before -> after |" % (torch_label, SAMPLE),
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for cell in CELLS:
        before, after = median("before", cell), median("after", cell)
        if before is None:
            continue
        torches = [r for r in (median("torch", cell), median("torch1", cell)) if r]
        cells = ["%s(%d)" % (cell.upper(), num_hiddens), "%.0f" % before, "%.0f" % after,
                 "%.1fx" % (after / before)]
        cells += ["%.0f" % median(way, cell) if median(way, cell) else "n/a"
                  for way in ("torch", "torch1")]
        cells.append("%.2fx" % (after / max(torches)) if torches else "n/a")
        cells.append("%.2f s -> %.3f s" % (SAMPLE / before, SAMPLE / after))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    """Parse the command line, measure, print the table; return 0."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(argv[1:])
    import importlib.util

    from .report import machine_summary
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="turns per way (default: 5)")
    parser.add_argument("--seconds", type=float, default=0.5,
                        help="seconds per measurement (default: 0.5)")
    parser.add_argument("--cells", default=",".join(CELLS),
                        help="comma-separated subset of %s" % ",".join(CELLS))
    args = parser.parse_args(argv)
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    if not cells or any(c not in CELLS for c in cells):
        parser.error("--cells: choose from %s, got %r" % (",".join(CELLS), args.cells))
    if args.rounds < 1 or not args.seconds > 0:
        parser.error("--rounds must be >= 1 and --seconds > 0")
    has_torch = importlib.util.find_spec("torch") is not None
    print("\n## Generation, batch 1, greedy: characters per second (median of %d rounds)\n"
          % args.rounds)
    if not has_torch:
        print("PyTorch is not installed: its columns are left out")
    before = machine_summary()
    rates, threads = run(cells, args.rounds, args.seconds, torch=has_torch)
    print("%s\nafter: load average %.2f %.2f %.2f\n" % ((before,) + os.getloadavg()))
    print(format_table(rates, threads))
    print("\nraw: " + json.dumps({"%s/%s" % k: [round(r) for r in v] for k, v in rates.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
