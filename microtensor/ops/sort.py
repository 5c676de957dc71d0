"""Sorting primitives: the integer ops that compute an order (argsort, the k-th element, the
median) and ``Unique``. The order is computed inside these ops, so that replaying the recorded
ops recomputes it; the values (``sort``, ``topk``, ``median``, ...) are then gathered with
``Index``, whose backward sends each gradient to the element it came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..autograd.function import Context, Function

if TYPE_CHECKING:  # for annotations only (microtensor.tensor imports the ops)
    from ..tensor import Tensor


def _argsort(x: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """A stable argsort along ``dim``; NaN sorts as the largest value (as in PyTorch)."""
    if not descending:
        return np.argsort(x, axis=dim, kind="stable")
    # NOTE: not argsort(-x): that breaks for the smallest integer and for bools. Sorting the
    # reversed x and reversing the result keeps equal elements in their original order.
    n = x.shape[dim]
    flipped = np.argsort(np.flip(x, dim), axis=dim, kind="stable")
    return (n - 1) - np.flip(flipped, dim)


class Argsort(Function):
    """y = the indices (int64) that sort x along ``dim`` (stable: equal elements keep their
    order; NaN is the largest value); with ``k``, only the first k of them (``topk``: a partial
    sort, O(n + k log k)); not differentiable (an integer output)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: int = -1, descending: bool = False,
                k: int | None = None) -> np.ndarray:
        if x.ndim == 0:
            return np.zeros((), dtype=np.int64)
        n = x.shape[dim]
        if k is None or k >= n:
            order = _argsort(x, dim, descending)
            return order.astype(np.int64, copy=False)
        if k == 0:
            return np.take(np.zeros(x.shape, dtype=np.int64), [], axis=dim)
        # The k smallest (largest) elements, in the order of their positions, then sorted.
        kth = n - k if descending else k - 1
        part = np.argpartition(x, kth, axis=dim)
        chosen = np.sort(np.take(part, np.arange(n - k, n) if descending else np.arange(k),
                                 axis=dim), axis=dim)
        order = _argsort(np.take_along_axis(x, chosen, axis=dim), dim, descending)
        return np.take_along_axis(chosen, order, axis=dim).astype(np.int64, copy=False)


class KthIndex(Function):
    """y = the index (int64) of the k-th smallest element (k from 1) along ``dim``, keeping
    that dim with size 1 (a partial sort, O(n)); with ``nan_wins``, the index of the first NaN
    of a row that has one (``median`` propagates NaN); not differentiable (an integer output)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: int = 0, k: int = 1,
                nan_wins: bool = False) -> np.ndarray:
        if x.ndim == 0:
            return np.zeros((), dtype=np.int64)
        idx = np.take(np.argpartition(x, k - 1, axis=dim), [k - 1], axis=dim)
        if nan_wins and x.dtype.kind == "f":
            nan = np.isnan(x)
            has_nan = nan.any(axis=dim, keepdims=True)
            idx = np.where(has_nan, np.argmax(nan, axis=dim, keepdims=True), idx)
        return idx.astype(np.int64, copy=False)


class ModeIndex(Function):
    """y = the index (int64) of the most frequent value along ``dim`` (the smallest such value
    on a tie; its last occurrence; each NaN counts alone), keeping that dim with size 1; not
    differentiable (an integer output)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: int = 0) -> np.ndarray:
        if x.ndim == 0:
            return np.zeros((), dtype=np.int64)
        xs = np.moveaxis(x, dim, -1)
        n = xs.shape[-1]
        order = np.argsort(xs, axis=-1, kind="stable")
        s = np.take_along_axis(xs, order, axis=-1)
        # Runs of equal values in the sorted rows (NaN != NaN: each NaN is a run of its own).
        starts = np.ones(s.shape, dtype=bool)
        starts[..., 1:] = s[..., 1:] != s[..., :-1]
        pos = np.arange(n)
        first = np.maximum.accumulate(np.where(starts, pos, 0), axis=-1)
        ends = np.ones(s.shape, dtype=bool)
        ends[..., :-1] = starts[..., 1:]
        last = np.flip(np.minimum.accumulate(np.flip(np.where(ends, pos, n), -1), axis=-1), -1)
        length = last - first + 1
        # The first longest run is the smallest most frequent value; with a stable sort, its
        # last element is that value's last occurrence.
        best = np.argmax(length, axis=-1)[..., None]
        end = np.take_along_axis(last, best, axis=-1)
        idx = np.take_along_axis(order, end, axis=-1)
        return np.moveaxis(idx, -1, dim).astype(np.int64, copy=False)


class Unique(Function):
    """y = the sorted distinct elements of x (flattened, or the distinct slices along ``dim``);
    with ``output="inverse"``, where each element (slice) of x is in y; with
    ``output="counts"``, how often each of y occurs. Not differentiable (as in PyTorch)."""

    shape_from_values = True

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: int | None = None,
                output: str = "values") -> np.ndarray:
        values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True,
                                            axis=dim)
        if output == "inverse":
            return inverse.reshape(x.shape if dim is None else -1).astype(np.int64)
        if output == "counts":
            return counts.astype(np.int64)
        return values

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        raise NotImplementedError("the derivative for 'unique' is not implemented.")
