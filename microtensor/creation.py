"""Creation functions: ``tensor``, ``zeros``, ``arange``, ``rand``, ... (PyTorch's names, sizes,
dtypes and errors). Each returns a new leaf ``Tensor``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import dtypes
from .device import check_device
from .ops.random import Normal, Poisson, numpy_rng
from .tensor import (
    _BYTE_ORDER_MESSAGE,
    _INT64_MAX,
    _INT64_MIN,
    Scalar,
    Shape,
    Tensor,
    _check_fits,
    _check_requires_grad,
    _is_int,
    _number,
    _size_args,
    _to_array,
    _type_name,
    broadcast_shapes,
)


def _not_implemented(name: str, dtype: np.dtype) -> NotImplementedError:
    return dtypes.not_implemented(name, dtype)


def _result_dtype(dtype: Any) -> np.dtype:
    """``dtype`` checked, or the default float dtype."""
    return dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


def _leaf(arr: np.ndarray, requires_grad: bool) -> Tensor:
    _check_requires_grad(arr.dtype, requires_grad)
    return Tensor._make(arr, bool(requires_grad))


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, *,
           device: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (a scalar, nested lists, or an ndarray).

    Python floats give the default dtype (float32), Python ints int64 (they must fit: there is
    no uint64), bools bool; NumPy arrays keep their dtype. With ``dtype``, Python numbers that
    do not fit raise an error (as in PyTorch) while arrays and tensors wrap around.
    """
    check_device(device)
    return _leaf(_to_array(data, dtype), requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (and keeping its dtype); 0-d arrays too.

    Raises:
        TypeError: ``array`` is not an ndarray, or its dtype is not one microtensor supports.
        ValueError: ``array`` is not in the machine's byte order.
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    if array.dtype not in dtypes._SUPPORTED:
        if array.dtype.kind in "biuf" and not array.dtype.isnative:
            raise ValueError(_BYTE_ORDER_MESSAGE)
        names = ", ".join(map(str, dtypes._SUPPORTED))
        raise TypeError(f"can't convert np.ndarray of type numpy.{array.dtype.type.__name__}. "
                        f"The only supported types are: {names} (microtensor has no uint16, "
                        f"uint32, uint64 or complex dtypes)")
    return Tensor._make(array)


def _filled(size: tuple[Any, ...], name: str, value: float, dtype: Any,
            requires_grad: bool) -> Tensor:
    return _leaf(np.full(_size_args(size, name), value, dtype=_result_dtype(dtype)),
                 requires_grad)


def zeros(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of the given size (``zeros(2, 3)`` or ``zeros((2, 3))``)."""
    check_device(device)
    return _filled(size, "zeros", 0, dtype, requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ones of the given size."""
    check_device(device)
    return _filled(size, "ones", 1, dtype, requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of the given size (filled with zeros: NumPy's empty would show garbage)."""
    check_device(device)
    return _filled(size, "empty", 0, dtype, requires_grad)


def full(size: Sequence[int], fill_value: Scalar, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of the given size filled with ``fill_value``.

    Without ``dtype``, a bool gives bool, an int int64 and a float the default dtype. A value
    that does not fit the dtype raises an error, as in PyTorch (a float is truncated to an int).
    """
    check_device(device)
    shape = _size_args((size,), "full", packed=True)
    value = _number(fill_value, "full", "fill_value", 2)
    if dtype is not None:
        result = dtypes.as_dtype(dtype)
    elif isinstance(value, bool):
        result = dtypes.bool_
    else:
        result = dtypes.int64 if isinstance(value, int) else dtypes.get_default_dtype()
    _check_fits(value, result)
    return _leaf(np.full(shape, np.array(value).astype(result), dtype=result), requires_grad)


def arange(start: Scalar | None = None, end: Scalar | None = None, step: Scalar = 1, *,
           dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (excluded) by ``step``: ``arange(end)`` starts at 0.

    The dtype is int64 if all arguments are ints, else the default dtype. The length is
    ``ceil((end - start) / step)`` and value ``i`` is ``start + i * step``, computed as PyTorch
    does: in float64 for float32/float64 tensors, and on the arguments truncated to ints for
    integer tensors (for int64 the length is also computed from the truncated arguments).
    """
    check_device(device)
    if end is None:  # arange(end)
        start, end = None, start
    if end is None:
        raise TypeError("arange() missing 1 required positional argument: 'end'")
    end_position = 1 if start is None else 2
    first = _number(0 if start is None else start, "arange", "start", 1)
    last = _number(end, "arange", "end", end_position)
    by = _number(step, "arange", "step", end_position + 1)
    if dtype is not None:
        result = dtypes.as_dtype(dtype)
    elif any(isinstance(v, float) for v in (first, last, by)):
        result = dtypes.get_default_dtype()
    else:
        result = dtypes.int64
    if result.kind == "b":
        raise _not_implemented("arange_cpu", result)
    if not (by > 0 or by < 0):
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(first) and math.isfinite(last)):
        raise RuntimeError(f"unsupported range: {first:g} -> {last:g}")
    if (by > 0 and last < first) or (by < 0 and last > first):
        raise RuntimeError(f"upper bound and lower bound inconsistent with step sign (start "
                           f"{first}, end {last}, step {by})")
    if result.kind == "f":
        n = _arange_length(first, last, by)
        acc = np.float32 if result == np.float16 else np.float64
        values = acc(first) + np.arange(n, dtype=acc) * acc(by)
    else:
        for v in (first, last, by):
            _check_fits(v, dtypes.int64)
        a, b, s = int(first), int(last), int(by)  # truncated toward zero, as C++ casts
        if result == dtypes.int64:
            if s == 0:
                raise ValueError(f"step must be nonzero (step {by} truncated to an int is 0)")
            n = (b - a + s - (1 if s > 0 else -1)) // s
        else:
            n = _arange_length(first, last, by)
        values = a + np.arange(n, dtype=np.int64) * s
    with np.errstate(over="ignore"):  # float16 beyond 65504 is inf, silently as in PyTorch
        return _leaf(values.astype(result), requires_grad)


def _arange_length(start: float, end: float, step: float) -> int:
    """``ceil((end - start) / step)`` in float64, as PyTorch computes it."""
    size = (float(end) - float(start)) / float(step)
    if not size <= _INT64_MAX:  # also catches inf
        raise RuntimeError(f"invalid size, possible overflow? (arange({start}, {end}, {step}))")
    return math.ceil(size)


def linspace(start: Scalar, end: Scalar, steps: int, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` (both included).

    Computed as PyTorch does, in the result dtype: ``step = (end - start) / (steps - 1)``, the
    first half ``start + i * step`` and the second half ``end - (steps - 1 - i) * step``. For
    integer dtypes ``start`` and ``end`` are truncated to ints, the step is a float64 and the
    values are truncated. The dtype is the default float dtype unless given.
    """
    check_device(device)
    first = _number(start, "linspace", "start", 1)
    last = _number(end, "linspace", "end", 2)
    if not _is_int(steps):
        raise TypeError(f"linspace(): argument 'steps' (position 3) must be int, not "
                        f"{_type_name(steps)}")
    if steps < 0:
        raise RuntimeError(f"number of steps must be non-negative (got {steps})")
    result = _result_dtype(dtype)
    if result.kind == "b":
        raise _not_implemented("linspace_cpu", result)
    _check_fits(first, result)
    _check_fits(last, result)
    a, b = np.array(first).astype(result), np.array(last).astype(result)
    if steps <= 1:
        return _leaf(np.full(steps, a, dtype=result), requires_grad)
    work = result if result.kind == "f" else np.dtype(np.float64)
    a, b = a.astype(work), b.astype(work)
    i = np.arange(steps)
    with np.errstate(over="ignore", invalid="ignore"):  # inf and nan as PyTorch gives them
        step = (b - a) / work.type(steps - 1)
        values = np.where(i < steps // 2, a + step * i.astype(work),
                          b - step * (steps - 1 - i).astype(work))
    return _leaf(values.astype(result), requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """An n x m matrix (n x n without ``m``) with ones on the diagonal."""
    check_device(device)
    for value, arg, position in ((n, "n", 1), (m, "m", 2)):
        if value is None and arg == "m":
            continue
        if not _is_int(value):
            raise TypeError(f"eye(): argument '{arg}' (position {position}) must be int, not "
                            f"{_type_name(value)}")
        if value < 0:
            raise RuntimeError(f"{arg} must be greater or equal to 0, got {value}")
    return _leaf(np.eye(n, m, dtype=_result_dtype(dtype)), requires_grad)


def _random_dtype(dtype: Any, kernel: str) -> np.dtype:
    result = _result_dtype(dtype)
    if result.kind != "f":
        raise _not_implemented(kernel, result)
    return result


def rand(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Samples from U(0, 1) (reproducible after ``manual_seed``); floating dtypes only."""
    check_device(device)
    shape = _size_args(size, "rand")
    result = _random_dtype(dtype, "check_uniform_bounds")
    return _leaf(_uniform01(numpy_rng(generator, "rand"), shape, result), requires_grad)


def randn(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Samples from N(0, 1) (reproducible after ``manual_seed``); floating dtypes only."""
    check_device(device)
    shape = _size_args(size, "randn")
    result = _random_dtype(dtype, "normal_kernel_cpu")
    rng = numpy_rng(generator, "randn")
    draw = np.float64 if result == np.float64 else np.float32  # NumPy draws these two natively
    return _leaf(rng.standard_normal(shape, dtype=draw).astype(result, copy=False),
                 requires_grad)


def _bound(value: Any, arg: str) -> int:
    """A ``randint`` bound: an int that fits in int64 (PyTorch's errors)."""
    if not _is_int(value):
        raise TypeError(f"randint(): argument '{arg}' must be int, not {_type_name(value)}")
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError(f"Overflow when unpacking long long: randint(): {arg}={value} does not "
                         f"fit in int64")
    return int(value)


def randint(low: int | None = None, high: Any = None, size: Sequence[int] | None = None, *,
            generator: Any = None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Random integers in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``.

    The dtype is int64 unless given; for integer and bool dtypes the bounds must fit in it.
    Only floating dtypes can require gradients.
    """
    check_device(device)
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = None, low, high
    if high is None:  # randint(high, size=size)
        low, high = None, low
    if high is None:
        raise TypeError("randint() missing 1 required argument: 'high'")
    if size is None:
        raise TypeError("randint() missing 1 required argument: 'size' (a tuple of ints)")
    lo = 0 if low is None else _bound(low, "low")
    hi = _bound(high, "high")
    shape = _size_args((size,), "randint", packed=True, position=None)
    result = dtypes.as_dtype(dtype) if dtype is not None else dtypes.int64
    if lo >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= "
                           f"to={hi}")
    if result.kind in "biu":
        limits = (0, 1) if result.kind == "b" else (np.iinfo(result).min, np.iinfo(result).max)
        if lo < limits[0]:
            raise RuntimeError(f"from is out of bounds for {result} (from={lo})")
        if hi - 1 > limits[1]:
            raise RuntimeError(f"to - 1 is out of bounds for {result} (to={hi})")
    values = numpy_rng(generator, "randint").integers(lo, hi, shape, dtype=np.int64)
    return _leaf(values.astype(result), requires_grad)


def randperm(n: int, *, generator: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0 .. n-1 (int64 unless ``dtype`` is given)."""
    check_device(device)
    if not _is_int(n):
        raise TypeError(f"randperm(): argument 'n' (position 1) must be int, not "
                        f"{_type_name(n)}")
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    result: np.dtype = dtypes.as_dtype(dtype) if dtype is not None else dtypes.int64
    if result.kind == "b":
        raise _not_implemented("randperm", result)
    if n > 0:
        _check_fits(n - 1, result)
    if result.kind == "f":
        digits = np.finfo(result).nmant + 1  # the ints a float holds exactly: up to 2**digits
        if n > 2**digits + 1:
            raise RuntimeError(f"n cannot be greater than 2^{digits}+1 for "
                               f"{dtypes.scalar_name(result)} type (dtype {result}, n={n}).")
    rng = numpy_rng(generator, "randperm")
    return _leaf(rng.permutation(int(n)).astype(result), requires_grad)


def _like(name: str, input: Any, dtype: Any) -> tuple[Shape, np.dtype]:  # noqa: A002
    """The shape of ``input`` and the dtype to use (``input``'s unless given)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{_type_name(input)}")
    return input.shape, dtypes.as_dtype(dtype) if dtype is not None else input.dtype


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None,  # noqa: A002
               requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype) of ``input``."""
    check_device(device)
    shape, result = _like("zeros_like", input, dtype)
    return zeros(shape, dtype=result, requires_grad=requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None,  # noqa: A002
              requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype) of ``input``."""
    check_device(device)
    shape, result = _like("ones_like", input, dtype)
    return ones(shape, dtype=result, requires_grad=requires_grad)


def full_like(input: Tensor, fill_value: Scalar, *, dtype: Any = None,  # noqa: A002
              device: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` with the shape (and dtype) of ``input``."""
    check_device(device)
    shape, result = _like("full_like", input, dtype)
    return full(shape, fill_value, dtype=result, requires_grad=requires_grad)


def rand_like(input: Tensor, *, generator: Any = None, dtype: Any = None,  # noqa: A002
              device: Any = None, requires_grad: bool = False) -> Tensor:
    """U(0, 1) samples with the shape (and dtype) of ``input``."""
    check_device(device)
    shape, result = _like("rand_like", input, dtype)
    return rand(shape, generator=generator, dtype=result, requires_grad=requires_grad)


def randn_like(input: Tensor, *, generator: Any = None, dtype: Any = None,  # noqa: A002
               device: Any = None, requires_grad: bool = False) -> Tensor:
    """N(0, 1) samples with the shape (and dtype) of ``input``."""
    check_device(device)
    shape, result = _like("randn_like", input, dtype)
    return randn(shape, generator=generator, dtype=result, requires_grad=requires_grad)


# -- random sampling (issue 10) ----------------------------------------------------------------

def _uniform01(rng: np.random.Generator, shape: Shape, dtype: np.dtype) -> np.ndarray:
    """U(0, 1) samples in ``dtype``, never 1 (a float64 draw rounded to float32 could be)."""
    samples: np.ndarray
    if dtype == np.float64:
        samples = rng.random(shape)
    elif dtype == np.float32:
        samples = rng.random(shape, dtype=np.float32)
    else:
        digits = np.finfo(dtype).nmant + 1  # k / 2**digits is exact in the dtype
        samples = (rng.integers(0, 2**digits, shape) * 2.0**-digits).astype(dtype)
    return samples


def _normal_tensor_dtype(t: Tensor) -> np.dtype:
    if t.dtype.kind != "f":
        raise _not_implemented("normal_kernel_cpu", t.dtype)
    return t.dtype


def normal(mean: Tensor | float, std: Tensor | float = 1.0, size: Sequence[int] | None = None,
           *, generator: Any = None, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Samples from N(mean, std**2), in PyTorch's four forms.

    ``normal(mean_tensor, std_tensor)`` (broadcast; mean's dtype), ``normal(mean_tensor,
    std=1.0)``, ``normal(mean, std_tensor)`` (std's dtype), ``normal(mean, std, size)``
    (numbers; the default dtype unless ``dtype``). With tensors the result records a node whose
    gradient is zero for mean and std, as in PyTorch.
    """
    check_device(device)
    rng = numpy_rng(generator, "normal")
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None or dtype is not None or requires_grad:
            raise TypeError("normal(): size, dtype and requires_grad are only accepted with a "
                            "float mean and a float std (normal(mean, std, size)); with a tensor "
                            "mean or std the shape and dtype come from the tensors")
        if isinstance(mean, Tensor):
            result = _normal_tensor_dtype(mean)
            if isinstance(std, Tensor):
                broadcast_shapes(mean.shape, std.shape)
            else:
                s = _number(std, "normal", "std", 2)
                if not s >= 0.0:
                    raise RuntimeError(f"normal expects std >= 0.0, but found std {s:g}")
        else:
            _number(mean, "normal", "mean", 1)
            result = _normal_tensor_dtype(std)  # type: ignore[arg-type]
        return Normal.apply(mean, std, dtype=result, rng=rng)
    m = _number(mean, "normal", "mean", 1)
    s = _number(std, "normal", "std", 2)
    if size is None:
        raise TypeError("normal() with a float mean and a float std needs a size: "
                        "normal(mean, std, size)")
    shape = _size_args((size,), "normal", packed=True, position=3)
    result = _random_dtype(dtype, "normal_kernel_cpu")
    if not s >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {s:g}")
    return _leaf(rng.normal(m, s, shape).astype(result), requires_grad)


def poisson(input: Tensor, generator: Any = None) -> Tensor:  # noqa: A002
    """Samples from Poisson(rate) for each element of ``input`` (in its dtype); the gradient is
    zero, as in PyTorch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"poisson(): argument 'input' (position 1) must be Tensor, not "
                        f"{_type_name(input)}")
    rng = numpy_rng(generator, "poisson")
    if input.dtype.kind != "f":
        raise _not_implemented("poisson_cpu", input.dtype)
    return Poisson.apply(input, rng=rng)
