"""MXNet's error messages, cut to the line that says what went wrong.

An ``MXNetError`` reads ``Traceback (most recent call last):``, then C++
source locations, then the message itself (``MXNetError: Check failed:
...``). Its first line says nothing, so every one-line report takes the
message line instead.
"""

__all__ = ["mxnet_message"]

_NOISE = ("Traceback (most recent call last)", "File \"", "[bt]", "Stack trace")


def mxnet_message(err):
    """Return the useful line of an MXNet error (``Check failed: ...``), without a prefix."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("MXNetError:"):
            return line[len("MXNetError:"):].strip()
    useful = [line for line in lines if not line.startswith(_NOISE)]
    return useful[0] if useful else (lines[0] if lines else type(err).__name__)
