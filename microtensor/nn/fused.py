"""The ops that ``nn.functional`` fuses instead of composing from primitives, each for the
reason in its NOTE. Like every op, each is one ``Function`` with forward and backward side by
side, and its backward uses Tensor operations (so higher-order gradients work)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..autograd.function import Context, Function
from ..ops.elementwise import Mul, Sigmoid, SigmoidGrad, Sub, stable_sigmoid
from ..ops.linalg import Matmul, TransposedMatmul, matmul
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
        y = matmul(x, w.T)
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
            if g.ndim != 2:  # batch dims as one (counted: -1 is ambiguous when a size is 0)
                out_features, in_features = w.shape
                batch = math.prod(g.shape[:-1])
                g = Reshape.apply(g, shape=(batch, out_features))
                x = Reshape.apply(x, shape=(batch, in_features))
            if needs_w:
                dw = TransposedMatmul.apply(g, x)
            if needs_b:
                db = Sum.apply(g, dim=(0,), keepdim=False)
        return dx, dw, db


def _averaged_over(ctx: Context, x: Tensor, g: Tensor) -> tuple[Tensor, int]:
    """For the backward of a loss reduced inside its op: the gradient ``g`` and the number of
    elements n its ``mean`` averaged over (1 for ``sum`` and ``none``). The mean of nothing
    sends no gradient: g becomes zeros in x's shape, n = 1."""
    n = x.numel() if ctx.kwargs.get("reduction", "none") == "mean" else 1
    if n == 0:
        return g._make(np.zeros(x.shape, g._data.dtype)), 1
    return g, n


def _reduce(losses: np.ndarray, reduction: str) -> np.ndarray:
    """``losses`` kept (``none``), summed or averaged over all elements: the NumPy calls of the
    Sum and Mean ops, so the same floats as reducing afterwards."""
    if reduction == "none":
        return losses
    total = losses.sum(axis=None, keepdims=False)
    if reduction == "sum":
        return total
    if losses.size == 0:
        with np.errstate(invalid="ignore"):  # the mean of nothing is nan, as in PyTorch
            return total / 0
    return total / losses.size


class BinaryCrossEntropyWithLogits(Function):
    """l = softplus(x) - x y  (= -(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x)))), then
    reduced as ``reduction`` says (``none``, ``sum`` or ``mean``: over the n elements);
    dx = c (sigmoid(x) - y),   dy = -c x,   with c = g (g / n for ``mean``)"""

    # NOTE: fused (one node instead of softplus, mul, sub and the reduction, as PyTorch's
    # BinaryCrossEntropyWithLogitsBackward) because it is the loss of the benchmarked XOR loop;
    # softplus by logaddexp is exact and finite for every x. The reduction makes the NumPy
    # calls of Sum and Mean (so the same floats).
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, y: np.ndarray,
                reduction: str = "none") -> np.ndarray:
        ctx.save_for_backward(x, y)
        return _reduce(np.logaddexp(0, x) - x * y, reduction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        g, n = _averaged_over(ctx, x, g)
        # (a reduced loss's g is 0-d: the ops broadcast it, as Sum's and Mean's backward would)
        dx = BinaryCrossEntropyWithLogitsGrad.apply(g, x, y, n=n) if need_x else None
        dy = -((g if n == 1 else g / n) * x) if need_y else None
        return dx, dy


class BinaryCrossEntropyWithLogitsGrad(Function):
    """z = c (sigmoid(x) - y) with c = g / n, the loss's gradient with respect to x (n counts
    the elements of a mean, else 1; g may be 0-d, the gradient of a reduced loss);
    dg = h (sigmoid(x) - y) / n,   dx = h c sigmoid(x) (1 - sigmoid(x)),   dy = -h c"""

    # NOTE: one node instead of three (sigmoid, sub, mul), and of the mean's backward too, on
    # every backward of the XOR loop.
    @staticmethod
    def forward(ctx: Context, g: np.ndarray, x: np.ndarray, y: np.ndarray,
                n: int = 1) -> np.ndarray:
        ctx.save_for_backward(g, x, y)
        s = stable_sigmoid(x)
        s -= y
        s *= g if n == 1 else g / n
        return s

    @staticmethod
    def backward(ctx: Context, h: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        g, x, y = ctx.saved_tensors
        n = ctx.kwargs.get("n", 1)
        c = g if n == 1 else g / n
        need_g, need_x, need_y = ctx.needs_input_grad
        s = Sigmoid.apply(x) if need_g or need_x else None
        dg = Mul.apply(h, Sub.apply(s, y)) if need_g else None
        if dg is not None and n != 1:
            dg = dg / n
        dx = SigmoidGrad.apply(Mul.apply(h, c), s) if need_x else None
        dy = -(h * c) if need_y else None
        return dg, dx, dy


def _within_0_1(x: np.ndarray) -> bool:
    """True when every element is in [0, 1] (nan is not); two reductions, no temporaries."""
    return x.size == 0 or bool(x.min() >= 0 and x.max() <= 1)


def _log_at_least_minus_100(x: np.ndarray) -> np.ndarray:
    """max(log(x), -100), with no warning at x = 0 (log of the smallest subnormal is < -100)."""
    return np.maximum(np.log(np.maximum(x, np.finfo(x.dtype).smallest_subnormal)), -100.0)


class BinaryCrossEntropy(Function):
    """l = -(y log x + (1 - y) log(1 - x)), each log clamped at -100, then reduced as
    ``reduction`` says (``none``, ``sum`` or ``mean``: over the n elements);
    dx = c (x - y) / max(x (1 - x), 1e-12),   dy = c (log(1 - x) - log x),
    with c = g (g / n for ``mean``)"""

    # NOTE: fused so that dx is PyTorch's bounded (x - y) / max(x (1 - x), 1e-12): composed from
    # log, the gradient g / x overflows for the tiny x that a saturated sigmoid produces. One
    # node with its reduction, as PyTorch's BinaryCrossEntropyBackward.
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, y: np.ndarray,
                reduction: str = "none") -> np.ndarray:
        if not _within_0_1(x):  # (checked here, inside the op: the values are the data)
            raise RuntimeError(f"binary_cross_entropy: all elements of input should be between 0 "
                               f"and 1 (got values from {x.min()} to {x.max()}); for raw scores "
                               f"(logits) use binary_cross_entropy_with_logits")
        if not _within_0_1(y):
            raise RuntimeError("binary_cross_entropy: all elements of target should be between 0 "
                               "and 1")
        ctx.save_for_backward(x, y)
        losses = -(y * _log_at_least_minus_100(x) + (1 - y) * _log_at_least_minus_100(1 - x))
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        g, n = _averaged_over(ctx, x, g)
        # (a reduced loss's g is 0-d: the ops broadcast it, as Sum's and Mean's backward would)
        dx = BinaryCrossEntropyGrad.apply(g, x, y, n=n) if need_x else None
        dy = None
        if need_y:
            tiny = float(np.finfo(x.dtype).smallest_subnormal)
            log_x = x.clamp(min=tiny).log().clamp(min=-100.0)
            log_1mx = (1.0 - x).clamp(min=tiny).log().clamp(min=-100.0)
            dy = (g if n == 1 else g / n) * (log_1mx - log_x)
        return dx, dy


class BinaryCrossEntropyGrad(Function):
    """z = c (x - y) / d with c = g / n and d = max(x (1 - x), 1e-12): the loss's gradient with
    respect to x (n counts the elements of a mean, else 1; g may be 0-d);
    dg = h (x - y) / (d n),   dy = -h c / d,
    dx = h c (1 / d - (x - y) d' / d^2)  with d' = 1 - 2x where x (1 - x) >= 1e-12, else 0"""

    # NOTE: one node instead of six (sub, mul, sub, mul, clamp, div), and of the mean's
    # backward too, on every backward of the XOR network of the README. The NumPy calls of
    # those ops (the same floats).
    @staticmethod
    def forward(ctx: Context, g: np.ndarray, x: np.ndarray, y: np.ndarray,
                n: int = 1) -> np.ndarray:
        ctx.save_for_backward(g, x, y)
        c = g if n == 1 else g / n
        d = np.maximum(x * (1.0 - x), 1e-12)
        return (x - y) * c / d

    @staticmethod
    def backward(ctx: Context, h: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        g, x, y = ctx.saved_tensors
        n = ctx.kwargs.get("n", 1)
        need_g, need_x, need_y = ctx.needs_input_grad
        c = g if n == 1 else g / n
        product = x * (1.0 - x)
        d = product.clamp(min=1e-12)
        q = x - y
        dg = h * q / d if need_g else None
        if dg is not None and n != 1:
            dg = dg / n
        dy = -(h * c / d) if need_y else None
        dx = None
        if need_x:
            slope = (1.0 - 2.0 * x) * (product >= 1e-12).to(x.dtype)  # d' (0 where clamped)
            dx = h * c / d - h * c * q * slope / (d * d)
        return dg, dx, dy


def _kept_targets(t: np.ndarray, ignore_index: int) -> tuple[np.ndarray, np.ndarray | None,
                                                                int]:
    """The class indices with ignored ones replaced by 0, the mask of the kept ones (None when
    every target is kept) and their count."""
    keep = t != ignore_index
    if keep.all():
        return t, None, t.size
    return np.where(keep, t, 0), keep, int(keep.sum())


class CrossEntropy(Function):
    """l_i = logsumexp(x_i) - x_i[t_i] for logits x (N, C) and class indices t (N,); rows whose
    target is ``ignore_index`` give 0; then reduced (``mean``: over the rows not ignored);
    dx = g (softmax(x) - onehot(t)) on the rows kept (divided by their count for ``mean``)"""

    # NOTE: fused (one node instead of log_softmax, take_along_dim, squeeze, neg, sum and div)
    # because it is the loss of every classifier; the target is read inside the op (and again
    # inside its backward's op), so that replaying the recorded ops reads the new target.
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, t: np.ndarray, ignore_index: int = -100,
                reduction: str = "mean") -> np.ndarray:
        n, c = x.shape
        safe, keep, count = _kept_targets(t, ignore_index)
        bad = (safe < 0) | (safe >= c)
        if bad.any():
            raise IndexError(f"Target {int(safe[bad][0])} is out of bounds (the input has {c} "
                             f"classes: 0 to {c - 1})")
        z = x - x.max(axis=1, keepdims=True)  # <= 0: exp cannot overflow
        losses = np.log(np.exp(z).sum(axis=1)) - z[np.arange(n), safe]
        if keep is not None:
            losses *= keep
        ctx.save_for_backward(x, t)
        if reduction == "none":
            return losses
        if reduction == "sum":
            return losses.sum()
        if count == 0:  # every target ignored: PyTorch's 0 / 0
            return np.array(np.nan, dtype=x.dtype)
        return losses.sum() / count

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, None]:
        x, t = ctx.saved_tensors
        kw = ctx.kwargs
        dx = CrossEntropyGrad.apply(g, x, t, ignore_index=kw.get("ignore_index", -100),
                                    reduction=kw.get("reduction", "mean"))
        return dx, None


class CrossEntropyGrad(Function):
    """z = c (softmax(x) - onehot(t)), the loss's gradient with respect to x, where c is g per
    row (``none``), g (``sum``) or g / count (``mean``), and 0 on ignored rows;
    dg = sum of h (softmax(x) - onehot(t)) over what c multiplies,
    dx = c softmax(x) (h - sum_j h_j softmax(x)_j)"""

    # NOTE: one node, as BinaryCrossEntropyWithLogitsGrad: the classifier's backward hot path.
    @staticmethod
    def forward(ctx: Context, g: np.ndarray, x: np.ndarray, t: np.ndarray,
                ignore_index: int = -100, reduction: str = "mean") -> np.ndarray:
        ctx.save_for_backward(g, x, t)
        safe, keep, count = _kept_targets(t, ignore_index)
        z = np.exp(x - x.max(axis=1, keepdims=True))
        z /= z.sum(axis=1, keepdims=True)
        z[np.arange(len(safe)), safe] -= 1
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
    def backward(ctx: Context, h: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        g, x, t = ctx.saved_tensors
        ignore_index = ctx.kwargs.get("ignore_index", -100)
        reduction = ctx.kwargs.get("reduction", "mean")
        need_g, need_x = ctx.needs_input_grad[:2]
        s = x.softmax(1)
        h = h * TargetRows.apply(t, ignore_index=ignore_index, dtype=h.dtype)  # 0 if ignored
        dg = dx = None
        if need_g:
            onehot = TargetRows.apply(t, ignore_index=ignore_index, dtype=h.dtype,
                                      num_classes=x.shape[1])
            per_row = (h * (s - onehot)).sum(1)
            if reduction == "none":
                dg = per_row
            elif reduction == "sum":
                dg = per_row.sum()
            else:
                dg = DivideByKept.apply(per_row.sum(), t, ignore_index=ignore_index)
        if need_x:
            if reduction == "none":
                c = g.reshape(-1, 1)
            elif reduction == "sum":
                c = g
            else:
                c = DivideByKept.apply(g, t, ignore_index=ignore_index)
            dx = c * s * (h - (h * s).sum(1, keepdim=True))
        return dg, dx, None


class TargetRows(Function):
    """y = the rows of a target of class indices t (N,): without ``num_classes``, the column
    (N, 1) of 1 where t != ``ignore_index`` and 0 where it is ignored; with it, the one-hot rows
    (N, num_classes) of t (an ignored target's row picks class 0). In ``dtype``; not
    differentiable (an integer input)"""

    @staticmethod
    def forward(ctx: Context, t: np.ndarray, ignore_index: int = -100,
                dtype: np.dtype | None = None, num_classes: int | None = None) -> np.ndarray:
        safe, keep, _ = _kept_targets(t, ignore_index)
        if num_classes is not None:
            return np.eye(num_classes, dtype=dtype)[safe]
        if keep is None:
            return np.ones((len(t), 1), dtype=dtype)
        return keep[:, None].astype(dtype)


class DivideByKept(Function):
    """y = v / n, n the number of targets t that are not ``ignore_index`` (y = v * 0 when there
    is none: the gradient of PyTorch's 0 / 0 mean is 0);   dv = g / n (0 when n is 0)"""

    @staticmethod
    def forward(ctx: Context, v: np.ndarray, t: np.ndarray, ignore_index: int = -100
                ) -> np.ndarray:
        ctx.save_for_backward(t)
        count = _kept_targets(t, ignore_index)[2]
        return v / count if count else v * 0.0

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor, None]:
        (t,) = ctx.saved_tensors
        return DivideByKept.apply(g, t, ignore_index=ctx.kwargs.get("ignore_index", -100)), None


def _target_weights(t: np.ndarray, weight: np.ndarray | None, ignore_index: int,
                    n_classes: int, dtype: np.dtype
                    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The class indices (ignored ones replaced by 0), each target's weight (0 if ignored;
    None when every weight is 1) and the mask of ignored targets (None when there is none).

    Raises:
        IndexError: a target (not ignored) outside [0, n_classes).
    """
    ignored = t == ignore_index
    has_ignored = bool(ignored.any())
    idx = np.where(ignored, 0, t) if has_ignored else t
    bad = (idx < 0) | (idx >= n_classes)
    if bad.any():
        raise IndexError(f"Target {int(idx[bad].flat[0])} is out of bounds (the input has "
                         f"{n_classes} classes: 0 to {n_classes - 1})")
    if weight is None and not has_ignored:
        return idx, None, None
    w = np.ones(idx.shape, dtype) if weight is None else weight.astype(dtype)[idx]
    if has_ignored:
        w = np.where(ignored, 0, w).astype(dtype)
    return idx, w, (ignored if has_ignored else None)


class _NllTerms:
    """What the class-index losses read from the target, once per op: the indices, their
    weights, the total weight that ``mean`` divides by, and the class weights' broadcast shape."""

    def __init__(self, shape: tuple[int, ...], t: np.ndarray, weight: np.ndarray | None,
                 class_dim: int, ignore_index: int, dtype: np.dtype) -> None:
        self.n_classes = shape[class_dim]
        self.idx, self.w, self.ignored = _target_weights(t, weight, ignore_index,
                                                         self.n_classes, dtype)
        self.total = self.idx.size if self.w is None else float(self.w.sum())
        self.class_weight = None if weight is None else weight.reshape(
            tuple(self.n_classes if d == class_dim else 1 for d in range(len(shape))))

    def mean(self, v: np.ndarray, adjoint: bool = False) -> np.ndarray:
        """v / total; with no weight at all, PyTorch's 0 / 0 = nan for the loss (and 0 for its
        gradient, whose adjoint is ``adjoint``)."""
        if self.total == 0:
            return v * 0.0 if adjoint else v * 0.0 + math.nan
        return v / self.total


class NllLoss(Function):
    """l_i = -(1 - e) w[t_i] x_i[t_i] - (e / C) k_i sum_c w[c] x_i[c] for log-probabilities x
    (class dim ``class_dim``), class indices t, class weights w (1 without ``weight``), label
    smoothing e and k_i = 0 where t_i is ``ignore_index`` (1 elsewhere; the first term is 0
    there too); then reduced (``mean``: divided by the sum of w[t_i] over the kept targets);
    dx = the same weights times g (``NllLossGrad``), dt = dweight = None

    ``nll_loss`` is e = 0; ``cross_entropy`` with class indices is this op after log_softmax.
    """

    # NOTE: one op (not take_along_dim, mul, sum and div on arrays read from the target
    # outside the graph) so that the target, its weights and the count of ignored targets are
    # read inside the op: replaying the recorded ops reads the new target.
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, t: np.ndarray, weight: np.ndarray | None,
                class_dim: int = 1, ignore_index: int = -100, reduction: str = "mean",
                label_smoothing: float = 0.0, adjoint: bool = False) -> np.ndarray:
        terms = _NllTerms(x.shape, t, weight, class_dim, ignore_index, x.dtype)
        ctx.save_for_backward(t, weight)
        ctx.shape = x.shape
        picked = np.take_along_axis(x, np.expand_dims(terms.idx, class_dim),
                                    class_dim).squeeze(class_dim)
        losses = -picked if terms.w is None else picked * -terms.w
        nll = losses if reduction == "none" else losses.sum()
        if reduction == "mean":
            nll = terms.mean(nll, adjoint)
        if label_smoothing == 0:
            return nll
        # The uniform part of the smoothed target: -sum_c w[c] x[c] per sample.
        smooth = -(x if terms.class_weight is None else x * terms.class_weight).sum(class_dim)
        if terms.ignored is not None:
            smooth = smooth * (~terms.ignored).astype(x.dtype)
        if reduction != "none":
            smooth = smooth.sum()
        if reduction == "mean":
            smooth = terms.mean(smooth, adjoint)
        return nll * (1.0 - label_smoothing) + smooth * (label_smoothing / terms.n_classes)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, None, None]:
        t, weight = ctx.saved_tensors
        kw = dict(ctx.kwargs)
        kw.pop("adjoint", None)
        return NllLossGrad.apply(g, t, weight, shape=ctx.shape, **kw), None, None


class NllLossGrad(Function):
    """z = dl/dx of ``NllLoss`` for its gradient g: on each target's class -(1 - e) w[t_i] c_i
    plus, on every class c, -(e / C) k_i w[c] c_i, where c_i is g_i (``none``), g (``sum``) or
    g / sum of w[t_i] (``mean``; 0 when that is 0);   dg = NllLoss of h (z is linear in g, and
    NllLoss is its adjoint), dt = dweight = None"""

    @staticmethod
    def forward(ctx: Context, g: np.ndarray, t: np.ndarray, weight: np.ndarray | None,
                shape: tuple[int, ...] = (), class_dim: int = 1, ignore_index: int = -100,
                reduction: str = "mean", label_smoothing: float = 0.0) -> np.ndarray:
        terms = _NllTerms(shape, t, weight, class_dim, ignore_index, g.dtype)
        ctx.save_for_backward(t, weight)
        e = label_smoothing
        # The same operations, in the same order, as the backward of the composed loss.
        c = g * (1.0 - e) if e else g
        if reduction == "mean":
            c = terms.mean(c, adjoint=True)
        c = np.broadcast_to(c, terms.idx.shape)
        picked = -c if terms.w is None else c * -terms.w
        z = np.zeros(shape, dtype=g.dtype)
        np.put_along_axis(z, np.expand_dims(terms.idx, class_dim),
                          np.expand_dims(picked, class_dim), class_dim)
        if not e:
            return z
        c = g * (e / terms.n_classes)
        if reduction == "mean":
            c = terms.mean(c, adjoint=True)
        c = np.broadcast_to(c, terms.idx.shape)
        if terms.ignored is not None:
            c = c * (~terms.ignored).astype(g.dtype)
        uniform = np.expand_dims(-c, class_dim)
        if terms.class_weight is not None:
            uniform = uniform * terms.class_weight
        return z + uniform

    @staticmethod
    def backward(ctx: Context, h: Tensor) -> tuple[Tensor | None, None, None]:
        t, weight = ctx.saved_tensors
        kw = {k: v for k, v in ctx.kwargs.items() if k != "shape"}
        return NllLoss.apply(h, t, weight, adjoint=True, **kw), None, None
