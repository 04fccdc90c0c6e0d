"""A text put into another vocabulary: ids translated, characters outside it named.

A run that starts from a trained checkpoint (fine-tuning) keeps the model's
vocabulary and ids. :func:`to_vocabulary` translates a text encoded with its
own vocabulary into the model's in one table lookup, or raises
:class:`ForeignCharacterError` naming the characters the model lacks, with
the hint that would help where one does: lower-casing the text (every
character outside is an upper-case letter the model has in lower case), or
another encoding (the file's first megabyte, decoded so, holds only the
vocabulary's characters: it was read with the wrong one).
"""

from __future__ import annotations

import codecs
import os

import numpy as np

from .reading import RefusedFile, open_regular
from .text import id_dtype

__all__ = ["ForeignCharacterError", "to_vocabulary", "ENCODINGS_TRIED"]

# Encodings a mis-decoded file is tried with, in this order: UTF-8 (with and
# without a byte order mark), UTF-16, and common 8-bit Western and Cyrillic ones.
ENCODINGS_TRIED = ("utf-8", "utf-8-sig", "utf-16", "cp1252", "cp1251", "koi8-r")
_SAMPLE = 1 << 20  # bytes of the file read to find an encoding that fits
_SHOWN = 5  # characters named in the message


def _name(c):
    return "%r (U+%04X)" % (c, ord(c))


class ForeignCharacterError(ValueError):
    """Characters of a text that are not in the model's vocabulary.

    Attributes
    ----------
    characters : list of str
        All of them, in code point order.
    text : str
        What the text is called (its path, or The Time Machine).
    vocab_size : int
    owner : str or None
        Whose vocabulary it is (a checkpoint's path), for the message.
    lower : bool
        Whether lower-casing the text would put every one of them in it.
    encoding : str or None
        An encoding that reads the file's start with the vocabulary's characters only.
    """

    def __init__(self, characters, text, vocab_size, lower=False, encoding=None, owner=None):
        self.characters, self.text, self.vocab_size = list(characters), str(text), vocab_size
        self.lower, self.encoding, self.owner = lower, encoding, owner
        super().__init__(self.describe())

    def describe(self, flags=False):
        """The message; ``flags``: hints as command-line flags (``--lower``), else arguments."""
        names, more = [_name(c) for c in self.characters[:_SHOWN]], len(self.characters) - _SHOWN
        last = "%d more" % more if more > 0 else names.pop() if len(names) > 1 else None
        listed = ", ".join(names) + (" and " + last if last else "")
        whose = "the vocabulary of %s" % self.owner if self.owner else "the model's vocabulary"
        verb = "is" if len(self.characters) == 1 else "are"
        line = ("%s in %s %s not in %s (%d characters); the model keeps its vocabulary: use a "
                "text without %s" % (listed, self.text, verb, whose, self.vocab_size,
                                     "it" if len(self.characters) == 1 else "them"))
        if self.lower:
            line += ", or pass %s (lower-cased, every character is in it)" % (
                "--lower" if flags else "lower=True")
        if self.encoding:
            line += "; the file looks mis-decoded: %s reads its start with the vocabulary's " \
                    "characters only" % ("--encoding %s" % self.encoding if flags
                                         else "encoding=%r" % self.encoding)
        return line

    def naming(self, owner, text=None):
        """The same error, saying whose vocabulary it is (and calling the text ``text``)."""
        return ForeignCharacterError(self.characters, text or self.text, self.vocab_size,
                                     self.lower, self.encoding, owner)


def _lower_fits(characters, known):
    return all(c.lower() != c and set(c.lower()) <= known for c in characters)


def _decoded_start(path, encoding):
    """The text of the file's first bytes in ``encoding``, or None if they do not decode."""
    try:
        fd, _ = open_regular(path, 1 << 62)
    except (RefusedFile, OSError):
        return None
    try:
        data = os.read(fd, _SAMPLE)
    finally:
        os.close(fd)
    try:  # not final: a character cut at the sample's end is no error
        return codecs.getincrementaldecoder(encoding)("strict").decode(data, final=False)
    except (UnicodeError, LookupError):
        return None


def _encoding_that_fits(path, encoding, known, lower):
    """An encoding of :data:`ENCODINGS_TRIED` that reads the file's start with ``known``
    characters only, where ``encoding`` does not; else None."""
    def fits(name):
        text = _decoded_start(path, name)
        if text is None:
            return None
        return set(text.lower() if lower else text) <= known
    used = codecs.lookup(encoding).name
    if fits(encoding) is not False:  # the start alone does not show the mistake
        return None
    return next((name for name in ENCODINGS_TRIED
                 if codecs.lookup(name).name != used and fits(name)), None)


def to_vocabulary(corpus, text_vocab, idx_to_char, name, path=None, encoding="utf-8",
                  lower=False):
    """``corpus`` (ids of ``text_vocab``) as ids of ``idx_to_char``.

    ``path``, ``encoding`` and ``lower`` say how the text was read (for the
    hints; ``path`` None: not from a file).

    Raises
    ------
    ForeignCharacterError
        If the text has characters ``idx_to_char`` lacks.
    """
    index = {c: i for i, c in enumerate(idx_to_char)}
    missing = sorted((c for c in text_vocab if c not in index), key=ord)
    if missing:
        known = set(index)
        raise ForeignCharacterError(
            missing, name, len(idx_to_char), lower=not lower and _lower_fits(missing, known),
            encoding=None if path is None else _encoding_that_fits(path, encoding, known, lower))
    table = np.array([index[c] for c in text_vocab], dtype=id_dtype(len(idx_to_char)))
    return table[corpus if isinstance(corpus, np.ndarray) else np.asarray(corpus)]
