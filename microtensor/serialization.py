"""``save`` and ``load``: checkpoints (nested state dicts) as ``.npz`` files, without pickle.

A checkpoint is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays): one array per tensor
(``t0``, ``t1``, ...) and one entry, ``__microtensor__``, holding the structure as JSON text in
which each tensor is a reference such as ``{"tensor": "t0"}``. Loading never runs pickle
(object arrays are refused before their data is read), so a file from someone else
cannot execute code. ``load`` also checks a file before decompressing it: every entry must be a
``.npy`` array of a dtype microtensor supports, whose header agrees with the size the zip
directory declares, and all of them together must fit in ``max_bytes`` (256 MiB unless raised),
so a small "zip bomb" is refused before it allocates anything.

The JSON tags the types JSON lacks, so that they round-trip exactly::

    dict                {"dict": [[key, value], ...]}      (keys are encoded like values,
    OrderedDict         {"odict": [[key, value], ...]}      so int keys stay ints)
    tuple               {"tuple": [...]}                    (a list is a JSON list)
    float               a JSON number, or {"float": "nan"} / "inf" / "-inf"
    Tensor              {"tensor": "t3", "requires_grad": false}
    ndarray             {"ndarray": "t4"}
    NumPy scalar        {"scalar": "t5"}

int, bool, str and None are themselves. A tensor that appears twice is stored once and comes
back as one tensor.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from . import dtypes
from .creation import from_numpy, tensor
from .device import check_device
from .device import device as Device
from .tensor import Tensor

_KEY = "__microtensor__"
_FORMAT = "microtensor-checkpoint"
_VERSION = 1

_DEFAULT_MAX_BYTES = 256 * 2**20  # what load may decompress unless told otherwise

_MAX_NPY_HEADER = 10_000  # bytes of .npy header text, as numpy's own default limit
_CHUNK = 2**20            # arrays are decompressed this many bytes at a time

PathOrFile = str | os.PathLike[str] | IO[bytes]


class _Encoder:
    """Turns an object into JSON-ready values, collecting its arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.names: dict[int, str] = {}  # id(tensor or array) -> its array's name
        self.keep: list[Any] = []        # keeps encoded objects alive so ids stay unique

    def array(self, obj: Any, arr: np.ndarray, where: str) -> str:
        name = self.names.get(id(obj))
        if name is None:
            try:
                dtypes.as_dtype(arr.dtype)
            except TypeError as e:  # what load would refuse, save refuses
                raise TypeError(f"save: cannot store the array at {where or 'the top level'}: "
                                f"{e}") from None
            name = f"t{len(self.arrays)}"
            self.arrays[name] = arr
            self.names[id(obj)] = name
            self.keep.append(obj)
        return name

    def encode(self, obj: Any, where: str) -> Any:
        if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":  # np.float64 is a float
            return {"scalar": self.array(obj, np.asarray(obj), where)}
        if obj is None or isinstance(obj, (bool, int, str)):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, Tensor):
            return {"tensor": self.array(obj, obj.detach().numpy(), where),
                    "requires_grad": obj.requires_grad}
        if isinstance(obj, np.ndarray):
            return {"ndarray": self.array(obj, obj, where)}
        if isinstance(obj, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"tuple": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            tag = "odict" if isinstance(obj, OrderedDict) else "dict"
            return {tag: [[self.encode(k, f"{where} (a key)"), self.encode(v, f"{where}[{k!r}]")]
                          for k, v in obj.items()]}
        raise TypeError(f"save: cannot store a value of type {type(obj).__name__} at "
                        f"{where or 'the top level'}; checkpoints hold tensors, arrays, numbers, "
                        f"strings, None, and lists, tuples and dicts of these")


def save(obj: Any, f: PathOrFile) -> None:
    """Write ``obj`` (e.g. a state dict, or a dict of state dicts) to ``f`` as an .npz file.

    Args:
        obj: tensors, NumPy arrays, numbers, strings and None, nested in lists, tuples and
            dicts (with str or int keys, for example an optimizer's state dict).
        f: a path (written as given: no extension is added) or a binary file object.
    """
    encoder = _Encoder()
    root = encoder.encode(obj, "")
    header = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root}, allow_nan=False)
    entries: dict[str, Any] = {_KEY: np.frombuffer(header.encode("utf-8"), dtype=np.uint8),
                               **encoder.arrays}
    if hasattr(f, "write"):
        np.savez(f, **entries)
        return
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"save(): f must be a path (str or os.PathLike) or a binary file "
                        f"opened for writing, got {type(f).__name__}")
    path = os.fspath(f)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as out:
            np.savez(out, **entries)
        os.replace(tmp, path)  # a crash while writing leaves any previous file intact
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class _Invalid(ValueError):
    """What is wrong with a file that is not a checkpoint (the message says it)."""


class _TooLarge(ValueError):
    """A file that would decompress to more than ``max_bytes`` (the message says how to load it)."""


def _size(n: int) -> str:
    """``n`` bytes for a reader: 512 bytes, 8.0 KiB, 256.0 MiB, 1.5 GiB."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _read_exactly(stream: IO[bytes], n: int, what: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise _Invalid(f"{what} ends after {len(data)} of {n} bytes")
    return data


class _Entry:
    """One ``.npy`` entry of the archive, as its header describes it (nothing else is read)."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        self.info = info
        where = f"entry {info.filename!r}"
        with archive.open(info) as stream:
            start = _read_exactly(stream, 8, f"{where}: its .npy header")
            if not start.startswith(b"\x93NUMPY"):
                raise _Invalid(f"{where} is not a .npy array (it starts with {start!r})")
            major = start[6]
            if major not in (1, 2):  # version 3 only differs by allowing unicode field names
                raise _Invalid(f"{where} has .npy format version {major}.{start[7]}; "
                               f"microtensor reads versions 1.0 and 2.0")
            length_bytes = _read_exactly(stream, 2 if major == 1 else 4,
                                         f"{where}: its .npy header")
            length = int.from_bytes(length_bytes, "little")
            if length > _MAX_NPY_HEADER:
                raise _Invalid(f"{where} has a .npy header of {length} bytes "
                               f"(at most {_MAX_NPY_HEADER} expected)")
            header = io.BytesIO(start + length_bytes +
                                _read_exactly(stream, length, f"{where}: its .npy header"))
        np.lib.format.read_magic(header)  # parsed by NumPy's literal-only reader, never pickle
        read_header = (np.lib.format.read_array_header_1_0 if major == 1
                       else np.lib.format.read_array_header_2_0)
        self.shape, self.fortran_order, self.dtype = read_header(header)
        self.offset = header.tell()
        # Object, string, complex, structured ... arrays are refused before their data is read.
        if info.filename == f"{_KEY}.npy":
            if self.dtype != np.uint8 or len(self.shape) != 1:
                raise _Invalid(f"its '{_KEY}' entry is not a microtensor header "
                               f"({self.dtype} data of shape {self.shape})")
        else:
            try:
                dtypes.as_dtype(self.dtype)
            except TypeError as e:
                raise _Invalid(f"{where} holds an array of {e}") from None
        if any(n < 0 for n in self.shape):
            raise _Invalid(f"{where} has a negative dimension in its shape {self.shape}")
        self.nbytes = math.prod(self.shape) * self.dtype.itemsize
        if self.offset + self.nbytes != info.file_size:
            raise _Invalid(f"{where}: its .npy header describes {self.dtype} data of shape "
                           f"{self.shape}, {self.nbytes} bytes, but the zip entry holds "
                           f"{info.file_size - self.offset} bytes of data")

    def read(self, archive: zipfile.ZipFile) -> np.ndarray:
        """The array, decompressing no more than its header and the size it declares."""
        flat = np.empty(self.nbytes, dtype=np.uint8)
        where = f"entry {self.info.filename!r}"
        with archive.open(self.info) as stream:
            _read_exactly(stream, self.offset, f"{where}: its .npy header")
            for i in range(0, self.nbytes, _CHUNK):
                n = min(_CHUNK, self.nbytes - i)
                flat[i:i + n] = np.frombuffer(_read_exactly(stream, n, f"{where}: its data"),
                                             dtype=np.uint8)
            if stream.read(1):  # (zipfile stops at the declared size; this also checks the CRC)
                raise _Invalid(f"{where} holds more data than its declared size")
        array: np.ndarray = flat.view(self.dtype)
        shape: tuple[int, ...] = self.shape
        if self.fortran_order:
            result: np.ndarray = array.reshape(shape[::-1]).T
        else:
            result = array.reshape(shape)
        return result


def _open_entries(archive: zipfile.ZipFile, max_bytes: int | None) -> dict[str, _Entry]:
    """Check every entry of the archive before decompressing any array; name -> entry."""
    infos = archive.infolist()
    names = [info.filename.removesuffix(".npy") for info in infos]
    if _KEY not in names:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise _Invalid(f"it is an .npz archive without a '{_KEY}' entry (its arrays: "
                       f"{shown or 'none'}); it was not written by microtensor.save")
    if len(set(names)) != len(names):
        raise _Invalid("it has two entries with the same name")
    total = sum(info.file_size for info in infos)  # as the zip directory declares them
    if max_bytes is not None and total > max_bytes:
        largest = max(infos, key=lambda info: info.file_size)
        suggestion = 2 ** (total - 1).bit_length()
        raise _TooLarge(
            f"refused to load: its entries take {_size(total)} once decompressed (the largest, "
            f"{largest.filename!r}, {_size(largest.file_size)}), more than "
            f"max_bytes={max_bytes} ({_size(max_bytes)}). If you trust this file, raise the "
            f"limit: load(..., max_bytes=2**{suggestion.bit_length() - 1}), or max_bytes=None "
            f"for no limit")
    entries = {}
    for name, info in zip(names, infos, strict=True):
        if not info.filename.endswith(".npy"):
            raise _Invalid(f"entry {info.filename!r} is not a .npy array")
        entries[name] = _Entry(archive, info)
    return entries


class _Decoder:
    """Turns the JSON values back into objects, reading their arrays."""

    def __init__(self, archive: zipfile.ZipFile, entries: dict[str, _Entry]) -> None:
        self.archive = archive
        self.entries = entries
        self.loaded: dict[tuple[str, str], Any] = {}

    def shared(self, kind: str, name: Any, make: Any) -> Any:
        """``make(array)`` for the array called ``name``, made once per kind of reference."""
        if not isinstance(name, str) or name == _KEY or name not in self.entries:
            raise _Invalid(f"reference to a missing array {name!r}")
        key = (kind, name)
        if key not in self.loaded:
            self.loaded[key] = make(self.entries[name].read(self.archive))
        return self.loaded[key]

    def make_tensor(self, array: np.ndarray, requires_grad: Any) -> Tensor:
        if not isinstance(requires_grad, bool):
            raise _Invalid(f"requires_grad should be true or false, not {requires_grad!r}")
        # NOTE: from_numpy fails on 0-d arrays today; mt.tensor copies, which is cheap for them.
        t = from_numpy(array) if array.ndim else tensor(array)
        return t.requires_grad_(requires_grad)

    def scalar(self, array: np.ndarray) -> Any:
        if array.ndim != 0:
            raise _Invalid(f"a scalar is stored with shape {array.shape}")
        return array[()]

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict) or len(node) not in (1, 2):
            raise _Invalid(f"unexpected entry {str(node)[:80]}")
        tag, value = next(iter(node.items()))
        if tag == "tensor":
            grad = node.get("requires_grad", False)
            return self.shared("tensor", value, lambda a: self.make_tensor(a, grad))
        if tag == "ndarray":
            return self.shared("ndarray", value, lambda a: a)
        if tag == "scalar":
            return self.shared("scalar", value, self.scalar)
        if tag == "float" and value in ("nan", "inf", "-inf"):
            return float(value)
        if tag == "tuple" and isinstance(value, list):
            return tuple(self.decode(v) for v in value)
        if tag in ("dict", "odict") and isinstance(value, list):
            pairs = [(self.decode(k), self.decode(v)) for k, v in value]
            return OrderedDict(pairs) if tag == "odict" else dict(pairs)
        raise _Invalid(f"unexpected entry {str(node)[:80]}")


def _name(f: Any) -> str:
    if hasattr(f, "read"):
        return str(getattr(f, "name", "<file object>"))
    path: str = os.fspath(f)
    return path


def _first_bytes(f: Any, n: int = 6) -> bytes:
    if hasattr(f, "read"):
        start = f.tell()
        head: bytes = f.read(n)
        f.seek(start)
        return head
    with open(f, "rb") as file:
        return file.read(n)


def load(f: PathOrFile, map_location: Any = None, *, weights_only: bool = True,
         max_bytes: int | None = _DEFAULT_MAX_BYTES) -> Any:
    """Read an object written by ``save``; tensors come back as Tensors with their dtype.

    The file is checked before anything is decompressed: it must be an .npz archive of
    ``.npy`` arrays of dtypes microtensor supports, with a ``save`` header, whose sizes add up
    to at most ``max_bytes``. Pickled (object) arrays are refused, never unpickled.

    Args:
        f: a path or a binary file object.
        map_location, weights_only: accepted for PyTorch compatibility (everything lives on
            the CPU, and loading never runs pickle, so it is always "weights only"); a
            ``map_location`` naming a device other than the CPU (``"cuda"``) raises.
        max_bytes: the most bytes the file may decompress to (its arrays and header), 256 MiB
            by default; ``None`` for no limit. It stops a small file that inflates to gigabytes
            (a "zip bomb"); raise it for a larger checkpoint that you trust.

    Raises:
        FileNotFoundError: if there is no such file.
        RuntimeError: naming the file and the reason, if it is not a (complete) microtensor
            checkpoint, or if it would decompress to more than ``max_bytes``.
    """
    if isinstance(map_location, (str, Device)):
        check_device(map_location, "a loaded checkpoint")
    if max_bytes is not None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int):
            raise TypeError(f"load: max_bytes must be an int (a number of bytes) or None, got "
                            f"{type(max_bytes).__name__}")
        if max_bytes < 0:
            raise ValueError(f"load: max_bytes must be at least 0, got {max_bytes}")
    name = _name(f)
    try:
        head = _first_bytes(f)
        if head.startswith(b"\x93NUMPY"):
            raise _Invalid("it holds a single .npy array, not an .npz archive")
        if not head.startswith(b"PK"):
            raise _Invalid("the file is empty" if not head else
                           f"it is not an .npz (zip) archive: it starts with {head!r}")
        with zipfile.ZipFile(f) as archive:
            entries = _open_entries(archive, max_bytes)
            text = entries[_KEY].read(archive).tobytes().decode("utf-8")
            header = json.loads(text)
            if not isinstance(header, dict) or header.get("format") != _FORMAT:
                raise _Invalid(f"its '{_KEY}' entry is not a microtensor header")
            if header.get("version") != _VERSION:
                raise _Invalid(f"it has format version {header.get('version')}; this "
                               f"microtensor reads version {_VERSION}")
            return _Decoder(archive, entries).decode(header.get("root"))
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except _TooLarge as e:
        raise RuntimeError(f"{name}: {e}") from None
    except Exception as e:  # any other failure means the content is not what save writes
        why = str(e) if isinstance(e, _Invalid) else f"{type(e).__name__}: {e}"
        raise RuntimeError(f"{name}: not a valid microtensor checkpoint ({why})") from e
