"""One forward and backward pass of a model, read from its graph: layers, activations, ops.

Every recorded op keeps its inputs and the modules whose ``forward`` was running
(``Context.inputs``, ``Context.scope``), so walking the graph from the output finds each
intermediate tensor, the op that produced it and the module it belongs to, for any model (not
only ``nn.Sequential``) and for activations called as functions (``x.relu()``) as well as
modules. The diagnosis reads its measurements from this ``Trace``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import Context, Function
from ..nn import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    Module,
    MSELoss,
    NLLLoss,
    functional,
    fused,
)
from ..ops.conv import Conv
from ..ops.elementwise import Relu, Sigmoid, Tanh
from ..ops.linalg import Matmul
from ..tensor import Tensor

LossFn = Callable[[Tensor, Tensor], Tensor]

# The loss a function computes, when we can tell: it decides the value of a constant prediction
# and which output activation the loss expects.
_LOSS_KINDS: list[tuple[Any, str]] = [
    (BCELoss, "bce"), (BCEWithLogitsLoss, "bce-logits"), (CrossEntropyLoss, "ce"),
    (NLLLoss, "nll"), (MSELoss, "mse"), (L1Loss, "l1"),
]
_FUNCTIONAL_KINDS: dict[Any, str] = {
    functional.binary_cross_entropy: "bce",
    functional.binary_cross_entropy_with_logits: "bce-logits",
    functional.cross_entropy: "ce", functional.nll_loss: "nll",
    functional.mse_loss: "mse", functional.l1_loss: "l1",
}
# The op that consumes the model's output, for a loss written as a lambda around a functional.
_CONSUMER_KINDS: dict[Any, str] = {
    fused.BinaryCrossEntropy: "bce", fused.BinaryCrossEntropyWithLogits: "bce-logits",
    fused.CrossEntropy: "ce",
}


def loss_kind(loss_fn: Any, consumer: type[Function] | None = None) -> str:
    """``"bce"``, ``"bce-logits"``, ``"ce"``, ``"nll"``, ``"mse"``, ``"l1"`` or ``"unknown"``:
    from the loss module or function, else from the loss's first op on the model's output."""
    for cls, kind in _LOSS_KINDS:
        if isinstance(loss_fn, cls):
            return kind
    if loss_fn in _FUNCTIONAL_KINDS:
        return _FUNCTIONAL_KINDS[loss_fn]
    return _CONSUMER_KINDS.get(consumer, "unknown")


@dataclass
class Node:
    """One recorded op: its output tensor, its graph node and the module it ran in."""

    output: Tensor
    ctx: Context
    module: str  # the name of the innermost running module ("" for the model itself)

    @property
    def op(self) -> type[Function]:
        return self.ctx.fn


@dataclass
class Layer:
    """An op that multiplies by a weight parameter (``nn.Linear``, ``x @ W``, a convolution)."""

    module: str
    weight_name: str
    weight: Tensor
    input: Tensor
    output: Tensor
    units_last: bool  # x @ W has one unit per column of W; nn.Linear one per row (a
    # convolution one per output channel)

    def unit_rows(self) -> np.ndarray:
        """The weight as one row per unit (incoming weights of each unit)."""
        w = self.weight.detach().numpy().astype(np.float64)
        return w.T if self.units_last else w.reshape(w.shape[0], -1)


@dataclass
class Activation:
    """The output of a ReLU, sigmoid or tanh op."""

    op: type[Function]
    module: str
    output: Tensor
    is_model_output: bool


@dataclass
class Trace:
    """What one forward and backward pass on ``inputs`` showed."""

    output: Tensor | None = None
    loss: Tensor | None = None
    error: BaseException | None = None
    error_in: str = ""  # "forward", "loss" or "backward"
    nodes: list[Node] = field(default_factory=list)  # the model's ops, inputs first
    layers: list[Layer] = field(default_factory=list)
    activations: list[Activation] = field(default_factory=list)
    custom: list[Node] = field(default_factory=list)  # nodes of user-defined Functions
    consumer: type[Function] | None = None  # the first op of the loss on the model's output
    without_grad: list[str] = field(default_factory=list)  # parameters backward did not reach

    @property
    def output_op(self) -> type[Function] | None:
        """The op that produced the model's output (None for a leaf)."""
        if self.output is None or self.output.grad_fn is None:
            return None
        return self.output.grad_fn.fn


def call_model(model: Module, inputs: Any) -> Tensor:
    """``model(inputs)``, or ``model(*inputs)`` for a tuple of inputs."""
    return model(*inputs) if isinstance(inputs, tuple) else model(inputs)


def forward_order(root: Tensor) -> list[tuple[Tensor, Context]]:
    """Each recorded op that ``root`` depends on, as (its output, its node), inputs first."""
    if root.grad_fn is None:
        return []
    order: list[tuple[Tensor, Context]] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:  # depth first, with an explicit stack: no recursion limit on deep graphs
        t, expanded = stack.pop()
        ctx = t.grad_fn
        assert ctx is not None
        if expanded:
            order.append((t, ctx))
            continue
        if id(ctx) in seen:
            continue
        seen.add(id(ctx))
        stack.append((t, True))
        for a in ctx.inputs:
            if isinstance(a, Tensor) and a.grad_fn is not None and id(a.grad_fn) not in seen:
                stack.append((a, False))
    return order


def consumer_of(loss: Tensor, output: Any) -> type[Function] | None:
    """The first op (in forward order) of ``loss``'s graph that takes ``output`` as an input:
    the loss's first op on the model's output."""
    for _, ctx in forward_order(loss):
        if any(a is output for a in ctx.inputs):
            return ctx.fn
    return None


def is_custom(fn: type[Function]) -> bool:
    """True for a Function defined outside microtensor (by the user)."""
    return not fn.__module__.startswith("microtensor.")


def run(model: Module, loss_fn: LossFn, inputs: Any, targets: Any,
        backward: bool = True) -> Trace:
    """Run ``loss_fn(model(inputs), targets)`` (and its backward), catching errors, and read
    the graph. Changes ``model``'s gradients: call it on a copy."""
    trace = Trace()
    try:
        out: Any = call_model(model, inputs)
    except Exception as err:  # noqa: BLE001 - a model that fails is a finding, not a crash
        trace.error, trace.error_in = err, "forward"
        return trace
    if isinstance(out, Tensor):  # (a model may return a tuple: its graph is not read then)
        trace.output = out
        read_graph(trace, model, out)
    try:
        trace.loss = loss_fn(out, targets)
    except Exception as err:  # noqa: BLE001
        trace.error, trace.error_in = err, "loss"
        return trace
    loss = trace.loss
    if isinstance(loss, Tensor):
        trace.consumer = consumer_of(loss, out)
    if backward and isinstance(loss, Tensor) and loss.requires_grad:  # (not all frozen)
        try:
            loss.backward()
        except Exception as err:  # noqa: BLE001
            trace.error, trace.error_in = err, "backward"
            return trace
        trace.without_grad = [name for name, p in model.named_parameters()
                              if p.requires_grad and p.grad is None]
    return trace


def read_graph(trace: Trace, model: Module, out: Tensor) -> None:
    """Fill ``trace.nodes``, ``layers``, ``activations`` and ``custom`` from the graph of the
    model's output."""
    modules = {id(m): name for name, m in model.named_modules()}
    params = {id(p): name for name, p in model.named_parameters()}
    for t, ctx in forward_order(out):
        module = next((modules[id(m)] for m in reversed(ctx.scope) if id(m) in modules), "")
        node = Node(t, ctx, module)
        trace.nodes.append(node)
        fn = ctx.fn
        if fn is fused.Linear or fn is Matmul or fn is Conv:
            w = ctx.inputs[1]
            if id(w) in params and (w.ndim == 2 or fn is Conv) and \
                    isinstance(ctx.inputs[0], Tensor):
                trace.layers.append(Layer(module, params[id(w)], w, ctx.inputs[0], t,
                                          units_last=fn is Matmul))
        elif fn is Relu or fn is Sigmoid or fn is Tanh:
            trace.activations.append(Activation(fn, module, t, t is out))
        elif is_custom(fn):
            trace.custom.append(node)


def as_array(t: Tensor) -> np.ndarray:
    """The values of ``t`` as a float64 array."""
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def units_view(a: np.ndarray) -> np.ndarray:
    """An activation as (samples, units): axis 1 holds the units (features, or channels)."""
    if a.ndim == 1:
        return a.reshape(-1, 1)
    moved = np.moveaxis(a, 1, -1)
    return moved.reshape(-1, a.shape[1])


def spread(t: Tensor) -> float:
    """How much ``t`` varies from sample to sample: the root mean square over its units of each
    unit's standard deviation over the samples."""
    a = units_view(as_array(t))
    if a.shape[0] < 2:
        return 0.0
    return float(np.sqrt(np.mean(a.var(axis=0))))
