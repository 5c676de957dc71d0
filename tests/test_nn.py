"""nn: Module registration and walking, state_dict, containers, layers, activations, init."""

from __future__ import annotations

import copy
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn
from microtensor.autograd import gradcheck, gradgradcheck
from microtensor.autograd.function import module_scope
from microtensor.nn import functional as F
from microtensor.nn import init


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


class Net(nn.Module):
    """A model with parameters, a sub-module, a container and a buffer, in a known order."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(mt.ones(1))
        self.body = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
        self.register_buffer("count", mt.zeros(1))
        self.offset = nn.Parameter(mt.zeros(1))
        self.plain = mt.ones(2)  # a tensor attribute that is not registered

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        return self.body(x) * self.scale + self.offset


def xor_model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1))


# ----------------------------------------------------------------------------------------------
# Registration and naming
# ----------------------------------------------------------------------------------------------

def test_parameters_are_registered_in_assignment_order_with_dotted_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "offset", "body.0.weight", "body.0.bias", "body.2.weight",
                     "body.2.bias"]
    assert [p for p in net.parameters()] == [p for _, p in net.named_parameters()]
    assert [tuple(p.shape) for _, p in net.named_parameters()] == [(1,), (1,), (3, 2), (3,),
                                                                   (1, 3), (1,)]
    assert all(isinstance(p, nn.Parameter) for p in net.parameters())
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale", "offset"]
    assert [n for n, _ in net.named_parameters(prefix="m")][:2] == ["m.scale", "m.offset"]


def test_sequential_names_and_reassignment_keeps_position():
    model = xor_model()
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight",
                                                       "2.bias"]
    new_weight = nn.Parameter(mt.zeros(4, 2))
    model[0].weight = new_weight
    assert [n for n, _ in model.named_parameters()][0] == "0.weight"
    assert model[0].weight is new_weight and model.state_dict()["0.weight"].sum().item() == 0


def test_children_modules_and_their_names():
    net = Net()
    assert [n for n, _ in net.named_children()] == ["body"]
    assert list(net.children()) == [net.body]
    names = [n for n, _ in net.named_modules()]
    assert names == ["", "body", "body.0", "body.1", "body.2"]
    assert list(net.modules())[0] is net
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Sequential", "Linear", "Tanh",
                                                         "Linear"]
    assert net.get_submodule("body.2") is net.body[2]
    with pytest.raises(AttributeError, match="no submodule `9`"):
        net.get_submodule("body.9")


def test_shared_module_and_parameter_come_once_but_state_dict_names_both():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_modules()] == ["", "0", "1"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_misspelled_attribute_raises_attribute_error_naming_it():
    model = nn.Linear(2, 3)
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'weigth'"):
        _ = model.weigth
    assert getattr(model, "missing", None) is None  # hasattr/getattr with a default still work
    assert not hasattr(nn.Sequential(), "foo")


def test_assignment_errors():
    model = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        model.weight = mt.zeros(3, 2)

    class Forgot(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(mt.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Forgot()
    with pytest.raises(KeyError, match="empty or contain"):
        model.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="attribute 'in_features' already exists"):
        model.register_parameter("in_features", None)
    with pytest.raises(TypeError, match="nn.Parameter or None required"):
        model.register_parameter("extra", mt.zeros(1))


def test_deleting_and_none_parameters():
    model = nn.Linear(2, 3)
    model.bias = None
    assert [n for n, _ in model.named_parameters()] == ["weight"]
    assert "bias" not in model.state_dict()
    del model.weight
    assert list(model.parameters()) == []
    with pytest.raises(AttributeError):
        _ = model.weight
    assert nn.Linear(2, 3, bias=False).bias is None


def test_buffers_are_state_but_not_parameters():
    net = Net()
    net.register_buffer("scratch", mt.ones(3), persistent=False)
    assert [n for n, _ in net.named_buffers()] == ["count", "scratch"]
    assert "count" in net.state_dict() and "scratch" not in net.state_dict()
    assert all(p is not net.count for p in net.parameters())
    net.count = mt.full((1,), 7.0)
    assert net.state_dict()["count"].item() == 7.0
    with pytest.raises(TypeError, match="as buffer 'count'"):
        net.count = 3


def test_call_runs_forward_and_records_the_module_scope():
    model = xor_model()
    seen = []

    class Probe(nn.Module):
        def forward(self, x: mt.Tensor) -> mt.Tensor:
            seen.append(module_scope.stack)
            return x.tanh()

    model.append(Probe())
    x = mt.rand(5, 2, requires_grad=True)
    out = model(x)
    assert seen == [(model, model[3])]
    assert module_scope.stack == ()
    assert out.grad_fn.scope == (model, model[3])
    linear_node = out.grad_fn.inputs[0].grad_fn
    assert linear_node.scope == (model, model[2])

    class Boom(nn.Module):
        def forward(self, x: mt.Tensor) -> mt.Tensor:
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        nn.Sequential(Boom())(x)
    assert module_scope.stack == ()  # restored even when forward raises
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(x)


# ----------------------------------------------------------------------------------------------
# Parameter
# ----------------------------------------------------------------------------------------------

def test_parameter_shares_data_requires_grad_and_ops_give_tensors():
    t = mt.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert p.requires_grad and p.is_leaf and p.detach().numpy() is t.detach().numpy()
    t.data[0] = 5.0
    assert p.detach().numpy()[0] == 5.0
    y = p * 2
    assert type(y) is mt.Tensor and type(p.detach()) is mt.Tensor
    a = np.zeros(3, dtype=np.float64)
    q = nn.Parameter(a, requires_grad=False)
    assert q.detach().numpy() is a and not q.requires_grad and q.dtype == mt.float64
    assert nn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(mt.tensor([1, 2]))
    assert repr(p) == "Parameter containing:\n" + repr(mt.tensor([5.0, 2.0], requires_grad=True))


# ----------------------------------------------------------------------------------------------
# repr
# ----------------------------------------------------------------------------------------------

XOR_REPR = """Sequential(
  (0): Linear(in_features=2, out_features=4, bias=True)
  (1): Sigmoid()
  (2): Linear(in_features=4, out_features=1, bias=True)
)"""


def test_repr_matches_pytorch_text():
    assert repr(xor_model()) == XOR_REPR
    net = Net()
    assert repr(net) == """Net(
  (body): Sequential(
    (0): Linear(in_features=2, out_features=3, bias=True)
    (1): Tanh()
    (2): Linear(in_features=3, out_features=1, bias=True)
  )
)"""
    assert repr(nn.Sequential()) == "Sequential()"
    assert repr(nn.ModuleList()) == "ModuleList()"
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"
    assert repr(nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()])) == """ModuleList(
  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)
  (2): ReLU()
)"""


def _all_layers(lib):
    n = lib.nn
    return n.Sequential(
        n.Linear(2, 4), n.Sigmoid(), n.Linear(4, 1, bias=False), n.Dropout(0.1), n.Flatten(),
        n.Identity(), n.LeakyReLU(), n.LeakyReLU(0.2), n.Softplus(), n.Softplus(beta=2.0),
        n.Softmax(dim=1), n.LogSoftmax(1), n.Softmax(), n.ReLU(), n.Tanh(), n.Flatten(0, 2),
        n.ModuleList([n.Tanh(), n.Tanh(), n.Tanh(), n.Linear(1, 1)]),
        n.Sequential(n.ReLU()), n.MSELoss(), n.L1Loss(), n.BCELoss(), n.BCEWithLogitsLoss(),
        n.CrossEntropyLoss(label_smoothing=0.1), n.NLLLoss(), n.Dropout(),
    )


def test_repr_matches_pytorch_for_every_layer(torch):
    assert repr(_all_layers(mt)) == repr(_all_layers(torch))


# ----------------------------------------------------------------------------------------------
# Modes, gradients, apply, dtype
# ----------------------------------------------------------------------------------------------

def test_train_eval_propagate_to_every_module():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.body.train(False)
    assert net.training and not net.body[0].training
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_zero_grad_and_requires_grad_():
    model = xor_model()
    model(mt.rand(3, 2)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    grad = model[0].weight.grad
    model.zero_grad(set_to_none=False)
    assert model[0].weight.grad is grad and np.all(grad.detach().numpy() == 0)
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    assert not model(mt.rand(3, 2)).requires_grad


def test_apply_visits_children_before_parents():
    net = Net()
    order = []
    assert net.apply(lambda m: order.append(type(m).__name__)) is net
    assert order == ["Linear", "Tanh", "Linear", "Sequential", "Net"]

    def zero_linear(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            init.zeros_(m.weight)

    net.apply(zero_linear)
    assert net.body[0].weight.abs().sum().item() == 0


def test_to_double_keeps_the_parameter_objects():
    model = xor_model()
    params = list(model.parameters())
    assert model.double() is model
    assert [p.dtype for p in model.parameters()] == [mt.float64] * 4
    assert all(a is b for a, b in zip(params, model.parameters(), strict=True))
    assert model(mt.rand(2, 2, dtype=mt.float64)).dtype == mt.float64
    assert model.to("cpu").to(dtype=mt.float32)[0].weight.dtype == mt.float32
    with pytest.raises(TypeError, match="floating point"):
        model.to(mt.int64)


def test_deepcopy_gives_an_independent_model():
    model = xor_model()
    clone = copy.deepcopy(model)
    assert repr(clone) == repr(model)
    clone[0].weight.data[...] = 0
    assert model[0].weight.abs().sum().item() > 0
    assert clone[0]._parameters["weight"] is clone[0].weight


# ----------------------------------------------------------------------------------------------
# state_dict / load_state_dict
# ----------------------------------------------------------------------------------------------

def test_state_dict_is_ordered_detached_and_shares_memory():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["scale", "offset", "count", "body.0.weight", "body.0.bias",
                        "body.2.weight", "body.2.bias"]
    assert not any(t.requires_grad for t in sd.values())
    assert type(sd["scale"]) is mt.Tensor
    assert sd["body.0.weight"].detach().numpy() is net.body[0].weight.detach().numpy()
    assert net.state_dict(keep_vars=True)["scale"] is net.scale


def test_state_dict_round_trip_reproduces_the_outputs():
    mt.manual_seed(1)
    a, b = Net(), Net()
    x = mt.rand(5, 2)
    assert not np.allclose(a(x).detach().numpy(), b(x).detach().numpy())
    result = b.load_state_dict(copy.deepcopy(a.state_dict()))
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    assert b.scale.requires_grad and isinstance(b.scale, nn.Parameter)


def test_load_state_dict_strict_reports_missing_unexpected_and_size_mismatch():
    model = xor_model()
    before = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    sd = {k: v.detach().numpy().copy() + 1 for k, v in xor_model().state_dict().items()}
    del sd["0.bias"]
    sd["5.weight"] = np.ones(1)
    sd["2.weight"] = np.ones((3, 3))
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Sequential:")
    assert 'Missing key(s) in state_dict: "0.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "5.weight".' in msg
    assert ("size mismatch for 2.weight: copying a param with shape (3, 3) from checkpoint, the "
            "shape in current model is (1, 4).") in msg
    # Nothing was copied, although 0.weight would have fitted.
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), before[k])

    # Non-strict: a size mismatch is still an error...
    with pytest.raises(RuntimeError, match="size mismatch for 2.weight"):
        model.load_state_dict(sd, strict=False)
    # ... but missing and unexpected keys are returned.
    del sd["2.weight"]
    result = model.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["0.bias", "2.weight"]
    assert result.unexpected_keys == ["5.weight"]
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), sd["0.weight"])
    np.testing.assert_array_equal(model[0].bias.detach().numpy(), before["0.bias"])


def test_load_state_dict_converts_dtype_and_rejects_non_tensors():
    model = xor_model()
    sd = {k: v.double() for k, v in xor_model().state_dict().items()}
    model.load_state_dict(sd)
    assert model[0].weight.dtype == mt.float32
    np.testing.assert_allclose(model[0].weight.detach().numpy(), sd["0.weight"].detach().numpy(),
                               rtol=1e-6)
    sd["0.bias"] = [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(RuntimeError, match='parameter named "0.bias", expected a Tensor'):
        model.load_state_dict(sd)
    with pytest.raises(TypeError, match="dict-like"):
        model.load_state_dict([1, 2])


# ----------------------------------------------------------------------------------------------
# Containers
# ----------------------------------------------------------------------------------------------

def test_sequential_indexing_slicing_len_iteration_append():
    model = xor_model()
    assert len(model) == 3
    assert isinstance(model[0], nn.Linear) and model[-1] is model[2]
    assert [type(m).__name__ for m in model] == ["Linear", "Sigmoid", "Linear"]
    head = model[1:]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    assert [n for n, _ in head.named_parameters()] == ["2.weight", "2.bias"]  # names kept
    assert head[1] is model[2]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        model[3]
    with pytest.raises(TypeError, match="integers or slices"):
        model["0"]
    assert model.append(nn.Sigmoid()) is model and len(model) == 4
    assert [n for n, _ in model.named_children()] == ["0", "1", "2", "3"]
    x = mt.rand(3, 2)
    expected = model[3](model[2](model[1](model[0](x))))
    np.testing.assert_array_equal(model(x).detach().numpy(), expected.detach().numpy())


def test_sequential_from_ordered_dict_setitem_delitem_insert():
    model = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert [n for n, _ in model.named_parameters()] == ["hidden.weight", "hidden.bias"]
    assert model.hidden is model[0]
    model[1] = nn.Tanh()
    assert isinstance(model.act, nn.Tanh)
    model = xor_model()
    last = model[2]
    del model[1]
    assert [n for n, _ in model.named_children()] == ["0", "1"] and model[1] is last
    model.insert(1, nn.ReLU())
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight",
                                                       "2.bias"]


def test_module_list_registers_its_modules():
    class Stack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x: mt.Tensor) -> mt.Tensor:
            for layer in self.layers:
                x = layer(x).relu()
            return x

    s = Stack()
    assert len(list(s.parameters())) == 6
    assert [n for n, _ in s.named_parameters()][-1] == "layers.2.bias"
    assert len(s.layers) == 3 and s.layers[-1] is s.layers[2]
    sub = s.layers[1:]
    assert isinstance(sub, nn.ModuleList) and [n for n, _ in sub.named_children()] == ["0", "1"]
    s.layers += [nn.Linear(2, 2)]
    s.layers.append(nn.Linear(2, 2)).extend([nn.Linear(2, 2)])
    assert len(s.layers) == 6
    assert s(mt.rand(4, 2)).shape == (4, 2)
    with pytest.raises(NotImplementedError):
        s.layers(mt.rand(1, 2))


# ----------------------------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------------------------

def test_linear_layout_formula_and_batched_inputs():
    layer = nn.Linear(3, 2)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    assert layer.weight.dtype == mt.float32
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    for shape in [(3,), (5, 3), (4, 5, 3)]:
        x = mt.randn(*shape)
        np.testing.assert_allclose(layer(x).detach().numpy(), x.detach().numpy() @ w.T + b,
                                   rtol=1e-6)
    no_bias = nn.Linear(3, 2, bias=False)
    np.testing.assert_allclose(no_bias(x).detach().numpy(),
                               x.detach().numpy() @ no_bias.weight.detach().numpy().T, rtol=1e-6)
    assert nn.Linear(3, 2, dtype=mt.float64).weight.dtype == mt.float64
    with pytest.raises(RuntimeError, match=r"input of shape \(4, 5, 2\) does not match weight "
                                           r"of shape \(2, 3\)"):
        layer(mt.randn(4, 5, 2))


def test_linear_init_is_pytorchs_and_reproducible():
    mt.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (layer.weight, layer.bias):
        assert np.abs(p.detach().numpy()).max() <= bound
    w = layer.weight.detach().numpy()
    assert np.abs(w).max() > 0.99 * bound  # U(-bound, bound) reaches close to the bound
    assert abs(w.mean()) < 0.01 * bound
    assert abs(w.var() - bound**2 / 3) < 0.02 * bound**2 / 3  # variance of U(-b, b) is b^2/3
    mt.manual_seed(0)
    again = nn.Linear(400, 300)
    np.testing.assert_array_equal(again.weight.detach().numpy(), w)
    np.testing.assert_array_equal(again.bias.detach().numpy(), layer.bias.detach().numpy())
    assert not np.array_equal(nn.Linear(400, 300).weight.detach().numpy(), w)


def test_linear_gradients(torch):
    mt.manual_seed(0)
    layer = nn.Linear(3, 2).double()
    x = mt.randn(4, 3, dtype=mt.float64, requires_grad=True)
    w, b = layer.weight, layer.bias
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), [x, w, b])
    assert gradgradcheck(lambda x, w, b: F.linear(x, w, b).tanh(), [x, w, b])
    x3 = mt.randn(2, 2, 3, dtype=mt.float64, requires_grad=True)
    assert gradcheck(lambda x, w: F.linear(x, w), [x3, w])
    x1 = mt.randn(3, dtype=mt.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), [x1, w, b])

    tl = torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        tl.weight.copy_(torch.from_numpy(w.detach().numpy()))
        tl.bias.copy_(torch.from_numpy(b.detach().numpy()))
    tx = torch.from_numpy(x.detach().numpy().copy()).requires_grad_()
    (tl(tx) ** 2).sum().backward()
    (layer(x) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.detach().numpy(), tl.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.detach().numpy(), tl.bias.grad.numpy(), rtol=1e-12)


def test_linear_refuses_mixed_dtypes_as_pytorch():
    layer = nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 must have the same dtype, but got Long "
                                           r"and Float.*input.float\(\)"):
        layer(mt.tensor([[1, 2]]))  # an int64 input: PyTorch refuses it, and so do we
    out = layer(mt.tensor([[1, 2]]).float())
    expected = np.array([[1, 2]]) @ layer.weight.detach().numpy().T + layer.bias.detach().numpy()
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6)


def test_identity_and_flatten(torch):
    x = mt.randn(2, 3, 4, 5)
    assert nn.Identity(7, foo=1)(x) is x
    for args in [(), (0,), (1, 2), (0, -1), (2, 3)]:
        expected = torch.nn.Flatten(*args)(torch.from_numpy(x.detach().numpy())).numpy()
        np.testing.assert_array_equal(nn.Flatten(*args)(x).detach().numpy(), expected)
    assert nn.Flatten()(x).shape == (2, 60)
    xd = mt.randn(2, 3, 2, dtype=mt.float64, requires_grad=True)
    assert gradcheck(lambda t: nn.Flatten()(t) * 2, [xd])


# ----------------------------------------------------------------------------------------------
# Dropout
# ----------------------------------------------------------------------------------------------

def test_dropout_zeroes_the_expected_fraction_and_scales_the_rest():
    mt.manual_seed(0)
    p, n = 0.3, 200_000
    x = mt.ones(n)
    y = nn.Dropout(p)(x).detach().numpy()
    zeroed = np.mean(y == 0)
    assert abs(zeroed - p) < 4 * math.sqrt(p * (1 - p) / n)  # within 4 standard deviations
    np.testing.assert_allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)
    assert abs(y.mean() - 1) < 0.01  # the expectation is preserved


def test_dropout_gradient_is_the_mask_and_eval_is_identity():
    mt.manual_seed(3)
    drop = nn.Dropout(0.5)
    x = mt.randn(1000, requires_grad=True)
    y = drop(x)
    y.sum().backward()
    mask = y.detach().numpy() / x.detach().numpy()
    np.testing.assert_allclose(x.grad.detach().numpy(), mask, rtol=1e-5)
    assert set(np.round(mask, 5)) == {0.0, 2.0}
    drop.eval()
    assert drop(x) is x
    assert nn.Sequential(nn.Dropout(0.9)).eval()(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert np.all(F.dropout(x, 1.0).detach().numpy() == 0)
    mt.manual_seed(5)
    a = F.dropout(x, 0.5).detach().numpy()
    mt.manual_seed(5)
    np.testing.assert_array_equal(F.dropout(x, 0.5).detach().numpy(), a)
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1, but got"):
            nn.Dropout(p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 2.0)


def test_dropout_gradcheck_with_a_fixed_mask():
    x = mt.randn(3, 4, dtype=mt.float64, requires_grad=True)

    def fn(t: mt.Tensor) -> mt.Tensor:
        mt.manual_seed(0)  # the same mask at every evaluation
        return F.dropout(t, 0.4)

    assert gradcheck(fn, [x])


# ----------------------------------------------------------------------------------------------
# Activations
# ----------------------------------------------------------------------------------------------

ACTIVATIONS = [
    ("sigmoid", nn.Sigmoid(), lambda x: F.sigmoid(x)),
    ("tanh", nn.Tanh(), lambda x: F.tanh(x)),
    ("relu", nn.ReLU(), lambda x: F.relu(x)),
    ("leaky_relu", nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)),
    ("softplus", nn.Softplus(beta=2.0, threshold=3.0), lambda x: F.softplus(x, 2.0, 3.0)),
    ("softmax", nn.Softmax(dim=1), lambda x: F.softmax(x, dim=1)),
    ("log_softmax", nn.LogSoftmax(dim=0), lambda x: F.log_softmax(x, dim=0)),
]


def _away_from_kinks(shape: tuple[int, ...]) -> mt.Tensor:
    """Random float64 values, none within 0.05 of 0 or of softplus's threshold (finite
    differences are wrong at kinks)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, shape)
    x = np.where(np.abs(x) < 0.05, 0.5, x)
    x = np.where(np.abs(2 * x - 3) < 0.1, 2.0, x)
    return mt.tensor(x, requires_grad=True)


@pytest.mark.parametrize(("name", "module", "fn"), ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_gradcheck(name, module, fn):
    x = _away_from_kinks((3, 4))
    np.testing.assert_array_equal(module(x).detach().numpy(), fn(x).detach().numpy())
    assert gradcheck(fn, [x])
    assert gradgradcheck(fn, [x])


@pytest.mark.parametrize(("name", "module", "fn"), ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_matches_pytorch(torch, name, module, fn):
    tf = torch.nn.functional
    reference = {
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": tf.relu,
        "leaky_relu": lambda t: tf.leaky_relu(t, 0.2),
        "softplus": lambda t: tf.softplus(t, beta=2.0, threshold=3.0),
        "softmax": lambda t: tf.softmax(t, dim=1), "log_softmax": lambda t: tf.log_softmax(t, 0),
    }[name]
    x = _away_from_kinks((3, 4))
    x.data[0, :3] = [40.0, -40.0, 0.0]  # large values and the kink itself
    tx = torch.from_numpy(x.detach().numpy().copy()).requires_grad_()
    g = np.random.default_rng(1).standard_normal((3, 4))
    out = module(x)
    out.backward(mt.tensor(g))
    tout = reference(tx)
    tout.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(x.grad.detach().numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_softmax_without_dim_warns_and_picks_pytorchs_dim():
    x = mt.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = nn.Softmax()(x)
    np.testing.assert_allclose(y.detach().numpy().sum(axis=1), 1.0, rtol=1e-6)
    with pytest.warns(UserWarning, match="log_softmax"):
        z = F.log_softmax(mt.randn(4))
    assert abs(np.exp(z.detach().numpy()).sum() - 1) < 1e-6
    assert F.softmax(x, 1, dtype=mt.float64).dtype == mt.float64


def test_activations_at_extreme_inputs_give_no_warnings():
    x = mt.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for module in (nn.Sigmoid(), nn.Tanh(), nn.Softplus(), nn.Softmax(0), nn.LogSoftmax(0)):
            out = module(x)
            out.sum().backward()
            assert np.all(np.isfinite(out.detach().numpy()))
            assert np.all(np.isfinite(x.grad.detach().numpy()))
            x.grad = None


# ----------------------------------------------------------------------------------------------
# init
# ----------------------------------------------------------------------------------------------

def test_calculate_gain_formulas():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity softsign"):
        init.calculate_gain("softsign")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "a")


def test_calculate_gain_matches_pytorch(torch):
    for args in [("linear",), ("tanh",), ("relu",), ("leaky_relu",), ("leaky_relu", 0.3),
                 ("selu",), ("sigmoid",)]:
        assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))


def test_fans_and_their_errors():
    assert init._calculate_fan_in_and_fan_out(mt.zeros(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(mt.zeros(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(mt.zeros(5))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_normal_(mt.zeros(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(mt.zeros(5, 3), mode="fan_avg")


@pytest.mark.parametrize(("fn", "kwargs", "bound"), [
    (init.xavier_uniform_, {}, math.sqrt(6 / (200 + 300))),
    (init.xavier_uniform_, {"gain": 2.0}, 2 * math.sqrt(6 / (200 + 300))),
    (init.kaiming_uniform_, {}, math.sqrt(2) * math.sqrt(3 / 200)),  # a=0: gain sqrt(2)
    (init.kaiming_uniform_, {"a": 0.2}, math.sqrt(2 / (1 + 0.2**2)) * math.sqrt(3 / 200)),
    (init.kaiming_uniform_, {"a": math.sqrt(5)}, 1 / math.sqrt(200)),
    (init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"},
     math.sqrt(2) * math.sqrt(3 / 300)),
    (init.uniform_, {"a": -0.3, "b": 0.3}, 0.3),
])
def test_uniform_inits_fill_up_to_the_formula_bound(fn, kwargs, bound):
    mt.manual_seed(0)
    w = nn.Parameter(mt.empty(300, 200))
    assert fn(w, **kwargs) is w
    assert w.grad_fn is None and w.requires_grad
    values = w.detach().numpy()
    assert np.abs(values).max() <= bound * (1 + 1e-7)  # float32 rounding
    assert np.abs(values).max() > 0.999 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.01 * bound


@pytest.mark.parametrize(("fn", "kwargs", "std"), [
    (init.xavier_normal_, {}, math.sqrt(2 / (200 + 300))),
    (init.kaiming_normal_, {"nonlinearity": "relu"}, math.sqrt(2) / math.sqrt(200)),
    (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "tanh"}, 5 / 3 / math.sqrt(300)),
    (init.normal_, {"mean": 1.0, "std": 0.5}, 0.5),
])
def test_normal_inits_have_the_formula_std(fn, kwargs, std):
    mt.manual_seed(0)
    w = nn.Parameter(mt.empty(300, 200))
    assert fn(w, **kwargs) is w
    # The sample std of 60,000 normal values is within 1.5% of the true one.
    assert abs(w.detach().numpy().std() - std) < 0.015 * std
    assert abs(w.detach().numpy().mean() - kwargs.get("mean", 0.0)) < 0.02 * std


def test_constant_inits_and_zero_element_warning():
    w = nn.Parameter(mt.empty(2, 3))
    assert np.all(init.constant_(w, 0.25).detach().numpy() == 0.25)
    assert np.all(init.ones_(w).detach().numpy() == 1)
    assert np.all(init.zeros_(w).detach().numpy() == 0)
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(mt.empty(0, 3))
