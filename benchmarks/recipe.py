"""``python -m benchmarks.recipe``: search the recipe ``d2l-rnn train --data`` uses, by measurement.

Each candidate (a full set of training settings: cell, size, layers, steps,
batch, optimizer, rate, clipping, dropout, one-hot or embedding, decay) trains
``d2l-rnn train --data FILE`` (:mod:`benchmarks.own_text_run`) for the same
time of its own (``--budget``) on each text, its last 5 % held out; the
table lists the best validation perplexity each reached, best first. The
candidates run side by side in processes of their own, taking turns
(:mod:`benchmarks.budget_turns`), so load on the shared machine meets each
alike; MXNet uses 2 OpenMP threads. ``--candidates`` picks some by name (a
coarse pass at 60 to 90 s prunes, a pass at 180 s decides); ``--list``
shows them all. The measurements behind the shipped recipe are in docs/cli.md.
"""

import argparse
import sys
from pathlib import Path

from .budget_turns import child_command, child_env, run_in_turns
from .report import load_average, machine_summary

__all__ = ["CANDIDATES", "format_recipes", "main"]

_ROOT = Path(__file__).resolve().parent.parent


def _c(cell, num_hiddens, num_layers, num_steps, batch_size, optimizer="adam", lr=2e-3,
       clip=5.0, dropout=0.0, embed_size=None, **more):
    return dict(cell=cell, num_hiddens=num_hiddens, num_layers=num_layers, num_steps=num_steps,
                batch_size=batch_size, optimizer=optimizer, lr=lr, clipping_theta=clip,
                dropout=dropout, embed_size=embed_size, **more)


CANDIDATES = {
    # The chapter's recipe, which --data used before: RNN(256), SGD at 100, clip 0.01.
    "chapter-sgd": _c("rnn", 256, 1, 35, 32, "sgd", 1e2, 1e-2),
    # Round 1 (too slow for 2 cores in a few minutes: 1 to 6 epochs):
    "lstm256-adam": _c("lstm", 256, 1, 35, 32),
    "lstm512-adam": _c("lstm", 512, 1, 64, 64),
    "lstm512x2-adam-d2": _c("lstm", 512, 2, 64, 64, dropout=0.2),
    "gru512x2-adam-d2": _c("gru", 512, 2, 64, 64, dropout=0.2),
    "lstm512x2-adam-e64-d2": _c("lstm", 512, 2, 64, 64, dropout=0.2, embed_size=64),
    "lstm512x2-rmsprop-e64-d2": _c("lstm", 512, 2, 64, 64, "rmsprop", dropout=0.2,
                                   embed_size=64),
    "lstm1024-adam-e128": _c("lstm", 1024, 1, 64, 64, embed_size=128),
    "gru512-adam3e-3-b128": _c("gru", 512, 1, 64, 128, lr=3e-3),
    "lstm256x2-adam-e32-s100": _c("lstm", 256, 2, 100, 32, embed_size=32),
    # Round 2: the chapter's shape and other small, fast models.
    "rnn256-adam": _c("rnn", 256, 1, 35, 32),
    "rnn256-adam-e64": _c("rnn", 256, 1, 35, 32, embed_size=64),
    "rnn256-adam5e-3-e64": _c("rnn", 256, 1, 35, 32, lr=5e-3, embed_size=64),
    "rnn256-rmsprop-e64": _c("rnn", 256, 1, 35, 32, "rmsprop", embed_size=64),
    "rnn256-sgd-e64": _c("rnn", 256, 1, 35, 32, "sgd", 1e2, 1e-2, embed_size=64),
    "rnn256-sgd-decay2": _c("rnn", 256, 1, 35, 32, "sgd", 1e2, 1e-2, lr_decay=2.0),
    "rnn512-adam-e64": _c("rnn", 512, 1, 35, 32, embed_size=64),
    "rnn256-adam-e64-s64-b64": _c("rnn", 256, 1, 64, 64, embed_size=64),
    "gru256-adam-e64": _c("gru", 256, 1, 35, 32, embed_size=64),
    "lstm256-sgd-decay4": _c("lstm", 256, 1, 35, 32, "sgd", 1e2, 1e-2, lr_decay=4.0),
    # Round 3: around the GRU with an embedding, round 2's best on both texts.
    "gru256-adam-e64-d2": _c("gru", 256, 1, 35, 32, dropout=0.2, embed_size=64),
    "gru384-adam-e64-d2": _c("gru", 384, 1, 35, 32, dropout=0.2, embed_size=64),
    "gru512-adam-e64-d3": _c("gru", 512, 1, 35, 32, dropout=0.3, embed_size=64),
    "gru256x2-adam-e64-d2": _c("gru", 256, 2, 35, 32, dropout=0.2, embed_size=64),
    "gru256-adam3e-3-e64": _c("gru", 256, 1, 35, 32, lr=3e-3, embed_size=64),
    "gru256-adam-e128": _c("gru", 256, 1, 35, 32, embed_size=128),
    "gru256-adam-e64-decay2": _c("gru", 256, 1, 35, 32, embed_size=64, lr_decay=2.0),
    "gru256-adam-e64-s64": _c("gru", 256, 1, 64, 32, embed_size=64),
    "lstm256-adam-e64": _c("lstm", 256, 1, 35, 32, embed_size=64),
    "gru256-rmsprop-e64": _c("gru", 256, 1, 35, 32, "rmsprop", embed_size=64),
    # Round 4: RMSprop on the GRU (round 3's best on the Chinese text), regularised.
    "gru256-rmsprop-e64-d2": _c("gru", 256, 1, 35, 32, "rmsprop", dropout=0.2, embed_size=64),
    "gru256-rmsprop-e64-d3": _c("gru", 256, 1, 35, 32, "rmsprop", dropout=0.3, embed_size=64),
    "gru256-rmsprop1e-3-e64": _c("gru", 256, 1, 35, 32, "rmsprop", 1e-3, embed_size=64),
    "gru256-rmsprop-e64-decay2": _c("gru", 256, 1, 35, 32, "rmsprop", embed_size=64,
                                    lr_decay=2.0),
    "gru256-rmsprop-e64-d2-decay2": _c("gru", 256, 1, 35, 32, "rmsprop", dropout=0.2,
                                       embed_size=64, lr_decay=2.0),
    "gru320-rmsprop-e64-d3": _c("gru", 320, 1, 35, 32, "rmsprop", dropout=0.3, embed_size=64),
    "gru256-rmsprop-e64-s64-d2": _c("gru", 256, 1, 64, 32, "rmsprop", dropout=0.2,
                                    embed_size=64),
    "rnn256-rmsprop-e64-d2": _c("rnn", 256, 1, 35, 32, "rmsprop", dropout=0.2, embed_size=64),
    "gru256-adam-e64-d2-decay2": _c("gru", 256, 1, 35, 32, dropout=0.2, embed_size=64,
                                    lr_decay=2.0),
    "gru384-adam-e64-d2-decay2": _c("gru", 384, 1, 35, 32, dropout=0.2, embed_size=64,
                                    lr_decay=2.0),
    # Final round, 180 s on three texts: round 4's best on each text and two neighbours.
    "gru384-rmsprop-e64-d2-decay2": _c("gru", 384, 1, 35, 32, "rmsprop", dropout=0.2,
                                       embed_size=64, lr_decay=2.0),
    "gru256-rmsprop-e64-d3-decay2": _c("gru", 256, 1, 35, 32, "rmsprop", dropout=0.3,
                                       embed_size=64, lr_decay=2.0),
    # Round 5: more capacity, more dropout (at 180 s on a quiet machine the final round's
    # candidates had stopped improving on the Time Machine well before the end).
    "gru512-rmsprop-e64-d3-decay2": _c("gru", 512, 1, 35, 32, "rmsprop", dropout=0.3,
                                       embed_size=64, lr_decay=2.0),
    "gru384-rmsprop-e64-d3-decay2": _c("gru", 384, 1, 35, 32, "rmsprop", dropout=0.3,
                                       embed_size=64, lr_decay=2.0),
    "gru256x2-rmsprop-e64-d2-decay2": _c("gru", 256, 2, 35, 32, "rmsprop", dropout=0.2,
                                         embed_size=64, lr_decay=2.0),
    "lstm384-rmsprop-e64-d2-decay2": _c("lstm", 384, 1, 35, 32, "rmsprop", dropout=0.2,
                                        embed_size=64, lr_decay=2.0),
    "gru384-rmsprop-e128-d3-decay2": _c("gru", 384, 1, 35, 32, "rmsprop", dropout=0.3,
                                        embed_size=128, lr_decay=2.0),
    # Round 6: an LSTM where round 3 found it ahead of the GRU on the Time Machine and close
    # behind on the Chinese text (round 5's winners on the Time Machine lost on the Chinese).
    "lstm256-rmsprop-e64-d2-decay2": _c("lstm", 256, 1, 35, 32, "rmsprop", dropout=0.2,
                                        embed_size=64, lr_decay=2.0),
    "lstm320-rmsprop-e64-d2-decay2": _c("lstm", 320, 1, 35, 32, "rmsprop", dropout=0.2,
                                        embed_size=64, lr_decay=2.0),
    # Round 7: the recipe's GRU(256) with smaller batches (more updates an epoch, noisier
    # steps) or a wider embedding, for the Time Machine, where it stops early after a third
    # of its time.
    "gru256-rmsprop-e64-d2-decay2-b16": _c("gru", 256, 1, 35, 16, "rmsprop", dropout=0.2,
                                           embed_size=64, lr_decay=2.0),
    "gru256-rmsprop-e64-d3-decay2-b16": _c("gru", 256, 1, 35, 16, "rmsprop", dropout=0.3,
                                           embed_size=64, lr_decay=2.0),
    "gru256-rmsprop-e128-d2-decay2": _c("gru", 256, 1, 35, 32, "rmsprop", dropout=0.2,
                                        embed_size=128, lr_decay=2.0),
}


def format_recipes(results):
    """A Markdown table of ``{name: result}``, best validation perplexity first."""
    order = sorted(results, key=lambda name: results[name]["best"])
    best = results[order[0]]["best"]
    lines = ["| candidate | best val. ppl | ratio to best | epochs | own s | stopped by |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name in order:
        r = results[name]
        lines.append("| %s | %.3f | %.3f | %d | %.0f | %s |" % (
            name, r["best"], r["best"] / best, r["epochs"], r["seconds"], r["stopped"]))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recipe", description=__doc__)
    parser.add_argument("--data", action="append", metavar="FILE",
                        help="a text (repeatable; default: the whole Time Machine)")
    parser.add_argument("--budget", type=float, default=180.0, metavar="S",
                        help="own seconds per candidate (default: 180)")
    parser.add_argument("--slice", type=float, default=5.0, metavar="S",
                        help="seconds a candidate runs before passing the turn (default: 5)")
    parser.add_argument("--candidates", nargs="+", choices=sorted(CANDIDATES), metavar="NAME",
                        help="the candidates to run (default: all)")
    parser.add_argument("--list", action="store_true", help="print the candidates and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, settings in CANDIDATES.items():
            print("%s: %s" % (name, settings))
        return 0
    names = args.candidates or list(CANDIDATES)
    for data in args.data or [str(_ROOT / "data" / "timemachine.txt")]:
        print("## %s, %g s each\n\n%s; before: %s" % (Path(data).name, args.budget,
                                                      machine_summary(), load_average()))
        sys.stdout.flush()
        rows = [(name, child_command("own_text_run", dict(
            data=str(data), budget=args.budget, slice=args.slice,
            settings=CANDIDATES[name])), child_env(2)) for name in names]
        results = run_in_turns(rows)
        print("after: %s\n\n%s\n" % (load_average(), format_recipes(results)))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
