"""``Linear`` (y = x W^T + b) and ``Identity``."""

from __future__ import annotations

import math
from typing import Any

from ..creation import empty
from ..device import check_device
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter


class Identity(Module):
    """y = x (a placeholder; any constructor arguments are ignored)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """Return ``input`` unchanged."""
        return input


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features) and b of shape (out_features,).

    W and b start as U(-1/sqrt(in_features), 1/sqrt(in_features)), as in PyTorch (for W, that
    is ``kaiming_uniform_`` with a = sqrt(5)).

    Args:
        in_features: size of each input sample (the last dimension of x).
        out_features: size of each output sample.
        bias: whether to learn b.
        dtype: dtype of the parameters (the default float dtype if None).
        device: None or the CPU (``"cpu"``, ``device("cpu")``); others raise.
    """

    in_features: int
    out_features: int
    weight: Parameter
    bias: Parameter | None

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        check_device(device, "a Linear layer")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw W and b again from their initial distributions."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """input @ weight^T + bias"""
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
