"""Row 4 of the benchmark: the chapter's model and loop written in PyTorch.

Same data and sampler (the library's consecutive sampler, its batches
copied to PyTorch), same model (one-hot input, a 256-unit ReLU ``nn.RNN``,
a dense output), same initialisation (weights ``Normal(0, 0.01)``, biases
zero), same truncated back-propagation (the state is carried across batches
and detached), same global-norm clipping and plain SGD at the same learning
rate. Like the shipped MXNet loop it reads the loss back once per epoch.

PyTorch is an optional dependency of the benchmark only
(``pip install '.[bench]'``); the library never imports it.
"""

from d2l_rnn import data_iter_consecutive
from d2l_rnn._compat import import_mxnet
from d2l_rnn.generation import greedy_generate
from d2l_rnn.loop import fit, print_progress

__all__ = ["import_torch", "TorchRNNModel", "train_epoch", "predict_torch", "train_torch"]


def import_torch():
    """Return the ``torch`` module or raise ImportError naming the extra."""
    try:
        import torch
    except ImportError as err:
        raise ImportError(
            "the PyTorch row needs torch: `pip install '.[bench]'` (torch==2.13.0, "
            "the CPU build), or run the benchmark with --rows that leave it out"
        ) from err
    # The first optimizer built imports torch._dynamo (seconds here): pay that
    # once at import time, like MXNet's own import, not inside a timed run.
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    return torch


def TorchRNNModel(vocab_size, num_hiddens):
    """Return the chapter's model as a ``torch.nn.Module``.

    ``model(X, state)`` takes ids of shape ``(batch_size, num_steps)`` and a
    state of shape ``(1, batch_size, num_hiddens)`` and returns ``(output,
    state)``, ``output`` of shape ``(num_steps * batch_size, vocab_size)``
    and time-major like :class:`d2l_rnn.RNNModel`.
    """
    torch = import_torch()
    nn, F = torch.nn, torch.nn.functional

    class _Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.vocab_size = vocab_size
            self.rnn = nn.RNN(vocab_size, num_hiddens, nonlinearity="relu")
            self.dense = nn.Linear(num_hiddens, vocab_size)
            for name, param in self.named_parameters():
                # Gluon's Normal(0.01) initialises weights; biases start at zero.
                if "weight" in name:
                    nn.init.normal_(param, std=0.01)
                else:
                    nn.init.zeros_(param)

        def forward(self, X, state):
            X = F.one_hot(X.T, self.vocab_size).float()   # (num_steps, batch_size, vocab)
            Y, state = self.rnn(X, state)
            return self.dense(Y.reshape(-1, Y.shape[-1])), state

    return _Model()


def train_epoch(torch, model, optimizer, corpus_indices, batch_size, num_steps,
                clipping_theta):
    """One epoch of truncated BPTT; return the mean loss (one host read)."""
    F = torch.nn.functional
    l_sum, n, state = torch.zeros(()), 0, None
    for X, Y in data_iter_consecutive(corpus_indices, batch_size, num_steps):
        X = torch.from_numpy(X.asnumpy()).long()
        y = torch.from_numpy(Y.asnumpy()).long().T.reshape(-1)
        if state is None:
            state = torch.zeros(1, batch_size, model.rnn.hidden_size)
        else:
            state = state.detach()
        output, state = model(X, state)
        l = F.cross_entropy(output, y)
        optimizer.zero_grad(set_to_none=True)
        l.backward()
        # min(1, theta / (norm + 1e-6)) on the tensors, no host read.
        torch.nn.utils.clip_grad_norm_(model.parameters(), clipping_theta)
        optimizer.step()
        l_sum += l.detach() * y.numel()
        n += y.numel()
    return l_sum.item() / n


def predict_torch(prefix, num_chars, model, idx_to_char, char_to_idx):
    """Greedy generation with the PyTorch model (the library's loop, scores copied)."""
    torch, nd = import_torch(), import_mxnet().nd
    state = torch.zeros(1, 1, model.rnn.hidden_size)

    def feed(ids):
        nonlocal state
        with torch.no_grad():
            scores, state = model(torch.tensor([ids]), state)
        return nd.array(scores.numpy())

    return greedy_generate(prefix, num_chars, feed, idx_to_char, char_to_idx)


def train_torch(corpus_indices, vocab_size, idx_to_char, char_to_idx, num_hiddens,
                num_epochs, num_steps, lr, clipping_theta, batch_size, pred_period,
                pred_len, prefixes):
    """Train the PyTorch model, printing the chapter's lines.

    Returns
    -------
    list of float
        The perplexity of every epoch.
    """
    torch = import_torch()
    model = TorchRNNModel(vocab_size, num_hiddens)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def predict(prefix):
        return predict_torch(prefix, pred_len, model, idx_to_char, char_to_idx)

    return fit(lambda: train_epoch(torch, model, optimizer, corpus_indices, batch_size,
                                   num_steps, clipping_theta),
               num_epochs, lr, [print_progress(pred_period, prefixes, predict)])
