"""Matrix multiplication with NumPy's rules for 1-D, 2-D and batched operands."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Context, Function


def _sum_to_ndim(t: Any, ndim: int) -> Any:
    """Sum the leading (batch) dims of ``t`` away until it has ``ndim`` dims."""
    if t.ndim > ndim:
        t = t.sum(dim=tuple(range(t.ndim - ndim)))
    return t


class Matmul(Function):
    """z = a @ b;   da = g @ b^T,  db = a^T @ g   (1-D operands get a dim of size 1 and lose it)"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Any, Any]:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:  # dot product: g is a scalar
            return (g * b if da else None), (g * a if db else None)
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        if a.ndim == 1:
            g = g.unsqueeze(-2)
        if b.ndim == 1:
            g = g.unsqueeze(-1)
        ga = gb = None
        if da:
            # Batch dims that a lacks are summed here; its size-1 batch dims by the engine.
            ga = _sum_to_ndim(g @ b2.transpose(-1, -2), a2.ndim)
            if a.ndim == 1:
                ga = ga.reshape(a.shape)
        if db:
            gb = _sum_to_ndim(a2.transpose(-1, -2) @ g, b2.ndim)
            if b.ndim == 1:
                gb = gb.squeeze(-1)
        return ga, gb


class TransposedMatmul(Function):
    """z = a^T @ b  (2-D a and b);   da = b @ g^T,  db = a @ g"""

    # NOTE: one node instead of two (permute, matmul) for the weight gradient of every linear
    # layer, g^T @ x, computed on each backward of a training step.
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return a.T @ b

    @staticmethod
    def backward(ctx: Context, g: Any) -> tuple[Any, Any]:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (b @ g.transpose(0, 1) if da else None), (a @ g if db else None)
