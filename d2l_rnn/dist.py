"""Deprecated: the old name of :mod:`d2l_rnn.distributed` (renamed in 0.2, removed in 0.3).

A folder called ``dist/`` reads as build output to packaging tools and many
others, so the distributed code moved to ``d2l_rnn/distributed/``. This module
(a file, not a folder) keeps ``import d2l_rnn.dist.local`` and ``python -m
d2l_rnn.dist.local`` working for one release, with a DeprecationWarning. An
old submodule name gives the new module itself, not a copy, so their state is
shared; ``python -m`` runs the new module's code.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

from . import distributed as _distributed

warnings.warn("d2l_rnn.dist was renamed d2l_rnn.distributed; import that (and run `python -m "
              "d2l_rnn.distributed.local`) instead: the old name goes away in 0.3",
              DeprecationWarning, stacklevel=2)

_OLD, _NEW = __name__ + ".", _distributed.__name__ + "."


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``d2l_rnn.dist.X`` as the module ``d2l_rnn.distributed.X``."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(_OLD) or "." in fullname[len(_OLD):]:
            return None
        if importlib.util.find_spec(_NEW + fullname[len(_OLD):]) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(_NEW + spec.name[len(_OLD):])
        spec.loader_state = module.__spec__  # the import system overwrites it: put it back
        return module

    def exec_module(self, module):
        # The new module ran when create_module imported it.
        module.__spec__ = module.__spec__.loader_state

    def get_code(self, fullname):  # what `python -m d2l_rnn.dist.X` runs
        new = _NEW + fullname[len(_OLD):]
        spec = importlib.util.find_spec(new)
        return spec.loader.get_code(new)


if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
    sys.meta_path.append(_Alias())

# A module with __path__ is a package to the import system, so `d2l_rnn.dist.local`
# is looked up (by the finder above) instead of failing with "not a package".
__path__: list = []
