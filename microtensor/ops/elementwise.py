"""Elementwise primitives. Inputs broadcast; each backward returns gradients in the broadcast
shape and the engine sums them back to each input's shape.

A positional argument may be a Python scalar instead of a tensor (``x * 2``); its gradient is
``None``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.function import Context, Function, TensorBase
from . import special

if TYPE_CHECKING:  # for annotations only (microtensor.tensor imports the ops)
    from ..tensor import Tensor


class Add(Function):
    """z = a + b;   da = g,  db = g"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor, Tensor]:
        return g, g


class Sub(Function):
    """z = a - b;   da = g,  db = -g"""

    # NOTE: a primitive rather than a + (-b) so the training hot path has one node, not two.
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a - b

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;   da = g * b,  db = g * a"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
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
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (g / b if da else None), (-(g * a) / (b * b) if db else None)


class Neg(Function):
    """y = -x;   dx = -g"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return -x

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
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
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a: Tensor | float  # (either may be a Python number: 2 ** x, x ** 2)
        b: Tensor | float
        a, b, z = ctx.saved_tensors
        da = db = None
        if ctx.needs_input_grad[0]:
            if isinstance(b, TensorBase):
                # NOTE: as PyTorch, 0 where b == 0 (not 0 * a**-1, which is nan at a == 0). The
                # mask is an op, so that replaying the recorded ops recomputes it.
                zero = Compare.apply(b, 0, op="eq")
                safe_b = Where.apply(zero, 1, b)  # (an int 1 keeps b's dtype)
                da = Where.apply(zero, 0.0, g * safe_b * a ** (safe_b - 1))
            else:
                da = g * 0.0 if b == 0 else g * b * a ** (b - 1)
        if ctx.needs_input_grad[1]:
            log_a: Tensor | float
            if isinstance(a, TensorBase):
                # NOTE: d/db 0**b is taken as 0 where b >= 0 (as PyTorch), not 0 * log(0) = nan.
                at_zero = Compare.apply(a, 0, op="eq")
                if isinstance(b, TensorBase):
                    at_zero = Where.apply(Compare.apply(b, 0, op="ge"), at_zero, False)
                    log_a = Where.apply(at_zero, 1, a).log()
                else:
                    log_a = Where.apply(at_zero, 1, a).log() if b >= 0 else a.log()
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
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return g * y


class Log(Function):
    """y = log(x);   dx = g / x"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g / x


class Log1p(Function):
    """y = log(1 + x);   dx = g / (1 + x)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
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
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return g / (y * 2.0)


class Sin(Function):
    """y = sin(x);   dx = g * cos(x)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * x.cos()


class Cos(Function):
    """y = cos(x);   dx = -g * sin(x)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return -(g * x.sin())


# -- math ops (issue 10) -------------------------------------------------------------------------
# More elementwise functions, each with its derivative; erf, erfc and erfinv come from
# ``special`` (NumPy has no vectorised ones).

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Tan(Function):
    """y = tan(x);   dx = g * (1 + y**2)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        y = np.tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return g * (y * y + 1.0)


class Asin(Function):
    """y = asin(x);   dx = g / sqrt(1 - x**2)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):  # nan outside [-1, 1], as in PyTorch
            return np.arcsin(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * (1.0 - x * x).rsqrt()


class Acos(Function):
    """y = acos(x);   dx = -g / sqrt(1 - x**2)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arccos(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return -(g * (1.0 - x * x).rsqrt())


class Atan(Function):
    """y = atan(x);   dx = g / (1 + x**2)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g / (x * x + 1.0)


class Atan2(Function):
    """z = atan2(a, b), the angle of the point (b, a);
    da = g * b / (a**2 + b**2),  db = -g * a / (a**2 + b**2)"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        scale = g / (a * a + b * b)
        return (scale * b if da else None), (-(scale * a) if db else None)


class Sinh(Function):
    """y = sinh(x);   dx = g * cosh(x)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):  # +-inf beyond about 710, as in PyTorch
            return np.sinh(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * x.cosh()


class Cosh(Function):
    """y = cosh(x);   dx = g * sinh(x)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):
            return np.cosh(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * x.sinh()


class Asinh(Function):
    """y = asinh(x);   dx = g / sqrt(x**2 + 1)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.arcsinh(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * (x * x + 1.0).rsqrt()


class Acosh(Function):
    """y = acosh(x);   dx = g / sqrt(x**2 - 1)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):  # nan below 1
            return np.arccosh(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * ((x - 1.0) * (x + 1.0)).rsqrt()


class Atanh(Function):
    """y = atanh(x);   dx = g / (1 - x**2)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore", divide="ignore"):  # nan outside, +-inf at +-1
            return np.arctanh(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g / (1.0 - x * x)


class Log2(Function):
    """y = log2(x);   dx = g / (x ln 2)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore", divide="ignore"):  # nan below 0, -inf at 0
            return np.log2(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g / (x * _LN2)


class Log10(Function):
    """y = log10(x);   dx = g / (x ln 10)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.log10(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g / (x * _LN10)


class Exp2(Function):
    """y = 2**x;   dx = g * y * ln 2"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            y = np.exp2(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return g * (y * _LN2)


class Expm1(Function):
    """y = exp(x) - 1, accurate for small x;   dx = g * (y + 1)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            y = np.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return g * (y + 1.0)


class Rsqrt(Function):
    """y = 1 / sqrt(x);   dx = -g * y**3 / 2"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):  # nan below 0, inf at 0
            y = np.reciprocal(np.sqrt(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return g * (y * y * y * -0.5)


class Reciprocal(Function):
    """y = 1 / x;   dx = -g * y**2"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):  # +-inf at 0, as in PyTorch
            y = np.reciprocal(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return -(g * (y * y))


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt;   dx = g * 2/sqrt(pi) * exp(-x**2)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return special.erf(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * ((x * x).neg().exp() * _TWO_OVER_SQRT_PI)


class Erfc(Function):
    """y = erfc(x) = 1 - erf(x);   dx = -g * 2/sqrt(pi) * exp(-x**2)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return special.erfc(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * ((x * x).neg().exp() * -_TWO_OVER_SQRT_PI)


class Erfinv(Function):
    """y = erfinv(x), the inverse of erf on (-1, 1);   dx = g * sqrt(pi)/2 * exp(y**2)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        y = special.erfinv(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        with np.errstate(over="ignore"):  # inf at +-1, as in PyTorch
            return g * ((y * y).exp() / _TWO_OVER_SQRT_PI)


class Lerp(Function):
    """z = start + w * (end - start), computed from the nearer end (start where |w| < 0.5,
    else end - (1 - w) * (end - start)) as PyTorch does;
    dstart = g * (1 - w),  dend = g * w,  dw = g * (end - start)"""

    @staticmethod
    def forward(ctx: Context, start: np.ndarray, end: np.ndarray, w: Any) -> np.ndarray:
        ctx.save_for_backward(start, end, w)
        diff = end - start
        w_arr = np.asarray(w)
        near_start = np.abs(w_arr) < 0.5
        out = np.where(near_start, start + w_arr * diff, end - diff * (1 - w_arr))
        return out.astype(np.result_type(start, end), copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        start, end, w = ctx.saved_tensors
        ds, de, dw = ctx.needs_input_grad + (False,) * (3 - len(ctx.needs_input_grad))
        return (g * (1.0 - w) if ds else None), (g * w if de else None), \
            (g * (end - start) if dw else None)


class NanToNum(Function):
    """y = x with nan, +inf and -inf replaced by numbers;   dx = g where x is finite, else 0"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, nan: float = 0.0, posinf: float | None = None,
                neginf: float | None = None) -> np.ndarray:
        finite = np.isfinite(x)
        ctx.save_for_backward(finite)
        info = np.finfo(x.dtype)
        with np.errstate(over="ignore"):  # a replacement too large for the dtype becomes inf
            big = x.dtype.type(info.max if posinf is None else posinf)
            small = x.dtype.type(info.min if neginf is None else neginf)
            nan_value = x.dtype.type(nan)
        out = np.where(finite, x, np.where(np.isnan(x), nan_value, np.where(x > 0, big, small)))
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (finite,) = ctx.saved_tensors
        return Where.apply(finite, g, 0.0)


class FloorDivide(Function):
    """z = floor(a / b) (for integers: rounded toward -inf, as Python's //);
    PyTorch defines no derivative: backward raises"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.floor_divide(a, b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor, Tensor]:
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


class RoundedQuotient(Function):
    """z = floor(a / b) (``rounding="floor"``) or trunc(a / b) (``"trunc"``), the factor in the
    gradients of remainder and fmod;   da = db = 0 (as PyTorch's division with a rounding_mode)"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray, rounding: str = "floor") -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.floor_divide(a, b) if rounding == "floor" else np.trunc(a / b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor, Tensor]:
        zero = g._make(np.zeros_like(g._data))
        return zero, zero


class Remainder(Function):
    """z = a - b * floor(a / b), the sign of b (Python's %);
    da = g,  db = -g * floor(a / b)  (none when a is a number: PyTorch defines none)"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):  # x % 0 is nan for floats
            return np.remainder(a, b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        if db and not isinstance(a, TensorBase):  # (a number % a tensor: as PyTorch)
            raise RuntimeError("derivative for aten::remainder is not implemented")
        return (g if da else None), (-(g * RoundedQuotient.apply(a, b)) if db else None)


class Fmod(Function):
    """z = a - b * trunc(a / b), the sign of a (C's fmod);   da = g,  db = -g * trunc(a / b)"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.fmod(a, b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (g if da else None), (-(g * RoundedQuotient.apply(a, b, rounding="trunc"))
                                      if db else None)


class Gelu(Function):
    """y = x * Phi(x), Phi the standard normal CDF: Phi(x) = (1 + erf(x / sqrt 2)) / 2, or with
    approximate="tanh": Phi(x) ~ (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3))) / 2;
    dx = g * (Phi(x) + x Phi'(x))"""

    # NOTE: computed in float64 and rounded once: in float32, 1 + erf(x) loses digits for x << 0.
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, approximate: str = "none") -> np.ndarray:
        w = x.astype(np.float64)
        if approximate == "tanh":
            ctx.save_for_backward(x)
            cdf = 0.5 * (1.0 + np.tanh(_SQRT_2_OVER_PI * (w + 0.044715 * w * w * w)))
        else:
            cdf = 0.5 * special.erfc(w * -_SQRT_HALF)  # (1 + erf(x / sqrt 2)) / 2, no cancellation
            ctx.save_for_backward(x, cdf.astype(x.dtype))
        return (w * cdf).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if ctx.kwargs.get("approximate", "none") == "tanh":
            (x,) = ctx.saved_tensors
            x2 = x * x
            t = (x * (x2 * 0.044715 + 1.0) * _SQRT_2_OVER_PI).tanh()
            d_inner = (x2 * (3 * 0.044715) + 1.0) * _SQRT_2_OVER_PI
            return g * ((t + 1.0) * 0.5 + x * 0.5 * (1.0 - t * t) * d_inner)
        x, cdf = ctx.saved_tensors
        return GeluGrad.apply(g, x, cdf)


class GeluGrad(Function):
    """z = g * (Phi(x) + x phi(x)), the exact GELU's backward as one op (Phi given, phi the
    normal density);   dg = h * (Phi(x) + x phi(x)),  dx = h * g * phi(x) * (2 - x**2)"""

    # NOTE: one node, and Phi reused from the forward pass instead of a second erf.
    @staticmethod
    def forward(ctx: Context, g: np.ndarray, x: np.ndarray, cdf: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(g, x, cdf)
        pdf = np.exp(x * x * -0.5) * _INV_SQRT_2PI
        return g * (cdf + x * pdf)

    @staticmethod
    def backward(ctx: Context, h: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        g, x, cdf = ctx.saved_tensors
        dg, dx = ctx.needs_input_grad[:2]
        pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
        return (GeluGrad.apply(h, x, cdf) if dg else None), \
            (h * g * pdf * (2.0 - x * x) if dx else None), None


_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Tanh(Function):
    """y = tanh(x);   dx = g * (1 - y**2)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
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
    def backward(ctx: Context, h: Tensor) -> tuple[Tensor | None, Tensor | None]:
        g, y = ctx.saved_tensors
        dg, dy = ctx.needs_input_grad
        return (TanhGrad.apply(h, y) if dg else None), (h * g * y * -2.0 if dy else None)


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) as exp(-log(1 + exp(-x))): logaddexp never overflows."""
    y = np.negative(x, out=np.empty_like(x))  # out=: an array even when x is 0-d
    np.logaddexp(0, y, out=y)
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
    def backward(ctx: Context, g: Tensor) -> Tensor:
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
    def backward(ctx: Context, h: Tensor) -> tuple[Tensor | None, Tensor | None]:
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
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return ReluGrad.apply(g, y)


class ReluGrad(Function):
    """z = g where y > 0, else 0 (Relu's backward as one op, its mask read inside it);
    dg = h where y > 0, else 0,  dy = 0 (the mask is piecewise constant)"""

    # NOTE: one node, and the mask computed inside an op so that a replay recomputes it.
    @staticmethod
    def forward(ctx: Context, g: np.ndarray, y: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(y)
        return g * (y > 0)

    @staticmethod
    def backward(ctx: Context, h: Tensor) -> tuple[Tensor | None, None]:
        (y,) = ctx.saved_tensors
        return (ReluGrad.apply(h, y) if ctx.needs_input_grad[0] else None), None


class LeakyRelu(Function):
    """y = x if x > 0 else negative_slope * x;   dx = g * (1 if x > 0 else negative_slope)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
        ctx.save_for_backward(np.where(x > 0, 1.0, negative_slope).astype(x.dtype))
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
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
    def backward(ctx: Context, g: Tensor) -> Tensor:
        x, linear = ctx.saved_tensors
        s = (x * ctx.kwargs.get("beta", 1.0)).sigmoid()
        return g * Where.apply(linear, 1.0, s)


class Abs(Function):
    """y = |x|;   dx = g * sign(x)   (0 at x = 0)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(np.sign(x))
        return np.abs(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
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
        inside = ~(took_lo | took_hi) if ctx.needs_input_grad[0] else None
        ctx.save_for_backward(took_lo, took_hi, inside)
        return np.asarray(y, dtype=x.dtype)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        took_lo, took_hi, inside = ctx.saved_tensors
        needs = ctx.needs_input_grad + (False, False)  # (bounds given as keywords: no grads)
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
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor, Tensor]:
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
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor, Tensor]:
        (share_a,) = ctx.saved_tensors
        return g * share_a, g * (1.0 - share_a)


_COMPARISONS = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
                "gt": np.greater, "ge": np.greater_equal}


class Compare(Function):
    """y = (a op b) elementwise, a bool tensor (``op``: ``"eq"``, ``"ne"``, ``"lt"``, ``"le"``,
    ``"gt"`` or ``"ge"``); not differentiable (da = db = None)

    The masks that backward functions need (where x > 0, where b == 0) come from this op, so
    that replaying the recorded ops recomputes them from the new data.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: Any, op: str = "eq") -> np.ndarray:
        return _COMPARISONS[op](a, b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[None, ...]:
        return (None,) * len(ctx.needs_input_grad)


class Values(Function):
    """y = fn(*inputs, **options): a NumPy function of the values that has no gradient (a
    logical or bitwise op, a test such as isfinite, all/any, isclose); da = None for each input

    The tensor methods that compute such values apply this op (on detached inputs), so that
    the computation is an op: replaying recorded ops (``microtensor.compile``) recomputes it
    from the new values instead of keeping the old result.
    """

    @staticmethod
    def forward(ctx: Context, *inputs: Any, fn: Callable[..., Any], **options: Any) -> Any:
        return fn(*inputs, **options)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[None, ...]:
        return (None,) * len(ctx.needs_input_grad)


class Where(Function):
    """z = a where cond else b;   da = g where cond, db = g where not cond"""

    @staticmethod
    def forward(ctx: Context, cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(cond)  # (a tensor condition is version-checked like any input)
        dtype = np.result_type(a, b)
        return np.where(cond, a, b).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[None, Tensor | None, Tensor | None]:
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
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return g.to(ctx.src)


class PiecewiseConstant(Function):
    """The base of ops whose derivative is 0 wherever it exists: dx = 0 (as PyTorch takes it,
    also at the jumps). Subclasses define ``forward``."""

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
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
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        alpha = ctx.kwargs.get("alpha", 1.0)
        # NOTE: as PyTorch, dx at x = 0 is g alpha, but the second derivative there is 0: the
        # exp branch sees x only where x < 0.
        neg = Where.apply(Compare.apply(x, 0, op="lt"), x, 0.0).exp() * alpha
        return Where.apply(Compare.apply(x, 0, op="gt"), g, g * neg)


class Silu(Function):
    """y = x sigmoid(x);   dx = g s (1 + x (1 - s)),  s = sigmoid(x)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return x * stable_sigmoid(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
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
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (inside,) = ctx.saved_tensors
        return Where.apply(inside, g, 0.0)


class Hardsigmoid(Function):
    """y = min(max(x / 6 + 1/2, 0), 1);   dx = g / 6 where -3 < x < 3, else 0"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward((x > -3) & (x < 3))
        return np.minimum(np.maximum(x / 6 + 0.5, 0), 1).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
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
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        # x enters only strictly inside (-3, 3): the second derivative is 0 at the joins.
        inside = Where.apply(Compare.apply(x, -3, op="gt"), Compare.apply(x, 3, op="lt"), False)
        mid = Where.apply(inside, x, 0.0) / 3.0 + 0.5
        return g * Where.apply(Compare.apply(x, -3, op="le"), 0.0,
                               Where.apply(Compare.apply(x, 3, op="ge"), 1.0, mid))


class Prelu(Function):
    """y = x if x > 0 else w x  (w broadcast to x);   dx = g if x > 0 else g w,
    dw = 0 if x > 0 else g x"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x, w)
        return np.where(x > 0, x, w * x).astype(np.result_type(x, w), copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, w = ctx.saved_tensors
        pos, neg = Compare.apply(x, 0, op="gt"), Compare.apply(x, 0, op="lt")
        dx = dw = None
        # NOTE: as PyTorch, x = 0 takes the slope w, but the cross second derivatives (of dx
        # by w, of dw by x) are 0 there: w and x enter through the x < 0 branch only.
        if ctx.needs_input_grad[0]:
            dx = Where.apply(pos, g, Where.apply(neg, g * w, g * w.detach()))
        if ctx.needs_input_grad[1]:
            dw = Where.apply(neg, g * x, 0.0)
        return dx, dw
