"""The ``d2l-rnn`` command line: ``train``, ``generate`` and ``evaluate`` (``python -m d2l_rnn``).

:mod:`.main` parses the flags (:mod:`.options` holds the shared ones),
:mod:`.commands` checks every input and runs ``train`` (the training run
itself is the library's, :mod:`d2l_rnn.run`), :mod:`.use` runs ``generate``
and ``evaluate``, :mod:`.saving` picks the ``--save`` folder,
:mod:`.plotting` draws the perplexity curve, and :mod:`.demo` is ``make demo``.
"""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
