"""Book-style code: `import d2l_rnn as d2l`, positional calls as the chapter makes them."""

import math

from mxnet import autograd, gluon, init, nd
from mxnet.gluon import loss as gloss
from mxnet.gluon import rnn

import d2l_rnn as d2l


def test_a_hand_written_loop_over_the_helpers(capsys):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = d2l.load_data_time_machine()
    ctx = d2l.try_gpu()
    model = d2l.RNNModel(rnn.RNN(64), vocab_size)
    model.initialize(force_reinit=True, ctx=ctx, init=init.Normal(0.01))
    trainer = gluon.Trainer(model.collect_params(), 'sgd', {'learning_rate': 1e2})
    loss = gloss.SoftmaxCrossEntropyLoss()
    perplexities = []
    for _ in range(3):
        l_sum, n = 0.0, 0
        state = model.begin_state(batch_size=32, ctx=ctx)
        for X, Y in d2l.data_iter_consecutive(corpus_indices, 32, 35, ctx):
            state = [s.detach() for s in state]
            with autograd.record():
                output, state = model(X, state)
                y = Y.T.reshape((-1,))
                l = loss(output, y).mean()
            l.backward()
            params = [p.data() for p in model.collect_params().values()]
            norm = d2l.grad_clipping(params, 1e-2, ctx)
            trainer.step(1)
            l_sum += l.asscalar() * y.size
            n += y.size
        perplexities.append(math.exp(l_sum / n))
    assert norm.asscalar() > 0
    assert perplexities[-1] < perplexities[0]
    text = d2l.predict_rnn_gluon('traveller', 10, model, vocab_size, ctx, idx_to_char,
                                 char_to_idx)
    assert len(text) == 19 and text.startswith('traveller')
    X, Y = next(d2l.data_iter_random(corpus_indices, 2, 3, ctx))
    assert X.shape == Y.shape == (2, 3)
    assert nd.sum(X[:, 1:] != Y[:, :-1]).asscalar() == 0
