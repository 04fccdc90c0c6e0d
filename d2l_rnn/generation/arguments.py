"""The checks of what generation is given, where its ids enter from the host.

The model never checks its inputs (a check on the device would cost a host
sync per step): an id past its vocabulary becomes an all-zero one-hot row,
or, in the fast NumPy step, an IndexError. So the ids are checked here, once
per call, before the first step: the prefix's characters must be in
``char_to_idx``, whose ids must agree with ``idx_to_char`` and lie below
the model's ``vocab_size``. ``generate`` and ``predict_rnn_gluon`` differ in
argument order; a call with the other's order is named as such.
"""

import numbers
from collections.abc import Mapping, Sequence

from .._compat import import_mxnet
from .._util.checks import check_prefix

__all__ = ["check_context", "prefix_ids"]


def check_context(ctx, function):
    """Raise TypeError unless ``ctx`` is an mxnet context (a hint if it looks like a size)."""
    if isinstance(ctx, import_mxnet().Context):
        return ctx
    hint = ""
    if isinstance(ctx, numbers.Integral) and function == "generate":
        hint = ("; generate takes (prefix, num_chars, model, ctx, idx_to_char, char_to_idx, "
                "temperature, ...): unlike predict_rnn_gluon it has no vocab_size argument")
    raise TypeError("ctx must be an mxnet context such as mx.cpu() or d2l.try_gpu(), got %s%s"
                    % (_short(ctx), hint))


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_vocabulary(idx_to_char, char_to_idx, model):
    if isinstance(idx_to_char, str) or not isinstance(idx_to_char, Sequence):
        raise TypeError("idx_to_char must be a list of characters, got %s" % _short(idx_to_char))
    if not isinstance(char_to_idx, Mapping):
        raise TypeError("char_to_idx must be a dict from characters to ids, got %s"
                        % _short(char_to_idx))
    vocab_size = getattr(model, "vocab_size", None)
    if isinstance(vocab_size, int) and len(idx_to_char) != vocab_size:
        raise ValueError("idx_to_char has %d characters but the model's vocab_size is %d; pass "
                         "the vocabulary the model was trained with"
                         % (len(idx_to_char), vocab_size))


def prefix_ids(prefix, model, idx_to_char, char_to_idx):
    """The ids of ``prefix``, each checked against ``idx_to_char`` and the model's vocabulary.

    Raises
    ------
    ValueError
        For an empty prefix, characters outside ``char_to_idx`` (named), an
        id that ``idx_to_char`` does not map back to its character, or a
        vocabulary of another size than the model's.
    TypeError
        For an ``idx_to_char`` or ``char_to_idx`` of the wrong kind.
    """
    _check_vocabulary(idx_to_char, char_to_idx, model)
    ids = check_prefix(prefix, char_to_idx)
    for char, i in zip(prefix, ids):
        if (isinstance(i, bool) or not isinstance(i, numbers.Integral)
                or not 0 <= i < len(idx_to_char) or idx_to_char[i] != char):
            shown = idx_to_char[i] if isinstance(i, numbers.Integral) \
                and 0 <= i < len(idx_to_char) else "out of range"
            raise ValueError(
                "char_to_idx disagrees with idx_to_char: char_to_idx[%r] is %r, but "
                "idx_to_char[%r] is %s; pass the pair that load_data_time_machine (or the "
                "checkpoint) returned" % (char, i, i, shown if shown == "out of range"
                                          else repr(shown)))
    return [int(i) for i in ids]
