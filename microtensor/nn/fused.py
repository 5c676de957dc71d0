"""The ops that ``nn.functional`` fuses instead of composing from primitives, each for the
reason in its NOTE. Like every op, each is one ``Function`` with forward and backward side by
side, and its backward uses Tensor operations (so higher-order gradients work)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..autograd.function import Context, Function
from ..ops.elementwise import Clamp, Div, Mul, Sigmoid, SigmoidGrad, Sub, stable_sigmoid
from ..ops.linalg import Matmul, TransposedMatmul
from ..ops.reduce import Sum
from ..ops.shape import Reshape

if TYPE_CHECKING:  # for annotations only (microtensor.tensor imports the ops)
    from ..tensor import Tensor


class Linear(Function):
    """y = x @ W^T + b;   dx = g @ W,  dW = g^T @ x,  db = sum of g over the batch dims"""

    # NOTE: fused (one node instead of permute, matmul and add) because it is the hot path of
    # every network: a training step of a small MLP takes about half the time.
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, w: np.ndarray,
                b: np.ndarray | None = None) -> np.ndarray:
        ctx.save_for_backward(x, w)
        y = x @ w.T
        if b is not None:
            y += b  # y is a new array: adding in place saves a copy
        return y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        x, w = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        # The ops are applied directly: shapes are known to be valid, so the checks that the
        # Tensor methods make for users would only cost time here.
        dx = Matmul.apply(g, w) if needs_x else None
        dw = db = None
        if needs_w or needs_b:
            out_features, in_features = w.shape
            if g.ndim != 2:  # batch dims as one (counted: -1 is ambiguous when a size is 0)
                batch = math.prod(g.shape[:-1])
                g = Reshape.apply(g, shape=(batch, out_features))
                x = Reshape.apply(x, shape=(batch, in_features))
            if needs_w:
                dw = TransposedMatmul.apply(g, x)
            if needs_b:
                db = Sum.apply(g, dim=(0,), keepdim=False)
        return dx, dw, db


class BinaryCrossEntropyWithLogits(Function):
    """l = softplus(x) - x y  (= -(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))));
    dx = g (sigmoid(x) - y),   dy = -g x"""

    # NOTE: fused (one node instead of softplus, mul and sub) because it is the loss of the
    # benchmarked XOR loop; softplus by logaddexp is exact and finite for every x.
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x, y)
        return np.logaddexp(0, x) - x * y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        dx = BinaryCrossEntropyWithLogitsGrad.apply(g, x, y) if ctx.needs_input_grad[0] else None
        dy = -(g * x) if ctx.needs_input_grad[1] else None
        return dx, dy


class BinaryCrossEntropyWithLogitsGrad(Function):
    """z = g (sigmoid(x) - y), the loss's gradient with respect to x;
    dg = h (sigmoid(x) - y),   dx = h g sigmoid(x) (1 - sigmoid(x)),   dy = -h g"""

    # NOTE: one node instead of three (sigmoid, sub, mul) on every backward of the XOR loop.
    @staticmethod
    def forward(ctx: Context, g: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(g, x, y)
        s = stable_sigmoid(x)
        s -= y
        s *= g
        return s

    @staticmethod
    def backward(ctx: Context, h: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        g, x, y = ctx.saved_tensors
        need_g, need_x, need_y = ctx.needs_input_grad
        s = Sigmoid.apply(x) if need_g or need_x else None
        dg = Mul.apply(h, Sub.apply(s, y)) if need_g else None
        dx = SigmoidGrad.apply(Mul.apply(h, g), s) if need_x else None
        dy = -(h * g) if need_y else None
        return dg, dx, dy


def _log_at_least_minus_100(x: np.ndarray) -> np.ndarray:
    """max(log(x), -100), with no warning at x = 0 (log of the smallest subnormal is < -100)."""
    return np.maximum(np.log(np.maximum(x, np.finfo(x.dtype).smallest_subnormal)), -100.0)


class BinaryCrossEntropy(Function):
    """l = -(y log x + (1 - y) log(1 - x)), each log clamped at -100;
    dx = g (x - y) / max(x (1 - x), 1e-12),   dy = g (log(1 - x) - log x)"""

    # NOTE: fused so that dx is PyTorch's bounded (x - y) / max(x (1 - x), 1e-12): composed from
    # log, the gradient g / x overflows for the tiny x that a saturated sigmoid produces.
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x, y)
        return -(y * _log_at_least_minus_100(x) + (1 - y) * _log_at_least_minus_100(1 - x))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        dx = dy = None
        if ctx.needs_input_grad[0]:
            # Ops applied directly, as in Linear.backward: the operands are known to match.
            dx = Div.apply(Mul.apply(g, Sub.apply(x, y)),
                           Clamp.apply(Mul.apply(x, Sub.apply(1.0, x)), lo=1e-12))
        if ctx.needs_input_grad[1]:
            tiny = float(np.finfo(x.dtype).smallest_subnormal)
            log_x = x.clamp(min=tiny).log().clamp(min=-100.0)
            log_1mx = (1.0 - x).clamp(min=tiny).log().clamp(min=-100.0)
            dy = g * (log_1mx - log_x)
        return dx, dy


class CrossEntropy(Function):
    """l_i = logsumexp(x_i) - x_i[t_i] for logits x (N, C) and class indices t (N,); rows whose
    target is ``ignore_index`` give 0; then reduced (``mean``: over the rows not ignored);
    dx = g (softmax(x) - onehot(t)) on the rows kept (divided by their count for ``mean``)"""

    # NOTE: fused (one node instead of log_softmax, take_along_dim, squeeze, neg, sum and div)
    # because it is the loss of every classifier; the target is read inside the op.
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, t: np.ndarray, ignore_index: int = -100,
                reduction: str = "mean") -> np.ndarray:
        n, c = x.shape
        keep = t != ignore_index
        kept_all = bool(keep.all())
        safe = t if kept_all else np.where(keep, t, 0)
        bad = (safe < 0) | (safe >= c)
        if bad.any():
            raise IndexError(f"Target {int(safe[bad][0])} is out of bounds (the input has {c} "
                             f"classes: 0 to {c - 1})")
        z = x - x.max(axis=1, keepdims=True)  # <= 0: exp cannot overflow
        losses = np.log(np.exp(z).sum(axis=1)) - z[np.arange(n), safe]
        if not kept_all:
            losses *= keep
        count = int(keep.sum())
        ctx.save_for_backward(x)
        ctx.target, ctx.keep, ctx.count = safe, (None if kept_all else keep), count
        if reduction == "none":
            return losses
        if reduction == "sum":
            return losses.sum()
        if count == 0:  # every target ignored: PyTorch's 0 / 0
            return np.array(np.nan, dtype=x.dtype)
        return losses.sum() / count

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, None]:
        (x,) = ctx.saved_tensors
        reduction = ctx.kwargs.get("reduction", "mean")
        dx = CrossEntropyGrad.apply(g, x, ctx.target, ctx.keep, ctx.count, reduction=reduction)
        return dx, None


class CrossEntropyGrad(Function):
    """z = c (softmax(x) - onehot(t)), the loss's gradient with respect to x, where c is g per
    row (``none``), g (``sum``) or g / count (``mean``), and 0 on ignored rows;
    dg = sum of h (softmax(x) - onehot(t)) over what c multiplies,
    dx = c softmax(x) (h - sum_j h_j softmax(x)_j)"""

    # NOTE: one node, as BinaryCrossEntropyWithLogitsGrad: the classifier's backward hot path.
    @staticmethod
    def forward(ctx: Context, g: np.ndarray, x: np.ndarray, t: np.ndarray,
                keep: np.ndarray | None, count: int, reduction: str = "mean") -> np.ndarray:
        ctx.save_for_backward(g, x)
        z = np.exp(x - x.max(axis=1, keepdims=True))
        z /= z.sum(axis=1, keepdims=True)
        z[np.arange(len(t)), t] -= 1
        if reduction == "none":
            scale = g[:, None]
        elif reduction == "sum":
            scale = g
        else:
            scale = g / count if count else np.zeros_like(g)  # all ignored: gradient 0
        z *= scale
        if keep is not None:
            z *= keep[:, None]
        return z

    @staticmethod
    def backward(ctx: Context, h: Tensor) -> tuple[Tensor | None, Tensor | None, None, None,
                                                      None]:
        g, x = ctx.saved_tensors
        t, keep, count = ctx.inputs[2], ctx.inputs[3], ctx.inputs[4]
        reduction = ctx.kwargs.get("reduction", "mean")
        need_g, need_x = ctx.needs_input_grad[:2]
        s = x.softmax(1)
        if keep is not None:
            h = h * type(h)._make(keep[:, None].astype(h.dtype))
        dg = dx = None
        if need_g:
            onehot = type(h)._make(np.eye(x.shape[1], dtype=h.dtype)[t])
            per_row = (h * (s - onehot)).sum(1)
            if reduction == "none":
                dg = per_row
            elif reduction == "sum":
                dg = per_row.sum()
            else:
                dg = per_row.sum() / count if count else per_row.sum() * 0.0
        if need_x:
            if reduction == "none":
                c = g.reshape(-1, 1)
            elif reduction == "sum":
                c = g
            else:
                c = g / count if count else g * 0.0
            dx = c * s * (h - (h * s).sum(1, keepdim=True))
        return dg, dx, None, None, None
