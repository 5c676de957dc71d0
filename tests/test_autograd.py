"""The autograd engine: accumulation, graph shapes, memory, higher order, grad, hooks, grad mode,
custom Functions and gradcheck itself. Expected values come from hand-derived formulas."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor.autograd import Function, GradcheckError, gradcheck, gradgradcheck


def f64(values: Any, requires_grad: bool = True) -> mt.Tensor:
    return mt.tensor(values, dtype=mt.float64, requires_grad=requires_grad)


def close(t: Any, expected: Any) -> None:
    np.testing.assert_allclose(t.detach().numpy() if isinstance(t, mt.Tensor) else t, expected,
                               rtol=1e-12, atol=1e-12)


@pytest.fixture
def gc_off() -> Iterator[None]:
    """Freed by reference counting alone: the cycle collector must not be needed."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# -- basic graphs --------------------------------------------------------------------------------

def test_x_times_x_gives_2x() -> None:
    x = f64([1.0, -2.0, 3.5])
    (x * x).sum().backward()
    close(x.grad, [2.0, -4.0, 7.0])


def test_diamond_graph() -> None:
    # x -> a = 3x -> (exp(a), sin(a)) -> y = exp(a) * sin(a): both branches reach x through a.
    x = f64([0.2, -0.7])
    a = x * 3.0
    y = (a.exp() * a.sin()).sum()
    y.backward()
    xv = np.array([0.2, -0.7])
    close(x.grad, 3.0 * np.exp(3 * xv) * (np.sin(3 * xv) + np.cos(3 * xv)))


def test_leaf_used_in_1000_branches() -> None:
    x = f64(2.0)
    total = x * 1.0
    for _ in range(999):
        total = total + x
    total.backward()
    assert x.grad.item() == 1000.0


def test_leaf_used_1000_times_in_one_op() -> None:
    x = f64([1.0, 2.0])
    mt.stack([x] * 1000).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1000.0, 1000.0])


def test_retain_graph_twice_doubles_leaf_gradients() -> None:
    x = f64([1.0, 2.0])
    y = (x * x * x).sum()
    y.backward(retain_graph=True)
    close(x.grad, [3.0, 12.0])
    y.backward()
    close(x.grad, [6.0, 24.0])


def test_gradients_accumulate_across_calls() -> None:
    x = f64([1.0, 2.0])
    (x * 2.0).sum().backward()
    (x * x).sum().backward()
    close(x.grad, [2.0 + 2.0, 2.0 + 4.0])
    x.grad = None
    (x * 5.0).sum().backward()
    close(x.grad, [5.0, 5.0])


def test_leaf_gradient_has_the_leaf_shape_and_dtype() -> None:
    b = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)  # float32, broadcast over rows
    (mt.ones(4, 3) * b).sum().backward()
    assert b.grad.shape == (3,) and b.grad.dtype == mt.float32
    np.testing.assert_array_equal(b.grad.numpy(), [4.0, 4.0, 4.0])
    assert b.grad.grad_fn is None and not b.grad.requires_grad


def test_chain_of_100000_ops_at_default_recursion_limit() -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default, whatever the test runner set
    try:
        c = 1.00001
        x = f64(1.0)
        y = x
        for _ in range(100_000):
            y = y * c
        y.backward()
        np.testing.assert_allclose(x.grad.item(), c**100_000, rtol=1e-9)
        del y  # freeing the chain must not recurse either
    finally:
        sys.setrecursionlimit(limit)


def test_backward_with_gradient_argument() -> None:
    x = f64([1.0, 2.0, 3.0])
    y = x * x
    y.backward(gradient=mt.tensor([1.0, 0.5, -1.0], dtype=mt.float64))
    close(x.grad, [2.0, 2.0, -6.0])


def test_backward_on_a_leaf_copies_the_gradient() -> None:
    x = f64([1.0, 2.0])
    g = f64([3.0, 4.0], requires_grad=False)
    x.backward(g)
    close(x.grad, [3.0, 4.0])
    g.data[0] = 100.0
    close(x.grad, [3.0, 4.0])


def test_inputs_that_do_not_require_grad_get_no_gradient() -> None:
    x = f64([1.0, 2.0])
    c = f64([3.0, 4.0], requires_grad=False)
    (x * c).sum().backward()
    close(x.grad, [3.0, 4.0])
    assert c.grad is None


def test_is_leaf_and_requires_grad_propagation() -> None:
    x = f64([1.0])
    c = mt.tensor([2.0])
    y = x * c
    assert x.is_leaf and c.is_leaf and not y.is_leaf
    assert y.requires_grad and not (c * 2).requires_grad
    assert (c * 2).is_leaf  # not recorded: a leaf, as in PyTorch


# -- memory --------------------------------------------------------------------------------------

def test_intermediates_freed_after_backward_and_del(gc_off: None) -> None:
    x = f64(np.ones(5))
    a = x * 2.0
    b = a.sigmoid()
    c = (b * a).exp()
    y = c.sum()
    refs = [weakref.ref(t) for t in (a, b, c, y)]
    node_refs = [weakref.ref(t.grad_fn) for t in (a, b, c, y)]
    y.backward()
    del a, b, c, y
    assert all(r() is None for r in refs), "an intermediate tensor was kept alive"
    assert all(r() is None for r in node_refs), "a graph node was kept alive"
    assert x.grad is not None


def test_graph_freed_without_backward(gc_off: None) -> None:
    x = f64(np.ones(3))
    y = (x.tanh() * x).softmax(0).log_softmax(0)
    out = weakref.ref(y)
    node = weakref.ref(y.grad_fn)
    del y
    assert out() is None and node() is None


def test_retain_grad_and_hooks_do_not_keep_tensors_alive(gc_off: None) -> None:
    x = f64([1.0, 2.0])
    a = x * 3.0
    a.retain_grad()
    a.register_hook(lambda g: g * 2.0)
    ref = weakref.ref(a)
    (a * a).sum().backward()
    del a
    assert ref() is None


def test_memory_does_not_grow_over_a_training_loop(gc_off: None) -> None:
    w = f64(np.full(3, 0.5))
    x = mt.tensor(np.linspace(-1, 1, 12).reshape(4, 3), dtype=mt.float64)
    nodes = []
    for _ in range(20):
        loss = ((x @ w).tanh() - 0.3).pow(2).mean()
        nodes.append(weakref.ref(loss.grad_fn))
        loss.backward()
        with mt.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
    del loss
    assert all(r() is None for r in nodes)


def test_saved_values_released_after_backward() -> None:
    x = f64([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_saved_values_released_after_autograd_grad() -> None:
    x = f64([1.0, 2.0])
    y = x.exp().sum()
    mt.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        mt.autograd.grad(y, x)


def test_retain_graph_allows_a_second_backward() -> None:
    x = f64([1.0, 2.0])
    y = x.exp().sum()
    mt.autograd.grad(y, x, retain_graph=True)
    (g,) = mt.autograd.grad(y, x)
    close(g, np.exp([1.0, 2.0]))


# -- higher order --------------------------------------------------------------------------------

def test_second_derivative_of_cube() -> None:
    x = f64([1.0, -2.0, 0.5])
    (dx,) = mt.autograd.grad((x**3).sum(), x, create_graph=True)
    close(dx, 3 * np.array([1.0, -2.0, 0.5]) ** 2)
    assert dx.requires_grad and dx.grad_fn is not None
    (ddx,) = mt.autograd.grad(dx.sum(), x)
    close(ddx, 6 * np.array([1.0, -2.0, 0.5]))


def test_third_derivative_of_sin() -> None:
    x = f64([0.3, 1.2])
    (d1,) = mt.autograd.grad(x.sin().sum(), x, create_graph=True)
    (d2,) = mt.autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = mt.autograd.grad(d2.sum(), x)
    xv = np.array([0.3, 1.2])
    close(d1, np.cos(xv))
    close(d2, -np.sin(xv))
    close(d3, -np.cos(xv))


def test_second_derivatives_of_smooth_functions() -> None:
    xv = np.array([0.4, -1.3])
    s = 1 / (1 + np.exp(-xv))
    cases = [  # f, f''
        (lambda x: x.sigmoid(), s * (1 - s) * (1 - 2 * s)),
        (lambda x: x.tanh(), -2 * np.tanh(xv) * (1 - np.tanh(xv) ** 2)),
        (lambda x: x.softplus(), s * (1 - s)),
        (lambda x: x.exp(), np.exp(xv)),
        (lambda x: (x * x + 1.0).log(), 2 * (1 - xv**2) / (1 + xv**2) ** 2),
        (lambda x: (x * x + 1.0).sqrt(), (1 + xv**2) ** -1.5),
        (lambda x: 1.0 / (x + 3.0), 2 / (xv + 3.0) ** 3),
    ]
    for fn, expected in cases:
        x = f64(xv)
        (d1,) = mt.autograd.grad(fn(x).sum(), x, create_graph=True)
        (d2,) = mt.autograd.grad(d1.sum(), x)
        np.testing.assert_allclose(d2.numpy(), expected, rtol=1e-10)


def test_hessian_vector_product() -> None:
    # f(x) = (x.x)^2: grad = 4 (x.x) x, Hessian = 4 (x.x) I + 8 x x^T.
    xv, vv = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -1.0])
    x = f64(xv)
    f = (x * x).sum() ** 2
    (g,) = mt.autograd.grad(f, x, create_graph=True)
    close(g, 4 * xv.dot(xv) * xv)
    (hv,) = mt.autograd.grad((g * mt.tensor(vv)).sum(), x)
    close(hv, 4 * xv.dot(xv) * vv + 8 * xv * xv.dot(vv))


def test_create_graph_backward_gives_differentiable_grad() -> None:
    x = f64([2.0])
    (x**4).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    close(x.grad, [32.0])
    g = x.grad
    x.grad = None
    g.sum().backward()
    close(x.grad, [48.0])  # d/dx 4x^3 = 12x^2


def test_hessian_through_matmul_and_log_softmax() -> None:
    # Cross-entropy of softmax(W x): d2/dW2 checked by gradgradcheck against finite differences.
    rng = np.random.default_rng(0)
    w = f64(rng.normal(size=(3, 4)))
    x = f64(rng.normal(size=(4,)), requires_grad=False)
    assert gradgradcheck(lambda w: -(w @ x).log_softmax(0)[1], [w])


# -- autograd.grad -------------------------------------------------------------------------------

def test_grad_does_not_accumulate_into_dot_grad() -> None:
    x = f64([1.0, 2.0])
    (g,) = mt.autograd.grad((x * x).sum(), x)
    close(g, [2.0, 4.0])
    assert x.grad is None
    assert not g.requires_grad


def test_grad_with_respect_to_several_inputs_and_outputs() -> None:
    x, y = f64([1.0, 2.0]), f64([3.0, -1.0])
    gx, gy = mt.autograd.grad([(x * y).sum(), x.sum()], [x, y])
    close(gx, [4.0, 0.0])
    close(gy, [1.0, 2.0])


def test_grad_outputs() -> None:
    x = f64([1.0, 2.0])
    (g,) = mt.autograd.grad(x * x, x, grad_outputs=f64([1.0, -1.0], requires_grad=False))
    close(g, [2.0, -4.0])


def test_grad_allow_unused() -> None:
    x, unused = f64([1.0]), f64([2.0])
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        mt.autograd.grad((x * 2.0).sum(), [x, unused])
    gx, gu = mt.autograd.grad((x * 2.0).sum(), [x, unused], allow_unused=True)
    close(gx, [2.0])
    assert gu is None


def test_grad_with_respect_to_a_non_leaf() -> None:
    x = f64([1.0, 2.0])
    a = x * 3.0
    y = (a * a).sum()
    ga, gx = mt.autograd.grad(y, [a, x])
    close(ga, [6.0, 12.0])
    close(gx, [18.0, 36.0])
    assert x.grad is None and a.grad is None


def test_grad_runs_only_the_nodes_it_needs() -> None:
    # d/dg of g*g must not run the (non-differentiable) backward that produced g.
    x = f64([0.0, 2.0, 3.0])
    (g,) = mt.autograd.grad(x.prod(), x, create_graph=True)
    (gg,) = mt.autograd.grad((g * g).sum(), g)
    close(gg, 2 * np.array([6.0, 0.0, 0.0]))


def test_grad_of_an_input_that_does_not_require_grad_raises() -> None:
    x = f64([1.0])
    c = f64([1.0], requires_grad=False)
    with pytest.raises(RuntimeError, match="does not require grad"):
        mt.autograd.grad((x * c).sum(), c)


def test_functional_backward() -> None:
    x = f64([1.0, 2.0])
    mt.autograd.backward([(x * x).sum(), x.sum()])
    close(x.grad, [3.0, 5.0])


# -- retain_grad and hooks -----------------------------------------------------------------------

def test_intermediates_keep_no_grad_unless_retained() -> None:
    x = f64([1.0, 2.0])
    a = x * 2.0
    b = x * 3.0
    b.retain_grad()
    assert b.retains_grad and not a.retains_grad
    (a * b).sum().backward()
    assert a.grad is None
    close(b.grad, [2.0, 4.0])  # d/db (a*b) = a


def test_retained_grad_accumulates_like_pytorch() -> None:
    x = f64([1.0, 2.0])
    y = x * 2.0
    y.retain_grad()
    z = (y * y).sum()
    z.backward(retain_graph=True)
    close(y.grad, [4.0, 8.0])
    z.backward()
    close(y.grad, [8.0, 16.0])


def test_hook_on_leaf_sees_total_gradient_once() -> None:
    seen = []
    x = f64([1.0, 2.0])
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    (x * x + x).sum().backward()  # three paths into x
    assert len(seen) == 1
    close(seen[0], [3.0, 5.0])
    close(x.grad, [3.0, 5.0])


def test_hook_replaces_gradient_on_leaf_and_intermediate() -> None:
    x = f64([1.0, 2.0])
    x.register_hook(lambda g: g * 10.0)
    (x * x).sum().backward()
    close(x.grad, [20.0, 40.0])

    x = f64([1.0, 2.0])
    a = x * 3.0
    seen = []
    a.register_hook(lambda g: seen.append(g.numpy().copy()))
    a.register_hook(lambda g: mt.ones_like(g))  # replace d/da with ones
    (a * a).sum().backward()
    close(seen[0], [6.0, 12.0])
    close(x.grad, [3.0, 3.0])


def test_hook_runs_before_retained_grad_is_stored() -> None:
    x = f64([1.0, 2.0])
    a = x * 3.0
    a.retain_grad()
    a.register_hook(lambda g: g * 100.0)
    (a * a).sum().backward()
    close(a.grad, [600.0, 1200.0])
    close(x.grad, [1800.0, 3600.0])


def test_hook_runs_in_autograd_grad() -> None:
    x = f64([1.0, 2.0])
    x.register_hook(lambda g: g * 10.0)
    (g,) = mt.autograd.grad((x * x).sum(), x)
    close(g, [20.0, 40.0])


def test_hook_handle_remove() -> None:
    x = f64([1.0, 2.0])
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    (x * 1.0).sum().backward()
    handle.remove()
    handle.remove()  # removing twice is harmless
    (x * 1.0).sum().backward()
    assert calls == [1]
    close(x.grad, [2.0, 2.0])


def test_register_hook_on_tensor_without_grad_raises() -> None:
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        mt.tensor([1.0]).register_hook(lambda g: g)


# -- grad mode -----------------------------------------------------------------------------------

def test_no_grad_context_manager() -> None:
    x = f64([1.0])
    with mt.no_grad():
        y = x * 2.0
        assert not mt.is_grad_enabled()
    assert mt.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_no_grad_restores_mode_after_an_exception() -> None:
    with pytest.raises(ValueError), mt.no_grad():
        raise ValueError
    assert mt.is_grad_enabled()


def test_no_grad_and_enable_grad_as_decorators() -> None:
    x = f64([1.0])

    @mt.no_grad()
    def frozen(t: mt.Tensor) -> mt.Tensor:
        return t * 2.0

    @mt.enable_grad()
    def recorded(t: mt.Tensor) -> mt.Tensor:
        return t * 2.0

    assert not frozen(x).requires_grad
    with mt.no_grad():
        assert recorded(x).requires_grad
    assert frozen.__name__ == "frozen"


def test_enable_grad_inside_no_grad() -> None:
    x = f64([1.0])
    with mt.no_grad():
        with mt.enable_grad():
            assert (x * 2.0).requires_grad
        assert not (x * 2.0).requires_grad


def test_set_grad_enabled_as_function_context_manager_and_decorator() -> None:
    x = f64([1.0])
    try:
        mt.set_grad_enabled(False)
        assert not (x * 2.0).requires_grad
    finally:
        mt.set_grad_enabled(True)
    assert (x * 2.0).requires_grad
    with mt.set_grad_enabled(False):
        assert not (x * 2.0).requires_grad
    assert (x * 2.0).requires_grad
    with mt.no_grad(), mt.set_grad_enabled(True):
        assert (x * 2.0).requires_grad

    @mt.set_grad_enabled(False)
    def frozen(t: mt.Tensor) -> mt.Tensor:
        return t * 2.0

    assert mt.is_grad_enabled()  # decorating does not switch the mode
    assert not frozen(x).requires_grad
    assert mt.is_grad_enabled()


def test_backward_runs_without_recording() -> None:
    # A plain backward builds no graph for the gradients.
    x = f64([1.0, 2.0])
    (x.sin() * x).sum().backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad


def test_detach() -> None:
    x = f64([1.0, 2.0])
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    close(d, [2.0, 4.0])
    y = (x * d).sum()  # d is a constant
    y.backward()
    close(x.grad, [2.0, 4.0])


def test_detach_shares_data() -> None:
    x = f64([1.0, 2.0])
    d = x.detach()
    d.data[0] = 5.0
    assert x.detach().numpy()[0] == 5.0


def test_requires_grad_() -> None:
    x = mt.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    x.requires_grad_(False)
    assert not x.requires_grad
    y = f64([1.0]) * 2.0
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="floating point"):
        mt.tensor([1, 2]).requires_grad_()


# -- custom Functions ----------------------------------------------------------------------------

class Cube(Function):
    """y = x**3;   dx = g * 3 x**2"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx: Any, grad_output: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad_output * 3.0 * x * x


class ScaledMul(Function):
    """z = a * b * scale;   da = g * b * scale,  db = g * a * scale"""

    seen_needs: tuple[bool, ...] = ()

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray, scale: float = 1.0) -> np.ndarray:
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale

    @staticmethod
    def backward(ctx: Any, grad_output: Any) -> Any:
        a, b = ctx.saved_tensors
        ScaledMul.seen_needs = ctx.needs_input_grad
        da = grad_output * b * ctx.scale if ctx.needs_input_grad[0] else None
        db = grad_output * a * ctx.scale if ctx.needs_input_grad[1] else None
        return da, db


class NumpyCube(Function):
    """y = x**3 with a backward computed in NumPy (fine once, not differentiable)."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        return x**3

    @staticmethod
    def backward(ctx: Any, grad_output: Any) -> Any:
        return grad_output.detach().numpy() * 3.0 * ctx.x**2


def test_custom_function_first_and_second_order() -> None:
    x = f64([1.0, -2.0])
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    assert repr(y).endswith("grad_fn=<CubeBackward>)")
    (g,) = mt.autograd.grad(y.sum(), x, create_graph=True)
    close(g, [3.0, 12.0])
    (gg,) = mt.autograd.grad(g.sum(), x)
    close(gg, [6.0, -12.0])
    assert gradcheck(Cube.apply, [f64([0.5, -1.5])])
    assert gradgradcheck(Cube.apply, [f64([0.5, -1.5])])


def test_custom_function_needs_input_grad_and_kwargs() -> None:
    a = f64([1.0, 2.0])
    b = f64([3.0, 4.0], requires_grad=False)
    z = ScaledMul.apply(a, b, scale=2.0)
    assert z.grad_fn.kwargs == {"scale": 2.0}
    z.sum().backward()
    assert ScaledMul.seen_needs == (True, False)
    close(a.grad, [6.0, 8.0])
    assert b.grad is None


def test_custom_function_without_grad_is_not_recorded() -> None:
    z = ScaledMul.apply(mt.tensor([1.0]), mt.tensor([2.0]))
    assert z.grad_fn is None and not z.requires_grad
    with mt.no_grad():
        assert ScaledMul.apply(f64([1.0]), f64([2.0])).grad_fn is None


def test_custom_function_with_numpy_backward() -> None:
    x = f64([1.0, -2.0])
    NumpyCube.apply(x).sum().backward()
    close(x.grad, [3.0, 12.0])
    x.grad = None
    (g,) = mt.autograd.grad(NumpyCube.apply(x).sum(), x, create_graph=True)
    close(g, [3.0, 12.0])  # first order still works with create_graph
    with pytest.raises(RuntimeError, match="NumpyCubeBackward returned NumPy arrays"):
        mt.autograd.grad(g.sum(), x)


def test_prod_with_zeros_refuses_second_order_clearly() -> None:
    x = f64([0.0, 2.0, 3.0])
    (g,) = mt.autograd.grad(x.prod(), x, create_graph=True)
    close(g, [6.0, 0.0, 0.0])
    with pytest.raises(RuntimeError, match="ProdBackward"):
        mt.autograd.grad(g.sum(), x)


def test_custom_function_wrong_number_of_gradients() -> None:
    class Bad(Function):
        @staticmethod
        def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return a + b

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g

    with pytest.raises(RuntimeError, match=r"BadBackward.*expected 2, got 1"):
        Bad.apply(f64([1.0]), f64([2.0])).sum().backward()


def test_custom_function_wrong_gradient_shape() -> None:
    class BadShape(Function):
        @staticmethod
        def forward(ctx: Any, a: np.ndarray) -> np.ndarray:
            return a * 2

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return mt.ones(5, dtype=mt.float64)

    with pytest.raises(RuntimeError, match=r"BadShapeBackward.*\(5,\).*\(2,\)"):
        BadShape.apply(f64([1.0, 2.0])).sum().backward()


def test_saved_tensor_modified_in_place_is_detected() -> None:
    x = f64([1.0, 2.0])
    w = f64([3.0, 4.0], requires_grad=False)
    y = (x * w).sum()
    w += 1.0  # allowed: w does not require grad, but Mul saved it
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


# -- names and printing --------------------------------------------------------------------------

@pytest.mark.parametrize(("make", "name"), [
    (lambda x: x * 2.0, "MulBackward"), (lambda x: x + x, "AddBackward"),
    (lambda x: x - 1.0, "SubBackward"), (lambda x: x / 2.0, "DivBackward"),
    (lambda x: -x, "NegBackward"), (lambda x: x**2, "PowBackward"),
    (lambda x: x.sigmoid(), "SigmoidBackward"), (lambda x: x.exp(), "ExpBackward"),
    (lambda x: x.log(), "LogBackward"), (lambda x: x.tanh(), "TanhBackward"),
    (lambda x: x.relu(), "ReluBackward"), (lambda x: x.sum(), "SumBackward"),
    (lambda x: x.amax(), "AmaxBackward"), (lambda x: x.softmax(-1), "SoftmaxBackward"),
    (lambda x: x.log_softmax(-1), "LogSoftmaxBackward"),
    (lambda x: x @ x.T, "MatmulBackward"), (lambda x: x.reshape(-1), "ReshapeBackward"),
    (lambda x: x.T, "PermuteBackward"), (lambda x: x[0], "IndexBackward"),
    (lambda x: mt.cat([x, x]), "CatBackward"), (lambda x: x.expand(3, 2), "ExpandBackward"),
    (lambda x: x.double(), "CastBackward"),
])
def test_grad_fn_names(make: Any, name: str) -> None:
    y = make(mt.tensor([[0.5, 0.2]], requires_grad=True))
    assert y.grad_fn.name() == name
    assert repr(y.grad_fn) == f"<{name}>"
    assert repr(y).endswith(f"grad_fn=<{name}>)")


def test_repr_forms() -> None:
    x = mt.tensor([[0.5, 0.2]], requires_grad=True)
    assert repr(x) == "tensor([[0.5000, 0.2000]], requires_grad=True)"
    assert repr(x * 2) == "tensor([[1.0000, 0.4000]], grad_fn=<MulBackward>)"
    assert repr(x.sum()) == "tensor(0.7000, grad_fn=<SumBackward>)"
    assert repr(mt.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(f64([1.5], requires_grad=False)) == "tensor([1.5000], dtype=microtensor.float64)"
    assert str(x) == repr(x)


def test_graph_is_inspectable() -> None:
    x = f64([1.0])
    y = (x * 2.0).exp()
    node = y.grad_fn
    assert node.name() == "ExpBackward"
    (prev,) = node.inputs
    assert prev.grad_fn.name() == "MulBackward"
    assert prev.grad_fn.inputs[0] is x
    assert prev.grad_fn.needs_input_grad == (True, False)  # 2.0 is a constant


def test_x_times_x_records_two_edges() -> None:
    x = f64([3.0])
    y = x * x
    assert y.grad_fn.inputs == (x, x)


# -- gradcheck itself ----------------------------------------------------------------------------

def test_gradcheck_refuses_float32() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"input 0 has dtype float32.*float64"):
        gradcheck(lambda t: t * t, [x])
    with pytest.raises(TypeError, match="float64"):
        gradgradcheck(lambda t: t * t, [x])


def test_gradcheck_needs_an_input_that_requires_grad() -> None:
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda t: t * t, [f64([1.0], requires_grad=False)])


class WrongSquare(Function):
    """y = x**2 with a wrong backward for the second element: dx = 2x, except 3x at index 1."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        factor = mt.tensor([2.0, 3.0, 2.0], dtype=mt.float64)
        return g * x * factor


def test_gradcheck_reports_the_wrong_input_and_element() -> None:
    x = f64([1.0, 2.0, 3.0])
    c = f64([0.5, 0.5, 0.5])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda c, x: c * WrongSquare.apply(x), [c, x])
    msg = str(info.value)
    assert "with respect to input 1" in msg
    assert "d output(1,) / d input(1,)" in msg
    assert "3 by backward but 2 by finite differences" in msg
    assert "1 of 9 entries disagree" in msg
    assert gradcheck(lambda c, x: c * WrongSquare.apply(x), [c, x], raise_exception=False) is False


def test_gradgradcheck_catches_a_wrong_second_derivative() -> None:
    class FrozenSquare(Function):
        """y = x**2 whose gradient 2x forgets that x varies (constant instead of tensor)."""

        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            ctx.x = x.copy()
            return x * x

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g * mt.tensor(2.0 * ctx.x)

    x = f64([1.0, 2.0])
    assert gradcheck(FrozenSquare.apply, [x])
    with pytest.raises(GradcheckError):
        gradgradcheck(FrozenSquare.apply, [x])


def test_gradcheck_on_non_contiguous_input() -> None:
    # Perturbing a copy instead of the input itself would give a zero numerical Jacobian.
    x = mt.from_numpy(np.asfortranarray(np.arange(6.0).reshape(3, 2) + 1.0)).requires_grad_()
    assert not x.detach().numpy().flags.c_contiguous
    assert gradcheck(lambda t: (t * t).sum(0), [x])
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: WrongSquare.apply(t[:, 0]), [x])


def test_leaf_gradients_never_alias() -> None:
    """Gradients stored on leaves are distinct arrays, whatever path delivered them."""
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = mt.tensor([3.0, 4.0], requires_grad=True)
    g = mt.tensor([1.0, 1.0])
    (a + b).backward(g)                      # one gradient array sent to both leaves
    a.grad.data[0] = 100.0
    assert b.grad.detach().numpy()[0] == 1.0 and g.detach().numpy()[0] == 1.0
    c = mt.tensor([5.0, 6.0], requires_grad=True)
    c.backward(g)                            # the user's gradient tensor itself
    c.grad.data[1] = -7.0
    assert g.detach().numpy()[1] == 1.0
    d = mt.tensor([[1.0, 2.0]], requires_grad=True)
    d.reshape(2).sum().backward()            # a view of another gradient
    np.testing.assert_array_equal(d.grad.detach().numpy(), [[1.0, 1.0]])


def test_increment_version_makes_a_saved_tensor_refuse_backward():
    from microtensor.autograd.graph import increment_version
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    b = mt.tensor([3.0], requires_grad=True)
    before = (w._version, b._version)
    loss = (w * w).sum()
    increment_version([w, b])  # an iterable of tensors, as PyTorch's
    increment_version(w)       # or one tensor
    assert (w._version, b._version) == (before[0] + 2, before[1] + 1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_increment_version_counts_as_pytorchs():
    torch = pytest.importorskip("torch")
    from microtensor.autograd.graph import increment_version
    a, b = mt.zeros(2), mt.zeros(3)
    ta, tb = torch.zeros(2), torch.zeros(3)
    increment_version(a)
    torch.autograd.graph.increment_version(ta)
    increment_version([a, b])
    torch.autograd.graph.increment_version([ta, tb])
    assert (a._version, b._version) == (ta._version, tb._version) == (2, 1)
