"""Adam (with the AMSGrad variant) and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
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
        for p, d, g in self._gradients(group):
            st = state[p]
            if not st:
                st["step"] = 0
                st["exp_avg"] = Tensor._make(np.zeros_like(d))
                st["exp_avg_sq"] = Tensor._make(np.zeros_like(d))
            t = st["step"] = st["step"] + 1
            if weight_decay != 0:
                if decoupled:
                    d *= 1 - lr * weight_decay
                else:
                    g = g + weight_decay * d
            m, v = np.asarray(st["exp_avg"]), np.asarray(st["exp_avg_sq"])
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            if amsgrad:
                v_max = st.get("max_exp_avg_sq")
                if v_max is None:  # amsgrad switched on after the first step
                    v_max = st["max_exp_avg_sq"] = Tensor._make(np.zeros_like(d))
                v = np.maximum(np.asarray(v_max), v, out=np.asarray(v_max))
            denom = np.sqrt(v)
            denom /= math.sqrt(1 - beta2**t)
            denom += eps
            np.divide(m, denom, out=denom)
            denom *= lr / (1 - beta1**t)
            d -= denom
            p._bump_version()


class AdamW(Adam):
    """AdamW: Adam whose weight decay shrinks the parameters, p <- p * (1 - lr * weight_decay),
    instead of adding weight_decay * p to the gradient. Same arguments as ``Adam``."""

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
