"""``Module`` (the base class of layers and models), ``Parameter``, ``Sequential``, ``ModuleList``.

Assigning a ``Parameter`` or a ``Module`` to an attribute registers it, in order, so that
``named_parameters()`` yields dotted names such as ``0.weight`` and nothing can be forgotten::

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(2, 4)
            self.out = nn.Linear(4, 1)

        def forward(self, x):
            return self.out(self.hidden(x).sigmoid())
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple, NoReturn, TypeVar, overload

import numpy as np

from .. import dtypes
from ..autograd.engine import check_hook_result
from ..autograd.engine import format_shape as _fmt
from ..autograd.function import Context, Function, module_scope, recording
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..creation import from_numpy, tensor, zeros, zeros_like
from ..device import check_device
from ..device import device as Device
from ..tensor import RemovableHandle, Tensor


class Parameter(Tensor):
    """A Tensor that is a learnable parameter: assigned to a Module, it is registered.

    It shares its values with the tensor (or array) it wraps and requires grad by default.
    Operations on a Parameter return plain Tensors.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            values = tensor(np.empty(0, dtype=dtypes.get_default_dtype()))
        elif isinstance(data, Tensor):
            values = data.detach()
        elif isinstance(data, np.ndarray):
            values = from_numpy(data)
        else:
            values = tensor(data)
        super().__init__()  # sets every slot; the data follows
        self.data = values  # shares the memory of what it wraps
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` returns: the keys it could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")


# The type of `self`: model.train(), model.to(...) and friends return the model itself, so
# `model = MLP().to(dtype)` keeps the type MLP (and its layers) for a type checker.
_M = TypeVar("_M", bound="Module")
_C = TypeVar("_C", bound="_Container")


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


class Module:
    """Base class of every layer and model: subclass it, assign layers, write ``forward``.

    Parameters, buffers and sub-modules live in the ordered dicts ``_parameters``,
    ``_buffers`` and ``_modules`` (which ``parameters()``, ``state_dict()`` and friends walk).
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent: set[str]  # names of the buffers left out of state_dict
    _modules: dict[str, Module | None]
    _hooks: list[_ModuleHook]  # the hooks registered by register_*hook, in the order they run

    def __init__(self) -> None:
        # NOTE: set with object.__setattr__, never through self.__dict__: reading an object's
        # __dict__ turns its attributes into a dict that Python 3.11 cannot look attributes up
        # in quickly (self.weight in every forward, and the hook check in __call__, run 2-3
        # times slower). Code here reads attributes with getattr/hasattr for the same reason.
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", {})
        set_(self, "_buffers", {})
        set_(self, "_non_persistent", set())
        set_(self, "_modules", {})
        set_(self, "_hooks", [])

    # -- registration -------------------------------------------------------------------------

    # NOTE: a registered value is also kept as a plain instance attribute (set at the end of
    # __setattr__), so reading self.weight in forward is an ordinary, fast attribute lookup; a
    # misspelled name raises Python's usual AttributeError. __setattr__ and __delattr__ keep the
    # two in step: change the registries only through them (or register_*).
    def __setattr__(self, name: str, value: Any) -> None:
        params: dict[str, Parameter | None] | None = getattr(self, "_parameters", None)
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._buffers.pop(name, None)
            self._modules.pop(name, None)
            self._non_persistent.discard(name)
            params[name] = value
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            params.pop(name, None)
            self._buffers.pop(name, None)
            self._non_persistent.discard(name)
            self._modules[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(nn.Parameter or None expected)")
            params[name] = None
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (nn.Module or None expected)")
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(Tensor or None expected)")
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if hasattr(self, "_parameters"):
            self._parameters.pop(name, None)
            self._buffers.pop(name, None)
            self._modules.pop(name, None)
            self._non_persistent.discard(name)
        object.__delattr__(self, name)

    def _check_name(self, name: Any, kind: str, registry: dict[str, Any]) -> None:
        if not hasattr(self, "_parameters"):
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain \".\", got: {name!r}")
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` (a Parameter, or None for an absent one) under ``name``."""
        self._check_name(name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (nn.Parameter or None required)")
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (saved in ``state_dict`` unless
        ``persistent=False``)."""
        self._check_name(name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (same as ``setattr(self, name, module)``)."""
        self._check_name(name, "module", self._modules)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The sub-module at the dotted path ``target`` (``""`` is this module)."""
        module: Module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule `{part}` "
                                     f"(looking for {target!r})")
            module = child
        return module

    # -- running ------------------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; every subclass defines it."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  f'"forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        """Run ``forward`` (and the hooks registered on this module, if any); ops recorded
        meanwhile remember this module (for graph drawings).

        To a type checker (mypy, pyright, an editor), ``module(x)`` is a ``Tensor``: what every
        built-in module returns (except ``MaxPool*d(return_indices=True)``, which returns a
        pair), so completion goes on after ``model(x).``. A custom module whose ``forward``
        returns something else (a tuple, a dict) is still typed ``Tensor`` when called; say
        what it is where you use it, with ``typing.cast``::

            out, hidden = cast(tuple[Tensor, Tensor], encoder(x))
        """
        # NOTE: this is the training loop's hot path: without hooks, one check is all it adds.
        if self._hooks:
            hooked: Tensor = self._call_with_hooks(args, kwargs)
            return hooked
        prev = module_scope.stack
        module_scope.stack = prev + (self,)
        try:
            # forward is typed Any (subclasses return what they like); the name states the type.
            out: Tensor = self.forward(*args, **kwargs)
            return out
        finally:
            module_scope.stack = prev

    def _call_with_hooks(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``__call__`` with hooks, in PyTorch's order: the forward pre-hooks (which may replace
        the arguments), ``forward``, the forward hooks (which may replace the output). With
        backward hooks, the tensors going in and out pass through identity ops whose backward
        runs them (``_BackwardHook``). If ``forward`` or a hook raises, the forward hooks
        registered with ``always_call=True`` that have not run yet still run."""
        hooks = tuple(self._hooks)  # (a snapshot: a hook may remove itself while it runs)
        result: Any = None
        ran: set[_ModuleHook] = set()  # the always_call forward hooks that ran
        prev = module_scope.stack
        module_scope.stack = prev + (self,)
        try:
            for h in hooks:
                if h.kind != "forward_pre":
                    continue
                if h.with_kwargs:
                    new = h.fn(self, args, kwargs)
                    if new is not None:
                        if not (isinstance(new, tuple) and len(new) == 2):
                            raise RuntimeError(f"forward pre-hook must return None or a tuple of "
                                               f"(new_args, new_kwargs), but got {new}.")
                        args, kwargs = new
                else:
                    new = h.fn(self, args)
                    if new is not None:
                        args = new if isinstance(new, tuple) else (new,)
            backward = [h.fn for h in hooks if h.kind == "backward"]
            backward_pre = [h.fn for h in hooks if h.kind == "backward_pre"]
            bw_hook = None
            if backward or backward_pre:
                bw_hook = _BackwardHook(self, backward, backward_pre)
                args = bw_hook.setup_inputs(args)
            result = self.forward(*args, **kwargs)
            for h in hooks:
                if h.kind != "forward":
                    continue
                if h.always_call:
                    ran.add(h)
                new = h.fn(self, args, kwargs, result) if h.with_kwargs else \
                    h.fn(self, args, result)
                if new is not None:
                    result = new
            if bw_hook is not None:
                if not isinstance(result, (Tensor, tuple)):
                    warnings.warn(f"For backward hooks to be called, module output should be a "
                                  f"Tensor or a tuple of Tensors but received {type(result)}",
                                  stacklevel=3)
                result = bw_hook.setup_outputs(result)
            return result
        except Exception:
            for h in hooks:
                if h.kind != "forward" or not h.always_call or h in ran:
                    continue
                try:
                    new = h.fn(self, args, kwargs, result) if h.with_kwargs else \
                        h.fn(self, args, result)
                    if new is not None:
                        result = new
                except Exception as e:
                    warnings.warn(f"module forward hook with ``always_call=True`` raised an "
                                  f"exception that was silenced as another error was raised "
                                  f"in forward: {e}", stacklevel=3)
            raise
        finally:
            module_scope.stack = prev

    # -- hooks --------------------------------------------------------------------------------

    def _add_hook(self, hook: _ModuleHook, prepend: bool) -> RemovableHandle:
        if prepend:
            self._hooks.insert(0, hook)  # (first of its kind)
        else:
            self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def register_forward_pre_hook(
            self: _M,
            hook: Callable[[_M, tuple[Any, ...]], Any]
            | Callable[[_M, tuple[Any, ...], dict[str, Any]], Any],
            *, prepend: bool = False, with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward``.

        A value it returns replaces the positional arguments (a value that is not a tuple is
        wrapped in one). With ``with_kwargs=True`` it is called as ``hook(module, args,
        kwargs)`` and may return a new ``(args, kwargs)`` pair.

        Args:
            hook: the function to call.
            prepend: run it before the forward pre-hooks already registered (default: after).
            with_kwargs: pass the keyword arguments of the call too.

        Returns:
            A handle whose ``remove()`` unregisters the hook (also a context manager).
        """
        return self._add_hook(_ModuleHook("forward_pre", hook, with_kwargs), prepend)

    def register_forward_hook(
            self: _M,
            hook: Callable[[_M, tuple[Any, ...], Any], Any]
            | Callable[[_M, tuple[Any, ...], dict[str, Any], Any], Any],
            *, prepend: bool = False, with_kwargs: bool = False,
            always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward``.

        A value it returns replaces the output. ``args`` are the positional arguments that
        ``forward`` received (after the forward pre-hooks).

        Args:
            hook: the function to call.
            prepend: run it before the forward hooks already registered (default: after).
            with_kwargs: call it as ``hook(module, args, kwargs, output)``.
            always_call: call it even when ``forward`` (or a hook before it) raises, with
                ``output`` None; the error is raised again afterwards.

        Returns:
            A handle whose ``remove()`` unregisters the hook (also a context manager).
        """
        return self._add_hook(_ModuleHook("forward", hook, with_kwargs, always_call), prepend)

    def register_full_backward_pre_hook(
            self: _M,
            hook: Callable[[_M, tuple[Tensor | None, ...]], Sequence[Tensor | None] | None],
            prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients with respect to the module's
        outputs are computed, before they flow into the module.

        ``grad_output`` is a tuple with one entry per output (``None`` for an output that does
        not require grad, or that got no gradient). A tuple it returns replaces
        ``grad_output``. As in PyTorch, the hook is set up by the calls made after it is
        registered, with grad mode on.

        Returns:
            A handle whose ``remove()`` unregisters the hook (also a context manager).
        """
        return self._add_hook(_ModuleHook("backward_pre", hook), prepend)

    def register_full_backward_hook(
            self: _M,
            hook: Callable[[_M, tuple[Tensor | None, ...], tuple[Tensor | None, ...]],
                           Sequence[Tensor | None] | None],
            prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to
        the module's inputs are computed.

        ``grad_input`` has one entry per positional argument of ``forward``: the gradient of
        the loss with respect to it; ``None`` for an argument that is not a tensor, zeros for
        a tensor that does not require grad (as in PyTorch). ``grad_output`` has one entry per
        output. A tuple the hook returns replaces ``grad_input`` (the gradients that flow on,
        to the layers before). When no input requires grad (the first layer of a network),
        the hook runs when the output's gradient is known, with ``grad_input`` all ``None``,
        and a warning says so (as in PyTorch). Only calls made after the hook is registered,
        with grad mode on, run it.

        Returns:
            A handle whose ``remove()`` unregisters the hook (also a context manager).
        """
        return self._add_hook(_ModuleHook("backward", hook), prepend)

    # -- walking the tree ---------------------------------------------------------------------

    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every module inside it, with dotted names (``""`` for this one)."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every module inside it (each once)."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules with their names (each once)."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        """The direct sub-modules (each once)."""
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = iter([(prefix, self)])
        for module_name, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name (``0.weight``), in registration order; a
        parameter shared by several modules comes once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter, in registration order (what an optimizer is given)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """Every buffer with its dotted name."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # -- modes and gradients ------------------------------------------------------------------

    def train(self: _M, mode: bool = True) -> _M:
        """Set training mode (``mode=True``) or evaluation mode on this module and its children.

        Only some layers behave differently (``Dropout`` is the identity in evaluation mode).
        """
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self: _M) -> _M:
        """Set evaluation mode (same as ``train(False)``)."""
        return self.train(False)

    def requires_grad_(self: _M, requires_grad: bool = True) -> _M:
        """Set ``requires_grad`` on every parameter (``False`` freezes the module)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradient of every parameter: to None (default) or to zeros in place."""
        if recording.recorder is not None:  # (microtensor.compile replays the call)
            recording.recorder.call(self, "zero_grad", (set_to_none,), {})
            return
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                g = p.grad.detach() if p.grad.requires_grad else p.grad
                g.zero_()
                p.grad = g

    def apply(self: _M, fn: Callable[[Module], Any]) -> _M:
        """Call ``fn`` on every sub-module (children first) and then on this module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self: _M, *args: Any, **kwargs: Any) -> _M:
        """Convert parameters and buffers to a floating dtype in place; the Parameter objects
        stay the same. As PyTorch: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``,
        ``to(tensor)`` (its dtype), with ``non_blocking`` (ignored); the device must be the
        CPU (another one raises: microtensor runs on the CPU only)."""
        if "copy" in kwargs:
            raise RuntimeError(".to() does not accept copy argument")
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, Device, int)) and not isinstance(a, bool):
                device = a
            elif not isinstance(a, bool):  # (a bool is non_blocking)
                dtype = a
        check_device(device, "a module")
        if dtype is None:
            return self
        dtype = dtypes.as_dtype(dtype)
        if not dtypes.is_floating(dtype):
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got {dtype}")
        for module in self.modules():
            for p in module._parameters.values():
                if p is not None and p.dtype.kind == "f":
                    grad = p.grad
                    p.grad = None
                    p.data = p.data.to(dtype)
                    if grad is not None:
                        p.grad = grad.detach().to(dtype)
            for name, b in module._buffers.items():
                if b is not None and b.dtype.kind == "f":
                    module._buffers[name] = b.to(dtype).detach()
                    object.__setattr__(module, name, module._buffers[name])
        return self

    def cuda(self: _M, device: Any = None) -> _M:
        """Raises: microtensor runs on the CPU only (there is no CUDA device)."""
        check_device(Device("cuda") if device is None else Device("cuda", device)
                     if isinstance(device, int) else device, "a module")
        raise RuntimeError(f"Invalid device, must be cuda device (got {device!r})")

    def double(self: _M) -> _M:
        """Convert floating parameters and buffers to float64 (for ``gradcheck``)."""
        return self.to(dtypes.float64)

    def float(self: _M) -> _M:
        """Convert floating parameters and buffers to float32."""
        return self.to(dtypes.float32)

    def cpu(self: _M) -> _M:
        """This module (it is already on the CPU)."""
        return self

    # -- state ----------------------------------------------------------------------------------

    def state_dict(self, destination: dict[str, Any] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Any]:
        """An ordered dict from dotted name to tensor: every parameter and persistent buffer.

        The tensors are detached but share memory with the module (copy them to keep a
        snapshot; ``microtensor.save`` writes them to a file).
        """
        out: dict[str, Any] = OrderedDict() if destination is None else destination
        for module_name, module in self.named_modules(prefix=prefix, remove_duplicate=False):
            dotted = module_name + "." if module_name else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[dotted + name] = p if keep_vars else p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    out[dotted + name] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy the tensors of ``state_dict`` into this module's parameters and buffers.

        Nothing is copied unless everything fits: a shape mismatch is always an error, and with
        ``strict=True`` so are missing and unexpected keys (all are reported by name).

        Returns:
            ``IncompatibleKeys(missing_keys, unexpected_keys)`` (both empty when strict).
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict:
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        pairs = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if isinstance(value, Tensor):
                value = value.detach().numpy()
            if not isinstance(value, np.ndarray):
                errors.append(f'While copying the parameter named "{key}", expected a Tensor '
                              f'from checkpoint but received {type(value).__name__}')
            elif value.shape != target.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{_fmt(value.shape)} from checkpoint, the shape in current model "
                              f"is {_fmt(target.shape)}.")
            else:
                pairs.append((target, value))
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for target, value in pairs:
                target.copy_(value)
        return IncompatibleKeys(missing, unexpected)

    # -- printing -----------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (its settings); override it."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [f"({name}): {_indent(repr(m))}" for name, m in self._modules.items()]
        if not children and len(lines) <= 1:
            return f"{type(self).__name__}({extra})"
        return type(self).__name__ + "(\n  " + "\n  ".join(lines + children) + "\n)"


# -- hooks: the records of register_*hook, and how backward hooks are run -----------------------

class _ModuleHook:
    """One hook registered on a module: its kind (``"forward_pre"``, ``"forward"``,
    ``"backward_pre"``, ``"backward"``), the function and its options."""

    __slots__ = ("kind", "fn", "with_kwargs", "always_call")

    def __init__(self, kind: str, fn: Callable[..., Any], with_kwargs: bool = False,
                 always_call: bool = False) -> None:
        self.kind, self.fn = kind, fn
        self.with_kwargs, self.always_call = with_kwargs, always_call


class _Gather:
    """The gradients of a set of tensors (a module's inputs, or its outputs), gathered in
    backward by the ``BackwardHookFunction`` nodes for their ``BackwardHookGate``."""

    def __init__(self, name: str, n: int,
                 on_grads: Callable[[list[Tensor | None], Sequence[Tensor]],
                                    list[Tensor | None]]) -> None:
        self.name = name
        self.grads: list[Tensor | None] = [None] * n
        self.on_grads = on_grads  # given the gradients and the tensors, returns the new ones

    def __repr__(self) -> str:  # (how graph drawings show it)
        return self.name


class BackwardHookGate(Function):
    """gate = an empty array made from x1..xn, the tensors of a module with backward hooks
    (its inputs, or its outputs) that require grad, when there are several. Each xi reaches
    the module through a ``BackwardHookFunction(xi, gate)``, so in backward this node runs
    after all of them: it passes the gradients they gathered to the hooks
    (``gather.on_grads``) together, and returns what the hooks make of them, as the gradients
    of x1..xn."""

    @staticmethod
    def forward(ctx: Context, *xs: np.ndarray, gather: _Gather) -> np.ndarray:
        return np.empty(0, dtype=xs[0].dtype)

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        gather: _Gather = ctx.kwargs["gather"]
        grads = gather.grads
        gather.grads = [None] * len(grads)  # (ready for another backward through the graph)
        return tuple(gather.on_grads(grads, ctx.inputs))


class BackwardHookFunction(Function):
    """y = x, for a tensor entering or leaving a module with backward hooks. Alone (the only
    tensor on its side that requires grad), its backward passes the gradient to the hooks
    (``gather.on_grads``) and returns what they make of it. With a ``gate`` (a
    ``BackwardHookGate``), it keeps the gradient in ``gather.grads[index]`` and sends none to
    x: the gate sends it on, after the hooks have seen all the gradients together."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, gate: np.ndarray | None = None, *,
                gather: _Gather, index: int = 0) -> np.ndarray:
        ctx.empty = gate
        y: np.ndarray = x.view()  # (a view: it shares x's version counter, as in PyTorch)
        return y

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor) -> Tensor | None | tuple[None, Tensor]:
        gather: _Gather = ctx.kwargs["gather"]
        if ctx.empty is None:
            return gather.on_grads([grad_output], ctx.inputs)[0]
        gather.grads[ctx.kwargs["index"]] = grad_output
        return None, from_numpy(ctx.empty)  # (an empty gradient: the gate only needs to run)


def _checked(new: Any, old: Tensor, hook: Callable[..., Any]) -> Any:
    """A gradient a hook returned in place of one for ``old``: same shape and dtype, or an
    error (PyTorch's)."""
    if new is None:
        return None
    return check_hook_result(hook, new, old)


class _BackwardHook:
    """The backward hooks of one call of a module (PyTorch's ``BackwardHook``).

    The tensors that go in and out of the module and require grad pass through
    ``BackwardHookFunction`` nodes (and, where a side has several, a ``BackwardHookGate``
    that gathers their gradients). In backward, the outputs' side runs first: it calls the
    backward pre-hooks with ``grad_output`` and keeps it; then the inputs' side calls the
    backward hooks with ``grad_input`` and that ``grad_output``.

    As in PyTorch, ``grad_input`` has zeros (not None) for a tensor argument that does not
    require grad or was not used, when another argument requires grad; ``grad_output`` has
    None for an output that got no gradient.
    """

    def __init__(self, module: Module, hooks: list[Callable[..., Any]],
                 pre_hooks: list[Callable[..., Any]]) -> None:
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs: tuple[Tensor | None, ...] | None = None
        self.n_inputs = self.n_outputs = 0
        self.input_index: list[int] | None = None  # positions of the inputs passed through
        self.output_index: list[int] | None = None  # positions of the outputs passed through
        self.constant_inputs: list[tuple[int, tuple[int, ...], np.dtype[Any]]] = []

    def _wrap(self, values: tuple[Any, ...], side: str,
              on_grads: Callable[[list[Tensor | None], Sequence[Tensor]], list[Tensor | None]]
              ) -> tuple[tuple[Any, ...], list[int] | None]:
        """Pass the tensors of ``values`` that require grad through the gate of ``side``."""
        index = [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]
        if not index or not is_grad_enabled():
            return values, None
        gather = _Gather(f"{type(self.module).__name__} {side}", len(index), on_grads)
        out = list(values)
        if len(index) == 1:  # (no gate needed: the one identity node runs the hooks)
            out[index[0]] = BackwardHookFunction.apply(values[index[0]], gather=gather)
        else:
            gate = BackwardHookGate.apply(*(values[i] for i in index), gather=gather)
            for k, i in enumerate(index):
                out[i] = BackwardHookFunction.apply(values[i], gate, gather=gather, index=k)
        return (tuple(out) if type(values) is tuple else type(values)(*out)), index

    def setup_inputs(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        self.n_inputs = len(args)
        args, self.input_index = self._wrap(args, "inputs", self._input_grads)
        if self.input_index is not None:
            self.constant_inputs = [(i, a.shape, a.dtype) for i, a in enumerate(args)
                                    if isinstance(a, Tensor) and i not in self.input_index]
        return args

    def setup_outputs(self, result: Any) -> Any:
        outputs = result if isinstance(result, tuple) else (result,)
        self.n_outputs = len(outputs)
        outputs, self.output_index = self._wrap(outputs, "outputs", self._output_grads)
        return outputs if isinstance(result, tuple) else outputs[0]

    @staticmethod
    def _spread(index: list[int], values: Sequence[Any], size: int) -> list[Any]:
        """A list of ``size`` entries: ``values`` at the positions ``index``, None elsewhere."""
        out: list[Any] = [None] * size
        for i, v in zip(index, values, strict=True):
            out[i] = v
        return out

    @staticmethod
    def _sent_on(grads: Sequence[Tensor | None]) -> list[Tensor | None]:
        # NOTE: copies of what the hooks saw. A gradient can reach a leaf's .grad unchanged
        # (through an identity-like op), and a later backward adds into .grad in place: that
        # must not change a gradient that a hook kept (as in PyTorch, where it does not).
        return [g if g is None else g.clone() for g in grads]

    def _output_grads(self, grads: list[Tensor | None], outputs: Sequence[Tensor]
                      ) -> list[Tensor | None]:
        """At the outputs' gate: run the pre-hooks; with no input that requires grad, the
        backward hooks too (there will be no inputs' gate)."""
        assert self.output_index is not None  # (the gate exists)
        grad_outputs = tuple(self._spread(self.output_index, grads, self.n_outputs))
        for hook in self.pre_hooks:
            new = hook(self.module, grad_outputs)
            if new is None:
                continue
            if len(new) != len(grad_outputs):
                raise RuntimeError(f"Backward pre hook returned an invalid number of "
                                   f"grad_output, got {len(new)}, but expected "
                                   f"{len(grad_outputs)}")
            grad_outputs = tuple(new)
            for k, i in enumerate(self.output_index):
                _checked(grad_outputs[i], outputs[k], hook)
        self.grad_outputs = grad_outputs
        if self.input_index is None and self.hooks:
            warnings.warn("Full backward hook is firing when gradients are computed with "
                          "respect to module outputs since no inputs require gradients. See "
                          "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=5)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                res = hook(self.module, grad_inputs, grad_outputs)
                if res is not None and not (isinstance(res, tuple)
                                            and all(g is None for g in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return self._sent_on([grad_outputs[i] for i in self.output_index])

    def _input_grads(self, grads: list[Tensor | None], inputs: Sequence[Tensor]
                     ) -> list[Tensor | None]:
        """At the inputs' gate: run the backward hooks with grad_input and grad_output."""
        assert self.input_index is not None  # (the gate exists)
        # An input that requires grad but was not used gets zeros, as in PyTorch.
        filled = [g if g is not None else zeros_like(x) for g, x in zip(grads, inputs,
                                                                         strict=True)]
        if self.grad_outputs is None:
            # The gradient reached the inputs without passing through the outputs (e.g. a
            # double backward): PyTorch does not run the hooks then.
            return self._sent_on(filled)
        grad_inputs = self._spread(self.input_index, filled, self.n_inputs)
        for i, shape, dtype in self.constant_inputs:
            grad_inputs[i] = zeros(shape, dtype=dtype)
        result = tuple(grad_inputs)
        for hook in self.hooks:
            new = hook(self.module, result, self.grad_outputs)
            if new is None:
                continue
            if len(new) != len(result):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, "
                                   f"got {len(new)}, but expected {len(result)}")
            result = tuple(new)
            for k, i in enumerate(self.input_index):
                _checked(result[i], inputs[k], hook)
        self.grad_outputs = None
        return self._sent_on([result[i] for i in self.input_index])


def _position(index: Any, size: int) -> int:
    """Check an integer index against ``size`` and make it non-negative."""
    try:
        i: int = index.__index__()
    except AttributeError:
        raise TypeError(f"indices must be integers or slices, not {type(index).__name__}"
                        ) from None
    if not -size <= i < size:
        raise IndexError(f"index {i} is out of range (length {size})")
    return i % size


class _Container(Module):
    """What Sequential and ModuleList share: modules numbered "0", "1", ... in order."""

    # A container holds modules only (PyTorch declares the same).
    _modules: dict[str, Module]  # type: ignore[assignment]

    def _renumber(self, modules: list[Module]) -> None:
        for name in list(self._modules):
            delattr(self, name)
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, list(self._modules)[_position(index, len(self))], module)

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_position(index, len(modules))]
        self._renumber(modules)

    def append(self: _C, module: Module) -> _C:
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self: _C, modules: Iterable[Module]) -> _C:
        """Add each of ``modules`` at the end."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index``."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)


class Sequential(_Container):
    """Modules applied one after the other: ``Sequential(a, b)(x) == b(a(x))``.

    Children are named ``"0"``, ``"1"``, ... (or by the keys of an ``OrderedDict`` argument).
    Indexing gives a module; slicing gives a Sequential that keeps the original names.
    """

    @overload
    def __init__(self, *modules: Module) -> None: ...

    @overload
    def __init__(self, modules: dict[str, Module], /) -> None: ...

    def __init__(self, *modules: Any) -> None:  # (add_module checks each one)
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    # model[0] is typed Any rather than Module, so that model[0].weight type-checks (the
    # checker cannot know which Module subclass is there).
    @overload
    def __getitem__(self, index: slice) -> Sequential: ...

    @overload
    def __getitem__(self, index: int) -> Any: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return self._modules[list(self._modules)[_position(index, len(self))]]

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """Pass ``input`` through each module in turn."""
        for module in self._modules.values():
            input = module(input)  # noqa: A001
        return input


class ModuleList(_Container):
    """A list of modules, registered so that their parameters belong to the parent module.

    It has no ``forward``: iterate over it in the parent's ``forward``.
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    # (typed as Sequential's: see there)
    @overload
    def __getitem__(self, index: slice) -> ModuleList: ...

    @overload
    def __getitem__(self, index: int) -> Any: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[str(_position(index, len(self)))]

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        self.extend(modules)
        return self

    def __repr__(self) -> str:
        # Runs of identical children print once, as "(0-2): 3 x Linear(...)".
        reprs = [repr(m) for m in self]
        if not reprs:
            return "ModuleList()"
        lines = []
        start = 0
        for i in range(1, len(reprs) + 1):
            if i == len(reprs) or reprs[i] != reprs[start]:
                if i - 1 == start:
                    lines.append(f"({start}): {_indent(reprs[start])}")
                else:
                    lines.append(f"({start}-{i - 1}): {i - start} x {_indent(reprs[start])}")
                start = i
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


# -- ModuleDict, ParameterList, ParameterDict (issue 10) ------------------------------------------

class ModuleDict(Module):
    """A dict of modules, registered (in insertion order) so that their parameters belong to
    the parent module. It has no ``forward``: use its entries in the parent's ``forward``."""

    _modules: dict[str, Module]  # type: ignore[assignment]  # (modules only, as in PyTorch)

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Any:  # (Any, as Sequential's: see there)
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]
        object.__delattr__(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        """Remove every module."""
        for key in list(self._modules):
            del self[key]

    def pop(self, key: str) -> Module:
        """Remove the module ``key`` and return it."""
        module: Module = self[key]
        del self[key]
        return module

    def keys(self) -> Iterable[str]:
        """The keys, in order."""
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        """(key, module) pairs, in order."""
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        """The modules, in order."""
        return self._modules.values()

    def update(self, modules: Any) -> None:
        """Add (or replace) modules from a mapping or an iterable of (key, module) pairs."""
        pairs: Iterable[tuple[Any, Any]]
        if isinstance(modules, (dict, ModuleDict)):
            pairs = list(modules.items())
        else:
            pairs = _key_value_pairs(modules, "ModuleDict")
        for key, module in pairs:
            self[key] = module


def _key_value_pairs(items: Any, owner: str, caller: str | None = None
                     ) -> Iterator[tuple[Any, Any]]:
    """The (key, value) pairs of an iterable given to ``owner.update``, one at a time (the
    pairs before a bad one are added, as in PyTorch), with PyTorch's errors for something that
    is not an iterable of pairs."""
    try:
        pairs = list(items)
    except TypeError:
        raise TypeError(f"{caller or owner}.update should be called with an iterable of "
                        f"key/value pairs, but got {type(items).__name__}") from None
    for j, pair in enumerate(pairs):
        if len(pair) != 2:
            raise ValueError(f"{owner} update sequence element #{j} has length {len(pair)}; "
                             f"2 is required")
        yield pair[0], pair[1]


def _dtype_of(value: Tensor) -> str:
    return f"microtensor.{value.dtype}"


_TENSOR_TYPES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                 "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def _size_text(value: Tensor) -> str:
    return "x".join(map(str, value.shape))


class ParameterList(Module):
    """A list of parameters, registered under the names ``"0"``, ``"1"``, ... (a tensor
    appended becomes a ``Parameter``; other objects are kept but are not parameters)."""

    _size: int

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def _index(self, idx: Any) -> str:
        if not isinstance(idx, (int, np.integer)):
            raise TypeError(f"'{type(idx).__name__}' object cannot be interpreted as an integer")
        i = int(idx)
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} is out of range")
        return str(i % len(self))

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(len(self))[idx]])
        return getattr(self, self._index(idx))

    def __setitem__(self, idx: int, param: Any) -> None:
        self._set(self._index(idx), param)

    def _set(self, name: str, param: Any) -> None:
        if isinstance(param, Tensor) and not isinstance(param, Parameter):
            param = Parameter(param)
        setattr(self, name, param)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    def __iadd__(self, parameters: Iterable[Any]) -> ParameterList:
        return self.extend(parameters)

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` at the end."""
        n = len(self)
        object.__setattr__(self, "_size", n + 1)
        self._set(str(n), value)
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Add each of ``values`` at the end."""
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        lines = []
        for i, p in enumerate(self):
            if isinstance(p, Tensor):
                lines.append(f"  ({i}): {'Parameter' if isinstance(p, Parameter) else 'Tensor'} "
                             f"containing: [{_dtype_of(p)} of size {_size_text(p)}]")
            else:
                lines.append(f"  ({i}): Object of type: {type(p).__name__}")
        return "\n".join(lines)

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters, registered under their keys (a tensor stored becomes a
    ``Parameter``). Built or updated from a plain ``dict``, the keys are taken in sorted order
    (as PyTorch does); from pairs, an ``OrderedDict`` or a ParameterDict, in their order."""

    _keys: dict[str, None]  # the keys in order (a dict used as an ordered set)

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        object.__setattr__(self, "_keys", {})
        if parameters is not None:
            self.update(parameters)

    def _key(self, key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(f"Index given to ParameterDict cannot be used as a key as it is not "
                            f"a string (type is '{type(key).__name__}'). Open an issue on github "
                            f"if you need non-string keys.")
        return key

    def __getitem__(self, key: str) -> Any:
        key = self._key(key)
        if key not in self._keys:
            raise AttributeError(f"'ParameterDict' object has no attribute '{key}'")
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        key = self._key(key)
        self._keys[key] = None
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        setattr(self, key, value)

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._keys))

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def copy(self) -> ParameterDict:
        """A new ParameterDict with the same parameters (not copies of them)."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key: str, default: Any = None) -> Any:
        """``self[key]``, first set to ``default`` if absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        """Remove every parameter."""
        for k in list(self._keys):
            del self[k]

    def pop(self, key: str) -> Any:
        """Remove ``key`` and return its parameter."""
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[str, Any]:
        """Remove and return the last (key, parameter) pair."""
        if not self._keys:
            raise KeyError("popitem(): dictionary is empty")
        key = list(self._keys)[-1]
        return key, self.pop(key)

    def get(self, key: str, default: Any = None) -> Any:
        """``self[key]`` if present, else ``default``."""
        return self[key] if key in self else default

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> ParameterDict:
        """A new ParameterDict with ``keys``, each set to ``default``."""
        return ParameterDict((k, default) for k in keys)

    def keys(self) -> Iterable[str]:
        """The keys, in order."""
        return self._keys.keys()

    def items(self) -> Iterable[tuple[str, Any]]:
        """(key, parameter) pairs, in order."""
        return [(k, self[k]) for k in self._keys]

    def values(self) -> Iterable[Any]:
        """The parameters, in order."""
        return [self[k] for k in self._keys]

    def update(self, parameters: Any) -> None:
        """Add (or replace) entries from a mapping or an iterable of (key, value) pairs."""
        pairs: Iterable[tuple[Any, Any]]
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, dict):
            pairs = sorted(parameters.items())
        else:
            # (PyTorch's message spells it "ParametersDict.update")
            pairs = _key_value_pairs(parameters, "ParameterDict", "ParametersDict")
        for key, value in pairs:
            self[key] = value

    def extra_repr(self) -> str:
        lines = []
        for k, p in self.items():
            if isinstance(p, Tensor):
                kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
                name = f"microtensor.{_TENSOR_TYPES.get(str(p.dtype), str(p.dtype))}"
                lines.append(f"  ({k}): {kind} containing: [{name} of size {_size_text(p)}]")
            else:
                lines.append(f"  ({k}): Object of type: {type(p).__name__}")
        return "\n".join(lines)

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError("ParameterDict should not be called.")
