"""Argument checks: the one set used by the library and the command line.

A bad size must fail where it is passed, with a message that names it, not
deep inside MXNet or, worse, as a loop that silently runs zero times. Each
check raises :class:`BadValue`, a ``ValueError`` that also carries what was
expected, so the command line words the same check as ``expected a
positive integer, got 'x'`` without a second copy of the rule.

:func:`check_prefix` and :func:`check_ids` turn a text into character ids,
or say which characters the vocabulary lacks (and, for ``check_ids``, what
was passed when it is neither a text nor ids: a ``TypeError``).
"""

import math
import numbers
from collections.abc import Sequence

import numpy as np

__all__ = ["BadValue", "check_int", "check_positive_int", "check_count", "check_number",
           "check_fraction", "check_prefix", "check_prefixes", "check_ids", "is_finite_number"]


class BadValue(ValueError):
    """``NAME must be EXPECTED, got VALUE``; :attr:`expected` is the middle part."""

    def __init__(self, name, expected, value):
        shown = repr(value)  # a whole vocabulary passed by mistake is not printed
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        super().__init__("%s must be %s, got %s" % (name, expected, shown))
        self.expected = expected


def check_int(name, value, low=1, high=None):
    """Return ``value`` as an int if it is an integer in ``[low, high]`` (bools are not)."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low
            or (high is not None and value > high)):
        if high is not None:
            expected = "an integer from %d to %d" % (low, high)
        else:
            expected = "a positive integer" if low == 1 else "an integer >= %d" % low
        raise BadValue(name, expected, value)
    return int(value)


def check_positive_int(name, value, high=None):
    """Return ``value`` if it is an integer >= 1 (and <= ``high``)."""
    return check_int(name, value, 1, high)


def check_count(name, value, high=None):
    """Return ``value`` if it is an integer >= 0 (and <= ``high``)."""
    return check_int(name, value, 0, high)


def is_finite_number(value):
    """Whether ``value`` is a real number (not a bool) that a float holds, finite.

    An int too large for a float (``10**400``, as JSON may hold) is not: it
    would overflow wherever it is used as one.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def check_number(name, value, low=0.0, inclusive=False):
    """Return ``value`` as a float if it is finite and > ``low`` (>= if ``inclusive``)."""
    if (not is_finite_number(value) or value < low or (value == low and not inclusive)):
        raise BadValue(name, "a number %s %g" % (">=" if inclusive else ">", low), value)
    return float(value)


def check_fraction(name, value, low_inclusive=True, high_inclusive=False):
    """Return ``value`` as a float if it lies in [0, 1) (the bounds' kinds as given)."""
    expected = "a number in %s0, 1%s" % ("[" if low_inclusive else "(",
                                          "]" if high_inclusive else ")")
    if (not is_finite_number(value) or not 0 <= value <= 1
            or (value == 0 and not low_inclusive) or (value == 1 and not high_inclusive)):
        raise BadValue(name, expected, value)
    return float(value)


def check_prefixes(prefixes):
    """Return ``prefixes`` as a list if it is a sequence of strings (not a string itself)."""
    if isinstance(prefixes, str):
        raise ValueError("prefixes must be a list of strings, got the string %r, which would be "
                         "used one character at a time; pass [%r]" % (prefixes, prefixes))
    try:
        prefixes = list(prefixes)
    except TypeError:
        raise TypeError("prefixes must be a list of strings, got %r" % (prefixes,)) from None
    return prefixes


def check_prefix(prefix, char_to_idx):
    """Return the ids of ``prefix``; raise ValueError if it cannot be encoded.

    The error names every character that is missing from the vocabulary, so
    a user sees at once that, e.g., capitals were never in the training text.
    """
    if not isinstance(prefix, str) or not prefix:
        shown = repr(prefix)
        raise ValueError("prefix must be a non-empty string, got %s"
                         % (shown if len(shown) <= 80 else shown[:77] + "..."))
    unknown = sorted({c for c in prefix if c not in char_to_idx})
    if unknown:
        # The hint only where it is true: a lower-cased text (the chapter's, or --lower).
        hint = (" (the vocabulary is lower-case; try prefix.lower())"
                if any(c.isupper() for c in unknown)
                and not any(c.isupper() for c in char_to_idx) else "")
        raise ValueError(
            "prefix %r has characters that are not in the vocabulary: %s%s"
            % (prefix, ", ".join(repr(c) for c in unknown), hint))
    return [char_to_idx[c] for c in prefix]


def _unknown_characters(name, text, char_to_idx):
    unknown = sorted({c for c in text if c not in char_to_idx})
    if unknown:
        raise ValueError("%s has characters that are not in the vocabulary: %s"
                         % (name, ", ".join(repr(c) for c in unknown[:10])
                            + (", ..." if len(unknown) > 10 else "")))


def check_ids(name, ids, vocab_size=None, char_to_idx=None):
    """Return ``ids`` as a 1-D NumPy array of whole numbers in ``[0, vocab_size)``.

    ``ids`` is the ids themselves (a sequence, a NumPy array, an MXNet
    array) or a text (``str``) encoded with ``char_to_idx``. An integer
    array comes back without a copy (a corpus of a million ids is checked
    each epoch). Without ``vocab_size`` only ``>= 0`` is checked. A model
    does not check its input ids (that would cost a host sync per batch): an
    id past the vocabulary would silently become an all-zero one-hot row. So
    they are checked on the host, where they enter.

    Raises
    ------
    TypeError
        For anything that is neither a text nor a 1-D sequence of numbers,
        naming ``name`` and what it got (type, dtype, shape), and for a
        ``str`` without ``char_to_idx`` (a text needs the vocabulary).
    ValueError
        For characters outside ``char_to_idx``, numbers that are not whole,
        or ids outside the vocabulary.
    """
    if isinstance(ids, str):
        if char_to_idx is None:
            raise TypeError("%s is a str: pass char_to_idx (the vocabulary the model was "
                            "trained with) to encode it, or pass the ids" % name)
        _unknown_characters(name, ids, char_to_idx)
        return np.array([char_to_idx[c] for c in ids], dtype=np.int64)
    if hasattr(ids, "asnumpy"):  # an MXNet NDArray
        ids = ids.asnumpy()
    array = (np.asarray(ids) if isinstance(ids, (Sequence, np.ndarray))
             and not isinstance(ids, (bytes, bytearray)) else None)
    if array is None or array.dtype.kind not in "iuf" or array.ndim != 1:
        what = type(ids).__name__ if array is None else "%s of %s, shape %s" % (
            type(ids).__name__, array.dtype, array.shape)
        raise TypeError("%s must be a str (with char_to_idx) or a sequence of integer "
                        "character ids, got %s" % (name, what))
    if array.dtype.kind == "f" and not (np.isfinite(array) & (array == np.floor(array))).all():
        raise ValueError("%s must be ids (whole numbers), got an array of %s"
                         % (name, array.dtype))
    if array.size and (array.min() < 0 or vocab_size is not None and array.max() >= vocab_size):
        raise ValueError("%s must be ids from 0 to %s, got values from %s to %s"
                         % (name, "vocab_size - 1 = %d" % (vocab_size - 1)
                            if vocab_size is not None else "vocab_size - 1",
                            array.min(), array.max()))
    return array
