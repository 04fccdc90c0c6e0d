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

import numpy as np

__all__ = ["BadValue", "check_int", "check_positive_int", "check_count", "check_number",
           "check_fraction", "check_prefix", "check_ids"]


class BadValue(ValueError):
    """``NAME must be EXPECTED, got VALUE``; :attr:`expected` is the middle part."""

    def __init__(self, name, expected, value):
        super().__init__("%s must be %s, got %r" % (name, expected, value))
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


def check_number(name, value, low=0.0, inclusive=False):
    """Return ``value`` as a float if it is finite and > ``low`` (>= if ``inclusive``)."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value < low or (value == low and not inclusive)):
        raise BadValue(name, "a number %s %g" % (">=" if inclusive else ">", low), value)
    return float(value)


def check_fraction(name, value, low_inclusive=True, high_inclusive=False):
    """Return ``value`` as a float if it lies in [0, 1) (the bounds' kinds as given)."""
    expected = "a number in %s0, 1%s" % ("[" if low_inclusive else "(",
                                          "]" if high_inclusive else ")")
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or not 0 <= value <= 1
            or (value == 0 and not low_inclusive) or (value == 1 and not high_inclusive)):
        raise BadValue(name, expected, value)
    return float(value)


def check_prefix(prefix, char_to_idx):
    """Return the ids of ``prefix``; raise ValueError if it cannot be encoded.

    The error names every character that is missing from the vocabulary, so
    a user sees at once that, e.g., capitals were never in the training text.
    """
    if not isinstance(prefix, str) or not prefix:
        raise ValueError("prefix must be a non-empty string, got %r" % (prefix,))
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


def check_ids(name, value, vocab_size=None, char_to_idx=None):
    """Return ``value`` as a 1-D ``int64`` array of character ids.

    ``value`` is a text (``str``), encoded with ``char_to_idx``, or the ids
    themselves: a sequence or NumPy array of integers (or an MXNet array,
    whose ids are whole floats). With ``vocab_size`` every id must be below it.

    Raises
    ------
    TypeError
        For anything else, naming ``name`` and what it got (a ``str``
        without ``char_to_idx`` too: a text needs the vocabulary).
    ValueError
        For characters outside ``char_to_idx``, or ids outside the vocabulary.
    """
    if isinstance(value, str):
        if char_to_idx is None:
            raise TypeError("%s is a str: pass char_to_idx (the vocabulary the model was "
                            "trained with) to encode it, or pass the ids" % name)
        _unknown_characters(name, value, char_to_idx)
        return np.array([char_to_idx[c] for c in value], dtype=np.int64)
    if hasattr(value, "asnumpy"):  # an MXNet NDArray
        value = value.asnumpy()
    array = np.asarray(value) if isinstance(value, (list, tuple, range, np.ndarray)) else None
    if array is None or array.dtype.kind not in "iuf" or array.ndim != 1 or (
            array.dtype.kind == "f" and not (np.isfinite(array) & (array == np.round(array)))
            .all()):
        what = type(value).__name__ if array is None else "%s of %s, shape %s" % (
            type(value).__name__, array.dtype, array.shape)
        raise TypeError("%s must be a str (with char_to_idx) or a sequence of integer "
                        "character ids, got %s" % (name, what))
    ids = array.astype(np.int64)
    if len(ids) and (ids.min() < 0 or (vocab_size is not None and ids.max() >= vocab_size)):
        bad = ids.min() if ids.min() < 0 else ids.max()
        raise ValueError("%s has the id %d, outside the vocabulary (ids 0 to %s)"
                         % (name, bad, "?" if vocab_size is None else vocab_size - 1))
    return ids
