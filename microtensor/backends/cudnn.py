"""``microtensor.backends.cudnn``: the cuDNN flags that programs set for reproducibility.

``cudnn.deterministic = True`` and ``cudnn.benchmark = False`` are accepted and change nothing:
microtensor has no cuDNN, and its NumPy computations are deterministic already.
"""

from __future__ import annotations

deterministic = False
benchmark = False
enabled = True
allow_tf32 = True


def is_available() -> bool:
    """False: microtensor has no cuDNN."""
    return False


def version() -> None:
    """None: no cuDNN library is loaded."""
    return None
