"""Grad mode: whether operations record the graph. ``no_grad`` turns recording off.

The mode is per thread, as in PyTorch: ``no_grad()`` in one thread leaves the others recording.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    """Holds the switch read on every operation: one per thread, as in PyTorch (a thread
    starts with recording on, whatever other threads do)."""

    enabled = True


state = _State()


def is_grad_enabled() -> bool:
    """Return True if operations currently record the graph for autograd."""
    return state.enabled


class set_grad_enabled:
    """Turn graph recording on or off: as a call, a context manager or a decorator.

    ``set_grad_enabled(False)`` takes effect at once (like PyTorch); used with ``with`` it
    restores the previous mode on exit.
    """

    def __init__(self, mode: bool) -> None:
        self.prev = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        state.enabled = self.prev

    def __call__(self, fn: F) -> F:
        # Used as a decorator: the constructor already switched the mode; undo that.
        state.enabled = self.prev
        return _Switch(self.mode)(fn)


class _Switch:
    """Context manager (and decorator) setting grad mode to a fixed value inside its block."""

    mode = True

    def __init__(self, mode: bool | None = None) -> None:
        if mode is not None:
            self.mode = mode

    def __enter__(self) -> None:
        self.prev = state.enabled
        state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        state.enabled = self.prev

    def __call__(self, fn: F) -> F:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _Switch(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_Switch):
    """Context manager and decorator: operations inside do not record the graph.

    Use it for evaluation and for updating parameters in place.
    """

    mode = False


class enable_grad(_Switch):
    """Context manager and decorator: turn graph recording back on inside a ``no_grad`` block."""

    mode = True


class inference_mode(_Switch):
    """Context manager and decorator: like ``no_grad`` (nothing inside records the graph).

    ``inference_mode(False)`` leaves recording as it is. Unlike PyTorch, the tensors created
    inside are ordinary tensors (PyTorch marks them as inference tensors that autograd later
    refuses).
    """

    def __init__(self, mode: bool = True) -> None:
        self.active = bool(mode)

    def __enter__(self) -> None:
        self.prev = state.enabled
        if self.active:
            state.enabled = False

    def __call__(self, fn: F) -> F:
        active = self.active

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(active):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
