"""Top-level math functions that are not simply a ``Tensor`` method: ``einsum``, ``std_mean``,
``var_mean``, and ``remainder``/``floor_divide``/``fmod``/``lerp`` that check their arguments
as PyTorch's top-level functions do (a number as the first argument, for example)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .dtypes import scalar_name
from .ops.linalg import Einsum, parse_einsum
from .tensor import Tensor, _type_name

Number = int | float | bool


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sum of products over the letters of ``equation`` (Einstein summation), as PyTorch's:
    ``"ij,jk->ik"`` (matrix product), ``"bij,bjk->bik"``, ``"ii->i"`` (diagonal), ``"ii"``
    (trace), ``"...ij->...ji"``; without ``->`` the output is the ``...`` dims then the letters
    that occur once, in alphabetical order. The operands may also be given as one list.

    Example: ``einsum("i,j->ij", a, b)`` is the outer product of ``a`` and ``b``.
    """
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' (position 1) must be str, not "
                        f"{_type_name(equation)}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): argument 'tensors' must be a tuple of Tensors, but found "
                            f"element of type {_type_name(t)} at pos {i}")
    explicit = parse_einsum(equation, [t.shape for t in operands])
    for t in operands[1:]:
        if t.dtype != operands[0].dtype:
            raise RuntimeError(f"expected scalar type {scalar_name(operands[0].dtype)} but "
                               f"found {scalar_name(t.dtype)}")
    return Einsum.apply(*operands, equation=explicit)


def var_mean(input: Tensor, dim: int | Sequence[int] | None = None,  # noqa: A002
             unbiased: bool | None = None, keepdim: bool = False, *,
             correction: float | None = None) -> tuple[Tensor, Tensor]:
    """``(var(input), mean(input))`` over ``dim``, as in ``Tensor.var`` and ``Tensor.mean``."""
    _check_tensor(input, "var_mean")
    if input.dtype.kind != "f":
        raise RuntimeError("var_mean only support floating point and complex dtypes")
    var = input.var(dim, unbiased, keepdim, correction=correction)
    return var, input.mean(dim, keepdim)


def std_mean(input: Tensor, dim: int | Sequence[int] | None = None,  # noqa: A002
             unbiased: bool | None = None, keepdim: bool = False, *,
             correction: float | None = None) -> tuple[Tensor, Tensor]:
    """``(std(input), mean(input))`` over ``dim``, as in ``Tensor.std`` and ``Tensor.mean``."""
    _check_tensor(input, "std_mean")
    if input.dtype.kind != "f":
        raise RuntimeError("std_mean only support floating point and complex dtypes")
    std = input.std(dim, unbiased, keepdim, correction=correction)
    return std, input.mean(dim, keepdim)


def _check_tensor(value: Any, name: str, arg: str = "input", position: int = 1) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not "
                        f"{_type_name(value)}")
    return value


def remainder(input: Tensor | Number, other: Tensor | Number) -> Tensor:  # noqa: A002
    """input - other * floor(input / other): the sign of ``other`` (Python's %); either may be a
    number."""
    if isinstance(input, Tensor):
        return input.remainder(other)
    return _check_tensor(other, "remainder", "other", 2).__rmod__(input)


def floor_divide(input: Tensor | Number, other: Tensor | Number) -> Tensor:  # noqa: A002
    """floor(input / other) (Python's //); either may be a number."""
    if isinstance(input, Tensor):
        return input.floor_divide(other)
    return _check_tensor(other, "floor_divide", "other", 2).__rfloordiv__(input)


def fmod(input: Tensor, other: Tensor | Number) -> Tensor:  # noqa: A002
    """input - other * trunc(input / other): the sign of ``input`` (C's fmod)."""
    _check_tensor(input, "fmod")
    return input.fmod(other)


def lerp(input: Tensor, end: Tensor, weight: Number | Tensor) -> Tensor:  # noqa: A002
    """input + weight * (end - input)."""
    _check_tensor(input, "lerp")
    return input.lerp(end, weight)
