"""The functional forms of layers, activations and losses (``microtensor.nn.functional``).

Each module in ``nn`` calls one of these; they take tensors (and settings) and return a tensor.
Everything is composed from primitives except ``linear``, the binary cross-entropies,
``cross_entropy`` and ``nll_loss``, which use the fused ops of ``nn.fused`` (for speed, for
bounded gradients, and so that the targets are read inside an op); all of them work with
``gradcheck``, ``gradgradcheck`` and ``create_graph=True``.

Nothing here computes on tensor values or draws random numbers outside an op (the checks of
argument types, dtypes and shapes do not look at values): a recorded sequence of op
applications recomputes everything on new data. ``tests/test_ops_inside.py`` checks it. (The
one exception is ``one_hot`` without ``num_classes``: its output's shape depends on the values.)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal, overload

import numpy as np

from ..autograd.engine import format_shape as _fmt
from ..dtypes import promote_types, scalar_name
from ..ops import elementwise
from ..ops import norm as norm_ops
from ..ops.conv import Conv as ConvOp
from ..ops.conv import ConvTranspose as ConvTransposeOp
from ..ops.elementwise import Gelu
from ..ops.index import OneHot
from ..ops.pool import (
    AdaptiveMaxPool,
    AdaptiveMaxPoolIndices,
    MaxPool,
    MaxPoolIndices,
    pool_out_size,
)
from ..ops.random import DropoutMask
from ..ops.resample import ConstantPad, Resample, WindowMean, pool_specs
from ..random import generator
from ..tensor import Tensor, broadcast_shapes, where
from . import fused

_REDUCTIONS = ("mean", "sum", "none")

_CONVERSIONS = {"float32": ".float()", "float64": ".double()", "int64": ".long()",
                "int32": ".int()", "bool": ".bool()"}


# ----------------------------------------------------------------------------------------------
# Argument checks shared by every function (and so by every module, which calls one of them)
# ----------------------------------------------------------------------------------------------

def _torch_name(dtype: np.dtype) -> str:
    return scalar_name(dtype)


def _conversion(dtype: np.dtype) -> str:
    return _CONVERSIONS.get(str(dtype), f".to(mt.{dtype})")


def _type_name(value: Any) -> str:
    cls = type(value)  # as PyTorch names it: "list", "numpy.ndarray"
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _check_tensor(value: Any, fn: str, arg: str, position: int) -> None:
    """PyTorch's TypeError for an argument that is not a Tensor (a NumPy array, a list, ...)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' (position {position}) must be Tensor, not "
                        f"{_type_name(value)} (wrap it with mt.tensor(...))")


def _check_floating(t: Tensor, fn: str, arg: str = "input") -> None:
    """PyTorch's NotImplementedError (a RuntimeError) for an integer or bool tensor where its
    kernels only take floating point ones."""
    if t._data.dtype.kind != "f":
        raise NotImplementedError(f'"{fn}" not implemented for \'{_torch_name(t.dtype)}\': the '
                                  f"{arg} has dtype {t.dtype}, not a floating point dtype; "
                                  f"convert it with {arg}.float()")


# ----------------------------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------------------------

def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = input @ weight^T + bias, with ``weight`` of shape (out_features, in_features).

    As in PyTorch, input, weight and bias must have one dtype (an int64 input to a float32
    layer is an error, not a silent conversion).
    """
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)
            and (bias is None or isinstance(bias, Tensor))):  # (one test on the hot path)
        _check_tensor(input, "linear", "input", 1)
        _check_tensor(weight, "linear", "weight", 2)
        _check_tensor(bias, "linear", "bias", 3)
    # One test for the valid case (the hot path of every network); the checks name the error.
    # (On the arrays: a tensor's .shape and .dtype are properties, Python calls.)
    x, w = input._data, weight._data
    if not (w.ndim == 2 and x.ndim and x.shape[-1] == w.shape[1] and x.dtype == w.dtype
            and (bias is None or (bias._data.shape == w.shape[:1]
                                  and bias._data.dtype == w.dtype))):
        _check_linear(input, weight, bias)
    return fused.Linear.apply(input, weight, bias)


def _check_linear(input: Tensor, weight: Tensor, bias: Tensor | None) -> None:  # noqa: A002
    """The error for arguments that ``linear`` cannot take."""
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must have 2 dimensions (out_features, in_features), "
                           f"got shape {_fmt(weight.shape)}")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise RuntimeError(f"linear: bias of shape {_fmt(bias.shape)} does not match weight of "
                           f"shape {_fmt(weight.shape)}: expected ({weight.shape[0]},)")
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise RuntimeError(f"linear: input of shape {_fmt(input.shape)} does not match weight of "
                           f"shape {_fmt(weight.shape)} (out_features, in_features): the input's "
                           f"last dimension must be in_features = {weight.shape[-1]}")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"linear: mat1 and mat2 must have the same dtype, but got "
                           f"{_torch_name(input.dtype)} and {_torch_name(weight.dtype)} (the "
                           f"input is {input.dtype}, the weight {weight.dtype}); convert the "
                           f"input with input{_conversion(weight.dtype)}")
    if bias is not None and bias.dtype != weight.dtype:
        raise RuntimeError(f"linear: self and mat2 must have the same dtype, but got "
                           f"{_torch_name(bias.dtype)} and {_torch_name(weight.dtype)} (the bias "
                           f"is {bias.dtype}, the weight {weight.dtype}); convert the bias with "
                           f"bias{_conversion(weight.dtype)}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the others by 1 / (1 - p) (only when
    ``training``; otherwise return ``input``).

    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """
    _check_tensor(input, "dropout", "input", 1)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * False  # NOTE: False, not 0.0, keeps the dtype (int and bool too)
    if input.dtype.kind != "f":
        raise RuntimeError(f"dropout: result type Float can't be cast to the desired output type "
                           f"{_torch_name(input.dtype)}: the scaled output of dropout needs a "
                           f"floating point input, got {input.dtype}; convert it with "
                           f"input.float()")
    # (the mask is drawn inside an op: a replay of the recorded ops draws a new one)
    return input * DropoutMask.apply(input.detach(), p=p, rng=generator())


# -- shape, indexing, sorting and scan ops (issue 10) --

def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor of shape ``tensor.shape + (num_classes,)`` with 1 at each class index
    and 0 elsewhere; ``num_classes=-1`` takes the largest class in ``tensor`` plus 1."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(tensor).__name__}")
    if tensor.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0 and num_classes <= 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if num_classes == -1:
        # NOTE: the output's shape then depends on the data (as in PyTorch): a compiled step
        # must pass num_classes.
        num_classes = int(tensor.max().item()) + 1
    return OneHot.apply(tensor, num_classes=int(num_classes))  # (it checks the class values)


# ----------------------------------------------------------------------------------------------
# Activations
# ----------------------------------------------------------------------------------------------

def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + exp(-x))"""
    if not isinstance(input, Tensor):
        _check_tensor(input, "sigmoid", "input", 1)
    if input._data.dtype.kind == "f":  # (Tensor.sigmoid's op, without its call)
        return elementwise.Sigmoid.apply(input)
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """(exp(x) - exp(-x)) / (exp(x) + exp(-x))"""
    if not isinstance(input, Tensor):
        _check_tensor(input, "tanh", "input", 1)
    if input._data.dtype.kind == "f":  # (Tensor.tanh's op, without its call)
        return elementwise.Tanh.apply(input)
    return input.tanh()


# -- math ops (issue 10) -------------------------------------------------------------------------

def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """x * Phi(x), Phi the standard normal CDF (1 + erf(x / sqrt(2))) / 2; with
    ``approximate="tanh"``, Phi(x) ~ (1 + tanh(sqrt(2 / pi) (x + 0.044715 x**3))) / 2"""
    _check_tensor(input, "gelu", "input", 1)
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    if input.dtype.kind != "f":
        raise NotImplementedError(f'"GeluKernelImpl" not implemented for '
                                  f"'{_torch_name(input.dtype)}'")
    return Gelu.apply(input, approximate=approximate)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(x, 0) (``inplace`` is accepted; the result is always a new tensor)"""
    _check_tensor(input, "relu", "input", 1)
    if input._data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return elementwise.Relu.apply(input)  # (Tensor.relu's op, without its call)


def leaky_relu(input: Tensor, negative_slope: float = 0.01,  # noqa: A002
               inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x"""
    _check_tensor(input, "leaky_relu", "input", 1)
    _check_floating(input, "leaky_relu")
    return input.leaky_relu(negative_slope)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + exp(beta x)) / beta, and x where beta x > threshold"""
    _check_tensor(input, "softplus", "input", 1)
    _check_floating(input, "softplus")
    return input.softplus(beta, threshold)


def _softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  f"include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """exp(x) / sum(exp(x)) along ``dim``"""
    _check_tensor(input, "softmax", "input", 1)
    if dtype is not None:
        input = input.to(dtype)  # noqa: A001
    _check_floating(input, "softmax")
    return input.softmax(_softmax_dim("softmax", input.ndim) if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """x - log(sum(exp(x))) along ``dim``"""
    _check_tensor(input, "log_softmax", "input", 1)
    if dtype is not None:
        input = input.to(dtype)  # noqa: A001
    _check_floating(input, "log_softmax")
    return input.log_softmax(_softmax_dim("log_softmax", input.ndim) if dim is None else dim)


# -- convolution, pooling, padding and interpolation (issue 10) --------------------------------

def _ntuple(value: Any, n: int, fn: str, arg: str) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints as a tuple (PyTorch's error otherwise)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) == 1 and n > 1:
        value = tuple(value) * n
    if (isinstance(value, (tuple, list)) and len(value) == n
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)):
        return tuple(int(v) for v in value)
    shown = list(value) if isinstance(value, (tuple, list)) else value
    raise RuntimeError(f"{fn}: expected {arg} to be a single integer value or a list of {n} "
                       f"values to match the convolution dimensions, but got {arg}={shown}")


def _sizes(shape: Any) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def _check_batched(input: Tensor, nd: int, fn: str) -> bool:  # noqa: A002
    """Whether ``input`` lacks the batch dim ((C, *spatial) instead of (N, C, *spatial))."""
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{fn}, but got input of size: {_sizes(input.shape)}")
    return input.ndim == nd + 1


def _conv_dtypes(input: Tensor, weight: Tensor, bias: Tensor | None, fn: str) -> None:  # noqa: A002
    if input.dtype != weight.dtype:
        raise RuntimeError(f"{fn}: expected scalar type {_torch_name(input.dtype)} but found "
                           f"{_torch_name(weight.dtype)} (the input is {input.dtype}, the weight "
                           f"{weight.dtype}); convert the input with "
                           f"input{_conversion(weight.dtype)}")
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"{fn}: Input type ({input.dtype}) and bias type ({bias.dtype}) "
                           f"should be the same")
    if input.dtype.kind == "b":
        raise RuntimeError(f'"{fn}" not implemented for \'Bool\'')


def _conv_args(fn: str, nd: int, input: Tensor, weight: Tensor, bias: Tensor | None,  # noqa: A002
               stride: Any, dilation: Any, groups: int,
               transposed: bool = False) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The checks shared by convolutions and transposed convolutions, in PyTorch's order."""
    _check_tensor(input, fn, "input", 1)
    _check_tensor(weight, fn, "weight", 2)
    if bias is not None:
        _check_tensor(bias, fn, "bias", 3)
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{fn}: expected weight to have {nd + 2} dimensions (out_channels, "
                           f"in_channels / groups, *kernel_size), but got weight of size "
                           f"{_sizes(weight.shape)}")
    stride = _ntuple(stride, nd, fn, "stride")
    dilation = _ntuple(dilation, nd, fn, "dilation")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    _conv_dtypes(input, weight, bias, fn)
    return stride, dilation


def _conv(fn: str, nd: int, input: Tensor, weight: Tensor, bias: Tensor | None,  # noqa: A002
          stride: Any, padding: Any, dilation: Any, groups: int) -> Tensor:
    stride, dilation = _conv_args(fn, nd, input, weight, bias, stride, dilation, groups)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
            pads = tuple((t // 2, t - t // 2) for t in total)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pad = _ntuple(padding, nd, fn, "padding")
        if any(p < 0 for p in pad):
            raise RuntimeError("negative padding is not supported")
        pads = tuple((p, p) for p in pad)
    unbatched = _check_batched(input, nd, fn)
    x = input.unsqueeze(0) if unbatched else input
    out_channels = weight.shape[0]
    if out_channels == 0 or out_channels % groups:
        what = "at least 1" if out_channels == 0 else f"divisible by {groups}"
        raise RuntimeError(f"Given groups={groups}, expected weight to be {what} at dimension 0, "
                           f"but got weight of size [{_sizes(weight.shape)}] instead")
    if x.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {_sizes(weight.shape)}, "
                           f"expected input{_sizes(x.shape)} to have "
                           f"{weight.shape[1] * groups} channels, but got {x.shape[1]} channels "
                           f"instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given weight of size {_sizes(weight.shape)}, expected bias to be "
                           f"1-dimensional with {out_channels} elements, but got bias of size "
                           f"{_sizes(bias.shape)} instead")
    padded = tuple(n + a + b for n, (a, b) in zip(x.shape[2:], pads, strict=True))
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True))
    if any(p < s for p, s in zip(padded, span, strict=True)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, span))}). Kernel size can't be greater than "
                           f"actual input size")
    y = ConvOp.apply(x, weight, bias, stride=stride, padding=pads, dilation=dilation,
                     groups=int(groups))
    return y.squeeze(0) if unbatched else y


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation) of input (N, C_in, L) or (C_in, L) with weight
    (C_out, C_in / groups, kL), plus bias (C_out,). ``padding`` is an int, a 1-tuple,
    ``'valid'`` (none) or ``'same'`` (output as long as the input; stride 1)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of input (N, C_in, H, W) or (C_in, H, W) with weight
    (C_out, C_in / groups, kH, kW), plus bias (C_out,):
    y[n, o, i, j] = b[o] + sum over c, k, l of w[o, c, k, l] x_pad[n, c, i s + k d, j s + l d].
    ``padding`` is an int, a pair, ``'valid'`` (none) or ``'same'`` (output as large as the
    input, stride 1; an odd total padding puts the extra zero after, as PyTorch)."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(fn: str, nd: int, input: Tensor, weight: Tensor,  # noqa: A002
                    bias: Tensor | None, stride: Any, padding: Any, output_padding: Any,
                    groups: int, dilation: Any) -> Tensor:
    if isinstance(padding, str):
        raise TypeError(f"{fn}(): argument 'padding' must be tuple of ints, not str")
    stride, dilation = _conv_args(fn, nd, input, weight, bias, stride, dilation, groups)
    pad = _ntuple(padding, nd, fn, "padding")
    out_pad = _ntuple(output_padding, nd, fn, "output_padding")
    if any(p < 0 for p in pad):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in out_pad):
        raise RuntimeError("negative output_padding is not supported")
    if input.numel() and any(o >= s and o >= d for o, s, d  # (PyTorch skips an empty input)
                             in zip(out_pad, stride, dilation, strict=True)):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but "
                           f"got output_padding={list(out_pad)}, stride={list(stride)}, "
                           f"dilation={list(dilation)}")
    unbatched = _check_batched(input, nd, fn)
    x = input.unsqueeze(0) if unbatched else input
    in_channels = weight.shape[0]
    if in_channels == 0 or in_channels % groups:
        what = "at least 1" if in_channels == 0 else f"divisible by {groups}"
        raise RuntimeError(f"Given groups={groups}, expected weight to be {what} at dimension 0, "
                           f"but got weight of size [{_sizes(weight.shape)}] instead")
    if x.shape[1] != in_channels:
        raise RuntimeError(f"Given transposed=1, weight of size {_sizes(weight.shape)}, expected "
                           f"input{_sizes(x.shape)} to have {in_channels} channels, but got "
                           f"{x.shape[1]} channels instead")
    out_channels = weight.shape[1] * groups
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given transposed=1, weight of size {_sizes(weight.shape)}, expected "
                           f"bias to be 1-dimensional with {out_channels} elements, but got bias "
                           f"of size {_sizes(bias.shape)} instead")
    kernel = weight.shape[2:]
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, s, p, d, k, o
                 in zip(x.shape[2:], stride, pad, dilation, kernel, out_pad, strict=True))
    if any(n <= 0 if input.numel() else n < 0 for n in size):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, x.shape[2:]))})"
                           f". Calculated output size per channel: "
                           f"({' x '.join(map(str, size))}). Output size is too small")
    y = ConvTransposeOp.apply(x, weight, bias, stride=stride, padding=pad, dilation=dilation,
                              groups=int(groups), size=size)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """1-D transposed convolution (the gradient of conv1d with respect to its input) of input
    (N, C_in, L) with weight (C_in, C_out / groups, kL); output length
    (L - 1) stride - 2 padding + dilation (kL - 1) + output_padding + 1."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """2-D transposed convolution (the gradient of conv2d with respect to its input) of input
    (N, C_in, H, W) with weight (C_in, C_out / groups, kH, kW); output height
    (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1 (width alike)."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def _pool_tuple(value: Any, nd: int, fn: str, arg: str,
                default: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """kernel_size, stride (None or () means kernel_size), padding or dilation as a tuple."""
    if default is not None and (value is None or (isinstance(value, (tuple, list))
                                                  and len(value) == 0)):
        return default
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * nd
    if (isinstance(value, (tuple, list)) and len(value) in (1, nd)
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)):
        return tuple(int(v) for v in value) * (nd if len(value) == 1 else 1)
    what = {"kernel_size": "must either be a single int, or a tuple of",
            "stride": "must either be omitted, a single int, or a tuple of"}.get(
                arg, "must be either be a single int, or a tuple of")
    count = "two ints" if nd == 2 else "one int" if nd == 1 else f"{nd} ints"
    raise RuntimeError(f"{fn}: {arg} {what} {count}")


def _pool_input(input: Tensor, nd: int, fn: str) -> bool:  # noqa: A002
    """Check a pooling input (N, C, *spatial) or (C, *spatial); True when it is unbatched."""
    _check_tensor(input, fn, "input", 1)
    if input.ndim not in (nd + 1, nd + 2) or any(n == 0 for n in input.shape[-nd:]) or (
            input.ndim == nd + 2 and input.shape[1] == 0):
        raise RuntimeError(f"{fn}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with "
                           f"optional 0 dim batch size for input, but got: "
                           f"{_sizes(input.shape)}")
    if input.dtype.kind == "b":
        raise RuntimeError(f'"{fn}" not implemented for \'Bool\'')
    return input.ndim == nd + 1


def _pool_geometry(input: Tensor, nd: int, fn: str, kernel_size: Any, stride: Any,  # noqa: A002
                   padding: Any, dilation: Any, ceil_mode: bool) -> tuple[Any, ...]:
    """kernel, stride, padding, dilation and output size of a pooling, checked as PyTorch."""
    kernel = _pool_tuple(kernel_size, nd, fn, "kernel_size")
    stride = _pool_tuple(stride, nd, fn, "stride", default=kernel)
    pad = _pool_tuple(padding, nd, fn, "padding")
    dilation = _pool_tuple(dilation, nd, fn, "dilation")
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"{fn}: kernel size should be greater than zero, but got "
                           f"kernel_size={list(kernel)}")
    if any(s <= 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{fn}: dilation should be greater than zero, but got "
                           f"dilation={list(dilation)}")
    for p, k, d in zip(pad, kernel, dilation, strict=True):
        if p < 0 or p > (d * (k - 1) + 1) // 2 or p > k // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    size = tuple(input.shape[-nd:])
    out = tuple(pool_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d
                in zip(size, kernel, stride, pad, dilation, strict=True))
    if any(o < 1 for o in out):
        lead = input.shape[-nd - 1]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (lead, *size)))}). "
                           f"Calculated output size: ({'x'.join(map(str, (lead, *out)))}). "
                           f"Output size is too small")
    return kernel, stride, pad, dilation, out


def _max_pool(fn: str, nd: int, input: Tensor, kernel_size: Any, stride: Any,  # noqa: A002
              padding: Any, dilation: Any, ceil_mode: bool,
              return_indices: bool) -> Tensor | tuple[Tensor, Tensor]:
    _pool_input(input, nd, fn)
    kernel, stride, pad, dilation, out = _pool_geometry(input, nd, fn, kernel_size, stride,
                                                        padding, dilation, ceil_mode)
    for n, k, s, p, d, o in zip(input.shape[-nd:], kernel, stride, pad, dilation, out,
                                strict=True):
        pos = (np.arange(o) * s - p)[:, None] + np.arange(k) * d
        if not ((pos >= 0) & (pos < n)).any(axis=1).all():
            # PyTorch returns -inf and an index outside the input for such a window.
            raise NotImplementedError(f"{fn}: a window of this pooling (kernel_size={kernel}, "
                                      f"stride={stride}, padding={pad}, dilation={dilation}) "
                                      f"holds only padding; microtensor does not support that")
    values = MaxPool.apply(input, kernel=kernel, stride=stride, padding=pad, dilation=dilation,
                           out=out)
    if not return_indices:
        return values
    return values, MaxPoolIndices.apply(input.detach(), kernel=kernel, stride=stride,
                                        padding=pad, dilation=dilation, out=out)


@overload
def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: Literal[False] = False) -> Tensor: ...
@overload
def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False, *,
               return_indices: Literal[True]) -> tuple[Tensor, Tensor]: ...
@overload
def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]: ...
def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum over each window of length ``kernel_size`` (every ``stride``, default
    ``kernel_size``; input padded with -inf by ``padding``; window elements ``dilation``
    apart) of input (N, C, L) or (C, L); with ``return_indices``, also the index of each
    maximum along L."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


@overload
def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: Literal[False] = False) -> Tensor: ...
@overload
def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False, *,
               return_indices: Literal[True]) -> tuple[Tensor, Tensor]: ...
@overload
def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]: ...
def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum over each kH x kW window (every ``stride``, default ``kernel_size``; input
    padded with -inf by ``padding``; ``dilation`` apart; ``ceil_mode`` keeps a last partial
    window) of input (N, C, H, W) or (C, H, W); with ``return_indices``, also the flat index
    (h W + w) of each maximum."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _check_float_pool(input: Tensor, fn: str) -> None:  # noqa: A002
    if input.dtype.kind != "f":
        raise NotImplementedError(f'"{fn}" not implemented for \'{_torch_name(input.dtype)}\' in '
                                  f"microtensor (PyTorch averages integers with integer "
                                  f"division); convert the input with input.float()")


def _avg_pool(fn: str, nd: int, input: Tensor, kernel_size: Any, stride: Any,  # noqa: A002
              padding: Any, ceil_mode: bool, count_include_pad: bool,
              divisor_override: int | None) -> Tensor:
    _pool_input(input, nd, fn)
    _check_float_pool(input, fn)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    kernel, stride, pad, _, out = _pool_geometry(input, nd, fn, kernel_size, stride, padding, 1,
                                                 ceil_mode)
    specs = pool_specs(tuple(input.shape[-nd:]), out, kernel, stride, pad,
                       bool(count_include_pad), divisor_override)
    return WindowMean.apply(input, specs=specs)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """The mean over each window of length ``kernel_size`` of input (N, C, L) or (C, L); the
    zero padding counts in the divisor unless ``count_include_pad=False``."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean over each kH x kW window of input (N, C, H, W) or (C, H, W): the window's sum
    divided by its size (clipped to the padded input), by the number of input elements in it
    (``count_include_pad=False``) or by ``divisor_override``."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def _adaptive_sizes(input: Tensor, nd: int, fn: str, output_size: Any) -> tuple[int, ...]:  # noqa: A002
    _check_tensor(input, fn, "input", 1)
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) != nd:
        raise RuntimeError(f"{fn}: output_size must be {nd}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{_sizes(input.shape)}")
    for i in range(1, input.ndim):
        if input.shape[i] == 0:
            raise RuntimeError(f"{fn}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {_sizes(input.shape)} with "
                               f"dimension {i} being empty")
    sizes = tuple(input.shape[-nd:][i] if o is None else int(o)
                  for i, o in enumerate(output_size))
    if any(o < 0 for o in sizes):
        raise RuntimeError(f"{fn}: elements of output_size must be greater than or equal to 0 "
                           f"but received {list(sizes)}")
    return sizes


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """The mean over ``output_size`` windows covering input (N, C, L) or (C, L): window i is
    [floor(i L / out), ceil((i + 1) L / out)) (they overlap when out does not divide L)."""
    sizes = _adaptive_sizes(input, 1, "adaptive_avg_pool1d", output_size)
    _check_float_pool(input, "adaptive_avg_pool1d")
    return WindowMean.apply(input, specs=(("adaptive", input.shape[-1], sizes[0]),))


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """The mean over windows covering input (N, C, H, W) or (C, H, W) to give
    ``output_size`` (an int, or a pair whose None entries keep the input's size): window i of
    H is [floor(i H / out), ceil((i + 1) H / out)), the same for W."""
    sizes = _adaptive_sizes(input, 2, "adaptive_avg_pool2d", output_size)
    _check_float_pool(input, "adaptive_avg_pool2d")
    specs = tuple(("adaptive", n, o) for n, o in zip(input.shape[-2:], sizes, strict=True))
    return WindowMean.apply(input, specs=specs)


def _adaptive_max(fn: str, nd: int, input: Tensor, output_size: Any,  # noqa: A002
                  return_indices: bool) -> Tensor | tuple[Tensor, Tensor]:
    sizes = _adaptive_sizes(input, nd, fn, output_size)
    if input.dtype.kind not in "f":
        raise NotImplementedError(f'"{fn}" not implemented for \'{_torch_name(input.dtype)}\'')
    values = AdaptiveMaxPool.apply(input, out=sizes)
    if not return_indices:
        return values
    return values, AdaptiveMaxPoolIndices.apply(input.detach(), out=sizes)


@overload
def adaptive_max_pool1d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: Literal[False] = False) -> Tensor: ...
@overload
def adaptive_max_pool1d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: Literal[True]) -> tuple[Tensor, Tensor]: ...
@overload
def adaptive_max_pool1d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]: ...
def adaptive_max_pool1d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum over ``output_size`` windows covering input (N, C, L) or (C, L) (window i
    is [floor(i L / out), ceil((i + 1) L / out))); with ``return_indices``, also where."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


@overload
def adaptive_max_pool2d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: Literal[False] = False) -> Tensor: ...
@overload
def adaptive_max_pool2d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: Literal[True]) -> tuple[Tensor, Tensor]: ...
@overload
def adaptive_max_pool2d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]: ...
def adaptive_max_pool2d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum over windows covering input (N, C, H, W) or (C, H, W) to give
    ``output_size`` (windows as ``adaptive_avg_pool2d``); with ``return_indices``, also the
    flat index (h W + w) of each maximum."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad: Any, mode: str = "constant",  # noqa: A002
        value: float | None = None) -> Tensor:
    """Pad the last dims of ``input``: ``pad`` = (left, right) for the last dim, then (top,
    bottom) for the one before, and so on (PyTorch's order). ``mode``: ``'constant'`` (with
    ``value``, default 0; negative amounts crop), ``'reflect'`` (mirror without repeating the
    edge), ``'replicate'`` (repeat the edge) or ``'circular'`` (wrap around)."""
    _check_tensor(input, "pad", "input", 1)
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    amounts = [int(a) for a in pad]
    if len(amounts) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    n = len(amounts) // 2
    if n > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(amounts)} and input of "
                           f"dimension {input.ndim}")
    lo = tuple(amounts[2 * i] for i in reversed(range(n)))
    hi = tuple(amounts[2 * i + 1] for i in reversed(range(n)))
    sizes = tuple(input.shape[input.ndim - n:])
    if mode == "constant":
        for s, a, b in zip(sizes, lo, hi, strict=True):
            if s + min(a, 0) + min(b, 0) < 0:  # the crops are done first, as PyTorch's narrow
                raise RuntimeError(f"narrow(): length must be non-negative. (pad: cropping "
                                   f"{-min(a, 0)} and {-min(b, 0)} elements from a dimension "
                                   f"of size {s})")
        return ConstantPad.apply(input, lo=lo, hi=hi, value=0 if value is None else value)
    if value is not None:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if not (1 <= n <= 3 and input.ndim in (n + 1, n + 2)):
        raise NotImplementedError(
            f"Padding size {len(amounts)} is not supported for {input.ndim}D input tensor.\n"
            f"Supported combinations for non-constant padding:\n"
            f"  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            f"  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            f"  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    for dim, (s, a, b) in enumerate(zip(sizes, lo, hi, strict=True)):
        if a < 0 or b < 0:
            raise NotImplementedError(f"pad: microtensor supports negative padding only in "
                                      f"mode 'constant', got pad={tuple(amounts)} with "
                                      f"mode={mode!r}")
        if mode == "reflect" and (a >= s or b >= s):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({a}, {b}) at dimension "
                               f"{input.ndim - n + dim} of input {_sizes(input.shape)}")
        if mode == "circular" and (a > s or b > s):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if mode == "replicate" and s == 0:
            raise RuntimeError(f"pad: cannot replicate the edge of an empty dimension "
                               f"{input.ndim - n + dim} of input {_sizes(input.shape)}")
    specs = tuple((mode, s, a, b) for s, a, b in zip(sizes, lo, hi, strict=True))
    return Resample.apply(input, specs=specs)


_INTERP_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3}


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,  # noqa: A002
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize the spatial dims of input (N, C, *spatial) to ``size`` or by ``scale_factor``
    (output size floor(input size * scale_factor)). ``mode``: ``'nearest'`` (source index
    floor(i * scale)), ``'nearest-exact'`` (floor((i + 0.5) * scale)), ``'linear'`` (3-D),
    ``'bilinear'`` (4-D), ``'trilinear'`` (5-D) with ``align_corners`` (corner pixels aligned;
    otherwise pixel centres, source index scale (i + 0.5) - 0.5), or ``'area'`` (adaptive
    average pooling); scale = in / out, or 1 / scale_factor when that is given (unless
    ``recompute_scale_factor``)."""
    _check_tensor(input, "interpolate", "input", 1)
    modes = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by microtensor")
    nd = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if nd < 1 or nd > 3 or mode not in modes:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | lanczos | area | nearest-exact (got "
                                  f"{mode})")
    spatial = tuple(input.shape[2:])
    scales: tuple[float | None, ...] = (None,) * nd
    if size is not None:
        if isinstance(size, (tuple, list)):
            if len(size) != nd:
                raise ValueError(f"Input and output must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(spatial)} and output size of {size}. Please provide "
                                 f"input tensor in (N, C, d1, d2, ...,dK) format and output size "
                                 f"in (o1, o2, ...,oK) format.")
            out = tuple(int(s) for s in size)
        else:
            out = (int(size),) * nd
    else:
        if isinstance(scale_factor, (tuple, list)):
            if len(scale_factor) != nd:
                raise ValueError(f"Input and scale_factor must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(spatial)} and scale_factor of shape {scale_factor}. "
                                 f"Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                                 f"and scale_factor in (s1, s2, ...,sK) format.")
            factors = tuple(float(f) for f in scale_factor)
        else:
            assert scale_factor is not None  # (checked above: size or scale_factor is given)
            factors = (float(scale_factor),) * nd
        out = tuple(math.floor(float(n) * f) for n, f in zip(spatial, factors, strict=True))
        if not recompute_scale_factor:
            scales = factors
    if mode in _INTERP_DIMS and _INTERP_DIMS[mode] != nd:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_INTERP_DIMS[mode] + 2}D input")
    if mode == "bicubic":
        raise NotImplementedError("interpolate: mode='bicubic' is not supported by microtensor")
    if mode == "area":
        _check_float_pool(input, "adaptive_avg_pool")
        areas = tuple(("adaptive", n, o) for n, o in zip(spatial, out, strict=True))
        return WindowMean.apply(input, specs=areas)
    if input.dtype.kind != "f":
        raise NotImplementedError(f'"upsample_{mode}{nd}d" not implemented for '
                                  f"'{_torch_name(input.dtype)}'")
    if any(n <= 0 for n in spatial) or any(o <= 0 for o in out):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"{tuple(spatial)} output {tuple(out)}")
    specs: tuple[tuple[object, ...], ...]  # one (kind, in size, out size, ...) per dim
    if mode in ("nearest", "nearest-exact"):
        specs = tuple((mode, n, o, s) for n, o, s in zip(spatial, out, scales, strict=True))
    else:
        specs = tuple(("linear", n, o, bool(align_corners), s)
                      for n, o, s in zip(spatial, out, scales, strict=True))
    return Resample.apply(input, specs=specs)


# ----------------------------------------------------------------------------------------------
# Checks shared by the losses
# ----------------------------------------------------------------------------------------------

def _check_reduction(reduction: str, name: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction; use "
                         f"'mean', 'sum' or 'none'")


def _check_input_and_target(input: Any, target: Any, name: str) -> None:  # noqa: A002
    if not (isinstance(input, Tensor) and isinstance(target, Tensor)):
        _check_tensor(input, name, "input", 1)
        _check_tensor(target, name, "target", 2)


def _check_same_shape(input: Tensor, target: Tensor, name: str) -> None:  # noqa: A002
    if target._data.shape != input._data.shape:  # (on the arrays: .shape makes a Size)
        hint = (f"; if the values line up, use target.reshape{_fmt(input.shape)}"
                if target.numel() == input.numel() else "")
        raise ValueError(f"{name}: target shape {_fmt(target.shape)} differs from input shape "
                         f"{_fmt(input.shape)}; they must be equal (broadcasting them would "
                         f"compute a wrong loss){hint}")


def _check_broadcasts_to(t: Tensor, shape: tuple[int, ...], what: str, name: str) -> None:
    try:
        ok = broadcast_shapes(t.shape, shape) == shape
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(f"{name}: {what} of shape {_fmt(t.shape)} does not broadcast to the "
                         f"input's shape {_fmt(shape)}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ----------------------------------------------------------------------------------------------
# Regression losses
# ----------------------------------------------------------------------------------------------

def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """(input - target)**2, averaged (``mean``), summed (``sum``) or kept (``none``)."""
    _check_input_and_target(input, target, "mse_loss")
    _check_reduction(reduction, "mse_loss")
    _check_same_shape(input, target, "mse_loss")
    dtype = promote_types(input.dtype, input.ndim, target.dtype, target.ndim)
    if dtype.kind != "f":
        raise NotImplementedError(f'"mse_loss" not implemented for \'{_torch_name(dtype)}\': '
                                  f"the input ({input.dtype}) or the target ({target.dtype}) "
                                  f"must be floating point; convert them with .float()")
    # A bool operand is allowed (as in PyTorch), but `-` refuses bool tensors: convert it first.
    d = input.to(dtype) - target.to(dtype)
    return _reduce(d * d, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """|input - target|, averaged (``mean``), summed (``sum``) or kept (``none``)."""
    _check_input_and_target(input, target, "l1_loss")
    _check_reduction(reduction, "l1_loss")
    _check_same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


# ----------------------------------------------------------------------------------------------
# Binary classification losses
# ----------------------------------------------------------------------------------------------

def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """-weight (y log x + (1 - y) log(1 - x)) for probabilities x in [0, 1], each log clamped
    at -100 (so the loss stays finite at x = 0 or 1), then reduced.

    Args:
        input: probabilities (e.g. the output of a sigmoid).
        target: values in [0, 1], same shape as ``input``.
        weight: rescales each element's loss (broadcast to ``input``'s shape).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
    """
    name = "binary_cross_entropy"
    _check_input_and_target(input, target, name)
    if weight is not None:
        _check_tensor(weight, name, "weight", 3)
    _check_reduction(reduction, name)
    _check_same_shape(input, target, name)
    _check_floating(input, name)
    if target.dtype != input.dtype:
        raise RuntimeError(f"{name}: Found dtype {_torch_name(target.dtype)} but expected "
                           f"{_torch_name(input.dtype)}: the target ({target.dtype}) must have "
                           f"the input's dtype ({input.dtype}); convert it with "
                           f"target{_conversion(input.dtype)}")
    # (the op checks that the values are in [0, 1])
    if weight is None:  # one node, the reduction included (as PyTorch's)
        return fused.BinaryCrossEntropy.apply(input, target, reduction=reduction)
    loss = fused.BinaryCrossEntropy.apply(input, target)
    _check_broadcasts_to(weight, input.shape, "weight", name)
    loss = loss * weight.to(input.dtype)  # the loss keeps the input's dtype, as in PyTorch
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,  # noqa: A002
                                     weight: Tensor | None = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """binary_cross_entropy(sigmoid(x), y) computed stably from the logits x:
    softplus(x) - x y  (= max(x, 0) - x y + log(1 + exp(-|x|))), then reduced.

    With ``pos_weight`` p the positive term is weighted:
    -(p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))) = c softplus(x) - p x y with
    c = 1 + (p - 1) y.

    Args:
        input: raw scores (logits), any real values.
        target: values in [0, 1], same shape as ``input``.
        weight: rescales each element's loss (broadcast to ``input``'s shape).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        pos_weight: weight of the positive examples, one per class (broadcast along the last
            dimension).
    """
    if (weight is None and pos_weight is None and isinstance(input, Tensor)
            and isinstance(target, Tensor) and input._data.dtype.kind == "f"
            and target._data.dtype == input._data.dtype
            and target._data.shape == input._data.shape and reduction in _REDUCTIONS):
        # The common case in one test (a training loop's hot path): what the checks below let
        # through to the same op. They name the error otherwise.
        return fused.BinaryCrossEntropyWithLogits.apply(input, target, reduction=reduction)
    name = "binary_cross_entropy_with_logits"
    _check_input_and_target(input, target, name)
    if weight is not None:
        _check_tensor(weight, name, "weight", 3)
    if pos_weight is not None:
        _check_tensor(pos_weight, name, "pos_weight", 5)
    _check_reduction(reduction, name)
    _check_same_shape(input, target, name)
    _check_floating(input, name)
    if target._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: result type Float can't be cast to the desired output type "
                           f"{_torch_name(target.dtype)}: the target must be a floating point "
                           f"tensor, got {target.dtype}; convert it with target.float()")
    if pos_weight is None:
        if input._data.dtype != target._data.dtype:
            dtype = promote_types(input.dtype, input.ndim, target.dtype, target.ndim)
            input, target = input.to(dtype), target.to(dtype)  # noqa: A001
        if weight is None:  # one node, the reduction included (as PyTorch's)
            return fused.BinaryCrossEntropyWithLogits.apply(input, target, reduction=reduction)
        loss = fused.BinaryCrossEntropyWithLogits.apply(input, target)
    else:
        _check_broadcasts_to(pos_weight, input.shape, "pos_weight", name)
        # softplus by logaddexp is exact and finite for every x (threshold=inf: no cut-off).
        sp = input.softplus(1.0, math.inf)
        loss = (1 + (pos_weight - 1) * target) * sp - pos_weight * input * target
    if weight is not None:
        _check_broadcasts_to(weight, input.shape, "weight", name)
        loss = loss * weight
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------------------------
# Multi-class losses
# ----------------------------------------------------------------------------------------------

def _class_dim(input: Tensor, name: str) -> int:  # noqa: A002
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension: (C,), (N, C) or "
                         f"(N, C, d1, ...), got a 0-d tensor")
    return 0 if input.ndim == 1 else 1


def _check_class_target(input: Tensor, target: Tensor, name: str,  # noqa: A002
                        probabilities_allowed: bool = False) -> None:
    expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if probabilities_allowed and target.shape == input.shape and target.dtype.kind != "f":
        raise RuntimeError(f"{name}: Expected floating point type for target with class "
                           f"probabilities, got {_torch_name(target.dtype)} (a target of the "
                           f"input's shape {_fmt(input.shape)} holds probabilities: convert it "
                           f"with target.float(); class indices have shape {_fmt(expected)})")
    if target.dtype.kind not in "iu":
        also = (f", or class probabilities: a floating tensor of the input's shape "
                f"{_fmt(input.shape)}") if probabilities_allowed else ""
        raise RuntimeError(f"{name}: target of dtype {target.dtype} and shape "
                           f"{_fmt(target.shape)} is not valid; expected class indices: an "
                           f"integer tensor (e.g. int64) of shape {_fmt(expected)}{also}")
    if target.dtype not in (np.dtype(np.int64), np.dtype(np.uint8)):
        raise RuntimeError(f"{name}: expected target dtype to be Long or Byte, but got "
                           f"{_torch_name(target.dtype)} (class indices must be int64 or uint8; "
                           f"convert them with target.long())")
    if target.shape != expected:
        raise ValueError(f"{name}: input of shape {_fmt(input.shape)} (batch, classes, ...) needs "
                         f"a target of class indices of shape {_fmt(expected)}, got "
                         f"{_fmt(target.shape)}")


def _check_class_weights(weight: Tensor | None, n_classes: int, name: str) -> None:
    if weight is not None and weight.shape != (n_classes,):
        raise RuntimeError(f"{name}: weight tensor should be defined either for all {n_classes} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")


def _check_index_weights(weight: Tensor | None, input: Tensor, name: str) -> None:  # noqa: A002
    """The class weights of class-index targets must have the input's dtype (as PyTorch)."""
    if weight is not None and weight.dtype != input.dtype:
        raise RuntimeError(f"{name}: expected scalar type {_torch_name(input.dtype)} but found "
                           f"{_torch_name(weight.dtype)}: the class weights ({weight.dtype}) must "
                           f"have the input's dtype ({input.dtype}); convert them with "
                           f"weight{_conversion(input.dtype)}")


def _check_weight_not_differentiable(weight: Tensor | None, fn: str) -> None:
    if weight is not None and weight.requires_grad:
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument "
                           f"'weight'. This input cannot have requires_grad True.")


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """-weight[y] * input[y] for log-probabilities ``input`` and class indices y, then reduced
    (``mean`` divides by the sum of the targets' weights).

    Args:
        input: log-probabilities, (C,), (N, C) or (N, C, d1, ...).
        target: class indices (integers), (), (N,) or (N, d1, ...).
        weight: one weight per class.
        ignore_index: targets equal to it contribute nothing (and do not count in the mean).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
    """
    name = "nll_loss"
    _check_tensor(input, "nll_loss_nd", "input", 1)  # PyTorch's wording names its nll_loss_nd
    _check_tensor(target, "nll_loss_nd", "target", 2)
    if weight is not None:
        _check_tensor(weight, "nll_loss_nd", "weight", 3)
    _check_reduction(reduction, name)
    class_dim = _class_dim(input, name)
    _check_floating(input, name)
    _check_class_target(input, target, name)
    n_classes = input.shape[class_dim]
    _check_class_weights(weight, n_classes, name)
    _check_weight_not_differentiable(weight, "nll_loss_forward")
    _check_index_weights(weight, input, name)
    return fused.NllLoss.apply(input, target, weight, class_dim=class_dim,
                               ignore_index=ignore_index, reduction=reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """-sum_c weight[c] q[c] log softmax(input)[c], with q the target distribution, reduced.

    The target is either class indices (q is one-hot, or with ``label_smoothing`` e
    q = (1 - e) one_hot + e / C) or class probabilities of the input's shape (q is the target,
    mixed the same way with e / C). With indices, ``mean`` divides by the sum of the targets'
    weights; with probabilities, by the number of samples.

    Args:
        input: raw scores (logits), (C,), (N, C) or (N, C, d1, ...).
        target: class indices (integers), (), (N,) or (N, d1, ...); or probabilities, same shape
            as ``input``.
        weight: one weight per class.
        ignore_index: targets (indices) equal to it contribute nothing.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        label_smoothing: e in [0, 1].
    """
    name = "cross_entropy"
    _check_tensor(input, "cross_entropy_loss", "input", 1)  # PyTorch's wording names its kernel
    _check_tensor(target, "cross_entropy_loss", "target", 2)
    if weight is not None:
        _check_tensor(weight, "cross_entropy_loss", "weight", 3)
    _check_reduction(reduction, name)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0. Got: "
                         f"{label_smoothing}")
    class_dim = _class_dim(input, name)
    _check_floating(input, name)
    n_classes: int = input.shape[class_dim]
    _check_class_weights(weight, n_classes, name)
    w_shape = tuple(n_classes if d == class_dim else 1 for d in range(input.ndim))
    # (with probabilities the weight is differentiable, as in PyTorch; with indices it is not)
    if weight is None and label_smoothing == 0 and input.ndim == 2 and target.dtype.kind in "iu":
        _check_class_target(input, target, name, probabilities_allowed=True)
        return fused.CrossEntropy.apply(input, target, ignore_index=ignore_index,
                                        reduction=reduction)
    logp = input.log_softmax(class_dim)

    if target.dtype.kind == "f" and target.shape == input.shape:
        if ignore_index != -100:
            raise RuntimeError("ignore_index is not supported for floating point target")
        w_bcast = None if weight is None else weight.reshape(w_shape)
        # Probabilities: the weight takes part in PyTorch's type promotion (no dtype check).
        q = target if label_smoothing == 0 else (
            target * (1.0 - label_smoothing) + label_smoothing / n_classes)
        terms = logp * q if w_bcast is None else logp * q * w_bcast
        return _reduce(-terms.sum(class_dim), reduction)

    _check_class_target(input, target, name, probabilities_allowed=True)
    _check_weight_not_differentiable(weight, "nll_loss_forward")
    _check_index_weights(weight, input, name)
    return fused.NllLoss.apply(logp, target, weight,
                               class_dim=class_dim, ignore_index=ignore_index,
                               reduction=reduction, label_smoothing=float(label_smoothing))


# -- normalisation, embeddings, activations and attention (issue 10) ------------------------------
# These call the ops of ops/norm.py (BatchNorm, LayerNorm, Embedding, SafeSoftmax) and the
# activation ops at the end of ops/elementwise.py; mish, softsign and attention are composed.

def _check_float_input(input: Any, fn: str, kernel: str) -> None:  # noqa: A002
    _check_tensor(input, fn, "input", 1)
    _check_floating(input, kernel)


def _check_same_dtype(input: Tensor, others: tuple[Tensor | None, ...]) -> None:  # noqa: A002
    """PyTorch's CPU kernels refuse parameters whose dtype is not the input's."""
    for t in others:
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(f"mixed dtype (CPU): all inputs must share same datatype (the "
                               f"input is {input.dtype}, a parameter or statistic is {t.dtype}; "
                               f"convert it with {_conversion(input.dtype)})")


def batch_norm(input: Tensor, running_mean: Tensor | None,  # noqa: A002
               running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias per channel (dim 1), for inputs (N, C) or
    (N, C, ...).

    With ``training`` the mean and the biased variance are the batch's (over every dim but
    dim 1), and ``running_mean``/``running_var`` (if given) are updated in place:
    r = (1 - momentum) r + momentum s, with the unbiased variance for ``running_var``.
    Otherwise the running statistics are used.
    """
    _check_tensor(input, "batch_norm", "input", 1)
    for value, arg, pos in ((running_mean, "running_mean", 2), (running_var, "running_var", 3),
                            (weight, "weight", 4), (bias, "bias", 5)):
        if value is not None:
            _check_tensor(value, "batch_norm", arg, pos)
    if not isinstance(momentum, (int, float)):
        raise TypeError(f"batch_norm(): argument 'momentum' (position 7) must be float, not "
                        f"{_type_name(momentum)}")
    if input.ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got "
                         f"1): batch_norm needs an input (N, C) or (N, C, ...), got shape "
                         f"{_fmt(input.shape)}")
    if training and input.shape[0] * math.prod(input.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"microtensor.Size({list(input.shape)})")
    if not training and running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    if not training and running_var is None:
        raise RuntimeError("running_var must be defined in evaluation mode")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be "
                         "None")
    channels = input.shape[1]
    for value, what in ((running_mean, "running_mean"), (running_var, "running_var"),
                        (weight, "weight"), (bias, "bias")):
        if value is not None and value.numel() != channels:
            raise RuntimeError(f"{what} should contain {channels} elements not {value.numel()}")
    _check_floating(input, "batch_norm")
    _check_same_dtype(input, (running_mean, running_var, weight, bias))
    for value, what in ((running_mean, "running_mean"), (running_var, "running_var")):
        if value is not None and value.requires_grad:
            raise RuntimeError(f"The function 'native_batch_norm' is not differentiable with "
                               f"respect to argument '{what}'. This input cannot have "
                               f"requires_grad True.")
    weight = None if weight is None else weight.reshape(channels)
    bias = None if bias is None else bias.reshape(channels)
    if training:
        if input.numel() == 0:  # an empty batch: nothing to normalise, the statistics stay
            shape = (1, channels) + (1,) * (input.ndim - 2)
            out = input * 1.0 if weight is None else input * weight.reshape(shape)
            return out if bias is None else out + bias.reshape(shape)
        return norm_ops.BatchNorm.apply(input, weight, bias, running_mean, running_var,
                                        momentum=float(momentum), eps=eps)
    # Evaluation: an affine map per channel, y = x * a + c with a = weight / sqrt(var + eps)
    # and c = bias - mean * a (as PyTorch computes it).
    assert running_mean is not None and running_var is not None  # (checked above)
    shape = (1, channels) + (1,) * (input.ndim - 2)
    scale = (running_var + eps) ** -0.5
    if weight is not None:
        scale = scale * weight
    shift = -(running_mean * scale)
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(shape) + shift.reshape(shape)


def _shape_list(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def layer_norm(input: Tensor, normalized_shape: Sequence[int],  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias, the mean and the biased variance taken
    over the last ``len(normalized_shape)`` dims of x (which must equal ``normalized_shape``).
    """
    _check_tensor(input, "layer_norm", "input", 1)
    if not (isinstance(normalized_shape, (tuple, list))
            and all(isinstance(n, (int, np.integer)) for n in normalized_shape)):
        raise TypeError(f"layer_norm(): argument 'normalized_shape' (position 2) must be tuple "
                        f"of ints, not {_type_name(normalized_shape)}")
    shape = tuple(int(n) for n in normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    for value, what in ((weight, "weight"), (bias, "bias")):
        if value is not None:
            _check_tensor(value, "layer_norm", what, 3 if what == "weight" else 4)
            if tuple(value.shape) != shape:
                raise RuntimeError(f"Expected {what} to be of same shape as normalized_shape, but "
                                   f"got {what} of shape {_shape_list(value.shape)} and "
                                   f"normalized_shape = {_shape_list(shape)}")
    if tuple(input.shape[input.ndim - len(shape):]) != shape or input.ndim < len(shape):
        raise RuntimeError(f"Given normalized_shape={_shape_list(shape)}, expected input with "
                           f"shape [*, {_shape_list(shape)[1:-1]}], but got input of size"
                           f"{_shape_list(input.shape)}")
    _check_floating(input, "LayerNormKernelImpl")
    _check_same_dtype(input, (weight, bias))
    return norm_ops.LayerNorm.apply(input, weight, bias, ndim=len(shape), eps=eps)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of ``weight`` picked by the integer indices ``input``: output shape
    input.shape + (embedding_dim,).

    ``padding_idx``: the gradient of that row stays 0. ``scale_grad_by_freq``: each row's
    gradient is divided by how often its index occurs in ``input``. ``max_norm`` and
    ``sparse=True`` are not supported (an error says so).
    """
    _check_tensor(input, "embedding", "input", 1)
    _check_tensor(weight, "embedding", "weight", 2)
    if padding_idx is not None:
        if padding_idx > 0 and padding_idx >= weight.shape[0]:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            if padding_idx < -weight.shape[0]:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = weight.shape[0] + padding_idx
    if max_norm is not None:
        raise NotImplementedError("embedding: max_norm is not supported by microtensor (it "
                                  "renormalises rows of the weight in place); renormalise the "
                                  "weight yourself under no_grad, or use max_norm=None")
    if sparse:
        raise NotImplementedError("embedding: sparse=True is not supported by microtensor (it has "
                                  "no sparse gradients); use sparse=False")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if input.dtype not in (np.dtype(np.int64), np.dtype(np.int32)):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got "
                           f"{_torch_name(input.dtype)} ({input.dtype}) instead (while checking "
                           f"arguments for embedding); convert the indices with input.long()")
    return norm_ops.Embedding.apply(weight, input, padding_idx=padding_idx,
                                    scale_grad_by_freq=bool(scale_grad_by_freq))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x if x > 0 else alpha (exp(x) - 1)  (``inplace`` is accepted; the result is new)"""
    _check_float_input(input, "elu", "elu_cpu")
    return elementwise.Elu.apply(input, alpha=alpha)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x sigmoid(x) (also called swish)"""
    _check_float_input(input, "silu", "silu_cpu")
    return elementwise.Silu.apply(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x tanh(softplus(x))"""
    _check_float_input(input, "mish", "mish_cpu")
    return input * input.softplus(1.0, math.inf).tanh()


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """min(max(x, min_val), max_val); the gradient is 0 at the bounds and outside them"""
    _check_tensor(input, "hardtanh", "input", 1)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if input.dtype.kind == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    return elementwise.Hardtanh.apply(input, min_val=min_val, max_val=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6) (hardtanh between 0 and 6)"""
    _check_tensor(input, "relu6", "input", 1)
    if input.dtype.kind == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    return elementwise.Hardtanh.apply(input, min_val=0.0, max_val=6.0)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """x / (1 + |x|)"""
    _check_tensor(input, "softsign", "input", 1)
    if input.dtype.kind == "b":
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return input / (input.abs() + 1)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x / 6 + 1/2, 0), 1)"""
    _check_float_input(input, "hardsigmoid", "hardsigmoid_cpu")
    return elementwise.Hardsigmoid.apply(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x min(max(x + 3, 0), 6) / 6"""
    _check_float_input(input, "hardswish", "hardswish_cpu")
    return elementwise.Hardswish.apply(input)


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """x if x > 0 else weight x, with one weight, or one per channel (dim 1 of x)"""
    _check_tensor(input, "prelu", "input", 1)
    _check_tensor(weight, "prelu", "weight", 2)
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    n = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else 1
    if n != 1 and n != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {n} and channel size = {channels}.")
    _check_floating(input, "prelu_cpu")
    _check_same_dtype(input, (weight,))
    # One weight: a 0-d tensor (broadcasts to any input); one per channel: (C, 1, ..., 1).
    weight = weight.reshape((n,) + (1,) * (input.ndim - 2) if n != 1 else ())
    return elementwise.Prelu.apply(input, weight)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query key^T * scale + mask) value, over inputs (..., L, E), (..., S, E) and
    (..., S, Ev), giving (..., L, Ev).

    ``attn_mask``: a bool mask (True = take part) or a float mask added to the scores,
    broadcast to (..., L, S). ``is_causal``: the lower-triangular mask (position i attends to
    j <= i). ``scale`` defaults to 1 / sqrt(E). A row with every position masked gives zeros
    (as PyTorch). ``dropout_p`` drops attention weights (always, like PyTorch's function: pass
    0.0 in evaluation). ``enable_gqa``: fewer key/value heads (dim -3) than query heads, each
    shared by a group of query heads.
    """
    for t, arg, pos in ((query, "query", 1), (key, "key", 2), (value, "value", 3)):
        _check_tensor(t, "scaled_dot_product_attention", arg, pos)
    if attn_mask is not None:
        _check_tensor(attn_mask, "scaled_dot_product_attention", "attn_mask", 4)
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, "
                           f"but got query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: "
                           f"{value.ndim} instead.")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype} key.dtype: {key.dtype} and value.dtype: "
                           f"{value.dtype} instead.")
    _check_floating(query, "scaled_dot_product_attention", "query")
    if attn_mask is not None and attn_mask.dtype.kind != "b" and attn_mask.dtype != query.dtype:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                           f"dtype, but got attn_mask.dtype: {attn_mask.dtype} and  "
                           f"query.dtype: {query.dtype} instead.")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if key.shape[-1] != query.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query of shape {_fmt(query.shape)} "
                           f"and key of shape {_fmt(key.shape)} must have the same last "
                           f"dimension (the embedding size E)")
    if value.shape[-2] != key.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key of shape {_fmt(key.shape)} and "
                           f"value of shape {_fmt(value.shape)} must have the same sequence "
                           f"length S (dim -2)")
    if enable_gqa:
        key, value = _repeat_kv_heads(query, key, value)
    length, source = query.shape[-2], key.shape[-2]
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * s
    if is_causal:
        causal = Tensor._make(np.tril(np.ones((length, source), dtype=bool)))
        scores = where(causal, scores, -math.inf)
    elif attn_mask is not None:
        if attn_mask.dtype.kind == "b":
            scores = where(attn_mask, scores, -math.inf)
        else:
            scores = scores + attn_mask
    weights = norm_ops.SafeSoftmax.apply(scores)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ value


def _repeat_kv_heads(query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
    """For grouped-query attention: each key/value head repeated for its group of query heads
    (dim -3)."""
    if min(query.ndim, key.ndim, value.ndim) < 3:
        raise RuntimeError("scaled_dot_product_attention: enable_gqa=True needs inputs with a "
                           "head dimension (..., heads, L, E)")
    heads, kv_heads = query.shape[-3], key.shape[-3]
    if value.shape[-3] != kv_heads or heads % kv_heads:
        raise RuntimeError(f"Number of heads in key and value must divide the number of heads "
                           f"in query (query has {heads}, key {kv_heads}, value "
                           f"{value.shape[-3]})")
    if heads == kv_heads:
        return key, value
    group = Tensor._make(np.repeat(np.arange(kv_heads), heads // kv_heads))
    return key[..., group, :, :], value[..., group, :, :]
