"""``microtensor.cuda``: what ``torch.cuda`` answers on a machine without CUDA.

microtensor runs on the CPU only, so a program that asks ``cuda.is_available()`` takes its CPU
branch. The seeding functions do nothing, as PyTorch's do when there is no CUDA device; the
functions that need a device raise a ``RuntimeError`` saying that microtensor runs on the CPU
only (PyTorch without CUDA raises an ``AssertionError`` there).
"""

from __future__ import annotations

from typing import Any

_CPU_ONLY = ("microtensor runs on the CPU only: there is no CUDA device (check "
             "cuda.is_available() first, and use device 'cpu')")


def is_available() -> bool:
    """False: microtensor has no CUDA support."""
    return False


def device_count() -> int:
    """0: the number of CUDA devices microtensor can use."""
    return 0


def is_initialized() -> bool:
    """False: CUDA is never initialised."""
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: there is no CUDA device (nor a bfloat16 dtype in microtensor)."""
    return False


def manual_seed(seed: int) -> None:
    """Does nothing (there is no CUDA generator), as in PyTorch without CUDA; seed the CPU
    generator with ``microtensor.manual_seed``."""
    int(seed)  # a seed that is not a number raises, as in PyTorch


def manual_seed_all(seed: int) -> None:
    """Does nothing (there are no CUDA generators), as in PyTorch without CUDA."""
    int(seed)


def empty_cache() -> None:
    """Does nothing: there is no CUDA memory to release."""


def memory_allocated(device: Any = None) -> int:
    """0: no CUDA memory is ever allocated."""
    return 0


def max_memory_allocated(device: Any = None) -> int:
    """0: no CUDA memory is ever allocated."""
    return 0


def current_device() -> int:
    """Raises: there is no CUDA device."""
    raise RuntimeError(_CPU_ONLY)


def get_device_name(device: Any = None) -> str:
    """Raises: there is no CUDA device."""
    raise RuntimeError(_CPU_ONLY)


def synchronize(device: Any = None) -> None:
    """Raises: there is no CUDA device to wait for."""
    raise RuntimeError(_CPU_ONLY)


def set_device(device: Any) -> None:
    """Raises: there is no CUDA device to select."""
    raise RuntimeError(_CPU_ONLY)
