"""Loss functions as modules. Each one calls its counterpart in ``nn.functional``.

``reduction`` is ``'mean'`` (the default), ``'sum'`` or ``'none'`` (one loss per element).
The target must have the input's shape (class indices: the input's shape without the class
dimension); a different shape is an error, never a silent broadcast.
"""

from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class _Loss(Module):
    """A loss with a ``reduction`` (checked when the module is built)."""

    reduction: str

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction


class MSELoss(_Loss):
    """(input - target)**2, reduced"""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """The loss of ``input`` against ``target`` (same shape)."""
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """|input - target|, reduced"""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """The loss of ``input`` against ``target`` (same shape)."""
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """-weight (y log x + (1 - y) log(1 - x)) for probabilities x (logs clamped at -100), reduced.

    Args:
        weight: rescales each element's loss (broadcast to the input's shape).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
    """

    weight: Tensor | None  # (a buffer)

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """The loss of probabilities ``input`` against ``target`` in [0, 1] (same shape)."""
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """BCELoss of sigmoid(input), computed stably from the logits: softplus(x) - x y, reduced.

    Args:
        weight: rescales each element's loss (broadcast to the input's shape).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        pos_weight: weight of the positive examples, one per class (last dimension).
    """

    weight: Tensor | None  # (buffers)
    pos_weight: Tensor | None

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """The loss of logits ``input`` against ``target`` in [0, 1] (same shape)."""
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class NLLLoss(_Loss):
    """-weight[y] * input[y] for log-probabilities and class indices y, reduced (``mean``
    divides by the sum of the targets' weights).

    Args:
        weight: one weight per class.
        ignore_index: targets equal to it contribute nothing.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
    """

    weight: Tensor | None  # (a buffer)
    ignore_index: int

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """The loss of log-probabilities ``input`` (N, C) against class indices (N,)."""
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of softmax(input) against class indices or class probabilities, reduced.

    Args:
        weight: one weight per class.
        ignore_index: targets (class indices) equal to it contribute nothing.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        label_smoothing: e in [0, 1]: the target becomes (1 - e) target + e / C.
    """

    weight: Tensor | None  # (a buffer)
    ignore_index: int
    label_smoothing: float

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                             f"{label_smoothing}")
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """The loss of logits ``input`` (N, C) against indices (N,) or probabilities (N, C)."""
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)
