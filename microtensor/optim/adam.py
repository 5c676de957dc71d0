"""Adam (with the AMSGrad variant) and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

import math
from typing import Any

from ..creation import zeros_like
from .optimizer import Optimizer, ParamsT, check_nonnegative


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
        maximize: maximize the objective instead of minimizing it.
        decoupled_weight_decay: shrink the parameters directly, as AdamW does.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay}
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


class AdamW(Adam):
    """AdamW: Adam whose weight decay shrinks the parameters, p <- p * (1 - lr * weight_decay),
    instead of adding weight_decay * p to the gradient. Same arguments as ``Adam``."""

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
