"""Module hooks (forward pre-hooks, forward hooks, full backward hooks and pre-hooks) and
optimizer step hooks: call order, arguments, what a returned value replaces, removal, the
options (prepend, with_kwargs, always_call), errors, and deep copies.

Most scenarios are written once for both libraries (``lib`` is ``microtensor`` or ``torch``)
and compared event by event with PyTorch where it is installed; the backward hooks' gradients
are also checked by hand, so that they are tested without PyTorch.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn, optim

W = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]], dtype=np.float32)
B = np.array([0.1, -0.2, 0.3], dtype=np.float32)
X = np.array([[1.0, 2.0], [-0.5, 0.25], [3.0, -1.0], [0.0, 1.0]], dtype=np.float32)


@pytest.fixture
def torch() -> Any:
    return pytest.importorskip("torch")


def linear(lib: Any) -> Any:
    """nn.Linear(2, 3) with the weights W and B, in either library."""
    m = lib.nn.Linear(2, 3)
    with lib.no_grad():
        m.weight.copy_(lib.tensor(W))
        m.bias.copy_(lib.tensor(B))
    return m


def arr(value: Any) -> Any:
    """A log entry as plain Python and NumPy values (tensors become arrays)."""
    if isinstance(value, (tuple, list)):
        return type(value)(arr(v) for v in value)
    if isinstance(value, dict):
        return {k: arr(v) for k, v in value.items()}
    if hasattr(value, "detach"):
        return value.detach().numpy().copy()
    return value


def assert_same(a: Any, b: Any, path: str = "log") -> None:
    """Equal logs: the same structure, the same None positions, arrays within float32."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), (path, a, b)
        assert a.shape == b.shape, (path, a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=path)
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), (path, a, b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), (path, a, b)
        for k in a:
            assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-6), (path, a, b)
    else:
        assert a == b, (path, a, b)


def both(torch: Any, scenario: Callable[[Any], Any]) -> Any:
    """Run ``scenario`` with each library; the logs must agree. Returns microtensor's."""
    ours = scenario(mt)
    assert_same(ours, scenario(torch))
    return ours


# ----------------------------------------------------------------------------------------------
# Forward pre-hooks and forward hooks
# ----------------------------------------------------------------------------------------------

def forward_order(lib: Any) -> list[Any]:
    m = linear(lib)
    log: list[Any] = []
    m.register_forward_pre_hook(lambda mod, args: log.append(("pre1", args)))
    m.register_forward_pre_hook(lambda mod, args: log.append(("pre0", args)), prepend=True)
    m.register_forward_hook(lambda mod, args, out: log.append(("post1", args, out)))
    m.register_forward_hook(lambda mod, args, out: log.append(("post0", args, out)),
                            prepend=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: log.append(("kw", kwargs, out)),
                            with_kwargs=True)
    y = m(lib.tensor(X))
    log.append(("result", y))
    return arr(log)


def test_forward_hooks_run_in_order_with_their_arguments() -> None:
    log = forward_order(mt)
    assert [e[0] for e in log] == ["pre0", "pre1", "post0", "post1", "kw", "result"]
    expected = X @ W.T + B
    np.testing.assert_allclose(log[2][2], expected, rtol=1e-6)
    np.testing.assert_array_equal(log[0][1][0], X)
    assert log[4][1] == {}


def test_forward_hooks_match_torch(torch: Any) -> None:
    both(torch, forward_order)


def replacing(lib: Any) -> list[Any]:
    m = linear(lib)
    log: list[Any] = []
    # A pre-hook's tuple replaces the arguments; a value that is not a tuple is wrapped in one.
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    h2 = m.register_forward_pre_hook(lambda mod, args: args[0] + 1)
    m.register_forward_hook(lambda mod, args, out: log.append(("seen", args)))
    m.register_forward_hook(lambda mod, args, out: out * 10)
    m.register_forward_hook(lambda mod, args, out: log.append(("after", out)))
    log.append(("y", m(lib.tensor(X))))
    h1.remove()
    h2.remove()
    m.register_forward_pre_hook(
        lambda mod, args, kwargs: ((args[0] - 1,), kwargs), with_kwargs=True)
    log.append(("y2", m(lib.tensor(X))))
    return arr(log)


def test_returned_values_replace_arguments_and_output() -> None:
    log = replacing(mt)
    np.testing.assert_allclose(log[0][1][0], 2 * X + 1)
    np.testing.assert_allclose(log[2][1], 10 * ((2 * X + 1) @ W.T + B), rtol=1e-6)
    np.testing.assert_allclose(log[5][1], 10 * ((X - 1) @ W.T + B), rtol=1e-6)


def test_replacements_match_torch(torch: Any) -> None:
    both(torch, replacing)


def test_with_kwargs_sees_and_replaces_keyword_arguments(torch: Any) -> None:
    def scenario(lib: Any) -> list[Any]:
        class Scaled(lib.nn.Module):
            def forward(self, x, scale=1.0):
                return x * scale

        m = Scaled()
        log: list[Any] = []
        m.register_forward_pre_hook(
            lambda mod, args, kwargs: (args, {**kwargs, "scale": kwargs["scale"] * 3}),
            with_kwargs=True)
        m.register_forward_hook(lambda mod, args, kwargs, out: log.append((args, kwargs, out)),
                                with_kwargs=True)
        log.append(m(lib.tensor(X), scale=2.0))
        return arr(log)

    log = both(torch, scenario)
    assert log[0][1] == {"scale": 6.0}
    np.testing.assert_allclose(log[1], 6 * X)


@pytest.mark.parametrize("lib_name", ["mt", "torch"])
def test_a_pre_hook_with_kwargs_must_return_a_pair(lib_name: str) -> None:
    lib = mt if lib_name == "mt" else pytest.importorskip("torch")
    m = linear(lib)
    m.register_forward_pre_hook(lambda mod, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"forward pre-hook must return None or a tuple of "
                                           r"\(new_args, new_kwargs\)"):
        m(lib.tensor(X))


def always(lib: Any, fail_in_hook: bool) -> list[Any]:
    class Failing(lib.nn.Module):
        def forward(self, x):
            raise ValueError("forward failed")

    m = Failing()
    log: list[Any] = []

    def keeps_going(mod: Any, args: Any, out: Any) -> None:
        log.append(("always", out))
        if fail_in_hook:
            raise KeyError("hook failed too")

    m.register_forward_hook(lambda mod, args, out: log.append(("plain", out)))
    m.register_forward_hook(keeps_going, always_call=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: log.append(("kw", kwargs, out)),
                            always_call=True, with_kwargs=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="forward failed"):
            m(lib.tensor(X), )
    log.append(("warnings", [str(w.message)[:48] for w in caught]))
    return log


@pytest.mark.parametrize("fail_in_hook", [False, True])
def test_always_call_hooks_run_when_forward_raises(fail_in_hook: bool) -> None:
    log = always(mt, fail_in_hook)
    assert log[:2] == [("always", None), ("kw", {}, None)]  # not the plain hook
    assert len(log[2][1]) == int(fail_in_hook)
    if fail_in_hook:
        assert log[2][1][0].startswith("module forward hook with ``always_call=True``")


@pytest.mark.parametrize("fail_in_hook", [False, True])
def test_always_call_matches_torch(torch: Any, fail_in_hook: bool) -> None:
    assert always(mt, fail_in_hook) == always(torch, fail_in_hook)


def test_always_call_hook_runs_once_when_a_later_hook_raises(torch: Any) -> None:
    def scenario(lib: Any) -> list[Any]:
        m = linear(lib)
        log: list[Any] = []
        m.register_forward_hook(lambda mod, args, out: log.append("always"), always_call=True)

        def boom(mod: Any, args: Any, out: Any) -> None:
            raise ValueError("boom")

        m.register_forward_hook(boom)
        with pytest.raises(ValueError, match="boom"):
            m(lib.tensor(X))
        return log

    assert both(torch, scenario) == ["always"]


def test_handles_remove_hooks_and_work_as_context_managers(torch: Any) -> None:
    def scenario(lib: Any) -> list[Any]:
        m = linear(lib)
        log: list[Any] = []

        def hook(mod: Any, args: Any, out: Any) -> None:
            log.append("hook")

        first = m.register_forward_hook(hook)
        second = m.register_forward_hook(hook)  # the same function twice: two entries
        m(lib.tensor(X))
        first.remove()
        first.remove()  # (a second remove does nothing)
        m(lib.tensor(X))
        second.remove()
        m(lib.tensor(X))
        log.append("|")
        with m.register_forward_pre_hook(lambda mod, args: log.append("pre")):
            m(lib.tensor(X))
        m(lib.tensor(X))
        return log

    assert both(torch, scenario) == ["hook", "hook", "hook", "|", "pre"]


def test_a_hook_can_remove_itself_while_running(torch: Any) -> None:
    def scenario(lib: Any) -> list[Any]:
        m = linear(lib)
        log: list[Any] = []
        handles: list[Any] = []

        def once(mod: Any, args: Any, out: Any) -> None:
            log.append("once")
            handles[0].remove()

        handles.append(m.register_forward_hook(once))
        m.register_forward_hook(lambda mod, args, out: log.append("other"))
        m(lib.tensor(X))
        m(lib.tensor(X))
        return log

    assert both(torch, scenario) == ["once", "other", "other"]


def test_hooks_on_submodules_see_each_layer(torch: Any) -> None:
    def scenario(lib: Any) -> list[Any]:
        lib.manual_seed(0)
        model = lib.nn.Sequential(linear(lib), lib.nn.Tanh(), lib.nn.Linear(3, 1))
        with lib.no_grad():
            model[2].weight.copy_(lib.tensor([[1.0, -2.0, 0.5]]))
            model[2].bias.zero_()
        log: list[Any] = []
        for name, module in model.named_modules():
            module.register_forward_hook(
                lambda mod, args, out, name=name: log.append((name, type(mod).__name__, out)))
        model(lib.tensor(X))
        return arr(log)

    log = both(torch, scenario)
    assert [e[0] for e in log] == ["0", "1", "2", ""]


# ----------------------------------------------------------------------------------------------
# Backward hooks
# ----------------------------------------------------------------------------------------------

def test_backward_hook_gradients_by_hand() -> None:
    m = linear(mt)
    log: list[Any] = []
    m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", arr(go))))
    m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", arr(gi), arr(go))))
    x = mt.tensor(X, requires_grad=True)
    upstream = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    m(x).backward(mt.tensor(upstream))
    assert [e[0] for e in log] == ["pre", "full"]
    np.testing.assert_array_equal(log[0][1][0], upstream)
    np.testing.assert_allclose(log[1][1][0], upstream @ W, rtol=1e-6)  # d(x Wᵀ + b)/dx
    np.testing.assert_array_equal(log[1][2][0], upstream)
    np.testing.assert_allclose(x.grad.numpy(), upstream @ W, rtol=1e-6)
    np.testing.assert_allclose(m.weight.grad.numpy(), upstream.T @ X, rtol=1e-6)


def test_backward_hook_replaces_grad_input_by_hand() -> None:
    m = linear(mt)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 3,))
    m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
    x = mt.tensor(X, requires_grad=True)
    m(x).sum().backward()
    ones = np.ones((4, 3), dtype=np.float32)
    np.testing.assert_allclose(x.grad.numpy(), 3 * (2 * ones) @ W, rtol=1e-6)
    np.testing.assert_allclose(m.weight.grad.numpy(), (2 * ones).T @ X, rtol=1e-6)  # pre-hook


def backward_linear(lib: Any) -> list[Any]:
    m = linear(lib)
    log: list[Any] = []
    m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", go)))
    m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", gi, go)))
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 2,))
    m.register_full_backward_hook(lambda mod, gi, go: log.append(("after", gi)))
    m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre0", go)), prepend=True)
    x = lib.tensor(X, requires_grad=True)
    (m(x) ** 2).sum().backward()
    log.append(("x.grad", x.grad))
    log.append(("w.grad", m.weight.grad))
    return arr(log)


def test_backward_hooks_match_torch(torch: Any) -> None:
    log = both(torch, backward_linear)
    assert [e[0] for e in log] == ["pre0", "pre", "full", "after", "x.grad", "w.grad"]


def several(lib: Any) -> list[Any]:
    """Inputs of every kind (a tensor that requires grad, one that does not, one unused, a
    number) and two outputs, one of them unused."""

    class Mixed(lib.nn.Module):
        def forward(self, a, b, k, unused, c):
            return a * b * k + c, (b * c).sum()

    m = Mixed()
    log: list[Any] = []
    m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", go)))
    m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", gi, go)))
    a = lib.tensor(X, requires_grad=True)
    b = lib.tensor(X[::-1].copy())
    unused = lib.tensor([1.0, 2.0], requires_grad=True)
    c = lib.tensor(X + 1, requires_grad=True)
    y, _ = m(a, b, 3.0, unused, c)
    y.sum().backward()
    log.append(("grads", a.grad, unused.grad, c.grad))
    return arr(log)


def test_several_inputs_and_outputs_by_hand() -> None:
    log = several(mt)
    (_, go), (_, gi, go2), (_, ga, gunused, gc) = log
    assert go[1] is None and gi[2] is None  # the unused output, the number
    np.testing.assert_array_equal(gi[1], np.zeros_like(X))  # a tensor without grad: zeros
    np.testing.assert_array_equal(go[0], np.ones_like(X))
    np.testing.assert_allclose(gi[0], 3 * X[::-1])
    np.testing.assert_array_equal(gi[3], np.zeros(2))  # unused but requires grad: zeros
    np.testing.assert_array_equal(gi[4], np.ones_like(X))
    np.testing.assert_allclose(ga, gi[0])
    np.testing.assert_array_equal(gunused, np.zeros(2))  # (the zeros the gate gave it)
    np.testing.assert_array_equal(gc, gi[4])


def test_several_inputs_and_outputs_match_torch(torch: Any) -> None:
    both(torch, several)


def test_first_layer_hook_runs_with_no_grad_input_and_warns(torch: Any) -> None:
    def scenario(lib: Any) -> list[Any]:
        m = linear(lib)
        log: list[Any] = []
        m.register_full_backward_hook(lambda mod, gi, go: log.append((gi, go)))
        with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are "
                                             "computed with respect to module outputs"):
            m(lib.tensor(X)).sum().backward()
        log.append(m.bias.grad)
        return arr(log)

    log = both(torch, scenario)
    assert log[0][0] == (None,)


@pytest.mark.parametrize("lib_name", ["mt", "torch"])
def test_first_layer_hook_cannot_return_a_gradient(lib_name: str) -> None:
    lib = mt if lib_name == "mt" else pytest.importorskip("torch")
    m = linear(lib)
    m.register_full_backward_hook(lambda mod, gi, go: (lib.ones(4, 2),))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(RuntimeError, match="Backward hook for Modules where no input "
                                               "requires gradient should always return None"):
            m(lib.tensor(X)).sum().backward()


@pytest.mark.parametrize("lib_name", ["mt", "torch"])
@pytest.mark.parametrize(("returned", "message"), [
    (lambda lib, gi: (gi[0], gi[0]), "Backward hook returned an invalid number of grad_input, "
                                     "got 2, but expected 1"),
    (lambda lib, gi: (lib.ones(5),), "has changed the size of value"),
    (lambda lib, gi: (lib.ones(1, 2),), "has changed the size of value"),
    (lambda lib, gi: (gi[0].double(),), "has changed the type of value"),
])
def test_a_wrong_grad_input_is_an_error(lib_name: str, returned: Any, message: str) -> None:
    lib = mt if lib_name == "mt" else pytest.importorskip("torch")
    m = linear(lib)
    m.register_full_backward_hook(lambda mod, gi, go: returned(lib, gi))
    with pytest.raises(RuntimeError, match=message):
        m(lib.tensor(X, requires_grad=True)).sum().backward()


@pytest.mark.parametrize("lib_name", ["mt", "torch"])
def test_a_wrong_grad_output_count_is_an_error(lib_name: str) -> None:
    lib = mt if lib_name == "mt" else pytest.importorskip("torch")
    m = linear(lib)
    m.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="Backward pre hook returned an invalid number of "
                                           "grad_output, got 2, but expected 1"):
        m(lib.tensor(X, requires_grad=True)).sum().backward()


def test_backward_hooks_through_a_network_match_torch(torch: Any) -> None:
    def scenario(lib: Any) -> list[Any]:
        model = lib.nn.Sequential(linear(lib), lib.nn.Sigmoid(), lib.nn.Linear(3, 1))
        with lib.no_grad():
            model[2].weight.copy_(lib.tensor([[1.0, -2.0, 0.5]]))
            model[2].bias.fill_(0.1)
        log: list[Any] = []
        for name, module in model.named_modules():
            module.register_full_backward_hook(
                lambda mod, gi, go, name=name: log.append((name, gi, go)))
        loss = lib.nn.functional.binary_cross_entropy_with_logits(
            model(lib.tensor(X)), lib.tensor([[0.0], [1.0], [1.0], [0.0]]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # (the first layer's, and the model's)
            loss.backward()
        log.append([p.grad for p in model.parameters()])
        return arr(log)

    log = both(torch, scenario)
    # The model's own hook and the first layer's have no input that requires grad: they run
    # when their output's gradient is known.
    assert [e[0] for e in log[:-1]] == ["", "2", "1", "0"]


def test_a_module_called_twice_runs_its_hooks_for_each_call(torch: Any) -> None:
    def scenario(lib: Any) -> list[Any]:
        m = lib.nn.Tanh()
        log: list[Any] = []
        m.register_full_backward_hook(lambda mod, gi, go: log.append((gi, go)))
        x = lib.tensor(X, requires_grad=True)
        (m(m(x) * 2) * lib.tensor(X)).sum().backward()
        log.append(x.grad)
        return arr(log)

    assert len(both(torch, scenario)) == 3


def test_backward_hooks_with_retain_graph_and_create_graph(torch: Any) -> None:
    def scenario(lib: Any) -> list[Any]:
        m = lib.nn.Tanh()
        log: list[Any] = []
        m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", gi, go)))
        x = lib.tensor(X, requires_grad=True)
        y = (m(x) ** 2).sum()
        y.backward(retain_graph=True)
        y.backward()
        log.append(("twice", x.grad))
        x.grad = None
        (g,) = lib.autograd.grad((m(x) ** 3).sum(), x, create_graph=True)
        log.append(("first", g))
        g.sum().backward()
        log.append(("second", x.grad))
        return arr(log)

    log = both(torch, scenario)
    assert [e[0] for e in log] == ["full", "full", "twice", "full", "first", "full", "second"]


def test_no_backward_hook_without_grad_mode_or_for_a_dict_output(torch: Any) -> None:
    def scenario(lib: Any) -> list[Any]:
        class Dict(lib.nn.Module):
            def forward(self, x):
                return {"y": x * 2}

        log: list[Any] = []
        m = linear(lib)
        m.register_full_backward_hook(lambda mod, gi, go: log.append("linear"))
        with lib.no_grad():
            y = m(lib.tensor(X, requires_grad=True))
        log.append(y.requires_grad)
        d = Dict()
        d.register_full_backward_hook(lambda mod, gi, go: log.append("dict"))
        with pytest.warns(UserWarning, match="module output should be a Tensor or a tuple"):
            out = d(lib.tensor(X, requires_grad=True))
        out["y"].sum().backward()
        return log

    assert both(torch, scenario) == [False]


def test_backward_hook_nodes_are_named_in_the_graph() -> None:
    m = linear(mt)
    m.register_full_backward_hook(lambda mod, gi, go: None)
    y = m(mt.tensor(X, requires_grad=True))
    assert y.grad_fn is not None and y.grad_fn.name() == "BackwardHookFunctionBackward"
    assert "Linear outputs" in mt.to_dot(y)  # (the gate's label names the module)


# ----------------------------------------------------------------------------------------------
# Hooks leave the module as it was: registration, printing, state_dict, deep copies
# ----------------------------------------------------------------------------------------------

def test_hooks_do_not_change_what_a_module_registers_or_prints() -> None:
    model = nn.Sequential(linear(mt), nn.ReLU())
    before = (repr(model), list(model.state_dict()), [n for n, _ in model.named_modules()],
              [n for n, _ in model.named_parameters()], list(model.named_buffers()))
    for module in model.modules():
        module.register_forward_hook(lambda mod, args, out: None)
        module.register_full_backward_hook(lambda mod, gi, go: None)
    after = (repr(model), list(model.state_dict()), [n for n, _ in model.named_modules()],
             [n for n, _ in model.named_parameters()], list(model.named_buffers()))
    assert before == after
    model.load_state_dict(model.state_dict())
    model[0].helper = nn.Linear(1, 1)  # registration by assignment still works
    assert "helper" in dict(model[0].named_children())


def test_deepcopy_of_a_model_keeps_its_hooks(torch: Any) -> None:
    # As PyTorch: the copy has the same hooks (it is called as the module argument), and
    # removing the original's handle leaves the copy's.
    def scenario(lib: Any) -> list[Any]:
        m = linear(lib)
        seen: list[Any] = []
        handle = m.register_forward_hook(lambda mod, args, out: seen.append(mod))
        twin = copy.deepcopy(m)
        twin(lib.tensor(X))
        handle.remove()
        m(lib.tensor(X))
        twin(lib.tensor(X))
        return [s is twin for s in seen]

    assert both(torch, scenario) == [True, True]


def test_deepcopy_keeps_backward_hooks_working() -> None:
    m = linear(mt)
    log: list[Any] = []
    m.register_full_backward_hook(lambda mod, gi, go: log.append(mod))
    twin = copy.deepcopy(m)
    twin(mt.tensor(X, requires_grad=True)).sum().backward()
    assert log == [twin]


# ----------------------------------------------------------------------------------------------
# Optimizer step hooks
# ----------------------------------------------------------------------------------------------

def stepping(lib: Any, name: str) -> list[Any]:
    m = linear(lib)
    opt = getattr(lib.optim, name)(m.parameters(), lr=0.1)
    log: list[Any] = []

    def pre(o: Any, args: Any, kwargs: Any) -> None:
        log.append(("pre", o is opt, len(args), args[0] is opt, args[1:], kwargs,
                    m.weight.detach().numpy().copy()))

    def post(o: Any, args: Any, kwargs: Any) -> None:
        log.append(("post", o is opt, len(args), kwargs, m.weight.detach().numpy().copy()))

    def closure() -> Any:
        return 1.5

    h_pre = opt.register_step_pre_hook(pre)
    opt.register_step_post_hook(post)
    m(lib.tensor(X)).sum().backward()
    opt.step()
    log.append(("returned", opt.step(closure)))
    h_pre.remove()
    opt.step()
    return [e if e[0] != "pre" or len(e[4]) == 0 else (*e[:4], ("closure",), *e[5:])
            for e in log]


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_step_hooks_run_around_each_step(name: str) -> None:
    log = stepping(mt, name)
    assert [e[0] for e in log] == ["pre", "post", "pre", "post", "returned", "post"]
    assert log[0][1:6] == (True, 1, True, (), {})
    assert log[2][2:6] == (2, True, ("closure",), {})
    assert log[4] == ("returned", 1.5)
    assert not np.array_equal(log[0][6], log[1][4])  # the update happened in between
    np.testing.assert_array_equal(log[1][4], log[2][6])


def test_step_hooks_see_a_closure_as_positional() -> None:
    # (PyTorch's see closure=f in kwargs; microtensor's step does not wrap itself, to keep
    # the hot path free: see docs/nn-and-optim.md, differences)
    opt = optim.SGD(linear(mt).parameters(), lr=0.1)
    seen: list[Any] = []
    opt.register_step_pre_hook(lambda o, args, kwargs: seen.append((len(args), kwargs)))
    opt.step(closure=lambda: None)
    opt.step(None)
    assert seen == [(2, {}), (1, {})]


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_step_hooks_match_torch(torch: Any, name: str) -> None:
    both(torch, lambda lib: stepping(lib, name))


def test_a_step_pre_hook_can_replace_the_arguments(torch: Any) -> None:
    def scenario(lib: Any) -> list[Any]:
        m = linear(lib)
        opt = lib.optim.SGD(m.parameters(), lr=0.1)
        x = lib.tensor(X)

        def closure() -> Any:
            opt.zero_grad()
            loss = m(x).sum()
            loss.backward()
            return loss

        opt.register_step_pre_hook(lambda o, args, kwargs: ((o,), {"closure": closure}))
        seen: list[Any] = []
        opt.register_step_post_hook(lambda o, args, kwargs: seen.append(sorted(kwargs)))
        loss = opt.step()
        return [loss.item(), seen, m.weight.detach().numpy().copy()]

    both(torch, scenario)


@pytest.mark.parametrize("lib_name", ["mt", "torch"])
def test_a_step_pre_hook_must_return_a_pair(lib_name: str) -> None:
    lib = mt if lib_name == "mt" else pytest.importorskip("torch")
    opt = lib.optim.SGD(linear(lib).parameters(), lr=0.1)
    opt.register_step_pre_hook(lambda o, args, kwargs: 5)
    with pytest.raises(RuntimeError, match=r"must return None or a tuple of \(new_args, "
                                           r"new_kwargs\), but got 5"):
        opt.step()


def test_step_hooks_run_for_a_subclass_that_defines_step() -> None:
    class PlainSGD(optim.Optimizer):
        def __init__(self, params: Any, lr: float) -> None:
            super().__init__(params, {"lr": lr})

        @mt.no_grad()
        def step(self, closure: Any = None) -> Any:
            for group in self.param_groups:
                for p in group["params"]:
                    p -= group["lr"] * p.grad
            return None

    class Twice(optim.SGD):
        def step(self, closure: Any = None) -> Any:
            super().step(closure)
            return super().step(closure)

    m = linear(mt)
    m(mt.tensor(X)).sum().backward()
    for opt in (PlainSGD(m.parameters(), lr=0.1), Twice(m.parameters(), lr=0.1)):
        log: list[str] = []
        opt.register_step_pre_hook(lambda o, args, kwargs, log=log: log.append("pre"))
        opt.register_step_post_hook(lambda o, args, kwargs, log=log: log.append("post"))
        before = m.weight.detach().numpy().copy()
        opt.step()
        assert log == ["pre", "post"]  # once, also when a step calls super().step()
        steps = 2 if isinstance(opt, Twice) else 1
        np.testing.assert_allclose(m.weight.detach().numpy(),
                                   before - steps * 0.1 * m.weight.grad.numpy(), rtol=1e-6)


def test_deepcopy_of_an_optimizer_drops_its_step_hooks(torch: Any) -> None:
    def scenario(lib: Any) -> list[Any]:
        m = linear(lib)
        opt = lib.optim.Adam(m.parameters(), lr=0.1)
        log: list[Any] = []
        opt.register_step_post_hook(lambda o, args, kwargs: log.append(o is opt))
        m(lib.tensor(X)).sum().backward()
        opt.step()
        twin = copy.deepcopy(opt)
        twin.step()
        opt.step()
        log.append(sorted(twin.state_dict()["state"]))
        return log

    assert both(torch, scenario) == [True, True, [0, 1]]


def test_a_hook_that_raises_leaves_the_optimizer_usable() -> None:
    opt = optim.SGD(linear(mt).parameters(), lr=0.1)

    def fail(o: Any, args: Any, kwargs: Any) -> None:
        raise ValueError("no")

    handle = opt.register_step_pre_hook(fail)
    log: list[str] = []
    opt.register_step_post_hook(lambda o, args, kwargs: log.append("post"))
    with pytest.raises(ValueError, match="no"):
        opt.step()
    handle.remove()
    opt.step()
    assert log == ["post"]


def test_a_copy_made_inside_a_step_hook_runs_its_own_hooks() -> None:
    # (what a step hook that snapshots the optimizer does: the copy starts with no hooks and
    # is not left marked as stepping)
    m = linear(mt)
    opt = optim.SGD(m.parameters(), lr=0.1)
    copies: list[Any] = []
    opt.register_step_post_hook(lambda o, args, kwargs: copies.append(copy.deepcopy(o)))
    opt.step()
    twin = copies[0]
    log: list[str] = []
    twin.register_step_post_hook(lambda o, args, kwargs: log.append("twin"))
    twin.step()
    assert log == ["twin"] and len(copies) == 1


def test_a_gradient_a_leaf_hook_kept_is_not_changed_by_the_next_backward() -> None:
    # PyTorch 2.13 gives the same: the hook saw [3, 3], then [5, 5]; .grad is their sum.
    w = mt.ones(2, requires_grad=True)
    seen: list[mt.Tensor] = []
    w.register_hook(seen.append)
    (w * 3).sum().backward()
    (w * 5).sum().backward()
    assert [g.tolist() for g in seen] == [[3.0, 3.0], [5.0, 5.0]]
    assert w.grad is not None and w.grad.tolist() == [8.0, 8.0]
