"""``microtensor.accelerator``: what ``torch.accelerator`` answers on a machine without one.

PyTorch's tutorials choose their device with
``torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"``;
with microtensor, which runs on the CPU only, that picks ``"cpu"``.
"""

from __future__ import annotations

from .device import device

_NONE = ("Cannot access accelerator device when none is available (microtensor runs on the "
         "CPU only: check accelerator.is_available() first, and use device 'cpu')")


def is_available() -> bool:
    """False: microtensor has no accelerator (CUDA, MPS, ...)."""
    return False


def current_accelerator(check_available: bool = False) -> device | None:
    """None: there is no accelerator."""
    return None


def device_count() -> int:
    """0: the number of accelerator devices microtensor can use."""
    return 0


def current_device_index() -> int:
    """Raises: there is no accelerator device."""
    raise RuntimeError(_NONE)


def synchronize(device: object = None) -> None:
    """Raises: there is no accelerator device to wait for."""
    raise RuntimeError(_NONE)
