"""The *Time Machine* corpus (find it, fetch it if need be, encode it) and any other text.

The text ships with the package, so the usual path never touches the network.
It is looked for, in order: the ``data_dir`` the caller names; the copy inside
an installed wheel (``d2l_rnn/_data``); the ``data/`` folder of a source
checkout; the user cache directory. Only when none has it is the book's
mirror downloaded, checked against a known SHA-1 and written atomically, so
an interrupted or corrupt download can never replace a good file. A copy
in the cache is checked against the same SHA-1 whenever it is read: one that
differs is replaced by a fresh download.

:func:`load_corpus` encodes any text file, kept as it is, into a compact
NumPy array of ids, reading it in chunks (:mod:`d2l_rnn._util.text_file`).
"""

from __future__ import annotations

import hashlib
import numbers
import os
from pathlib import Path

from ._util.checks import check_positive_int
from ._util.download import fetch
from ._util.files import write_atomically
from ._util.hints import CharToIdx, IdxToChar, StrPath
from ._util.reading import RefusedFile, read_regular
from ._util.text import ShortTextError, TextDecodeError, encode
from ._util.text_file import load_corpus, read_text_file

__all__ = [
    "DATA_URL", "DATA_SHA1", "FILE_NAME", "ChecksumError", "ShortTextError", "cache_dir",
    "find_time_machine", "download_time_machine", "read_time_machine",
    "build_vocab", "load_data_time_machine", "TextDecodeError", "read_text_file",
    "encode", "chapter_text", "load_corpus",
]

DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt"
DATA_SHA1 = "090b5e7e70c295757f55df93cb0a180b9691891a"
FILE_NAME = "timemachine.txt"
MAX_BYTES = 16 * 2 ** 20  # the text is 174 KB; a download or a copy is read up to this

_PACKAGE_DIR = Path(__file__).resolve().parent


class ChecksumError(OSError):
    """A downloaded file does not have the expected SHA-1."""


def cache_dir():
    """Return the directory downloads go to.

    ``$D2L_RNN_CACHE`` wins, then ``$XDG_CACHE_HOME/d2l_rnn``, then
    ``~/.cache/d2l_rnn``.
    """
    if os.environ.get("D2L_RNN_CACHE"):
        return Path(os.environ["D2L_RNN_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "d2l_rnn"


def _candidates(data_dir):
    if data_dir is not None:
        return [Path(data_dir) / FILE_NAME]
    return [_PACKAGE_DIR / "_data" / FILE_NAME,          # installed wheel
            _PACKAGE_DIR.parent / "data" / FILE_NAME,    # source checkout
            cache_dir() / FILE_NAME]


def find_time_machine(data_dir=None):
    """Return the path of a local copy of the text, or None if there is none."""
    for path in _candidates(data_dir):
        if path.is_file():
            return path
    return None


def download_time_machine(data_dir=None, url=DATA_URL, sha1=DATA_SHA1,
                          timeout=30, deadline=300, max_bytes=MAX_BYTES):
    """Download the text into ``data_dir`` (default: :func:`cache_dir`).

    The bytes are hashed as they arrive and checked against ``sha1`` before
    anything is written, to a temporary file in the target directory that
    is then renamed over the target, so readers only ever see a complete,
    verified file. ``timeout`` bounds each connection attempt and read,
    ``deadline`` (seconds) and ``max_bytes`` the whole download.

    Returns
    -------
    pathlib.Path
        The path of the verified file.

    Raises
    ------
    ChecksumError
        If the downloaded bytes have another SHA-1 (both hashes are named).
    OSError
        If the server cannot be reached, answers with an HTTP error, is
        slower than ``deadline`` or sends more than ``max_bytes``.
    """
    target_dir = Path(data_dir) if data_dir is not None else cache_dir()
    try:
        body, got = fetch(url, timeout, deadline, max_bytes)
    except RuntimeError as err:
        raise OSError(
            "could not download %s (%s); copy %s into %s by hand, or pass "
            "data_dir= to a folder that has it" % (url, err, FILE_NAME, target_dir)
        ) from None
    if got != sha1:
        raise ChecksumError(
            "download from %s has SHA-1 %s, expected %s; nothing was written"
            % (url, got, sha1))
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / FILE_NAME
    write_atomically(target, body)
    return target


def _read_copy(path):
    """The bytes of a local copy: a regular file of at most MAX_BYTES (never a FIFO)."""
    try:
        return read_regular(path, MAX_BYTES)
    except RefusedFile as err:
        raise OSError("cannot read the text: %s" % err) from None
    except OSError as err:
        raise OSError("cannot read %s: %s" % (path, err.strerror or err)) from None


def read_time_machine(data_dir=None, url=DATA_URL):
    """Return the whole text as a string, downloading it only if no copy exists.

    A copy in the download cache (:func:`cache_dir`) must have the known
    SHA-1: one that differs (damaged, or replaced) is downloaded again.

    Raises OSError if the file cannot be read and ValueError if it is not UTF-8.
    """
    path = find_time_machine(data_dir)
    if path is None:
        path = download_time_machine(data_dir, url=url)
    data = _read_copy(path)
    if data_dir is None and path.parent == cache_dir() \
            and hashlib.sha1(data).hexdigest() != DATA_SHA1:
        path = download_time_machine(url=url)  # the cache is ours: replaced atomically
        data = _read_copy(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError("%s is not UTF-8 text (%s)" % (path, err.reason)) from None


def build_vocab(text):
    """Return ``(char_to_idx, idx_to_char)`` with characters in sorted order.

    Sorting (rather than iterating a ``set``, whose order depends on
    ``PYTHONHASHSEED``) gives each character the same id in every process,
    which saved parameters rely on.
    """
    idx_to_char = sorted(set(text))
    char_to_idx = {char: i for i, char in enumerate(idx_to_char)}
    return char_to_idx, idx_to_char


def chapter_text(text):
    """The chapter's preparation of a text: line breaks become spaces, letters lower-case."""
    return text.replace("\n", " ").replace("\r", " ").lower()


def load_data_time_machine(
        data_dir: StrPath | None = None, num_chars: int | None = 10000, *,
        url: str = DATA_URL) -> tuple[list[int], CharToIdx, IdxToChar, int]:
    """Load the first ``num_chars`` characters of *The Time Machine*, encoded.

    Line breaks become spaces and letters are lower-cased, as in the book.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Folder holding ``timemachine.txt`` (downloaded into it if absent).
        By default the copy shipped with the package is used.
    num_chars : int or None
        How many characters to keep; None keeps the whole book (178,979).
    url : str
        Where to download from when no local copy exists.

    Returns
    -------
    corpus_indices : list of int
        The text as vocabulary ids, ``len == num_chars``.

    Raises
    ------
    ShortTextError
        A ValueError: the text has fewer than ``num_chars`` characters.
    char_to_idx : dict
        Character to id.
    idx_to_char : list of str
        Id to character (sorted).
    vocab_size : int
        ``len(idx_to_char)``; 43 for the default ``num_chars``.
    """
    if isinstance(data_dir, numbers.Number):  # today's d2l.ai: (batch_size, num_steps)
        raise TypeError(
            "load_data_time_machine(%r, ...) looks like the current d2l.ai call "
            "load_data_time_machine(batch_size, num_steps); d2l_rnn follows the 2019 MXNet "
            "edition, where it takes (data_dir=None, num_chars=10000) and returns "
            "(corpus_indices, char_to_idx, idx_to_char, vocab_size): call "
            "load_data_time_machine() and pass batch_size and num_steps to "
            "data_iter_consecutive(corpus_indices, batch_size, num_steps)" % (data_dir,))
    if num_chars is not None:
        check_positive_int("num_chars", num_chars)
    text = chapter_text(read_time_machine(data_dir, url=url))
    if num_chars is not None:
        if len(text) < num_chars:
            raise ShortTextError(
                "num_chars=%d, but the text (%s) has only %d characters; ask for fewer, or "
                "pass num_chars=None for all of it" % (num_chars, find_time_machine(data_dir),
                                                       len(text)), len(text))
        text = text[:num_chars]
    char_to_idx, idx_to_char = build_vocab(text)
    corpus_indices = [char_to_idx[char] for char in text]
    return corpus_indices, char_to_idx, idx_to_char, len(idx_to_char)
