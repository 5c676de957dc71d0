"""Devices: ``device`` (PyTorch's ``torch.device``) and the default device.

microtensor computes with NumPy, on the CPU only. A ``device`` object can name any of PyTorch's
device types (``device("cuda")`` is a valid description, as in PyTorch), but a tensor or a
module can only be put on the CPU: asking for any other device raises a ``RuntimeError``
that says so (``check_device``), where PyTorch would move the data.
"""

from __future__ import annotations

import re
from typing import Any

# PyTorch's device types, in the order of its error message.
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
          "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


_PATTERN = re.compile(r"([a-zA-Z_]+)(?::([1-9][0-9]*|0))?")


def _parse(text: str) -> tuple[str, int | None]:
    """``"cuda:1"`` -> ``("cuda", 1)``, with PyTorch's errors for malformed strings."""
    if not text:
        raise RuntimeError("Device string must not be empty")
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise RuntimeError(f"Invalid device string: '{text}'")
    kind, index = match.groups()
    if kind not in _TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device "
                           f"string: {kind}")
    return kind, None if index is None else int(index)


class device:  # noqa: N801 - PyTorch's name
    """Where a tensor lives: ``device("cpu")``, ``device("cpu", 0)``, ``device("cuda:0")``.

    As ``torch.device``: ``type`` is the device type and ``index`` its number (or None);
    devices are equal when both are, and never equal to strings (``device("cpu") == "cpu"`` is
    False in PyTorch too: compare ``t.device.type == "cpu"``). Any PyTorch device type can be
    described, but microtensor puts tensors on the CPU only: using another device raises.
    """

    __slots__ = ("_type", "_index")
    _type: str
    _index: int | None

    def __init__(self, type: Any, index: Any = None) -> None:  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): argument 'type' (position 1) must be str, not device "
                                "(when an index is given)")
            kind, number = type.type, type.index
        elif isinstance(type, str):
            kind, number = _parse(type)
            if index is not None:
                if number is not None:
                    raise RuntimeError(f"type (string) must not include an index because index "
                                       f"was passed explicitly: {type}")
                number = _index(index)
        elif isinstance(type, int) and not isinstance(type, bool):
            # torch.device(0) is accelerator 0; there is none.
            raise RuntimeError(f"device({type}): an integer names an accelerator device "
                               f"(CUDA, MPS), and microtensor runs on the CPU only; use "
                               f"device('cpu')")
        else:
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({_name(type)}), but expected a device string such as 'cpu' or "
                            f"'cuda:0', a device, or (type, index)")
        object.__setattr__(self, "_type", kind)
        object.__setattr__(self, "_index", number)

    @property
    def type(self) -> str:
        """The device type: ``"cpu"``, ``"cuda"``, ``"mps"``, ..."""
        return self._type

    @property
    def index(self) -> int | None:
        """The device's number (``cuda:1`` has index 1), or None when not given."""
        return self._index

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"attribute '{name}' of 'microtensor.device' objects is not "
                             f"writable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return self._type == other._type and self._index == other._index

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (device, (self._type, self._index))

    def __enter__(self) -> device:
        """``with device("cpu"):`` makes it the default device until the block ends (another
        device raises, as microtensor runs on the CPU only)."""
        _entered.append(_default[0])
        try:
            set_default_device(self)
        except RuntimeError:
            _entered.pop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        _default[0] = _entered.pop()


def _name(value: Any) -> str:
    return type(value).__name__


def _index(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"device(): argument 'index' (position 2) must be int, not "
                        f"{_name(value)}")
    if value < 0:
        raise RuntimeError("Device index must not be negative")
    return value


CPU = device("cpu")

_default: list[device | None] = [None]  # what set_default_device was given (None: the CPU)
_entered: list[device | None] = []  # the defaults that `with device(...)` blocks replaced


def check_device(value: Any, what: str = "a tensor") -> device:
    """The device that ``value`` names (``None`` means the default device), which must be the
    CPU; anything else raises a ``RuntimeError`` saying that microtensor runs on the CPU only.

    Args:
        value: None, a device string (``"cpu"``, ``"cpu:0"``, ``"cuda"``) or a ``device``.
        what: what was to be put on the device, for the message.
    """
    if value is None:
        return CPU
    if value is CPU:
        return value
    d = value if isinstance(value, device) else device(value)
    if d.type != "cpu":
        raise RuntimeError(f"microtensor runs on the CPU only, so {what} cannot go on device "
                           f"'{d}' (microtensor computes with NumPy: there is no CUDA or MPS "
                           f"support). Use device='cpu', or leave the device out")
    return d


def set_default_device(device: Any) -> None:  # noqa: A002 - PyTorch's name
    """Set the device on which creation functions put tensors: only ``"cpu"`` (or None, the
    CPU) is accepted; another device raises, as microtensor runs on the CPU only."""
    _default[0] = None if device is None else check_device(device, "tensors created by default")


def get_default_device() -> device:
    """The device on which creation functions put tensors: ``device(type='cpu')`` unless
    ``set_default_device`` named one (such as ``"cpu:0"``)."""
    return _default[0] or CPU
