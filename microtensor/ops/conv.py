"""Convolution primitives over any number of spatial dims (1-D and 2-D in ``nn``).

Three bilinear ops, each the adjoint of the others in one argument, so that every backward is
made of the same three ops and derivatives of any order work:

* ``Conv``: y = conv(x, w) + b (cross-correlation, PyTorch's convolution),
* ``ConvTranspose``: the adjoint of ``conv`` in x (``conv_transpose``; the input gradient),
* ``ConvWeight``: the adjoint of ``conv`` in w (the weight gradient).

Shapes: x (N, C, *X), w (Co, C / groups, *K), y (N, Co, *O) with
O = (X + lo + hi - dilation (K - 1) - 1) // stride + 1 for padding (lo, hi) on each side.

``Conv`` and ``ConvWeight`` gather the input windows with ``sliding_window_view`` (a view),
copy them once into columns (groups, C / groups * prod(K), prod(O) * N) and do one matrix
product per group with the weight or the gradient: no Python loop over positions.
``ConvTranspose`` does the matrix product w^T g first and adds the resulting columns back into
place, one strided slice per kernel offset (col2im).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd.function import Context, Function
from .reduce import Sum

if TYPE_CHECKING:  # for annotations only (microtensor.tensor imports the ops)
    from ..tensor import Tensor

Ints = tuple[int, ...]


def pad_crop(x: np.ndarray, lo: Ints, hi: Ints, value: Any = 0,
             first: int | None = None) -> np.ndarray:
    """x padded with ``value`` by lo[i] before and hi[i] after dim first + i (by default the
    last len(lo) dims); a negative amount crops instead."""
    if not any(lo) and not any(hi):
        return x
    lead = x.ndim - len(lo) if first is None else first
    rest = x.shape[lead + len(lo):]
    sizes = x.shape[lead:lead + len(lo)]
    new = tuple(max(s + a + b, 0) for s, a, b in zip(sizes, lo, hi, strict=True))
    shape = x.shape[:lead] + new + rest
    out = np.zeros(shape, dtype=x.dtype) if value == 0 else np.full(shape, value, dtype=x.dtype)
    src, dst = [], []
    for s, a, b, n in zip(sizes, lo, hi, new, strict=True):
        start, stop = max(-a, 0), s - max(-b, 0)
        length = max(min(stop - start, n), 0)
        src.append(slice(start, start + length))
        dst.append(slice(max(a, 0), max(a, 0) + length))
    keep = (slice(None),) * lead
    out[keep + tuple(dst)] = x[keep + tuple(src)]
    return out


def out_size(size: Ints, kernel: Ints, stride: Ints, lo: Ints, hi: Ints, dilation: Ints) -> Ints:
    """The output size of a convolution: (X + lo + hi - dilation (K - 1) - 1) // stride + 1."""
    return tuple((x + a + b - d * (k - 1) - 1) // s + 1
                 for x, k, s, a, b, d in zip(size, kernel, stride, lo, hi, dilation, strict=True))


def _hi(size: Ints, out: Ints, kernel: Ints, stride: Ints, lo: Ints, dilation: Ints) -> Ints:
    """The padding after each dim for which a convolution of ``size`` gives exactly ``out``."""
    return tuple((o - 1) * s + d * (k - 1) + 1 - x - a
                 for x, o, k, s, a, d in zip(size, out, kernel, stride, lo, dilation, strict=True))


def _batch_last(x: np.ndarray, lo: Ints, hi: Ints) -> np.ndarray:
    """x (N, C, *X) padded by lo, hi as (C, *X_padded, N), contiguous.

    NOTE: with the batch as the last dim, each window row of the columns below is a block of
    O_w * N contiguous elements (not O_w), and each col2im addition too: NumPy copies and adds
    such blocks several times faster than short rows (LeNet's layers: 8 to 24 elements).
    """
    return np.ascontiguousarray(pad_crop(np.moveaxis(x, 0, -1), lo, hi, first=1))


def _columns(xt: np.ndarray, kernel: Ints, stride: Ints, dilation: Ints, groups: int,
             out: Ints) -> np.ndarray:
    """The windows of the batch-last input xt (C, *X, N) copied into columns
    (groups, C / groups * prod(K), prod(O) * N): one matrix product per group then covers
    the whole batch."""
    nd = len(kernel)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    view = sliding_window_view(xt, span, axis=tuple(range(1, 1 + nd)))  # (C, *P, N, *span)
    index = ((slice(None),)
             + tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out, stride, strict=True))
             + (slice(None),) + tuple(slice(None, None, d) for d in dilation))
    win = view[index]  # (C, *O, N, *K)
    c = xt.shape[0]
    order = (0,) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(1, 2 + nd))
    return win.transpose(order).reshape(groups, (c // groups) * math.prod(kernel), -1)


def _group_rows(g: np.ndarray, groups: int) -> np.ndarray:
    """g (N, Co, *O) as (groups, Co / groups, prod(O) * N), the layout of the columns."""
    n, co = g.shape[:2]
    return np.ascontiguousarray(np.moveaxis(g, 0, -1)).reshape(groups, co // groups, -1)


def _from_batch_last(y: np.ndarray) -> np.ndarray:
    """(C, *S, N) -> (N, C, *S), contiguous."""
    return np.ascontiguousarray(np.moveaxis(y, -1, 0))


def _conv(x: np.ndarray, w: np.ndarray, stride: Ints, lo: Ints, hi: Ints, dilation: Ints,
          groups: int) -> np.ndarray:
    """The convolution of x (N, C, *X) with w (Co, C / groups, *K), in NumPy."""
    kernel = w.shape[2:]
    n, co = x.shape[0], w.shape[0]
    out = out_size(x.shape[2:], kernel, stride, lo, hi, dilation)
    dtype = np.result_type(x, w)
    if n == 0 or co == 0 or math.prod(out) == 0 or w.shape[1] == 0:
        return np.zeros((n, co) + out, dtype=dtype)
    cols = _columns(_batch_last(x, lo, hi), kernel, stride, dilation, groups, out)
    y = w.reshape(groups, co // groups, -1) @ cols  # (groups, Co / groups, prod(O) * N)
    return _from_batch_last(y.reshape((co,) + out + (n,)))


def _conv_transpose(g: np.ndarray, w: np.ndarray, stride: Ints, lo: Ints, dilation: Ints,
                    groups: int, size: Ints) -> np.ndarray:
    """The adjoint in x of the convolution of an input of spatial ``size`` padded by ``lo``:
    g (N, Co, *O), w (Co, C / groups, *K) -> (N, C, *size).

    Each input position gets w^T g (one matrix product for the batch: columns, as in the
    forward), and the columns are added back into place (col2im) by one strided addition per
    kernel offset.
    """
    # NOTE: the loop over kernel offsets (prod(K) additions of whole strided slices) measured
    # 5 to 8 times faster than a loop-free full convolution of the zero-upsampled gradient
    # with the flipped kernel, which multiplies mostly zeros (LeNet's second layer: 2 vs 16 ms).
    co, cg = w.shape[:2]
    kernel = w.shape[2:]
    n, out = g.shape[0], g.shape[2:]
    c = groups * cg
    dtype = np.result_type(g, w)
    if n == 0 or c == 0 or math.prod(out) == 0 or co == 0:
        return np.zeros((n, c) + tuple(size), dtype=dtype)
    wt = w.reshape(groups, co // groups, -1).transpose(0, 2, 1)  # (groups, Cg K, Co / groups)
    cols = (wt @ _group_rows(g, groups)).reshape((c,) + kernel + out + (n,))
    full = np.zeros((c,) + tuple((o - 1) * s + d * (k - 1) + 1 for o, s, d, k
                                 in zip(out, stride, dilation, kernel, strict=True)) + (n,),
                    dtype=dtype)
    for offset in np.ndindex(*kernel):
        at = tuple(slice(k * d, k * d + (o - 1) * s + 1, s)
                   for k, d, o, s in zip(offset, dilation, out, stride, strict=True))
        full[(slice(None),) + at] += cols[(slice(None),) + offset]
    # full covers input positions -lo ...: crop (or zero-extend) it to the input's extent.
    after = tuple(x - (f - a) for x, f, a in zip(size, full.shape[1:-1], lo, strict=True))
    return _from_batch_last(pad_crop(full, tuple(-a for a in lo), after, first=1))


def _conv_weight(x: np.ndarray, g: np.ndarray, stride: Ints, lo: Ints, dilation: Ints,
                 groups: int, kernel: Ints) -> np.ndarray:
    """The adjoint in w of the convolution: x (N, C, *X), g (N, Co, *O) -> (Co, C / groups, *K)."""
    n, c = x.shape[:2]
    co, out = g.shape[1], g.shape[2:]
    dtype = np.result_type(x, g)
    if n == 0 or math.prod(out) == 0 or c == 0 or co == 0:
        return np.zeros((co, c // groups) + tuple(kernel), dtype=dtype)
    hi = _hi(x.shape[2:], out, kernel, stride, lo, dilation)
    cols = _columns(_batch_last(x, lo, hi), kernel, stride, dilation, groups, out)
    dw = _group_rows(g, groups) @ cols.swapaxes(-1, -2)  # (groups, Co / groups, C/g * K)
    return dw.reshape((co, c // groups) + tuple(kernel))


def _bias_grad(g: Tensor) -> Tensor:
    """db = g summed over the batch and spatial dims."""
    return Sum.apply(g, dim=(0,) + tuple(range(2, g.ndim)), keepdim=False)


def _add_bias(y: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    if b is not None:
        y += b.reshape((-1,) + (1,) * (y.ndim - 2))  # y is a new array
    return y


class Conv(Function):
    """y[n, o, p] = sum over c, k of w[o, c, k] x_pad[n, g(o) c, p stride + k dilation] + b[o];
    dx = conv_transpose(g, w),  dw = conv_weight(x, g),  db = sum of g over n and p.

    ``padding`` holds (lo, hi) for each spatial dim (zeros)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                stride: Ints = (1,), padding: tuple[tuple[int, int], ...] = ((0, 0),),
                dilation: Ints = (1,), groups: int = 1) -> np.ndarray:
        ctx.save_for_backward(x, w)
        lo = tuple(p[0] for p in padding)
        hi = tuple(p[1] for p in padding)
        return _add_bias(_conv(x, w, stride, lo, hi, dilation, groups), b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:  # (no db without b)
        x, w = ctx.saved_tensors
        kw = ctx.kwargs
        stride, dilation = kw.get("stride", (1,)), kw.get("dilation", (1,))
        groups = kw.get("groups", 1)
        lo = tuple(p[0] for p in kw.get("padding", ((0, 0),)))
        needs_x, needs_w, needs_b = (ctx.needs_input_grad + (False,))[:3]
        dx = (ConvTranspose.apply(g, w, stride=stride, padding=lo, dilation=dilation,
                                  groups=groups, size=tuple(x.shape[2:])) if needs_x else None)
        dw = (ConvWeight.apply(x, g, stride=stride, padding=lo, dilation=dilation, groups=groups,
                               kernel=tuple(w.shape[2:])) if needs_w else None)
        return (dx, dw, _bias_grad(g) if needs_b else None)[:len(ctx.needs_input_grad)]


class ConvTranspose(Function):
    """y = conv_transpose(x, w) + b: the adjoint in its input of a convolution by w of an input
    of spatial ``size`` padded by ``padding`` before each dim, i.e.
    y[n, g(o) c, p stride + k dilation - padding] += x[n, o, p] w[o, c, k];
    dx = conv(g, w),  dw = conv_weight(g, x),  db = sum of g over n and the spatial dims."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                stride: Ints = (1,), padding: Ints = (0,), dilation: Ints = (1,),
                groups: int = 1, size: Ints = (1,)) -> np.ndarray:
        ctx.save_for_backward(x, w)
        return _add_bias(_conv_transpose(x, w, stride, padding, dilation, groups, size), b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:  # (no db without b)
        x, w = ctx.saved_tensors
        kw = ctx.kwargs
        stride, dilation = kw.get("stride", (1,)), kw.get("dilation", (1,))
        groups, lo, size = kw.get("groups", 1), kw.get("padding", (0,)), kw["size"]
        kernel = tuple(w.shape[2:])
        needs_x, needs_w, needs_b = (ctx.needs_input_grad + (False,))[:3]
        dx = dw = None
        if needs_x:
            hi = _hi(size, tuple(x.shape[2:]), kernel, stride, lo, dilation)
            dx = Conv.apply(g, w, stride=stride, padding=tuple(zip(lo, hi, strict=True)),
                            dilation=dilation, groups=groups)
        if needs_w:
            dw = ConvWeight.apply(g, x, stride=stride, padding=lo, dilation=dilation,
                                  groups=groups, kernel=kernel)
        return (dx, dw, _bias_grad(g) if needs_b else None)[:len(ctx.needs_input_grad)]


class ConvWeight(Function):
    """dw = conv_weight(x, g): dw[o, c, k] = sum over n, p of g[n, o, p] x_pad[n, g(o) c,
    p stride + k dilation] (the weight gradient of a convolution, bilinear in x and g);
    dx = conv_transpose(g, h),  dg = conv(x, h)  for the upstream gradient h."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, g: np.ndarray, stride: Ints = (1,),
                padding: Ints = (0,), dilation: Ints = (1,), groups: int = 1,
                kernel: Ints = (1,)) -> np.ndarray:
        ctx.save_for_backward(x, g)
        return _conv_weight(x, g, stride, padding, dilation, groups, kernel)

    @staticmethod
    def backward(ctx: Context, h: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, g = ctx.saved_tensors
        kw = ctx.kwargs
        stride, dilation = kw.get("stride", (1,)), kw.get("dilation", (1,))
        groups, lo, kernel = kw.get("groups", 1), kw.get("padding", (0,)), kw["kernel"]
        needs_x, needs_g = ctx.needs_input_grad
        dx = dg = None
        if needs_x:
            dx = ConvTranspose.apply(g, h, stride=stride, padding=lo, dilation=dilation,
                                     groups=groups, size=tuple(x.shape[2:]))
        if needs_g:
            hi = _hi(tuple(x.shape[2:]), tuple(g.shape[2:]), kernel, stride, lo, dilation)
            dg = Conv.apply(x, h, stride=stride, padding=tuple(zip(lo, hi, strict=True)),
                            dilation=dilation, groups=groups)
        return dx, dg
