"""The math, comparison and linear-algebra ops of issue 10: gradients against finite differences
(``gradcheck`` and ``gradgradcheck`` in float64), erf/erfc/erfinv against SciPy and Python's
``math.erf``, hand-derived values, and PyTorch's values and errors where PyTorch is installed.
(The differential fuzz table in test_fuzz_torch.py compares each op with PyTorch on drawn
inputs as well.)"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor.autograd import gradcheck, gradgradcheck
from microtensor.ops import special

_rng = np.random.default_rng(10)


def leaf(a: Any) -> mt.Tensor:
    return mt.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def u(*shape: int, lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    return _rng.uniform(lo, hi, shape)


def away(*shape: int) -> np.ndarray:
    return _rng.choice([-1.0, 1.0], shape) * _rng.uniform(0.3, 1.5, shape)


# -- gradients: one case per differentiable op --------------------------------------------------

CASES: list[tuple[str, Callable[..., Any], tuple[np.ndarray, ...], bool]] = [
    # (name, fn, inputs, smooth: also gradgradcheck)
    ("square", lambda x: x.square(), (u(3, 2),), True),
    ("log2", lambda x: x.log2(), (u(4, lo=0.5, hi=2),), True),
    ("log10", lambda x: mt.log10(x), (u(4, lo=0.5, hi=2),), True),
    ("exp2", lambda x: x.exp2(), (u(2, 3),), True),
    ("expm1", lambda x: mt.expm1(x), (u(5),), True),
    ("rsqrt", lambda x: x.rsqrt(), (u(4, lo=0.5, hi=2),), True),
    ("reciprocal", lambda x: x.reciprocal(), (away(4),), True),
    ("erf", lambda x: x.erf(), (u(6, lo=-3, hi=3),), True),
    ("erfc", lambda x: mt.erfc(x), (u(6, lo=-3, hi=3),), True),
    ("erfinv", lambda x: x.erfinv(), (u(6, lo=-0.9, hi=0.9),), True),
    ("tan", lambda x: x.tan(), (u(4),), True),
    ("asin", lambda x: x.asin(), (u(4, lo=-0.8, hi=0.8),), True),
    ("acos", lambda x: mt.acos(x), (u(4, lo=-0.8, hi=0.8),), True),
    ("atan", lambda x: x.atan(), (u(4, lo=-3, hi=3),), True),
    ("sinh", lambda x: x.sinh(), (u(4, lo=-2, hi=2),), True),
    ("cosh", lambda x: x.cosh(), (u(4, lo=-2, hi=2),), True),
    ("asinh", lambda x: x.asinh(), (u(4, lo=-2, hi=2),), True),
    ("acosh", lambda x: x.acosh(), (u(4, lo=1.2, hi=3),), True),
    ("atanh", lambda x: x.atanh(), (u(4, lo=-0.8, hi=0.8),), True),
    ("atan2", lambda a, b: mt.atan2(a, b), (away(3, 1), away(4)), True),
    ("frac", lambda x: x.frac(), (u(5, lo=-3, hi=3) + 0.05,), False),
    ("lerp scalar weight", lambda a, b: a.lerp(b, 0.3), (u(3), u(2, 3)), True),
    ("lerp weight >= 0.5", lambda a, b: mt.lerp(a, b, 0.8), (u(3), u(3)), True),
    ("lerp tensor weight", lambda a, b, w: a.lerp(b, w), (u(3), u(2, 1), u(3)), True),
    ("nan_to_num", lambda x: mt.where(x > 0.5, math.inf, x).nan_to_num(posinf=2.0),
     (u(5) * 0.45,), True),
    ("remainder", lambda a, b: a % b, (u(4, lo=-3, hi=3), away(4) + 0.03), False),
    ("fmod", lambda a, b: mt.fmod(a, b), (u(4, lo=-3, hi=3), away(4) + 0.03), False),
    ("remainder by number", lambda a: a.remainder(0.7), (u(4, lo=-3, hi=3) + 0.01,), False),
    ("outer", lambda a, b: mt.outer(a, b), (u(3), u(4)), True),
    ("mm", lambda a, b: a.mm(b), (u(2, 3), u(3, 4)), True),
    ("bmm", lambda a, b: mt.bmm(a, b), (u(2, 2, 3), u(2, 3, 1)), True),
    ("mv", lambda a, b: a.mv(b), (u(2, 3), u(3)), True),
    ("dot", lambda a, b: mt.dot(a, b), (u(3), u(3)), True),
    ("einsum matmul", lambda a, b: mt.einsum("ij,jk->ik", a, b), (u(2, 3), u(3, 2)), True),
    ("einsum batched implicit", lambda a, b: mt.einsum("bij,bjk", a, b), (u(2, 2, 3), u(2, 3, 2)),
     True),
    ("einsum trace", lambda a: mt.einsum("ii", a), (u(3, 3),), True),
    ("einsum diagonal", lambda a: mt.einsum("ii->i", a), (u(3, 3),), True),
    ("einsum repeated and summed", lambda a: mt.einsum("iij->j", a), (u(2, 2, 3),), True),
    ("einsum sum out", lambda a: mt.einsum("ij->", a), (u(2, 3),), True),
    ("einsum three operands", lambda a, b, c: mt.einsum("ij,jk,k->i", a, b, c),
     (u(2, 3), u(3, 2), u(2)), True),
    ("einsum ellipsis broadcast", lambda a, b: mt.einsum("...ij,...jk->...ik", a, b),
     (u(2, 1, 2, 3), u(3, 3, 2)), True),
    ("einsum size-1 letter", lambda a, b: mt.einsum("ij,ij->i", a, b), (u(2, 1), u(2, 3)), True),
    ("einsum same operand twice", lambda a: mt.einsum("i,i->", a, a), (u(4),), True),
    ("std_mean", lambda a: mt.std_mean(a, 1), (u(2, 4),), True),
    ("var_mean", lambda a: mt.var_mean(a, (0, 1), keepdim=True, correction=0), (u(2, 4),), True),
    ("vector_norm 3", lambda a: mt.linalg.vector_norm(a, 3, dim=-1), (away(2, 3),), True),
    ("vector_norm -1.5", lambda a: mt.linalg.vector_norm(a, -1.5, dim=0), (away(3, 2),), True),
    ("vector_norm inf", lambda a: mt.linalg.vector_norm(a, math.inf), (away(2, 3),), False),
    ("matrix_norm fro", lambda a: mt.linalg.matrix_norm(a), (u(2, 2, 3),), True),
    ("matrix_norm 1", lambda a: mt.linalg.matrix_norm(a, 1), (away(2, 3, 3),), False),
    ("matrix_norm 2", lambda a: mt.linalg.matrix_norm(a, 2), (u(2, 3, 4),), False),
    ("matrix_norm -2", lambda a: mt.linalg.norm(a, -2, dim=(0, 2)), (u(3, 2, 4),), False),
    ("matrix_norm nuc", lambda a: mt.linalg.matrix_norm(a, "nuc"), (u(4, 3),), False),
    ("matrix_norm -inf", lambda a: mt.linalg.norm(a, -math.inf), (away(3, 3),), False),
    ("gelu", lambda a: mt.nn.functional.gelu(a), (u(6, lo=-4, hi=4),), True),
    ("gelu tanh", lambda a: mt.nn.GELU("tanh")(a), (u(6, lo=-4, hi=4),), True),
]


@pytest.mark.parametrize(("name", "fn", "inputs", "smooth"), CASES, ids=[c[0] for c in CASES])
def test_gradients_match_finite_differences(name: str, fn: Callable[..., Any],
                                            inputs: tuple[np.ndarray, ...], smooth: bool) -> None:
    xs = [leaf(a) for a in inputs]
    assert gradcheck(fn, xs)
    if smooth:
        assert gradgradcheck(fn, xs)


# -- erf, erfc, erfinv: float64-accurate --------------------------------------------------------

def _relative_error(got: np.ndarray, want: np.ndarray) -> float:
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    got, want = np.where(same, 1.0, got), np.where(same, 1.0, want)
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300)))


X = np.concatenate([np.linspace(-8, 8, 4001), _rng.standard_normal(2000) * 3,
                    np.logspace(-300, 1, 200), -np.logspace(-300, 1, 200), [0.0, 30.0, -30.0]])


def test_erf_and_erfc_match_python_math_to_1e_14() -> None:
    want_erf = np.array([math.erf(v) for v in X])
    want_erfc = np.array([math.erfc(v) for v in X])
    assert _relative_error(special.erf(X), want_erf) < 1e-14
    assert _relative_error(special.erfc(X), want_erfc) < 1e-14
    tail = np.linspace(5, 26.5, 500)  # erfc down to 1e-307, relative accuracy kept
    assert _relative_error(special.erfc(tail), np.array([math.erfc(v) for v in tail])) < 1e-14


def test_erfinv_inverts_erf_to_1e_14() -> None:
    scipy_special = pytest.importorskip("scipy.special")
    y = np.concatenate([np.linspace(-1, 1, 4001)[1:-1], 1 - np.logspace(-16, -1, 200),
                        -1 + np.logspace(-16, -1, 200), np.logspace(-300, -1, 200)])
    assert _relative_error(special.erfinv(y), scipy_special.erfinv(y)) < 1e-14
    x = np.linspace(-3, 3, 1001)  # (beyond, erf is too flat to be inverted accurately)
    assert _relative_error(special.erfinv(special.erf(x)), x) < 1e-12


def test_special_values() -> None:
    inf, nan = math.inf, math.nan
    np.testing.assert_array_equal(special.erf(np.array([0.0, inf, -inf, nan])), [0, 1, -1, nan])
    np.testing.assert_array_equal(special.erfc(np.array([inf, -inf, nan])), [0, 2, nan])
    np.testing.assert_array_equal(special.erfinv(np.array([0.0, 1.0, -1.0, 1.5, -2.0, nan])),
                                  [0, inf, -inf, nan, nan, nan])
    assert special.erf(np.array([0.5], np.float32)).dtype == np.float32
    # hand-derived: erf(x) = 2/sqrt(pi) (x - x^3/3 + ...) near 0
    assert special.erf(np.array(1e-8)) == pytest.approx(2 / math.sqrt(math.pi) * 1e-8, rel=1e-15)


def test_erf_of_integers_is_float_and_erfinv_at_one_is_infinite_with_inf_gradient() -> None:
    assert mt.erf(mt.tensor([0, 1])).dtype == mt.float32
    x = leaf([1.0, 0.0])
    y = x.erfinv()
    y.sum().backward()
    assert y[0].item() == math.inf
    assert x.grad.tolist() == [math.inf, pytest.approx(math.sqrt(math.pi) / 2)]


# -- hand-derived values ------------------------------------------------------------------------

def test_division_sign_rules() -> None:
    a, b = mt.tensor([7, -7, 7, -7]), mt.tensor([2, 2, -2, -2])
    assert (a // b).tolist() == [3, -4, -4, 3]          # toward -inf, as Python
    assert (a % b).tolist() == [1, 1, -1, -1]           # sign of the divisor
    assert mt.fmod(a, b).tolist() == [1, -1, 1, -1]     # sign of the dividend
    assert (7 // mt.tensor([2, -2])).tolist() == [3, -4]
    x = mt.tensor([5.5, -5.5])
    assert (x % 2).tolist() == [1.5, 0.5]
    assert x.fmod(2).tolist() == [1.5, -1.5]
    assert (x // 0).tolist() == [math.inf, -math.inf]
    assert mt.isnan(x % 0).all()
    assert (mt.tensor([3, 4]) % 2.5).dtype == mt.float32


def test_integer_division_by_zero_raises_as_pytorch() -> None:
    for op in (lambda: mt.tensor([1, 2]) // mt.tensor([1, 0]), lambda: mt.tensor([1]) % 0,
               lambda: mt.fmod(mt.tensor([1]), 0), lambda: 5 // mt.tensor([0])):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            op()
    assert (mt.zeros(0, dtype=mt.int64) // 0).shape == (0,)  # nothing is divided


def test_floor_divide_records_a_node_whose_backward_raises() -> None:
    x = leaf([3.0, 4.0])
    y = x // 2
    assert y.requires_grad and y.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide"):
        y.sum().backward()


def test_remainder_gradients_by_hand() -> None:
    a, b = leaf([5.0, -5.0]), leaf([2.0, 2.0])
    (a % b).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]
    assert b.grad.tolist() == [-2.0, 3.0]    # -floor(a / b)
    a.grad = b.grad = None
    mt.fmod(a, b).sum().backward()
    assert b.grad.tolist() == [-2.0, 2.0]    # -trunc(a / b)
    with pytest.raises(RuntimeError, match="derivative for aten::remainder"):
        (2.0 % b).sum().backward()


def test_bool_and_mixed_dtypes() -> None:
    with pytest.raises(NotImplementedError, match="Bool"):
        mt.tensor([True]) // mt.tensor([True])
    assert mt.tensor([True, False]).square().dtype == mt.int64
    assert mt.tensor([3], dtype=mt.int32).square().dtype == mt.int32
    with pytest.raises(NotImplementedError):
        mt.tensor([1, 2]).frac()
    assert mt.tensor([1, 4]).rsqrt().tolist() == [1.0, 0.5]


def test_nan_to_num_defaults_and_gradient() -> None:
    x = leaf([1.0, math.nan, math.inf, -math.inf])
    y = x.nan_to_num()
    big = np.finfo(np.float64).max
    assert y.tolist() == [1.0, 0.0, big, -big]
    assert mt.tensor([math.inf]).nan_to_num(posinf=1e40).tolist() == [math.inf]  # float32
    y.backward(mt.ones(4, dtype=mt.float64))
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_tests_on_values() -> None:
    x = mt.tensor([1.0, math.nan, math.inf, -math.inf])
    assert x.isnan().tolist() == [False, True, False, False]
    assert mt.isinf(x).tolist() == [False, False, True, True]
    assert x.isposinf().tolist() == [False, False, True, False]
    assert mt.isneginf(x).tolist() == [False, False, False, True]
    assert mt.isfinite(x).tolist() == [True, False, False, False]
    assert mt.tensor([1, 2]).isfinite().all() and not mt.tensor([1]).isnan().any()


def test_logical_ops() -> None:
    a, b = mt.tensor([0.0, 1.0, 2.0, 0.0]), mt.tensor([0, 0, 3, 4])
    assert mt.logical_and(a, b).tolist() == [False, False, True, False]
    assert a.logical_or(b).tolist() == [False, True, True, True]
    assert a.logical_xor(b).tolist() == [False, True, False, True]
    assert mt.logical_not(b).tolist() == [True, True, False, False]
    with pytest.raises(TypeError, match="must be Tensor"):
        a.logical_and(1)


def test_lerp_hand_values_and_errors() -> None:
    a, b = mt.tensor([0.0, 10.0]), mt.tensor([10.0, 20.0])
    assert mt.lerp(a, b, 0.25).tolist() == [2.5, 12.5]
    assert a.lerp(b, mt.tensor([0.0, 1.0])).tolist() == [0.0, 20.0]
    assert a.lerp(b, mt.tensor(0.5, dtype=mt.float64)).dtype == mt.float32  # 0-d: taken
    with pytest.raises(RuntimeError, match="for `end`"):
        a.lerp(b.double(), 0.5)
    with pytest.raises(RuntimeError, match="for `weight`"):
        a.lerp(b, mt.tensor([0.5], dtype=mt.float64))
    with pytest.raises(NotImplementedError):
        mt.tensor([1]).lerp(mt.tensor([2]), 0.5)


def test_isclose_allclose_equal() -> None:
    a = mt.tensor([1.0, math.nan, math.inf])
    b = mt.tensor([1.0 + 1e-7, math.nan, math.inf])
    assert a.isclose(b).tolist() == [True, False, True]
    assert mt.isclose(a, b, equal_nan=True).all()
    assert mt.allclose(a, b, equal_nan=True) is True and mt.allclose(a, b) is False
    assert mt.allclose(mt.tensor([1.0]), mt.tensor([1.0, 1.0])) is True  # broadcasts
    with pytest.raises(RuntimeError, match="Float did not match Long"):
        mt.allclose(mt.tensor([1.0]), mt.tensor([1]))
    assert mt.equal(mt.tensor([1.0]), mt.tensor([1])) is True
    assert mt.equal(mt.tensor([1.0]), mt.tensor([1.0, 1.0])) is False
    assert mt.tensor([math.nan]).equal(mt.tensor([math.nan])) is False


def test_abs_builtin() -> None:
    x = leaf([-2.0, 3.0])
    abs(x).sum().backward()
    assert x.grad.tolist() == [-1.0, 1.0]


def test_products_by_hand_and_errors() -> None:
    a = mt.tensor([[1.0, 2.0], [3.0, 4.0]])
    v = mt.tensor([1.0, -1.0])
    assert a.mm(a).tolist() == [[7.0, 10.0], [15.0, 22.0]]
    assert mt.mv(a, v).tolist() == [-1.0, -1.0]
    assert v.dot(v).item() == 2.0
    assert mt.outer(v, mt.tensor([1.0, 2.0, 3.0])).tolist() == [[1, 2, 3], [-1, -2, -3]]
    assert mt.bmm(a.unsqueeze(0), a.unsqueeze(0)).shape == (1, 2, 2)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x2 "
                                           r"and 3x2\)"):
        a.mm(mt.ones(3, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        a.mm(a.long())
    with pytest.raises(RuntimeError, match="batch1 must be a 3D tensor"):
        a.bmm(a)
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        a.dot(v)


def test_einsum_forms() -> None:
    a, b = mt.randn(2, 3), mt.randn(3, 4)
    np.testing.assert_allclose(mt.einsum("ij,jk->ik", a, b).numpy(), (a @ b).numpy(), 1e-6)
    np.testing.assert_allclose(mt.einsum("ij,jk", [a, b]).numpy(), (a @ b).numpy(), 1e-6)
    assert mt.einsum("ba", a).shape == (3, 2)          # implicit: sorted letters
    assert mt.einsum("bA", a).shape == (3, 2)          # upper case sorts first
    assert mt.einsum("i...->...", a).shape == (3,)
    assert mt.einsum(" i j -> j ", a).shape == (3,)
    x = mt.arange(9.0).reshape(3, 3)
    assert mt.einsum("ii", x).item() == 12.0
    assert mt.einsum("ii->i", x).tolist() == [0.0, 4.0, 8.0]


@pytest.mark.parametrize(("equation", "shapes", "message"), [
    ("ij,jk", [(2, 3)], "fewer operands"),
    ("ij", [(2, 3), (2,)], "more operands"),
    ("ij->ii", [(2, 3)], "output subscript i appears more than once"),
    ("ij->k", [(2, 3)], "output subscript k does not appear"),
    ("i1->i", [(2, 3)], "invalid subscript given at index 1"),
    ("ij,jk", [(2, 3), (3, 2, 2)], r"number of subscripts in the equation \(2\) does not match"),
    ("ii", [(2, 3)], "subscript i is repeated for operand 0 but the sizes don't match, 2 != 3"),
    ("ij,jk", [(2, 3), (2, 2)], "subscript j has size 2 for operand 1"),
    ("..i->i", [(2, 3)], "found '.' for operand 0"),
])
def test_einsum_errors(equation: str, shapes: list[tuple[int, ...]], message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        mt.einsum(equation, *[mt.ones(*s) for s in shapes])


def test_einsum_of_no_operands_and_of_bools() -> None:
    with pytest.raises(ValueError, match="at least one operand"):
        mt.einsum("i")
    assert mt.einsum("i,i", mt.tensor([True, False]), mt.tensor([True, True])).item() is True


def test_std_mean_var_mean_are_tuples_of_both() -> None:
    x = mt.tensor([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]])
    std, mean = mt.std_mean(x, 1)
    assert std.tolist() == [1.0, 2.0] and mean.tolist() == [2.0, 6.0]
    var, mean = mt.var_mean(x, dim=1, correction=0, keepdim=True)
    assert var.shape == (2, 1) and var[0, 0].item() == pytest.approx(2 / 3)
    with pytest.raises(RuntimeError, match="std_mean only support floating point"):
        mt.std_mean(mt.tensor([1, 2]))


def test_linalg_norms_by_hand_and_refusals() -> None:
    a = mt.tensor([[1.0, -2.0], [-3.0, 4.0]])
    assert mt.linalg.norm(a).item() == pytest.approx(math.sqrt(30))
    assert mt.linalg.matrix_norm(a, 1).item() == 6.0            # largest column sum
    assert mt.linalg.matrix_norm(a, math.inf).item() == 7.0     # largest row sum
    assert mt.linalg.norm(a, -1).item() == 4.0
    assert mt.linalg.vector_norm(a, 0).item() == 4.0
    assert mt.linalg.norm(a, dim=1).tolist() == pytest.approx([math.sqrt(5), 5.0])
    assert mt.linalg.vector_norm(a, math.inf, dim=0, keepdim=True).tolist() == [[3.0, 4.0]]
    d = mt.tensor([[3.0, 0.0], [0.0, -4.0]], requires_grad=True)  # singular values 4 and 3
    assert mt.linalg.matrix_norm(d, 2).item() == pytest.approx(4.0)
    assert mt.linalg.norm(d, -2).item() == pytest.approx(3.0)
    nuclear = mt.linalg.matrix_norm(d, "nuc")
    assert nuclear.item() == pytest.approx(7.0)
    nuclear.backward()
    np.testing.assert_allclose(d.grad.numpy(), [[1.0, 0.0], [0.0, -1.0]], atol=1e-6)  # U V^T
    (g,) = mt.autograd.grad(mt.linalg.matrix_norm(d, 2), d, create_graph=True)
    with pytest.raises(RuntimeError, match="not differentiable"):  # first derivatives only
        mt.autograd.grad(g.sum(), d)
    with pytest.raises(RuntimeError, match="Expected a floating point"):
        mt.linalg.vector_norm(mt.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="the input must be 1D or 2D. Got 3D"):
        mt.linalg.norm(mt.ones(2, 2, 2), 1)


def test_gelu_values_by_hand_and_module() -> None:
    x = mt.tensor([0.0, 1.0, -1.0], dtype=mt.float64)
    phi1 = 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    y = mt.nn.functional.gelu(x)
    assert y.tolist() == pytest.approx([0.0, phi1, -(1 - phi1)], rel=1e-15)
    t = mt.nn.GELU(approximate="tanh")(x)
    c = math.tanh(math.sqrt(2 / math.pi) * 1.044715)
    assert t.tolist() == pytest.approx([0.0, 0.5 * (1 + c), -0.5 * (1 - c)], rel=1e-15)
    assert repr(mt.nn.GELU("tanh")) == "GELU(approximate='tanh')"
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        mt.nn.functional.gelu(x, approximate="exact")
    with pytest.raises(NotImplementedError, match="Long"):
        mt.nn.functional.gelu(mt.tensor([1]))


# -- against PyTorch ----------------------------------------------------------------------------

def test_float32_values_match_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.linspace(-0.99, 0.99, 101).astype(np.float32)
    for name in ("erf", "erfc", "erfinv", "tan", "asin", "atanh", "exp2", "expm1", "sinh"):
        got = getattr(mt.tensor(x), name)()
        want = getattr(torch.tensor(x), name)()
        assert got.dtype == mt.float32
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=2e-6, atol=1e-7, err_msg=name)
    # GELU in float32 is computed in float64 and rounded once: PyTorch's float32 kernel loses
    # digits to cancellation in 1 + erf(x) for x << 0, so the two agree to 3e-7 absolute.
    xs = np.linspace(-6, 6, 101).astype(np.float32)
    for approximate in ("none", "tanh"):
        got = mt.nn.functional.gelu(mt.tensor(xs), approximate=approximate)
        exact = torch.nn.functional.gelu(torch.tensor(xs, dtype=torch.float64),
                                         approximate=approximate)
        fast = torch.nn.functional.gelu(torch.tensor(xs), approximate=approximate)
        assert got.dtype == mt.float32
        np.testing.assert_allclose(got.numpy(), exact.numpy(), rtol=1e-6, atol=1e-30)
        np.testing.assert_allclose(got.numpy(), fast.numpy(), rtol=1e-6, atol=3e-7)


def test_einsum_gradients_match_torch() -> None:
    torch = pytest.importorskip("torch")
    cases = [("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ii->", [(3, 3)]),
             ("iij->ji", [(2, 2, 3)]), ("...ij,...jk", [(2, 1, 2, 3), (3, 3, 2)]),
             ("ij,kl->ikjl", [(2, 1), (1, 3)]), ("ab,bc,ca->", [(2, 3), (3, 4), (4, 2)])]
    for eq, shapes in cases:
        arrays = [_rng.standard_normal(s) for s in shapes]
        ours = [leaf(a) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        out, ref = mt.einsum(eq, *ours), torch.einsum(eq, *theirs)
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12,
                                   atol=1e-12, err_msg=eq)
        g = _rng.standard_normal(ref.shape)
        out.backward(mt.tensor(g))
        ref.backward(torch.tensor(g))
        for o, t in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12,
                                       err_msg=eq)
