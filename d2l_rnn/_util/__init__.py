"""Helpers the whole package shares: argument checks, reading files someone else may have made
(regular files only, bounded: :mod:`.reading`; texts as a stream: :mod:`.text_file`), crash-safe
file writes, the command lines' console (Ctrl-C, output encodings), BLAS threads, bits per
character (:mod:`.metrics`), the text a training run reads (:mod:`.training_text`,
:mod:`.foreign`)."""
