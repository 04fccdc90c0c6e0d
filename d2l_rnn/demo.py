"""``python -m d2l_rnn.demo``: the chapter's training run, on ``try_gpu()``.

Trains a 256-unit ReLU RNN on the first 10,000 characters of *The Time
Machine* with the chapter's hyperparameters and prints its lines.
"""

__all__ = ["main"]


def main():
    """Run chapter 6.6's training with its hyperparameters; return the history."""
    from mxnet.gluon import rnn

    import d2l_rnn as d2l

    corpus_indices, char_to_idx, idx_to_char, vocab_size = d2l.load_data_time_machine()
    ctx = d2l.try_gpu()
    print('training on', ctx)
    num_hiddens, num_steps = 256, 35
    num_epochs, batch_size, lr, clipping_theta = 200, 32, 1e2, 1e-2
    pred_period, pred_len, prefixes = 50, 50, ['traveller', 'time traveller']
    model = d2l.RNNModel(rnn.RNN(num_hiddens), vocab_size)
    return d2l.train_and_predict_rnn_gluon(
        model, num_hiddens, vocab_size, ctx, corpus_indices, idx_to_char,
        char_to_idx, num_epochs, num_steps, lr, clipping_theta, batch_size,
        pred_period, pred_len, prefixes)


if __name__ == "__main__":
    main()
