"""Adam (with the AMSGrad variant) and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..creation import zeros_like
from .flat import FlatParams, NotFlat, State, lerp_
from .optimizer import Optimizer, ParamsT, check_fused_foreach, check_nonnegative


class Adam(Optimizer):
    """Adam: p <- p - lr * m_hat / (sqrt(v_hat) + eps), from running moments of the gradient.

    For each parameter with gradient g (negated when ``maximize``), at step t = 1, 2, ...::

        g = g + weight_decay * p           (or p = p * (1 - lr * weight_decay) if decoupled)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        v_max = max(v_max, v)              (amsgrad only; v_max replaces v below)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate.
        betas: decay rates (beta1, beta2) of the first and second moment averages.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty coefficient (added to the gradient unless decoupled).
        amsgrad: use the maximum of all second moments so far (AMSGrad).
        foreach: update all parameters of a group at once, through flat copies of them (see
            ``Optimizer``); None (the default) or False: one parameter at a time.
        maximize: maximize the objective instead of minimizing it.
        fused: update all parameters of a group at once, in a flat buffer that they live in.
        decoupled_weight_decay: shrink the parameters directly, as AdamW does.
    """

    _supports_flat = True

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_nonnegative(options["lr"], "learning rate")
        check_nonnegative(options["eps"], "epsilon value")
        beta1, beta2 = options["betas"]
        if not 0.0 <= beta1 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {beta1}")
        if not 0.0 <= beta2 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
        check_nonnegative(options["weight_decay"], "weight_decay value")
        check_fused_foreach(options)

    def _update(self, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        amsgrad = group["amsgrad"]
        decoupled = group["decoupled_weight_decay"]
        state = self.state
        for p, g in self._gradients(group):
            st = state[p]
            if not st:
                st["step"] = 0
                st["exp_avg"] = zeros_like(p)
                st["exp_avg_sq"] = zeros_like(p)
            t = st["step"] = st["step"] + 1
            if weight_decay != 0:
                if decoupled:
                    p.mul_(1 - lr * weight_decay)
                else:
                    g = g.add(p, alpha=weight_decay)
            exp_avg, exp_avg_sq = st["exp_avg"], st["exp_avg_sq"]
            exp_avg.lerp_(g, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            if amsgrad:
                max_sq = st.get("max_exp_avg_sq")
                if max_sq is None:  # amsgrad switched on after the first step
                    max_sq = st["max_exp_avg_sq"] = zeros_like(p)
                exp_avg_sq = max_sq.copy_(max_sq.maximum(exp_avg_sq))
            denom = exp_avg_sq.sqrt().div_(math.sqrt(1 - beta2**t)).add_(eps)
            p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1**t))

    def _flat_update(self, group: dict[str, Any], flat: FlatParams, grad: np.ndarray,
                     states: list[State]) -> None:
        # The NumPy calls of _update's tensor operations, in the same order (so the same bits),
        # each once for the whole bucket.
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        fresh = [not st for st in states]
        if all(fresh):
            for st in states:
                st["step"] = 0
            flat.new_state(states, "exp_avg")
            flat.new_state(states, "exp_avg_sq")
        elif any(fresh):
            raise NotFlat("step")
        exp_avg = flat.get_state(states, "exp_avg")
        exp_avg_sq = flat.get_state(states, "exp_avg_sq")
        if exp_avg is None or exp_avg_sq is None:
            raise NotFlat("exp_avg")
        max_sq = flat.new_state(states, "max_exp_avg_sq") if group["amsgrad"] else None
        steps = [st["step"] + 1 for st in states]
        for st, t in zip(states, steps, strict=True):
            st["step"] = t
        g, tmp = grad, flat.scratch(0)
        if weight_decay != 0:
            p = flat.param_values()
            if group["decoupled_weight_decay"]:
                p *= 1 - lr * weight_decay
            else:
                g += np.multiply(p, weight_decay, out=tmp)
        lerp_(exp_avg, g, 1 - beta1, tmp)
        exp_avg_sq *= beta2
        square = np.multiply(g, 1 - beta2, out=tmp)
        square *= g
        exp_avg_sq += square
        if max_sq is not None:
            exp_avg_sq = np.maximum(max_sq, exp_avg_sq, out=max_sq)
        # Bias corrections: numbers when every parameter is at the same step (as usual), else
        # one per element.
        if steps.count(steps[0]) == len(steps):
            t = steps[0]
            bias2: float | np.ndarray = math.sqrt(1 - beta2**t)
            step_size: float | np.ndarray = -lr / (1 - beta1**t)
        else:
            bias2 = flat.per_element([math.sqrt(1 - beta2**t) for t in steps])
            step_size = flat.per_element([-lr / (1 - beta1**t) for t in steps])
        denom = np.sqrt(exp_avg_sq, out=tmp)
        denom /= bias2
        denom += eps
        np.multiply(exp_avg, step_size, out=flat.update)
        flat.update /= denom


class AdamW(Adam):
    """AdamW: Adam whose weight decay shrinks the parameters, p <- p * (1 - lr * weight_decay),
    instead of adding weight_decay * p to the gradient. Same arguments as ``Adam``."""

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, fused=fused, decoupled_weight_decay=True)
