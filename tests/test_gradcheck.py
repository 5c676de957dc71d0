"""gradcheck and gradgradcheck are never fooled: a NaN or infinite Jacobian entry, by backward or
by finite differences, fails the check; correct ops (broadcasting included) still pass; a
backward whose gradient only broadcasts to its input's shape is judged by value, as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor.autograd import Context, Function, GradcheckError, gradcheck, gradgradcheck

NAN, INF = float("nan"), float("inf")
EXP_EDGE = 709.7827128933  # exp(EXP_EDGE) is finite, exp(EXP_EDGE + 1e-6) overflows to inf


def f64(values: Any) -> mt.Tensor:
    return mt.tensor(values, dtype=mt.float64, requires_grad=True)


# -- custom Functions with a non-finite backward ------------------------------------------------

class DoubleNanBackward(Function):
    """y = 2x, with a backward that returns NaN."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return 2 * x

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        return grad_output * NAN


class DoubleNanSecondDerivative(Function):
    """y = 2x, right first derivative (2g), but the backward of that backward returns NaN."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return 2 * x

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        return DoubleNanBackward.apply(grad_output)


class SquareNanSecondDerivative(Function):
    """y = x^2, dx = 2 g x computed through an op whose own backward returns NaN."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        (x,) = ctx.saved_tensors
        return DoubleNanBackward.apply(x) * grad_output


class InfStep(Function):
    """y = inf for x > 0 else 0, with backward inf * g (0 where g is 0): both Jacobians are +inf
    at x = 0, which PyTorch's gradcheck accepts and ours refuses."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, np.inf, 0.0)

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        return mt.where(grad_output != 0, grad_output * INF, grad_output * 0)


# -- custom Functions whose gradient only broadcasts to the input's shape ------------------------

class DoubleLeadingOne(Function):
    """y = 2x, backward returns the right gradient with an extra leading size-1 dimension."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return 2 * x

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        return (grad_output * 2).unsqueeze(0)


class DoubleExpandedWrong(Function):
    """y = 2x for x of shape (1, 3), backward returns 2g expanded to (2, 3): it sums to 4g,
    twice the gradient."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return 2 * x

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        return (grad_output * 2).expand(2, 3)


class DoubleDroppedDim(Function):
    """y = 2x, backward returns shape (3,) for an input of shape (1, 3): not broadcastable."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return 2 * x

    @staticmethod
    def backward(ctx: Context, grad_output: Any) -> Any:
        return (grad_output * 2).reshape(-1)


# -- every failing case passed before non-finite entries were checked ----------------------------

Check = Callable[..., bool]
FAILING: list[tuple[str, Check, Callable[..., Any], Callable[[], list[mt.Tensor]], str]] = [
    ("backward returns NaN", gradcheck, DoubleNanBackward.apply, lambda: [f64([0.5, -1.0, 2.0])],
     r"from backward for output 0 with respect to input 0: d output\(0,\) / d input\(0,\) is "
     r"nan by backward and 2 by finite differences \(9 of 9 entries are not finite by "
     r"backward, 0 by finite differences\)$"),
    ("backward of backward returns NaN", gradgradcheck, SquareNanSecondDerivative.apply,
     lambda: [f64([0.5, -1.0])], r"from backward for output 0 with respect to input 0: "),
    ("backward of a linear op's backward returns NaN", gradgradcheck,
     DoubleNanSecondDerivative.apply, lambda: [f64([0.5, -1.0])],
     r"from backward for output 0 with respect to input 1: "),
    ("finite differences NaN: sqrt within eps of 0", gradcheck, lambda t: t.sqrt(),
     lambda: [f64([1.0, 1e-7, 4.0])],
     r"from finite differences for output 0 with respect to input 0: d output\(1,\) / "
     r"d input\(1,\) is 1581.14 by backward and nan by finite differences .*not differentiable"),
    ("finite differences inf: exp overflows within eps", gradcheck, lambda t: t.exp(),
     lambda: [f64([EXP_EDGE])],
     r"from finite differences for output 0 with respect to input 0: d output\(0,\) / "
     r"d input\(0,\) is 1.79769e\+308 by backward and inf by finite differences"),
    ("both NaN: the function returns NaN", gradcheck, lambda t: t * NAN, lambda: [f64([1.0, 2.0])],
     r"from backward and finite differences for output 0 with respect to input 0: "
     r"d output\(0,\) / d input\(0,\) is nan by backward and nan by finite differences"),
    ("both the same inf (PyTorch accepts this one)", gradcheck, InfStep.apply,
     lambda: [f64(0.0)],
     r"from backward and finite differences .* is inf by backward and inf by finite"),
    ("NaN in the second of two outputs", gradcheck,
     lambda t: (t * 3, DoubleNanBackward.apply(t)), lambda: [f64([1.0, 2.0])],
     r"from backward for output 1 with respect to input 0: "),
]


@pytest.mark.parametrize(("check", "fn", "inputs", "message"),
                         [case[1:] for case in FAILING], ids=[case[0] for case in FAILING])
def test_a_non_finite_jacobian_fails_naming_the_side(check: Check, fn: Callable[..., Any],
                                                     inputs: Callable[[], list[mt.Tensor]],
                                                     message: str) -> None:
    with pytest.raises(GradcheckError, match=r"^Non-finite Jacobian " + message):
        check(fn, inputs())


@pytest.mark.parametrize(("check", "fn", "inputs"), [case[1:4] for case in FAILING],
                         ids=[case[0] for case in FAILING])
def test_a_non_finite_jacobian_returns_false_without_raising(
        check: Check, fn: Callable[..., Any], inputs: Callable[[], list[mt.Tensor]]) -> None:
    assert check(fn, inputs(), raise_exception=False) is False


def test_a_nan_gradient_for_one_input_names_that_input() -> None:
    a, b = f64([1.0, 2.0]), f64([3.0, 4.0])
    with pytest.raises(GradcheckError, match=r"from backward for output 0 with respect to input 1"):
        gradcheck(lambda x, y: x * DoubleNanBackward.apply(y), [a, b])


def test_the_first_derivative_of_the_nan_second_derivative_cases_is_fine() -> None:
    # So gradgradcheck above fails because of the second derivative alone.
    assert gradcheck(SquareNanSecondDerivative.apply, [f64([0.5, -1.0])])
    assert gradcheck(DoubleNanSecondDerivative.apply, [f64([0.5, -1.0])])


def test_a_finite_mismatch_still_reports_a_mismatch() -> None:
    with pytest.raises(GradcheckError, match=r"^Jacobian mismatch for output 0 with respect to "
                                             r"input 0: d output\(0, 0\) / d input\(0, 0\) is 4 "
                                             r"by backward but 2 by finite differences"):
        gradcheck(DoubleExpandedWrong.apply, [f64([[0.5, -1.0, 2.0]])])


# -- gradients in a broadcast shape: judged by value, as PyTorch judges them ---------------------

def test_a_gradient_with_an_extra_leading_one_fails_although_its_values_are_right() -> None:
    # The engine sums (1, 3) to (3,), as PyTorch's engine does for a custom Function, so a
    # plain backward works; but no broadcast gives a (1, 3) gradient for (3,) -> (3,): the
    # backward has a shape mistake, which gradcheck reports (PyTorch's lets it pass).
    x = f64([0.5, -1.0, 2.0])
    DoubleLeadingOne.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])
    with pytest.raises(GradcheckError, match=r"DoubleLeadingOneBackward returned an invalid "
                                             r"gradient at index 0 - got \(1, 3\) for an input "
                                             r"of shape \(3,\)"):
        gradcheck(DoubleLeadingOne.apply, [x])
    assert gradcheck(DoubleLeadingOne.apply, [x], raise_exception=False) is False


def test_a_gradient_in_the_broadcast_shape_of_the_op_passes() -> None:
    # x (3,) + y (2, 3): a backward may return (2, 3) for x; the engine sums it.
    assert gradcheck(lambda a, b: a + b, [f64([0.5, -1.0, 2.0]), f64(np.ones((2, 3)))])


def test_a_broadcast_shaped_gradient_with_wrong_values_fails() -> None:
    x = f64([[0.5, -1.0, 2.0]])
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(DoubleExpandedWrong.apply, [x])
    assert gradcheck(DoubleExpandedWrong.apply, [x], raise_exception=False) is False


def test_a_gradient_that_does_not_broadcast_is_the_engines_error() -> None:
    with pytest.raises(RuntimeError, match=r"Function DoubleDroppedDimBackward returned an invalid "
                                           r"gradient at index 0 - got \(3,\) but expected shape "
                                           r"compatible with \(1, 3\)") as info:
        gradcheck(DoubleDroppedDim.apply, [f64([[0.5, -1.0, 2.0]])], raise_exception=False)
    assert not isinstance(info.value, GradcheckError)


def test_pytorch_judges_broadcast_shaped_gradients_the_same_way() -> None:
    torch = pytest.importorskip("torch")

    class TorchLeadingOne(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return 2 * x

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            return (grad_output * 2).unsqueeze(0)

    class TorchExpandedWrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return 2 * x

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            return (grad_output * 2).expand(2, 3)

    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(TorchLeadingOne.apply, (x,))  # (where we are stricter)
    assert not torch.autograd.gradcheck(TorchExpandedWrong.apply, (x,), raise_exception=False)


def test_pytorch_fails_the_nan_cases_too() -> None:
    torch = pytest.importorskip("torch")
    x = torch.tensor([1.0, 1e-7, 4.0], dtype=torch.float64, requires_grad=True)
    assert not torch.autograd.gradcheck(torch.sqrt, (x,), raise_exception=False)
    y = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    assert not torch.autograd.gradcheck(lambda t: t * NAN, (y,), raise_exception=False)


# -- correct ops still pass ----------------------------------------------------------------------

_rng = np.random.default_rng(7)
PASSING: list[tuple[str, Callable[..., Any], list[tuple[int, ...]]]] = [
    ("add (3,) + (2, 3)", lambda a, b: a + b, [(3,), (2, 3)]),
    ("add (2, 1) + (1, 3)", lambda a, b: a + b, [(2, 1), (1, 3)]),
    ("mul (3,) * (2, 3)", lambda a, b: a * b, [(3,), (2, 3)]),
    ("mul (2, 1, 3) * (4, 1)", lambda a, b: a * b, [(2, 1, 3), (4, 1)]),
    ("mul by a 0-d tensor", lambda a, b: a * b, [(), (2, 3)]),
    ("sum", lambda a: (a * a).sum(), [(2, 3)]),
    ("sum over a dim", lambda a: (a * a).sum(dim=1), [(2, 3)]),
    ("matmul", lambda a, b: a @ b, [(2, 3), (3, 4)]),
    ("batched matmul broadcasting", lambda a, b: a @ b, [(2, 2, 3), (3, 4)]),
    ("sqrt away from 0", lambda a: (a * a + 1).sqrt(), [(3,)]),
]


@pytest.mark.parametrize(("fn", "shapes"), [case[1:] for case in PASSING],
                         ids=[case[0] for case in PASSING])
def test_correct_ops_pass_gradcheck_and_gradgradcheck(fn: Callable[..., Any],
                                                      shapes: list[tuple[int, ...]]) -> None:
    inputs = [f64(_rng.standard_normal(shape)) for shape in shapes]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)
