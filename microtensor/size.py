"""``Size``: the type of ``Tensor.shape`` and ``Tensor.size()``, a tuple of ints (PyTorch's
``torch.Size``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, SupportsIndex, overload

import numpy as np


class Size(tuple[int, ...]):  # noqa: SLOT001 - a tuple subclass, as torch.Size
    """A tensor's shape: a tuple of ints that prints as ``microtensor.Size([3, 28, 28])``.

    It equals the plain tuple with the same ints (``x.shape == (3, 28, 28)``); slicing it,
    adding tuples to it or repeating it gives a ``Size`` again, as in PyTorch.
    """

    __slots__ = ()

    def __new__(cls, sizes: Iterable[Any] = ()) -> Size:
        given = tuple(sizes)
        if all(type(s) is int for s in given):  # the common case, kept fast
            return tuple.__new__(cls, given)
        values = []
        for i, s in enumerate(given):
            if isinstance(s, (int, np.integer)):
                values.append(int(s))
            elif hasattr(s, "__index__") and getattr(s, "ndim", 1) == 0:
                values.append(s.__index__())  # a 0-d integer tensor, as in PyTorch
            else:
                raise TypeError(f"microtensor.Size() takes an iterable of 'int' (item {i} is "
                                f"'{type(s).__name__}')")
        return tuple.__new__(cls, values)

    def numel(self) -> int:
        """The number of elements of a tensor of this shape (1 for the shape ``()``)."""
        return math.prod(self)

    def __repr__(self) -> str:
        return f"microtensor.Size({list(self)})"

    __str__ = __repr__

    @overload
    def __getitem__(self, index: SupportsIndex) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> Size: ...

    def __getitem__(self, index: SupportsIndex | slice) -> int | Size:
        if isinstance(index, slice):
            return tuple.__new__(Size, tuple.__getitem__(self, index))
        return tuple.__getitem__(self, index)

    def __add__(self, other: Any) -> Any:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other: Any) -> Any:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, n: SupportsIndex) -> Size:
        return tuple.__new__(Size, tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __reduce__(self) -> tuple[Any, ...]:
        return (Size, (tuple(self),))
