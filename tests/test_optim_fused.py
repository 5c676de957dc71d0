"""``fused=True`` and ``foreach=True`` on SGD, Adam, AdamW and RMSprop: the same numbers as the
single-tensor update (bit for bit: the same NumPy operations in the same order), the same state
dicts, PyTorch's flags, errors and results (where installed), and what happens when parameters
or state are replaced between steps."""

from __future__ import annotations

import copy
import inspect
import re

import numpy as np
import pytest
from test_optim import CONFIGS, IDS, make_problem, run_microtensor, run_torch

import microtensor as mt
from microtensor import nn, optim
from microtensor.optim import flat

FLAT_NAMES = ("SGD", "Adam", "AdamW", "RMSprop")
FLAT_CONFIGS = [(name, opts) for name, opts in CONFIGS if name in FLAT_NAMES]
FLAT_IDS = [i for (name, _), i in zip(CONFIGS, IDS, strict=True) if name in FLAT_NAMES]
FLAGS = [{"fused": True}, {"foreach": True}]
FLAG_IDS = ["fused", "foreach"]

# A few configurations of each optimizer for the MLP runs: plain, and every option at once.
MLP_CONFIGS = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.02, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01,
             "maximize": False}),
    ("SGD", {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "betas": (0.8, 0.95)}),
    ("RMSprop", {"lr": 0.005}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.5, "weight_decay": 0.01}),
]
MLP_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in opts.items())}" for name, opts in MLP_CONFIGS]


def make_mlp(dtype, seed=0):
    mt.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 8), nn.ReLU(),
                         nn.Linear(8, 3)).to(dtype)


def mlp_data(dtype, seed=1):
    rng = np.random.default_rng(seed)
    return (mt.tensor(rng.normal(size=(32, 6)), dtype=dtype),
            mt.tensor(rng.normal(size=(32, 3)), dtype=dtype))


def train(model, opt, x, y, steps):
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def params_of(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def assert_state_dicts_equal(got, want, flags=()):
    """Same state (keys, values bit for bit, step as a Python int) and same group options,
    except the flags named."""
    assert got["state"].keys() == want["state"].keys()
    for key, values in want["state"].items():
        mine = got["state"][key]
        assert list(mine) == list(values), key
        for name, value in values.items():
            if name == "step":
                assert type(mine[name]) is int and mine[name] == value
            else:
                assert mine[name].dtype == value.dtype
                np.testing.assert_array_equal(mine[name].numpy(), value.numpy(),
                                              err_msg=f"{key} {name}")
    for g_got, g_want in zip(got["param_groups"], want["param_groups"], strict=True):
        assert {k: v for k, v in g_got.items() if k not in flags} == \
            {k: v for k, v in g_want.items() if k not in flags}


# ----------------------------------------------------------------------------------------------
# The same numbers as the single-tensor update
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("flag", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize("dtype", [mt.float32, mt.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(("name", "opts"), MLP_CONFIGS, ids=MLP_IDS)
def test_50_steps_of_an_mlp_equal_the_single_tensor_update(name, opts, dtype, flag):
    x, y = mlp_data(dtype)
    runs = []
    for flags in ({}, flag):
        model = make_mlp(dtype)
        opt = getattr(optim, name)(model.parameters(), **opts, **flags)
        losses = train(model, opt, x, y, 50)
        runs.append((losses, params_of(model), opt.state_dict()))
    (want_losses, want_params, want_sd), (losses, params, sd) = runs
    assert losses == want_losses  # bit for bit: the same NumPy operations in the same order
    for got, want in zip(params, want_params, strict=True):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
    assert_state_dicts_equal(sd, want_sd, flags=flag.keys())
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("flag", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize(("name", "opts"), FLAT_CONFIGS, ids=FLAT_IDS)
def test_parameters_without_gradient_are_skipped_as_in_the_single_tensor_update(name, opts,
                                                                                  flag):
    """test_optim's problem: a parameter without gradients in the first three steps, another
    without in steps 4 and 5 (so their step counts differ: per-element bias corrections)."""
    p0, grads = make_problem()
    want = run_microtensor(name, opts, p0, grads)
    got = run_microtensor(name, {**opts, **flag}, p0, grads)
    for g_step, w_step in zip(got, want, strict=True):
        for g, w in zip(g_step, w_step, strict=True):
            np.testing.assert_array_equal(g, w)
    for step in got[:3]:
        np.testing.assert_array_equal(step[2], p0[2])


def test_different_step_counts_in_one_bucket_take_the_flat_path():
    """Adam's bias corrections become one number per element when the step counts differ; the
    update stays on the flat buffers (not one parameter at a time) and equal to unfused."""
    a0, b0 = np.array([1.0, -2.0, 3.0]), np.array([[0.5, 0.25], [-1.0, 2.0]])
    runs = []
    for flags in ({}, {"fused": True}):
        a = mt.tensor(a0, requires_grad=True)
        b = mt.tensor(b0, requires_grad=True)
        opt = optim.Adam([a, b], lr=0.1, **flags)
        b.grad = mt.tensor(b0 * 0.3)
        opt.step()  # only b has a gradient: one parameter at a time
        for i in range(3):
            a.grad = mt.tensor(a0 * (i - 0.5))
            b.grad = mt.tensor(b0 * (0.7 - i))
            opt.step()
        runs.append((a.detach().numpy().copy(), b.detach().numpy().copy(), opt))
    (a_want, b_want, unfused), (a_got, b_got, fused) = runs
    np.testing.assert_array_equal(a_got, a_want)
    np.testing.assert_array_equal(b_got, b_want)
    assert [st["step"] for st in fused.state.values()] == [4, 3]
    bucket = fused._flat[id(fused.param_groups[0])].buckets[0]
    assert bucket.state["exp_avg"].size == 7  # both parameters' exp_avg live in one buffer
    for p in fused.param_groups[0]["params"]:
        assert np.shares_memory(fused.state[p]["exp_avg"].numpy(), bucket.state["exp_avg"])


@pytest.mark.parametrize("flag", FLAGS, ids=FLAG_IDS)
def test_frozen_and_integer_parameters_stay_out_of_the_buffers(flag):
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    frozen = mt.tensor([5.0, 6.0])
    count = mt.tensor([1, 2])  # an int64 tensor without gradient: accepted, skipped
    opt = optim.SGD([w, frozen, count], lr=0.5, **flag)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(frozen.numpy(), [5.0, 6.0])
    np.testing.assert_array_equal(count.numpy(), [1, 2])
    layout = opt._flat[id(opt.param_groups[0])]
    (bucket,) = layout.buckets
    assert len(bucket.params) == 1 and bucket.params[0] is w
    assert len(layout.others) == 2 and layout.others[0] is frozen and layout.others[1] is count


@pytest.mark.parametrize("flag", FLAGS, ids=FLAG_IDS)
def test_freezing_and_unfreezing_a_layer_lays_the_group_out_again(flag):
    x, y = mlp_data(mt.float32)
    runs = []
    for flags in ({}, flag):
        model = make_mlp(mt.float32)
        opt = optim.Adam(model.parameters(), lr=0.01, **flags)
        train(model, opt, x, y, 2)
        model[0].requires_grad_(False)
        train(model, opt, x, y, 3)
        model[0].requires_grad_(True)
        train(model, opt, x, y, 3)
        runs.append((params_of(model), opt))
    for got, want in zip(runs[1][0], runs[0][0], strict=True):
        np.testing.assert_array_equal(got, want)
    opt = runs[1][1]
    (bucket,) = opt._flat[id(opt.param_groups[0])].buckets  # all six parameters again
    assert len(bucket.params) == 6 and not opt._flat[id(opt.param_groups[0])].others
    assert [st["step"] for st in opt.state.values()] == [5, 5, 8, 8, 8, 8]


def test_one_buffer_per_dtype():
    a = mt.ones(3, requires_grad=True)
    b = mt.ones(2, dtype=mt.float64, requires_grad=True)
    c = mt.ones((2, 2), requires_grad=True)
    opt = optim.Adam([a, b, c], lr=0.1, fused=True)
    buckets = opt._flat[id(opt.param_groups[0])].buckets
    assert [(bk.dtype, bk.values.size) for bk in buckets] == [(np.float32, 7), (np.float64, 2)]
    for p in (a, b, c):
        p.grad = mt.ones_like(p)
    opt.step()
    for p in (a, b, c):
        assert p.dtype == (np.float64 if p is b else np.float32)
        np.testing.assert_allclose(p.detach().numpy(), 0.9, rtol=1e-6)


# ----------------------------------------------------------------------------------------------
# The flat layout
# ----------------------------------------------------------------------------------------------

def test_fused_parameters_are_views_of_one_buffer_from_creation():
    model = make_mlp(mt.float32)
    before = params_of(model)
    opt = optim.Adam(model.parameters(), lr=0.01, fused=True)
    (bucket,) = opt._flat[id(opt.param_groups[0])].buckets
    assert bucket.values.size == sum(p.numel() for p in model.parameters())
    for p, old in zip(model.parameters(), before, strict=True):
        assert p.detach().numpy().base is bucket.values
        np.testing.assert_array_equal(p.detach().numpy(), old)  # the same values
    alias = model[0].weight.detach().numpy()  # taken after creation: stays the parameter's
    x, y = mlp_data(mt.float32)
    train(model, opt, x, y, 2)
    assert alias is model[0].weight.detach().numpy()
    assert not np.array_equal(alias, before[0])


def test_foreach_leaves_the_parameters_arrays_in_place():
    model = make_mlp(mt.float32)
    arrays = [p.detach().numpy() for p in model.parameters()]
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, foreach=True)
    x, y = mlp_data(mt.float32)
    train(model, opt, x, y, 3)
    for p, arr in zip(model.parameters(), arrays, strict=True):
        assert p.detach().numpy() is arr
    bucket = opt._flat[id(opt.param_groups[0])].buckets[0]
    buf = opt.state[model[0].weight]["momentum_buffer"].numpy()
    assert np.shares_memory(buf, bucket.state["momentum_buffer"])  # the state is flat


@pytest.mark.parametrize("flag", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize("name", FLAT_NAMES)
def test_step_bumps_the_version_so_a_saved_parameter_raises_at_backward(name, flag):
    w = mt.tensor([2.0, 3.0], requires_grad=True)
    opt = getattr(optim, name)([w], **flag)
    y = (w * w).sum()
    w.grad = mt.ones(2)
    version = w._version
    opt.step()
    assert w._version > version
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_step_hooks_and_closure_run():
    model = make_mlp(mt.float32)
    opt = optim.Adam(model.parameters(), lr=0.01, fused=True)
    x, y = mlp_data(mt.float32)
    seen = []
    opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", len(args))))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", len(args))))

    def closure():
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        return loss

    first = opt.step(closure)
    second = opt.step(closure)
    assert seen == [("pre", 2), ("post", 2)] * 2
    assert second.item() < first.item()


def test_zero_grad_to_zeros_and_accumulated_gradients():
    x, y = mlp_data(mt.float64)
    runs = []
    for flags in ({}, {"fused": True}):
        model = make_mlp(mt.float64)
        opt = optim.RMSprop(model.parameters(), lr=0.01, momentum=0.5, **flags)
        for _ in range(4):
            opt.zero_grad(set_to_none=False)
            for half in (x[:16], x[16:]):  # two backward passes accumulate
                ((model(half) - y[:16]) ** 2).mean().backward()
            opt.step()
        runs.append(params_of(model))
    for got, want in zip(runs[1], runs[0], strict=True):
        np.testing.assert_array_equal(got, want)


# ----------------------------------------------------------------------------------------------
# State dicts, loading, replaced parameters, copies
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("flag", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize(("name", "opts"), MLP_CONFIGS, ids=MLP_IDS)
def test_load_state_dict_across_flat_and_single_tensor_both_ways(name, opts, flag):
    """Train 5 steps with one implementation, load its state into an optimizer of the other,
    train 5 more: the same as 10 steps of the single-tensor update (bit for bit)."""
    x, y = mlp_data(mt.float64)
    reference = make_mlp(mt.float64)
    ref_opt = getattr(optim, name)(reference.parameters(), **opts)
    train(reference, ref_opt, x, y, 10)
    for first, second in (({}, flag), (flag, {})):
        model = make_mlp(mt.float64)
        opt = getattr(optim, name)(model.parameters(), **opts, **first)
        train(model, opt, x, y, 5)
        sd = opt.state_dict()
        opt2 = getattr(optim, name)(model.parameters(), **opts, **second)
        opt2.load_state_dict(sd)
        # As PyTorch: the group options, fused and foreach among them, come from the state dict.
        for key in ("fused", "foreach"):
            if key in sd["param_groups"][0]:  # (RMSprop's groups have "fused" only if given)
                assert opt2.param_groups[0][key] == sd["param_groups"][0][key]
        opt2.param_groups[0].update({"fused": None, "foreach": None, **second})
        train(model, opt2, x, y, 5)
        for got, want in zip(params_of(model), params_of(reference), strict=True):
            np.testing.assert_array_equal(got, want)
        assert_state_dicts_equal(opt2.state_dict(), ref_opt.state_dict(),
                                 flags=("fused", "foreach"))


def test_load_state_dict_into_a_fused_optimizer_repins_the_loaded_state():
    x, y = mlp_data(mt.float32)
    model = make_mlp(mt.float32)
    opt = optim.Adam(model.parameters(), lr=0.01, amsgrad=True, fused=True)
    train(model, opt, x, y, 3)
    sd = opt.state_dict()
    opt.load_state_dict(sd)  # the state tensors are now copies, outside the flat buffers
    (bucket,) = opt._flat[id(opt.param_groups[0])].buckets
    w = model[0].weight
    assert not np.shares_memory(opt.state[w]["exp_avg"].numpy(), bucket.state["exp_avg"])
    twin = make_mlp(mt.float32)
    twin_opt = optim.Adam(twin.parameters(), lr=0.01, amsgrad=True)
    train(twin, twin_opt, x, y, 5)
    train(model, opt, x, y, 2)
    for name in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        assert np.shares_memory(opt.state[w][name].numpy(), bucket.state[name])
    for got, want in zip(params_of(model), params_of(twin), strict=True):
        np.testing.assert_array_equal(got, want)


def test_load_state_dict_with_state_for_some_parameters_only():
    """A state dict from a run where one parameter never had a gradient: the first step after
    loading goes one parameter at a time, then the bucket is flat again."""
    a = mt.ones(2, requires_grad=True)
    b = mt.ones(3, requires_grad=True)
    src = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad = mt.ones(2)
    src.step()
    sd = src.state_dict()
    assert list(sd["state"]) == [0]
    runs = []
    for flags in ({}, {"fused": True}):
        p, q = mt.ones(2, requires_grad=True), mt.ones(3, requires_grad=True)
        opt = optim.SGD([p, q], lr=0.1, momentum=0.9, **flags)
        opt.load_state_dict(sd)
        opt.param_groups[0].update(flags)
        for i in range(3):
            p.grad = mt.full((2,), 0.5 + i)
            q.grad = mt.full((3,), 1.5 - i)
            opt.step()
        runs.append((p.detach().numpy().copy(), q.detach().numpy().copy(), opt))
    np.testing.assert_array_equal(runs[1][0], runs[0][0])
    np.testing.assert_array_equal(runs[1][1], runs[0][1])
    fused = runs[1][2]
    bucket = fused._flat[id(fused.param_groups[0])].buckets[0]
    for p in fused.param_groups[0]["params"]:
        assert np.shares_memory(fused.state[p]["momentum_buffer"].numpy(),
                                bucket.state["momentum_buffer"])


def test_module_load_state_dict_after_creating_a_fused_optimizer():
    """Module.load_state_dict copies into the parameters in place: they stay in the buffer."""
    x, y = mlp_data(mt.float32)
    source = make_mlp(mt.float32, seed=5)
    runs = []
    for flags in ({}, {"fused": True}):
        model = make_mlp(mt.float32)
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, **flags)
        train(model, opt, x, y, 2)
        model.load_state_dict(source.state_dict())
        train(model, opt, x, y, 3)
        runs.append(params_of(model))
    for got, want in zip(runs[1], runs[0], strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("flag", FLAGS, ids=FLAG_IDS)
def test_a_parameter_replaced_through_data_is_repinned(flag):
    """p.data = t (same shape and dtype): the next step takes t's values (a fused optimizer
    copies them into its buffer and makes p a view of it again) and gives unfused's numbers."""
    x, y = mlp_data(mt.float64)
    runs = []
    for flags in ({}, flag):
        model = make_mlp(mt.float64)
        opt = optim.Adam(model.parameters(), lr=0.01, **flags)
        train(model, opt, x, y, 2)
        model[2].weight.data = mt.full((8, 16), 0.1, dtype=mt.float64)
        train(model, opt, x, y, 3)
        runs.append((params_of(model), model, opt))
    for got, want in zip(runs[1][0], runs[0][0], strict=True):
        np.testing.assert_array_equal(got, want)
    model, opt = runs[1][1], runs[1][2]
    if "fused" in flag:
        (bucket,) = opt._flat[id(opt.param_groups[0])].buckets
        assert model[2].weight.detach().numpy().base is bucket.values


@pytest.mark.parametrize("flag", FLAGS, ids=FLAG_IDS)
def test_a_parameter_whose_shape_or_dtype_changed_is_an_error(flag):
    a = mt.ones(2, requires_grad=True)
    b = mt.ones(16, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1, **flag)
    a.grad, b.grad = mt.ones(2), mt.ones(16)
    opt.step()
    b.data = mt.zeros(17)
    b.grad = mt.ones(17)
    mode = "fused" if "fused" in flag else "foreach"
    with pytest.raises(RuntimeError, match=re.escape(
            f"parameter 1 of group 0 changed from shape (16,) and dtype float32 to (17,) and "
            f"float32 after the {mode}=True optimizer laid it out: create the optimizer again")):
        opt.step()
    model = make_mlp(mt.float32)
    opt = optim.SGD(model.parameters(), lr=0.1, **flag)
    x, y = mlp_data(mt.float32)
    train(model, opt, x, y, 1)
    model.double()
    x64, y64 = mlp_data(mt.float64)
    with pytest.raises(RuntimeError, match="parameter 0 of group 0 changed from shape "
                                           r"\(16, 6\) and dtype float32 to \(16, 6\) and float64"):
        train(model, opt, x64, y64, 1)


def test_parameters_sharing_memory_are_refused():
    a = mt.zeros(4, requires_grad=True)
    b = mt.zeros(4, requires_grad=True)
    b.data = a.data  # tied through .data: two parameters, one array
    message = ("fused=True and foreach=True need parameters that do not share memory, but "
               "parameter 0 of group 0 and parameter 1 of group 0 do")
    with pytest.raises(RuntimeError, match=message):
        optim.SGD([a, b], lr=0.1, fused=True)
    opt = optim.SGD([a, b], lr=0.1, foreach=True)
    a.grad = b.grad = mt.ones(4)
    with pytest.raises(RuntimeError, match=message):
        opt.step()
    base = mt.zeros(6)
    c = mt.zeros(2, requires_grad=True)
    c.data = base[1:3]
    d = mt.zeros(2, requires_grad=True)
    d.data = base[2:4]  # overlapping views
    with pytest.raises(RuntimeError, match="parameter 0 of group 1 and parameter 0 of group 2"):
        optim.Adam([{"params": [mt.ones(1, requires_grad=True)]}, {"params": [c]},
                    {"params": [d]}], fused=True)
    e = mt.zeros(2, requires_grad=True)
    e.data = base[::2][:2]  # interleaved with f: spans overlap, memory does not
    f = mt.zeros(2, requires_grad=True)
    f.data = base[1::2][:2]
    optim.Adam([e, f], fused=True)


def test_a_parameter_tied_to_another_after_creation_is_refused():
    a = mt.zeros(3, requires_grad=True)
    b = mt.zeros(3, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1, fused=True)
    b.data = a.data
    a.grad = b.grad = mt.ones(3)
    with pytest.raises(RuntimeError, match="parameter 1 of group 0 of a fused optimizer now "
                                           "shares memory with another parameter"):
        opt.step()


def test_a_deep_copy_of_model_and_optimizer_trains_on_its_own():
    """As diagnose's probe does: copy.deepcopy((model, opt)) gives parameters that are arrays of
    their own; the copy lays them out again and trains like the original, which it leaves."""
    x, y = mlp_data(mt.float32)
    model = make_mlp(mt.float32)
    opt = optim.Adam(model.parameters(), lr=0.01, fused=True)
    train(model, opt, x, y, 2)
    before = params_of(model)
    m2, opt2 = copy.deepcopy((model, opt))
    train(m2, opt2, x, y, 3)
    for got, want in zip(params_of(model), before, strict=True):
        np.testing.assert_array_equal(got, want)
    train(model, opt, x, y, 3)
    for got, want in zip(params_of(m2), params_of(model), strict=True):
        np.testing.assert_array_equal(got, want)
    (bucket,) = opt2._flat[id(opt2.param_groups[0])].buckets
    assert m2[0].weight.detach().numpy().base is bucket.values


def test_state_dict_is_a_snapshot_and_saves():
    model = make_mlp(mt.float32)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, fused=True)
    x, y = mlp_data(mt.float32)
    train(model, opt, x, y, 2)
    sd = opt.state_dict()
    saved = sd["state"][0]["momentum_buffer"].numpy().copy()
    train(model, opt, x, y, 1)
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"].numpy(), saved)
    assert sd["param_groups"][0]["fused"] is True and sd["param_groups"][0]["foreach"] is None


def test_save_and_load_a_fused_optimizer(tmp_path):
    x, y = mlp_data(mt.float32)
    model = make_mlp(mt.float32)
    opt = optim.AdamW(model.parameters(), lr=0.01, fused=True)
    train(model, opt, x, y, 2)
    mt.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "ckpt.npz")
    train(model, opt, x, y, 2)
    model2 = make_mlp(mt.float32, seed=3)
    opt2 = optim.AdamW(model2.parameters(), lr=0.01, fused=True)
    ckpt = mt.load(tmp_path / "ckpt.npz")
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["opt"])
    train(model2, opt2, x, y, 2)
    for got, want in zip(params_of(model2), params_of(model), strict=True):
        np.testing.assert_array_equal(got, want)


# ----------------------------------------------------------------------------------------------
# Flags and errors, as PyTorch's
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FLAT_NAMES)
def test_fused_and_foreach_together_are_an_error(name):
    w = mt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^`fused` and `foreach` cannot be `True` together\.$"):
        getattr(optim, name)([w], fused=True, foreach=True)
    opt = getattr(optim, name)([w])
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        opt.add_param_group({"params": [mt.ones(1, requires_grad=True)], "fused": True,
                             "foreach": True})
    getattr(optim, name)([w], fused=False, foreach=True)  # False and True: fine


@pytest.mark.parametrize("name", FLAT_NAMES)
def test_fused_with_an_integer_parameter_that_has_a_gradient_is_an_error(name):
    w = mt.ones(2, requires_grad=True)
    count = mt.tensor([1, 2])
    opt = getattr(optim, name)([w, count], fused=True)  # accepted when created, as in PyTorch
    w.grad = mt.ones(2)
    opt.step()  # count has no gradient: skipped
    count.grad = mt.tensor([1, 1])
    before = w.detach().numpy().copy()
    with pytest.raises(RuntimeError, match=re.escape(
            "`fused=True` requires all the params to be floating point Tensors of supported "
            "devices: ['cpu'] but int64 and cpu")):
        opt.step()
    np.testing.assert_array_equal(w.detach().numpy(), before)  # raised before any update


def test_one_group_fused_another_not():
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = mt.tensor([3.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "fused": True}], lr=0.5, momentum=0.5)
    assert [g["fused"] for g in opt.param_groups] == [None, True]
    assert list(opt._flat) == [id(opt.param_groups[1])]
    for _ in range(2):
        a.grad, b.grad = mt.ones(2), mt.ones(1)
        opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [1.0 - 0.5 - 0.75, 2.0 - 0.5 - 0.75])
    np.testing.assert_allclose(b.detach().numpy(), [3.0 - 0.5 - 0.75])


def test_rmsprop_fused_is_an_extension_with_its_own_group_key():
    w = mt.ones(2, requires_grad=True)
    assert "fused" not in optim.RMSprop([w]).defaults  # as PyTorch's RMSprop
    assert optim.RMSprop([w], fused=True).param_groups[0]["fused"] is True
    assert optim.RMSprop([w], foreach=True).param_groups[0]["foreach"] is True


@pytest.mark.parametrize("name", ["Rprop", "Adagrad"])
def test_optimizers_without_the_flags_refuse_them(name):
    with pytest.raises(TypeError, match="unexpected keyword argument 'fused'"):
        getattr(optim, name)([mt.ones(1, requires_grad=True)], fused=True)


def test_flags_and_defaults_match_pytorch(torch):
    for name in FLAT_NAMES:
        mine = inspect.signature(getattr(optim, name)).parameters
        theirs = inspect.signature(getattr(torch.optim, name)).parameters
        for flag in ("foreach", "fused"):
            if flag in theirs:
                assert mine[flag].default is theirs[flag].default is None
                assert mine[flag].kind == inspect.Parameter.KEYWORD_ONLY
        w = mt.ones(1, requires_grad=True)
        t = torch.ones(1, requires_grad=True)
        groups = getattr(optim, name)([w], fused=True).param_groups[0]
        if name != "RMSprop":
            theirs_groups = getattr(torch.optim, name)([t], fused=True).param_groups[0]
            assert groups["fused"] is theirs_groups["fused"] is True
            assert groups["foreach"] is theirs_groups["foreach"] is None
    with pytest.raises(TypeError):
        torch.optim.RMSprop([torch.ones(1, requires_grad=True)], fused=True)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("flag", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize(("name", "opts"), FLAT_CONFIGS, ids=FLAT_IDS)
def test_matches_pytorch_fused_and_foreach(torch, name, opts, flag, dtype):
    """Against PyTorch's own fused (or foreach) implementation. Its RMSprop has no fused, so ours
    is compared with its foreach; so is SGD with momentum, whose fused step in PyTorch 2.13
    raises a TypeError ("expected Tensor as element 1 in argument 2, but got NoneType") on this
    problem, where a parameter gets its first gradient after the others have a momentum buffer
    (microtensor's gives the single-tensor numbers: see the test above)."""
    p0, grads = make_problem()
    theirs_flag = flag
    if name == "RMSprop" or (name == "SGD" and opts.get("momentum")):
        theirs_flag = {"foreach": True}
    got = run_microtensor(name, {**opts, **flag}, p0, grads, dtype=getattr(mt, dtype))
    want = run_torch(torch, name, {**opts, **theirs_flag}, p0, grads, getattr(torch, dtype))
    rtol, atol = (1e-5, 1e-6) if dtype == "float32" else (1e-12, 1e-14)
    for step, (g_step, w_step) in enumerate(zip(got, want, strict=True)):
        for i, (g, w) in enumerate(zip(g_step, w_step, strict=True)):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol,
                                       err_msg=f"step {step + 1}, parameter {i}")


@pytest.mark.parametrize("flag", FLAGS, ids=FLAG_IDS)
@pytest.mark.parametrize(("name", "opts"), MLP_CONFIGS, ids=MLP_IDS)
def test_50_mlp_steps_match_pytorch_fused_and_foreach(torch, name, opts, flag):
    """The same MLP and data in both libraries (float64), PyTorch's fused or foreach step."""
    x, y = mlp_data(mt.float64)
    model = make_mlp(mt.float64)
    tmodel = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 8),
                                 torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    with torch.no_grad():
        for q, p in zip(tmodel.parameters(), model.parameters(), strict=True):
            q.copy_(torch.from_numpy(p.detach().numpy()))
    theirs_flag = {"foreach": True} if name == "RMSprop" else flag
    opt = getattr(optim, name)(model.parameters(), **opts, **flag)
    topt = getattr(torch.optim, name)(tmodel.parameters(), **opts, **theirs_flag)
    losses = train(model, opt, x, y, 50)
    tx, ty = torch.from_numpy(x.numpy()), torch.from_numpy(y.numpy())
    tlosses = []
    for _ in range(50):
        topt.zero_grad()
        loss = ((tmodel(tx) - ty) ** 2).mean()
        loss.backward()
        topt.step()
        tlosses.append(loss.item())
    np.testing.assert_allclose(losses, tlosses, rtol=1e-10)
    for p, q in zip(model.parameters(), tmodel.parameters(), strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-9,
                                   atol=1e-12)


def test_flat_uses_only_the_public_tensor_api():
    """As test_optim checks for the other optimizer files: no private attributes of Tensor."""
    private = re.compile(r"\._(data|versions|bump_version|grad|make|requires_grad)\b"
                         r"|np\.asarray")
    assert not private.findall(inspect.getsource(flat))
