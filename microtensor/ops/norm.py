"""Normalisation, embedding lookup and the masked softmax of attention: the primitives behind
``nn.BatchNorm*``, ``nn.LayerNorm``, ``nn.Embedding`` and ``F.scaled_dot_product_attention``.

The statistics (mean, variance) are computed inside the ops, and ``BatchNorm`` updates the
running statistics inside its forward, so that everything that depends on the data is
recorded by an op.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from ..autograd.function import Context, Function
from ..autograd.grad_mode import is_grad_enabled
from .shape import ARRAY, IndexAdd, Reshape

if TYPE_CHECKING:  # for annotations only (microtensor.tensor imports the ops)
    from ..tensor import Tensor

Dims = tuple[int, ...]
# A gradient: a Tensor, or None where no gradient is needed.
Grad: TypeAlias = "Tensor | None"


def _normalize(x: np.ndarray, dims: Dims, eps: float) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray, np.ndarray]:
    """The mean and the biased variance over ``dims`` (keepdims), rstd = 1 / sqrt(var + eps)
    and xhat = (x - mean) * rstd."""
    n = x.size // max(1, int(np.prod([x.shape[d] for d in range(x.ndim) if d not in dims])))
    mean = x.sum(axis=dims, keepdims=True) / n
    xhat = x - mean
    var = np.square(xhat).sum(axis=dims, keepdims=True) / n
    rstd = 1.0 / np.sqrt(var + eps)
    xhat *= rstd
    return mean, var, rstd, xhat


def _affine(xhat: np.ndarray, w: np.ndarray | None, b: np.ndarray | None,
            wshape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """xhat * w + b, with w and b reshaped to ``wshape`` (each optional)."""
    if w is None:
        y = xhat.copy() if b is None else xhat + b.reshape(wshape)
    else:
        y = xhat * w.reshape(wshape)
        if b is not None:
            y += b.reshape(wshape)
    return y.astype(dtype, copy=False)


def _norm_backward(ctx: Context, g: Tensor, dims: Dims, param_dims: Dims,
                   wshape: tuple[int, ...]) -> tuple[Grad, Grad, Grad]:
    """dx, dw, db of y = xhat * w + b with xhat = (x - mean) * rstd over ``dims``:

    dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)),  gw = g * w,  the means over
    ``dims``;  dw = sum of g * xhat and db = sum of g over ``param_dims``.

    The plain backward computes in NumPy from the values saved by the forward pass (one pass
    per term, no recomputation). Under ``create_graph`` the same formula runs on Tensor ops,
    with xhat and rstd recomputed from x, so that the gradient is differentiable again (its
    dependence on x included).
    """
    w: Tensor | None  # (None without the affine weight)
    x, w, xhat, rstd = ctx.saved_tensors
    eps = ctx.kwargs.get("eps", 1e-5)
    needs = ctx.needs_input_grad
    if not is_grad_enabled():  # the plain backward: NumPy, inside the NormGrad op
        return _norm_backward_plain(ctx, g, xhat, rstd, w, dims, param_dims, wshape)
    centered = x - x.mean(dim=dims, keepdim=True)
    rstd = ((centered * centered).mean(dim=dims, keepdim=True) + eps) ** -0.5
    xhat = centered * rstd
    gw = g if w is None else g * Reshape.apply(w, shape=wshape)
    dx = dw = db = None
    if needs[0]:
        dx = rstd * (gw - gw.mean(dim=dims, keepdim=True)
                     - xhat * (gw * xhat).mean(dim=dims, keepdim=True))
    if needs[1]:  # (no leading dims: nothing to sum; dim=() would sum everything)
        assert w is not None  # (w needs a gradient: it is a tensor)
        dw = g * xhat
        dw = (dw.sum(dim=param_dims) if param_dims else dw).reshape(w.shape)
    if needs[2]:
        db = (g.sum(dim=param_dims) if param_dims else g).reshape(ctx.inputs[2].shape)
    return dx, dw, db


def _norm_backward_plain(ctx: Context, g: Tensor, xhat: Tensor, rstd: Tensor, w: Tensor | None,
                         dims: Dims, param_dims: Dims, wshape: tuple[int, ...]
                         ) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """``_norm_backward``'s formula in NumPy, each gradient one ``NormGrad`` op (the values
    depend on the data: they are computed inside ops). BatchNorm computes sum(g xhat) once,
    for dw and for dx."""
    needs = ctx.needs_input_grad
    kw = {"dims": dims, "param_dims": param_dims, "wshape": wshape}
    dx = dw = db = None
    s = None
    if dims == param_dims and (needs[0] or needs[1]):  # BatchNorm: dw = s
        s = NormGrad.apply(g, xhat, rstd, w, None, part="s", **kw)
    if needs[0]:
        dx = NormGrad.apply(g, xhat, rstd, w, s, part="x", **kw)
    if needs[1]:
        assert w is not None  # (w needs a gradient: it is a tensor)
        dw = s if s is not None else NormGrad.apply(g, xhat, rstd, w, None, part="w",
                                                     shape=tuple(w.shape), **kw)
    if needs[2]:
        db = NormGrad.apply(g, xhat, rstd, w, None, part="b", shape=tuple(ctx.inputs[2].shape),
                            **kw)
    return dx, dw, db


class NormGrad(Function):
    """One gradient of the plain backward of BatchNorm and LayerNorm (y = xhat * w + b), by
    ``part``: ``"x"``: dx = rstd (gw - mean(gw) - xhat mean(gw xhat)), gw = g * w, the means over
    ``dims``; ``"s"`` (BatchNorm's dw, also used by its dx): sum(g xhat) per channel; ``"w"``:
    dw = sum of g xhat over ``param_dims``; ``"b"``: db = sum of g over ``param_dims``.

    NOTE: NumPy with as few passes over the data as it takes (BatchNorm shares one reduction,
    s = sum(g xhat), between dw and mean(g w xhat) = w s / n; LayerNorm works on rows, with
    ``einsum`` for the row sums of products). It runs only in a plain backward: under
    ``create_graph`` the norms' backward uses Tensor ops, so it has no backward itself.
    """

    @staticmethod
    def forward(ctx: Context, g: np.ndarray, xhat: np.ndarray, rstd: np.ndarray,
                w: np.ndarray | None, s: np.ndarray | None, part: str = "x", dims: Dims = (),
                param_dims: Dims = (), wshape: tuple[int, ...] = (),
                shape: tuple[int, ...] = ()) -> np.ndarray:
        if dims == param_dims:  # BatchNorm
            if part == "s":
                return np.einsum("i...,i...->...", g, xhat).reshape(g.shape[1], -1).sum(axis=1) \
                    if g.ndim > 2 else np.einsum("ij,ij->j", g, xhat)
            if part == "b":
                return g.sum(axis=dims)
            assert s is not None  # (part "x": s is given)
            n = g.size // max(1, g.shape[1])
            scale = rstd if w is None else rstd * w.reshape(wshape)
            dx = g - g.sum(axis=dims, keepdims=True) / n
            dx -= xhat * (s / n).reshape(wshape)
            dx *= scale
            return dx
        k = int(np.prod(g.shape[g.ndim - len(dims):]))
        g2, x2 = g.reshape(-1, k), xhat.reshape(-1, k)
        if part == "w":
            return np.einsum("ij,ij->j", g2, x2).reshape(shape)
        if part == "b":
            return g2.sum(axis=0).reshape(shape)
        gw = g2 if w is None else g2 * w.reshape(-1)
        dx = gw - gw.mean(axis=1, keepdims=True)
        dx -= x2 * (np.einsum("ij,ij->i", gw, x2) / k)[:, None]
        dx *= rstd.reshape(-1, 1)
        return dx.reshape(g.shape)


class BatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b, mean and (biased) var of x over every dim but
    dim 1 (the channels), w and b of shape (C,);
    dx = w rstd (g - mean(g) - xhat mean(g xhat)),  dw = sum(g xhat),  db = sum(g)

    When ``running_mean`` and ``running_var`` are given they are updated in place:
    r = (1 - momentum) r + momentum s, with the unbiased variance n / (n - 1) var for r_var.
    """

    # NOTE: fused (one node, not the dozen of the composed formula) for speed: a BatchNorm2d
    # training step takes about a sixth of the composed version's time (docs/nn-and-optim.md).
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, w: np.ndarray | None, b: np.ndarray | None,
                running_mean: np.ndarray | None, running_var: np.ndarray | None,
                momentum: float = 0.1, eps: float = 1e-5) -> np.ndarray:
        dims = (0,) + tuple(range(2, x.ndim))
        mean, var, rstd, xhat = _normalize(x, dims, eps)
        n = x.size // x.shape[1]
        if running_mean is not None:
            running_mean *= 1.0 - momentum
            running_mean += momentum * mean.reshape(-1)
        if running_var is not None:
            running_var *= 1.0 - momentum
            running_var += (momentum * n / max(n - 1, 1)) * var.reshape(-1)
        ctx.save_for_backward(x, w, xhat, rstd)
        return _affine(xhat, w, b, (1, -1) + (1,) * (x.ndim - 2), x.dtype)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Grad, ...]:
        ndim = g.ndim
        dims = (0,) + tuple(range(2, ndim))
        wshape = (1, -1) + (1,) * (ndim - 2)
        return _norm_backward(ctx, g, dims, dims, wshape) + (None, None)


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b, mean and (biased) var of x over its last
    ``ndim`` dims, w and b of the shape of those dims;
    dx = rstd (g w - mean(g w) - xhat mean(g w xhat)),  dw = sum(g xhat),  db = sum(g)
    (sums over the leading dims)"""

    # NOTE: fused for speed, as BatchNorm.
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, w: np.ndarray | None, b: np.ndarray | None,
                ndim: int = 1, eps: float = 1e-5) -> np.ndarray:
        dims = tuple(range(x.ndim - ndim, x.ndim))
        if x.size == 0:  # (no statistics of nothing: the output is empty too)
            ctx.save_for_backward(x, w, x, x)
            return x.copy()
        _, _, rstd, xhat = _normalize(x, dims, eps)
        ctx.save_for_backward(x, w, xhat, rstd)
        return _affine(xhat, w, b, x.shape[x.ndim - ndim:], x.dtype)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Grad, ...]:
        ndim = ctx.kwargs.get("ndim", 1)
        dims = tuple(range(g.ndim - ndim, g.ndim))
        if g.numel() == 0:
            zero = g * 0.0
            return tuple(zero if need else None for need in ctx.needs_input_grad)
        wshape = tuple(g.shape[g.ndim - ndim:])
        return _norm_backward(ctx, g, dims, tuple(range(g.ndim - ndim)), wshape)


class Embedding(Function):
    """y = weight[indices] (rows of ``weight``);   dweight = g added into the rows it came from
    (zero for the row ``padding_idx``; divided by how often each index occurs in the batch
    with ``scale_grad_by_freq``)"""

    @staticmethod
    def forward(ctx: Context, weight: np.ndarray, indices: np.ndarray,
                padding_idx: int | None = None, scale_grad_by_freq: bool = False) -> np.ndarray:
        ctx.rows = weight.shape
        if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
            bad = indices.min() if indices.min() < 0 else indices.max()
            raise IndexError(f"index out of range in self (index {bad}; the table has "
                             f"{weight.shape[0]} rows: 0 to {weight.shape[0] - 1})")
        scale = None
        if padding_idx is not None or scale_grad_by_freq:
            scale = np.ones(indices.shape, dtype=weight.dtype)
            if scale_grad_by_freq:
                counts = np.bincount(indices.reshape(-1), minlength=weight.shape[0])
                scale /= counts[indices]
            if padding_idx is not None:
                scale[indices == padding_idx] = 0
            scale = scale[..., None]
        ctx.save_for_backward(indices, scale)
        return weight[indices]

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor, None]:
        indices, scale = ctx.saved_tensors
        if not is_grad_enabled():  # the plain backward: NumPy, inside the EmbeddingGrad op
            return EmbeddingGrad.apply(g, indices, scale, rows=ctx.rows), None
        if scale is not None:
            g = g * scale
        return IndexAdd.apply(g, indices, index=(ARRAY,), shape=ctx.rows), None


class EmbeddingGrad(Function):
    """z = zeros(rows) with each row of g * scale (one per index; scale 1 when None) added
    into row ``indices[i]``: Embedding's plain backward (under ``create_graph`` it uses
    ``IndexAdd``, so this op has no backward)"""

    @staticmethod
    def forward(ctx: Context, g: np.ndarray, indices: np.ndarray, scale: np.ndarray | None,
                rows: tuple[int, ...] = ()) -> np.ndarray:
        return _sum_into_rows(g if scale is None else g * scale, indices, rows)


def _sum_into_rows(g: np.ndarray, indices: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """zeros(shape) with each row of g (one per index) added into row ``indices[i]``.

    NOTE: sorting the indices and summing runs of equal ones (``np.add.reduceat``) is about
    twice as fast as ``np.add.at`` for an embedding's gradient; the sums are in the same order.
    """
    out = np.zeros(shape, dtype=g.dtype)
    flat = indices.reshape(-1)
    if flat.size == 0 or shape[1] == 0:
        return out
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    out[ordered[starts]] = np.add.reduceat(g.reshape(flat.size, shape[1])[order], starts, axis=0)
    return out


class SafeSoftmax(Function):
    """y = exp(x - max) / sum(exp(x - max)) over the last dim, and y = 0 on rows that are all
    -inf (fully masked: attention to nothing);   dx = y * (g - sum(g * y))"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        m = x.max(axis=-1, keepdims=True, initial=-np.inf)
        masked = np.isneginf(m)
        e = np.exp(x - np.where(masked, 0.0, m))
        total = e.sum(axis=-1, keepdims=True)
        y = e / np.where(masked, 1.0, total)
        ctx.save_for_backward(y)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(dim=-1, keepdim=True))

