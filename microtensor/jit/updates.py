"""The built-in optimizers' ``zero_grad()`` and ``step()`` written out as lines of NumPy, for
the replay of ``microtensor.compile``.

A replay could call ``opt.step()`` as the eager step does, but for a small model the walk over
parameter groups and ``Tensor`` in-place methods costs more than the arithmetic. For ``SGD``,
``Adam`` and ``AdamW`` (exactly those classes: a subclass may change the rule) the replay runs
the update itself, one line per NumPy call of the optimizer's own per-parameter update, in the
same order, so the parameters, the gradients and the optimizer state get the same bits. Numbers
(``lr``, betas, ...) are read from the parameter group at each call, so a learning-rate schedule
applies as in eager mode.

The lines assume what the recording saw: the same parameter groups and parameters, the same
kind of update (momentum or not, weight decay or not, ...), every parameter with a gradient
computed by the step and with its state created (momentum buffer, Adam's averages), no step
hooks. ``Layout.ready`` checks it once at the start of each replay; when it does not hold (a
state reset, a new parameter group, ``momentum`` switched on), that replay calls the optimizer's
own ``zero_grad`` and ``step`` instead.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..optim import SGD, Adam, AdamW, Optimizer


class Names(Protocol):
    """How the replay's source names things."""

    def add(self, obj: Any, hint: str) -> str:
        """The name of ``obj`` (added to the replay's namespace if new)."""
        ...

    def tensor(self, p: Any) -> str:
        """The name of tensor ``p``."""
        ...

    def array(self, p: Any) -> str:
        """An expression for the array of tensor ``p``."""
        ...

    def label(self, p: Any) -> str:
        """What ``p`` is, for a comment (``0.weight``)."""
        ...


def _numbers(*values: Any) -> bool:
    """Whether the values are Python numbers (the lines compute with them as such)."""
    return all(type(v) is float or type(v) is int for v in values)


def _sgd_options(group: dict[str, Any]) -> tuple[Any, ...]:
    """What decides which lines SGD's update is (the numbers themselves are read at each
    call)."""
    return (group["momentum"] != 0, group["weight_decay"] != 0, bool(group["nesterov"]),
            bool(group["maximize"]), bool(group["foreach"]), bool(group["fused"]),
            _numbers(group["lr"], group["momentum"], group["dampening"],
                     group["weight_decay"]))


def _adam_options(group: dict[str, Any]) -> tuple[Any, ...]:
    """What decides which lines Adam's update is."""
    return (group["weight_decay"] != 0, bool(group["decoupled_weight_decay"]),
            bool(group["amsgrad"]), bool(group["maximize"]), bool(group["foreach"]),
            bool(group["fused"]), _numbers(group["lr"], group["eps"], group["weight_decay"],
                                           *group["betas"]))


# The options that decide which lines the update is, as raw values: a change (momentum switched
# on, new betas) makes ``Layout.ready`` false, and the optimizer's own step runs.
_STRUCTURE: dict[type, Callable[[dict[str, Any]], tuple[Any, ...]]] = {
    SGD: operator.itemgetter("momentum", "dampening", "weight_decay", "nesterov", "maximize",
                             "foreach", "fused"),
    Adam: operator.itemgetter("betas", "eps", "weight_decay", "decoupled_weight_decay",
                              "amsgrad", "maximize", "foreach", "fused"),
}
_STRUCTURE[AdamW] = _STRUCTURE[Adam]
_OPTIONS: dict[type, Callable[[dict[str, Any]], tuple[Any, ...]]] = {
    SGD: _sgd_options, Adam: _adam_options, AdamW: _adam_options}


@dataclass
class Layout:
    """What the written-out update assumes of an optimizer (``ready`` checks it)."""

    opt: Optimizer
    groups: list[dict[str, Any]]
    params: list[tuple[Any, ...]]
    options: list[tuple[Any, ...]]      # per group: what _OPTIONS says (for the lines)
    structure: list[tuple[Any, ...]]    # per group: the raw values of _STRUCTURE
    states: list[tuple[Any, dict[str, Any], int]]  # (parameter, its state dict, its length)
    keys: tuple[str, ...] = ()          # the state entries the lines read (never None)

    def ready(self) -> bool:
        """Whether the optimizer is as recorded: the same groups, parameters and options
        (a Python number as ``lr``), each parameter's state dict with its entries (none set
        to None), no step hooks."""
        # NOTE: once per replay, so identity checks and C-level loops (map): a replayed step
        # of a small network takes 50 us.
        opt = self.opt
        groups = opt.param_groups
        if opt._step_hooks or len(groups) != len(self.groups):
            return False
        structure = _STRUCTURE[type(opt)]
        for group, expected, params, values in zip(groups, self.groups, self.params,
                                                   self.structure, strict=True):
            if group is not expected or structure(group) != values \
                    or type(group["lr"]) not in _NUMBER:
                return False
            ps = group["params"]
            if len(ps) != len(params) or not all(map(operator.is_, ps, params)):
                return False
        if self.states:
            get, keys = opt.state.get, self.keys
            for p, st, n in self.states:
                if get(p) is not st or len(st) != n or any(st[k] is None for k in keys):
                    return False
        return True


_NUMBER = (float, int)  # (the types an lr may have for the written-out lines: not bool)


def layout(opt: Optimizer) -> Layout | None:
    """The layout of ``opt`` if its update can be written out, else None."""
    options = _OPTIONS.get(type(opt))
    if options is None or type(opt).zero_grad is not Optimizer.zero_grad \
            or type(opt).step is not Optimizer.step:
        return None
    kinds = [options(g) for g in opt.param_groups]
    if not all(k[-1] for k in kinds):  # (a number that is a tensor: the optimizer's own step)
        return None
    if type(opt) is SGD:
        if any(k[4] or k[5] for k in kinds):  # (fused / foreach: their own flat update)
            return None
        if any(k[0] for k in kinds) and not all(k[0] for k in kinds):
            return None  # (momentum in some groups only: not written out)
        keys: tuple[str, ...] = ("momentum_buffer",) if kinds and kinds[0][0] else ()
    else:
        if any(k[2] or k[4] or k[5] for k in kinds):  # (amsgrad, fused, foreach)
            return None
        keys = ("step", "exp_avg", "exp_avg_sq")
    states = []
    for g in opt.param_groups:
        for p in g["params"]:
            st = opt.state.get(p)
            if keys and (st is None or any(st.get(k) is None for k in keys)):
                return None  # (the state the lines read is not there yet)
            if st is not None:
                states.append((p, st, len(st)))
    structure = _STRUCTURE[type(opt)]
    return Layout(opt, list(opt.param_groups), [tuple(g["params"]) for g in opt.param_groups],
                  kinds, [structure(g) for g in opt.param_groups], states, keys)


def zero_grad_lines(lay: Layout, names: Names, set_to_none: bool) -> list[str] | None:
    """``opt.zero_grad(True)``: each parameter's ``.grad = None`` (``False``: not written out)."""
    if not set_to_none:
        return None
    return [f"{names.tensor(p)}._grad = None  # {names.label(p)}"
            for params in lay.params for p in params]


def step_lines(lay: Layout, names: Names, opt_name: str) -> list[str]:
    """``opt.step()`` as lines over arrays (every parameter has a gradient: the caller checks
    it), followed by the version counts of the tensors it changed in place."""
    lines: list[str] = []
    changed: list[str] = []  # a tensor once per in-place change (its version counter)
    for i, (group, params, kind) in enumerate(zip(lay.groups, lay.params, lay.options,
                                                  strict=True)):
        g_name = names.add(group, f"{opt_name}_group{i}")
        if type(lay.opt) is SGD:
            lines += _sgd(g_name, params, kind, names, opt_name, changed)
        else:
            lines += _adam(g_name, params, kind, names, opt_name, changed)
    if changed:
        lines.append(f"increment_version(({', '.join(changed)},))")
    lines.append(f"{opt_name}._opt_called = True  # (as step() does: for LR schedulers)")
    return lines


def _grad(p: str, maximize: bool) -> str:
    return f"-{p}._grad._data" if maximize else f"{p}._grad._data"


def _sgd(group: str, params: tuple[Any, ...], kind: tuple[Any, ...], names: Names, opt: str,
         changed: list[str]) -> list[str]:
    # The NumPy calls of SGD._update, parameter by parameter: p.add_(g, alpha=-lr) is
    # np.multiply(g, -lr) then an in-place np.add (Tensor._inplace).
    momentum, decay, nesterov, maximize = kind[:4]
    lines = [f"lr = {group}['lr']"]
    if decay:
        lines.append(f"weight_decay = {group}['weight_decay']")
    if momentum:
        lines.append(f"momentum, dampening = {group}['momentum'], {group}['dampening']")
    for p in params:
        t, a = names.tensor(p), names.array(p)
        lines.append(f"g = {_grad(t, maximize)}  # {names.label(p)}.grad")
        if decay:
            lines.append(f"g = g + {a} * weight_decay")
        if momentum:
            buf = f"{opt}.state[{t}]['momentum_buffer']"
            lines.append(f"buf = {buf}._data")
            lines.append("buf *= momentum")
            lines.append("buf += (1 - dampening) * g")
            lines.append("g = g + buf * momentum" if nesterov else "g = buf")
            changed += [buf, buf]
        lines.append(f"{a} += -lr * g")
        changed.append(t)
    return lines


def _adam(group: str, params: tuple[Any, ...], kind: tuple[Any, ...], names: Names, opt: str,
          changed: list[str]) -> list[str]:
    # The NumPy calls of Adam._update (and of its flat twin, Adam._flat_update), parameter by
    # parameter, with a work array per parameter where the eager update makes a new one.
    decay, decoupled, _, maximize = kind[:4]
    lines = [f"lr, (beta1, beta2), eps = {group}['lr'], {group}['betas'], {group}['eps']"]
    if decay:
        lines.append(f"weight_decay = {group}['weight_decay']")
    for p in params:
        t, a = names.tensor(p), names.array(p)
        work = names.add(p._data.copy(), "work")
        lines.append(f"state = {opt}.state[{t}]  # {names.label(p)}")
        lines.append("t = state['step'] = state['step'] + 1")
        lines.append(f"g = {_grad(t, maximize)}")
        if decay and decoupled:
            lines.append(f"{a} *= 1 - lr * weight_decay")
            changed.append(t)
        elif decay:
            lines.append(f"g = g + {a} * weight_decay")
        lines.append("exp_avg, exp_avg_sq = state['exp_avg'], state['exp_avg_sq']")
        lines.append(f"lerp_(exp_avg._data, g, 1 - beta1, {work})")
        lines.append("exp_avg_sq._data *= beta2")
        lines.append("exp_avg_sq._data += g * (1 - beta2) * g")
        lines.append("denom = np.sqrt(exp_avg_sq._data)")
        lines.append("denom /= math.sqrt(1 - beta2**t)")
        lines.append("denom += eps")
        lines.append(f"{a} += exp_avg._data * (-lr / (1 - beta1**t)) / denom")
        lines.append(f"increment_version((exp_avg, exp_avg_sq, exp_avg_sq, {t}))")
    return lines
