"""The recorder of ``microtensor.compile``: one call of a training step, as a list of events.

While a step records, ``autograd.function.recording.recorder`` is a ``Recorder``, and the
library reports to it: ``Function.apply`` every op it runs (the forward, and the backward the
engine runs, which is made of ops too), the engine every gradient it accumulates into a leaf's
``.grad``, ``Tensor`` every in-place update (``w -= lr * w.grad``) and ``.grad`` assignment, the
optimizers their ``step()`` and ``zero_grad()``. Everything else that would make a replay
differ from the eager run (``.item()``, printing, a hook, ...) is *refused*: the recording
stops, the call finishes eagerly, and the compiled step runs eagerly for those arguments.

Events work on arrays, tracked by ``id()`` (the recorder keeps a reference to each, so no id
is reused while it records). An array is a ``Var`` (the output of an earlier event), an
``Arg`` (the array of a tensor argument of the step) or a ``Src`` (any other array an op
reads: a parameter, a buffer, a constant such as backward's seed gradient of ones);
comparing two recordings tells which kind of source each one is (see ``compiled.py``).
"""

from __future__ import annotations

import linecache
import os
import sys
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, TextIO

import numpy as np

from ..autograd import grad_mode
from ..autograd.anomaly_mode import anomaly_mode
from ..autograd.engine import _accumulate_leaf
from ..autograd.function import Context, Function, TensorBase, module_scope, recording
from ..autograd.hooks import backward_post_hooks, backward_pre_hooks

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Ref:
    """An array (or tensor) an event reads: ``kind`` is ``"v"`` (an event's output), ``"a"``
    (a tensor argument of the step), ``"s"`` (a source: read but not computed by an op) or
    ``"c"`` (an array that op event ``index``'s forward kept in its ctx: ``attr`` is
    ``saved[i]`` for the i-th value given to save_for_backward, or the attribute's name)."""

    kind: str
    index: int
    attr: str = ""


@dataclass(frozen=True)
class Out:
    """A tensor the step returns (or assigns to a ``.grad``), as the replay makes it again:
    ``how`` is ``"itself"`` (an argument or a captured tensor: that tensor), ``"grad"`` (the
    ``.grad`` of the argument or captured tensor ``ref``, as it is at the end of the step) or
    ``"new"`` (a new tensor around ``ref``'s array). ``slot`` tells tensors apart: one tensor
    returned twice has one slot."""

    slot: int
    ref: Ref
    how: str


@dataclass
class Source:
    """An array that the step reads but no event computed, and where the user's code met it."""

    array: np.ndarray
    tensor: TensorBase | None   # the tensor that held it (None for a bare array argument)
    where: str
    what: str                   # what read it first (an op's name)
    strict: bool = False        # must be the same array in both recordings (not a constant)
    as_tensor: bool = False     # also used as a tensor (a leaf whose .grad is written)
    initial: np.ndarray | None = None  # its values before the step changed them in place


@dataclass
class Event:
    """One thing the step did that the replay redoes.

    ``kind`` is ``"op"`` (``fn.forward(ctx, *args, **kwargs)``), ``"acc"`` (gradient ``args[1]``
    accumulated into leaf ``args[0]``), ``"inplace"`` (``fn(args[0], value, out=args[0])``),
    ``"set_grad"`` (``args[0].grad = args[1]``) or ``"call"`` (``getattr(obj, fn)(*args)`` on an
    optimizer or a module, run as it is: recording is paused inside it).
    """

    kind: str
    fn: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    out: int | None = None            # the Var this event defines
    needs: tuple[bool, ...] = ()       # the op's needs_input_grad
    scalar: bool = False               # forward returned a NumPy scalar (np.asarray it)
    phase: str = "forward"            # forward / backward / update: for step.source
    node: str = ""                    # the node whose backward ran the op: for step.source
    scope: tuple[Any, ...] = ()       # the modules it ran in (or its node's): for step.source
    line: str = ""                    # the user's line that ran it: for messages
    obj: Any = None                   # the optimizer (or module) of a "call"


class Refusal(Exception):
    """Why a step cannot be replayed, and the user's line that did it."""

    def __init__(self, reason: str, where: str) -> None:
        super().__init__(f"{reason} (at {where})" if where else reason)
        self.reason, self.where = reason, where


def user_line() -> str:
    """``file:line: code`` of the innermost frame outside microtensor: the user's line."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return ""
    name, line = frame.f_code.co_filename, frame.f_lineno
    code = linecache.getline(name, line).strip()
    return f"{os.path.basename(name)}:{line}: {code}"


class _WatchedStream:
    """sys.stdout / sys.stderr while recording: writing refuses (a print is not replayed)."""

    def __init__(self, stream: TextIO, recorder: Recorder, name: str) -> None:
        self._stream, self._recorder, self._name = stream, recorder, name

    def write(self, text: str) -> int:
        if text and recording.recorder is self._recorder:
            self._recorder.refuse(f"output written to sys.{self._name} (a print)")
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class Recorder:
    """Records one eager call of a step (see the module's docstring)."""

    def __init__(self, arg_tensors: list[TensorBase]) -> None:
        self.events: list[Event] = []
        self.sources: list[Source] = []
        self.refusal: Refusal | None = None
        self.backwards = 0  # backward() calls during the step
        self.result: Any = None
        self._known: dict[int, Ref] = {}          # id(array) -> its Ref
        self._tensors: dict[int, Ref] = {}        # id(tensor) -> Ref (args and leaves)
        self._fresh: set[int] = set()             # ids of arrays owned by events' outputs
        self._keep: list[Any] = []                # references, so that ids stay unique
        self._checked_modules: set[int] = set()
        self.modules: list[Any] = []              # the modules the ops ran in (for guards)
        self.values: list[np.ndarray] = []        # the array of each Var (the eager values)
        self._n_vars = 0
        self._phase = "forward"
        self._strict = False  # (new sources must be the same arrays: read in a backward)
        for i, t in enumerate(arg_tensors):
            if t.grad_fn is not None and self.refusal is None:
                self.refusal = Refusal(
                    f"a tensor argument with a graph made outside the step "
                    f"(grad_fn={t.grad_fn.name()}): a replay cannot backpropagate into it; "
                    f"pass it detached (x.detach()), or compute it inside the step", "")
            self._known.setdefault(id(t._data), Ref("a", i))
            self._tensors[id(t)] = Ref("a", i)
            self._fresh.add(id(t._data if t._data.base is None else t._data.base))
        self._keep.append(arg_tensors)
        self._arg_tensors = list(arg_tensors)
        self._arg_values: set[int] = set()  # ids of the other values in the arguments (run)

    # -- running the step -------------------------------------------------------------------

    def run(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Call ``fn(*args, **kwargs)`` eagerly while recording it; return its result."""
        if recording.recorder is not None:
            raise RuntimeError("microtensor.compile: a step is already being recorded")
        if self.refusal is not None:  # (refused before it ran: see __init__)
            return fn(*args, **kwargs)
        self._arg_values = {id(v) for v in leaves((args, kwargs))
                            if not isinstance(v, TensorBase)}
        out, err = sys.stdout, sys.stderr
        sys.stdout = _WatchedStream(out, self, "stdout")
        sys.stderr = _WatchedStream(err, self, "stderr")
        recording.recorder = self
        try:
            result = fn(*args, **kwargs)
            if self.refusal is None:
                try:
                    self.result = self._outputs(result, "the step's result", {})
                except Refusal as r:
                    self._refused(r)
        finally:
            recording.recorder = None
            sys.stdout, sys.stderr = out, err
        return result

    def refuse(self, reason: str) -> None:
        """Stop recording: the step cannot be replayed (the call itself goes on eagerly)."""
        if self.refusal is None:
            self.refusal = Refusal(reason, user_line())
        recording.recorder = None

    def read(self, reason: str) -> None:
        """The values of a tensor were read as an array: refused in the user's code. The
        library reads them to check them (binary_cross_entropy's range check) or to compute an
        array that an op reads, which the comparison of two recordings checks (a source)."""
        if not sys._getframe(2).f_code.co_filename.startswith(_PACKAGE):
            self.refuse(reason)

    # -- operands -----------------------------------------------------------------------------

    def _var(self, array: np.ndarray) -> int:
        n = self._n_vars
        self._n_vars += 1
        self._known[id(array)] = Ref("v", n)
        self.values.append(array)
        if array.base is None:  # (a view's base is fresh only if an op made it: a parameter
            self._fresh.add(id(array))  # may be a view of one buffer with the others)
        return n

    def _array_ref(self, array: np.ndarray, tensor: TensorBase | None, what: str) -> Ref:
        ref = self._known.get(id(array))
        if ref is not None:
            return ref
        root = array if array.base is None else array.base
        if id(root) in self._fresh:
            raise Refusal(f"{what}: an array computed outside an op from a value of this step "
                          f"(a view or NumPy computation outside Function.apply)", user_line())
        ref = Ref("s", len(self.sources))
        self.sources.append(Source(array, tensor, user_line(), what,
                                   strict=self._strict or tensor is None))
        self._known[id(array)] = ref
        self._keep.append(array)
        if tensor is not None:
            self._tensors.setdefault(id(tensor), ref)
            self._keep.append(tensor)
        return ref

    def _tensor_ref(self, t: TensorBase, what: str) -> Ref:
        """A tensor the replay writes to (a leaf's .grad): an argument or a source tensor."""
        ref = self._tensors.get(id(t))
        if ref is None:
            ref = self._array_ref(t._data, t, what)
            if ref.kind == "v":
                raise Refusal(f"{what}: a leaf tensor created inside the step", user_line())
            self._tensors[id(t)] = ref
            self._keep.append(t)
        if ref.kind == "s":
            self.sources[ref.index].as_tensor = True
            if self.sources[ref.index].tensor is not t:
                raise Refusal(f"{what}: two tensors share one array", user_line())
        return ref

    def _operand(self, value: Any, what: str) -> Any:
        """An argument as the recording keeps it: arrays and tensors as Refs, containers with
        their elements converted, anything else as it is (a literal)."""
        if isinstance(value, TensorBase):
            return self._array_ref(value._data, value, what)
        if isinstance(value, np.ndarray):
            return self._array_ref(value, None, what)
        if type(value) is tuple or type(value) is list:
            return type(value)(self._operand(v, what) for v in value)
        if type(value) is dict:
            return {k: self._operand(v, what) for k, v in value.items()}
        return value

    def _outputs(self, value: Any, what: str, slots: dict[int, int]) -> Any:
        """The step's result as the recording keeps it: each tensor as an ``Out`` (``slots``:
        the slot of each tensor seen, by id), containers with their elements converted, None
        as it is. Any other value (a number, a string) is refused: a replay could only return
        the value it recorded, which may have changed since (an optimizer's lr)."""
        if isinstance(value, TensorBase):
            slot = slots.setdefault(id(value), len(slots))
            itself = self._tensors.get(id(value))
            if itself is not None and itself.kind in "as":
                return Out(slot, itself, "itself")
            holders = [*self._arg_tensors,
                       *(s.tensor for s in self.sources if s.tensor is not None)]
            for holder in holders:
                leaf = self._tensors.get(id(holder))
                if holder._grad is value and leaf is not None and leaf.kind in "as":
                    return Out(slot, leaf, "grad")
            return Out(slot, self._array_ref(value._data, value, what), "new")
        if type(value) is tuple or type(value) is list:
            return type(value)(self._outputs(v, what, slots) for v in value)
        if type(value) is dict:
            return {k: self._outputs(v, what, slots) for k, v in value.items()}
        if value is None or id(value) in self._arg_values:
            return value  # (an argument's value is the same at each call with this guard key)
        raise Refusal(f"a {type(value).__name__} in {what} (a replay could only return the "
                      f"value it recorded: return tensors, or compute it outside the step)", "")

    # -- what the library reports --------------------------------------------------------------

    def op(self, fn: type[Function], ctx: Context, args: tuple[Any, ...], kwargs: dict[str, Any],
           raw: Any, out: np.ndarray) -> None:
        """``Function.apply`` ran ``fn.forward`` on ``args``: record it."""
        if fn.shape_from_values:
            self.refuse(f"{fn.__name__}: an op whose output's shape depends on values (a "
                        f"boolean mask's elements, unique, repeat_interleave with a tensor): a "
                        f"replay is made for the shapes it recorded")
            return
        try:
            self._check_modules()
            node, scope, phase = self._origin()
            what = f"{fn.__name__} (in {node})" if node else fn.__name__
            # NOTE: an array that a backward computed with NumPy (a mask from saved values)
            # may have equal values in both recordings and not later: only the same array is
            # accepted there, never a constant.
            self._strict = bool(node)
            event = Event("op", fn, self._operand(args, what),
                          self._operand(kwargs, what), needs=ctx.needs_input_grad,
                          scalar=type(raw) is not np.ndarray, phase=phase, node=node,
                          scope=scope, line=user_line())
        except Refusal as r:
            self._refused(r)
            return
        self._kept_by_forward(ctx, raw, out)
        event.out = self._var(out)
        self.events.append(event)

    def _kept_by_forward(self, ctx: Context, raw: Any, out: np.ndarray) -> None:
        """Arrays that the forward computed and kept for the backward (a mask, a softmax):
        the replay's forward computes them again, and the backward's ops read them there."""
        index = len(self.events)
        kept = [(f"saved[{i}]", v) for i, v in enumerate(ctx._to_save)]
        kept += [(k, v) for k, v in vars(ctx).items() if not k.startswith("_")]
        for attr, v in kept:
            if type(v) is np.ndarray and v is not raw and v is not out \
                    and id(v) not in self._known:
                self._known[id(v)] = Ref("c", index, attr)
                self._keep.append(v)

    def accumulate(self, leaf: TensorBase, grad: TensorBase, create_graph: bool,
                   shared: bool) -> None:
        """The engine adds ``grad`` into ``leaf.grad``: record it, then let the engine do it."""
        try:
            if create_graph:
                raise Refusal("backward(create_graph=True)", user_line())
            if leaf._hooks:
                raise Refusal("a hook registered on a tensor (register_hook)", user_line())
            self._strict = True
            event = Event("acc", None, (self._tensor_ref(leaf, "a leaf's gradient"),
                                        self._operand(grad, "a gradient")),
                          kwargs={"shared": shared}, phase="backward")
        except Refusal as r:
            self._refused(r)
            _accumulate_leaf(leaf, grad, create_graph, shared)
            return
        if leaf._grad is not None:  # (added in place: e.g. a .grad set to mt.zeros in the step)
            self._before_change(leaf._grad._data)
        recording.recorder = None
        try:
            _accumulate_leaf(leaf, grad, create_graph, shared)
        finally:
            recording.recorder = self
        assert leaf._grad is not None
        event.out = self._var(leaf._grad._data)
        self.events.append(event)

    def backward(self, roots: Any, seeds: list[Any], create_graph: bool, inputs: Any) -> None:
        """The engine starts a backward from ``seeds``, the gradients of the ``roots`` (ones
        for a loss: a constant): refuse what the replay could not redo."""
        self.backwards += 1
        reason = None
        if create_graph:
            reason = "backward(create_graph=True)"
        elif inputs is not None:
            reason = "autograd.grad (its gradients are returned, not accumulated)"
        elif backward_pre_hooks or backward_post_hooks:
            reason = "backward hooks (autograd.register_backward_pre/post_hook, diagnose.watch)"
        elif anomaly_mode.enabled:
            reason = "anomaly mode (its checks run in the eager engine only)"
        else:
            reason = _graph_hooks(roots)
        if reason is not None:
            self.refuse(reason)
            return
        self._strict = False
        try:
            self._operand(seeds, "the gradient backward() starts from")
        except Refusal as r:
            self._refused(r)
        self._phase = "backward"

    def inplace(self, target: TensorBase, fn: Any, other: Any, alpha: Any) -> None:
        """``target = fn(target, alpha * other)`` in place (``w -= lr * w.grad``): record it."""
        try:
            ref = self._operand(target, "an in-place update")
            # (the replay counts the change in the version of an argument or captured tensor
            # itself; not in that of another tensor on its array, such as w.data's)
            counted = self._tensors.get(id(target)) == ref and ref.kind in "as"
            event = Event("inplace", fn, (ref, self._operand(other, "an in-place update"),
                                          alpha), kwargs={"counted": counted}, phase="update")
        except Refusal as r:
            self._refused(r)
            return
        self._before_change(target._data)
        self._phase = "update"
        self.events.append(event)

    def set_grad(self, t: TensorBase, value: TensorBase | None) -> None:
        """``t.grad = value``: record it."""
        try:
            event = Event("set_grad", None, (self._tensor_ref(t, "a .grad assignment"),
                                             None if value is None else
                                             self._outputs(value, "a .grad assignment", {})),
                          phase="update")
        except Refusal as r:
            self._refused(r)
            return
        self.events.append(event)

    def call(self, obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``obj.name(*args, **kwargs)`` on an optimizer (``step``, ``zero_grad``) or a module
        (``zero_grad``): recorded as one opaque call, and run with recording paused (it works on
        the parameters and their .grad in place)."""
        if any(callable(a) for a in args) or any(callable(v) for v in kwargs.values()):
            self.refuse(f"optimizer.{name}(closure) (the closure runs its own forward)")
            return getattr(obj, name)(*args, **kwargs)
        self._phase = "update"
        self.events.append(Event("call", name, args, dict(kwargs), obj=obj, phase="update"))
        recording.recorder = None
        try:
            return getattr(obj, name)(*args, **kwargs)
        finally:
            recording.recorder = self if self.refusal is None else None

    # -- helpers -------------------------------------------------------------------------------

    def _before_change(self, array: np.ndarray) -> None:
        """``array`` is about to change in place: the sources it shares memory with keep their
        values of before (``Source.initial``: what each replay starts from)."""
        for source in self.sources:
            if source.initial is None and np.may_share_memory(source.array, array):
                source.initial = source.array.copy()

    def _refused(self, r: Refusal) -> None:
        if self.refusal is None:
            self.refusal = r
        recording.recorder = None

    def _check_modules(self) -> None:
        for m in module_scope.stack:
            if id(m) not in self._checked_modules:
                self._checked_modules.add(id(m))
                self.modules.append(m)
                if getattr(m, "_hooks", None):
                    raise Refusal(f"a hook registered on the module {type(m).__name__}",
                                  user_line())

    def _origin(self) -> tuple[str, tuple[Any, ...], str]:
        """For step.source: the node whose backward ran an op (or ""), the modules it ran in
        (the node's, in a backward), and the phase."""
        frame: FrameType | None = sys._getframe(3)
        for _ in range(4):
            if frame is None:
                break
            local = frame.f_locals
            if frame.f_code.co_name == "backward" and isinstance(local.get("ctx"), Context):
                node: Context = local["ctx"]
                return node.name(), node.scope, "backward"
            if frame.f_code.co_name == "_propagate" and isinstance(local.get("node"), Context):
                node = local["node"]
                return f"the engine, at {node.name()}", node.scope, "backward"
            frame = frame.f_back
        phase = self._phase
        if grad_mode.state.enabled:
            phase = self._phase = "forward"
        elif phase == "backward":
            phase = self._phase = "update"
        return "", module_scope.stack, phase


def leaves(value: Any) -> list[Any]:
    """The values inside tuples, lists and dicts (nested), in order: a step's arguments, or a
    recorded operand or result."""
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in leaves(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in leaves(v)]
    return [value]


def _graph_hooks(roots: Any) -> str | None:
    """A tensor hook or retain_grad() in the graph behind ``roots`` (None if there is none)."""
    stack = [t.grad_fn for t in roots if isinstance(t, TensorBase) and t.grad_fn is not None]
    seen = {id(n) for n in stack}
    while stack:
        node = stack.pop()
        if node._hooks:
            return "a hook registered on a tensor (register_hook)"
        if node._retained is not None:
            return "retain_grad() (a non-leaf .grad is not replayed)"
        for t in node.inputs:
            if isinstance(t, TensorBase) and t.grad_fn is not None and id(t.grad_fn) not in seen:
                seen.add(id(t.grad_fn))
                stack.append(t.grad_fn)
    return None
