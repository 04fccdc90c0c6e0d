"""Text encoded into a compact array of ids, and the checks of a text's encoding.

A Python list of ints costs about 36 bytes per character (an 8-byte pointer
and, past 256, a 28-byte int object). The arrays here take 1 byte per
character for a vocabulary of up to 256 characters, 2 up to 65,536 (the most
a checkpoint holds) and 4 beyond (:func:`id_dtype`). They are built a chunk
of text at a time from the characters' code points, through a lookup table
indexed by code point, so no per-character Python object is ever made.
Files are read in chunks too (:mod:`.text_file`).
"""

import codecs

import numpy as np

__all__ = ["ShortTextError", "TextDecodeError", "check_encoding", "id_dtype", "code_points",
           "IdMap", "encode"]


class ShortTextError(ValueError):
    """The text has fewer characters than asked for; :attr:`available` says how many."""

    def __init__(self, message, available):
        super().__init__(message)
        self.available = available


class TextDecodeError(ValueError):
    """A text file holds bytes its encoding cannot decode; :attr:`offset` is the first."""

    def __init__(self, path, encoding, offset, byte):
        super().__init__(
            "path %s is not valid %s: byte 0x%02x at offset %d cannot be decoded; name the "
            "file's encoding (e.g. encoding='latin-1')" % (path, encoding, byte, offset))
        self.path, self.encoding, self.offset, self.byte = path, encoding, offset, byte


def check_encoding(encoding, name="encoding"):
    """Return ``encoding`` if it is a text encoding Python knows; else raise ValueError.

    Python's codec registry also holds bytes-to-bytes and str-to-str codecs
    (``base64``, ``hex``, ``zlib``, ``rot13``), which cannot decode a file into
    text: they are refused here, by name, with the rest.
    """
    try:
        info = codecs.lookup(encoding)
    except (LookupError, TypeError, ValueError):
        raise ValueError("%s %r is not one Python knows; try 'utf-8' or 'latin-1'"
                         % (name, encoding)) from None
    if not getattr(info, "_is_text_encoding", True):
        raise ValueError("%s %r is not a text encoding (it turns bytes into bytes or text "
                         "into text); try 'utf-8' or 'latin-1'" % (name, encoding))
    return encoding


def id_dtype(vocab_size):
    """The smallest NumPy integer type that holds ids ``0 .. vocab_size - 1``."""
    if vocab_size <= 1 << 8:
        return np.dtype(np.uint8)
    return np.dtype(np.uint16) if vocab_size <= 1 << 16 else np.dtype(np.int32)


CHUNK = 1 << 18  # characters encoded at a time: bounds the temporary arrays
_CODE_POINTS = 0x110000


def code_points(text):
    """The code points of ``text`` (a str) as a ``uint32`` array."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


class IdMap:
    """Map code points to the ids of ``idx_to_char``, chunk by chunk, noting unknown ones."""

    def __init__(self, idx_to_char):
        self.idx_to_char = list(idx_to_char)
        points = np.array([ord(c) for c in self.idx_to_char], dtype=np.int64)
        self.table = np.full(int(points.max(initial=0)) + 1, -1, dtype=np.int32)
        self.table[points] = np.arange(len(points), dtype=np.int32)
        self.dtype, self.unknown = id_dtype(len(points)), set()

    def ids(self, codes):
        """The ids of ``codes`` (unknown code points are noted and given id 0)."""
        inside = codes < len(self.table)
        ids = self.table[np.where(inside, codes, 0)]
        bad = ~inside | (ids < 0)
        if bad.any():
            self.unknown.update(chr(c) for c in np.unique(codes[bad]))
            ids[bad] = 0
        return ids.astype(self.dtype, copy=False)

    def check(self):
        """Raise ValueError naming the characters that were not in the vocabulary."""
        if self.unknown:
            shown = sorted(self.unknown)
            raise ValueError("the text has %d %s not in the vocabulary: %s%s" % (
                len(shown), "character that is" if len(shown) == 1 else "characters that are",
                ", ".join(map(repr, shown[:20])), ", ..." if len(shown) > 20 else ""))


def vocabulary_of(present):
    """The sorted vocabulary of a boolean array indexed by code point."""
    return [chr(p) for p in np.flatnonzero(present)]


def encode(text, idx_to_char=None):
    """Return ``(corpus, idx_to_char)``: ``text`` as an array of vocabulary ids.

    Without ``idx_to_char`` the vocabulary is the text's characters in
    sorted order (as :func:`build_vocab` makes it); with one, every character
    must be in it, or ValueError names those that are not. The ids are of
    :func:`id_dtype` of the vocabulary's size (``uint8`` up to 256 characters).
    """
    if idx_to_char is None:
        present = np.zeros(_CODE_POINTS, dtype=bool)
        for start in range(0, len(text), CHUNK):
            present[code_points(text[start:start + CHUNK])] = True
        idx_to_char = vocabulary_of(present)
    mapping = IdMap(idx_to_char)
    corpus = np.empty(len(text), dtype=mapping.dtype)
    for start in range(0, len(text), CHUNK):
        corpus[start:start + CHUNK] = mapping.ids(code_points(text[start:start + CHUNK]))
    mapping.check()
    return corpus, mapping.idx_to_char
