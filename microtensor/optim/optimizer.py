"""``Optimizer``: the base class that holds parameter groups and per-parameter state.

A subclass validates its options and writes ``_update(group)``, which changes every parameter
of one group in place from its ``.grad``, with in-place Tensor ops (``p.add_(g, alpha=-lr)``) as
PyTorch's single-tensor implementations do. ``step()`` runs them under ``no_grad``, so they never
record a graph; each bumps the parameter's version counter, so a graph that saved the parameter
before the step refuses to backward through the changed values.

A group with ``fused=True`` or ``foreach=True`` (SGD, Adam, AdamW, RMSprop) is updated by
``_flat_update`` instead: the subclass's same rule written once over flat buffers that hold
every parameter and state tensor of one dtype (``flat.py``), so a step is a few NumPy calls.

The hooks of ``register_step_pre_hook`` and ``register_step_post_hook`` run around every
``step()``: the base class's, and that of a subclass that defines its own (it is wrapped when
the subclass is defined, as PyTorch wraps it).
"""

from __future__ import annotations

import copy
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, TypeVar, overload

import numpy as np

from ..autograd import enable_grad, no_grad
from ..autograd.function import recording
from ..creation import tensor
from ..tensor import RemovableHandle, Tensor
from .flat import FlatGroup, FlatParams, NotFlat, State, check_disjoint

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]
_Loss = TypeVar("_Loss")  # what a step's closure returns (the loss)
_R = TypeVar("_R")
# A step hook's signature: hook(optimizer, args, kwargs), where args are the positional
# arguments of the step() call, the optimizer first (as in PyTorch).
StepHook = Callable[["Optimizer", tuple[Any, ...], dict[str, Any]], Any]


def _run_step_hooks(step: Callable[..., _R], args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> _R:
    """Call ``step(*args, **kwargs)`` (``args[0]`` is the optimizer) between its step hooks.

    Each pre-hook may return a new ``(args, kwargs)`` for the call; the post-hooks see the
    arguments the step ran with. A step called from inside (a subclass's ``step`` calling
    ``super().step()``) runs without them: they run once, around the outer call.
    """
    self: Optimizer = args[0]
    hooks = tuple(self._step_hooks)  # (a snapshot: a hook may remove itself)
    self._stepping = True
    try:
        for kind, hook in hooks:
            if kind != "pre":
                continue
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{hook} must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {result}.")
                args, kwargs = result
        out = step(*args, **kwargs)
        self._opt_called = True
        for kind, hook in hooks:
            if kind == "post":
                hook(self, args, kwargs)
    finally:
        self._stepping = False
    return out


def _runs_step_hooks(step: Callable[..., _R]) -> Callable[..., _R]:
    """A subclass's own ``step``, wrapped so that the step hooks run around it (as PyTorch
    wraps every ``step``)."""

    @functools.wraps(step)
    def step_with_hooks(self: Optimizer, /, *args: Any, **kwargs: Any) -> _R:
        if recording.recorder is not None:  # (microtensor.compile replays the call)
            out: _R = recording.recorder.call(self, "step", args, kwargs)
            return out
        if not self._step_hooks or self._stepping:
            out = step(self, *args, **kwargs)
            self._opt_called = True  # (read by lr schedulers to warn about a wrong call order)
            return out
        return _run_step_hooks(step, (self, *args), kwargs)

    return step_with_hooks


def check_nonnegative(value: float | Tensor, label: str) -> None:
    """Raise ``ValueError("Invalid {label}: {value}")`` (PyTorch's wording) unless value >= 0
    (a 1-element tensor, for a learning rate, is compared by its value)."""
    if not 0.0 <= value:
        raise ValueError(f"Invalid {label}: {value}")


def check_fused_foreach(options: dict[str, Any]) -> None:
    """Raise PyTorch's error when ``fused`` and ``foreach`` are both true."""
    if options.get("fused") and options.get("foreach"):
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


class Optimizer:
    """Base class of the optimizers: parameter groups, per-parameter state, ``step``.

    Args:
        params: an iterable of tensors (or of ``(name, tensor)`` pairs) to optimize, or of
            dicts, each a parameter group ``{"params": [...], "lr": ..., ...}`` whose options
            override ``defaults``.
        defaults: the options of a group that does not set them.

    Attributes:
        param_groups: a list of dicts, each with ``"params"`` (a list of tensors) and options.
        state: a dict from parameter tensor to its state dict (e.g. ``{"step": 3, ...}``).
    """

    # Whether the subclass has a ``_flat_update`` (``fused=True`` and ``foreach=True``).
    _supports_flat: ClassVar[bool] = False

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._check_options(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._opt_called = False  # read by lr schedulers to warn about a wrong call order
        self._step_hooks: list[tuple[str, StepHook]] = []  # ("pre" or "post", hook), in order
        self._stepping = False  # True while a step runs its hooks
        self._flat: dict[int, FlatGroup] = {}  # id(group) -> its flat layout (fused, foreach)
        self._created = False  # True once __init__ has added its groups
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got microtensor.Tensor")
        if isinstance(params, (set, frozenset)):
            raise TypeError(_SET_ERROR)
        groups: list[Any] = list(params)  # dicts, or tensors made into one group below
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)
        # The fused groups move their parameters into flat buffers now, as the optimizer is
        # created (not at its first step: a view of a parameter taken after this, p.detach()
        # or p.detach().numpy(), stays one), and only now that every group is known: the
        # check that no two parameters share memory must see them all before any moves.
        self._created = True
        for group in self.param_groups:
            if self._supports_flat and group.get("fused"):
                self._lay_out(group, pin=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # NOTE: a subclass that defines its own step() (as PyTorch's tutorials do) is given
        # the step hooks here; Optimizer.step runs them itself, without a wrapper (it is on
        # the hot path). Wrapping a step twice is harmless: the inner one sees that the hooks
        # are running.
        step = cls.__dict__.get("step")
        if step is not None:
            # (mypy cannot see that the wrapper keeps the overloaded signature)
            cls.step = _runs_step_hooks(step)  # type: ignore[method-assign, assignment]

    def __getstate__(self) -> dict[str, Any]:
        # As in PyTorch, a copy (copy.deepcopy, pickle) of an optimizer has no step hooks.
        # The flat layouts are left out too: a copy of a parameter that was a view of a flat
        # buffer is an array of its own, so the copy lays its parameters out again.
        state = self.__dict__.copy()
        state.pop("_step_hooks", None)
        state.pop("_stepping", None)
        state.pop("_flat", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._step_hooks = []
        self._stepping = False
        self._flat = {}

    def _check_options(self, options: dict[str, Any]) -> None:
        """Raise ``ValueError`` for an invalid option value (subclasses override this)."""

    def _update(self, group: dict[str, Any]) -> None:
        """Update in place every parameter of ``group`` that has a gradient."""
        raise NotImplementedError(f"{type(self).__name__} must define _update(group) or step()")

    def _flat_update(self, group: dict[str, Any], flat: FlatParams, grad: np.ndarray,
                     states: list[State]) -> None:
        """The update of ``_update``, over the flat buffers of one bucket of ``group`` whose
        parameters all have a gradient (``fused=True``, ``foreach=True``).

        It fills ``flat.update``, which ``store_params`` then adds to the parameters (a
        change of ``flat.param_values()`` before that, as decoupled weight decay's, reaches
        them too).

        Args:
            group: the parameter group (its options).
            flat: the bucket: ``flat.param_values()`` (the parameters, flat), ``flat.update``
                (to fill), work arrays (``flat.scratch``) and the state buffers
                (``flat.get_state``).
            grad: the gradients, flat (negated when the group maximizes); may be changed.
            states: each parameter's state dict, in bucket order.

        Raises:
            NotFlat: the state cannot be laid out flat this step, found before changing
                anything (the bucket is then updated by ``_update``).
        """
        raise NotImplementedError(f"{type(self).__name__} has no fused or foreach update")

    def _update_flat(self, group: dict[str, Any]) -> None:
        """Update ``group`` (``fused`` or ``foreach``): each bucket by ``_flat_update`` when
        all its parameters have a gradient, else (and for parameters outside the buckets) one
        parameter at a time by ``_update``, as without the flags."""
        pin = bool(group.get("fused"))
        flat = self._flat.get(id(group))
        if flat is None or not flat.matches(group, pin):
            flat = self._lay_out(group, pin)
        if pin:  # (checked before anything changes, as PyTorch does)
            for p in flat.others:
                if not p.is_floating_point() and p.grad is not None:
                    raise RuntimeError(f"`fused=True` requires all the params to be floating "
                                       f"point Tensors of supported devices: ['cpu'] but "
                                       f"{p.dtype} and cpu")
        state = self.state
        stale = False
        for bucket in flat.buckets:
            grads = [p.grad for p in bucket.params]
            present = [g for g in grads if g is not None]
            if not present:
                continue
            if len(present) == len(grads):
                try:
                    bucket.load_params()
                    grad = bucket.load_grads(present)
                    if group["maximize"]:
                        np.negative(grad, out=grad)
                    self._flat_update(group, bucket, grad, [state[p] for p in bucket.params])
                except NotFlat:
                    pass  # (nothing has changed yet: update one parameter at a time below)
                else:
                    bucket.store_params()
                    continue
            self._update({**group, "params": bucket.params})
            if any(g is None and not p.requires_grad for p, g in zip(bucket.params, grads,
                                                                      strict=True)):
                stale = True  # a parameter was frozen: lay the group out again without it
        if flat.others:
            self._update({**group, "params": flat.others})
            if any(p.is_floating_point() and p.grad is not None for p in flat.others):
                stale = True  # a parameter was unfrozen: lay the group out again with it
        if stale:
            del self._flat[id(group)]

    def _lay_out(self, group: dict[str, Any], pin: bool) -> FlatGroup:
        """Build (and, when ``pin``, move the parameters into) the flat buffers of ``group``."""
        index = next(i for i, g in enumerate(self.param_groups) if g is group)
        params, labels = [], []
        for i, g in enumerate(self.param_groups):
            params += g["params"]
            labels += [f"parameter {j} of group {i}" for j in range(len(g["params"]))]
        check_disjoint(params, labels)
        flat = self._flat[id(group)] = FlatGroup(group, index, pin)
        return flat

    @staticmethod
    def _gradients(group: dict[str, Any]) -> Iterator[tuple[Tensor, Tensor]]:
        """(parameter, its gradient) for each parameter of ``group`` that has a gradient; the
        gradient is negated (a new tensor) when the group maximizes."""
        maximize = group["maximize"]
        for p in group["params"]:
            g = p.grad
            if g is not None:
                yield p, (-g if maximize else g)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (``{"params": [...], option: value, ...}``) to optimize.

        Options that the group does not set take the optimizer's defaults.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group must have a 'params' entry (a list of tensors)")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(_SET_ERROR)
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            params = [p[1] for p in params]
            param_group["param_names"] = names
        for i, p in enumerate(params):
            _check_param(p, i)
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters; "
                             "pass each parameter once")
        param_group["params"] = params
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        self._check_options(param_group)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)
        if self._supports_flat and param_group.get("fused") and self._created:
            self._lay_out(param_group, pin=True)  # (as __init__ does for its groups)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradient of every parameter: to ``None`` (default) or to zeros in place."""
        if recording.recorder is not None:  # (microtensor.compile replays the call)
            recording.recorder.call(self, "zero_grad", (set_to_none,), {})
            return
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.requires_grad:  # a gradient recorded with create_graph=True
                        g = p.grad = g.detach()
                    g.zero_()

    @overload
    def step(self, closure: None = None) -> None: ...

    @overload
    def step(self, closure: Callable[[], _Loss]) -> _Loss: ...

    def step(self, closure: Callable[[], _Loss] | None = None) -> _Loss | None:
        """Update the parameters once from their ``.grad``; parameters without one are skipped.

        Args:
            closure: optional function that clears the gradients, recomputes the loss, calls
                ``backward()`` and returns the loss; it runs (with grad enabled) before the
                update.

        Returns:
            The closure's loss, or ``None``.
        """
        if recording.recorder is not None:  # (microtensor.compile replays the call)
            replayed: _Loss | None = recording.recorder.call(self, "step", (closure,), {})
            return replayed
        # NOTE: on the training loop's hot path: without hooks, one check is all it adds.
        if self._step_hooks and not self._stepping:
            # (The hooks see a closure as a positional argument, however it was passed.)
            args = (self,) if closure is None else (self, closure)
            return _run_step_hooks(Optimizer.step, args, {})
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                if self._supports_flat and (group.get("fused") or group.get("foreach")):
                    self._update_flat(group)
                else:
                    self._update(group)
        self._opt_called = True  # (read by lr schedulers to warn about a wrong call order)
        return loss

    def register_step_pre_hook(self, hook: StepHook) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before each ``step()``.

        ``args`` are the positional arguments of the call, the optimizer first (``(opt,)``
        for ``opt.step()``), and ``kwargs`` its keyword arguments (the built-in ``step``
        passes a closure in ``args``, however it was given). The hook may return a new
        ``(args, kwargs)`` pair for the step to run with.

        Returns:
            A handle whose ``remove()`` unregisters the hook (also a context manager).
        """
        entry: tuple[str, StepHook] = ("pre", hook)
        self._step_hooks.append(entry)
        return RemovableHandle(self._step_hooks, entry)

    def register_step_post_hook(self, hook: StepHook) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after each ``step()`` (what it returns is
        ignored). ``args`` and ``kwargs`` are those the step ran with.

        Returns:
            A handle whose ``remove()`` unregisters the hook (also a context manager).
        """
        entry: tuple[str, StepHook] = ("post", hook)
        self._step_hooks.append(entry)
        return RemovableHandle(self._step_hooks, entry)

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, with parameters replaced by integer ids.

        Returns:
            ``{"state": {id: {name: value}}, "param_groups": [{option: value, "params": [ids]}]}``
            where ids count the parameters in group order from 0. Tensors are copies, so the
            result is a snapshot.
        """
        ids: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [ids.setdefault(id(p), len(ids)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, values in self.state.items():
            if id(p) in ids and values:
                state[ids[id(p)]] = {k: _snapshot(v) for k, v in values.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by ``state_dict()``; parameters are matched by order.

        Raises:
            ValueError: if the number of groups or of parameters in a group differs, or a saved
                state tensor's shape differs from its parameter's.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError("an optimizer state dict must be a dict with keys 'state' and "
                             "'param_groups' (as returned by Optimizer.state_dict())")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer "
                             f"({len(self.param_groups)})")
        id_map: dict[int, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't "
                                 f"match the size of optimizer's group: group {i} has "
                                 f"{len(saved['params'])} saved parameters, the optimizer's "
                                 f"has {len(group['params'])}")
            id_map.update(zip((int(k) for k in saved["params"]), group["params"], strict=True))
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            p = id_map.get(int(key)) if _is_int_like(key) else None
            if p is None:
                state[key] = values
                continue
            state[p] = {k: _restore(v, p, k, key) for k, v in values.items()}
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            params = group["params"]
            names = group.get("param_names")
            group.clear()
            group.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
            group["params"] = params
            if names is not None:
                group.setdefault("param_names", names)
            for name, default in self.defaults.items():
                group.setdefault(name, default)
        self.state = state

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


_SET_ERROR = ("optimizer parameters need to be organized in ordered collections, but the ordering "
              "of tensors in sets will change between runs. Please use a list instead.")


def _check_param(p: Any, index: int) -> None:
    if not isinstance(p, Tensor):
        raise TypeError(f"optimizer can only optimize Tensors, but one of the params "
                        f"(index {index}) is {type(p).__name__}")
    if not p.is_leaf:
        raise ValueError("can't optimize a non-leaf Tensor (it was computed by an op; optimize "
                         "the leaf tensors it was computed from)")
    # A parameter that does not require grad (a frozen layer) is accepted, as in PyTorch: its
    # .grad stays None, so step() skips it.


def _is_int_like(key: Any) -> bool:
    return isinstance(key, (int, np.integer)) or (isinstance(key, str) and key.isdigit())


def _snapshot(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.detach().clone()
    return copy.deepcopy(value)


def _restore(value: Any, p: Tensor, name: str, key: Any) -> Any:
    """A private copy of a saved state value, with tensors cast to the parameter's dtype."""
    if name == "step":
        # NOTE: PyTorch saves the step count as a 0-d float tensor; we keep a Python int.
        return int(value.item()) if hasattr(value, "item") else int(value)
    if isinstance(value, (Tensor, np.ndarray)):
        if value.ndim and value.shape != p.shape:
            raise ValueError(f"loaded state dict has state '{name}' of shape "
                             f"{tuple(value.shape)} for parameter {key}, whose shape is "
                             f"{tuple(p.shape)}")
        if isinstance(value, np.ndarray):
            return tensor(value, dtype=p.dtype)  # a copy
        return value.detach().clone().to(p.dtype)
    return copy.deepcopy(value)
