"""binary_cross_entropy_with_logits and binary_cross_entropy reduce inside their op (one node,
as PyTorch's BinaryCrossEntropyWithLogitsBackward and BinaryCrossEntropyBackward): the same
numbers as the loss reduced by a Mean or Sum node, and as PyTorch, for values, gradients and
second derivatives."""

import numpy as np
import pytest

import microtensor as mt
from microtensor.autograd import gradcheck
from microtensor.nn import functional as F
from microtensor.nn import fused

REDUCTIONS = ["mean", "sum", "none"]


def _logits(dtype, shape=(5, 3), seed=0, edges=False):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 3, shape).astype(dtype), rng.uniform(0, 1, shape).astype(dtype))


def _probabilities(dtype, shape=(5, 3), seed=0, edges=False):
    """Inputs in (0.05, 0.95) (or, with ``edges``, some exactly 0 and 1, where the gradient's
    denominator is clamped at 1e-12) and targets in [0, 1]."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.05, 0.95, shape).astype(dtype)
    if edges:
        x.flat[0], x.flat[-1] = 0.0, 1.0
    return x, rng.uniform(0, 1, shape).astype(dtype)


# name -> (the op, its functional, the data it takes, its node's name in PyTorch)
LOSSES = {
    "with_logits": (fused.BinaryCrossEntropyWithLogits, "binary_cross_entropy_with_logits",
                    _logits, "BinaryCrossEntropyWithLogitsBackward"),
    "probabilities": (fused.BinaryCrossEntropy, "binary_cross_entropy", _probabilities,
                      "BinaryCrossEntropyBackward"),
}


def _reduced_by_a_node(op, x, y, reduction):
    """The loss as it was computed before: the element-wise op, then a Mean or Sum node."""
    losses = op.apply(x, y)
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses


@pytest.mark.parametrize("edges", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", LOSSES)
def test_same_bits_as_the_loss_reduced_by_a_node(loss, reduction, dtype, edges):
    op, name, data, _ = LOSSES[loss]
    xv, yv = data(dtype, edges=edges)
    results = []
    for fn in (lambda x, y: getattr(F, name)(x, y, reduction=reduction),
               lambda x, y: _reduced_by_a_node(op, x, y, reduction)):
        x = mt.tensor(xv, requires_grad=True)
        y = mt.tensor(yv, requires_grad=True)
        out = fn(x, y)
        out.backward(mt.ones_like(out))
        assert x.grad is not None and y.grad is not None
        results.append([out.detach().numpy(), x.grad.numpy(), y.grad.numpy()])
    for ours, before in zip(*results, strict=True):
        assert ours.dtype == before.dtype and ours.shape == before.shape
        assert ours.tobytes() == before.tobytes()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_input_gradient_is_the_composed_formula_bit_for_bit(reduction, dtype):
    # PyTorch's formula c (x - y) / max(x (1 - x), 1e-12), written with Tensor ops in the order
    # the op's NumPy computes it (c = 1/n for a mean, 1 for a sum)
    xv, yv = _probabilities(dtype, edges=True)
    x = mt.tensor(xv, requires_grad=True)
    y = mt.tensor(yv)
    out = F.binary_cross_entropy(x, y, reduction=reduction)
    out.backward(mt.ones_like(out))
    c = mt.tensor(1.0 / xv.size if reduction == "mean" else 1.0, dtype=x.dtype)
    xd = x.detach()
    expected = (xd - y) * c / (xd * (1.0 - xd)).clamp(min=1e-12)
    assert x.grad is not None
    assert x.grad.numpy().tobytes() == expected.numpy().tobytes()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_one_node_as_pytorch(loss, reduction):
    torch = pytest.importorskip("torch")
    _, name, data, node = LOSSES[loss]
    xv, yv = data(np.float32)
    x = mt.tensor(xv, requires_grad=True)
    out = getattr(F, name)(x, mt.tensor(yv), reduction=reduction)
    tx = torch.tensor(xv, requires_grad=True)
    tout = getattr(torch.nn.functional, name)(tx, torch.tensor(yv), reduction=reduction)
    assert out.grad_fn is not None and tout.grad_fn is not None
    assert out.grad_fn.name() == node
    assert type(tout.grad_fn).__name__ == node + "0"
    assert [t for t in out.grad_fn.inputs if isinstance(t, mt.Tensor) and t.grad_fn] == []
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("loss", LOSSES)
def test_values_gradients_and_second_derivatives_as_pytorch(loss, reduction, weighted):
    torch = pytest.importorskip("torch")
    _, name, data, _ = LOSSES[loss]
    xv, yv = data(np.float64, seed=1)
    wv = np.linspace(0.5, 2.0, 3)
    results = []
    for lib in (mt, torch):
        x = lib.tensor(xv, requires_grad=True)
        y = lib.tensor(yv, requires_grad=True)
        weight = lib.tensor(wv) if weighted else None
        out = getattr(lib.nn.functional, name)(x, y, weight=weight, reduction=reduction)
        seed = lib.ones_like(out) * 0.5
        gx, gy = lib.autograd.grad(out, (x, y), seed, create_graph=True)
        # second derivatives: of a sum of products of the first ones with respect to x and y
        hx, hy = lib.autograd.grad((gx * gx).sum() + (gy * x).sum() + (gx * y).sum(), (x, y))
        results.append([v.detach().numpy() for v in (out, gx, gy, hx, hy)])
    # (second derivatives: the same formula, its terms rounded in another order)
    for i, (ours, theirs) in enumerate(zip(*results, strict=True)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12 if i < 3 else 1e-8, atol=1e-13)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_gradcheck_first_and_second_order(loss, reduction):
    _, name, data, _ = LOSSES[loss]
    xv, yv = data(np.float64, shape=(3, 2), seed=2)
    x = mt.tensor(xv, requires_grad=True)
    y = mt.tensor(yv, requires_grad=True)

    def fn(a, b):
        return getattr(F, name)(a, b, reduction=reduction)

    assert gradcheck(fn, (x, y))
    assert mt.autograd.gradgradcheck(fn, (x, y))


@pytest.mark.parametrize("n", [1, 3])
def test_bce_gradient_op_gradcheck(n):
    # the op of the backward, checked on its own (g a 0-d gradient of a reduced loss, or one
    # per element), so that third derivatives rest on a checked second one
    xv, yv = _probabilities(np.float64, shape=(3, 2), seed=3)
    for g in (mt.tensor(0.7, dtype=mt.float64, requires_grad=True),
              mt.tensor(np.linspace(0.5, 1.5, 6).reshape(3, 2), requires_grad=True)):
        x = mt.tensor(xv, requires_grad=True)
        y = mt.tensor(yv, requires_grad=True)

        def fn(a, b, c):
            return fused.BinaryCrossEntropyGrad.apply(a, b, c, n=n)

        assert gradcheck(fn, (g, x, y))
        assert mt.autograd.gradgradcheck(fn, (g, x, y))


@pytest.mark.parametrize("loss", LOSSES)
def test_mean_of_nothing_is_nan_with_zero_gradients_as_pytorch(loss):
    torch = pytest.importorskip("torch")
    name = LOSSES[loss][1]
    results = []
    for lib in (mt, torch):
        x = lib.zeros(0, 3, requires_grad=True)
        out = getattr(lib.nn.functional, name)(x, lib.zeros(0, 3))
        out.backward()
        assert x.grad is not None
        results.append((out.item(), tuple(x.grad.shape)))
    assert np.isnan(results[0][0]) and np.isnan(results[1][0])
    assert results[0][1] == results[1][1] == (0, 3)
