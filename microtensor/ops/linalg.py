"""Matrix multiplication with NumPy's rules for 1-D, 2-D and batched operands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.function import Context, Function

if TYPE_CHECKING:  # for annotations only (microtensor.tensor imports the ops)
    from ..tensor import Tensor


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b, as ``ndarray.dot`` for two 2-D arrays: the same BLAS call (the same bits), with
    half the overhead on small arrays."""
    return a.dot(b) if a.ndim == 2 and b.ndim == 2 else np.matmul(a, b)


def _sum_to_ndim(t: Tensor, ndim: int) -> Tensor:
    """Sum the leading (batch) dims of ``t`` away until it has ``ndim`` dims."""
    if t.ndim > ndim:
        t = t.sum(dim=tuple(range(t.ndim - ndim)))
    return t


class Matmul(Function):
    """z = a @ b;   da = g @ b^T,  db = a^T @ g   (1-D operands get a dim of size 1 and lose it)"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return matmul(a, b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
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
        return matmul(a.T, b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (b @ g.transpose(0, 1) if da else None), (a @ g if db else None)
# -- math ops (issue 10) -------------------------------------------------------------------------

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def parse_einsum(equation: str, shapes: list[tuple[int, ...]]) -> str:
    """PyTorch's einsum equation, checked against the operands' shapes and rewritten in explicit
    form: no spaces, letters for the ``...`` dims, and ``->`` with the output (implicit output:
    the ``...`` dims, then the letters that occur once, sorted). Raises PyTorch's errors."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for i, ch in enumerate(eq):
        if ch not in _LETTERS and ch not in ".,->":
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation "
                               f"string, subscripts must be in [a-zA-Z]")
    parsed: list[tuple[str, bool, str]] = []  # (letters before ..., has ..., letters after)
    for k, term in enumerate(terms):
        before, dots, after = term.partition("...")
        if "." in before or "." in after:
            raise RuntimeError(f"einsum(): found '.' for operand {k} that is not part of any "
                               f"ellipsis")
        n_letters, ndim = len(before) + len(after), len(shapes[k])
        if not dots and n_letters != ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({n_letters}) does not match the number of dimensions ({ndim}) "
                               f"for operand {k} and no ellipsis was given")
        if dots and n_letters > ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({n_letters}) is more than the number of dimensions ({ndim}) "
                               f"for operand {k}")
        parsed.append((before, bool(dots), after))
    used = set(lhs + rhs) & set(_LETTERS)
    free = [c for c in _LETTERS if c not in used]
    n_ell = max((len(s) - len(b) - len(a) for (b, d, a), s in zip(parsed, shapes, strict=True)
                 if d), default=0)
    ell = "".join(free[:n_ell])
    subs = [b + (ell[n_ell - (len(s) - len(b) - len(a)):] if d else "") + a
            for (b, d, a), s in zip(parsed, shapes, strict=True)]
    in_letters = "".join(subs)
    if arrow:
        before, dots, after = rhs.partition("...")
        if "." in before or "." in after:
            raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) was "
                               "already found")
        out = before + (ell if dots else "") + after
        for c in before + after:
            if (before + after).count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   f"the output")
            if c not in in_letters:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   f"equation for any input operand")
    else:
        out = ell + "".join(sorted(c for c in set(in_letters) - set(ell)
                                   if in_letters.count(c) == 1))
    sizes: dict[str, int] = {}
    for k, (sub, shape) in enumerate(zip(subs, shapes, strict=True)):
        seen: dict[str, int] = {}
        for c, n in zip(sub, shape, strict=True):
            if c in seen and seen[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but the "
                                   f"sizes don't match, {seen[c]} != {n}")
            seen[c] = n
            if n != 1 and sizes.get(c, 1) not in (1, n):
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which "
                                   f"does not broadcast with previously seen size {sizes[c]}")
            if n != 1 or c not in sizes:
                sizes[c] = n
    return ",".join(subs) + "->" + out


def _letter_sizes(subs: list[str], shapes: list[tuple[int, ...]]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for sub, shape in zip(subs, shapes, strict=True):
        for c, n in zip(sub, shape, strict=True):
            if n != 1 or c not in sizes:
                sizes[c] = n
    return sizes


class Einsum(Function):
    """z = einsum(equation, *operands), the sum over every letter not in the output of the
    product of the operands; dx_i = einsum with x_i's subscripts as the output, of g (the
    output's subscripts) and the other operands, placed on the diagonal where x_i repeats a
    letter and broadcast along the letters that only x_i has. ``equation`` is explicit (see
    ``parse_einsum``); size-1 dims broadcast against their letter's size."""

    @staticmethod
    def forward(ctx: Context, *operands: np.ndarray, equation: str = "") -> np.ndarray:
        lhs, out = equation.split("->")
        subs = lhs.split(",")
        sizes = _letter_sizes(subs, [o.shape for o in operands])
        arrays = [o if all(n == sizes[c] for c, n in zip(s, o.shape, strict=True))
                  else np.broadcast_to(o, tuple(sizes[c] for c in s))
                  for o, s in zip(operands, subs, strict=True)]
        ctx.save_for_backward(*operands)
        ctx.sizes = sizes
        return np.asarray(np.einsum(equation, *arrays, optimize=len(arrays) > 1))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        operands = ctx.saved_tensors
        lhs, out = ctx.kwargs["equation"].split("->")
        subs = lhs.split(",")
        sizes = ctx.sizes
        grads: list[Tensor | None] = []
        for i, need in enumerate(ctx.needs_input_grad):
            if not need:
                grads.append(None)
                continue
            terms = [out]
            args: list[Tensor | np.ndarray] = [g]  # (and constant arrays)
            for j, (s, o) in enumerate(zip(subs, operands, strict=True)):
                if j != i:
                    terms.append(s)
                    full = tuple(sizes[c] for c in s)  # (size-1 dims broadcast in forward)
                    args.append(o if o.shape == full else o.expand(full))
            free = iter(c for c in _LETTERS if c not in set(lhs + out))
            target = ""
            for c in subs[i]:
                if c in target:  # a repeated letter: its gradient lies on the diagonal
                    fresh = next(free)
                    terms.append(c + fresh)
                    args.append(np.eye(sizes[c], dtype=g._data.dtype))
                    target += fresh
                else:
                    target += c
            for c in dict.fromkeys(subs[i]):
                if c not in "".join(terms):  # summed in x_i alone: the gradient is constant
                    terms.append(c)        # along it
                    args.append(np.ones(sizes[c], dtype=g._data.dtype))
            grads.append(Einsum.apply(*args, equation=",".join(terms) + "->" + target))
        return tuple(grads)


class SingularValueNorm(Function):
    """y = the largest (``ord=2``) or smallest (``ord=-2``) singular value of each matrix in the
    last two dims, or their sum (``ord="nuc"``);   dA = g * u v^T for the singular vectors u, v
    of that singular value (g * U V^T for the sum)

    NOTE: the backward is computed in NumPy from the SVD of the forward pass: first derivatives
    only (differentiating it again raises a clear error, where PyTorch differentiates the SVD).
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, ord: Any = 2) -> np.ndarray:  # noqa: A002
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        if ord == "nuc":
            ctx.save_for_backward(a, u @ vh)
            return s.sum(axis=-1)
        k = 0 if ord == 2 else s.shape[-1] - 1
        ctx.save_for_backward(a, u[..., :, k:k + 1] @ vh[..., k:k + 1, :])
        return np.asarray(s[..., k])

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        a, factor = ctx.saved_tensors
        return SingularValueNormGrad.apply(g, a, factor)


class SingularValueNormGrad(Function):
    """z = g * F, F = u v^T (or U V^T) from the SVD of a in the forward pass: the gradient of
    ``SingularValueNorm``, computed inside an op; a is an input only so that differentiating
    z again reaches this op's backward, which raises (first derivatives only)"""

    @staticmethod
    def forward(ctx: Context, g: np.ndarray, a: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return g[..., None, None] * factor

    @staticmethod
    def backward(ctx: Context, h: Tensor) -> Any:
        raise RuntimeError("SingularValueNormBackward computes its gradient in NumPy from the "
                           "SVD of the forward pass, so that gradient is not differentiable: "
                           "a second derivative of a spectral or nuclear norm is not supported")
