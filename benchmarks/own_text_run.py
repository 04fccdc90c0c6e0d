"""``python -m benchmarks.own_text_run SPEC_JSON``: ``d2l-rnn train --data`` for a time budget.

One trainer of :mod:`benchmarks.budget_turns`: the command line's training
run (:class:`~d2l_rnn.run.TrainingRun`, with its per-epoch validation,
learning-rate decay and early stopping) on ``spec["data"]`` with
``TrainSettings.create(data=..., **spec["settings"])``: with no settings,
exactly what ``d2l-rnn train --data FILE`` trains. It runs until its own
time reaches ``spec["budget"]`` seconds (or the run stops early), then the
held-out text's perplexity is measured once more (untimed, as for every
trainer). The result: the best validation perplexity and when it was reached.

The run is stopped from a batch hook rather than by ``fit``'s ``max_time``:
the budget counts this process's own turns (:mod:`benchmarks.budget_turns`),
not the wall clock that trainers taking turns share.
"""

import json
import math
import sys

__all__ = ["main"]


def _hook_batches(run, turn, mx):
    """Call ``turn.check()`` after each batch, with the engine at most one batch behind."""
    epoch = run.train_one_epoch
    inner, previous = epoch.train_batch, []

    def train_batch(X, Y, states):
        loss, states = inner(X, Y, states)
        if previous:  # the batch before has finished: time read on the host is real
            previous.pop().wait_to_read()
        previous.append(loss)
        turn.check()
        return loss, states

    epoch.train_batch = train_batch


def main(argv=None):
    """Train as ``spec`` says under the parent's turns; send the result."""
    spec = json.loads((sys.argv[1:] if argv is None else argv)[0])
    import mxnet as mx

    from d2l_rnn.run import TrainingRun
    from d2l_rnn.settings import TrainSettings, load_text
    from d2l_rnn.training import evaluate_perplexity

    from .budget_turns import OutOfTime, Turn
    settings = TrainSettings.create(data=spec["data"], num_epochs=10 ** 6, pred_period=10 ** 6,
                                    seed=spec.get("seed", 0), **spec.get("settings", {}))
    text = load_text(settings.check())
    run = TrainingRun(settings, mx.cpu(), text)
    turn = Turn(spec["budget"], spec.get("slice", 5.0), sync=mx.nd.waitall)
    points = []  # (own seconds, epoch, validation perplexity)
    _hook_batches(run, turn, mx)

    def timed_record(end):  # after the run's own callbacks: validated, judged
        points.append((turn.elapsed(), end.epoch, end.val_perplexity))

    turn.ready()
    stopped = "budget"
    try:
        run.fit(None, callbacks=[timed_record], write=lambda *args: None, progress=False,
                handle_signals=False)
        stopped = "early stop" if run.judge.stopped else "epochs"
    except OutOfTime:
        pass
    mx.nd.waitall()
    seconds = turn.elapsed()
    final = evaluate_perplexity(run.model, text.val, mx.cpu())  # untimed: after the budget
    vals = [p[2] for p in points if p[2] is not None and not math.isnan(p[2])] + [final]
    best = min(vals)
    Turn.result({"best": best, "final": final, "epochs": len(points), "seconds": seconds,
                 "points": points, "train": run.history, "stopped": stopped,
                 "vocab_size": text.vocab_size,
                 "settings": {k: v for k, v in settings.to_dict().items() if k != "prefixes"}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
