"""Every op of the ops-inside table (tests/test_ops_inside.py: the built-in modules, functionals
and losses), forward and backward, compiled: the replay, with each op's forward written in
(jit/inline.py), gives the eager bits on new data of the same shapes."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from test_ops_inside import CASES

import microtensor as mt
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
