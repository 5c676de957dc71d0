"""Index primitives that depend on the data: scatter, and the integer ops that find positions
(of a mask's true elements, of repeated elements). The positions are computed inside these ops,
so that replaying the recorded ops recomputes them; gather, index_select, take and friends are
compositions of ``Index`` and ``IndexAdd`` (``shape.py``) with these positions."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.function import Context, Function
from .elementwise import Where
from .shape import ARRAY, Index, IndexAdd

if TYPE_CHECKING:  # for annotations only (microtensor.tensor imports the ops)
    from ..tensor import Tensor


@functools.lru_cache(maxsize=256)
def arange_along(n: int, dim: int, ndim: int) -> np.ndarray:
    """``arange(n)`` shaped to run along ``dim`` of ``ndim`` dims (size 1 in the others), read
    only. Cached: the same shape gives the same array object, a constant that a compiled step
    can keep (a new array at each call would look like a value computed outside an op)."""
    a = np.arange(n).reshape([-1 if k == dim else 1 for k in range(ndim)])
    a.flags.writeable = False
    return a


def grid(shape: tuple[int, ...], dim: int, index: Any) -> list[Any]:
    """The index arrays that pick, for each element of an index tensor of ``shape``, the element
    at the same position except along ``dim``, where ``index`` says which: ``index`` itself at
    ``dim``, and an ``arange`` (shaped to broadcast) in every other dim."""
    return [index if d == dim else arange_along(n, d, len(shape)) for d, n in enumerate(shape)]


class Scatter(Function):
    """y = x with y[..., index[i], ...] = src[i] along ``dim`` (src a tensor or a number);
    dx = g where not written, 0 where written;   dsrc = g gathered at ``index``, 0 for the
    elements of src that ``index`` does not cover"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, index: np.ndarray, src: Any,
                dim: int = 0) -> np.ndarray:
        where = tuple(grid(index.shape, dim, index))
        y = x.copy()
        written = np.zeros(x.shape, dtype=bool)
        written[where] = True
        if isinstance(src, np.ndarray):
            y[where] = src[tuple(slice(0, n) for n in index.shape)]
        else:
            y[where] = src
        ctx.save_for_backward(index, written)
        ctx.src_shape = src.shape if isinstance(src, np.ndarray) else None
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, None, Tensor | None]:
        index, written = ctx.saved_tensors
        dim = ctx.kwargs.get("dim", 0)
        need_x, _, need_src = ctx.needs_input_grad
        dx = Where.apply(written, 0, g) if need_x else None
        dsrc = None
        if need_src:
            arrays = grid(index.shape, dim, index)
            dsrc = Index.apply(g, *arrays, index=(ARRAY,) * len(arrays))
            if index.shape != ctx.src_shape:
                dsrc = IndexAdd.apply(dsrc, index=tuple(slice(0, n) for n in index.shape),
                                      shape=ctx.src_shape)
        return dx, None, dsrc


class MaskPositions(Function):
    """y = the flat positions (int64) of the true elements of a bool mask, in order; not
    differentiable (an integer output)"""

    shape_from_values = True

    @staticmethod
    def forward(ctx: Context, mask: np.ndarray) -> np.ndarray:
        return np.flatnonzero(mask).astype(np.int64)


class InRange(Function):
    """y = index (a view of it), after checking that every element is in [0, n): an op so
    that a compiled step's replay makes the check too. Raises ``IndexError(message)``, or
    ``RuntimeError("index {i} {words}")`` without a message. Not differentiable."""

    @staticmethod
    def forward(ctx: Context, index: np.ndarray, n: int = 0, words: str = "",
                message: str = "") -> np.ndarray:
        bad = (index < 0) | (index >= n)
        if bad.any():
            if message:
                raise IndexError(message)
            raise RuntimeError(f"index {index[bad].flat[0]} {words}")
        return index.view()  # (a view: it shares the index's version counter)


class NonzeroDivisor(Function):
    """y = divisor (a view of it), after checking that no element is 0 (PyTorch raises
    ``RuntimeError: ZeroDivisionError`` for an integer division by zero): an op so that a
    compiled step's replay makes the check too. Not differentiable."""

    @staticmethod
    def forward(ctx: Context, divisor: np.ndarray) -> np.ndarray:
        if (divisor == 0).any():
            raise RuntimeError("ZeroDivisionError")
        return divisor.view()  # (a view: it shares the divisor's version counter)


class RepeatIndex(Function):
    """y = 0 repeated repeats[0] times, then 1 repeated repeats[1] times, ... (int64); not
    differentiable (the positions that ``repeat_interleave`` picks)"""

    shape_from_values = True

    @staticmethod
    def forward(ctx: Context, repeats: np.ndarray) -> np.ndarray:
        return np.repeat(np.arange(repeats.shape[0], dtype=np.int64), repeats)


class OneHot(Function):
    """y[..., c] = 1 where t == c, else 0 (int64, shape t.shape + (num_classes,)); not
    differentiable (an integer output). The class values are checked here, inside the op."""

    @staticmethod
    def forward(ctx: Context, t: np.ndarray, num_classes: int = 0) -> np.ndarray:
        if t.size and bool((t < 0).any()):
            raise RuntimeError("Class values must be non-negative.")
        if num_classes < 0 or (t.size and bool((t >= num_classes).any())):
            raise RuntimeError("Class values must be smaller than num_classes.")
        return (t[..., None] == np.arange(num_classes, dtype=np.int64)).astype(np.int64)
