"""Shape primitives: reshape, permute, expand, indexing (and its adjoint), concatenation."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.engine import unbroadcast
from ..autograd.function import Context, Function


class Reshape(Function):
    """y = x with a new ``shape`` (same elements in the same order);   dx = g reshaped back"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, shape: tuple[int, ...] = ()) -> np.ndarray:
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        return g.reshape(ctx.shape)


class Permute(Function):
    """y = x with its dimensions reordered as ``dims``;   dx = g permuted back"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dims: tuple[int, ...] = ()) -> np.ndarray:
        return x.transpose(dims)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        return g.permute(*np.argsort(ctx.kwargs["dims"]).tolist())


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
    def backward(ctx: Context, g: Any) -> Any:
        return unbroadcast(g, ctx.shape)


def is_basic_index(index: tuple[Any, ...]) -> bool:
    """True when ``index`` uses only ints, slices, None and Ellipsis (no integer arrays)."""
    return not any(isinstance(i, np.ndarray) for i in index)


class Index(Function):
    """y = x[index];   dx = zeros like x with g added at ``index`` (repeats accumulate)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, index: tuple[Any, ...] = ()) -> np.ndarray:
        ctx.shape = x.shape
        y = x[index]
        # A basic index gives a view; copy so that the output never aliases the input.
        return y.copy() if isinstance(y, np.ndarray) and y.base is not None else y

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        return IndexAdd.apply(g, index=ctx.kwargs["index"], shape=ctx.shape)


class IndexAdd(Function):
    """y = zeros(shape) with x added at ``index``;   dx = g[index]   (the adjoint of Index)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, index: tuple[Any, ...] = (),
                shape: tuple[int, ...] = ()) -> np.ndarray:
        y = np.zeros(shape, dtype=x.dtype)
        if is_basic_index(index):
            y[index] = x
        else:
            np.add.at(y, index, x)
        return y

    @staticmethod
    def backward(ctx: Context, g: Any) -> Any:
        return Index.apply(g, index=ctx.kwargs["index"])


class Cat(Function):
    """y = the inputs joined along ``dim``;   each input's gradient is its slice of g"""

    @staticmethod
    def forward(ctx: Context, *xs: np.ndarray, dim: int = 0) -> np.ndarray:
        ctx.sizes = [x.shape[dim] for x in xs]
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Any, ...]:
        dim = ctx.kwargs["dim"]
        grads, start = [], 0
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad, strict=True):
            index = (slice(None),) * dim + (slice(start, start + size),)
            grads.append(Index.apply(g, index=index) if needed else None)
            start += size
        return tuple(grads)
