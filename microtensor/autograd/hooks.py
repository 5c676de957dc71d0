"""Hooks on the whole of autograd: code called around every ``backward()``, and the handle
that every ``register_*hook`` method returns.

PyTorch has no global backward hook; these two are microtensor's own (``diagnose.watch`` uses
them to learn the loss of each training step without changing the user's loop)::

    def show(roots):
        print("backward from", roots[0].item())

    with microtensor.autograd.register_backward_pre_hook(show):
        loss.backward()                     # prints the loss first
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

BackwardHook = Callable[[Sequence[Any]], None]

# Called with the list of root tensors at the start (pre) and the end (post) of each
# ``backward()`` (not of ``autograd.grad``, which accumulates nothing). The engine reads them.
backward_pre_hooks: list[BackwardHook] = []
backward_post_hooks: list[BackwardHook] = []


class RemovableHandle:
    """What the ``register_*hook`` methods return (of tensors, modules and optimizers):
    ``remove()`` unregisters the hook. As a context manager, the hook is removed on exit::

        with model.register_forward_hook(show):
            model(x)                       # show runs here, and not after the block
    """

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        """Unregister the hook (does nothing if already removed)."""
        # By identity: the same function registered twice has two entries, one per handle.
        for i, h in enumerate(self._hooks):
            if h is self._hook:
                del self._hooks[i]
                break
        self._hooks = []  # (so that a second remove() does nothing)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register_backward_pre_hook(hook: BackwardHook) -> RemovableHandle:
    """Call ``hook(roots)`` at the start of every ``backward()``, before any gradient is
    computed; ``roots`` is the list of tensors backward starts from (``[loss]`` for
    ``loss.backward()``). A microtensor extension: PyTorch has no global backward hook."""
    backward_pre_hooks.append(hook)
    return RemovableHandle(backward_pre_hooks, hook)


def register_backward_post_hook(hook: BackwardHook) -> RemovableHandle:
    """Call ``hook(roots)`` at the end of every ``backward()`` that finished, when every
    ``.grad`` has been accumulated. A microtensor extension, like the pre hook."""
    backward_post_hooks.append(hook)
    return RemovableHandle(backward_post_hooks, hook)


__all__ = ["BackwardHook", "RemovableHandle", "register_backward_post_hook",
           "register_backward_pre_hook"]
