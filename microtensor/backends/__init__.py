"""``microtensor.backends``: PyTorch's backend switches, as they read without CUDA or MPS
(``backends.mps.is_available()`` is False; ``backends.cudnn`` flags can be set and do
nothing)."""

from . import cudnn, mps

__all__ = ["cudnn", "mps"]
