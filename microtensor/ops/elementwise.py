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
    """z = a ** b;   da = g * b * a**(b - 1),  db = g * z * log(a)  (0 where a == 0)"""

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
                da = g * b * a ** (b - 1)
            else:
                da = g * 0.0 if b == 0 else g * b * a ** (b - 1)
        if ctx.needs_input_grad[1]:
            if isinstance(a, TensorBase):
                # NOTE: d/db 0**b is taken as 0 (as PyTorch does), not 0 * log(0) = nan.
                log_a = Where.apply(a._data == 0, 1.0, a).log()
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
        ctx.slope = np.where(x > 0, 1.0, negative_slope).astype(x.dtype)
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        return g * ctx.slope


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta  (y = x where beta x > threshold);
    dx = g * sigmoid(beta x)  (g where beta x > threshold)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, beta: float = 1.0,
                threshold: float = 20.0) -> np.ndarray:
        bx = x * beta
        ctx.save_for_backward(x)
        ctx.linear = bx > threshold
        # logaddexp(0, t) = log(1 + exp(t)) without overflow.
        return np.where(ctx.linear, x, np.logaddexp(0, bx) / beta).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        (x,) = ctx.saved_tensors
        s = (x * ctx.kwargs.get("beta", 1.0)).sigmoid()
        if ctx.linear.any():
            s = Where.apply(ctx.linear, 1.0, s)
        return g * s


class Abs(Function):
    """y = |x|;   dx = g * sign(x)   (0 at x = 0)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.sign = np.sign(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        return g * ctx.sign


class Clamp(Function):
    """y = min(max(x, min), max);   dx = g where min <= x <= max, else 0"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, min: float | None = None,  # noqa: A002
                max: float | None = None) -> np.ndarray:  # noqa: A002
        inside = np.ones(x.shape, dtype=bool)
        if min is not None:
            inside &= x >= min
        if max is not None:
            inside &= x <= max
        ctx.inside = inside.astype(x.dtype)
        return np.clip(x, min, max).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        return g * ctx.inside


class Maximum(Function):
    """z = max(a, b);   da = g where a > b, db = g where b > a, g / 2 each where a == b"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.share_a = np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0)).astype(np.result_type(a, b))
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Grad, Grad]:
        return g * ctx.share_a, g * (1.0 - ctx.share_a)


class Minimum(Function):
    """z = min(a, b);   da = g where a < b, db = g where b < a, g / 2 each where a == b"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.share_a = np.where(a < b, 1.0, np.where(a == b, 0.5, 0.0)).astype(np.result_type(a, b))
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Grad, Grad]:
        return g * ctx.share_a, g * (1.0 - ctx.share_a)


class Where(Function):
    """z = a where cond else b;   da = g where cond, db = g where not cond"""

    @staticmethod
    def forward(ctx: Context, cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.cond = cond
        dtype = np.result_type(a, b)
        return np.where(cond, a, b).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[None, Grad, Grad]:
        _, da, db = ctx.needs_input_grad
        return (None, Where.apply(ctx.cond, g, 0.0) if da else None,
                Where.apply(ctx.cond, 0.0, g) if db else None)


class Cast(Function):
    """y = x converted to ``dtype``;   dx = g converted back to x's dtype"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
        ctx.src = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Context, g: Any) -> Grad:
        return g.to(ctx.src)
