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

``Exp.apply(t)`` runs ``forward`` on the array that ``t`` holds and, when ``t`` requires grad,
records a ``Context`` as the output's ``grad_fn``. Because ``backward`` is written with Tensor
operations, the engine can run it without recording (plain ``backward()``) or while recording
(``create_graph=True``), which gives higher-order gradients for free.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from . import grad_mode
from .anomaly_mode import anomaly_mode

if TYPE_CHECKING:  # for annotations only: at run time the engine never imports Tensor
    from ..tensor import Tensor


class TensorBase:
    """The part of a tensor that the autograd engine reads and writes.

    ``microtensor.Tensor`` subclasses it and adds the operations (as ``torch.Tensor`` does
    with its C++ base). The engine only relies on the attributes below and on ``_make``.

    ``_data`` is the NumPy array itself: the internal fast path for ops and the engine. Users
    see ``Tensor.data``, a Tensor sharing that array (as in PyTorch).

    ``_versions`` is the version counter (PyTorch's): a one-element list ``[n]`` that every
    in-place change adds 1 to. Tensors that share memory the way PyTorch's views do (an op
    whose output is a NumPy view of its input, ``detach()``) share the list, so a change
    through any of them is seen by the graph that saved another.
    """

    __slots__ = ("_data", "_requires_grad", "_grad", "grad_fn", "_versions", "_hooks",
                 "__weakref__")

    _data: np.ndarray
    _requires_grad: bool
    _grad: Tensor | None
    grad_fn: Context | None
    _versions: list[int]
    _hooks: list[Any] | None

    @staticmethod
    def _make(data: np.ndarray, requires_grad: bool = False,
              grad_fn: Context | None = None, versions: list[int] | None = None) -> Tensor:
        """Wrap an array without copying or checking it (the fast path used by ``apply``).

        ``versions`` is the version counter to share (a view's base's); a new one by default.
        """
        raise TypeError("TensorBase is abstract: use microtensor.Tensor")

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than by an op that records the graph."""
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded, so that gradients reach it."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if self.grad_fn is not None and not flag:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if flag and self._data.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(got dtype {self._data.dtype}; convert it first, e.g. with "
                               f".float())")
        self._requires_grad = bool(flag)

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen (``torch.Tensor._version``)."""
        return self._versions[0]

    def _bump_version(self) -> None:
        """Record an in-place change (every in-place op calls this once)."""
        if recording.recorder is not None:
            recording.recorder.refuse("an in-place change of a tensor outside an op")
        self._versions[0] += 1


class _SavedOutput:
    """Marks the op's own output in ``save_for_backward``: its array and version counter are
    kept, not the tensor, so that output -> grad_fn -> output is not a reference cycle."""

    __slots__ = ("data", "versions")

    def __init__(self, data: np.ndarray, versions: list[int]) -> None:
        self.data = data
        self.versions = versions


class ModuleScope:
    """The modules whose ``forward`` is running, outermost first.

    ``nn.Module.__call__`` pushes and pops; every recorded op keeps the scope it ran in
    (``Context.scope``), so the graph renderer can group nodes by module.
    """

    stack: tuple[Any, ...] = ()


module_scope = ModuleScope()


class Recording:
    """The slot of ``microtensor.compile``'s recorder: ``None`` except while a compiled step
    records one of its first calls. ``Function.apply``, the engine, a few ``Tensor`` methods
    and the optimizers report to the recorder through it (one attribute read when it is off).
    """

    recorder: Any = None


recording = Recording()


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
    sequence_nr = 0                        # when it was recorded: the engine runs newest first
    _to_save: tuple[Any, ...] = ()
    _saved: list[tuple[Any, int]] | None = None   # (value, its version at the forward)
    _released = False
    _hooks: list[Any] | None = None
    _retained: Any = None
    _tensor_type: Any = None
    stack: list[str] | None = None        # where the forward ran (anomaly mode only)

    def __init__(self, fn: type[Function], needs_input_grad: tuple[bool, ...]) -> None:
        self.fn = fn
        self.needs_input_grad = needs_input_grad

    if TYPE_CHECKING:
        # An op's forward may keep what its backward needs as attributes (ctx.shape = x.shape),
        # as in PyTorch: any attribute can be set and read (declared for type checkers only).
        def __setattr__(self, name: str, value: Any) -> None: ...
        def __getattr__(self, name: str) -> Any: ...

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
        """The values given to ``save_for_backward``, as Tensors (``None`` stays ``None``).

        Raises:
            RuntimeError: after the graph was freed by a backward without ``retain_graph``, or
                when a saved tensor was changed in place since the forward (PyTorch's version
                check: its gradient would be silently wrong).
        """
        if self._released:
            raise RuntimeError(_FREED)
        out = []
        for value, version in self._saved or ():
            if isinstance(value, TensorBase):
                if value._versions[0] != version:
                    self._modified(value._data.shape, value._versions[0], version)
                out.append(value)
            elif isinstance(value, _SavedOutput):
                if value.versions[0] != version:
                    self._modified(value.data.shape, value.versions[0], version, "output ")
                out.append(self._tensor_type._make(value.data, True, self, value.versions))
            elif isinstance(value, np.ndarray):
                out.append(self._tensor_type._make(value))
            else:
                out.append(value)
        return tuple(out)

    def _modified(self, shape: tuple[int, ...], now: int, expected: int, what: str = "") -> None:
        dims = ", ".join(map(str, shape))
        raise RuntimeError(
            f"one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [the {what}tensor of shape [{dims}] saved by {self.name()}] is "
            f"at version {now}; expected version {expected} instead. Hint: the backward of "
            f"{self.name()} needs the value it had in the forward pass; change a copy "
            f"(x.clone()) or do the in-place change after backward().")

    def _keep_saved(self, args: tuple[Any, ...], raw: Any, out: TensorBase) -> None:
        """Map the arrays given to ``save_for_backward`` back to input tensors or the output,
        and note their versions; any other array is kept as a constant."""
        saved: list[tuple[Any, int]] = []
        out_data = out._data
        for value in self._to_save:
            if value is raw or value is out_data:
                saved.append((_SavedOutput(out_data, out._versions), out._versions[0]))
                continue
            for a in args:
                if isinstance(a, TensorBase) and a._data is value:
                    saved.append((a, a._versions[0]))
                    break
            else:
                if isinstance(value, np.generic):  # a NumPy scalar: keep tensors on arrays
                    value = np.asarray(value)
                saved.append((value, 0))
        self._saved, self._to_save = saved, ()
        self._tensor_type = type(out)

    def release(self) -> None:
        """Free the saved values (called by the engine after backward, unless retain_graph)."""
        if self._saved is not None:
            self._released = True
        self._saved = None


# The numbers of the recorded nodes, in the order they are created: the engine runs the newest
# first (every op is created after the ops that computed its inputs), as PyTorch does.
_sequence = itertools.count()


class Function:
    """Base class of every op: subclass it, write ``forward`` and ``backward``, call ``apply``.

    ``forward(ctx, *args, **kwargs)`` receives NumPy arrays where the caller passed tensors
    (other arguments unchanged) and returns one NumPy array. ``backward(ctx, grad_output)``
    receives the gradient of the output as a Tensor and returns one gradient per positional
    argument of ``forward`` (a Tensor, or ``None`` where no gradient is needed), in the
    broadcast shape: the engine sums gradients back to each input's shape.
    """

    # True for an op whose output's shape depends on its input's values (a mask's true
    # positions, the distinct elements): microtensor.compile refuses it, as a replay is made
    # for the shapes it recorded.
    shape_from_values = False

    # NOTE: the base signatures are (*args, **kwargs) so that any op's own forward(ctx, x, ...)
    # and backward(ctx, grad_output) override them for a type checker too (PyTorch does this).
    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        """Compute the output from NumPy arrays: ``forward(ctx, *inputs, **options)``."""
        raise TypeError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(*args: Any, **kwargs: Any) -> Any:
        """Return the gradient of each positional input given the gradient of the output:
        ``backward(ctx, grad_output)``."""
        raise RuntimeError("differentiation is not defined for this op (no backward)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        """Run the op on tensors (and plain values) and record it in the graph when needed."""
        arrays = []
        like = None  # a tensor argument (any: each one's _make makes a microtensor.Tensor)
        if grad_mode.state.enabled:
            needs = []
            for a in args:
                if isinstance(a, TensorBase):
                    arrays.append(a._data)
                    needs.append(a._requires_grad)
                    like = a
                else:
                    arrays.append(a)
                    needs.append(False)
            needs_input_grad = tuple(needs)
            record = True in needs_input_grad
        else:  # (the backward pass runs its ops here: nothing to record, less to do)
            for a in args:
                if isinstance(a, TensorBase):
                    arrays.append(a._data)
                    like = a
                else:
                    arrays.append(a)
            needs_input_grad = (False,) * len(args)
            record = False
        if like is None:
            raise TypeError(f"{cls.__name__}.apply expects at least one Tensor argument")
        ctx = _new_context(Context)  # (Context's __init__, without the call)
        ctx.fn = cls
        ctx.needs_input_grad = needs_input_grad
        raw = cls.forward(ctx, *arrays, **kwargs)
        # NumPy returns scalars (not 0-d arrays) from 0-d computations: keep tensors on arrays.
        out = raw if type(raw) is np.ndarray else np.asarray(raw)
        if recording.recorder is not None:  # (microtensor.compile is recording a step)
            recording.recorder.op(cls, ctx, args, kwargs, raw, out)
        # An output that is a NumPy view of an input shares its version counter, as a view does
        # in PyTorch: an in-place change through either is seen by a graph that saved the other.
        versions = None
        base = out.base
        if base is not None:
            for a in args:
                if isinstance(a, TensorBase) and (a._data is base or a._data.base is base):
                    versions = a._versions
                    break
        if not record:
            return like._make(out, False, None, versions)
        ctx.inputs = args
        if kwargs:
            ctx.kwargs = kwargs
        ctx.sequence_nr = next(_sequence)
        ctx.scope = module_scope.stack
        if anomaly_mode.enabled:
            ctx.stack = anomaly_mode.forward_stack()
        result = like._make(out, True, ctx, versions)
        if ctx._to_save:
            ctx._keep_saved(args, raw, result)
        return result


_new_context = object.__new__
