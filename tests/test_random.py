"""Random numbers: ``Generator``, the default generator, ``generator=`` everywhere, and the
sampling functions (``normal``, ``bernoulli``, ``multinomial``, ``poisson``, the in-place
fills).

The streams differ from PyTorch's by design, so distributions are tested statistically (fixed
seeds, loose bounds); shapes, dtypes, ``requires_grad`` and errors are compared with PyTorch
where it is installed; and reproducibility is tested with seeds, saved states and generators.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn

# -- Generator ------------------------------------------------------------------------------------


def test_new_generator_starts_from_pytorchs_default_seed() -> None:
    g = mt.Generator()
    assert g.initial_seed() == 67280421310721  # PyTorch's default_rng_seed_val
    assert g.device == "cpu"
    assert mt.Generator("cpu").initial_seed() == 67280421310721


def test_new_generators_give_the_same_stream() -> None:
    a = mt.rand(5, generator=mt.Generator())
    b = mt.rand(5, generator=mt.Generator())
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_manual_seed_returns_the_generator_and_restarts_it() -> None:
    g = mt.Generator()
    assert g.manual_seed(7) is g
    assert g.initial_seed() == 7
    a = mt.randn(4, generator=g).numpy()
    b = mt.randn(4, generator=g).numpy()
    g.manual_seed(7)
    np.testing.assert_array_equal(mt.randn(4, generator=g).numpy(), a)
    assert not np.array_equal(a, b)


def test_seed_draws_a_new_seed_and_reports_it() -> None:
    g = mt.Generator()
    s = g.seed()
    assert isinstance(s, int) and 0 <= s < 2**64
    assert g.initial_seed() == s
    first = mt.rand(3, generator=g).numpy()
    np.testing.assert_array_equal(mt.rand(3, generator=g.manual_seed(s)).numpy(), first)


def test_state_round_trip() -> None:
    g = mt.Generator().manual_seed(11)
    mt.rand(3, generator=g)  # move away from the start
    state = g.get_state()
    assert state.dtype == mt.uint8 and state.shape == (45,)
    a = mt.randn(6, generator=g).numpy()
    g.manual_seed(99)
    assert g.set_state(state) is g
    assert g.initial_seed() == 11  # the seed travels with the state
    np.testing.assert_array_equal(mt.randn(6, generator=g).numpy(), a)


def test_state_is_a_copy() -> None:
    g = mt.Generator()
    state = g.get_state()
    before = state.numpy().copy()
    mt.rand(10, generator=g)
    np.testing.assert_array_equal(state.numpy(), before)


def test_state_keeps_a_half_used_32_bit_draw() -> None:
    """PCG64 caches half of a 64-bit draw for 32-bit requests: the state must keep it."""
    g = mt.Generator()
    mt.rand(1, generator=g)  # float32: one 32-bit draw, caches the other half
    state = g.get_state()
    a = mt.rand(3, generator=g).numpy()
    g.set_state(state)
    np.testing.assert_array_equal(mt.rand(3, generator=g).numpy(), a)


def test_rng_state_functions_use_the_default_generator() -> None:
    assert mt.manual_seed(5) is mt.default_generator
    assert mt.initial_seed() == 5
    state = mt.get_rng_state()
    a = mt.rand(4).numpy()
    mt.set_rng_state(state)
    np.testing.assert_array_equal(mt.rand(4).numpy(), a)
    s = mt.seed()
    assert mt.initial_seed() == s == mt.default_generator.initial_seed()


def test_seeds_wrap_like_pytorchs() -> None:
    g = mt.Generator()
    assert g.manual_seed(-1).initial_seed() == 2**64 - 1  # as torch: negative seeds wrap
    assert g.manual_seed(2**64 - 1).initial_seed() == 2**64 - 1
    assert g.manual_seed(np.int64(3)).initial_seed() == 3


torch = None
try:
    import torch  # type: ignore[no-redef]
except ImportError:  # pragma: no cover - PyTorch comparisons skip below
    pass

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


def _outcome(fn: Callable[[], Any]) -> Any:
    try:
        return ("value", fn())
    except Exception as e:  # noqa: BLE001 - compared by type
        return ("error", type(e).__name__)


@needs_torch
@pytest.mark.parametrize("call", [
    lambda lib, g: g.manual_seed(-1).initial_seed(),
    lambda lib, g: g.manual_seed(2**64 - 1).initial_seed(),
    lambda lib, g: g.manual_seed(2**64),
    lambda lib, g: g.manual_seed(-(2**63) - 1),
    lambda lib, g: g.manual_seed(1.5),
    lambda lib, g: g.manual_seed(True),
    lambda lib, g: g.set_state([1, 2]),
    lambda lib, g: g.set_state(g.get_state().float()),
    lambda lib, g: g.set_state(g.get_state()[:10]),
    lambda lib, g: g.get_state().dtype == lib.uint8,
    lambda lib, g: g.set_state(g.get_state()) is g,
    lambda lib, g: lib.manual_seed(3) is lib.default_generator,
    lambda lib, g: lib.rand(2, generator=5),
    lambda lib, g: lib.randn(2, generator="cpu"),
    lambda lib, g: lib.Generator("cuda"),
], ids=lambda f: "")
def test_generator_api_matches_torch(call: Callable[..., Any]) -> None:
    ours = _outcome(lambda: call(mt, mt.Generator()))
    theirs = _outcome(lambda: call(torch, torch.Generator()))
    assert ours == theirs


def test_generator_device_other_than_cpu_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="CPU"):
        mt.Generator("cuda")


# -- generator= on every random function ----------------------------------------------------------

DRAWS: dict[str, Callable[[Any], Any]] = {
    "rand": lambda g: mt.rand(3, 2, generator=g),
    "randn": lambda g: mt.randn((4,), generator=g),
    "randint": lambda g: mt.randint(0, 100, (5,), generator=g),
    "randint_high": lambda g: mt.randint(100, (5,), generator=g),
    "randperm": lambda g: mt.randperm(10, generator=g),
    "rand_like": lambda g: mt.rand_like(mt.zeros(2, 3), generator=g),
    "randn_like": lambda g: mt.randn_like(mt.zeros(4), generator=g),
    "normal_numbers": lambda g: mt.normal(1.0, 2.0, (4,), generator=g),
    "normal_tensors": lambda g: mt.normal(mt.zeros(3), mt.ones(3), generator=g),
    "normal_tensor_mean": lambda g: mt.normal(mt.zeros(3), 2.0, generator=g),
    "normal_tensor_std": lambda g: mt.normal(1.0, mt.ones(3), generator=g),
    "bernoulli": lambda g: mt.bernoulli(mt.full((20,), 0.5), generator=g),
    "bernoulli_p": lambda g: mt.zeros(20).bernoulli(0.3, generator=g),
    "multinomial": lambda g: mt.multinomial(mt.ones(10), 5, generator=g),
    "multinomial_replacement": lambda g: mt.ones(2, 10).multinomial(6, True, generator=g),
    "poisson": lambda g: mt.poisson(mt.full((6,), 4.0), generator=g),
    "uniform_": lambda g: mt.zeros(4).uniform_(-1, 1, generator=g),
    "normal_": lambda g: mt.zeros(4).normal_(0, 1, generator=g),
    "bernoulli_": lambda g: mt.zeros(20).bernoulli_(0.5, generator=g),
    "bernoulli_tensor_p": lambda g: mt.zeros(20).bernoulli_(mt.full((20,), 0.5), generator=g),
    "exponential_": lambda g: mt.zeros(4).exponential_(2.0, generator=g),
    "random_": lambda g: mt.zeros(6).random_(0, 1000, generator=g),
    "init.uniform_": lambda g: nn.init.uniform_(mt.zeros(4), generator=g),
    "init.normal_": lambda g: nn.init.normal_(mt.zeros(4), generator=g),
    "init.xavier_uniform_": lambda g: nn.init.xavier_uniform_(mt.zeros(3, 4), generator=g),
    "init.xavier_normal_": lambda g: nn.init.xavier_normal_(mt.zeros(3, 4), generator=g),
    "init.kaiming_uniform_": lambda g: nn.init.kaiming_uniform_(mt.zeros(3, 4), generator=g),
    "init.kaiming_normal_": lambda g: nn.init.kaiming_normal_(mt.zeros(3, 4), generator=g),
}


@pytest.mark.parametrize("name", list(DRAWS))
def test_generator_makes_draws_reproducible(name: str) -> None:
    g = mt.Generator().manual_seed(2024)
    a = DRAWS[name](g).numpy().copy()
    b = DRAWS[name](g).numpy().copy()
    g.manual_seed(2024)
    np.testing.assert_array_equal(DRAWS[name](g).numpy(), a)
    assert not np.array_equal(a, b)  # a stream, not one repeated sample


@pytest.mark.parametrize("name", list(DRAWS))
def test_an_explicit_generator_leaves_the_default_one_alone(name: str) -> None:
    mt.manual_seed(1)
    state = mt.get_rng_state()
    expected = mt.rand(5).numpy()
    mt.set_rng_state(state)
    DRAWS[name](mt.Generator())
    np.testing.assert_array_equal(mt.get_rng_state().numpy(), state.numpy())
    np.testing.assert_array_equal(mt.rand(5).numpy(), expected)


@pytest.mark.parametrize("name", list(DRAWS))
def test_without_generator_the_default_one_is_used(name: str) -> None:
    mt.manual_seed(31)
    a = DRAWS[name](None).numpy().copy()
    mt.manual_seed(31)
    np.testing.assert_array_equal(DRAWS[name](None).numpy(), a)
    # The default generator and a generator with the same seed give the same stream.
    np.testing.assert_array_equal(DRAWS[name](mt.Generator().manual_seed(31)).numpy(), a)


@pytest.mark.parametrize("name", list(DRAWS))
def test_generator_of_the_wrong_type_is_a_type_error(name: str) -> None:
    with pytest.raises(TypeError, match="generator"):
        DRAWS[name](3)


# -- distributions (fixed seeds, loose bounds) ----------------------------------------------------

def test_normal_forms_have_the_right_moments() -> None:
    g = mt.Generator().manual_seed(0)
    x = mt.normal(2.0, 3.0, (20_000,), generator=g).numpy()
    assert abs(x.mean() - 2.0) < 0.1 and abs(x.std() - 3.0) < 0.1
    mean = mt.zeros(3, 2000, 1) + mt.tensor([-5.0, 0.0, 5.0]).reshape(3, 1, 1)
    std = mt.tensor([0.5, 1.0, 2.0, 4.0])
    y = mt.normal(mean, std, generator=g).numpy()  # broadcast to (3, 2000, 4)
    assert y.shape == (3, 2000, 4)
    np.testing.assert_allclose(y.mean(axis=1), np.repeat([[-5.0], [0.0], [5.0]], 4, 1), atol=0.3)
    np.testing.assert_allclose(y.std(axis=1), np.tile([0.5, 1.0, 2.0, 4.0], (3, 1)), rtol=0.1)
    z = mt.normal(mt.full((10_000,), -1.0), 0.5, generator=g).numpy()
    assert abs(z.mean() + 1.0) < 0.05 and abs(z.std() - 0.5) < 0.05
    w = mt.normal(3.0, mt.full((10_000,), 2.0), generator=g).numpy()
    assert abs(w.mean() - 3.0) < 0.1 and abs(w.std() - 2.0) < 0.1


def test_normal_with_zero_std_is_the_mean() -> None:
    mean = mt.tensor([1.0, -2.0, 3.5])
    np.testing.assert_array_equal(mt.normal(mean, 0.0).numpy(), mean.numpy())
    np.testing.assert_array_equal(mt.normal(mean, mt.zeros(3)).numpy(), mean.numpy())


def test_bernoulli_frequencies() -> None:
    g = mt.Generator().manual_seed(1)
    p = mt.tensor([0.0, 0.1, 0.5, 0.9, 1.0]).expand(20_000, 5)
    x = mt.bernoulli(p, generator=g).numpy()
    assert set(np.unique(x)) <= {0.0, 1.0}
    np.testing.assert_allclose(x.mean(axis=0), [0.0, 0.1, 0.5, 0.9, 1.0], atol=0.015)
    assert x[:, 0].max() == 0 and x[:, 4].min() == 1
    y = mt.zeros(20_000).bernoulli(0.25, generator=g).numpy()
    assert abs(y.mean() - 0.25) < 0.015
    z = mt.zeros(20_000, dtype=mt.int64).bernoulli_(0.75, generator=g)
    assert z.dtype == mt.int64 and abs(z.numpy().mean() - 0.75) < 0.015
    w = mt.zeros(2, 10_000).bernoulli_(mt.tensor([[0.2], [0.6]]), generator=g).numpy()
    np.testing.assert_allclose(w.mean(axis=1), [0.2, 0.6], atol=0.02)


def test_multinomial_with_replacement_frequencies() -> None:
    g = mt.Generator().manual_seed(2)
    probs = mt.tensor([[1.0, 0.0, 3.0, 4.0], [0.0, 0.0, 0.0, 2.0]])
    x = mt.multinomial(probs, 40_000, replacement=True, generator=g).numpy()
    assert x.shape == (2, 40_000) and x.dtype == np.int64
    freq = np.stack([np.bincount(r, minlength=4) / 40_000 for r in x])
    np.testing.assert_allclose(freq[0], [0.125, 0.0, 0.375, 0.5], atol=0.01)
    np.testing.assert_array_equal(freq[1], [0, 0, 0, 1])  # zero probabilities never drawn


def test_multinomial_without_replacement() -> None:
    g = mt.Generator().manual_seed(3)
    probs = mt.tensor([1.0, 2.0, 3.0, 4.0])
    rows = np.stack([mt.multinomial(probs, 4, generator=g).numpy() for _ in range(4000)])
    for r in rows:  # every draw is a permutation
        assert sorted(r.tolist()) == [0, 1, 2, 3]
    np.testing.assert_allclose(np.bincount(rows[:, 0], minlength=4) / 4000,
                               [0.1, 0.2, 0.3, 0.4], atol=0.025)
    # Second draw given first = 3: proportional to the rest, (1, 2, 3) / 6.
    second = rows[rows[:, 0] == 3, 1]
    np.testing.assert_allclose(np.bincount(second, minlength=4)[:3] / len(second),
                               [1 / 6, 2 / 6, 3 / 6], atol=0.04)
    # Zero probabilities come only after every positive one.
    z = mt.multinomial(mt.tensor([[0.0, 5.0, 0.0, 1.0]] * 200), 2, generator=g).numpy()
    assert all(sorted(r.tolist()) == [1, 3] for r in z)


def test_exponential_poisson_random_uniform_distributions() -> None:
    g = mt.Generator().manual_seed(4)
    e = mt.zeros(20_000, dtype=mt.float64).exponential_(2.0, generator=g).numpy()
    assert e.min() >= 0 and abs(e.mean() - 0.5) < 0.02
    p = mt.poisson(mt.tensor([0.0, 1.0, 7.5]).expand(20_000, 3), generator=g).numpy()
    assert p.dtype == np.float32 and np.all(p == np.round(p))
    np.testing.assert_allclose(p.mean(axis=0), [0.0, 1.0, 7.5], atol=0.1)
    np.testing.assert_allclose(p.var(axis=0), [0.0, 1.0, 7.5], rtol=0.1, atol=0.01)
    r = mt.zeros(20_000, dtype=mt.int64).random_(-3, 4, generator=g).numpy()
    assert set(np.unique(r).tolist()) == set(range(-3, 4))
    assert np.all(mt.zeros(1000).random_(5, generator=g).numpy() < 5)  # random_(to)
    b = mt.zeros(1000, dtype=mt.bool_).random_(generator=g).numpy()
    assert 300 < b.sum() < 700
    u8 = mt.zeros(5000, dtype=mt.uint8).random_(generator=g).numpy()
    assert u8.min() < 10 and u8.max() > 245
    f = mt.zeros(5000).random_(generator=g).numpy()  # integers up to 2**24 for float32
    assert np.all(f == np.round(f)) and 0 <= f.min() and f.max() <= 2**24 and f.max() > 2**23


@pytest.mark.parametrize("dtype", [mt.float16, mt.float32, mt.float64])
def test_rand_is_below_one_in_every_dtype(dtype: Any) -> None:
    x = mt.rand(200_000, dtype=dtype, generator=mt.Generator()).numpy()
    assert x.dtype == dtype and x.min() >= 0 and x.max() < 1 and abs(x.mean() - 0.5) < 0.01


# -- gradients: PyTorch does not reparameterise its samplers --------------------------------------

def test_normal_with_tensor_arguments_records_a_zero_gradient() -> None:
    mean = mt.tensor([0.0, 1.0], requires_grad=True)
    std = mt.tensor([1.0, 2.0], requires_grad=True)
    y = mt.normal(mean, std)
    assert y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_array_equal(mean.grad.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(std.grad.numpy(), [0.0, 0.0])


def test_bernoulli_and_poisson_gradients_are_zero() -> None:
    p = mt.tensor([0.2, 0.7], requires_grad=True)
    mt.bernoulli(p).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])
    rate = mt.tensor([1.0, 3.0], requires_grad=True)
    mt.poisson(rate).sum().backward()
    np.testing.assert_array_equal(rate.grad.numpy(), [0.0, 0.0])


def test_bernoulli_with_a_number_p_has_no_derivative() -> None:
    x = mt.tensor([0.5, 0.5], requires_grad=True)
    y = x.bernoulli(0.5)
    assert y.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::bernoulli is not implemented"):
        y.sum().backward()


def test_multinomial_is_not_differentiable() -> None:
    p = mt.tensor([1.0, 2.0], requires_grad=True)
    assert not mt.multinomial(p, 1).requires_grad


# -- shapes, dtypes, requires_grad and errors against PyTorch -------------------------------------

def _t(lib: Any, data: Any, dtype: str = "float32", requires_grad: bool = False) -> Any:
    return lib.tensor(data, dtype=getattr(lib, dtype), requires_grad=requires_grad)


CALLS: list[Callable[[Any], Any]] = [
    # normal, all four forms
    lambda lib: lib.normal(_t(lib, np.zeros((2, 3))), _t(lib, np.ones(3))),
    lambda lib: lib.normal(_t(lib, np.zeros((2, 3))), _t(lib, np.ones(4))),
    lambda lib: lib.normal(_t(lib, np.zeros(6)), _t(lib, np.ones((2, 3)))),
    lambda lib: lib.normal(_t(lib, np.zeros((2, 1))), _t(lib, np.ones((1, 3)))),
    lambda lib: lib.normal(_t(lib, np.zeros(2), "float64"), _t(lib, np.ones(2))),
    lambda lib: lib.normal(_t(lib, np.zeros(2)), _t(lib, np.ones(2), "float64")),
    lambda lib: lib.normal(_t(lib, np.zeros(2), "float16"), _t(lib, np.ones(2))),
    lambda lib: lib.normal(_t(lib, np.zeros(2)), _t(lib, [1, 2], "int64")),
    lambda lib: lib.normal(_t(lib, [0, 1], "int64"), _t(lib, np.ones(2))),
    lambda lib: lib.normal(_t(lib, [0.0, 1.0]), _t(lib, [1.0, -1.0])),
    lambda lib: lib.normal(_t(lib, [0.0, 1.0]), _t(lib, [1.0, float("nan")])),
    lambda lib: lib.normal(_t(lib, [0.0, 1.0]), 2.0),
    lambda lib: lib.normal(_t(lib, [0.0, 1.0])),
    lambda lib: lib.normal(mean=_t(lib, [0.0, 1.0])),
    lambda lib: lib.normal(_t(lib, [0.0, 1.0]), -1.0),
    lambda lib: lib.normal(_t(lib, [0.0, 1.0]), float("nan")),
    lambda lib: lib.normal(_t(lib, 0.0), 1.0),
    lambda lib: lib.normal(_t(lib, np.zeros(0)), _t(lib, np.ones(0))),
    lambda lib: lib.normal(_t(lib, [[0.0, 1.0]], requires_grad=True), 1.0),
    lambda lib: lib.normal(_t(lib, [0.0, 1.0]), _t(lib, [1.0, 2.0], requires_grad=True)),
    lambda lib: lib.normal(2.0, _t(lib, [1.0, 2.0], "float64")),
    lambda lib: lib.normal(2.0, _t(lib, [1, 2], "int64")),
    lambda lib: lib.normal(2, _t(lib, [1.0, 2.0])),
    lambda lib: lib.normal(0.0, 1.0, (2, 3)),
    lambda lib: lib.normal(0, 1, [3]),
    lambda lib: lib.normal(0.0, 1.0, size=(2,), dtype=lib.float64),
    lambda lib: lib.normal(0.0, 1.0, size=(2,), dtype=lib.int64),
    lambda lib: lib.normal(0.0, 1.0, size=(2,), requires_grad=True),
    lambda lib: lib.normal(0.0, -1.0, (2,)),
    lambda lib: lib.normal(0.0, 1.0),
    lambda lib: lib.normal(0.0, 1.0, size=3),
    lambda lib: lib.normal(_t(lib, np.zeros(3)), _t(lib, np.ones(3)), (3,)),
    # bernoulli
    lambda lib: lib.bernoulli(_t(lib, [0.2, 0.8])),
    lambda lib: lib.bernoulli(_t(lib, [0.2, 0.8], requires_grad=True)),
    lambda lib: lib.bernoulli(_t(lib, [0.2, 0.8], "float64")),
    lambda lib: lib.bernoulli(_t(lib, [0.2, 0.8], "float16")),
    lambda lib: lib.bernoulli(_t(lib, [1, 0], "int64")),
    lambda lib: lib.bernoulli(_t(lib, [1.5])),
    lambda lib: lib.bernoulli(_t(lib, [-0.5])),
    lambda lib: lib.bernoulli(_t(lib, [float("nan")])),
    lambda lib: lib.bernoulli(_t(lib, [0.2, 0.8]), 0.5),
    lambda lib: lib.bernoulli(_t(lib, [0.2, 0.8]), 2.0),
    lambda lib: lib.bernoulli(_t(lib, np.zeros((2, 0)))),
    lambda lib: _t(lib, [0.2, 0.8]).bernoulli(),
    lambda lib: _t(lib, [0.2, 0.8]).bernoulli(p=0.3),
    lambda lib: _t(lib, [0, 1], "int64").bernoulli(0.3),
    # in place
    lambda lib: lib.zeros(3).bernoulli_(),
    lambda lib: lib.zeros(3).bernoulli_(0.3),
    lambda lib: lib.zeros(3).bernoulli_(1.5),
    lambda lib: lib.zeros(3).bernoulli_(-0.1),
    lambda lib: lib.zeros(3, dtype=lib.int64).bernoulli_(0.5),
    lambda lib: lib.zeros(3, dtype=lib.bool).bernoulli_(0.5),
    lambda lib: lib.zeros(3).bernoulli_(_t(lib, [0.0, 1.0, 1.0])),
    lambda lib: lib.zeros(3).bernoulli_(_t(lib, [0.0, 1.0])),
    lambda lib: lib.zeros(3).bernoulli_(_t(lib, [0.0, 1.0, 1.5])),
    lambda lib: lib.zeros(3).bernoulli_(_t(lib, [1, 0, 1], "int64")),
    lambda lib: lib.zeros(2, 3).bernoulli_(_t(lib, [[0.2], [0.3]])),
    lambda lib: lib.zeros(3, dtype=lib.int32).bernoulli_(_t(lib, [0.2, 0.4, 0.5])),
    lambda lib: lib.zeros(3, requires_grad=True).bernoulli_(0.5),
    lambda lib: lib.zeros(3).exponential_(),
    lambda lib: lib.zeros(3, dtype=lib.float64).exponential_(2.0),
    lambda lib: lib.zeros(3).exponential_(0.0),
    lambda lib: lib.zeros(3).exponential_(-1.0),
    lambda lib: lib.zeros(3, dtype=lib.int64).exponential_(),
    lambda lib: lib.zeros(3, requires_grad=True).exponential_(),
    lambda lib: lib.zeros(3).random_(),
    lambda lib: lib.zeros(3).random_(5),
    lambda lib: lib.zeros(3).random_(2, 5),
    lambda lib: lib.zeros(3).random_(5, 2),
    lambda lib: lib.zeros(3).random_(3, 3),
    lambda lib: lib.zeros(3, dtype=lib.uint8).random_(0, 256),
    lambda lib: lib.zeros(3, dtype=lib.uint8).random_(0, 300),
    lambda lib: lib.zeros(3, dtype=lib.uint8).random_(-1, 3),
    lambda lib: lib.zeros(3, dtype=lib.int8).random_(),
    lambda lib: lib.zeros(3, dtype=lib.bool).random_(),
    lambda lib: lib.zeros(3, dtype=lib.bool).random_(0, 3),
    lambda lib: lib.zeros(3, dtype=lib.int64).random_(-5, None),
    lambda lib: lib.zeros(3, requires_grad=True).random_(),
    lambda lib: lib.zeros(3).uniform_(),
    lambda lib: lib.zeros(3).uniform_(-2.0, 2.0),
    lambda lib: lib.zeros(3).uniform_(2.0, 1.0),
    lambda lib: lib.zeros(3).uniform_(1.0, 1.0),
    lambda lib: lib.zeros(3).uniform_(0.0, float("inf")),
    lambda lib: lib.zeros(3, dtype=lib.int64).uniform_(),
    lambda lib: lib.zeros(3, dtype=lib.int64).normal_(),
    lambda lib: lib.zeros(3, dtype=lib.float64).normal_(generator=lib.Generator()),
    lambda lib: lib.zeros(3).normal_(0.0, -1.0),
    lambda lib: lib.zeros(3).normal_(1.0, 0.5),
    # multinomial
    lambda lib: lib.multinomial(_t(lib, [1.0, 2.0, 3.0]), 2),
    lambda lib: lib.multinomial(_t(lib, [1.0, 2.0, 3.0]), 3),
    lambda lib: lib.multinomial(_t(lib, [1.0, 2.0, 3.0]), 4),
    lambda lib: lib.multinomial(_t(lib, [1.0, 2.0, 3.0]), 4, replacement=True),
    lambda lib: lib.multinomial(_t(lib, [1.0, 2.0, 3.0]), 4, True),
    lambda lib: lib.multinomial(_t(lib, [[1.0, 2.0, 3.0]] * 2), 2),
    lambda lib: lib.multinomial(_t(lib, [[1.0, 2.0, 3.0]] * 2, "float64"), 5, True),
    lambda lib: lib.multinomial(_t(lib, np.ones((2, 2, 2))), 1),
    lambda lib: lib.multinomial(_t(lib, 1.0), 1),
    lambda lib: lib.multinomial(_t(lib, [1.0, -2.0, 3.0]), 1),
    lambda lib: lib.multinomial(_t(lib, [0.0, 0.0]), 1),
    lambda lib: lib.multinomial(_t(lib, [[1.0, 1.0], [0.0, 0.0]]), 1, True),
    lambda lib: lib.multinomial(_t(lib, [1.0, float("nan")]), 1),
    lambda lib: lib.multinomial(_t(lib, [1.0, float("inf")]), 1),
    lambda lib: lib.multinomial(_t(lib, [1, 2], "int64"), 1),
    lambda lib: lib.multinomial(_t(lib, [1.0, 2.0]), 0),
    lambda lib: lib.multinomial(_t(lib, [1.0, 2.0]), -1),
    lambda lib: lib.multinomial(_t(lib, [1.0, 2.0]), 2.0),
    lambda lib: lib.multinomial(_t(lib, np.zeros(0)), 1),
    lambda lib: lib.multinomial(_t(lib, np.ones((0, 3))), 2),
    lambda lib: lib.multinomial(_t(lib, np.ones((2, 0))), 1),
    lambda lib: lib.multinomial(_t(lib, [1.0, 2.0], requires_grad=True), 1),
    lambda lib: lib.multinomial(_t(lib, [1.0, 0.0, 0.0]), 2),
    lambda lib: _t(lib, [1.0, 2.0]).multinomial(2, True),
    # poisson
    lambda lib: lib.poisson(_t(lib, [1.0, 2.0])),
    lambda lib: lib.poisson(_t(lib, [[1.0, 2.0]], "float64")),
    lambda lib: lib.poisson(_t(lib, [1.0, 2.0], requires_grad=True)),
    lambda lib: lib.poisson(_t(lib, [-1.0, 2.0])),
    lambda lib: lib.poisson(_t(lib, [1, 2], "int64")),
    lambda lib: lib.poisson(_t(lib, 3.0)),
    # creation functions: requires_grad on integer results
    lambda lib: lib.randint(3, (2,), requires_grad=True),
    lambda lib: lib.randint(3, (2,), dtype=lib.float32, requires_grad=True),
    lambda lib: lib.randperm(3, requires_grad=True),
    lambda lib: lib.randperm(3, dtype=lib.float64, requires_grad=True),
    lambda lib: lib.rand(2, 3, generator=lib.Generator(), requires_grad=True),
    lambda lib: lib.randn(2, generator=lib.Generator(), dtype=lib.float64),
    lambda lib: lib.randint(0, 4, (3,), generator=lib.Generator(), dtype=lib.int32),
    lambda lib: lib.randperm(4, generator=lib.Generator(), dtype=lib.int16),
]


def _signature(x: Any) -> Any:
    if hasattr(x, "shape"):
        return (tuple(x.shape), str(x.dtype).removeprefix("torch."), x.requires_grad)
    return x


@needs_torch
@pytest.mark.parametrize("i", range(len(CALLS)))
def test_shapes_dtypes_and_errors_match_torch(i: int) -> None:
    ours = _outcome(lambda: _signature(CALLS[i](mt)))
    theirs = _outcome(lambda: _signature(CALLS[i](torch)))
    assert ours == theirs


@needs_torch
def test_error_messages_follow_torchs_wording() -> None:
    for call in (lambda lib: lib.multinomial(_t(lib, [1.0, 2.0]), 3),
                 lambda lib: lib.multinomial(_t(lib, [0.0, 0.0]), 1),
                 lambda lib: lib.multinomial(_t(lib, [1.0, -1.0]), 1),
                 lambda lib: lib.multinomial(_t(lib, [1.0, 2.0]), 0),
                 lambda lib: lib.normal(_t(lib, [0.0]), _t(lib, [-1.0])),
                 lambda lib: lib.normal(_t(lib, [0.0]), -1.0),
                 lambda lib: lib.zeros(2).exponential_(0.0),
                 lambda lib: lib.zeros(2).bernoulli_(1.5),
                 lambda lib: lib.zeros(2).random_(5, 2),
                 lambda lib: lib.poisson(_t(lib, [-1.0]))):
        with pytest.raises(Exception) as theirs:  # noqa: PT011 - any type, compared below
            call(torch)
        with pytest.raises(type(theirs.value)) as ours:
            call(mt)
        assert str(ours.value).startswith(str(theirs.value).split(" (")[0].rstrip("."))
