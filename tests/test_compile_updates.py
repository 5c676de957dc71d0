"""microtensor.compile writes SGD's, Adam's and AdamW's zero_grad and step out as NumPy lines
(jit/updates.py). They must give the eager step's bits (parameters, gradients, optimizer state,
version counters) for every option, read the numbers (lr, betas) at each call, and fall back
to the optimizer's own methods when the optimizer no longer is as recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn, optim

MakeOpt = Callable[[list[nn.Parameter]], optim.Optimizer]
Between = Callable[[int, nn.Module, optim.Optimizer], None]


def train(make_opt: MakeOpt, steps: int, compiled: bool, between: Between | None = None,
          dtype: Any = mt.float32) -> tuple[list[np.ndarray], nn.Module, optim.Optimizer, Any]:
    """A 3-8-8-2 tanh net with cross-entropy on fixed data: the losses, the model, the
    optimizer and the step (compiled or not). ``between(i, model, opt)`` runs before call i."""
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(),
                          nn.Linear(8, 2)).to(dtype)
    opt = make_opt(list(model.parameters()))
    loss_fn = nn.CrossEntropyLoss()
    x = mt.randn(16, 3, dtype=dtype)
    y = mt.randint(0, 2, (16,))

    def step(x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = mt.compile(step) if compiled else step
    losses = []
    for i in range(steps):
        if between is not None:
            between(i, model, opt)
        losses.append(fn(x, y).detach().numpy().copy())
    return losses, model, opt, fn


def snapshot(model: nn.Module, opt: optim.Optimizer) -> list[Any]:
    """Everything the step changes: parameters, gradients, their version counters, the
    optimizer's state (values and versions) and its step counts."""
    out: list[Any] = []
    for p in model.parameters():
        assert p.grad is not None
        out += [p.detach().numpy().copy(), p.grad.numpy().copy(), p._version]
        for key, value in sorted(opt.state[p].items()):
            if isinstance(value, mt.Tensor):
                out += [key, value.numpy().copy(), value._version]
            else:
                out += [key, value]
    return out


def assert_same_as_eager(make_opt: MakeOpt, steps: int = 30, between: Between | None = None,
                         dtype: Any = mt.float32) -> str:
    """Compiled and eager give the same bits; returns the replay's source."""
    eager = train(make_opt, steps, False, between, dtype)
    compiled = train(make_opt, steps, True, between, dtype)
    for a, b in zip(eager[0], compiled[0], strict=True):
        assert np.array_equal(a, b), (a, b)
    for a, b in zip(snapshot(*eager[1:3]), snapshot(*compiled[1:3]), strict=True):
        assert np.array_equal(a, b), (a, b)
    source = compiled[3].source
    assert source is not None
    return str(source)


SGD_OPTIONS = [
    {},
    {"momentum": 0.9},
    {"momentum": 0.9, "dampening": 0.3},
    {"momentum": 0.9, "nesterov": True},
    {"weight_decay": 0.01},
    {"momentum": 0.5, "weight_decay": 0.01, "nesterov": True},
    {"maximize": True},
    {"momentum": 0.9, "maximize": True, "weight_decay": 0.1},
]


@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
def test_sgd_written_out_gives_the_eager_bits(options: dict[str, Any]) -> None:
    source = assert_same_as_eager(lambda ps: optim.SGD(ps, lr=0.1, **options))
    assert "sgd.step()" in source and "s0 += -lr * g" in source  # (written out, and kept)


def test_sgd_written_out_in_float64() -> None:
    assert_same_as_eager(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), dtype=mt.float64)


ADAM_OPTIONS = [
    {},
    {"betas": (0.8, 0.99), "eps": 1e-6},
    {"weight_decay": 0.01},
    {"weight_decay": 0.01, "decoupled_weight_decay": True},
    {"maximize": True},
    {"betas": (0.0, 0.0)},  # (lerp from the other end; value 1 in addcmul_)
]


@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adam_written_out_gives_the_eager_bits(options: dict[str, Any]) -> None:
    source = assert_same_as_eager(lambda ps: optim.Adam(ps, lr=0.01, **options))
    assert "lerp_(exp_avg._data" in source


def test_adamw_written_out_gives_the_eager_bits() -> None:
    assert_same_as_eager(lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1))


def test_parameter_groups_each_with_their_own_numbers() -> None:
    def make(ps: list[nn.Parameter]) -> optim.Optimizer:
        return optim.SGD([{"params": ps[:2], "lr": 0.3}, {"params": ps[2:]}], lr=0.05,
                         momentum=0.9)
    assert "sgd_group1" in assert_same_as_eager(make)


def test_a_learning_rate_changed_between_calls_is_read_at_each_call() -> None:
    def schedule(i: int, model: nn.Module, opt: optim.Optimizer) -> None:
        for group in opt.param_groups:
            group["lr"] = 0.1 / (1 + i)
            if "betas" in group:
                group["betas"] = (0.9 - 0.01 * i, 0.999)
    assert_same_as_eager(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), between=schedule)
    assert_same_as_eager(lambda ps: optim.Adam(ps, lr=0.1), between=schedule)


def test_an_lr_scheduler_stepping_outside_the_step_applies() -> None:
    scheds: list[Any] = []

    def make(ps: list[nn.Parameter]) -> optim.Optimizer:
        opt = optim.SGD(ps, lr=0.2, momentum=0.9)
        scheds.append(optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5))
        return opt

    def between(i: int, model: nn.Module, opt: optim.Optimizer) -> None:
        if i:
            scheds[-1].step()
    assert_same_as_eager(make, between=between)


def test_changes_to_the_optimizer_fall_back_to_its_own_methods() -> None:
    """Each change makes the replay call zero_grad() and step() themselves (not as recorded):
    a state reset (the momentum buffer is created again), momentum switched on, a parameter
    group added, a step hook registered."""
    calls: list[int] = []

    def between(i: int, model: nn.Module, opt: optim.Optimizer) -> None:
        if i == 5:
            opt.state.clear()
        if i == 9:
            for group in opt.param_groups:
                group["momentum"] = 0.5
        if i == 13:
            extra = nn.Parameter(mt.ones(2))
            extra.grad = mt.ones(2)
            opt.add_param_group({"params": [extra]})
        if i == 17:
            opt.register_step_post_hook(lambda o, a, k: calls.append(i))
        if i == 20:
            for group in opt.param_groups:
                group["lr"] = np.float32(0.05)  # (a NumPy number: the step's own arithmetic)
    assert_same_as_eager(lambda ps: optim.SGD(ps, lr=0.1), steps=24, between=between)
    assert len(calls) == 2 * 7  # (eager and compiled: each of calls 17..23 ran the hook)


def test_an_adam_state_loaded_from_a_state_dict_is_used() -> None:
    saved: list[Any] = []

    def between(i: int, model: nn.Module, opt: optim.Optimizer) -> None:
        if i == 4:
            saved.append(opt.state_dict())
        if i == 8:
            opt.load_state_dict(saved[-1])
    assert_same_as_eager(lambda ps: optim.Adam(ps, lr=0.05), steps=14, between=between)


def test_a_parameter_without_a_gradient_keeps_the_optimizer_call() -> None:
    mt.manual_seed(0)
    used, unused = nn.Linear(2, 1), nn.Linear(2, 1)
    opt = optim.SGD([*used.parameters(), *unused.parameters()], lr=0.1)

    @mt.compile
    def step(x: mt.Tensor) -> mt.Tensor:
        opt.zero_grad()
        loss = used(x).sum()
        loss.backward()
        opt.step()
        return loss

    for _ in range(3):
        step(mt.ones(4, 2))
    assert step.source is not None and "sgd.step()" in step.source
    assert "sgd_as_recorded" not in step.source


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, fused=True),
                                  lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True),
                                  lambda ps: optim.RMSprop(ps, lr=0.01)],
                         ids=["fused SGD", "amsgrad", "RMSprop"])
def test_other_rules_call_the_optimizer(make: MakeOpt) -> None:
    source = assert_same_as_eager(make, steps=8)
    assert "_as_recorded" not in source
