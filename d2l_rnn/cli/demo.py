"""``python -m d2l_rnn.cli.demo`` (``make demo``): the chapter's training run, on ``try_gpu()``.

Trains a 256-unit ReLU RNN on the first 10,000 characters of *The Time
Machine* with the chapter's hyperparameters (the defaults of
:class:`~d2l_rnn.settings.TrainSettings`) through the chapter's own function,
``train_and_predict_rnn_gluon``, and prints its lines.
"""

__all__ = ["main"]


def main():
    """Run chapter 6.6's training with its hyperparameters; return the history."""
    from mxnet.gluon import rnn

    import d2l_rnn as d2l
    from d2l_rnn.settings import TrainSettings

    s = TrainSettings()
    d2l.set_seed(s.seed)  # the command line's default seed: the same run twice
    corpus_indices, char_to_idx, idx_to_char, vocab_size = d2l.load_data_time_machine(
        num_chars=s.num_chars)
    ctx = d2l.try_gpu()
    print('training on', ctx)
    model = d2l.RNNModel(rnn.RNN(s.num_hiddens), vocab_size)
    return d2l.train_and_predict_rnn_gluon(
        model, s.num_hiddens, vocab_size, ctx, corpus_indices, idx_to_char, char_to_idx,
        **s.chapter_args())


if __name__ == "__main__":
    main()
