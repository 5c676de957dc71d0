"""Shape, indexing, sorting and scan ops: cumsum/cumprod, tril/triu, flip, roll, repeat, tile,
repeat_interleave, gather/scatter, index_select/index_add, masked ops, take, sort/argsort/topk,
median/kthvalue/mode, unique, unbind, narrow, diag/diagonal, unflatten, meshgrid, F.one_hot.

Gradients through ``gradcheck``/``gradgradcheck`` (float64 central differences); values,
dtypes, errors and second derivatives against PyTorch where it is installed; a few values
derived by hand. (The fuzz table in ``test_fuzz_torch.py`` has a row for each op too.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn
from microtensor.autograd import gradcheck, gradgradcheck
from microtensor.ops.sort import Argsort

_rng = np.random.default_rng(2026)


def u(*shape: int) -> np.ndarray:
    return _rng.uniform(-1.0, 1.0, shape)


def grid(*shape: int) -> np.ndarray:
    """Distinct values 0.1 apart, shuffled: no ties for sort, topk, median."""
    n = int(np.prod(shape))
    return ((_rng.permutation(n) - n // 2) * 0.1 + 0.05).reshape(shape)


def with_zeros(*shape: int) -> np.ndarray:
    """Values with zeros: one in most rows, two in one, at the start and at the end."""
    x = _rng.uniform(0.5, 1.5, shape) * _rng.choice([-1.0, 1.0], shape)
    flat = x.reshape(-1, shape[-1])
    flat[0, 1] = 0.0
    flat[-1, 0] = 0.0
    flat[-1, -1] = 0.0
    return x


IDX = np.array([[0, 2, 1, 2], [3, 3, 0, 1]])      # for gather on (3, 4) along dim 1, repeats
PERM = np.array([[0, 2, 1, 3], [3, 1, 0, 2]])     # distinct per row: scatter has no collisions
M34 = np.array([[True, False, True, False], [False, False, True, True], [True, True, False,
                                                                          False]])

CASES: list[Any] = [
    ("cumsum", lambda a: a.cumsum(1), u(3, 4)),
    ("cumsum_dim0_neg", lambda a: mt.cumsum(a, -2), u(3, 4)),
    ("cumsum_0d", lambda a: a.cumsum(0), u()),
    ("cumprod", lambda a: a.cumprod(1), u(3, 4)),
    ("cumprod_zeros", lambda a: a.cumprod(1), with_zeros(3, 4)),
    ("cumprod_zeros_dim0", lambda a: mt.cumprod(a, 0), with_zeros(4, 3).T.copy().T),
    ("cumprod_zeros_3d", lambda a: a.cumprod(-1), with_zeros(2, 2, 4)),
    ("cumprod_all_zeros", lambda a: a.cumprod(0), np.zeros(3)),
    ("tril", lambda a: a.tril(), u(3, 4)),
    ("triu_diagonal", lambda a: mt.triu(a, -1), u(2, 3, 4)),
    ("tril_diagonal", lambda a: mt.tril(a, 2), u(3, 4)),
    ("flip", lambda a: a.flip(0, -1), u(3, 4)),
    ("fliplr_flipud", lambda a: mt.fliplr(a) * mt.flipud(a), u(3, 3)),
    ("roll", lambda a: a.roll((1, -3), (0, 1)), u(3, 4)),
    ("roll_flat", lambda a: mt.roll(a, 5), u(3, 4)),
    ("repeat", lambda a: a.repeat(2, 1, 3), u(3, 4)),
    ("tile", lambda a: mt.tile(a, (2,)), u(3, 4)),
    ("repeat_interleave", lambda a: a.repeat_interleave(2, dim=0), u(3, 4)),
    ("repeat_interleave_flat", lambda a: a.repeat_interleave(3), u(2, 2)),
    ("repeat_interleave_tensor", lambda a: a.repeat_interleave(mt.tensor([2, 0, 3]), dim=0),
     u(3, 4)),
    ("expand_as_reshape_as", lambda a, b: a.expand_as(b) * b.reshape_as(b.T).T, u(1, 4),
     u(3, 4)),
    ("unflatten", lambda a: a.unflatten(1, (2, -1)), u(3, 4)),
    ("gather", lambda a: a.gather(1, mt.tensor(IDX)), u(3, 4)),
    ("gather_dim0", lambda a: mt.gather(a, 0, mt.tensor([[2, 0, 0, 1]])), u(3, 4)),
    ("scatter_src", lambda a, s: a.scatter(1, mt.tensor(PERM), s), u(3, 4), u(2, 4)),
    ("scatter_value", lambda a: a.scatter(1, mt.tensor(PERM[:, :2]), 2.5), u(3, 4)),
    ("scatter_add", lambda a, s: a.scatter_add(1, mt.tensor(IDX), s), u(3, 4), u(2, 4)),
    ("scatter_add_larger_src", lambda a, s: mt.scatter_add(a, 1, mt.tensor(IDX), s), u(3, 4),
     u(3, 5)),
    ("index_select", lambda a: a.index_select(1, mt.tensor([3, 0, 0, 2])), u(3, 4)),
    ("index_add", lambda a, s: a.index_add(0, mt.tensor([2, 0, 2]), s, alpha=-1.5), u(3, 4),
     u(3, 4)),
    ("masked_fill", lambda a: a.masked_fill(mt.tensor(M34), -1.0), u(3, 4)),
    ("masked_fill_value_tensor", lambda a, v: a.masked_fill(mt.tensor(M34[0]), v), u(3, 4),
     u()),
    ("masked_select", lambda a: a.masked_select(mt.tensor(M34[1])), u(3, 4)),
    ("take", lambda a: a.take(mt.tensor([[0, -1], [5, 5]])), u(3, 4)),
    ("sort", lambda a: a.sort(1).values, grid(3, 4)),
    ("sort_descending_dim0", lambda a: mt.sort(a, 0, descending=True)[0], grid(3, 4)),
    ("topk", lambda a: a.topk(2).values, grid(3, 4)),
    ("topk_smallest_dim0", lambda a: mt.topk(a, 2, 0, largest=False)[0], grid(3, 4)),
    ("median_all", lambda a: a.median(), grid(3, 4)),
    ("median_dim", lambda a: a.median(0).values, grid(4, 3)),
    ("median_dim_keepdim", lambda a: mt.median(a, 1, keepdim=True)[0], grid(3, 5)),
    ("kthvalue", lambda a: a.kthvalue(3, 1).values, grid(3, 4)),
    # (every value twice, so that the finite differences keep the ties)
    ("mode", lambda a: mt.cat([a, a.flip(1)], 1).mode(1).values, grid(3, 4)),
    ("unbind", lambda a: mt.stack([t * (i + 1) for i, t in enumerate(a.unbind(1))]), u(3, 4)),
    ("narrow", lambda a: a.narrow(1, -3, 2), u(3, 4)),
    ("diag_of_vector", lambda a: a.diag(1), u(3)),
    ("diag_of_matrix", lambda a: mt.diag(a, -1), u(3, 4)),
    ("diagonal", lambda a: a.diagonal(1, 2, 0), u(3, 2, 4)),
    ("meshgrid", lambda a, b: mt.stack(mt.meshgrid(a, b, indexing="xy")).sum(0), u(3), u(4)),
]


@pytest.mark.parametrize(("name", "fn", "inputs"), [(c[0], c[1], c[2:]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_gradcheck_and_gradgradcheck(name: str, fn: Callable[..., Any],
                                     inputs: tuple[np.ndarray, ...]) -> None:
    xs = [mt.tensor(a, dtype=mt.float64, requires_grad=True) for a in inputs]
    assert gradcheck(fn, xs)
    assert gradgradcheck(fn, xs)


def test_cumprod_gradient_with_zeros_by_hand() -> None:
    # y = (2, 0, 0): dy0/dx0 = 1; dy1/dx1 = x0 = 2, dy2/dx1 = x0 * x2 = 6; dy2/dx2 = x0 * x1 = 0
    x = mt.tensor([2.0, 0.0, 3.0], requires_grad=True)
    x.cumprod(0).sum().backward()
    assert x.grad.tolist() == [1.0, 8.0, 0.0]
    # and the second derivative: d/dx1 of dL/dx2 = x0 = 2 (which a masked gradient would lose)
    x = mt.tensor([2.0, 0.0, 3.0], dtype=mt.float64, requires_grad=True)
    (g,) = mt.autograd.grad(x.cumprod(0).sum(), x, create_graph=True)
    (h,) = mt.autograd.grad(g[2], x)
    assert h.tolist() == [0.0, 2.0, 0.0]


def test_values_by_hand() -> None:
    x = mt.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    assert x.cumsum(1).tolist() == [[3.0, 4.0, 6.0], [0.0, 5.0, 9.0]]
    assert x.sort(1).values.tolist() == [[1.0, 2.0, 3.0], [0.0, 4.0, 5.0]]
    assert x.sort(1, descending=True).indices.tolist() == [[0, 2, 1], [1, 2, 0]]
    assert x.topk(1).indices.tolist() == [[0], [1]]
    assert x.median().item() == 2.0  # the lower of the middle two of 0, 1, 2, 3, 4, 5
    assert x.gather(1, mt.tensor([[2], [0]])).tolist() == [[2.0], [0.0]]
    assert x.roll(1, 1).tolist() == [[2.0, 3.0, 1.0], [4.0, 0.0, 5.0]]
    assert x.tril().tolist() == [[3.0, 0.0, 0.0], [0.0, 5.0, 0.0]]
    assert mt.tensor([1, 2]).repeat_interleave(mt.tensor([2, 1])).tolist() == [1, 1, 2]
    values, inverse, counts = mt.tensor([3, 1, 3]).unique(return_inverse=True,
                                                          return_counts=True)
    assert (values.tolist(), inverse.tolist(), counts.tolist()) == ([1, 3], [1, 0, 1], [1, 2])
    assert mt.nn.functional.one_hot(mt.tensor([0, 2])).tolist() == [[1, 0, 0], [0, 0, 1]]


def test_sort_is_stable_in_both_directions() -> None:
    x = mt.tensor([1.0, 0.0, 1.0, 0.0, 1.0])
    assert x.sort(stable=True).indices.tolist() == [1, 3, 0, 2, 4]
    assert x.sort(descending=True, stable=True).indices.tolist() == [0, 2, 4, 1, 3]
    b = mt.tensor([True, False, True])
    assert b.sort(descending=True).indices.tolist() == [0, 2, 1]
    i = mt.tensor([np.iinfo(np.int64).min, 0, 5])  # -x would overflow: not used
    assert i.argsort(descending=True).tolist() == [2, 1, 0]


def test_order_is_computed_by_an_op_and_version_checked() -> None:
    x = mt.tensor([[0.3, -0.2, 0.9]], requires_grad=True)
    values, indices = x.sort()
    assert values.grad_fn.name() == "IndexBackward"
    assert not indices.requires_grad and indices.dtype == mt.int64
    assert Argsort.apply(x, dim=1).tolist() == [[1, 0, 2]]
    index = mt.tensor([[2, 0]])
    y = x.gather(1, index)
    index[0, 0] = 1  # the gradient would go to the wrong element
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_masked_fill_in_place() -> None:
    x = mt.tensor([[1.0, 2.0], [3.0, 4.0]])
    before = x._version
    out = x.masked_fill_(mt.tensor([True, False]), -1.0)
    assert out is x and x.tolist() == [[-1.0, 2.0], [-1.0, 4.0]] and x._version == before + 1
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        mt.ones(2, requires_grad=True).masked_fill_(mt.tensor([True, False]), 0.0)
    with pytest.raises(RuntimeError, match="does not broadcast"):
        mt.ones(2).masked_fill_(mt.ones(2, 2).bool(), 0.0)


def test_meshgrid_warns_without_indexing() -> None:
    with pytest.warns(UserWarning, match="indexing argument"):
        a, b = mt.meshgrid(mt.arange(2), mt.arange(3))
    assert a.shape == (2, 3) and b.tolist() == [[0, 1, 2], [0, 1, 2]]


def test_unflatten_module() -> None:
    m = nn.Unflatten(1, (2, 3))
    assert repr(m) == "Unflatten(dim=1, unflattened_size=(2, 3))"
    assert m(mt.zeros(4, 6)).shape == (4, 2, 3)
    assert nn.Sequential(nn.Flatten(), nn.Unflatten(1, [3, 2]))(mt.zeros(4, 6)).shape == (4, 3, 2)
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, 3)  # type: ignore[arg-type]


def test_scatter_reduce_is_refused() -> None:
    with pytest.raises(NotImplementedError, match="scatter_add"):
        mt.ones(3).scatter(0, mt.tensor([0]), mt.ones(1), reduce="add")


# -- against PyTorch ---------------------------------------------------------------------------



def _torch() -> Any:
    return pytest.importorskip("torch")


def _same(got: Any, want: Any) -> None:
    torch = _torch()
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _same(g, w)
        return
    assert isinstance(want, torch.Tensor)
    assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6,
                               equal_nan=True)


INT_AND_BOOL: list[Any] = [
    ("cumsum_int", lambda m: m.tensor([[1, 2], [3, 4]]).cumsum(1)),
    ("cumsum_int32", lambda m: m.tensor([1, 2], dtype=m.int32).cumsum(0)),
    ("cumsum_bool", lambda m: m.tensor([True, False, True]).cumsum(0)),
    ("cumsum_dtype", lambda m: m.tensor([True, False]).cumsum(0, dtype=m.float64)),
    ("cumprod_int", lambda m: m.tensor([1, 2, 3], dtype=m.int32).cumprod(0)),
    ("flip_int", lambda m: m.tensor([[1, 2], [3, 4]]).flip(0)),
    ("tril_bool", lambda m: m.ones(3, 3, dtype=m.bool).tril(-1)),
    ("roll_int", lambda m: m.arange(6).reshape(2, 3).roll(1, 1)),
    ("repeat_int", lambda m: m.tensor([1, 2]).repeat(2, 2)),
    ("sort_bool", lambda m: m.tensor([True, False, True]).sort()),
    ("sort_int", lambda m: m.tensor([3, -1, 2]).sort(descending=True)),
    ("topk_int", lambda m: m.tensor([3, -1, 2]).topk(2)),
    ("median_int", lambda m: (m.tensor([3, -1, 2, 8]).median(), m.tensor([[3, -1, 2]]).median(1))),
    ("unique_int", lambda m: m.tensor([3, 1, 3, 2]).unique(return_inverse=True,
                                                           return_counts=True)),
    ("unique_dim", lambda m: m.tensor([[1, 2], [1, 2], [0, 5]]).unique(dim=0,
                                                                       return_inverse=True)),
    ("unique_0d", lambda m: m.tensor(1.5).unique(return_inverse=True)),
    ("masked_fill_int_float_value", lambda m: m.tensor([1, 2, 3]).masked_fill(
        m.tensor([True, False, True]), 2.5)),
    ("masked_fill_broadcast", lambda m: m.ones(3).masked_fill(m.ones(2, 3).bool(), 2.0)),
    ("scatter_int_value", lambda m: m.ones(3, dtype=m.int64).scatter(0, m.tensor([0, 0]), 2.5)),
    ("gather_int32_index", lambda m: m.tensor([5.0, 6.0]).gather(0, m.tensor([1], dtype=m.int32))),
    ("index_select_0d", lambda m: (m.tensor(1.5).index_select(0, m.tensor([0])),
                                   m.tensor([1.0, 2.0]).index_select(0, m.tensor(1)))),
    ("one_hot", lambda m: m.nn.functional.one_hot(m.tensor([[0], [3]]), 5)),
    ("one_hot_empty", lambda m: m.nn.functional.one_hot(m.zeros(0, dtype=m.int64), 3)),
    ("meshgrid_xy", lambda m: m.meshgrid(m.tensor(2.0), m.ones(3), m.arange(2.0),
                                         indexing="xy")),
    ("nan_sort_topk_median", lambda m: (
        m.tensor([1.0, float("nan"), 0.0, float("nan")]).sort(descending=True),
        m.tensor([1.0, float("nan"), 0.0, float("nan")]).topk(2),
        m.tensor([1.0, float("nan"), 0.0]).median(),
        m.tensor([[1.0, float("nan"), 0.0, float("nan")]]).median(1),
        m.tensor([1.0, float("nan"), 0.0]).kthvalue(1))),
    ("mode", lambda m: (m.tensor([[3.0, 2.0, 2.0, 3.0, 1.0], [1.0, 1.0, 1.0, 5.0, 5.0]]).mode(),
                        m.tensor([1.0, float("nan"), float("nan")]).mode(),
                        m.tensor([True, False, True]).mode(), m.ones(0, 2).mode(1),
                        m.tensor([[1.0, 2.0], [2.0, 1.0]]).mode(0, keepdim=True))),
    ("zero_dim", lambda m: (m.tensor(2.0).sort(), m.tensor(2.0).topk(1), m.tensor(2.0).median(0),
                            m.tensor(2.0).kthvalue(1), m.tensor(2.0).cumsum(0),
                            m.tensor(2.0).flip(0), m.tensor(2.0).roll(1),
                            m.tensor(5.0).gather(0, m.tensor(0)))),
    ("empty", lambda m: (m.ones(0, 3).median(1), m.ones(0).median(), m.ones(2, 0).cumprod(1),
                         m.ones(0, 2).sort(0), m.ones(3).take(m.zeros(0, dtype=m.int64)))),
]


@pytest.mark.parametrize(("name", "fn"), INT_AND_BOOL, ids=[c[0] for c in INT_AND_BOOL])
def test_values_and_dtypes_match_torch(name: str, fn: Callable[[Any], Any]) -> None:
    torch = _torch()
    _same(fn(mt), fn(torch))


ERRORS: list[Any] = [
    ("gather_negative", lambda m: m.ones(3).gather(0, m.tensor([-1])), "out of bounds"),
    ("gather_too_large", lambda m: m.ones(3).gather(0, m.tensor([3])), "out of bounds"),
    ("gather_float_index", lambda m: m.ones(2, 2).gather(1, m.ones(2, 1)), "dtype"),
    ("gather_int16_index", lambda m: m.ones(3).gather(0, m.tensor([0], dtype=m.int16)),
     "Expected dtype int32"),
    ("index_select_uint8_index", lambda m: m.ones(3).index_select(0, m.tensor([0],
                                                                              dtype=m.uint8)),
     "Expected dtype int32"),
    ("gather_ndim", lambda m: m.ones(3).gather(0, m.tensor([[0]])), "same number of dim"),
    ("gather_size", lambda m: m.ones(2, 2).gather(1, m.tensor([[0], [1], [0]])),
     "no larger than self"),
    ("scatter_dtype", lambda m: m.ones(3).scatter(0, m.tensor([0]), m.ones(3).long()),
     "self.dtype to be equal to src.dtype"),
    ("scatter_src_small", lambda m: m.ones(3).scatter(0, m.tensor([0, 1]), m.ones(1)),
     "no larger size than src"),
    ("scatter_add_dtype", lambda m: m.ones(3).long().scatter_add(0, m.tensor([0]), m.ones(1)),
     "self.dtype to be equal to src.dtype"),
    ("index_select_range", lambda m: m.ones(3).index_select(0, m.tensor([3])), "out of range"),
    ("index_select_matrix", lambda m: m.ones(3).index_select(0, m.tensor([[0]])), "vector"),
    ("index_add_count", lambda m: m.ones(3).index_add(0, m.tensor([0, 1]), m.ones(1)),
     "Number of indices"),
    ("index_add_dtype", lambda m: m.ones(3).index_add(0, m.tensor([0]), m.ones(1).long()),
     "same scalar type"),
    ("take_range", lambda m: m.ones(3).take(m.tensor([3])), "out of range"),
    ("take_int32", lambda m: m.ones(3).take(m.tensor([0], dtype=m.int32)), "long tensor"),
    ("masked_fill_mask_dtype", lambda m: m.ones(3).masked_fill(m.tensor([1, 0, 1]), 2.0),
     "boolean masks"),
    ("masked_fill_value_dims", lambda m: m.ones(3).masked_fill(m.tensor([True, False, True]),
                                                               m.tensor([2.0])),
     "0-dimensional value tensor"),
    ("masked_select_mask", lambda m: m.ones(3).masked_select(m.ones(3)), "BoolTensor"),
    ("topk_k", lambda m: m.ones(3).topk(4), "selected index k out of range"),
    ("topk_bool", lambda m: m.ones(3).bool().topk(1), "bool"),
    ("kthvalue_k", lambda m: m.ones(3).kthvalue(4), "selected number k out of range"),
    ("mode_empty_dim", lambda m: m.ones(2, 0).mode(1), "non-zero size"),
    ("median_empty_dim", lambda m: m.ones(3, 0).median(1), "non-zero size"),
    ("tril_1d", lambda m: m.ones(2).tril(), "at least 2 dimensions"),
    ("fliplr_1d", lambda m: m.ones(2).fliplr(), ">= 2-d"),
    ("flip_repeated_dim", lambda m: m.ones(2).flip((0, 0)), "multiple times"),
    ("roll_align", lambda m: m.ones(2, 3).roll((1, 2), (0,)), "must align"),
    ("repeat_few", lambda m: m.ones(2, 3).repeat(2), "can not be smaller"),
    ("repeat_interleave_negative", lambda m: m.ones(2).repeat_interleave(m.tensor([1, -2])),
     "can not be negative"),
    ("repeat_interleave_size", lambda m: m.ones(2).repeat_interleave(m.tensor([1, 2, 3])),
     "same size as input"),
    ("unflatten_product", lambda m: m.ones(2, 3).unflatten(1, (2, 2)), "multiply up"),
    ("unflatten_empty", lambda m: m.ones(2, 3).unflatten(1, ()), "non-empty"),
    ("narrow_length", lambda m: m.ones(3).narrow(0, 2, 2), "exceeds dimension size"),
    ("narrow_start", lambda m: m.ones(2, 2).narrow(0, 3, 0), "start out of range"),
    ("unbind_0d", lambda m: m.tensor(1.0).unbind(), "no dimensions"),
    ("diag_0d", lambda m: m.diag(m.tensor(1.0)), "1D or 2D"),
    ("diagonal_same_dims", lambda m: m.ones(2, 2).diagonal(0, 0, 0), "cannot be identical"),
    ("meshgrid_dtype", lambda m: m.meshgrid(m.ones(2), m.ones(3).long(), indexing="ij"),
     "same dtype"),
    ("meshgrid_2d", lambda m: m.meshgrid(m.ones(2, 2), indexing="ij"), "0D or 1D"),
    ("meshgrid_indexing", lambda m: m.meshgrid(m.ones(2), indexing="ab"), "indexing must be"),
    ("one_hot_negative", lambda m: m.nn.functional.one_hot(m.tensor([0, -2])), "non-negative"),
    ("one_hot_too_large", lambda m: m.nn.functional.one_hot(m.tensor([0, 2]), 2),
     "smaller than num_classes"),
    ("one_hot_int32", lambda m: m.nn.functional.one_hot(m.tensor([0], dtype=m.int32), 3),
     "LongTensor"),
    ("one_hot_empty_infer", lambda m: m.nn.functional.one_hot(m.zeros(0, dtype=m.int64)),
     "empty tensor"),
]


@pytest.mark.parametrize(("name", "fn", "words"), ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(name: str, fn: Callable[[Any], Any], words: str) -> None:
    torch = _torch()
    with pytest.raises(Exception) as want:  # noqa: B017, PT011 - PyTorch's own type
        fn(torch)
    with pytest.raises(type(want.value), match=words):
        fn(mt)
    assert words.lower() in str(want.value).lower()


SECOND_ORDER: list[Any] = [
    ("cumprod_zeros", lambda m, a: a.cumprod(1), with_zeros(3, 4)),
    ("cumprod_zeros_0d_row", lambda m, a: a.cumprod(0), np.array([0.0, 2.0, 0.0, -1.5])),
    ("cumprod", lambda m, a: m.cumprod(a, 0), u(3, 2)),
    ("cumsum", lambda m, a: (a * a).cumsum(0), u(3, 2)),
    ("sort_values_squared", lambda m, a: a.sort(0).values ** 2, grid(3, 2)),
    ("median_cubed", lambda m, a: a.median(1).values ** 3, grid(3, 4)),
    ("gather_squared", lambda m, a: a.gather(1, m.tensor(IDX)) ** 2, u(3, 4)),
    ("scatter_squared", lambda m, a: a.scatter(1, m.tensor(PERM), a[:2] ** 2) ** 2, u(3, 4)),
    ("masked_select_cubed", lambda m, a: a.masked_select(m.tensor(M34)) ** 3, u(3, 4)),
]


@pytest.mark.parametrize(("name", "fn", "x"), SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_second_derivatives_match_torch(name: str, fn: Callable[..., Any], x: np.ndarray) -> None:
    torch = _torch()
    got = []
    for lib in (mt, torch):
        a = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        out = fn(lib, a)
        w = lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))
        (g,) = lib.autograd.grad((out * w).sum(), a, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), a)
        got.append((g.detach().numpy().copy(), h.numpy().copy()))
    np.testing.assert_allclose(got[0][0], got[1][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-10, atol=1e-12)
