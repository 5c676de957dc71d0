"""Anomaly mode: find the op whose backward produced NaN, and where the forward created it.

While it is on, every op recorded keeps the stack of the user's code that created it
(``Context.stack``), and the engine checks each gradient a backward returns. Off, it costs one
attribute read per recorded op.
"""

from __future__ import annotations

import functools
import traceback
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _AnomalyMode:
    """The switches read by ``Function.apply`` and the engine (global, as in PyTorch)."""

    enabled = False
    check_nan = True

    @staticmethod
    def forward_stack() -> list[str]:
        """The innermost frames of the calling code, without microtensor's own (the lines the
        user wrote that led to the op)."""
        frames = [f for f in traceback.extract_stack(limit=40)
                  if "/microtensor/" not in f.filename.replace("\\", "/")]
        return traceback.format_list(frames[-6:])


anomaly_mode = _AnomalyMode()


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on."""
    return anomaly_mode.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """True while anomaly detection also checks gradients for NaN."""
    return anomaly_mode.check_nan


class set_detect_anomaly:
    """Turn anomaly detection on or off: as a call (takes effect at once) or a context
    manager (restores the previous setting on exit).

    Args:
        mode: on or off.
        check_nan: also raise when a backward returns NaN (on by default).
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = (anomaly_mode.enabled, anomaly_mode.check_nan)
        anomaly_mode.enabled, anomaly_mode.check_nan = bool(mode), bool(check_nan)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        anomaly_mode.enabled, anomaly_mode.check_nan = self.prev


class detect_anomaly:
    """Context manager and decorator: anomaly detection on inside the block.

    A backward that returns NaN raises ``RuntimeError("Function 'LogBackward' returned nan
    values in its 0th output.")`` followed by the lines of the forward code that created the
    op; an error raised inside a backward comes with the same forward traceback.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        self.prev = (anomaly_mode.enabled, anomaly_mode.check_nan)
        anomaly_mode.enabled, anomaly_mode.check_nan = True, self.check_nan

    def __exit__(self, *exc: object) -> None:
        anomaly_mode.enabled, anomaly_mode.check_nan = self.prev

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def forward_traceback(stack: list[str] | None) -> str:
    """The text that names where an op was created, for error messages."""
    if not stack:
        return ""
    return "\nTraceback of forward call that created the op:\n" + "".join(stack)
