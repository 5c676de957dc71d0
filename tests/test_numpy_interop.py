"""NumPy meets tensors: ``np.asarray``/``np.array`` (the ``__array__`` protocol) and NumPy's
ufuncs (``__array_ufunc__``): operators keep the graph, other ufuncs of a tensor that requires
grad raise an error naming the microtensor function, as the learner's fix."""

from __future__ import annotations

import numpy as np
import pytest

import microtensor as mt


@pytest.mark.parametrize("ufunc, name", [(np.exp, "exp"), (np.tanh, "tanh"), (np.log, "log"),
                                          (np.sqrt, "sqrt"), (np.absolute, "abs"),
                                          (np.negative, "neg"), (np.sin, "sin")])
def test_a_numpy_ufunc_of_a_tensor_that_requires_grad_names_the_microtensor_function(ufunc,
                                                                                       name):
    t = mt.tensor([0.5, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        ufunc(t)
    message = str(info.value)
    assert f"np.{ufunc.__name__}() was given a Tensor that requires grad" in message
    assert f"use microtensor.{name}(t) instead" in message
    assert "t.detach().numpy()" in message
    # The function it names exists and computes what NumPy would have.
    np.testing.assert_allclose(getattr(mt, name)(t).detach().numpy(),
                               ufunc(t.detach().numpy()), rtol=1e-6)


def test_a_binary_ufunc_and_a_ufunc_method_are_refused_too():
    t = mt.tensor([0.5, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"np\.arctan2\(\).*microtensor\.atan2\(\.\.\.\)"):
        np.arctan2(t, np.ones(2))
    with pytest.raises(RuntimeError, match=r"np\.add\.reduce\(\).*microtensor operations"):
        np.add.reduce(t)
    with pytest.raises(RuntimeError, match=r"np\.logaddexp\(\).*microtensor operations"):
        np.logaddexp(t, t)


def test_an_array_on_the_left_of_an_operator_keeps_the_graph():
    w = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = np.array([4.0, 5.0, 6.0], dtype=np.float32)
    loss = (x * w + x / (w + 1) - x ** w.detach() * 0 + (x @ w)).sum()
    loss.backward()
    # d/dw_i by hand: x_i - x_i / (w_i + 1)**2, plus 3 x_i from the scalar x @ w, which is
    # broadcast to the 3 elements summed.
    expected = x - x / (np.array([1.0, 2.0, 3.0]) + 1) ** 2 + 3 * x
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-6)
    assert isinstance(x - w, mt.Tensor) and (x - w).grad_fn is not None


@pytest.mark.parametrize("op, expected", [
    (lambda a, t: a < t, [True, False, False]), (lambda a, t: a <= t, [True, True, False]),
    (lambda a, t: a > t, [False, False, True]), (lambda a, t: a >= t, [False, True, True]),
    (lambda a, t: a == t, [False, True, False]), (lambda a, t: a != t, [True, False, True]),
])
def test_comparisons_with_an_array_on_the_left_are_reflected(op, expected):
    a = np.array([1.0, 2.0, 3.0])
    t = mt.tensor([2.0, 2.0, 2.0])
    result = op(a, t)
    assert isinstance(result, mt.Tensor) and result.dtype == mt.bool
    assert result.tolist() == expected


def test_integer_and_bitwise_operators_with_an_array_on_the_left():
    a = np.array([7, 8, 9])
    t = mt.tensor([2, 3, 4])
    assert (a // t).tolist() == [3, 2, 2]
    assert (a % t).tolist() == [1, 2, 1]
    assert (a & t).tolist() == [2, 0, 0]
    assert (a | t).tolist() == [7, 11, 13]
    assert (a ^ t).tolist() == [5, 11, 13]
    assert (a ** t).tolist() == [49, 512, 6561]


def test_a_ufunc_of_a_tensor_without_grad_returns_a_tensor_as_in_pytorch():
    t = mt.tensor([0.0, 1.0, 2.0])
    y = np.exp(t)
    assert isinstance(y, mt.Tensor) and y.dtype == mt.float32
    np.testing.assert_allclose(y.numpy(), np.exp(np.array([0.0, 1.0, 2.0], np.float32)))
    fraction, whole = np.modf(mt.tensor([1.5, -2.25]))
    assert fraction.tolist() == [0.5, -0.25] and whole.tolist() == [1.0, -2.0]
    assert np.add.reduce(t) == 3.0  # other ufunc methods give NumPy's result
    with pytest.raises(TypeError, match=r"np\.exp\(\): out= cannot be a microtensor Tensor"):
        np.exp(np.ones(3), out=t)


@pytest.mark.filterwarnings("ignore:__array_wrap__:DeprecationWarning")  # (PyTorch's own)
def test_pytorch_gives_the_same_tensor_for_a_ufunc_without_grad():
    torch = pytest.importorskip("torch")
    values = [0.0, 1.0, 2.0]
    ours, theirs = np.exp(mt.tensor(values)), np.exp(torch.tensor(values))
    assert str(theirs.dtype) == "torch.float32" and ours.dtype == mt.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError, match="requires grad"):
        np.exp(torch.tensor(values, requires_grad=True))


def test_asarray_of_a_tensor_that_requires_grad_raises_as_in_pytorch():
    t = mt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires "
                                           r"grad\. Use tensor\.detach\(\)\.numpy\(\) instead"):
        np.asarray(t)
    np.testing.assert_array_equal(np.asarray(t.detach()), [1.0, 1.0])


def test_array_copies_and_asarray_shares_as_numpy_asks():
    t = mt.tensor([1.0, 2.0])
    copied = np.array(t)
    copied[0] = 5.0
    assert t.tolist() == [1.0, 2.0]
    shared = np.asarray(t)
    shared[0] = 7.0
    assert t.tolist() == [7.0, 2.0]
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="Unable to avoid copy"):
        np.asarray(t, dtype=np.float64, copy=False)
