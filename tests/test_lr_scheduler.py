"""Learning-rate schedulers: lr sequences against closed-form formulas (always) and PyTorch (where
installed), resuming, state dicts, errors and warnings."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import microtensor as mt
from microtensor import optim
from microtensor.optim import lr_scheduler

BASE_LRS = (0.1, 0.02)
EPOCHS = 30


def closed_form(name, kwargs, base, epoch):
    """The lr of a group with starting lr ``base`` at ``epoch``, from the documented formulas."""
    if name == "StepLR":
        return base * kwargs.get("gamma", 0.1) ** (epoch // kwargs["step_size"])
    if name == "MultiStepLR":
        passed = sum(m <= epoch for m in kwargs["milestones"])
        return base * kwargs.get("gamma", 0.1) ** passed
    if name == "ExponentialLR":
        return base * kwargs["gamma"] ** epoch
    if name == "CosineAnnealingLR":
        eta_min, t_max = kwargs.get("eta_min", 0.0), kwargs["T_max"]
        return eta_min + (base - eta_min) * (1 + math.cos(math.pi * epoch / t_max)) / 2
    if name == "LambdaLR":
        return base * kwargs["lr_lambda"](epoch)
    raise AssertionError(name)


SCHEDULES = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("StepLR", {"step_size": 1}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.3}),
    ("MultiStepLR", {"milestones": [4, 20]}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 7}),
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.005}),
    ("CosineAnnealingLR", {"T_max": 1, "eta_min": 0.001}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 1 / (1 + epoch)}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 0.95**epoch * (epoch % 4 + 1)}),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items() if k != 'lr_lambda')}"
       for name, kw in SCHEDULES]


def make_optimizer(lib, name="SGD", **kwargs):
    params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    return getattr(lib.optim, name)([{"params": params[:1], "lr": BASE_LRS[0]},
                                     {"params": params[1:], "lr": BASE_LRS[1]}], **kwargs)


def lr_sequence(scheduler_cls, opt, kwargs, epochs=EPOCHS, change_at=None):
    """The lrs of every group at epochs 0 .. epochs-1 (with the usual call order)."""
    sched = scheduler_cls(opt, **kwargs)
    lrs = [[g["lr"] for g in opt.param_groups]]
    for epoch in range(1, epochs):
        opt.step()
        sched.step()
        if epoch == change_at:
            for g in opt.param_groups:
                g["lr"] *= 0.5
        lrs.append([g["lr"] for g in opt.param_groups])
        assert sched.get_last_lr() == lrs[-1] or epoch == change_at
    return lrs


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES, ids=IDS)
def test_matches_closed_form(name, kwargs):
    opt = make_optimizer(mt)
    lrs = lr_sequence(getattr(lr_scheduler, name), opt, kwargs)
    want = [[closed_form(name, kwargs, base, e) for base in BASE_LRS] for e in range(EPOCHS)]
    np.testing.assert_allclose(lrs, want, rtol=1e-10, atol=1e-15)
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASE_LRS)


@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES, ids=IDS)
def test_matches_pytorch_exactly(name, kwargs, torch):
    mine = lr_sequence(getattr(lr_scheduler, name), make_optimizer(mt), kwargs)
    theirs = lr_sequence(getattr(torch.optim.lr_scheduler, name), make_optimizer(torch), kwargs)
    assert mine == theirs


@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES, ids=IDS)
def test_follows_a_manual_lr_change_like_pytorch(name, kwargs, torch):
    """Recursive schedules (StepLR, CosineAnnealingLR, ...) continue from the changed lr."""
    mine = lr_sequence(getattr(lr_scheduler, name), make_optimizer(mt), kwargs, change_at=5)
    theirs = lr_sequence(getattr(torch.optim.lr_scheduler, name), make_optimizer(torch), kwargs,
                         change_at=5)
    np.testing.assert_allclose(mine, theirs, rtol=1e-14, atol=1e-17)


def test_cosine_recursion_is_close_to_the_closed_form_over_several_periods():
    opt = make_optimizer(mt)
    kwargs = {"T_max": 4, "eta_min": 0.01}
    lrs = lr_sequence(lr_scheduler.CosineAnnealingLR, opt, kwargs, epochs=41)
    want = [[closed_form("CosineAnnealingLR", kwargs, b, e) for b in BASE_LRS] for e in range(41)]
    np.testing.assert_allclose(lrs, want, rtol=1e-9)
    assert lrs[4][0] == pytest.approx(0.01) and lrs[8][0] == pytest.approx(0.1)


def test_lambda_per_group():
    opt = make_optimizer(mt)
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 0.5**e, lambda e: 1.0 + e])
    for _ in range(3):
        opt.step()
        sched.step()
    assert sched.get_last_lr() == pytest.approx([0.1 * 0.125, 0.02 * 4])
    assert sched.base_lrs == list(BASE_LRS)


def test_updates_use_the_scheduled_lr():
    """SGD with StepLR and a constant gradient 1: w after n epochs = -sum of the lrs used."""
    w = mt.zeros(1, dtype=mt.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.4)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(7):
        w.grad = mt.ones(1, dtype=mt.float64)
        opt.step()
        sched.step()
    used = [0.4 * 0.5 ** (e // 2) for e in range(7)]
    np.testing.assert_allclose(w.detach().numpy(), [-sum(used)], rtol=1e-14)


# ----------------------------------------------------------------------------------------------
# Resuming and state dicts
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES, ids=IDS)
def test_state_dict_round_trip_continues_exactly(name, kwargs):
    cls = getattr(lr_scheduler, name)
    opt = make_optimizer(mt)
    sched = cls(opt, **kwargs)
    for _ in range(6):
        opt.step()
        sched.step()
    opt_sd, sched_sd = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in sched_sd and sched_sd["last_epoch"] == 6
    opt2 = make_optimizer(mt)
    sched2 = cls(opt2, **kwargs)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    for _ in range(10):
        opt.step()
        sched.step()
        opt2.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert [g["lr"] for g in opt2.param_groups] == sched.get_last_lr()
    assert sched2.last_epoch == sched.last_epoch == 16


def test_state_dict_is_plain_data_and_goes_through_save_and_load(tmp_path):
    opt = make_optimizer(mt)
    sched = lr_scheduler.MultiStepLR(opt, milestones=[2, 2, 5])
    for _ in range(3):
        opt.step()
        sched.step()
    sd = sched.state_dict()
    assert sd["milestones"] == {2: 2, 5: 1} and type(sd["milestones"]) is dict
    path = tmp_path / "sched.npz"
    mt.save(sd, path)
    sched2 = lr_scheduler.MultiStepLR(make_optimizer(mt), milestones=[1])
    sched2.load_state_dict(mt.load(path))
    assert sched2.milestones == {2: 2, 5: 1} and sched2.last_epoch == 3
    assert sched2.get_last_lr() == pytest.approx([0.1 * 0.01, 0.02 * 0.01])


def test_lambda_state_dict_saves_callable_objects_not_functions():
    class Warmup:
        def __init__(self, epochs):
            self.epochs = epochs

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.epochs)

    opt = make_optimizer(mt)
    sched = lr_scheduler.LambdaLR(opt, [Warmup(4), lambda e: 1.0])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"epochs": 4}, None]
    fresh = Warmup(100)
    sched2 = lr_scheduler.LambdaLR(make_optimizer(mt), [fresh, lambda e: 1.0])
    sched2.load_state_dict(sd)
    assert fresh.epochs == 4 and callable(sched2.lr_lambdas[1])


def test_resume_with_last_epoch_matches_pytorch(torch):
    def run(lib):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.001)
        for _ in range(3):
            opt.step()
            sched.step()
        resumed = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.001,
                                                           last_epoch=3)
        out = [resumed.get_last_lr()]
        for _ in range(6):
            opt.step()
            resumed.step()
            out.append(resumed.get_last_lr())
        return out

    np.testing.assert_allclose(run(mt), run(torch), rtol=1e-14)


# ----------------------------------------------------------------------------------------------
# Errors and warnings
# ----------------------------------------------------------------------------------------------

def test_errors():
    opt = make_optimizer(mt)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.StepLR([], step_size=2)
    with pytest.raises(KeyError, match=r"'initial_lr' is not specified in param_groups\[0\]"):
        lr_scheduler.ExponentialLR(opt, gamma=0.9, last_epoch=3)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="step_size must be a positive integer, but got 0"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max must be positive, but got 0"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)


def test_warns_when_called_before_optimizer_step():
    opt = make_optimizer(mt)
    sched = lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_no_warning_in_the_usual_order():
    opt = make_optimizer(mt)
    sched = lr_scheduler.StepLR(opt, step_size=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            opt.step()
            sched.step()


def test_step_with_epoch_is_deprecated_and_uses_the_closed_form():
    opt = make_optimizer(mt)
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    opt.step()
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(7)
    assert sched.last_epoch == 7
    assert sched.get_last_lr() == pytest.approx([0.1 * 0.25, 0.02 * 0.25])
