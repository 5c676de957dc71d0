"""Automatic differentiation: the graph (``Function``), the engine (``backward``, ``grad``),
grad mode (``no_grad``), anomaly mode (``detect_anomaly``) and gradient checking
(``gradcheck``), and hooks around every ``backward()``."""

from . import graph
from .anomaly_mode import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from .engine import backward, grad
from .function import Context, Function
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .hooks import RemovableHandle, register_backward_post_hook, register_backward_pre_hook

__all__ = [
    "Context",
    "Function",
    "GradcheckError",
    "RemovableHandle",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "graph",
    "gradcheck",
    "gradgradcheck",
    "inference_mode",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "register_backward_post_hook",
    "register_backward_pre_hook",
    "set_detect_anomaly",
    "set_grad_enabled",
]
