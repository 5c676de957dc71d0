"""Draw the computation graph: DOT text, a ``graphviz.Digraph``, or an SVG/PNG/PDF file.

The picture is read from the roots' ``grad_fn`` nodes (``Context``) and their ``inputs``:

- an **op** (one recorded ``Function`` call) is an ellipse labelled with the Function's class name
  (so user-defined ops label themselves), its keyword arguments that differ from the defaults
  (``Sum dim=(1,)``) and the shape of its result (``→ (4, 1)``);
- a **tensor box** is drawn for every leaf (parameters by name, other leaves as ``input``), every
  root (``output``, or the name given) and every tensor named in ``params``; it shows the shape
  and dtype and, after ``backward()``, the values and the gradient;
- intermediate results that have no name are the arrows between ops: their shape is printed in
  the op that computed them, their values are not drawn (name them in ``params`` to see them);
- an operand that needs no gradient (a number, or a tensor without ``requires_grad`` such as the
  training data) is not kept by the graph: it is drawn as a small ``constant`` node;
- every operand is its own arrow, so ``x * x`` has two arrows into ``Mul``.

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
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast, overload

import graphviz
import numpy as np

from .autograd.engine import format_shape
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
    """One number: positional with ``precision`` decimals, scientific when very large or small."""
    if not math.isfinite(x) or x == 0 or 1e-4 <= abs(x) < 1e6:
        return np.format_float_positional(x, precision=precision, trim="-")
    return np.format_float_scientific(x, precision=precision, trim="-")


def _values(arr: np.ndarray, precision: int) -> list[str]:
    """Small arrays in full (one line per row); large ones as min/mean/max and norm."""
    if arr.size == 0:
        return ["empty"]
    if arr.size <= FULL_PRINT_MAX:
        if arr.ndim == 0:
            return [_number(float(arr), precision) if arr.dtype.kind == "f" else str(arr)]
        text = np.array2string(arr, precision=precision, suppress_small=True, max_line_width=80)
        return text.split("\n")
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
                 max_nodes: int | None) -> None:
        self.show_data, self.show_grad, self.show_shapes = show_data, show_grad, show_shapes
        self.group_modules, self.precision, self.max_nodes = group_modules, precision, max_nodes
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
        for _, t in self.roots:
            self._source(t)
        while self.queue:
            ctx = self.queue.popleft()
            op = self.op_node[id(ctx)]
            for t in ctx.inputs:
                tensor = isinstance(t, TensorBase)
                src = self._source(t) if tensor else self._constant(ctx.scope, t)
                if src is None:
                    self.cut[op] = None
                else:
                    style = "" if tensor else ' [style="dashed" color="#94a3b8"]'
                    self.edges.append(f"\t{src} -> {op}{style}\n")
        if self.hidden:
            self._note()

    def _full(self) -> bool:
        drawn = len(self.tensor_node) + len(self.op_node)
        return self.max_nodes is not None and drawn >= self.max_nodes

    def _boxed(self, t: TensorBase) -> bool:
        """Leaves, roots and named tensors get a box; other results are arrows between ops."""
        return t.grad_fn is None or id(t) in self.titles or id(t) in self.names

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
                self.edges.append(f"\t{src} -> {box}\n")
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
        self.nodes.append((node, self._op_attrs(ctx, out), ctx.scope))
        return node

    # -- nodes ---------------------------------------------------------------------------------

    def _tensor(self, t: TensorBase) -> str:
        node = f"t{len(self.tensor_node)}"
        self.tensor_node[id(t)] = node
        self.keep.append(t)
        if id(t) in self.titles:
            kind, title = "output", self.titles[id(t)]
        elif t.grad_fn is None:
            # Named leaves that learn are parameters; data (no gradient) is an input.
            kind = "parameter" if id(t) in self.names and t.requires_grad else "input"
            title = self.names.get(id(t), "input")
        else:
            kind, title = "named", self.names[id(t)]
        rows = [_row(title, bold=True)]
        if self.show_shapes:
            rows.append(_row(f"{_shape(t._data.shape)} {t._data.dtype}", color=_DIM_COLOR))
        if self.show_data:
            rows += self._value_rows("data", t._data)
        if self.show_grad and t._grad is not None:  # (not .grad: it warns on non-leaves)
            rows += self._value_rows("grad", t._grad._data, _GRAD_COLOR)
        fill, border = _COLORS[kind]
        attrs = _attrs(label=_label(rows), shape="box", style="filled", fillcolor=fill,
                       color=border)
        self.nodes.append((node, attrs, self.owner.get(id(t), ())))
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
        rows = [_row(f"{title} {args}" if args else title, bold=True, align="CENTER")]
        if self.show_shapes:
            rows.append(_row(f"\u2192 {_shape(out._data.shape)}", color=_DIM_COLOR,
                             align="CENTER"))
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
        if not self.group_modules:
            return [f"\t{node} {attrs}\n" for node, attrs, _ in nodes] + self.edges
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
        return lines + self.edges


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
               precision: int = 4) -> ComputationGraph:
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
        precision: digits after the decimal point in printed numbers.
    """
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' or 'LR', got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    if not isinstance(precision, int) or precision < 0:
        raise ValueError(f"precision must be a non-negative int, got {precision!r}")
    drawing = _Drawing(_roots(root), params, inputs=inputs, show_data=show_data,
                       show_grad=show_grad, show_shapes=show_shapes,
                       group_modules=group_modules, precision=precision, max_nodes=max_nodes)
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
