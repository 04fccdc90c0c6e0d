"""Names for the type hints of the public API.

MXNet 1.x ships no type information, so to a type checker its arrays,
devices, blocks and trainers are ``Any``; these aliases still say, in every
signature, which one is meant.
"""

from os import PathLike
from typing import Any, Dict, List, Sequence, Union

__all__ = ["NDArray", "Context", "Contexts", "Block", "Trainer", "Parameter", "Corpus",
           "CharToIdx", "IdxToChar", "StrPath"]

NDArray = Any  # mxnet.nd.NDArray
Context = Any  # mxnet.Context: mx.cpu(0), mx.gpu(1)
Contexts = Union[Context, Sequence[Context]]  # one device, or several (data parallel)
Block = Any  # mxnet.gluon.Block, e.g. an RNNModel
Trainer = Any  # mxnet.gluon.Trainer
Parameter = Any  # mxnet.gluon.Parameter
Corpus = Sequence[int]  # character ids (a list, or a NumPy array of integers)
CharToIdx = Dict[str, int]
IdxToChar = List[str]
StrPath = Union[str, "PathLike[str]"]
