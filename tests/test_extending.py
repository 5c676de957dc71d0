"""A user-defined op, end to end, through the public ``Function`` API (docs/extending.md).

Swish, y = x sigmoid(beta x), written as a user would: checked by gradcheck and gradgradcheck,
against the hand-derived formula and against PyTorch's SiLU where installed, drawn by name in
the graph, used inside an ``nn.Module`` and trained. Then the failure stories: a wrong backward
is reported by input and element, and a backward written in NumPy refuses a second derivative
with a clear message instead of returning a wrong number.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn, optim
from microtensor.autograd import Context, Function, GradcheckError, gradcheck, gradgradcheck


class Swish(Function):
    """y = x * sigmoid(beta x);   dx = g * (s + beta * x * s * (1 - s)),  s = sigmoid(beta x)"""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, beta: float = 1.0) -> np.ndarray:
        s = 0.5 * (1.0 + np.tanh(0.5 * beta * x))  # sigmoid without overflow
        ctx.save_for_backward(x)
        ctx.beta = beta
        return x * s

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        (x,) = ctx.saved_tensors
        s = (x * ctx.beta).sigmoid()
        return grad_output * (s + ctx.beta * x * s * (1.0 - s))


def swish(x: mt.Tensor, beta: float = 1.0) -> mt.Tensor:
    """x * sigmoid(beta x)"""
    return Swish.apply(x, beta=beta)


def swish_reference(x: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """The value and the derivative, written out in float64 NumPy."""
    s = 1.0 / (1.0 + np.exp(-beta * x))
    return x * s, s + beta * x * s * (1.0 - s)


X = np.array([-4.0, -1.5, -0.2, 0.0, 0.7, 2.5])


def leaf(values: np.ndarray = X) -> mt.Tensor:
    return mt.tensor(values.copy(), dtype=mt.float64, requires_grad=True)


# -- the op itself -------------------------------------------------------------------------------

@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0])
def test_values_and_gradient_match_the_formula(beta: float) -> None:
    x = leaf()
    y = swish(x, beta)
    y.sum().backward()
    value, derivative = swish_reference(X, beta)
    np.testing.assert_allclose(y.detach().numpy(), value, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), derivative, rtol=1e-12)


@pytest.mark.parametrize("beta", [1.0, 1.7])
def test_gradcheck_and_gradgradcheck_pass(beta: float) -> None:
    x = leaf()
    assert gradcheck(lambda t: swish(t, beta), [x])
    assert gradgradcheck(lambda t: swish(t, beta), [x])


def test_float32_stays_float32_and_is_stable_at_large_inputs() -> None:
    x = mt.tensor([-1000.0, -20.0, 0.0, 20.0, 1000.0], requires_grad=True)
    y = swish(x)  # RuntimeWarnings (overflow) are errors in this test suite
    y.sum().backward()
    assert y.dtype == mt.float32 and x.grad.dtype == mt.float32
    np.testing.assert_allclose(y.detach().numpy(), [0.0, -20.0 / (1 + np.exp(20.0)), 0.0,
                                                    20.0 / (1 + np.exp(-20.0)), 1000.0],
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-6)


def test_matches_pytorch_silu() -> None:
    torch = pytest.importorskip("torch")
    x = leaf()
    swish(x).sum().backward()
    xt = torch.tensor(X, requires_grad=True)
    torch.nn.functional.silu(xt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_broadcast_and_accumulation_are_the_engines_job() -> None:
    # The op knows nothing about broadcasting or accumulation; both still work.
    w = mt.tensor([0.5, -1.0], dtype=mt.float64, requires_grad=True)
    rows = mt.tensor([[1.0, 2.0], [3.0, -1.0], [0.0, 0.5]], dtype=mt.float64)
    (swish(rows * w).sum() + swish(w).sum()).backward()
    _, d_rows = swish_reference(rows.numpy() * w.detach().numpy(), 1.0)
    _, d_w = swish_reference(w.detach().numpy(), 1.0)
    expected = (d_rows * rows.numpy()).sum(axis=0) + d_w
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-12)


# -- in the graph and in a module ----------------------------------------------------------------

def test_graph_names_the_op_and_its_non_default_arguments() -> None:
    x = leaf()
    y = swish(x, beta=2.0).sum()
    assert y.grad_fn.inputs[0].grad_fn.name() == "SwishBackward"
    assert "<B>Swish beta=2.0</B>" in mt.to_dot(y)
    # The default beta is not printed: the label is the bare name.
    assert "<B>Swish</B>" in mt.to_dot(swish(x).sum())


class SwishLayer(nn.Module):
    """Swish as a layer: y = x * sigmoid(beta x)."""

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        return swish(x, self.beta)


XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [[0.0], [1.0], [1.0], [0.0]]


def test_inside_a_module_it_trains_xor() -> None:
    mt.manual_seed(0)
    x, y = mt.tensor(XOR_X), mt.tensor(XOR_Y)
    model = nn.Sequential(nn.Linear(2, 8), SwishLayer(), nn.Linear(8, 1))
    opt = optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.BCEWithLogitsLoss()
    first = None
    for _ in range(200):
        loss = loss_fn(model(x), y)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05 < first
    with mt.no_grad():
        predictions = (model(x) > 0).float()
    assert predictions.tolist() == XOR_Y


def test_inside_a_module_it_is_drawn_in_the_modules_frame() -> None:
    model = nn.Sequential(nn.Linear(2, 3), SwishLayer(), nn.Linear(3, 1))
    dot = mt.to_dot(model(mt.tensor(XOR_X)).sum(), params=model)
    # The frame of module "1 (SwishLayer)" contains exactly one op: Swish.
    match = re.search(r"subgraph (cluster_\d+) \{\n\t*label=<[^\n]*1 \(SwishLayer\)[^\n]*\n"
                      r"(.*?)\n\t*\}", dot, re.S)
    assert match, dot
    ops = re.findall(r"<B>([A-Za-z]+)[^<]*</B>", match.group(2))
    assert ops == ["Swish"]


# -- when the backward is wrong ------------------------------------------------------------------

class SwishWrongAboveOne(Swish):
    """Swish whose backward drops the second term where x > 1 (a deliberate bug)."""

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        right = s + x * s * (1.0 - s)
        return grad_output * mt.where(x > 1.0, s, right)


def test_gradcheck_names_the_input_and_element_of_a_wrong_backward() -> None:
    x = leaf()  # only X[5] = 2.5 is above 1
    with pytest.raises(GradcheckError) as info:
        gradcheck(SwishWrongAboveOne.apply, [x])
    message = str(info.value)
    assert "with respect to input 0" in message
    assert "d output(5,) / d input(5,)" in message
    _, derivative = swish_reference(X, 1.0)
    s = 1.0 / (1.0 + np.exp(-2.5))
    assert f"is {s:.6g} by backward" in message
    assert f"but {derivative[5]:.5g}" in message
    assert "1 of 36 entries disagree" in message
    assert gradcheck(SwishWrongAboveOne.apply, [x], raise_exception=False) is False


class ScaledProductWrongSecond(Function):
    """z = a * b * 3;   da = 3 g b,  db = 3 g a  (but db is deliberately returned as g a)"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return a * b * 3.0

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        a, b = ctx.saved_tensors
        return grad_output * b * 3.0, grad_output * a


def test_gradcheck_names_the_second_input_when_its_gradient_is_wrong() -> None:
    a = leaf(np.array([1.0, 2.0]))
    b = leaf(np.array([0.5, -1.0]))
    with pytest.raises(GradcheckError, match=r"with respect to input 1: d output\(0,\) / "
                                             r"d input\(0,\) is 1 by backward but 3 by"):
        gradcheck(ScaledProductWrongSecond.apply, [a, b])


# -- a backward written in NumPy -----------------------------------------------------------------

class SwishNumpy(Swish):
    """Swish with its backward in plain NumPy: right, but not differentiable twice."""

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        (x,) = ctx.saved_tensors
        x, g = x.detach().numpy(), grad_output.detach().numpy()
        s = 0.5 * (1.0 + np.tanh(0.5 * x))
        return g * (s + x * s * (1.0 - s))


def test_numpy_backward_gives_right_first_derivatives() -> None:
    x = leaf()
    assert gradcheck(SwishNumpy.apply, [x])
    SwishNumpy.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), swish_reference(X, 1.0)[1], rtol=1e-12)
    assert x.grad.dtype == mt.float64


def _assert_clear_second_derivative_error(err: BaseException) -> None:
    message = str(err)
    assert "SwishNumpy" in message                     # names the op
    assert "NumPy" in message and "not differentiable" in message   # says what is wrong
    assert "Tensor operations" in message              # says how to fix it


def test_numpy_backward_refuses_a_second_derivative() -> None:
    x = leaf()
    (dx,) = mt.autograd.grad(SwishNumpy.apply(x).sum(), x, create_graph=True)
    assert dx.requires_grad
    with pytest.raises(RuntimeError) as info:
        dx.sum().backward()
    _assert_clear_second_derivative_error(info.value)
    with pytest.raises(RuntimeError) as info:
        mt.autograd.grad(dx.sum(), x)
    _assert_clear_second_derivative_error(info.value)


def test_numpy_backward_fails_gradgradcheck_with_the_same_message() -> None:
    with pytest.raises(RuntimeError) as info:
        gradgradcheck(SwishNumpy.apply, [leaf()])
    assert not isinstance(info.value, GradcheckError)
    _assert_clear_second_derivative_error(info.value)


class SwishNumpyWrapped(SwishNumpy):
    """The NumPy backward wrapped in a tensor: a constant, so second derivatives lose a term."""

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        return mt.tensor(SwishNumpy.backward(ctx, grad_output))


def test_a_wrapped_numpy_backward_is_caught_by_gradgradcheck() -> None:
    x = leaf()
    assert gradcheck(SwishNumpyWrapped.apply, [x])
    assert gradgradcheck(SwishNumpyWrapped.apply, [x], raise_exception=False) is False


# -- built-in ops are written with the same API --------------------------------------------------

@pytest.mark.parametrize(("make", "op_module"), [
    (lambda x: x.sigmoid(), "microtensor.ops.elementwise"),
    (lambda x: x.sum(dim=0), "microtensor.ops.reduce"),
    (lambda x: x.reshape(-1), "microtensor.ops.shape"),
    (lambda x: x @ x, "microtensor.ops.linalg"),
])
def test_builtin_ops_are_public_function_subclasses(make: Any, op_module: str) -> None:
    x = mt.ones(2, 2, requires_grad=True)
    fn = make(x).grad_fn.fn
    assert issubclass(fn, Function) and fn.__module__ == op_module
    assert fn.__doc__ and ";" in fn.__doc__  # "y = formula;   dx = derivative"


def test_the_builtin_op_quoted_in_the_guide_is_the_real_one() -> None:
    # docs/extending.md quotes Exp, its Tensor method and Mul as ```text blocks (not run): they
    # must stay identical to the source they quote.
    root = Path(__file__).resolve().parent.parent
    guide = (root / "docs" / "extending.md").read_text(encoding="utf-8")
    quotes = re.findall(r"^```text\n(.*?)^```", guide, re.S | re.M)
    sources = {"class Exp(": root / "microtensor" / "ops" / "elementwise.py",
               "    def exp(": root / "microtensor" / "tensor.py",
               "class Mul(": root / "microtensor" / "ops" / "elementwise.py"}
    for start, source in sources.items():
        quoted = [q for q in quotes if q.startswith(start)]
        assert len(quoted) == 1, f"docs/extending.md should quote {start.strip()}... once"
        assert quoted[0] in source.read_text(encoding="utf-8"), \
            f"the quote of {start.strip()}... in docs/extending.md differs from {source.name}"
