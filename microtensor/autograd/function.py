"""The graph's building blocks: ``TensorBase``, ``Context`` (a node) and ``Function`` (an op).

An op is a ``Function`` subclass with two static methods side by side::

    class Exp(Function):
        '''y = exp(x);  dx = g * y'''

        @staticmethod
        def forward(ctx, x):               # NumPy arrays in, a NumPy array out
            y = np.exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_output):    # Tensors in, one Tensor (or None) per input out
            (y,) = ctx.saved_tensors
            return grad_output * y

``Exp.apply(t)`` runs ``forward`` on ``t.data`` and, when ``t`` requires grad, records a
``Context`` as the output's ``grad_fn``. Because ``backward`` is written with Tensor operations,
the engine can run it without recording (plain ``backward()``) or while recording
(``create_graph=True``), which gives higher-order gradients for free.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import grad_mode


class TensorBase:
    """The part of a tensor that the autograd engine reads and writes.

    ``microtensor.Tensor`` subclasses it and adds the operations (as ``torch.Tensor`` does
    with its C++ base). The engine only relies on the attributes below and on ``_make``.
    """

    __slots__ = ("data", "requires_grad", "grad", "grad_fn", "_version", "_hooks",
                 "__weakref__")

    data: np.ndarray
    requires_grad: bool
    grad: Any
    grad_fn: Context | None

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool = False,
              grad_fn: Context | None = None) -> TensorBase:
        """Wrap an array without copying or checking it (the fast path used by ``apply``)."""
        raise TypeError("TensorBase is abstract: use microtensor.Tensor")

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than by an op that records the graph."""
        return self.grad_fn is None


class _SavedOutput:
    """Marks the op's own output in ``save_for_backward`` (kept as an array to avoid a cycle)."""

    __slots__ = ("data",)

    def __init__(self, data: np.ndarray) -> None:
        self.data = data


class ModuleScope:
    """The modules whose ``forward`` is running, outermost first.

    ``nn.Module.__call__`` pushes and pops; every recorded op keeps the scope it ran in
    (``Context.scope``), so the graph renderer can group nodes by module.
    """

    stack: tuple[Any, ...] = ()


module_scope = ModuleScope()


_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors "
          "after they have already been freed). Saved intermediate values of the graph are freed "
          "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
          "backward through the graph a second time or if you need to access saved tensors after "
          "calling backward.")


class Context:
    """The record of one op application: the output's ``grad_fn`` and a node of the graph.

    It holds the op (``fn``), the inputs that need gradients (``inputs``), the non-tensor
    keyword arguments (``kwargs``, shown in graph drawings) and what ``forward`` saved. It never
    references its own output tensor, so a graph is freed by reference counting alone.
    """

    # Defaults live on the class, so that creating a node (once per recorded op) sets only two
    # attributes; the engine and save_for_backward set the others when they are needed.
    inputs: tuple[Any, ...] = ()           # the op's positional arguments (tensors and others)
    kwargs: dict[str, Any] = {}            # its keyword arguments (never mutated)
    scope: tuple[Any, ...] = ()            # the nn.Modules whose forward was running
    _to_save: tuple[Any, ...] = ()
    _saved: tuple[Any, ...] | None = None
    _versions: tuple[int, ...] = ()
    _released = False
    _hooks: list[Any] | None = None
    _retained: Any = None
    _tensor_type: Any = None

    def __init__(self, fn: type[Function], needs_input_grad: tuple[bool, ...]) -> None:
        self.fn = fn
        self.needs_input_grad = needs_input_grad

    def name(self) -> str:
        """The node's name, e.g. ``MulBackward`` for the ``Mul`` op."""
        return self.fn.__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    def save_for_backward(self, *values: Any) -> None:
        """Called in ``forward`` with arrays (inputs, the output, or others) that backward needs.

        Inputs and the output come back from ``saved_tensors`` as the graph's own tensors, so
        gradients of gradients flow through them; any other array comes back as a constant.
        """
        self._to_save = values

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The values given to ``save_for_backward``, as Tensors (``None`` stays ``None``)."""
        if self._released:
            raise RuntimeError(_FREED)
        out = []
        for value, version in zip(self._saved or (), self._versions, strict=True):
            if isinstance(value, TensorBase):
                if value._version != version:
                    raise RuntimeError(
                        f"one of the variables needed for gradient computation has been modified "
                        f"by an inplace operation: a tensor of shape {value.data.shape} is at "
                        f"version {value._version}; expected version {version} instead "
                        f"(saved by {self.name()})")
                out.append(value)
            elif isinstance(value, _SavedOutput):
                out.append(self._tensor_type._make(value.data, True, self))
            elif isinstance(value, (np.ndarray, np.generic)):
                out.append(self._tensor_type._make(np.asarray(value)))
            else:
                out.append(value)
        return tuple(out)

    def _keep_saved(self, args: tuple[Any, ...], raw: Any, out: np.ndarray) -> None:
        """Map the arrays given to ``save_for_backward`` back to input tensors or the output."""
        saved, versions = [], []
        for value in self._to_save:
            if value is raw or value is out:
                value = _SavedOutput(out)
            else:
                for a in args:
                    if isinstance(a, TensorBase) and a.data is value:
                        value = a
                        break
            saved.append(value)
            versions.append(value._version if isinstance(value, TensorBase) else 0)
        self._saved, self._versions, self._to_save = tuple(saved), tuple(versions), ()

    def release(self) -> None:
        """Free the saved values (called by the engine after backward, unless retain_graph)."""
        if self._saved:
            self._released = True
        self._saved = None


class Function:
    """Base class of every op: subclass it, write ``forward`` and ``backward``, call ``apply``.

    ``forward(ctx, *args, **kwargs)`` receives NumPy arrays where the caller passed tensors
    (other arguments unchanged) and returns one NumPy array. ``backward(ctx, grad_output)``
    receives the gradient of the output as a Tensor and returns one gradient per positional
    argument of ``forward`` (a Tensor, or ``None`` where no gradient is needed), in the
    broadcast shape: the engine sums gradients back to each input's shape.
    """

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> np.ndarray:
        """Compute the output from NumPy arrays."""
        raise TypeError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        """Return the gradient of each positional input given the gradient of the output."""
        raise RuntimeError("differentiation is not defined for this op (no backward)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run the op on tensors (and plain values) and record it in the graph when needed."""
        enabled = grad_mode.state.enabled
        arrays = []
        needs = []
        like = None
        record = False
        for a in args:
            if isinstance(a, TensorBase):
                arrays.append(a.data)
                if like is None:
                    like = a
                if enabled and a.requires_grad:
                    record = True
                    needs.append(True)
                    continue
            else:
                arrays.append(a)
            needs.append(False)
        if like is None:
            raise TypeError(f"{cls.__name__}.apply expects at least one Tensor argument")
        ctx = Context(cls, tuple(needs))
        raw = cls.forward(ctx, *arrays, **kwargs)
        # NumPy returns scalars (not 0-d arrays) from 0-d computations: keep tensors on arrays.
        out = raw if type(raw) is np.ndarray else np.asarray(raw)
        if not record:
            return like._make(out)
        ctx.inputs = args
        if kwargs:
            ctx.kwargs = kwargs
        ctx.scope = module_scope.stack
        ctx._tensor_type = type(like)
        if ctx._to_save:
            ctx._keep_saved(args, raw, out)
        return like._make(out, True, ctx)
