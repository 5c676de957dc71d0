"""Tensor: creation, dtypes and promotion, attributes, conversions, printing, indexing, and the
rules for in-place operations. Expected values come from NumPy or are written out by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import microtensor as mt

# -- creation ------------------------------------------------------------------------------------


def test_tensor_from_scalars_lists_and_arrays() -> None:
    assert mt.tensor(3.5).shape == () and mt.tensor(3.5).item() == 3.5
    t = mt.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2) and t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    a = np.arange(6.0).reshape(2, 3)
    t = mt.tensor(a)
    np.testing.assert_array_equal(t.numpy(), a)
    a[0, 0] = 100.0  # tensor() copies
    assert t[0, 0].item() == 0.0
    assert mt.tensor([]).shape == (0,)
    assert mt.tensor([[], []]).shape == (2, 0)


def test_tensor_from_tensor_copies() -> None:
    a = mt.tensor([1.0, 2.0])
    b = mt.tensor(a)
    b.data[0] = 5.0
    assert a[0].item() == 1.0


def test_from_numpy_shares_memory() -> None:
    a = np.zeros(3, dtype=np.float64)
    t = mt.from_numpy(a)
    a[1] = 7.0
    assert t.dtype == mt.float64 and t.tolist() == [0.0, 7.0, 0.0]


def test_tensor_with_dtype_keeps_full_precision() -> None:
    # An explicit float64 must not pass through the float32 default on the way.
    assert mt.tensor(0.1, dtype=mt.float64).item() == 0.1
    assert mt.tensor([0.1, 0.2], dtype=mt.float64).tolist() == [0.1, 0.2]
    assert mt.tensor([1, 2], dtype=mt.float32).dtype == mt.float32


@pytest.mark.parametrize(("fn", "shape", "value"), [
    (lambda: mt.zeros(2, 3), (2, 3), 0.0), (lambda: mt.zeros((2, 3)), (2, 3), 0.0),
    (lambda: mt.zeros([4]), (4,), 0.0), (lambda: mt.ones(3), (3,), 1.0),
    (lambda: mt.ones(()), (), 1.0), (lambda: mt.full((2, 2), 7.5), (2, 2), 7.5),
    (lambda: mt.empty(2, 1), (2, 1), None),
    (lambda: mt.zeros_like(mt.ones(2, 4)), (2, 4), 0.0),
    (lambda: mt.ones_like(mt.zeros(3)), (3,), 1.0),
    (lambda: mt.full_like(mt.zeros(3), 2.0), (3,), 2.0),
])
def test_filled_creation(fn: Any, shape: tuple[int, ...], value: float | None) -> None:
    t = fn()
    assert t.shape == shape and t.dtype == mt.float32 and not t.requires_grad
    if value is not None:
        assert (t.numpy() == value).all()


def test_creation_with_dtype_and_requires_grad() -> None:
    t = mt.zeros(2, dtype=mt.float64, requires_grad=True)
    assert t.dtype == mt.float64 and t.requires_grad and t.is_leaf
    assert mt.ones(2, dtype=mt.int64).dtype == mt.int64
    assert mt.zeros_like(mt.ones(2, dtype=mt.int64)).dtype == mt.int64  # keeps input's dtype
    assert mt.ones_like(mt.ones(2), dtype=mt.float64).dtype == mt.float64
    assert mt.randn_like(mt.ones(2, dtype=mt.float64)).dtype == mt.float64
    assert mt.full((2,), 3).dtype == mt.int64
    assert mt.full((2,), True).dtype == mt.bool


def test_arange_linspace_eye() -> None:
    np.testing.assert_array_equal(mt.arange(5).numpy(), [0, 1, 2, 3, 4])
    assert mt.arange(5).dtype == mt.int64
    np.testing.assert_allclose(mt.arange(1, 2, 0.25).numpy(), [1.0, 1.25, 1.5, 1.75])
    assert mt.arange(1, 2, 0.25).dtype == mt.float32
    np.testing.assert_array_equal(mt.arange(10, 0, -3).numpy(), [10, 7, 4, 1])
    np.testing.assert_allclose(mt.linspace(-1, 1, 5).numpy(), [-1.0, -0.5, 0.0, 0.5, 1.0])
    assert mt.linspace(0, 1, 3).dtype == mt.float32
    np.testing.assert_array_equal(mt.eye(2, 3).numpy(), [[1, 0, 0], [0, 1, 0]])
    assert mt.eye(3).dtype == mt.float32


RANDOM = {
    "rand": lambda: mt.rand(3, 4),
    "randn": lambda: mt.randn((3, 4)),
    "randint": lambda: mt.randint(0, 10, (3, 4)),
    "randint_high_only": lambda: mt.randint(5, (6,)),
    "randperm": lambda: mt.randperm(10),
    "rand_like": lambda: mt.rand_like(mt.zeros(2, 2)),
    "randn_like": lambda: mt.randn_like(mt.zeros(2, 2)),
    "uniform_": lambda: mt.zeros(4).uniform_(-2, 2),
    "normal_": lambda: mt.zeros(4).normal_(1.0, 0.1),
}


@pytest.mark.parametrize("name", list(RANDOM))
def test_manual_seed_makes_random_functions_reproducible(name: str) -> None:
    mt.manual_seed(123)
    a = RANDOM[name]().numpy().copy()
    b = RANDOM[name]().numpy().copy()
    mt.manual_seed(123)
    c = RANDOM[name]().numpy().copy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)  # a stream, not one repeated sample


def test_random_distributions() -> None:
    mt.manual_seed(0)
    r = mt.rand(10_000).numpy()
    assert r.dtype == np.float32 and 0 <= r.min() and r.max() < 1 and abs(r.mean() - 0.5) < 0.02
    n = mt.randn(10_000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    i = mt.randint(-3, 4, (1000,))
    assert i.dtype == mt.int64 and set(i.tolist()) == set(range(-3, 4))
    p = mt.randperm(20)
    assert p.dtype == mt.int64 and sorted(p.tolist()) == list(range(20))
    u = mt.zeros(1000, dtype=mt.float64).uniform_(2, 3).numpy()
    assert u.dtype == np.float64 and 2 <= u.min() and u.max() < 3


def test_manual_seed_rejects_non_int() -> None:
    with pytest.raises(TypeError, match="int"):
        mt.manual_seed(1.5)  # type: ignore[arg-type]


# -- dtypes and promotion ------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "dtype"), [
    (1.5, mt.float32), ([1.0, 2], mt.float32), (1, mt.int64), ([1, 2], mt.int64),
    (True, mt.bool), ([True, False], mt.bool),
    (np.array([1, 2], dtype=np.int32), mt.int32), (np.array([1.0], dtype=np.float64), mt.float64),
    (np.array([1.0], dtype=np.float32), mt.float32), (np.array([1], dtype=np.uint8), np.uint8),
    (np.array([1.0], dtype=np.float16), np.float16), (np.array([True]), mt.bool),
    (np.float64(2.0), mt.float64), (np.int32(2), mt.int32),
], ids=repr)
def test_dtype_inference(data: Any, dtype: Any) -> None:
    assert mt.tensor(data).dtype == dtype


def test_dtypes_are_numpy_dtypes() -> None:
    assert mt.float32 == np.float32 and mt.float64 == np.float64 and mt.int64 == np.int64
    assert mt.float is mt.float32 and mt.double is mt.float64 and mt.long is mt.int64
    assert mt.get_default_dtype() == mt.float32


def test_set_default_dtype() -> None:
    mt.set_default_dtype(mt.float64)  # the autouse fixture in conftest restores float32
    assert mt.get_default_dtype() == mt.float64
    assert mt.tensor(1.5).dtype == mt.float64
    assert mt.tensor(0.1).item() == 0.1
    assert mt.zeros(2).dtype == mt.float64
    assert mt.rand(2).dtype == mt.float64
    assert mt.arange(0.0, 1.0, 0.5).dtype == mt.float64
    assert (mt.tensor([1, 2]) / 2).dtype == mt.float64
    assert mt.tensor([1, 2]).dtype == mt.int64  # ints are unaffected
    assert "dtype" not in repr(mt.tensor([1.5]))
    assert "dtype=microtensor.float32" in repr(mt.tensor([1.5], dtype=mt.float32))
    with pytest.raises(TypeError, match="float32 and float64"):
        mt.set_default_dtype(mt.int64)


@pytest.mark.parametrize(("make", "dtype"), [
    (lambda: mt.ones(2) * 2.5, mt.float32),  # Python scalars never upcast a tensor
    (lambda: mt.ones(2) + 2, mt.float32),
    (lambda: 3.0 - mt.ones(2, dtype=mt.float64), mt.float64),
    (lambda: mt.ones(2, dtype=mt.int32) + 5, mt.int32),
    (lambda: mt.ones(2, dtype=mt.int64) * 2, mt.int64),
    (lambda: mt.ones(2, dtype=mt.int64) * 2.5, mt.float32),  # int * float -> default float
    (lambda: mt.ones(2, dtype=mt.int64) / 2, mt.float32),  # true division gives floats
    (lambda: mt.ones(2, dtype=mt.int64) / mt.ones(2, dtype=mt.int64), mt.float32),
    (lambda: mt.ones(2, dtype=mt.bool) + 1, mt.int64),
    (lambda: mt.ones(2, dtype=mt.bool) * True, mt.bool),
    (lambda: mt.ones(2) + np.float64(1.0), mt.float32),  # NumPy scalars act as Python scalars
    (lambda: mt.ones(2, dtype=mt.int64) + mt.ones(2), mt.float32),  # int + float32 -> float32
    (lambda: mt.ones(2, dtype=mt.int64) + mt.ones(2, dtype=mt.float64), mt.float64),
    (lambda: mt.ones(2, dtype=mt.int32) + mt.ones(2, dtype=mt.int64), mt.int64),
    (lambda: mt.ones(2) + mt.ones(2, dtype=mt.float64), mt.float64),
    (lambda: mt.ones(2) + mt.tensor(1.0, dtype=mt.float64), mt.float32),  # 0-d: no upcast
    (lambda: mt.ones(2, dtype=mt.int64) + mt.tensor(1.5), mt.float32),  # category wins
    (lambda: mt.ones(2) ** 2, mt.float32), (lambda: mt.ones(2, dtype=mt.int64) ** 2, mt.int64),
    (lambda: mt.ones(2, dtype=mt.int64) ** 0.5, mt.float32),
    (lambda: mt.ones(2, dtype=mt.int64).exp(), mt.float32),  # float functions on ints
    (lambda: mt.ones(2, dtype=mt.int64).sigmoid(), mt.float32),
    (lambda: mt.ones(2, dtype=mt.int32).sum(), mt.int64),
    (lambda: mt.ones(2, dtype=mt.bool).sum(), mt.int64),
    (lambda: mt.where(mt.tensor([True, False]), mt.ones(2), 0), mt.float32),
    (lambda: mt.cat([mt.ones(2, dtype=mt.int64), mt.ones(2)]), mt.float32),
    (lambda: mt.ones(2) @ mt.ones(2, dtype=mt.float64), mt.float64),
    (lambda: mt.ones(2) == 1, mt.bool),
])
def test_type_promotion(make: Any, dtype: Any) -> None:
    assert make().dtype == dtype


def test_conversions_between_dtypes() -> None:
    t = mt.tensor([1.7, -2.2])
    assert t.float() is t  # already float32: no copy, as in PyTorch
    assert t.double().dtype == mt.float64
    assert t.long().dtype == mt.int64 and t.long().tolist() == [1, -2]
    assert t.int().dtype == mt.int32
    assert t.bool().tolist() == [True, True]
    assert t.to(mt.float64).dtype == mt.float64
    assert t.to(dtype=mt.float64).dtype == mt.float64
    assert t.to("cpu") is t and t.to("cpu", mt.float64).dtype == mt.float64
    assert t.to(np.float64).dtype == mt.float64
    assert mt.tensor([1, 2]).float().dtype == mt.float32


def test_conversion_is_differentiable() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.grad_fn.name() == "CastBackward"
    (y * y).sum().backward()
    assert x.grad.dtype == mt.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_float_tensor_to_int_does_not_require_grad() -> None:
    x = mt.tensor([1.5, 2.5], requires_grad=True)
    i = x.long()
    assert i.dtype == mt.int64
    assert i.tolist() == [1, 2]


# -- attributes and conversions ------------------------------------------------------------------

def test_attributes() -> None:
    t = mt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert isinstance(t.detach().numpy(), np.ndarray)
    assert t.shape == (2, 3) and t.ndim == 2 and t.dim() == 2
    assert t.dtype == mt.float32
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-2) == 2
    assert t.numel() == 6 and len(t) == 2
    assert t.grad is None and t.grad_fn is None and t.is_leaf and not t.requires_grad
    assert t.device == mt.device("cpu") and str(t.device) == "cpu" and t.cpu() is t


def test_numpy_item_tolist() -> None:
    t = mt.tensor([[1.0, 2.0]])
    assert t.numpy() is t.detach().numpy()  # shared, not copied
    assert mt.tensor([3.5]).item() == 3.5 and isinstance(mt.tensor([3.5]).item(), float)
    assert mt.tensor(4).item() == 4 and isinstance(mt.tensor(4).item(), int)
    assert mt.tensor(True).item() is True
    assert t.tolist() == [[1.0, 2.0]]
    assert mt.tensor(2.5).tolist() == 2.5
    assert float(mt.tensor(2.5)) == 2.5 and int(mt.tensor(3)) == 3
    assert bool(mt.tensor([1.0])) and not bool(mt.tensor(0.0))
    x = mt.tensor([1.0], requires_grad=True)
    assert x.detach().numpy()[0] == 1.0


def test_iteration_yields_rows_that_stay_in_the_graph() -> None:
    x = mt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert len(rows) == 2 and rows[1].tolist() == [3.0, 4.0]
    (rows[0] * 2.0 + rows[1] * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 2.0], [3.0, 3.0]])


def test_array_protocol() -> None:
    t = mt.tensor([1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0])
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


def test_ndarray_on_the_left_gives_a_tensor() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(y, mt.Tensor) and y.requires_grad


def test_comparisons_and_argmax() -> None:
    a = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = mt.tensor([3.0, 2.0, 1.0])
    for got, expected in [(a == b, [False, True, False]), (a != b, [True, False, True]),
                          (a < b, [True, False, False]), (a <= b, [True, True, False]),
                          (a > b, [False, False, True]), (a >= 2, [False, True, True])]:
        assert got.dtype == mt.bool and not got.requires_grad and got.tolist() == expected
    m = mt.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    assert m.argmax().item() == 3 and m.argmin().item() == 4
    assert m.argmax(1).tolist() == [1, 0]  # ties: the first index
    assert m.argmin(dim=0, keepdim=True).tolist() == [[0, 1, 0]]
    assert m.argmax(1).dtype == mt.int64
    assert (~(a > 1)).tolist() == [True, False, False]
    assert ((a > 1) & (a < 3)).tolist() == [False, True, False]
    assert ((a < 2) | (a > 2)).tolist() == [True, False, True]


def test_max_min_with_dim_return_values_and_indices() -> None:
    x = mt.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    result = x.min(0, keepdim=True)
    assert result.values.tolist() == [[1.0, 0.0, 2.0]] and result.indices.tolist() == [[0, 1, 0]]
    assert x.max().item() == 7.0 and x.min().item() == 0.0


def test_reductions_values() -> None:
    a = np.arange(24.0).reshape(2, 3, 4) / 7
    t = mt.tensor(a, dtype=mt.float64)
    np.testing.assert_allclose(t.sum((0, 2)).numpy(), a.sum((0, 2)))
    np.testing.assert_allclose(t.mean(-1, keepdim=True).numpy(), a.mean(-1, keepdims=True))
    np.testing.assert_allclose(t.var(1).numpy(), a.var(1, ddof=1))
    np.testing.assert_allclose(t.var(1, unbiased=False).numpy(), a.var(1))
    np.testing.assert_allclose(t.std().numpy(), a.std(ddof=1))
    np.testing.assert_allclose(t.prod(2).numpy(), a.prod(2))
    np.testing.assert_allclose(t.logsumexp((1, 2)).numpy(), np.log(np.exp(a).sum((1, 2))))
    e = np.exp(a)
    np.testing.assert_allclose(t.softmax(1).numpy(), e / e.sum(1, keepdims=True))
    np.testing.assert_allclose(t.log_softmax(-1).numpy(), np.log(e / e.sum(-1, keepdims=True)))
    np.testing.assert_allclose(t.amax((0, 1)).numpy(), a.max((0, 1)))


def test_shape_functions_values() -> None:
    a = np.arange(24.0).reshape(2, 3, 4)
    t = mt.tensor(a)
    assert t.reshape(4, -1).shape == (4, 6) and t.view(-1).shape == (24,)
    np.testing.assert_array_equal(t.transpose(0, 2).numpy(), a.transpose(2, 1, 0))
    np.testing.assert_array_equal(t.permute(1, 2, 0).numpy(), a.transpose(1, 2, 0))
    np.testing.assert_array_equal(t[0].T.numpy(), a[0].T)
    assert t.mT.shape == (2, 4, 3)
    assert mt.ones(1, 3, 1).squeeze().shape == (3,)
    assert mt.ones(1, 3, 1).squeeze(0).shape == (3, 1)
    assert mt.ones(1, 3, 1).squeeze(1).shape == (1, 3, 1)  # not size 1: unchanged
    assert mt.ones(3).unsqueeze(0).shape == (1, 3) and mt.ones(3).unsqueeze(-1).shape == (3, 1)
    assert mt.ones(3, 1).expand(2, 3, 4).shape == (2, 3, 4)
    assert mt.ones(3, 1).expand(-1, 5).shape == (3, 5)
    assert t.flatten().shape == (24,) and t.flatten(1).shape == (2, 12)
    assert t.flatten(0, 1).shape == (6, 4) and mt.tensor(1.0).flatten().shape == (1,)
    assert [p.shape for p in t.split(2, dim=2)] == [(2, 3, 2), (2, 3, 2)]
    assert [p.shape for p in t.split([1, 2], dim=1)] == [(2, 1, 4), (2, 2, 4)]
    assert [p.shape[2] for p in t.chunk(3, dim=2)] == [2, 2]  # ceil(4/3) = 2 per chunk
    assert [p.shape[0] for p in mt.ones(5).chunk(3)] == [2, 2, 1]
    assert mt.stack([mt.ones(2), mt.zeros(2)], dim=1).tolist() == [[1, 0], [1, 0]]
    assert mt.cat([mt.ones(1, 2), mt.zeros(2, 2)]).shape == (3, 2)


def test_matmul_values() -> None:
    rng = np.random.default_rng(0)
    for sa, sb in [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                   ((5, 2, 3), (3, 4)), ((2, 1, 2, 3), (5, 3, 4))]:
        a, b = rng.normal(size=sa), rng.normal(size=sb)
        np.testing.assert_allclose((mt.tensor(a) @ mt.tensor(b)).numpy(), a @ b, rtol=1e-12)
    np.testing.assert_allclose((np.ones((2, 2)) @ mt.tensor(np.eye(2))).numpy(), np.ones((2, 2)))


# -- printing ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("make", "text"), [
    (lambda: mt.tensor([[0.5, 0.2]], requires_grad=True),
     "tensor([[0.5000, 0.2000]], requires_grad=True)"),
    (lambda: mt.tensor([[0.5, 0.2]], requires_grad=True) * 2,
     "tensor([[1.0000, 0.4000]], grad_fn=<MulBackward>)"),
    (lambda: mt.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda: mt.tensor([1.0, -2.0, 30.0]), "tensor([ 1., -2., 30.])"),
    (lambda: mt.tensor(2.5), "tensor(2.5000)"),
    (lambda: mt.tensor([1, 2]), "tensor([1, 2])"),
    (lambda: mt.tensor([True, False]), "tensor([ True, False])"),
    (lambda: mt.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: mt.tensor([1.0], dtype=mt.float64), "tensor([1.], dtype=microtensor.float64)"),
    (lambda: mt.tensor([1, 2], dtype=mt.int32), "tensor([1, 2], dtype=microtensor.int32)"),
    (lambda: mt.zeros(2, 0), "tensor([], size=(2, 0))"),
    (lambda: mt.tensor([[1.5, 2.0], [3.0, 4.0]]), "tensor([[1.5000, 2.0000],\n        "
                                                  "[3.0000, 4.0000]])"),
])
def test_repr(make: Any, text: str) -> None:
    assert repr(make()) == text


def test_repr_of_large_tensor_is_summarised() -> None:
    text = repr(mt.arange(5000))
    assert "..." in text and len(text) < 200


# -- indexing ------------------------------------------------------------------------------------

A = np.arange(24.0).reshape(2, 3, 4)


@pytest.mark.parametrize("index", [
    0, -1, (1, 2), (0, -1, 3), slice(None), (slice(None), 1), (slice(0, 1), slice(None, None, 2)),
    (Ellipsis, 0), (0, Ellipsis), (None, 0), (slice(None), None, 1), (Ellipsis, None),
    ([0, 1, 0],), (slice(None), [2, 0, 2]), ([1, 0], [2, 2]), ([[0, 1], [1, 1]],),
    (A[:, :, 0] > 5,), (A > 10,), (0, A[0, :, 0] > 3), (slice(None), [0, 2], slice(1, 3)),
], ids=repr)
def test_indexing_matches_numpy(index: Any) -> None:
    t = mt.tensor(A)
    np.testing.assert_array_equal(t[index].numpy(), A[index])


def test_indexing_with_tensors() -> None:
    t = mt.tensor(A)
    np.testing.assert_array_equal(t[mt.tensor([1, 1, 0])].numpy(), A[[1, 1, 0]])
    np.testing.assert_array_equal(t[t > 20].numpy(), A[A > 20])
    assert t[mt.tensor(1)].shape == (3, 4)


def test_basic_index_is_a_view_and_advanced_index_a_copy() -> None:
    # As in PyTorch: ints and slices give a view (writes reach t), index arrays a copy.
    t = mt.tensor(A)
    row = t[0]
    row.data[0, 0] = -1.0
    assert t[0, 0, 0].item() == -1.0
    picked = t[[0]]
    picked[0, 0, 0] = 7.0
    assert t[0, 0, 0].item() == -1.0


def test_repeated_indices_accumulate_gradient() -> None:
    x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 2, 0, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_mask_indexing_gradient() -> None:
    x = mt.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    (x[x > 0] * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 0.0], [0.0, 2.0]])


def test_setitem() -> None:
    t = mt.zeros(2, 3)
    t[0, 1] = 5.0
    t[1] = mt.tensor([1.0, 2.0, 3.0])
    t[t > 2] = -1.0
    assert t.tolist() == [[0.0, -1.0, 0.0], [1.0, 2.0, -1.0]]
    w = mt.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0] = 1.0
    with mt.no_grad():
        w[0] = 1.0
    assert w.tolist() == [1.0, 0.0]


# -- in place ------------------------------------------------------------------------------------

def test_inplace_arithmetic_on_plain_tensor() -> None:
    t = mt.tensor([1.0, 2.0])
    data = t.detach().numpy()
    t += 1
    t *= mt.tensor([2.0, 3.0])
    t -= 0.5
    t /= 2
    assert t.detach().numpy() is data  # truly in place
    assert t.tolist() == [1.75, 4.25]
    t.add_(mt.tensor([1.0, 1.0]), alpha=2).sub_(1.0, alpha=0.5).mul_(2.0).div_(4.0)
    np.testing.assert_allclose(t.numpy(), [(1.75 + 2 - 0.5) / 2, (4.25 + 2 - 0.5) / 2])
    assert t.clamp_(0.0, 2.0).tolist() == [1.625, 2.0]
    assert t.zero_().tolist() == [0.0, 0.0]
    assert t.fill_(3.0).tolist() == [3.0, 3.0]
    assert t.copy_(mt.tensor([7.0])).tolist() == [7.0, 7.0]  # copy_ broadcasts
    assert t.copy_(np.array([1, 2])).dtype == mt.float32


def test_inplace_on_leaf_requiring_grad() -> None:
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad is being used in an "
                                           "in-place operation"):
        w += 1
    for op in (lambda: w.mul_(2.0), lambda: w.zero_(), lambda: w.fill_(1.0),
               lambda: w.copy_(mt.zeros(2)), lambda: w.clamp_(0, 1)):
        with pytest.raises(RuntimeError, match="in-place"):
            op()
    with mt.no_grad():  # how optimizers update parameters
        w -= 0.5
        w.mul_(2.0)
    assert w.tolist() == [1.0, 3.0] and w.requires_grad and w.is_leaf


def test_inplace_on_graph_tensor_or_with_grad_operand_raises() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match="part of the graph"):
        y += 1
    t = mt.zeros(2)
    with pytest.raises(RuntimeError, match="operand that requires grad"):
        t += x


def test_inplace_on_grad_is_allowed() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_inplace_cannot_change_dtype() -> None:
    t = mt.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        t /= 2
    t += 1
    assert t.dtype == mt.int64 and t.tolist() == [2, 3]


def test_inplace_bumps_version_of_saved_tensor() -> None:
    a = mt.tensor([1.0, 2.0])
    x = mt.tensor([3.0, 4.0], requires_grad=True)
    y = (x * a).sum()
    a.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_piecewise_constant_functions_and_all_any() -> None:
    """round/floor/ceil/sign follow NumPy (halves to even, as PyTorch) and are recorded with a
    zero gradient (as PyTorch); all/any reduce like PyTorch."""
    data = np.array([[0.5, 1.5, -2.5], [2.7, -0.2, 0.0]])
    x = mt.tensor(data, requires_grad=True)
    np.testing.assert_array_equal(x.round().detach().numpy(), [[0.0, 2.0, -2.0], [3.0, -0.0, 0.0]])
    np.testing.assert_array_equal(x.floor().detach().numpy(), np.floor(data))
    np.testing.assert_array_equal(x.ceil().detach().numpy(), np.ceil(data))
    np.testing.assert_array_equal(x.sign().detach().numpy(), [[1.0, 1.0, -1.0], [1.0, -1.0, 0.0]])
    for f in (mt.Tensor.round, mt.Tensor.floor, mt.Tensor.ceil, mt.Tensor.sign,
              mt.Tensor.trunc):
        y = f(x)
        assert y.requires_grad and y.grad_fn is not None
        (g,) = mt.autograd.grad(y.sum(), x)
        np.testing.assert_array_equal(g.numpy(), np.zeros_like(data))
    positive = x > 0
    assert positive.all().item() is False and positive.any().item() is True
    np.testing.assert_array_equal(positive.all(dim=1).detach().numpy(), [False, False])
    np.testing.assert_array_equal(positive.any(dim=0).detach().numpy(), [True, True, False])
    assert positive.all(dim=1, keepdim=True).shape == (2, 1)
