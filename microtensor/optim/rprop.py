"""Rprop: resilient backpropagation, which adapts a step size per coordinate from grad signs."""

from __future__ import annotations

from typing import Any

from ..creation import full_like, ones_like, zeros_like
from ..tensor import where
from .optimizer import Optimizer, ParamsT, check_nonnegative


class Rprop(Optimizer):
    """Rprop: p <- p - sign(g) * step, where each coordinate's step grows while the gradient
    keeps its sign and shrinks when it flips.

    For each parameter with gradient g (negated when ``maximize``); step starts at lr and the
    previous gradient g_prev at 0::

        where g * g_prev > 0:  step = min(step * eta_plus, step_max)
        where g * g_prev < 0:  step = max(step * eta_minus, step_min);  g = 0
        p = p - sign(g) * step;  g_prev = g

    Setting g to 0 where the sign flipped skips that coordinate for one step, and makes the
    next step's product 0, so the step size is left alone then.

    Args:
        params: tensors or parameter groups to optimize.
        lr: initial step size.
        etas: (eta_minus, eta_plus), the factors that shrink and grow the step,
            0 < eta_minus < 1 < eta_plus.
        step_sizes: (step_min, step_max), the bounds of the step size.
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *,
                 maximize: bool = False) -> None:
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_nonnegative(options["lr"], "learning rate")
        eta_minus, eta_plus = options["etas"]
        if not 0.0 < eta_minus < 1.0 < eta_plus:
            raise ValueError(f"Invalid eta values: {eta_minus}, {eta_plus}")

    def _update(self, group: dict[str, Any]) -> None:
        eta_minus, eta_plus = group["etas"]
        step_min, step_max = group["step_sizes"]
        state = self.state
        for p, g in self._gradients(group):
            st = state[p]
            if not st:
                st["step"] = 0
                st["prev"] = zeros_like(p)
                st["step_size"] = full_like(p, group["lr"])
            st["step"] += 1
            prev, step_size = st["prev"], st["step_size"]
            product = g.mul(prev)
            flipped = product < 0
            # (the etas become the parameter's dtype here, so float32 steps round as PyTorch's)
            factor = where(product > 0, eta_plus, where(flipped, eta_minus, ones_like(p)))
            step_size.mul_(factor).clamp_(step_min, step_max)
            g = where(flipped, 0.0, g)  # a new tensor: p.grad is left as it is
            p.addcmul_(g.sign(), step_size, value=-1)
            prev.copy_(g)
