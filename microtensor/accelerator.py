"""``microtensor.accelerator``: PyTorch's device-neutral accelerator queries, answered for a
library that runs on the CPU only (there is never an accelerator)."""

from __future__ import annotations

_NONE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    """False: microtensor computes with NumPy on the CPU."""
    return False


def current_accelerator(check_available: bool = False) -> None:
    """The accelerator's device, or None when there is none (always None here)."""
    return None


def device_count() -> int:
    """The number of accelerator devices: 0."""
    return 0


def current_device_index() -> int:
    """Raises: there is no accelerator device (PyTorch's RuntimeError)."""
    raise RuntimeError(_NONE)


def synchronize(device: object = None) -> None:
    """Raises: there is no accelerator to wait for (PyTorch's RuntimeError)."""
    raise RuntimeError(_NONE)
