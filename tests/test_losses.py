"""Losses: values against hand-written NumPy formulas and PyTorch, gradients by gradcheck and
against PyTorch, every reduction, the options (weight, pos_weight, label_smoothing,
ignore_index, probability targets), shape and value errors, and extreme inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn
from microtensor.autograd import gradcheck, gradgradcheck
from microtensor.nn import functional as F

REDUCTIONS = ["mean", "sum", "none"]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def t64(a: np.ndarray, requires_grad: bool = False) -> mt.Tensor:
    return mt.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def reduce_np(values: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": values.mean, "sum": values.sum, "none": lambda: values}[reduction]()


def log_softmax_np(x: np.ndarray, axis: int) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


# ----------------------------------------------------------------------------------------------
# Cases: (name, microtensor call, torch call, input maker, target maker)
# Inputs are float64 arrays; targets may be int64 (class indices).
# ----------------------------------------------------------------------------------------------

def _probs(shape):
    return rng(1).uniform(0.05, 0.95, shape)


def _logits(shape):
    return rng(2).normal(0, 2, shape)


def _binary(shape):
    return rng(3).uniform(0, 1, shape).round()  # 0s and 1s


def _soft(shape):
    return rng(4).uniform(0, 1, shape)


def _indices(n, c, seed=5):
    return rng(seed).integers(0, c, n)


def _distribution(shape):
    p = rng(6).uniform(0.1, 1, shape)
    return p / p.sum(axis=1, keepdims=True)


W3 = np.array([0.5, 2.0, 1.5])
POS = np.array([3.0, 0.5, 1.0])

# name, module kwargs factory (given the lib), functional name, input, target
CASES = [
    ("mse", "MSELoss", {}, _logits((4, 3)), _logits((4, 3)) + 1),
    ("l1", "L1Loss", {}, _logits((4, 3)), _logits((4, 3)) + 0.5),
    ("bce", "BCELoss", {}, _probs((4, 3)), _binary((4, 3))),
    ("bce_soft_weight", "BCELoss", {"weight": W3}, _probs((4, 3)), _soft((4, 3))),
    ("bce_logits", "BCEWithLogitsLoss", {}, _logits((4, 3)), _binary((4, 3))),
    ("bce_logits_weights", "BCEWithLogitsLoss", {"weight": W3, "pos_weight": POS},
     _logits((4, 3)), _soft((4, 3))),
    ("ce", "CrossEntropyLoss", {}, _logits((5, 3)), _indices(5, 3)),
    ("ce_weight_smooth", "CrossEntropyLoss", {"weight": W3, "label_smoothing": 0.2},
     _logits((5, 3)), _indices(5, 3)),
    ("ce_ignore", "CrossEntropyLoss", {"ignore_index": 1, "weight": W3, "label_smoothing": 0.1},
     _logits((5, 3)), _indices(5, 3)),
    ("ce_probs", "CrossEntropyLoss", {}, _logits((5, 3)), _distribution((5, 3))),
    ("ce_probs_weight_smooth", "CrossEntropyLoss", {"weight": W3, "label_smoothing": 0.3},
     _logits((5, 3)), _distribution((5, 3))),
    ("ce_spatial", "CrossEntropyLoss", {"label_smoothing": 0.1}, _logits((2, 3, 4)),
     rng(7).integers(0, 3, (2, 4))),
    ("ce_unbatched", "CrossEntropyLoss", {}, _logits((3,)), np.array(2)),
    ("nll", "NLLLoss", {}, log_softmax_np(_logits((5, 3)), 1), _indices(5, 3)),
    ("nll_weight_ignore", "NLLLoss", {"weight": W3, "ignore_index": 0},
     log_softmax_np(_logits((5, 3)), 1), _indices(5, 3)),
]
IDS = [c[0] for c in CASES]


def _make_module(lib, cls_name, kwargs, reduction, dtype):
    converted = {k: (lib.tensor(v, dtype=dtype) if isinstance(v, np.ndarray) else v)
                 for k, v in kwargs.items()}
    return getattr(lib.nn, cls_name)(reduction=reduction, **converted)


def _target(lib, target):
    return lib.tensor(target) if target.dtype.kind == "i" else lib.tensor(target)


def _expected(name, x, y, reduction):
    """The loss by the textbook formula, in NumPy."""
    if name == "mse":
        return reduce_np((x - y) ** 2, reduction)
    if name == "l1":
        return reduce_np(np.abs(x - y), reduction)
    if name.startswith("bce_logits"):
        s = 1 / (1 + np.exp(-x))
        p = POS if "weights" in name else 1.0
        w = W3 if "weights" in name else 1.0
        return reduce_np(-w * (p * y * np.log(s) + (1 - y) * np.log(1 - s)), reduction)
    if name.startswith("bce"):
        w = W3 if "weight" in name else 1.0
        return reduce_np(-w * (y * np.log(x) + (1 - y) * np.log(1 - x)), reduction)
    return None


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_loss_gradcheck(case, reduction):
    name, cls_name, kwargs, x, y = case
    loss = _make_module(mt, cls_name, kwargs, reduction, mt.float64)
    xt = t64(x, requires_grad=True)
    inputs = [xt]
    # A floating target is differentiable too (except a hard 0/1 one for BCE, kept fixed).
    if y.dtype.kind == "f" and name not in ("bce", "bce_logits"):
        inputs.append(t64(y, requires_grad=True))
    else:
        fixed = mt.tensor(y)
    if len(inputs) == 2:
        assert gradcheck(lambda a, b: loss(a, b), inputs)
    else:
        assert gradcheck(lambda a: loss(a, fixed), inputs)


# |x| has no second derivative worth checking (0 almost everywhere): l1 is left out.
@pytest.mark.parametrize("case", CASES[:1] + CASES[2:], ids=IDS[:1] + IDS[2:])
def test_loss_gradgradcheck(case):
    name, cls_name, kwargs, x, y = case
    loss = _make_module(mt, cls_name, kwargs, "mean", mt.float64)
    target = mt.tensor(y)
    assert gradgradcheck(lambda a: loss(a, target), [t64(x, requires_grad=True)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES[:6], ids=IDS[:6])
def test_elementwise_losses_match_the_formula(case, reduction):
    name, cls_name, kwargs, x, y = case
    loss = _make_module(mt, cls_name, kwargs, reduction, mt.float64)
    np.testing.assert_allclose(loss(t64(x), t64(y)).detach().numpy(),
                               _expected(name, x, y, reduction), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_and_nll_match_the_formula(reduction):
    x, y = _logits((6, 3)), _indices(6, 3, seed=11)
    y[2] = 1  # an ignored entry below
    logp = log_softmax_np(x, 1)
    rows = np.arange(6)
    per = -logp[rows, y]
    ce = F.cross_entropy(t64(x), mt.tensor(y), reduction=reduction)
    np.testing.assert_allclose(ce.detach().numpy(), reduce_np(per, reduction), rtol=1e-12)
    nll = F.nll_loss(t64(logp), mt.tensor(y), reduction=reduction)
    np.testing.assert_allclose(nll.detach().numpy(), reduce_np(per, reduction), rtol=1e-12)
    # Class weights, an ignored class: 'mean' divides by the weights of the counted targets.
    w = W3[y] * (y != 1)
    got = F.cross_entropy(t64(x), mt.tensor(y), weight=t64(W3), ignore_index=1,
                          reduction=reduction).detach().numpy()
    expected = {"mean": (w * per).sum() / w.sum(), "sum": (w * per).sum(), "none": w * per}
    np.testing.assert_allclose(got, expected[reduction], rtol=1e-12)
    # Label smoothing e: the target is (1 - e) one_hot + e / C.
    e = 0.25
    q = np.full((6, 3), e / 3)
    q[rows, y] += 1 - e
    per_smooth = -(q * logp).sum(axis=1)
    smoothed = F.cross_entropy(t64(x), mt.tensor(y), label_smoothing=e, reduction=reduction)
    np.testing.assert_allclose(smoothed.detach().numpy(), reduce_np(per_smooth, reduction),
                               rtol=1e-12)
    # Probabilities as the target: the same formula with q given.
    soft = F.cross_entropy(t64(x), t64(q), reduction=reduction)
    np.testing.assert_allclose(soft.detach().numpy(), reduce_np(per_smooth, reduction),
                               rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_loss_matches_pytorch(torch, case, reduction):
    name, cls_name, kwargs, x, y = case
    ours = _make_module(mt, cls_name, kwargs, reduction, mt.float64)
    theirs = _make_module(torch, cls_name, kwargs, reduction, torch.float64)
    xt = t64(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    differentiable_target = y.dtype.kind == "f"
    yt = t64(y, requires_grad=differentiable_target) if differentiable_target else mt.tensor(y)
    ty = torch.tensor(y, requires_grad=differentiable_target)
    out, tout = ours(xt, yt), theirs(tx, ty)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng(9).standard_normal(out.shape)
    out.backward(mt.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.detach().numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    if differentiable_target:
        np.testing.assert_allclose(yt.grad.detach().numpy(), ty.grad.numpy(), rtol=1e-10,
                                   atol=1e-12)


def test_float32_losses_stay_float32_and_match_pytorch(torch):
    x, y = _logits((8, 3)).astype(np.float32), _indices(8, 3)
    out = F.cross_entropy(mt.tensor(x), mt.tensor(y), label_smoothing=0.1)
    assert out.dtype == mt.float32
    expected = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(y),
                                                 label_smoothing=0.1)
    assert out.item() == pytest.approx(expected.item(), rel=1e-6)
    p = _probs((8, 1)).astype(np.float32)
    t = _binary((8, 1)).astype(np.float32)
    for ours, theirs in [(F.binary_cross_entropy, torch.nn.functional.binary_cross_entropy),
                         (F.binary_cross_entropy_with_logits,
                          torch.nn.functional.binary_cross_entropy_with_logits)]:
        out = ours(mt.tensor(p), mt.tensor(t))
        assert out.dtype == mt.float32
        assert out.item() == pytest.approx(theirs(torch.tensor(p), torch.tensor(t)).item(),
                                           rel=1e-6)


def test_weight_buffers_are_in_the_state_dict():
    loss = nn.CrossEntropyLoss(weight=mt.tensor([1.0, 2.0]))
    assert list(loss.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=mt.ones(2)).state_dict()) == ["pos_weight"]
    assert list(nn.MSELoss().state_dict()) == []


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.binary_cross_entropy,
                                F.binary_cross_entropy_with_logits])
def test_target_of_another_shape_is_an_error_naming_both_shapes(fn):
    predictions = mt.full((4, 1), 0.5)
    targets = mt.tensor([0.0, 1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match=r"target shape \(4,\) differs from input shape "
                                         r"\(4, 1\).*target.reshape\(4, 1\)"):
        fn(predictions, targets)
    with pytest.raises(ValueError, match=r"target shape \(1, 4\) differs from input shape "
                                         r"\(4, 1\)"):
        fn(predictions, targets.reshape(1, 4))
    with pytest.raises(TypeError, match=r"argument 'target' \(position 2\) must be Tensor, "
                                        r"not list \(wrap it with mt.tensor"):
        fn(predictions, [0.0, 1.0, 1.0, 0.0])


def test_loss_modules_report_the_shapes_too():
    with pytest.raises(ValueError, match=r"\(4,\).*\(4, 1\)"):
        nn.MSELoss()(mt.zeros(4, 1), mt.zeros(4))
    with pytest.raises(ValueError, match=r"\(4,\).*\(4, 1\)"):
        nn.BCEWithLogitsLoss()(mt.zeros(4, 1), mt.zeros(4))


def test_class_index_targets_are_checked():
    logits = mt.randn(4, 3)
    with pytest.raises(ValueError, match=r"input of shape \(4, 3\).*target of class indices of "
                                         r"shape \(4,\), got \(4, 1\)"):
        F.cross_entropy(logits, mt.tensor([[0], [1], [2], [1]]))
    with pytest.raises(RuntimeError, match=r"dtype float32 and shape \(4,\).*integer tensor.*"
                                           r"shape \(4,\).*probabilities.*\(4, 3\)"):
        F.cross_entropy(logits, mt.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(RuntimeError, match="integer tensor"):
        F.nll_loss(logits, mt.tensor([True, False, True, True]))
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(logits, mt.tensor([0, 1, 3, 1]))
    with pytest.raises(IndexError, match="Target -2 is out of bounds"):
        F.nll_loss(logits, mt.tensor([0, 1, -2, 1]))
    with pytest.raises(RuntimeError, match="for all 3 classes or no classes.*\\[2\\]"):
        F.cross_entropy(logits, mt.tensor([0, 1, 2, 1]), weight=mt.ones(2))
    with pytest.raises(ValueError, match="class dimension"):
        F.cross_entropy(mt.tensor(1.0), mt.tensor(0))


def test_reduction_and_option_values_are_checked():
    for make in (lambda: nn.MSELoss(reduction="avg"), lambda: nn.CrossEntropyLoss(reduction="")):
        with pytest.raises(ValueError, match="is not a valid value for reduction"):
            make()
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        F.l1_loss(mt.zeros(2), mt.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(mt.zeros(2, 3), mt.tensor([0, 1]), label_smoothing=-0.1)
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(mt.zeros(4, 3), mt.zeros(4, 3), pos_weight=mt.ones(2))


def test_bce_rejects_inputs_and_targets_outside_0_1():
    with pytest.raises(RuntimeError, match="input should be between 0 and 1.*from -0.5 to 2.*"
                                           "binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(mt.tensor([-0.5, 2.0]), mt.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="input should be between 0 and 1"):
        F.binary_cross_entropy(mt.tensor([float("nan"), 0.5]), mt.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        nn.BCELoss()(mt.tensor([0.5, 0.5]), mt.tensor([0.0, 1.5]))


# ----------------------------------------------------------------------------------------------
# Extreme inputs: finite values and gradients, no warnings
# ----------------------------------------------------------------------------------------------

@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
def test_bce_with_logits_at_plus_minus_1000(no_warnings, dtype):
    x = mt.tensor([-1000.0, -1000.0, 1000.0, 1000.0, 0.0], dtype=dtype, requires_grad=True)
    y = mt.tensor([0.0, 1.0, 0.0, 1.0, 1.0], dtype=dtype)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [0.0, 1000.0, 1000.0, 0.0, np.log(2)],
                               rtol=1e-6)
    loss.sum().backward()
    # d/dx = sigmoid(x) - y; at x = 0 (where max(x, 0) has a kink) it is 0.5 - y.
    np.testing.assert_allclose(x.grad.detach().numpy(), [0.0, -1.0, 1.0, 0.0, -0.5], atol=1e-7)
    x.grad = None
    F.binary_cross_entropy_with_logits(x, y, pos_weight=mt.tensor([2.0], dtype=dtype)).backward()
    assert np.all(np.isfinite(x.grad.detach().numpy()))


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
def test_bce_clamps_the_log_at_minus_100(no_warnings, dtype):
    x = mt.tensor([0.0, 1.0, 0.0, 1.0, 1e-30], dtype=dtype, requires_grad=True)
    y = mt.tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
    loss = F.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0, 0.0, 0.0, 30 * np.log(10)],
                               rtol=1e-6)
    loss.sum().backward()
    assert np.all(np.isfinite(x.grad.detach().numpy()))
    # PyTorch's gradient: (x - y) / max(x (1 - x), 1e-12).
    np.testing.assert_allclose(x.grad.detach().numpy()[:4], [-1e12, 1e12, 0.0, 0.0], rtol=1e-6)


def test_bce_after_a_saturated_sigmoid_has_finite_gradients(no_warnings):
    logits = mt.tensor([-90.0, -20.0, 20.0, 90.0], requires_grad=True)  # float32
    target = mt.tensor([1.0, 1.0, 0.0, 0.0])
    loss = nn.BCELoss()(logits.sigmoid(), target)
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(logits.grad.detach().numpy()))


def test_cross_entropy_with_huge_logits(no_warnings):
    x = mt.tensor([[1000.0, -1000.0, 0.0], [-1e4, 1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(x, mt.tensor([1, 2]), label_smoothing=0.1)
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(x.grad.detach().numpy()))


def test_all_targets_ignored_gives_nan_without_warning(no_warnings):
    x = mt.randn(2, 3, requires_grad=True)
    loss = F.cross_entropy(x, mt.tensor([-100, -100]))
    assert np.isnan(loss.item())
    loss.backward()  # PyTorch: a nan loss, a zero gradient
    assert x.grad.tolist() == [[0.0] * 3] * 2
    assert F.cross_entropy(x, mt.tensor([-100, -100]), reduction="sum").item() == 0.0


def test_cross_entropy_of_logits_and_indices_is_one_fused_node_with_the_formulas_values():
    # -log softmax(x)[t] by hand, in float64; float32 in, float32 out (no promotion).
    x = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0], [1.0, 1.0, 1.0]], dtype=np.float32)
    t = np.array([0, 2, 1])
    x64 = x.astype(np.float64)
    expected = np.log(np.exp(x64).sum(1)) - x64[np.arange(3), t]
    logits = mt.tensor(x, requires_grad=True)
    for reduction, value in (("none", expected), ("sum", expected.sum()),
                             ("mean", expected.mean())):
        loss = F.cross_entropy(logits, mt.tensor(t), reduction=reduction)
        assert loss.dtype == mt.float32 and loss.grad_fn.name() == "CrossEntropyBackward"
        np.testing.assert_allclose(loss.detach().numpy(), value, rtol=1e-6)
    F.cross_entropy(logits, mt.tensor(t)).backward()
    softmax = np.exp(x64) / np.exp(x64).sum(1, keepdims=True)
    np.testing.assert_allclose(logits.grad.numpy(), (softmax - np.eye(3)[t]) / 3, rtol=1e-5,
                               atol=1e-7)
    with pytest.raises(IndexError, match=r"Target 3 is out of bounds"):
        F.cross_entropy(logits, mt.tensor([0, 3, 1]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_gives_pytorchs_values_and_gradients(reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 5)) * 3
    t = np.array([0, 4, 2, 7, 2, 1])  # 7 is the ignore_index
    ours = mt.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    a = F.cross_entropy(ours, mt.tensor(t), ignore_index=7, reduction=reduction)
    b = torch.nn.functional.cross_entropy(theirs, torch.tensor(t), ignore_index=7,
                                          reduction=reduction)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
    (ga,) = mt.autograd.grad(a.sum(), ours, create_graph=True)
    (gb,) = torch.autograd.grad(b.sum(), theirs, create_graph=True)
    np.testing.assert_allclose(ga.detach().numpy(), gb.detach().numpy(), rtol=1e-12, atol=1e-15)
    (ga * ga).sum().backward()  # second order, through the fused gradient op
    (gb * gb).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_create_graph_through_a_loss_gives_a_gradient_penalty():
    # d/dx of mean((x - y)^2) is 2 (x - y) / n; the penalty |grad|^2 has gradient 8 (x - y) / n^2.
    x = t64([1.0, 2.0, 4.0], requires_grad=True)
    y = t64([0.0, 0.0, 1.0])
    (g,) = mt.autograd.grad(F.mse_loss(x, y), x, create_graph=True)
    (g * g).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(),
                               8 * (x.detach().numpy() - y.detach().numpy()) / 9, rtol=1e-12)
