"""``python -m benchmarks.torch_own_text SPEC_JSON``: a PyTorch baseline for a time budget.

The quality benchmark's baselines (:mod:`benchmarks.quality`), written here
in PyTorch from their descriptions, one trainer of :mod:`benchmarks.budget_turns`:

* ``char-rnn``: karpathy/char-rnn's defaults: one-hot input, a 2-layer
  LSTM(128) without dropout, 50 steps, batch 50, RMSprop at 2e-3 (decay
  0.95, epsilon 1e-8), every gradient element clamped to [-5, 5], weights
  uniform in [-0.08, 0.08] with the LSTMs' forget-gate biases at 1, and the
  rate multiplied by 0.97 after each epoch from the 10th on;
* ``adam-chapter``: the chapter's shape (one-hot input, RNN(256) with ReLU,
  35 steps, batch 32, weights Normal(0.01), biases 0) trained with Adam at
  2e-3, the global gradient norm clipped to 5.

Both read the text as the library does (``load_corpus``; the last 5 % held
out), in consecutive minibatches with the hidden state carried across batches
(a random offset each epoch), and measure the held-out perplexity after
every epoch as ``d2l.evaluate_perplexity`` does (once through, from a zero
state). PyTorch is imported first, with ``spec["threads"]`` threads.
"""

import json
import math
import random
import sys

__all__ = ["RECIPES", "main"]

RECIPES = {
    "char-rnn": dict(cell="lstm", num_hiddens=128, num_layers=2, num_steps=50, batch_size=50),
    "adam-chapter": dict(cell="rnn", num_hiddens=256, num_layers=1, num_steps=35,
                         batch_size=32),
}


def _model(torch, recipe, vocab_size):
    nn, F = torch.nn, torch.nn.functional
    r = RECIPES[recipe]
    layer = (nn.LSTM(vocab_size, r["num_hiddens"], r["num_layers"]) if r["cell"] == "lstm"
             else nn.RNN(vocab_size, r["num_hiddens"], r["num_layers"], nonlinearity="relu"))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.dense = layer, nn.Linear(r["num_hiddens"], vocab_size)

        def forward(self, X, state):  # X: (num_steps, batch) ids, time-major
            Y, state = self.rnn(F.one_hot(X, vocab_size).float(), state)
            return self.dense(Y.reshape(-1, Y.shape[-1])), state

    model = Model()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if recipe == "char-rnn":
                param.uniform_(-0.08, 0.08)
                if name.startswith("rnn.bias_ih"):  # gates i, f, g, o: f at 1
                    h = r["num_hiddens"]
                    param[h:2 * h] = 1.0
            elif "weight" in name:
                param.normal_(0, 0.01)
            else:
                param.zero_()
    return model


def _batches(corpus, batch_size, num_steps):
    """Consecutive minibatches ``(X, Y)`` of shape ``(num_steps, batch_size)``."""
    offset = random.randint(0, num_steps - 1)
    usable = (len(corpus) - 1 - offset) // batch_size * batch_size
    X = corpus[offset:offset + usable].reshape(batch_size, -1)
    Y = corpus[offset + 1:offset + 1 + usable].reshape(batch_size, -1)
    for i in range(X.shape[1] // num_steps):
        cut = slice(i * num_steps, (i + 1) * num_steps)
        yield X[:, cut].T.copy(), Y[:, cut].T.copy()


def _evaluate(torch, model, ids, chunk=4096):
    F = torch.nn.functional
    total, state = 0.0, None
    with torch.no_grad():
        for start in range(0, len(ids) - 1, chunk):
            piece = ids[start:start + chunk + 1]
            X = torch.from_numpy(piece[:-1]).long()[:, None]
            output, state = model(X, state)
            total += float(F.cross_entropy(output, torch.from_numpy(piece[1:]).long(),
                                           reduction="sum"))
    return math.exp(total / (len(ids) - 1))


def _optimizer(torch, recipe, model):
    if recipe == "char-rnn":
        return torch.optim.RMSprop(model.parameters(), lr=2e-3, alpha=0.95, eps=1e-8)
    return torch.optim.Adam(model.parameters(), lr=2e-3)


def _train(torch, recipe, model, optimizer, train, val, turn, points):
    F, r = torch.nn.functional, RECIPES[recipe]
    epoch = 0
    while True:
        epoch += 1
        state = None
        for X, Y in _batches(train, r["batch_size"], r["num_steps"]):
            if state is not None:
                state = tuple(s.detach() for s in state) if isinstance(state, tuple) \
                    else state.detach()
            output, state = model(torch.from_numpy(X).long(), state)
            loss = F.cross_entropy(output, torch.from_numpy(Y).long().reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if recipe == "char-rnn":
                torch.nn.utils.clip_grad_value_(model.parameters(), 5.0)
            else:
                torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            turn.check()
        if recipe == "char-rnn" and epoch >= 10:
            for group in optimizer.param_groups:
                group["lr"] *= 0.97
        points.append((turn.elapsed(), epoch, _evaluate(torch, model, val)))


def main(argv=None):
    """Train ``spec["recipe"]`` on ``spec["data"]`` under the parent's turns; send the result."""
    spec = json.loads((sys.argv[1:] if argv is None else argv)[0])
    import torch  # first: its OpenMP settings before MXNet's import changes them
    torch.set_num_threads(int(spec["threads"]))
    import numpy as np

    from d2l_rnn.data import load_corpus

    from .budget_turns import OutOfTime, Turn
    corpus, _, idx_to_char, _ = load_corpus(spec["data"])
    corpus = np.asarray(corpus, dtype=np.int64)
    held_out = int(round(0.05 * len(corpus)))
    train, val = corpus[:-held_out], corpus[-held_out:]
    random.seed(spec.get("seed", 0))
    torch.manual_seed(spec.get("seed", 0))
    model = _model(torch, spec["recipe"], len(idx_to_char))
    optimizer = _optimizer(torch, spec["recipe"], model)
    turn, points = Turn(spec["budget"], spec.get("slice", 5.0)), []
    turn.ready()
    try:
        _train(torch, spec["recipe"], model, optimizer, train, val, turn, points)
    except OutOfTime:
        pass
    seconds = turn.elapsed()
    final = _evaluate(torch, model, val)
    best = min([p[2] for p in points] + [final])
    Turn.result({"best": best, "final": final, "epochs": len(points), "seconds": seconds,
                 "points": points, "threads": torch.get_num_threads(),
                 "vocab_size": len(idx_to_char)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
