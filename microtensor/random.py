"""Random number generators: ``Generator``, ``default_generator``, ``manual_seed``, ``seed``,
``initial_seed``, ``get_rng_state`` and ``set_rng_state`` (PyTorch's API).

A generator wraps a NumPy ``Generator`` (PCG64), so the numbers differ from PyTorch's for the
same seed (by design); what carries over is reproducibility: the same seed, or the same saved
state, gives the same numbers. Every random function of microtensor (``rand``, ``randn``,
``randint``, ``randperm``, ``normal``, ``bernoulli``, ``multinomial``, dropout, ``nn.init``,
``DataLoader(shuffle=True)``) draws from ``default_generator`` unless it is given
``generator=``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ops.random import DEFAULT_SEED, DEFAULT_STATE, GeneratorBase, RandomState, entropy_seed
from .tensor import Tensor

_INT64_MIN = -(2**63)
_UINT64 = 2**64
# The state as bytes: initial seed (8), PCG64 state (16) and increment (16), has_uint32 (1),
# uinteger (4), little-endian.
_STATE_SIZE = 45


def _check_seed(seed: Any) -> int:
    """A seed as PyTorch takes it: an int in [-2**63, 2**64), negative ones wrapped to uint64."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    value = int(seed)
    if not _INT64_MIN <= value < _UINT64:
        raise ValueError(f"Overflow when unpacking long long: seed {value} does not fit in 64 "
                         f"bits")
    return value % _UINT64


class Generator(GeneratorBase):
    """A random number generator (PyTorch's ``torch.Generator``), on the CPU.

    A new generator starts from PyTorch's default seed, 67280421310721. Pass it as
    ``generator=`` to a random function to draw from it instead of ``default_generator``.

    Args:
        device: only ``"cpu"`` (microtensor runs on the CPU).
    """

    __slots__ = ()

    def __init__(self, device: Any = "cpu") -> None:
        if str(device) != "cpu":
            raise RuntimeError(f"microtensor runs on the CPU only: Generator(device={device!r}) "
                               f"is not available; use Generator() or Generator('cpu')")
        self._state = RandomState(DEFAULT_SEED)

    @classmethod
    def _sharing(cls, state: RandomState) -> Generator:
        """A generator drawing from an existing ``RandomState`` (the default generator's)."""
        g = object.__new__(cls)
        g._state = state
        return g

    @property
    def device(self) -> str:
        """Where the generator lives: always ``"cpu"``."""
        return "cpu"

    def manual_seed(self, seed: int) -> Generator:
        """Restart from ``seed`` (an int in [-2**63, 2**64)) and return this generator."""
        self._state.reseed(_check_seed(seed))
        return self

    def seed(self) -> int:
        """Restart from a nondeterministic seed (from the OS) and return that seed."""
        s = entropy_seed()
        self._state.reseed(s)
        return s

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._state.seed

    def get_state(self) -> Tensor:
        """The generator's state as a uint8 tensor of 45 bytes (PyTorch's has 5056 and another
        layout: a state saved by one library cannot be loaded by the other)."""
        bits = self._state.rng.bit_generator.state
        raw = (self._state.seed.to_bytes(8, "little")
               + bits["state"]["state"].to_bytes(16, "little")
               + bits["state"]["inc"].to_bytes(16, "little")
               + int(bits["has_uint32"]).to_bytes(1, "little")
               + int(bits["uinteger"]).to_bytes(4, "little"))
        return Tensor._make(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state: Tensor) -> Generator:
        """Restore a state returned by ``get_state`` and return this generator."""
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state.dtype != np.uint8:
            raise TypeError(f"RNG state must be a torch.ByteTensor (a uint8 tensor), got dtype "
                            f"{new_state.dtype}")
        if new_state.numel() != _STATE_SIZE:
            raise RuntimeError(f"Expected a microtensor generator state of size {_STATE_SIZE} "
                               f"but found the input RNG state size to be {new_state.numel()}")
        raw = np.ascontiguousarray(new_state.numpy()).reshape(-1).tobytes()
        self._state.reseed(int.from_bytes(raw[0:8], "little"))
        self._state.rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[8:24], "little"),
                      "inc": int.from_bytes(raw[24:40], "little")},
            "has_uint32": raw[40],
            "uinteger": int.from_bytes(raw[41:45], "little"),
        }
        return self

    def __repr__(self) -> str:
        return f"<microtensor.Generator object (cpu) at {id(self):#x}>"


default_generator = Generator._sharing(DEFAULT_STATE)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (every random function of microtensor, so that runs are
    reproducible) and return it."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}")
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from the OS and return the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state (a uint8 tensor; see ``Generator.get_state``)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the default generator's state from ``get_rng_state``."""
    default_generator.set_state(new_state)


def generator() -> np.random.Generator:
    """The NumPy ``Generator`` behind ``default_generator`` (for code inside microtensor)."""
    return DEFAULT_STATE.rng
