"""save / load: exact round trips of model and optimizer state dicts through .npz files
(no pickle), clear errors for files that are not microtensor checkpoints, and hostile files
(zip bombs, lying headers, pickled or unsupported arrays) refused before they allocate."""

from __future__ import annotations

import io
import json
import math
import os
import struct
import tracemalloc
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
    with pytest.raises(TypeError, match="dtype object"):
        mt.save(np.array(["a"], dtype=object), tmp_path / "x")
    # what load refuses, save refuses too, with the place and the supported dtypes
    with pytest.raises(TypeError, match=r"at \['ids'\]: unsupported dtype uint32; microtensor "
                                        r"supports float32"):
        mt.save({"ids": np.arange(3, dtype=np.uint32)}, tmp_path / "x")
    with pytest.raises(TypeError, match=r"at \[0\]: unsupported dtype uint64"):
        mt.save([np.uint64(3)], tmp_path / "x")
    with pytest.raises(TypeError, match="unsupported dtype >f4"):
        mt.save(np.ones(2, dtype=">f4"), tmp_path / "x")
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


# ----------------------------------------------------------------------------------------------
# Hostile files: refused by name and reason, before anything big is allocated
# ----------------------------------------------------------------------------------------------

def _header(root) -> bytes:
    """The __microtensor__.npy entry of a checkpoint whose structure is ``root``."""
    text = json.dumps({"format": "microtensor-checkpoint", "version": 1, "root": root})
    return _npy(np.frombuffer(text.encode(), dtype=np.uint8))


def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=True)
    return out.getvalue()


def _npy_header(dtype: str, shape: tuple[int, ...]) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        out, {"descr": dtype, "fortran_order": False, "shape": shape})
    return out.getvalue()


def _write_zip(path: Path, entries: dict[str, bytes | list[bytes]]) -> Path:
    """A deflated zip; an entry given as a list of chunks is streamed (never whole in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in entries.items():
            with z.open(name, "w") as out:
                for chunk in data if isinstance(data, list) else [data]:
                    out.write(chunk)
    return path


def _declare(path: Path, member: str, *, size: int, crc: int | None = None) -> None:
    """Make the zip directory (and local header) of ``member`` declare another size (and CRC)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        local = z.getinfo(member).header_offset
    entry = struct.unpack_from("<I", data, data.rindex(b"PK\x05\x06") + 16)[0]  # directory
    while data[entry + 46:entry + 46 + struct.unpack_from("<H", data, entry + 28)[0]] != \
            member.encode():
        n, m, k = struct.unpack_from("<HHH", data, entry + 28)
        entry += 46 + n + m + k
    struct.pack_into("<I", data, local + 22, size)
    struct.pack_into("<I", data, entry + 24, size)
    if crc is not None:
        struct.pack_into("<I", data, local + 14, crc)
        struct.pack_into("<I", data, entry + 16, crc)
    path.write_bytes(bytes(data))


def _refusal(path: Path, **kwargs) -> tuple[str, int]:
    """The message of the RuntimeError ``mt.load(path)`` raises, and the peak memory it took."""
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError) as info:
            mt.load(path, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert str(path) in message
    return message, peak


class _Trap:
    """Unpickling it creates a file: proof that something was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker,)


def test_a_pickled_object_array_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"
    path = _write_zip(tmp_path / "evil.npz", {
        "__microtensor__.npy": _header({"ndarray": "t0"}),
        "t0.npy": _npy(np.array([_Trap(marker)], dtype=object)),
    })
    message, _ = _refusal(path)
    assert "entry 't0.npy' holds an array of unsupported dtype object" in message
    assert not marker.exists()
    with np.load(path, allow_pickle=True) as archive:  # the trap is live: pickle would spring it
        archive["t0"]
    assert marker.exists()


@pytest.mark.parametrize("array", [
    np.ones(2, dtype=np.complex128),
    np.ones(2, dtype=np.uint64),
    np.array(["ab", "c"]),
    np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]),
    np.ones(2, dtype=">f4"),
    np.zeros(2, dtype="datetime64[s]"),
], ids=lambda a: str(a.dtype))
@pytest.mark.parametrize("kind", ["tensor", "ndarray"])
def test_unsupported_dtypes_are_refused_by_entry_and_dtype(tmp_path, array, kind):
    path = _write_zip(tmp_path / "odd.npz", {"__microtensor__.npy": _header({kind: "t0"}),
                                             "t0.npy": _npy(array)})
    message, _ = _refusal(path)
    assert f"entry 't0.npy' holds an array of unsupported dtype {array.dtype}" in message
    assert "microtensor supports float32, float64, int64, int32, bool" in message


def test_a_zip_bomb_is_refused_before_it_is_decompressed(tmp_path):
    # 8 MiB of zeros in an 8 KiB file; the limit is set low so the test stays small and fast.
    n = 2**20
    path = _write_zip(tmp_path / "bomb.npz", {
        "__microtensor__.npy": _header({"tensor": "t0", "requires_grad": False}),
        "t0.npy": [_npy_header("<f8", (n,)), *[bytes(2**20)] * 8],
    })
    assert path.stat().st_size < 64 * 2**10
    message, peak = _refusal(path, max_bytes=2**20)
    assert "refused to load: its entries take 8.0 MiB once decompressed (the largest, " \
           "'t0.npy', 8.0 MiB), more than max_bytes=1048576 (1.0 MiB)" in message
    assert "raise the limit: load(..., max_bytes=2**24), or max_bytes=None" in message
    assert peak < 2**20  # the array was never allocated
    # raising the limit, as the message says, loads it
    loaded = mt.load(path, max_bytes=2**24)
    assert loaded.shape == (n,) and loaded.dtype == mt.float64
    assert not loaded.detach().numpy().any()


def test_the_default_limit_of_256_mib_refuses_a_file_declaring_512_mib(tmp_path):
    path = _write_zip(tmp_path / "big.npz", {"__microtensor__.npy": _header({"tensor": "t0"}),
                                             "t0.npy": _npy(np.zeros(4))})
    _declare(path, "t0.npy", size=2**29)  # the zip directory claims 512 MiB
    message, peak = _refusal(path)
    assert "'t0.npy', 512.0 MiB), more than max_bytes=268435456 (256.0 MiB)" in message
    assert "max_bytes=2**30" in message
    assert peak < 2**20


def test_a_legitimate_checkpoint_over_the_limit_loads_once_the_limit_is_raised(tmp_path):
    weights = {"w": mt.randn(512, 1024)}  # 2 MiB of float32
    path = tmp_path / "big.npz"
    mt.save(weights, path)
    message, _ = _refusal(path, max_bytes=2**20)
    assert "more than max_bytes=1048576" in message and "max_bytes=2**22" in message
    for limit in (2**22, None):
        assert_same(mt.load(path, max_bytes=limit), weights)
    assert_same(mt.load(path), weights)  # far below the default


def test_a_header_that_lies_about_its_shape_is_refused_without_allocating(tmp_path):
    # an 80-byte entry whose .npy header claims 1 GiB: NumPy would allocate the 1 GiB first
    path = _write_zip(tmp_path / "liar.npz", {
        "__microtensor__.npy": _header({"tensor": "t0"}),
        "t0.npy": _npy_header("<f8", (2**27,)) + bytes(80),
    })
    message, peak = _refusal(path)
    assert "entry 't0.npy': its .npy header describes float64 data of shape (134217728,), " \
           "1073741824 bytes, but the zip entry holds 80 bytes of data" in message
    assert peak < 2**20


def test_an_entry_inflating_past_its_declared_size_is_cut_there(tmp_path):
    # the zip directory declares 10 float64 values; the compressed data inflates to 8 MiB more
    header = _npy_header("<f8", (10,))
    path = _write_zip(tmp_path / "long.npz", {
        "__microtensor__.npy": _header({"tensor": "t0"}),
        "t0.npy": [header, *[bytes(2**20)] * 8],
    })
    _declare(path, "t0.npy", size=len(header) + 80)
    message, peak = _refusal(path)
    assert "t0.npy" in message and "CRC" in message
    assert peak < 2**20
    # with a CRC that matches the declared bytes, those bytes (and nothing more) are read
    _declare(path, "t0.npy", size=len(header) + 80, crc=zipfile.crc32(header + bytes(80)))
    tracemalloc.start()
    try:
        loaded = mt.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert loaded.shape == (10,) and peak < 2**20


def test_entries_that_are_not_checkpoint_arrays(tmp_path):
    good = _header({"tensor": "t0"})
    cases = {
        "entry 'notes.txt' is not a .npy array": {"notes.txt": b"hello"},
        "entry 't0.npy' is not a .npy array (it starts with b'PK": {"t0.npy": b"PK\x03\x04...."},
        "entry 't0.npy' has a .npy header of 70000 bytes (at most 10000 expected)":
            {"t0.npy": b"\x93NUMPY\x02\x00" + struct.pack("<I", 70000) + b" " * 70000},
        "entry 't0.npy' has .npy format version 3.0":
            {"t0.npy": b"\x93NUMPY\x03\x00" + _npy_header("<f4", (1,))[8:] + bytes(4)},
        "entry 't0.npy': its .npy header ends after 3 of 8 bytes": {"t0.npy": b"\x93NU"},
        "entry 't0.npy' has a negative dimension": {"t0.npy": _npy_header("<f4", (-1,))},
    }
    for fragment, entries in cases.items():
        path = _write_zip(tmp_path / "odd.npz", {"__microtensor__.npy": good, **entries})
        message, _ = _refusal(path)
        assert "not a valid microtensor checkpoint" in message and fragment in message, message
    path = _write_zip(tmp_path / "odd.npz",
                      {"__microtensor__.npy": _npy(np.ones(3)), "t0.npy": _npy(np.ones(1))})
    message, _ = _refusal(path)
    assert "its '__microtensor__' entry is not a microtensor header (float64 data" in message


def test_malformed_references_are_named(tmp_path):
    cases = {
        "requires_grad should be true or false, not 'yes'":
            {"tensor": "t0", "requires_grad": "yes"},
        "a scalar is stored with shape (2,)": {"scalar": "t0"},
        "reference to a missing array ['t0']": {"tensor": ["t0"]},
    }
    for fragment, root in cases.items():
        path = _write_zip(tmp_path / "odd.npz", {"__microtensor__.npy": _header(root),
                                                 "t0.npy": _npy(np.ones(2))})
        message, _ = _refusal(path)
        assert fragment in message, message


def test_max_bytes_must_be_a_non_negative_int_or_none(checkpoint):
    with pytest.raises(TypeError, match=r"max_bytes must be an int \(a number of bytes\) or "
                                        r"None, got float"):
        mt.load(checkpoint, max_bytes=1e9)
    with pytest.raises(TypeError, match="got bool"):
        mt.load(checkpoint, max_bytes=True)
    with pytest.raises(ValueError, match="max_bytes must be at least 0, got -1"):
        mt.load(checkpoint, max_bytes=-1)
    mt.load(checkpoint, max_bytes=checkpoint.stat().st_size)  # stored: sizes equal the file's


def test_fortran_ordered_and_transposed_arrays_round_trip(tmp_path):
    obj = {"f": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "t": mt.randn(3, 4).T,
           "small": mt.tensor(np.array([1, 2, 3], dtype=np.int8)),
           "half": mt.tensor(np.ones(2, dtype=np.float16))}
    mt.save(obj, tmp_path / "f")
    assert_same(mt.load(tmp_path / "f"), obj)


def test_save_to_something_that_is_neither_a_path_nor_a_file_names_it():
    with pytest.raises(TypeError, match=r"save\(\): f must be a path .* got int"):
        mt.save({"w": mt.ones(2)}, 123)
