"""The checkpoint errors, and the wording every check of a file uses."""

__all__ = ["CheckpointError", "OtherRunError", "FolderBusyError", "corrupt", "need"]


class CheckpointError(ValueError):
    """A checkpoint is missing, incomplete or corrupt; the message names the file."""


class OtherRunError(CheckpointError):
    """A folder holds snapshots of another run; the caller did not allow replacing them."""


class FolderBusyError(CheckpointError):
    """Another process is saving into the folder (it holds the folder's lock)."""


def corrupt(path, why):
    """``checkpoint file PATH is corrupt: WHY``."""
    return CheckpointError("checkpoint file %s is corrupt: %s" % (path, why))


def need(ok, path, why):
    """Raise :func:`corrupt` unless ``ok``."""
    if not ok:
        raise corrupt(path, why)
