"""The random number generator behind ``rand``, ``randn``, dropout and weight initialisation."""

from __future__ import annotations

import numpy as np


class _Generator:
    """Holds the NumPy generator; ``manual_seed`` replaces it."""

    rng = np.random.default_rng()


_state = _Generator()


def manual_seed(seed: int) -> None:
    """Seed every random function of microtensor, so that runs are reproducible."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}")
    _state.rng = np.random.default_rng(int(seed))


def generator() -> np.random.Generator:
    """The NumPy ``Generator`` that microtensor's random functions draw from."""
    return _state.rng
