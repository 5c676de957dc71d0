"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any

from .optimizer import Optimizer, ParamsT, check_nonnegative


class SGD(Optimizer):
    """Stochastic gradient descent: p <- p - lr * d, with d the (momentum) direction below.

    For each parameter with gradient g (negated when ``maximize``)::

        g = g + weight_decay * p
        b = g                                   on the first step (no dampening)
        b = momentum * b + (1 - dampening) * g  afterwards
        d = g + momentum * b  if nesterov  else  b      (d = g when momentum == 0)
        p = p - lr * d

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate.
        momentum: momentum factor (0 turns momentum off).
        dampening: dampening of the gradient added to the momentum buffer.
        weight_decay: L2 penalty coefficient added to the gradient.
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening == 0).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_nonnegative(options["lr"], "learning rate")
        check_nonnegative(options["momentum"], "momentum value")
        check_nonnegative(options["weight_decay"], "weight_decay value")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, group: dict[str, Any]) -> None:
        lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
        dampening, nesterov = group["dampening"], group["nesterov"]
        state = self.state
        for p, g in self._gradients(group):
            if weight_decay != 0:
                g = g.add(p, alpha=weight_decay)
            if momentum != 0:
                buf = state[p].get("momentum_buffer")
                if buf is None:
                    buf = state[p]["momentum_buffer"] = g.detach().clone()
                else:
                    buf.mul_(momentum).add_(g, alpha=1 - dampening)
                g = g.add(buf, alpha=momentum) if nesterov else buf
            p.add_(g, alpha=-lr)
