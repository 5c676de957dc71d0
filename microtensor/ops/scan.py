"""Scan primitives: running sums and products along one dimension."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Context, Function
from .elementwise import Where

if TYPE_CHECKING:  # for annotations only (microtensor.tensor imports the ops)
    from ..tensor import Tensor


def _cumsum(x: np.ndarray, dim: int, reverse: bool) -> np.ndarray:
    if x.ndim == 0:
        return x.copy()
    if not reverse:
        return np.cumsum(x, axis=dim)
    return np.flip(np.cumsum(np.flip(x, dim), axis=dim), dim).copy()


class Cumsum(Function):
    """y_i = sum of x_j for j <= i along ``dim`` (for j >= i when ``reverse``);
    dx = the same sum of g taken the other way (dx_j = sum of g_i for i >= j)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: int = 0, reverse: bool = False) -> np.ndarray:
        return _cumsum(x, dim, reverse)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return Cumsum.apply(g, dim=ctx.kwargs.get("dim", 0),
                            reverse=not ctx.kwargs.get("reverse", False))


class Cumprod(Function):
    """y_i = product of x_j for j <= i along ``dim``;
    dx_k = sum over i >= k of g_i * (product of x_j for j <= i, j != k)

    Without zeros in x that is reverse_cumsum(g * y) / x. With zeros (as PyTorch): for a plain
    backward, an O(n) form from the first zero of each row (before it, the formula above; at it,
    the products with that zero taken as 1; after it, 0); when the backward is itself recorded
    (``create_graph=True``), the exact O(n^2) form, so second derivatives are right at zeros too.
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: int = 0) -> np.ndarray:
        if x.ndim == 0:
            y = x.copy()
        else:
            y = np.cumprod(x, axis=dim)
        ctx.save_for_backward(x, y)
        ctx.has_zero = bool((x == 0).any())  # (read only under create_graph: see backward)
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        x, y = ctx.saved_tensors
        dim = ctx.kwargs.get("dim", 0)
        if not grad_mode.state.enabled:  # a plain backward: one op, which looks for zeros
            return CumprodGrad.apply(g, x, y, dim=dim)
        # NOTE: with create_graph the ops below depend on whether x has a zero.
        if not ctx.has_zero:
            return Cumsum.apply(g * y, dim=dim, reverse=True) / x
        if x.ndim == 0:  # a 0-d zero: y = x, dy/dx = 1
            return g
        return _cumprod_grad_exact(g, x, dim)


class CumprodGrad(Function):
    """z = dx of ``Cumprod`` for the gradient g, in NumPy (its plain backward):
    reverse_cumsum(g y) / x without zeros in x; with zeros, the O(n) form from the first zero
    of each row (see ``Cumprod``). Whether x has a zero is decided inside the op. No backward:
    under ``create_graph`` Cumprod's backward uses Tensor ops."""

    @staticmethod
    def forward(ctx: Context, g: np.ndarray, x: np.ndarray, y: np.ndarray,
                dim: int = 0) -> np.ndarray:
        zero = x == 0
        if not zero.any():
            return _cumsum(g * y, dim, True) / x
        if x.ndim == 0:  # a 0-d zero: y = x, dy/dx = 1
            return g.copy()
        seen = np.cumsum(zero, axis=dim)
        before, first = seen == 0, zero & (seen == 1)
        safe_x = np.where(before, x, 1)
        up_to = np.where(before, _cumsum(g * y, dim, True) / safe_x, 0)
        # At the first zero: d y_i / d x_z = the product of the others, which is cumprod of x
        # with that zero replaced by 1 (for i >= z).
        y_one = np.cumprod(np.where(first, 1, x), axis=dim)
        at = np.where(first, _cumsum(g * y_one, dim, True), 0)
        return up_to + at


def _cumprod_grad_exact(g: Tensor, x: Tensor, dim: int) -> Tensor:
    """The gradient of cumprod as Tensor ops that are exact polynomials (differentiable again
    at zeros): row k of an n x n matrix holds x with x_k replaced by 1; its cumprod gives the
    product of x_j, j <= i, j != k, for every i."""
    xt, gt = x.transpose(dim, -1), g.transpose(dim, -1)
    n = xt.shape[-1]
    eye = np.eye(n, dtype=bool)
    rows = Where.apply(eye, 1, xt.unsqueeze(-2).expand(xt.shape[:-1] + (n, n)))
    others = Cumprod.apply(rows, dim=rows.ndim - 1)        # others[..., k, i]
    upper = np.triu(np.ones((n, n), dtype=bool))           # i >= k
    dx = Where.apply(upper, gt.unsqueeze(-2) * others, 0).sum(-1)
    return dx.transpose(dim, -1)
