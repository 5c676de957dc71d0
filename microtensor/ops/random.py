"""Sampling ops, and the random state that they and every random function draw from.

A ``GeneratorBase`` holds a ``RandomState`` (a NumPy ``Generator`` and the seed it was made
from); ``microtensor.Generator`` (in ``microtensor/random.py``) subclasses it and adds PyTorch's
methods, as ``Tensor`` extends ``TensorBase``. ``DEFAULT_STATE`` is the state of the default
generator: ``microtensor.default_generator`` shares it, and ``numpy_rng(None)`` draws from it.

The ops sample from a distribution whose parameters are tensors (``bernoulli(p)``,
``normal(mean, std)``, ``poisson(rate)``, ``multinomial(probs)``), so the draw happens inside
an op. Their derivative is 0 as in PyTorch (no reparameterisation): ``normal(mean, std)``
records a node whose gradient for ``mean`` and ``std`` is zeros.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.function import Context, Function, recording

if TYPE_CHECKING:  # for annotations only (microtensor.tensor imports the ops)
    from ..tensor import Tensor


DEFAULT_SEED = 67280421310721  # the seed of a new generator, as in PyTorch
_UINT64 = 2**64


class RandomState:
    """A NumPy ``Generator`` (PCG64) and the 64-bit seed it was created from."""

    __slots__ = ("rng", "seed")

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)

    def reseed(self, seed: int) -> None:
        """Start a new stream from ``seed`` (an int in [0, 2**64)), in the same NumPy
        ``Generator`` object (so code holding it sees the new stream)."""
        if recording.recorder is not None:  # (a replay would go on drawing from the old stream)
            recording.recorder.refuse("a random generator seeded inside the step (manual_seed, "
                                      "set_rng_state): seed it before calling the step")
        self.seed = int(seed)
        self.rng.bit_generator.state = np.random.PCG64(self.seed).state


def entropy_seed() -> int:
    """A 64-bit seed from the operating system's entropy (what ``seed()`` uses)."""
    return int.from_bytes(os.urandom(8), "little")


# The default generator starts from a nondeterministic seed, as PyTorch's does.
DEFAULT_STATE = RandomState(entropy_seed())


class GeneratorBase:
    """The part of a generator that the random functions read: its ``RandomState``.

    ``microtensor.Generator`` subclasses it with PyTorch's methods.
    """

    __slots__ = ("_state",)

    _state: RandomState


def numpy_rng(generator: Any, name: str) -> np.random.Generator:
    """The NumPy generator to draw from: the default one for None, else ``generator``'s.

    Raises:
        TypeError: ``generator`` is not a ``microtensor.Generator`` (PyTorch's wording).
    """
    if generator is None:
        return DEFAULT_STATE.rng
    if not isinstance(generator, GeneratorBase):
        raise TypeError(f"{name}(): argument 'generator' must be torch.Generator, not "
                        f"{type(generator).__name__}")
    return generator._state.rng


def _zeros_like(g: Tensor) -> Tensor:
    return g._make(np.zeros_like(g._data))


class Bernoulli(Function):
    """y_i = 1 with probability p_i, else 0 (in p's dtype);   dp = 0 (as PyTorch)"""

    @staticmethod
    def forward(ctx: Context, p: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
        if not bool(np.all((p >= 0) & (p <= 1))):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false. "
                               "(bernoulli: every probability must be in [0, 1])")
        return np.asarray(rng.random(p.shape) < p, dtype=p.dtype)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return _zeros_like(g)


class BernoulliScalar(Function):
    """y_i = 1 with probability p (a number), else 0, in x's shape and dtype; no derivative
    (PyTorch records the node but its backward raises)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, p: float,
                rng: np.random.Generator) -> np.ndarray:
        return np.asarray(rng.random(x.shape) < p, dtype=x.dtype)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        raise RuntimeError("derivative for aten::bernoulli is not implemented")


class DropoutMask(Function):
    """m_i = 1 / (1 - p) with probability 1 - p, else 0 (m_i = (u_i >= p) / (1 - p), u uniform
    in [0, 1)), in x's shape and dtype: the mask that ``dropout`` multiplies by; not
    differentiable (apply it to a detached tensor)"""

    # NOTE: the mask is drawn inside the op (one ``random`` call in x's shape, as before it was
    # an op), so seeded results are unchanged and a replay draws a fresh mask each time.
    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, p: float,
                rng: np.random.Generator) -> np.ndarray:
        keep = rng.random(x.shape) >= p
        return np.where(keep, 1.0 / (1.0 - p), 0.0).astype(x.dtype)


class Normal(Function):
    """y = mean + std * z, z ~ N(0, 1) elementwise (mean and std broadcast);
    dmean = 0, dstd = 0 (as PyTorch: its normal is not reparameterised)"""

    @staticmethod
    def forward(ctx: Context, mean: Any, std: Any, *, dtype: np.dtype,
                rng: np.random.Generator) -> np.ndarray:
        if not bool(np.all(np.asarray(std) >= 0)):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(mean), np.shape(std))
        return np.asarray(mean + std * rng.standard_normal(shape), dtype=dtype)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor, Tensor]:
        return _zeros_like(g), _zeros_like(g)


class Poisson(Function):
    """y_i ~ Poisson(rate_i) (in rate's dtype);   drate = 0 (as PyTorch)"""

    @staticmethod
    def forward(ctx: Context, rate: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
        if not bool(np.all(rate >= 0)):
            raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
        if not bool(np.all(rate < 1e18)):
            raise RuntimeError("poisson: microtensor supports rates below 1e18 (NumPy's limit), "
                               "got an infinite or larger rate")
        return np.asarray(rng.poisson(rate.astype(np.float64)), dtype=rate.dtype)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return _zeros_like(g)


class Multinomial(Function):
    """Row-wise draws of category indices with probability proportional to ``probs`` (1-D or
    2-D): with replacement by inverting the cumulative sum, without replacement by the top
    ``n`` of p / e with e ~ Exp(1) (which draws sequentially without replacement). int64;
    not differentiable."""

    @staticmethod
    def forward(ctx: Context, probs: np.ndarray, *, num_samples: int, replacement: bool,
                rng: np.random.Generator) -> np.ndarray:
        p = np.atleast_2d(probs).astype(np.float64)
        rows, k = p.shape
        if not bool(np.all(np.isfinite(p) & (p >= 0))):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if rows and k and not bool(np.all(p.sum(axis=1) > 0)):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if rows == 0 or num_samples == 0:
            out = np.zeros((rows, num_samples), dtype=np.int64)
        elif replacement:
            cum = np.cumsum(p, axis=1)
            cdf = cum / cum[:, -1:]
            row = np.arange(rows)[:, None]
            # One search over all rows: row r's cdf is shifted into [r, r + 1].
            u = rng.random((rows, num_samples))
            idx = np.searchsorted((cdf + row).ravel(), (u + row).ravel(), side="right")
            idx = idx.reshape(rows, num_samples) - row * k
            last = k - 1 - np.argmax(p[:, ::-1] > 0, axis=1)  # never past the last p > 0
            out = np.minimum(idx, last[:, None])
        else:
            e = rng.standard_exponential((rows, k))
            with np.errstate(divide="ignore", invalid="ignore"):
                keys = p / e
            out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
        out = out.astype(np.int64)
        return out[0] if probs.ndim == 1 else out
