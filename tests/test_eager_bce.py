"""binary_cross_entropy_with_logits reduces inside its op (one node, as PyTorch's
BinaryCrossEntropyWithLogitsBackward): the same numbers as the loss reduced by a Mean or Sum
node, and as PyTorch, for values, gradients and second derivatives."""

import numpy as np
import pytest

import microtensor as mt
from microtensor.autograd import gradcheck
from microtensor.nn import functional as F
from microtensor.nn.fused import BinaryCrossEntropyWithLogits

REDUCTIONS = ["mean", "sum", "none"]


def _data(dtype, shape=(5, 3), seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 3, shape).astype(dtype), rng.uniform(0, 1, shape).astype(dtype))


def _reduced_by_a_node(x, y, reduction):
    """The loss as it was computed before: the element-wise op, then a Mean or Sum node."""
    losses = BinaryCrossEntropyWithLogits.apply(x, y)
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_bits_as_the_loss_reduced_by_a_node(reduction, dtype):
    xv, yv = _data(dtype)
    results = []
    for fn in (lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=reduction),
               lambda x, y: _reduced_by_a_node(x, y, reduction)):
        x = mt.tensor(xv, requires_grad=True)
        y = mt.tensor(yv, requires_grad=True)
        loss = fn(x, y)
        loss.backward(mt.ones_like(loss))
        assert x.grad is not None and y.grad is not None
        results.append([loss.detach().numpy(), x.grad.numpy(), y.grad.numpy()])
    for ours, before in zip(*results, strict=True):
        assert ours.dtype == before.dtype and ours.shape == before.shape
        assert ours.tobytes() == before.tobytes()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_one_node_as_pytorch(reduction):
    torch = pytest.importorskip("torch")
    xv, yv = _data(np.float32)
    x = mt.tensor(xv, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, mt.tensor(yv), reduction=reduction)
    tx = torch.tensor(xv, requires_grad=True)
    tloss = torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.tensor(yv),
                                                                 reduction=reduction)
    assert loss.grad_fn is not None and tloss.grad_fn is not None
    assert loss.grad_fn.name() == "BinaryCrossEntropyWithLogitsBackward"
    assert type(tloss.grad_fn).__name__ == "BinaryCrossEntropyWithLogitsBackward0"
    assert [t for t in loss.grad_fn.inputs if isinstance(t, mt.Tensor) and t.grad_fn] == []
    np.testing.assert_allclose(loss.detach().numpy(), tloss.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_values_and_gradients_as_pytorch(reduction, weighted):
    torch = pytest.importorskip("torch")
    xv, yv = _data(np.float64, seed=1)
    wv = np.linspace(0.5, 2.0, 3)
    out = []
    for lib in (mt, torch):
        x = lib.tensor(xv, requires_grad=True)
        y = lib.tensor(yv, requires_grad=True)
        weight = lib.tensor(wv) if weighted else None
        loss = lib.nn.functional.binary_cross_entropy_with_logits(x, y, weight=weight,
                                                                  reduction=reduction)
        seed = lib.ones_like(loss) * 0.5
        gx, gy = lib.autograd.grad(loss, (x, y), seed, create_graph=True)
        # second derivatives: of the sum of the first ones with respect to x and y
        hx, hy = lib.autograd.grad((gx * gx).sum() + (gy * x).sum(), (x, y))
        out.append([v.detach().numpy() for v in (loss, gx, gy, hx, hy)])
    for ours, theirs in zip(*out, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gradcheck_first_and_second_order(reduction):
    xv, yv = _data(np.float64, shape=(3, 2), seed=2)
    x = mt.tensor(xv, requires_grad=True)
    y = mt.tensor(yv, requires_grad=True)

    def fn(a, b):
        return F.binary_cross_entropy_with_logits(a, b, reduction=reduction)

    assert gradcheck(fn, (x, y))
    assert mt.autograd.gradgradcheck(fn, (x, y))


def test_mean_of_nothing_is_nan_with_zero_gradients_as_pytorch():
    torch = pytest.importorskip("torch")
    out = []
    for lib in (mt, torch):
        x = lib.zeros(0, 3, requires_grad=True)
        loss = lib.nn.functional.binary_cross_entropy_with_logits(x, lib.zeros(0, 3))
        loss.backward()
        assert x.grad is not None
        out.append((loss.item(), tuple(x.grad.shape)))
    assert np.isnan(out[0][0]) and np.isnan(out[1][0])
    assert out[0][1] == out[1][1] == (0, 3)
