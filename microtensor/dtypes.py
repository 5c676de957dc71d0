"""Dtypes, the default dtype, and PyTorch's type-promotion rules on top of NumPy dtypes.

A microtensor dtype *is* a ``numpy.dtype``: ``microtensor.float32 == numpy.float32``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)
float16 = np.dtype(np.float16)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
uint8 = np.dtype(np.uint8)

_SUPPORTED = (float32, float64, int64, int32, bool_, float16, int8, int16, uint8)

_default_dtype = float32


# PyTorch's names of the dtypes in its messages: ScalarType names ("Long", as in
# "not implemented for 'Long'" or "torch.LongTensor") and C++ type names ("long int").
SCALAR_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
                "int64": "Long", "float16": "Half", "float32": "Float", "float64": "Double"}
_C_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int",
            "int32": "int", "int64": "long int", "float16": "c10::Half", "float32": "float",
            "float64": "double"}


def scalar_name(dtype: Any) -> str:
    """PyTorch's ScalarType name of ``dtype`` (``Long`` for int64), for its error messages."""
    return SCALAR_NAMES.get(str(dtype), str(dtype))


def c_name(dtype: Any) -> str:
    """The C++ type name PyTorch prints for ``dtype`` (``long int`` for int64)."""
    return _C_NAMES.get(str(dtype), str(dtype))


def not_implemented(kernel: str, dtype: Any) -> NotImplementedError:
    """PyTorch's error for a kernel that a dtype lacks: '"kernel" not implemented for 'Long''."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(dtype)}\' '
                               f"(dtype {dtype})")


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype that Python floats (and float creation functions) produce.

    Args:
        dtype: ``float32`` or ``float64``.
    """
    global _default_dtype
    d = np.dtype(dtype)
    if d not in (float32, float64):
        raise TypeError(f"set_default_dtype: only float32 and float64 are supported, got {d}")
    _default_dtype = d


def get_default_dtype() -> np.dtype:
    """Return the current default floating point dtype (``float32`` unless changed)."""
    return _default_dtype


def as_dtype(dtype: Any) -> np.dtype:
    """Convert ``dtype`` (a NumPy dtype, a type or a name such as ``"float64"``) to a dtype."""
    try:
        d: np.dtype = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"invalid dtype {dtype!r}") from e
    if d not in _SUPPORTED:
        names = ", ".join(map(str, _SUPPORTED))
        raise TypeError(f"unsupported dtype {d}; microtensor supports {names}")
    return d


def is_floating(dtype: np.dtype) -> bool:
    """True for floating point dtypes (the only ones that can require gradients)."""
    return dtype.kind == "f"


def _category(dtype: np.dtype) -> int:
    return 2 if dtype.kind == "f" else 1 if dtype.kind in "iu" else 0


def promote_types(a: np.dtype, a_ndim: int, b: np.dtype, b_ndim: int) -> np.dtype:
    """Result dtype of a binary op between tensors, following PyTorch.

    A higher category (bool < integer < float) wins outright, so ``int64 + float32 -> float32``
    (NumPy would give float64). Within one category a 0-d tensor does not upcast a tensor with
    dimensions (``float32 (3,) + float64 () -> float32``); otherwise the wider dtype wins.
    """
    if a == b:
        return a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    if (a_ndim == 0) != (b_ndim == 0):
        return b if a_ndim == 0 else a
    return np.promote_types(a, b)


def scalar_result_type(dtype: np.dtype, value: Any) -> np.dtype:
    """Result dtype of ``tensor op python_scalar``: the scalar never upcasts within a category."""
    if isinstance(value, (bool, np.bool_)):
        return dtype
    if isinstance(value, (float, np.floating)):
        return dtype if dtype.kind == "f" else _default_dtype
    return dtype if dtype.kind in "fiu" else int64
