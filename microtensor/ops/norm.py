"""Normalisation, embedding lookup and the masked softmax of attention: the primitives behind
``nn.BatchNorm*``, ``nn.LayerNorm``, ``nn.Embedding`` and ``F.scaled_dot_product_attention``.

The statistics (mean, variance) are computed inside the ops, and ``BatchNorm`` updates the
running statistics inside its forward, so that everything that depends on the data is
recorded by an op.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Context, Function
from ..autograd.grad_mode import is_grad_enabled
from .shape import ARRAY, IndexAdd, Reshape

Grad = Any  # a Tensor, or None where no gradient is needed
Dims = tuple[int, ...]


def _normalize(x: np.ndarray, dims: Dims, eps: float) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray, np.ndarray]:
    """mean, biased variance (both keepdims), 1 / sqrt(var + eps) and (x - mean) * rstd."""
    n = int(np.prod([x.shape[d] for d in dims]))
    mean = x.sum(axis=dims, keepdims=True) / n
    centered = x - mean
    var = (centered * centered).sum(axis=dims, keepdims=True) / n
    rstd = 1.0 / np.sqrt(var + eps)
    return mean, var, rstd, centered * rstd


def _norm_backward(ctx: Context, x: Any, g: Any, w: Any, dims: Dims, eps: float,
                   xhat: Any, rstd: Any) -> tuple[Any, Any]:
    """dx and dxhat-weighted terms shared by BatchNorm and LayerNorm.

    dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)), with gw = g * w, the means over
    ``dims``. Under ``create_graph`` xhat and rstd are recomputed from x with Tensor ops, so
    that the second derivative sees them depend on x; on the plain path the values saved by
    the forward pass are used (the same numbers, without the recomputation).
    """
    if is_grad_enabled():
        mean = x.mean(dim=dims, keepdim=True)
        centered = x - mean
        rstd = ((centered * centered).mean(dim=dims, keepdim=True) + eps) ** -0.5
        xhat = centered * rstd
    gw = g if w is None else g * w
    dx = None
    if ctx.needs_input_grad[0]:
        dx = rstd * (gw - gw.mean(dim=dims, keepdim=True)
                     - xhat * (gw * xhat).mean(dim=dims, keepdim=True))
    return dx, xhat


class BatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b, mean and (biased) var of x over every dim but
    dim 1 (the channels), w and b of shape (C,);
    dx = w rstd (g - mean(g) - xhat mean(g xhat)),  dw = sum(g xhat),  db = sum(g)

    When ``running_mean`` and ``running_var`` are given they are updated in place:
    r = (1 - momentum) r + momentum s, with the unbiased variance n / (n - 1) var for r_var.
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, w: np.ndarray | None, b: np.ndarray | None,
                running_mean: np.ndarray | None, running_var: np.ndarray | None,
                momentum: float = 0.1, eps: float = 1e-5) -> np.ndarray:
        dims = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean, var, rstd, xhat = _normalize(x, dims, eps)
        if running_mean is not None:
            n = x.size // x.shape[1]
            running_mean *= 1.0 - momentum
            running_mean += momentum * mean.reshape(-1)
        if running_var is not None:
            n = x.size // x.shape[1]
            running_var *= 1.0 - momentum
            running_var += (momentum * n / (n - 1)) * var.reshape(-1)
        ctx.save_for_backward(x, w, xhat, rstd)
        y = xhat if w is None else xhat * w.reshape(shape)
        if b is not None:
            y = y + b.reshape(shape)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Grad, ...]:
        x, w, xhat, rstd = ctx.saved_tensors
        eps = ctx.kwargs.get("eps", 1e-5)
        dims = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        w_b = None if w is None else Reshape.apply(w, shape=shape[:1] + (w.shape[0],)
                                                   + shape[2:])
        dx, xhat = _norm_backward(ctx, x, g, w_b, dims, eps, xhat, rstd)
        dw = (g * xhat).sum(dim=dims) if ctx.needs_input_grad[1] else None
        db = g.sum(dim=dims) if ctx.needs_input_grad[2] else None
        return dx, dw, db, None, None


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b, mean and (biased) var of x over its last
    ``len(w.shape)`` dims (``ndim`` of them), w and b of the shape of those dims;
    dx = rstd (g w - mean(g w) - xhat mean(g w xhat)),  dw = g xhat,  db = g  (summed over
    the leading dims by the engine)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, w: np.ndarray | None, b: np.ndarray | None,
                ndim: int = 1, eps: float = 1e-5) -> np.ndarray:
        dims = tuple(range(x.ndim - ndim, x.ndim))
        if x.size == 0:  # (no statistics of nothing: the output is empty too)
            ctx.save_for_backward(x, w, x, x)
            return x.copy()
        _, _, rstd, xhat = _normalize(x, dims, eps)
        ctx.save_for_backward(x, w, xhat, rstd)
        y = xhat if w is None else xhat * w
        if b is not None:
            y = y + b
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Grad, ...]:
        x, w, xhat, rstd = ctx.saved_tensors
        ndim, eps = ctx.kwargs.get("ndim", 1), ctx.kwargs.get("eps", 1e-5)
        dims = tuple(range(x.ndim - ndim, x.ndim))
        if x.numel() == 0:
            zero = g * 0.0
            return (zero if ctx.needs_input_grad[0] else None,
                    zero if ctx.needs_input_grad[1] else None,
                    zero if ctx.needs_input_grad[2] else None)
        dx, xhat = _norm_backward(ctx, x, g, w, dims, eps, xhat, rstd)
        return dx, (g * xhat if ctx.needs_input_grad[1] else None), \
            (g if ctx.needs_input_grad[2] else None)


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
    def backward(ctx: Context, g: Any) -> tuple[Grad, None]:
        indices, scale = ctx.saved_tensors
        if scale is not None:
            g = g * scale
        return IndexAdd.apply(g, indices, index=(ARRAY,), shape=ctx.rows), None


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
    def backward(ctx: Context, g: Any) -> Grad:
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(dim=-1, keepdim=True))

