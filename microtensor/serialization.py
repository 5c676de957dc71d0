"""``save`` and ``load``: checkpoints (nested state dicts) as ``.npz`` files, without pickle.

A checkpoint is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays): one array per tensor
(``t0``, ``t1``, ...) and one entry, ``__microtensor__``, holding the structure as JSON text in
which each tensor is a reference such as ``{"tensor": "t0"}``. Loading never runs pickle
(``np.load(..., allow_pickle=False)``), so a file from someone else cannot execute code.

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

import json
import math
import os
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from .tensor import Tensor

_KEY = "__microtensor__"
_FORMAT = "microtensor-checkpoint"
_VERSION = 1

PathOrFile = str | os.PathLike[str] | IO[bytes]


class _Encoder:
    """Turns an object into JSON-ready values, collecting its arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.names: dict[int, str] = {}  # id(tensor or array) -> its array's name
        self.keep: list[Any] = []        # keeps encoded objects alive so ids stay unique

    def array(self, obj: Any, arr: np.ndarray) -> str:
        name = self.names.get(id(obj))
        if name is None:
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"cannot save an array of dtype {arr.dtype}")
            name = f"t{len(self.arrays)}"
            self.arrays[name] = arr
            self.names[id(obj)] = name
            self.keep.append(obj)
        return name

    def encode(self, obj: Any, where: str) -> Any:
        if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":  # np.float64 is a float
            return {"scalar": self.array(obj, np.asarray(obj))}
        if obj is None or isinstance(obj, (bool, int, str)):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, Tensor):
            return {"tensor": self.array(obj, obj.detach().numpy()), "requires_grad": obj.requires_grad}
        if isinstance(obj, np.ndarray):
            return {"ndarray": self.array(obj, obj)}
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
    entries = {_KEY: np.frombuffer(header.encode("utf-8"), dtype=np.uint8), **encoder.arrays}
    if hasattr(f, "write"):
        np.savez(f, **entries)
        return
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


class _Decoder:
    """Turns the JSON values back into objects, looking up their arrays."""

    def __init__(self, archive: Any) -> None:
        self.archive = archive
        self.loaded: dict[tuple[str, str], Any] = {}

    def array(self, name: Any) -> np.ndarray:
        if not isinstance(name, str) or name == _KEY or name not in self.archive.files:
            raise _Invalid(f"reference to a missing array {name!r}")
        return self.archive[name]

    def shared(self, kind: str, name: str, make: Any) -> Any:
        key = (kind, name)
        if key not in self.loaded:
            self.loaded[key] = make(self.array(name))
        return self.loaded[key]

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
            return self.shared("tensor", value, lambda a: Tensor._make(a).requires_grad_(grad))
        if tag == "ndarray":
            return self.shared("ndarray", value, lambda a: a)
        if tag == "scalar":
            return self.shared("scalar", value, lambda a: a[()])
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
    return os.fspath(f)


def _first_bytes(f: Any, n: int = 6) -> bytes:
    if hasattr(f, "read"):
        start = f.tell()
        head = f.read(n)
        f.seek(start)
        return head
    with open(f, "rb") as file:
        return file.read(n)


def load(f: PathOrFile, map_location: Any = None, *, weights_only: bool = True) -> Any:
    """Read an object written by ``save``; tensors come back as Tensors with their dtype.

    Args:
        f: a path or a binary file object.
        map_location, weights_only: accepted for PyTorch compatibility (everything lives on
            the CPU, and loading never runs pickle, so it is always "weights only").

    Raises:
        FileNotFoundError: if there is no such file.
        RuntimeError: naming the file, if it is not a (complete) microtensor checkpoint.
    """
    name = _name(f)
    try:
        head = _first_bytes(f)
        if head.startswith(b"\x93NUMPY"):
            raise _Invalid("it holds a single .npy array, not an .npz archive")
        if not head.startswith(b"PK"):
            raise _Invalid("the file is empty" if not head else
                           f"it is not an .npz (zip) archive: it starts with {head!r}")
        with np.load(f, allow_pickle=False) as archive:
            if _KEY not in archive.files:
                shown = ", ".join(archive.files[:5]) + (", ..." if len(archive.files) > 5 else "")
                raise _Invalid(f"it is an .npz archive without a '{_KEY}' entry (its arrays: "
                               f"{shown or 'none'}); it was not written by microtensor.save")
            header = json.loads(archive[_KEY].tobytes().decode("utf-8"))
            if not isinstance(header, dict) or header.get("format") != _FORMAT:
                raise _Invalid(f"its '{_KEY}' entry is not a microtensor header")
            if header.get("version") != _VERSION:
                raise _Invalid(f"it has format version {header.get('version')}; this "
                               f"microtensor reads version {_VERSION}")
            return _Decoder(archive).decode(header.get("root"))
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as e:  # any other failure means the content is not what save writes
        why = str(e) if isinstance(e, _Invalid) else f"{type(e).__name__}: {e}"
        raise RuntimeError(f"{name}: not a valid microtensor checkpoint ({why})") from e
