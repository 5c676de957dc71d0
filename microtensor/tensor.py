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
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import dtypes, viz
from .autograd import engine, grad_mode
from .autograd.engine import format_shape as _fmt
from .autograd.function import Context, TensorBase
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
    Where,
)
from .ops.linalg import Matmul
from .ops.reduce import (
    Amax,
    Amin,
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
from .ops.shape import ARRAY, Cat, Clone, Expand, Index, Permute, Reshape
from .random import generator

Scalar = int | float | bool
Shape = tuple[int, ...]


# ----------------------------------------------------------------------------------------------
# Checks with clear messages
# ----------------------------------------------------------------------------------------------

def broadcast_shapes(*shapes: Sequence[int]) -> Shape:
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
    return tuple(result)


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


class ValuesIndices(NamedTuple):
    """What ``max(dim)`` / ``min(dim)`` return: the values and where they are."""

    values: Tensor
    indices: Tensor


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        """Unregister the hook (does nothing if already removed)."""
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


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
        formatter: dict[str, Callable[[Any], str]] = {"float_kind": lambda v: one(v).rjust(width)}
    elif arr.dtype.kind == "b":
        width = 5 if not arr.all() else 4
        formatter = {"bool": lambda v: str(bool(v)).rjust(width)}
    else:
        formatter = {}
    return np.array2string(arr, separator=", ", prefix="tensor(", threshold=1000,
                           max_line_width=80, formatter=formatter or None)


# ----------------------------------------------------------------------------------------------
# Tensor
# ----------------------------------------------------------------------------------------------

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
    # Make NumPy hand `ndarray op Tensor` to Tensor's reflected operators.
    __array_ufunc__ = None

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        arr = _to_array(data, dtype)
        _check_requires_grad(arr.dtype, requires_grad)
        self._data = arr
        self._requires_grad = bool(requires_grad)
        self._grad = None
        self.grad_fn = None
        self._versions = [0]
        self._hooks = None

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool = False,
              grad_fn: Context | None = None, versions: list[int] | None = None) -> Tensor:
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
        self._data = value._data

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by ``backward()`` (``None`` until then)."""
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
        self._grad = value

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    # -- attributes and conversions -----------------------------------------------------------

    @property
    def shape(self) -> Shape:
        """The size of each dimension, a tuple."""
        return self._data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The element type (a NumPy dtype, e.g. ``microtensor.float32``)."""
        return self._data.dtype

    @property
    def device(self) -> str:
        """Always ``"cpu"``: microtensor computes with NumPy."""
        return "cpu"

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

    def dim(self) -> int:
        """The number of dimensions (same as ``ndim``)."""
        return self._data.ndim

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the size of dimension ``dim``."""
        return self._data.shape if dim is None else self._data.shape[_dim(dim, self.ndim)]

    def numel(self) -> int:
        """The number of elements."""
        return self._data.size

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as an ndarray (shared, not copied); ``force=True`` allows it for a tensor
        that requires grad (as ``detach().numpy()``)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._data

    def item(self) -> Scalar:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to "
                               f"Scalar (shape {_fmt(self.shape)})")
        return self._data.item()

    def tolist(self) -> Any:
        """The values as (nested) Python lists."""
        return self._data.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self._data if dtype is None else self._data.astype(dtype)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {_fmt(self.shape)})")
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
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

    def to(self, dtype: Any = None, *args: Any, **kwargs: Any) -> Tensor:
        """This tensor converted to ``dtype`` (differentiable); ``to("cpu")`` returns it as is."""
        dtype = kwargs.get("dtype", dtype)
        if isinstance(dtype, str) and dtype in ("cpu", "cpu:0"):
            dtype = args[0] if args else None
        if dtype is None:
            return self
        dtype = dtypes.as_dtype(dtype)
        if dtype == self.dtype:
            return self
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

    # -- autograd -----------------------------------------------------------------------------

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
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

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
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
    def retains_grad(self) -> bool:
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

    def _operands(self, other: Any, check_broadcast: bool = True) -> tuple[Any, Any]:
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
            return self._operands(Tensor(other), check_broadcast)
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
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, alpha: Scalar = 1) -> Tensor:
        """self - alpha * other"""
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> Tensor:
        """self * other (elementwise, broadcasting)"""
        return self * other

    def div(self, other: Any) -> Tensor:
        """self / other (elementwise, broadcasting; true division)"""
        return self / other

    def pow(self, exponent: Any) -> Tensor:
        """self ** exponent"""
        return self**exponent

    def neg(self) -> Tensor:
        """-self"""
        return Neg.apply(self)

    def matmul(self, other: Any) -> Tensor:
        """Matrix product with NumPy's rules: 1-D (vector), 2-D (matrix) or batched (..., n, m)."""
        if not isinstance(other, Tensor):
            other = Tensor(other)
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

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        """x if x > 0 else negative_slope * x"""
        self._require_float("leaky_relu")
        return LeakyRelu.apply(self, negative_slope=negative_slope)

    def softplus(self, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
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
        return Tensor._make(np.asarray(op(a._data, b._data if isinstance(b, Tensor) else b)))

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
        return self == other

    def ne(self, other: Any) -> Tensor:
        """self != other, elementwise (bool)"""
        return self != other

    def lt(self, other: Any) -> Tensor:
        """self < other, elementwise (bool)"""
        return self < other

    def le(self, other: Any) -> Tensor:
        """self <= other, elementwise (bool)"""
        return self <= other

    def gt(self, other: Any) -> Tensor:
        """self > other, elementwise (bool)"""
        return self > other

    def ge(self, other: Any) -> Tensor:
        """self >= other, elementwise (bool)"""
        return self >= other

    # Bitwise ops: on integers bit by bit, on bools logical (as in PyTorch). No gradient.

    def _bitwise(self, other: Any, fn: Callable[..., Any], name: str) -> Tensor:
        a, b = self._operands(other)
        for t in (a, b):
            kind = t._data.dtype.kind if isinstance(t, Tensor) else np.asarray(t).dtype.kind
            if kind not in "biu":
                dt = t.dtype if isinstance(t, Tensor) else type(t).__name__
                raise TypeError(f"{name}: only integer and bool tensors are supported, got "
                                f"{dt}")
        return Tensor._make(np.asarray(fn(a._data, b._data if isinstance(b, Tensor) else b)))

    def __invert__(self) -> Tensor:
        if self.dtype.kind not in "biu":
            raise TypeError(f"~ (bitwise_not): only integer and bool tensors are supported, got "
                            f"{self.dtype}")
        return Tensor._make(np.asarray(np.invert(self._data)))

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
        return self & other

    def bitwise_or(self, other: Any) -> Tensor:
        """self | other: bit by bit on integers, logical on bools"""
        return self | other

    def bitwise_xor(self, other: Any) -> Tensor:
        """self ^ other: bit by bit on integers, logical on bools"""
        return self ^ other

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

    def round(self, decimals: int = 0) -> Tensor:
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
        return Tensor._make(np.isfinite(self._data))

    def _test(self, fn: Callable[[np.ndarray], np.ndarray]) -> Tensor:
        """A float test (integers and bools are never nan or infinite)."""
        if self.dtype.kind != "f":
            return Tensor._make(np.zeros(self.shape, dtype=np.bool_))
        return Tensor._make(np.asarray(fn(self._data)))

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> Tensor:
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
        return Tensor._make(np.asarray(fn(self._data, other._data)))

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
        return Tensor._make(np.asarray(np.logical_not(self._data)))

    def _division_operands(self, other: Any, kernel: str, reflected: bool = False) -> tuple[Any,
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
            if size and divisor.dtype.kind in "iub" and (divisor == 0).any():
                raise RuntimeError("ZeroDivisionError")
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

    def isclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Tensor:
        """|self - other| <= atol + rtol * |other|, elementwise (equal infinities are close)"""
        if not isinstance(other, Tensor):
            raise TypeError(f"isclose(): argument 'other' (position 1) must be Tensor, not "
                            f"{_type_name(other)}")
        if self.dtype != other.dtype:
            raise RuntimeError(f"{_scalar_name(self.dtype)} did not match "
                               f"{_scalar_name(other.dtype)}")
        for name, value in (("rtol", rtol), ("atol", atol)):
            if value < 0:
                raise RuntimeError(f"{name} must be greater than or equal to zero, but got "
                                   f"{value}")
        if self.shape != other.shape:
            broadcast_shapes(self.shape, other.shape)
        a, b = self._data, other._data
        if a.dtype.kind == "b":
            return Tensor._make(np.asarray(a == b))
        return Tensor._make(np.asarray(np.isclose(a, b, rtol=rtol, atol=atol,
                                                  equal_nan=equal_nan)))

    def allclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> builtins.bool:
        """True if ``isclose`` holds everywhere (a Python bool)"""
        return builtins.bool(self.isclose(other, rtol, atol, equal_nan)._data.all())

    def equal(self, other: Tensor) -> builtins.bool:
        """True if both have the same shape and the same values (a Python bool)"""
        if not isinstance(other, Tensor):
            raise TypeError(f"equal(): argument 'other' (position 1) must be Tensor, not "
                            f"{_type_name(other)}")
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
            raise RuntimeError(message.format(a=_scalar_name(self.dtype),
                                              b=_scalar_name(other.dtype),
                                              ca=_c_name(self.dtype), cb=_c_name(other.dtype)))
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

    def all(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """True where every element (over ``dim``, or all) is nonzero"""
        return Tensor._make(np.asarray(np.all(self._data, axis=_dims(dim, self.ndim),
                                              keepdims=keepdim)))

    def any(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """True where some element (over ``dim``, or all) is nonzero"""
        return Tensor._make(np.asarray(np.any(self._data, axis=_dims(dim, self.ndim),
                                              keepdims=keepdim)))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the largest value (over all elements, flattened, when ``dim`` is None)."""
        if self.dtype == dtypes.bool_:
            raise RuntimeError("argmax(): does not support bool input")
        if dim is None:
            return Tensor._make(np.asarray(np.argmax(self._data), dtype=np.int64))
        d = _dim(dim, self.ndim)
        return Tensor._make(np.argmax(self._data, axis=d, keepdims=keepdim).astype(np.int64))

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the smallest value (over all elements, flattened, when ``dim`` is None)."""
        if self.dtype == dtypes.bool_:
            raise RuntimeError("argmin(): does not support bool input")
        if dim is None:
            return Tensor._make(np.asarray(np.argmin(self._data), dtype=np.int64))
        d = _dim(dim, self.ndim)
        return Tensor._make(np.argmin(self._data, axis=d, keepdims=keepdim).astype(np.int64))

    # -- reductions ---------------------------------------------------------------------------

    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """Sum over ``dim`` (an int, a tuple, or None for all dims)."""
        x = self if self.dtype.kind == "f" else self.to(dtypes.int64)
        return Sum.apply(x, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """sum(x) / n over ``dim``"""
        if self.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                               f"a floating point or complex dtype. Got: {self.dtype}")
        return Mean.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def _count(self, dim: int | Sequence[int] | None) -> int:
        dims = _dims(dim, self.ndim)
        if dims is None:
            return self._data.size
        return math.prod(self.shape[d] for d in dims)

    def _correction(self, unbiased: bool | None, correction: float | None, name: str) -> float:
        if correction is None:
            correction = 0 if unbiased is False else 1
        if self.dtype.kind != "f":
            raise RuntimeError(f"{name}(): input dtype should be a floating point dtype, got "
                               f"{self.dtype}")
        return correction

    def _warn_dof(self, dim: Any, correction: float, name: str) -> None:
        if self._count(dim) - correction <= 0:
            warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly "
                          f"less than the reduction factor (input numel divided by output "
                          f"numel).", UserWarning, stacklevel=3)

    def var(self, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,
            keepdim: bool = False, *, correction: float | None = None) -> Tensor:
        """sum((x - mean)**2) / (n - correction); correction is 1 (unbiased) unless changed"""
        c = self._correction(unbiased, correction, "var")
        self._warn_dof(dim, c, "var")
        return Var.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim, correction=c)

    def std(self, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,
            keepdim: bool = False, *, correction: float | None = None) -> Tensor:
        """sqrt(var(x)); its gradient is 0 where the std is 0 (constant data)"""
        c = self._correction(unbiased, correction, "std")
        self._warn_dof(dim, c, "std")
        return Std.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim, correction=c)

    def norm(self, p: float | str | None = "fro", dim: int | Sequence[int] | None = None,
             keepdim: bool = False) -> Tensor:
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

    def prod(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Product over ``dim`` (None for all elements); correct gradient with zeros"""
        return Prod.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def amax(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """Largest value over ``dim``; ties share the gradient equally"""
        return Amax.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def amin(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """Smallest value over ``dim``; ties share the gradient equally"""
        return Amin.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """The largest value; with an int ``dim``, ``(values, indices)`` along it; with a
        tensor, the elementwise ``maximum``."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return self.amax()
        return self._pick(np.argmax, dim, keepdim)

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        """The smallest value; with an int ``dim``, ``(values, indices)`` along it; with a
        tensor, the elementwise ``minimum``."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return self.amin()
        return self._pick(np.argmin, dim, keepdim)

    def _pick(self, arg: Callable[..., np.ndarray], dim: int, keepdim: bool) -> ValuesIndices:
        d = _dim(dim, self.ndim)
        x = self if self.ndim else self.reshape(1)  # a 0-d tensor is its own max, at index 0
        idx = arg(x._data, axis=d, keepdims=True).astype(np.int64)
        values = x.take_along_dim(Tensor._make(idx), d)
        if not keepdim or not self.ndim:
            values, idx = values.squeeze(d), idx.squeeze(d)
        return ValuesIndices(values, Tensor._make(idx))

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Tensor:
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
        index = []
        for k, n in enumerate(others):
            if k == d:
                index.append(idx)
            else:
                index.append(np.arange(n if self.shape[k] != 1 else 1).reshape(
                    [-1 if j == k else 1 for j in range(self.ndim)]))
        # (the index arrays broadcast together to others[:d] + (idx.shape[d],) + others[d + 1:])
        index[d] = indices if isinstance(indices, Tensor) else idx
        return Index.apply(self, *index, index=(ARRAY,) * self.ndim)

    def logsumexp(self, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
        """log(sum(exp(x))) over ``dim``, computed without overflow"""
        return Logsumexp.apply(self._floating(), dim=_dims(dim, self.ndim), keepdim=keepdim)

    def softmax(self, dim: int) -> Tensor:
        """exp(x) / sum(exp(x)) over ``dim``, computed without overflow"""
        self._require_float("softmax")
        return Softmax.apply(self, dim=_dim(dim, self.ndim))

    def log_softmax(self, dim: int) -> Tensor:
        """x - logsumexp(x) over ``dim``, computed without overflow"""
        self._require_float("log_softmax")
        return LogSoftmax.apply(self, dim=_dim(dim, self.ndim))

    # -- shape --------------------------------------------------------------------------------

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

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
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

    def transpose(self, dim0: int, dim1: int) -> Tensor:
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

    def squeeze(self, dim: int | Sequence[int] | None = None) -> Tensor:
        """Remove dimensions of size 1 (only ``dim`` if given; others are left alone)."""
        dims = _dims(dim, self.ndim)
        drop = [i for i, n in enumerate(self.shape) if n == 1 and (dims is None or i in dims)]
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in drop))

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a dimension of size 1 at ``dim``."""
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
            elif isinstance(i, (list, np.ndarray)):
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

        def width(i: Any) -> int:  # how many input dims an index entry consumes
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

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor,
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

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """``chunks`` pieces of (almost) equal size along ``dim``."""
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

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

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

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        """Fill with samples from U(a, b), in place."""
        return self.copy_(generator().uniform(a, b, self.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill with samples from N(mean, std**2), in place."""
        return self.copy_(generator().normal(mean, std, self.shape))

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
        for i, t in enumerate((tensor1, tensor2), 1):
            if not isinstance(t, Tensor):
                raise TypeError(f"{name}(): argument 'tensor{i}' (position {i}) must be Tensor, "
                                f"not {type(t).__name__}")
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


def _is_int(value: Any) -> bool:
    """An int for a size or a count: Python or NumPy ints, not bools (as PyTorch)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


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
    return x if isinstance(x, Tensor) else Tensor(x)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension ``dim``."""
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


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dimension ``dim``."""
    ts = [_as_tensor(t) for t in tensors]
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(ts[0].shape)} at entry 0 and {list(t.shape)} at entry {i}")
    d = _dim(dim, ts[0].ndim + 1)
    return cat([t.unsqueeze(d) for t in ts], dim=d)


def where(condition: Any, input: Any, other: Any) -> Tensor:  # noqa: A002
    """``input`` where ``condition`` is true, else ``other`` (elementwise, broadcasting)."""
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where expected condition to be a boolean tensor, but got a tensor with "
                        f"dtype {cond.dtype}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor(input)
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


# -- math ops (issue 10) -------------------------------------------------------------------------

# PyTorch's names of the dtypes in its error messages: ScalarType names and C type names.
_SCALAR_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
                 "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte",
                 "bool": "Bool"}
_C_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double",
            "int8": "signed char", "int16": "short int", "int32": "int", "int64": "long int",
            "uint8": "unsigned char", "bool": "bool"}


def _scalar_name(dtype: np.dtype) -> str:
    return _SCALAR_NAMES.get(str(dtype), str(dtype))


def _c_name(dtype: np.dtype) -> str:
    return _C_NAMES.get(str(dtype), str(dtype))
