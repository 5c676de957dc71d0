"""microtensor: a small, readable reverse-mode autodiff library over NumPy, with PyTorch's API.

>>> import microtensor as mt
>>> x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
tensor([2., 4., 6.])
"""

from builtins import bool as _bool
from builtins import float as _float
from builtins import int as _int

from . import (
    accelerator,
    autograd,
    backends,
    creation,
    cuda,
    diagnose,
    jit,
    linalg,
    nn,
    optim,
    utils,
    viz,
)
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    poisson,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from .device import device, get_default_device, set_default_device
from .dtypes import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from .jit import compile
from .mathops import einsum, floor_divide, fmod, lerp, remainder, std_mean, var_mean
from .random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from .serialization import load, save
from .size import Size
from .tensor import (
    Tensor,
    broadcast_shapes,
    cat,
    maximum,
    meshgrid,
    minimum,
    repeat_interleave,
    stack,
    where,
)
from .viz import draw_graph, save_graph, to_dot

# NOTE: importing from the module tensor.py binds the name `tensor` to that module for a type
# checker; at run time microtensor.tensor is the function, as torch.tensor. Say so again here.
tensor = creation.tensor

__version__ = "0.1.0"

# PyTorch's dtype aliases.
float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001
bool = bool_  # noqa: A001
half = float16
short = int16

# Tensor methods that are also top-level functions, as in PyTorch: microtensor.exp(x).
abs = Tensor.abs  # noqa: A001
exp = Tensor.exp
log = Tensor.log
log1p = Tensor.log1p
sqrt = Tensor.sqrt
sin = Tensor.sin
cos = Tensor.cos
tanh = Tensor.tanh
sigmoid = Tensor.sigmoid
relu = Tensor.relu
neg = Tensor.neg
add = Tensor.add
sub = Tensor.sub
mul = Tensor.mul
div = Tensor.div
pow = Tensor.pow  # noqa: A001
clamp = Tensor.clamp
clip = Tensor.clamp
sum = Tensor.sum  # noqa: A001
mean = Tensor.mean
var = Tensor.var
std = Tensor.std
prod = Tensor.prod
amax = Tensor.amax
amin = Tensor.amin
max = Tensor.max  # noqa: A001
min = Tensor.min  # noqa: A001
argmax = Tensor.argmax
argmin = Tensor.argmin
logsumexp = Tensor.logsumexp
softmax = Tensor.softmax
log_softmax = Tensor.log_softmax
matmul = Tensor.matmul
reshape = Tensor.reshape
transpose = Tensor.transpose
permute = Tensor.permute
squeeze = Tensor.squeeze
unsqueeze = Tensor.unsqueeze
flatten = Tensor.flatten
split = Tensor.split
chunk = Tensor.chunk
take_along_dim = Tensor.take_along_dim
norm = Tensor.norm
trunc = Tensor.trunc
fix = Tensor.fix
floor = Tensor.floor
ceil = Tensor.ceil
round = Tensor.round  # noqa: A001
sign = Tensor.sign
bitwise_and = Tensor.bitwise_and
bitwise_or = Tensor.bitwise_or
bitwise_xor = Tensor.bitwise_xor
bitwise_not = Tensor.bitwise_not
clone = Tensor.clone
detach = Tensor.detach
eq = Tensor.eq
ne = Tensor.ne
lt = Tensor.lt
le = Tensor.le
gt = Tensor.gt
ge = Tensor.ge
bernoulli = Tensor.bernoulli
multinomial = Tensor.multinomial
cumsum = Tensor.cumsum
cumprod = Tensor.cumprod
tril = Tensor.tril
triu = Tensor.triu
flip = Tensor.flip
fliplr = Tensor.fliplr
flipud = Tensor.flipud
roll = Tensor.roll
tile = Tensor.tile
unflatten = Tensor.unflatten
gather = Tensor.gather
scatter = Tensor.scatter
scatter_add = Tensor.scatter_add
index_select = Tensor.index_select
index_add = Tensor.index_add
masked_fill = Tensor.masked_fill
masked_select = Tensor.masked_select
take = Tensor.take
sort = Tensor.sort
argsort = Tensor.argsort
topk = Tensor.topk
median = Tensor.median
kthvalue = Tensor.kthvalue
mode = Tensor.mode
unique = Tensor.unique
unbind = Tensor.unbind
narrow = Tensor.narrow
diag = Tensor.diag
diagonal = Tensor.diagonal
square = Tensor.square
log2 = Tensor.log2
log10 = Tensor.log10
exp2 = Tensor.exp2
expm1 = Tensor.expm1
rsqrt = Tensor.rsqrt
reciprocal = Tensor.reciprocal
erf = Tensor.erf
erfc = Tensor.erfc
erfinv = Tensor.erfinv
tan = Tensor.tan
asin = arcsin = Tensor.asin
acos = arccos = Tensor.acos
atan = arctan = Tensor.atan
atan2 = arctan2 = Tensor.atan2
sinh = Tensor.sinh
cosh = Tensor.cosh
asinh = arcsinh = Tensor.asinh
acosh = arccosh = Tensor.acosh
atanh = arctanh = Tensor.atanh
frac = Tensor.frac
isnan = Tensor.isnan
isinf = Tensor.isinf
isposinf = Tensor.isposinf
isneginf = Tensor.isneginf
isfinite = Tensor.isfinite
nan_to_num = Tensor.nan_to_num
logical_and = Tensor.logical_and
logical_or = Tensor.logical_or
logical_xor = Tensor.logical_xor
logical_not = Tensor.logical_not
isclose = Tensor.isclose
allclose = Tensor.allclose
equal = Tensor.equal
outer = Tensor.outer
ger = Tensor.ger
mm = Tensor.mm
bmm = Tensor.bmm
mv = Tensor.mv
dot = Tensor.dot


def leaky_relu(input: Tensor, negative_slope: _float = 0.01) -> Tensor:  # noqa: A002
    """x if x > 0 else negative_slope * x"""
    return input.leaky_relu(negative_slope)


def softplus(input: Tensor, beta: _float = 1.0, threshold: _float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + exp(beta x)) / beta, linear above ``threshold`` (no overflow)"""
    return input.softplus(beta, threshold)


def _tensor_argument(name: str, value: object) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(value).__name__}")
    return value


def numel(input: Tensor) -> _int:  # noqa: A002
    """The number of elements of ``input``."""
    return _tensor_argument("numel", input).numel()


def is_floating_point(input: Tensor) -> _bool:  # noqa: A002
    """Whether ``input`` has a floating point dtype (float16, float32, float64)."""
    return _tensor_argument("is_floating_point", input).is_floating_point()


def is_tensor(obj: object) -> _bool:
    """Whether ``obj`` is a microtensor ``Tensor`` (a ``Parameter`` is one too)."""
    return isinstance(obj, Tensor)


__all__ = [
    "abs", "accelerator", "acos", "acosh", "add", "allclose", "amax", "amin", "arange", "arccos",
    "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmax", "argmin", "argsort",
    "asin", "asinh", "atan", "atan2", "atanh", "autograd", "backends", "bernoulli", "bitwise_and",
    "bitwise_not", "bitwise_or", "bitwise_xor", "bmm", "bool", "bool_", "broadcast_shapes", "cat",
    "ceil", "chunk", "clamp", "clip", "clone", "cos", "cosh", "cuda", "cumprod", "cumsum",
    "default_generator", "detach", "device", "diagnose", "diag", "diagonal", "div", "dot", "double",
    "draw_graph", "einsum", "empty", "enable_grad", "eq", "equal", "erf", "erfc", "erfinv", "exp",
    "exp2", "expm1", "eye", "fix", "flatten", "flip", "fliplr", "flipud", "float", "float16",
    "float32", "float64", "floor", "floor_divide", "fmod", "frac", "from_numpy", "full",
    "full_like", "gather", "ge", "Generator", "ger", "get_default_device", "get_default_dtype",
    "get_rng_state", "gt", "half", "index_add", "index_select", "inference_mode", "initial_seed",
    "int", "int16", "int32", "int64", "int8", "is_floating_point", "is_grad_enabled", "is_tensor",
    "isclose", "isfinite", "isinf", "isnan", "isneginf", "isposinf", "kthvalue", "le",
    "leaky_relu", "lerp", "linalg", "linspace", "load", "log", "log10", "log1p", "log2",
    "log_softmax", "logical_and", "logical_not", "logical_or", "logical_xor", "logsumexp", "long",
    "lt", "manual_seed", "masked_fill", "masked_select", "matmul", "max", "maximum", "mean",
    "median", "meshgrid", "min", "minimum", "mm", "mode", "mul", "multinomial", "mv", "nan_to_num",
    "narrow", "ne", "neg", "nn", "no_grad", "norm", "normal", "numel", "ones", "ones_like",
    "optim", "outer", "permute", "poisson", "pow", "prod", "rand", "rand_like", "randint", "randn",
    "randn_like", "randperm", "reciprocal", "relu", "remainder", "repeat_interleave", "reshape",
    "roll", "round", "rsqrt", "save", "save_graph", "scatter", "scatter_add", "seed",
    "set_default_device", "set_default_dtype", "set_grad_enabled", "set_rng_state", "short",
    "sigmoid", "sign", "sin", "sinh", "Size", "softmax", "softplus", "sort", "split", "sqrt",
    "square", "squeeze", "stack", "std", "std_mean", "sub", "sum", "take", "take_along_dim", "tan",
    "tanh", "Tensor", "tensor", "tile", "to_dot", "topk", "transpose", "tril", "triu", "trunc",
    "uint8", "unbind", "unflatten", "unique", "unsqueeze", "utils", "var", "var_mean", "viz",
    "where", "zeros", "zeros_like",
    "compile", "jit",  # (issue 12: microtensor.compile)
]
