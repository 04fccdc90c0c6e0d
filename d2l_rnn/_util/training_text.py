"""The text a training run reads: its training part, its held-out part, and its vocabulary.

(Named in :mod:`d2l_rnn.settings` too, beside the settings that select it.)

:func:`load_text` reads what :class:`~d2l_rnn.settings.TrainSettings` name
(*The Time Machine* as the chapter loads it, or a text file of one's own),
holds the end out for validation and checks that the rest fills a batch.
Its vocabulary is the text's own, or, for a run that starts from a trained
model (fine-tuning), the model's: the text is put into it
(:func:`.foreign.to_vocabulary`), and a character outside it
is named.
"""

import dataclasses

from ..data import ShortTextError, load_corpus, load_data_time_machine
from ..samplers import min_corpus_length
from .checks import check_prefix
from .foreign import ForeignCharacterError, to_vocabulary

__all__ = ["Text", "load_text", "ForeignCharacterError"]


@dataclasses.dataclass
class Text:
    """The training text, the held-out text after it (lists for *The Time Machine*, as the
    chapter's loader returns them, ``int32`` arrays for a file), and the vocabulary."""

    train: object
    val: object
    char_to_idx: dict
    idx_to_char: list

    @property
    def vocab_size(self):
        return len(self.idx_to_char)

    def opening(self, length=16):
        """The start of the training text's first non-blank line: a prefix it can encode."""
        start = "".join(self.idx_to_char[i] for i in self.train[:500])
        line = next((ln.strip() for ln in start.splitlines() if ln.strip()), "")
        return line[:length] or start[:1]


def _read(settings, data_dir, vocabulary=None):
    """The text to split, its vocabulary (``vocabulary`` if given), and what to call it."""
    s = settings
    if s.data is None:
        wanted, name = s.num_chars + s.val_chars, "The Time Machine"
        try:
            corpus, char_to_idx, idx_to_char, _ = load_data_time_machine(data_dir,
                                                                         num_chars=wanted)
        except ShortTextError as err:
            raise ValueError("num_chars + val_chars = %d, but %s has only %d characters"
                             % (wanted, name, err.available)) from None
    else:
        wanted, name = None if s.num_chars is None else s.num_chars + s.val_chars, s.data
        corpus, char_to_idx, idx_to_char, _ = load_corpus(
            s.data, lower=s.lower, num_chars=wanted, encoding=s.encoding)
    if wanted is not None and len(corpus) < wanted:
        raise ValueError("num_chars + val_chars = %d, but %s has only %d characters"
                         % (wanted, name, len(corpus)))
    if vocabulary is not None and list(vocabulary) != list(idx_to_char):
        corpus = to_vocabulary(corpus, idx_to_char, vocabulary, name, s.data, s.encoding,
                               s.lower)
        idx_to_char = list(vocabulary)
        char_to_idx = {c: i for i, c in enumerate(idx_to_char)}
    return corpus, char_to_idx, idx_to_char, name


def load_text(settings, data_dir=None, idx_to_char=None):
    """Load the text, hold out its validation part, check it is long enough and the prefixes.

    The vocabulary covers both parts, so every held-out character has an id:
    the text's characters, sorted, or ``idx_to_char`` (a trained model's).

    Raises
    ------
    ValueError
        If the text is shorter than asked for or too short for one batch
        plus validation, a prefix has characters the vocabulary lacks (they
        are named), or (with ``data``) the file cannot be read as text;
        :class:`ForeignCharacterError` for characters ``idx_to_char`` lacks.
    TypeError
        For a ``data`` that is not a path.
    """
    s = settings
    corpus, char_to_idx, idx_to_char, name = _read(s, data_dir, idx_to_char)
    held_out = s.val_chars or int(round(s.val_frac * len(corpus)))
    if s.val_frac and held_out < 2:  # one character predicts nothing
        raise ValueError("val_frac=%g of %s's %d characters holds out %d; validation needs "
                         "at least 2" % (s.val_frac, name, len(corpus), held_out))
    train = corpus[:len(corpus) - held_out]
    needed = min_corpus_length(s.batch_size, s.num_steps, s.sampler)
    if len(train) < needed:
        raise ValueError(
            "%s has %d characters; holding out %d for validation leaves %d to train on, but "
            "batch_size=%d, num_steps=%d need at least %d with the %s sampler; use a longer "
            "text or a smaller batch_size or num_steps" % (
                name, len(corpus), held_out, len(train), s.batch_size, s.num_steps, needed,
                s.sampler))
    for prefix in s.prefixes:
        check_prefix(prefix, char_to_idx)
    return Text(train, corpus[len(train):], char_to_idx, idx_to_char)
