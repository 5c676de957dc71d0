"""Every op of the ops-inside table (tests/test_ops_inside.py: the built-in modules, functionals
and losses), forward and backward, compiled: the replay, with each op's forward written in
(jit/inline.py), gives the eager bits on new data of the same shapes."""

from __future__ import annotations

import importlib
import linecache
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_ops_inside import CASES

import microtensor as mt
from microtensor.autograd.function import Context, Function
from microtensor.tensor import Tensor


def _grads(inputs: tuple[Any, ...]) -> list[Any]:
    return [None if not isinstance(t, Tensor) or t.grad is None else t.grad.numpy().copy()
            for t in inputs]


@pytest.mark.parametrize("name", list(CASES))
def test_a_compiled_op_gives_the_eager_bits(name: str) -> None:
    fn, first = CASES[name](1)
    data = [first] + [CASES[name](seed)[1] for seed in (2, 3, 4)]

    def step(*inputs: Any) -> Tensor:
        loss = fn(*inputs)
        loss.backward()
        return loss

    compiled = mt.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for seed, given in enumerate(data, 1):
            inputs, fresh = ([t.detach().clone().requires_grad_(t.requires_grad)
                              if isinstance(t, Tensor) else t for t in given] for _ in range(2))
            mt.manual_seed(seed)
            eager = step(*inputs)
            mt.manual_seed(seed)
            replayed = compiled(*fresh)
            assert np.array_equal(eager.detach().numpy(), replayed.detach().numpy(),
                                  equal_nan=True), (seed, eager, replayed)
            for a, b in zip(_grads(tuple(inputs)), _grads(tuple(fresh)), strict=True):
                assert (a is None and b is None) or np.array_equal(a, b, equal_nan=True), seed
    refusals = [str(w.message) for w in caught if "runs eagerly" in str(w.message)]
    assert not refusals or name in REFUSED, refusals
    if name not in REFUSED:
        assert compiled.source is not None


# Cases that compile refuses (run eagerly, with a warning), and why.
REFUSED: dict[str, str] = {}


# -- how a forward is written in (jit/inline.py), on ops of a test's own ----------------------

scale_by = 2.0  # (a module global that the test rebinds: a replay must not keep its old value)


class Scaled(Function):
    """y = x * k  (``mode="double"``: y = 2 x);   dx = g * k"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, mode: str = "k", k: float = 3.0) -> np.ndarray:
        if mode == "double":
            ctx.k = 2.0
            return x * 2.0
        ctx.k = k
        unused = np.zeros(x.shape)  # noqa: F841 (nothing reads it: left out)
        with np.errstate(over="ignore"):
            return x * k

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return g * ctx.k


class ByGlobal(Function):
    """y = x * scale_by (a rebindable global);   dx = g * scale_by"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return x * scale_by

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return g * scale_by


class Summed(Function):
    """y = sum of the rows of x, by a comprehension;   dx = g broadcast"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.shape = x.shape
        return np.asarray(sum([row for row in x]))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return g.expand(*ctx.shape)


def test_a_forward_is_written_in_with_its_branches_decided() -> None:
    def step(x: Tensor) -> Tensor:
        loss = (Scaled.apply(x, mode="double") + Scaled.apply(x, k=0.5)).sum()
        loss.backward()
        return loss

    compiled = mt.compile(step)
    for i in range(4):
        x, y = (mt.tensor([[1.0, -2.0], [3.0, 0.5 * i]], requires_grad=True) for _ in range(2))
        assert np.array_equal(step(x).detach().numpy(), compiled(y).detach().numpy())
        assert x.grad is not None and y.grad is not None
        assert np.array_equal(x.grad.numpy(), y.grad.numpy())
    source = compiled.source
    assert source is not None and "Scaled.forward(" not in source
    assert "* 2.0  # Scaled" in source and "* 0.5" in source  # (each call's branch only)
    assert "mode" not in source and "np.zeros" not in source
    assert "np.errstate(over='ignore')" in source  # (kept: it is the forward's own code)


def test_a_forward_that_does_not_fit_is_called() -> None:
    """A forward that reads a global that may be rebound, or that has a comprehension, is
    called, not written in: the replay's forward reads the global's value of the moment. (The
    backward's ``g * scale_by`` is a Mul with a number, a constant of the recording, as any
    Python number the step reads from outside its arguments: see docs/compile.md.)"""
    global scale_by

    def step(x: Tensor) -> Tensor:
        loss = (ByGlobal.apply(x) + Summed.apply(x)).sum()
        loss.backward()
        return loss

    compiled = mt.compile(step)
    try:
        for i in range(5):
            scale_by = 2.0 + (i >= 3)  # (rebound after the replay was made)
            x, y = (mt.tensor([[1.0, 2.0], [3.0, float(i)]], requires_grad=True)
                    for _ in range(2))
            assert np.array_equal(step(x).detach().numpy(), compiled(y).detach().numpy())
    finally:
        scale_by = 2.0
    source = compiled.source
    assert source is not None
    assert "ByGlobal.forward(" in source and "Summed.forward(" in source


def test_a_forward_whose_file_was_edited_since_its_import_is_called(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = '''import numpy as np
from microtensor.autograd.function import Function


class Twice(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2.0

    @staticmethod
    def backward(ctx, g):
        return g * 2.0
'''
    (tmp_path / "edited_op.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("edited_op")
    (tmp_path / "edited_op.py").write_text(source.replace("x * 2.0", "x * 3.0"))
    linecache.checkcache()

    def step(x: Tensor) -> Tensor:
        loss = module.Twice.apply(x).sum()
        loss.backward()
        return loss

    compiled = mt.compile(step)
    for i in range(4):
        x, y = (mt.tensor([1.0, float(i)], requires_grad=True) for _ in range(2))
        assert np.array_equal(step(x).detach().numpy(), compiled(y).detach().numpy())
    assert compiled.source is not None and "Twice.forward(" in compiled.source
