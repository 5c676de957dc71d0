"""Convolution primitives over any number of spatial dims (1-D and 2-D in ``nn``).

Three bilinear ops, each the adjoint of the others in one argument, so that every backward is
made of the same three ops and derivatives of any order work:

* ``Conv``: y = conv(x, w) + b (cross-correlation, PyTorch's convolution),
* ``ConvTranspose``: the adjoint of ``conv`` in x (``conv_transpose``; the input gradient),
* ``ConvWeight``: the adjoint of ``conv`` in w (the weight gradient).

Shapes: x (N, C, *X), w (Co, C / groups, *K), y (N, Co, *O) with
O = (X + lo + hi - dilation (K - 1) - 1) // stride + 1 for padding (lo, hi) on each side.

Each forward gathers the input windows with ``sliding_window_view`` (a view), copies them once
into columns (N, groups, C / groups * prod(K), prod(O)) and does one batched matrix product
with the weight: no Python loop over positions. ``ConvTranspose`` is the convolution of the
zero-upsampled (by the stride), zero-padded gradient with the flipped, transposed weight.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd.function import Context, Function
from .reduce import Sum

Ints = tuple[int, ...]


def pad_crop(x: np.ndarray, lo: Ints, hi: Ints, value: Any = 0) -> np.ndarray:
    """x padded with ``value`` by lo[i] before and hi[i] after the i-th of its last len(lo)
    dims; a negative amount crops instead."""
    if not any(lo) and not any(hi):
        return x
    lead = x.ndim - len(lo)
    sizes = x.shape[lead:]
    new = tuple(max(s + a + b, 0) for s, a, b in zip(sizes, lo, hi, strict=True))
    shape = x.shape[:lead] + new
    out = np.zeros(shape, dtype=x.dtype) if value == 0 else np.full(shape, value, dtype=x.dtype)
    src, dst = [], []
    for s, a, b, n in zip(sizes, lo, hi, new, strict=True):
        start, stop = max(-a, 0), s - max(-b, 0)
        length = max(min(stop - start, n), 0)
        src.append(slice(start, start + length))
        dst.append(slice(max(a, 0), max(a, 0) + length))
    out[(Ellipsis, *dst)] = x[(Ellipsis, *src)]
    return out


def out_size(size: Ints, kernel: Ints, stride: Ints, lo: Ints, hi: Ints, dilation: Ints) -> Ints:
    """The output size of a convolution: (X + lo + hi - dilation (K - 1) - 1) // stride + 1."""
    return tuple((x + a + b - d * (k - 1) - 1) // s + 1
                 for x, k, s, a, b, d in zip(size, kernel, stride, lo, hi, dilation, strict=True))


def windows(xp: np.ndarray, kernel: Ints, stride: Ints, dilation: Ints, out: Ints) -> np.ndarray:
    """The view (N, C, *O, *K) of the windows of the padded input ``xp`` (no copy)."""
    nd = len(kernel)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    view = sliding_window_view(xp, span, axis=tuple(range(2, 2 + nd)))
    index = ((slice(None),) * 2
             + tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out, stride, strict=True))
             + tuple(slice(None, None, d) for d in dilation))
    return view[index]


def _hi(size: Ints, out: Ints, kernel: Ints, stride: Ints, lo: Ints, dilation: Ints) -> Ints:
    """The padding after each dim for which a convolution of ``size`` gives exactly ``out``."""
    return tuple((o - 1) * s + d * (k - 1) + 1 - x - a
                 for x, o, k, s, a, d in zip(size, out, kernel, stride, lo, dilation, strict=True))


def _columns(xp: np.ndarray, kernel: Ints, stride: Ints, dilation: Ints, groups: int,
             out: Ints) -> np.ndarray:
    """The windows copied into columns (N, groups, C / groups * prod(K), prod(O))."""
    win = windows(xp, kernel, stride, dilation, out)
    n, c, nd = xp.shape[0], xp.shape[1], len(kernel)
    win = win.reshape((n, groups, c // groups) + win.shape[2:])
    order = (0, 1, 2) + tuple(range(3 + nd, 3 + 2 * nd)) + tuple(range(3, 3 + nd))
    return win.transpose(order).reshape(n, groups, (c // groups) * math.prod(kernel),
                                        math.prod(out))


def _conv(x: np.ndarray, w: np.ndarray, stride: Ints, lo: Ints, hi: Ints, dilation: Ints,
          groups: int) -> np.ndarray:
    """The convolution of x (N, C, *X) with w (Co, C / groups, *K), in NumPy."""
    kernel = w.shape[2:]
    n, co = x.shape[0], w.shape[0]
    out = out_size(x.shape[2:], kernel, stride, lo, hi, dilation)
    dtype = np.result_type(x, w)
    if n == 0 or co == 0 or math.prod(out) == 0 or w.shape[1] == 0:
        return np.zeros((n, co) + out, dtype=dtype)
    cols = _columns(pad_crop(x, lo, hi), kernel, stride, dilation, groups, out)
    y = w.reshape(groups, co // groups, -1) @ cols  # (N, groups, Co / groups, prod(O))
    return y.reshape((n, co) + out)


def _conv_transpose(g: np.ndarray, w: np.ndarray, stride: Ints, lo: Ints, dilation: Ints,
                    groups: int, size: Ints) -> np.ndarray:
    """The adjoint in x of the convolution of an input of spatial ``size`` padded by ``lo``:
    g (N, Co, *O), w (Co, C / groups, *K) -> (N, C, *size)."""
    co, cg = w.shape[:2]
    kernel = w.shape[2:]
    nd = len(kernel)
    out = g.shape[2:]
    # Zero-upsample g by the stride and pad it so that a stride-1 convolution with the flipped
    # kernel gives exactly ``size`` outputs (negative amounts crop).
    before = tuple(d * (k - 1) - a for k, d, a in zip(kernel, dilation, lo, strict=True))
    after = tuple(x + a - (o - 1) * s - 1
                  for x, a, o, s in zip(size, lo, out, stride, strict=True))
    if any(s > 1 for s in stride) and math.prod(out) > 0:
        up = np.zeros(g.shape[:2] + tuple((o - 1) * s + 1 for o, s in zip(out, stride,
                                                                           strict=True)),
                      dtype=g.dtype)
        up[(slice(None), slice(None), *(slice(None, None, s) for s in stride))] = g
        g = up
    wt = w.reshape((groups, co // groups, cg) + kernel).swapaxes(1, 2)
    wt = wt.reshape((groups * cg, co // groups) + kernel)[(slice(None),) * 2
                                                          + (slice(None, None, -1),) * nd]
    if math.prod(out) == 0 or co == 0:  # nothing reaches the input
        return np.zeros(g.shape[:1] + (groups * cg,) + tuple(size),
                        dtype=np.result_type(g, w))
    return _conv(g, wt, (1,) * nd, before, after, dilation, groups)


def _conv_weight(x: np.ndarray, g: np.ndarray, stride: Ints, lo: Ints, dilation: Ints,
                 groups: int, kernel: Ints) -> np.ndarray:
    """The adjoint in w of the convolution: x (N, C, *X), g (N, Co, *O) -> (Co, C / groups, *K)."""
    n, c = x.shape[:2]
    co, out = g.shape[1], g.shape[2:]
    dtype = np.result_type(x, g)
    if n == 0 or math.prod(out) == 0 or c == 0 or co == 0:
        return np.zeros((co, c // groups) + tuple(kernel), dtype=dtype)
    hi = _hi(x.shape[2:], out, kernel, stride, lo, dilation)
    cols = _columns(pad_crop(x, lo, hi), kernel, stride, dilation, groups, out)
    gm = g.reshape(n, groups, co // groups, -1)
    dw = np.matmul(gm, cols.swapaxes(-1, -2)).sum(axis=0)  # (groups, Co / groups, C/g * K)
    return dw.reshape((co, c // groups) + tuple(kernel))


def _bias_grad(g: Any) -> Any:
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
    def backward(ctx: Context, g: Any) -> tuple[Any, Any, Any]:
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
    def backward(ctx: Context, g: Any) -> tuple[Any, Any, Any]:
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
    def backward(ctx: Context, h: Any) -> tuple[Any, Any]:
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
