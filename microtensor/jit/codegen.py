"""The replay of a recorded step: Python source with one line per event, and its ``exec``.

Two recordings of the same step (``record.Recorder``) are compared first (``merge``): they must
have done the same things with the same functions and literals. Each source (an array that the
step read but no op computed) is then a *captured* tensor (the same tensor in both recordings:
a parameter or buffer, read afresh at each replay), a captured array (the same array), or a
*constant* (equal values: e.g. backward's seed gradient of ones, a ``mt.zeros`` initial
state). Different values mean a value computed outside an op (``mt.randn`` in the step, NumPy
on a tensor's values): the step is refused.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd.function import TensorBase
from ..nn.module import Module
from ..optim.flat import lerp_
from . import inline, updates
from .record import Event, Out, Recorder, Ref, Refusal, leaves


class ReplayContext:
    """The ``ctx`` an op's forward gets in a replay: attributes can be set, nothing is saved
    (the replay runs the backward's ops itself, it never calls ``backward``)."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *values: Any) -> None:
        self.saved = values  # (the backward's ops of the replay may read a kept array)


def increment_version(tensors: tuple[TensorBase, ...]) -> None:
    """``autograd.graph.increment_version`` in a replay (no recorder to tell: none records while
    a replay runs): one in-place change counted for each tensor."""
    for t in tensors:
        t._versions[0] += 1


def accumulate(leaf: TensorBase, grad: np.ndarray, shared: bool) -> np.ndarray:
    """``leaf.grad += grad`` as the engine does it without create_graph (``_accumulate_leaf``):
    a new ``.grad`` (copied if the array is shared), else an in-place add. Returns the array
    ``.grad`` holds."""
    old = leaf._grad
    if old is None:
        new = leaf._make(grad.copy() if shared else grad)
        leaf._grad = new
        return new._data
    if old._requires_grad:
        added = old + leaf._make(grad)
        leaf._grad = added
        return added._data
    np.add(old._data, grad, out=old._data)
    old._versions[0] += 1
    return old._data


@dataclass
class Plan:
    """What ``merge`` found: the events, for each source how the replay gets it, and the
    outputs of ops that are the same at every call (``constants``: computed once)."""

    events: list[Event]
    sources: list[tuple[str, Any]]   # ("tensor", t) | ("array", a) | ("constant", a)
    #                                  | ("changed constant", a): copied at each call
    result: Any
    constants: dict[int, np.ndarray] = field(default_factory=dict)  # Var -> its value


def _same(a: Any, b: Any) -> bool:
    """Whether two recorded operands are the same (literals equal, of the same type)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return a is b
    if isinstance(a, np.generic):
        return bool(a.dtype == b.dtype and (a == b or (a != a and b != b)))
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    try:
        return bool(a == b)
    except Exception:
        return a is b


def merge(first: Recorder, second: Recorder) -> Plan:
    """Compare two recordings of a step; return what the replay does, or raise ``Refusal``."""
    if len(first.events) != len(second.events):
        raise Refusal(f"the two first calls ran different ops ({len(first.events)} and "
                      f"{len(second.events)} events): control flow that depends on values",
                      "")
    for i, (e1, e2) in enumerate(zip(first.events, second.events, strict=True)):
        if not (e1.kind == e2.kind and e1.fn is e2.fn and e1.obj is e2.obj
                and e1.needs == e2.needs and e1.scalar == e2.scalar
                and _same(e1.args, e2.args) and _same(e1.kwargs, e2.kwargs)):
            name = getattr(e1.fn, "__name__", e1.fn or e1.kind)
            raise Refusal(f"the two first calls differ at event {i} ({name}): different ops "
                          f"or arguments", e2.line)
    if len(first.sources) != len(second.sources) or not _same(first.result, second.result):
        raise Refusal("the two first calls read different values or returned different things",
                      "")
    sources: list[tuple[str, Any]] = []
    for s1, s2 in zip(first.sources, second.sources, strict=True):
        if s1.tensor is not None and s1.tensor is s2.tensor:
            sources.append(("tensor", s2.tensor))
        elif s1.as_tensor or s2.as_tensor:
            raise Refusal("a leaf tensor created inside the step (its .grad cannot be replayed)",
                          s2.where)
        elif s1.array is s2.array:
            sources.append(("array", s2.array))
        elif s1.strict or s2.strict:
            raise Refusal(f"an array computed outside an op: an array of {_describe(s2.array)} "
                          f"read by {s2.what} is a new one at each call (a backward or an "
                          f"argument computing with NumPy)", s2.where)
        elif _equal(s1.array if s1.initial is None else s1.initial,
                    s2.array if s2.initial is None else s2.initial):
            if s2.initial is None:
                sources.append(("constant", s2.array.copy()))
            else:  # (changed in place by the step: each replay starts from a copy)
                sources.append(("changed constant", s2.initial.copy()))
        else:
            raise Refusal(f"values computed outside an op: an array of "
                          f"{_describe(s2.array)} read by {s2.what} differs between the two "
                          f"first calls (e.g. mt.randn in the step, or NumPy on a tensor's "
                          f"values)", s2.where)
    plan = Plan(second.events, sources, second.result)
    plan.constants = _constant_outputs(plan, first.values, second.values)
    return plan


def _builtin(fn: Any) -> bool:
    """Whether ``fn`` is one of microtensor's own ops (whose forward never changes its
    inputs, and draws random numbers only from an ``rng`` argument)."""
    return getattr(fn, "__module__", "").startswith("microtensor.")


def _constant_outputs(plan: Plan, first: list[np.ndarray], second: list[np.ndarray]
                      ) -> dict[int, np.ndarray]:
    """The outputs of the ops that the replay can compute once, when it is made: an op of
    microtensor's own whose operands are all constants (recorded constants, literals, or such
    outputs), that gets no random generator, and gave equal values in both recordings; and
    whose output only ops of microtensor's own read (it is never returned, stored as a
    ``.grad``, or changed in place). E.g. the gradient a mean loss starts its backward from,
    1 / n in the loss's shape."""
    constants: dict[int, np.ndarray] = {}
    for e in plan.events:
        if e.kind != "op" or e.out is None or not _builtin(e.fn):
            continue
        operands = (e.args, e.kwargs)
        if any(isinstance(v, _RANDOM) for v in leaves(operands)):
            continue
        if all((r.kind == "s" and plan.sources[r.index][0] == "constant")
               or (r.kind == "v" and r.index in constants) for r in _refs(operands)):
            a, b = first[e.out], second[e.out]
            if _equal(a, b):
                constants[e.out] = b.copy()
    # Drop those that something other than microtensor's own ops reads, or that share memory
    # with such an array (a view of it): an event of another kind (which might change it in
    # place, or store it as a .grad), an op of the user's own, the step's result; and those
    # whose forward kept an array that is read later (the replay does not run that forward).
    outputs = {i: e.out for i, e in enumerate(plan.events) if e.out in constants}
    escaping: list[np.ndarray] = []
    for e in plan.events:
        builtin_op = e.kind == "op" and _builtin(e.fn)
        for r in _refs((e.args, e.kwargs)):
            if r.kind == "c" and r.index in outputs:
                constants.pop(outputs[r.index], None)
            elif r.kind == "v" and not builtin_op:
                escaping.append(second[r.index])
    for r in _refs(plan.result):
        if r.kind == "v":
            escaping.append(second[r.index])
        elif r.kind == "c" and r.index in outputs:
            constants.pop(outputs[r.index], None)
    for var in list(constants):
        if any(np.may_share_memory(second[var], a) for a in escaping):
            del constants[var]
    return constants


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays have the same shape, dtype and values (NaNs equal)."""
    return a.shape == b.shape and a.dtype == b.dtype \
        and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


def _describe(a: np.ndarray) -> str:
    return f"{tuple(a.shape)} {a.dtype}"


def _qualified_names(events: list[Event]) -> tuple[dict[int, str], dict[int, str]]:
    """The names of the modules and parameters under the outermost modules the ops ran in
    (``0``, ``0.weight``), by id."""
    modules: dict[int, str] = {}
    params: dict[int, str] = {}
    roots = {id(e.scope[0]): e.scope[0] for e in events if e.scope}
    for root in roots.values():
        for name, m in root.named_modules():
            modules.setdefault(id(m), name)
        for name, p in root.named_parameters():
            params.setdefault(id(p), name)
    return modules, params


class _Names:
    """The namespace of the generated function: each object gets a readable, unique name."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"np": np, "math": math, "asarray": np.asarray,
                                          "lerp_": lerp_,
                                          "increment_version": increment_version}
        self._by_id: dict[int, str] = {id(v): k for k, v in self.namespace.items()}
        # The replay's own local names (and those of the forwards written in): never given.
        self.reserved = {"g", "lr", "buf", "state", "t", "denom", "exp_avg", "exp_avg_sq",
                         "momentum", "dampening", "weight_decay", "beta1", "beta2", "eps"}

    def taken(self, name: str) -> bool:
        return name in self.namespace or name in self.reserved \
            or (name[:1] in "asvr" and name[1:].isdigit())  # (a0, s0, v0, r0: the replay's)

    def add(self, obj: Any, name: str) -> str:
        found = self._by_id.get(id(obj))
        if found is not None:
            return found
        base, n = name, 1
        while self.taken(name):
            n += 1
            name = f"{base}_{n}"
        self.namespace[name] = obj
        self._by_id[id(obj)] = name
        return name


_SIMPLE = (bool, int, str, type(None))


def _render(value: Any, ref: Callable[[Ref], str], other: Callable[[Any], str],
            out: Callable[[Out], str] | None = None) -> str:
    """The source of a recorded operand: its Refs by ``ref`` (its Outs by ``out``), its
    tuples, lists and dicts (with string keys) as such, anything else by ``other``."""
    if isinstance(value, Ref):
        return ref(value)
    if isinstance(value, Out) and out is not None:
        return out(value)
    if isinstance(value, tuple):
        inner = ", ".join(_render(v, ref, other, out) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v, ref, other, out) for v in value) + "]"
    if isinstance(value, dict) and all(type(k) is str for k in value):
        return "{" + ", ".join(f"{k!r}: {_render(v, ref, other, out)}"
                               for k, v in value.items()) + "}"
    return other(value)


def _outs(value: Any) -> list[Out]:
    """The Outs of a recorded result, in order."""
    return [v for v in leaves(value) if isinstance(v, Out)]


def _refs(value: Any) -> list[Ref]:
    """The Refs in a recorded operand (nested in tuples, lists and dicts; an ``Out``'s too)."""
    return [v.ref if isinstance(v, Out) else v for v in leaves(value)
            if isinstance(v, (Ref, Out))]


_RANDOM = (np.random.Generator, np.random.RandomState, np.random.BitGenerator)


def _written_out(plan: Plan) -> dict[int, updates.Layout]:
    """The optimizers whose zero_grad and step the replay writes out (by id): those of a
    built-in rule (``updates.layout``) whose every ``step()`` finds a gradient on every
    parameter, computed by the step itself (accumulated by its backward, not cleared since)."""
    found: dict[int, updates.Layout | None] = {}
    present: set[int] = set()  # ids of the tensors whose .grad this step has set
    for e in plan.events:
        if e.kind == "acc" and e.args[0].kind == "s":
            present.add(id(plan.sources[e.args[0].index][1]))
        elif e.kind == "set_grad" and e.args[0].kind == "s":
            present.discard(id(plan.sources[e.args[0].index][1]))
        elif e.kind == "call" and isinstance(e.obj, Module):  # (model.zero_grad(): called)
            if not e.args or e.args[0]:
                present.difference_update(id(p) for p in e.obj.parameters())
        elif e.kind == "call":
            opt = e.obj
            if id(opt) not in found:
                found[id(opt)] = updates.layout(opt)
            params = [p for g in opt.param_groups for p in g["params"]]
            if e.fn == "zero_grad" and (not e.args or e.args[0]):
                present.difference_update(id(p) for p in params)
            elif e.fn == "step" and not all(id(p) in present for p in params):
                found[id(opt)] = None
    return {k: lay for k, lay in found.items() if lay is not None}


def generate(plan: Plan, tensor_type: Any, n_args: int) -> tuple[str, dict[str, Any]]:
    """The source of ``replay(A)`` (``A``: the step's tensor arguments) and its namespace."""
    names = _Names()
    names.namespace["accumulate"] = accumulate
    names.namespace["Tensor"] = tensor_type
    modules, params = _qualified_names(plan.events)
    lines = ["def replay(A):"]
    for i in range(n_args):
        lines.append(f"    a{i} = A[{i}]._data  # argument {i}")
    for k, (kind, value) in enumerate(plan.sources):
        if kind == "tensor":
            names.namespace[f"S{k}"] = value
            name = params.get(id(value), "a tensor")
            lines.append(f"    s{k} = S{k}._data  # {name}, {_describe(value._data)}")
        elif kind == "changed constant":
            names.namespace[f"s{k}_initial"] = value
            shown = f" {value.tolist()}" if value.size <= 4 else ""
            lines.append(f"    s{k} = s{k}_initial.copy()  # a constant{shown} "
                         f"({_describe(value)}) that the step changes in place")
        else:
            names.namespace[f"s{k}"] = value
            what = "a constant" if kind == "constant" else "an array"
            shown = f" {value.tolist()}" if value.size <= 4 else ""
            lines.append(f"    # s{k}: {what}{shown} ({_describe(value)}, kept from the "
                         f"recording)")

    def where(e: Event) -> str:
        place = ""
        if e.scope:
            m = e.scope[-1]
            name = modules.get(id(m), "")
            place = f"{name}: {type(m).__name__}" if name else type(m).__name__
        return ", ".join(w for w in (place, e.node) if w)

    def array(ref: Ref) -> str:
        return f"c{ref.index}.{ref.attr}" if ref.kind == "c" else f"{ref.kind}{ref.index}"

    def tensor(ref: Ref) -> str:
        return f"A[{ref.index}]" if ref.kind == "a" else f"S{ref.index}"

    def literal(value: Any) -> str:
        return _render(value, array, lambda v: repr(v) if type(v) in _SIMPLE or (
            type(v) is float and math.isfinite(v)) else names.add(v, "k"))

    def call_args(args: tuple[Any, ...], kwargs: dict[str, Any], drop_none: bool = False) -> str:
        while drop_none and args and args[-1] is None:  # (opt.step(None) is opt.step())
            args = args[:-1]
        parts = [literal(a) for a in args] + [f"{k}={literal(v)}" for k, v in kwargs.items()]
        return ", ".join(parts)

    def made(o: Out) -> str:
        """The tensor ``o`` in the replay (see ``record.Out``): an argument or a parameter
        itself, a ``.grad``, or a new tensor (around a copy of a kept constant, which the
        caller may change)."""
        kind = plan.sources[o.ref.index][0] if o.ref.kind == "s" else ""
        if o.how == "grad":
            return f"{tensor(o.ref)}._grad"
        if o.how == "itself" and (o.ref.kind == "a" or kind == "tensor"):
            return tensor(o.ref)
        if kind == "constant":
            return f"Tensor._make({array(o.ref)}.copy())"
        return f"Tensor._make({array(o.ref)})"

    ctx_reads: dict[int, set[str]] = {}  # op event -> the attributes of its ctx read later
    for ref in _refs(([(e.args, e.kwargs) for e in plan.events], plan.result)):
        if ref.kind == "c":
            ctx_reads.setdefault(ref.index, set()).add(ref.attr)
    written = _written_out(plan)
    for k, layout in enumerate(written.values()):
        name = names.add(layout.opt, type(layout.opt).__name__.lower())
        names.namespace[f"L{k}"] = layout
        lines.append(f"    {name}_as_recorded = L{k}.ready()  # (else its own zero_grad and "
                     f"step)")

    sources = {id(value): k for k, (kind, value) in enumerate(plan.sources) if kind == "tensor"}

    class ParamNames:  # (updates.Names: the parameters are sources S0, S1, ...)
        def add(self, obj: Any, hint: str) -> str:
            return names.add(obj, hint)

        def tensor(self, p: Any) -> str:
            k = sources.get(id(p))
            return f"S{k}" if k is not None else names.add(p, "p")

        def array(self, p: Any) -> str:
            k = sources.get(id(p))
            return f"s{k}" if k is not None else f"{names.add(p, 'p')}._data"

        def label(self, p: Any) -> str:
            return params.get(id(p), "a parameter")

    param = ParamNames()

    phase = None
    for i, e in enumerate(plan.events):
        if e.phase != phase:
            phase = e.phase
            lines.append(f"    # -- {phase}")
        if e.kind == "op" and e.out in plan.constants:
            value = names.namespace[f"v{e.out}"] = plan.constants[e.out]
            comment = ", ".join(w for w in (e.fn.__name__, where(e)) if w)
            shown = f" = {value.tolist()}" if value.size <= 4 else ":"
            lines.append(f"    # v{e.out}{shown} ({_describe(value)}), computed once: {comment}")
        elif e.kind == "op":
            ctx = f"c{i}"
            names.namespace[ctx] = ReplayContext(e.needs)
            written_in = inline.write(e.fn.forward, i, [literal(a) for a in e.args],
                                      {k: literal(v) for k, v in e.kwargs.items()},
                                      f"v{e.out}", e.scalar, e.needs, ctx_reads.get(i, set()),
                                      names.add, names.taken)
            if written_in is not None:
                body, local = written_in
                names.reserved.update(local)
                comment = ", ".join(w for w in (e.fn.__name__, where(e)) if w)
                if len(body) == 1:
                    lines.append(f"    {body[0]}  # {comment}")
                else:
                    lines.append(f"    # {comment}")
                    lines += [f"    {line}" for line in body]
                continue
            fn = names.add(e.fn, e.fn.__name__)
            code = f"{fn}.forward({ctx}, {call_args(e.args, e.kwargs)})"
            if e.scalar:
                code = f"asarray({code})"
            lines.append(f"    v{e.out} = {code}  # {where(e)}".rstrip(" #"))
        elif e.kind == "acc":
            leaf, grad = e.args
            name = params.get(id(plan.sources[leaf.index][1]), "") if leaf.kind == "s" else ""
            lines.append(f"    v{e.out} = accumulate({tensor(leaf)}, {literal(grad)}, "
                         f"{e.kwargs['shared']})  # {name or tensor(leaf)}.grad += gradient")
        elif e.kind == "inplace":
            target, other, alpha = e.args
            value = literal(other)
            if alpha != 1:
                value = f"np.multiply({value}, {literal(alpha)})"
            fn = names.add(e.fn, f"np_{e.fn.__name__}")
            lines.append(f"    {fn}({array(target)}, {value}, out={array(target)})"
                         f"  # in place")
            if e.kwargs["counted"] and (target.kind == "a"
                                        or plan.sources[target.index][0] == "tensor"):
                lines.append(f"    increment_version(({tensor(target)},))")
        elif e.kind == "set_grad":
            target, value = e.args
            new = "None" if value is None else made(value)
            lines.append(f"    {tensor(target)}._grad = {new}")
        else:  # "call"
            obj = names.add(e.obj, type(e.obj).__name__.lower())
            call = f"{obj}.{e.fn}({call_args(e.args, e.kwargs, True)})"
            found = written.get(id(e.obj))
            body = None
            if found is not None and e.fn == "zero_grad":
                body = updates.zero_grad_lines(found, param, bool(e.args[0]) if e.args else True)
            elif found is not None and e.fn == "step":
                body = updates.step_lines(found, param, obj)
                lines.append(f"    # {call}, written out ({type(e.obj).__name__}'s update)")
            if body is None:
                lines.append(f"    {call}")
            else:
                lines.append(f"    if {obj}_as_recorded:")
                lines += [f"        {line}" for line in body]
                lines.append("    else:")
                lines.append(f"        {call}")

    outs = _outs(plan.result)
    twice = {slot for slot, n in Counter(o.slot for o in outs).items() if n > 1}
    for slot in sorted(twice):  # (a tensor returned twice is made once)
        lines.append(f"    r{slot} = {made(next(o for o in outs if o.slot == slot))}")
    output = _render(plan.result, array, literal,
                     lambda o: f"r{o.slot}" if o.slot in twice else made(o))
    lines.append(f"    return {output}")
    return "\n".join(lines) + "\n", names.namespace
