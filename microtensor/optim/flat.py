"""The flat buffers behind ``fused=True`` and ``foreach=True``: the parameters of one group
that share a dtype, and each of their optimizer states, laid end to end in one NumPy array, so
that a step is a few whole-array NumPy calls whatever the number of parameters.

``FlatParams`` holds one such bucket. With ``pin=True`` (``fused``) the parameters live in it:
each parameter's array is a view of ``values``, so the model sees every update without a copy.
With ``pin=False`` (``foreach``) the parameters keep their own arrays, and are copied into
``values`` (and back) only by a step whose rule reads them (weight decay). Either way the last
calls of a step are one per parameter, through ``Tensor.add_`` (or ``Tensor.copy_``), which
record the in-place change in the parameter's version counter (so a graph that saved a
parameter before the step refuses to backward, as after the single-tensor update). The state
tensors of ``optimizer.state`` (``exp_avg``, ...) are views of the state buffers in both modes,
so ``state_dict()`` and ``optimizer.state[p]`` read as they do for the single-tensor update.

Whatever replaced an array since the last step (``p.data = t``, ``optimizer.load_state_dict``,
a deep copy) is noticed by an identity check at the next step and copied into the buffer
("re-pinned"); what cannot be laid out flat this step (some parameters without a gradient, or
with state that others lack) raises ``NotFlat``, and the optimizer updates that bucket one
parameter at a time instead (the same arithmetic).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.array_utils import byte_bounds

from ..autograd.graph import increment_version
from ..creation import from_numpy
from ..tensor import Tensor

State = dict[str, Any]  # one parameter's optimizer state: {"step": 3, "exp_avg": tensor, ...}


class NotFlat(Exception):
    """This step of a bucket cannot run on the flat buffers (the optimizer falls back to its
    update of one parameter at a time, which gives the same numbers)."""


class FlatParams:
    """Parameters of one dtype, and their optimizer state, each as one flat array.

    Args:
        params: the parameters (floating point tensors of one dtype, not sharing memory).
        pin: make each parameter's array a view of ``values`` (``fused=True``); otherwise
            (``foreach=True``) ``param_values`` and ``store_params`` copy them in and out.
        labels: each parameter's name in error messages (``"parameter 2 of group 0"``).

    Attributes:
        values: the flat parameters (not pinned: as last copied by ``param_values``).
        grad: the flat gradients, filled by ``load_grads``.
        update: what the step adds to ``values``, filled by the optimizer's update rule and
            added by ``store_params``.
        state: state name -> its flat buffer (``"exp_avg"`` -> array of ``values``' size).
    """

    def __init__(self, params: Sequence[Tensor], pin: bool, labels: Sequence[str]) -> None:
        self.params = list(params)
        self.pinned = pin
        self.labels = list(labels)
        arrays = [p.numpy(force=True) for p in self.params]
        self.dtype = arrays[0].dtype
        self.shapes = [a.shape for a in arrays]
        self.sizes = [a.size for a in arrays]
        ends = np.cumsum(self.sizes).tolist()
        self.slices = [slice(end - n, end) for end, n in zip(ends, self.sizes, strict=True)]
        self.values = np.concatenate(arrays, axis=None)
        self.grad = np.empty_like(self.values)
        self.update = np.empty_like(self.values)
        # Each parameter's piece of `values`, shaped like the parameter, and of `update`.
        self.views = self.pieces(self.values)
        self._value_tensors = [from_numpy(v) for v in self.views]
        self._update_tensors = [from_numpy(u) for u in self.pieces(self.update)]
        self.arrays = arrays  # each parameter's array when laid out (pinned: its view since)
        self._loaded = False  # (not pinned) whether `values` holds this step's parameters
        if pin:
            for i in range(len(self.params)):
                self._pin(i)
        self.state: dict[str, np.ndarray] = {}
        self._state_tensors: dict[str, list[Tensor]] = {}  # the views given to optimizer.state
        self._scratch: list[np.ndarray] = []

    # -- parameters and gradients ---------------------------------------------------------------

    def pieces(self, flat: np.ndarray) -> list[np.ndarray]:
        """Each parameter's piece of ``flat`` (an array of ``values``' size), as a view shaped
        like the parameter."""
        return [flat[s].reshape(shape) for s, shape in zip(self.slices, self.shapes, strict=True)]

    def _pin(self, i: int) -> None:
        """Make parameter i's array its view of ``values`` (through ``Tensor.data``)."""
        p = self.params[i]
        p.data = self._value_tensors[i]
        self.arrays[i] = p.numpy(force=True)

    def load_params(self) -> None:
        """Check the parameters before a step: re-pin those whose array was replaced (pinned).
        A parameter whose shape or dtype changed is an error: its state no longer fits it."""
        if self.pinned:
            arrays = [p.numpy(force=True) for p in self.params]
            if all(map(operator.is_, arrays, self.arrays)):
                return
            for i, arr in enumerate(arrays):
                if arr is not self.arrays[i]:
                    self._check_fits(i, arr)
                    if any(np.shares_memory(arr, view)
                           for j, view in enumerate(self.views) if j != i):
                        raise RuntimeError(
                            f"{self.labels[i]} of a fused optimizer now shares memory with "
                            f"another parameter (assigned through .data?); a fused optimizer "
                            f"keeps each parameter in its own place of a flat buffer. Tie "
                            f"parameters by using one Parameter in both places, or use "
                            f"fused=False")
                    np.copyto(self.views[i], arr)  # (nothing to copy if arr is its own place)
                    self._pin(i)
            return
        self.arrays = [p.numpy(force=True) for p in self.params]
        for i, arr in enumerate(self.arrays):
            self._check_fits(i, arr)
        self._loaded = False

    def param_values(self) -> np.ndarray:
        """``values``, for an update rule that reads or changes the parameters (weight decay):
        pinned, the parameters themselves; otherwise a copy of them, made now and copied back by
        ``store_params``."""
        if not self.pinned and not self._loaded:
            np.concatenate(self.arrays, axis=None, out=self.values)
            self._loaded = True
        return self.values

    def _check_fits(self, i: int, arr: np.ndarray) -> None:
        if arr.shape != self.shapes[i] or arr.dtype != self.dtype:
            mode = "fused" if self.pinned else "foreach"
            raise RuntimeError(
                f"{self.labels[i]} changed from shape {self.shapes[i]} and dtype {self.dtype} to "
                f"{arr.shape} and {arr.dtype} after the {mode}=True optimizer laid it out: create "
                f"the optimizer again after changing a parameter's shape or dtype")

    def store_params(self) -> None:
        """Parameters += update. Pinned, ``values += update`` (the parameters are its views),
        and each parameter's version counter counts the change
        (``autograd.graph.increment_version``); when this step copied the parameters into
        ``values`` (not pinned), ``values += update`` and ``p.copy_(its piece of values)``;
        otherwise ``p.add_(its piece of update)`` for each."""
        if self.pinned:
            self.values += self.update
            increment_version(self.params)
        elif self._loaded:
            self.values += self.update
            for p, v in zip(self.params, self._value_tensors, strict=True):
                p.copy_(v)
            self._loaded = False
        else:
            for p, u in zip(self.params, self._update_tensors, strict=True):
                p.add_(u)

    def load_grads(self, grads: Sequence[Tensor]) -> np.ndarray:
        """The gradients, one per parameter, copied into ``grad`` (one NumPy call)."""
        return np.concatenate([g.numpy(force=True) for g in grads], axis=None, out=self.grad)

    def scratch(self, i: int) -> np.ndarray:
        """Work array ``i`` of ``values``' size and dtype (kept: no allocation per step)."""
        while len(self._scratch) <= i:
            self._scratch.append(np.empty_like(self.values))
        return self._scratch[i]

    def per_element(self, per_param: Sequence[float]) -> np.ndarray:
        """One number per parameter, repeated over its elements (rounded to the dtype first,
        as a Python number is when it meets an array of that dtype)."""
        return np.repeat(np.array(per_param, dtype=self.dtype), self.sizes)

    # -- optimizer state --------------------------------------------------------------------------

    def get_state(self, states: Sequence[State], name: str) -> np.ndarray | None:
        """The flat buffer of state ``name``, each parameter's ``state[name]`` a view of it.

        Args:
            states: each parameter's state dict (``optimizer.state[p]``), in order.
            name: the state's name.

        Returns:
            The buffer, or None when no parameter has the state yet.

        Raises:
            NotFlat: some parameters have the state and others do not, or a state tensor
                does not match its parameter's shape and dtype.
        """
        return self._state(states, name, False, None)

    def new_state(self, states: Sequence[State], name: str,
                  init: np.ndarray | None = None) -> np.ndarray:
        """``get_state``, but a state that no parameter has yet is created: zeros (as
        ``zeros_like(p)`` for each parameter), or a copy of ``init``."""
        buffer = self._state(states, name, True, init)
        assert buffer is not None  # (created)
        return buffer

    def _state(self, states: Sequence[State], name: str, create: bool,
               init: np.ndarray | None) -> np.ndarray | None:
        current = [st.get(name) for st in states]
        views = self._state_tensors.get(name)
        if views is not None and all(map(operator.is_, current, views)):
            return self.state[name]
        missing = [t is None for t in current]
        if all(missing):
            if not create:
                return None
            buffer = np.zeros_like(self.values) if init is None else init.copy()
        elif any(missing):
            raise NotFlat(name)
        else:  # set since the last step (load_state_dict, a deep copy): copy it in
            arrays: list[np.ndarray] = []
            for t, shape in zip(current, self.shapes, strict=True):
                if not isinstance(t, Tensor) or t.shape != shape or t.dtype != self.dtype:
                    raise NotFlat(name)
                arrays.append(t.numpy(force=True))
            buffer = np.concatenate(arrays, axis=None)
        self.state[name] = buffer
        tensors = [from_numpy(piece) for piece in self.pieces(buffer)]
        self._state_tensors[name] = tensors
        for st, t in zip(states, tensors, strict=True):
            st[name] = t
        return buffer


def lerp_(start: np.ndarray, end: np.ndarray, weight: float, work: np.ndarray) -> None:
    """start += weight * (end - start), in place, with ``Tensor.lerp_``'s arithmetic for a
    number ``weight`` (rounded to the dtype; from the nearer end). ``work``: scratch space."""
    w = start.dtype.type(weight)
    diff = np.subtract(end, start, out=work)
    if abs(w) < 0.5:
        diff *= w
        start += diff
    else:
        diff *= 1 - w
        np.subtract(end, diff, out=start)


def check_disjoint(params: Sequence[Tensor], labels: Sequence[str]) -> None:
    """Raise if two of ``params`` share memory: a flat buffer gives each its own copy, which
    would untie them (the single-tensor update changes shared memory once per parameter)."""
    arrays = [p.numpy(force=True) for p in params]
    spans = sorted((*byte_bounds(a), i) for i, a in enumerate(arrays) if a.size)
    open_spans: list[tuple[int, int]] = []  # (end, index) of spans that may overlap the next
    for start, end, i in spans:
        open_spans = [(e, j) for e, j in open_spans if e > start]
        for _, j in open_spans:
            if np.shares_memory(arrays[i], arrays[j]):
                first, second = sorted((i, j))
                raise RuntimeError(
                    f"fused=True and foreach=True need parameters that do not share memory, but "
                    f"{labels[first]} and {labels[second]} do (tied through .data?). Tie "
                    f"parameters by using one Parameter in both places, or use fused=False and "
                    f"foreach=False")
        open_spans.append((end, i))


class FlatGroup:
    """The buckets of one parameter group: a ``FlatParams`` per floating dtype, and the
    parameters left out of them (``others``: not floating point, or not requiring grad when
    the group was laid out), which the optimizer updates one at a time.

    Args:
        group: the parameter group (``{"params": [...], option: value, ...}``).
        index: its position in ``optimizer.param_groups`` (for messages).
        pin: ``FlatParams``' ``pin`` (``fused=True``).
    """

    def __init__(self, group: dict[str, Any], index: int, pin: bool) -> None:
        self.group = group
        self.params: tuple[Tensor, ...] = tuple(group["params"])
        self.pinned = pin
        by_dtype: dict[np.dtype, list[int]] = {}
        self.others: list[Tensor] = []
        for i, p in enumerate(self.params):
            if p.is_floating_point() and p.requires_grad:
                by_dtype.setdefault(p.dtype, []).append(i)
            else:
                self.others.append(p)
        self.buckets = [FlatParams([self.params[i] for i in indices], pin,
                                   [f"parameter {i} of group {index}" for i in indices])
                        for indices in by_dtype.values()]

    def matches(self, group: dict[str, Any], pin: bool) -> bool:
        """Whether this layout still describes ``group`` (same parameters, same mode)."""
        params = group["params"]
        return (self.group is group and self.pinned == pin and len(params) == len(self.params)
                and all(map(operator.is_, params, self.params)))
