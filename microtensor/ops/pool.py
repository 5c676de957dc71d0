"""Max pooling: ``MaxPool`` (the maximum of each window), ``MaxPoolIndices`` (where it is, for
``return_indices=True``), and the scatter-add by those indices (``ScatterFlat``, the backward
of ``MaxPool``) with its adjoint, the gather (``GatherFlat``): derivatives of any order.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..autograd.function import Context, Function
from .conv import Ints, pad_crop
from .resample import table

if TYPE_CHECKING:  # for annotations only (microtensor.tensor imports the ops)
    from ..tensor import Tensor


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


def _max_pool(x: np.ndarray, kernel: Ints, stride: Ints, padding: Ints, dilation: Ints,
              out: Ints) -> tuple[np.ndarray, np.ndarray]:
    """The maximum of each window of x's last len(kernel) dims and its flat index there, as
    PyTorch computes them: start from the first element of the window inside the input and
    -inf, then take each later element that is greater, or NaN."""
    nd = len(kernel)
    size = x.shape[-nd:]
    lead = x.shape[:-nd]
    if math.prod(out) == 0 or x.size == 0:
        return np.zeros(lead + tuple(out), x.dtype), np.zeros(lead + tuple(out), np.int64)
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    hi = tuple((o - 1) * s + d * (k - 1) + 1 - n - p for o, s, d, k, n, p
               in zip(out, stride, dilation, kernel, size, padding, strict=True))
    xp = pad_crop(x, padding, hi, lowest)
    starts = [(np.arange(o) * s - p).reshape((-1,) + (1,) * (nd - 1 - i))
              for i, (o, s, p) in enumerate(zip(out, stride, padding, strict=True))]
    # The first element of each window inside the input, and its flat index.
    first = [st + (-(st // d)).clip(min=0) * d for st, d in zip(starts, dilation, strict=True)]
    first_index = np.ravel_multi_index(tuple(first), size, mode="clip")
    best = np.full(lead + tuple(out), lowest, dtype=x.dtype)
    index = np.broadcast_to(first_index, best.shape)
    # NOTE: a loop over the kernel offsets (4 for a 2 x 2 window) of whole-array comparisons:
    # measured 2 times faster than copying the windows out and calling argmax (whose rows
    # of kH * kW elements are too short for NumPy), and it follows PyTorch's rule exactly:
    # take a later element if it is greater, or NaN (checked only if x has a NaN: max is NaN).
    nan_rule = x.dtype.kind == "f" and bool(np.isnan(x.max()))
    for offset in np.ndindex(*kernel):
        at = tuple(slice(k * d, k * d + (o - 1) * s + 1, s)
                   for k, d, o, s in zip(offset, dilation, out, stride, strict=True))
        v = xp[(Ellipsis,) + at]
        take = (v > best) | np.isnan(v) if nan_rule else v > best
        pos = np.ravel_multi_index(tuple(st + k * d for st, k, d
                                         in zip(starts, offset, dilation, strict=True)),
                                   size, mode="clip")
        index = np.where(take, pos, index)
        best = np.where(take, v, best)
    return best, index


class MaxPool(Function):
    """y = the maximum of each window of the last len(kernel) dims of x (padding -inf);
    dx = g added at the position of each maximum (scatter_flat)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, kernel: Ints = (1,), stride: Ints = (1,),
                padding: Ints = (0,), dilation: Ints = (1,), out: Ints = (1,)) -> np.ndarray:
        y, index = _max_pool(x, kernel, stride, padding, dilation, out)
        ctx.save_for_backward(index)
        ctx.size = x.shape[x.ndim - len(kernel):]
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (index,) = ctx.saved_tensors
        kw = ctx.kwargs
        # Windows that do not overlap pick distinct elements: the scatter may assign.
        kernel = kw.get("kernel", (1,))
        unique = all(s >= d * (k - 1) + 1 for s, d, k in
                     zip(kw.get("stride", (1,) * len(kernel)),
                         kw.get("dilation", (1,) * len(kernel)), kernel, strict=True))
        return ScatterFlat.apply(g, index, size=ctx.size, unique=unique)


class MaxPoolIndices(Function):
    """i = the flat index (over the last len(kernel) dims of x) of the maximum of each window,
    as PyTorch picks it (see ``MaxPool``). Integer output, no gradient."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, kernel: Ints = (1,), stride: Ints = (1,),
                padding: Ints = (0,), dilation: Ints = (1,), out: Ints = (1,)) -> np.ndarray:
        return _max_pool(x, kernel, stride, padding, dilation, out)[1]


def _adaptive_max_pool(x: np.ndarray, out: Ints) -> tuple[np.ndarray, np.ndarray]:
    """The maximum of each adaptive window (PyTorch's [floor(o X / O), ceil((o + 1) X / O))
    along each of the last len(out) dims) and its flat index, by PyTorch's rule (see
    ``_max_pool``): one whole-array step per offset within the windows."""
    nd = len(out)
    lead, size = x.shape[:x.ndim - nd], x.shape[x.ndim - nd:]
    tables = [table(("adaptive", n, o), x.dtype) for n, o in zip(size, out, strict=True)]
    shape = lead + tuple(out)

    def column(d: int, a: np.ndarray) -> np.ndarray:  # a per-output vector of dim d, broadcast
        return a.reshape((-1,) + (1,) * (nd - 1 - d))

    best = np.full(shape, -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min, x.dtype)
    index = np.broadcast_to(np.ravel_multi_index(
        tuple(column(d, t[0][:, 0]) for d, t in enumerate(tables)), size), shape)
    nan_rule = x.dtype.kind == "f" and x.size > 0 and bool(np.isnan(x.max()))
    for offset in np.ndindex(*(t[0].shape[1] for t in tables)):
        v, mask, where = x, None, []
        for d, (tab, k) in enumerate(zip(tables, offset, strict=True)):
            v = np.take(v, tab[0][:, k], axis=len(lead) + d)
            assert tab[2] is not None  # (the "adaptive" tables have masks)
            m = column(d, tab[2][:, k])
            mask = m if mask is None else mask & m
            where.append(column(d, tab[0][:, k]))
        assert mask is not None  # (the loop ran: there is at least one dim)
        take = ((v > best) | np.isnan(v) if nan_rule else v > best) & mask
        index = np.where(take, np.ravel_multi_index(tuple(where), size), index)
        best = np.where(take, v, best)
    return best, index


class AdaptiveMaxPool(Function):
    """y = the maximum of each adaptive window of the last len(out) dims of x;
    dx = g added at the position of each maximum (scatter_flat; windows may overlap)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, out: Ints = (1,)) -> np.ndarray:
        y, index = _adaptive_max_pool(x, out)
        ctx.save_for_backward(index)
        ctx.size = x.shape[x.ndim - len(out):]
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (index,) = ctx.saved_tensors
        return ScatterFlat.apply(g, index, size=ctx.size, unique=False)


class AdaptiveMaxPoolIndices(Function):
    """i = the flat index of the maximum of each adaptive window (see ``AdaptiveMaxPool``).
    Integer output, no gradient."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, out: Ints = (1,)) -> np.ndarray:
        return _adaptive_max_pool(x, out)[1]


class GatherFlat(Function):
    """y[..., j] = x[..., i[..., j]] with i indexing the last ``nd`` dims of x flattened;
    dx = scatter_flat(g, i) (the adjoint: g added at the indices)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, index: np.ndarray, nd: int = 1,
                unique: bool = False) -> np.ndarray:
        ctx.save_for_backward(index)
        ctx.size = x.shape[x.ndim - nd:]
        lead = x.shape[:x.ndim - nd]
        n = math.prod(ctx.size)
        flat = index.reshape(-1, math.prod(index.shape[len(lead):]))
        flat = flat + (np.arange(flat.shape[0]) * n)[:, None]  # indices into x.ravel()
        return np.ravel(x)[flat].reshape(index.shape)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor, None]:
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
        flat = (idx + np.arange(rows).reshape(-1, 1) * n).ravel()
        if unique:
            y = np.zeros(rows * n, dtype=x.dtype)
            y[flat] = values.ravel()
        else:
            y = np.bincount(flat, weights=values.ravel(), minlength=rows * n)
            y = y.astype(x.dtype, copy=False)
        return y.reshape(lead + tuple(size))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor, None]:
        (index,) = ctx.saved_tensors
        nd = len(ctx.kwargs.get("size", (1,)))
        return GatherFlat.apply(g, index, nd=nd, unique=ctx.kwargs.get("unique", False)), None
