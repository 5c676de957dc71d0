"""Optimizers: every update rule against written-out NumPy formulas (always) and PyTorch
(where installed), state dicts, param groups, zero_grad, closures and error messages."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import microtensor as mt
from microtensor import optim
from microtensor.optim import adagrad, adam, flat, optimizer, rmsprop, rprop, sgd

# ----------------------------------------------------------------------------------------------
# Reference update rules, written out from the algorithm boxes of PyTorch's documentation.
# Each takes one parameter's initial value and its gradient at every step (None: no gradient,
# the step is skipped for that parameter) and returns the parameter after every step, in float64.
# ----------------------------------------------------------------------------------------------


def ref_sgd(theta, grads, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
            nesterov=False, maximize=False):
    theta, out, b, t = theta.copy(), [], None, 0
    for grad in grads:
        if grad is not None:
            t += 1
            g = -grad if maximize else grad
            if weight_decay != 0:
                g = g + weight_decay * theta
            if momentum != 0:
                b = g if t == 1 else momentum * b + (1 - dampening) * g
                g = g + momentum * b if nesterov else b
            theta = theta - lr * g
        out.append(theta)
    return out


def ref_adam(theta, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
             amsgrad=False, maximize=False, decoupled=False):
    beta1, beta2 = betas
    theta, out, t = theta.copy(), [], 0
    m = v = v_max = np.zeros_like(theta)
    for grad in grads:
        if grad is not None:
            t += 1
            g = -grad if maximize else grad
            if decoupled:
                theta = theta - lr * weight_decay * theta
            elif weight_decay != 0:
                g = g + weight_decay * theta
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g**2
            m_hat = m / (1 - beta1**t)
            if amsgrad:
                v_max = np.maximum(v_max, v)
                v_hat = v_max / (1 - beta2**t)
            else:
                v_hat = v / (1 - beta2**t)
            theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(theta)
    return out


def ref_adamw(theta, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
              amsgrad=False, maximize=False):
    return ref_adam(theta, grads, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=True)


def ref_rmsprop(theta, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False):
    theta, out = theta.copy(), []
    v = g_ave = b = np.zeros_like(theta)
    for grad in grads:
        if grad is not None:
            g = -grad if maximize else grad
            if weight_decay != 0:
                g = g + weight_decay * theta
            v = alpha * v + (1 - alpha) * g**2
            v_tilde = v
            if centered:
                g_ave = alpha * g_ave + (1 - alpha) * g
                v_tilde = v_tilde - g_ave**2
            if momentum > 0:
                b = momentum * b + g / (np.sqrt(v_tilde) + eps)
                theta = theta - lr * b
            else:
                theta = theta - lr * g / (np.sqrt(v_tilde) + eps)
        out.append(theta)
    return out


def ref_rprop(theta, grads, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
    # One coordinate at a time, exactly as the documented loop over i = 0 .. d-1.
    eta_minus, eta_plus = etas
    step_min, step_max = step_sizes
    shape = theta.shape
    theta = theta.astype(np.float64).ravel().copy()
    eta = np.full_like(theta, lr)
    g_prev = np.zeros_like(theta)
    out = []
    for grad in grads:
        if grad is not None:
            g = (-grad if maximize else grad).ravel().copy()
            for i in range(theta.size):
                if g_prev[i] * g[i] > 0:
                    eta[i] = min(eta[i] * eta_plus, step_max)
                elif g_prev[i] * g[i] < 0:
                    eta[i] = max(eta[i] * eta_minus, step_min)
                    g[i] = 0.0
                theta[i] -= eta[i] * np.sign(g[i])
            g_prev = g
        out.append(theta.reshape(shape).copy())
    return out


def ref_adagrad(theta, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    theta, out, t = theta.copy(), [], 0
    state_sum = np.full_like(theta, initial_accumulator_value)
    for grad in grads:
        if grad is not None:
            t += 1
            g = -grad if maximize else grad
            lr_t = lr / (1 + (t - 1) * lr_decay)
            if weight_decay != 0:
                g = g + weight_decay * theta
            state_sum = state_sum + g**2
            theta = theta - lr_t * g / (np.sqrt(state_sum) + eps)
        out.append(theta)
    return out


REFERENCES = {"SGD": ref_sgd, "Adam": ref_adam, "AdamW": ref_adamw, "RMSprop": ref_rmsprop,
              "Rprop": ref_rprop, "Adagrad": ref_adagrad}

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.2,
             "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.2}),
    ("Adam", {}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "maximize": True}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.9), "eps": 1e-3}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "maximize": True, "betas": (0.5, 0.7)}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-4}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1,
                 "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.1}),
    ("Rprop", {"lr": 0.01, "etas": (0.3, 1.5), "step_sizes": (0.004, 0.02)}),
    ("Rprop", {"lr": 0.01, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-3}),
    ("Adagrad", {"lr": 0.1, "maximize": True, "lr_decay": 0.05}),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in opts.items()) or 'defaults'}"
       for name, opts in CONFIGS]

N_STEPS = 8
SHAPES = [(3,), (2, 2), (2,)]


def make_problem(seed=0):
    """Initial values and a gradient sequence: random signs (so Rprop's steps grow and shrink),
    some exact zeros, and steps where a parameter has no gradient."""
    rng = np.random.default_rng(seed)
    p0 = [rng.normal(size=s) for s in SHAPES]
    grads = [[rng.normal(size=s) for s in SHAPES] for _ in range(N_STEPS)]
    grads[2][1][0, 1] = 0.0
    grads[5][0][2] = 0.0
    grads[3][1] = None
    grads[4][1] = None
    for step in grads[:3]:           # the last parameter gets gradients only from step 4 on
        step[2] = None
    for step in grads[1:4]:          # same sign three times in a row for one coordinate
        step[0][0] = abs(step[0][0]) + 0.1
    return p0, grads


def run_microtensor(name, opts, p0, grads, dtype=mt.float64):
    params = [mt.tensor(p, dtype=dtype, requires_grad=True) for p in p0]
    opt = getattr(optim, name)(params, **opts)
    history = []
    for step in grads:
        for p, g in zip(params, step, strict=True):
            p.grad = None if g is None else mt.tensor(g, dtype=dtype)
        opt.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


def run_torch(torch, name, opts, p0, grads, dtype):
    params = [torch.tensor(p, dtype=dtype, requires_grad=True) for p in p0]
    opt = getattr(torch.optim, name)(params, **opts)
    history = []
    for step in grads:
        for p, g in zip(params, step, strict=True):
            p.grad = None if g is None else torch.tensor(g, dtype=dtype)
        opt.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


def reference(name, opts, p0, grads):
    per_param = [REFERENCES[name](p, [step[i] for step in grads], **opts)
                 for i, p in enumerate(p0)]
    return [list(values) for values in zip(*per_param, strict=True)]


def assert_histories_close(got, want, rtol, atol):
    for step, (g_step, w_step) in enumerate(zip(got, want, strict=True)):
        for i, (g, w) in enumerate(zip(g_step, w_step, strict=True)):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol,
                                       err_msg=f"step {step + 1}, parameter {i}")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(scope="module")
def problem():
    return make_problem()


@pytest.mark.parametrize(("name", "opts"), CONFIGS, ids=IDS)
def test_matches_written_out_formula_float64(name, opts, problem):
    p0, grads = problem
    got = run_microtensor(name, opts, p0, grads)
    want = reference(name, opts, p0, grads)
    assert_histories_close(got, want, rtol=1e-11, atol=1e-13)
    # the parameter without gradients in the first steps did not move
    for step in got[:3]:
        np.testing.assert_array_equal(step[2], p0[2])


@pytest.mark.parametrize(("name", "opts"), CONFIGS, ids=IDS)
def test_matches_written_out_formula_float32(name, opts, problem):
    p0, grads = problem
    got = run_microtensor(name, opts, p0, grads, dtype=mt.float32)
    assert all(p.dtype == np.float32 for step in got for p in step)
    want = reference(name, opts, p0, grads)
    assert_histories_close(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("name", "opts"), CONFIGS, ids=IDS)
def test_matches_pytorch(name, opts, problem, torch):
    p0, grads = problem
    got = run_microtensor(name, opts, p0, grads)
    want = run_torch(torch, name, opts, p0, grads, torch.float64)
    assert_histories_close(got, want, rtol=1e-12, atol=1e-14)
    got32 = run_microtensor(name, opts, p0, grads, dtype=mt.float32)
    want32 = run_torch(torch, name, opts, p0, grads, torch.float32)
    assert_histories_close(got32, want32, rtol=2e-6, atol=1e-6)


def test_reference_formulas_agree_with_pytorch(problem, torch):
    """The written-out formulas are themselves checked once against PyTorch."""
    p0, grads = problem
    for name, opts in CONFIGS:
        want = run_torch(torch, name, opts, p0, grads, torch.float64)
        assert_histories_close(reference(name, opts, p0, grads), want, rtol=1e-11, atol=1e-13)


# ----------------------------------------------------------------------------------------------
# Training through autograd (gradients from backward, not set by hand)
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "opts"), [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.1}),
    ("RMSprop", {"lr": 0.05, "centered": True, "momentum": 0.3}),
    ("Rprop", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.5, "lr_decay": 0.01}),
])
def test_training_a_quadratic_matches_formula(name, opts):
    """Minimise f(w) = sum(c * (w - target)**2) with backward; df/dw = 2 c (w - target)."""
    c = np.array([1.0, 3.0, 0.5])
    target = np.array([2.0, -1.0, 0.5])
    w0 = np.array([0.0, 0.5, -1.0])
    w = mt.tensor(w0, dtype=mt.float64, requires_grad=True)
    opt = getattr(optim, name)([w], **opts)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = (mt.tensor(c) * (w - mt.tensor(target)) ** 2).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # the same steps with the gradient computed by hand
    theta = w0.copy()
    rule = REFERENCES[name]
    grads_so_far = []
    for _ in range(10):
        grads_so_far.append(2 * c * (theta - target))
        theta = rule(w0, grads_so_far, **opts)[-1]
    np.testing.assert_allclose(w.detach().numpy(), theta, rtol=1e-11, atol=1e-13)
    assert losses[-1] < losses[0]
    assert w.grad_fn is None and w.requires_grad and w.is_leaf


def test_param_groups_with_their_own_options_match_pytorch_and_formula(problem, torch):
    p0, grads = problem
    groups_opts = [{"lr": 0.1, "momentum": 0.9}, {"lr": 0.01, "weight_decay": 0.5}]

    def build(lib, tensor):
        params = [tensor(p) for p in p0]
        opt = lib.optim.SGD([{"params": params[:2], **groups_opts[0]},
                             {"params": params[2:], **groups_opts[1]}], lr=0.3, nesterov=False)
        return params, opt

    mine, opt = build(mt, lambda p: mt.tensor(p, dtype=mt.float64, requires_grad=True))
    theirs, topt = build(torch, lambda p: torch.tensor(p, requires_grad=True))
    for step in grads:
        for p, q, g in zip(mine, theirs, step, strict=True):
            p.grad = None if g is None else mt.tensor(g)
            q.grad = None if g is None else torch.tensor(g)
        opt.step()
        topt.step()
    for i, (p, q) in enumerate(zip(mine, theirs, strict=True)):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12)
        want = ref_sgd(p0[i], [s[i] for s in grads], **groups_opts[0 if i < 2 else 1])[-1]
        np.testing.assert_allclose(p.detach().numpy(), want, rtol=1e-12)
    assert opt.param_groups[1]["momentum"] == 0 and opt.param_groups[1]["lr"] == 0.01
    assert opt.param_groups[0]["weight_decay"] == 0


def test_add_param_group_fills_defaults():
    a = mt.zeros(2, requires_grad=True)
    b = mt.zeros(3, requires_grad=True)
    opt = optim.Adam([a], lr=0.1, betas=(0.5, 0.6))
    opt.add_param_group({"params": b, "lr": 0.2})
    assert len(opt.param_groups[1]["params"]) == 1 and opt.param_groups[1]["params"][0] is b
    assert opt.param_groups[1]["lr"] == 0.2
    assert opt.param_groups[1]["betas"] == (0.5, 0.6)
    b.grad = mt.ones(3)
    opt.step()
    # first Adam step moves by lr * sign(g) (up to eps): m_hat = g, v_hat = g**2
    np.testing.assert_allclose(b.detach().numpy(), -0.2, rtol=1e-6)
    assert a not in opt.state or not opt.state[a]


def test_named_parameters_are_accepted():
    w = mt.ones(2, requires_grad=True)
    opt = optim.SGD([("w", w)], lr=0.5)
    assert opt.param_groups[0]["params"][0] is w
    assert opt.param_groups[0]["param_names"] == ["w"]
    w.grad = mt.ones(2)
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), 0.5)


# ----------------------------------------------------------------------------------------------
# step, zero_grad, closure, no graph
# ----------------------------------------------------------------------------------------------

def test_step_records_no_graph_and_keeps_dtype_and_identity():
    for name, opts in CONFIGS:
        w = mt.tensor([1.0, -2.0, 3.0], requires_grad=True)
        data = w.detach().numpy()
        opt = getattr(optim, name)([w], **opts)
        for _ in range(2):
            opt.zero_grad()
            (w * w).sum().backward()
            with mt.enable_grad():
                opt.step()
        assert w.detach().numpy() is data, name          # updated in place
        assert w.dtype == np.float32 and w.is_leaf and w.requires_grad, name
        assert w.grad_fn is None, name
        for value in opt.state[w].values():
            if isinstance(value, mt.Tensor):
                assert value.dtype == np.float32 and not value.requires_grad, name


def test_step_counts_as_an_inplace_change_for_saved_tensors():
    """A graph that saved a parameter cannot be differentiated after the parameter moved."""
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    y = (w * w).sum()
    w.grad = mt.ones(2)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_zero_grad_sets_to_none_by_default():
    w = mt.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 3).sum().backward()
    opt.zero_grad()
    assert w.grad is None
    opt.zero_grad()  # nothing to clear


def test_zero_grad_set_to_none_false_zeros_in_place():
    w = mt.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 3).sum().backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad
    np.testing.assert_array_equal(w.grad.detach().numpy(), [0.0, 0.0])
    (w * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.detach().numpy(), [2.0, 2.0])


def test_zero_grad_detaches_a_gradient_with_a_graph():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    (w**3).sum().backward(create_graph=True)
    assert w.grad.requires_grad
    optim.SGD([w]).zero_grad(set_to_none=False)
    assert not w.grad.requires_grad and w.grad.grad_fn is None
    np.testing.assert_array_equal(w.grad.detach().numpy(), [0.0, 0.0])


def test_step_with_closure_reevaluates_with_grad_enabled():
    w = mt.tensor([1.0, -1.0], dtype=mt.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        calls.append(mt.is_grad_enabled())
        return loss

    with mt.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert loss.item() == pytest.approx(2.0)
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -0.8])
    assert opt.step() is None


def test_parameters_without_grad_get_no_state():
    a = mt.ones(2, requires_grad=True)
    b = mt.ones(2, requires_grad=True)
    for name, opts in CONFIGS:
        opt = getattr(optim, name)([a, b], **opts)
        a.grad, b.grad = mt.ones(2), None
        opt.step()
        np.testing.assert_array_equal(b.detach().numpy(), [1.0, 1.0])
        assert not opt.state.get(b), name


# ----------------------------------------------------------------------------------------------
# state_dict / load_state_dict
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "opts"), CONFIGS, ids=IDS)
def test_state_dict_round_trip_continues_exactly(name, opts, problem):
    p0, grads = problem
    params = [mt.tensor(p, dtype=mt.float32, requires_grad=True) for p in p0]
    opt = getattr(optim, name)(params, **opts)

    def step(params, opt, g_step):
        for p, g in zip(params, g_step, strict=True):
            p.grad = None if g is None else mt.tensor(g, dtype=mt.float32)
        opt.step()

    for g_step in grads[:5]:
        step(params, opt, g_step)
    sd = opt.state_dict()
    params2 = [mt.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    opt2 = getattr(optim, name)(params2, lr=123.0)  # options come from the state dict
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for g_step in grads[5:]:
        step(params, opt, g_step)
        step(params2, opt2, g_step)
    for p, q in zip(params, params2, strict=True):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
        assert q.dtype == np.float32
    # the state dict was a snapshot: the later steps did not change it
    sd_again = opt2.state_dict()
    for key, values in sd["state"].items():
        assert values.get("step", 0) <= sd_again["state"][key].get("step", 0)
        if "step" in values:
            assert values["step"] == 5 - (key == 1) * 2 - (key == 2) * 3


def test_state_dict_layout_matches_pytorch(problem, torch):
    p0, grads = problem
    for name, opts in CONFIGS:
        params = [mt.tensor(p, requires_grad=True) for p in p0]
        tparams = [torch.tensor(p, requires_grad=True) for p in p0]
        opt = getattr(optim, name)(params[:1], **opts)
        opt.add_param_group({"params": params[1:]})
        topt = getattr(torch.optim, name)(tparams[:1], **opts)
        topt.add_param_group({"params": tparams[1:]})
        for g_step in grads[:3]:
            for p, q, g in zip(params, tparams, g_step, strict=True):
                p.grad = None if g is None else mt.tensor(g)
                q.grad = None if g is None else torch.tensor(g)
            opt.step()
            topt.step()
        sd, tsd = opt.state_dict(), topt.state_dict()
        assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in
                                                             tsd["param_groups"]]
        for g, tg in zip(sd["param_groups"], tsd["param_groups"], strict=True):
            assert set(g) <= set(tg), name
            assert all(g[k] == tg[k] for k in g if k != "params"), name
        assert set(sd["state"]) == {k for k, v in tsd["state"].items() if v}, name
        for k, values in sd["state"].items():
            assert set(values) == set(tsd["state"][k]), name
            for key, value in values.items():
                mine = value if key == "step" else value.detach().numpy()
                np.testing.assert_allclose(mine, tsd["state"][k][key].numpy(), rtol=1e-6)


@pytest.mark.parametrize(("name", "opts"), CONFIGS[::3], ids=IDS[::3])
def test_loads_a_pytorch_state_dict_and_continues_like_pytorch(name, opts, problem, torch):
    p0, grads = problem
    tparams = [torch.tensor(p, requires_grad=True) for p in p0]
    topt = getattr(torch.optim, name)(tparams, **opts)
    for g_step in grads[:4]:
        for q, g in zip(tparams, g_step, strict=True):
            q.grad = None if g is None else torch.tensor(g)
        topt.step()
    tsd = topt.state_dict()
    sd = {"state": {k: {n: mt.tensor(v.numpy()) for n, v in s.items()}
                    for k, s in tsd["state"].items()},
          "param_groups": tsd["param_groups"]}
    params = [mt.tensor(q.detach().numpy().copy(), requires_grad=True) for q in tparams]
    opt = getattr(optim, name)(params)
    opt.load_state_dict(sd)
    for g_step in grads[4:]:
        for p, q, g in zip(params, tparams, g_step, strict=True):
            p.grad = None if g is None else mt.tensor(g)
            q.grad = None if g is None else torch.tensor(g)
        opt.step()
        topt.step()
    for p, q in zip(params, tparams, strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_load_state_dict_copies_and_casts_the_state():
    w = mt.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    sd = {"state": {0: {"momentum_buffer": mt.tensor([1.0, 2.0, 3.0], dtype=mt.float64)}},
          "param_groups": [{"lr": 0.5, "momentum": 0.9, "dampening": 0, "weight_decay": 0,
                            "nesterov": False, "maximize": False, "params": [0]}]}
    opt.load_state_dict(sd)
    buf = opt.state[w]["momentum_buffer"]
    assert buf.dtype == np.float32
    assert buf.detach().numpy() is not sd["state"][0]["momentum_buffer"].detach().numpy()
    w.grad = mt.ones(3)
    opt.step()
    # b = 0.9 * b + g, w = w - 0.5 * b
    np.testing.assert_allclose(w.detach().numpy(), 1 - 0.5 * (0.9 * np.array([1.0, 2.0, 3.0]) + 1),
                               rtol=1e-6)
    saved = sd["state"][0]["momentum_buffer"]
    np.testing.assert_array_equal(saved.detach().numpy(), [1.0, 2.0, 3.0])


def test_load_state_dict_errors():
    a = mt.ones(2, requires_grad=True)
    b = mt.ones(2, requires_grad=True)
    opt = optim.Adam([a, b])
    a.grad = b.grad = mt.ones(2)
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group: group 0 "
                                         "has 2 saved parameters, the optimizer's has 1"):
        optim.Adam([a]).load_state_dict(sd)
    c = mt.ones(5, requires_grad=True)
    with pytest.raises(ValueError, match=r"state 'exp_avg' of shape \(2,\) for parameter 1, "
                                         r"whose shape is \(5,\)"):
        optim.Adam([a, c]).load_state_dict(sd)
    with pytest.raises(ValueError, match="keys 'state' and 'param_groups'"):
        optim.Adam([a]).load_state_dict({"lr": 0.1})


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------

def test_constructor_errors():
    w = mt.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts, but got "
                                        "microtensor.Tensor"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections.*Please use a list instead"):
        optim.SGD({w}, lr=0.1)
    with pytest.raises(TypeError, match=r"can only optimize Tensors, but one of the params "
                                        r"\(index 1\) is ndarray"):
        optim.SGD([w, np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter "
                                         "group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(TypeError, match="param_group must be a dict, but got list"):
        optim.SGD([w], lr=0.1).add_param_group([mt.ones(2, requires_grad=True)])
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.SGD([{"params": [w], "lr": -1}], lr=0.1)


BAD_OPTIONS = [
    ("SGD", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("SGD", {"momentum": -0.5}, "Invalid momentum value: -0.5"),
    ("SGD", {"weight_decay": -1e-4}, "Invalid weight_decay value: -0.0001"),
    ("SGD", {"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
     "Nesterov momentum requires a momentum and zero dampening"),
    ("Adam", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("Adam", {"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
    ("Adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ("Adam", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ("Adam", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("AdamW", {"betas": (0.9, 1.5)}, "Invalid beta parameter at index 1: 1.5"),
    ("RMSprop", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("RMSprop", {"alpha": -0.5}, "Invalid alpha value: -0.5"),
    ("RMSprop", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("RMSprop", {"momentum": -0.1}, "Invalid momentum value: -0.1"),
    ("RMSprop", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("Rprop", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("Rprop", {"etas": (1.2, 0.5)}, "Invalid eta values: 1.2, 0.5"),
    ("Rprop", {"etas": (0.0, 1.2)}, "Invalid eta values: 0.0, 1.2"),
    ("Adagrad", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("Adagrad", {"lr_decay": -0.1}, "Invalid lr_decay value: -0.1"),
    ("Adagrad", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("Adagrad", {"initial_accumulator_value": -0.1},
     "Invalid initial_accumulator_value value: -0.1"),
    ("Adagrad", {"eps": -0.1}, "Invalid epsilon value: -0.1"),
]


@pytest.mark.parametrize(("name", "opts", "message"), BAD_OPTIONS)
def test_invalid_options(name, opts, message):
    w = mt.ones(2, requires_grad=True)
    with pytest.raises(ValueError) as err:
        getattr(optim, name)([w], **opts)
    assert str(err.value) == message


@pytest.mark.parametrize(("name", "opts", "message"), BAD_OPTIONS)
def test_invalid_options_same_message_as_pytorch(name, opts, message, torch):
    with pytest.raises(ValueError) as err:
        getattr(torch.optim, name)([torch.ones(2, requires_grad=True)], **opts)
    assert str(err.value) == message


def test_defaults_match_pytorch(torch):
    for name in REFERENCES:
        mine = getattr(optim, name)([mt.ones(1, requires_grad=True)]).defaults
        theirs = getattr(torch.optim, name)([torch.ones(1, requires_grad=True)]).defaults
        assert all(theirs[k] == v for k, v in mine.items()), name


def test_repr_lists_group_options():
    opt = optim.SGD([mt.ones(1, requires_grad=True)], lr=0.5, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "    lr: 0.5\n" in text and "    momentum: 0.9\n" in text and text.endswith(")")


def test_frozen_parameters_are_accepted_and_skipped():
    """As in PyTorch, a parameter with requires_grad=False may be passed; step() leaves it."""
    frozen = mt.ones(3)
    w = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    opt = optim.SGD([w, frozen], lr=0.5)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(frozen.detach().numpy(), [1.0, 1.0, 1.0])


# ----------------------------------------------------------------------------------------------
# 0-d parameters (the scalars a, b, c, d of PyTorch's polynomial tutorial)
# ----------------------------------------------------------------------------------------------

# One scalar parameter's gradients: sign changes (Rprop), an exact zero, a skipped step.
SCALAR_P0 = 0.7
SCALAR_GRADS = [0.5, 1.2, -0.3, None, 0.0, -0.8, 0.4, 0.4, 2.5]


def run_scalar(name, opts, shape, dtype=mt.float64):
    """Run one optimizer on one parameter of ``shape`` (() or (1,)) holding SCALAR_P0."""
    p = mt.tensor(np.full(shape, SCALAR_P0), dtype=dtype, requires_grad=True)
    opt = getattr(optim, name)([p], **opts)
    history = []
    for g in SCALAR_GRADS:
        p.grad = None if g is None else mt.tensor(np.full(shape, g), dtype=dtype)
        opt.step()
        assert p.shape == shape and p.dtype == dtype
        history.append(p.detach().numpy().copy())
    for value in opt.state[p].values():
        if isinstance(value, mt.Tensor):
            assert value.shape == shape and value.dtype == dtype and not value.requires_grad
    return history


def test_sgd_momentum_weight_decay_on_a_0d_parameter_issue_example():
    """p = 1, gradient 3, lr 0.1, momentum 0.9, weight_decay 0.1: PyTorch gives -2.98 after 5
    steps (the momentum buffer of a 0-d parameter used to stay at its first value: -1.62)."""
    want, buf = 1.0, None
    for _ in range(5):  # PyTorch's SGD written out for one number
        g = 3.0 + 0.1 * want
        buf = g if buf is None else 0.9 * buf + g
        want -= 0.1 * buf
    assert want == pytest.approx(-2.9793, abs=1e-4)
    for dtype, rtol in [(mt.float64, 1e-14), (mt.float32, 1e-6)]:
        p = mt.tensor(1.0, dtype=dtype, requires_grad=True)
        opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
        for _ in range(5):
            p.grad = mt.tensor(3.0, dtype=dtype)
            opt.step()
        assert p.shape == () and p.dtype == dtype
        np.testing.assert_allclose(p.item(), want, rtol=rtol)
        assert opt.state[p]["momentum_buffer"].shape == ()
        assert opt.state[p]["momentum_buffer"].item() == pytest.approx(buf, rel=rtol)


def test_sgd_issue_example_matches_pytorch(torch):
    p = mt.tensor(1.0, requires_grad=True)
    q = torch.tensor(1.0, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    topt = torch.optim.SGD([q], lr=0.1, momentum=0.9, weight_decay=0.1)
    for _ in range(5):
        p.grad, q.grad = mt.tensor(3.0), torch.tensor(3.0)
        opt.step()
        topt.step()
        np.testing.assert_allclose(p.item(), q.item(), rtol=1e-6)
    assert p.item() == pytest.approx(-2.98, abs=0.005)


@pytest.mark.parametrize(("name", "opts"), CONFIGS, ids=IDS)
def test_0d_parameter_matches_1_element_parameter_and_formula(name, opts):
    scalar = run_scalar(name, opts, ())
    vector = run_scalar(name, opts, (1,))
    np.testing.assert_allclose(np.array(scalar), np.array(vector)[:, 0], rtol=1e-15, atol=0)
    grads = [None if g is None else np.float64(g) for g in SCALAR_GRADS]
    want = REFERENCES[name](np.array(SCALAR_P0), grads, **opts)
    np.testing.assert_allclose(np.array(scalar), np.array(want), rtol=1e-12, atol=1e-14)
    assert not np.allclose(scalar[-1], SCALAR_P0)  # it moved


@pytest.mark.parametrize(("name", "opts"), CONFIGS, ids=IDS)
def test_0d_parameter_matches_pytorch(name, opts, torch):
    for dtype, tdtype, rtol, atol in [(mt.float64, torch.float64, 1e-12, 1e-14),
                                      (mt.float32, torch.float32, 2e-6, 1e-6)]:
        got = run_scalar(name, opts, (), dtype)
        q = torch.tensor(SCALAR_P0, dtype=tdtype, requires_grad=True)
        topt = getattr(torch.optim, name)([q], **opts)
        want = []
        for g in SCALAR_GRADS:
            q.grad = None if g is None else torch.tensor(g, dtype=tdtype)
            topt.step()
            want.append(q.item())
        np.testing.assert_allclose(np.array(got), np.array(want), rtol=rtol, atol=atol)


@pytest.mark.parametrize(("name", "opts"), CONFIGS, ids=IDS)
def test_accumulated_0d_gradient_two_backward_calls(name, opts):
    """d/dw of w*w and of 3*w, accumulated by two backward calls: g = 2w + 3."""
    w = mt.tensor(0.5, dtype=mt.float64, requires_grad=True)
    opt = getattr(optim, name)([w], **opts)
    theta, grads = np.array(0.5), []
    for _ in range(6):
        opt.zero_grad()
        (w * w).backward()
        (3 * w).backward()
        assert w.grad.shape == ()
        np.testing.assert_allclose(w.grad.item(), 2 * w.item() + 3, rtol=1e-15)
        opt.step()
        grads.append(2 * theta + 3)
        theta = REFERENCES[name](np.array(0.5), grads, **opts)[-1]
        np.testing.assert_allclose(w.item(), theta, rtol=1e-12, atol=1e-14)
    assert w.item() != 0.5


def test_zero_grad_set_to_none_false_clears_an_accumulated_0d_gradient():
    w = mt.tensor(2.0, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).backward()
    (3 * w).backward()
    grad = w.grad
    assert grad.item() == 7.0
    version = grad._version
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and grad.shape == () and grad.item() == 0.0
    assert grad._version > version
    (w * w).backward()
    assert w.grad.item() == 4.0  # accumulated onto zero, not onto 7


def test_maximize_on_a_0d_parameter():
    p = mt.tensor(1.0, dtype=mt.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.5, maximize=True)
    for _ in range(2):
        p.grad = mt.tensor(3.0, dtype=mt.float64)
        opt.step()
    # b = 3, then 0.5 * 3 + 3 = 4.5; each step adds lr * b
    assert p.item() == pytest.approx(1.0 + 0.1 * 3 + 0.1 * 4.5, rel=1e-14)
    q = mt.tensor(1.0, dtype=mt.float64, requires_grad=True)
    opt = optim.Adam([q], lr=0.1, maximize=True)
    q.grad = mt.tensor(3.0, dtype=mt.float64)
    opt.step()
    # the first Adam step moves by lr * sign(g) (up to eps): upwards when maximizing
    assert q.item() == pytest.approx(1.1, rel=1e-7)
    assert p.grad.item() == 3.0 and q.grad.item() == 3.0  # the gradients are left as they were


@pytest.mark.parametrize(("name", "opts"), CONFIGS, ids=IDS)
def test_step_bumps_the_version_so_a_saved_parameter_raises_at_backward(name, opts):
    w = mt.tensor(2.0, requires_grad=True)
    opt = getattr(optim, name)([w], **opts)
    y = w * w
    w.grad = mt.tensor(1.0)
    version = w._version
    opt.step()
    assert w._version > version
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_optimizers_use_only_the_public_tensor_api():
    """optim sits above Tensor: no private attributes of Tensor (DESIGN.md), no raw arrays."""
    private = re.compile(r"\._(data|versions|bump_version|grad|make|requires_grad)\b"
                         r"|np\.asarray")
    for module in (optimizer, flat, sgd, adam, rmsprop, rprop, adagrad):
        source = inspect.getsource(module)
        assert not private.findall(source), (module.__name__, private.findall(source))


# ----------------------------------------------------------------------------------------------
# The Tensor in-place methods the optimizers use: addcmul_, addcdiv_, lerp_
# ----------------------------------------------------------------------------------------------

def _arrays(*shapes, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s) for s in shapes]


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_addcmul_addcdiv_lerp_values_in_place(shape):
    s, a, b, w = _arrays(shape, shape, shape, shape)
    b = np.asarray(np.abs(b) + 0.5)  # (an array even when 0-d)
    cases = [
        ("addcmul_", (a, b), {"value": 0.3}, s + 0.3 * a * b),
        ("addcmul_", (a, b), {}, s + a * b),
        ("addcdiv_", (a, b), {"value": -2.0}, s - 2.0 * a / b),
        ("addcdiv_", (a, b), {}, s + a / b),
        ("lerp_", (a, 0.1), {}, s + 0.1 * (a - s)),
        ("lerp_", (a, 0.8), {}, s + 0.8 * (a - s)),
        ("lerp_", (a, -1.5), {}, s - 1.5 * (a - s)),
        ("lerp_", (a, w), {}, s + w * (a - s)),
    ]
    for name, args, kwargs, want in cases:
        x = mt.tensor(s.copy(), dtype=mt.float64)
        array, version = x.detach().numpy(), x._version
        args = [mt.tensor(v) if isinstance(v, np.ndarray) else v for v in args]
        assert getattr(x, name)(*args, **kwargs) is x
        assert x.detach().numpy() is array and x.shape == shape and x.dtype == np.float64
        assert x._version == version + 1, name
        np.testing.assert_allclose(x.detach().numpy(), want, rtol=1e-14, atol=1e-15,
                                   err_msg=name)


def test_addcmul_addcdiv_lerp_broadcast_operands_and_keep_dtype():
    s, a, b = _arrays((2, 3), (3,), (2, 1))
    x = mt.tensor(s, dtype=mt.float32).addcmul_(mt.tensor(a), mt.tensor(b), value=2)
    assert x.dtype == np.float32 and mt.tensor(a).dtype == np.float64  # as in PyTorch
    np.testing.assert_allclose(x.detach().numpy(), s + 2 * a * b, rtol=1e-6)
    x = mt.tensor(s.copy(), dtype=mt.float64).addcdiv_(mt.tensor(a, dtype=mt.float64),
                                                       mt.tensor(b + 3, dtype=mt.float64))
    np.testing.assert_allclose(x.detach().numpy(), s + a / (b + 3), rtol=1e-15)
    x = mt.tensor(s.copy(), dtype=mt.float64).lerp_(mt.tensor(a, dtype=mt.float64),
                                                    mt.tensor(0.25, dtype=mt.float32))
    np.testing.assert_allclose(x.detach().numpy(), s + 0.25 * (a - s), rtol=1e-15)


def test_lerp_weight_one_gives_end_exactly():
    """PyTorch's formula starts from the nearer end: self + 1 * (end - self) would round."""
    assert 1.0 + 1.0 * (1e-8 - 1.0) != 1e-8
    x = mt.tensor([1.0, 1.0], dtype=mt.float64).lerp_(mt.tensor([1e-8, 3.0],
                                                                dtype=mt.float64), 1.0)
    np.testing.assert_array_equal(x.detach().numpy(), [1e-8, 3.0])


def test_inplace_pointwise_errors():
    x = mt.ones(3, requires_grad=True)
    one = mt.ones(3)
    leaf_msg = "a leaf Variable that requires grad is being used in an in-place operation"
    for call in (lambda: x.addcmul_(one, one), lambda: x.addcdiv_(one, one),
                 lambda: x.lerp_(one, 0.5)):
        with pytest.raises(RuntimeError, match=leaf_msg):
            call()
    with mt.no_grad():  # as an optimizer does
        x.addcmul_(one, one, value=2).addcdiv_(one, one).lerp_(one * 5, 0.5)
    np.testing.assert_allclose(x.detach().numpy(), 4.5)
    y = mt.ones(3)
    with pytest.raises(RuntimeError, match="operand that requires grad"):
        y.addcmul_(x, one)
    with pytest.raises(RuntimeError, match="operand that requires grad"):
        y.lerp_(one, mt.full((3,), 0.5, requires_grad=True))
    with pytest.raises(RuntimeError, match=r"output with shape \[\] doesn't match the "
                                           r"broadcast shape \[3\]"):
        mt.tensor(1.0).addcmul_(one, one)
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the "
                                           r"broadcast shape \[2, 3\]"):
        y.lerp_(mt.ones(2, 3), 0.5)
    with pytest.raises(RuntimeError, match="must match the size"):
        y.addcdiv_(one, mt.ones(2))
    with pytest.raises(TypeError, match=r"addcmul_\(\): argument 'tensor1' \(position 1\) "
                                        r"must be Tensor, not float"):
        y.addcmul_(2.0, one)
    with pytest.raises(TypeError, match=r"lerp_\(\): argument 'end' \(position 1\) must be "
                                        r"Tensor, not list"):
        y.lerp_([1.0, 2.0, 3.0], 0.5)
    with pytest.raises(RuntimeError, match="expected dtype float32 for `end` but got dtype "
                                           "float64"):
        y.lerp_(mt.ones(3, dtype=mt.float64), 0.5)
    with pytest.raises(RuntimeError, match="expected dtype float32 for `weight`"):
        y.lerp_(one, mt.ones(3, dtype=mt.float64))
    ints = mt.ones(3, dtype=mt.int64)
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer "
                                           "supported"):
        ints.addcdiv_(ints, ints)
    with pytest.raises(NotImplementedError, match="lerp_ is not implemented for int64"):
        ints.lerp_(ints, 0.5)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        ints.addcmul_(one, one)
    mask = mt.ones(3, dtype=mt.bool_)
    with pytest.raises(NotImplementedError, match="addcmul_ is not implemented for bool"):
        mask.addcmul_(mask, mask)
    np.testing.assert_array_equal(y.detach().numpy(), 1.0)  # unchanged by the failed calls
    assert ints.addcmul_(ints, ints, value=2).tolist() == [3, 3, 3]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(), (5,), (300,)])
def test_inplace_pointwise_match_pytorch(dtype, shape, torch):
    """Within an ulp or two: PyTorch's CPU kernels fuse a * b + c (one rounding, not two)."""
    s, a, b, w = _arrays(shape, shape, shape, shape, seed=3)
    b = np.asarray(np.abs(b) + 0.5)  # (an array even when 0-d)
    s, a, b, w = (np.asarray(v, dtype=dtype) for v in (s, a, b, w))
    rtol = 1e-6 if dtype == "float32" else 1e-14
    cases = [("addcmul_", (a, b), {"value": 0.3}), ("addcdiv_", (a, b), {"value": -0.01}),
             ("lerp_", (a, 0.1), {}), ("lerp_", (a, 0.9), {}), ("lerp_", (a, w), {})]
    for name, args, kwargs in cases:
        mine = getattr(mt.tensor(s.copy()), name)(
            *[mt.tensor(v) if isinstance(v, np.ndarray) else v for v in args], **kwargs)
        theirs = getattr(torch.tensor(s.copy()), name)(
            *[torch.tensor(v) if isinstance(v, np.ndarray) else v for v in args], **kwargs)
        np.testing.assert_allclose(mine.detach().numpy(), theirs.numpy(), rtol=rtol,
                                   atol=rtol, err_msg=name)
