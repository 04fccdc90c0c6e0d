"""Metadata hook: ``requires-python`` from d2l_rnn, and an early, clear refusal.

The supported range (Python 3.8 to 3.13) lives in ``d2l_rnn/_compat.py``;
this hook copies it into the package metadata. It also stops an install on
an unsupported Python at its first step, with d2l_rnn's own message: pip
checks ``requires-python`` only while it resolves the dependencies, after
it may have spent minutes on them. Hatchling runs this hook when pip asks
for the metadata, before anything else is fetched or built.
"""

import runpy
from pathlib import Path

from hatchling.metadata.plugin.interface import MetadataHookInterface

__all__ = ["CheckPython"]


class CheckPython(MetadataHookInterface):
    """Set ``requires-python``; refuse, saying why, to build for this Python."""

    def update(self, metadata):
        compat = runpy.run_path(str(Path(self.root) / "d2l_rnn" / "_compat.py"))
        try:
            compat["check_python"]()
        except ImportError as err:
            raise SystemExit("error: %s" % err) from None
        metadata["requires-python"] = compat["requires_python"]()
