"""SGD takes a 1-element tensor as its learning rate, as PyTorch does (and refuses a longer one),
and its update on the arrays keeps PyTorch's numbers and the version count."""

from typing import Any

import numpy as np
import pytest

import microtensor as mt

OPTIONS: list[dict[str, Any]] = [
    {}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    {"momentum": 0.5, "dampening": 0.2, "maximize": True}, {"fused": True}, {"foreach": True}]


def _run(lib, lr, options, dtype):
    """Three SGD steps on w = [1, 2] with the gradients [1, 0.3], [-2, 0.5], [0.25, 4]."""
    w = lib.tensor([1.0, 2.0], dtype=getattr(lib, dtype), requires_grad=True)
    opt = lib.optim.SGD([w], lr=lr, **options)
    for g in ([1.0, 0.3], [-2.0, 0.5], [0.25, 4.0]):
        w.grad = lib.tensor(g, dtype=getattr(lib, dtype))
        opt.step()
    return w.detach().numpy()


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lr", ["0-d", "1-element", "float64"])
def test_tensor_lr_as_pytorch(options, dtype, lr):
    torch = pytest.importorskip("torch")

    def make(lib):
        if lr == "0-d":
            return lib.tensor(0.1)
        if lr == "1-element":
            return lib.tensor([0.1])
        return lib.tensor(0.1, dtype=lib.float64)

    ours = _run(mt, make(mt), options, dtype)
    theirs = _run(torch, make(torch), options, dtype)
    assert ours.dtype == theirs.dtype
    # (PyTorch's add_ with alpha may round once, as a fused multiply-add, where NumPy rounds
    # the product and then the sum: the last bit can differ, with a float lr as well.)
    np.testing.assert_allclose(ours, theirs, rtol=2 * np.finfo(dtype).eps, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tensor_lr_gives_the_numbers_of_its_value(dtype):
    # grad 1 and lr 0.1: w = 1 - 0.1 = 0.9 (in float32), with or without momentum
    simple: list[dict[str, Any]] = [{}, {"momentum": 0.9}]
    for options in simple:
        w = mt.tensor([1.0], requires_grad=True)
        opt = mt.optim.SGD([w], lr=mt.tensor(0.1), **options)
        w.grad = mt.tensor([1.0])
        opt.step()
        assert w.item() == np.float32(0.9)
    # The update uses the tensor's value (a float32 0.1 is 0.100000001490116...), as PyTorch.
    for options in OPTIONS:
        with_tensor = _run(mt, mt.tensor(0.1), options, dtype)
        with_float = _run(mt, float(np.float32(0.1)), options, dtype)
        assert with_tensor.tobytes() == with_float.tobytes()


def test_tensor_lr_with_more_elements_is_refused():
    w = mt.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="^Tensor lr must be 1-element$"):
        mt.optim.SGD([w], lr=mt.tensor([0.1, 0.2]))
    opt = mt.optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="^Tensor lr must be 1-element$"):
        opt.add_param_group({"params": [mt.tensor([2.0], requires_grad=True)],
                             "lr": mt.tensor([0.1, 0.2])})


def test_a_negative_tensor_lr_is_refused_as_by_pytorch():
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (mt, torch):
        with pytest.raises(ValueError) as info:
            lib.optim.SGD([lib.tensor([1.0], requires_grad=True)], lr=lib.tensor(-0.1))
        messages.append(str(info.value))
    assert messages[0] == messages[1] == "Invalid learning rate: -0.10000000149011612"


def test_the_tensor_lr_stays_in_the_group():
    torch = pytest.importorskip("torch")
    lr = mt.tensor(0.1)
    w = mt.tensor([1.0], requires_grad=True)
    opt = mt.optim.SGD([w], lr=lr)
    w.grad = mt.tensor([1.0])
    opt.step()
    assert opt.param_groups[0]["lr"] is lr
    tw = torch.tensor([1.0], requires_grad=True)
    topt = torch.optim.SGD([tw], lr=torch.tensor(0.1))
    tw.grad = torch.tensor([1.0])
    topt.step()
    assert isinstance(topt.param_groups[0]["lr"], torch.Tensor)


def test_the_update_counts_one_version_per_parameter_and_refuses_a_stale_backward():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    opt = mt.optim.SGD([w], lr=0.5)
    y = (w * w).sum()  # Mul saves w
    w.grad = mt.tensor([1.0, 1.0])
    before = w._version
    opt.step()
    assert w._version == before + 1
    np.testing.assert_array_equal(w.detach().numpy(), [0.5, 1.5])
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_a_parameter_without_gradient_is_left_unchanged():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    v = mt.tensor([3.0], requires_grad=True)
    opt = mt.optim.SGD([w, v], lr=0.5)
    w.grad = mt.tensor([1.0, 1.0])
    opt.step()
    assert v._version == 0
    np.testing.assert_array_equal(v.detach().numpy(), [3.0])
    np.testing.assert_array_equal(w.detach().numpy(), [0.5, 1.5])


def test_a_compiled_step_reads_the_tensor_lr_at_every_call():
    # The replay calls SGD's own step for a tensor lr (its update lines are written for numbers):
    # an lr changed in place between calls is used, as in eager mode.
    def run(compiled):
        w = mt.tensor([1.0, -2.0], requires_grad=True)
        lr = mt.tensor(0.1)
        opt = mt.optim.SGD([w], lr=lr, momentum=0.5)

        def step(x):
            loss = ((w * x).sum() - 1.0) ** 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        fn = mt.compile(step) if compiled else step
        losses = []
        for i in range(6):
            lr.fill_(0.1 / (1 + i))
            losses.append(fn(mt.tensor([0.5, 1.0])).item())
        return losses, w.detach().numpy()

    (eager_losses, eager_w), (losses, w) = run(False), run(True)
    assert losses == eager_losses
    assert w.tobytes() == eager_w.tobytes()
