"""Adagrad: per-coordinate learning rates from the sum of all past squared gradients."""

from __future__ import annotations

from typing import Any

from ..creation import full_like
from .optimizer import Optimizer, ParamsT, check_nonnegative


class Adagrad(Optimizer):
    """Adagrad: p <- p - lr_t * g / (sqrt(s) + eps), with s the sum of all g**2 so far.

    For each parameter with gradient g (negated when ``maximize``), at step t = 1, 2, ...::

        g = g + weight_decay * p
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s = s + g**2                             (s starts at initial_accumulator_value)
        p = p - lr_t * g / (sqrt(s) + eps)

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate.
        lr_decay: learning rate decay per step.
        weight_decay: L2 penalty coefficient added to the gradient.
        initial_accumulator_value: starting value of the sum of squares.
        eps: added to the denominator for numerical stability.
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_nonnegative(options["lr"], "learning rate")
        check_nonnegative(options["lr_decay"], "lr_decay value")
        check_nonnegative(options["weight_decay"], "weight_decay value")
        check_nonnegative(options["initial_accumulator_value"], "initial_accumulator_value value")
        check_nonnegative(options["eps"], "epsilon value")

    def _update(self, group: dict[str, Any]) -> None:
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        weight_decay = group["weight_decay"]
        state = self.state
        for p, g in self._gradients(group):
            st = state[p]
            if not st:
                st["step"] = 0
                st["sum"] = full_like(p, group["initial_accumulator_value"])
            t = st["step"] = st["step"] + 1
            if weight_decay != 0:
                g = g.add(p, alpha=weight_decay)
            state_sum = st["sum"]
            state_sum.addcmul_(g, g, value=1)
            std = state_sum.sqrt().add_(eps)
            p.addcdiv_(g, std, value=-lr / (1 + (t - 1) * lr_decay))
