"""PyTorch parity: forward values, dtypes and gradients match ``torch`` in float64.

Hypothesis draws shapes (broadcastable pairs, up to 4-D), values and op arguments; each op is
one row: a strategy drawing ``(arrays, params)`` and a function ``fn(lib, *tensors, **params)``
written once for both libraries (``lib`` is ``microtensor`` or ``torch``), since they share an
API. Gradients are compared after backpropagating the same upstream gradient through both.
Skipped when PyTorch is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microtensor as mt

torch = pytest.importorskip("torch")
F = torch.nn.functional

SETTINGS = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- strategies ----------------------------------------------------------------------------------

def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


REAL = floats(-3, 3)
POS = floats(0.1, 3)
AWAY = st.one_of(floats(-3, -0.1), floats(0.1, 3))  # away from 0, for division
WIDE = floats(-60, 60)  # reaches the saturated parts of sigmoid, tanh, softplus
SPREAD = st.integers(-200, 200).map(lambda i: i / 64)  # with unique=True: no variance underflow


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def array(shape: tuple[int, ...], elements: st.SearchStrategy[float] = REAL,
          unique: bool = False) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=elements, unique=unique)


Drawn = tuple[list[np.ndarray], dict[str, Any]]


@st.composite
def unary(draw: Any, elements: st.SearchStrategy[float] = REAL, min_dims: int = 0,
          max_dims: int = 4, unique: bool = False, **params: st.SearchStrategy[Any]) -> Drawn:
    """One array of any shape, and drawn values for ``params``."""
    shape = draw(shapes(min_dims, max_dims))
    return [draw(array(shape, elements, unique))], {k: draw(v) for k, v in params.items()}


@st.composite
def binary(draw: Any, a: st.SearchStrategy[float] = REAL,
           b: st.SearchStrategy[float] = REAL) -> Drawn:
    """Two arrays of mutually broadcastable shapes."""
    sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4,
                                                    max_side=4)).input_shapes
    return [draw(array(sa, a)), draw(array(sb, b))], {}


@st.composite
def with_scalar(draw: Any, elements: st.SearchStrategy[float] = REAL,
                scalar: st.SearchStrategy[float] = REAL) -> Drawn:
    """One array and a Python scalar ``s``."""
    return [draw(array(draw(shapes()), elements))], {"s": draw(scalar)}


@st.composite
def where_args(draw: Any) -> Drawn:
    sc, sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=4,
                                                        max_side=4)).input_shapes
    cond = draw(hnp.arrays(np.bool_, sc))
    return [draw(array(sa)), draw(array(sb))], {"cond": cond}


def _dim_choices(ndim: int, allow_none: bool = True, allow_tuple: bool = True) -> list[Any]:
    dims: list[Any] = [None] if allow_none else []
    n = max(ndim, 1)
    dims += list(range(-n, n))
    if allow_tuple and ndim >= 2:
        dims += [(0, ndim - 1), (-1, 0)] + ([(0, 1, 2)] if ndim >= 3 else [])
    return dims


@st.composite
def reduction(draw: Any, elements: st.SearchStrategy[float] = REAL, min_dims: int = 0,
              min_side: int = 1, unique: bool = False, allow_none: bool = True,
              allow_tuple: bool = True, keepdim: bool = True) -> Drawn:
    """One array and a ``dim`` (None, an int or a tuple) with ``keepdim``."""
    shape = draw(shapes(min_dims, min_side=min_side))
    dim = draw(st.sampled_from(_dim_choices(len(shape), allow_none, allow_tuple)))
    params = {"dim": dim}
    if keepdim:
        params["keepdim"] = draw(st.booleans())
    return [draw(array(shape, elements, unique))], params


@st.composite
def matmul_args(draw: Any) -> Drawn:
    """Operands for 1-D, 2-D, batched and broadcast-batched matmul."""
    kind_a, kind_b = draw(st.sampled_from(["1d", "2d", "batched"])), draw(
        st.sampled_from(["1d", "2d", "batched"]))
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ba, bb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=2,
                                                    max_side=3)).input_shapes
    sa = {"1d": (k,), "2d": (n, k), "batched": ba + (n, k)}[kind_a]
    sb = {"1d": (k,), "2d": (k, m), "batched": bb + (k, m)}[kind_b]
    return [draw(array(sa)), draw(array(sb))], {}


@st.composite
def reshape_args(draw: Any) -> Drawn:
    shape = draw(shapes())
    n = int(np.prod(shape))
    target = draw(st.sampled_from([shape[::-1], (-1,), (n, 1), (1, -1, 1)]
                                  + ([(shape[0], -1)] if shape else [])))
    return [draw(array(shape))], {"shape": target}


@st.composite
def transpose_args(draw: Any) -> Drawn:
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    d0, d1 = draw(st.integers(-nd, nd - 1)), draw(st.integers(-nd, nd - 1))
    return [draw(array(shape))], {"d0": d0, "d1": d1}


@st.composite
def permute_args(draw: Any) -> Drawn:
    shape = draw(shapes())
    return [draw(array(shape))], {"dims": tuple(draw(st.permutations(range(len(shape)))))}


@st.composite
def squeeze_args(draw: Any) -> Drawn:
    shape = draw(shapes(max_side=2))
    nd = len(shape)
    dim = draw(st.sampled_from([None] + (list(range(-nd, nd)) if nd else [0, -1])))
    return [draw(array(shape))], {"dim": dim}


@st.composite
def unsqueeze_args(draw: Any) -> Drawn:
    shape = draw(shapes(max_dims=3))
    nd = len(shape)
    return [draw(array(shape))], {"dim": draw(st.integers(-nd - 1, nd))}


@st.composite
def expand_args(draw: Any) -> Drawn:
    shape = draw(shapes(max_dims=3, max_side=3))
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    sizes = [draw(st.sampled_from([1, 3, -1])) if s == 1 else draw(st.sampled_from([s, -1]))
             for s in shape]
    return [draw(array(shape))], {"sizes": tuple(lead + sizes)}


@st.composite
def flatten_args(draw: Any) -> Drawn:
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    a, b = sorted([draw(st.integers(0, nd - 1)), draw(st.integers(0, nd - 1))])
    return [draw(array(shape))], {"start": a - nd * draw(st.booleans()), "end": b}


@st.composite
def basic_index_args(draw: Any) -> Drawn:
    """ints (also negative), slices with steps, None and Ellipsis."""
    shape = draw(shapes(min_dims=1))
    index: list[Any] = []
    used = draw(st.integers(0, len(shape)))
    for n in shape[:used]:
        kind = draw(st.sampled_from(["int", "slice", "all", "none"]))
        if kind == "int":
            index.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start, stop = draw(st.integers(-n, n)), draw(st.integers(-n, n))
            index.append(slice(start, stop, draw(st.integers(1, 3))))
        elif kind == "all":
            index.append(slice(None))
        else:
            index += [None, slice(None)]
    if draw(st.booleans()):  # at the end, or in front when the entries use every dim
        index.insert(0 if used == len(shape) and draw(st.booleans()) else len(index), Ellipsis)
    return [draw(array(shape))], {"index": tuple(index)}


@st.composite
def mask_index_args(draw: Any) -> Drawn:
    """A boolean mask over the leading dims (``x[mask]``) or the trailing ones
    (``x[..., mask]``)."""
    shape = draw(shapes(min_dims=1))
    k = draw(st.integers(1, len(shape)))
    lead = draw(st.booleans())
    m = draw(hnp.arrays(np.bool_, shape[:k] if lead else shape[-k:]))
    return [draw(array(shape))], {"mask": m, "lead": lead}


@st.composite
def int_index_args(draw: Any) -> Drawn:
    """Integer arrays (repeats likely) on one or two dims, optionally after a slice."""
    shape = draw(shapes(min_dims=1))
    n0 = shape[0]
    ishape = draw(shapes(min_dims=1, max_dims=2))
    i0 = draw(hnp.arrays(np.int64, ishape, elements=st.integers(-n0, n0 - 1)))
    params: dict[str, Any] = {"i0": i0, "i1": None, "after_slice": False}
    if len(shape) >= 2:
        choice = draw(st.sampled_from(["one", "two", "after_slice"]))
        n1 = shape[1]
        if choice == "two":
            params["i1"] = draw(hnp.arrays(np.int64, ishape[-1:], elements=st.integers(0, n1 - 1)))
        elif choice == "after_slice":
            params["i0"] = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, n1 - 1)))
            params["after_slice"] = True
    return [draw(array(shape))], params


@st.composite
def cat_args(draw: Any) -> Drawn:
    shape = draw(shapes(min_dims=1, max_dims=3))
    nd = len(shape)
    dim = draw(st.integers(-nd, nd - 1))
    arrays = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(shape)
        s[dim] = draw(st.integers(1, 3))
        arrays.append(draw(array(tuple(s))))
    return arrays, {"dim": dim}


@st.composite
def stack_args(draw: Any) -> Drawn:
    shape = draw(shapes(max_dims=3))
    nd = len(shape)
    arrays = [draw(array(shape)) for _ in range(draw(st.integers(1, 3)))]
    return arrays, {"dim": draw(st.integers(-nd - 1, nd))}


@st.composite
def split_args(draw: Any) -> Drawn:
    shape = draw(shapes(min_dims=1, max_side=5))
    nd = len(shape)
    dim = draw(st.integers(-nd, nd - 1))
    n = shape[dim]
    if draw(st.booleans()):
        size: Any = draw(st.integers(1, n + 1))
    else:
        cut = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
        size = [b - a for a, b in zip([0, *cut], [*cut, n], strict=True)]
    return [draw(array(shape))], {"size": size, "dim": dim}


@st.composite
def chunk_args(draw: Any) -> Drawn:
    shape = draw(shapes(min_dims=1, max_side=6))
    nd = len(shape)
    return [draw(array(shape))], {"chunks": draw(st.integers(1, 5)),
                                  "dim": draw(st.integers(-nd, nd - 1))}


@st.composite
def take_along_args(draw: Any) -> Drawn:
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    dim = draw(st.integers(-nd, nd - 1))
    ishape = [draw(st.sampled_from([1, s])) for s in shape]
    ishape[dim] = draw(st.integers(1, 4))
    idx = draw(hnp.arrays(np.int64, tuple(ishape), elements=st.integers(0, shape[dim] - 1)))
    return [draw(array(shape))], {"idx": idx, "dim": dim}


# -- the table -----------------------------------------------------------------------------------

@dataclass
class Op:
    name: str
    strategy: st.SearchStrategy[Drawn]
    fn: Callable[..., Any]
    rtol: float = 1e-9


def _max_dim(lib: Any, x: Any, dim: Any, keepdim: bool, which: str) -> Any:
    if dim is None or isinstance(dim, tuple):
        return getattr(x, which)()  # the full reduction; tuples are amax's job
    values, indices = getattr(x, which)(dim, keepdim=keepdim)
    return values, indices


def _index_int(lib: Any, x: Any, i0: Any, i1: Any, after_slice: bool) -> Any:
    if after_slice:
        return x[:, lib.tensor(i0)]
    return x[lib.tensor(i0)] if i1 is None else x[i0, lib.tensor(i1)]


def _softplus(lib: Any, x: Any, beta: float, threshold: float) -> Any:
    return (F if lib is torch else mt).softplus(x, beta=beta, threshold=threshold)


def _leaky_relu(lib: Any, x: Any, slope: float) -> Any:
    return (F if lib is torch else mt).leaky_relu(x, slope)


OPS = [
    Op("add", binary(), lambda m, a, b: a + b),
    Op("sub", binary(), lambda m, a, b: a - b),
    Op("mul", binary(), lambda m, a, b: a * b),
    Op("div", binary(b=AWAY), lambda m, a, b: a / b),
    Op("pow", binary(a=POS), lambda m, a, b: a**b),
    Op("add_scalar", with_scalar(), lambda m, a, s: (a + s, s + a, m.add(a, s))),
    Op("sub_scalar", with_scalar(), lambda m, a, s: (a - s, s - a)),
    Op("mul_scalar", with_scalar(), lambda m, a, s: (a * s, s * a)),
    Op("div_scalar", with_scalar(AWAY, AWAY), lambda m, a, s: (a / s, s / a)),
    Op("pow_scalar_exponent", with_scalar(POS), lambda m, a, s: a**s),
    Op("pow_int_exponent", with_scalar(REAL, st.integers(0, 4)), lambda m, a, s: a**s),
    Op("pow_scalar_base", with_scalar(REAL, POS), lambda m, a, s: s**a),
    Op("neg", unary(), lambda m, a: (-a, m.neg(a))),
    Op("abs", unary(), lambda m, a: m.abs(a)),
    Op("exp", unary(), lambda m, a: a.exp()),
    Op("log", unary(POS), lambda m, a: m.log(a)),
    Op("log1p", unary(floats(-0.9, 3)), lambda m, a: a.log1p()),
    Op("sqrt", unary(POS), lambda m, a: a.sqrt()),
    Op("sin", unary(WIDE), lambda m, a: m.sin(a)),
    Op("cos", unary(WIDE), lambda m, a: a.cos()),
    Op("tanh", unary(WIDE), lambda m, a: m.tanh(a)),
    Op("sigmoid", unary(WIDE), lambda m, a: (a.sigmoid(), m.sigmoid(a))),
    Op("relu", unary(), lambda m, a: (a.relu(), m.relu(a))),
    Op("leaky_relu", unary(slope=floats(0, 0.5)), _leaky_relu),
    Op("softplus", unary(WIDE, beta=floats(0.5, 3), threshold=floats(1, 20)), _softplus),
    Op("clamp", unary(lo=st.none() | REAL, hi=st.none() | REAL),
       lambda m, a, lo, hi: a.clamp(lo, hi) if (lo, hi) != (None, None) else a * 1.0),
    Op("maximum", binary(), lambda m, a, b: m.maximum(a, b)),
    Op("minimum", binary(), lambda m, a, b: m.minimum(a, b)),
    Op("where", where_args(), lambda m, a, b, cond: m.where(m.tensor(cond), a, b)),
    Op("where_scalar", where_args(),
       lambda m, a, b, cond: (m.where(m.tensor(cond), a, 0.5), m.where(m.tensor(cond), -1.0, b))),
    Op("sum", reduction(), lambda m, a, dim, keepdim: a.sum(dim, keepdim=keepdim)
       if dim is not None else a.sum()),
    Op("mean", reduction(), lambda m, a, dim, keepdim: m.mean(a, dim, keepdim=keepdim)
       if dim is not None else a.mean()),
    Op("max", reduction(allow_tuple=False), lambda m, a, dim, keepdim:
       _max_dim(m, a, dim, keepdim, "max")),
    Op("min", reduction(allow_tuple=False), lambda m, a, dim, keepdim:
       _max_dim(m, a, dim, keepdim, "min")),
    Op("amax", reduction(allow_none=False), lambda m, a, dim, keepdim: a.amax(dim, keepdim)),
    Op("amin", reduction(allow_none=False), lambda m, a, dim, keepdim: m.amin(a, dim, keepdim)),
    Op("max_ties", reduction(floats(-1, 1).map(round), allow_tuple=False),
       lambda m, a, dim, keepdim: _max_dim(m, a, dim, keepdim, "max")),
    Op("amax_ties", reduction(floats(-1, 1).map(round), allow_none=False),
       lambda m, a, dim, keepdim: a.amax(dim, keepdim)),
    Op("var", reduction(SPREAD, min_dims=1, min_side=2, unique=True, allow_none=False),
       lambda m, a, dim, keepdim: (a.var(dim, keepdim=keepdim),
                                   a.var(dim, keepdim=keepdim, correction=0))),
    Op("std", reduction(SPREAD, min_dims=1, min_side=2, unique=True, allow_none=False),
       lambda m, a, dim, keepdim: (a.std(dim, keepdim=keepdim),
                                   m.std(a, dim, unbiased=False, keepdim=keepdim))),
    Op("var_std_all", unary(SPREAD, min_dims=1, unique=True),
       lambda m, a: (a.var(), a.std()) if a.numel() > 1 else a.sum()),
    Op("prod", reduction(floats(-2, 2), allow_tuple=False), lambda m, a, dim, keepdim:
       a.prod(dim, keepdim=keepdim) if dim is not None else a.prod()),
    Op("prod_zeros", reduction(st.sampled_from([0.0, 0.5, -1.5, 2.0]), allow_tuple=False),
       lambda m, a, dim, keepdim: m.prod(a, dim, keepdim) if dim is not None else m.prod(a)),
    Op("logsumexp", reduction(WIDE, allow_none=False),
       lambda m, a, dim, keepdim: m.logsumexp(a, dim, keepdim)),
    Op("softmax", reduction(WIDE, allow_none=False, allow_tuple=False, keepdim=False),
       lambda m, a, dim: (a.softmax(dim), m.softmax(a, dim))),
    Op("log_softmax", reduction(WIDE, allow_none=False, allow_tuple=False, keepdim=False),
       lambda m, a, dim: (a.log_softmax(dim), m.log_softmax(a, dim))),
    Op("matmul", matmul_args(), lambda m, a, b: (a @ b, m.matmul(a, b))),
    Op("reshape", reshape_args(), lambda m, a, shape: (a.reshape(shape), a.view(shape))),
    Op("transpose", transpose_args(), lambda m, a, d0, d1: a.transpose(d0, d1)),
    Op("permute", permute_args(), lambda m, a, dims: (a.permute(dims), m.permute(a, dims))),
    Op("T", unary(min_dims=2, max_dims=2), lambda m, a: a.T),  # torch warns for other ndims
    Op("squeeze", squeeze_args(), lambda m, a, dim: a.squeeze() if dim is None
       else a.squeeze(dim)),
    Op("unsqueeze", unsqueeze_args(), lambda m, a, dim: a.unsqueeze(dim)),
    Op("expand", expand_args(), lambda m, a, sizes: a.expand(sizes)),
    Op("flatten", flatten_args(), lambda m, a, start, end: (a.flatten(start, end),
                                                            a.flatten())),
    Op("index_basic", basic_index_args(), lambda m, a, index: a[index]),
    Op("index_mask", mask_index_args(),
       lambda m, a, mask, lead: a[m.tensor(mask)] if lead else a[..., m.tensor(mask)]),
    Op("index_int", int_index_args(), _index_int),
    Op("cat", cat_args(), lambda m, *xs, dim: m.cat(list(xs), dim)),
    Op("stack", stack_args(), lambda m, *xs, dim: m.stack(list(xs), dim=dim)),
    Op("split", split_args(), lambda m, a, size, dim: a.split(size, dim)),
    Op("chunk", chunk_args(), lambda m, a, chunks, dim: a.chunk(chunks, dim)),
    Op("take_along_dim", take_along_args(),
       lambda m, a, idx, dim: m.take_along_dim(a, m.tensor(idx), dim)),
    Op("to_float32", unary(), lambda m, a: (a.to(m.float32), a.float() * 2.0), rtol=1e-6),
    Op("clone", unary(), lambda m, a: a.clone()),
    Op("comparisons", binary(st.sampled_from([-1.0, 0.0, 1.0]), st.sampled_from([0.0, 1.0])),
       lambda m, a, b: (a == b, a != b, a < b, a <= b, a > b, a >= b, m.eq(a, b), a.gt(b))),
    Op("argmax", reduction(floats(-1, 1).map(round), allow_tuple=False),
       lambda m, a, dim, keepdim: (a.argmax(), a.argmin()) if dim is None else
       (a.argmax(dim, keepdim), m.argmin(a, dim, keepdim))),
]


# -- running both --------------------------------------------------------------------------------

def _upstream(shape: tuple[int, ...]) -> np.ndarray:
    """A fixed, non-constant upstream gradient."""
    return np.cos(np.arange(int(np.prod(shape)), dtype=np.float64) + 0.3).reshape(shape)


def _run(lib: Any, op: Op, arrays: list[np.ndarray], params: dict[str, Any]) -> tuple[
        list[tuple[str, np.ndarray]], list[np.ndarray | None]]:
    """Forward and backward in ``lib``: (dtype name, values) per output, and input gradients."""
    xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    outs = op.fn(lib, *xs, **params)
    outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
    values = [(str(o.dtype).removeprefix("torch."), o.detach().numpy().copy()) for o in outs]
    loss = None
    for o in outs:
        if o.requires_grad:
            term = (o * lib.tensor(_upstream(tuple(o.shape)))).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    grads = [None if x.grad is None else x.grad.numpy().copy() for x in xs]
    return values, grads


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
@SETTINGS
@given(data=st.data())
def test_matches_torch(op: Op, data: st.DataObject) -> None:
    arrays, params = data.draw(op.strategy, label="arrays, params")
    mt_values, mt_grads = _run(mt, op, arrays, params)
    th_values, th_grads = _run(torch, op, arrays, params)
    assert len(mt_values) == len(th_values)
    for i, ((mdt, mv), (tdt, tv)) in enumerate(zip(mt_values, th_values, strict=True)):
        assert mdt == tdt, f"output {i}: dtype {mdt} but torch gives {tdt}"
        assert mv.shape == tv.shape, f"output {i}: shape {mv.shape} but torch gives {tv.shape}"
        np.testing.assert_allclose(mv, tv, rtol=op.rtol, atol=1e-12, err_msg=f"output {i}")
    for i, (mg, tg) in enumerate(zip(mt_grads, th_grads, strict=True)):
        # torch leaves .grad None for an input no output depends on; microtensor may too.
        if mg is None or tg is None:
            assert mg is None or not mg.any(), f"input {i}: gradient where torch has none"
            assert tg is None or not tg.any(), f"input {i}: no gradient where torch has one"
            continue
        np.testing.assert_allclose(mg, tg, rtol=op.rtol, atol=1e-12, err_msg=f"grad of input {i}")


# -- higher order, dtypes and creation -----------------------------------------------------------

@SETTINGS
@given(data=st.data())
def test_second_derivatives_match_torch(data: st.DataObject) -> None:
    """Hessian-vector products of a smooth composite function (create_graph=True)."""
    shape = data.draw(shapes(min_dims=1, max_dims=2))
    x0 = data.draw(array(shape, st.one_of(floats(-2, -0.1), floats(0.1, 2))))
    v0 = data.draw(array(shape))
    results = []
    for lib in (mt, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = ((x.sigmoid() * x.exp()).sum() + x.tanh().logsumexp(-1).sum()
             + (x * x).softmax(-1).log().sum() + _softplus(lib, x, 2.0, 20.0)
             + (x.sin() * x.cos() / (x * x + 1.0).sqrt()).prod(-1).sum())
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (hv,) = lib.autograd.grad((g * lib.tensor(v0)).sum(), x)
        results.append((g.detach().numpy(), hv.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-9, atol=1e-12)


SCALARS = [2, 2.5, True]
DTYPES = ["bool", "int32", "int64", "float32", "float64"]


@pytest.mark.parametrize("left", DTYPES)
@pytest.mark.parametrize("right", DTYPES + [f"0d_{d}" for d in DTYPES] + SCALARS)
def test_type_promotion_matches_torch(left: str, right: Any) -> None:
    def make(lib: Any, spec: Any) -> Any:
        if not isinstance(spec, str):
            return spec
        zero_d = spec.startswith("0d_")
        dt = getattr(lib, spec.removeprefix("0d_"))
        return lib.ones((), dtype=dt) if zero_d else lib.ones(3, dtype=dt)

    for op in ("add", "mul", "truediv", "sub"):
        results = []
        for lib in (mt, torch):
            a, b = make(lib, left), make(lib, right)
            try:
                out = getattr(a, f"__{op}__")(b)
                results.append(str(out.dtype).removeprefix("torch."))
            except (RuntimeError, TypeError):
                results.append("error")
        assert results[0] == results[1], f"{left} {op} {right!r}"


@pytest.mark.parametrize("data", [1, 1.5, True, [1, 2], [1.0, 2], [True, False], [[1], [2]],
                                  np.array([1, 2], dtype=np.int32), np.array([1.0], np.float32),
                                  np.array([1.0], np.float64), np.array(3, np.int16),
                                  np.float64(2.0), np.int64(3)], ids=repr)
def test_tensor_dtype_inference_matches_torch(data: Any) -> None:
    assert str(mt.tensor(data).dtype) == str(torch.tensor(data).dtype).removeprefix("torch.")


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([[0.5, 0.2]], requires_grad=True),
    lambda m: m.tensor([[0.5, 0.2]], requires_grad=True) * 2,
    lambda m: m.tensor([1.0, -2.0, 3.5]),
    lambda m: m.tensor([0.1, 100.0]),
    lambda m: m.tensor([0.001, 2000.0]),
    lambda m: m.tensor([1.0, 2000.0]),
    lambda m: m.tensor([1e-5, 1.0]),
    lambda m: m.tensor([1e10, 1.0]),
    lambda m: m.tensor([1.5, float("nan"), float("inf"), -float("inf")]),
    lambda m: m.tensor([[1.0, -2.0], [300.0, 4.0]]),
    lambda m: m.tensor(3.25),
    lambda m: m.tensor(-0.0),
    lambda m: m.tensor([0.0, 0.0]),
    lambda m: m.tensor([1, 2, -30]),
    lambda m: m.tensor([True, False]),
    lambda m: m.tensor([True, True]),
    lambda m: m.tensor([1.0, 2.0], dtype=m.float64),
    lambda m: m.tensor([1, 2], dtype=m.int32),
    lambda m: m.tensor([]),
    lambda m: m.zeros(2, 0),
    lambda m: m.zeros(0, dtype=m.int64),
    lambda m: m.arange(6.0).reshape(2, 3) / 7,
    lambda m: m.ones(2, 3, 4),
], ids=lambda f: "")
def test_repr_matches_torch(make: Callable[[Any], Any]) -> None:
    expected = repr(make(torch)).replace("torch.", "microtensor.")
    got = repr(make(mt))
    # grad_fn names drop PyTorch's overload number: MulBackward0 -> MulBackward.
    assert got == expected.replace("Backward0>", "Backward>")


@pytest.mark.parametrize("fn", [
    lambda m: m.zeros(2, 3), lambda m: m.ones((2, 3)), lambda m: m.full((2,), 1.5),
    lambda m: m.full((2,), 7), lambda m: m.arange(5), lambda m: m.arange(1, 2, 0.25),
    lambda m: m.arange(0.0, 3), lambda m: m.linspace(-1, 1, 5), lambda m: m.eye(3),
    lambda m: m.eye(2, 3), lambda m: m.zeros_like(m.ones(2, dtype=m.int64)),
    lambda m: m.ones_like(m.ones(2, dtype=m.float64)), lambda m: m.empty(2).shape,
    lambda m: m.full_like(m.ones(2), 3),
], ids=lambda f: "")
def test_creation_matches_torch(fn: Callable[[Any], Any]) -> None:
    a, b = fn(mt), fn(torch)
    if isinstance(b, torch.Size):
        assert tuple(a) == tuple(b)
        return
    assert str(a.dtype) == str(b.dtype).removeprefix("torch.")
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
