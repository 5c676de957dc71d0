"""``Tensor``: an n-dimensional array (a NumPy ``ndarray``) that records the ops applied to it.

Every differentiable method is one line that calls an op's ``Function.apply`` (see ``ops/``);
composite methods (``mean``, ``var``, ``stack``, ...) are written with those. The checks that
give clear errors (shapes that do not broadcast, dims out of range, bad reshapes) live here,
before any NumPy code runs.
"""

from __future__ import annotations

import builtins
import math
import warnings
import weakref
from builtins import bool as _bool
from builtins import float as _float
from builtins import int as _int
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, TypeGuard, overload

import numpy as np

from . import dtypes, viz
from .autograd import engine, grad_mode
from .autograd.engine import format_shape as _fmt
from .autograd.function import Context, Function, TensorBase, recording
from .autograd.hooks import RemovableHandle as RemovableHandle
from .device import CPU, check_device
from .device import device as Device
from .ops.elementwise import (
    Abs,
    Acos,
    Acosh,
    Add,
    Asin,
    Asinh,
    Atan,
    Atan2,
    Atanh,
    Cast,
    Ceil,
    Clamp,
    Cos,
    Cosh,
    Div,
    Erf,
    Erfc,
    Erfinv,
    Exp,
    Exp2,
    Expm1,
    Floor,
    FloorDivide,
    Fmod,
    LeakyRelu,
    Lerp,
    Log,
    Log1p,
    Log2,
    Log10,
    Maximum,
    Minimum,
    Mul,
    NanToNum,
    Neg,
    Pow,
    Reciprocal,
    Relu,
    Remainder,
    Round,
    Rsqrt,
    Sigmoid,
    Sign,
    Sin,
    Sinh,
    Softplus,
    Sqrt,
    Sub,
    Tan,
    Tanh,
    Trunc,
    Values,
    Where,
)
from .ops.index import InRange, MaskPositions, NonzeroDivisor, RepeatIndex, Scatter
from .ops.index import arange_along as _arange_along
from .ops.index import grid as _grid
from .ops.linalg import Matmul
from .ops.random import Bernoulli, BernoulliScalar, Multinomial, numpy_rng
from .ops.reduce import (
    Amax,
    Amin,
    ArgExtreme,
    LogSoftmax,
    Logsumexp,
    Mean,
    Norm,
    Prod,
    Softmax,
    Std,
    Sum,
    Var,
)
from .ops.scan import Cumprod, Cumsum
from .ops.shape import (
    ARRAY,
    Cat,
    Clone,
    Expand,
    Flip,
    Index,
    IndexAdd,
    Permute,
    Reshape,
    Roll,
    Tril,
    Triu,
)
from .ops.sort import Argsort, KthIndex, ModeIndex, Unique
from .size import Size

Scalar = int | float | bool
Shape = tuple[int, ...]


# ----------------------------------------------------------------------------------------------
# Checks with clear messages
# ----------------------------------------------------------------------------------------------

def broadcast_shapes(*shapes: Sequence[int]) -> Size:
    """The shape that NumPy broadcasting gives ``shapes``; a clear error if they don't broadcast."""
    result: list[int] = []
    for shape in shapes:
        shape = tuple(shape)
        n = max(len(result), len(shape))
        a = [1] * (n - len(result)) + result
        b = [1] * (n - len(shape)) + list(shape)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y and x != 1 and y != 1:
                raise RuntimeError(
                    f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                    f"non-singleton dimension {i} (shapes {_fmt(result)} and {_fmt(shape)} do "
                    f"not broadcast)")
        result = [y if x == 1 else x for x, y in zip(a, b, strict=True)]
    return tuple.__new__(Size, result)


def _dim(dim: int, ndim: int) -> int:
    """Check ``dim`` against ``ndim`` and make it non-negative (PyTorch's rule and message)."""
    n = builtins.max(ndim, 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return int(dim) % n if ndim else 0


def _dims(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...] | None:
    """Normalise a reduction's ``dim`` (None, an int or a tuple) to None or a sorted tuple."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if not dims:  # dim=() or dim=[] reduces over every dimension, as in PyTorch
        return None
    out = tuple(sorted({_dim(d, ndim) for d in dims}))
    if len(out) != len(dims):
        raise RuntimeError(f"dim {tuple(dims)} appears multiple times in the list of dims")
    return out if ndim else None


def _size_args(size: tuple[Any, ...], name: str, *, packed: bool = False,
               position: int | None = 1) -> Shape:
    """Check a size given as ``f(2, 3)``, ``f((2, 3))`` or ``f([2, 3])``, with PyTorch's errors.

    Args:
        size: the positional arguments holding the size.
        name: the function, for the messages.
        packed: the size must be one tuple or list (``full``, ``randint``), not loose ints.
        position: the argument's position, for the messages (None: not stated).
    """
    where = f" (position {position})" if position is not None else ""
    if not size:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    elif packed or (len(size) == 1 and not _is_int(size[0])):
        raise TypeError(f"{name}(): argument 'size'{where} must be tuple of ints, not "
                        f"{_type_name(size[0])}")
    for i, s in enumerate(size):
        if not _is_int(s):
            raise TypeError(f"{name}(): argument 'size'{where} must be tuple of ints, but found "
                            f"element of type {_type_name(s)} at pos {i}")
    shape = tuple(int(s) for s in size)
    negative = [s for s in shape if s < 0]
    if negative:
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative[0]}: "
                           f"{list(shape)}")
    return shape


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert user data to an ndarray with PyTorch's dtype rules (see ``tensor``)."""
    target = dtypes.as_dtype(dtype) if dtype is not None else None
    from_python = not isinstance(data, (TensorBase, np.ndarray, np.generic))
    arr: np.ndarray
    if isinstance(data, TensorBase):
        arr = data._data.copy()
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.array(data)
    elif isinstance(data, (str, bytes)) or data is None:
        raise TypeError(f"tensor(): data of type {type(data).__name__} is not numeric")
    else:
        arr = _from_python(data, target)
    if arr.dtype.kind == "c":
        dtypes.as_dtype(arr.dtype)  # says complex is not supported
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"tensor(): data must be numeric (bool, int or float), got elements of "
                        f"dtype {arr.dtype}" + (f" from {type(data).__name__}"
                                                 if not isinstance(data, np.ndarray) else ""))
    if not arr.dtype.isnative:
        raise ValueError(_BYTE_ORDER_MESSAGE)
    if target is None:
        if from_python and arr.dtype.kind == "f":
            return arr.astype(dtypes.get_default_dtype(), copy=False)  # Python floats
        if from_python and arr.dtype.kind in "iu":
            return arr.astype(np.int64, copy=False)  # Python ints
        dtypes.as_dtype(arr.dtype)  # a clear error for uint64, longdouble, ...
        return arr
    if not isinstance(data, (TensorBase, np.ndarray)) and target.kind in "iu" and _overflows(
            arr, target):
        # Numbers are checked as PyTorch does; arrays and tensors wrap around, as in PyTorch.
        raise RuntimeError(f"value cannot be converted to type {target} without overflow")
    with np.errstate(over="ignore"):  # floats too large for the dtype become inf, as in PyTorch
        return arr.astype(target, copy=False)


def _is_array(i: Any) -> bool:
    return isinstance(i, (np.ndarray, TensorBase))


def _ints_first(entries: tuple[Any, ...]) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
    """For an index mixing ints and index arrays: the two indexes to apply one after the other,
    ints first (None for any other index).

    NOTE: PyTorch applies integer indices first (as selections), then the advanced ones; NumPy
    would broadcast the ints with the arrays, which moves dimensions (x[0, :, [0, 2]] on
    (2, 3, 4, 5) is (3, 2, 5) in PyTorch, (2, 3, 5) in NumPy).
    """
    if not (any(_is_int(i) for i in entries) and any(_is_array(i) for i in entries)):
        return None
    first = tuple(slice(None) if _is_array(i) else i for i in entries)
    rest = tuple(i if _is_array(i) or i is Ellipsis else slice(None)
                 for i in entries if not _is_int(i))
    return first, rest


def _check_requires_grad(dtype: np.dtype, flag: bool) -> None:
    if flag and not dtypes.is_floating(dtype):
        raise RuntimeError(f"Only Tensors of floating point dtype can require gradients "
                           f"(got dtype {dtype})")


_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. (A "
    "common cause: `w = w - lr * w.grad` makes w a new tensor computed by an op; update the "
    "parameter in place instead: `with microtensor.no_grad(): w -= lr * w.grad`.)")


class ValuesIndices(NamedTuple):
    """What ``max(dim)`` / ``min(dim)`` return: the values and where they are."""

    values: Tensor
    indices: Tensor


# ----------------------------------------------------------------------------------------------
# Printing
# ----------------------------------------------------------------------------------------------

def _float_format(arr: np.ndarray) -> str:
    """PyTorch's choice: ``1.`` (whole numbers), ``0.5000``, or ``1.0000e+10`` when the finite
    nonzero magnitudes span more than 1000x, exceed 1e8, or (for fractions) go below 1e-4."""
    finite = arr[np.isfinite(arr)]
    mags = np.abs(finite[finite != 0]).astype(np.float64)
    if mags.size == 0:
        return "{:.0f}."
    whole = bool(np.all(mags == np.round(mags)))
    small, big = mags.min(), mags.max()
    if big / small > 1000 or big > 1e8 or (not whole and small < 1e-4):
        return "{:.4e}"
    return "{:.0f}." if whole else "{:.4f}"


def _format_data(arr: np.ndarray) -> str:
    """Format values as PyTorch prints them: every element right-aligned to one width."""
    if arr.size == 0:
        return "[]"
    if arr.dtype.kind == "f":
        fmt = _float_format(arr)

        def one(v: Any) -> str:
            return fmt.format(v) if math.isfinite(v) else str(float(v))

        # The widest element is the smallest, the largest or a non-finite one.
        finite = arr[np.isfinite(arr)]
        extremes = [finite.min(), finite.max()] if finite.size else []
        width = builtins.max(len(one(v)) for v in extremes + list(
            np.unique(arr[~np.isfinite(arr)])))
        return np.array2string(arr, formatter={"float_kind": lambda v: one(v).rjust(width)},
                               **_PRINT_OPTIONS)
    if arr.dtype.kind == "b":
        width = 5 if not arr.all() else 4
        return np.array2string(arr, formatter={"bool": lambda v: str(bool(v)).rjust(width)},
                               **_PRINT_OPTIONS)
    return np.array2string(arr, **_PRINT_OPTIONS)


_PRINT_OPTIONS: dict[str, Any] = {"separator": ", ", "prefix": "tensor(", "threshold": 1000,
                                  "max_line_width": 80}


# ----------------------------------------------------------------------------------------------
# Tensor
# ----------------------------------------------------------------------------------------------

def _values(fn: Callable[..., Any], *args: Any, **options: Any) -> Tensor:
    """``fn(*args, **options)`` on the values of the tensors among ``args``, as an op without
    gradient (``Values``): a comparison, a test or a logical op, recomputed by a compiled step's
    replay like any op."""
    return Values.apply(*(a.detach() if isinstance(a, Tensor) else a for a in args), fn=fn,
                        **options)


class Tensor(TensorBase):
    """An n-dimensional array that records operations for automatic differentiation.

    Attributes:
        data: the values, as a Tensor that shares this tensor's memory but is outside the
            graph (``requires_grad=False``); changes through it are not tracked, as in PyTorch.
        grad: the accumulated gradient (a Tensor) after ``backward()``, or ``None``.
        requires_grad: whether operations on this tensor are recorded.
        grad_fn: the node that created this tensor (``None`` for leaves).
    """

    __slots__ = ()

    def __init__(self, *args: Any) -> None:
        """``Tensor(data)``, PyTorch's legacy constructor: data (nested lists or an ndarray) is
        converted to the default dtype (float32), whatever its own; ``Tensor(2, 3)`` is an
        uninitialised 2x3 tensor, ``Tensor()`` an empty one, and ``Tensor(t)`` shares ``t``.
        Prefer ``microtensor.tensor(data)``, which keeps ints as int64 and bools as bool."""
        versions = [0]
        if not args:
            arr = np.empty(0, dtype=dtypes.get_default_dtype())
        elif len(args) == 1 and isinstance(args[0], TensorBase):
            arr, versions = args[0]._data, args[0]._versions  # an alias, as in PyTorch
        elif all(_is_int(a) for a in args):
            arr = np.empty(_size_args(args, "Tensor.new"), dtype=dtypes.get_default_dtype())
        elif len(args) == 1 and not isinstance(args[0], (int, float, bool, np.generic)):
            arr = _to_array(args[0], dtypes.get_default_dtype())
        else:
            got = ", ".join(type(a).__name__ for a in args)
            raise TypeError(f"new(): data must be a sequence (got {got}); use "
                            f"microtensor.tensor(value) for a tensor holding one number")
        self._data = arr
        self._requires_grad = False
        self._grad = None
        self.grad_fn = None
        self._versions = versions
        self._hooks = None

    @staticmethod
    def _make(data: np.ndarray, requires_grad: _bool = False,
              grad_fn: Context | None = None, versions: list[_int] | None = None) -> Tensor:
        t = object.__new__(Tensor)
        t._data = data
        t._requires_grad = requires_grad
        t._grad = None
        t.grad_fn = grad_fn
        t._versions = [0] if versions is None else versions
        t._hooks = None
        return t

    # -- data and grad ------------------------------------------------------------------------

    @property
    def data(self) -> Tensor:
        """The values as a Tensor outside the graph, sharing this tensor's memory.

        ``p.data -= lr * p.grad`` changes ``p`` in place without recording it; such changes
        are not seen by the version check (as in PyTorch), so a backward that needs the old
        values computes with the new ones.
        """
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got "
                            f"{type(value).__name__}")
        if recording.recorder is not None:  # (a replay would compute the array, never store it)
            recording.recorder.refuse("t.data = ... (a tensor's array replaced): change it in "
                                      "place instead (t.data -= lr * t.grad)")
        self._data = value._data

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by ``backward()`` (``None`` until then). Reading it on a
        tensor computed by an op (not a leaf) warns, as in PyTorch: backward() does not fill it
        unless ``retain_grad()`` was called."""
        if self.grad_fn is not None and not self.retains_grad:
            warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"attempting to assign a gradient of size "
                                   f"'{list(value._data.shape)}' to a tensor of size "
                                   f"'{list(self._data.shape)}'. Please ensure that the gradient "
                                   f"and the tensor are the same size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype "
                                   f"'{value._data.dtype}' to a tensor with dtype "
                                   f"'{self._data.dtype}'. The gradient must match the tensor's "
                                   f"dtype")
        if recording.recorder is not None:  # (microtensor.compile replays this assignment)
            recording.recorder.set_grad(self, value)
        self._grad = value

    def __format__(self, spec: str) -> str:
        if recording.recorder is not None:
            recording.recorder.refuse("a tensor formatted into a string (its values read)")
        if self._data.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    # -- attributes and conversions -----------------------------------------------------------

    @property
    def shape(self) -> Size:
        """The size of each dimension, a ``Size`` (a tuple)."""
        return tuple.__new__(Size, self._data.shape)

    @property
    def ndim(self) -> _int:
        """The number of dimensions."""
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The element type (a NumPy dtype, e.g. ``microtensor.float32``)."""
        return self._data.dtype

    @property
    def device(self) -> Device:
        """Always ``device(type='cpu')``: microtensor computes with NumPy, on the CPU."""
        return CPU

    @property
    def T(self) -> Tensor:
        """The tensor with its dimensions reversed (the transpose of a matrix)."""
        return Permute.apply(self, dims=tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """The transpose of the last two dimensions (a batch of matrices transposed)."""
        if self.ndim == 1:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                               "Got 1-D tensor.")
        return self.transpose(-2, -1) if self.ndim else self.transpose(0, 0)

    def dim(self) -> _int:
        """The number of dimensions (same as ``ndim``)."""
        return self._data.ndim

    @overload
    def size(self, dim: None = None) -> Size: ...
    @overload
    def size(self, dim: _int) -> _int: ...

    def size(self, dim: _int | None = None) -> Size | _int:
        """The shape (a ``Size``), or the size of dimension ``dim`` (an int)."""
        if dim is None:
            return tuple.__new__(Size, self._data.shape)
        n: _int = self._data.shape[_dim(dim, self.ndim)]
        return n

    def numel(self) -> _int:
        """The number of elements."""
        return self._data.size

    def numpy(self, *, force: _bool = False) -> np.ndarray:
        """The values as an ndarray (shared, not copied); ``force=True`` allows it for a tensor
        that requires grad (as ``detach().numpy()``)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if recording.recorder is not None:
            recording.recorder.read(".numpy() (the values leave the ops)")
        return self._data

    def item(self) -> Scalar:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to "
                               f"Scalar (shape {_fmt(self.shape)})")
        if recording.recorder is not None:
            recording.recorder.refuse(".item(), float() or int() (a value read into Python)")
        value: _int | _float | _bool = self._data.item()
        return value

    def tolist(self) -> Any:
        """The values as (nested) Python lists."""
        if recording.recorder is not None:
            recording.recorder.refuse(".tolist() (values read into Python)")
        return self._data.tolist()

    def __array__(self, dtype: Any = None, copy: _bool | None = None) -> np.ndarray:
        """The values for NumPy (``np.asarray(t)`` shares them, ``np.array(t)`` copies);
        refused for a tensor that requires grad, as in PyTorch: the array would leave the
        graph and its gradient behind."""
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if recording.recorder is not None:
            recording.recorder.refuse("np.asarray(tensor) (the values leave the ops)")
        arr: np.ndarray = self._data if dtype is None else self._data.astype(dtype, copy=False)
        if arr is self._data and copy:
            arr = arr.copy()
        elif arr is not self._data and copy is False:
            raise ValueError(f"Unable to avoid copy while creating an array as requested: the "
                             f"tensor is {self._data.dtype}, not {np.dtype(dtype)}")
        return arr

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any,
                        **kwargs: Any) -> Any:
        """What a NumPy ufunc does with a tensor operand.

        ``array + tensor`` (and ``-``, ``*``, ``/``, ``**``, ``@``, comparisons, ...) is the
        tensor's own operator, so the graph is kept. Any other ufunc (``np.exp(t)``) of a
        tensor that requires grad raises an error naming the microtensor function to use: NumPy
        would return an array cut off from the graph. Of other tensors, it runs on their
        values and returns a Tensor, as in PyTorch.
        """
        ops = _OPERATOR_UFUNCS.get(ufunc.__name__)
        if ops is not None and method == "__call__" and len(inputs) == 2 and not kwargs:
            a, b = inputs
            return getattr(a, ops[0])(b) if isinstance(a, Tensor) else getattr(b, ops[1])(a)
        tensors = [x for x in inputs + tuple(kwargs.get("out", ())) if isinstance(x, Tensor)]
        if any(t._requires_grad for t in tensors):
            raise RuntimeError(_numpy_on_graph_message(ufunc, method))
        if "out" in kwargs:
            raise TypeError(f"np.{ufunc.__name__}(): out= cannot be a microtensor Tensor; "
                            f"assign the result instead")
        if recording.recorder is not None:  # (a NumPy function's result is outside the ops)
            recording.recorder.refuse(f"np.{ufunc.__name__}() of a tensor (use "
                                      f"microtensor.{ufunc.__name__} or the tensor's method)")
        values = [x._data if isinstance(x, Tensor) else x for x in inputs]
        result = getattr(ufunc, method)(*values, **kwargs)
        if method != "__call__":
            return result
        if isinstance(result, tuple):
            return tuple(Tensor._make(np.asarray(r)) for r in result)
        return Tensor._make(np.asarray(result))

    def __len__(self) -> _int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        n: _int = self._data.shape[0]
        return n

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> _bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {_fmt(self.shape)})")
        if recording.recorder is not None:
            recording.recorder.refuse("bool(tensor) (a value steering Python's control flow)")
        return bool(self._data)

    def __float__(self) -> _float:
        return float(self.item())

    def __int__(self) -> _int:
        return int(self.item())

    def __index__(self) -> _int:
        if self.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        if recording.recorder is not None:
            recording.recorder.refuse("a tensor used as a Python index (a value read into Python)")
        return int(self._data)

    __hash__ = TensorBase.__hash__

    def __repr__(self) -> str:
        extras = []
        d = self.dtype
        if d not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
            extras.append(f"dtype=microtensor.{d}")
        if self._data.size == 0:
            # As PyTorch: an empty tensor shows its shape (unless 1-D) and any non-float dtype.
            if self.ndim != 1:
                extras.insert(0, f"size={_fmt(self.shape)}")
            if d in (dtypes.int64, dtypes.bool_):
                extras.append(f"dtype=microtensor.{d}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([_format_data(self._data)] + extras) + ")"

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """This tensor converted to another dtype (differentiable), or itself when nothing
        changes, as in PyTorch: ``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or
        ``to(other)`` (other's dtype and device), each with ``non_blocking`` (ignored) and
        ``copy`` (a new tensor even when nothing changes). Only the CPU is a valid device."""
        if len(args) == 1 and not kwargs and isinstance(args[0], np.dtype):
            dtype, copy = args[0], False  # the common case, and the one ops use: kept fast
        else:
            dtype, copy = self._to_arguments(args, kwargs)
        if dtype is None or dtype == self._data.dtype:
            return Clone.apply(self) if copy else self
        dtype = dtypes.as_dtype(dtype)
        if not dtypes.is_floating(dtype) and self.requires_grad:
            # As PyTorch: an integer or bool result is cut from the graph (no gradient flows).
            return Cast.apply(self.detach(), dtype=dtype)
        return Cast.apply(self, dtype=dtype)

    def float(self) -> Tensor:
        """This tensor as float32."""
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        """This tensor as float64."""
        return self.to(dtypes.float64)

    def long(self) -> Tensor:
        """This tensor as int64."""
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        """This tensor as int32."""
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        """This tensor as bool."""
        return self.to(dtypes.bool_)

    def cpu(self) -> Tensor:
        """This tensor (it is already on the CPU)."""
        return self

    # -- devices, Size and Tensor API (issue 10) ----------------------------------------------

    @staticmethod
    def _to_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, _bool]:
        """The dtype (None: unchanged) and ``copy`` flag of ``to(...)``, after checking the
        arguments against PyTorch's three forms and the device (which must be the CPU)."""
        first = args[0] if args else None
        if isinstance(first, TensorBase):
            names: tuple[str, ...] = ("tensor", "non_blocking", "copy")
        elif args and Tensor._is_dtype(first):
            names = ("dtype", "non_blocking", "copy")
        else:
            names = ("device", "dtype", "non_blocking", "copy")
        bound: dict[str, Any] = dict(zip(names, args, strict=False))
        ok = len(args) <= len(names)
        for key, value in kwargs.items():
            ok = ok and key in names and key not in bound and key != "tensor"
            bound[key] = value
        dtype = bound.get("dtype")
        if "dtype" in names[:len(args)] and dtype is not None and not Tensor._is_dtype(dtype):
            ok = False  # a positional dtype must be a dtype (a string is a device)
        for flag in ("non_blocking", "copy"):
            ok = ok and isinstance(bound.get(flag, False), (bool, np.bool_))
        if not ok:
            def kind(v: Any) -> str:
                return ("dtype" if isinstance(v, np.dtype) else "device" if isinstance(v, Device)
                        else _type_name(v))

            got = ", ".join([kind(a) for a in args] + [f"{k}={kind(v)}" for k, v in kwargs.items()])
            raise TypeError(f"to() received an invalid combination of arguments - got ({got}), "
                            f"but expected one of: (device=None, dtype=None, non_blocking=False, "
                            f"copy=False), (dtype, non_blocking=False, copy=False) or (tensor, "
                            f"non_blocking=False, copy=False)")
        if "tensor" in bound:
            dtype = bound["tensor"].dtype
        # NOTE: as PyTorch, "cpu:0" is not the tensor's device ("cpu"), so the result is a copy.
        indexed = check_device(bound.get("device")).index is not None
        copy = bool(bound.get("copy", False)) or indexed
        return (None if dtype is None else dtypes.as_dtype(dtype)), copy

    @staticmethod
    def _is_dtype(value: Any) -> _bool:
        """A dtype argument: a dtype (``microtensor.float32``), or a type such as ``float``."""
        return isinstance(value, (np.dtype, type))

    def cuda(self, device: Any = None, non_blocking: _bool = False) -> Tensor:
        """Raises: microtensor runs on the CPU only (there is no CUDA device)."""
        check_device(Device("cuda") if device is None else Device("cuda", device)
                     if isinstance(device, int) else device)
        raise RuntimeError(f"Invalid device, must be cuda device (got {device!r})")

    @property
    def is_cuda(self) -> _bool:
        """False: microtensor tensors live on the CPU."""
        return False

    @property
    def is_cpu(self) -> _bool:
        """True: microtensor tensors live on the CPU."""
        return True

    @property
    def is_mps(self) -> _bool:
        """False: microtensor tensors live on the CPU."""
        return False

    def get_device(self) -> _int:
        """-1, PyTorch's device number of a CPU tensor."""
        return -1

    def nelement(self) -> _int:
        """The number of elements (same as ``numel()``)."""
        return self._data.size

    def element_size(self) -> _int:
        """The size of one element in bytes (4 for float32)."""
        return self._data.itemsize

    @property
    def itemsize(self) -> _int:
        """The size of one element in bytes (4 for float32)."""
        return self._data.itemsize

    @property
    def nbytes(self) -> _int:
        """The size of the elements in bytes: ``numel() * element_size()``."""
        return self._data.nbytes

    def is_floating_point(self) -> _bool:
        """Whether the dtype is a floating point one (float16, float32, float64)."""
        return self._data.dtype.kind == "f"

    def type(self, dtype: Any = None, non_blocking: _bool = False) -> Any:
        """Without ``dtype``, the tensor type's name as PyTorch gives it
        (``'torch.FloatTensor'``, so that programs comparing it work unchanged); with a dtype
        or such a name (``'torch.LongTensor'``, or ``'microtensor.LongTensor'``), this tensor
        converted to it (itself if it has that dtype already)."""
        if dtype is None:
            return f"torch.{dtypes.scalar_name(self._data.dtype)}Tensor"
        if isinstance(dtype, str):
            module, _, name = dtype.rpartition(".")
            by_name = {f"{v}Tensor": k for k, v in dtypes.SCALAR_NAMES.items()}
            if module in ("torch.cuda", "microtensor.cuda") and name in by_name:
                check_device("cuda")
            if module not in ("torch", "microtensor") or name not in by_name:
                raise ValueError(f"invalid type: '{dtype}'")
            dtype = by_name[name]
        elif not isinstance(dtype, np.dtype) and not (isinstance(dtype, type) and issubclass(
                dtype, np.generic)):
            raise ValueError(f"invalid type: '{getattr(dtype, '__name__', dtype)}'")
        return self.to(dtypes.as_dtype(dtype))

    @staticmethod
    def _axis_for_default_dim(name: str, dim: _int, axis: Any) -> Any:
        """``axis`` as ``dim`` for a function whose ``dim`` defaults to 0 (``cat``, ``stack``,
        ``chunk``): a ``dim`` other than 0 as well is an error."""
        if dim != 0:
            raise TypeError(f"{name}() got multiple values for argument 'dim' (axis is an alias "
                            f"of dim)")
        return axis

    @staticmethod
    def _dim_aliases(name: str, dim: Any, keepdim: _bool, axis: Any,
                     keepdims: _bool | None) -> tuple[Any, _bool]:
        """``dim`` and ``keepdim`` from NumPy's spellings ``axis`` and ``keepdims``, which
        PyTorch accepts as aliases (giving both spellings of one argument is an error)."""
        if axis is not None:
            if dim is not None:
                raise TypeError(f"{name}() got multiple values for argument 'dim' (axis is an "
                                f"alias of dim)")
            dim = axis
        if keepdims is not None:
            if keepdim:
                raise TypeError(f"{name}() got multiple values for argument 'keepdim' "
                                f"(keepdims is an alias of keepdim)")
            keepdim = keepdims
        return dim, keepdim

    # -- autograd -----------------------------------------------------------------------------

    def backward(self, gradient: Any = None, retain_graph: _bool | None = None,
                 create_graph: _bool = False) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf this tensor depends on.

        Args:
            gradient: d(loss)/d(self), needed when self is not a scalar.
            retain_graph: keep saved values for another backward (default ``create_graph``).
            create_graph: record the backward pass, for higher-order gradients.
        """
        engine.backward(self, None if gradient is None else [gradient], retain_graph,
                        create_graph)

    def detach(self) -> Tensor:
        """A tensor with the same data (and version counter) that is not part of the graph."""
        return Tensor._make(self._data, False, None, self._versions)

    def requires_grad_(self, requires_grad: _bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf and return self."""
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep this intermediate tensor's gradient in ``.grad`` after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self.grad_fn._retained = weakref.ref(self)

    @property
    def retains_grad(self) -> _bool:
        """True for an intermediate tensor on which ``retain_grad()`` was called."""
        return self.grad_fn is not None and self.grad_fn._retained is not None and \
            self.grad_fn._retained() is self

    def draw(self, params: Any = None, **options: Any) -> viz.ComputationGraph:
        """The graph that computed this tensor, as a graphviz.Digraph (see ``viz.draw_graph``)."""
        return viz.draw_graph(self, params, **options)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        owner = self if self.grad_fn is None else self.grad_fn
        if owner._hooks is None:
            owner._hooks = []
        owner._hooks.append(hook)
        return RemovableHandle(owner._hooks, hook)

    # -- arithmetic ---------------------------------------------------------------------------

    def _operands(self, other: Any, check_broadcast: _bool = True) -> tuple[Any, Any]:
        """Bring ``self`` and ``other`` to one dtype (PyTorch's promotion), check broadcasting."""
        if isinstance(other, Tensor):
            a, b = self, other
            if a._data.dtype != b._data.dtype:
                dt = dtypes.promote_types(a.dtype, a.ndim, b.dtype, b.ndim)
                a, b = a.to(dt), b.to(dt)
            if check_broadcast and a._data.shape != b._data.shape:
                broadcast_shapes(a._data.shape, b._data.shape)
            return a, b
        if isinstance(other, (int, float, bool, np.number, np.bool_)):
            dt = dtypes.scalar_result_type(self._data.dtype, other)
            if isinstance(other, np.generic):
                other = other.item()
            return (self if dt == self._data.dtype else self.to(dt)), other
        if isinstance(other, (np.ndarray, list, tuple)):
            return self._operands(Tensor._make(_to_array(other)), check_broadcast)
        raise TypeError(f"unsupported operand type: Tensor and {type(other).__name__}")

    def __add__(self, other: Any) -> Tensor:
        return Add.apply(*self._operands(other))

    def __radd__(self, other: Any) -> Tensor:
        return Add.apply(*self._operands(other))

    def __sub__(self, other: Any) -> Tensor:
        return Sub.apply(*self._sub_operands(other))

    def __rsub__(self, other: Any) -> Tensor:
        a, b = self._sub_operands(other)
        return Sub.apply(b, a)

    def _sub_operands(self, other: Any) -> tuple[Any, Any]:
        """Operands for subtraction, which PyTorch refuses for bools (x - mask is a bug)."""
        if self._data.dtype == np.bool_ or isinstance(other, (bool, np.bool_)) or (
                isinstance(other, Tensor) and other._data.dtype == np.bool_):
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                               "supported. If you are trying to invert a mask, use the `~` "
                               "operator instead.")
        return self._operands(other)

    def __mul__(self, other: Any) -> Tensor:
        return Mul.apply(*self._operands(other))

    def __rmul__(self, other: Any) -> Tensor:
        return Mul.apply(*self._operands(other))

    def __truediv__(self, other: Any) -> Tensor:
        a, b = self._float_operands(other)
        return Div.apply(a, b)

    def __rtruediv__(self, other: Any) -> Tensor:
        a, b = self._float_operands(other)
        return Div.apply(b, a)

    def _float_operands(self, other: Any) -> tuple[Any, Any]:
        """Operands for true division: integers are divided as floats (default dtype)."""
        a, b = self._operands(other)
        if a.dtype.kind != "f":
            a = a.to(dtypes.get_default_dtype())
            b = b.to(a.dtype) if isinstance(b, Tensor) else b
        return a, b

    def __pow__(self, other: Any) -> Tensor:
        return Pow.apply(*self._operands(other))

    def __rpow__(self, other: Any) -> Tensor:
        a, b = self._operands(other)
        return Pow.apply(b, a)

    def __neg__(self) -> Tensor:
        return Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __matmul__(self, other: Any) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _as_tensor(other).matmul(self)

    def add(self, other: Any, alpha: Scalar = 1) -> Tensor:
        """self + alpha * other"""
        return self.__add__(other if alpha == 1 else other * alpha)

    def sub(self, other: Any, alpha: Scalar = 1) -> Tensor:
        """self - alpha * other"""
        return self.__sub__(other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> Tensor:
        """self * other (elementwise, broadcasting)"""
        return self.__mul__(other)

    def div(self, other: Any) -> Tensor:
        """self / other (elementwise, broadcasting; true division)"""
        return self.__truediv__(other)

    def pow(self, exponent: Any) -> Tensor:
        """self ** exponent"""
        return self.__pow__(exponent)

    def neg(self) -> Tensor:
        """-self"""
        return Neg.apply(self)

    def matmul(self, other: Any) -> Tensor:
        """Matrix product with NumPy's rules: 1-D (vector), 2-D (matrix) or batched (..., n, m)."""
        if not isinstance(other, Tensor):
            other = Tensor._make(_to_array(other))
        a, b = self._operands(other, check_broadcast=False)
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                               f"{a.ndim}D and {b.ndim}D")
        if a.dtype == dtypes.bool_:
            raise NotImplementedError("matmul is not implemented for bool tensors")
        k_a = a.shape[-1]
        k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if k_a != k_b:
            raise RuntimeError(f"matmul: shapes {_fmt(a.shape)} and {_fmt(b.shape)} are not "
                               f"aligned ({k_a} != {k_b})")
        if a.ndim > 2 or b.ndim > 2:
            try:
                broadcast_shapes(a.shape[:-2], b.shape[:-2])
            except RuntimeError:
                raise RuntimeError(f"matmul: batch dimensions of shapes {_fmt(a.shape)} and "
                                   f"{_fmt(b.shape)} do not broadcast") from None
        return Matmul.apply(a, b)

    # -- elementwise functions ----------------------------------------------------------------

    def _floating(self) -> Tensor:
        """Integers become the default float dtype for functions like exp (as in PyTorch)."""
        return self if self._data.dtype.kind == "f" else self.to(dtypes.get_default_dtype())

    def _require_float(self, name: str) -> None:
        """Raise PyTorch's refusal of integer and bool input for ``name``."""
        if self.dtype.kind != "f":
            raise NotImplementedError(f"{name} is not implemented for dtype {self.dtype}: "
                                      f"convert to floating point first (e.g. .float())")

    def abs(self) -> Tensor:
        """|x|"""
        if self.dtype.kind == "b":
            raise NotImplementedError("abs is not implemented for dtype bool")
        return Abs.apply(self)

    def exp(self) -> Tensor:
        """e ** x"""
        return Exp.apply(self._floating())

    def log(self) -> Tensor:
        """natural logarithm of x"""
        return Log.apply(self._floating())

    def log1p(self) -> Tensor:
        """log(1 + x), accurate for small x"""
        return Log1p.apply(self._floating())

    def sqrt(self) -> Tensor:
        """x ** 0.5"""
        return Sqrt.apply(self._floating())

    def sin(self) -> Tensor:
        """sin(x)"""
        return Sin.apply(self._floating())

    def cos(self) -> Tensor:
        """cos(x)"""
        return Cos.apply(self._floating())

    def tanh(self) -> Tensor:
        """(e**x - e**-x) / (e**x + e**-x)"""
        return Tanh.apply(self._floating())

    def sigmoid(self) -> Tensor:
        """1 / (1 + e**-x), computed without overflow"""
        return Sigmoid.apply(self._floating())

    def relu(self) -> Tensor:
        """max(x, 0); its derivative at 0 is 0"""
        if self.dtype.kind == "b":
            raise RuntimeError("Boolean inputs not supported for relu")
        return Relu.apply(self)

    def leaky_relu(self, negative_slope: _float = 0.01) -> Tensor:
        """x if x > 0 else negative_slope * x"""
        self._require_float("leaky_relu")
        return LeakyRelu.apply(self, negative_slope=negative_slope)

    def softplus(self, beta: _float = 1.0, threshold: _float = 20.0) -> Tensor:
        """log(1 + e**(beta x)) / beta, and x where beta x > threshold (no overflow)"""
        self._require_float("softplus")
        return Softplus.apply(self, beta=beta, threshold=threshold)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """min(max(x, min), max), with ``max`` winning where min > max; the bounds may be
        numbers or tensors (broadcasting); each gets the gradient where it was taken"""
        if min is None and max is None:
            raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
        x = self
        for bound in (min, max):
            if bound is not None:
                x, _ = x._operands(bound)  # PyTorch's type promotion with each bound
        if not isinstance(min, Tensor) and not isinstance(max, Tensor):
            return Clamp.apply(x, lo=min, hi=max)
        lo, hi = (b.to(x.dtype) if isinstance(b, Tensor) else b for b in (min, max))
        shapes = [t.shape for t in (lo, hi) if isinstance(t, Tensor)]
        if broadcast_shapes(x.shape, *shapes) != x.shape:
            raise RuntimeError(f"clamp: the bounds of shape(s) {', '.join(map(_fmt, shapes))} "
                               f"do not broadcast to the input's shape {_fmt(x.shape)}")
        return Clamp.apply(x, lo, hi)

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        """Elementwise max(self, other); ties share the gradient equally"""
        return Maximum.apply(*self._operands(other))

    def minimum(self, other: Any) -> Tensor:
        """Elementwise min(self, other); ties share the gradient equally"""
        return Minimum.apply(*self._operands(other))

    def clone(self) -> Tensor:
        """A copy of this tensor that stays in the graph (gradient passes through unchanged)."""
        return Clone.apply(self)

    # -- comparisons (no gradient) ------------------------------------------------------------

    def _compare(self, other: Any, op: Callable[[Any, Any], Any]) -> Tensor:
        a, b = self._operands(other)
        return _values(op, a, b)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    def eq(self, other: Any) -> Tensor:
        """self == other, elementwise (bool)"""
        return self.__eq__(other)

    def ne(self, other: Any) -> Tensor:
        """self != other, elementwise (bool)"""
        return self.__ne__(other)

    def lt(self, other: Any) -> Tensor:
        """self < other, elementwise (bool)"""
        return self.__lt__(other)

    def le(self, other: Any) -> Tensor:
        """self <= other, elementwise (bool)"""
        return self.__le__(other)

    def gt(self, other: Any) -> Tensor:
        """self > other, elementwise (bool)"""
        return self.__gt__(other)

    def ge(self, other: Any) -> Tensor:
        """self >= other, elementwise (bool)"""
        return self.__ge__(other)

    # Bitwise ops: on integers bit by bit, on bools logical (as in PyTorch). No gradient.

    @staticmethod
    def _require_integers(name: str, *values: Any) -> None:
        """The TypeError of a bitwise op given a float operand."""
        for t in values:
            kind = t._data.dtype.kind if isinstance(t, Tensor) else np.asarray(t).dtype.kind
            if kind not in "biu":
                dt = t.dtype if isinstance(t, Tensor) else type(t).__name__
                raise TypeError(f"{name}: only integer and bool tensors are supported, got "
                                f"{dt}")

    def _bitwise(self, other: Any, fn: Callable[..., Any], name: str) -> Tensor:
        a, b = self._operands(other)
        self._require_integers(name, a, b)
        return _values(fn, a, b)

    def __invert__(self) -> Tensor:
        if self.dtype.kind not in "biu":
            raise TypeError(f"~ (bitwise_not): only integer and bool tensors are supported, got "
                            f"{self.dtype}")
        return _values(np.invert, self)

    def __and__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_and, "& (bitwise_and)")

    def __or__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_or, "| (bitwise_or)")

    def __xor__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_xor, "^ (bitwise_xor)")

    __rand__ = __and__
    __ror__ = __or__
    __rxor__ = __xor__

    def bitwise_and(self, other: Any) -> Tensor:
        """self & other: bit by bit on integers, logical on bools"""
        return self.__and__(other)

    def bitwise_or(self, other: Any) -> Tensor:
        """self | other: bit by bit on integers, logical on bools"""
        return self.__or__(other)

    def bitwise_xor(self, other: Any) -> Tensor:
        """self ^ other: bit by bit on integers, logical on bools"""
        return self.__xor__(other)

    def bitwise_not(self) -> Tensor:
        """~self: bit by bit on integers, logical on bools"""
        return ~self

    # Piecewise-constant functions: recorded in the graph (as PyTorch does) with a zero
    # gradient, their derivative wherever it exists.

    def _integer_piecewise(self, name: str) -> Tensor:
        """round/floor/ceil/trunc of integers: a copy; of bools: PyTorch's refusal."""
        if self.dtype.kind == "b":
            raise NotImplementedError(f"{name} is not implemented for dtype bool")
        return self.clone()

    def round(self, decimals: _int = 0) -> Tensor:
        """x rounded to ``decimals`` places (halves to even); zero gradient"""
        if self.dtype.kind != "f":
            return self._integer_piecewise("round")
        return Round.apply(self, decimals=decimals) if decimals else Round.apply(self)

    def floor(self) -> Tensor:
        """the largest integer <= x; zero gradient"""
        return Floor.apply(self) if self.dtype.kind == "f" else self._integer_piecewise("floor")

    def ceil(self) -> Tensor:
        """the smallest integer >= x; zero gradient"""
        return Ceil.apply(self) if self.dtype.kind == "f" else self._integer_piecewise("ceil")

    def trunc(self) -> Tensor:
        """x rounded toward 0; zero gradient"""
        return Trunc.apply(self) if self.dtype.kind == "f" else self._integer_piecewise("trunc")

    fix = trunc

    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of x (a bool stays itself); zero gradient"""
        return Sign.apply(self) if self.dtype.kind != "b" else self.clone()

    # -- math ops (issue 10) -------------------------------------------------------------------

    def square(self) -> Tensor:
        """x * x (a bool tensor gives int64, as PyTorch's pow(x, 2))"""
        x = self.to(dtypes.int64) if self.dtype.kind == "b" else self
        return x * x

    def log2(self) -> Tensor:
        """log base 2 of x"""
        return Log2.apply(self._floating())

    def log10(self) -> Tensor:
        """log base 10 of x"""
        return Log10.apply(self._floating())

    def exp2(self) -> Tensor:
        """2 ** x"""
        return Exp2.apply(self._floating())

    def expm1(self) -> Tensor:
        """exp(x) - 1, accurate for small x"""
        return Expm1.apply(self._floating())

    def rsqrt(self) -> Tensor:
        """1 / sqrt(x)"""
        return Rsqrt.apply(self._floating())

    def reciprocal(self) -> Tensor:
        """1 / x (integers give the default float dtype)"""
        return Reciprocal.apply(self._floating())

    def erf(self) -> Tensor:
        """the error function, 2/sqrt(pi) * integral_0^x exp(-t^2) dt"""
        return Erf.apply(self._floating())

    def erfc(self) -> Tensor:
        """1 - erf(x), accurate where it is tiny"""
        return Erfc.apply(self._floating())

    def erfinv(self) -> Tensor:
        """the inverse of erf: erfinv(erf(x)) = x on (-1, 1); +-inf at +-1"""
        return Erfinv.apply(self._floating())

    def tan(self) -> Tensor:
        """tan(x)"""
        return Tan.apply(self._floating())

    def asin(self) -> Tensor:
        """arcsine of x (nan outside [-1, 1])"""
        return Asin.apply(self._floating())

    def acos(self) -> Tensor:
        """arccosine of x (nan outside [-1, 1])"""
        return Acos.apply(self._floating())

    def atan(self) -> Tensor:
        """arctangent of x"""
        return Atan.apply(self._floating())

    def sinh(self) -> Tensor:
        """(e**x - e**-x) / 2"""
        return Sinh.apply(self._floating())

    def cosh(self) -> Tensor:
        """(e**x + e**-x) / 2"""
        return Cosh.apply(self._floating())

    def asinh(self) -> Tensor:
        """inverse of sinh"""
        return Asinh.apply(self._floating())

    def acosh(self) -> Tensor:
        """inverse of cosh (nan below 1)"""
        return Acosh.apply(self._floating())

    def atanh(self) -> Tensor:
        """inverse of tanh (nan outside [-1, 1])"""
        return Atanh.apply(self._floating())

    arcsin = asin
    arccos = acos
    arctan = atan
    arcsinh = asinh
    arccosh = acosh
    arctanh = atanh

    def atan2(self, other: Tensor) -> Tensor:
        """The angle of the point (other, self) in (-pi, pi]: atan(self / other), by quadrant"""
        if not isinstance(other, Tensor):
            raise TypeError(f"atan2(): argument 'other' (position 1) must be Tensor, not "
                            f"{_type_name(other)}")
        return Atan2.apply(*self._float_operands(other))

    arctan2 = atan2

    def frac(self) -> Tensor:
        """x - trunc(x), the fractional part with x's sign; gradient 1"""
        if self.dtype.kind != "f":
            raise NotImplementedError(f"frac is not implemented for dtype {self.dtype}")
        return self - Trunc.apply(self)

    def lerp(self, end: Tensor, weight: Scalar | Tensor) -> Tensor:
        """self + weight * (end - self) (weight a number or a tensor; all three broadcast)"""
        if not isinstance(end, Tensor):
            raise TypeError(f"lerp(): argument 'end' (position 1) must be Tensor, not "
                            f"{_type_name(end)}")
        if self.dtype.kind != "f":
            raise NotImplementedError(f"lerp is not implemented for dtype {self.dtype}")
        if end.dtype != self.dtype:
            raise RuntimeError(f"expected dtype {self.dtype} for `end` but got dtype {end.dtype}")
        shapes = [self.shape, end.shape]
        if isinstance(weight, Tensor):
            if weight.ndim == 0 and weight.dtype.kind == "f":
                weight = weight.to(self.dtype)  # a 0-d weight of another float dtype is taken
            if weight.dtype != self.dtype:
                raise RuntimeError(f"expected dtype {self.dtype} for `weight` but got dtype "
                                   f"{weight.dtype}")
            shapes.append(weight.shape)
        elif isinstance(weight, (int, float, np.number, np.bool_)):
            weight = float(weight)
        else:
            raise TypeError(f"lerp(): argument 'weight' (position 2) must be Number or Tensor, "
                            f"not {_type_name(weight)}")
        broadcast_shapes(*shapes)
        return Lerp.apply(self, end, weight)

    def isnan(self) -> Tensor:
        """True where x is nan"""
        return self._test(np.isnan)

    def isinf(self) -> Tensor:
        """True where x is +inf or -inf"""
        return self._test(np.isinf)

    def isposinf(self) -> Tensor:
        """True where x is +inf"""
        return self._test(np.isposinf)

    def isneginf(self) -> Tensor:
        """True where x is -inf"""
        return self._test(np.isneginf)

    def isfinite(self) -> Tensor:
        """True where x is neither nan nor infinite"""
        if self.dtype.kind != "f":
            return Tensor._make(np.ones(self.shape, dtype=np.bool_))
        return _values(np.isfinite, self)

    def _test(self, fn: Callable[[np.ndarray], np.ndarray]) -> Tensor:
        """A float test (integers and bools are never nan or infinite)."""
        if self.dtype.kind != "f":
            return Tensor._make(np.zeros(self.shape, dtype=np.bool_))
        return _values(fn, self)

    def nan_to_num(self, nan: _float = 0.0, posinf: _float | None = None,
                   neginf: _float | None = None) -> Tensor:
        """x with nan, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default
        0 and the dtype's largest and lowest finite values); gradient 1 where x is finite"""
        if self.dtype.kind != "f":
            return self.clone()
        return NanToNum.apply(self, nan=nan, posinf=posinf, neginf=neginf)

    def _logical(self, other: Any, fn: Callable[..., np.ndarray], name: str) -> Tensor:
        if not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'other' (position 1) must be Tensor, not "
                            f"{_type_name(other)}")
        if other.shape != self.shape:
            broadcast_shapes(self.shape, other.shape)
        return _values(fn, self, other)

    def logical_and(self, other: Tensor) -> Tensor:
        """True where both are nonzero"""
        return self._logical(other, np.logical_and, "logical_and")

    def logical_or(self, other: Tensor) -> Tensor:
        """True where either is nonzero"""
        return self._logical(other, np.logical_or, "logical_or")

    def logical_xor(self, other: Tensor) -> Tensor:
        """True where exactly one is nonzero"""
        return self._logical(other, np.logical_xor, "logical_xor")

    def logical_not(self) -> Tensor:
        """True where x is zero"""
        return _values(np.logical_not, self)

    def _division_operands(self, other: Any, kernel: str, reflected: _bool = False) -> tuple[Any,
                                                                                           Any]:
        """Operands of //, % and fmod (``other op self`` if ``reflected``): PyTorch's promotion;
        bools refused; integer division by zero raises (as PyTorch: ``RuntimeError:
        ZeroDivisionError``) unless the result is empty."""
        a, b = self._operands(other)
        if reflected:
            a, b = b, a
        kinds = [t.dtype.kind if isinstance(t, Tensor) else "b" if isinstance(t, bool) else "x"
                 for t in (a, b)]
        if kinds == ["b", "b"]:
            raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
        if self.dtype.kind in "iub":
            divisor = b._data if isinstance(b, Tensor) else np.asarray(b)
            size = math.prod(broadcast_shapes(self.shape, divisor.shape))
            if size and divisor.dtype.kind in "iub":
                if not isinstance(b, Tensor):
                    if (divisor == 0).any():
                        raise RuntimeError("ZeroDivisionError")
                else:  # (the op NonzeroDivisor: a compiled step checks it too)
                    b = _integer(NonzeroDivisor, b)
        return a, b

    def floor_divide(self, other: Any) -> Tensor:
        """floor(self / other), elementwise (integers stay integers); no gradient (as PyTorch:
        backward through it raises)"""
        return FloorDivide.apply(*self._division_operands(other, "div_floor_cpu"))

    def __floordiv__(self, other: Any) -> Tensor:
        return self.floor_divide(other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return FloorDivide.apply(*self._division_operands(other, "div_floor_cpu", True))

    def remainder(self, other: Any) -> Tensor:
        """self - other * floor(self / other): the sign of other, as Python's %"""
        return Remainder.apply(*self._division_operands(other, "remainder_cpu"))

    def __mod__(self, other: Any) -> Tensor:
        return self.remainder(other)

    def __rmod__(self, other: Any) -> Tensor:
        return Remainder.apply(*self._division_operands(other, "remainder_cpu", True))

    def fmod(self, other: Any) -> Tensor:
        """self - other * trunc(self / other): the sign of self, as C's fmod"""
        return Fmod.apply(*self._division_operands(other, "fmod_cpu"))

    def isclose(self, other: Tensor, rtol: _float = 1e-05, atol: _float = 1e-08,
                equal_nan: _bool = False) -> Tensor:
        """|self - other| <= atol + rtol * |other|, elementwise (equal infinities are close)"""
        if not isinstance(other, Tensor):
            raise TypeError(f"isclose(): argument 'other' (position 1) must be Tensor, not "
                            f"{_type_name(other)}")
        if self.dtype != other.dtype:
            raise RuntimeError(f"{dtypes.scalar_name(self.dtype)} did not match "
                               f"{dtypes.scalar_name(other.dtype)}")
        for name, value in (("rtol", rtol), ("atol", atol)):
            if value < 0:
                raise RuntimeError(f"{name} must be greater than or equal to zero, but got "
                                   f"{value}")
        if self.shape != other.shape:
            broadcast_shapes(self.shape, other.shape)
        if self.dtype.kind == "b":
            return _values(np.equal, self, other)
        return _values(np.isclose, self, other, rtol=rtol, atol=atol, equal_nan=equal_nan)

    def allclose(self, other: Tensor, rtol: _float = 1e-05, atol: _float = 1e-08,
                 equal_nan: _bool = False) -> _bool:
        """True if ``isclose`` holds everywhere (a Python bool)"""
        if recording.recorder is not None:
            recording.recorder.refuse("allclose() (a value read into Python)")
        return builtins.bool(self.isclose(other, rtol, atol, equal_nan)._data.all())

    def equal(self, other: Tensor) -> _bool:
        """True if both have the same shape and the same values (a Python bool)"""
        if not isinstance(other, Tensor):
            raise TypeError(f"equal(): argument 'other' (position 1) must be Tensor, not "
                            f"{_type_name(other)}")
        if recording.recorder is not None:
            recording.recorder.refuse("equal() (a value read into Python)")
        return self.shape == other.shape and builtins.bool(np.all(self._data == other._data))

    def __abs__(self) -> Tensor:
        return self.abs()

    def outer(self, vec2: Tensor) -> Tensor:
        """The outer product: out[i, j] = self[i] * vec2[j]"""
        for name, t in (("self", self), ("vec2", vec2)):
            if not isinstance(t, Tensor):
                raise TypeError(f"outer(): argument 'vec2' (position 1) must be Tensor, not "
                                f"{_type_name(t)}")
            if t.ndim != 1:
                raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
        return self.reshape(-1, 1) * vec2.reshape(1, -1)

    ger = outer

    def _same_dtype(self, other: Any, name: str, message: str) -> None:
        if not isinstance(other, Tensor):
            arg = {"mm": "mat2", "bmm": "mat2", "mv": "vec", "dot": "tensor"}[name]
            raise TypeError(f"{name}(): argument '{arg}' (position 1) must be Tensor, not "
                            f"{_type_name(other)}")
        if self.dtype != other.dtype:
            raise RuntimeError(message.format(a=dtypes.scalar_name(self.dtype),
                                              b=dtypes.scalar_name(other.dtype),
                                              ca=dtypes.c_name(self.dtype),
                                              cb=dtypes.c_name(other.dtype)))
        if self.dtype.kind == "b":
            raise NotImplementedError(f"{name} is not implemented for bool tensors")

    def mm(self, mat2: Tensor) -> Tensor:
        """The matrix product of two 2-D tensors (no broadcasting)"""
        self._same_dtype(mat2, "mm", "expected m1 and m2 to have the same dtype, but got: "
                                     "{ca} != {cb}")
        if self.ndim != 2:
            raise RuntimeError("self must be a matrix")
        if mat2.ndim != 2:
            raise RuntimeError("mat2 must be a matrix")
        if self.shape[1] != mat2.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({self.shape[0]}x"
                               f"{self.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
        return Matmul.apply(self, mat2)

    def bmm(self, mat2: Tensor) -> Tensor:
        """Batched matrix product of (b, n, m) and (b, m, p) tensors (no broadcasting)"""
        self._same_dtype(mat2, "bmm", "expected scalar type {a} but found {b}")
        if self.ndim != 3:
            raise RuntimeError("batch1 must be a 3D tensor")
        if mat2.ndim != 3:
            raise RuntimeError("batch2 must be a 3D tensor")
        want = [self.shape[0], self.shape[2]]
        if list(mat2.shape[:2]) != want:
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"{want} but got: {list(mat2.shape[:2])}.")
        return Matmul.apply(self, mat2)

    def mv(self, vec: Tensor) -> Tensor:
        """The product of a 2-D matrix and a 1-D vector"""
        self._same_dtype(vec, "mv", "addmv input tensors must have the same dtype, but got {b}, "
                                    "{a}, and {b}")
        if self.ndim != 2 or vec.ndim != 1:
            raise RuntimeError(f"vector + matrix @ vector expected, got 1, {self.ndim}, "
                               f"{vec.ndim}")
        if self.shape[1] != vec.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({self.shape[0]}), mat "
                               f"({self.shape[0]}x{self.shape[1]}), vec ({vec.shape[0]})")
        return Matmul.apply(self, vec)

    def dot(self, other: Tensor) -> Tensor:
        """The inner product of two 1-D tensors of the same size and dtype"""
        if isinstance(other, Tensor) and (self.ndim != 1 or other.ndim != 1):
            raise RuntimeError(f"1D tensors expected, but got {self.ndim}D and {other.ndim}D "
                               f"tensors")
        self._same_dtype(other, "dot", "dot : expected both vectors to have same dtype, but "
                                       "found {a} and {b}")
        if self.shape != other.shape:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{self.shape[0]}] and "
                               f"src [{other.shape[0]}] to have the same number of elements, "
                               f"but got {self.shape[0]} and {other.shape[0]} elements "
                               f"respectively")
        return Matmul.apply(self, other)

    def all(self, dim: _int | None = None, keepdim: _bool = False,
            *, axis: Any = None, keepdims: _bool | None = None) -> Tensor:
        """True where every element (over ``dim``, or all) is nonzero"""
        if axis is not None or keepdims is not None:
            dim, keepdim = self._dim_aliases("all", dim, keepdim, axis, keepdims)
        return _values(np.all, self, axis=_dims(dim, self.ndim), keepdims=keepdim)

    def any(self, dim: _int | None = None, keepdim: _bool = False,
            *, axis: Any = None, keepdims: _bool | None = None) -> Tensor:
        """True where some element (over ``dim``, or all) is nonzero"""
        if axis is not None or keepdims is not None:
            dim, keepdim = self._dim_aliases("any", dim, keepdim, axis, keepdims)
        return _values(np.any, self, axis=_dims(dim, self.ndim), keepdims=keepdim)

    def argmax(self, dim: _int | None = None, keepdim: _bool = False,
               *, axis: Any = None, keepdims: _bool | None = None) -> Tensor:
        """Index of the largest value (over all elements, flattened, when ``dim`` is None)."""
        if axis is not None or keepdims is not None:
            dim, keepdim = self._dim_aliases("argmax", dim, keepdim, axis, keepdims)
        if self.dtype == dtypes.bool_:
            raise RuntimeError("argmax(): does not support bool input")
        d = None if dim is None else _dim(dim, self.ndim)
        return ArgExtreme.apply(self.detach(), dim=d, keepdim=keepdim, largest=True)

    def argmin(self, dim: _int | None = None, keepdim: _bool = False,
               *, axis: Any = None, keepdims: _bool | None = None) -> Tensor:
        """Index of the smallest value (over all elements, flattened, when ``dim`` is None)."""
        if axis is not None or keepdims is not None:
            dim, keepdim = self._dim_aliases("argmin", dim, keepdim, axis, keepdims)
        if self.dtype == dtypes.bool_:
            raise RuntimeError("argmin(): does not support bool input")
        d = None if dim is None else _dim(dim, self.ndim)
        return ArgExtreme.apply(self.detach(), dim=d, keepdim=keepdim, largest=False)

    # -- reductions ---------------------------------------------------------------------------

    def sum(self, dim: _int | Sequence[_int] | None = None, keepdim: _bool = False,
            *, axis: Any = None, keepdims: _bool | None = None) -> Tensor:
        """Sum over ``dim`` (an int, a tuple, or None for all dims)."""
        if axis is not None or keepdims is not None:
            dim, keepdim = self._dim_aliases("sum", dim, keepdim, axis, keepdims)
        x = self if self.dtype.kind == "f" else self.to(dtypes.int64)
        return Sum.apply(x, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim: _int | Sequence[_int] | None = None, keepdim: _bool = False,
             *, axis: Any = None, keepdims: _bool | None = None) -> Tensor:
        """sum(x) / n over ``dim``"""
        if axis is not None or keepdims is not None:
            dim, keepdim = self._dim_aliases("mean", dim, keepdim, axis, keepdims)
        if self.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                               f"a floating point or complex dtype. Got: {self.dtype}")
        return Mean.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def _count(self, dim: _int | Sequence[_int] | None) -> _int:
        dims = _dims(dim, self.ndim)
        if dims is None:
            return self._data.size
        return math.prod(self.shape[d] for d in dims)

    def _correction(self, unbiased: _bool | None, correction: _float | None, name: str) -> _float:
        if correction is None:
            correction = 0 if unbiased is False else 1
        if self.dtype.kind != "f":
            raise RuntimeError(f"{name}(): input dtype should be a floating point dtype, got "
                               f"{self.dtype}")
        return correction

    def _warn_dof(self, dim: Any, correction: _float, name: str) -> None:
        if self._count(dim) - correction <= 0:
            warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly "
                          f"less than the reduction factor (input numel divided by output "
                          f"numel).", UserWarning, stacklevel=3)

    def var(self, dim: _int | Sequence[_int] | None = None, unbiased: _bool | None = None,
            keepdim: _bool = False, *, correction: _float | None = None, axis: Any = None,
            keepdims: _bool | None = None) -> Tensor:
        """sum((x - mean)**2) / (n - correction); correction is 1 (unbiased) unless changed"""
        if axis is not None or keepdims is not None:
            dim, keepdim = self._dim_aliases("var", dim, keepdim, axis, keepdims)
        c = self._correction(unbiased, correction, "var")
        self._warn_dof(dim, c, "var")
        return Var.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim, correction=c)

    def std(self, dim: _int | Sequence[_int] | None = None, unbiased: _bool | None = None,
            keepdim: _bool = False, *, correction: _float | None = None, axis: Any = None,
            keepdims: _bool | None = None) -> Tensor:
        """sqrt(var(x)); its gradient is 0 where the std is 0 (constant data)"""
        if axis is not None or keepdims is not None:
            dim, keepdim = self._dim_aliases("std", dim, keepdim, axis, keepdims)
        c = self._correction(unbiased, correction, "std")
        self._warn_dof(dim, c, "std")
        return Std.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim, correction=c)

    def norm(self, p: _float | str | None = "fro", dim: _int | Sequence[_int] | None = None,
             keepdim: _bool = False) -> Tensor:
        """The p-norm over ``dim`` (all elements by default): (sum |x|**p)**(1/p); ``"fro"``
        and 2 are the square root of the sum of squares (gradient 0 at the zero vector)."""
        if self.dtype.kind != "f":
            raise RuntimeError(f"norm(): input dtype should be a floating point dtype, got "
                               f"{self.dtype}")
        dims = _dims(dim, self.ndim)
        if p == "fro" and isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                               f"{' '.join(map(str, dim))}")
        if p in ("fro", 2, 2.0, None):
            return Norm.apply(self, dim=dims, keepdim=keepdim)  # (shown without p=)
        if isinstance(p, str):
            raise RuntimeError(f"norm(): p={p!r} is not supported; use a number, 'fro' or inf")
        if p == math.inf:
            return self.abs().amax(dims, keepdim)
        if p == -math.inf:
            return self.abs().amin(dims, keepdim)
        if p == 0:  # the number of nonzero elements (a zero gradient, as PyTorch)
            return self.abs().sign().sum(dims, keepdim)
        if p == 1:
            return self.abs().sum(dims, keepdim)
        return Norm.apply(self, p=float(p), dim=dims, keepdim=keepdim)

    def prod(self, dim: _int | None = None, keepdim: _bool = False,
             *, axis: Any = None, keepdims: _bool | None = None) -> Tensor:
        """Product over ``dim`` (None for all elements); correct gradient with zeros"""
        if axis is not None or keepdims is not None:
            dim, keepdim = self._dim_aliases("prod", dim, keepdim, axis, keepdims)
        return Prod.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def amax(self, dim: _int | Sequence[_int] | None = None, keepdim: _bool = False,
             *, axis: Any = None, keepdims: _bool | None = None) -> Tensor:
        """Largest value over ``dim``; ties share the gradient equally"""
        if axis is not None or keepdims is not None:
            dim, keepdim = self._dim_aliases("amax", dim, keepdim, axis, keepdims)
        return Amax.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def amin(self, dim: _int | Sequence[_int] | None = None, keepdim: _bool = False,
             *, axis: Any = None, keepdims: _bool | None = None) -> Tensor:
        """Smallest value over ``dim``; ties share the gradient equally"""
        if axis is not None or keepdims is not None:
            dim, keepdim = self._dim_aliases("amin", dim, keepdim, axis, keepdims)
        return Amin.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def max(self, dim: Any = None, keepdim: _bool = False,
            *, axis: Any = None, keepdims: _bool | None = None) -> Any:
        """The largest value; with an int ``dim``, ``(values, indices)`` along it; with a
        tensor, the elementwise ``maximum``."""
        if axis is not None or keepdims is not None:
            dim, keepdim = self._dim_aliases("max", dim, keepdim, axis, keepdims)
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return self.amax()
        return self._pick(np.argmax, dim, keepdim)

    def min(self, dim: Any = None, keepdim: _bool = False,
            *, axis: Any = None, keepdims: _bool | None = None) -> Any:
        """The smallest value; with an int ``dim``, ``(values, indices)`` along it; with a
        tensor, the elementwise ``minimum``."""
        if axis is not None or keepdims is not None:
            dim, keepdim = self._dim_aliases("min", dim, keepdim, axis, keepdims)
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return self.amin()
        return self._pick(np.argmin, dim, keepdim)

    def _pick(self, arg: Callable[..., np.ndarray], dim: _int, keepdim: _bool) -> ValuesIndices:
        d = _dim(dim, self.ndim)
        x = self if self.ndim else self.reshape(1)  # a 0-d tensor is its own max, at index 0
        idx = ArgExtreme.apply(x.detach(), dim=d, keepdim=True, largest=arg is np.argmax)
        values = x.take_along_dim(idx, d)
        if not keepdim or not self.ndim:
            values, idx = values.squeeze(d), idx.squeeze(d)
        return ValuesIndices(values, idx)

    def take_along_dim(self, indices: Any, dim: _int | None = None) -> Tensor:
        """out[..., i, ...] = self[..., indices[..., i, ...], ...] along ``dim``.

        ``indices`` has as many dims as ``self``; the two broadcast in every other dim. With
        ``dim=None`` both are flattened first.
        """
        idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
        if idx.dtype.kind not in "iu":
            raise RuntimeError(f"take_along_dim(): dtype of indices should be an integer type "
                               f"but got {idx.dtype}")
        if dim is None:
            return self.reshape(-1)[idx.reshape(-1)]
        d = _dim(dim, self.ndim)
        if idx.ndim != self.ndim:
            raise RuntimeError(f"take_along_dim(): input and indices should have the same number "
                               f"of dimensions, but got {self.ndim} dimensions for input, and "
                               f"{idx.ndim} dimensions for indices")
        others = broadcast_shapes(self.shape[:d] + (1,) + self.shape[d + 1:],
                                  idx.shape[:d] + (1,) + idx.shape[d + 1:])
        # One index array per dim: arange along the dim (0 where self has size 1), idx at d.
        index: list[Any] = []
        for k, n in enumerate(others):
            if k == d:
                index.append(idx)
            else:
                index.append(_arange_along(n if self.shape[k] != 1 else 1, k, self.ndim))
        # (the index arrays broadcast together to others[:d] + (idx.shape[d],) + others[d + 1:])
        index[d] = indices if isinstance(indices, Tensor) else idx
        return Index.apply(self, *index, index=(ARRAY,) * self.ndim)

    def logsumexp(self, dim: Any = None, keepdim: _bool = False,
                  *, axis: Any = None, keepdims: _bool | None = None) -> Tensor:
        """log(sum(exp(x))) over ``dim``, computed without overflow"""
        if axis is not None or keepdims is not None:
            dim, keepdim = self._dim_aliases("logsumexp", dim, keepdim, axis, keepdims)
        if dim is None:
            raise TypeError("logsumexp() missing 1 required positional argument: 'dim'")
        return Logsumexp.apply(self._floating(), dim=_dims(dim, self.ndim), keepdim=keepdim)

    def softmax(self, dim: Any = None, *, axis: Any = None) -> Tensor:
        """exp(x) / sum(exp(x)) over ``dim``, computed without overflow"""
        if axis is not None:
            dim, _ = self._dim_aliases("softmax", dim, False, axis, None)
        if dim is None:
            raise TypeError("softmax() missing 1 required positional argument: 'dim'")
        self._require_float("softmax")
        return Softmax.apply(self, dim=_dim(dim, self.ndim))

    def log_softmax(self, dim: Any = None, *, axis: Any = None) -> Tensor:
        """x - logsumexp(x) over ``dim``, computed without overflow"""
        if axis is not None:
            dim, _ = self._dim_aliases("log_softmax", dim, False, axis, None)
        if dim is None:
            raise TypeError("log_softmax() missing 1 required positional argument: 'dim'")
        self._require_float("log_softmax")
        return LogSoftmax.apply(self, dim=_dim(dim, self.ndim))

    # -- shape --------------------------------------------------------------------------------

    # -- shape, indexing, sorting and scan ops (issue 10) --

    def _scan_input(self, dtype: Any) -> Tensor:
        """The input of cumsum/cumprod: converted to ``dtype``; integers and bools to int64."""
        if dtype is not None:
            return self.to(dtypes.as_dtype(dtype))
        return self if self.dtype.kind == "f" else self.to(dtypes.int64)

    def cumsum(self, dim: _int, *, dtype: Any = None) -> Tensor:
        """Running sum along ``dim``: y_i = x_0 + ... + x_i (integers and bools sum as int64)."""
        return Cumsum.apply(self._scan_input(dtype), dim=_dim(dim, self.ndim))

    def cumprod(self, dim: _int, *, dtype: Any = None) -> Tensor:
        """Running product along ``dim``: y_i = x_0 * ... * x_i (its gradient is right with
        zeros in x, as PyTorch's, to second order)."""
        return Cumprod.apply(self._scan_input(dtype), dim=_dim(dim, self.ndim))

    def tril(self, diagonal: _int = 0) -> Tensor:
        """The lower triangle of the last two dims (elements above ``diagonal`` set to 0)."""
        if self.ndim < 2:
            raise RuntimeError("tril: input tensor must have at least 2 dimensions")
        return Tril.apply(self, diagonal=int(diagonal))

    def triu(self, diagonal: _int = 0) -> Tensor:
        """The upper triangle of the last two dims (elements below ``diagonal`` set to 0)."""
        if self.ndim < 2:
            raise RuntimeError("triu: input tensor must have at least 2 dimensions")
        return Triu.apply(self, diagonal=int(diagonal))

    def flip(self, *dims: Any) -> Tensor:
        """The elements in reverse order along each of ``dims`` (a copy)."""
        if not dims:
            raise TypeError('flip() missing 1 required positional arguments: "dims"')
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        norm = [_dim(d, self.ndim) for d in dims]
        for d in norm:
            if norm.count(d) > 1:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        return Flip.apply(self, dims=tuple(norm) if self.ndim else ())

    def fliplr(self) -> Tensor:
        """The columns (dim 1) in reverse order."""
        if self.ndim < 2:
            raise RuntimeError("Input must be >= 2-d.")
        return self.flip(1)

    def flipud(self) -> Tensor:
        """The rows (dim 0) in reverse order."""
        if self.ndim < 1:
            raise RuntimeError("Input must be >= 1-d.")
        return self.flip(0)

    def roll(self, shifts: _int | Sequence[_int],
             dims: _int | Sequence[_int] | None = None) -> Tensor:
        """The elements shifted cyclically by ``shifts`` along ``dims`` (the flattened tensor,
        reshaped back, when ``dims`` is None)."""
        sh = _int_tuple(shifts)
        ds = () if dims is None else _int_tuple(dims)
        if not sh:
            raise RuntimeError("`shifts` required")
        if dims is None and len(sh) == 1:
            return Roll.apply(self, shifts=(int(sh[0]),), dims=None)
        if len(sh) != len(ds):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:"
                               f"{len(ds)}")
        if self.ndim == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        return Roll.apply(self, shifts=tuple(int(s) for s in sh),
                          dims=tuple(_dim(d, self.ndim) for d in ds))

    def repeat(self, *sizes: Any) -> Tensor:
        """The tensor tiled ``sizes[i]`` times along dim i (extra leading sizes add dims)."""
        reps = _size_tuple(sizes, "repeat")
        if len(reps) < self.ndim:
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than "
                               "number of dimensions of tensor")
        full = (1,) * (len(reps) - self.ndim) + self.shape
        out = [r * s for r, s in zip(reps, full, strict=True)]
        negative = [n for n in out if n < 0]
        if negative:
            raise RuntimeError(f"Trying to create tensor with negative dimension {negative[0]}: "
                               f"{out}")
        # (1, s0, 1, s1, ...) broadcast to (r0, s0, r1, s1, ...), then merged pairwise
        pairs = [n for s in full for n in (1, s)]
        big = [n for r, s in zip(reps, full, strict=True) for n in (r, s)]
        return self.reshape(pairs).expand(big).reshape(out)

    def tile(self, *dims: Any) -> Tensor:
        """``repeat``, with ``dims`` padded by leading 1s when it has fewer entries than the
        tensor has dims."""
        reps = _size_tuple(dims, "tile")
        return self.repeat((1,) * (self.ndim - len(reps)) + reps)

    def repeat_interleave(self, repeats: Any, dim: _int | None = None, *,
                          output_size: _int | None = None) -> Tensor:
        """Each element (each slice along ``dim``) repeated ``repeats`` times in place
        (``repeats`` an int or a tensor of one count per element); flattened if ``dim`` is
        None."""
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else _dim(dim, self.ndim)
        if isinstance(repeats, Tensor) and repeats.ndim == 0:
            repeats = repeats.item()
        if not isinstance(repeats, Tensor):
            r = int(repeats)
            if r < 0:
                raise RuntimeError("Repeats must be non-negative")
            y = x.unsqueeze(d + 1)
            shape = list(y.shape)
            shape[d + 1] = r
            return y.expand(shape).reshape(x.shape[:d] + (x.shape[d] * r,) + x.shape[d + 1:])
        if repeats.ndim != 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if repeats.shape[0] != x.shape[d]:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {repeats.shape[0]} and input.size({d}) = "
                               f"{x.shape[d]}")
        return x.index_select(d, _repeat_index(repeats))

    def reshape_as(self, other: Tensor) -> Tensor:
        """This tensor reshaped to ``other``'s shape."""
        return self.reshape(other.shape)

    def unflatten(self, dim: _int, sizes: Sequence[_int]) -> Tensor:
        """Dimension ``dim`` split into ``sizes`` (one of them may be -1, inferred)."""
        if self.ndim == 0:
            raise RuntimeError("unflatten: Dimension specified as 0 but tensor has no "
                               "dimensions")
        d = _dim(dim, self.ndim)
        sizes = [int(s) for s in sizes]
        if not sizes:
            raise RuntimeError("unflatten: sizes must be non-empty")
        n = self.shape[d]
        if sizes.count(-1) > 1:
            raise RuntimeError("unflatten: only one dimension can be inferred")
        if any(s < -1 for s in sizes):
            raise RuntimeError(f"unflatten: invalid shape dimension {min(sizes)} in {sizes}")
        known = math.prod(s for s in sizes if s != -1)
        if (-1 in sizes and (known == 0 or n % known)) or (-1 not in sizes and known != n):
            raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size "
                               f"of dim {d} ({n}) in the input tensor")
        sizes = [n // known if s == -1 else s for s in sizes]
        return self.reshape(self.shape[:d] + tuple(sizes) + self.shape[d + 1:])

    def _check_index(self, index: Any, name: str) -> Tensor:
        """An index tensor of dtype int32 or int64 (PyTorch refuses the other integer types)."""
        if not isinstance(index, Tensor):
            raise TypeError(f"{name}(): argument 'index' must be Tensor, not "
                            f"{type(index).__name__}")
        if name == "take" and index.dtype != np.int64:
            raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                               f"{dtypes.scalar_name(index.dtype)}")
        if index.dtype not in (np.int32, np.int64):
            raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index (got "
                               f"{index.dtype})")
        return index

    def _along(self, name: str, dim: _int, index: Any, src: Any = None) -> tuple[Tensor, _int,
                                                                               Tensor]:
        """Checks shared by gather, scatter and scatter_add; returns (self, dim, index) with
        0-d tensors as 1-d."""
        idx = self._check_index(index, name)
        d = _dim(dim, self.ndim)
        if builtins.max(idx.ndim, 1) != builtins.max(self.ndim, 1):
            raise RuntimeError("Index tensor must have the same number of dimensions as "
                               f"{'input' if name == 'gather' else 'self'} tensor")
        if isinstance(src, Tensor) and builtins.max(src.ndim, 1) != builtins.max(idx.ndim, 1):
            raise RuntimeError("Index tensor must have the same number of dimensions as src "
                               "tensor")
        x = self if self.ndim else self.reshape(1)
        i = idx if idx.ndim else idx.reshape(1)
        s = src if not isinstance(src, Tensor) or src.ndim else src.reshape(1)
        for k in range(x.ndim):
            too_big = (k != d and i.shape[k] > x.shape[k]) or (
                isinstance(s, Tensor) and i.shape[k] > s.shape[k])
            if too_big and isinstance(s, Tensor):
                raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self "
                                   f"{list(self.shape)} apart from dimension {d} and to be no "
                                   f"larger size than src {list(src.shape)}")
            if too_big:
                raise RuntimeError(f"Size does not match at dimension {k} expected index "
                                   f"{list(idx.shape)} to be no larger than self "
                                   f"{list(self.shape)} apart from dimension {d}")
        i = _check_range(i, x.shape[d], f"is out of bounds for dimension {d} with size "
                                        f"{x.shape[d]}")
        return x, d, i

    def gather(self, dim: _int, index: Tensor, *, sparse_grad: _bool = False) -> Tensor:
        """out[i][j][k] = self[index[i][j][k]][j][k] (for dim 0; likewise for other dims)."""
        x, d, i = self._along("gather", dim, index)
        out = Index.apply(x, *_grid(i.shape, d, i), index=(ARRAY,) * x.ndim)
        return out if out.shape == index.shape else out.reshape(index.shape)

    def scatter(self, dim: _int, index: Tensor, src: Any = None, value: Any = None, *,
                reduce: str | None = None) -> Tensor:
        """A copy with out[index[i][j]][j] = src[i][j] (for dim 0; likewise for other dims);
        ``src`` may be a number (or given as ``value``)."""
        if reduce is not None:
            raise NotImplementedError("scatter(..., reduce=...) is not supported by microtensor "
                                      "(PyTorch deprecates it and has no gradient for it): use "
                                      "scatter_add for reduce='add'")
        src = value if src is None else src
        if src is None:
            raise TypeError("scatter() missing 1 required positional argument: 'src' or "
                            "'value'")
        if isinstance(src, Tensor) and src.dtype != self.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        x, d, i = self._along("scatter", dim, index, src)
        if isinstance(src, Tensor):
            s = src if src.ndim else src.reshape(1)
        else:
            s = src.item() if isinstance(src, np.generic) else src
        out = Scatter.apply(x, i, s, dim=d)
        return out if self.ndim else out.reshape(())

    def scatter_add(self, dim: _int, index: Tensor, src: Tensor) -> Tensor:
        """A copy with src[i][j] added to out[index[i][j]][j] (for dim 0; likewise for other
        dims); repeated indices accumulate."""
        if not isinstance(src, Tensor):
            raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not "
                            f"{type(src).__name__}")
        if src.dtype != self.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        x, d, i = self._along("scatter_add", dim, index, src)
        s = src if src.ndim else src.reshape(1)
        if s.shape != i.shape:
            s = Index.apply(s, index=tuple(slice(0, n) for n in i.shape))
        added = IndexAdd.apply(s, *_grid(i.shape, d, i), index=(ARRAY,) * x.ndim, shape=x.shape)
        out = x + added
        return out if self.ndim else out.reshape(())

    def index_select(self, dim: _int, index: Tensor) -> Tensor:
        """The slices of ``self`` along ``dim`` at the positions ``index`` (a vector)."""
        idx = self._check_index(index, "index_select")
        if idx.ndim > 1:
            raise IndexError("index_select(): Index is supposed to be a vector")
        d = _dim(dim, self.ndim)
        x = self if self.ndim else self.reshape(1)
        idx = _check_range(idx, x.shape[d], "", message="index out of range in self")
        out = Index.apply(x, idx.reshape(-1), index=(slice(None),) * d + (ARRAY,))
        return out if self.ndim else out.reshape(())

    def index_add(self, dim: _int, index: Tensor, source: Tensor, *, alpha: Scalar = 1) -> Tensor:
        """A copy with alpha * source[i] added to the slice index[i] along ``dim`` (repeated
        indices accumulate)."""
        idx = self._check_index(index, "index_add")
        if idx.ndim > 1:
            raise IndexError("index_add_(): Index is supposed to be a vector")
        if source.dtype != self.dtype:
            raise RuntimeError(f"index_add_(): self ({dtypes.scalar_name(self.dtype)}) and source "
                               f"({dtypes.scalar_name(source.dtype)}) must have the same scalar "
                               f"type")
        d = _dim(dim, self.ndim)
        x = self if self.ndim else self.reshape(1)
        s = source if source.ndim else source.reshape(1)
        if s.ndim != x.ndim or s.shape[:d] + s.shape[d + 1:] != x.shape[:d] + x.shape[d + 1:]:
            raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                               f"specified dimension. Got self.shape = {list(self.shape)} "
                               f"source.shape = {list(source.shape)}")
        i = idx.reshape(-1)
        if i.shape[0] != s.shape[d]:
            raise RuntimeError(f"index_add_(): Number of indices ({i.shape[0]}) should be equal "
                               f"to source.size(dim): ({s.shape[d]}), for dim: {d}")
        i = _check_range(i, x.shape[d], "", message="index out of range in self")
        if alpha != 1:
            s = s * alpha
        added = IndexAdd.apply(s, i, index=(slice(None),) * d + (ARRAY,), shape=x.shape)
        out = x + added
        return out if self.ndim else out.reshape(())

    def _fill_value(self, mask: Any, value: Any, name: str) -> Any:
        """Checks of masked_fill(_): a bool mask, a number or a 0-d tensor; the value in this
        tensor's dtype."""
        if not isinstance(mask, Tensor):
            raise TypeError(f"{name}(): argument 'mask' must be Tensor, not "
                            f"{type(mask).__name__}")
        if mask.dtype != np.bool_:
            raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with "
                               f"dtype {dtypes.c_name(mask.dtype)}")
        if isinstance(value, Tensor):
            if value.ndim:
                raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, "
                                   f"but got tensor with {value.ndim} dimension(s).")
            return value if value.dtype == self.dtype else value.to(self.dtype)
        if not isinstance(value, (int, float, bool, np.number, np.bool_)):
            raise TypeError(f"{name}(): argument 'value' must be Number or Tensor, not "
                            f"{type(value).__name__}")
        if self.dtype.kind in "iu" and isinstance(value, (float, np.floating)) and not (
                math.isfinite(value)):
            raise RuntimeError(f"value cannot be converted to type {self.dtype} without "
                               f"overflow")
        # (a NumPy scalar, not a 0-d array: compile keeps it as a literal of the step)
        return np.asarray(value).astype(self.dtype)[()]

    def masked_fill(self, mask: Tensor, value: Any) -> Tensor:
        """A copy with ``value`` where ``mask`` is True (the mask broadcasts)."""
        v = self._fill_value(mask, value, "masked_fill")
        if mask.shape != self.shape:
            broadcast_shapes(self.shape, mask.shape)
        return Where.apply(mask, v, self)

    def masked_fill_(self, mask: Tensor, value: Any) -> Tensor:
        """Set the elements where ``mask`` is True to ``value``, in place."""
        v = self._fill_value(mask, value, "masked_fill_")
        self._check_inplace(v)
        if mask.shape != self.shape and broadcast_shapes(self.shape, mask.shape) != self.shape:
            raise RuntimeError(f"masked_fill_: the mask of shape {_fmt(mask.shape)} does not "
                               f"broadcast to the tensor's shape {_fmt(self.shape)}")
        np.copyto(self._data, v._data if isinstance(v, Tensor) else v, where=mask._data)
        self._bump_version()
        return self

    def masked_select(self, mask: Tensor) -> Tensor:
        """The elements where ``mask`` is True, as a 1-D tensor (the two broadcast first)."""
        if not isinstance(mask, Tensor) or mask.dtype != np.bool_:
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        shape = broadcast_shapes(self.shape, mask.shape)
        x = self if self.shape == shape else self.expand(shape)
        m = mask if mask.shape == shape else mask.expand(shape)
        return Index.apply(x.reshape(-1), _integer(MaskPositions, m), index=(ARRAY,))

    def take(self, index: Tensor) -> Tensor:
        """self.flatten()[index], in the shape of ``index``."""
        idx = self._check_index(index, "take")
        n = self._data.size
        bad = (idx._data < -n) | (idx._data >= n)
        if bad.any():
            raise IndexError(f"out of range: tried to access index {idx._data[bad].flat[0]} on "
                             f"a tensor of {n} elements.")
        return Index.apply(self.reshape(-1), idx, index=(ARRAY,))

    def _take_order(self, order: Tensor, d: _int) -> Tensor:
        """The elements of ``self`` (at least 1-d) at the positions ``order`` along ``d``."""
        return Index.apply(self, *_grid(order.shape, d, order), index=(ARRAY,) * self.ndim)

    def sort(self, dim: _int = -1, descending: _bool = False, *,
             stable: _bool = False) -> ValuesIndices:
        """(values, indices) sorted along ``dim``; equal elements keep their order (always
        stable); NaN sorts as the largest value."""
        d = _dim(dim, self.ndim)
        x = self if self.ndim else self.reshape(1)
        order = _integer(Argsort, x, dim=d, descending=bool(descending))
        values = x._take_order(order, d)
        if not self.ndim:
            return ValuesIndices(values.reshape(()), order.reshape(()))
        return ValuesIndices(values, order)

    def argsort(self, dim: _int = -1, descending: _bool = False, *,
                stable: _bool = False) -> Tensor:
        """The indices that sort the tensor along ``dim`` (stable)."""
        return _integer(Argsort, self, dim=_dim(dim, self.ndim),
                             descending=bool(descending))

    def topk(self, k: _int, dim: _int = -1, largest: _bool = True,
             sorted: _bool = True) -> ValuesIndices:  # noqa: A002
        """(values, indices) of the ``k`` largest (``largest=False``: smallest) elements along
        ``dim``, in sorted order."""
        if self.dtype == np.bool_:
            raise RuntimeError("topk does not support bool dtypes on CPU")
        d = _dim(dim, self.ndim)
        x = self if self.ndim else self.reshape(1)
        if not 0 <= k <= x.shape[d]:
            raise RuntimeError("selected index k out of range")
        if not self.ndim:  # (k may be 0: PyTorch still returns the element)
            order = _integer(Argsort, x, dim=d)
            return ValuesIndices(x._take_order(order, d).reshape(()), order.reshape(()))
        order = _integer(Argsort, x, dim=d, descending=bool(largest), k=int(k))
        return ValuesIndices(x._take_order(order, d), order)

    def _kth(self, dim: _int, k: _int, keepdim: _bool, nan_wins: _bool,
             mode: _bool = False) -> ValuesIndices:
        d = _dim(dim, self.ndim)
        x = self if self.ndim else self.reshape(1)
        idx = (_integer(ModeIndex, x, dim=d) if mode else
               _integer(KthIndex, x, dim=d, k=k, nan_wins=nan_wins))
        values = x._take_order(idx, d)
        if not self.ndim:
            return ValuesIndices(values.reshape(()), idx.reshape(()))
        if not keepdim:
            values, idx = values.squeeze(d), idx.squeeze(d)
        return ValuesIndices(values, idx)

    def median(self, dim: _int | None = None, keepdim: _bool = False) -> Any:
        """The lower median (the smaller of the two middle values for an even count): of all
        elements when ``dim`` is None, else (values, indices) along ``dim``. NaN propagates."""
        if self.dtype == np.bool_:
            raise NotImplementedError("\"median_cpu\" not implemented for 'Bool'")
        if dim is None:
            flat = self.reshape(-1)
            n = flat.shape[0]
            if n == 0:
                if self.dtype.kind != "f":
                    raise RuntimeError("median() of an empty integer tensor has no value")
                return flat.sum() * math.nan
            return flat._kth(0, (n - 1) // 2 + 1, False, True).values
        d = _dim(dim, self.ndim)
        n = self.shape[d] if self.ndim else 1
        if n == 0:
            raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")
        return self._kth(d, (n - 1) // 2 + 1, keepdim, True)

    def kthvalue(self, k: _int, dim: _int = -1, keepdim: _bool = False) -> ValuesIndices:
        """(values, indices) of the ``k``-th smallest element (k from 1) along ``dim``."""
        d = _dim(dim, self.ndim)
        n = self.shape[d] if self.ndim else 1
        if not 1 <= k <= n:
            raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
        return self._kth(d, int(k), keepdim, False)

    def mode(self, dim: _int = -1, keepdim: _bool = False) -> ValuesIndices:
        """(values, indices) of the most frequent value along ``dim``: the smallest one on a
        tie, at its last occurrence."""
        d = _dim(dim, self.ndim)
        if self.ndim and self.shape[d] == 0:
            raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
        return self._kth(d, 0, keepdim, False, mode=True)

    def unique(self, sorted: _bool = True, return_inverse: _bool = False,  # noqa: A002
               return_counts: _bool = False, dim: _int | None = None) -> Any:
        """The distinct elements, sorted (flattened, or the distinct slices along ``dim``); with
        ``return_inverse``, where each element went; with ``return_counts``, how many of each."""
        d = None if dim is None else _dim_strict(dim, self.ndim)
        values = Unique.apply(self, dim=d)
        out = [values]
        if return_inverse:
            out.append(_integer(Unique, self, dim=d, output="inverse"))
        if return_counts:
            out.append(_integer(Unique, self, dim=d, output="counts"))
        return values if len(out) == 1 else tuple(out)

    def unbind(self, dim: _int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``, with that dim removed."""
        d = _dim_strict(dim, self.ndim)
        return tuple(Index.apply(self, index=(slice(None),) * d + (i, Ellipsis))
                     for i in range(self.shape[d]))

    def narrow(self, dim: _int, start: Any, length: _int) -> Tensor:
        """The slice start:start + length along ``dim`` (a view)."""
        if self.ndim == 0:
            raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
        d = _dim(dim, self.ndim)
        n = self.shape[d]
        start = int(start.item()) if isinstance(start, Tensor) else int(start)
        if not -n <= start <= n:
            raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but "
                             f"got {start})")
        start = start + n if start < 0 else start
        if length < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        if start + length > n:
            raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                               f"({n}).")
        return Index.apply(self, index=(slice(None),) * d + (slice(start, start + length),))

    def diagonal(self, offset: _int = 0, dim1: _int = 0, dim2: _int = 1) -> Tensor:
        """The elements (i, i + offset) of dims ``dim1`` and ``dim2``, as a last dim (a copy,
        where PyTorch gives a view)."""
        d1, d2 = _dim(dim1, self.ndim), _dim(dim2, self.ndim)
        if d1 == d2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        rest = [k for k in range(self.ndim) if k not in (d1, d2)]
        x = self.permute(rest + [d1, d2])
        n1, n2 = self.shape[d1], self.shape[d2]
        length = builtins.max(0, builtins.min(n1 - builtins.max(-offset, 0),
                                              n2 - builtins.max(offset, 0)))
        rows = np.arange(length) + builtins.max(-offset, 0)
        cols = np.arange(length) + builtins.max(offset, 0)
        return Index.apply(x, rows, cols, index=(slice(None),) * len(rest) + (ARRAY, ARRAY))

    def diag(self, diagonal: _int = 0) -> Tensor:
        """For a vector, the square matrix with it on the ``diagonal``; for a matrix, that
        diagonal as a vector."""
        if self.ndim == 2:
            return self.diagonal(diagonal)
        if self.ndim != 1:
            raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.ndim}D")
        n, k = self.shape[0], int(diagonal)
        m = n + abs(k)
        rows = np.arange(n) + builtins.max(-k, 0)
        cols = np.arange(n) + builtins.max(k, 0)
        return IndexAdd.apply(self, rows, cols, index=(ARRAY, ARRAY), shape=(m, m))

    def reshape(self, *shape: Any) -> Tensor:
        """The same elements in a new shape; one dimension may be -1 (inferred)."""
        if not shape:
            raise TypeError('reshape() missing 1 required positional arguments: "shape"')
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        for i, s in enumerate(shape):
            if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
                raise TypeError(f"reshape(): argument 'shape' must be a tuple of ints, but found "
                                f"element of type {type(s).__name__} at pos {i}")
        shape = tuple(int(s) for s in shape)
        n = self._data.size
        if shape.count(-1) > 1:
            raise RuntimeError("only one dimension can be inferred")
        known = math.prod(s for s in shape if s != -1)
        if any(s < -1 for s in shape) or (-1 in shape and (known == 0 or n % known)) or (
                -1 not in shape and known != n):
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {n} "
                               f"(tensor of shape {_fmt(self.shape)})")
        if -1 in shape:
            shape = tuple(n // known if s == -1 else s for s in shape)
        if shape == self._data.shape:
            return Reshape.apply(self, shape=shape) if self.requires_grad else self._alias()
        return Reshape.apply(self, shape=shape)

    def _alias(self) -> Tensor:
        return Tensor._make(self._data, False, None, self._versions)

    view = reshape

    def view_as(self, other: Tensor) -> Tensor:
        """This tensor reshaped to ``other``'s shape."""
        return self.reshape(other.shape)

    def flatten(self, start_dim: _int = 0, end_dim: _int = -1) -> Tensor:
        """Merge dimensions ``start_dim`` to ``end_dim`` into one."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _dim(start_dim, self.ndim), _dim(end_dim, self.ndim)
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        shape = self.shape
        return self.reshape(shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])

    def permute(self, *dims: Any) -> Tensor:
        """The dimensions reordered: output dim i is input dim ``dims[i]``."""
        if not dims:
            raise TypeError('permute() missing 1 required positional arguments: "dims"')
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if len(dims) != self.ndim:
            raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input "
                               f"does not match the length of the desired ordering of dimensions "
                               f"i.e. input.dim() = {self.ndim} is not equal to len(dims) = "
                               f"{len(dims)}".replace("(sparse_coo)", "()"))
        norm = tuple(_dim(d, self.ndim) for d in dims)
        if len(set(norm)) != len(norm):
            raise RuntimeError(f"permute(): duplicate dims are not allowed (got {tuple(dims)})")
        return Permute.apply(self, dims=norm)

    def transpose(self, dim0: _int, dim1: _int) -> Tensor:
        """Swap dimensions ``dim0`` and ``dim1``."""
        d0, d1 = _dim(dim0, self.ndim), _dim(dim1, self.ndim)
        dims = list(range(self.ndim))
        if self.ndim:  # (a 0-d tensor accepts dims 0 and -1, and stays as it is)
            dims[d0], dims[d1] = dims[d1], dims[d0]
        return Permute.apply(self, dims=tuple(dims))

    def t(self) -> Tensor:
        """Transpose of a matrix (at most 2 dims)."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.ndim}D")
        return self.T

    def squeeze(self, dim: _int | Sequence[_int] | None = None, *, axis: Any = None) -> Tensor:
        """Remove dimensions of size 1 (only ``dim`` if given; others are left alone)."""
        if axis is not None:
            dim, _ = self._dim_aliases("squeeze", dim, False, axis, None)
        dims = _dims(dim, self.ndim)
        drop = [i for i, n in enumerate(self.shape) if n == 1 and (dims is None or i in dims)]
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in drop))

    def unsqueeze(self, dim: Any = None, *, axis: Any = None) -> Tensor:
        """Insert a dimension of size 1 at ``dim``."""
        if axis is not None:
            dim, _ = self._dim_aliases("unsqueeze", dim, False, axis, None)
        if dim is None:
            raise TypeError("unsqueeze() missing 1 required positional argument: 'dim'")
        d = _dim(dim, self.ndim + 1)
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def expand(self, *sizes: Any) -> Tensor:
        """Broadcast to ``sizes`` (-1 keeps a dimension's size): a copy, where PyTorch gives a
        view."""
        if not sizes:
            raise TypeError('expand() missing 1 required positional arguments: "size"')
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        shape = self.shape
        if len(sizes) < len(shape):
            raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be "
                               f"greater or equal to the number of dimensions in the tensor "
                               f"({len(shape)})")
        new = len(sizes) - len(shape)
        for i, s in enumerate(sizes):
            if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
                raise TypeError(f"expand(): argument 'size' must be a tuple of ints, but found "
                                f"element of type {type(s).__name__} at pos {i}")
            if s == -1 and i < new:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
        full = (1,) * new + shape
        target = tuple(f if s == -1 else int(s) for s, f in zip(sizes, full, strict=True))
        for i, (f, s) in enumerate(zip(full, target, strict=True)):
            if f != s and f != 1:
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the "
                                   f"existing size ({f}) at non-singleton dimension {i}.  Target "
                                   f"sizes: {list(sizes)}.  Tensor sizes: {list(shape)}")
        return self if target == shape else Expand.apply(self, shape=target)

    def expand_as(self, other: Tensor) -> Tensor:
        """This tensor broadcast to ``other``'s shape."""
        return self.expand(other.shape)

    def __getitem__(self, index: Any) -> Tensor:
        entries = self._index_entries(index)
        steps = _ints_first(entries)
        if steps is not None:
            return self._apply_index(steps[0])._apply_index(steps[1])
        return self._apply_index(entries)

    def _apply_index(self, entries: tuple[Any, ...]) -> Tensor:
        arrays = [i for i in entries if _is_array(i)]
        spec = tuple(ARRAY if _is_array(i) else i for i in entries)
        return Index.apply(self, *arrays, index=spec)

    def _index_entries(self, index: Any) -> tuple[Any, ...]:
        """Normalise an index: lists become arrays, bool masks become integer arrays, 0-d
        integer tensors become ints; integer tensors stay tensors (so the graph saves them)."""
        if not isinstance(index, tuple):
            if isinstance(index, list) and any(
                    isinstance(i, (list, tuple, Tensor, slice)) or i is None or i is Ellipsis
                    for i in index):
                warnings.warn("Using a non-tuple sequence for multidimensional indexing is "
                              "deprecated (as in PyTorch); use x[tuple(seq)] instead of x[seq]",
                              UserWarning, stacklevel=3)
                index = tuple(index)
            else:
                index = (index,)
        entries = []
        for i in index:
            if isinstance(i, Tensor):
                if i.dtype.kind not in "iub":
                    raise IndexError(f"tensors used as indices must be long, int or bool "
                                     f"tensors, got dtype {i.dtype}")
                if i.ndim == 0 and i.dtype.kind != "b":
                    i = int(i.item())
                elif i.dtype.kind == "b":
                    i = i._data
            elif isinstance(i, (list, tuple, range, np.ndarray)):  # sequences, as in PyTorch
                i = np.asarray(i)
                if i.size == 0 and i.dtype.kind == "f":
                    i = i.astype(np.int64)  # [] is an empty list of indices
                if i.dtype.kind not in "iub":
                    raise IndexError(f"tensors used as indices must be long, int or bool "
                                     f"tensors, got dtype {i.dtype}")
            elif isinstance(i, (bool, np.bool_)):
                i = np.asarray(i)
            elif isinstance(i, np.integer):
                i = int(i)
            elif not (isinstance(i, (int, slice)) or i is None or i is Ellipsis):
                raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long "
                                 f"or byte Variables are valid indices (got "
                                 f"{type(i).__name__})")
            entries.append(i)

        def width(i: Any) -> _int:  # how many input dims an index entry consumes
            if i is None or i is Ellipsis:
                return 0
            return i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 1

        out: list[Any] = []
        dim = 0
        for i in entries:
            if i is Ellipsis:
                dim += self.ndim - sum(width(j) for j in entries)
            elif isinstance(i, np.ndarray) and i.dtype == np.bool_ and i.ndim:
                if i.shape != self.shape[dim:dim + i.ndim]:
                    raise IndexError(f"The shape of the mask {_fmt(i.shape)} starting at dim "
                                     f"{dim} does not match the shape of the indexed tensor "
                                     f"{_fmt(self.shape)}")
                out.extend(np.nonzero(i))
                dim += i.ndim
                continue
            dim += width(i)
            out.append(i)
        return tuple(out)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace(value)
        entries = tuple(i._data if isinstance(i, Tensor) else i
                        for i in self._index_entries(index))
        steps = _ints_first(entries)
        if steps is not None:
            self._data[steps[0]][steps[1]] = value._data if isinstance(value, Tensor) else value
        else:
            self._data[entries] = value._data if isinstance(value, Tensor) else value
        self._bump_version()

    def split(self, split_size_or_sections: _int | Sequence[_int], dim: _int = 0) -> tuple[Tensor,
                                                                                       ...]:
        """Pieces along ``dim``: of ``split_size`` each (the last may be smaller), or of the
        given list of sizes."""
        d = _dim(dim, self.ndim)
        n = self.shape[d]
        if isinstance(split_size_or_sections, (int, np.integer)):
            step = int(split_size_or_sections)
            if step < 0:
                raise RuntimeError(f"split expects split_size be non-negative, but got "
                                   f"split_size={step}")
            if step == 0 and n:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                                   f"dimension size of {n}")
            sizes = [builtins.min(step, n - s) for s in range(0, n, step)] if step else [0]
            sizes = sizes or [0]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if any(s < 0 for s in sizes):
                raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                                   f"entries, but got split_sizes={sizes}")
            if sum(sizes) != n:
                raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                                   f"(input tensor's size at dimension {d}), but got "
                                   f"split_sizes={sizes}")
        pieces, start = [], 0
        for size in sizes:
            pieces.append(self[(slice(None),) * d + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    def chunk(self, chunks: _int, dim: _int = 0, *, axis: Any = None) -> tuple[Tensor, ...]:
        """``chunks`` pieces of (almost) equal size along ``dim``."""
        if axis is not None:
            dim = Tensor._axis_for_default_dim("chunk", dim, axis)
        if chunks <= 0:
            raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        n = self.shape[_dim(dim, self.ndim)]
        if n == 0:  # as PyTorch: `chunks` empty pieces
            return self.split([0] * chunks, dim)
        return self.split(builtins.max(1, -(-n // chunks)), dim)

    # -- in place (for optimizers and initialisation; never recorded in the graph) ------------

    def _check_inplace(self, other: Any = None) -> None:
        if not grad_mode.state.enabled:
            return
        if self.requires_grad:
            if self.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")
            raise RuntimeError("in-place operations on tensors that are part of the graph are "
                               "not supported; use the out-of-place op (x = x + y)")
        if isinstance(other, Tensor) and other.requires_grad:
            raise RuntimeError("in-place operations with an operand that requires grad are not "
                               "supported; use the out-of-place op (x = x + y)")

    def _inplace(self, fn: Callable[..., Any], other: Any, alpha: Scalar = 1) -> Tensor:
        """self = fn(self, alpha * other), in place (the hot path of every optimizer)."""
        if grad_mode.state.enabled:  # (optimizers run under no_grad: skip the call there)
            self._check_inplace(other)
        if recording.recorder is not None:  # (microtensor.compile replays it)
            recording.recorder.inplace(self, fn, other, alpha)
        value = other._data if isinstance(other, Tensor) else other
        if alpha != 1:
            value = np.multiply(value, alpha)
        try:
            fn(self._data, value, out=self._data)  # (NumPy's default casting: "same_kind")
        except TypeError:  # e.g. int_tensor /= 2: a float result cannot be stored in place
            kind = fn(self._data, value).dtype
            raise RuntimeError(f"result type {kind} can't be cast to the desired output type "
                               f"{self.dtype} (in-place {fn.__name__})") from None
        self._versions[0] += 1  # (the version counter: _bump_version, inlined for optimizers)
        return self

    def add_(self, other: Any, alpha: Scalar = 1) -> Tensor:
        """self += alpha * other, in place"""
        return self._inplace(np.add, other, alpha)

    def sub_(self, other: Any, alpha: Scalar = 1) -> Tensor:
        """self -= alpha * other, in place"""
        return self._inplace(np.subtract, other, alpha)

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place"""
        return self._inplace(np.multiply, other)

    def div_(self, other: Any) -> Tensor:
        """self /= other, in place"""
        return self._inplace(np.true_divide, other)

    def _store(self, op: Callable[[Tensor, Any], Tensor], other: Any, name: str) -> Tensor:
        """self = op(self, other), in place: for in-place ops computed by their out-of-place
        version (which makes their checks, e.g. integer division by zero)."""
        self._check_inplace(other)
        with grad_mode.no_grad():
            result = op(self, other)
        if not np.can_cast(result._data.dtype, self._data.dtype, "same_kind"):
            raise RuntimeError(f"result type {dtypes.scalar_name(result._data.dtype)} can't be "
                               f"cast to the desired output type "
                               f"{dtypes.scalar_name(self._data.dtype)} (in-place {name})")
        if result._data.shape != self._data.shape:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                               f"broadcast shape {list(result._data.shape)} (in-place {name})")
        self._data[...] = result._data
        self._bump_version()
        return self

    def pow_(self, exponent: Any) -> Tensor:
        """self = self ** exponent, in place"""
        return self._store(Tensor.pow, exponent, "pow_")

    def floor_divide_(self, other: Any) -> Tensor:
        """self = floor(self / other), in place"""
        return self._store(Tensor.floor_divide, other, "floor_divide_")

    def remainder_(self, other: Any) -> Tensor:
        """self = self - floor(self / other) * other (the sign of other), in place"""
        return self._store(Tensor.remainder, other, "remainder_")

    def _bitwise_(self, other: Any, fn: Callable[..., Any], name: str) -> Tensor:
        self._require_integers(name, self, other)
        return self._inplace(fn, other)

    def bitwise_and_(self, other: Any) -> Tensor:
        """self = self & other, in place (integers and bools)"""
        return self._bitwise_(other, np.bitwise_and, "bitwise_and_")

    def bitwise_or_(self, other: Any) -> Tensor:
        """self = self | other, in place (integers and bools)"""
        return self._bitwise_(other, np.bitwise_or, "bitwise_or_")

    def bitwise_xor_(self, other: Any) -> Tensor:
        """self = self ^ other, in place (integers and bools)"""
        return self._bitwise_(other, np.bitwise_xor, "bitwise_xor_")

    # Python's augmented assignments change the tensor in place, as in PyTorch (x **= 2 changes
    # every tensor that shares x's memory).
    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_
    __ipow__ = pow_
    __ifloordiv__ = floor_divide_
    __imod__ = remainder_
    __iand__ = bitwise_and_
    __ior__ = bitwise_or_
    __ixor__ = bitwise_xor_

    def zero_(self) -> Tensor:
        """Fill with zeros, in place."""
        return self.fill_(0)

    def fill_(self, value: Scalar) -> Tensor:
        """Fill with ``value``, in place."""
        self._check_inplace()
        self._data[...] = value
        self._bump_version()
        return self

    def copy_(self, src: Any) -> Tensor:
        """Copy the values of ``src`` (broadcast to this shape) into this tensor, in place."""
        self._check_inplace(src)
        value = src._data if isinstance(src, Tensor) else np.asarray(src)
        if value.shape != self._data.shape and broadcast_shapes(self.shape,
                                                                value.shape) != self.shape:
            raise RuntimeError(f"copy_: the source of shape {_fmt(value.shape)} does not "
                               f"broadcast to the destination's shape {_fmt(self.shape)}")
        np.copyto(self._data, value, casting="unsafe")
        self._bump_version()
        return self

    def clamp_(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:  # noqa: A002
        """Clamp to [min, max], in place."""
        if min is None and max is None:
            raise RuntimeError("clamp_: At least one of 'min' or 'max' must not be None")
        self._check_inplace()
        np.clip(self._data, min, max, out=self._data)
        self._bump_version()
        return self

    def uniform_(self, a: _float = 0.0, b: _float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples from U(a, b), in place (floating dtypes only)."""
        rng = numpy_rng(generator, "uniform_")
        if self.dtype.kind != "f":
            raise dtypes.not_implemented("check_uniform_bounds", self.dtype)
        for value, arg in ((a, "from"), (b, "to")):
            if not math.isfinite(value):
                raise RuntimeError(f"{arg} is out of bounds for {self.dtype} ({arg}={value})")
        if a > b:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                               f"from={a:g} > to={b:g}")
        return self.copy_(rng.uniform(a, b, self.shape))

    def normal_(self, mean: _float = 0.0, std: _float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples from N(mean, std**2), in place (floating dtypes only)."""
        rng = numpy_rng(generator, "normal_")
        if self.dtype.kind != "f":
            raise dtypes.not_implemented("normal_kernel_cpu", self.dtype)
        if not std >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        return self.copy_(rng.normal(mean, std, self.shape))

    # -- random sampling (issue 10) ------------------------------------------------------------

    def bernoulli(self, p: _float | None = None, *, generator: Any = None) -> Tensor:
        """1 with probability p (each element of this tensor, or the number ``p``), else 0; in
        this tensor's shape and dtype. The gradient is 0, as in PyTorch."""
        rng = numpy_rng(generator, "bernoulli")
        if p is not None:
            _check_probability(p, "bernoulli_")
            return BernoulliScalar.apply(self, p=float(p), rng=rng)
        if self.dtype.kind != "f":
            raise dtypes.not_implemented("bernoulli_tensor_cpu_p_", self.dtype)
        return Bernoulli.apply(self, rng=rng)

    def bernoulli_(self, p: _float | Tensor = 0.5, *, generator: Any = None) -> Tensor:
        """Fill with 1 (probability ``p``, a number or a tensor broadcast to this shape) or 0,
        in place."""
        rng = numpy_rng(generator, "bernoulli_")
        if isinstance(p, Tensor):
            if p.dtype.kind != "f":
                raise dtypes.not_implemented("bernoulli_tensor_cpu_p_", p.dtype)
            with grad_mode.no_grad():
                return self.copy_(Bernoulli.apply(p.detach().expand(self.shape), rng=rng))
        _check_probability(p, "bernoulli_")
        return self.copy_(rng.random(self.shape) < p)

    def exponential_(self, lambd: _float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples from the exponential distribution of rate ``lambd``, in place."""
        rng = numpy_rng(generator, "exponential_")
        if self.dtype.kind != "f":
            raise RuntimeError(f"Exponential distribution is a continuous probability "
                               f"distribution. dtype must be a floating point but you specified "
                               f"{dtypes.scalar_name(self.dtype)}")
        if not lambd > 0.0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        return self.copy_(rng.standard_exponential(self.shape) / lambd)

    _NO_TO: Any = object()  # random_'s ``to`` when not given (None: up to the dtype's top)

    def random_(self, from_: _int = 0, to: Any = _NO_TO, *,  # (from is a Python keyword)
                generator: Any = None) -> Tensor:
        """Fill with integers drawn uniformly from [from_, to), in place: ``random_(to)`` (one
        argument) draws from [0, to); ``to=None`` or no argument draws up to the dtype's largest
        value (2**digits of the mantissa for floating dtypes, whose integers are exact up to
        there), as in PyTorch."""
        rng = numpy_rng(generator, "random_")
        if to is Tensor._NO_TO:  # random_() or random_(to)
            from_, to = (0, None) if from_ == 0 else (0, from_)
        for value, arg in ((from_, "from"), (to, "to")):
            if value is not None and not _is_int(value):
                raise TypeError(f"random_(): argument '{arg}' must be int, not "
                                f"{type(value).__name__}")
        lo, hi = int(from_), to
        kind = self.dtype.kind
        if kind == "b":
            top = 1
        elif kind == "f":
            top = 2 ** (np.finfo(self.dtype).nmant + 1)
        else:
            top = int(np.iinfo(self.dtype).max)
        if hi is None:
            hi = top + 1
        hi = int(hi)
        if lo >= hi:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} "
                               f">= to={hi}")
        if kind in "biu":
            bottom = 0 if kind == "b" else int(np.iinfo(self.dtype).min)
            if lo < bottom:
                raise RuntimeError(f"from is out of bounds for {self.dtype} (from={lo})")
            if hi - 1 > top:
                raise RuntimeError(f"to - 1 is out of bounds for {self.dtype} (to={hi})")
        return self.copy_(rng.integers(lo, hi, self.shape, dtype=np.int64))

    def multinomial(self, num_samples: _int, replacement: _bool = False, *,
                    generator: Any = None) -> Tensor:
        """Indices drawn from the categories of each row (1-D or 2-D), with probability
        proportional to the values (int64; not differentiable)."""
        rng = numpy_rng(generator, "multinomial")
        if not _is_int(num_samples):
            raise TypeError(f"multinomial(): argument 'num_samples' (position 2) must be int, "
                            f"not {type(num_samples).__name__}")
        if self.ndim not in (1, 2):
            raise RuntimeError(f"prob_dist must be 1 or 2 dim (got a tensor of shape "
                               f"{_fmt(self.shape)})")
        if self.dtype.kind != "f":
            raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                               f"{dtypes.scalar_name(self.dtype)}")
        if num_samples <= 0:
            raise RuntimeError("cannot sample n_sample <= 0 samples")
        k = self.shape[-1]
        if not replacement and num_samples > k:
            raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without "
                               f"replacement (n_sample={num_samples}, prob_dist.size(-1)={k})")
        if k > 2**24:
            raise RuntimeError("number of categories cannot exceed 2^24")
        return Multinomial.apply(self.detach(), num_samples=int(num_samples),
                                 replacement=bool(replacement), rng=rng)

    # -- in place, pointwise (what optimizers need; PyTorch's names and formulas) --------------

    def addcmul_(self, tensor1: Tensor, tensor2: Tensor, value: Scalar = 1) -> Tensor:
        """self += value * tensor1 * tensor2, in place"""
        a, b = self._pointwise_operands("addcmul_", tensor1, tensor2)
        return self._inplace(np.add, (a if value == 1 else a * value) * b)

    def addcdiv_(self, tensor1: Tensor, tensor2: Tensor, value: Scalar = 1) -> Tensor:
        """self += value * tensor1 / tensor2, in place"""
        a, b = self._pointwise_operands("addcdiv_", tensor1, tensor2)
        if a.dtype.kind in "biu" and b.dtype.kind in "biu":
            raise RuntimeError("Integer division with addcdiv is no longer supported; use "
                               "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype)"
                               " for the historic integer behavior")
        return self._inplace(np.add, (a if value == 1 else a * value) / b)

    def lerp_(self, end: Tensor, weight: Scalar | Tensor) -> Tensor:
        """self += weight * (end - self), in place"""
        s = self._data
        if not isinstance(end, Tensor):
            raise TypeError(f"lerp_(): argument 'end' (position 1) must be Tensor, not "
                            f"{type(end).__name__}")
        if s.dtype.kind != "f":
            raise NotImplementedError(f"lerp_ is not implemented for {s.dtype}")
        e = end._data
        if e.dtype != s.dtype:
            raise RuntimeError(f"expected dtype {s.dtype} for `end` but got dtype {e.dtype}")
        if grad_mode.state.enabled:  # (optimizers run under no_grad: skip the calls there)
            self._check_inplace(end)
            self._check_inplace(weight)
        if isinstance(weight, Tensor) and weight.ndim == 0:
            weight = weight.item()  # a 0-d weight acts as a number, as in PyTorch
        if isinstance(weight, Tensor):
            w = weight._data
            if w.dtype != s.dtype:
                raise RuntimeError(f"expected dtype {s.dtype} for `weight` but got dtype "
                                   f"{w.dtype}")
            self._check_out_shape(e.shape, w.shape)
            diff = e - s
            np.copyto(s, np.where(np.abs(w) < 0.5, s + w * diff, e - diff * (1 - w)))
        else:
            if e.shape != s.shape:
                self._check_out_shape(e.shape)
            # NOTE: the weight is rounded to self's dtype before 1 - w, as in PyTorch's kernel,
            # whose formula (used here) starts from the nearer end, for accuracy near w = 1.
            w = s.dtype.type(weight)
            diff = e - s  # a new array of self's shape and dtype: scaled in place below
            if abs(w) < 0.5:
                diff *= w
                s += diff
            else:
                diff *= 1 - w
                np.subtract(e, diff, out=s)
        self._bump_version()
        return self

    def _pointwise_operands(self, name: str, tensor1: Any, tensor2: Any) -> tuple[np.ndarray,
                                                                                  np.ndarray]:
        """The arrays of ``tensor1`` and ``tensor2`` for ``self.<name>(tensor1, tensor2)``,
        after the checks that PyTorch makes (Tensors, dtype, broadcast to self's shape)."""
        if not (isinstance(tensor1, Tensor) and isinstance(tensor2, Tensor)):
            for i, t in enumerate((tensor1, tensor2), 1):
                if not isinstance(t, Tensor):
                    raise TypeError(f"{name}(): argument 'tensor{i}' (position {i}) must be "
                                    f"Tensor, not {type(t).__name__}")
        if grad_mode.state.enabled:  # (optimizers run under no_grad: skip the calls there)
            self._check_inplace(tensor1)
            self._check_inplace(tensor2)
        s, a, b = self._data, tensor1._data, tensor2._data
        if s.dtype.kind == "b":
            raise NotImplementedError(f"{name} is not implemented for bool tensors")
        if a.shape != s.shape or b.shape != s.shape:
            self._check_out_shape(a.shape, b.shape)
        return a, b

    def _check_out_shape(self, *shapes: Shape) -> None:
        """Raise PyTorch's error unless ``shapes`` broadcast to this tensor's own shape."""
        shape = broadcast_shapes(self._data.shape, *shapes)
        if shape != self._data.shape:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                               f"broadcast shape {list(shape)}")


# ----------------------------------------------------------------------------------------------
# Creation
# ----------------------------------------------------------------------------------------------

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_BYTE_ORDER_MESSAGE = ("given numpy array has byte order different from the native byte order. "
                       "Conversion between byte orders is currently not supported.")


# NumPy ufuncs that Python operators call: ``array + tensor`` runs ``np.add(array, tensor)``,
# which Tensor.__array_ufunc__ hands to the tensor's method (tensor first) or reflected method.
_OPERATOR_UFUNCS = {
    "add": ("__add__", "__radd__"),
    "subtract": ("__sub__", "__rsub__"),
    "multiply": ("__mul__", "__rmul__"),
    "divide": ("__truediv__", "__rtruediv__"),
    "true_divide": ("__truediv__", "__rtruediv__"),
    "floor_divide": ("__floordiv__", "__rfloordiv__"),
    "remainder": ("__mod__", "__rmod__"),
    "power": ("__pow__", "__rpow__"),
    "matmul": ("__matmul__", "__rmatmul__"),
    "bitwise_and": ("__and__", "__rand__"),
    "bitwise_or": ("__or__", "__ror__"),
    "bitwise_xor": ("__xor__", "__rxor__"),
    "equal": ("__eq__", "__eq__"),
    "not_equal": ("__ne__", "__ne__"),
    "less": ("__lt__", "__gt__"),
    "less_equal": ("__le__", "__ge__"),
    "greater": ("__gt__", "__lt__"),
    "greater_equal": ("__ge__", "__le__"),
}

# NumPy ufunc names whose microtensor function has another name.
_UFUNC_NAMES = {"absolute": "abs", "negative": "neg", "arctan2": "atan2", "arcsin": "asin",
                "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
                "arctanh": "atanh", "fmax": "maximum", "fmin": "minimum", "rint": "round",
                "square": "square", "invert": "bitwise_not", "logical_not": "logical_not",
                "conjugate": "conj"}


def _numpy_on_graph_message(ufunc: np.ufunc, method: str) -> str:
    """The error for a NumPy ufunc applied to a tensor that requires grad."""
    numpy_name = str(ufunc.__name__)
    call = f"np.{numpy_name}" + ("" if method == "__call__" else f".{method}")
    name = _UFUNC_NAMES.get(numpy_name, numpy_name)
    if method == "__call__" and hasattr(Tensor, name):
        args = "t" if ufunc.nin == 1 else "..."
        instead = f"use microtensor.{name}({args}) instead, which keeps the graph"
    else:
        instead = "write it with microtensor operations, which keep the graph"
    return (f"{call}() was given a Tensor that requires grad: NumPy would return an array cut "
            f"off from the graph, so no gradient would flow back through it. To differentiate "
            f"it, {instead}; for the values only, give NumPy t.detach().numpy().")


def _is_int(value: object) -> TypeGuard[int | np.integer]:
    """An int for a size or a count: Python or NumPy ints, not bools (as PyTorch)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _int_tuple(value: Any) -> tuple[Any, ...]:
    """One int, or a sequence of them, as a tuple."""
    return (value,) if _is_int(value) else tuple(value)


def _type_name(value: Any) -> str:
    """A type's name as PyTorch's argument errors print it: ``float``, ``numpy.float64``."""
    kind = type(value)
    if kind.__module__ == "builtins" or isinstance(value, TensorBase):
        return kind.__name__
    return f"{kind.__module__.split('.')[0]}.{kind.__name__}"


def _number(value: Any, name: str, arg: str, position: int) -> bool | int | float:
    """Check a Number argument (``fill_value``, ``start``...) and return it as a Python number.

    NumPy bools count as floats, as in PyTorch's argument parser; a 0-d tensor gives its item.
    """
    if isinstance(value, TensorBase) and value._data.ndim == 0:
        value = value._data.item()
    if isinstance(value, np.bool_):
        return float(value)
    if isinstance(value, np.generic) and value.dtype.kind in "iuf":
        value = value.item()
    if not isinstance(value, (bool, int, float)):
        raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Number, not "
                        f"{_type_name(value)}")
    if isinstance(value, int) and not _INT64_MIN <= value < 2**64:
        raise OverflowError(f"int too big to convert: {name}(): argument '{arg}' = {value} is "
                            f"outside [-2**63, 2**64)")
    return value


def _overflows(values: np.ndarray, dtype: np.dtype) -> bool:
    """Whether PyTorch's checked conversion of these numbers to ``dtype`` overflows.

    As c10 does: floats may be inf or nan but not beyond the largest finite value; integer
    dtypes take no nan or inf and no value out of range, except that ints may be negative down
    to ``-max`` for unsigned dtypes (they wrap around: ``tensor(-1, dtype=uint8)`` is 255).
    """
    if dtype.kind == "b" or values.size == 0:
        return False
    info = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype)
    if values.dtype.kind == "f" and dtype.kind == "f":
        finite = values[np.isfinite(values)]
        return bool(finite.size) and bool(np.abs(finite).max() > info.max)
    if values.dtype.kind == "f" and np.isnan(values).any():
        return True
    lowest = -int(info.max) if dtype.kind == "u" and values.dtype.kind in "iub" else info.min
    return bool(values.min() < lowest or values.max() > info.max)


def _check_fits(value: bool | int | float, dtype: np.dtype) -> None:
    """A clear error where PyTorch refuses to convert a number to ``dtype`` (full, linspace)."""
    if _overflows(np.array(value), dtype):
        raise RuntimeError(f"value cannot be converted to type {dtype} without overflow "
                           f"(got {value})")


def _python_ints(data: Any) -> tuple[int | None, bool]:
    """In nested lists and tuples: the first Python int outside int64, and whether a float occurs.

    NumPy turns such ints into uint64, float64 or object arrays; PyTorch refuses them unless the
    result is a float (or bool) tensor.
    """
    big, has_float, stack = None, False, [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, float):
            has_float = True
        elif (big is None and isinstance(item, int)
              and not _INT64_MIN <= item <= _INT64_MAX):
            big = item
    return big, has_float


def _from_python(data: Any, target: np.dtype | None) -> np.ndarray:
    """Python numbers or nested sequences to an ndarray; Python ints must fit in int64."""
    if isinstance(data, (bool, float)) or (isinstance(data, int)
                                           and _INT64_MIN <= data <= _INT64_MAX):
        return np.array(data)  # the common case, kept fast
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(f"tensor(): could not build a tensor from ragged nested sequences "
                         f"(every sub-list must have the same length): {e}") from None
    # NumPy gives uint64 or object for such ints, or float64 next to negative ints; a nan there
    # came from a Python float, and with a float no int overflows.
    maybe_big = arr.dtype.kind in "uO" or (arr.dtype.kind == "f" and arr.size > 0 and (
        arr.max() >= 2.0**63 or arr.min() < -(2.0**63)))
    if not maybe_big:
        return arr
    big, has_float = _python_ints(data)
    if big is None:
        return arr
    if has_float or (target is not None and target.kind in "fb"):
        return np.array(data, dtype=np.float64)
    raise ValueError(f"Overflow when unpacking long long: {big} does not fit in int64, the dtype "
                     f"of Python ints (microtensor has no uint64; pass dtype=microtensor.float64 "
                     f"for a float tensor)")


# ----------------------------------------------------------------------------------------------
# Functions taking several tensors
# ----------------------------------------------------------------------------------------------

def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._make(_to_array(x))


def cat(tensors: Sequence[Tensor], dim: int = 0, *, axis: Any = None) -> Tensor:
    """Join tensors along an existing dimension ``dim``."""
    if axis is not None:
        dim = Tensor._axis_for_default_dim("cat", dim, axis)
    ts = [_as_tensor(t) for t in tensors]
    if not ts:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    if any(t.ndim != 1 or t.shape[0] for t in ts):
        # As PyTorch: 1-D empty tensors (the legacy "empty" tensor) are skipped beside others.
        ts = [t for t in ts if t.ndim != 1 or t.shape[0]]
    d = _dim(dim, ts[0].ndim)
    for i, t in enumerate(ts):
        if t.ndim != ts[0].ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ts[0].ndim} "
                               f"and {t.ndim} (tensor number {i})")
        for j, (a, b) in enumerate(zip(ts[0].shape, t.shape, strict=True)):
            if j != d and a != b:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {a} but got size {b} for tensor number {i} in "
                                   f"the list.")
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = dtypes.promote_types(dt, 1, t.dtype, 1)
    return Cat.apply(*[t.to(dt) for t in ts], dim=d)


def stack(tensors: Sequence[Tensor], dim: int = 0, *, axis: Any = None) -> Tensor:
    """Join tensors of one shape along a new dimension ``dim``."""
    if axis is not None:
        dim = Tensor._axis_for_default_dim("stack", dim, axis)
    ts = [_as_tensor(t) for t in tensors]
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(ts[0].shape)} at entry 0 and {list(t.shape)} at entry {i}")
    d = _dim(dim, ts[0].ndim + 1)
    return cat([t.unsqueeze(d) for t in ts], dim=d)


# -- shape, indexing, sorting and scan ops (issue 10) --

def _size_tuple(sizes: tuple[Any, ...], name: str) -> Shape:
    """Sizes given as ``f(2, 3)`` or ``f((2, 3))`` (repeat, tile), checked to be ints."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    for i, s in enumerate(sizes):
        if not _is_int(s):
            raise TypeError(f"{name}(): argument 'sizes' must be tuple of ints, but found element "
                            f"of type {_type_name(s)} at pos {i}")
    return tuple(int(s) for s in sizes)


def _dim_strict(dim: int, ndim: int) -> int:
    """``_dim`` for ops that refuse a 0-d tensor (unbind, unique(dim=))."""
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return _dim(dim, ndim)


def _check_range(index: Tensor, n: int, words: str, message: str = "") -> Tensor:
    """``index``, after raising if it is outside [0, n): ``index {i} {words}`` or ``message``
    (the op ``InRange``: use the tensor it returns, so that a compiled step checks it too)."""
    return _integer(InRange, index, n=n, words=words, message=message)


def _integer(op: type[Function], *args: Any, **kwargs: Any) -> Tensor:
    """Apply an op whose output is integer positions (an order, a mask's true elements): never
    differentiable, so never recorded, whatever its inputs."""
    with grad_mode.no_grad():
        return op.apply(*args, **kwargs)


def _repeat_index(repeats: Tensor) -> Tensor:
    """The positions that repeat_interleave picks for a tensor of counts."""
    if repeats.dtype.kind not in "iu":
        raise RuntimeError(f"repeat_interleave: repeats has to be Long or Int tensor, got "
                           f"{repeats.dtype}")
    if (repeats._data < 0).any():
        raise RuntimeError("repeats can not be negative")
    return _integer(RepeatIndex, repeats)


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,  # noqa: A002
                      output_size: int | None = None) -> Tensor:
    """``input.repeat_interleave(repeats, dim)``; with a tensor of counts alone,
    ``repeat_interleave(counts)`` gives 0 repeated counts[0] times, 1 counts[1] times, ..."""
    if repeats is None:
        if input.ndim != 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        return _repeat_index(input)
    return input.repeat_interleave(repeats, dim, output_size=output_size)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids: output i holds ``tensors[i]`` along dim i and is constant along the
    others (``indexing="xy"`` swaps the first two dims, as NumPy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but '
                           f'received: {indexing}')
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    ts = [_as_tensor(t) for t in tensors]
    for t in ts:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got a tensor of shape {_fmt(t.shape)}")
        if t.dtype != ts[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    axes = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        axes[0], axes[1] = 1, 0
    full = [0] * len(ts)
    for t, a in zip(ts, axes, strict=True):
        full[a] = t.numel()
    out = []
    for t, a in zip(ts, axes, strict=True):
        shape = [1] * len(ts)
        shape[a] = t.numel()
        out.append(t.reshape(shape).expand(full))
    return tuple(out)


def where(condition: Any, input: Any, other: Any) -> Tensor:  # noqa: A002
    """``input`` where ``condition`` is true, else ``other`` (elementwise, broadcasting)."""
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where expected condition to be a boolean tensor, but got a tensor with "
                        f"dtype {cond.dtype}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor._make(_to_array(input))
    if isinstance(input, Tensor):
        a, b = input._operands(other)
    else:
        b, a = other._operands(input)
    shapes = [cond.shape] + [t.shape for t in (a, b) if isinstance(t, Tensor)]
    if any(shape != shapes[0] for shape in shapes):
        broadcast_shapes(*shapes)
    # A condition tensor goes in as itself, so that the graph saves it (and version-checks it).
    return Where.apply(condition if isinstance(condition, Tensor) else cond, a, b)


def maximum(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    """Elementwise max(input, other)."""
    return _as_tensor(input).maximum(other)


def minimum(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    """Elementwise min(input, other)."""
    return _as_tensor(input).minimum(other)


# -- random sampling (issue 10) ----------------------------------------------------------------

def _check_probability(p: Any, name: str) -> None:
    """A probability given as a number: in [0, 1] (PyTorch's message)."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}(): argument 'p' must be float, not {type(p).__name__}")
    if not 0 <= p <= 1:
        raise RuntimeError(f"{name} expects p to be in [0, 1], but got p={p:g}")
# -- math ops (issue 10) -------------------------------------------------------------------------

