"""nn layers and losses behave as PyTorch's at the edges: all-ignored targets, probability
targets and ignore_index (a PyTorch table, float64), integer and mixed dtypes, arguments that
are not tensors, and Linear with zero features."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn
from microtensor.nn import functional as F

REDUCTIONS = ["mean", "sum", "none"]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _tensor(lib: Any, a: Any, dtype: Any = None, requires_grad: bool = False) -> Any:
    """``lib.tensor`` of a NumPy array of ``dtype`` (the same call for microtensor and torch)."""
    return lib.tensor(np.asarray(a, dtype=dtype), requires_grad=requires_grad)


# ----------------------------------------------------------------------------------------------
# 1. Every target ignored, reduction 'mean': the loss is nan (0 / 0), its gradient is 0
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(4, 3), (3,), (2, 3, 2, 2)])
@pytest.mark.parametrize(("fn", "label_smoothing"),
                         [("cross_entropy", 0.0), ("cross_entropy", 0.3), ("nll_loss", 0.0)])
def test_all_targets_ignored_gives_nan_loss_and_zero_gradient(fn, label_smoothing, shape,
                                                              weighted):
    x = mt.randn(*shape, dtype=mt.float64, requires_grad=True)
    target = mt.full(shape[:1] + shape[2:] if len(shape) > 1 else (), -100, dtype=mt.int64)
    kwargs: dict[str, Any] = {"weight": mt.tensor([0.5, 2.0, 1.0], dtype=mt.float64)
                              if weighted else None}
    if label_smoothing:
        kwargs["label_smoothing"] = label_smoothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division-by-zero warning either
        loss = getattr(F, fn)(x, target, **kwargs)
        loss.backward()
    assert np.isnan(loss.item())
    np.testing.assert_array_equal(x.grad.detach().numpy(), np.zeros(shape))
    x.grad = None
    total = getattr(F, fn)(x, target, reduction="sum", **kwargs)
    total.backward()
    assert total.item() == 0.0
    np.testing.assert_array_equal(x.grad.detach().numpy(), np.zeros(shape))


def test_all_ignored_targets_in_a_module_leave_the_parameters_finite():
    # A padding-only batch: with a NaN gradient one optimizer step would ruin every weight.
    layer = nn.Linear(4, 3)
    opt = mt.optim.SGD(layer.parameters(), lr=0.1)
    loss = nn.CrossEntropyLoss(ignore_index=0)(layer(mt.randn(5, 4)), mt.zeros(5, dtype=mt.int64))
    loss.backward()
    opt.step()
    assert np.isnan(loss.item())
    assert all(np.all(np.isfinite(p.detach().numpy())) for p in layer.parameters())


# ----------------------------------------------------------------------------------------------
# 2. cross_entropy (probability targets, ignore_index) and nll_loss against PyTorch, float64
# ----------------------------------------------------------------------------------------------

SHAPES = [(3,), (5, 3), (2, 3, 4), (2, 3, 2, 2)]
TARGETS = ["probabilities", "indices", "some ignored", "all ignored", "ignore a class"]


def _ce_case(shape: tuple[int, ...], kind: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(logits, target, ignore_index) for one row of the table."""
    rng = np.random.default_rng(10 * SHAPES.index(shape) + TARGETS.index(kind))
    x = rng.normal(0, 2, shape)
    if kind == "probabilities":
        p = rng.uniform(0.1, 1, shape)
        return x, p / p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True), -100
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    y = np.asarray(rng.integers(0, n_classes, shape[:1] + shape[2:] if len(shape) > 1 else ()))
    ignore_index = -100
    if kind == "some ignored":
        y.flat[::3] = -100  # with one target (shape (C,)), this ignores it: all ignored
    elif kind == "all ignored":
        y[...] = -100
    elif kind == "ignore a class":
        ignore_index = 1
        y.flat[::2] = 1
    return x, y, ignore_index


CE_ROWS = [("cross_entropy", shape, kind, weighted, smoothing, reduction)
           for shape, kind, weighted, smoothing, reduction
           in itertools.product(SHAPES, TARGETS, [False, True], [0.0, 0.2], REDUCTIONS)]
CE_ROWS += [("nll_loss", shape, kind, weighted, 0.0, reduction)
            for shape, kind, weighted, reduction
            in itertools.product(SHAPES, TARGETS[1:], [False, True], REDUCTIONS)]


@pytest.mark.parametrize(("fn", "shape", "kind", "weighted", "smoothing", "reduction"), CE_ROWS,
                         ids=["-".join(map(str, row)) for row in CE_ROWS])
def test_cross_entropy_and_nll_match_pytorch(torch, fn, shape, kind, weighted, smoothing,
                                             reduction):
    x, y, ignore_index = _ce_case(shape, kind)
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    w = np.linspace(0.5, 2.0, n_classes) if weighted else None
    kwargs: dict[str, Any] = {"ignore_index": ignore_index, "reduction": reduction}
    if fn == "cross_entropy":
        kwargs["label_smoothing"] = smoothing
    probabilities = kind == "probabilities"
    results = []
    for lib, functional in [(mt, F), (torch, torch.nn.functional)]:
        xt = _tensor(lib, x, np.float64, requires_grad=True)
        yt = _tensor(lib, y, np.float64 if probabilities else np.int64,
                     requires_grad=probabilities)
        weight = None if w is None else _tensor(lib, w, np.float64)
        out = getattr(functional, fn)(xt, yt, weight=weight, **kwargs)
        g = np.random.default_rng(7).standard_normal(tuple(out.shape))
        out.backward(_tensor(lib, g, np.float64))
        results.append((out, xt.grad, yt.grad if probabilities else None))
    (out, x_grad, y_grad), (tout, tx_grad, ty_grad) = results
    assert tuple(out.shape) == tuple(tout.shape) and out.dtype == mt.float64
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10,
                               atol=1e-12)  # nan where PyTorch gives nan
    np.testing.assert_allclose(x_grad.detach().numpy(), tx_grad.numpy(), rtol=1e-10, atol=1e-12)
    assert np.all(np.isfinite(x_grad.detach().numpy()))
    if probabilities:
        np.testing.assert_allclose(y_grad.detach().numpy(), ty_grad.numpy(), rtol=1e-10,
                                   atol=1e-12)


# ----------------------------------------------------------------------------------------------
# 3. Integer (and mixed) dtypes: refused where PyTorch refuses them, same result elsewhere
# ----------------------------------------------------------------------------------------------

XS = [[0.2, -0.7, 0.4], [0.9, 0.1, -0.3]]    # (2, 3) inputs; also probabilities when >= 0
PS = [[0.2, 0.7, 0.4], [0.9, 0.1, 0.3]]      # (2, 3) values in [0, 1]
IS = [[0, 1, 1], [1, 0, 1]]                  # (2, 3) integer values
W = [[0.5, -1.0, 0.25], [1.5, 0.5, -0.5]]    # (2, 3) linear weight
B = [0.1, -0.2]
LABELS = [0, 2]                              # class indices for (2, 3) logits
f32, f64, i64, i32 = np.float32, np.float64, np.int64, np.int32


def _fn(lib: Any, name: str) -> Callable[..., Any]:
    return getattr(lib.nn.functional, name)


# name, call(lib) -> tensor. Run with microtensor and with PyTorch: either both raise the same
# exception class or both give the same dtype, shape and values.
DTYPE_CASES: list[tuple[str, Callable[[Any], Any]]] = [
    ("linear int64 input", lambda L: _fn(L, "linear")(_tensor(L, IS, i64), _tensor(L, W, f32),
                                                      _tensor(L, B, f32))),
    ("linear int64 1-d input", lambda L: _fn(L, "linear")(_tensor(L, IS[0], i64),
                                                          _tensor(L, W, f32))),
    ("linear int32 3-d input", lambda L: _fn(L, "linear")(_tensor(L, [IS], i32),
                                                          _tensor(L, W, f32))),
    ("linear bool input", lambda L: _fn(L, "linear")(_tensor(L, IS, bool), _tensor(L, W, f32))),
    ("linear float64 input", lambda L: _fn(L, "linear")(_tensor(L, XS, f64), _tensor(L, W, f32),
                                                        _tensor(L, B, f32))),
    ("linear float64 bias", lambda L: _fn(L, "linear")(_tensor(L, XS, f32), _tensor(L, W, f32),
                                                       _tensor(L, B, f64))),
    ("linear int64 weight", lambda L: _fn(L, "linear")(_tensor(L, XS, f32), _tensor(L, IS, i64))),
    ("linear all int64", lambda L: _fn(L, "linear")(_tensor(L, IS, i64), _tensor(L, IS, i64),
                                                    _tensor(L, [1, 2], i64))),
    ("Linear module int64 input", lambda L: L.nn.Linear(3, 2)(_tensor(L, IS, i64))),
    ("Linear module int32 input", lambda L: L.nn.Linear(3, 2)(_tensor(L, IS, i32))),
    ("mse float, int", lambda L: _fn(L, "mse_loss")(_tensor(L, XS, f32), _tensor(L, IS, i64))),
    ("mse int, float", lambda L: _fn(L, "mse_loss")(_tensor(L, IS, i64), _tensor(L, XS, f32))),
    ("mse float, bool", lambda L: _fn(L, "mse_loss")(_tensor(L, XS, f32), _tensor(L, IS, bool))),
    ("mse int, int sum", lambda L: _fn(L, "mse_loss")(_tensor(L, IS, i64), _tensor(L, IS, i64),
                                                      reduction="sum")),
    ("mse int, bool none", lambda L: _fn(L, "mse_loss")(_tensor(L, IS, i64),
                                                        _tensor(L, IS, bool), reduction="none")),
    ("MSELoss int, int", lambda L: L.nn.MSELoss()(_tensor(L, IS, i64), _tensor(L, IS, i64))),
    ("l1 float, int", lambda L: _fn(L, "l1_loss")(_tensor(L, XS, f32), _tensor(L, IS, i64))),
    ("l1 int, int sum", lambda L: _fn(L, "l1_loss")(_tensor(L, IS, i64), _tensor(L, IS, i64),
                                                    reduction="sum")),
    ("bce float, int", lambda L: _fn(L, "binary_cross_entropy")(_tensor(L, PS, f32),
                                                                _tensor(L, IS, i64))),
    ("bce int, float", lambda L: _fn(L, "binary_cross_entropy")(_tensor(L, IS, i64),
                                                                _tensor(L, PS, f32))),
    ("bce float, bool", lambda L: _fn(L, "binary_cross_entropy")(_tensor(L, PS, f32),
                                                                 _tensor(L, IS, bool))),
    ("bce float32, float64", lambda L: _fn(L, "binary_cross_entropy")(_tensor(L, PS, f32),
                                                                      _tensor(L, PS, f64))),
    ("bce float32, float64 weight", lambda L: _fn(L, "binary_cross_entropy")(
        _tensor(L, PS, f32), _tensor(L, PS, f32), weight=_tensor(L, [1.0, 2.0, 0.5], f64))),
    ("BCELoss float, int", lambda L: L.nn.BCELoss()(_tensor(L, PS, f32), _tensor(L, IS, i64))),
    ("bce logits float, int", lambda L: _fn(L, "binary_cross_entropy_with_logits")(
        _tensor(L, XS, f32), _tensor(L, IS, i64))),
    ("bce logits float, int32", lambda L: _fn(L, "binary_cross_entropy_with_logits")(
        _tensor(L, XS, f32), _tensor(L, IS, i32))),
    ("bce logits int, float", lambda L: _fn(L, "binary_cross_entropy_with_logits")(
        _tensor(L, IS, i64), _tensor(L, PS, f32))),
    ("bce logits float, bool", lambda L: _fn(L, "binary_cross_entropy_with_logits")(
        _tensor(L, XS, f32), _tensor(L, IS, bool))),
    ("bce logits int weight", lambda L: _fn(L, "binary_cross_entropy_with_logits")(
        _tensor(L, XS, f32), _tensor(L, PS, f32), weight=_tensor(L, [1, 2, 3], i64))),
    ("ce int input", lambda L: _fn(L, "cross_entropy")(_tensor(L, IS, i64),
                                                       _tensor(L, LABELS, i64))),
    ("ce bool input", lambda L: _fn(L, "cross_entropy")(_tensor(L, IS, bool),
                                                        _tensor(L, LABELS, i64))),
    ("ce int32 target", lambda L: _fn(L, "cross_entropy")(_tensor(L, XS, f32),
                                                          _tensor(L, LABELS, i32))),
    ("ce int8 target", lambda L: _fn(L, "cross_entropy")(_tensor(L, XS, f32),
                                                         _tensor(L, LABELS, np.int8))),
    ("ce uint8 target", lambda L: _fn(L, "cross_entropy")(_tensor(L, XS, f32),
                                                          _tensor(L, LABELS, np.uint8))),
    ("ce int64 target of the input's shape", lambda L: _fn(L, "cross_entropy")(
        _tensor(L, XS, f32), _tensor(L, IS, i64))),
    ("ce int64 weight", lambda L: _fn(L, "cross_entropy")(
        _tensor(L, XS, f32), _tensor(L, LABELS, i64), weight=_tensor(L, [1, 2, 3], i64))),
    ("ce float64 weight, float32 input", lambda L: _fn(L, "cross_entropy")(
        _tensor(L, XS, f32), _tensor(L, LABELS, i64), weight=_tensor(L, [1, 2, 3], f64))),
    ("ce probabilities, float64 weight", lambda L: _fn(L, "cross_entropy")(
        _tensor(L, XS, f32), _tensor(L, PS, f32), weight=_tensor(L, [1, 2, 3], f64))),
    ("ce probabilities, float64 target", lambda L: _fn(L, "cross_entropy")(
        _tensor(L, XS, f32), _tensor(L, PS, f64), reduction="none")),
    ("CrossEntropyLoss int32 target", lambda L: L.nn.CrossEntropyLoss()(
        _tensor(L, XS, f32), _tensor(L, LABELS, i32))),
    ("nll int input", lambda L: _fn(L, "nll_loss")(_tensor(L, IS, i64),
                                                   _tensor(L, LABELS, i64))),
    ("nll int32 target", lambda L: _fn(L, "nll_loss")(_tensor(L, XS, f32),
                                                      _tensor(L, LABELS, i32))),
    ("nll float64 weight", lambda L: _fn(L, "nll_loss")(
        _tensor(L, XS, f32), _tensor(L, LABELS, i64), weight=_tensor(L, [1, 2, 3], f64))),
    ("softmax int", lambda L: _fn(L, "softmax")(_tensor(L, IS, i64), 1)),
    ("softmax int with dtype", lambda L: _fn(L, "softmax")(_tensor(L, IS, i64), 1,
                                                           dtype=L.float32)),
    ("log_softmax int", lambda L: _fn(L, "log_softmax")(_tensor(L, IS, i64), 1)),
    ("Softmax module int", lambda L: L.nn.Softmax(1)(_tensor(L, IS, i64))),
    ("leaky_relu int", lambda L: _fn(L, "leaky_relu")(_tensor(L, IS, i64))),
    ("LeakyReLU module int", lambda L: L.nn.LeakyReLU()(_tensor(L, IS, i64))),
    ("softplus int", lambda L: _fn(L, "softplus")(_tensor(L, IS, i64))),
    ("Softplus module int", lambda L: L.nn.Softplus()(_tensor(L, IS, i64))),
    ("relu int", lambda L: _fn(L, "relu")(_tensor(L, IS, i64))),
    ("ReLU module bool", lambda L: L.nn.ReLU()(_tensor(L, IS, bool))),
    ("sigmoid int", lambda L: _fn(L, "sigmoid")(_tensor(L, IS, i64))),
    ("Tanh module int", lambda L: L.nn.Tanh()(_tensor(L, IS, i64))),
    ("dropout int training", lambda L: _fn(L, "dropout")(_tensor(L, IS, i64), 0.5)),
    ("dropout bool training", lambda L: _fn(L, "dropout")(_tensor(L, IS, bool), 0.5)),
    ("Dropout module int", lambda L: L.nn.Dropout()(_tensor(L, IS, i64))),
    ("dropout int eval", lambda L: _fn(L, "dropout")(_tensor(L, IS, i64), 0.5, training=False)),
    ("dropout int p=0", lambda L: _fn(L, "dropout")(_tensor(L, IS, i64), 0.0)),
    ("dropout int p=1", lambda L: _fn(L, "dropout")(_tensor(L, IS, i64), 1.0)),
    ("dropout bool p=1", lambda L: _fn(L, "dropout")(_tensor(L, IS, bool), 1.0)),
    ("dropout float p=1", lambda L: _fn(L, "dropout")(_tensor(L, XS, f32), 1.0)),
    ("Flatten module int", lambda L: L.nn.Flatten()(_tensor(L, IS, i64))),
]


def _outcome(call: Callable[[Any], Any], lib: Any) -> Any:
    try:
        return call(lib)
    except Exception as e:  # noqa: BLE001 (the exception is the outcome compared)
        return e


@pytest.mark.parametrize(("name", "call"), DTYPE_CASES, ids=[c[0] for c in DTYPE_CASES])
def test_dtypes_are_refused_or_accepted_as_pytorch(torch, name, call):
    ours, theirs = _outcome(call, mt), _outcome(call, torch)
    if isinstance(theirs, Exception):
        assert isinstance(ours, type(theirs)), f"PyTorch raises {theirs!r}; we give {ours!r}"
        return
    assert not isinstance(ours, Exception), f"PyTorch gives a result; we raise {ours!r}"
    expected = theirs.detach().numpy()
    assert ours.dtype == expected.dtype and ours.shape == expected.shape
    np.testing.assert_allclose(ours.detach().numpy(), expected, rtol=1e-6)
    # -0.0 where PyTorch gives -0.0 (dropout with p = 1 multiplies by zero).
    np.testing.assert_array_equal(np.signbit(ours.detach().numpy()), np.signbit(expected))


def test_an_integer_input_to_a_float_layer_is_a_clear_error():
    layer = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 must have the same dtype, but got Long "
                                           r"and Float \(the input is int64, the weight float32\);"
                                           r" convert the input with input.float\(\)"):
        layer(mt.tensor([[1, 0, 2]]))
    with pytest.raises(RuntimeError, match=r"but got Int and Double.*input.double\(\)"):
        F.linear(mt.tensor([1, 0, 2], dtype=mt.int32), layer.weight.double())
    with pytest.raises(RuntimeError, match=r"but got Double and Float.*input.float\(\)"):
        layer(mt.zeros(4, 2, 3, dtype=mt.float64))
    with pytest.raises(RuntimeError, match=r"bias is float64, the weight float32.*bias.float"):
        F.linear(mt.zeros(2, 3), layer.weight, layer.bias.double())
    assert layer(mt.tensor([[1, 0, 2]]).float()).dtype == mt.float32


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: F.cross_entropy(mt.tensor([[1, 2]]), mt.tensor([0])), NotImplementedError,
     r"\"cross_entropy\" not implemented for 'Long'.*input.float\(\)"),
    (lambda: F.nll_loss(mt.zeros(2, 3), mt.tensor([0, 1], dtype=mt.int32)), RuntimeError,
     r"expected target dtype to be Long or Byte, but got Int.*target.long\(\)"),
    (lambda: F.cross_entropy(mt.zeros(2, 3), mt.tensor([0, 1]), weight=mt.ones(3).double()),
     RuntimeError, r"expected scalar type Float but found Double.*weight.float\(\)"),
    (lambda: F.cross_entropy(mt.zeros(2, 3), mt.zeros(2, 3, dtype=mt.int64)), RuntimeError,
     r"Expected floating point type for target with class probabilities, got Long"),
    (lambda: F.binary_cross_entropy(mt.full((2,), 0.5), mt.tensor([0, 1])), RuntimeError,
     r"Found dtype Long but expected Float.*target.float\(\)"),
    (lambda: F.binary_cross_entropy_with_logits(mt.zeros(2), mt.tensor([0, 1])), RuntimeError,
     r"desired output type Long.*target.float\(\)"),
    (lambda: F.mse_loss(mt.tensor([1, 2]), mt.tensor([0, 1])), NotImplementedError,
     r"\"mse_loss\" not implemented for 'Long'"),
    (lambda: nn.Softmax(0)(mt.tensor([1, 2])), NotImplementedError,
     r"\"softmax\" not implemented for 'Long'"),
    (lambda: nn.Dropout()(mt.tensor([1, 2])), RuntimeError,
     r"desired output type Long.*input.float\(\)"),
    (lambda: nn.ReLU()(mt.tensor([True, False])), RuntimeError,
     "Boolean inputs not supported for relu"),
])
def test_integer_inputs_pytorch_refuses_are_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_mse_loss_accepts_a_bool_target_as_pytorch():
    x = mt.tensor([0.25, 0.5, 2.0], requires_grad=True)
    loss = F.mse_loss(x, mt.tensor([False, True, True]), reduction="sum")
    assert loss.dtype == mt.float32
    assert loss.item() == pytest.approx(0.25**2 + 0.5**2 + 1.0)
    loss.backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), [0.5, -1.0, 2.0])


# ----------------------------------------------------------------------------------------------
# 4. A NumPy array or a list passed to a module, a loss or a functional: PyTorch's TypeError
# ----------------------------------------------------------------------------------------------

A = np.ones((2, 3), dtype=np.float32)
LIST = [[1.0, 2.0, 3.0]]


def _x(lib: Any) -> Any:
    return lib.ones(2, 3)


def _labels(lib: Any) -> Any:
    return lib.tensor([0, 1])


# call(lib), the message (PyTorch's when torch_says is True; else ours alone: PyTorch gives no
# message naming the argument there, e.g. "'int' object is not callable" for mse_loss).
NOT_TENSOR_CASES: list[tuple[str, Callable[[Any], Any], str, bool]] = [
    ("Linear module, array", lambda L: L.nn.Linear(3, 2)(A),
     "linear(): argument 'input' (position 1) must be Tensor, not numpy.ndarray", True),
    ("Linear module, list", lambda L: L.nn.Linear(3, 2)(LIST),
     "linear(): argument 'input' (position 1) must be Tensor, not list", True),
    ("Sequential, array", lambda L: L.nn.Sequential(L.nn.Linear(3, 2), L.nn.ReLU())(A),
     "linear(): argument 'input' (position 1) must be Tensor, not numpy.ndarray", True),
    ("F.linear, list", lambda L: _fn(L, "linear")(LIST, L.ones(2, 3)),
     "linear(): argument 'input' (position 1) must be Tensor, not list", True),
    ("F.linear, float", lambda L: _fn(L, "linear")(1.0, L.ones(2, 3)),
     "linear(): argument 'input' (position 1) must be Tensor, not float", True),
    ("F.linear, weight array", lambda L: _fn(L, "linear")(_x(L), A),
     "linear(): argument 'weight' (position 2) must be Tensor, not numpy.ndarray", True),
    ("F.linear, bias array", lambda L: _fn(L, "linear")(_x(L), L.ones(2, 3), np.ones(2)),
     "linear(): argument 'bias' (position 3) must be Tensor, not numpy.ndarray", True),
    ("CrossEntropyLoss, array input", lambda L: L.nn.CrossEntropyLoss()(A, _labels(L)),
     "cross_entropy_loss(): argument 'input' (position 1) must be Tensor, not numpy.ndarray",
     True),
    ("cross_entropy, array target", lambda L: _fn(L, "cross_entropy")(_x(L), np.array([0, 1])),
     "cross_entropy_loss(): argument 'target' (position 2) must be Tensor, not numpy.ndarray",
     True),
    ("cross_entropy, list target", lambda L: _fn(L, "cross_entropy")(_x(L), [0, 1]),
     "cross_entropy_loss(): argument 'target' (position 2) must be Tensor, not list", True),
    ("cross_entropy, array weight", lambda L: _fn(L, "cross_entropy")(_x(L), _labels(L),
                                                                      weight=np.ones(3)),
     "cross_entropy_loss(): argument 'weight' (position 3) must be Tensor, not numpy.ndarray",
     True),
    ("NLLLoss, array input", lambda L: L.nn.NLLLoss()(A, _labels(L)),
     "nll_loss_nd(): argument 'input' (position 1) must be Tensor, not numpy.ndarray", True),
    ("nll_loss, list target", lambda L: _fn(L, "nll_loss")(_x(L), [0, 1]),
     "nll_loss_nd(): argument 'target' (position 2) must be Tensor, not list", True),
    ("MSELoss, array input", lambda L: L.nn.MSELoss()(A, _x(L)),
     "mse_loss(): argument 'input' (position 1) must be Tensor, not numpy.ndarray", False),
    ("mse_loss, list target", lambda L: _fn(L, "mse_loss")(_x(L), LIST * 2),
     "mse_loss(): argument 'target' (position 2) must be Tensor, not list", False),
    ("L1Loss, array target", lambda L: L.nn.L1Loss()(_x(L), A),
     "l1_loss(): argument 'target' (position 2) must be Tensor, not numpy.ndarray", False),
    ("BCELoss, array input", lambda L: L.nn.BCELoss()(A * 0.5, _x(L)),
     "binary_cross_entropy(): argument 'input' (position 1) must be Tensor, not numpy.ndarray",
     False),
    ("BCEWithLogitsLoss, array target", lambda L: L.nn.BCEWithLogitsLoss()(_x(L), A),
     "binary_cross_entropy_with_logits(): argument 'target' (position 2) must be Tensor, not "
     "numpy.ndarray", False),
    ("ReLU module, array", lambda L: L.nn.ReLU()(A),
     "relu(): argument 'input' (position 1) must be Tensor, not numpy.ndarray", True),
    ("Sigmoid module, array", lambda L: L.nn.Sigmoid()(A),
     "sigmoid(): argument 'input' (position 1) must be Tensor, not numpy.ndarray", True),
    ("Tanh module, array", lambda L: L.nn.Tanh()(A),
     "tanh(): argument 'input' (position 1) must be Tensor, not numpy.ndarray", True),
    ("LeakyReLU module, array", lambda L: L.nn.LeakyReLU()(A),
     "leaky_relu(): argument 'input' (position 1) must be Tensor, not numpy.ndarray", True),
    ("Softplus module, array", lambda L: L.nn.Softplus()(A),
     "softplus(): argument 'input' (position 1) must be Tensor, not numpy.ndarray", True),
    ("Dropout module, array", lambda L: L.nn.Dropout()(A),
     "dropout(): argument 'input' (position 1) must be Tensor, not numpy.ndarray", True),
    ("Dropout module in eval mode, array", lambda L: L.nn.Dropout().eval()(A),
     "dropout(): argument 'input' (position 1) must be Tensor, not numpy.ndarray", True),
    ("F.relu, list", lambda L: _fn(L, "relu")(LIST),
     "relu(): argument 'input' (position 1) must be Tensor, not list", True),
    ("Softmax module, array", lambda L: L.nn.Softmax(1)(A),
     "softmax(): argument 'input' (position 1) must be Tensor, not numpy.ndarray", False),
    ("F.log_softmax, list", lambda L: _fn(L, "log_softmax")(LIST, 1),
     "log_softmax(): argument 'input' (position 1) must be Tensor, not list", False),
    ("Flatten module, array", lambda L: L.nn.Flatten()(A),
     "flatten(): argument 'input' (position 1) must be Tensor, not numpy.ndarray", False),
]
NOT_TENSOR_IDS = [c[0] for c in NOT_TENSOR_CASES]


@pytest.mark.parametrize(("name", "call", "message", "torch_says"), NOT_TENSOR_CASES,
                         ids=NOT_TENSOR_IDS)
def test_a_non_tensor_argument_is_pytorchs_type_error(name, call, message, torch_says):
    with pytest.raises(TypeError) as info:
        call(mt)
    assert str(info.value) == message + " (wrap it with mt.tensor(...))"


@pytest.mark.parametrize(("name", "call", "message", "torch_says"),
                         [c for c in NOT_TENSOR_CASES if c[3]],
                         ids=[c[0] for c in NOT_TENSOR_CASES if c[3]])
def test_the_type_error_wording_is_pytorchs(torch, name, call, message, torch_says):
    with pytest.raises(TypeError) as info:
        call(torch)
    assert str(info.value) == message


def test_identity_passes_anything_through_as_pytorch():
    assert nn.Identity()(A) is A


# ----------------------------------------------------------------------------------------------
# 5. Linear with zero features
# ----------------------------------------------------------------------------------------------

ZERO_FEATURES = [(3, 0), (0, 2), (0, 0)]
BATCHES = [(), (2,), (4, 2)]  # 1-D, 2-D and 3-D inputs


@pytest.mark.parametrize("batch", BATCHES, ids=["1-d", "2-d", "3-d"])
@pytest.mark.parametrize(("in_features", "out_features"), ZERO_FEATURES)
def test_linear_with_zero_features_forward_and_backward(in_features, out_features, batch):
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        layer = nn.Linear(in_features, out_features).double()
    assert layer.weight.shape == (out_features, in_features)
    assert layer.bias.shape == (out_features,)
    # With no input features, the bias bound 1/sqrt(in_features) is PyTorch's 0.
    if in_features == 0:
        np.testing.assert_array_equal(layer.bias.detach().numpy(), np.zeros(out_features))
    x = mt.randn(*batch, in_features, dtype=mt.float64, requires_grad=True)
    y = layer(x)
    assert y.shape == (*batch, out_features)
    # y = x W^T + b: with in_features = 0 the product is an empty sum, so y = b.
    expected = np.broadcast_to(layer.bias.detach().numpy(), (*batch, out_features))
    np.testing.assert_array_equal(y.detach().numpy(), expected)
    g = np.random.default_rng(0).standard_normal((*batch, out_features))
    y.backward(mt.tensor(g))
    # dx = g W, dW = g^T x, db = g summed over the batch dimensions (empty sums are 0).
    assert x.grad.shape == x.shape and layer.weight.grad.shape == layer.weight.shape
    np.testing.assert_array_equal(x.grad.detach().numpy(), np.zeros(x.shape))
    np.testing.assert_array_equal(layer.weight.grad.detach().numpy(),
                                  np.zeros(layer.weight.shape))
    np.testing.assert_allclose(layer.bias.grad.detach().numpy(),
                               g.sum(axis=tuple(range(len(batch)))), rtol=1e-12)


@pytest.mark.parametrize("batch", BATCHES, ids=["1-d", "2-d", "3-d"])
@pytest.mark.parametrize(("in_features", "out_features"), ZERO_FEATURES)
def test_linear_with_zero_features_matches_pytorch(torch, in_features, out_features, batch):
    x = np.random.default_rng(1).standard_normal((*batch, in_features))
    w = np.zeros((out_features, in_features))
    b = np.linspace(-1, 1, out_features)
    g = np.random.default_rng(2).standard_normal((*batch, out_features))
    grads = []
    for lib, functional in [(mt, F), (torch, torch.nn.functional)]:
        xt, wt, bt = (_tensor(lib, a, np.float64, requires_grad=True) for a in (x, w, b))
        y = functional.linear(xt, wt, bt)
        y.backward(_tensor(lib, g, np.float64))
        grads.append([y.detach().numpy(), xt.grad, wt.grad, bt.grad])
    ours, theirs = grads
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    for a, e in zip(ours[1:], theirs[1:], strict=True):
        assert tuple(a.shape) == tuple(e.shape)
        np.testing.assert_allclose(a.detach().numpy(), e.numpy(), rtol=1e-12)


def test_linear_without_bias_and_zero_features():
    with pytest.warns(UserWarning, match="zero-element"):
        layer = nn.Linear(3, 0, bias=False)
    x = mt.randn(4, 2, 3, requires_grad=True)
    y = layer(x)
    assert y.shape == (4, 2, 0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), np.zeros((4, 2, 3)))
