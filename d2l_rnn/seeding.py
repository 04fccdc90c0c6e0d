"""One call to make a run repeatable.

The samplers draw from Python's ``random``, parameter initialisation from
MXNet's generator, and user code often from NumPy's; all three are seeded.
"""

import random

import numpy as np

from ._compat import import_mxnet

__all__ = ["set_seed"]


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and MXNet's (every device's) generators."""
    random.seed(seed)
    np.random.seed(seed)
    import_mxnet().random.seed(seed)
