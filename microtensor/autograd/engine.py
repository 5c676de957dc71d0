"""Reverse-mode differentiation: walk the graph from the outputs back to the leaves.

The walk is iterative (no recursion), so a chain of 100,000 ops works at Python's default
recursion limit. Each node runs once, after every node that feeds gradient into it has run:
nodes run newest first (by ``sequence_nr``, the order ``Function.apply`` created them in), and
an op is always created after the ops that computed its inputs. PyTorch orders its ready queue
the same way, so gradients that meet at a node are summed in PyTorch's order.
"""

from __future__ import annotations

import heapq
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import grad_mode
from .anomaly_mode import anomaly_mode, forward_traceback
from .function import Context, Function, TensorBase, recording
from .hooks import backward_post_hooks, backward_pre_hooks

if TYPE_CHECKING:  # for the type checker only: at run time the engine never imports Tensor
    from ..tensor import Tensor
    from ..tensor import Tensor as AnyTensor
else:
    # Every tensor the engine meets is a microtensor.Tensor; at run time it only needs to
    # know the base class (a type checker is told the full type, whose methods it calls).
    AnyTensor = TensorBase


def format_shape(shape: Sequence[int]) -> str:
    """A shape as error messages print it: ``(4, 1)``, ``(3,)``, ``()``."""
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


class ShapeChecks:
    """Switch for a stricter check of the gradient shapes that backwards return (gradcheck
    turns it on). Off, a gradient only has to broadcast to its input's shape (Function's
    contract, and PyTorch's); on, a gradient with more dimensions than both its input and the
    op's output is refused too: no broadcast produces it, so it is a mistake in the backward
    (e.g. an extra leading dimension of size 1) that summing would hide."""

    strict = False


shape_checks = ShapeChecks()


class GradientShapeError(RuntimeError):
    """A backward returned a gradient of a shape that the strict check refuses."""


def unbroadcast(grad: Tensor, shape: tuple[int, ...], node: Context | None = None,
                index: int = 0) -> Tensor:
    """Sum ``grad`` over the dimensions that broadcasting added or stretched, to get ``shape``."""
    gshape = grad._data.shape
    if gshape == shape:
        return grad
    extra = len(gshape) - len(shape)
    if extra < 0 or any(s != 1 and s != gs for s, gs in zip(shape, gshape[extra:], strict=True)):
        who = node.name() if node is not None else "backward"
        raise RuntimeError(f"Function {who} returned an invalid gradient at index {index} - got "
                           f"{format_shape(gshape)} but expected shape compatible with "
                           f"{format_shape(shape)}")
    dims = tuple(range(extra)) + tuple(
        i + extra for i, s in enumerate(shape) if s == 1 and gshape[i + extra] != 1)
    if dims:
        grad = grad.sum(dim=dims, keepdim=True)
    if extra:
        grad = grad.reshape(shape)
    return grad


class NumpyBackward(Function):
    """Stands for a gradient ``g`` that a backward computed in NumPy from its input ``x``:
    y = g;   differentiating it raises a clear error instead of giving a wrong zero."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, g: np.ndarray, name: str = "") -> np.ndarray:
        return g

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        name = ctx.kwargs["name"]
        raise RuntimeError(
            f"{name} returned NumPy arrays instead of Tensors, so its gradient is not "
            f"differentiable: a second derivative through it would be wrong. Write its backward "
            f"with Tensor operations to use create_graph=True.")


def _as_grad(value: Any, like: TensorBase, node: Context, create_graph: bool) -> Tensor:
    """Turn what a backward returned into a Tensor of the input's dtype."""
    if isinstance(value, AnyTensor):
        grad = value
    else:
        arr = np.asarray(value, dtype=like._data.dtype)
        # Recorded as a function of the input, so that differentiating it reaches the error.
        grad = NumpyBackward.apply(like, arr, name=node.name()) if create_graph else \
            like._make(arr)
    if grad._data.dtype != like._data.dtype:
        grad = grad.to(like._data.dtype)
    return grad


def _root_grads(roots: Sequence[TensorBase], grads: Sequence[Any] | None) -> list[Any]:
    out = []
    for i, t in enumerate(roots):
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               f"a grad_fn")
        g = grads[i] if grads is not None else None
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs "
                                   f"(output {i} has shape {format_shape(t._data.shape)}); pass "
                                   f"gradient= with the same shape")
            ones = np.empty(t._data.shape, t._data.dtype)
            ones.fill(1)  # (np.ones is a Python-level wrapper: this is several times faster)
            g = t._make(ones)
        elif not isinstance(g, TensorBase):
            g = t._make(np.asarray(g, dtype=t._data.dtype))
        if g._data.shape != t._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                               f"{format_shape(g._data.shape)} and output[{i}] has a shape of "
                               f"{format_shape(t._data.shape)}.")
        out.append(g)
    return out


def _run_hooks(hooks: list[Any] | None, grad: Any) -> Any:
    for hook in hooks or ():
        new = hook(grad)
        if new is not None:
            grad = check_hook_result(hook, new, grad)
    return grad


def check_hook_result(hook: Any, new: Any, old: TensorBase) -> Tensor:
    """A gradient that ``hook`` returned in place of ``old``: a tensor of the same shape and
    dtype, or PyTorch's error (tensor hooks and nn.Module's backward hooks both check this)."""
    if not isinstance(new, AnyTensor):
        raise TypeError(f"hook '{_hook_name(hook)}' returned a {type(new).__name__}; a hook "
                        f"must return a Tensor or None")
    if new._data.shape != old._data.shape:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value (from "
                           f"{format_shape(old._data.shape)} to "
                           f"{format_shape(new._data.shape)})")
    if new._data.dtype != old._data.dtype:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the type of value (was "
                           f"{old._data.dtype} got {new._data.dtype})")
    return new


def _hook_name(hook: Any) -> str:
    return getattr(hook, "__name__", type(hook).__name__)


def _accumulate_leaf(leaf: TensorBase, grad: Any, create_graph: bool, shared: bool) -> None:
    """leaf.grad += grad (in place, as PyTorch); a ``shared`` gradient array is copied so that
    no two .grad alias."""
    if recording.recorder is not None:  # (microtensor.compile records it, then calls this)
        recording.recorder.accumulate(leaf, grad, create_graph, shared)
        return
    if leaf._hooks:
        # A hook may keep the gradient it sees (or return a tensor the user keeps): .grad must
        # not be that tensor, or the next backward's accumulation would change it in place.
        grad = _run_hooks(leaf._hooks, grad)
        shared = True
    old = leaf._grad
    if old is None:
        # (without create_graph, a gradient is a fresh tensor outside any graph: keep it as is)
        leaf._grad = leaf._make(grad._data.copy()) if shared and not create_graph else grad
    elif create_graph or old._requires_grad:
        leaf._grad = old + grad
    else:
        np.add(old._data, grad._data, out=old._data)
        old._bump_version()


def run_backward(roots: Sequence[TensorBase], grad_roots: Sequence[Any] | None,
                 retain_graph: bool, create_graph: bool,
                 inputs: Sequence[TensorBase] | None = None) -> list[Any] | None:
    """Propagate gradients from ``roots`` to the leaves.

    Without ``inputs`` the gradients accumulate into each leaf's ``.grad`` (``backward()``).
    With ``inputs`` nothing accumulates; the gradient of each input is returned instead
    (``autograd.grad``), ``None`` for an input the outputs do not depend on.
    """
    grads_out = _root_grads(roots, grad_roots)
    if recording.recorder is not None:  # (microtensor.compile refuses what it cannot replay)
        recording.recorder.backward(roots, grads_out, create_graph, inputs)
    observed = inputs is None and (backward_pre_hooks or backward_post_hooks)
    if observed:
        for hook in list(backward_pre_hooks):
            hook(roots)
    previous = grad_mode.state.enabled
    grad_mode.state.enabled = create_graph  # backward ops are recorded only for create_graph
    try:
        result = _propagate(roots, grads_out, retain_graph, create_graph, inputs)
    finally:
        grad_mode.state.enabled = previous
    if observed:
        for hook in list(backward_post_hooks):
            hook(roots)
    return result


def _edges(node: Context) -> list[Context]:
    """The nodes that produced ``node``'s inputs needing gradients (one entry per edge)."""
    return [t.grad_fn for t, need in zip(node.inputs, node.needs_input_grad, strict=True)
            if need and t.grad_fn is not None]


def _propagate(roots: Sequence[TensorBase], root_grads: list[Any], retain_graph: bool,
               create_graph: bool, inputs: Sequence[TensorBase] | None) -> list[Any] | None:
    pending: dict[Context, Any] = {}          # node -> gradient of its output so far
    # NOTE: a node or leaf that receives many gradients (an RNN's weights, one per time step)
    # gets their sum: the first addition makes a new array, the next ones add into it in place
    # (the same additions in the same order: the same floats), not one op and array each. Only
    # on the plain path: create_graph records the sums, and so does microtensor.compile.
    in_place = not create_graph and recording.recorder is None
    summed: set[Context] = set()              # nodes whose pending gradient is such a sum
    leaf_grads: dict[int, Any] = {}           # id(leaf) -> [leaf, gradient so far, summed]
    retained: list[Any] = []                  # gradients given to retain_grad() tensors
    wanted_leaves = {id(t) for t in inputs if t.grad_fn is None} if inputs is not None else None
    wanted_nodes = {t.grad_fn: None for t in inputs if t.grad_fn is not None} if inputs else {}

    # The nodes that have received a gradient and wait to run, newest first: a heap of
    # (-sequence_nr, node). A node's consumers are all newer than it, so they all ran (and sent
    # their gradients) before it comes out.
    ready: list[tuple[int, Context]] = []
    for t, g in zip(roots, root_grads, strict=True):
        node = t.grad_fn
        if node is None:
            if wanted_leaves is None or id(t) in wanted_leaves:
                _add_leaf_grad(leaf_grads, t, g)
        else:
            prev = pending.get(node)
            if prev is None:
                pending[node] = g
                heapq.heappush(ready, (-node.sequence_nr, node))
            else:
                pending[node] = prev + g
    # autograd.grad runs only the nodes that lead to one of its inputs (as PyTorch does).
    useful = None if wanted_leaves is None else _leading_to(
        [n for _, n in ready], wanted_leaves, wanted_nodes)
    heappop, heappush = heapq.heappop, heapq.heappush  # (looked up once, not at every node)
    while ready:
        node = heappop(ready)[1]
        grad = pending.pop(node)
        if node._hooks:
            grad = _run_hooks(node._hooks, grad)
        if node._retained is not None:
            _retain(node, grad, create_graph)
            retained.append(grad)
        if wanted_nodes and node in wanted_nodes:
            wanted_nodes[node] = grad
        if useful is not None and node not in useful:
            continue
        if anomaly_mode.enabled:
            in_grads = _backward_checked(node, grad)
        else:
            in_grads = node.fn.backward(node, grad)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        if len(in_grads) != len(node.inputs):
            raise RuntimeError(
                f"function {node.name()} returned an incorrect number of gradients "
                f"(expected {len(node.inputs)}, got {len(in_grads)})")
        if not retain_graph and node._saved is not None:
            node._saved, node._released = None, True  # (node.release(), inlined)
        for t, need, g in zip(node.inputs, node.needs_input_grad, in_grads, strict=True):
            if not need or g is None:
                continue
            if not isinstance(g, AnyTensor) or g._data.dtype != t._data.dtype \
                    or g._data.shape != t._data.shape:
                g = _fit_grad(g, t, node, grad, in_grads, create_graph)
            parent = t.grad_fn
            if parent is None:
                if wanted_leaves is None or id(t) in wanted_leaves:
                    _add_leaf_grad(leaf_grads, t, g, in_place)
                continue
            prev = pending.get(parent)
            if prev is None:
                pending[parent] = g
                heappush(ready, (-parent.sequence_nr, parent))
            elif parent in summed:
                np.add(prev._data, g._data, out=prev._data)
            else:
                pending[parent] = prev + g
                if in_place:
                    summed.add(parent)

    # Leaves last, so that each leaf hook sees the leaf's total gradient, once.
    if inputs is None:
        # NOTE: a gradient array can reach a leaf that others also hold: the root gradient, a
        # retained gradient, a view, a tensor of the graph, or one array sent to two leaves
        # (a + b). Only those are copied; copying every gradient costs time and memory.
        exposed = {id(g._data) for g in root_grads}
        for node_grad in retained:
            exposed.add(id(node_grad._data))
        for leaf, g, _ in leaf_grads.values():
            # (a tensor that requires grad may be a graph's own tensor that backward returned)
            shared = id(g._data) in exposed or g._data.base is not None or g._requires_grad
            exposed.add(id(g._data))
            _accumulate_leaf(leaf, g, create_graph, shared)
        return None
    for entry in leaf_grads.values():
        entry[1] = _run_hooks(entry[0]._hooks, entry[1])
    return [(leaf_grads[id(t)][1] if id(t) in leaf_grads else None) if t.grad_fn is None
            else wanted_nodes[t.grad_fn] for t in inputs]


def _fit_grad(g: Any, t: TensorBase, node: Context, grad: Any, in_grads: tuple[Any, ...],
              create_graph: bool) -> Tensor:
    """The gradient ``g`` that ``node``'s backward returned (in ``in_grads``) for its input
    ``t``, as a Tensor of ``t``'s dtype and shape (summed over the broadcast dimensions)."""
    i = next(i for i, (a, b) in enumerate(zip(node.inputs, in_grads, strict=True))
             if a is t and b is g)
    fitted: Tensor = g
    if not isinstance(g, AnyTensor) or g._data.dtype != t._data.dtype:
        fitted = _as_grad(g, t, node, create_graph)
    if fitted._data.shape != t._data.shape:
        if shape_checks.strict and grad is not None and fitted._data.ndim > max(
                t._data.ndim, grad._data.ndim):
            raise GradientShapeError(
                f"Function {node.name()} returned an invalid gradient at index {i} "
                f"- got {format_shape(fitted._data.shape)} for an input of shape "
                f"{format_shape(t._data.shape)} and an output of shape "
                f"{format_shape(grad._data.shape)}: it has more dimensions than "
                f"both (return the input's shape)")
        fitted = unbroadcast(fitted, t._data.shape, node, i)
    return fitted


def _backward_checked(node: Context, grad: Any) -> Any:
    """``node``'s backward in anomaly mode: errors and NaN gradients name the forward code."""
    where = forward_traceback(node.stack)
    try:
        in_grads = node.fn.backward(node, grad)
    except Exception as e:
        warnings.warn(f"Error detected in {node.name()}.{where}", stacklevel=4)
        raise e
    if anomaly_mode.check_nan:
        for i, g in enumerate(in_grads if type(in_grads) is tuple else (in_grads,)):
            arr = g._data if isinstance(g, TensorBase) else g
            if arr is not None and np.isnan(arr).any():
                raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                                   f"output.{where}")
    return in_grads


def _retain(node: Context, grad: Any, create_graph: bool) -> None:
    """Give the tensor that asked for ``retain_grad()`` its gradient."""
    kept = node._retained()
    if kept is not None:
        g = grad if create_graph else grad.detach()
        kept._grad = g if kept._grad is None else kept._grad + g


def _add_leaf_grad(leaf_grads: dict[int, Any], leaf: TensorBase, g: Any,
                   in_place: bool = False) -> None:
    """Add ``g`` to the gradient of ``leaf`` so far; with ``in_place``, into the array of an
    earlier sum (an array the engine made and nobody else holds yet)."""
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, g, False]
    elif entry[2]:
        np.add(entry[1]._data, g._data, out=entry[1]._data)
    else:
        entry[1] = entry[1] + g
        entry[2] = in_place


def _leading_to(root_nodes: list[Context], wanted_leaves: set[int],
                wanted_nodes: dict[Context, Any]) -> set[Context]:
    """The nodes with a path to a wanted input: the only ones autograd.grad needs to run."""
    reachable, stack = set(root_nodes), list(root_nodes)
    while stack:
        for parent in _edges(stack.pop()):
            if parent not in reachable:
                reachable.add(parent)
                stack.append(parent)
    useful: set[Context] = set()
    # Oldest first: every node after the nodes it feeds gradient into.
    for node in sorted(reachable, key=lambda n: n.sequence_nr):
        for t, need in zip(node.inputs, node.needs_input_grad, strict=True):
            if not need:
                continue
            parent = t.grad_fn
            if (id(t) in wanted_leaves if parent is None
                    else parent in wanted_nodes or parent in useful):
                useful.add(node)
                break
    return useful


def backward(tensors: TensorBase | Sequence[TensorBase], grad_tensors: Any = None,
             retain_graph: bool | None = None, create_graph: bool = False) -> None:
    """Accumulate into each leaf's ``.grad`` the gradient of ``tensors`` (d tensors / d leaf).

    Args:
        tensors: the outputs to differentiate (a scalar, or give ``grad_tensors``).
        grad_tensors: the gradient with respect to each output (``None`` for scalars).
        retain_graph: keep saved values for another backward (defaults to ``create_graph``).
        create_graph: record the backward pass itself, for higher-order gradients.
    """
    roots = [tensors] if isinstance(tensors, TensorBase) else list(tensors)
    if grad_tensors is not None and not isinstance(grad_tensors, (list, tuple)):
        grad_tensors = [grad_tensors]
    retain = create_graph if retain_graph is None else retain_graph
    run_backward(roots, grad_tensors, retain, create_graph)


def grad(outputs: TensorBase | Sequence[TensorBase], inputs: TensorBase | Sequence[TensorBase],
         grad_outputs: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple[Any, ...]:
    """Return the gradients of ``outputs`` with respect to ``inputs`` (nothing accumulates).

    Args:
        outputs: tensors to differentiate.
        inputs: tensors to differentiate with respect to (leaves or intermediate tensors).
        grad_outputs: the gradient with respect to each output (``None`` for scalar outputs).
        retain_graph: keep saved values for another backward (defaults to ``create_graph``).
        create_graph: record the computation of the gradients, for higher-order gradients.
        allow_unused: return ``None`` for an input the outputs do not depend on, instead of
            raising.

    Returns:
        One gradient per input, with the input's shape.
    """
    outs = [outputs] if isinstance(outputs, TensorBase) else list(outputs)
    ins = [inputs] if isinstance(inputs, TensorBase) else list(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, TensorBase) or not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require "
                               f"grad")
    if grad_outputs is not None and not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    retain = create_graph if retain_graph is None else retain_graph
    result = run_backward(outs, grad_outputs, retain, create_graph, inputs=ins)
    assert result is not None
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not "
                               f"have been used in the graph. Set allow_unused=True if this is "
                               f"the desired behavior.")
    if not create_graph:
        result = [g if g is None else g.detach() for g in result]
    return tuple(result)
