"""Max pooling: the index of each window's maximum (an integer op), and the gather by those
indices (with its adjoint, the scatter-add) that carries the values and the gradients.

``max_pool`` is ``GatherFlat(x, MaxPoolIndices(x))``: the indices are what
``return_indices=True`` returns, and the gather is differentiable to any order (its backward
is ``ScatterFlat``, whose backward is ``GatherFlat``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Context, Function
from .conv import Ints, pad_crop, windows


def pool_out_size(size: int, kernel: int, stride: int, pad: int, dilation: int,
                  ceil_mode: bool) -> int:
    """PyTorch's pooling output size; with ``ceil_mode`` the last window must start inside the
    input or its left padding."""
    span = dilation * (kernel - 1) + 1
    num = size + 2 * pad - span + (stride - 1 if ceil_mode else 0)
    out = num // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


class MaxPoolIndices(Function):
    """i = the flat index (over the spatial dims of x) of the maximum of each window, as
    PyTorch picks it: the first maximum; the last NaN if the window has NaN; the first element
    inside the input if every element is -inf. Integer output, no gradient."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, kernel: Ints = (1,), stride: Ints = (1,),
                padding: Ints = (0,), dilation: Ints = (1,), out: Ints = (1,)) -> np.ndarray:
        nd = len(kernel)
        size = x.shape[-nd:]
        lead = x.shape[:-nd]
        if math.prod(out) == 0 or x.size == 0:
            return np.zeros(lead + tuple(out), dtype=np.int64)
        lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        hi = tuple((o - 1) * s + d * (k - 1) + 1 - n - p for o, s, d, k, n, p
                   in zip(out, stride, dilation, kernel, size, padding, strict=True))
        xp = pad_crop(x.reshape((-1, 1) + size), padding, hi, lowest)
        win = windows(xp, kernel, stride, dilation, out)  # (M, 1, *O, *K)
        flat = win.reshape(win.shape[:2 + nd] + (-1,))
        k = flat.argmax(axis=-1)
        if x.dtype.kind == "f":
            best = np.take_along_axis(flat, k[..., None], axis=-1)[..., 0]
            nan = np.isnan(best)
            if nan.any():  # PyTorch keeps the last NaN of the window
                last = flat.shape[-1] - 1 - np.isnan(flat[..., ::-1]).argmax(axis=-1)
                k = np.where(nan, last, k)
        offsets = np.unravel_index(k, kernel)
        positions, inside = [], np.ones(k.shape, dtype=bool)
        for i in range(nd):
            start = (np.arange(out[i]) * stride[i] - padding[i]).reshape(
                (-1,) + (1,) * (nd - 1 - i))
            pos = start + offsets[i] * dilation[i]
            inside &= (pos >= 0) & (pos < size[i])
            # the first element of the window inside the input (PyTorch's starting guess)
            first = start + (-(start // dilation[i])).clip(min=0) * dilation[i]
            positions.append((pos, first))
        index = np.ravel_multi_index(
            tuple(np.where(inside, pos, first) for pos, first in positions), size)
        return index.reshape(lead + tuple(out)).astype(np.int64)


class GatherFlat(Function):
    """y[..., j] = x[..., i[..., j]] with i indexing the last ``nd`` dims of x flattened;
    dx = scatter_flat(g, i) (the adjoint: g added at the indices)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, index: np.ndarray, nd: int = 1,
                unique: bool = False) -> np.ndarray:
        ctx.save_for_backward(index)
        ctx.size = x.shape[x.ndim - nd:]
        lead = x.shape[:x.ndim - nd]
        flat = x.reshape(lead + (-1,))
        idx = index.reshape(lead + (-1,))
        return np.take_along_axis(flat, idx, axis=-1).reshape(index.shape)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Any, None]:
        (index,) = ctx.saved_tensors
        unique = ctx.kwargs.get("unique", False)
        return ScatterFlat.apply(g, index, size=ctx.size, unique=unique), None


class ScatterFlat(Function):
    """y = zeros with trailing dims ``size``, and y[..., i[..., j]] += x[..., j] (flattened
    trailing dims); dx = gather_flat(g, i). ``unique``: no index repeats within a row (then
    a plain assignment does it)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, index: np.ndarray, size: Ints = (1,),
                unique: bool = False) -> np.ndarray:
        ctx.save_for_backward(index)
        lead = index.shape[:index.ndim - len(size)]
        n = math.prod(size)
        rows = math.prod(lead)
        idx = index.reshape(rows, -1)
        values = x.reshape(rows, -1)
        if unique:
            y = np.zeros((rows, n), dtype=x.dtype)
            np.put_along_axis(y, idx, values, axis=-1)
        else:
            flat = (idx + np.arange(rows).reshape(-1, 1) * n).ravel()
            y = np.bincount(flat, weights=values.ravel(), minlength=rows * n)
            y = y.astype(x.dtype, copy=False).reshape(rows, n)
        return y.reshape(lead + tuple(size))

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Any, None]:
        (index,) = ctx.saved_tensors
        nd = len(ctx.kwargs.get("size", (1,)))
        return GatherFlat.apply(g, index, nd=nd, unique=ctx.kwargs.get("unique", False)), None
