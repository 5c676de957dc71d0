"""Devices, ``Size`` and the Tensor API conveniences of issue 10: ``device``, ``device=`` on the
creation functions, ``Tensor.to`` in all its forms, ``cuda``/``backends``, the default device,
``Size``, ``Tensor.type``, ``nelement``/``element_size``/``itemsize``/``nbytes`` and the
``axis``/``keepdims`` aliases. Compared with PyTorch where it is installed, with hand-derived
values otherwise (the fuzz table in test_fuzz_torch.py compares the same names on drawn inputs).
"""

from __future__ import annotations

import copy
import io
import pickle
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn


def _cpu_only(match: str = "cuda") -> Any:
    """The error for any device but the CPU: says so, names the device, suggests 'cpu'."""
    return pytest.raises(RuntimeError, match=rf"CPU only.*'{match}'.*device='cpu'")


# -- device ------------------------------------------------------------------------------------

def test_device_attributes_and_printing() -> None:
    cpu, cpu0 = mt.device("cpu"), mt.device("cpu", 0)
    assert (cpu.type, cpu.index, str(cpu), repr(cpu)) == ("cpu", None, "cpu", "device(type='cpu')")
    assert (cpu0.type, cpu0.index, str(cpu0)) == ("cpu", 0, "cpu:0")
    assert repr(cpu0) == "device(type='cpu', index=0)"
    assert mt.device("cpu:0") == cpu0 and mt.device(type="cpu", index=0) == cpu0
    assert mt.device(cpu) == cpu and mt.device("cuda:1").index == 1
    # As PyTorch: "cpu" and "cpu:0" are different devices, and a device never equals a string.
    assert cpu != cpu0 and not (cpu == "cpu") and cpu != "cpu"  # noqa: SIM201
    assert {cpu: 1}[mt.device("cpu")] == 1 and len({cpu, mt.device("cpu"), cpu0}) == 2
    assert pickle.loads(pickle.dumps(cpu0)) == cpu0 and copy.deepcopy(cpu) == cpu
    with pytest.raises(AttributeError, match="not writable"):
        cpu.type = "cuda"  # type: ignore[misc]


@pytest.mark.parametrize("text", ["gpu", "cpu:-1", "cpu:x", "", "cuda:0:1", "CPU", " cpu",
                                  "cpu:01", "cpu:1 "])
def test_device_strings_refused_as_pytorch_does(text: str) -> None:
    with pytest.raises(RuntimeError, match="Device string must not be empty|Expected one of cpu, "
                                           "cuda|Invalid device string"):
        mt.device(text)


def test_device_arguments_refused() -> None:
    with pytest.raises(RuntimeError, match="Device index must not be negative"):
        mt.device("cpu", -1)
    with pytest.raises(RuntimeError, match="must not include an index"):
        mt.device("cpu:0", 1)
    with pytest.raises(TypeError, match="'index' .* must be int, not bool"):
        mt.device("cpu", True)
    with pytest.raises(TypeError):
        mt.device(None)
    with pytest.raises(RuntimeError, match="CPU only"):
        mt.device(0)


def test_device_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    for args in (("cpu",), ("cpu", 0), ("cpu:3",), ("cuda",), ("cuda", 1), ("mps",), ("meta",)):
        ours, theirs = mt.device(*args), torch.device(*args)
        assert (repr(ours), str(ours), ours.type, ours.index) == (
            repr(theirs), str(theirs), theirs.type, theirs.index)
    for bad in ("gpu", "cpu:-1", "", "cuda:0:1", "cpu:01"):
        with pytest.raises(RuntimeError) as ours_error:
            mt.device(bad)
        with pytest.raises(RuntimeError) as theirs_error:
            torch.device(bad)
        assert str(ours_error.value) == str(theirs_error.value)
    assert (mt.device("cpu") == "cpu") == (torch.device("cpu") == "cpu")
    assert str(mt.ones(1).device) == str(torch.ones(1).device)


def test_tensor_device_and_flags() -> None:
    t = mt.zeros(2)
    assert t.device == mt.device("cpu") and t.device.type == "cpu" and str(t.device) == "cpu"
    assert t.is_cpu and not t.is_cuda and not t.is_mps and t.get_device() == -1
    assert t.cpu() is t


# -- device= on every creation function --------------------------------------------------------

CREATORS = {
    "tensor": lambda d: mt.tensor([1.0, 2.0], device=d),
    "zeros": lambda d: mt.zeros(2, 3, device=d),
    "ones": lambda d: mt.ones((2,), device=d),
    "empty": lambda d: mt.empty(2, device=d),
    "full": lambda d: mt.full((2,), 7.0, device=d),
    "arange": lambda d: mt.arange(3, device=d),
    "linspace": lambda d: mt.linspace(0, 1, 3, device=d),
    "eye": lambda d: mt.eye(2, device=d),
    "rand": lambda d: mt.rand(2, device=d),
    "randn": lambda d: mt.randn(2, device=d),
    "randint": lambda d: mt.randint(0, 5, (2,), device=d),
    "randperm": lambda d: mt.randperm(3, device=d),
    "normal": lambda d: mt.normal(0.0, 1.0, (2,), device=d),
    "zeros_like": lambda d: mt.zeros_like(mt.ones(2), device=d),
    "ones_like": lambda d: mt.ones_like(mt.ones(2), device=d),
    "full_like": lambda d: mt.full_like(mt.ones(2), 3, device=d),
    "rand_like": lambda d: mt.rand_like(mt.ones(2), device=d),
    "randn_like": lambda d: mt.randn_like(mt.ones(2), device=d),
}


@pytest.mark.parametrize("name", sorted(CREATORS))
@pytest.mark.parametrize("dev", [None, "cpu", "cpu:0", mt.device("cpu"), mt.device("cpu", 0)],
                         ids=["None", "cpu", "cpu:0", "device(cpu)", "device(cpu,0)"])
def test_creation_functions_take_the_cpu(name: str, dev: Any) -> None:
    t = CREATORS[name](dev)
    assert isinstance(t, mt.Tensor) and t.device == mt.device("cpu")


@pytest.mark.parametrize("name", sorted(CREATORS))
@pytest.mark.parametrize("dev", ["cuda", "cuda:0", mt.device("cuda"), "mps"])
def test_creation_functions_refuse_other_devices(name: str, dev: Any) -> None:
    with _cpu_only(str(dev)):
        CREATORS[name](dev)


def test_creation_functions_all_have_a_device_keyword() -> None:
    import inspect

    from microtensor import creation

    names = [n for n, f in vars(creation).items() if inspect.isfunction(f)
             and f.__module__ == creation.__name__ and not n.startswith("_")]
    assert set(names) - {"from_numpy", "poisson"} == set(CREATORS)  # (as PyTorch's)
    for n in CREATORS:
        assert "device" in inspect.signature(getattr(mt, n)).parameters, n


def test_creation_device_matches_torch_signatures() -> None:
    torch = pytest.importorskip("torch")
    assert torch.zeros(2, device="cpu:0").device == torch.device("cpu")  # (what ours returns)
    assert mt.zeros(2, device="cpu:0").device == mt.device("cpu")


# -- Tensor.to -----------------------------------------------------------------------------------

def test_to_returns_self_when_nothing_changes() -> None:
    x = mt.ones(2, requires_grad=True)
    f64 = mt.zeros(1, dtype=mt.float64)
    for same in (x.to(mt.float32), x.to("cpu"), x.to(mt.device("cpu")), x.to(),
                 x.to(None), x.to(dtype=mt.float32), x.to("cpu", mt.float32),
                 x.to(device="cpu", non_blocking=True), x.to(mt.zeros(3)), x.cpu()):
        assert same is x
    assert x.to(f64).dtype == mt.float64 and x.to(float).dtype == mt.float64
    assert x.to(int).dtype == mt.int64 and not x.to(int).requires_grad


def test_to_copy_and_indexed_device_give_copies_in_the_graph() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    for y in (x.to(mt.float32, copy=True), x.to("cpu", copy=True), x.to("cpu:0"),
              x.to(mt.device("cpu", 0)), x.to(mt.zeros(1), False, True)):
        assert y is not x and y.requires_grad and y.grad_fn is not None
        (y * mt.tensor([3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [15.0, 20.0]  # five copies, each with gradient (3, 4)
    y = x.to("cpu", mt.float64)
    y.sum().backward()
    assert y.dtype == mt.float64 and x.grad.dtype == mt.float32


@pytest.mark.parametrize("call", [
    lambda x: x.to(mt.float32, "cpu"), lambda x: x.to("cpu", "cpu"),
    lambda x: x.to(mt.float32, dtype=mt.float64), lambda x: x.to("cpu", device="cpu"),
    lambda x: x.to(foo=1), lambda x: x.to(mt.float32, mt.float64),
    lambda x: x.to(mt.zeros(1), mt.float64), lambda x: x.to(mt.zeros(1), dtype=mt.float64),
    lambda x: x.to(mt.float32, non_blocking=1),
], ids=["dtype-device", "device-device", "dtype-twice", "device-twice", "unknown", "two-dtypes",
        "tensor-dtype", "tensor-dtype-keyword", "non_blocking-int"])
def test_to_refuses_argument_combinations_pytorch_refuses(call: Any) -> None:
    with pytest.raises(TypeError, match="to\\(\\) received an invalid combination"):
        call(mt.ones(2))


def test_to_other_devices_raise() -> None:
    x = mt.ones(2)
    for dev in ("cuda", "cuda:0", mt.device("cuda", 1), "mps"):
        with _cpu_only(str(dev)):
            x.to(dev)
    with _cpu_only("cuda:0"):
        x.to(device="cuda:0", dtype=mt.float64)
    with _cpu_only("cuda"):
        x.cuda()
    with _cpu_only("cuda:1"):
        x.cuda(1)
    with pytest.raises(RuntimeError, match="Invalid device string: 'float32'"):
        x.to("float32")  # a string is a device, as in PyTorch


def test_to_matches_torch_on_which_forms_copy() -> None:
    torch = pytest.importorskip("torch")
    forms = [((), {}), (("cpu",), {}), (("cpu:0",), {}), (("cpu",), {"copy": True}),
             ((None,), {}), ((), {"non_blocking": True})]
    for args, kwargs in forms:
        a, b = mt.ones(2), torch.ones(2)
        assert (a.to(*args, **kwargs) is a) == (b.to(*args, **kwargs) is b), (args, kwargs)
    for name in ("float32", "float64", "int64", "bool"):
        a, b = mt.ones(2), torch.ones(2)
        assert (a.to(getattr(mt, name)) is a) == (b.to(getattr(torch, name)) is b)


# -- modules ---------------------------------------------------------------------------------------

def test_module_to_cpu_and_cuda() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    weight = model[0].weight
    assert model.to("cpu") is model and model.cpu() is model
    assert model.to(mt.device("cpu")) is model and model.to("cpu:0") is model
    assert model.to("cpu", mt.float64, True) is model and model[0].weight is weight
    assert weight.dtype == mt.float64
    model.to(mt.zeros(1, dtype=mt.float32))  # to(tensor): its dtype
    assert weight.dtype == mt.float32 and model[0].weight is weight
    for call in (lambda: model.to("cuda"), lambda: model.to(device="cuda:0"), model.cuda,
                 lambda: model.to(mt.device("mps")), lambda: model.cuda(0)):
        with pytest.raises(RuntimeError, match="CPU only"):
            call()
    with pytest.raises(RuntimeError, match="does not accept copy"):
        model.to("cpu", copy=True)
    with _cpu_only("cuda"):
        nn.Linear(2, 2, device="cuda")
    assert nn.Linear(2, 2, device=mt.device("cpu")).weight.device == mt.device("cpu")


def test_the_usual_device_idiom_trains_on_the_cpu() -> None:
    device = mt.device("cuda" if mt.cuda.is_available() else "cpu")
    device_name = "mps" if mt.backends.mps.is_available() else "cpu"
    assert device == mt.device(device_name) == mt.device("cpu")
    mt.manual_seed(0)
    model = nn.Linear(3, 1).to(device)
    x = mt.randn(8, 3, device=device)
    y = (x @ mt.tensor([[1.0], [-2.0], [0.5]], device=device)).to(device)
    opt = mt.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(200):
        loss = nn.functional.mse_loss(model(x.to(device)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-4


# -- cuda, backends, default device ------------------------------------------------------------

def test_cuda_module_answers_as_pytorch_without_cuda() -> None:
    assert mt.cuda.is_available() is False and mt.cuda.device_count() == 0
    assert mt.cuda.is_initialized() is False and mt.cuda.is_bf16_supported() is False
    assert mt.cuda.manual_seed(0) is None and mt.cuda.manual_seed_all(1) is None
    assert mt.cuda.empty_cache() is None and mt.cuda.memory_allocated() == 0
    assert mt.cuda.max_memory_allocated() == 0
    with pytest.raises(ValueError):
        mt.cuda.manual_seed("a")
    for call in (mt.cuda.current_device, mt.cuda.get_device_name, mt.cuda.synchronize,
                 lambda: mt.cuda.set_device(0)):
        with pytest.raises(RuntimeError, match="CPU only"):
            call()


def test_cuda_module_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("PyTorch has CUDA here")
    for name in ("is_available", "device_count", "is_initialized", "is_bf16_supported",
                 "memory_allocated", "max_memory_allocated"):
        assert getattr(mt.cuda, name)() == getattr(torch.cuda, name)(), name
    for name in ("current_device", "get_device_name", "synchronize"):
        with pytest.raises((RuntimeError, AssertionError)):
            getattr(torch.cuda, name)()
        with pytest.raises(RuntimeError):
            getattr(mt.cuda, name)()


def test_accelerator_answers_as_pytorch_without_one() -> None:
    device = (mt.accelerator.current_accelerator().type if mt.accelerator.is_available()
              else "cpu")  # PyTorch's tutorials choose their device so
    assert device == "cpu" and mt.accelerator.device_count() == 0
    assert mt.accelerator.current_accelerator(check_available=True) is None
    for call in (mt.accelerator.current_device_index, mt.accelerator.synchronize):
        with pytest.raises(RuntimeError, match="CPU only"):
            call()
    torch = pytest.importorskip("torch")
    if not torch.accelerator.is_available():
        assert mt.accelerator.is_available() == torch.accelerator.is_available()
        assert mt.accelerator.current_accelerator() == torch.accelerator.current_accelerator()
        assert mt.accelerator.device_count() == torch.accelerator.device_count()


def test_backends() -> None:
    assert mt.backends.mps.is_available() is False and mt.backends.mps.is_built() is False
    cudnn = mt.backends.cudnn
    assert (cudnn.deterministic, cudnn.benchmark, cudnn.enabled) == (False, False, True)
    assert cudnn.is_available() is False and cudnn.version() is None
    cudnn.deterministic, cudnn.benchmark = True, False  # what seeding helpers do
    try:
        assert mt.backends.cudnn.deterministic is True
    finally:
        cudnn.deterministic = False


def test_default_device() -> None:
    assert mt.get_default_device() == mt.device("cpu")
    try:
        mt.set_default_device("cpu")
        assert mt.get_default_device() == mt.device("cpu") and mt.zeros(1).device.type == "cpu"
        mt.set_default_device(mt.device("cpu", 0))
        assert mt.get_default_device() == mt.device("cpu:0")
        for dev in ("cuda", "mps", mt.device("cuda", 0)):
            with _cpu_only(str(dev)):
                mt.set_default_device(dev)
        assert mt.get_default_device() == mt.device("cpu:0")  # a refused device changes nothing
    finally:
        mt.set_default_device(None)
    assert mt.get_default_device() == mt.device("cpu")


def test_device_as_a_context_manager() -> None:
    with mt.device("cpu:0") as d:
        assert d == mt.device("cpu:0") and mt.get_default_device() == d
        assert mt.ones(1).device == mt.device("cpu")
        with mt.device("cpu"):
            assert mt.get_default_device() == mt.device("cpu")
        assert mt.get_default_device() == d
    assert mt.get_default_device() == mt.device("cpu")
    with _cpu_only("cuda"), mt.device("cuda"):
        pass
    assert mt.get_default_device() == mt.device("cpu")


def test_load_with_map_location() -> None:
    buffer = io.BytesIO()
    mt.save({"w": mt.ones(2)}, buffer)
    for location in (None, "cpu", mt.device("cpu"), {"cuda:0": "cpu"}, lambda s, loc: s):
        buffer.seek(0)
        assert mt.load(buffer, map_location=location)["w"].tolist() == [1.0, 1.0]
    buffer.seek(0)
    with _cpu_only("cuda"):
        mt.load(buffer, map_location="cuda")


# -- Size --------------------------------------------------------------------------------------

def test_size_is_a_tuple_that_prints_as_pytorch() -> None:
    x = mt.zeros(3, 28, 28)
    s = x.shape
    assert isinstance(s, mt.Size) and isinstance(s, tuple) and isinstance(x.size(), mt.Size)
    assert s == (3, 28, 28) and (3, 28, 28) == s and hash(s) == hash((3, 28, 28))
    assert repr(s) == str(s) == "microtensor.Size([3, 28, 28])" and f"{s}" == repr(s)
    assert s.numel() == 2352 == x.numel() and mt.Size([]).numel() == 1
    assert repr(mt.Size()) == "microtensor.Size([])"
    assert type(x.size(1)) is int and x.size(-1) == 28
    for derived in (s[1:], s + (1,), (1,) + s, s * 2, 2 * s, s[::-1]):
        assert isinstance(derived, mt.Size)
    assert s[1:] == (28, 28) and (1,) + s == (1, 3, 28, 28) and s * 2 == (3, 28, 28) * 2
    assert type(s[0]) is int and s.count(28) == 2 and s.index(28) == 1
    assert pickle.loads(pickle.dumps(s)) == s and isinstance(copy.copy(s), mt.Size)
    assert mt.Size([np.int64(2), True, mt.tensor(3)]) == (2, 1, 3)
    assert mt.zeros(s).shape == s and x.reshape(s[::-1]).shape == (28, 28, 3)
    assert isinstance(mt.broadcast_shapes((2, 1), (3,)), mt.Size)
    with pytest.raises(TypeError, match="takes an iterable of 'int' \\(item 0 is 'float'\\)"):
        mt.Size([1.5])
    with pytest.raises(TypeError):
        mt.Size(3)


def test_size_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    for shape in ((), (0,), (3,), (2, 3, 4)):
        ours, theirs = mt.zeros(shape).shape, torch.zeros(shape).shape
        assert repr(ours).replace("microtensor", "torch") == repr(theirs)
        assert ours.numel() == theirs.numel() and tuple(ours) == tuple(theirs)
        assert repr(ours[1:]).replace("microtensor", "torch") == repr(theirs[1:])


# -- Tensor API conveniences ---------------------------------------------------------------------

TYPES = [("float32", "torch.FloatTensor", 4), ("float64", "torch.DoubleTensor", 8),
         ("float16", "torch.HalfTensor", 2), ("int64", "torch.LongTensor", 8),
         ("int32", "torch.IntTensor", 4), ("int16", "torch.ShortTensor", 2),
         ("int8", "torch.CharTensor", 1), ("uint8", "torch.ByteTensor", 1),
         ("bool", "torch.BoolTensor", 1)]


@pytest.mark.parametrize(("name", "type_name", "size"), TYPES)
def test_type_element_size_nbytes(name: str, type_name: str, size: int) -> None:
    x = mt.zeros(2, 3, dtype=getattr(mt, name))
    assert x.type() == type_name and x.element_size() == x.itemsize == size
    assert x.nbytes == 6 * size and x.nelement() == 6 == mt.numel(x)
    assert x.is_floating_point() == mt.is_floating_point(x) == name.startswith("float")
    y = mt.ones(2, requires_grad=True)
    z = y.type(getattr(mt, name))
    assert z.dtype == getattr(mt, name) and z.type() == type_name
    assert y.type(type_name).dtype == z.dtype
    assert y.type(type_name.replace("torch", "microtensor")).dtype == z.dtype
    assert z.requires_grad == (name.startswith("float")) and (z is y) == (name == "float32")


def test_type_conversions_differentiate_and_refuse_bad_names() -> None:
    y = mt.tensor([1.0, 2.0], requires_grad=True)
    (y.type(mt.float64) * 2).sum().backward()
    assert y.grad.tolist() == [2.0, 2.0] and y.type(mt.float32, True) is y
    for bad in ("float64", "torch.float64", "torch.Tensor", float, 3):
        with pytest.raises(ValueError, match="invalid type"):
            y.type(bad)
    with _cpu_only("cuda"):
        y.type("torch.cuda.FloatTensor")


def test_type_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    for name, type_name, _ in TYPES:
        assert torch.zeros(1, dtype=getattr(torch, name)).type() == type_name
        assert torch.zeros(1).type(type_name).dtype == getattr(torch, name)


def test_is_tensor_numel_is_floating_point() -> None:
    p = nn.Parameter(mt.ones(2))
    assert mt.is_tensor(p) and mt.is_tensor(mt.ones(1)) and not mt.is_tensor([1.0])
    assert not mt.is_tensor(np.ones(1)) and mt.numel(mt.zeros(2, 5)) == 10
    for call in (mt.numel, mt.is_floating_point):
        with pytest.raises(TypeError, match="argument 'input' \\(position 1\\) must be Tensor"):
            call([1.0])
    assert mt.get_default_dtype() == mt.float32


# -- axis= and keepdims= -------------------------------------------------------------------------

def test_axis_and_keepdims_are_aliases() -> None:
    x = mt.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    assert x.sum(axis=1).tolist() == [9.0, 12.0] and mt.sum(x, axis=0).tolist() == [5, 7, 9]
    assert x.mean(axis=1, keepdims=True).shape == (2, 1)
    assert x.amax(axis=0).tolist() == [4.0, 5.0, 6.0] and x.amin(axis=(0, 1)).item() == 1.0
    values, indices = x.max(axis=1, keepdims=True)
    assert values.tolist() == [[5.0], [6.0]] and indices.tolist() == [[1], [2]]
    assert x.min(axis=0).indices.tolist() == [0, 1, 0]
    assert x.argmax(axis=1).tolist() == [1, 2] and x.argmin(axis=0, keepdims=True).shape == (1, 3)
    assert x.prod(axis=1).tolist() == [15.0, 48.0]
    assert x.var(axis=1, keepdims=True).tolist() == [[4.0], [4.0]]
    assert x.std(axis=0, correction=0).tolist() == [1.5, 1.5, 1.5]
    assert x.softmax(axis=1).sum(axis=1).tolist() == pytest.approx([1.0, 1.0])
    assert mt.log_softmax(x, axis=0).shape == (2, 3)
    assert x.logsumexp(axis=1).tolist() == pytest.approx(np.log(np.exp(x.numpy()).sum(1)))
    assert (x > 2).all(axis=1).tolist() == [False, False]
    assert (x > 2).any(axis=1, keepdims=True).tolist() == [[True], [True]]
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        x.sum(1, axis=1)
    with pytest.raises(TypeError, match="multiple values for argument 'keepdim'"):
        x.mean(1, keepdim=True, keepdims=True)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'dim'"):
        x.softmax()
    assert x.squeeze(axis=0).shape == (2, 3) and x.unsqueeze(axis=1).shape == (2, 1, 3)
    assert mt.cat([x, x], axis=1).shape == (2, 6) and mt.stack([x, x], axis=-1).shape == (2, 3, 2)
    assert [c.shape for c in x.chunk(2, axis=1)] == [(2, 2), (2, 1)]
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        mt.cat([x, x], 1, axis=1)


def test_axis_and_keepdims_match_torch() -> None:
    torch = pytest.importorskip("torch")
    data = np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    a, t = mt.tensor(data), torch.tensor(data)
    for name in ("sum", "mean", "amax", "amin", "var", "std", "logsumexp", "prod", "argmax",
                 "argmin"):
        for axis in (0, 1, -1):
            for keep in (False, True):
                ours = getattr(a, name)(axis=axis, keepdims=keep)
                theirs = getattr(t, name)(axis=axis, keepdims=keep)
                np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    for name in ("softmax", "log_softmax"):
        np.testing.assert_allclose(getattr(a, name)(axis=0).numpy(),
                                   getattr(t, name)(axis=0).numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.max(axis=1, keepdims=True).values.numpy(),
                               t.max(axis=1, keepdims=True).values.numpy())
    assert a.argmax(keepdim=True).shape == t.argmax(keepdim=True).shape == (1, 1)
