"""nn layers of issue 10: BatchNorm1d/2d, LayerNorm, Embedding, the new activations, PReLU,
ModuleDict/ParameterList/ParameterDict, scaled_dot_product_attention and cross-entropy options.

Modules are compared with PyTorch by copying the weights (through NumPy arrays) and running
the same batches in both; the functional forms are also in the fuzz table
(tests/test_fuzz_torch.py). The first derivatives and second derivatives of the new ops are
checked against finite differences in float64 without PyTorch.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn
from microtensor.autograd import gradcheck, gradgradcheck
from microtensor.nn import functional as F


@pytest.fixture
def torch() -> Any:
    return pytest.importorskip("torch")


def _np(t: Any) -> np.ndarray:
    return np.array(t.detach().numpy(), copy=True)


def _copy_params(src: Any, dst: nn.Module, torch: Any) -> None:
    """Copy every parameter and buffer of the PyTorch module ``src`` into ``dst``."""
    state = {k: mt.tensor(_np(v)) for k, v in src.state_dict().items()}
    dst.load_state_dict(state)


def _close(a: Any, b: Any, rtol: float = 1e-6, atol: float = 1e-6) -> None:
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------------------------
# BatchNorm
# ----------------------------------------------------------------------------------------------

BN_CASES = [
    ("BatchNorm1d", (6, 3), {}),
    ("BatchNorm1d", (4, 3, 5), {"momentum": 0.5}),
    ("BatchNorm1d", (4, 3, 5), {"momentum": None}),
    ("BatchNorm1d", (5, 3), {"affine": False}),
    ("BatchNorm1d", (5, 3), {"bias": False}),
    ("BatchNorm2d", (3, 3, 4, 2), {}),
    ("BatchNorm2d", (3, 3, 4, 2), {"momentum": None, "eps": 1e-3}),
    ("BatchNorm2d", (2, 3, 2, 2), {"track_running_stats": False}),
]


@pytest.mark.parametrize(("cls", "shape", "kwargs"), BN_CASES)
def test_batchnorm_training_steps_and_eval_match_torch(torch: Any, cls: str,
                                                        shape: tuple[int, ...],
                                                        kwargs: dict[str, Any]) -> None:
    rng = np.random.default_rng(0)
    ours, theirs = getattr(nn, cls)(3, **kwargs).double(), getattr(torch.nn, cls)(3, **kwargs)
    theirs = theirs.double()
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(rng.uniform(0.5, 2, 3)))
            if theirs.bias is not None:
                theirs.bias.copy_(torch.tensor(rng.standard_normal(3)))
    _copy_params(theirs, ours, torch)
    for step in range(4):
        x = rng.standard_normal(shape) * (step + 1) + step
        g = rng.standard_normal(shape)
        xt, xm = torch.tensor(x, requires_grad=True), mt.tensor(x, requires_grad=True)
        yt, ym = theirs(xt), ours(xm)
        _close(ym, yt, 1e-10, 1e-12)
        (yt * torch.tensor(g)).sum().backward()
        (ym * mt.tensor(g)).sum().backward()
        _close(xm.grad, xt.grad, 1e-9, 1e-12)
        for (n, pt), (_, pm) in zip(theirs.named_parameters(), ours.named_parameters(),
                                    strict=True):
            _close(pm.grad, pt.grad, 1e-9, 1e-12)
            assert n in ("weight", "bias")
        for (n, bt), (m, bm) in zip(theirs.named_buffers(), ours.named_buffers(), strict=True):
            assert n == m and str(bm.dtype) == str(bt.dtype).removeprefix("torch.")
            _close(bm, bt, 1e-12, 1e-12)
    theirs.eval()
    ours.eval()
    x = rng.standard_normal(shape)
    _close(ours(mt.tensor(x)), theirs(torch.tensor(x)), 1e-10, 1e-12)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)


def test_batchnorm_float32_default_matches_torch(torch: Any) -> None:
    rng = np.random.default_rng(1)
    ours, theirs = nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)
    for _ in range(3):
        x = rng.standard_normal((8, 4, 3, 3)).astype(np.float32)
        ym, yt = ours(mt.tensor(x)), theirs(torch.tensor(x))
        assert ym.dtype == mt.float32
        _close(ym, yt, 1e-5, 1e-5)
    _close(ours.running_mean, theirs.running_mean, 1e-5, 1e-6)
    _close(ours.running_var, theirs.running_var, 1e-5, 1e-6)
    assert ours.num_batches_tracked.dtype == mt.int64
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 3


def test_batchnorm_state_dict_round_trip_through_numpy(torch: Any) -> None:
    theirs = torch.nn.BatchNorm1d(3)
    theirs(torch.randn(10, 3) * 3 + 1)
    ours = nn.BatchNorm1d(3)
    ours.load_state_dict({k: mt.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert ours.num_batches_tracked.item() == 1 and ours.num_batches_tracked.dtype == mt.int64
    back = torch.nn.BatchNorm1d(3)
    back.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                          for k, v in ours.state_dict().items()})
    theirs.eval()
    back.eval()
    x = torch.randn(4, 3)
    assert torch.equal(theirs(x), back(x))


def test_batchnorm_errors_are_torchs(torch: Any) -> None:
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                         r"training, got input size microtensor.Size\(\[1, 3\]\)"):
        bn(mt.randn(1, 3))
    assert bn.num_batches_tracked.item() == 1  # counted before the check, as in PyTorch
    bn.eval()
    assert bn(mt.randn(1, 3)).shape == (1, 3)  # evaluation takes a batch of 1
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        bn(mt.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(mt.randn(2, 3, 4))
    with pytest.raises(RuntimeError, match="running_mean should contain 4 elements not 3"):
        nn.BatchNorm1d(3)(mt.randn(2, 4))
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(mt.randn(2, 3), None, None, training=False)
    with pytest.raises(RuntimeError, match="running_var must be defined in evaluation mode"):
        F.batch_norm(mt.randn(2, 3), mt.zeros(3), None, training=False)
    with pytest.raises(ValueError, match="running_mean and running_var must either both be "
                                         "None or neither be None"):
        F.batch_norm(mt.randn(2, 3), mt.zeros(3), None, training=True)
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 4"):
        F.batch_norm(mt.randn(2, 3), None, None, mt.ones(4), training=True)
    with pytest.raises(RuntimeError, match="mixed dtype"):
        F.batch_norm(mt.randn(2, 3, dtype=mt.float64), mt.zeros(3), mt.ones(3), training=True)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.batch_norm(mt.ones(2, 3, dtype=mt.int64), None, None, training=True)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument "
                                           "'running_mean'"):
        F.batch_norm(mt.randn(2, 3), mt.zeros(3, requires_grad=True), mt.ones(3))


def test_batchnorm_of_an_empty_batch_keeps_the_statistics(torch: Any) -> None:
    bn = nn.BatchNorm1d(3)
    x = mt.zeros(0, 3, requires_grad=True)
    y = bn(x)
    y.sum().backward()
    assert y.shape == (0, 3) and x.grad.shape == (0, 3)
    assert bn.running_mean.tolist() == [0, 0, 0] and bn.running_var.tolist() == [1, 1, 1]
    assert bn.num_batches_tracked.item() == 1


def test_batch_norm_updates_running_statistics_by_hand() -> None:
    # r = (1 - m) r + m s, with the unbiased variance for r_var: values derived by hand.
    x = mt.tensor([[1.0, 2.0], [3.0, 6.0]])
    rm, rv = mt.zeros(2), mt.ones(2)
    y = F.batch_norm(x, rm, rv, training=True, momentum=0.5)
    np.testing.assert_allclose(rm.numpy(), [1.0, 2.0])         # 0.5 * mean (2, 4)
    np.testing.assert_allclose(rv.numpy(), [1.5, 4.5])         # 0.5 * 1 + 0.5 * (2, 8)
    np.testing.assert_allclose(y.numpy(), [[-1, -1], [1, 1]], atol=1e-5)


def test_batch_norm_and_layer_norm_second_derivatives() -> None:
    rng = np.random.default_rng(2)
    x = mt.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    w = mt.tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    b = mt.tensor(rng.standard_normal(3), requires_grad=True)

    def bn(x: mt.Tensor, w: mt.Tensor, b: mt.Tensor) -> mt.Tensor:
        return F.batch_norm(x, None, None, w, b, training=True, eps=1e-3)

    assert gradcheck(bn, [x, w, b])
    assert gradgradcheck(bn, [x, w, b])
    lw = mt.tensor(rng.uniform(0.5, 2, (3, 2)), requires_grad=True)
    lb = mt.tensor(rng.standard_normal((3, 2)), requires_grad=True)

    def ln(x: mt.Tensor, w: mt.Tensor, b: mt.Tensor) -> mt.Tensor:
        return F.layer_norm(x, (3, 2), w, b, eps=1e-3)

    assert gradcheck(ln, [x, lw, lb])
    assert gradgradcheck(ln, [x, lw, lb])
    rm, rv = mt.tensor(rng.standard_normal(3)), mt.tensor(rng.uniform(0.5, 2, 3))
    assert gradgradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b), [x, w, b])


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2), (2, 3, 2, 3)])
@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
@pytest.mark.parametrize("which", ["batch_norm", "layer_norm"])
def test_plain_and_create_graph_backwards_both_match_torch(torch: Any, shape: tuple[int, ...],
                                                           affine: str, which: str) -> None:
    """The plain backward (NumPy) and the create_graph one (Tensor ops) give PyTorch's
    gradients for every combination of weight and bias."""
    rng = np.random.default_rng(10)
    pshape = (3,) if which == "batch_norm" else shape[1:]
    arrays = {"x": rng.standard_normal(shape), "g": rng.standard_normal(shape),
              "w": rng.uniform(0.5, 2, pshape), "b": rng.standard_normal(pshape)}

    def run(lib: Any, create_graph: bool) -> list[np.ndarray]:
        x = lib.tensor(arrays["x"], requires_grad=True)
        w = lib.tensor(arrays["w"], requires_grad=True) if affine in ("weight", "both") else None
        b = lib.tensor(arrays["b"], requires_grad=True) if affine in ("bias", "both") else None
        f = lib.nn.functional
        y = (f.batch_norm(x, None, None, w, b, training=True) if which == "batch_norm"
             else f.layer_norm(x, pshape, w, b))
        leaves = [t for t in (x, w, b) if t is not None]
        grads = lib.autograd.grad((y * lib.tensor(arrays["g"])).sum(), leaves,
                                  create_graph=create_graph)
        return [_np(y)] + [_np(t) for t in grads]

    want = run(torch, False)
    for create_graph in (False, True):
        for a, b in zip(run(mt, create_graph), want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


# ----------------------------------------------------------------------------------------------
# LayerNorm
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("shape", "kwargs"), [
    (4, {}), ((3, 4), {}), ([4], {"elementwise_affine": False}), (4, {"bias": False}),
    ((2, 3, 4), {"eps": 1e-2}),
])
def test_layernorm_matches_torch(torch: Any, shape: Any, kwargs: dict[str, Any]) -> None:
    rng = np.random.default_rng(3)
    ours, theirs = nn.LayerNorm(shape, **kwargs).double(), torch.nn.LayerNorm(shape, **kwargs)
    theirs = theirs.double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape))))
    _copy_params(theirs, ours, torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    x = rng.standard_normal((2, 3, 4))
    g = rng.standard_normal((2, 3, 4))
    xt, xm = torch.tensor(x, requires_grad=True), mt.tensor(x, requires_grad=True)
    (theirs(xt) * torch.tensor(g)).sum().backward()
    (ours(xm) * mt.tensor(g)).sum().backward()
    _close(ours(xm), theirs(xt), 1e-10, 1e-12)
    _close(xm.grad, xt.grad, 1e-9, 1e-12)
    for pm, pt in zip(ours.parameters(), theirs.parameters(), strict=True):
        _close(pm.grad, pt.grad, 1e-9, 1e-12)


def test_layer_norm_errors_are_torchs() -> None:
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[3, 4\], expected input "
                                           r"with shape \[\*, 3, 4\], but got input of "
                                           r"size\[2, 4, 3\]"):
        nn.LayerNorm([3, 4])(mt.randn(2, 4, 3))
    with pytest.raises(TypeError, match="must be tuple of ints, not int"):
        F.layer_norm(mt.randn(2, 3), 3)
    with pytest.raises(RuntimeError, match=r"Expected weight to be of same shape as "
                                           r"normalized_shape, but got weight of shape \[2\]"):
        F.layer_norm(mt.randn(2, 3), (3,), mt.ones(2))
    with pytest.raises(RuntimeError, match="at least 1-dimensional"):
        F.layer_norm(mt.randn(2, 3), ())


# ----------------------------------------------------------------------------------------------
# Embedding
# ----------------------------------------------------------------------------------------------

def test_embedding_with_padding_idx_matches_torch(torch: Any) -> None:
    theirs = torch.nn.Embedding(6, 3, padding_idx=2)
    ours = nn.Embedding(6, 3, padding_idx=2)
    assert ours.weight[2].tolist() == [0.0, 0.0, 0.0]  # the padding row starts at 0
    assert repr(ours) == repr(theirs)
    with torch.no_grad():
        theirs.weight[2] = torch.tensor([1.0, -2.0, 3.0])  # padding values are still looked up
    _copy_params(theirs, ours, torch)
    idx = np.array([[0, 2, 2], [5, 2, 0]])
    g = np.random.default_rng(4).standard_normal((2, 3, 3)).astype(np.float32)
    yt, ym = theirs(torch.tensor(idx)), ours(mt.tensor(idx))
    _close(ym, yt, 0, 0)
    (yt * torch.tensor(g)).sum().backward()
    (ym * mt.tensor(g)).sum().backward()
    _close(ours.weight.grad, theirs.weight.grad, 1e-6, 1e-6)
    assert ours.weight.grad[2].tolist() == [0.0, 0.0, 0.0]
    assert list(ours.state_dict()) == ["weight"]


def test_embedding_scale_grad_by_freq_and_negative_padding_idx_match_torch(torch: Any) -> None:
    w = np.random.default_rng(5).standard_normal((5, 2))
    idx = np.array([1, 1, 1, 3, 4, 4])
    wt, wm = torch.tensor(w, requires_grad=True), mt.tensor(w, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(idx), wt, padding_idx=-1,
                                  scale_grad_by_freq=True).sum().backward()
    F.embedding(mt.tensor(idx), wm, padding_idx=-1, scale_grad_by_freq=True).sum().backward()
    _close(wm.grad, wt.grad, 1e-12, 1e-12)
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4


def test_embedding_from_pretrained_shares_and_freezes(torch: Any) -> None:
    w = mt.randn(4, 2)
    emb = nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad and emb.weight.numpy() is not None
    w.data[0, 0] = 42.0
    assert emb.weight[0, 0].item() == 42.0  # shares the memory, as in PyTorch
    assert repr(emb) == "Embedding(4, 2)"
    free = nn.Embedding.from_pretrained(w, freeze=False, padding_idx=1)
    assert free.weight.requires_grad and free.weight[1].abs().sum().item() > 0
    free(mt.tensor([1, 0])).sum().backward()
    assert free.weight.grad.tolist()[1] == [0.0, 0.0] and free.weight.grad.tolist()[0] == [1, 1]
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be "
                                             "2-dimensional"):
        nn.Embedding.from_pretrained(mt.randn(4))


def test_embedding_errors_are_torchs() -> None:
    emb = nn.Embedding(5, 3)
    with pytest.raises(IndexError, match="index out of range in self"):
        emb(mt.tensor([5]))
    with pytest.raises(IndexError, match="index out of range in self"):
        emb(mt.tensor([-1]))
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices' to have "
                                           "one of the following scalar types: Long, Int"):
        emb(mt.tensor([1.0]))
    assert emb(mt.tensor([1], dtype=mt.int32)).shape == (1, 3)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 3, padding_idx=5)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 3, padding_idx=-6)
    with pytest.raises(NotImplementedError, match="max_norm is not supported"):
        nn.Embedding(5, 3, max_norm=1.0)
    with pytest.raises(NotImplementedError, match="sparse=True is not supported"):
        F.embedding(mt.tensor([1]), mt.randn(5, 3), sparse=True)
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        F.embedding(mt.tensor([1]), mt.randn(5))


# ----------------------------------------------------------------------------------------------
# Activations
# ----------------------------------------------------------------------------------------------

ACTIVATIONS = [
    ("ELU", (), {}), ("ELU", (0.5, True), {}), ("SiLU", (), {}), ("SiLU", (True,), {}),
    ("Mish", (), {}), ("Hardtanh", (), {}), ("Hardtanh", (-2, 2), {}), ("ReLU6", (), {}),
    ("ReLU6", (True,), {}), ("Softsign", (), {}), ("Hardsigmoid", (), {}),
    ("Hardswish", (), {}), ("PReLU", (), {}), ("PReLU", (3, 0.1), {}),
]


@pytest.mark.parametrize(("cls", "args", "kwargs"), ACTIVATIONS)
def test_activation_modules_match_torch(torch: Any, cls: str, args: tuple[Any, ...],
                                        kwargs: dict[str, Any]) -> None:
    ours, theirs = getattr(nn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.concatenate([np.linspace(-7, 7, 29), [-3.0, 3.0, 0.0, 6.0]]).astype(np.float32)
    x = x.reshape(11, 3)
    xt, xm = torch.tensor(x, requires_grad=True), mt.tensor(x, requires_grad=True)
    yt, ym = theirs(xt * 1), ours(xm * 1)  # (not leaves: PyTorch's inplace=True changes them)
    _close(ym, yt, 1e-6, 1e-6)
    yt.sum().backward()
    ym.sum().backward()
    _close(xm.grad, xt.grad, 1e-5, 1e-6)
    for pm, pt in zip(ours.parameters(), theirs.parameters(), strict=True):
        _close(pm.grad, pt.grad, 1e-5, 1e-5)


def test_activation_errors_are_torchs() -> None:
    with pytest.raises(AssertionError, match=r"max_val \(1\) must be greater than min_val "
                                             r"\(2\)"):
        nn.Hardtanh(2, 1)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(mt.tensor([1.0]), 2, 1)
    with pytest.raises(NotImplementedError, match="\"elu_cpu\" not implemented for 'Long'"):
        F.elu(mt.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel "
                                           "size. Found parameter numbers = 3 and channel "
                                           "size = 4."):
        nn.PReLU(3)(mt.randn(2, 4))
    assert F.hardtanh(mt.tensor([1, 5, -3])).tolist() == [1, 1, -1]  # ints stay ints
    assert F.relu6(mt.tensor([1, 7, -3])).dtype == mt.int64


def test_activation_values_and_gradients_by_hand() -> None:
    x = mt.tensor([-3.0, 0.0, 3.0], dtype=mt.float64, requires_grad=True)
    F.hardswish(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.5, 1.0]  # PyTorch's choice at the joins
    y = mt.tensor([-1.0, 0.0, 1.0], dtype=mt.float64, requires_grad=True)
    F.hardtanh(y).sum().backward()
    assert y.grad.tolist() == [0.0, 1.0, 0.0]  # 0 at the bounds, unlike clamp
    np.testing.assert_allclose(F.elu(mt.tensor([-1.0]), alpha=2.0).numpy(),
                               [2 * (np.exp(-1) - 1)], rtol=1e-6)
    z = mt.tensor([-2.0, -0.5, 0.5, 2.0, 4.0], dtype=mt.float64, requires_grad=True)
    for f in (F.elu, F.silu, F.mish, F.softsign, F.hardswish):
        assert gradcheck(f, [z]) and gradgradcheck(f, [z])
    assert gradcheck(F.hardsigmoid, [z]) and gradcheck(F.hardtanh, [z])
    w = mt.tensor([0.1, -0.3], dtype=mt.float64, requires_grad=True)
    u = mt.tensor([[-1.0, 2.0], [0.5, -0.7]], dtype=mt.float64, requires_grad=True)
    assert gradcheck(F.prelu, [u, w]) and gradgradcheck(F.prelu, [u, w])


# ----------------------------------------------------------------------------------------------
# Containers
# ----------------------------------------------------------------------------------------------

def test_module_dict_matches_torch(torch: Any) -> None:
    ours = nn.ModuleDict({"b": nn.Linear(2, 2), "a": nn.ReLU()})
    theirs = torch.nn.ModuleDict({"b": torch.nn.Linear(2, 2), "a": torch.nn.ReLU()})
    assert repr(ours) == repr(theirs) and list(ours) == list(theirs) == ["b", "a"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for d, lib in ((ours, nn), (theirs, torch.nn)):
        d["c"] = lib.Tanh()
        d.pop("a")
        d.update([("z", lib.Sigmoid())])
    assert list(ours.keys()) == list(theirs.keys()) == ["b", "c", "z"]
    assert "c" in ours and len(ours) == 3 and repr(ours) == repr(theirs)
    assert [type(m).__name__ for m in ours.values()] == ["Linear", "Tanh", "Sigmoid"]
    with pytest.raises(KeyError):
        ours["nope"]
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        nn.ModuleDict({"x": 3})
    ours.clear()
    assert len(ours) == 0 and repr(ours) == "ModuleDict()"


def test_parameter_list_matches_torch(torch: Any) -> None:
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal(3)
    ours = nn.ParameterList([nn.Parameter(mt.tensor(a)), mt.tensor(b)])
    theirs = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(a)), torch.tensor(b)])
    assert isinstance(ours[1], nn.Parameter) and ours[1].requires_grad
    ours.append(mt.zeros(2))
    theirs.append(torch.zeros(2))
    ours.extend([3])
    theirs.extend([3])
    assert repr(ours) == repr(theirs).replace("torch.", "microtensor.")
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0", "1", "2"]
    assert len(ours) == 4 and ours[-1] == 3 and ours[3] == 3
    assert [tuple(p.shape) for p in ours[:3]] == [(2, 3), (3,), (2,)]
    with pytest.raises(IndexError):
        ours[10]
    with pytest.raises(TypeError):
        ours["a"]


def test_parameter_dict_matches_torch(torch: Any) -> None:
    ours = nn.ParameterDict({"w": nn.Parameter(mt.randn(2)), "b": mt.zeros(3)})
    theirs = torch.nn.ParameterDict({"w": torch.nn.Parameter(torch.randn(2)),
                                     "b": torch.zeros(3)})
    assert list(ours) == list(theirs) == ["b", "w"]  # a plain dict is taken in sorted order
    assert repr(ours) == repr(theirs).replace("torch.", "microtensor.")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ordered = nn.ParameterDict(OrderedDict([("z", mt.ones(1)), ("a", mt.ones(1))]))
    assert list(ordered) == ["z", "a"]
    assert isinstance(ours["b"], nn.Parameter)
    assert tuple(ours.pop("w").shape) == (2,) and list(ours.keys()) == ["b"]
    assert ours.get("q") is None and "b" in ours and len(ours) == 1
    ours.update({"c": mt.ones(2)})
    assert [k for k, _ in ours.items()] == ["b", "c"]
    assert ours.setdefault("d", mt.ones(1)).shape == (1,)
    assert ours.popitem()[0] == "d"
    with pytest.raises(TypeError, match="not a string"):
        ours[0]
    with pytest.raises(AttributeError):
        ours["zz"]


def test_containers_inside_a_model_register_their_parameters(torch: Any) -> None:
    def build(lib: Any) -> Any:
        class M(lib.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.pl = lib.nn.ParameterList([lib.ones(2)])
                self.pd = lib.nn.ParameterDict({"a": lib.ones(1)})
                self.md = lib.nn.ModuleDict({"l": lib.nn.Linear(1, 1)})
        return M()

    ours, theirs = build(mt), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["pl.0", "pd.a", "md.l.weight",
                                                                    "md.l.bias"]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs).replace("torch.", "microtensor.")


# ----------------------------------------------------------------------------------------------
# scaled_dot_product_attention
# ----------------------------------------------------------------------------------------------

def test_attention_with_grouped_query_heads_matches_torch(torch: Any) -> None:
    rng = np.random.default_rng(7)
    q, k, v = (rng.standard_normal(s) for s in ((2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 3)))
    out = []
    for lib in (torch, mt):
        xs = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        y = lib.nn.functional.scaled_dot_product_attention(*xs, is_causal=True, enable_gqa=True)
        y.sum().backward()
        out.append([_np(y)] + [_np(x.grad) for x in xs])
    for a, b in zip(*out, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_attention_dropout_keeps_the_expected_value() -> None:
    mt.manual_seed(0)
    q = mt.zeros(1, 200, 4)  # uniform attention weights 1/50 over 50 positions
    v = mt.ones(1, 50, 1)
    y = F.scaled_dot_product_attention(q, mt.zeros(1, 50, 4), v, dropout_p=0.5)
    assert abs(y.mean().item() - 1.0) < 0.05  # dropped weights are rescaled by 1 / (1 - p)
    assert y.std().item() > 0.1  # (without dropout every output would be exactly 1)
    assert F.scaled_dot_product_attention(q, mt.zeros(1, 50, 4), v, dropout_p=1.0).abs().sum() \
        .item() == 0.0


def test_attention_fully_masked_rows_give_zeros_and_errors_are_torchs() -> None:
    q = mt.randn(2, 3, 4, dtype=mt.float64, requires_grad=True)
    k, v = mt.randn(2, 5, 4, dtype=mt.float64), mt.randn(2, 5, 6, dtype=mt.float64)
    mask = mt.ones(3, 5, dtype=mt.bool)
    mask[1] = False
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    y.sum().backward()
    assert y[:, 1].abs().sum().item() == 0 and q.grad[:, 1].abs().sum().item() == 0
    assert not np.isnan(q.grad.numpy()).any()
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when "
                                           "is_causal=True"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True)
    with pytest.raises(RuntimeError, match="at least 2 dimensional"):
        F.scaled_dot_product_attention(q[0, 0], k, v)
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype to be bool or float"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=mt.zeros(3, 5, dtype=mt.int64))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(q, k.float(), v)
    with pytest.raises(RuntimeError, match="dropout probability has to be between 0 and 1"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)


# ----------------------------------------------------------------------------------------------
# CrossEntropyLoss options, and a model that uses everything
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_loss_module_with_smoothing_weights_and_ignore_index(
        torch: Any, reduction: str) -> None:
    rng = np.random.default_rng(8)
    x = rng.standard_normal((6, 4, 2))
    t = rng.integers(0, 4, (6, 2))
    t[0, 0] = 2
    w = rng.uniform(0.2, 3, 4)
    out = []
    for lib in (torch, mt):
        xs = lib.tensor(x, requires_grad=True)
        loss = lib.nn.CrossEntropyLoss(weight=lib.tensor(w), ignore_index=2, reduction=reduction,
                                       label_smoothing=0.3)(xs, lib.tensor(t))
        loss.sum().backward()
        out.append((_np(loss), _np(xs.grad)))
    for a, b in zip(*out, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_a_model_with_every_new_layer_trains_like_torch(torch: Any) -> None:
    def build(lib: Any) -> Any:
        class Net(lib.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.emb = lib.nn.Embedding(7, 4, padding_idx=0)
                self.norm = lib.nn.LayerNorm(4)
                self.body = lib.nn.ModuleDict({
                    "fc": lib.nn.Linear(12, 8), "bn": lib.nn.BatchNorm1d(8),
                    "act": lib.nn.SiLU(), "out": lib.nn.Linear(8, 3)})
                self.extra = lib.nn.ParameterList([lib.zeros(3)])

            def forward(self, idx: Any) -> Any:
                h = self.norm(self.emb(idx))
                h = lib.nn.functional.scaled_dot_product_attention(h, h, h, is_causal=True)
                h = self.body["act"](self.body["bn"](self.body["fc"](h.flatten(1))))
                return self.body["out"](h) + self.extra[0]
        return Net().double()

    theirs, ours = build(torch), build(mt)
    _copy_params(theirs, ours, torch)
    rng = np.random.default_rng(9)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1)
    opt_m = mt.optim.SGD(ours.parameters(), lr=0.1)
    for _ in range(5):
        idx, y = rng.integers(0, 7, (10, 3)), rng.integers(0, 3, 10)
        losses = []
        for lib, model, opt in ((torch, theirs, opt_t), (mt, ours, opt_m)):
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(idx)), lib.tensor(y),
                                                   label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        np.testing.assert_allclose(losses[1], losses[0], rtol=1e-10)
    for (n, pt), (m, pm) in zip(theirs.state_dict().items(), ours.state_dict().items(),
                                strict=True):
        assert n == m
        np.testing.assert_allclose(_np(pm), _np(pt), rtol=1e-9, atol=1e-12)
