"""Linear maps that act on each of the last dims separately: interpolation (nearest, linear)
and reflect/replicate/circular padding (``Resample``), average and adaptive average pooling
(``WindowMean``, summed and divided in PyTorch's order), and constant padding
(``ConstantPad``).

Along each dim, ``Resample`` applies a sparse matrix given as a table: for output position o,
the source positions idx[o, :] and their weights w[o, :] (and a mask for rows shorter than
the table), so y[o] = sum over l of w[o, l] x[idx[o, l]] (a gather and a sum; masked entries
give exactly 0, so inf and NaN stay where they are, as in PyTorch). The tables are computed
inside the op from a small description (``spec``) of each dim, with PyTorch's index rules.
The backward applies the transposed tables (a scatter written as a gather), whose backward
applies the tables again: derivatives of any order.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.function import Context, Function
from .conv import Ints, pad_crop

if TYPE_CHECKING:  # for annotations only (microtensor.tensor imports the ops)
    from ..tensor import Tensor

Spec = tuple[Any, ...]
Table = tuple[np.ndarray, np.ndarray | None, np.ndarray | None]


def _avg_table(size: int, out: int, kernel: int, stride: int, pad: int, count_include_pad: bool,
               divisor: float | None) -> Table:
    """PyTorch's avg_pool windows [o s - p, o s - p + k) (the elements inside the input)."""
    start = np.arange(out) * stride - pad
    idx = start[:, None] + np.arange(kernel)
    mask = (idx >= 0) & (idx < size)
    return idx.clip(0, max(size - 1, 0)), None, mask


def _avg_divisor(size: int, out: int, kernel: int, stride: int, pad: int,
                 count_include_pad: bool, divisor: float | None) -> np.ndarray:
    """PyTorch's avg_pool divisor along one dim: the window clipped to the padded input, or to
    the input without ``count_include_pad`` (``divisor``, when given, is used instead)."""
    start = np.arange(out) * stride - pad
    end = np.minimum(start + kernel, size + pad)
    if divisor is not None:
        return np.full(out, float(divisor))
    if count_include_pad:
        return (end - start).astype(np.float64)
    valid = np.minimum(end, size) - np.maximum(start, 0)
    return np.maximum(valid, 1).astype(np.float64)  # (a window of padding only sums to 0)


def _adaptive_table(size: int, out: int) -> Table:
    """PyTorch's adaptive_avg_pool windows [floor(o X / O), ceil((o + 1) X / O))."""
    o = np.arange(out)
    start = (o * size) // out
    end = ((o + 1) * size + out - 1) // out
    length = int((end - start).max()) if out else 1
    idx = start[:, None] + np.arange(length)
    return idx.clip(0, size - 1), None, idx < end[:, None]


def divisor(spec: Spec) -> np.ndarray:
    """The divisor of each output of an "avg" or "adaptive" dim (its window's size)."""
    if spec[0] == "avg":
        return _avg_divisor(*spec[1:])
    size, out = spec[1:]
    o = np.arange(out)
    return (((o + 1) * size + out - 1) // out - (o * size) // out).astype(np.float64)


def _scale(size: int, out: int, scale: float | None, dtype: np.dtype) -> Any:
    """PyTorch's compute_scales_value: 1 / scale_factor when given, else size / out."""
    t = dtype.type
    return t(1.0 / scale) if scale is not None and scale > 0 else t(size) / t(out)


def _nearest_table(size: int, out: int, scale: float | None, exact: bool) -> Table:
    """PyTorch's nearest (floor(o * scale)) and nearest-exact (floor((o + 0.5) * scale)), in
    float32 arithmetic as PyTorch computes them, capped at size - 1."""
    o = np.arange(out)
    if not exact and out == size:
        idx = o
    elif not exact and out == 2 * size:
        idx = o >> 1
    else:
        s = _scale(size, out, scale, np.dtype(np.float32))
        pos = (o.astype(np.float32) + np.float32(0.5)) * s if exact else o.astype(np.float32) * s
        idx = np.minimum(np.floor(pos).astype(np.int64), size - 1)
    return idx[:, None], None, None


def _linear_table(size: int, out: int, align_corners: bool, scale: float | None,
                  dtype: np.dtype) -> Table:
    """PyTorch's linear interpolation: source position o * (X - 1) / (O - 1) with
    ``align_corners``, else max(scale (o + 0.5) - 0.5, 0); the two neighbours and their
    weights, computed in the input's dtype (with PyTorch's roundings)."""
    t = dtype.type
    o = np.arange(out).astype(dtype)
    if align_corners:
        s = t(size - 1) / t(out - 1) if out > 1 else t(0)
        src = s * o
    else:  # as PyTorch: scale * (i + 0.5) - 0.5 in double, rounded once to the dtype
        s = _scale(size, out, scale, dtype)
        src = (np.float64(s) * (np.arange(out) + 0.5) - 0.5).astype(dtype)
        src = np.maximum(src, t(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), size - 1)
    i1 = i0 + (i0 < size - 1)
    l1 = np.clip(src - i0.astype(dtype), t(0), t(1))
    l0 = t(1) - l1
    return np.stack([i0, i1], axis=1), np.stack([l0, l1], axis=1), None


def _pad_table(mode: str, size: int, lo: int, hi: int) -> Table:
    """Source positions of reflect/replicate/circular padding by lo before and hi after."""
    j = np.arange(-lo, size + hi)
    if mode == "reflect":
        j = np.abs(j)
        j = np.where(j >= size, 2 * (size - 1) - j, j)
    elif mode == "replicate":
        j = j.clip(0, size - 1)
    else:
        j = j % size
    return j[:, None], None, None


@functools.lru_cache(maxsize=256)
def table(spec: Spec, dtype: np.dtype) -> Table:
    """The table (idx, weights or None, mask or None) of one dim, read-only and cached."""
    kind = spec[0]
    if kind == "avg":
        idx, w, mask = _avg_table(*spec[1:])
    elif kind == "adaptive":
        idx, w, mask = _adaptive_table(*spec[1:])
    elif kind in ("nearest", "nearest-exact"):
        _, size, out, scale = spec
        idx, w, mask = _nearest_table(size, out, scale, exact=kind == "nearest-exact")
    elif kind == "linear":
        _, size, out, align_corners, scale = spec
        idx, w, mask = _linear_table(size, out, align_corners, scale, dtype)
    else:
        idx, w, mask = _pad_table(*spec)
    if w is not None:
        w = w.astype(dtype)
    for a in (idx, w, mask):
        if a is not None:
            a.flags.writeable = False
    return idx, w, mask


@functools.lru_cache(maxsize=256)
def transposed_table(spec: Spec, dtype: np.dtype) -> Table:
    """The table of the transposed matrix: for each source position, the outputs it feeds."""
    idx, w, mask = table(spec, dtype)
    out, length = idx.shape
    keep = np.ones(idx.shape, dtype=bool) if mask is None else mask
    rows = np.broadcast_to(np.arange(out)[:, None], idx.shape)[keep]
    src = idx[keep]
    weights = None if w is None else w[keep]
    n = spec[1]  # the size of the dim the spec maps from
    order = np.argsort(src, kind="stable")
    src, rows = src[order], rows[order]
    counts = np.bincount(src, minlength=n)
    width = max(int(counts.max()) if n else 1, 1)
    slot = np.arange(src.size) - np.repeat(np.cumsum(counts) - counts, counts)
    t_idx = np.zeros((n, width), dtype=np.int64)
    t_idx[src, slot] = rows
    filled = np.zeros((n, width), dtype=bool)
    filled[src, slot] = True
    t_w = None
    if weights is not None:
        t_w = np.zeros((n, width), dtype=dtype)
        t_w[src, slot] = weights[order]
    t_mask = None if filled.all() else filled
    for a in (t_idx, t_w, t_mask):
        if a is not None:
            a.flags.writeable = False
    return t_idx, t_w, t_mask


def _apply(x: np.ndarray, axis: int, tab: Table) -> np.ndarray:
    """y[..., o, ...] = sum over l of w[o, l] x[..., idx[o, l], ...] along ``axis``."""
    idx, w, mask = tab
    xm = np.moveaxis(x, axis, -1)
    if xm.shape[-1] == 0:  # nothing to gather from (an output of size 0, transposed)
        y = np.zeros(xm.shape[:-1] + idx.shape[:1], dtype=x.dtype)
    elif w is None and mask is None and idx.shape[1] == 1:
        y = xm[..., idx[:, 0]]
    else:
        v = xm[..., idx]  # (..., O, L)
        if w is not None:
            v = v * w
        if mask is not None:
            v = np.where(mask, v, 0)
        y = v.sum(axis=-1, dtype=v.dtype)
    return np.moveaxis(y, -1, axis)


class Resample(Function):
    """y = A_1 A_2 ... A_n x, with A_d the sparse matrix of ``specs[d]`` acting on the d-th of
    the last n dims of x (see the module docstring); dx = A_1^T ... A_n^T g. With ``adjoint``
    the op applies the transposed matrices instead (it is then the backward of the other)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, specs: tuple[Spec, ...] = (),
                adjoint: bool = False) -> np.ndarray:
        get = transposed_table if adjoint else table
        lead = x.ndim - len(specs)
        y = x
        for d in reversed(range(len(specs))):  # the last dim first, as PyTorch's loops
            y = _apply(y, lead + d, get(specs[d], x.dtype))
        return y if y is not x else x.copy()

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        kw = ctx.kwargs
        return Resample.apply(g, specs=kw.get("specs", ()), adjoint=not kw.get("adjoint", False))


def _divide(y: np.ndarray, specs: tuple[Spec, ...]) -> np.ndarray:
    """y divided as PyTorch divides the window sums: by the product of the window sizes for
    avg_pool (or by divisor_override), one dim after the other for adaptive_avg_pool."""
    nd = len(specs)
    divs = [divisor(sp) for sp in specs]
    if specs[0][0] == "adaptive":
        for d, div in enumerate(divs):
            y = y / div.astype(y.dtype).reshape((-1,) + (1,) * (nd - 1 - d))
        return y
    total = divs[0] if specs[0][-1] is not None else functools.reduce(np.multiply.outer, divs)
    return y / np.asarray(total, dtype=y.dtype).reshape(
        total.shape + (1,) * (nd - np.ndim(total)))


class WindowMean(Function):
    """y = the sum of each window of x's last dims (the windows of ``specs``: "avg" for
    avg_pool, "adaptive" for adaptive_avg_pool) divided by its divisor, summed in PyTorch's
    order (row by row);   dx = window_mean_t(g): g / divisor spread over the windows"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, specs: tuple[Spec, ...] = ()) -> np.ndarray:
        nd = len(specs)
        lead = x.ndim - nd
        tables = [table(sp, x.dtype) for sp in specs]
        out = tuple(t[0].shape[0] for t in tables)
        acc = np.zeros(x.shape[:lead] + out, dtype=x.dtype)
        # NOTE: one whole-array addition per window offset (9 for a 3 x 3 window), in PyTorch's
        # order, so that float32 sums round as PyTorch's do.
        for offset in np.ndindex(*(t[0].shape[1] for t in tables)):
            v, mask = x, None
            for d, (tab, k) in enumerate(zip(tables, offset, strict=True)):
                v = np.take(v, tab[0][:, k], axis=lead + d)
                assert tab[2] is not None  # (the "avg" and "adaptive" tables have masks)
                m = tab[2][:, k].reshape((-1,) + (1,) * (nd - 1 - d))
                mask = m if mask is None else mask & m
            assert mask is not None  # (the loop ran: there is at least one dim)
            acc += np.where(mask, v, 0)
        return _divide(acc, specs)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return WindowMeanT.apply(g, specs=ctx.kwargs.get("specs", ()))


class WindowMeanT(Function):
    """dx = the adjoint of window_mean: g / divisor added to every element of each window;
    its derivative is window_mean again"""

    @staticmethod
    def forward(ctx: Context, g: np.ndarray, specs: tuple[Spec, ...] = ()) -> np.ndarray:
        y = _divide(g, specs)
        lead = g.ndim - len(specs)
        for d in reversed(range(len(specs))):
            y = _apply(y, lead + d, transposed_table(specs[d], g.dtype))
        return y

    @staticmethod
    def backward(ctx: Context, h: Tensor) -> Tensor:
        return WindowMean.apply(h, specs=ctx.kwargs.get("specs", ()))


class ConstantPad(Function):
    """y = x padded with ``value`` by lo[i] before and hi[i] after the i-th of its last dims
    (negative amounts crop);   dx = g cropped back (constant_pad(g, -lo, -hi))"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, lo: Ints = (), hi: Ints = (),
                value: Any = 0) -> np.ndarray:
        y = pad_crop(x, lo, hi, value)
        return y if y is not x else x.copy()

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        kw = ctx.kwargs
        lo, hi = kw.get("lo", ()), kw.get("hi", ())
        return ConstantPad.apply(g, lo=tuple(-a for a in lo), hi=tuple(-b for b in hi))


def pool_specs(size: Ints, out: Ints, kernel: Ints, stride: Ints, padding: Ints,
               count_include_pad: bool, divisor_override: float | None) -> tuple[Spec, ...]:
    """The specs of average pooling (each dim's holds ``divisor_override``; ``_divide`` uses
    the first dim's)."""
    return tuple(("avg", n, o, k, s, p, count_include_pad,
                  divisor_override)
                 for n, o, k, s, p in zip(size, out, kernel, stride, padding, strict=True))

