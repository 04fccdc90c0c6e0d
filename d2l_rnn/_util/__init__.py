"""Helpers the whole package shares, none of them part of the book's face.

Argument and setting checks (:mod:`.checks`, :mod:`.setting_checks`),
crash-safe file writes (:mod:`.files`), the bounded download
(:mod:`.download`), text files read and encoded as compact arrays
(:mod:`.text`), MXNet's error message cut to its line (:mod:`.errors`), the
type names of the public API (:mod:`.hints`) and one BLAS thread for small
products (:mod:`.blas`).
"""
