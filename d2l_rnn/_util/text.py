"""Text files read exactly as stored, and encoded into a compact array of ids.

A Python list of ints costs about 36 bytes per character (an 8-byte pointer
and, past 256, a 28-byte int object); the ``int32`` array :func:`encode`
returns costs 4. It is built a megabyte of text at a time from the
characters' code points, through a lookup table indexed by code point, so no
per-character Python object is ever made.
"""

import codecs
import os
from pathlib import Path

import numpy as np

__all__ = ["ShortTextError", "TextDecodeError", "read_text_file", "encode"]


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


def read_text_file(path, encoding="utf-8"):
    """Return the whole text of ``path``, exactly as stored (line breaks untranslated).

    Raises
    ------
    TypeError
        If ``path`` is not a str or os.PathLike.
    ValueError
        If ``path`` is missing, a directory or empty, or ``encoding`` is
        unknown; :class:`TextDecodeError` names the first byte it cannot decode.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError("path must be a str or os.PathLike, got %r" % (path,))
    path = Path(path)
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise ValueError("encoding %r is not one Python knows; try 'utf-8' or 'latin-1'"
                         % (encoding,)) from None
    if path.is_dir():
        raise ValueError("path %s is a directory, not a text file" % path)
    if not path.is_file():
        raise ValueError("path %s: no such file" % path)
    data = path.read_bytes()
    if not data:
        raise ValueError("path %s is empty" % path)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise TextDecodeError(path, encoding, err.start, data[err.start]) from None


_CHUNK = 1 << 20  # characters encoded at a time: bounds the temporary arrays
_CODE_POINTS = 0x110000


def _code_points(text):
    codes = np.empty(len(text), dtype=np.uint32)
    for start in range(0, len(text), _CHUNK):
        piece = text[start:start + _CHUNK].encode("utf-32-le", "surrogatepass")
        codes[start:start + _CHUNK] = np.frombuffer(piece, dtype=np.uint32)
    return codes


def encode(text, idx_to_char=None):
    """Return ``(corpus, idx_to_char)``: ``text`` as an ``int32`` array of vocabulary ids.

    Without ``idx_to_char`` the vocabulary is the text's characters in
    sorted order (as :func:`build_vocab` makes it); with one, every character
    must be in it, or ValueError names those that are not.
    """
    codes = _code_points(text)
    if idx_to_char is None:
        present = np.zeros(_CODE_POINTS, dtype=bool)
        present[codes] = True
        points = np.flatnonzero(present)
        idx_to_char = [chr(p) for p in points]
    else:
        points = np.array([ord(c) for c in idx_to_char], dtype=np.int64)
    table = np.full(_CODE_POINTS, -1, dtype=np.int32)
    table[points] = np.arange(len(points), dtype=np.int32)
    corpus, unknown = codes.view(np.int32), set()  # the ids overwrite the code points
    for start in range(0, len(codes), _CHUNK):
        ids = table[codes[start:start + _CHUNK]]
        if ids.min(initial=0) < 0:
            unknown.update(chr(c) for c in np.unique(codes[start:start + _CHUNK][ids < 0]))
        corpus[start:start + _CHUNK] = ids
    if unknown:
        shown = sorted(unknown)
        raise ValueError("the text has %d characters that are not in the vocabulary: %s%s"
                         % (len(shown), ", ".join(map(repr, shown[:20])),
                            ", ..." if len(shown) > 20 else ""))
    return corpus, list(idx_to_char)

