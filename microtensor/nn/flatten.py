"""``Flatten``: merge a range of dimensions into one."""

from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class Flatten(Module):
    """y = x with dimensions ``start_dim`` to ``end_dim`` merged (by default all but the
    batch dimension: (N, d1, d2, ...) -> (N, d1 * d2 * ...))."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """input.flatten(start_dim, end_dim)"""
        F._check_tensor(input, "flatten", "input", 1)
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


# -- shape, indexing, sorting and scan ops (issue 10) --

class Unflatten(Module):
    """y = x with dimension ``dim`` split into ``unflattened_size`` (the inverse of
    ``Flatten``: (N, 12) -> (N, 3, 4) for ``Unflatten(1, (3, 4))``)."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...] | list[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"unflattened_size must be a tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        for i, s in enumerate(unflattened_size):
            if not isinstance(s, int) or isinstance(s, bool):
                raise TypeError(f"unflattened_size must be tuple of ints, but found element of "
                                f"type {type(s).__name__} at pos {i}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """input.unflatten(dim, unflattened_size)"""
        F._check_tensor(input, "unflatten", "input", 1)
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
