"""Reductions over dimensions. ``dim`` arrives normalised: ``None`` (all dims) or a tuple of
non-negative ints; the Tensor methods check and normalise what the user passed."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..autograd.function import Context, Function
from .elementwise import Compare, Where
from .shape import Expand, Reshape

if TYPE_CHECKING:  # for annotations only (microtensor.tensor imports the ops)
    from ..tensor import Tensor

Dims = tuple[int, ...] | None


def _expand_back(g: Tensor, shape: tuple[int, ...], dim: Dims, keepdim: bool) -> Tensor:
    """Give a reduced gradient its reduced dims back (size 1), then expand it to ``shape``."""
    if not keepdim and dim is not None:  # (a full reduction gives a 0-d g: it expands as is)
        g = Reshape.apply(g, shape=tuple(1 if i in dim else n for i, n in enumerate(shape)))
    return Expand.apply(g, shape=shape)


def _keep(y: np.ndarray, shape: tuple[int, ...], dim: Dims, keepdim: bool) -> np.ndarray:
    """``y`` reshaped as if it had been reduced with keepdims=True."""
    if keepdim:
        return y
    dims = range(len(shape)) if dim is None else dim
    return y.reshape(tuple(1 if i in dims else n for i, n in enumerate(shape)))


class Sum(Function):
    """y = sum of x over ``dim``;   dx = g expanded back to x's shape"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: Dims = None, keepdim: bool = False) -> np.ndarray:
        ctx.shape = x.shape
        return x.sum(axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return _expand_back(g, ctx.shape, ctx.kwargs.get("dim"), ctx.kwargs.get("keepdim", False))


class Mean(Function):
    """y = sum of x over ``dim`` / n;   dx = g / n expanded back to x's shape"""

    # NOTE: a primitive rather than sum(x) / n so that every loss ends with one node, not two.
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: Dims = None, keepdim: bool = False) -> np.ndarray:
        ctx.shape = x.shape
        total = x.sum(axis=dim, keepdims=keepdim)
        ctx.n = x.size // total.size if total.size else 0
        if ctx.n == 0:  # (the errstate costs microseconds: only where 0 / 0 can happen)
            with np.errstate(invalid="ignore"):  # the mean of nothing is nan, as in PyTorch
                return total / ctx.n
        return total / ctx.n

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if ctx.n == 0:  # the mean of nothing: there is no element to send a gradient to
            return g._make(np.zeros(ctx.shape, g._data.dtype))
        kw = ctx.kwargs
        return MeanGrad.apply(g, shape=ctx.shape, n=ctx.n, dim=kw.get("dim"),
                              keepdim=kw.get("keepdim", False))


class MeanGrad(Function):
    """y = g / n expanded back to ``shape`` (Mean's backward as one op);
    dg = the mean of h over ``dim`` (Mean is its adjoint)"""

    # NOTE: one node instead of two (div, expand) at the end of every loss's backward.
    @staticmethod
    def forward(ctx: Context, g: np.ndarray, shape: tuple[int, ...] = (), n: int = 1,
                dim: Dims = None, keepdim: bool = False) -> np.ndarray:
        if dim is not None:  # (a full reduction's g is 0-d: it broadcasts as it is)
            g = _keep(g, shape, dim, keepdim)
        # NOTE: a new array, as Expand makes: faster than np.broadcast_to for small arrays.
        return np.divide(g, n, out=np.empty(shape, dtype=g.dtype))

    @staticmethod
    def backward(ctx: Context, h: Tensor) -> Tensor:
        kw = ctx.kwargs
        return Mean.apply(h, dim=kw["dim"], keepdim=kw["keepdim"])


class Amax(Function):
    """y = max of x over ``dim``;   dx = g shared evenly between the elements equal to the max"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: Dims = None, keepdim: bool = False) -> np.ndarray:
        y = x.max(axis=dim, keepdims=keepdim)
        hit = x == _keep(y, x.shape, dim, keepdim)
        ctx.save_for_backward((hit / np.sum(hit, axis=dim, keepdims=True)).astype(x.dtype))
        ctx.shape = x.shape
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (share,) = ctx.saved_tensors
        kw = ctx.kwargs
        return _expand_back(g, ctx.shape, kw.get("dim"), kw.get("keepdim", False)) * share


class Amin(Function):
    """y = min of x over ``dim``;   dx = g shared evenly between the elements equal to the min"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: Dims = None, keepdim: bool = False) -> np.ndarray:
        y = x.min(axis=dim, keepdims=keepdim)
        hit = x == _keep(y, x.shape, dim, keepdim)
        ctx.save_for_backward((hit / np.sum(hit, axis=dim, keepdims=True)).astype(x.dtype))
        ctx.shape = x.shape
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (share,) = ctx.saved_tensors
        kw = ctx.kwargs
        return _expand_back(g, ctx.shape, kw.get("dim"), kw.get("keepdim", False)) * share


class ArgExtreme(Function):
    """y = the index (int64) of the largest element (``largest=True``; the first one on ties,
    NaN the largest) or the smallest along ``dim`` (of the flattened x when ``dim`` is None),
    keeping that dim with size 1 when ``keepdim``; not differentiable (an integer output)

    What ``argmax``, ``argmin`` and ``max(dim)``/``min(dim)`` need: the index is computed
    inside an op, so that replaying the recorded ops recomputes it.
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: int | None = None, keepdim: bool = False,
                largest: bool = True) -> np.ndarray:
        pick = np.argmax if largest else np.argmin
        return np.asarray(pick(x, axis=dim, keepdims=keepdim), dtype=np.int64)


class Prod(Function):
    """y = product of x over ``dim``;   dx = g * (product of the other elements)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: Dims = None, keepdim: bool = False) -> np.ndarray:
        y = np.prod(x, axis=dim, keepdims=keepdim)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        x, y = ctx.saved_tensors
        dim, keepdim = ctx.kwargs.get("dim"), ctx.kwargs.get("keepdim", False)
        return ProdGrad.apply(_expand_back(g, x.shape, dim, keepdim), x,
                              _expand_back(y, x.shape, dim, keepdim), dim=dim)


class ProdGrad(Function):
    """z = g * (product of the other elements of x's group) = g * y / x (without zeros in x),
    Prod's backward as one op (y the product, expanded to x's shape);
    dg = h * y / x,  dx = -h g y / x**2,  dy = h g / x  (without zeros)

    With a zero in x, y / x is 0 / 0: the product of the others is computed directly, and the
    gradient cannot be differentiated again (an error says so). Whether x has a zero is decided
    inside the op, so that replaying the recorded ops decides it from the new data.
    """

    @staticmethod
    def forward(ctx: Context, g: np.ndarray, x: np.ndarray, y: np.ndarray,
                dim: Dims = None) -> np.ndarray:
        ctx.save_for_backward(g, x, y)
        ctx.has_zero = bool((x == 0).any())
        if not ctx.has_zero:
            return g * y / x
        return g * _product_of_others(x, dim)

    @staticmethod
    def backward(ctx: Context, h: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        if ctx.has_zero:
            raise RuntimeError("ProdBackward's gradient at an input with zeros is computed in "
                               "NumPy, so it is not differentiable: a second derivative of prod "
                               "at zeros is not supported")
        g, x, y = ctx.saved_tensors
        need_g, need_x, need_y = ctx.needs_input_grad
        return (h * y / x if need_g else None), (-(h * g * y) / (x * x) if need_x else None), \
            (h * g / x if need_y else None)


def _product_of_others(x: np.ndarray, dim: Dims) -> np.ndarray:
    """For each element, the product of the other elements of its reduction group."""
    dims = tuple(range(x.ndim)) if dim is None else dim
    rest = [i for i in range(x.ndim) if i not in dims]
    moved = np.transpose(x, rest + list(dims))
    flat = moved.reshape(moved.shape[: len(rest)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = (left * right).reshape(moved.shape)
    return np.transpose(others, np.argsort(rest + list(dims)))


class Logsumexp(Function):
    """y = log(sum(exp(x))) over ``dim``, computed as m + log(sum(exp(x - m)));
    dx = g * exp(x - y)  (the softmax)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: Dims = None, keepdim: bool = False) -> np.ndarray:
        m = np.max(x, axis=dim, keepdims=True, initial=-np.inf)  # (-inf over no elements)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):  # all -inf: log(0) = -inf, as in PyTorch
            y = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
        if not keepdim:
            y = np.squeeze(y, axis=dim)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        x, y = ctx.saved_tensors
        dim, keepdim = ctx.kwargs.get("dim"), ctx.kwargs.get("keepdim", False)
        if not keepdim:
            g = g.reshape(_keep(g._data, x.shape, dim, False).shape)
            y = y.reshape(g.shape)
        return g * (x - y).exp()


class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max)) over ``dim``;   dx = y * (g - sum(g * y))"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: int = -1) -> np.ndarray:
        e = np.exp(x - x.max(axis=dim, keepdims=True, initial=-np.inf))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        dim = ctx.kwargs["dim"]
        return y * (g - (g * y).sum(dim=dim, keepdim=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x) over ``dim``;   dx = g - exp(y) * sum(g)"""

    # NOTE: fused (not log(softmax(x))) so that large inputs give finite values and gradients.
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: int = -1) -> np.ndarray:
        if x.size == 0:  # (no log of an empty sum)
            ctx.save_for_backward(x)
            return x.copy()
        shifted = x - x.max(axis=dim, keepdims=True, initial=-np.inf)
        y = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return g - y.exp() * g.sum(dim=ctx.kwargs["dim"], keepdim=True)


def _count(shape: tuple[int, ...], dim: Dims) -> int:
    """How many elements each reduction over ``dim`` combines."""
    return math.prod(shape if dim is None else (shape[d] for d in dim))


def _variance(x: np.ndarray, dim: Dims, keepdim: bool, correction: float) -> np.ndarray:
    """sum((x - mean)**2) / (n - correction), nan (not a warning) when n - correction <= 0."""
    n = _count(x.shape, dim)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 is nan, as in PyTorch
        centered = x - np.sum(x, axis=dim, keepdims=True) / n
        squares = np.sum(centered * centered, axis=dim, keepdims=keepdim)
        return squares / max(n - correction, 0)


def _var_backward(x: Tensor, g: Tensor, dim: Dims, keepdim: bool, correction: float) -> Tensor:
    """dx = g * 2 (x - mean) / (n - correction), for the variance of x (also used by Std)."""
    dof = _count(x.shape, dim) - correction
    centered = x - x.mean(dim=dim, keepdim=True)
    g = _expand_back(g, x.shape, dim, keepdim)
    if dof > 0:
        return g * centered * (2.0 / dof)
    # As PyTorch: 2 / 0 is inf, so the gradient is nan where x == mean and inf elsewhere.
    with np.errstate(invalid="ignore"):
        return g * centered * math.inf


class Var(Function):
    """y = sum((x - mean)**2) / (n - correction) over ``dim``;
    dx = g * 2 (x - mean) / (n - correction)"""

    # NOTE: a primitive, so that n - correction <= 0 gives PyTorch's nan/inf without warnings.
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: Dims = None, keepdim: bool = False,
                correction: float = 1) -> np.ndarray:
        ctx.save_for_backward(x)
        return _variance(x, dim, keepdim, correction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        kw = ctx.kwargs
        return _var_backward(x, g, kw.get("dim"), kw.get("keepdim", False),
                             kw.get("correction", 1))


class Std(Function):
    """y = sqrt(var(x)) over ``dim``;   dx = var's dx for g / (2 y), taken as 0 where y == 0
    (so constant data has a zero gradient, as in PyTorch)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: Dims = None, keepdim: bool = False,
                correction: float = 1) -> np.ndarray:
        y = np.sqrt(_variance(x, dim, keepdim, correction))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        x, y = ctx.saved_tensors
        zero = Compare.apply(y, 0, op="eq")  # (an op: a replay recomputes the mask)
        g = Where.apply(zero, 0.0, g / Where.apply(zero, 1.0, y * 2.0))
        kw = ctx.kwargs
        return _var_backward(x, g, kw.get("dim"), kw.get("keepdim", False),
                             kw.get("correction", 1))


class Norm(Function):
    """y = (sum of |x|**p)**(1/p) over ``dim``;   dx = g * sign(x) * |x|**(p-1) / y**(p-1)
    (g * x / y for p = 2), taken as 0 where y == 0 (as PyTorch: no nan at the zero vector)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, p: float = 2.0, dim: Dims = None,
                keepdim: bool = False) -> np.ndarray:
        if p == 2:
            y = np.sqrt(np.sum(x * x, axis=dim, keepdims=keepdim))
        else:
            with np.errstate(divide="ignore"):  # p < 0: |0|**p = inf, and the norm is 0
                y = np.sum(np.abs(x) ** p, axis=dim, keepdims=keepdim) ** (1.0 / p)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        x, y = ctx.saved_tensors
        p = ctx.kwargs.get("p", 2.0)
        dim, keepdim = ctx.kwargs.get("dim"), ctx.kwargs.get("keepdim", False)
        zero = Compare.apply(y, 0, op="eq")  # (masks are ops: a replay recomputes them)
        y = Where.apply(zero, 1.0, y)  # (a stand-in: these entries are set to 0 below)
        scale = Where.apply(zero, 0.0, g / (y if p == 2 else y ** (p - 1)))
        if p == 2:
            x_pow = x
        elif p < 1:  # |x|**(p - 1) is inf at 0: take 0 there
            xz = Compare.apply(x, 0, op="eq")
            x_pow = Where.apply(xz, 0.0, x.sign() * Where.apply(xz, 1.0, x.abs()) ** (p - 1))
        else:
            x_pow = x.sign() * x.abs() ** (p - 1)
        return _expand_back(scale, x.shape, dim, keepdim) * x_pow
