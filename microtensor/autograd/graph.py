"""``autograd.graph``: tools on the graph's bookkeeping, with PyTorch's names.

``increment_version`` counts an in-place change that was made without microtensor's in-place
methods (e.g. one NumPy call on a buffer that several tensors view, as a fused optimizer does),
so that a graph that saved one of those tensors refuses to backward through the new values.
"""

from __future__ import annotations

from collections.abc import Iterable

from .function import TensorBase


def increment_version(tensor: TensorBase | Iterable[TensorBase]) -> None:
    """Count one in-place change of ``tensor`` (or of each tensor of an iterable) in its
    version counter, as PyTorch's ``torch.autograd.graph.increment_version``."""
    tensors = [tensor] if isinstance(tensor, TensorBase) else tensor
    for t in tensors:
        t._bump_version()
