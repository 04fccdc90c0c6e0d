"""MXNet's NDArray file format (``nd.save``), read strictly before MXNet reads it.

``model.params`` and ``trainer.params`` are what ``mx.nd.save`` writes: a
binary list of dense arrays and their names, no pickle. MXNet's own reader
trusts the sizes in the file, so a damaged file could make it allocate
without bound or read past the data. :func:`check_array_file` walks the
same layout in Python first, with every count and size bounded by the
bytes actually there, and only a file that is exactly what it claims to be
is handed to ``mx.nd.load_frombuffer`` (:func:`load_arrays`).

The layout (little-endian): ``u64 0x112, u64 0, u64 count``, then per array
``u32 0xF993FAC9, i32 storage (0 = dense), u32 ndim, i64 dims[ndim],
i32 device type, i32 device id, i32 dtype`` and its data, then ``u64
count`` names, each ``u64 length`` and UTF-8 bytes.
"""

import re
import struct

import numpy as np

from .._compat import import_mxnet
from .._util.errors import mxnet_message
from .errors import corrupt, need

__all__ = ["check_array_file", "load_arrays", "check_position", "DTYPES"]

_LIST_MAGIC, _ARRAY_MAGIC = 0x112, 0xF993FAC9
DTYPES = {0: ("float32", 4), 1: ("float64", 8), 2: ("float16", 2)}
_MAX_NDIM, _MAX_NAME = 8, 1024


class _Reader:
    def __init__(self, data, path):
        self.data, self.path, self.pos = data, path, 0

    def take(self, fmt):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise corrupt(self.path, "it ends early (at byte %d)" % self.pos)
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def skip(self, size, what):
        if size > len(self.data) - self.pos:
            raise corrupt(self.path, "%s claims %d bytes, more than the file holds"
                          % (what, size))
        start, self.pos = self.pos, self.pos + size
        return self.data[start:self.pos]


def _array(reader, index):
    magic, storage, ndim = reader.take("<IiI")
    what = "array %d" % index
    if magic != _ARRAY_MAGIC or storage != 0:
        raise corrupt(reader.path, "%s is not a dense MXNet array" % what)
    if not 1 <= ndim <= _MAX_NDIM:
        raise corrupt(reader.path, "%s has %d dimensions" % (what, ndim))
    shape = reader.take("<%dq" % ndim)
    _, _, dtype = reader.take("<iii")
    if any(d < 1 for d in shape) or dtype not in DTYPES:
        raise corrupt(reader.path, "%s has shape %s and dtype code %d"
                      % (what, shape, dtype))
    count = 1
    for d in shape:  # stop as soon as the size passes what the file holds
        count *= d
        if count * DTYPES[dtype][1] > len(reader.data):
            break
    reader.skip(count * DTYPES[dtype][1], what)
    return shape, DTYPES[dtype][0]


def check_array_file(data, path):
    """Return ``{name: (shape, dtype)}`` of an ``nd.save`` file; raise CheckpointError.

    Every size is checked against the bytes present, names must be distinct
    UTF-8 strings, and the file must end right after the last name.
    """
    reader = _Reader(data, path)
    magic, reserved, count = reader.take("<QQQ")
    if magic != _LIST_MAGIC or reserved != 0:
        raise corrupt(path, "it is not an MXNet array file")
    if count > len(data) // 36:  # the smallest array takes 36 bytes
        raise corrupt(path, "it claims %d arrays" % count)
    arrays = [_array(reader, i) for i in range(count)]
    (num_names,) = reader.take("<Q")
    if num_names != count:
        raise corrupt(path, "it has %d arrays but %d names" % (count, num_names))
    names = []
    for _ in range(count):
        (length,) = reader.take("<Q")
        if length > _MAX_NAME:
            raise corrupt(path, "an array name is %d bytes long" % length)
        try:
            names.append(reader.skip(length, "a name").decode("utf-8"))
        except UnicodeDecodeError:
            raise corrupt(path, "an array name is not UTF-8") from None
    if reader.pos != len(data):
        raise corrupt(path, "%d bytes follow the last name" % (len(data) - reader.pos))
    if len(set(names)) != len(names) or not all(names):
        raise corrupt(path, "array names are empty or repeated")
    return dict(zip(names, arrays))


def load_arrays(data, path):
    """Return ``{name: NDArray}`` (on the CPU) of a checked ``nd.save`` file."""
    check_array_file(data, path)
    mx = import_mxnet()
    try:
        loaded = mx.nd.load_frombuffer(bytes(data))
    except mx.base.MXNetError as err:
        raise corrupt(path, mxnet_message(err)) from None
    return loaded if isinstance(loaded, dict) else {}


_STATE_ARRAY = re.compile(r"state\.\d{1,3}\.\d{1,2}\Z")


def check_position(arrays, batch, path):
    """Check the arrays of a snapshot within an epoch (``position.params``).

    ``losses`` (and ``norms``, if there) must hold ``batch`` finite float32
    numbers, one per batch done; every other array must be a finite float32
    hidden state named ``state.K.J`` (device ``K``, array ``J`` of its state).
    """
    need("losses" in arrays, path, "it has no losses array")
    for name, array in sorted(arrays.items()):
        values = array.asnumpy()
        if name in ("losses", "norms"):
            need(values.shape == (batch,), path, "%s must hold %d values (one per batch done), "
                 "got shape %s" % (name, batch, values.shape))
        else:
            need(bool(_STATE_ARRAY.match(name)), path, "unknown array %r" % name)
        need(values.dtype == np.float32 and np.isfinite(values).all(), path,
             "%s must hold finite float32 numbers" % name)

