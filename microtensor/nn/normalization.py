"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` (per channel, with running statistics)
and ``LayerNorm`` (over the last dims of each sample). Each calls ``nn.functional``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import dtypes
from ..autograd.grad_mode import no_grad
from ..creation import empty, ones, tensor, zeros
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter


def _check_device(name: str, device: Any) -> None:
    if device not in (None, "cpu"):
        raise ValueError(f"{name}: only device='cpu' is supported, got {device!r}")


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share (they differ only in the input dims they take)."""

    num_features: int
    eps: float
    momentum: float | None
    affine: bool
    track_running_stats: bool
    weight: Parameter | None  # (None without affine)
    bias: Parameter | None
    running_mean: Tensor | None  # (buffers, None without track_running_stats)
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        _check_device(type(self).__name__, device)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(empty(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(empty(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=dtypes.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batch seen."""
        if self.track_running_stats:
            mean, var, count = self.running_mean, self.running_var, self.num_batches_tracked
            assert mean is not None and var is not None and count is not None  # (tracked)
            with no_grad():
                mean.zero_()
                var.fill_(1)
                count.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics, and the weight to 1 and the bias to 0."""
        self.reset_running_stats()
        if self.affine:
            assert self.weight is not None  # (affine)
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        raise NotImplementedError

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """Normalise each channel (dim 1) of ``input`` by the batch statistics (training) or
        the running ones (evaluation, when tracked)."""
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            # momentum=None: the cumulative average, r = r + (s - r) / (batches seen)
            factor = 1.0 / self.num_batches_tracked.item() if self.momentum is None \
                else self.momentum
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if keep else None,
                            self.running_var if keep else None, self.weight, self.bias,
                            use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C:
    y = (x - mean) / sqrt(var + eps) * weight + bias.

    In training the statistics are the batch's, and running estimates are kept:
    r = (1 - momentum) r + momentum s (with the unbiased variance; ``momentum=None`` gives the
    cumulative average). In evaluation the running estimates are used.

    Args:
        num_features: C.
        eps: added to the variance.
        momentum: the weight of the new batch in the running estimates, or None.
        affine: learn ``weight`` (starts at 1) and ``bias`` (starts at 0).
        track_running_stats: keep ``running_mean``, ``running_var`` and
            ``num_batches_tracked`` (buffers, in ``state_dict``); without them evaluation
            uses the batch statistics too.
        bias: (keyword only) learn the bias (only with ``affine``).
    """

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel C (see ``BatchNorm1d``)."""

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        if input.ndim != 4:
            raise ValueError(f"expected 4D input (got {input.ndim}D input)")


class LayerNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, the statistics of each sample taken
    over its last dims, ``normalized_shape`` (the same in training and evaluation).

    Args:
        normalized_shape: the sizes of those last dims (an int for one dim).
        eps: added to the variance.
        elementwise_affine: learn ``weight`` (starts at 1), and ``bias`` (starts at 0) if
            ``bias``.
        bias: learn the bias (only with ``elementwise_affine``).
    """

    normalized_shape: tuple[int, ...]
    eps: float
    elementwise_affine: bool
    weight: Parameter | None  # (None without elementwise_affine)
    bias: Parameter | None

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        _check_device("LayerNorm", device)
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(*self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(zeros(*self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Weight 1, bias 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """layer_norm(input, normalized_shape, weight, bias, eps)"""
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")
