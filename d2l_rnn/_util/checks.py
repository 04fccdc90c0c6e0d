"""Argument checks: the one set used by the library and the command line.

A bad size must fail where it is passed, with a message that names it, not
deep inside MXNet or, worse, as a loop that silently runs zero times. Each
check raises :class:`BadValue`, a ``ValueError`` that also carries what was
expected, so the command line words the same check as ``expected a
positive integer, got 'x'`` without a second copy of the rule.
"""

import math
import numbers

__all__ = ["BadValue", "check_int", "check_positive_int", "check_count", "check_number",
           "check_fraction", "check_prefix", "is_finite_number"]


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
