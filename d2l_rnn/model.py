"""``RNNModel``: a Gluon recurrent layer with one-hot input and a dense output.

The block is a ``HybridBlock``, so ``model.hybridize()`` turns the forward
pass into one cached graph. The book's version (an ``nn.Block`` using
``inputs.T`` and ``Y.shape[-1]``) cannot be hybridized: symbols have neither
``.T`` nor a known shape.
"""

from ._checks import check_positive_int
from ._compat import import_mxnet

__all__ = ["RNNModel"]

_gluon = import_mxnet().gluon


class RNNModel(_gluon.nn.HybridBlock):
    """A character language model around any Gluon recurrent layer.

    Parameters
    ----------
    rnn_layer : mxnet.gluon.rnn.RNN, GRU or LSTM
        Layer with layout ``'TNC'`` (Gluon's default); any number of layers,
        uni- or bidirectional.
    vocab_size : int
        Number of distinct characters; the size of the one-hot input and of
        the output layer.

    Call
    ----
    ``model(inputs, state)`` with ``inputs`` of shape ``(batch_size,
    num_steps)`` (character ids) and ``state`` from :meth:`begin_state`
    returns ``(output, state)``: ``output`` has shape ``(num_steps *
    batch_size, vocab_size)``, time-major (all of step 0, then step 1, ...),
    and ``state`` is the layer's new state list (two arrays for an LSTM).
    """

    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("vocab_size", vocab_size)
        if getattr(rnn_layer, "_layout", "TNC") != "TNC":
            raise ValueError("RNNModel needs a layer with layout='TNC', got %r"
                             % rnn_layer._layout)
        self.vocab_size = vocab_size
        with self.name_scope():
            self.rnn = rnn_layer
            self.dense = _gluon.nn.Dense(vocab_size)

    def hybrid_forward(self, F, inputs, state):
        # (batch, steps) ids -> (steps, batch, vocab) one-hot: the TNC layout.
        X = F.one_hot(F.transpose(inputs), self.vocab_size)
        Y, state = self.rnn(X, state)
        # Merge the step and batch axes: (steps * batch, hiddens) rows, so the
        # output rows line up with the targets Y.T.reshape((-1,)).
        output = self.dense(F.reshape(Y, shape=(-3, -2)))
        return output, state

    def begin_state(self, *args, **kwargs):
        """Return the layer's initial state (see ``rnn_layer.begin_state``)."""
        return self.rnn.begin_state(*args, **kwargs)
