"""Benchmarks, run from a source checkout (not part of the installed library).

``make bench`` runs :mod:`benchmarks.speed` (chapter 6.6's exercise: how fast
is each way of training the chapter's model); ``make bench-dist`` runs
``benchmarks/bench_dist.py`` (data-parallel scaling).
"""
