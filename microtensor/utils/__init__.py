"""Utilities with PyTorch's names: ``microtensor.utils.data`` (datasets, samplers, DataLoader)."""

from . import data

__all__ = ["data"]
