"""The ``d2l-rnn`` command line: ``train`` and ``generate`` (also ``python -m d2l_rnn``).

:mod:`.main` parses the flags, :mod:`.commands` checks every input and runs
the command, :mod:`.run` is the resumable training run, :mod:`.plotting`
draws its perplexity curve, and :mod:`.demo` is ``make demo``.
"""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
