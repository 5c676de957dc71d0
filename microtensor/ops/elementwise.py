"""Elementwise primitives. Inputs broadcast; each backward returns gradients in the broadcast
shape and the engine sums them back to each input's shape.

A positional argument may be a Python scalar instead of a tensor (``x * 2``); its gradient is
``None``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Context, Function, TensorBase

Grad = Any  # a Tensor, or None where no gradient is needed


class Add(Function):
    """z = a + b;   da = g,  db = g"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Grad, Grad]:
        return g, g


class Sub(Function):
    """z = a - b;   da = g,  db = -g"""

    # NOTE: a primitive rather than a + (-b) so the training hot path has one node, not two.
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a - b

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Grad, Grad]:
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;   da = g * b,  db = g * a"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Grad, Grad]:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (g * b if da else None), (g * a if db else None)


class Div(Function):
    """z = a / b;   da = g / b,  db = -g * a / b**2"""

    # NOTE: a primitive rather than a * b**-1 so the training hot path has one node, not two.
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Grad, Grad]:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (g / b if da else None), (-(g * a) / (b * b) if db else None)


class Neg(Function):
    """y = -x;   dx = -g"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return -x

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        return -g


class Pow(Function):
    """z = a ** b;   da = g * b * a**(b - 1)  (0 where b == 0),
    db = g * z * log(a)  (0 where a == 0 and b >= 0)"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        z = a**b
        ctx.save_for_backward(a, b, z)
        return z

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Grad, Grad]:
        a, b, z = ctx.saved_tensors
        da = db = None
        if ctx.needs_input_grad[0]:
            if isinstance(b, TensorBase):
                # NOTE: as PyTorch, 0 where b == 0 (not 0 * a**-1, which is nan at a == 0).
                zero = b._data == 0
                if zero.any():
                    safe_b = Where.apply(zero, 1.0, b)
                    da = Where.apply(zero, 0.0, g * safe_b * a ** (safe_b - 1))
                else:
                    da = g * b * a ** (b - 1)
            else:
                da = g * 0.0 if b == 0 else g * b * a ** (b - 1)
        if ctx.needs_input_grad[1]:
            if isinstance(a, TensorBase):
                # NOTE: d/db 0**b is taken as 0 where b >= 0 (as PyTorch), not 0 * log(0) = nan.
                at_zero = (a._data == 0) & (np.asarray(b._data if isinstance(b, TensorBase)
                                                       else b) >= 0)
                log_a = Where.apply(at_zero, 1.0, a).log() if at_zero.any() else a.log()
            else:
                log_a = math.log(a) if a > 0 else (0.0 if a == 0 else math.nan)
            db = g * z * log_a
        return da, db


class Exp(Function):
    """y = exp(x);   dx = g * y"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (y,) = ctx.saved_tensors
        return g * y


class Log(Function):
    """y = log(x);   dx = g / x"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (x,) = ctx.saved_tensors
        return g / x


class Log1p(Function):
    """y = log(1 + x);   dx = g / (1 + x)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (x,) = ctx.saved_tensors
        return g / (x + 1.0)


class Sqrt(Function):
    """y = sqrt(x);   dx = g / (2 y)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (y,) = ctx.saved_tensors
        return g / (y * 2.0)


class Sin(Function):
    """y = sin(x);   dx = g * cos(x)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (x,) = ctx.saved_tensors
        return g * x.cos()


class Cos(Function):
    """y = cos(x);   dx = -g * sin(x)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (x,) = ctx.saved_tensors
        return -(g * x.sin())


class Tanh(Function):
    """y = tanh(x);   dx = g * (1 - y**2)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (y,) = ctx.saved_tensors
        return TanhGrad.apply(g, y)


class TanhGrad(Function):
    """z = g * (1 - y**2), tanh's backward as one op;   dg = h * (1 - y**2),  dy = -2 h g y"""

    # NOTE: one node instead of three (mul, mul, sub) on every backward through tanh.
    @staticmethod
    def forward(ctx: Context, g: np.ndarray, y: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(g, y)
        return g * (1 - y * y)

    @staticmethod
    def backward(ctx: Context, h: Any) -> tuple[Grad, Grad]:
        g, y = ctx.saved_tensors
        dg, dy = ctx.needs_input_grad
        return (TanhGrad.apply(h, y) if dg else None), (h * g * y * -2.0 if dy else None)


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) as exp(-log(1 + exp(-x))): logaddexp never overflows."""
    y = np.logaddexp(0, -x, out=np.empty_like(x))  # out=: an array even when x is 0-d
    np.negative(y, out=y)
    return np.exp(y, out=y)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));   dx = g * y * (1 - y)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        y = stable_sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (y,) = ctx.saved_tensors
        return SigmoidGrad.apply(g, y)


class SigmoidGrad(Function):
    """z = g * y * (1 - y), sigmoid's backward as one op;
    dg = h * y * (1 - y),  dy = h * g * (1 - 2 y)"""

    # NOTE: one node instead of three (mul, sub, mul) on every backward through sigmoid.
    @staticmethod
    def forward(ctx: Context, g: np.ndarray, y: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(g, y)
        return g * y * (1 - y)

    @staticmethod
    def backward(ctx: Context, h: Any) -> tuple[Grad, Grad]:
        g, y = ctx.saved_tensors
        dg, dy = ctx.needs_input_grad
        return (SigmoidGrad.apply(h, y) if dg else None), \
            (h * g * (1.0 - y * 2.0) if dy else None)


class Relu(Function):
    """y = max(x, 0);   dx = g * (x > 0)   (0 at x = 0)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        y = np.maximum(x, 0)
        ctx.save_for_backward(y)  # the output, which the graph keeps anyway: no extra memory
        return y

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (y,) = ctx.saved_tensors
        return Mul.apply(g, y._data > 0)  # a bool mask: g where x > 0, else 0


class LeakyRelu(Function):
    """y = x if x > 0 else negative_slope * x;   dx = g * (1 if x > 0 else negative_slope)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
        ctx.save_for_backward(np.where(x > 0, 1.0, negative_slope).astype(x.dtype))
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (slope,) = ctx.saved_tensors
        return g * slope


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta  (y = x where beta x > threshold);
    dx = g * sigmoid(beta x)  (g where beta x > threshold)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, beta: float = 1.0,
                threshold: float = 20.0) -> np.ndarray:
        bx = x * beta
        linear = bx > threshold
        ctx.save_for_backward(x, linear)
        # logaddexp(0, t) = log(1 + exp(t)) without overflow.
        return np.where(linear, x, np.logaddexp(0, bx) / beta).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        x, linear = ctx.saved_tensors
        s = (x * ctx.kwargs.get("beta", 1.0)).sigmoid()
        if linear._data.any():
            s = Where.apply(linear, 1.0, s)
        return g * s


class Abs(Function):
    """y = |x|;   dx = g * sign(x)   (0 at x = 0)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(np.sign(x))
        return np.abs(x)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (sign,) = ctx.saved_tensors
        return g * sign


class Clamp(Function):
    """y = min(max(x, lo), hi);   dx = g where lo <= x <= hi, else 0;
    dlo = g where x < lo,  dhi = g where x > hi (the bound that was taken, hi winning ties)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, lo: Any = None, hi: Any = None) -> np.ndarray:
        # NOTE: PyTorch's order: max with lo first, then min with hi (hi wins when lo > hi).
        y = x if lo is None else np.maximum(x, lo)
        if hi is not None:
            y = np.minimum(y, hi)
        took_lo = np.zeros(x.shape, bool) if lo is None else x < lo
        took_hi = np.zeros(x.shape, bool) if hi is None else y >= hi
        if hi is not None:
            took_hi &= (x > hi) | took_lo
            took_lo &= ~took_hi
        ctx.save_for_backward(took_lo, took_hi)
        return np.asarray(y, dtype=x.dtype)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Grad, ...]:
        took_lo, took_hi = ctx.saved_tensors
        needs = ctx.needs_input_grad + (False, False)  # (bounds given as keywords: no grads)
        inside = ~(took_lo._data | took_hi._data)
        grads = (Where.apply(inside, g, 0.0) if needs[0] else None,
                 Where.apply(took_lo, g, 0.0) if needs[1] else None,
                 Where.apply(took_hi, g, 0.0) if needs[2] else None)
        return grads[:len(ctx.needs_input_grad)]


class Maximum(Function):
    """z = max(a, b);   da = g where a > b, db = g where b > a, g / 2 each where a == b"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        share_a = np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0)).astype(np.result_type(a, b))
        ctx.save_for_backward(share_a)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Grad, Grad]:
        (share_a,) = ctx.saved_tensors
        return g * share_a, g * (1.0 - share_a)


class Minimum(Function):
    """z = min(a, b);   da = g where a < b, db = g where b < a, g / 2 each where a == b"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        share_a = np.where(a < b, 1.0, np.where(a == b, 0.5, 0.0)).astype(np.result_type(a, b))
        ctx.save_for_backward(share_a)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Grad, Grad]:
        (share_a,) = ctx.saved_tensors
        return g * share_a, g * (1.0 - share_a)


class Where(Function):
    """z = a where cond else b;   da = g where cond, db = g where not cond"""

    @staticmethod
    def forward(ctx: Context, cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(cond)  # (a tensor condition is version-checked like any input)
        dtype = np.result_type(a, b)
        return np.where(cond, a, b).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[None, Grad, Grad]:
        (cond,) = ctx.saved_tensors
        _, da, db = ctx.needs_input_grad
        return (None, Where.apply(cond, g, 0.0) if da else None,
                Where.apply(cond, 0.0, g) if db else None)


class Cast(Function):
    """y = x converted to ``dtype``;   dx = g converted back to x's dtype"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
        ctx.src = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        return g.to(ctx.src)


class PiecewiseConstant(Function):
    """The base of ops whose derivative is 0 wherever it exists: dx = 0 (as PyTorch takes it,
    also at the jumps). Subclasses define ``forward``."""

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        return g._make(np.zeros_like(g._data))


class Floor(PiecewiseConstant):
    """y = the largest integer <= x;   dx = 0"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return np.floor(x)


class Ceil(PiecewiseConstant):
    """y = the smallest integer >= x;   dx = 0"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return np.ceil(x)


class Round(PiecewiseConstant):
    """y = x rounded to ``decimals`` places (halves to even);   dx = 0"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, decimals: int = 0) -> np.ndarray:
        return np.round(x, decimals)


class Trunc(PiecewiseConstant):
    """y = x rounded toward 0;   dx = 0"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return np.trunc(x)


class Sign(PiecewiseConstant):
    """y = -1, 0 or 1 by the sign of x;   dx = 0"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return np.sign(x)


# -- activations: ELU, SiLU, Hardtanh, Hardswish, PReLU (issue 10) ---------------------------------

class Elu(Function):
    """y = x if x > 0 else alpha (exp(x) - 1);   dx = g if x > 0 else g alpha exp(x)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (x,) = ctx.saved_tensors
        alpha = ctx.kwargs.get("alpha", 1.0)
        # NOTE: as PyTorch, dx at x = 0 is g alpha, but the second derivative there is 0: the
        # exp branch sees x only where x < 0.
        neg = Where.apply(x._data < 0, x, 0.0).exp() * alpha
        return Where.apply(x._data > 0, g, g * neg)


class Silu(Function):
    """y = x sigmoid(x);   dx = g s (1 + x (1 - s)),  s = sigmoid(x)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return x * stable_sigmoid(x)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (x,) = ctx.saved_tensors
        s = Sigmoid.apply(x)
        return g * s * (x * (1.0 - s) + 1.0)


class Hardtanh(Function):
    """y = min(max(x, min_val), max_val);   dx = g where min_val < x < max_val, else 0
    (0 at the bounds, as PyTorch; ``clamp`` passes g there)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, min_val: float = -1.0,
                max_val: float = 1.0) -> np.ndarray:
        ctx.save_for_backward((x > min_val) & (x < max_val))
        return np.minimum(np.maximum(x, min_val), max_val).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (inside,) = ctx.saved_tensors
        return Where.apply(inside, g, 0.0)


class Hardsigmoid(Function):
    """y = min(max(x / 6 + 1/2, 0), 1);   dx = g / 6 where -3 < x < 3, else 0"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward((x > -3) & (x < 3))
        return np.minimum(np.maximum(x / 6 + 0.5, 0), 1).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (inside,) = ctx.saved_tensors
        return Where.apply(inside, g / 6.0, 0.0)


class Hardswish(Function):
    """y = x min(max(x + 3, 0), 6) / 6;   dx = 0 where x <= -3, g (x / 3 + 1/2) where
    -3 < x < 3, g where x >= 3  (PyTorch's choice at the joins)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return (x * np.minimum(np.maximum(x + 3, 0), 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (x,) = ctx.saved_tensors
        # x enters only strictly inside (-3, 3): the second derivative is 0 at the joins.
        xd = x._data
        mid = Where.apply((xd > -3) & (xd < 3), x, 0.0) / 3.0 + 0.5
        return g * Where.apply(xd <= -3, 0.0, Where.apply(xd >= 3, 1.0, mid))


class Prelu(Function):
    """y = x if x > 0 else w x  (w broadcast to x);   dx = g if x > 0 else g w,
    dw = 0 if x > 0 else g x"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x, w)
        return np.where(x > 0, x, w * x).astype(np.result_type(x, w), copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Grad, Grad]:
        x, w = ctx.saved_tensors
        pos, neg = x._data > 0, x._data < 0
        dx = dw = None
        # NOTE: as PyTorch, x = 0 takes the slope w, but the cross second derivatives (of dx
        # by w, of dw by x) are 0 there: w and x enter through the x < 0 branch only.
        if ctx.needs_input_grad[0]:
            dx = Where.apply(pos, g, Where.apply(neg, g * w, g * w.detach()))
        if ctx.needs_input_grad[1]:
            dw = Where.apply(neg, g * x, 0.0)
        return dx, dw
