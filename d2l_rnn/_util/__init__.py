"""Helpers the whole package shares: argument checks, crash-safe file writes, BLAS threads."""
