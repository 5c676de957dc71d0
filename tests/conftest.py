"""Shared fixtures: every test starts with PyTorch's defaults (float32, grad mode on)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import microtensor as mt


@pytest.fixture(autouse=True)
def _restore_global_state() -> Iterator[None]:
    """A test that changes the default dtype or grad mode cannot leak it into the next test."""
    yield
    mt.set_default_dtype(mt.float32)
    mt.set_grad_enabled(True)
