"""``python -m d2l_rnn``: the ``d2l-rnn`` command line (see :mod:`d2l_rnn.cli`)."""

import sys

from .cli import main

__all__ = []

if __name__ == "__main__":
    sys.exit(main())
