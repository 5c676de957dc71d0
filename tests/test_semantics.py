"""PyTorch's semantics where microtensor used to differ silently: ``.data`` is a Tensor, 0-d
tensors are first-class, in-place changes are caught by version counters, gradients at the
edges (constant data, 0 ** 0, repeated roots), indexing and integer ops, and anomaly mode.

Each expected value is written out by hand (the PyTorch 2.13 result, which the tests marked
``torch`` also check directly where PyTorch is installed).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn
from microtensor.autograd import Function

MODIFIED = "modified by an inplace operation"


def f64(values: Any, requires_grad: bool = True) -> mt.Tensor:
    return mt.tensor(values, dtype=mt.float64, requires_grad=requires_grad)


def values(t: Any) -> np.ndarray:
    return t.detach().numpy() if isinstance(t, mt.Tensor) else np.asarray(t)


def close(t: Any, expected: Any) -> None:
    arr, expected = values(t), values(expected)
    tol = 1e-12 if arr.dtype == np.float64 else 1e-6
    np.testing.assert_allclose(arr, expected, rtol=tol, atol=tol, equal_nan=True)


# -- 1. .data is a Tensor ----------------------------------------------------------------------

def test_data_is_a_tensor_sharing_memory_outside_the_graph() -> None:
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    d = w.data
    assert isinstance(d, mt.Tensor) and not d.requires_grad and d.grad_fn is None
    d[0] = 5.0
    assert w.tolist() == [5.0, 2.0]
    a = mt.tensor([1.0, 2.0])
    a.numpy()[1] = 7.0  # numpy() shares memory, as in PyTorch
    assert a.tolist() == [1.0, 7.0]


def test_learner_update_idioms_change_the_parameter_in_place() -> None:
    w = mt.tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()  # grad 2w = [2, -4]
    w.data -= 0.1 * w.grad
    close(w, [0.8, -1.6])
    w.data += -0.1 * w.grad
    close(w, [0.6, -1.2])
    w.data = w.data - 0.5 * w.grad
    close(w, [-0.4, 0.8])
    assert w.is_leaf and w.requires_grad
    w.grad = None
    (w * w).sum().backward()  # the tensor keeps working after .data was replaced
    close(w.grad, [-0.8, 1.6])


def test_data_methods_used_to_initialise_layers() -> None:
    mt.manual_seed(0)
    lin = nn.Linear(3, 2)
    lin.weight.data.normal_(0, 0.01)
    assert float(lin.weight.detach().abs().max()) < 0.1
    lin.bias.data.fill_(0.5)
    close(lin.bias, [0.5, 0.5])
    lin.bias.data.zero_()
    close(lin.bias, [0.0, 0.0])
    lin.weight.data.uniform_(-1, 1)
    assert float(lin.weight.detach().abs().max()) <= 1.0
    n = lin.weight.data.norm()
    assert isinstance(n, mt.Tensor) and n.ndim == 0
    close(n, np.sqrt((lin.weight.detach().numpy().astype(np.float64) ** 2).sum()))
    c = lin.weight.data.clone()
    c.fill_(3.0)
    assert float(lin.weight.detach().abs().max()) <= 1.0  # the clone is a copy
    r = 4.2 - lin.bias.data
    assert isinstance(r, mt.Tensor) and not r.requires_grad
    close(r, np.float32([4.2, 4.2]))


def test_data_assignment_takes_a_tensor_of_any_shape_and_refuses_anything_else() -> None:
    t = mt.tensor([1.0, 2.0, 3.0])
    t.data = mt.zeros(2, 2)
    assert t.shape == (2, 2)
    for bad in (np.zeros(3), [1.0], 5):
        with pytest.raises(TypeError, match="Variable data has to be a tensor, but got"):
            t.data = bad  # type: ignore[assignment]


def test_writes_through_data_are_not_tracked_as_in_pytorch() -> None:
    w = f64([2.0])
    y = w * w
    w.data.mul_(3.0)
    y.backward()  # no error: .data writes bypass the version counter
    close(w.grad, [12.0])  # 2 * (new w), the documented trap of .data


# -- 2. 0-d tensors are first-class ------------------------------------------------------------

def test_ops_return_tensors_over_0d_arrays() -> None:
    x = mt.tensor(2.5)
    i = mt.tensor(6)
    b = mt.tensor(True)
    for t in (x.floor(), x.round(), x.ceil(), x.sign(), x.trunc(), ~b, b & b, b | b,
              i & 3, i | 1, i ^ 2, ~i, x.abs(), x > 1):
        assert type(t._data) is np.ndarray and t.ndim == 0
        t.add_(1) if t.dtype.kind != "b" else t.fill_(False)  # in place works on every one


def test_accumulated_0d_gradient_stays_a_tensor_and_zero_grad_clears_it() -> None:
    a = mt.tensor(2.0, requires_grad=True)
    (a * a).backward()
    (a * a).backward()
    close(a.grad, 8.0)
    assert type(a.grad._data) is np.ndarray
    a.grad.add_(1.0)
    close(a.grad, 9.0)
    opt = mt.optim.SGD([a], lr=0.1)
    opt.zero_grad(set_to_none=False)
    close(a.grad, 0.0)


def test_gradient_accumulates_in_place_as_in_pytorch() -> None:
    w = f64([1.0, 2.0])
    (w * 3).sum().backward()
    g = w.grad
    (w * 3).sum().backward()
    assert w.grad is g
    close(g, [6.0, 6.0])


def test_format_of_0d_and_other_tensors() -> None:
    loss = mt.tensor(0.693147)
    assert f"{loss:.4f}" == "0.6931"
    assert f"{mt.tensor(2.0):f}" == "2.000000"
    assert f"{mt.tensor(1.5)}" == "1.5"
    assert f"{mt.tensor(3)}" == "3"
    assert f"{mt.ones(2)}" == repr(mt.ones(2))
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        f"{mt.ones(2):.3f}"  # noqa: B018


# -- 3. version counters -----------------------------------------------------------------------

SAVES_OUTPUT: list[tuple[str, Callable[[mt.Tensor], mt.Tensor]]] = [
    ("exp", lambda x: x.exp()),
    ("sigmoid", lambda x: x.sigmoid()),
    ("tanh", lambda x: x.tanh()),
    ("sqrt", lambda x: x.sqrt()),
    ("softmax", lambda x: x.softmax(-1)),
    ("log_softmax", lambda x: x.log_softmax(-1)),
    ("logsumexp", lambda x: x.logsumexp(-1)),
    ("relu", lambda x: x.relu()),
    ("pow", lambda x: x ** mt.tensor(2.5, dtype=mt.float64)),
    ("prod", lambda x: x.prod()),
    ("std", lambda x: x.std()),
    ("norm", lambda x: x.norm()),
]


@pytest.mark.parametrize(("name", "fn"), SAVES_OUTPUT, ids=[n for n, _ in SAVES_OUTPUT])
def test_changing_a_saved_output_in_place_raises_at_backward(name: str, fn: Any) -> None:
    x = f64([0.5, 1.5, 2.0])
    y = fn(x)
    with mt.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.sum().backward()
    x2 = f64([0.5, 1.5, 2.0])
    y2 = fn(x2)
    y2.detach().add_(1.0)  # through a detached alias: the same counter
    with pytest.raises(RuntimeError, match=MODIFIED):
        y2.sum().backward()


SAVES_INPUT: list[tuple[str, Callable[[mt.Tensor, mt.Tensor], mt.Tensor]]] = [
    ("mul", lambda w, x: w * x),
    ("div", lambda w, x: x / w),
    ("matmul", lambda w, x: w @ x),
    ("log", lambda w, x: w.log()),
    ("log1p", lambda w, x: w.log1p()),
    ("sin", lambda w, x: w.sin()),
    ("cos", lambda w, x: w.cos()),
    ("pow", lambda w, x: w ** x),
    ("rpow", lambda w, x: x ** w),
    ("var", lambda w, x: w.var()),
    ("std", lambda w, x: w.std()),
    ("softplus", lambda w, x: w.softplus()),
    ("logsumexp", lambda w, x: w.logsumexp(0)),
    ("linear", lambda w, x: nn.functional.linear(x.reshape(1, 3), w.reshape(1, 3))),
    ("bce_with_logits", lambda w, x: nn.functional.binary_cross_entropy_with_logits(w, x / 4)),
    ("bce", lambda w, x: nn.functional.binary_cross_entropy(w / 4, x / 4)),
]


@pytest.mark.parametrize(("name", "fn"), SAVES_INPUT, ids=[n for n, _ in SAVES_INPUT])
def test_changing_a_saved_input_in_place_raises_at_backward(name: str, fn: Any) -> None:
    # (an optimizer step between the forward and the backward is exactly this)
    w = f64([0.5, 1.5, 2.0])
    x = f64([1.0, 2.0, 3.0], requires_grad=False)
    y = fn(w, x)
    with mt.no_grad():
        w.add_(0.25)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.sum().backward()


def test_writes_through_detach_state_dict_and_views_are_seen() -> None:
    lin = nn.Linear(3, 1).double()
    x = f64([[1.0, 2.0, 3.0]])
    lin(x).sum().backward()  # fine
    y = lin(x).sum()
    lin.state_dict()["weight"].mul_(10.0)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()
    w = f64([1.0, 2.0, 3.0])
    for alias in (lambda t: t.detach(), lambda t: t.detach()[0], lambda t: t.detach()[1:],
                  lambda t: t.detach().reshape(3, 1), lambda t: t.detach().T):
        w.grad = None
        y = (w * w).sum()
        alias(w).add_(0.0)  # a change of value or not, it is a write
        with pytest.raises(RuntimeError, match=MODIFIED):
            y.backward()


def test_views_share_memory_and_version_counter() -> None:
    t = mt.zeros(3, 4)
    row = t[1]
    row.fill_(2.0)
    assert t.sum().item() == 8.0
    assert t._version == row._version == 1
    col = t[:, 0]
    col.add_(1.0)
    assert t[0, 0].item() == 1.0 and t._version == 2
    t.T[0, 1] = 5.0  # a transpose is a view too
    assert t[1, 0].item() == 5.0


def test_index_tensor_and_where_condition_changed_after_forward_raise() -> None:
    x = f64([1.0, 2.0, 3.0])
    idx = mt.tensor([0, 0, 2])
    y = x[idx]
    idx[0] = 1
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.sum().backward()
    cond = mt.tensor([True, False, True])
    z = mt.where(cond, x, 0.0)
    cond[1] = True
    with pytest.raises(RuntimeError, match=MODIFIED):
        z.sum().backward()
    x2 = f64([[1.0, 2.0], [3.0, 4.0]])
    picked = mt.tensor([[1], [0]])
    v = x2.take_along_dim(picked, 1)
    picked.zero_()
    with pytest.raises(RuntimeError, match=MODIFIED):
        v.sum().backward()


SECOND_BACKWARD: list[tuple[str, Callable[[mt.Tensor], mt.Tensor]]] = [
    ("leaky_relu", lambda x: x.leaky_relu(0.1)),
    ("abs", lambda x: x.abs()),
    ("clamp", lambda x: x.clamp(0.0, 1.0)),
    ("maximum", lambda x: x.maximum(f64([1.0, 1.0, 1.0], False))),
    ("minimum", lambda x: x.minimum(f64([1.0, 1.0, 1.0], False))),
    ("where", lambda x: mt.where(x > 1, x, 0.0)),
    ("amax", lambda x: x.amax()),
    ("amin", lambda x: x.amin()),
    ("index", lambda x: x[[0, 2]]),
    ("softplus", lambda x: x.softplus()),
]


@pytest.mark.parametrize(("name", "fn"), SECOND_BACKWARD, ids=[n for n, _ in SECOND_BACKWARD])
def test_a_second_backward_without_retain_graph_raises(name: str, fn: Any) -> None:
    x = f64([-0.5, 1.5, 2.0])
    y = fn(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    z = fn(x).sum()
    z.backward(retain_graph=True)
    z.backward()  # retained: fine


def test_grad_mode_is_per_thread() -> None:
    seen: dict[str, bool] = {}
    inside = threading.Event()
    done = threading.Event()

    def other() -> None:
        inside.wait()
        seen["enabled"] = mt.is_grad_enabled()
        seen["records"] = (mt.tensor([1.0], requires_grad=True) * 2).requires_grad
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with mt.no_grad():
        inside.set()
        done.wait(timeout=10)
        assert not mt.is_grad_enabled()
    thread.join()
    assert seen == {"enabled": True, "records": True}


def test_inference_mode_turns_recording_off() -> None:
    x = mt.tensor([1.0], requires_grad=True)
    with mt.inference_mode():
        assert not (x * 2).requires_grad
    with mt.inference_mode(False):
        assert (x * 2).requires_grad

    @mt.inference_mode()
    def f(t: mt.Tensor) -> mt.Tensor:
        return t * 2

    assert not f(x).requires_grad and mt.is_grad_enabled()


def test_grad_assignment_checks_shape_dtype_and_type() -> None:
    p = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"assign a gradient of size '\[2\]' to a tensor of "
                                           r"size '\[3\]'"):
        p.grad = mt.zeros(2)
    with pytest.raises(RuntimeError, match="dtype 'float64' to a tensor with dtype 'float32'"):
        p.grad = mt.zeros(3, dtype=mt.float64)
    with pytest.raises(TypeError, match="expected to be a Tensor or None but got grad of type"):
        p.grad = np.zeros(3)  # type: ignore[assignment]
    p.grad = mt.ones(3)
    p.grad = None


def test_hook_returning_a_wrong_shape_raises() -> None:
    w = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w.register_hook(lambda g: mt.ones(1))
    with pytest.raises(RuntimeError, match="has changed the size of value"):
        (w * 2).sum().backward()
    a = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 2
    b.register_hook(lambda g: mt.ones(4))
    with pytest.raises(RuntimeError, match="has changed the size of value"):
        (b * 2).sum().backward()


def test_hook_result_is_not_aliased_by_later_accumulation() -> None:
    keep = mt.tensor([10.0, 10.0])
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    w.register_hook(lambda g: keep)
    (w * 2).sum().backward()
    (w * 2).sum().backward()
    close(w.grad, [20.0, 20.0])
    close(keep, [10.0, 10.0])


def test_requires_grad_attribute_on_an_integer_tensor_raises() -> None:
    t = mt.tensor([1, 2])
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require"):
        t.requires_grad = True
    y = mt.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        y.requires_grad = False


# -- 4. gradients where PyTorch gives them -----------------------------------------------------

def grad_of(fn: Callable[[mt.Tensor], mt.Tensor], values: Any) -> tuple[Any, Any]:
    x = f64(values)
    y = fn(x)
    y.backward(mt.ones_like(y))
    return y.detach().numpy(), x.grad.numpy()


def test_std_and_var_gradients_at_constant_data_and_single_elements() -> None:
    # PyTorch 2.13: std/var of constant data have a zero gradient; of one element (n - 1 = 0)
    # a nan value and a nan gradient, with a UserWarning.
    close(grad_of(lambda x: x.std(), [2.0, 2.0, 2.0])[1], [0.0, 0.0, 0.0])
    close(grad_of(lambda x: x.var(), [2.0, 2.0, 2.0])[1], [0.0, 0.0, 0.0])
    close(grad_of(lambda x: x.std(dim=1), [[2.0, 2.0], [1.0, 3.0]])[1],
          [[0.0, 0.0], [-0.5 ** 0.5, 0.5 ** 0.5]])
    close(grad_of(lambda x: x.std(correction=0), [2.0])[1], [0.0])
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        y, g = grad_of(lambda x: x.std(), [2.0])
    close(y, np.nan)
    close(g, [np.nan])
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        y, g = grad_of(lambda x: x.var(dim=1), [[2.0], [1.0]])
    close(y, [np.nan, np.nan])
    close(g, [[np.nan], [np.nan]])


@pytest.mark.parametrize(("a", "b", "da", "db"), [
    (0.0, 0.0, 0.0, 0.0), (0.0, 1.0, 1.0, 0.0), (0.0, 2.0, 0.0, 0.0), (2.0, 0.0, 0.0, np.log(2.0)),
])
def test_pow_with_a_tensor_exponent_at_zero(a: float, b: float, da: float, db: float) -> None:
    # PyTorch 2.13's values (polynomial features: x ** p with x = 0 and p = 0)
    x, p = f64(a), f64(b)
    (x ** p).backward()
    close(x.grad, da)
    close(p.grad, db)


def test_backward_of_repeated_and_dependent_roots() -> None:
    w = f64([1.0, 2.0])
    y = (w * 3).sum()
    mt.autograd.backward([y, y])
    close(w.grad, [6.0, 6.0])
    w.grad = None
    y = (w * 3).sum()
    z = y * y
    mt.autograd.backward([z, y])  # dz/dw = 2y * 3 = 54, dy/dw = 3
    close(w.grad, [57.0, 57.0])


@pytest.mark.parametrize("empty", [(), []])
def test_reductions_over_an_empty_dim_list_reduce_everything(empty: Any) -> None:
    x = f64([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]])
    for name in ("sum", "mean", "amax", "amin", "std", "var"):
        out = getattr(x, name)(dim=empty)
        assert out.shape == (), name
        close(out, getattr(x, name)())


# -- 5. indexing and integer ops ---------------------------------------------------------------

def test_an_int_and_an_index_list_separated_by_a_slice_place_dims_as_pytorch() -> None:
    data = np.arange(120.0).reshape(2, 3, 4, 5)
    x = f64(data)
    y = x[0, :, [0, 2]]
    assert y.shape == (3, 2, 5)
    close(y, data[0][:, [0, 2]])
    y.sum().backward()
    expected = np.zeros_like(data)
    expected[0][:, [0, 2]] = 1.0
    close(x.grad, expected)
    z = f64(np.arange(24.0).reshape(2, 3, 4))
    assert z[mt.tensor(1), :, [1, 2]].shape == (3, 2)  # a 0-d tensor selects, as an int
    assert z[[0, 1], :, 0].shape == (2, 3)
    assert z[0, ..., [1, 2]].shape == (3, 2)
    t = mt.tensor(np.arange(24.0).reshape(2, 3, 4))
    t[0, :, [1, 2]] = 0.0
    assert t.numpy()[0, :, 1:3].sum() == 0.0 and t.numpy()[0, :, 0].sum() == 12.0


def test_lists_of_lists_and_mixed_lists_index_as_pytorch() -> None:
    y = mt.arange(12).reshape(3, 4)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        assert y[[[0, 1], [1, 0]]].tolist() == [1, 4]  # a tuple, as PyTorch 2.13 reads it
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        assert y[[mt.tensor([0, 1]), 1]].tolist() == [1, 5]
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        assert y[[0, mt.tensor([1, 2])]].tolist() == [1, 2]
    assert y[[0, 1]].shape == (2, 4)


def test_ranges_and_tuples_index_as_sequences() -> None:
    # d2l's cross-entropy: y_hat[range(len(y_hat)), y] (PyTorch 2.13's values, by hand)
    y = mt.arange(12).reshape(3, 4)
    assert y[range(3), mt.tensor([0, 1, 2])].tolist() == [0, 5, 10]
    assert y[(0, 2), 1].tolist() == [1, 9]
    assert y[:, range(1, 3)].tolist() == [[1, 2], [5, 6], [9, 10]]
    assert y[range(0)].shape == (0, 4)
    p = mt.tensor([[0.2, 0.8], [0.6, 0.4]], requires_grad=True)
    p[range(2), [1, 0]].log().sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [[0.0, 1.25], [1 / 0.6, 0.0]], rtol=1e-6)


def test_bitwise_ops_on_integers_and_bools() -> None:
    assert (mt.tensor([6, 3]) & 2).tolist() == [2, 2]
    assert (mt.tensor([6, 3]) | 2).tolist() == [6, 3]
    assert (mt.tensor([6, 3]) ^ 2).tolist() == [4, 1]
    assert (~mt.tensor([6, 3])).tolist() == [-7, -4]
    assert (2 & mt.tensor([6, 3])).tolist() == [2, 2]
    assert (mt.tensor([True, False]) ^ True).tolist() == [False, True]
    assert (mt.tensor([True, False]) & mt.tensor([1, 3])).tolist() == [1, 0]
    with pytest.raises(TypeError, match="only integer and bool"):
        mt.tensor([1.0, 2.0]) & 1


def test_clamp_with_tensor_bounds_gives_each_bound_its_gradient() -> None:
    x, lo, hi = f64([1.0, 2.0, 5.0]), f64([2.0, 2.0, 6.0]), f64([3.0, 1.0, 7.0])
    y = x.clamp(lo, hi)
    close(y, [2.0, 1.0, 6.0])
    y.sum().backward()
    close(x.grad, [0.0, 0.0, 0.0])
    close(lo.grad, [1.0, 0.0, 1.0])
    close(hi.grad, [0.0, 1.0, 0.0])
    close(mt.tensor([1.0, 2.0, 5.0]).clamp(min=3, max=2), [2.0, 2.0, 2.0])
    out = mt.tensor([1, 2, 3]).clamp(min=1.5)
    assert out.dtype == mt.float32
    close(out, [1.5, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="do not broadcast"):
        mt.ones(3).clamp(mt.ones(2))


def test_small_cases_pytorch_accepts() -> None:
    assert mt.tensor(3.0).transpose(0, 0).item() == 3.0
    assert mt.tensor(3.0).transpose(0, -1).item() == 3.0
    assert mt.tensor([True, False]).sign().tolist() == [True, False]
    for fn in (lambda t: t.softmax(1), lambda t: t.log_softmax(1)):
        x = mt.ones(2, 0, requires_grad=True)
        y = fn(x)
        assert y.shape == (2, 0)
        y.sum().backward()
        assert x.grad.shape == (2, 0)
    close(mt.ones(2, 0).logsumexp(1), [-np.inf, -np.inf])


# -- 6. clear errors ---------------------------------------------------------------------------

def test_shape_arguments_are_checked_as_pytorch() -> None:
    with pytest.raises(RuntimeError, match="split expects split_size be non-negative"):
        mt.ones(6).split(-1)
    with pytest.raises(RuntimeError, match="split_sizes have only non-negative entries"):
        mt.ones(6).split([7, -1])
    with pytest.raises(TypeError, match="must be a tuple of ints, but found element of type float"):
        mt.ones(6).reshape(2.0, 3)
    with pytest.raises(RuntimeError, match="isn't allowed in a leading, non-existing dimension 0"):
        mt.ones(3).expand(-1, 3)
    assert mt.ones(3).expand(2, -1).shape == (2, 3)


# -- 7. anomaly mode ---------------------------------------------------------------------------

class NanBackward(Function):
    """y = x; its backward returns nan (a broken op, for anomaly mode)."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x.copy()

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g * float("nan")


def test_anomaly_mode_names_the_op_and_the_forward_line() -> None:
    x = f64([0.0, 1.0])
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"), \
            mt.autograd.detect_anomaly():
        with np.errstate(divide="ignore", invalid="ignore"):
            y = x.log()  # the line the error must point to
            z = (y * 0.0).sum()
            with pytest.raises(RuntimeError, match=r"Function 'LogBackward' returned nan values "
                                                   r"in its 0th output") as info:
                z.backward()
    assert "test_semantics.py" in str(info.value) and "y = x.log()" in str(info.value)
    assert not mt.autograd.is_anomaly_enabled()


def test_anomaly_mode_by_switch_and_off_by_default() -> None:
    x = f64([1.0, 2.0])
    NanBackward.apply(x).sum().backward()  # off: nan passes silently, as in PyTorch
    assert np.isnan(x.grad.numpy()).all()
    mt.autograd.set_detect_anomaly(True)
    try:
        assert mt.autograd.is_anomaly_enabled()
        y = NanBackward.apply(x).sum()
        with pytest.raises(RuntimeError, match="'NanBackwardBackward' returned nan values"):
            y.backward()
    finally:
        mt.autograd.set_detect_anomaly(False)
    assert not mt.autograd.is_anomaly_enabled()
    assert NanBackward.apply(x).grad_fn.stack is None  # nothing kept when off


def test_anomaly_mode_shows_the_forward_of_an_op_whose_backward_raises() -> None:
    x = f64([1.0, 2.0])
    with mt.autograd.set_detect_anomaly(True):
        y = x.exp()
        s = y.sum()
        s.backward(retain_graph=False)
        with pytest.warns(UserWarning, match=r"Error detected in ExpBackward") as record, \
                pytest.raises(RuntimeError, match="second time"):
            y.sum().backward()
    assert "y = x.exp()" in str(record[0].message)


# -- where PyTorch is installed: the same numbers ----------------------------------------------

def test_the_expected_values_above_are_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    x = torch.tensor([2.0, 2.0, 2.0], dtype=torch.float64, requires_grad=True)
    x.std().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    for a, b, da, db in [(0.0, 0.0, 0.0, 0.0), (0.0, 1.0, 1.0, 0.0), (0.0, 2.0, 0.0, 0.0)]:
        ta = torch.tensor(a, dtype=torch.float64, requires_grad=True)
        tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        (ta ** tb).backward()
        assert (ta.grad.item(), tb.grad.item()) == (da, db)
    z = torch.arange(120.0).reshape(2, 3, 4, 5)
    assert z[0, :, [0, 2]].shape == (3, 2, 5)
    assert (torch.tensor([6, 3]) & 2).tolist() == [2, 2]
    xt, lo, hi = (torch.tensor(v, dtype=torch.float64, requires_grad=True)
                  for v in ([1.0, 2.0, 5.0], [2.0, 2.0, 6.0], [3.0, 1.0, 7.0]))
    xt.clamp(lo, hi).sum().backward()
    assert (xt.grad.tolist(), lo.grad.tolist(), hi.grad.tolist()) == (
        [0.0, 0.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0])
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (w * 3).sum()
    torch.autograd.backward([y * y, y])
    assert w.grad.tolist() == [57.0, 57.0]
    assert f"{torch.tensor(0.693147):.4f}" == "0.6931" and f"{torch.tensor(1.5)}" == "1.5"


def test_activations_refuse_the_dtypes_pytorch_refuses() -> None:
    ints, bools = mt.tensor([1, 2]), mt.tensor([True, False])
    assert ints.relu().dtype == mt.int64  # relu keeps integers, as PyTorch
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        bools.relu()
    refused = [("leaky_relu", lambda t: t.leaky_relu()), ("softplus", lambda t: t.softplus()),
               ("softmax", lambda t: t.softmax(0)), ("log_softmax", lambda t: t.log_softmax(0))]
    for name, call in refused:
        for t in (ints, bools):
            with pytest.raises(NotImplementedError, match=f"{name} is not implemented for dtype"):
                call(t)
    with pytest.raises(NotImplementedError, match="abs is not implemented for dtype bool"):
        bools.abs()
    assert ints.sigmoid().dtype == mt.float32 and bools.sqrt().dtype == mt.float32


def test_cases_found_by_the_fuzz_suite() -> None:
    # Each as PyTorch 2.13 does it.
    assert not mt.ones(2, requires_grad=True).long().requires_grad
    assert mt.ones(2, requires_grad=True).double().requires_grad
    a, b = f64([1.0, 2.0]), f64([3.0, 4.0])
    b.__rmatmul__(a).backward()
    close(a.grad, [3.0, 4.0])
    assert mt.tensor(1.0).mT.item() == 1.0
    with pytest.raises(RuntimeError, match="only supported on matrices"):
        mt.ones(3).mT  # noqa: B018
    assert [p.shape for p in mt.zeros(0).chunk(2)] == [(0,), (0,)]
    assert mt.cat([mt.zeros(0), mt.ones(2, 2)], dim=1).shape == (2, 2)
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        mt.ones(2).clamp_()
    with pytest.raises(RuntimeError, match="does not support bool input"):
        mt.tensor([True, False]).argmax()
    with pytest.raises(NotImplementedError, match="bool"):
        mt.tensor([[True]]) @ mt.tensor([[True]])
    x = mt.zeros(2, 0, dtype=mt.float64, requires_grad=True)
    x.mean(-1).sum().backward()  # no warning, a gradient of the input's shape
    assert x.grad.shape == (2, 0)


def test_numpy_force_gives_the_array_of_a_tensor_that_requires_grad() -> None:
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Can't call numpy"):
        w.numpy()
    arr = w.numpy(force=True)
    arr[0] = 5.0  # shared memory, as detach().numpy()
    assert w.tolist() == [5.0, 2.0]


def test_reading_grad_of_a_non_leaf_warns_as_pytorch_and_names_the_usual_cause() -> None:
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w = w - 0.1 * w.grad  # the learner's mistake: w is now computed by an op
    (w * w).sum().backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor") as record:
        assert w.grad is None
    assert "w -= lr * w.grad" in str(record[0].message)
    h = w * 2
    h.retain_grad()
    leaf = mt.tensor([1.0], requires_grad=True)
    no_grad = mt.tensor([1.0]) * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of these warn (as in PyTorch)
        assert h.grad is None and leaf.grad is None and no_grad.grad is None
