"""Activation functions as modules: ``Sigmoid``, ``Tanh``, ``ReLU``, ``LeakyReLU``,
``Softplus``, ``Softmax``, ``LogSoftmax``. Each calls its function in ``nn.functional`` (which
checks its argument)."""

from __future__ import annotations

from typing import Any

from ..autograd.grad_mode import no_grad
from ..creation import full
from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x))"""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """sigmoid(input)"""
        return F.sigmoid(input)


class Tanh(Module):
    """y = tanh(x)"""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """tanh(input)"""
        return F.tanh(input)


# -- math ops (issue 10) -------------------------------------------------------------------------

class GELU(Module):
    """y = x * Phi(x), Phi the standard normal CDF (``approximate="tanh"``: its tanh
    approximation)"""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """gelu(input, approximate)"""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class ReLU(Module):
    """y = max(x, 0)  (``inplace`` is accepted; the output is always a new tensor)"""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """relu(input)"""
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope * x"""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """leaky_relu(input, negative_slope)"""
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    """y = log(1 + exp(beta x)) / beta, and y = x where beta x > threshold"""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """softplus(input, beta, threshold)"""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """y = exp(x) / sum(exp(x)) along ``dim`` (the values along ``dim`` sum to 1)"""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """softmax(input, dim)"""
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """y = x - log(sum(exp(x))) along ``dim`` (log of the softmax, computed stably)"""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """log_softmax(input, dim)"""
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# -- more activations (issue 10) ------------------------------------------------------------------

class _Inplace(Module):
    """An activation with PyTorch's ``inplace`` flag (accepted; the output is always new)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ELU(Module):
    """y = x if x > 0 else alpha (exp(x) - 1)"""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """elu(input, alpha)"""
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SiLU(_Inplace):
    """y = x sigmoid(x) (also called swish)"""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """silu(input)"""
        return F.silu(input)


class Mish(_Inplace):
    """y = x tanh(softplus(x))"""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """mish(input)"""
        return F.mish(input)


class Hardtanh(Module):
    """y = min(max(x, min_val), max_val)"""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if max_val <= min_val:
            raise AssertionError(f"max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """hardtanh(input, min_val, max_val)"""
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return (f"min_val={self.min_val}, max_val={self.max_val}"
                + (", inplace=True" if self.inplace else ""))


class ReLU6(_Inplace):
    """y = min(max(x, 0), 6)"""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """relu6(input)"""
        return F.relu6(input)


class Softsign(Module):
    """y = x / (1 + |x|)"""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """softsign(input)"""
        return F.softsign(input)


class Hardsigmoid(_Inplace):
    """y = min(max(x / 6 + 1/2, 0), 1)"""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """hardsigmoid(input)"""
        return F.hardsigmoid(input)


class Hardswish(_Inplace):
    """y = x min(max(x + 3, 0), 6) / 6"""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """hardswish(input)"""
        return F.hardswish(input)


class PReLU(Module):
    """y = x if x > 0 else a x, with a learnable ``a``: one, or one per channel (dim 1).

    Args:
        num_parameters: 1, or the number of channels.
        init: the initial value of a.
    """

    num_parameters: int
    init: float
    weight: Parameter

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if device not in (None, "cpu"):
            raise ValueError(f"PReLU: only device='cpu' is supported, got {device!r}")
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(full((num_parameters,), init, dtype=dtype))

    def reset_parameters(self) -> None:
        """Every a back to ``init``."""
        with no_grad():
            self.weight.fill_(self.init)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """prelu(input, weight)"""
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
