"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .flat import FlatParams, State
from .optimizer import Optimizer, ParamsT, check_fused_foreach, check_nonnegative


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
        lr: learning rate (a number, or a 1-element tensor as in PyTorch).
        momentum: momentum factor (0 turns momentum off).
        dampening: dampening of the gradient added to the momentum buffer.
        weight_decay: L2 penalty coefficient added to the gradient.
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening == 0).
        maximize: maximize the objective instead of minimizing it.
        foreach: update all parameters of a group at once, through flat copies of them (see
            ``Optimizer``); None (the default) or False: one parameter at a time.
        fused: update all parameters of a group at once, in a flat buffer that they live in.
    """

    _supports_flat = True

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 fused: bool | None = None) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "fused": fused}
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        lr = options["lr"]
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        check_nonnegative(lr, "learning rate")
        check_nonnegative(options["momentum"], "momentum value")
        check_nonnegative(options["weight_decay"], "weight_decay value")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        check_fused_foreach(options)

    def _update(self, group: dict[str, Any]) -> None:
        lr, momentum, weight_decay = _number(group["lr"]), group["momentum"], group["weight_decay"]
        if momentum == 0 and weight_decay == 0 and not group["maximize"]:
            for p in group["params"]:  # plain SGD: p -= lr * g (the common case, in one loop)
                g = p.grad
                if g is not None:
                    p.add_(g, alpha=-lr)
            return
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

    def _flat_update(self, group: dict[str, Any], flat: FlatParams, grad: np.ndarray,
                     states: list[State]) -> None:
        # The NumPy calls of _update's tensor operations, in the same order (so the same bits),
        # each once for the whole bucket.
        lr, momentum, weight_decay = _number(group["lr"]), group["momentum"], group["weight_decay"]
        g = grad
        buf = flat.get_state(states, "momentum_buffer") if momentum != 0 else None
        if weight_decay != 0:
            g += np.multiply(flat.param_values(), weight_decay, out=flat.scratch(0))
        if momentum != 0:
            if buf is None:  # the first step: b = g
                buf = flat.new_state(states, "momentum_buffer", init=g)
            else:
                buf *= momentum
                dampening = group["dampening"]
                buf += g if dampening == 0 else np.multiply(g, 1 - dampening,
                                                            out=flat.scratch(0))
            if group["nesterov"]:
                g += np.multiply(buf, momentum, out=flat.scratch(0))
            else:
                g = buf
        np.multiply(g, -lr, out=flat.update)


def _number(lr: float | Tensor) -> float:
    """The learning rate as a Python number: a 1-element tensor gives its value (PyTorch
    accepts one, and updates with its value)."""
    return float(lr) if isinstance(lr, Tensor) else lr
