"""``microtensor.compile``: a training step recorded twice, then replayed as straight-line code.

    step = mt.compile(train_step)      # or @mt.compile above the def
    loss = step(x, y)                  # calls 1 and 2 run eagerly and record; later calls replay

A compiled step keeps one entry per *guard key*: the shapes, dtypes, requires_grad, hooks and
leafness of its tensor arguments, its other arguments (compared with ==; floats by repr), the
grad mode and the default dtype. A new key records again (``step.recompiles`` counts it); past
``RECOMPILE_LIMIT`` new keys, a warning says why and new keys run eagerly. A step that cannot
be replayed (see ``record.py``) runs eagerly for its key, after one warning naming the cause
and the line.
"""

from __future__ import annotations

import builtins
import functools
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from ..autograd import grad_mode
from ..autograd.anomaly_mode import anomaly_mode
from ..autograd.function import TensorBase, recording
from ..autograd.hooks import backward_post_hooks, backward_pre_hooks
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from .codegen import generate, merge
from .record import Recorder, Refusal

_R = TypeVar("_R")

RECOMPILE_LIMIT = 8


def _key(value: Any, tensors: list[TensorBase]) -> Any:
    """The guard key of an argument; its tensors are appended to ``tensors`` in order."""
    if isinstance(value, TensorBase):
        tensors.append(value)
        return ("T", value._data.shape, value._data.dtype, value._requires_grad,
                bool(value._hooks), value.grad_fn is None)
    if type(value) is tuple or type(value) is list:
        return (type(value).__name__, tuple(_key(v, tensors) for v in value))
    if type(value) is dict:
        return ("dict", tuple((k, _key(v, tensors)) for k, v in value.items()))
    if isinstance(value, (float, np.floating)):  # (repr: -0.0 is not 0.0, nan is nan)
        return ("=", type(value), repr(value))
    return ("=", type(value), value)


def _same_key(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # (e.g. an ndarray argument: == is elementwise)
        return False


def _never(args: tuple[Any, ...]) -> bool:
    """The check of an entry without a replay."""
    return False


class _Entry:
    """What a compiled step knows about one guard key."""

    def __init__(self, key: Any) -> None:
        self.key = key
        self.recordings: list[Recorder] = []
        self.replay: Callable[[Sequence[TensorBase]], Any] | None = None
        self.source: str | None = None
        self.guards: list[tuple[TensorBase, Any, Any, bool]] = []  # captured tensors
        self.grad_enabled, self.default_dtype = key[0]  # (the key's first part)
        self.modules: list[tuple[Any, bool]] = []  # the modules the ops ran in (and their
        # submodules), and .training
        # What those modules hold (a submodule, parameter or buffer replaced: model[2] =
        # nn.Linear(...)), and the length of the containers among them (Sequential, ...).
        self.members: list[tuple[Any, str, Any]] = []
        self.sizes: list[tuple[Any, int]] = []
        # The globals and closure variables the step's own code reads, and their objects (a
        # model rebound by a notebook cell run again): (globals, name, object) or (cell, None,
        # object).
        self.names: list[tuple[Any, str | None, Any]] = []
        self.eager = False
        # ``check``: the guard key and the guards above in one generated function
        # (``_fast_check``); its namespace, ``check_globals``, holds the captured tensors' arrays.
        self.check: Callable[[tuple[Any, ...]], bool] = _never
        self.check_globals: dict[str, Any] = {}

    def forget(self) -> None:
        """Drop the replay (to record again, or to run eagerly): the check fails from now on."""
        self.replay, self.recordings = None, []
        self.check, self.check_globals = _never, {}

    def remember(self) -> None:
        """After a call whose guards held: the next ``check`` expects the arrays the captured
        tensors hold now."""
        if self.check_globals:
            for i, (t, *_) in enumerate(self.guards):
                self.check_globals[f"E{i}"] = t._data

    def guards_hold(self) -> bool:
        """Whether what the replay assumes still holds: the captured tensors' shapes, dtypes
        and requires_grad, the modules' train/eval mode and what they hold, the step's globals
        and closure variables, no hooks, no anomaly mode."""
        for t, shape, dtype, requires_grad in self.guards:
            d = t._data
            if d.shape != shape or d.dtype != dtype or t._requires_grad is not requires_grad \
                    or t._hooks:
                return False
        for m, training in self.modules:
            if m.training is not training or m._hooks:
                return False
        for m, attribute, member in self.members:
            if getattr(m, attribute, None) is not member:
                return False
        for m, size in self.sizes:
            if len(m) != size:
                return False
        for holder, name, value in self.names:
            if (holder[name] if name is not None else holder.cell_contents) is not value:
                return False
        return not (backward_pre_hooks or backward_post_hooks or anomaly_mode.enabled)


class CompiledStep(Generic[_R]):
    """A step function, recorded on its first calls and replayed afterwards (see the module's
    docstring and docs/compile.md).

    Attributes:
        source: the generated replay function of the last key compiled (None before).
        recompiles: how many times a new guard key (or a changed captured tensor) recorded
            again.
    """

    fn: Callable[..., _R]  # the step, as written

    def __init__(self, fn: Callable[..., _R]) -> None:
        while isinstance(fn, CompiledStep):  # (compiling a compiled step starts afresh)
            fn = fn.fn
        self.fn = fn
        self.recompiles = 0
        self.source: str | None = None
        self._entries: list[_Entry] = []
        self._last: _Entry | None = None  # (the entry of the last call: checked first)
        self._limit_warned = False
        functools.update_wrapper(self, fn, updated=())  # (name and docstring only)

    def __call__(self, *args: Any, **kwargs: Any) -> _R:
        if recording.recorder is not None:  # (a compiled step called inside another's record)
            return self.fn(*args, **kwargs)
        entry = self._last
        if entry is not None and not kwargs and entry.check(args):
            replay = entry.replay  # (set: the check is made with it)
            assert replay is not None
            result: _R = replay(args)
            return result
        tensors: list[TensorBase] = []
        parts: list[Any] = [(grad_mode.state.enabled, get_default_dtype())]
        for a in args:  # (_key, inlined for the common case: a tensor)
            if isinstance(a, TensorBase):
                tensors.append(a)
                parts.append(("T", a._data.shape, a._data.dtype, a._requires_grad,
                              bool(a._hooks), a.grad_fn is None))
            else:
                parts.append(_key(a, tensors))
        if kwargs:
            parts.append(_key(kwargs, tensors))
        if len(tensors) > 1:  # which arguments are one array (the replay reads it once)
            first: dict[int, int] = {}
            parts.append(tuple(first.setdefault(id(t._data), i) for i, t in enumerate(tensors)))
        key = tuple(parts)
        entry = self._last
        if entry is None or not _same_key(entry.key, key):
            entry = None
            for e in self._entries:
                if _same_key(e.key, key):
                    entry = self._last = e
                    break
        if entry is not None and entry.replay is not None:
            if entry.guards_hold():
                result = entry.replay(tensors)
                entry.remember()
                return result
            if not self._may_record("a captured tensor changed shape, dtype or "
                                    "requires_grad, a module its train/eval mode, a module a "
                                    "submodule, parameter or buffer, a hook was added, or a "
                                    "global or closure variable of the step was assigned "
                                    "again"):
                entry.eager = True
            entry.forget()
        if entry is None:
            if self._entries and not self._may_record("new argument shapes, dtypes or "
                                                      "values, grad mode or default dtype"):
                return self.fn(*args, **kwargs)
            entry = self._last = _Entry(key)
            self._entries.append(entry)
        if entry.eager:
            return self.fn(*args, **kwargs)
        return self._record(entry, tensors, args, kwargs)

    def _may_record(self, why: str) -> bool:
        """Count a re-record; False (and a warning, once) past the limit."""
        if self.recompiles >= RECOMPILE_LIMIT:
            if not self._limit_warned:
                self._limit_warned = True
                warnings.warn(f"microtensor.compile({self._name()}): recompiled "
                              f"{RECOMPILE_LIMIT} times (the last because of {why}); new "
                              f"arguments now run eagerly", UserWarning, stacklevel=3)
            return False
        self.recompiles += 1
        return True

    def _record(self, entry: _Entry, tensors: list[TensorBase], args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> _R:
        recorder = Recorder(tensors)
        result: _R = recorder.run(self.fn, args, kwargs)
        refusal = recorder.refusal
        if refusal is None and recorder.backwards == 0 and _needs_grad(result):
            # (a replay returns tensors without grad_fn: the caller could not differentiate)
            refusal = Refusal("a result that is differentiated after the call (it requires grad "
                              "and the function ran no backward): compile a whole training "
                              "step (forward, loss.backward(), optimizer step), not the model "
                              "alone", "")
        if refusal is None:
            entry.recordings.append(recorder)
            if len(entry.recordings) == 2:
                try:
                    self._build(entry, len(tensors), not kwargs and len(tensors) == len(args))
                except Refusal as r:
                    refusal = r
        if refusal is not None:
            entry.eager = True
            entry.forget()
            where = f" at {refusal.where}" if refusal.where else ""
            warnings.warn(f"microtensor.compile({self._name()}): runs eagerly for these "
                          f"arguments: refused {refusal.reason}{where}", UserWarning,
                          stacklevel=3)
        return result

    def _build(self, entry: _Entry, n_args: int, plain: bool) -> None:
        plan = merge(*entry.recordings)
        source, namespace = generate(plan, Tensor, n_args)
        exec(builtins.compile(source, f"<microtensor.compile {self._name()}>", "exec"), namespace)
        entry.replay = namespace["replay"]
        entry.source = self.source = source
        entry.guards = [(t, t._data.shape, t._data.dtype, t._requires_grad)
                        for kind, t in plan.sources if kind == "tensor"]
        # (the modules the ops ran in and all their submodules: a Dropout that ran no op in
        # eval mode would run one in train mode)
        modules = {id(sub): sub for m in entry.recordings[1].modules for sub in m.modules()}
        entry.modules = [(m, m.training) for m in modules.values()]
        entry.members = [(m, name, getattr(m, name)) for m in modules.values()
                         for name, _ in (*m.named_children(),
                                         *m.named_parameters(recurse=False),
                                         *m.named_buffers(recurse=False))]
        entry.sizes = [(m, len(m)) for m in modules.values() if hasattr(type(m), "__len__")]
        entry.names = _names_read(self.fn)
        entry.recordings = []
        if plain:
            entry.check, entry.check_globals = _fast_check(entry, n_args, self._name())

    def _name(self) -> str:
        return getattr(self.fn, "__name__", type(self.fn).__name__)

    def __repr__(self) -> str:
        return f"<compiled {self._name()}>"


def _fast_check(entry: _Entry, n_args: int, name: str
                ) -> tuple[Callable[[tuple[Any, ...]], bool], dict[str, Any]]:
    """``entry``'s guard key and guards (``guards_hold``) as one generated function of a
    call's arguments, for a step called with tensors only, and its namespace.

    The function is true when the arguments are tensors of the key's shapes, dtypes,
    requires_grad, hooks and leafness, holding arrays that are the same or different objects as
    in the key, and when ``guards_hold`` would be: the captured tensors hold the arrays they
    held at the last call (``E0``, ... in the namespace, set by ``_Entry.remember``: an array
    that is the same object has the same shape and dtype, as microtensor never changes them in
    place) and so on, plus the grad mode and the default dtype of the key. When it is false,
    the call takes the slower path: the guard key, then ``guards_hold``.
    """
    # NOTE: straight-line checks instead of building the key and looping over the guards: the
    # guards of a small network's step cost about 1 us this way, 3 us the other.
    ns: dict[str, Any] = {"TensorBase": TensorBase, "grad_mode": grad_mode.state,
                          "anomaly_mode": anomaly_mode, "backward_pre_hooks": backward_pre_hooks,
                          "backward_post_hooks": backward_post_hooks}
    if n_args > 8:  # (the pairwise checks of which arrays are one would be too many)
        return _never, {}
    parts = entry.key[1:1 + n_args]  # (("T", shape, dtype, requires_grad, hooks, leaf), ...)
    alias = entry.key[1 + n_args] if n_args > 1 else (0,)  # (the first argument with its array)
    checks = []
    for i, (_, shape, dtype, requires_grad, hooks, leaf) in enumerate(parts):
        ns[f"DT{i}"] = dtype
        checks.append(f"isinstance(a{i}, TensorBase) and a{i}._data.shape == {shape!r} "
                      f"and a{i}._data.dtype is DT{i} and a{i}._requires_grad is {requires_grad} "
                      f"and {'' if hooks else 'not '}a{i}._hooks "
                      f"and a{i}.grad_fn is {'' if leaf else 'not '}None")
    for i in range(n_args):
        for j in range(i):
            same = "is" if alias[i] == alias[j] else "is not"
            checks.append(f"a{i}._data {same} a{j}._data")
    for i, (t, _, _, requires_grad) in enumerate(entry.guards):
        ns[f"S{i}"], ns[f"E{i}"] = t, None  # (remember sets E)
        checks.append(f"S{i}._data is E{i} and S{i}._requires_grad is {requires_grad} "
                      f"and not S{i}._hooks")
    for i, (m, training) in enumerate(entry.modules):
        ns[f"M{i}"] = m
        checks.append(f"M{i}.training is {training} and not M{i}._hooks")
    module = {id(m): f"M{k}" for k, (m, _) in enumerate(entry.modules)}  # (its name here)
    for i, (m, name, member) in enumerate(entry.members):
        ns[f"K{i}"] = member
        checks.append(f"{module[id(m)]}.{name} is K{i}" if name.isidentifier()
                      else f"getattr({module[id(m)]}, {name!r}) is K{i}")
    for m, size in entry.sizes:
        checks.append(f"len({module[id(m)]}) == {size}")
    for i, (holder, variable, value) in enumerate(entry.names):
        ns[f"H{i}"], ns[f"O{i}"] = holder, value
        checks.append(f"H{i}[{variable!r}] is O{i}" if variable is not None
                      else f"H{i}.cell_contents is O{i}")
    checks.append(f"grad_mode.enabled is {entry.grad_enabled}")
    ns["DEFAULT"], ns["get_default_dtype"] = entry.default_dtype, get_default_dtype
    checks.append("get_default_dtype() is DEFAULT")
    checks.append("not (backward_pre_hooks or backward_post_hooks or anomaly_mode.enabled)")
    names = "".join(f"a{i}, " for i in range(n_args))
    body = "\n            and ".join(checks)
    source = (f"def check(A):\n"
              f"    if len(A) != {n_args}:\n"
              f"        return False\n"
              f"    ({names}) = A\n"
              f"    return ({body})\n")
    exec(builtins.compile(source, f"<microtensor.compile {name}: guards>", "exec"), ns)
    return ns["check"], ns


def _names_read(fn: Any) -> list[tuple[Any, str | None, Any]]:
    """The globals and closure variables that ``fn``'s own code reads (a function, or a bound
    method's function), with the objects they hold now (see ``_Entry.names``)."""
    fn = getattr(fn, "__func__", fn)
    code, globals_ = getattr(fn, "__code__", None), getattr(fn, "__globals__", None)
    if code is None or globals_ is None:
        return []
    names: list[tuple[Any, str | None, Any]] = [
        (globals_, n, globals_[n]) for n in dict.fromkeys(code.co_names) if n in globals_]
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            names.append((cell, None, cell.cell_contents))
        except ValueError:  # (a cell not filled yet)
            continue
    return names


def _needs_grad(value: Any) -> bool:
    """Whether a step's result holds a tensor that requires grad."""
    if isinstance(value, TensorBase):
        return bool(value._requires_grad)
    if isinstance(value, (tuple, list)):
        return any(_needs_grad(v) for v in value)
    if isinstance(value, dict):
        return any(_needs_grad(v) for v in value.values())
    return False


def compile(fn: Callable[..., _R]) -> CompiledStep[_R]:  # noqa: A001  (torch.compile's name)
    """Compile a training step: its first two calls run eagerly and record what it does (the
    forward, the backward the engine runs, gradient accumulation, the optimizer's ``zero_grad``
    and ``step``); later calls with the same argument shapes, dtypes and values replay it as
    straight-line NumPy (``step.source``). Usable as a decorator.

    Args:
        fn: the step, e.g. ``def step(x, y): opt.zero_grad(); loss = ...; loss.backward();
            opt.step(); return loss``.

    Returns:
        A callable with ``fn``'s signature. A replay returns tensors without ``grad_fn``
        (nothing to differentiate: the backward already ran); what the step cannot replay
        (see docs/compile.md) makes it run eagerly, with a warning.
    """
    return CompiledStep(fn)
