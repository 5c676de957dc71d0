"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from typing import Any

from ..creation import zeros_like
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
        for p, g in self._gradients(group):
            st = state[p]
            if not st:
                st["step"] = 0
                st["square_avg"] = zeros_like(p)
            st["step"] += 1
            if weight_decay != 0:
                g = g.add(p, alpha=weight_decay)
            square_avg = st["square_avg"]
            square_avg.mul_(alpha).addcmul_(g, g, value=1 - alpha)
            if centered:
                grad_avg = _buffer(st, "grad_avg", p)
                grad_avg.lerp_(g, 1 - alpha)
                avg = (square_avg - grad_avg * grad_avg).sqrt().add_(eps)
            else:
                avg = square_avg.sqrt().add_(eps)
            if momentum > 0:
                buf = _buffer(st, "momentum_buffer", p)
                buf.mul_(momentum).addcdiv_(g, avg)
                p.add_(buf, alpha=-lr)
            else:
                p.addcdiv_(g, avg, value=-lr)


def _buffer(st: dict[str, Any], name: str, p: Tensor) -> Tensor:
    """The state tensor ``name``, created as zeros like ``p`` on first use (``centered`` or
    ``momentum`` may be switched on after the first step)."""
    t = st.get(name)
    if t is None:
        t = st[name] = zeros_like(p)
    return t
