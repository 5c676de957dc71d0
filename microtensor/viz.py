"""Draw the computation graph: DOT text, a ``graphviz.Digraph``, or an SVG/PNG/PDF file.

The picture is read from the roots' ``grad_fn`` nodes (``Context``) and their ``inputs``:

- an **op** (one recorded ``Function`` call) is an ellipse labelled with the Function's class name
  (so user-defined ops label themselves), its keyword arguments that differ from the defaults
  (``Sum dim=(1,)``) and the shape of its result (``→ (4, 1)``);
- a **tensor box** is drawn for every leaf (parameters by name, other leaves as ``input``), every
  root (``output``, or the name given) and every tensor named in ``params``; it shows the shape
  and dtype and, after ``backward()``, the values and the gradient;
- intermediate results that have no name are the arrows between ops: their shape is printed in
  the op that computed them, their values are not drawn (name them in ``params`` to see them,
  or draw them all with ``show_activations``);
- an operand that needs no gradient (a number, or a tensor without ``requires_grad`` such as the
  training data) is not kept by the graph: it is drawn as a small ``constant`` node;
- every operand is its own arrow, so ``x * x`` has two arrows into ``Mul``.

To show where a gradient dies, ``show_activations`` boxes every result with its gradient and
``color_by_grad`` colours boxes and arrows by the magnitude of their gradient; both draw the
gradient of the first root, computed by ``autograd.grad`` (so .grad is left as it was).
``expand_fused`` draws fused ops (``Linear``, ...) as the primitives of their formula.

The traversal uses an explicit queue (no recursion), node names are numbered in traversal order
(the same graph gives the same DOT text) and ``max_nodes`` cuts large graphs with a visible note.

Rendering uses the Graphviz ``dot`` program when it is installed, otherwise the Graphviz library
bundled in the ``pygraphviz`` wheels (``pip install "microtensor[render]"``).
"""

from __future__ import annotations

import ctypes
import functools
import html
import inspect
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, cast, overload

import graphviz
import numpy as np

from .autograd.engine import format_shape
from .autograd.engine import grad as autograd_grad
from .autograd.function import Context, Function, TensorBase

__all__ = ["ComputationGraph", "GraphvizNotFoundError", "draw_graph", "save_graph", "to_dot"]

# Tensors with at most this many elements are printed in full; larger ones are summarised.
FULL_PRINT_MAX = 8

# (fill colour, border colour) per kind of node; the label also says what each node is.
_COLORS = {
    "op": ("#f1f5f9", "#475569"),
    "parameter": ("#fde68a", "#b45309"),
    "input": ("#bfdbfe", "#1d4ed8"),
    "output": ("#bbf7d0", "#15803d"),
    "named": ("#e9d5ff", "#7e22ce"),
    "activation": ("#ccfbf1", "#0f766e"),
    "constant": ("#ffffff", "#94a3b8"),
    "note": ("#fee2e2", "#b91c1c"),
}
_GRAD_COLOR = "#b91c1c"
_DIM_COLOR = "#475569"
_MONO = "Courier"

_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}

_INSTALL_HINT = (
    "Rendering needs Graphviz, and neither the `dot` program (system Graphviz) nor the "
    "pygraphviz package (which bundles Graphviz) was found. Install one of them:\n"
    '    pip install "microtensor[render]"      (installs pygraphviz; in a checkout of '
    'microtensor: pip install -e ".[render]")\n'
    "    or the system package: apt install graphviz / brew install graphviz / "
    "conda install graphviz / https://graphviz.org/download/")


class GraphvizNotFoundError(RuntimeError):
    """Raised when a graph must be rendered and no Graphviz engine is installed."""


# ----------------------------------------------------------------------------------------------
# Text: numbers, shapes, op arguments, HTML-like labels
# ----------------------------------------------------------------------------------------------

def _number(x: float, precision: int) -> str:
    """One number: positional with ``precision`` decimals, or scientific (``3.0e-09``) where
    positional would hide it (a magnitude below ``10**-precision`` would print as 0) or is
    too long (1e6 and more). Exact zeros print as ``0`` (negative zero too)."""
    if x == 0:
        return "0"
    if not math.isfinite(x) or 10.0**-precision <= abs(x) < 1e6:
        return np.format_float_positional(x, precision=precision, trim="-")
    return np.format_float_scientific(x, precision=precision, trim="0")


def _element(x: Any, precision: int) -> str:
    """One element of a printed array, as NumPy prints it (``0.``, ``-0.5``, ``1.``), except
    that a value positional notation would round to zero is scientific (``3.0e-09``)."""
    if not np.isfinite(x) or x == 0 or 10.0**-precision <= abs(x) < 1e6:
        return np.format_float_positional(x, precision=precision, trim=".")
    return np.format_float_scientific(x, precision=precision, trim="0")


def _small_array(arr: np.ndarray, precision: int) -> str:
    """A small float array in NumPy's layout, decimal points aligned, no value hidden as 0."""
    texts = [_element(x, precision) for x in arr.flat]
    left = max(len(t.split(".")[0]) for t in texts)
    right = max(len(t.split(".", 1)[1]) if "." in t else 0 for t in texts)

    def aligned(x: Any) -> str:
        whole, dot, fraction = _element(x, precision).partition(".")
        return whole.rjust(left) + (dot + fraction).ljust(right + 1)

    return np.array2string(arr, formatter={"float_kind": aligned}, max_line_width=80)


def _values(arr: np.ndarray, precision: int) -> list[str]:
    """Small arrays in full (one line per row); large ones as min/mean/max and norm."""
    if arr.size == 0:
        return ["empty"]
    if arr.size <= FULL_PRINT_MAX:
        if arr.ndim == 0:
            return [_number(float(arr), precision) if arr.dtype.kind == "f" else str(arr)]
        if arr.dtype.kind == "f":
            return _small_array(arr, precision).split("\n")
        return np.array2string(arr, max_line_width=80).split("\n")
    with np.errstate(all="ignore"):
        a = arr.astype(np.float64)
        low, mean, high, norm = a.min(), a.mean(), a.max(), np.sqrt(np.sum(a * a))
    return [f"min {_number(low, precision)}  max {_number(high, precision)}",
            f"mean {_number(mean, precision)}  norm {_number(norm, precision)}"]


def _shape(shape: tuple[int, ...]) -> str:
    return format_shape(shape) if shape else "scalar"


def _arg(value: Any) -> str:
    """A readable, short text for an op's keyword argument."""
    if isinstance(value, tuple):
        inner = ", ".join(_arg(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, slice):
        parts = ["" if v is None else str(v) for v in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    if value is Ellipsis:
        return "..."
    if isinstance(value, np.ndarray):
        return f"array{_shape(value.shape)}" if value.size > 4 else np.array2string(value)
    if isinstance(value, np.dtype | type):
        return str(np.dtype(value)) if isinstance(value, np.dtype) else value.__name__
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _same(value: Any, default: Any) -> bool:
    """True when a keyword argument equals the op's default (such arguments are not printed)."""
    if default is inspect.Parameter.empty or isinstance(value, np.ndarray):
        return False
    try:
        return bool(value == default) and type(value) is type(default)
    except (TypeError, ValueError):
        return False


def _esc(text: str) -> str:
    """Text for an HTML-like Graphviz label: ``<>&"`` escaped, line breaks removed."""
    return html.escape(text.replace("\n", " ").replace("\r", " "), quote=True)


def _row(text: str, *, bold: bool = False, color: str | None = None, mono: bool = False,
         size: int | None = None, align: str = "LEFT") -> str:
    """One row of a label table (Graphviz keeps repeated spaces, so columns line up)."""
    body = _esc(text)
    if bold:
        body = f"<B>{body}</B>"
    font = []
    if color:
        font.append(f'COLOR="{color}"')
    if mono:
        font.append(f'FACE="{_MONO}"')
    if size:
        font.append(f'POINT-SIZE="{size}"')
    if font:
        body = f"<FONT {' '.join(font)}>{body}</FONT>"
    return f'<TR><TD ALIGN="{align}">{body}</TD></TR>'


def _label(rows: Iterable[str]) -> str:
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
            + "".join(rows) + "</TABLE>>")


def _attrs(**attrs: str) -> str:
    """DOT attributes; HTML-like labels (``<...>``) are written as they are, others quoted."""
    parts = []
    for key, value in attrs.items():
        if value.startswith("<") and value.endswith(">"):
            parts.append(f"{key}={value}")
        else:
            parts.append(f'{key}="{value}"')
    return "[" + " ".join(parts) + "]"


# ----------------------------------------------------------------------------------------------
# Gradient magnitudes: colours on a log scale
# ----------------------------------------------------------------------------------------------

# One class per decade of mean |grad|, largest first: (lowest magnitude, legend text, fill colour,
# line colour). Warm colours are large gradients, cold ones small: a gradient that vanishes
# toward the input turns from orange to violet along the arrows.
_GRAD_CLASSES = [
    (10.0, "\u2265 10", "#f87171", "#b91c1c"),
    (1.0, "1 \u2013 10", "#fb923c", "#c2410c"),
    (0.1, "0.1 \u2013 1", "#fcd34d", "#b45309"),
    (1e-2, "0.01 \u2013 0.1", "#bef264", "#4d7c0f"),
    (1e-3, "1e-3 \u2013 0.01", "#6ee7b7", "#047857"),
    (1e-4, "1e-4 \u2013 1e-3", "#67e8f9", "#0e7490"),
    (1e-5, "1e-5 \u2013 1e-4", "#93c5fd", "#1d4ed8"),
    (1e-6, "1e-6 \u2013 1e-5", "#a5b4fc", "#4338ca"),
    (0.0, "< 1e-6 (vanishing)", "#c4b5fd", "#6d28d9"),
]
# Two more classes: exactly zero (or no gradient at all) and not finite (nan or inf).
_GRAD_ZERO = (-1.0, "0: the gradient dies here", "#e5e7eb", "#111827")
_GRAD_NOT_FINITE = (math.nan, "nan or inf", "#f0abfc", "#a21caf")


def _grad_class(grad: np.ndarray | None) -> int:
    """The index of ``grad``'s class: 0 to 8 by decade of mean |grad| (largest first), then 9
    for exactly zero (or ``None``: no gradient reached the tensor), 10 for nan or inf."""
    if grad is None or grad.size == 0:
        return len(_GRAD_CLASSES)
    with np.errstate(all="ignore"):
        magnitude = float(np.mean(np.abs(grad.astype(np.float64))))
    if not math.isfinite(magnitude):
        return len(_GRAD_CLASSES) + 1
    if magnitude == 0:
        return len(_GRAD_CLASSES)
    return next(i for i, (low, *_) in enumerate(_GRAD_CLASSES) if magnitude >= low)


def _grad_style(index: int) -> tuple[str, str, str]:
    """(legend text, fill colour, line colour) of a gradient class."""
    _, text, fill, line = (_GRAD_CLASSES + [_GRAD_ZERO, _GRAD_NOT_FINITE])[index]
    return text, fill, line


def _graph_tensors(roots: Sequence[TensorBase]) -> list[TensorBase]:
    """Every tensor of the graph that requires grad (roots, intermediates, leaves), once each."""
    found: dict[int, TensorBase] = {}
    stack = list(roots)
    while stack:
        t = stack.pop()
        if id(t) in found or not t.requires_grad:
            continue
        found[id(t)] = t
        if t.grad_fn is not None:
            stack += [a for a in t.grad_fn.inputs if isinstance(a, TensorBase)]
    return list(found.values())


_FREED_HINT = (
    "show_activations and color_by_grad draw the gradient of {what} with respect to every "
    "tensor of its graph, which the drawing computes with mt.autograd.grad(..., "
    "retain_graph=True); but a backward() has already freed this graph's saved values. Draw "
    "before calling backward(), or call backward(retain_graph=True) first. (show_grad=False "
    "with show_activations=True draws the values only and needs no gradient.)")


def _root_gradients(root: TensorBase, tensors: list[TensorBase],
                    what: str) -> dict[int, np.ndarray | None]:
    """d root / d t for each tensor ``t`` (``None`` where no gradient reaches it), by id.

    Computed with the public ``autograd.grad``, which accumulates into no leaf's ``.grad``. It
    does give its gradient to a tensor that called ``retain_grad()`` (as PyTorch's does), so
    each tensor's ``.grad`` is put back afterwards: drawing changes no gradient. Hooks
    registered on the tensors run, as in any ``autograd.grad`` call.
    """
    if not root.requires_grad:
        return {}
    if root._data.size != 1:
        raise ValueError(
            f"show_activations and color_by_grad draw the gradient of the first root, which "
            f"must be a single number (the loss), but {what} has shape "
            f"{_shape(root._data.shape)}: pass the loss first, e.g. root=[loss, output]")
    kept = [(t, t._grad) for t in tensors]
    try:
        grads = autograd_grad(root, tensors, retain_graph=True, allow_unused=True)
    except RuntimeError as exc:
        if "backward through the graph a second time" not in str(exc):
            raise
        raise RuntimeError(_FREED_HINT.format(what=what)) from exc
    finally:
        for t, old in kept:
            t._grad = old
    return {id(t): None if g is None else g._data for t, g in zip(tensors, grads, strict=True)}


# ----------------------------------------------------------------------------------------------
# Fused ops drawn as the primitives of their formula (labels only: nothing is recomputed)
# ----------------------------------------------------------------------------------------------

class _In(NamedTuple):
    """Operand of an expansion step: input number ``position`` of the fused op."""
    position: int


class _Res(NamedTuple):
    """Operand of an expansion step: the result of step number ``step``."""
    step: int


class _Step(NamedTuple):
    """One primitive of a fused op's formula: its label, operands (``_In``, ``_Res``, or a
    number drawn as a constant) and the shape of its result."""
    label: str
    operands: tuple[Any, ...]
    shape: tuple[int, ...]


def _reduced(shape: tuple[int, ...], dims: Sequence[int]) -> tuple[int, ...]:
    """The shape of a reduction over ``dims`` with keepdim=True."""
    axes = {d % len(shape) for d in dims} if shape else set()
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand_linear(shapes: list[tuple[int, ...]], kwargs: Mapping[str, Any],
                   out: tuple[int, ...]) -> list[_Step]:
    """y = x @ W.T + b"""
    steps = [_Step("Permute dims=(1, 0)", (_In(1),), shapes[1][::-1]),
             _Step("Matmul", (_In(0), _Res(0)), out)]
    if len(shapes) > 2 and shapes[2] is not None:
        steps.append(_Step("Add", (_Res(1), _In(2)), out))
    return steps


def _expand_bce_with_logits(shapes: list[tuple[int, ...]], kwargs: Mapping[str, Any],
                            out: tuple[int, ...]) -> list[_Step]:
    """l = softplus(x) - x y  (softplus(x) = log(1 + exp(x))), then reduced"""
    x = shapes[0]
    steps = [_Step("Softplus", (_In(0),), x),
             _Step("Mul", (_In(0), _In(1)), x),
             _Step("Sub", (_Res(0), _Res(1)), x)]
    reduction = kwargs.get("reduction", "none")
    if reduction != "none":
        steps.append(_Step(reduction.capitalize(), (_Res(2),), out))
    return steps


def _expand_bce(shapes: list[tuple[int, ...]], kwargs: Mapping[str, Any],
                out: tuple[int, ...]) -> list[_Step]:
    """l = -(y log x + (1 - y) log(1 - x)), each log clamped at -100, then reduced"""
    x, y = shapes[0], shapes[1]
    steps = [_Step("Log (\u2265 -100)", (_In(0),), x),
             _Step("Mul", (_In(1), _Res(0)), x),
             _Step("Sub", (1, _In(1)), y),
             _Step("Sub", (1, _In(0)), x),
             _Step("Log (\u2265 -100)", (_Res(3),), x),
             _Step("Mul", (_Res(2), _Res(4)), x),
             _Step("Add", (_Res(1), _Res(5)), x),
             _Step("Neg", (_Res(6),), x)]
    reduction = kwargs.get("reduction", "none")
    if reduction != "none":
        steps.append(_Step(reduction.capitalize(), (_Res(7),), out))
    return steps


def _expand_log_softmax(shapes: list[tuple[int, ...]], kwargs: Mapping[str, Any],
                        out: tuple[int, ...]) -> list[_Step]:
    """y = x - logsumexp(x) over dim"""
    dim = kwargs.get("dim", -1)
    dim = dim % len(out) if out else dim  # (as Tensor.logsumexp records it)
    return [_Step(f"Logsumexp dim=({dim},) keepdim=True", (_In(0),), _reduced(out, (dim,))),
            _Step("Sub", (_In(0), _Res(0)), out)]


def _expand_cross_entropy(shapes: list[tuple[int, ...]], kwargs: Mapping[str, Any],
                          out: tuple[int, ...]) -> list[_Step]:
    """l = -log_softmax(x)[t] per row (x - logsumexp(x), the target's entry), then reduced"""
    n, c = shapes[0]
    steps = [_Step("Logsumexp dim=(1,) keepdim=True", (_In(0),), (n, 1)),
             _Step("Sub", (_In(0), _Res(0)), (n, c)),
             _Step("TakeAlongDim dim=1 (the target's entry)", (_Res(1), _In(1)), (n,)),
             _Step("Neg", (_Res(2),), (n,))]
    reduction = kwargs.get("reduction", "mean")
    if reduction != "none":
        steps.append(_Step(reduction.capitalize(), (_Res(3),), out))
    return steps


def _expand_layer_norm(shapes: list[tuple[int, ...]], kwargs: Mapping[str, Any],
                       out: tuple[int, ...]) -> list[_Step]:
    """y = (x - mean) / sqrt(var + eps) * w + b over the last ``ndim`` dims"""
    ndim, eps = kwargs.get("ndim", 1), kwargs.get("eps", 1e-5)
    dims = tuple(range(len(out) - ndim, len(out)))  # (as Tensor.mean records them)
    args = f"dim={_arg(dims)} keepdim=True"
    stat = _reduced(out, dims)
    steps = [_Step(f"Mean {args}", (_In(0),), stat),
             _Step("Sub", (_In(0), _Res(0)), out),
             _Step(f"Var {args} correction=0", (_In(0),), stat),
             _Step("Add", (_Res(2), eps), stat),
             _Step("Rsqrt", (_Res(3),), stat),
             _Step("Mul", (_Res(1), _Res(4)), out)]
    if shapes[1] is not None:
        steps.append(_Step("Mul", (_Res(len(steps) - 1), _In(1)), out))
    if shapes[2] is not None:
        steps.append(_Step("Add", (_Res(len(steps) - 1), _In(2)), out))
    return steps


def _expand_transposed_matmul(shapes: list[tuple[int, ...]], kwargs: Mapping[str, Any],
                              out: tuple[int, ...]) -> list[_Step]:
    """z = a.T @ b  (in the backward of Linear: dW = g.T @ x)"""
    return [_Step("Permute dims=(1, 0)", (_In(0),), shapes[0][::-1]),
            _Step("Matmul", (_Res(0), _In(1)), out)]


def _expand_sigmoid_grad(shapes: list[tuple[int, ...]], kwargs: Mapping[str, Any],
                         out: tuple[int, ...]) -> list[_Step]:
    """z = g * y * (1 - y)"""
    return [_Step("Mul", (_In(0), _In(1)), out),
            _Step("Sub", (1, _In(1)), shapes[1]),
            _Step("Mul", (_Res(0), _Res(1)), out)]


def _expand_tanh_grad(shapes: list[tuple[int, ...]], kwargs: Mapping[str, Any],
                      out: tuple[int, ...]) -> list[_Step]:
    """z = g * (1 - y * y)"""
    return [_Step("Mul", (_In(1), _In(1)), shapes[1]),
            _Step("Sub", (1, _Res(0)), shapes[1]),
            _Step("Mul", (_In(0), _Res(1)), out)]


Expansion = Callable[[list[Any], Mapping[str, Any], tuple[int, ...]], list[_Step]]

# Fused op -> its formula as primitive steps. The ops are named by module and class (viz does
# not import nn), so that a user's own Function called ``Linear`` is drawn as it is.
_EXPANSIONS: dict[str, Expansion] = {
    "microtensor.nn.fused.Linear": _expand_linear,
    "microtensor.nn.fused.BinaryCrossEntropyWithLogits": _expand_bce_with_logits,
    "microtensor.nn.fused.BinaryCrossEntropy": _expand_bce,
    "microtensor.nn.fused.CrossEntropy": _expand_cross_entropy,
    "microtensor.ops.reduce.LogSoftmax": _expand_log_softmax,
    "microtensor.ops.norm.LayerNorm": _expand_layer_norm,
    "microtensor.ops.linalg.TransposedMatmul": _expand_transposed_matmul,
    "microtensor.ops.elementwise.SigmoidGrad": _expand_sigmoid_grad,
    "microtensor.ops.elementwise.TanhGrad": _expand_tanh_grad,
}


def _expansion(fn: type[Function]) -> Expansion | None:
    return _EXPANSIONS.get(f"{fn.__module__}.{fn.__qualname__}")


# ----------------------------------------------------------------------------------------------
# Reading the graph
# ----------------------------------------------------------------------------------------------

def _is_module(obj: Any) -> bool:
    # Duck typing: viz does not import nn (both sit on top of Tensor, side by side).
    return hasattr(obj, "named_parameters") and hasattr(obj, "named_modules")


def _roots(root: Any) -> list[tuple[str | None, TensorBase]]:
    if isinstance(root, TensorBase):
        return [(None, root)]
    items: list[tuple[str | None, Any]]
    if isinstance(root, Mapping):
        items = [(str(name), t) for name, t in root.items()]
    elif isinstance(root, Sequence):
        items = [(None, t) for t in root]
    else:
        items = []
    if not items or not all(isinstance(t, TensorBase) for _, t in items):
        raise TypeError("root must be a Tensor, a non-empty sequence of Tensors or a mapping from "
                        f"names to Tensors, got {type(root).__name__}")
    return items


class _Drawing:
    """Walks the graph from the roots (breadth first) and collects DOT nodes, edges and clusters."""

    def __init__(self, roots: list[tuple[str | None, TensorBase]], params: Any, *,
                 inputs: Mapping[str, TensorBase] | None, show_data: bool, show_grad: bool,
                 show_shapes: bool, group_modules: bool, precision: int,
                 max_nodes: int | None, show_activations: bool = False,
                 color_by_grad: bool = False, expand_fused: bool = False) -> None:
        self.show_data, self.show_grad, self.show_shapes = show_data, show_grad, show_shapes
        self.group_modules, self.precision, self.max_nodes = group_modules, precision, max_nodes
        self.show_activations, self.color_by_grad = show_activations, color_by_grad
        self.expand_fused = expand_fused
        # With show_activations or color_by_grad: d(first root)/d(tensor) by id(tensor), computed
        # by the drawing; None: the gradients shown are the tensors' own .grad.
        self.grads: dict[int, np.ndarray | None] | None = None
        self.classes: set[int] = set()                      # gradient classes drawn (legend)
        self.steps: dict[int, list[str]] = {}               # id(ctx) -> nodes of its expansion
        self.expanded: dict[int, list[_Step]] = {}          # id(ctx) -> its expansion's steps
        self.names: dict[int, str] = {}                     # id(tensor) -> name from params
        self.module_names: dict[int, str] = {}              # id(module) -> dotted name
        self.owner: dict[int, tuple[Any, ...]] = {}         # id(parameter) -> owning modules
        self._read_params(params)
        for name, t in (inputs or {}).items():
            if not isinstance(t, TensorBase):
                raise TypeError(f"inputs[{name!r}] must be a Tensor, got {type(t).__name__}")
            self.names[id(t)] = str(name)
        self.titles = {id(t): name or self.names.get(id(t))
                       or ("output" if len(roots) == 1 else f"output {i}")
                       for i, (name, t) in enumerate(roots)}
        self.roots = roots
        # Every drawn node, in the order found: (DOT name, attributes, enclosing modules).
        self.nodes: list[tuple[str, str, tuple[Any, ...]]] = []
        self.edges: list[str] = []
        self.tensor_node: dict[int, str] = {}
        self.op_node: dict[int, str] = {}
        self.hidden: list[Any] = []        # tensors and ops left out by max_nodes
        self.cut: dict[str, None] = {}     # drawn nodes with a left-out input (ordered set)
        self.queue: deque[Context] = deque()
        self.keep: list[Any] = []          # keeps every id() used above valid while drawing
        self.defaults: dict[type[Function], dict[str, Any]] = {}
        self.constants = 0

    def _read_params(self, params: Any) -> None:
        if params is None:
            return
        if _is_module(params):
            modules = dict(params.named_modules())
            self.module_names = {id(m): name for name, m in modules.items()}
            for name, p in params.named_parameters():
                self.names[id(p)] = name
                parts = name.split(".")[:-1]
                chain = [""] + [".".join(parts[:i + 1]) for i in range(len(parts))]
                self.owner[id(p)] = tuple(modules[n] for n in chain if n in modules)
        elif isinstance(params, Mapping):
            for name, t in params.items():
                if not isinstance(t, TensorBase):
                    raise TypeError(f"params[{name!r}] must be a Tensor, got {type(t).__name__}")
                self.names[id(t)] = str(name)
        else:
            raise TypeError("params must be a Module or a mapping from names to Tensors, got "
                            f"{type(params).__name__}")

    # -- traversal -----------------------------------------------------------------------------

    def build(self) -> None:
        if (self.show_activations and self.show_grad) or self.color_by_grad:
            root = self.roots[0][1]
            tensors = _graph_tensors([t for _, t in self.roots])
            self.keep += tensors
            self.grads = _root_gradients(root, tensors, self.titles[id(root)])
        for _, t in self.roots:
            self._source(t)
        while self.queue:
            ctx = self.queue.popleft()
            op = self.op_node[id(ctx)]
            if id(ctx) not in self.expanded:
                for t in ctx.inputs:
                    self._edge_from(t, ctx.scope, op)
                continue
            # A fused op drawn as its formula: each step's operands, then the steps' results.
            nodes = self.steps[id(ctx)]
            for node, step in zip(nodes, self.expanded[id(ctx)], strict=True):
                for operand in step.operands:
                    if isinstance(operand, _Res):
                        self.edges.append(f"\t{nodes[operand.step]} -> {node}\n")
                    elif isinstance(operand, _In):
                        self._edge_from(ctx.inputs[operand.position], ctx.scope, node)
                    else:
                        self._edge_from(operand, ctx.scope, node)
        if self.hidden:
            self._note()

    def _edge_from(self, value: Any, scope: tuple[Any, ...], target: str) -> None:
        """The arrow that brings ``value`` (a tensor, or a constant) into node ``target``."""
        if not isinstance(value, TensorBase):
            const = self._constant(scope, value)
            self.edges.append(f'\t{const} -> {target} [style="dashed" color="#94a3b8"]\n')
            return
        src = self._source(value)
        if src is None:
            self.cut[target] = None
        else:
            self.edges.append(f"\t{src} -> {target}{self._edge_style(value)}\n")

    def _edge_style(self, t: TensorBase) -> str:
        """With color_by_grad, an arrow takes the colour of the gradient of the tensor it
        carries (backward sends that gradient along it, the other way)."""
        if not self.color_by_grad or self.grads is None or not t.requires_grad:
            return ""
        index = _grad_class(self.grads.get(id(t)))
        self.classes.add(index)
        return f' [color="{_grad_style(index)[2]}" penwidth="2.2"]'

    def _grad(self, t: TensorBase) -> np.ndarray | None:
        """The gradient drawn for ``t``: computed by the drawing, or else ``t``'s ``.grad``."""
        if self.grads is not None:
            return self.grads.get(id(t))
        return None if t._grad is None else t._grad._data  # (not .grad: it warns on non-leaves)

    def _full(self) -> bool:
        drawn = len(self.tensor_node) + len(self.op_node)
        return self.max_nodes is not None and drawn >= self.max_nodes

    def _boxed(self, t: TensorBase) -> bool:
        """Leaves, roots and named tensors get a box; other results are arrows between ops,
        unless show_activations boxes every result."""
        return (self.show_activations or t.grad_fn is None or id(t) in self.titles
                or id(t) in self.names)

    def _source(self, t: TensorBase) -> str | None:
        """The node an arrow carrying ``t`` starts from (drawn now if new; None if cut off)."""
        if id(t) in self.tensor_node:
            return self.tensor_node[id(t)]
        if t.grad_fn is not None and not self._boxed(t):
            return self._op(t.grad_fn, t)
        if self._full():
            self.hidden.append(t)
            return None
        box = self._tensor(t)
        if t.grad_fn is not None:
            src = self._op(t.grad_fn, t)
            if src is None:
                self.cut[box] = None
            else:
                self.edges.append(f"\t{src} -> {box}{self._edge_style(t)}\n")
        return box

    def _op(self, ctx: Context, out: TensorBase) -> str | None:
        """The node of op ``ctx`` (whose result is ``out``), drawn and queued if new."""
        if id(ctx) in self.op_node:
            return self.op_node[id(ctx)]
        if self._full():
            self.hidden.append(ctx)
            return None
        node = f"op{len(self.op_node)}"
        self.op_node[id(ctx)] = node
        self.keep.append(ctx)
        self.queue.append(ctx)
        expand = _expansion(ctx.fn) if self.expand_fused else None
        if expand is None:
            self.nodes.append((node, self._op_attrs(ctx, out), ctx.scope))
            return node
        # The last step computes the op's result, so it takes the op's node name; the others
        # are named after it. Written last step first (body() reverses the order found).
        shapes = [a._data.shape if isinstance(a, TensorBase) else
                  None if a is None else np.shape(a) for a in ctx.inputs]
        steps = expand(shapes, ctx.kwargs, out._data.shape)
        names = [f"{node}_{k}" for k in range(len(steps) - 1)] + [node]
        self.expanded[id(ctx)], self.steps[id(ctx)] = steps, names
        for name, step in reversed(list(zip(names, steps, strict=True))):
            self.nodes.append((name, self._op_box(step.label, step.shape), ctx.scope))
        return node

    # -- nodes ---------------------------------------------------------------------------------

    def _tensor(self, t: TensorBase) -> str:
        node = f"t{len(self.tensor_node)}"
        self.tensor_node[id(t)] = node
        self.keep.append(t)
        title: str | None
        if id(t) in self.titles:
            kind, title = "output", self.titles[id(t)]
        elif t.grad_fn is None:
            # Named leaves that learn are parameters; data (no gradient) is an input.
            kind = "parameter" if id(t) in self.names and t.requires_grad else "input"
            title = self.names.get(id(t), "input")
        elif id(t) in self.names:
            kind, title = "named", self.names[id(t)]
        else:  # an op's result boxed by show_activations: the op above it names it
            kind, title = "activation", None
        rows = [] if title is None else [_row(title, bold=True)]
        if self.show_shapes:
            rows.append(_row(f"{_shape(t._data.shape)} {t._data.dtype}", color=_DIM_COLOR))
        if self.show_data:
            rows += self._value_rows("data", t._data)
        grad = self._grad(t)
        if self.show_grad and grad is not None:
            rows += self._value_rows("grad", grad, _GRAD_COLOR)
        elif self.show_grad and self.grads and t.requires_grad:
            rows.append(_row("grad none (no gradient reaches it)", mono=True,
                             color=_GRAD_COLOR))
        if not rows:
            rows.append(_row("result", bold=True))
        fill, border = _COLORS[kind]
        if self.color_by_grad and self.grads is not None and t.requires_grad:
            index = _grad_class(grad)
            self.classes.add(index)
            _, fill, border = _grad_style(index)
        attrs = _attrs(label=_label(rows), shape="box", style="filled", fillcolor=fill,
                       color=border)
        # A parameter sits in its module's frame, an activation in the frame of the op above it.
        scope = t.grad_fn.scope if kind == "activation" and t.grad_fn else self.owner.get(id(t), ())
        self.nodes.append((node, attrs, scope))
        return node

    def _value_rows(self, what: str, arr: np.ndarray, color: str | None = None) -> list[str]:
        lines = _values(np.asarray(arr), self.precision)
        pad = " " * (len(what) + 1)
        return [_row((what + " " if i == 0 else pad) + line, mono=True, color=color)
                for i, line in enumerate(lines)]

    def _op_attrs(self, ctx: Context, out: TensorBase) -> str:
        defaults = self._defaults(ctx.fn)
        args = " ".join(f"{k}={_arg(v)}" for k, v in ctx.kwargs.items()
                        if not _same(v, defaults.get(k, inspect.Parameter.empty)))
        title = ctx.fn.__name__
        return self._op_box(f"{title} {args}" if args else title, out._data.shape)

    def _op_box(self, title: str, shape: tuple[int, ...]) -> str:
        """An op's ellipse: its name and arguments, and the shape of its result."""
        rows = [_row(title, bold=True, align="CENTER")]
        if self.show_shapes:
            rows.append(_row(f"\u2192 {_shape(shape)}", color=_DIM_COLOR, align="CENTER"))
        fill, border = _COLORS["op"]
        return _attrs(label=_label(rows), shape="ellipse", style="filled", fillcolor=fill,
                      color=border, margin="0.04,0.02")

    def _defaults(self, fn: type[Function]) -> dict[str, Any]:
        if fn not in self.defaults:
            try:
                params = inspect.signature(fn.forward).parameters.values()
                self.defaults[fn] = {p.name: p.default for p in params}
            except (TypeError, ValueError):
                self.defaults[fn] = {}
        return self.defaults[fn]

    def _constant(self, scope: tuple[Any, ...], value: Any) -> str:
        """A small dashed node for a non-tensor argument of an op (a number, an array)."""
        node = f"c{self.constants}"
        self.constants += 1
        fill, border = _COLORS["constant"]
        text = f"array {_shape(value.shape)}" if isinstance(value, np.ndarray) else _arg(value)
        attrs = _attrs(label=_label([_row(text, color=_DIM_COLOR, size=10)]),
                       shape="box", style="rounded,dashed", fillcolor=fill, color=border,
                       margin="0.04,0.02", height="0.2")
        self.nodes.append((node, attrs, scope))
        return node

    def _note(self) -> None:
        """Count what ``max_nodes`` left out (without drawing it) and draw one note for it."""
        seen = set(self.tensor_node) | set(self.op_node)
        stack = list(self.hidden)
        count = 0
        while stack:
            item = stack.pop()
            if id(item) in seen:
                continue
            seen.add(id(item))
            count += 1
            if isinstance(item, TensorBase):
                if item.grad_fn is not None:
                    stack.append(item.grad_fn)
                continue
            for t in item.inputs:
                if isinstance(t, TensorBase):
                    stack.append(t if self._boxed(t) else t.grad_fn)
        text = f"... {count:,} more nodes not drawn (max_nodes={self.max_nodes})"
        fill, border = _COLORS["note"]
        attrs = _attrs(label=_label([_row(text, bold=True)]), shape="note", style="filled",
                       fillcolor=fill, color=border)
        self.nodes.append(("more", attrs, ()))
        self.edges += [f'\tmore -> {node} [style="dashed"]\n' for node in self.cut]

    # -- DOT -----------------------------------------------------------------------------------

    def body(self) -> list[str]:
        """The DOT statements: the nodes (inside one box per module), then the edges."""
        # Nodes are written inputs first (the reverse of the order found), which lays the
        # graph out in reading order: first layer on the left, loss at the bottom.
        nodes = self.nodes[::-1]
        legend = self._legend()
        if not self.group_modules:
            return [f"\t{node} {attrs}\n" for node, attrs, _ in nodes] + legend + self.edges
        # Where an op ran inside a module, that module's box sits where the op's scope says; a
        # parameter goes in the box of the module that owns it.
        scope_of: dict[int, tuple[Any, ...]] = {}
        for node, _, path in nodes:
            if node.startswith("op"):
                for depth, module in enumerate(path):
                    scope_of.setdefault(id(module), path[:depth + 1])
        children: dict[tuple[int, ...], list[tuple[int, ...]]] = {(): []}
        members: dict[tuple[int, ...], list[str]] = {(): []}
        module_of: dict[tuple[int, ...], Any] = {}
        for node, attrs, path in nodes:
            if path and node.startswith("t"):
                path = scope_of.get(id(path[-1]), path)
            key = tuple(id(m) for m in path)
            for depth in range(1, len(key) + 1):
                if key[:depth] not in members:
                    members[key[:depth]], children[key[:depth]] = [], []
                    children[key[:depth - 1]].append(key[:depth])
                    module_of[key[:depth]] = path[depth - 1]
            members[key].append(f"{node} {attrs}\n")
        # Nested clusters, written with an explicit stack (no recursion).
        lines: list[str] = []
        number = 0
        stack: list[tuple[tuple[int, ...], bool]] = [((), True)]
        while stack:
            key, entering = stack.pop()
            indent = "\t" * (len(key) + 1)
            if not entering:
                lines.append("\t" * len(key) + "}\n")
                continue
            if key:
                module = module_of[key]
                name = self.module_names.get(id(module), "")
                kind = type(module).__name__
                title = f"{name} ({kind})" if name else kind
                lines.append("\t" * len(key) + f"subgraph cluster_{number} {{\n")
                number += 1
                lines.append(f"{indent}label={_label([_row(title, bold=True)])}\n")
                lines.append(f'{indent}style="rounded,dashed" color="#64748b" labeljust="l"\n')
                stack.append((key, False))
            lines += [indent + line for line in members[key]]
            stack += [(child, True) for child in reversed(children[key])]
        return lines + legend + self.edges

    def _legend(self) -> list[str]:
        """With color_by_grad, a table: one row per colour drawn, largest gradients first."""
        if not self.classes:
            return []
        rows = ['<TR><TD COLSPAN="2" ALIGN="LEFT"><B>mean |grad|</B></TD></TR>']
        for index in sorted(self.classes):
            text, fill, line = _grad_style(index)
            rows.append(f'<TR><TD BGCOLOR="{fill}" COLOR="{line}" WIDTH="22"> </TD>'
                        f'<TD ALIGN="LEFT">{_esc(text)}</TD></TR>')
        table = ('<<TABLE BORDER="1" COLOR="#94a3b8" CELLBORDER="1" CELLSPACING="2" '
                 'CELLPADDING="3">' + "".join(rows) + "</TABLE>>")
        return [f"\tlegend {_attrs(label=table, shape='plaintext')}\n"]


# ----------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------

def _render_bundled(source: str, fmt: str) -> bytes:
    """Render DOT text with the Graphviz library bundled in the pygraphviz wheels."""
    # NOTE: pygraphviz is an optional dependency (the "render" extra), so it is imported here,
    # when it is needed, rather than at the top of the module.
    try:
        import pygraphviz
    except (ImportError, OSError) as exc:
        raise GraphvizNotFoundError(_INSTALL_HINT) from exc
    _start_bundled_fontconfig(Path(pygraphviz.__file__).parent)
    # With no path, draw() returns the picture as bytes (pygraphviz's annotations say "| None").
    return cast(bytes, pygraphviz.AGraph(string=source).draw(format=fmt, prog="dot"))


@functools.cache
def _start_bundled_fontconfig(package: Path) -> None:
    """Start the Fontconfig bundled with pygraphviz as it starts itself, minus one warning.

    Fontconfig (which finds the fonts of the labels) starts on the first picture: it loads its
    configuration (``$FONTCONFIG_FILE``, or /etc/fonts/fonts.conf and its conf.d), then reads
    every file of its template directory, /usr/share/fontconfig/conf.avail, only to collect
    their descriptions for the ``fc-conflist`` tool. The copy in the pygraphviz wheels
    (Fontconfig 2.13) reads the system's directory, which on newer systems (Fontconfig 2.14,
    e.g. Debian 12) holds ``05-reset-dirs-sample.conf`` with an element 2.13 does not know, so
    it prints ``Fontconfig warning: ... unknown element "reset-dirs"`` (under the first graph
    of a notebook). No setting turns that scan off, but it is only done when Fontconfig
    starts itself: here it is started with the same configuration loaded by its own functions
    (``FcConfigParseAndLoad`` with no file name reads the default one), and made current. The
    fonts, and so the pictures, are the same. Where pygraphviz uses a system Graphviz (no
    bundled library next to it) or anything fails, nothing is done.
    """
    found = sorted((package.parent / "pygraphviz.libs").glob("libfontconfig*.so*"))
    if not found:
        return
    try:
        fc = ctypes.CDLL(str(found[0]))  # already loaded by pygraphviz: the same library
        fc.FcConfigCreate.restype = ctypes.c_void_p
        fc.FcConfigParseAndLoad.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        fc.FcConfigSetCurrent.argtypes = [ctypes.c_void_p]  # (it also builds the font list)
        fc.FcConfigDestroy.argtypes = [ctypes.c_void_p]
        config = fc.FcConfigCreate()
        if not config:
            return
        if not (fc.FcConfigParseAndLoad(config, None, 1) and fc.FcConfigSetCurrent(config)):
            fc.FcConfigDestroy(config)  # Fontconfig will start itself, as before
    except (OSError, AttributeError):
        return


class ComputationGraph(graphviz.Digraph):  # type: ignore[misc]  # graphviz has no type hints
    """A ``graphviz.Digraph`` that renders without the ``dot`` program when pygraphviz is there.

    ``pipe()`` (used by Jupyter to display the graph inline) runs ``dot`` as usual; where ``dot``
    is not installed, or fails, it renders through pygraphviz's bundled Graphviz instead.
    ``render()`` is graphviz's own and needs ``dot``: ``save_graph`` writes files without it.
    """

    # The same three forms as graphviz's pipe(): bytes, or text when an encoding is given.
    @overload
    def pipe(self, format: str | None = ..., renderer: str | None = ...,  # noqa: A002
             formatter: str | None = ..., neato_no_op: bool | int | None = ...,
             quiet: bool = ..., *, engine: str | None = ..., encoding: None = ...) -> bytes: ...

    @overload
    def pipe(self, format: str | None = ..., renderer: str | None = ...,  # noqa: A002
             formatter: str | None = ..., neato_no_op: bool | int | None = ...,
             quiet: bool = ..., *, engine: str | None = ..., encoding: str) -> str: ...

    @overload
    def pipe(self, format: str | None = ..., renderer: str | None = ...,  # noqa: A002
             formatter: str | None = ..., neato_no_op: bool | int | None = ...,
             quiet: bool = ..., *, engine: str | None = ...,
             encoding: str | None) -> bytes | str: ...

    def pipe(self, format: str | None = None, renderer: str | None = None,  # noqa: A002
             formatter: str | None = None, neato_no_op: bool | int | None = None,
             quiet: bool = False, *, engine: str | None = None,
             encoding: str | None = None) -> bytes | str:
        """The graph rendered in ``format`` (bytes, or text when ``encoding`` is given)."""
        try:
            piped: bytes | str = super().pipe(
                format=format, renderer=renderer, formatter=formatter, neato_no_op=neato_no_op,
                quiet=quiet, engine=engine, encoding=encoding)
            return piped
        except (graphviz.ExecutableNotFound, graphviz.CalledProcessError) as exc:
            plain = renderer is None and formatter is None and not neato_no_op
            if not plain or (engine or self.engine) != "dot":
                raise
            try:
                data = _render_bundled(self.source, format or self.format)
            except GraphvizNotFoundError:
                if isinstance(exc, graphviz.CalledProcessError):
                    raise exc from None  # dot exists but failed: its own message says why
                raise
        return data.decode(encoding) if encoding else data


# ----------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------

Roots = TensorBase | Sequence[TensorBase] | Mapping[str, TensorBase]


def draw_graph(root: Roots, params: Any = None, *,
               inputs: Mapping[str, TensorBase] | None = None, show_data: bool = True,
               show_grad: bool = True, show_shapes: bool = True, rankdir: str = "TB",
               max_nodes: int | None = 1000, group_modules: bool = True,
               precision: int = 4, show_activations: bool = False,
               color_by_grad: bool = False, expand_fused: bool = False) -> ComputationGraph:
    """The computation graph that produced ``root``, as a ``graphviz.Digraph``.

    Displays inline in Jupyter; ``.source`` is the DOT text; ``.pipe(format="svg")`` renders
    (with ``dot``, or without it through pygraphviz).

    Args:
        root: a tensor, several tensors (e.g. the loss and the output), or a mapping from names
            to tensors (the names label their boxes).
        params: a Module (its parameters are named by ``named_parameters()`` and its
            sub-modules by ``named_modules()``) or a mapping from names to tensors.
        inputs: a mapping from names to the data tensors fed to the graph (e.g.
            ``{"x": x, "target": y}``), drawn as named input boxes.
        show_data: print the values of leaves, outputs and named tensors.
        show_grad: print their gradients, where ``.grad`` is set (after ``backward()``).
        show_shapes: print shapes and dtypes.
        rankdir: ``"TB"`` (top to bottom) or ``"LR"`` (left to right).
        max_nodes: draw at most this many ops and tensors (nearest to the roots first; the
            small constant nodes are not counted), with a note saying how many were left out;
            ``None`` draws everything.
        group_modules: draw the ops that ran inside a Module's ``forward`` (and the module's
            parameters) inside one box per module, labelled like ``0 (Linear)``.
        precision: digits after the decimal point in printed numbers; a value that would
            print as 0 with these digits (but is not 0) is printed in scientific notation.
        show_activations: draw every op's result (the activations of a network, the terms of
            a loss) as a box with its values and, with ``show_grad``, its gradient.
        color_by_grad: colour tensor boxes and the arrows that carry them by the magnitude of
            their gradient (mean |grad|, one colour per decade, with a legend); a gradient that
            is exactly zero has a colour of its own.
        expand_fused: draw each fused op as the primitives of its formula (``Linear`` as
            ``Permute`` (the transpose), ``Matmul`` and ``Add``; the BCE losses, log-softmax,
            layer norm likewise), as if it had been written op by op. Labels only: the inner
            results are not computed, so they get no box.

    With ``show_activations`` (and ``show_grad``) or ``color_by_grad``, the gradients drawn are
    those of the first root (which must be a single number, the loss) with respect to each
    tensor, leaves included: the drawing computes them with ``mt.autograd.grad(root, tensors,
    retain_graph=True)``, so it must run before ``backward()`` or after
    ``backward(retain_graph=True)``. It changes no ``.grad``.
    """
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' or 'LR', got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    if not isinstance(precision, int) or precision < 0:
        raise ValueError(f"precision must be a non-negative int, got {precision!r}")
    drawing = _Drawing(_roots(root), params, inputs=inputs, show_data=show_data,
                       show_grad=show_grad, show_shapes=show_shapes,
                       group_modules=group_modules, precision=precision, max_nodes=max_nodes,
                       show_activations=show_activations, color_by_grad=color_by_grad,
                       expand_fused=expand_fused)
    drawing.build()
    font = "Helvetica,Arial,sans-serif"
    return ComputationGraph(
        graph_attr={"rankdir": rankdir, "ordering": "in", "fontname": font, "fontsize": "11",
                    "nodesep": "0.25", "ranksep": "0.3"},
        node_attr={"fontname": font, "fontsize": "11", "penwidth": "1.2"},
        edge_attr={"color": "#334155", "arrowsize": "0.7"},
        body=drawing.body())


def to_dot(root: Roots, params: Any = None, **options: Any) -> str:
    """The DOT text of the computation graph (pure Python: needs no Graphviz program).

    Takes the same arguments as ``draw_graph``; the same graph always gives the same text.
    """
    source: str = draw_graph(root, params, **options).source
    return source


def save_graph(root: Roots, path: str | Path, params: Any = None, **options: Any) -> Path:
    """Write the computation graph to ``path``; the suffix picks the format (.svg .png .pdf .dot).

    Uses the ``dot`` program if installed, otherwise the Graphviz bundled with pygraphviz.
    Where neither is installed, writes the DOT text next to ``path`` (with suffix ``.dot``) and
    raises ``GraphvizNotFoundError`` saying what to install.

    Args:
        root, params, options: as for ``draw_graph``.
        path: where to write the file.

    Returns:
        The path written.
    """
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot tell the format of {str(path)!r}: use a path ending in "
                         ".svg, .png, .pdf or .dot")
    graph = draw_graph(root, params, **options)
    if fmt == "dot":
        path.write_text(graph.source, encoding="utf-8")
        return path
    try:
        data = graph.pipe(format=fmt, quiet=True)
    except GraphvizNotFoundError:
        dot_path = path.with_suffix(".dot")
        dot_path.write_text(graph.source, encoding="utf-8")
        raise GraphvizNotFoundError(
            f"could not write {path}: {_INSTALL_HINT}\nThe graph was saved as DOT text to "
            f"{dot_path.resolve()}; once Graphviz is installed, render it with "
            f"`dot -T{fmt} {dot_path} -o {path}`.") from None
    path.write_bytes(data)
    return path
