"""save / load: exact round trips of model and optimizer state dicts through .npz files
(no pickle), and clear errors for files that are not microtensor checkpoints."""

from __future__ import annotations

import io
import math
import os
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn, optim


def model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1))


def assert_same(a, b):
    """Equal values *and* equal types, recursively (1 == 1.0 == True would hide a bug)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, mt.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert type(k) is type(next(kb for kb in b if kb == k))
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def test_model_state_dict_round_trip(tmp_path):
    net = model()
    path = tmp_path / "model.pt"  # any name: no extension is added
    mt.save(net.state_dict(), path)
    assert os.listdir(tmp_path) == ["model.pt"]
    loaded = mt.load(path)
    assert isinstance(loaded, OrderedDict)
    assert_same(net.state_dict(), loaded)
    fresh = model()
    fresh.load_state_dict(loaded)
    x = mt.rand(5, 2)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), net(x).detach().numpy())


def test_the_file_is_a_plain_npz_readable_without_pickle(tmp_path):
    path = tmp_path / "ckpt.npz"
    mt.save({"w": mt.ones(2, 3)}, path)
    with np.load(path, allow_pickle=False) as archive:
        assert "__microtensor__" in archive.files
        arrays = [archive[name] for name in archive.files if name != "__microtensor__"]
    assert len(arrays) == 1 and arrays[0].shape == (2, 3)


def test_dtypes_shapes_and_flags_survive(tmp_path):
    obj = {
        "f32": mt.randn(3, 2),
        "f64": mt.randn(2, dtype=mt.float64, requires_grad=True),
        "i64": mt.arange(5),
        "i32": mt.tensor([1, 2], dtype=mt.int32),
        "bool": mt.tensor([True, False]),
        "scalar": mt.tensor(3.5),
        "empty": mt.zeros(0, 4),
    }
    mt.save(obj, tmp_path / "t")
    loaded = mt.load(tmp_path / "t")
    assert_same(obj, loaded)
    assert all(type(v) is mt.Tensor for v in loaded.values())


def test_optimizer_like_structures_round_trip_exactly(tmp_path):
    state = {
        "state": {0: {"step": 3, "exp_avg": mt.ones(2), "exp_avg_sq": mt.zeros(2)},
                  1: {"step": 3, "momentum_buffer": None}},
        "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False,
                          "foreach": None, "weight_decay": 0.0, "params": [0, 1],
                          "etas": (0.5, 1.2), "step_sizes": (1e-6, 50.0), "name": "group 0"}],
        "floats": [float("inf"), float("-inf"), float("nan"), -0.0, 1e-300, 0.1 + 0.2],
        "big": 2**70,
        "nested": ([1, (2, [3.0])], {}, [], ()),
        "numpy": (np.float64(0.5), np.int64(7), np.arange(3, dtype=np.int16), np.bool_(True)),
        "keys": {True: "bool key", 2: "int key", 2.5: "float key", None: "none key",
                 (1, "a"): "tuple key"},
    }
    buffer = io.BytesIO()
    mt.save(state, buffer)
    buffer.seek(0)
    assert_same(state, mt.load(buffer))


def test_a_shared_tensor_comes_back_shared(tmp_path):
    t = mt.ones(3)
    mt.save({"a": t, "b": [t]}, tmp_path / "s")
    loaded = mt.load(tmp_path / "s")
    assert loaded["a"] is loaded["b"][0]
    assert len(np.load(tmp_path / "s").files) == 2  # the header and one array


def test_model_and_optimizer_checkpoint_resumes_training_identically(tmp_path):
    def batch():
        return mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), \
            mt.tensor([[0.0], [1.0], [1.0], [0.0]])

    def train(net, opt, steps):
        x, y = batch()
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.binary_cross_entropy_with_logits(net(x), y).backward()
            opt.step()

    mt.manual_seed(0)
    net = model()
    opt = optim.Adam(net.parameters(), lr=0.05)
    train(net, opt, 5)
    path = tmp_path / "checkpoint.npz"
    mt.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 5}, path)
    train(net, opt, 5)

    checkpoint = mt.load(path)
    assert checkpoint["epoch"] == 5
    assert_same(checkpoint["optimizer"]["param_groups"], opt.state_dict()["param_groups"])
    net2 = model()
    net2.load_state_dict(checkpoint["model"])
    opt2 = optim.Adam(net2.parameters(), lr=0.05)
    opt2.load_state_dict(checkpoint["optimizer"])
    train(net2, opt2, 5)
    for a, b in zip(net.parameters(), net2.parameters(), strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_unsupported_values_are_named_with_their_place(tmp_path):
    with pytest.raises(TypeError, match=r"type function at \['param_groups'\]\[0\]\['fn'\]"):
        mt.save({"param_groups": [{"fn": lambda: 0}]}, tmp_path / "x")
    with pytest.raises(TypeError, match="type set"):
        mt.save({1, 2}, tmp_path / "x")
    with pytest.raises(TypeError, match="dtype"):
        mt.save(np.array(["a"], dtype=object), tmp_path / "x")
    assert not os.listdir(tmp_path)  # nothing written, no temporary file left


# ----------------------------------------------------------------------------------------------
# Files that are not checkpoints
# ----------------------------------------------------------------------------------------------

@pytest.fixture
def checkpoint(tmp_path) -> Path:
    path = tmp_path / "good.npz"
    mt.save(model().state_dict(), path)
    return path


def _expect_error(path: Path, *fragments: str) -> None:
    with pytest.raises(RuntimeError) as info:
        mt.load(path)
    message = str(info.value)
    assert str(path) in message and "not a valid microtensor checkpoint" in message
    for fragment in fragments:
        assert fragment in message


def test_truncated_file(checkpoint):
    data = checkpoint.read_bytes()
    checkpoint.write_bytes(data[: len(data) // 2])
    _expect_error(checkpoint)


def test_corrupted_bytes(checkpoint):
    data = bytearray(checkpoint.read_bytes())
    with zipfile.ZipFile(checkpoint) as z:  # flip bytes inside the stored weights
        info = z.getinfo("t0.npy")
    start = info.header_offset + 30 + len(info.filename) + 130
    data[start:start + 8] = bytes(255 - b for b in data[start:start + 8])
    checkpoint.write_bytes(bytes(data))
    _expect_error(checkpoint, "CRC")


def test_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a checkpoint\n")
    _expect_error(path)


def test_foreign_npz_and_npy(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, weights=np.ones(3), bias=np.zeros(2))
    _expect_error(path, "without a '__microtensor__' entry", "weights")
    npy = tmp_path / "array.npy"
    np.save(npy, np.ones(3))
    _expect_error(npy, "single .npy array")


def test_npz_with_a_pickled_object_array_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    header = np.frombuffer(b'{"format": "microtensor-checkpoint", "version": 1, '
                           b'"root": {"ndarray": "t0"}}', dtype=np.uint8)
    np.savez(path, __microtensor__=header, t0=np.array([{"a": 1}], dtype=object))
    _expect_error(path, "allow_pickle=False")


def test_broken_header(tmp_path):
    path = tmp_path / "broken.npz"
    np.savez(path, __microtensor__=np.frombuffer(b"{not json", dtype=np.uint8))
    _expect_error(path, "JSONDecodeError")
    header = b'{"format": "microtensor-checkpoint", "version": 1, "root": {"tensor": "t9"}}'
    np.savez(path, __microtensor__=np.frombuffer(header, dtype=np.uint8))
    _expect_error(path, "missing array 't9'")
    header = b'{"format": "microtensor-checkpoint", "version": 99, "root": null}'
    np.savez(path, __microtensor__=np.frombuffer(header, dtype=np.uint8))
    _expect_error(path, "version 99")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        mt.load(tmp_path / "nope.npz")
