"""Chapter 6.5, the RNN from scratch: its model and the helpers it saved.

The book's chapters 6.5 (RNN), 6.7 (GRU) and 6.8 (LSTM) write a model as
three plain functions and hand them to :func:`train_and_predict_rnn`:

* ``get_params()`` returns the list of parameter arrays, gradients attached;
* ``init_rnn_state(batch_size, num_hiddens, ctx)`` returns a tuple of states;
* ``rnn(inputs, state, params)`` takes a list of ``num_steps`` one-hot
  ``(batch_size, vocab_size)`` arrays and returns ``(outputs, state)``, one
  ``(batch_size, vocab_size)`` output per step.

This module ships the chapter's own tanh RNN in that form (:func:`rnn`,
:func:`init_rnn_state`, :func:`make_get_params`) together with
:func:`to_onehot`, :func:`sgd`, :func:`predict_rnn` and
:func:`train_and_predict_rnn`, so the book's code runs with
``import d2l_rnn as d2l``.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence, Tuple

from ._compat import import_mxnet
from ._util.checks import check_positive_int
from ._util.hints import Context, Corpus, NDArray
from .clipping import grad_clipping
from .generation import greedy_generate
from .loop import check_training_args, fit, print_progress, run_epoch, sequence_loss

__all__ = ["to_onehot", "sgd", "make_get_params", "init_rnn_state", "rnn",
           "predict_rnn", "train_and_predict_rnn"]

# The contracts of chapter 6.5's pieces: rnn(inputs, state, params) -> (outputs,
# state) and init_rnn_state(batch_size, num_hiddens, ctx) -> state.
RNNStep = Callable[[Sequence[NDArray], Tuple[NDArray, ...], Sequence[NDArray]],
                   Tuple[list, Tuple[NDArray, ...]]]
InitState = Callable[[int, int, Context], Tuple[NDArray, ...]]


def to_onehot(X: NDArray, size: int) -> list[NDArray]:
    """Split ``(batch_size, num_steps)`` ids into one-hot arrays, one per step.

    Returns
    -------
    list of NDArray
        ``num_steps`` arrays of shape ``(batch_size, size)``, float32.
    """
    nd = import_mxnet().nd
    check_positive_int("size", size)
    if len(X.shape) != 2:
        raise ValueError("X must have shape (batch_size, num_steps), got %s"
                         % (X.shape,))
    # One one_hot and one split instead of one slice and one_hot per step.
    steps = nd.one_hot(X.T, size)                 # (num_steps, batch_size, size)
    if steps.shape[0] == 1:                       # split would return one array
        return [steps[0]]
    return list(nd.split(steps, num_outputs=steps.shape[0], axis=0, squeeze_axis=True))


def sgd(params: Sequence[NDArray], lr: float, batch_size: int) -> None:
    """Minibatch SGD in place: ``param -= lr * param.grad / batch_size``."""
    nd = import_mxnet().nd
    check_positive_int("batch_size", batch_size)
    for param in params:
        nd.sgd_update(param, param.grad, lr=lr, rescale_grad=1.0 / batch_size,
                      out=param)


def make_get_params(num_inputs: int, num_hiddens: int, num_outputs: int,
                    ctx: Context) -> Callable[[], list[NDArray]]:
    """Return the chapter's zero-argument ``get_params`` for these sizes.

    Each call of the returned function draws fresh parameters
    ``[W_xh, W_hh, b_h, W_hq, b_q]`` on ``ctx`` with gradients attached:
    weights from ``Normal(0, 0.01)``, biases zero. Shapes: ``W_xh``
    ``(num_inputs, num_hiddens)``, ``W_hh`` ``(num_hiddens, num_hiddens)``,
    ``b_h`` ``(num_hiddens,)``, ``W_hq`` ``(num_hiddens, num_outputs)``,
    ``b_q`` ``(num_outputs,)``.
    """
    for name, value in [("num_inputs", num_inputs), ("num_hiddens", num_hiddens),
                        ("num_outputs", num_outputs)]:
        check_positive_int(name, value)

    def get_params():
        nd = import_mxnet().nd

        def normal(shape):
            return nd.random.normal(scale=0.01, shape=shape, ctx=ctx)

        params = [normal((num_inputs, num_hiddens)),
                  normal((num_hiddens, num_hiddens)),
                  nd.zeros(num_hiddens, ctx=ctx),
                  normal((num_hiddens, num_outputs)),
                  nd.zeros(num_outputs, ctx=ctx)]
        for param in params:
            param.attach_grad()
        return params

    return get_params


def init_rnn_state(batch_size: int, num_hiddens: int, ctx: Context) -> tuple[NDArray]:
    """Return the zero state ``(H,)``, ``H`` of shape ``(batch_size, num_hiddens)``."""
    nd = import_mxnet().nd
    return (nd.zeros((batch_size, num_hiddens), ctx=ctx),)


def rnn(inputs: Sequence[NDArray], state: tuple[NDArray, ...],
        params: Sequence[NDArray]) -> tuple[list[NDArray], tuple[NDArray]]:
    """Run the tanh RNN over ``inputs``, one time step per Python iteration.

    ``H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)`` and ``O_t = H_t W_hq + b_q``.

    Parameters
    ----------
    inputs : list of NDArray
        ``num_steps`` arrays of shape ``(batch_size, num_inputs)``.
    state : tuple of NDArray
        ``(H,)`` with ``H`` of shape ``(batch_size, num_hiddens)``.
    params : list of NDArray
        ``[W_xh, W_hh, b_h, W_hq, b_q]`` from ``get_params()``.

    Returns
    -------
    outputs : list of NDArray
        ``num_steps`` arrays of shape ``(batch_size, num_outputs)``.
    state : tuple of NDArray
        ``(H,)`` after the last step.
    """
    nd = import_mxnet().nd
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        H = nd.tanh(nd.dot(X, W_xh) + nd.dot(H, W_hh) + b_h)
        outputs.append(nd.dot(H, W_hq) + b_q)
    return outputs, (H,)


def predict_rnn(prefix: str, num_chars: int, rnn: RNNStep, params: Sequence[NDArray],
                init_rnn_state: InitState, num_hiddens: int, vocab_size: int, ctx: Context,
                idx_to_char: Sequence[str], char_to_idx: Mapping[str, int]) -> str:
    """Return ``prefix`` followed by ``num_chars`` greedily predicted characters.

    ``rnn``, ``params`` and ``init_rnn_state`` follow the module's contract;
    the other arguments are as in :func:`~d2l_rnn.predict_rnn_gluon`.

    Raises
    ------
    ValueError
        If ``prefix`` is empty or has characters outside the vocabulary.
    """
    nd = import_mxnet().nd
    state = init_rnn_state(1, num_hiddens, ctx)

    def feed(ids):
        nonlocal state
        inputs = to_onehot(nd.array([ids], ctx=ctx), vocab_size)
        outputs, state = rnn(inputs, state, params)
        return outputs[-1]

    return greedy_generate(prefix, num_chars, feed, idx_to_char, char_to_idx)


def _scratch_batch_trainer(rnn, params, vocab_size, lr, clipping_theta, ctx):
    """Return ``train_batch(X, Y, state) -> (l, state)`` for :func:`run_epoch`."""
    mx = import_mxnet()

    def train_batch(X, Y, state):
        with mx.autograd.record():
            outputs, state = rnn(to_onehot(X, vocab_size), state, params)
            # Step-major rows, (num_steps * batch_size, vocab_size), as
            # RNNModel's: the same loss applies.
            l = sequence_loss(mx.nd.concat(*outputs, dim=0), Y, Y.size)
        l.backward()
        grad_clipping(params, clipping_theta, ctx)
        sgd(params, lr, 1)  # the loss is a mean already
        return l, state

    return train_batch


def train_and_predict_rnn(rnn: RNNStep, get_params: Callable[[], list[NDArray]],
                          init_rnn_state: InitState, num_hiddens: int, vocab_size: int,
                          ctx: Context, corpus_indices: Corpus, idx_to_char: Sequence[str],
                          char_to_idx: Mapping[str, int], is_random_iter: bool,
                          num_epochs: int, num_steps: int, lr: float, clipping_theta: float,
                          batch_size: int, pred_period: int, pred_len: int,
                          prefixes: Sequence[str]) -> list[float]:
    """Train a from-scratch model as in chapter 6.5 and print its progress.

    ``get_params()`` is called once for fresh parameters. With
    ``is_random_iter`` the minibatches are sampled at random and every batch
    starts from ``init_rnn_state``; otherwise they are consecutive, the
    state is initialised once per epoch and detached every batch. Gradients
    are clipped to a global norm of ``clipping_theta`` and applied with
    :func:`sgd`. Every ``pred_period`` epochs prints ``epoch E, perplexity
    P, time T sec`` and, for each prefix, `` - `` and ``pred_len``
    generated characters.

    Returns
    -------
    list of float
        The perplexity of every epoch (the book returns nothing).

    Raises
    ------
    ValueError
        For non-positive sizes or rates, corpus ids outside the vocabulary,
        a corpus too short for one batch, or a prefix the vocabulary cannot
        encode (checked before training).
    FloatingPointError
        If the loss becomes NaN or infinite.
    """
    check_training_args(prefixes, char_to_idx,
                        dict(lr=lr, clipping_theta=clipping_theta), corpus_indices,
                        num_epochs=num_epochs, num_steps=num_steps, batch_size=batch_size,
                        pred_period=pred_period, vocab_size=vocab_size,
                        num_hiddens=num_hiddens)
    params = get_params()
    train_batch = _scratch_batch_trainer(rnn, params, vocab_size, lr, clipping_theta, ctx)

    def train_one_epoch():
        return run_epoch(train_batch, lambda: init_rnn_state(batch_size, num_hiddens, ctx),
                         corpus_indices, batch_size, num_steps, ctx, is_random_iter)

    def predict(prefix):
        return predict_rnn(prefix, pred_len, rnn, params, init_rnn_state, num_hiddens,
                           vocab_size, ctx, idx_to_char, char_to_idx)

    return fit(train_one_epoch, num_epochs, lr, [print_progress(pred_period, prefixes, predict)])
