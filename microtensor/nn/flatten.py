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
