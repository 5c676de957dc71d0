"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_nonnegative


class RMSprop(Optimizer):
    """RMSprop: p <- p - lr * g / (sqrt(v) + eps), with v a running mean of g**2.

    For each parameter with gradient g (negated when ``maximize``)::

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g**2
        a = alpha * a + (1 - alpha) * g          (centered only)
        s = sqrt(v - a**2) + eps  if centered  else  sqrt(v) + eps
        b = momentum * b + g / s; p = p - lr * b       if momentum > 0
        p = p - lr * g / s                             otherwise

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate.
        alpha: smoothing constant of the running averages.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty coefficient added to the gradient.
        momentum: momentum factor (0 turns momentum off).
        centered: normalize by an estimate of the gradient's variance instead of its second
            moment.
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_nonnegative(options["lr"], "learning rate")
        check_nonnegative(options["eps"], "epsilon value")
        check_nonnegative(options["momentum"], "momentum value")
        check_nonnegative(options["weight_decay"], "weight_decay value")
        check_nonnegative(options["alpha"], "alpha value")

    def _update(self, group: dict[str, Any]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        centered = group["centered"]
        state = self.state
        for p, d, g in self._gradients(group):
            st = state[p]
            if not st:
                st["step"] = 0
                st["square_avg"] = Tensor._make(np.zeros_like(d))
            st["step"] += 1
            if weight_decay != 0:
                g = g + weight_decay * d
            v = np.asarray(st["square_avg"])
            v *= alpha
            v += (1 - alpha) * (g * g)
            if centered:
                a = _buffer(st, "grad_avg", d)
                a *= alpha
                a += (1 - alpha) * g
                s = v - a * a
                np.sqrt(s, out=s)
            else:
                s = np.sqrt(v)
            s += eps
            if momentum > 0:
                b = _buffer(st, "momentum_buffer", d)
                b *= momentum
                b += g / s
                d -= lr * b
            else:
                np.divide(g, s, out=s)
                s *= lr
                d -= s
            p._bump_version()


def _buffer(st: dict[str, Any], name: str, like: np.ndarray) -> np.ndarray:
    """The state array ``name``, created as zeros on first use."""
    t = st.get(name)
    if t is None:
        t = st[name] = Tensor._make(np.zeros_like(like))
    return np.asarray(t)
