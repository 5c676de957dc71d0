"""``microtensor.linalg``: the norms of ``torch.linalg`` (``norm``, ``vector_norm``,
``matrix_norm``), built on ``Tensor.norm`` (the ``Norm`` op), ``abs``, ``sum`` and
``amax``/``amin``; the matrix norms that need singular values (ord 2, -2 and "nuc") on the
``SingularValueNorm`` op (first derivatives only)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from . import dtypes
from .dtypes import scalar_name
from .ops.linalg import SingularValueNorm
from .tensor import Tensor, _type_name

__all__ = ["matrix_norm", "norm", "vector_norm"]

Dim = int | Sequence[int] | None


def _prepare(x: Any, name: str, dtype: Any) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{_type_name(x)}")
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
        if dtype.kind != "f":
            raise RuntimeError(f"linalg.{name}: dtype should be floating point, but got "
                               f"{scalar_name(dtype)}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as "
                           f"input. Got {scalar_name(x.dtype)}")
    return x if dtype is None else x.to(dtype)


def vector_norm(x: Tensor, ord: float = 2, dim: Dim = None,  # noqa: A002
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The vector ``ord``-norm of ``x`` over ``dim`` (every element by default):
    (sum |x|**ord)**(1/ord) (for ord < 0, 0 where an element is 0); inf: max |x|; -inf: min |x|;
    0: the number of nonzeros."""
    x = _prepare(x, "vector_norm", dtype)
    if isinstance(ord, str) or isinstance(ord, bool):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
                        f"{_type_name(ord)}")
    if (ord < 0 or math.isinf(ord)) and x.numel() == 0:  # min, max, negative powers of nothing
        dims = [dim] if isinstance(dim, int) else range(x.ndim) if dim is None else dim
        if dim is None and x.numel() == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty "
                               f"tensor because the operation does not have an identity")
        for d in dims:
            if x.size(d) == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on the "
                                   f"dimension {d} because this dimension is empty and the "
                                   f"operation does not have an identity")
    if dim is None and keepdim:
        dim = tuple(range(x.ndim))
    return x.norm(ord, dim, keepdim)


def matrix_norm(A: Tensor, ord: float | str = "fro", dim: tuple[int, int] = (-2, -1),  # noqa: A002
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The matrix norm of ``A`` over the two dims ``dim`` (the last two by default): "fro"
    (sqrt of the sum of squares), 1 / -1 (largest / smallest column sum of |A|), inf / -inf
    (largest / smallest row sum of |A|), 2 / -2 (largest / smallest singular value), "nuc" (the
    sum of the singular values; these three have first derivatives only)."""
    A = _prepare(A, "matrix_norm", dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    dims = tuple(dim)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{' '.join(map(str, dims))}")
    rows, cols = (d % A.ndim if -A.ndim <= d < A.ndim else d for d in dims)
    if not (0 <= rows < A.ndim and 0 <= cols < A.ndim):
        A.size(dims[0])  # PyTorch's IndexError for a dim out of range
        A.size(dims[1])
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dims[0]}, "
                           f"{dims[1]})")
    if ord in ("nuc", 2, -2):
        others = [d for d in range(A.ndim) if d not in (rows, cols)]
        if A.shape[rows] == 0 or A.shape[cols] == 0:  # no singular values (as PyTorch)
            if ord == -2:
                raise IndexError("amin(): Expected reduction dim -1 to have non-zero size.")
            # zeros: in the graph for "nuc" (a zero gradient), outside it for 2 (as PyTorch)
            out = (A if ord == "nuc" else A.detach()).sum((rows, cols))
        else:
            out = SingularValueNorm.apply(A.permute(*others, rows, cols), ord=ord)
        if keepdim:
            out = out.unsqueeze(min(rows, cols)).unsqueeze(max(rows, cols))
        return out
    if ord == "fro":
        return A.norm("fro", dims, keepdim)
    if ord in (1, -1):
        sums, over = A.abs().sum(rows, keepdim=True), cols
    elif ord in (math.inf, -math.inf):
        sums, over = A.abs().sum(cols, keepdim=True), rows
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    out = sums.amax(over, keepdim=True) if ord > 0 else sums.amin(over, keepdim=True)
    return out if keepdim else out.squeeze((rows, cols))


def norm(A: Tensor, ord: float | str | None = None, dim: Dim = None,  # noqa: A002
         keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """A vector or matrix norm, as ``torch.linalg.norm``: with ``dim`` an int (or one dim), the
    vector norm; with two dims, the matrix norm; without ``dim``, the 2-norm of all elements
    (``ord`` None), or for a 1-D / 2-D input its vector / matrix ``ord``-norm."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {list(dim)}")
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(A, "fro", dim, keepdim, dtype=dtype)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if isinstance(A, Tensor) and A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                               f"be 1D or 2D. Got {A.ndim}D.")
        dim = tuple(range(A.ndim)) if isinstance(A, Tensor) else None
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    if isinstance(ord, str):  # a matrix norm, given one dim
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{' '.join(map(str, dim or ()))}")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)
