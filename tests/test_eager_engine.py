"""The engine's fast paths keep PyTorch's numbers: the order in which gradients meeting at a
node are summed (newest op first, as PyTorch's ready queue), and sums made in place into a
buffer that nobody else holds."""

import numpy as np
import pytest

import microtensor as mt


def _recurrence(lib, w, values):
    """h = w * v + h for each v: w gets one gradient per step (v), as an RNN's weights do."""
    h = lib.tensor([0.0])
    for v in values:
        h = w * lib.tensor([v]) + h
    return h.sum()


def test_gradients_meeting_at_a_leaf_are_summed_newest_first():
    # The contributions to dw are 1, 1e8 and -1e8, in the order of the steps. In float32,
    # newest first gives (-1e8 + 1e8) + 1 = 1; oldest first would give (1 + 1e8) - 1e8 = 0
    # (1e8 + 1 rounds to 1e8).
    w = mt.tensor([1.0], requires_grad=True)
    _recurrence(mt, w, [1.0, 1e8, -1e8]).backward()
    assert w.grad is not None
    assert w.grad.item() == 1.0


def test_summation_order_is_pytorchs():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    values = (rng.standard_normal(40) * 10.0 ** rng.integers(-4, 8, 40)).tolist()
    w = mt.tensor([0.75], requires_grad=True)
    tw = torch.tensor([0.75], requires_grad=True)
    _recurrence(mt, w, values).backward()
    _recurrence(torch, tw, values).backward()
    assert w.grad is not None and tw.grad is not None
    assert w.grad.numpy().tobytes() == tw.grad.numpy().tobytes()


def test_sums_in_place_leave_the_gradients_others_hold_unchanged():
    # x is used three times; each use's gradient passes through an Add (which returns the same
    # tensor for both of its inputs) and is kept by a hook: summing in place must not change
    # them.
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    parts = []
    for scale in (1.0, 2.0, 4.0):
        part = x * scale
        part.register_hook(lambda g: seen.append(g) or None)
        parts.append(part)
    total = parts[0] + parts[1] + parts[2]
    total.backward(mt.tensor([1.0, 10.0]))
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 70.0])
    for g in seen:
        np.testing.assert_array_equal(g.numpy(), [1.0, 10.0])


def test_sums_in_place_into_a_node_gradient():
    # h feeds three ops: its gradient is the sum of three, then goes on through h's own op.
    x = mt.tensor([3.0], requires_grad=True)
    h = x * x
    y = h * 2.0 + h * 3.0 + h * 5.0
    y.backward()
    assert x.grad is not None
    assert x.grad.item() == 10.0 * 2 * 3.0


def test_create_graph_differentiates_through_the_sums():
    # f = w * w * w uses w three times (as three inputs); d2f/dw2 = 6 w.
    w = mt.tensor(2.0, dtype=mt.float64, requires_grad=True)
    f = w * w * w
    (g,) = mt.autograd.grad(f, w, create_graph=True)
    assert g.item() == 12.0
    (g2,) = mt.autograd.grad(g, w)
    assert g2.item() == 12.0


def test_grad_of_an_intermediate_and_unused_inputs():
    # autograd.grad runs only the nodes leading to its inputs, in the same order.
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    a = x * 3.0
    b = a * a
    c = mt.tensor([5.0], requires_grad=True)
    out = b.sum()
    ga, gx, gc = mt.autograd.grad(out, [a, x, c], allow_unused=True)
    np.testing.assert_array_equal(ga.numpy(), [6.0, 12.0])
    np.testing.assert_array_equal(gx.numpy(), [18.0, 36.0])
    assert gc is None
