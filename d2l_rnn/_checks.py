"""Argument checks shared by the public functions.

Bad sizes must fail at the call with a message that names the argument,
not deep inside MXNet or, worse, as a loop that silently runs zero times.
"""

import numbers

__all__ = ["check_positive_int", "check_prefix"]


def check_positive_int(name, value):
    """Return ``value`` if it is an integer >= 1, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError("%s must be a positive integer, got %r" % (name, value))
    if value < 1:
        raise ValueError("%s must be a positive integer, got %r" % (name, value))
    return int(value)


def check_prefix(prefix, char_to_idx):
    """Return the ids of ``prefix``; raise ValueError if it cannot be encoded.

    The error names every character that is missing from the vocabulary, so
    a user sees at once that, e.g., capitals were never in the training text.
    """
    if not isinstance(prefix, str) or not prefix:
        raise ValueError("prefix must be a non-empty string, got %r" % (prefix,))
    unknown = sorted({c for c in prefix if c not in char_to_idx})
    if unknown:
        raise ValueError(
            "prefix %r has characters that are not in the vocabulary: %s "
            "(the vocabulary is lower-case; try prefix.lower())"
            % (prefix, ", ".join(repr(c) for c in unknown)))
    return [char_to_idx[c] for c in prefix]
