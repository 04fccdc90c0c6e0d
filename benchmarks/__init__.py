"""Benchmarks, run from a source checkout (not part of the installed library).

``make bench`` runs :mod:`benchmarks.speed` (chapter 6.6's exercise: how fast
is each way of training the chapter's model, each row in a process of its
own) and :mod:`benchmarks.generation` (characters per second, generating);
``make bench-dist`` runs ``benchmarks/bench_dist.py`` (data-parallel scaling).

Importing this package sets the thread settings every benchmark process runs
with (:data:`THREAD_SETTINGS`), unless the environment already sets them.
OpenMP reads them once, when MXNet or PyTorch loads it, so they are set here,
before any benchmark module imports MXNet, and only if it is not imported
yet (under pytest it is: the settings then reach the worker processes only,
through :func:`thread_environment`).
"""

import os
import sys

__all__ = ["THREAD_SETTINGS", "thread_environment"]

# OpenMP threads that finish a parallel region spin, waiting for the next
# one, before they sleep. On two cores shared with anything else (the other
# rows' processes, other programs) PyTorch's spinning threads take the core
# the thread they wait for needs: measured here at load 4-5, PyTorch's epoch
# took 0.77-0.88 s with the default policy and 0.14-0.18 s with PASSIVE,
# which makes them sleep at once. MXNet's rows ran as fast either way (one
# oneDNN kernel per batch, not many small regions).
THREAD_SETTINGS = {"OMP_WAIT_POLICY": "PASSIVE"}


def thread_environment(env=None):
    """Return a copy of ``env`` (default ``os.environ``) with :data:`THREAD_SETTINGS` added."""
    env = dict(os.environ if env is None else env)
    for name, value in THREAD_SETTINGS.items():
        env.setdefault(name, value)
    return env


if "mxnet" not in sys.modules and "torch" not in sys.modules:
    os.environ.update(thread_environment())
