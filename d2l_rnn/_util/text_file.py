"""A text file read as a stream: checked before the first byte, decoded and encoded in chunks.

:func:`load_ids` reads a file twice, a chunk at a time: once to learn its
characters (the vocabulary) and how many there are, once to write their
ids into an array of exactly that size. Nothing else grows with the file,
so its memory is the array (1 or 2 bytes per character, see
:func:`~.text.id_dtype`) plus a few megabytes: at most about twice the
file's size. :func:`text_memory` says so before anything is read, and a file
the machine cannot hold is refused then. The file is opened as
:mod:`.reading` opens files: a FIFO or a device is refused, never waited on.
"""

from __future__ import annotations

import codecs
import os

import numpy as np

from .checks import check_positive_int
from .hints import CharToIdx, IdxToChar, StrPath
from .reading import RefusedFile, open_regular
from .setting_checks import memory_bytes
from .text import CHUNK, IdMap, TextDecodeError, check_encoding, code_points, vocabulary_of

__all__ = ["text_memory", "load_ids", "load_corpus", "read_text_file", "MAX_TEXT_BYTES"]

MAX_TEXT_BYTES = 1 << 46  # 64 TiB: past any disk; the machine's memory bounds it first
_READ = 1 << 20  # bytes read at a time
_OVERHEAD = 24 << 20  # the chunks, their code points and the lookup tables


def text_memory(size, num_chars=None):
    """Bytes of memory :func:`load_ids` may need for a file of ``size`` bytes.

    At most one character per byte (every encoding but UTF-16 and UTF-32
    takes at least one byte per character; those take more), at most 2
    bytes per id (4 for a vocabulary past 65,536 characters, which no
    checkpoint can hold), and the chunks being decoded.
    """
    chars = size if num_chars is None else min(size, num_chars)
    return 2 * chars + _OVERHEAD


def _check_path(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError("path must be a str or os.PathLike, got %r" % (path,))
    if os.path.isdir(path):
        raise ValueError("path %s is a directory, not a text file" % path)
    if not os.path.lexists(path):
        raise ValueError("path %s: no such file" % path)


def _open(path, num_chars, memory):
    try:
        fd, size = open_regular(path, MAX_TEXT_BYTES)
    except RefusedFile as err:
        raise ValueError("path %s %s" % (path, err.why)) from None
    if size == 0:
        os.close(fd)
        raise ValueError("path %s is empty" % path)
    need = text_memory(size, num_chars)
    if memory is not None and need > memory:
        os.close(fd)
        raise ValueError(
            "path %s is %.3g GB; reading it takes up to %.3g GB of memory (2 bytes per "
            "character), more than this machine's %.3g GB; use a part of it (num_chars)"
            % (path, size / 1e9, need / 1e9, memory / 1e9))
    return fd


def _boundary(text):
    """Where to cut decoded text so that lower-casing each piece equals lower-casing the whole.

    Only the Greek capital sigma lower-cases by context (final or not); a
    space or a line break ends its context, so pieces are cut after one.
    """
    cut = max(text.rfind(" "), text.rfind("\n")) + 1
    return cut or len(text)


def _chunks(fd, path, encoding, transform):
    """Yield the decoded (and transformed) text of the file from its start, piece by piece."""
    os.lseek(fd, 0, os.SEEK_SET)
    decoder, consumed, carry = codecs.getincrementaldecoder(encoding)("strict"), 0, ""
    while True:
        data = os.read(fd, _READ)
        buffered = decoder.getstate()[0]
        try:
            text = carry + decoder.decode(data, final=not data)
        except UnicodeDecodeError as err:
            offset = consumed - len(buffered) + err.start
            raise TextDecodeError(path, encoding, offset, (buffered + data)[err.start]) \
                from None
        except UnicodeError as err:  # codecs such as 'undefined' and 'idna'
            raise ValueError("path %s cannot be decoded as %s (%s); name the file's encoding"
                             % (path, encoding, err)) from None
        consumed += len(data)
        cut = _boundary(text) if transform is not None and data else len(text)
        piece, carry = text[:cut], text[cut:]
        if piece:
            yield piece if transform is None else transform(piece)
        if not data:
            return


def _pieces(fd, path, encoding, transform, num_chars):
    """Yield code point arrays of the text, at most ``num_chars`` code points in all."""
    left = num_chars
    for piece in _chunks(fd, path, encoding, transform):
        for start in range(0, len(piece), CHUNK):
            part = piece[start:start + CHUNK]
            if left is not None:
                part, left = part[:left], left - len(part[:left])
            yield code_points(part)
            if left == 0:
                return


def load_ids(path, encoding="utf-8", transform=None, num_chars=None, idx_to_char=None,
             memory=None):
    """Return ``(corpus, idx_to_char)`` for the text file ``path``, read in chunks.

    ``transform`` (e.g. ``str.lower``) is applied to each piece of text;
    ``num_chars`` keeps the first characters (after it); without
    ``idx_to_char`` the vocabulary is the text's characters, sorted.
    ``memory`` is what the machine can hold (bytes; None: no bound).

    Raises
    ------
    TypeError
        If ``path`` is not a str or os.PathLike.
    ValueError
        For a missing, empty or non-regular file (a FIFO, a device, a
        directory), an encoding that is not a text encoding, a file larger
        than ``memory`` allows, characters outside ``idx_to_char`` (named);
        :class:`TextDecodeError` names the first byte that cannot be decoded.
    """
    _check_path(path)
    check_encoding(encoding)
    fd = _open(path, num_chars, memory)
    try:
        count, present = 0, np.zeros(0x110000, dtype=bool)
        for codes in _pieces(fd, path, encoding, transform, num_chars):
            count += len(codes)
            if idx_to_char is None:
                present[codes] = True
        if count == 0:
            raise ValueError("path %s holds no text" % path)
        mapping = IdMap(vocabulary_of(present) if idx_to_char is None else idx_to_char)
        del present
        corpus, filled = np.empty(count, dtype=mapping.dtype), 0
        for codes in _pieces(fd, path, encoding, transform, count):
            corpus[filled:filled + len(codes)] = mapping.ids(codes)
            filled += len(codes)
    finally:
        os.close(fd)
    if filled != count:
        raise ValueError("path %s changed while it was read; read it again" % path)
    mapping.check()
    return corpus, mapping.idx_to_char


def read_text_file(path, encoding="utf-8"):
    """Return the whole text of ``path``, exactly as stored (line breaks untranslated).

    Checked as :func:`load_ids` checks a file (the same errors).
    """
    _check_path(path)
    check_encoding(encoding)
    fd = _open(path, None, None)
    try:
        return "".join(_chunks(fd, path, encoding, None))
    finally:
        os.close(fd)


def load_corpus(path: StrPath, *, lower: bool = False, num_chars: int | None = None,
                encoding: str = "utf-8") -> tuple[np.ndarray, CharToIdx, IdxToChar, int]:
    """Load any text file, encoded: the same 4-tuple as :func:`load_data_time_machine`.

    The text is kept as it is, case and line breaks included.

    Parameters
    ----------
    path : str or os.PathLike
        A text file.
    lower : bool
        Lower-case the text first.
    num_chars : int or None
        Keep only the first ``num_chars`` characters; None keeps them all.
    encoding : str
        How the file's bytes are decoded.

    Returns
    -------
    corpus_indices : numpy.ndarray of uint8, uint16 or int32
        The text as vocabulary ids: 1 byte per character for up to 256
        distinct characters, 2 up to 65,536, 4 beyond.
    char_to_idx : dict
    idx_to_char : list of str
        The characters of the text, sorted.
    vocab_size : int

    Raises
    ------
    TypeError, ValueError
        As :func:`read_text_file` (a FIFO, a device or a directory is refused
        before anything is read), for a text encoding Python does not know
        (or a codec such as ``base64`` that is not one), for a ``num_chars``
        that is not a positive integer, and for a file larger than this
        machine's memory can hold as ids (about 2 bytes per byte of file:
        the message says how much it would take).

    The file is read in chunks, twice: the memory it takes is the returned
    array plus a few megabytes, never the text as a string.
    """
    if num_chars is not None:
        check_positive_int("num_chars", num_chars)
    corpus, idx_to_char = load_ids(path, encoding, str.lower if lower else None, num_chars,
                                   memory=memory_bytes())
    return corpus, {c: i for i, c in enumerate(idx_to_char)}, idx_to_char, len(idx_to_char)
