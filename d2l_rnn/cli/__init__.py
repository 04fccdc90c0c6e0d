"""The ``d2l-rnn`` command line: ``train``, ``generate`` and ``evaluate`` (``python -m d2l_rnn``).

:mod:`.main` parses the flags (:mod:`.options` holds the shared ones),
:mod:`.commands` checks every input and runs ``train``, :mod:`.use` runs
``generate`` and ``evaluate``, :mod:`.saving` checks the ``--save`` folder,
:mod:`.run` is the resumable training run, :mod:`.callbacks` its validation
judge and metrics file, :mod:`.plotting` draws its perplexity curve, and
:mod:`.demo` is ``make demo``.
"""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
