"""Collation: turning a list of samples into a batch (``default_collate``), and converting one
sample without batching (``default_convert``), with PyTorch's rules."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...creation import from_numpy, tensor
from ...dtypes import float64
from ...tensor import Tensor, stack

_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
          "found {}")
_STRING_OR_OBJECT = re.compile(r"[SaUO]")  # NumPy dtypes that cannot become tensors


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _same_type(like: Any, values: dict[Any, Any] | list[Any]) -> Any:
    """``values`` as a container of the type of ``like`` (a mapping or a sequence), or as they
    are when that type cannot be built from them."""
    try:
        return type(like)(values)
    except TypeError:
        return values


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, by the type of the first sample.

    Tensors are stacked (a new first dimension); NumPy arrays become tensors and are stacked;
    NumPy scalars become a tensor of their dtype; Python floats a float64 tensor, ints an int64
    tensor and bools a bool tensor; strings and bytes stay a list. Mappings, namedtuples and
    sequences are collated field by field (a tuple of fields gives a list, as in PyTorch).

    Raises:
        RuntimeError: tensors of different shapes, or sequences of different lengths.
        TypeError: a type that cannot be collated (None, an object, a string array, ...).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if type(elem).__module__ == "numpy" and not isinstance(elem, (np.str_, np.bytes_)):
        if isinstance(elem, np.ndarray):
            if _STRING_OR_OBJECT.search(elem.dtype.str) is not None:
                raise TypeError(_ERROR.format(elem.dtype))
            return default_collate([from_numpy(np.asarray(b)) for b in batch])
        if isinstance(elem, np.generic):  # a NumPy scalar: a tensor of its dtype
            return from_numpy(np.array(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, int):  # bool too
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        return _same_type(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(s) for s in zip(*batch, strict=True)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if not all(len(e) == size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch, strict=True))  # (strings stay tuples, as in PyTorch)
        if isinstance(elem, tuple):
            return [default_collate(s) for s in transposed]
        return _same_type(elem, [default_collate(s) for s in transposed])
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Convert one sample without batching (``DataLoader(batch_size=None)``): NumPy arrays and
    scalars become tensors, containers are converted element by element (tuples give lists),
    everything else is returned as it is."""
    if isinstance(data, Tensor):
        return data
    if type(data).__module__ == "numpy" and not isinstance(data, (np.str_, np.bytes_)):
        if isinstance(data, np.ndarray):
            if _STRING_OR_OBJECT.search(data.dtype.str) is not None:
                return data
            return from_numpy(data)
        if isinstance(data, np.generic):
            return from_numpy(np.array(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, Mapping):
        return _same_type(data, {key: default_convert(data[key]) for key in data})
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence):
        return _same_type(data, [default_convert(d) for d in data])
    return data
