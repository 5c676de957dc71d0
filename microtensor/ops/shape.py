"""Shape primitives: reshape, permute, expand, indexing (and its adjoint), concatenation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.engine import unbroadcast
from ..autograd.function import Context, Function

if TYPE_CHECKING:  # for annotations only (microtensor.tensor imports the ops)
    from ..tensor import Tensor


class Reshape(Function):
    """y = x with a new ``shape`` (same elements in the same order);   dx = g reshaped back"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, shape: tuple[int, ...] = ()) -> np.ndarray:
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return g.reshape(ctx.shape)


class Permute(Function):
    """y = x with its dimensions reordered as ``dims``;   dx = g permuted back"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dims: tuple[int, ...] = ()) -> np.ndarray:
        return x.transpose(dims)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return Permute.apply(g, dims=tuple(np.argsort(ctx.kwargs["dims"]).tolist()))


class Expand(Function):
    """y = x broadcast to ``shape``;   dx = g summed over the broadcast dims"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, shape: tuple[int, ...] = ()) -> np.ndarray:
        ctx.shape = x.shape
        # NOTE: a writable copy, not np.broadcast_to's read-only view: for the small arrays of
        # the training hot path the copy is several times faster than building the view.
        y = np.empty(shape, dtype=x.dtype)
        y[...] = x
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return unbroadcast(g, ctx.shape)


class _Array:
    """Stands in an index for an integer array passed to the op as a positional argument."""

    def __repr__(self) -> str:
        return "[...]"


ARRAY = _Array()


def fill_index(index: tuple[Any, ...], arrays: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
    """``index`` with each ``ARRAY`` placeholder replaced by the next of ``arrays``."""
    if not arrays:
        return index
    it = iter(arrays)
    return tuple(next(it) if i is ARRAY else i for i in index)


class Index(Function):
    """y = x[index];   dx = zeros like x with g added at ``index`` (repeats accumulate)

    Integer index arrays are positional arguments after ``x`` (``index`` holds ``ARRAY`` in
    their places), so that they are saved like any input: changing an index tensor in place
    after the forward makes backward raise instead of sending the gradient to the wrong
    elements. Ints, slices, None and Ellipsis stay in ``index``; with only those, ``y`` is a
    NumPy view of ``x`` (a view, as in PyTorch).
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *arrays: np.ndarray,
                index: tuple[Any, ...] = ()) -> np.ndarray:
        ctx.shape = x.shape
        if arrays:
            ctx.save_for_backward(*arrays)
            return x[fill_index(index, arrays)]
        # NOTE: x[0] of a 1-D array is a NumPy scalar, a copy; x[0, ...] is a 0-d view of x.
        return x[index] if any(i is Ellipsis for i in index) else x[index + (Ellipsis,)]

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        arrays = ctx.saved_tensors
        dx = IndexAdd.apply(g, *arrays, index=ctx.kwargs["index"], shape=ctx.shape)
        return (dx,) + (None,) * len(arrays)


class IndexAdd(Function):
    """y = zeros(shape) with x added at ``index``;   dx = g[index]   (the adjoint of Index)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *arrays: np.ndarray, index: tuple[Any, ...] = (),
                shape: tuple[int, ...] = ()) -> np.ndarray:
        y = np.zeros(shape, dtype=x.dtype)
        if arrays:
            ctx.save_for_backward(*arrays)
            np.add.at(y, fill_index(index, arrays), x)
        else:
            y[index] = x
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        arrays = ctx.saved_tensors
        return (Index.apply(g, *arrays, index=ctx.kwargs["index"]),) + (None,) * len(arrays)


class Clone(Function):
    """y = a copy of x;   dx = g"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return x.copy()

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return g


class Cat(Function):
    """y = the inputs joined along ``dim``;   each input's gradient is its slice of g"""

    @staticmethod
    def forward(ctx: Context, *xs: np.ndarray, dim: int = 0) -> np.ndarray:
        ctx.sizes = [x.shape[dim] for x in xs]
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        dim = ctx.kwargs["dim"]
        grads, start = [], 0
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad, strict=True):
            index = (slice(None),) * dim + (slice(start, start + size),)
            grads.append(Index.apply(g, index=index) if needed else None)
            start += size
        return tuple(grads)


# -- shape, indexing, sorting and scan ops (issue 10) --

class Flip(Function):
    """y = x reversed along ``dims`` (a copy, as in PyTorch);   dx = g reversed along ``dims``"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dims: tuple[int, ...] = ()) -> np.ndarray:
        return np.flip(x, dims).copy()

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return Flip.apply(g, dims=ctx.kwargs["dims"])


class Roll(Function):
    """y = x shifted cyclically by ``shifts`` along ``dims`` (the flattened x when ``dims`` is
    None);   dx = g shifted back by -shifts"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, shifts: tuple[int, ...] = (),
                dims: tuple[int, ...] | None = None) -> np.ndarray:
        if dims is None:
            return np.roll(x, shifts[0])  # (flattened, then back to x's shape)
        return np.roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        shifts = tuple(-s for s in ctx.kwargs["shifts"])
        return Roll.apply(g, shifts=shifts, dims=ctx.kwargs.get("dims"))


class Tril(Function):
    """y = x with the elements above the ``diagonal`` of its last two dims set to 0;
    dx = tril(g)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, diagonal: int = 0) -> np.ndarray:
        return np.tril(x, diagonal)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return Tril.apply(g, diagonal=ctx.kwargs.get("diagonal", 0))


class Triu(Function):
    """y = x with the elements below the ``diagonal`` of its last two dims set to 0;
    dx = triu(g)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, diagonal: int = 0) -> np.ndarray:
        return np.triu(x, diagonal)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return Triu.apply(g, diagonal=ctx.kwargs.get("diagonal", 0))
