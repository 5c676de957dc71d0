"""The functional forms of layers, activations and losses (``microtensor.nn.functional``).

Each module in ``nn`` calls one of these; they take tensors (and settings) and return a tensor.
Everything is composed from primitives except ``linear`` and ``binary_cross_entropy``, which
use the fused ops of ``nn.fused`` (for speed and for bounded gradients); all of them work with
``gradcheck``, ``gradgradcheck`` and ``create_graph=True``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..autograd.engine import format_shape as _fmt
from ..dtypes import promote_types
from ..random import generator
from ..tensor import Tensor, broadcast_shapes
from . import fused

_REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------------------------

def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = input @ weight^T + bias, with ``weight`` of shape (out_features, in_features)."""
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must have 2 dimensions (out_features, in_features), "
                           f"got shape {_fmt(weight.shape)}")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise RuntimeError(f"linear: bias of shape {_fmt(bias.shape)} does not match weight of "
                           f"shape {_fmt(weight.shape)}: expected ({weight.shape[0]},)")
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise RuntimeError(f"linear: input of shape {_fmt(input.shape)} does not match weight of "
                           f"shape {_fmt(weight.shape)} (out_features, in_features): the input's "
                           f"last dimension must be in_features = {weight.shape[-1]}")
    if input.dtype != weight.dtype:
        dtype = promote_types(input.dtype, input.ndim, weight.dtype, weight.ndim)
        input, weight = input.to(dtype), weight.to(dtype)  # noqa: A001
        bias = None if bias is None else bias.to(dtype)
    return fused.Linear.apply(input, weight, bias)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the others by 1 / (1 - p) (only when
    ``training``; otherwise return ``input``).

    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = generator().random(input.shape) >= p
    mask = np.where(keep, 1.0 / (1.0 - p), 0.0).astype(input.dtype)
    return input * Tensor._make(mask)


# ----------------------------------------------------------------------------------------------
# Activations
# ----------------------------------------------------------------------------------------------

def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + exp(-x))"""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """(exp(x) - exp(-x)) / (exp(x) + exp(-x))"""
    return input.tanh()


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(x, 0) (``inplace`` is accepted; the result is always a new tensor)"""
    return input.relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01,  # noqa: A002
               inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x"""
    return input.leaky_relu(negative_slope)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + exp(beta x)) / beta, and x where beta x > threshold"""
    return input.softplus(beta, threshold)


def _softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  f"include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """exp(x) / sum(exp(x)) along ``dim``"""
    if dtype is not None:
        input = input.to(dtype)  # noqa: A001
    return input.softmax(_softmax_dim("softmax", input.ndim) if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """x - log(sum(exp(x))) along ``dim``"""
    if dtype is not None:
        input = input.to(dtype)  # noqa: A001
    return input.log_softmax(_softmax_dim("log_softmax", input.ndim) if dim is None else dim)


# ----------------------------------------------------------------------------------------------
# Checks shared by the losses
# ----------------------------------------------------------------------------------------------

def _check_reduction(reduction: str, name: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction; use "
                         f"'mean', 'sum' or 'none'")


def _check_same_shape(input: Tensor, target: Any, name: str) -> None:  # noqa: A002
    if not isinstance(target, Tensor):
        raise TypeError(f"{name}: target must be a Tensor, got {type(target).__name__}")
    if target.shape != input.shape:
        hint = (f"; if the values line up, use target.reshape{_fmt(input.shape)}"
                if target.numel() == input.numel() else "")
        raise ValueError(f"{name}: target shape {_fmt(target.shape)} differs from input shape "
                         f"{_fmt(input.shape)}; they must be equal (broadcasting them would "
                         f"compute a wrong loss){hint}")


def _check_broadcasts_to(t: Tensor, shape: tuple[int, ...], what: str, name: str) -> None:
    try:
        ok = broadcast_shapes(t.shape, shape) == shape
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(f"{name}: {what} of shape {_fmt(t.shape)} does not broadcast to the "
                         f"input's shape {_fmt(shape)}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ----------------------------------------------------------------------------------------------
# Regression losses
# ----------------------------------------------------------------------------------------------

def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """(input - target)**2, averaged (``mean``), summed (``sum``) or kept (``none``)."""
    _check_reduction(reduction, "mse_loss")
    _check_same_shape(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """|input - target|, averaged (``mean``), summed (``sum``) or kept (``none``)."""
    _check_reduction(reduction, "l1_loss")
    _check_same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


# ----------------------------------------------------------------------------------------------
# Binary classification losses
# ----------------------------------------------------------------------------------------------

def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """-weight (y log x + (1 - y) log(1 - x)) for probabilities x in [0, 1], each log clamped
    at -100 (so the loss stays finite at x = 0 or 1), then reduced.

    Args:
        input: probabilities (e.g. the output of a sigmoid).
        target: values in [0, 1], same shape as ``input``.
        weight: rescales each element's loss (broadcast to ``input``'s shape).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
    """
    _check_reduction(reduction, "binary_cross_entropy")
    _check_same_shape(input, target, "binary_cross_entropy")
    x = input.detach().numpy()
    if not np.all((x >= 0) & (x <= 1)):
        raise RuntimeError(f"binary_cross_entropy: all elements of input should be between 0 "
                           f"and 1 (got values from {x.min()} to {x.max()}); for raw scores "
                           f"(logits) use binary_cross_entropy_with_logits")
    y = target.detach().numpy()
    if not np.all((y >= 0) & (y <= 1)):
        raise RuntimeError("binary_cross_entropy: all elements of target should be between 0 "
                           "and 1")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    loss = fused.BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        _check_broadcasts_to(weight, input.shape, "weight", "binary_cross_entropy")
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,  # noqa: A002
                                     weight: Tensor | None = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """binary_cross_entropy(sigmoid(x), y) computed stably from the logits x:
    softplus(x) - x y  (= max(x, 0) - x y + log(1 + exp(-|x|))), then reduced.

    With ``pos_weight`` p the positive term is weighted:
    -(p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))) = c softplus(x) - p x y with
    c = 1 + (p - 1) y.

    Args:
        input: raw scores (logits), any real values.
        target: values in [0, 1], same shape as ``input``.
        weight: rescales each element's loss (broadcast to ``input``'s shape).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        pos_weight: weight of the positive examples, one per class (broadcast along the last
            dimension).
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, name)
    _check_same_shape(input, target, name)
    if pos_weight is None:
        loss = fused.BinaryCrossEntropyWithLogits.apply(*input._operands(target))
    else:
        _check_broadcasts_to(pos_weight, input.shape, "pos_weight", name)
        # softplus by logaddexp is exact and finite for every x (threshold=inf: no cut-off).
        sp = input.softplus(1.0, math.inf)
        loss = (1 + (pos_weight - 1) * target) * sp - pos_weight * input * target
    if weight is not None:
        _check_broadcasts_to(weight, input.shape, "weight", name)
        loss = loss * weight
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------------------------
# Multi-class losses
# ----------------------------------------------------------------------------------------------

def _class_dim(input: Tensor, name: str) -> int:  # noqa: A002
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension: (C,), (N, C) or "
                         f"(N, C, d1, ...), got a 0-d tensor")
    return 0 if input.ndim == 1 else 1


def _check_class_target(input: Tensor, target: Any, name: str,  # noqa: A002
                        probabilities_allowed: bool = False) -> None:
    if not isinstance(target, Tensor):
        raise TypeError(f"{name}: target must be a Tensor, got {type(target).__name__}")
    expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if target.dtype.kind not in "iu":
        also = (f", or class probabilities: a floating tensor of the input's shape "
                f"{_fmt(input.shape)}") if probabilities_allowed else ""
        raise RuntimeError(f"{name}: target of dtype {target.dtype} and shape "
                           f"{_fmt(target.shape)} is not valid; expected class indices: an "
                           f"integer tensor (e.g. int64) of shape {_fmt(expected)}{also}")
    if target.shape != expected:
        raise ValueError(f"{name}: input of shape {_fmt(input.shape)} (batch, classes, ...) needs "
                         f"a target of class indices of shape {_fmt(expected)}, got "
                         f"{_fmt(target.shape)}")


def _class_weights(weight: Tensor | None, n_classes: int, name: str) -> np.ndarray | None:
    if weight is None:
        return None
    if weight.shape != (n_classes,):
        raise RuntimeError(f"{name}: weight tensor should be defined either for all {n_classes} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    return weight.detach().numpy()


def _target_weights(target: Tensor, weight: np.ndarray | None, ignore_index: int,
                    n_classes: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray | None]:
    """The class indices (ignored ones replaced by 0) and each target's weight (0 if ignored;
    None when every weight is 1)."""
    idx = target.detach().numpy()
    ignored = idx == ignore_index
    has_ignored = bool(ignored.any())
    if has_ignored:
        idx = np.where(ignored, 0, idx)
    bad = (idx < 0) | (idx >= n_classes)
    if bad.any():
        raise IndexError(f"Target {int(idx[bad].flat[0])} is out of bounds (the input has "
                         f"{n_classes} classes: 0 to {n_classes - 1})")
    if weight is None and not has_ignored:
        return idx, None
    w = np.ones(idx.shape, dtype) if weight is None else weight.astype(dtype)[idx]
    if has_ignored:
        w = np.where(ignored, 0, w).astype(dtype)
    return idx, w


def _mean_over_weights(loss_sum: Tensor, w: np.ndarray | None, count: int) -> Tensor:
    total = count if w is None else float(w.sum())
    if total == 0:  # every target ignored: 0 / 0, as in PyTorch, but without a warning
        return loss_sum * math.nan
    return loss_sum / total


def _nll(logp: Tensor, idx: np.ndarray, w: np.ndarray | None, class_dim: int,
         reduction: str) -> Tensor:
    picked = logp.take_along_dim(Tensor._make(np.expand_dims(idx, class_dim)), class_dim)
    picked = picked.squeeze(class_dim)
    losses = -picked if w is None else picked * Tensor._make(-w)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return _mean_over_weights(losses.sum(), w, idx.size)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """-weight[y] * input[y] for log-probabilities ``input`` and class indices y, then reduced
    (``mean`` divides by the sum of the targets' weights).

    Args:
        input: log-probabilities, (C,), (N, C) or (N, C, d1, ...).
        target: class indices (integers), (), (N,) or (N, d1, ...).
        weight: one weight per class.
        ignore_index: targets equal to it contribute nothing (and do not count in the mean).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
    """
    _check_reduction(reduction, "nll_loss")
    class_dim = _class_dim(input, "nll_loss")
    _check_class_target(input, target, "nll_loss")
    n_classes = input.shape[class_dim]
    w_class = _class_weights(weight, n_classes, "nll_loss")
    idx, w = _target_weights(target, w_class, ignore_index, n_classes, input.dtype)
    return _nll(input, idx, w, class_dim, reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """-sum_c weight[c] q[c] log softmax(input)[c], with q the target distribution, reduced.

    The target is either class indices (q is one-hot, or with ``label_smoothing`` e
    q = (1 - e) one_hot + e / C) or class probabilities of the input's shape (q is the target,
    mixed the same way with e / C). With indices, ``mean`` divides by the sum of the targets'
    weights; with probabilities, by the number of samples.

    Args:
        input: raw scores (logits), (C,), (N, C) or (N, C, d1, ...).
        target: class indices (integers), (), (N,) or (N, d1, ...); or probabilities, same shape
            as ``input``.
        weight: one weight per class.
        ignore_index: targets (indices) equal to it contribute nothing.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        label_smoothing: e in [0, 1].
    """
    name = "cross_entropy"
    _check_reduction(reduction, name)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0. Got: "
                         f"{label_smoothing}")
    class_dim = _class_dim(input, name)
    n_classes = input.shape[class_dim]
    w_class = _class_weights(weight, n_classes, name)
    w_shape = tuple(n_classes if d == class_dim else 1 for d in range(input.ndim))
    w_bcast = None if w_class is None else Tensor._make(w_class.astype(input.dtype)
                                                        .reshape(w_shape))
    logp = input.log_softmax(class_dim)

    if isinstance(target, Tensor) and target.dtype.kind == "f" and target.shape == input.shape:
        q = target if label_smoothing == 0 else (
            target * (1.0 - label_smoothing) + label_smoothing / n_classes)
        terms = logp * q if w_bcast is None else logp * q * w_bcast
        return _reduce(-terms.sum(class_dim), reduction)

    _check_class_target(input, target, name, probabilities_allowed=True)
    idx, w = _target_weights(target, w_class, ignore_index, n_classes, input.dtype)
    nll = _nll(logp, idx, w, class_dim, reduction)
    if label_smoothing == 0:
        return nll
    # The uniform part of the smoothed target: -sum_c weight[c] log p[c] per sample.
    smooth = -(logp if w_bcast is None else logp * w_bcast).sum(class_dim)
    ignored = target.detach().numpy() == ignore_index
    if ignored.any():
        smooth = smooth * Tensor._make((~ignored).astype(input.dtype))
    if reduction == "mean":
        smooth = _mean_over_weights(smooth.sum(), w, idx.size)
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1.0 - label_smoothing) + smooth * (label_smoothing / n_classes)
