"""``microtensor.backends.mps``: Apple's GPU backend, which microtensor does not have."""

from __future__ import annotations


def is_available() -> bool:
    """False: microtensor runs on the CPU only (no MPS device)."""
    return False


def is_built() -> bool:
    """False: microtensor is not built with MPS support."""
    return False
