"""Helpers the whole package shares, none of them part of the book's face.

Argument and setting checks (:mod:`.checks`, :mod:`.setting_checks`),
reading files someone else may have made (regular files only, bounded:
:mod:`.reading`; a text as a stream: :mod:`.text_file`), crash-safe file
writes (:mod:`.files`), the bounded download (:mod:`.download`), texts
encoded as compact arrays (:mod:`.text`), the text a training run reads,
in its own vocabulary or a trained model's (:mod:`.training_text`,
:mod:`.foreign`), bits per character (:mod:`.metrics`, whose
``bits_per_char`` the face names), MXNet's error message cut to its line
(:mod:`.errors`), the command lines' console (Ctrl-C, output encodings:
:mod:`.console`), NumPy's removed names lent to MXNet alone
(:mod:`.numpy_names`), the type names of the public API (:mod:`.hints`) and
one BLAS thread for small products (:mod:`.blas`).
"""
