"""Padding layers: ``ZeroPad1d``/``2d``, ``ConstantPad1d``/``2d``, ``ReflectionPad1d``/``2d``,
``ReplicationPad1d``/``2d``, ``CircularPad1d``/``2d``; each calls ``nn.functional.pad``.

``padding`` is an int (the same on every side) or a tuple in ``F.pad``'s order: (left, right)
for 1-D, (left, right, top, bottom) for 2-D.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


class _PadNd(Module):
    _nd = 1
    _mode = "constant"

    def __init__(self, padding: Any) -> None:
        super().__init__()
        n = 2 * self._nd
        if isinstance(padding, (tuple, list)):
            if len(padding) != n:
                raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of "
                                 f"{n} ints, got {tuple(padding)}")
            self.padding = tuple(padding)
        else:
            self.padding = (padding,) * n

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """F.pad(input, padding, mode)"""
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """F.pad(input, padding, 'constant', value)"""
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``."""


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with ``value``."""

    _nd = 2


class ZeroPad1d(_ConstantPadNd):
    """Pad the last dim with zeros."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ZeroPad1d):
    """Pad the last two dims with zeros."""

    _nd = 2


class ReflectionPad1d(_PadNd):
    """Pad the last dim with its mirror image (the edge not repeated)."""

    _mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """Pad the last two dims with their mirror image (the edge not repeated)."""

    _nd = 2


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating its edge values."""

    _mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """Pad the last two dims by repeating their edge values."""

    _nd = 2


class CircularPad1d(_PadNd):
    """Pad the last dim by wrapping around."""

    _mode = "circular"


class CircularPad2d(CircularPad1d):
    """Pad the last two dims by wrapping around."""

    _nd = 2
