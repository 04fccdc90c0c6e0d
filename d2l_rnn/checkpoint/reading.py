"""Reading a checkpoint's files: never through a link, never a FIFO or a device, bounded.

Each file is read as :mod:`d2l_rnn._util.reading` reads (opened without
following a link and without blocking, then required to be a regular file)
and only up to :func:`size_limit`: 1 MiB for ``manifest.json``, 64 MiB for
another JSON file, and for an array file (``model.params``,
``trainer.params``) 16 GiB or half this machine's memory, whichever is less.
A folder where a checkpoint folder, a snapshot or ``best`` belongs must be
a folder itself, not a link to one (:func:`check_entry`).
"""

import json
import os
import stat

from .._util.reading import RefusedFile, describe_kind, read_regular
from .._util.setting_checks import memory_bytes
from .errors import CheckpointError, corrupt
from .folder import refused

__all__ = ["size_limit", "read_file", "read_or_fail", "parse_json", "check_entry"]

_MAX_MANIFEST, _MAX_JSON, _MAX_ARRAYS = 1 << 20, 64 << 20, 16 << 30


def size_limit(name):
    """The largest size, in bytes, read of the checkpoint file ``name``."""
    if name == "manifest.json":
        return _MAX_MANIFEST
    if name.endswith(".json"):
        return _MAX_JSON
    memory = memory_bytes()
    return _MAX_ARRAYS if memory is None else min(_MAX_ARRAYS, memory // 2)


def check_entry(path, want_dir):
    """Raise CheckpointError unless ``path`` is a folder (``want_dir``) or a file, not a link.

    Return False if there is nothing at ``path``, else True.
    """
    try:
        mode = os.lstat(str(path)).st_mode
    except FileNotFoundError:
        return False
    if (stat.S_ISDIR if want_dir else stat.S_ISREG)(mode):
        return True
    raise refused(path, describe_kind(mode), "a folder" if want_dir else "a file")


def parse_json(path, data):
    """The JSON document in ``data`` (bytes read from ``path``)."""
    try:
        return json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        # ValueError: also an integer of more than 4,300 digits (Python 3.11).
        raise corrupt(path, "not valid JSON (%s)" % err) from None


def read_file(path):
    """The bytes of the checkpoint file ``path``: a regular file, not a link, within its limit.

    Raises RefusedFile (a ValueError) or OSError.
    """
    return read_regular(str(path), size_limit(path.name), follow=False)


def read_or_fail(path, snapshot):
    """:func:`read_file`, every failure a CheckpointError naming the file."""
    try:
        return read_file(path)
    except FileNotFoundError:
        raise CheckpointError("checkpoint %s is incomplete: %s is missing"
                              % (snapshot, path.name)) from None
    except RefusedFile as err:
        raise CheckpointError("checkpoint file %s" % err) from None
    except OSError as err:
        raise CheckpointError("cannot read checkpoint file %s: %s"
                              % (path, err.strerror or err)) from None
