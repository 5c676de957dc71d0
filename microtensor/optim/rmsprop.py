"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..creation import zeros_like
from ..tensor import Tensor
from .flat import FlatParams, NotFlat, State, lerp_
from .optimizer import Optimizer, ParamsT, check_fused_foreach, check_nonnegative


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
        foreach: update all parameters of a group at once, through flat copies of them (see
            ``Optimizer``); None (the default) or False: one parameter at a time.
        maximize: maximize the objective instead of minimizing it.
        fused: update all parameters of a group at once, in a flat buffer that they live in.
            A microtensor extension: PyTorch's RMSprop has no ``fused``. Given, it is an
            option of each group (PyTorch's groups have no such key).
    """

    _supports_flat = True

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, fused: bool | None = None) -> None:
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize}
        if fused is not None:
            defaults["fused"] = fused
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_nonnegative(options["lr"], "learning rate")
        check_nonnegative(options["eps"], "epsilon value")
        check_nonnegative(options["momentum"], "momentum value")
        check_nonnegative(options["weight_decay"], "weight_decay value")
        check_nonnegative(options["alpha"], "alpha value")
        check_fused_foreach(options)

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

    def _flat_update(self, group: dict[str, Any], flat: FlatParams, grad: np.ndarray,
                     states: list[State]) -> None:
        # The NumPy calls of _update's tensor operations, in the same order (so the same bits),
        # each once for the whole bucket.
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        fresh = [not st for st in states]
        if all(fresh):
            for st in states:
                st["step"] = 0
            flat.new_state(states, "square_avg")
        elif any(fresh):
            raise NotFlat("step")
        square_avg = flat.get_state(states, "square_avg")
        if square_avg is None:
            raise NotFlat("square_avg")
        grad_avg = flat.new_state(states, "grad_avg") if group["centered"] else None
        buf = flat.new_state(states, "momentum_buffer") if momentum > 0 else None
        for st in states:
            st["step"] += 1
        g, tmp, avg = grad, flat.scratch(0), flat.scratch(1)
        if weight_decay != 0:
            g += np.multiply(flat.param_values(), weight_decay, out=tmp)
        square_avg *= alpha
        square = np.multiply(g, 1 - alpha, out=tmp)
        square *= g
        square_avg += square
        if grad_avg is not None:
            lerp_(grad_avg, g, 1 - alpha, tmp)
            np.subtract(square_avg, np.multiply(grad_avg, grad_avg, out=tmp), out=avg)
            np.sqrt(avg, out=avg)
        else:
            np.sqrt(square_avg, out=avg)
        avg += eps
        if buf is not None:
            buf *= momentum
            buf += np.divide(g, avg, out=tmp)
            np.multiply(buf, -lr, out=flat.update)
        else:
            np.multiply(g, -lr, out=flat.update)
            flat.update /= avg


def _buffer(st: dict[str, Any], name: str, p: Tensor) -> Tensor:
    """The state tensor ``name``, created as zeros like ``p`` on first use (``centered`` or
    ``momentum`` may be switched on after the first step)."""
    t = st.get(name)
    if t is None:
        t = st[name] = zeros_like(p)
    return t
