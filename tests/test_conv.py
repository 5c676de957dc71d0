"""Convolution, pooling, padding and interpolation: finite differences (first and second
derivatives, float64), hand-derived values, and PyTorch's numbers, modules and errors where
PyTorch is installed. The random comparisons over many settings are the fuzz rows of
tests/test_fuzz_torch.py."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn
from microtensor.autograd import gradcheck, gradgradcheck
from microtensor.nn import functional as F
from microtensor.ops.conv import Conv, ConvTranspose, ConvWeight
from microtensor.ops.pool import GatherFlat, MaxPool, ScatterFlat
from microtensor.ops.resample import ConstantPad, Resample

RNG = np.random.default_rng(0)


def t64(*shape: int, lo: float = -1.0, hi: float = 1.0) -> mt.Tensor:
    return mt.tensor(RNG.uniform(lo, hi, shape), dtype=mt.float64, requires_grad=True)


def distinct(*shape: int) -> mt.Tensor:
    """Values far apart (no ties within a finite-difference step: max pooling is smooth)."""
    values = RNG.permutation(math.prod(shape)).reshape(shape) / 7.0
    return mt.tensor(values, dtype=mt.float64, requires_grad=True)


# -- derivatives of the primitives, by finite differences -----------------------------------------

OP_CASES: list[tuple[str, Any, list[mt.Tensor]]] = [
    ("conv2d", lambda x, w, b: Conv.apply(x, w, b, stride=(2, 1), padding=((1, 2), (0, 1)),
                                          dilation=(1, 2), groups=2),
     [t64(2, 4, 5, 6), t64(4, 2, 2, 2), t64(4)]),
    ("conv1d", lambda x, w: Conv.apply(x, w, stride=(3,), padding=((2, 0),), dilation=(2,)),
     [t64(1, 2, 7), t64(3, 2, 3)]),
    ("conv_transpose2d", lambda x, w, b: ConvTranspose.apply(
        x, w, b, stride=(2, 3), padding=(1, 0), dilation=(1, 2), groups=1, size=(6, 9)),
     [t64(2, 3, 3, 2), t64(3, 2, 2, 2), t64(2)]),
    ("conv_weight", lambda x, g: ConvWeight.apply(x, g, stride=(2, 2), padding=(1, 1),
                                                  dilation=(1, 1), groups=2, kernel=(3, 2)),
     [t64(2, 4, 5, 5), t64(2, 2, 3, 4)]),
    ("max_pool2d", lambda x: MaxPool.apply(x, kernel=(2, 3), stride=(1, 2), padding=(1, 1),
                                           dilation=(2, 1), out=(4, 3)),
     [distinct(2, 2, 5, 5)]),
    ("scatter_gather", lambda x: GatherFlat.apply(ScatterFlat.apply(
        x, mt.tensor([[0, 2, 2], [1, 1, 3]]), size=(2, 2)), mt.tensor([[3, 2], [0, 0]]), nd=2),
     [t64(2, 3)]),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     [t64(2, 2, 6, 5)]),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (4, 3)), [t64(1, 2, 7, 5)]),
    ("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (4, 3)), [distinct(1, 2, 7, 5)]),
    ("bilinear", lambda x: F.interpolate(x, size=(5, 7), mode="bilinear"), [t64(1, 2, 3, 4)]),
    ("nearest", lambda x: F.interpolate(x, scale_factor=1.5), [t64(1, 2, 3, 4)]),
    ("reflect", lambda x: F.pad(x, (2, 1, 0, 3), mode="reflect"), [t64(1, 2, 4, 3)]),
    ("circular", lambda x: F.pad(x, (2, 1), mode="circular"), [t64(2, 3)]),
    ("constant_pad", lambda x: ConstantPad.apply(x, lo=(1, -1), hi=(-2, 2), value=0.5),
     [t64(2, 4, 3)]),
]


@pytest.mark.parametrize(("name", "fn", "inputs"), OP_CASES, ids=[c[0] for c in OP_CASES])
def test_gradcheck_and_gradgradcheck(name: str, fn: Any, inputs: list[mt.Tensor]) -> None:
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_resample_backward_is_its_adjoint() -> None:
    """<A x, y> = <x, A^T y> for the table ops, computed independently of autograd."""
    x = RNG.standard_normal((2, 3, 5, 4))
    specs = (("adaptive", 5, 3), ("linear", 4, 7, False, None))
    ax = Resample.apply(mt.tensor(x), specs=specs).numpy()
    y = RNG.standard_normal(ax.shape)
    aty = Resample.apply(mt.tensor(y), specs=specs, adjoint=True).numpy()
    assert np.isclose((ax * y).sum(), (x * aty).sum())


# -- hand-derived values ---------------------------------------------------------------------------

def test_conv2d_by_hand() -> None:
    x = mt.arange(16.0).reshape(1, 1, 4, 4)
    w = mt.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])  # x[i, j] - x[i + 1, j + 1] = -5 everywhere
    y = F.conv2d(x, w, mt.tensor([0.5]))
    np.testing.assert_array_equal(y.numpy(), np.full((1, 1, 3, 3), -4.5, np.float32))
    y = F.conv2d(x, w, stride=2, padding=1)  # x[r, c] - x[r + 1, c + 1], r, c in -1, 1, 3
    np.testing.assert_array_equal(y.numpy()[0, 0], [[0, -2, 0], [-8, -5, 7], [0, 13, 15]])


def test_conv_gradients_by_hand() -> None:
    x = mt.tensor([[[1.0, 2.0, 3.0, 4.0]]], requires_grad=True)
    w = mt.tensor([[[1.0, 10.0]]], requires_grad=True)
    F.conv1d(x, w).sum().backward()  # y_i = x_i + 10 x_{i+1}, i = 0, 1, 2
    np.testing.assert_array_equal(x.grad.numpy(), [[[1, 11, 11, 10]]])
    np.testing.assert_array_equal(w.grad.numpy(), [[[6, 9]]])


def test_pooling_by_hand() -> None:
    x = mt.tensor([[[1.0, 5.0, 2.0], [4.0, 3.0, 9.0], [0.0, 8.0, 7.0]]], requires_grad=True)
    values, indices = F.max_pool2d(x, 2, stride=1, return_indices=True)
    np.testing.assert_array_equal(values.detach().numpy(), [[[5, 9], [8, 9]]])
    np.testing.assert_array_equal(indices.numpy(), [[[1, 5], [7, 5]]])
    values.sum().backward()  # 9 wins twice: its gradient accumulates
    np.testing.assert_array_equal(x.grad.numpy(), [[[0, 1, 0], [0, 0, 2], [0, 1, 0]]])
    avg = F.avg_pool2d(x, 2, padding=1, count_include_pad=False)
    np.testing.assert_allclose(avg.detach().numpy(), [[[1, 3.5], [2, 6.75]]])
    ada = F.adaptive_avg_pool2d(x, (2, 1))  # rows [0, 2) and [1, 3): they overlap
    np.testing.assert_allclose(ada.detach().numpy(), [[[24 / 6], [31 / 6]]])


def test_pad_and_interpolate_by_hand() -> None:
    x = mt.tensor([[[1.0, 2.0, 3.0]]])
    assert F.pad(x, (2, 1), mode="reflect").tolist() == [[[3, 2, 1, 2, 3, 2]]]
    assert F.pad(x, (2, 1), mode="replicate").tolist() == [[[1, 1, 1, 2, 3, 3]]]
    assert F.pad(x, (2, 1), mode="circular").tolist() == [[[2, 3, 1, 2, 3, 1]]]
    assert F.pad(x, (1, -2), value=7).tolist() == [[[7, 1]]]
    assert F.interpolate(x, scale_factor=2).tolist() == [[[1, 1, 2, 2, 3, 3]]]
    up = F.interpolate(x, size=5, mode="linear", align_corners=True)
    np.testing.assert_allclose(up.numpy(), [[[1, 1.5, 2, 2.5, 3]]])
    up = F.interpolate(x, size=6, mode="linear")  # sources max((i + 0.5) / 2 - 0.5, 0)
    np.testing.assert_allclose(up.numpy(), [[[1, 1.25, 1.75, 2.25, 2.75, 3]]])


# -- modules ---------------------------------------------------------------------------------------

def test_conv_module_parameters_and_init() -> None:
    mt.manual_seed(0)
    conv = nn.Conv2d(6, 8, (3, 5), groups=2)
    assert conv.weight.shape == (8, 3, 3, 5) and conv.bias.shape == (8,)
    assert list(conv.state_dict()) == ["weight", "bias"]
    bound = 1 / math.sqrt(3 * 15)  # kaiming_uniform_(a=sqrt(5)) and the bias: 1/sqrt(fan_in)
    assert conv.weight.abs().max().item() <= bound and conv.bias.abs().max().item() <= bound
    assert conv.weight.std().item() > bound / 3
    t = nn.ConvTranspose2d(4, 6, 3, groups=2, bias=False)
    assert t.weight.shape == (4, 3, 3, 3) and t.bias is None
    assert list(t.state_dict()) == ["weight"]
    assert conv.weight.dtype == mt.float32
    assert nn.Conv1d(2, 2, 3, dtype=mt.float64).weight.dtype == mt.float64


def test_module_errors() -> None:
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="strided convolutions"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")


def test_conv_of_integers_and_float32() -> None:
    x = mt.arange(12).reshape(1, 1, 3, 4)
    y = F.conv2d(x, mt.ones(1, 1, 2, 2, dtype=mt.int64))
    assert y.dtype == mt.int64 and y.tolist() == [[[[10, 14, 18], [26, 30, 34]]]]
    assert F.conv2d(x.float(), mt.ones(1, 1, 2, 2)).dtype == mt.float32
    with pytest.raises(NotImplementedError, match="avg_pool2d"):
        F.avg_pool2d(x, 2)


def test_the_graph_names_the_ops() -> None:
    x = mt.randn(1, 1, 6, 6, requires_grad=True)
    y = F.max_pool2d(F.conv2d(x, mt.randn(2, 1, 3, 3)), 2)
    assert y.grad_fn.name() == "MaxPoolBackward"
    assert y.grad_fn.inputs[0].grad_fn.name() == "ConvBackward"


# -- against PyTorch -------------------------------------------------------------------------------

def _torch() -> Any:
    return pytest.importorskip("torch")


def _same(a: mt.Tensor, b: Any, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


def _copy_params(src: Any, dst: nn.Module) -> None:
    with mt.no_grad():
        for (name, p), (tname, q) in zip(dst.named_parameters(), src.named_parameters(),
                                         strict=True):
            assert name == tname and tuple(p.shape) == tuple(q.shape)
            p.copy_(mt.tensor(q.detach().numpy()))


MODULES = [
    ("Conv2d", (3, 4, 3), {"stride": 2, "padding": 1}, (2, 3, 9, 8)),
    ("Conv2d", (4, 6, (2, 3)), {"padding": "same", "dilation": 2, "groups": 2}, (2, 4, 7, 7)),
    ("Conv2d", (3, 4, 3), {"padding": (1, 2), "padding_mode": "reflect"}, (2, 3, 5, 6)),
    ("Conv2d", (3, 4, 4), {"padding": "same", "padding_mode": "circular"}, (3, 6, 6)),
    ("Conv2d", (3, 2, 3), {"padding": 2, "padding_mode": "replicate", "bias": False},
     (1, 3, 4, 4)),
    ("Conv1d", (2, 3, 4), {"padding": "same"}, (2, 2, 9)),
    ("Conv1d", (2, 4, 3), {"stride": 2, "groups": 2, "padding_mode": "reflect", "padding": 1},
     (2, 7)),
    ("ConvTranspose2d", (4, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1},
     (2, 4, 5, 4)),
    ("ConvTranspose1d", (4, 6, 2), {"stride": 3, "groups": 2, "dilation": 2}, (2, 4, 5)),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 8, 7)),
    ("MaxPool1d", (2,), {"dilation": 2}, (2, 3, 9)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, (2, 3, 8, 7)),
    ("AvgPool1d", (2,), {"ceil_mode": True}, (2, 3, 9)),
    ("AdaptiveAvgPool2d", ((5, None),), {}, (2, 3, 8, 7)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveMaxPool2d", ((5, None),), {}, (2, 3, 8, 7)),
    ("AdaptiveMaxPool1d", (4,), {}, (3, 9)),
    ("Upsample", (), {"scale_factor": 2, "mode": "bilinear", "align_corners": False},
     (2, 3, 4, 5)),
    ("Upsample", (), {"size": (7, 3)}, (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", (), {"size": (7, 3)}, (1, 2, 4, 5)),
    ("ReflectionPad2d", ((1, 2, 0, 3),), {}, (2, 3, 4, 5)),
    ("ReplicationPad1d", (2,), {}, (2, 3, 4)),
    ("ZeroPad2d", (1,), {}, (2, 4, 5)),
    ("ConstantPad1d", ((1, -1), 2.5), {}, (2, 3, 4)),
    ("CircularPad2d", (1,), {}, (1, 2, 3, 3)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")  # PyTorch's, on its copy
@pytest.mark.parametrize(("name", "args", "kwargs", "shape"), MODULES,
                         ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_modules_match_torch(name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                             shape: tuple[int, ...]) -> None:
    torch = _torch()
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    _copy_params(theirs, ours)
    x = RNG.standard_normal(shape).astype(np.float32)
    xm, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ym, yt = ours(xm), theirs(xt)
    _same(ym, yt)
    up = RNG.standard_normal(tuple(yt.shape)).astype(np.float32)
    (ym * mt.tensor(up)).sum().backward()
    (yt * torch.tensor(up)).sum().backward()
    _same(xm.grad, xt.grad)
    for (_, p), q in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        _same(p.grad, q.grad, rtol=1e-4, atol=1e-5)


def test_conv_transpose_output_size_matches_torch() -> None:
    torch = _torch()
    ours, theirs = nn.ConvTranspose2d(3, 2, 3, stride=2), torch.nn.ConvTranspose2d(3, 2, 3,
                                                                                   stride=2)
    _copy_params(theirs, ours)
    x = RNG.standard_normal((1, 3, 4, 4)).astype(np.float32)
    _same(ours(mt.tensor(x), output_size=(10, 9)),
          theirs(torch.tensor(x), output_size=(10, 9)))
    with pytest.raises(ValueError, match="valid sizes range from"):
        ours(mt.tensor(x), output_size=(11, 9))


def test_max_pool_nan_and_inf_as_torch() -> None:
    """PyTorch's rule: the last NaN of a window wins; an all -inf window points at its first
    element inside the input (not at the padding)."""
    torch = _torch()
    x = np.array([[[1.0, np.nan, 3.0, np.nan, 0.0, -np.inf, -np.inf, 2.0]]])
    for kwargs in ({"kernel_size": 4, "stride": 2, "padding": 1},
                   {"kernel_size": 3, "stride": 1, "padding": 1, "dilation": 1}):
        ym, im = F.max_pool1d(mt.tensor(x), return_indices=True, **kwargs)
        yt, it = torch.nn.functional.max_pool1d(torch.tensor(x), return_indices=True, **kwargs)
        np.testing.assert_array_equal(ym.numpy(), yt.numpy())
        np.testing.assert_array_equal(im.numpy(), it.numpy())
    x = np.full((1, 1, 3, 3), -np.inf)
    ym, im = F.max_pool2d(mt.tensor(x), 2, padding=1, return_indices=True)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), 2, padding=1, return_indices=True)
    np.testing.assert_array_equal(im.numpy(), it.numpy())


ERRORS = [
    ("conv2d", lambda m, x: m.nn.functional.conv2d(x[0, 0], m.ones(4, 3, 3, 3))),
    ("conv2d", lambda m, x: m.nn.functional.conv2d(x, m.ones(4, 2, 3, 3))),
    ("conv2d", lambda m, x: m.nn.functional.conv2d(x, m.ones(4, 3, 9, 9))),
    ("conv2d", lambda m, x: m.nn.functional.conv2d(x, m.ones(3, 1, 3, 3), groups=2)),
    ("conv2d", lambda m, x: m.nn.functional.conv2d(x, m.ones(4, 3, 3, 3), m.ones(3))),
    ("conv2d", lambda m, x: m.nn.functional.conv2d(x, m.ones(4, 3, 3, 3), stride=0)),
    ("conv2d", lambda m, x: m.nn.functional.conv2d(x, m.ones(4, 3, 3, 3), padding="full")),
    ("conv2d", lambda m, x: m.nn.functional.conv2d(x, m.ones(4, 3, 3, 3), stride=2,
                                                   padding="same")),
    ("conv2d", lambda m, x: m.nn.functional.conv2d(x.double(), m.ones(4, 3, 3, 3))),
    ("conv_transpose2d", lambda m, x: m.nn.functional.conv_transpose2d(
        x, m.ones(3, 2, 3, 3), output_padding=1)),
    ("max_pool2d", lambda m, x: m.nn.functional.max_pool2d(x, 3, padding=2)),
    ("max_pool2d", lambda m, x: m.nn.functional.max_pool2d(x, 9)),
    ("max_pool2d", lambda m, x: m.nn.functional.max_pool2d(x, 2, stride=0)),
    ("avg_pool2d", lambda m, x: m.nn.functional.avg_pool2d(x, 2, divisor_override=0)),
    ("adaptive_avg_pool2d", lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, (1, 2, 3))),
    ("pad", lambda m, x: m.nn.functional.pad(x, (1, 2, 3))),
    ("pad", lambda m, x: m.nn.functional.pad(x, (8, 8), mode="reflect")),
    ("pad", lambda m, x: m.nn.functional.pad(x, (1, 1), mode="reflect", value=1.0)),
    ("interpolate", lambda m, x: m.nn.functional.interpolate(x, size=4, scale_factor=2)),
    ("interpolate", lambda m, x: m.nn.functional.interpolate(x, size=4, mode="linear")),
    ("interpolate", lambda m, x: m.nn.functional.interpolate(x, size=4, align_corners=True)),
]


@pytest.mark.parametrize(("name", "fn"), ERRORS, ids=[f"{e[0]}-{i}" for i, e in
                                                       enumerate(ERRORS)])
def test_errors_as_torch(name: str, fn: Any) -> None:
    torch = _torch()
    x = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)
    with pytest.raises(Exception) as theirs:  # noqa: PT011 - the type is compared below
        fn(torch, torch.tensor(x))
    with pytest.raises(type(theirs.value)) as ours:
        fn(mt, mt.tensor(x))
    # The first words of PyTorch's message (ours may add a hint after them).
    assert str(ours.value)[:25] == str(theirs.value)[:25] or name in str(ours.value)


def _lenet(lib: Any) -> Any:
    n = lib.nn
    return n.Sequential(n.Conv2d(1, 6, 5), n.ReLU(), n.MaxPool2d(2), n.Conv2d(6, 16, 5),
                        n.ReLU(), n.MaxPool2d(2), n.Flatten(), n.Linear(256, 120), n.ReLU(),
                        n.Linear(120, 84), n.ReLU(), n.Linear(84, 10))


def test_lenet_training_matches_torch() -> None:
    """Ten SGD steps of LeNet from the same weights: the same losses as PyTorch."""
    torch = _torch()
    theirs = _lenet(torch).double()
    ours = _lenet(mt)
    ours = nn.Sequential(*[m for m in ours])
    for p in ours.parameters():
        p.data = p.data.double()
    _copy_params(theirs, ours)
    x = RNG.standard_normal((8, 1, 28, 28))
    y = RNG.integers(0, 10, 8)
    losses = []
    for lib, model in ((mt, ours), (torch, theirs)):
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        xs, ys, run = lib.tensor(x), lib.tensor(y), []
        for _ in range(10):
            loss = lib.nn.functional.cross_entropy(model(xs), ys)
            opt.zero_grad()
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-9)


def test_second_derivatives_match_torch() -> None:
    """A gradient penalty (the norm of d loss / d input) differentiated again, as in WGAN-GP."""
    torch = _torch()
    x = RNG.standard_normal((2, 2, 6, 6))
    w = RNG.standard_normal((3, 2, 3, 3))
    results = []
    for lib in (mt, torch):
        xs, ws = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        f = lib.nn.functional
        out = f.avg_pool2d(f.max_pool2d(f.conv2d(xs, ws, padding=1).tanh(), 2), 1)
        (gx,) = lib.autograd.grad(f.interpolate(out, scale_factor=2).sum(), xs,
                                  create_graph=True)
        (gx * gx).sum().backward()
        results.append((xs.grad.numpy(), ws.grad.numpy()))
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
