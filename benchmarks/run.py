"""Benchmarks: microtensor against hand-written NumPy (our floor), PyTorch eager and JAX jit
(each where installed).

Every workload is timed side by side in one process run; the table reports medians over
repeats and the ratio of each implementation to hand-written NumPy.

    python benchmarks/run.py                 # the full run published in docs/benchmarks.md
    python benchmarks/run.py --quick         # a smoke run (a few steps of everything)
    python benchmarks/run.py --only xor moons adam mlp rnn --repeats 7
    python benchmarks/run.py --only conv --conv-steps 30
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import importlib
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

# One BLAS thread, like PyTorch and JAX below: the comparison is then of the frameworks, not of
# thread pools competing for 2 cores. Set these variables yourself to measure something else.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS",  # read when JAX starts its CPU backend
                      "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402
from numpy.typing import DTypeLike  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "examples")]  # microtensor, and the examples' helper

from _progress import Progress  # noqa: E402

import microtensor as mt  # noqa: E402

try:  # PyTorch is an optional reference, passed around as a module like microtensor.
    torch: ModuleType | None = importlib.import_module("torch")
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

JAX_NAME = "JAX jit (1 thread)"
JAX_WORKLOADS = ("xor", "moons", "adam", "mlp", "rnn")  # the workloads with a JAX row
WORKLOADS = ("xor", "moons", "adam", "mlp", "rnn", "conv", "cnn", "overhead", "deep", "memory",
             "diagnose")


@functools.cache
def jax_module() -> ModuleType | None:
    """JAX (pip install jax), or None where it is not installed.

    Imported on first use, when a workload with a JAX row runs, and not when this file is
    imported: JAX starts threads, and a process that forks after that (a DataLoader's workers
    in the test suite) may deadlock.
    """
    try:
        return importlib.import_module("jax")
    except ImportError:  # pragma: no cover - depends on the machine
        return None


class CompiledSteps(ModuleType):
    """microtensor, with the training loops' step compiled (``mt.compile``): the loops of
    ``train`` and ``rnn_framework`` read ``compile_steps``; everything else is microtensor."""

    compile_steps = True
    compile_seconds = 0.0  # the last run's recording calls (and the build of their replay)
    compile_calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(mt, name)


def compiled_if_asked(lib: ModuleType, step: Callable[..., Any]) -> Callable[..., Any]:
    """``step``, compiled with ``mt.compile`` when ``lib`` is ``CompiledSteps``."""
    if not isinstance(lib, CompiledSteps):
        return step
    lib.compile_seconds, lib.compile_calls = 0.0, 0
    return mt.compile(step)


def recording_steps(lib: ModuleType, shapes: list[Any], steps: int) -> set[int]:
    """The steps (from 1) whose call records, for ``CompiledSteps`` (none otherwise): the first
    two with each argument shape, when a loop over ``shapes`` (one per batch) runs ``steps``.
    They run eagerly and the second builds the replay: ``timed_apart`` times them into
    ``lib.compile_seconds``, which the table reports apart from the time per step, as JAX's
    tracing and compiling is done in the warm-up run."""
    if not isinstance(lib, CompiledSteps):
        return set()
    seen: Counter[Any] = Counter()
    found = set()
    for step in range(1, steps + 1):
        shape = shapes[(step - 1) % len(shapes)]
        seen[shape] += 1
        if seen[shape] <= 2:
            found.add(step)
    return found


def timed_apart(lib: CompiledSteps, step: Callable[..., Any], *args: Any) -> Any:
    """``step(*args)``, its time added to ``lib.compile_seconds`` (see ``recording_steps``)."""
    t = time.perf_counter()
    out = step(*args)
    lib.compile_seconds += time.perf_counter() - t
    lib.compile_calls += 1
    return out


COMPILED_NAME = "microtensor, mt.compile"
COMPILED_WORKLOADS = ("xor", "moons", "adam", "mlp", "rnn")


def frameworks() -> dict[str, ModuleType]:
    """The libraries with PyTorch's API to time, by their name in the table: microtensor, and
    PyTorch when it is installed."""
    found = {"microtensor": mt}
    if torch is not None:
        found["PyTorch eager (1 thread)"] = torch
    return found


@dataclass
class Row:
    """One line of the results table."""

    workload: str
    impl: str
    value: float
    unit: str
    note: str = ""
    ratio: float | None = None


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)

    def add(self, workload: str, impl: str, value: float, unit: str, note: str = "",
            base: float | None = None) -> None:
        ratio = value / base if base else None
        self.rows.append(Row(workload, impl, value, unit, note, ratio))

    def table(self) -> str:
        lines = ["| workload | implementation | median | vs NumPy | note |",
                 "|---|---|---|---|---|"]
        for r in self.rows:
            ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
            lines.append(f"| {r.workload} | {r.impl} | {r.value:.4g} {r.unit} | {ratio} | "
                         f"{r.note} |")
        return "\n".join(lines)


def median_times(fns: dict[str, Callable[[], object]], repeats: int,
                 excluded: dict[str, Callable[[], float]] | None = None) -> dict[str, float]:
    """Median wall time of each ``fn()`` over ``repeats`` runs, after one warm-up run each.

    The runs are interleaved (a, b, c, a, b, c, ...) so that a machine that speeds up or slows
    down during the benchmark affects every implementation alike. ``excluded[name]()``, read
    after each run of ``name``, is time that run spent on something the table reports apart
    (compiling), subtracted from it.
    """
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            gc.collect()
            t = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - t
            if excluded and name in excluded:
                elapsed -= excluded[name]()
            times[name].append(elapsed)
    return {name: statistics.median(ts) for name, ts in times.items()}


def keeping_result(fn: Callable[[], float], results: dict[str, float],
                   name: str) -> Callable[[], None]:
    """``fn`` as a function that stores what it returns in ``results[name]``."""
    def run() -> None:
        results[name] = fn()
    return run


# ----------------------------------------------------------------------------------------------
# The training loop shared by microtensor and PyTorch, and the timing of a training workload
# ----------------------------------------------------------------------------------------------

Batches = list[tuple[np.ndarray, np.ndarray]]


def train(lib: ModuleType, layers: Callable[[ModuleType], list[object]], loss: str,
          weights: list[np.ndarray], batches: Batches, steps: int, optimizer: str = "SGD",
          lr: float = 0.1, dtype: DTypeLike = np.float32,
          on_step: Callable[[int], object] | None = None) -> float:
    """The same training loop for microtensor and PyTorch (``lib``), which share the API.

    ``lib.nn.Sequential(*layers(lib.nn))`` starts from ``weights``, in ``dtype``; each step takes
    the next of ``batches`` (inputs, targets), computes the loss ``lib.nn.<loss>`` and updates the
    model with ``lib.optim.<optimizer>``. Returns the last loss.
    """
    model = lib.nn.Sequential(*layers(lib.nn)).to(getattr(lib, np.dtype(dtype).name))
    with lib.no_grad():
        for p, v in zip(model.parameters(), weights, strict=True):
            p.copy_(lib.from_numpy(v.astype(dtype)))
    opt = getattr(lib.optim, optimizer)(model.parameters(), lr=lr)
    loss_fn = getattr(lib.nn, loss)()
    data = [(lib.from_numpy(x.astype(dtype)),
             lib.from_numpy(y if y.dtype.kind == "i" else y.astype(dtype)))  # class indices
            for x, y in batches]
    def one_step(xs: Any, ys: Any) -> Any:
        loss = loss_fn(model(xs), ys)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    one_step = compiled_if_asked(lib, one_step)
    apart = recording_steps(lib, [(x.shape, y.shape) for x, y in batches], steps)
    value = None
    for step in range(1, steps + 1):
        xs, ys = data[(step - 1) % len(data)]
        if step in apart and isinstance(lib, CompiledSteps):
            value = timed_apart(lib, one_step, xs, ys)
        else:
            value = one_step(xs, ys)
        if on_step is not None:
            on_step(step)
    if value is None:
        raise ValueError(f"steps must be at least 1, not {steps}")
    return float(value.item())


def bench_training(res: Results, workload: str, numpy_fn: Callable[[int], float],
                   framework_fn: Callable[[ModuleType, int], float], steps: int, repeats: int,
                   unit: str, scale: float) -> None:
    """Time a training workload in NumPy, microtensor, PyTorch and JAX (the last two where
    installed; JAX for the JAX_WORKLOADS), interleaved."""
    impls: dict[str, Callable[[], float]] = {"hand-written NumPy": partial(numpy_fn, steps)}
    compiled = CompiledSteps("microtensor")
    compile_times: list[float] = []

    def compile_time() -> float:
        compile_times.append(compiled.compile_seconds)
        return compiled.compile_seconds

    for name, lib in frameworks().items():
        impls[name] = partial(framework_fn, lib, steps)
        if lib is mt and workload in COMPILED_WORKLOADS:
            impls[COMPILED_NAME] = partial(framework_fn, compiled, steps)
    jax = jax_module() if workload in JAX_WORKLOADS else None
    if jax is not None:
        # median_times runs each implementation once before timing it: that first run traces
        # and compiles the jitted step (jax.jit keeps it for the later runs, same shapes).
        impls[JAX_NAME] = partial(jax_runs(jax)[workload], steps, np.float32)
    losses: dict[str, float] = {}
    times = median_times({name: keeping_result(fn, losses, name)
                          for name, fn in impls.items()}, repeats, {COMPILED_NAME: compile_time})
    base = times["hand-written NumPy"] * scale / steps
    for name, t in times.items():
        note = f"final loss {losses[name]:.5f}"
        timed = steps
        if name == COMPILED_NAME:  # (the recording calls are timed apart)
            timed = max(steps - compiled.compile_calls, 1)
            note += (f"; not in the time: compiling, {statistics.median(compile_times):.3g} s "
                     f"({compiled.compile_calls} recording calls)")
        res.add(f"{workload} ({steps} steps)", name, t * scale / timed, unit, note, base)


def bce_with_logits(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy of logits ``z`` against targets ``y``, and its gradient dz."""
    loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    return float(loss), (1.0 / (1.0 + np.exp(-z)) - y) / z.size


def cross_entropy(z: np.ndarray, onehot: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of logits ``z`` (batch, classes) against one-hot targets, and dz."""
    zmax = z.max(axis=1, keepdims=True)
    logp = z - zmax - np.log(np.exp(z - zmax).sum(axis=1, keepdims=True))
    loss = -np.mean(np.sum(logp * onehot, axis=1))
    return float(loss), (np.exp(logp) - onehot) / z.shape[0]


def uniform_init(rng: np.random.Generator, sizes: list[tuple[int, int]]) -> list[np.ndarray]:
    """Weights (out, in) and biases of linear layers of the given (in, out) sizes, drawn like
    PyTorch's default initialization: uniform in +-1/sqrt(in)."""
    params = []
    for fan_in, fan_out in sizes:
        bound = 1 / np.sqrt(fan_in)
        params += [rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                   rng.uniform(-bound, bound, fan_out).astype(np.float32)]
    return params


# ----------------------------------------------------------------------------------------------
# xor: 2-4-1 sigmoid network, full batch of 4, BCE-with-logits, SGD
# ----------------------------------------------------------------------------------------------

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)
XOR_LR = 0.5


def xor_init() -> list[np.ndarray]:
    """Weights in (in, out) layout, shared by every implementation."""
    rng = np.random.default_rng(0)
    return [rng.uniform(-1, 1, (2, 4)).astype(np.float32), np.zeros(4, np.float32),
            rng.uniform(-1, 1, (4, 1)).astype(np.float32), np.zeros(1, np.float32)]


def xor_numpy(steps: int, dtype: DTypeLike = np.float32) -> float:
    """Forward, hand-derived backward and SGD update in plain NumPy."""
    w1, b1, w2, b2 = [p.astype(dtype) for p in xor_init()]
    x, y = XOR_X.astype(dtype), XOR_Y.astype(dtype)
    loss = 0.0
    for _ in range(steps):
        h = 1.0 / (1.0 + np.exp(-(x @ w1 + b1)))
        z = h @ w2 + b2
        loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
        dz = (1.0 / (1.0 + np.exp(-z)) - y) / z.size
        dh = dz @ w2.T
        da = dh * h * (1.0 - h)
        w2 -= XOR_LR * (h.T @ dz)
        b2 -= XOR_LR * dz.sum(0)
        w1 -= XOR_LR * (x.T @ da)
        b1 -= XOR_LR * da.sum(0)
    return float(loss)


def xor_layers(lib_nn: ModuleType) -> list[object]:
    return [lib_nn.Linear(2, 4), lib_nn.Sigmoid(), lib_nn.Linear(4, 1)]


def xor_framework(lib: ModuleType, steps: int, on_step: Callable[[int], object] | None = None,
                  dtype: DTypeLike = np.float32) -> float:
    """The xor workload in microtensor or PyTorch (weights in their (out, in) layout)."""
    weights = [np.ascontiguousarray(w.T) for w in xor_init()]
    return train(lib, xor_layers, "BCEWithLogitsLoss", weights, [(XOR_X, XOR_Y)], steps,
                 lr=XOR_LR, dtype=dtype, on_step=on_step)


# ----------------------------------------------------------------------------------------------
# moons: 2-16-16-1 tanh MLP on 64 two-moons points (full batch), BCE-with-logits, SGD
# ----------------------------------------------------------------------------------------------

MOONS_POINTS = 64
MOONS_LR = 0.2


def moons_data() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Two interleaved half circles with noise (as sklearn's make_moons draws them), labels
    (points, 1), and the network's initial weights in PyTorch's (out, in) layout."""
    rng = np.random.default_rng(5)
    angle = np.linspace(0, np.pi, MOONS_POINTS // 2)
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    lower = np.stack([1 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
    x = np.concatenate([upper, lower]) + rng.normal(0, 0.1, (MOONS_POINTS, 2))
    y = np.repeat([0.0, 1.0], MOONS_POINTS // 2)[:, None]
    return (x.astype(np.float32), y.astype(np.float32),
            uniform_init(rng, [(2, 16), (16, 16), (16, 1)]))


def moons_numpy(steps: int, dtype: DTypeLike = np.float32) -> float:
    """Forward, hand-derived backward and SGD update in plain NumPy."""
    x, y, params = moons_data()
    x, y = x.astype(dtype), y.astype(dtype)
    w1, b1, w2, b2, w3, b3 = params = [p.astype(dtype) for p in params]
    loss = 0.0
    for _ in range(steps):
        h1 = np.tanh(x @ w1.T + b1)
        h2 = np.tanh(h1 @ w2.T + b2)
        z = h2 @ w3.T + b3
        loss, dz = bce_with_logits(z, y)
        da2 = (dz @ w3) * (1 - h2 * h2)
        da1 = (da2 @ w2) * (1 - h1 * h1)
        grads = [da1.T @ x, da1.sum(0), da2.T @ h1, da2.sum(0), dz.T @ h2, dz.sum(0)]
        for p, g in zip(params, grads, strict=True):
            p -= MOONS_LR * g
    return loss


def moons_layers(lib_nn: ModuleType) -> list[object]:
    return [lib_nn.Linear(2, 16), lib_nn.Tanh(), lib_nn.Linear(16, 16), lib_nn.Tanh(),
            lib_nn.Linear(16, 1)]


def moons_framework(lib: ModuleType, steps: int, dtype: DTypeLike = np.float32) -> float:
    """The moons workload in microtensor or PyTorch."""
    x, y, params = moons_data()
    return train(lib, moons_layers, "BCEWithLogitsLoss", params, [(x, y)], steps, lr=MOONS_LR,
                 dtype=dtype)


# ----------------------------------------------------------------------------------------------
# adam: 64-128-10 ReLU network, cross-entropy, Adam, batches of 32 (8 batches in turn)
# ----------------------------------------------------------------------------------------------

ADAM_BATCH = 32
ADAM_BATCHES = 8
ADAM_LR = 1e-3
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


def adam_data() -> tuple[Batches, list[np.ndarray]]:
    """Batches of 64 features with the class a random linear teacher gives them (so that the
    loss falls), and the network's initial weights."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((ADAM_BATCHES * ADAM_BATCH, 64)).astype(np.float32)
    y = np.argmax(x @ rng.standard_normal((64, 10)), axis=1)
    batches = [(x[i:i + ADAM_BATCH], y[i:i + ADAM_BATCH])
               for i in range(0, len(x), ADAM_BATCH)]
    return batches, uniform_init(rng, [(64, 128), (128, 10)])


def adam_numpy(steps: int, dtype: DTypeLike = np.float32) -> float:
    """Forward, hand-derived backward and Adam update (PyTorch's formula) in plain NumPy."""
    batches, params = adam_data()
    data: Batches = [(x.astype(dtype), np.eye(10, dtype=dtype)[y]) for x, y in batches]
    w1, b1, w2, b2 = params = [p.astype(dtype) for p in params]
    beta1, beta2 = ADAM_BETAS
    ms = [np.zeros_like(p) for p in params]
    vs = [np.zeros_like(p) for p in params]
    loss = 0.0
    for t in range(1, steps + 1):
        x, onehot = data[(t - 1) % len(data)]
        a1 = x @ w1.T + b1
        h1 = np.maximum(a1, 0)
        z = h1 @ w2.T + b2
        loss, dz = cross_entropy(z, onehot)
        da1 = (dz @ w2) * (a1 > 0)
        grads = [da1.T @ x, da1.sum(0), dz.T @ h1, dz.sum(0)]
        step_size = ADAM_LR / (1 - beta1**t)
        root_bias2 = np.sqrt(1 - beta2**t)
        for p, g, m, v in zip(params, grads, ms, vs, strict=True):
            m += (1 - beta1) * (g - m)
            v *= beta2
            v += (1 - beta2) * g * g
            p -= step_size * m / (np.sqrt(v) / root_bias2 + ADAM_EPS)
    return loss


def adam_layers(lib_nn: ModuleType) -> list[object]:
    return [lib_nn.Linear(64, 128), lib_nn.ReLU(), lib_nn.Linear(128, 10)]


def adam_framework(lib: ModuleType, steps: int, dtype: DTypeLike = np.float32) -> float:
    """The adam workload in microtensor or PyTorch."""
    batches, params = adam_data()
    return train(lib, adam_layers, "CrossEntropyLoss", params, batches, steps, "Adam", ADAM_LR,
                 dtype)


# ----------------------------------------------------------------------------------------------
# mlp: 784-256-128-10 ReLU, batch 256, cross-entropy, SGD, on random data
# ----------------------------------------------------------------------------------------------

MLP_SIZES = (784, 256, 128, 10)
MLP_BATCH = 256
MLP_LR = 0.05


def mlp_data() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((MLP_BATCH, MLP_SIZES[0])).astype(np.float32)
    y = rng.integers(0, MLP_SIZES[-1], MLP_BATCH)
    return x, y, uniform_init(rng, list(zip(MLP_SIZES[:-1], MLP_SIZES[1:], strict=True)))


def mlp_numpy(steps: int, dtype: DTypeLike = np.float32) -> float:
    """Forward, hand-derived backward and SGD update in plain NumPy (PyTorch weight layout)."""
    x, y, params = mlp_data()
    x = x.astype(dtype)
    w1, b1, w2, b2, w3, b3 = params = [p.astype(dtype) for p in params]
    onehot = np.eye(MLP_SIZES[-1], dtype=dtype)[y]
    loss = 0.0
    for _ in range(steps):
        a1 = x @ w1.T + b1
        h1 = np.maximum(a1, 0)
        a2 = h1 @ w2.T + b2
        h2 = np.maximum(a2, 0)
        z = h2 @ w3.T + b3
        loss, dz = cross_entropy(z, onehot)
        da2 = (dz @ w3) * (a2 > 0)
        da1 = (da2 @ w2) * (a1 > 0)
        w3 -= MLP_LR * (dz.T @ h2)
        b3 -= MLP_LR * dz.sum(0)
        w2 -= MLP_LR * (da2.T @ h1)
        b2 -= MLP_LR * da2.sum(0)
        w1 -= MLP_LR * (da1.T @ x)
        b1 -= MLP_LR * da1.sum(0)
    return loss


def mlp_layers(lib_nn: ModuleType) -> list[object]:
    return [lib_nn.Linear(784, 256), lib_nn.ReLU(), lib_nn.Linear(256, 128), lib_nn.ReLU(),
            lib_nn.Linear(128, 10)]


def mlp_framework(lib: ModuleType, steps: int, dtype: DTypeLike = np.float32) -> float:
    """The mlp workload in microtensor or PyTorch."""
    x, y, params = mlp_data()
    return train(lib, mlp_layers, "CrossEntropyLoss", params, [(x, y)], steps, lr=MLP_LR,
                 dtype=dtype)


# ----------------------------------------------------------------------------------------------
# rnn: h_t = tanh(inp(x_t) + rec(h_{t-1})) over 50 time steps (hidden 32, input 8, batch 16),
# written as a loop over nn.Linear layers; an MSE loss on a linear readout of the last hidden
# state; SGD. The same loop in every implementation.
# ----------------------------------------------------------------------------------------------

RNN_STEPS = 50
RNN_BATCH = 16
RNN_INPUT = 8
RNN_HIDDEN = 32
RNN_LR = 0.02


def rnn_data() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Input sequences (time, batch, features), targets (batch, 1) and the weights of inp, rec
    and the readout (PyTorch's layout)."""
    rng = np.random.default_rng(7)
    xs = rng.standard_normal((RNN_STEPS, RNN_BATCH, RNN_INPUT)).astype(np.float32)
    y = rng.standard_normal((RNN_BATCH, 1)).astype(np.float32)
    return xs, y, uniform_init(rng, [(RNN_INPUT, RNN_HIDDEN), (RNN_HIDDEN, RNN_HIDDEN),
                                     (RNN_HIDDEN, 1)])


def rnn_numpy(steps: int, dtype: DTypeLike = np.float32) -> float:
    """Forward, backpropagation through time and SGD in plain NumPy (the loop of
    min-char-rnn: weight gradients accumulated step by step)."""
    xs, y, params = rnn_data()
    xs, y = xs.astype(dtype), y.astype(dtype)
    wi, bi, wh, bh, wo, bo = params = [p.astype(dtype) for p in params]
    loss = 0.0
    for _ in range(steps):
        hs: list[np.ndarray] = [np.zeros((RNN_BATCH, RNN_HIDDEN), dtype)]
        for x in xs:
            hs.append(np.tanh(x @ wi.T + bi + hs[-1] @ wh.T + bh))
        z = hs[-1] @ wo.T + bo
        loss = float(np.mean((z - y) ** 2))
        dz = 2 * (z - y) / z.size
        dwo, dbo = dz.T @ hs[-1], dz.sum(0)
        dh = dz @ wo
        dwi, dwh, db = np.zeros_like(wi), np.zeros_like(wh), np.zeros_like(bi)
        for t in range(RNN_STEPS - 1, -1, -1):
            da = dh * (1 - hs[t + 1] * hs[t + 1])
            dwi += da.T @ xs[t]
            dwh += da.T @ hs[t]
            db += da.sum(0)
            if t > 0:  # h_0 is a constant: no gradient for it
                dh = da @ wh
        for p, g in zip(params, [dwi, db, dwh, db, dwo, dbo], strict=True):
            p -= RNN_LR * g
    return loss


def rnn_framework(lib: ModuleType, steps: int, dtype: DTypeLike = np.float32) -> float:
    """The rnn workload in microtensor or PyTorch."""
    nn = lib.nn
    xs, y, params = rnn_data()
    inp, rec, readout = (nn.Linear(RNN_INPUT, RNN_HIDDEN), nn.Linear(RNN_HIDDEN, RNN_HIDDEN),
                         nn.Linear(RNN_HIDDEN, 1))
    model = nn.ModuleList([inp, rec, readout])
    model.to(getattr(lib, np.dtype(dtype).name))
    with lib.no_grad():
        for p, v in zip(model.parameters(), params, strict=True):
            p.copy_(lib.from_numpy(v.astype(dtype)))
    opt = lib.optim.SGD(model.parameters(), lr=RNN_LR)
    loss_fn = nn.MSELoss()
    inputs = [lib.from_numpy(x.astype(dtype)) for x in xs]
    target = lib.from_numpy(y.astype(dtype))
    h0 = lib.zeros(RNN_BATCH, RNN_HIDDEN, dtype=getattr(lib, np.dtype(dtype).name))
    def one_step(h: Any) -> Any:
        for x in inputs:
            h = lib.tanh(inp(x) + rec(h))
        loss = loss_fn(readout(h), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    one_step = compiled_if_asked(lib, one_step)
    apart = recording_steps(lib, [()], steps)
    value = None
    for step in range(1, steps + 1):
        if step in apart and isinstance(lib, CompiledSteps):
            value = timed_apart(lib, one_step, h0)
        else:
            value = one_step(h0)
    if value is None:
        raise ValueError(f"steps must be at least 1, not {steps}")
    return float(value.item())


# ----------------------------------------------------------------------------------------------
# JAX (where installed): the xor, moons, adam, mlp and rnn workloads, each training step one
# jax.jit-compiled function (forward, jax.value_and_grad, update), called step after step from
# Python like the others
# ----------------------------------------------------------------------------------------------

# jax.Array: JAX is optional, so the checkers do not see its types.
JaxArray = Any
JaxStep = Callable[..., tuple[Any, JaxArray]]  # (state, inputs, targets) -> (state, loss)
JaxRun = Callable[[int, DTypeLike], float]  # (steps, dtype) -> the last loss


@functools.cache
def jax_runs(jax: ModuleType) -> dict[str, JaxRun]:
    """The JAX_WORKLOADS written for JAX, by workload name.

    Each jitted step is made once, here (the result is cached): jax.jit keeps its compiled code
    for later calls with arguments of the same shapes and dtypes, so only the first run of a
    workload compiles.
    """
    jnp = jax.numpy

    def linear(x: JaxArray, w: JaxArray, b: JaxArray) -> JaxArray:
        return x @ w.T + b

    def bce_with_logits(z: JaxArray, y: JaxArray) -> JaxArray:
        return jnp.mean(jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z))))

    def cross_entropy(z: JaxArray, labels: JaxArray) -> JaxArray:
        logp = jax.nn.log_softmax(z, axis=1)
        return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))

    def xor_loss(p: list[JaxArray], x: JaxArray, y: JaxArray) -> JaxArray:
        h = jax.nn.sigmoid(x @ p[0] + p[1])  # xor_init's (in, out) layout
        return bce_with_logits(h @ p[2] + p[3], y)

    def moons_loss(p: list[JaxArray], x: JaxArray, y: JaxArray) -> JaxArray:
        h1 = jnp.tanh(linear(x, p[0], p[1]))
        h2 = jnp.tanh(linear(h1, p[2], p[3]))
        return bce_with_logits(linear(h2, p[4], p[5]), y)

    def adam_loss(p: list[JaxArray], x: JaxArray, y: JaxArray) -> JaxArray:
        h = jnp.maximum(linear(x, p[0], p[1]), 0)
        return cross_entropy(linear(h, p[2], p[3]), y)

    def mlp_loss(p: list[JaxArray], x: JaxArray, y: JaxArray) -> JaxArray:
        h1 = jnp.maximum(linear(x, p[0], p[1]), 0)
        h2 = jnp.maximum(linear(h1, p[2], p[3]), 0)
        return cross_entropy(linear(h2, p[4], p[5]), y)

    def rnn_loss(p: list[JaxArray], xs: JaxArray, y: JaxArray) -> JaxArray:
        h = jnp.zeros((xs.shape[1], RNN_HIDDEN), xs.dtype)
        for x in xs:  # unrolled while tracing: 50 time steps in one compiled function
            h = jnp.tanh(linear(x, p[0], p[1]) + linear(h, p[2], p[3]))
        return jnp.mean((linear(h, p[4], p[5]) - y) ** 2)

    def sgd(loss: Callable[..., JaxArray], lr: float) -> JaxStep:
        grad = jax.value_and_grad(loss)

        def step(params: list[JaxArray], x: JaxArray, y: JaxArray
                 ) -> tuple[list[JaxArray], JaxArray]:
            value, grads = grad(params, x, y)
            return [p - lr * g for p, g in zip(params, grads, strict=True)], value
        jitted: JaxStep = jax.jit(step)
        return jitted

    def adam(loss: Callable[..., JaxArray], lr: float) -> JaxStep:
        grad = jax.value_and_grad(loss)
        beta1, beta2 = ADAM_BETAS

        def step(state: tuple[list[JaxArray], list[JaxArray], list[JaxArray], JaxArray],
                 x: JaxArray, y: JaxArray) -> tuple[tuple[object, ...], JaxArray]:
            params, ms, vs, t = state
            value, grads = grad(params, x, y)
            t = t + 1
            ms = [m + (1 - beta1) * (g - m) for m, g in zip(ms, grads, strict=True)]
            vs = [beta2 * v + (1 - beta2) * g * g for v, g in zip(vs, grads, strict=True)]
            step_size = lr / (1 - beta1**t)
            root_bias2 = jnp.sqrt(1 - beta2**t)
            params = [p - step_size * m / (jnp.sqrt(v) / root_bias2 + ADAM_EPS)
                      for p, m, v in zip(params, ms, vs, strict=True)]
            return (params, ms, vs, t), value
        jitted: JaxStep = jax.jit(step)
        return jitted

    def run(step: JaxStep, state: object, batches: Batches, steps: int,
            dtype: DTypeLike) -> float:
        data = [(jnp.asarray(x.astype(dtype)),
                 jnp.asarray(y.astype(np.int32) if y.dtype.kind == "i" else y.astype(dtype)))
                for x, y in batches]
        value = None
        for i in range(steps):
            x, y = data[i % len(data)]
            state, value = step(state, x, y)
        if value is None:
            raise ValueError(f"steps must be at least 1, not {steps}")
        return float(value)

    def params(weights: list[np.ndarray], dtype: DTypeLike) -> list[JaxArray]:
        return [jnp.asarray(w.astype(dtype)) for w in weights]

    xor_step = sgd(xor_loss, XOR_LR)
    moons_step = sgd(moons_loss, MOONS_LR)
    adam_step = adam(adam_loss, ADAM_LR)
    mlp_step = sgd(mlp_loss, MLP_LR)
    rnn_step = sgd(rnn_loss, RNN_LR)

    def xor_jax(steps: int, dtype: DTypeLike) -> float:
        return run(xor_step, params(xor_init(), dtype), [(XOR_X, XOR_Y)], steps, dtype)

    def moons_jax(steps: int, dtype: DTypeLike) -> float:
        x, y, weights = moons_data()
        return run(moons_step, params(weights, dtype), [(x, y)], steps, dtype)

    def adam_jax(steps: int, dtype: DTypeLike) -> float:
        batches, weights = adam_data()
        p = params(weights, dtype)
        state = (p, [jnp.zeros_like(w) for w in p], [jnp.zeros_like(w) for w in p],
                 jnp.asarray(0))
        return run(adam_step, state, batches, steps, dtype)

    def mlp_jax(steps: int, dtype: DTypeLike) -> float:
        x, y, weights = mlp_data()
        return run(mlp_step, params(weights, dtype), [(x, y)], steps, dtype)

    def rnn_jax(steps: int, dtype: DTypeLike) -> float:
        xs, y, weights = rnn_data()
        return run(rnn_step, params(weights, dtype), [(xs, y)], steps, dtype)

    return {"xor": xor_jax, "moons": moons_jax, "adam": adam_jax, "mlp": mlp_jax,
            "rnn": rnn_jax}



# ----------------------------------------------------------------------------------------------
# conv: LeNet (Conv2d(1,6,5)-ReLU-MaxPool2d-Conv2d(6,16,5)-ReLU-MaxPool2d-Linear(256,120)-ReLU-
# Linear(120,84)-ReLU-Linear(84,10)), batch 64 of 1x28x28 random inputs, cross-entropy, SGD
# ----------------------------------------------------------------------------------------------

LENET_BATCH = 64
LENET_LR = 0.05
LENET_SHAPES = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 256), (120,), (84, 120), (84,),
                (10, 84), (10,)]


def lenet_data() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((LENET_BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, LENET_BATCH)
    params = []
    for w_shape, b_shape in zip(LENET_SHAPES[::2], LENET_SHAPES[1::2], strict=True):
        bound = 1 / np.sqrt(np.prod(w_shape[1:]))  # PyTorch's default init bounds
        params += [rng.uniform(-bound, bound, w_shape).astype(np.float32),
                   rng.uniform(-bound, bound, b_shape).astype(np.float32)]
    return x, y, params


def _columns(xt: np.ndarray, k: int) -> np.ndarray:
    """im2col of a batch-last input (C, H, W, N): (C k k, O O N), O = H - k + 1."""
    win = np.lib.stride_tricks.sliding_window_view(xt, (k, k), axis=(1, 2))  # C,O,O,N,k,k
    return np.transpose(win, (0, 4, 5, 1, 2, 3)).reshape(xt.shape[0] * k * k, -1)


def _col2im(cols: np.ndarray, c: int, k: int, h: int, n: int) -> np.ndarray:
    """The adjoint of _columns: (C k k, O O N) -> (C, H, W, N)."""
    o = h - k + 1
    cols = cols.reshape(c, k, k, o, o, n)
    dx = np.zeros((c, h, h, n), cols.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, i:i + o, j:j + o] += cols[:, i, j]
    return dx


def _pool(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2x2 max pooling of (C, H, W, N): the maxima and the mask of where they are."""
    c, h, w, n = a.shape
    r = a.reshape(c, h // 2, 2, w // 2, 2, n)
    m = r.max(axis=(2, 4))
    return m, r == m[:, :, None, :, None]


def lenet_numpy(steps: int) -> float:
    """Forward, hand-derived backward and SGD in NumPy, batch-last layout (C, H, W, N)."""
    x, y, params = lenet_data()
    cw1, cb1, cw2, cb2, w1, b1, w2, b2, w3, b3 = params
    n = LENET_BATCH
    xt = np.ascontiguousarray(x.transpose(1, 2, 3, 0))
    onehot = np.eye(10, dtype=np.float32)[y].T
    cols1 = _columns(xt, 5)  # the input does not change: its columns neither
    loss = 0.0
    for _ in range(steps):
        a1 = (cw1.reshape(6, -1) @ cols1 + cb1[:, None]).reshape(6, 24, 24, n)
        p1, m1 = _pool(np.maximum(a1, 0))
        cols2 = _columns(p1, 5)
        a2 = (cw2.reshape(16, -1) @ cols2 + cb2[:, None]).reshape(16, 8, 8, n)
        p2, m2 = _pool(np.maximum(a2, 0))
        f = p2.reshape(256, n)
        z1 = w1 @ f + b1[:, None]
        h1 = np.maximum(z1, 0)
        z2 = w2 @ h1 + b2[:, None]
        h2 = np.maximum(z2, 0)
        z = w3 @ h2 + b3[:, None]
        zmax = z.max(axis=0, keepdims=True)
        logp = z - zmax - np.log(np.exp(z - zmax).sum(axis=0, keepdims=True))
        loss = -np.mean(np.sum(logp * onehot, axis=0))
        dz = (np.exp(logp) - onehot) / n
        dh2 = (w3.T @ dz) * (z2 > 0)
        dh1 = (w2.T @ dh2) * (z1 > 0)
        df = (w1.T @ dh1).reshape(16, 4, 4, n)
        da2 = (m2 * df[:, :, None, :, None]).reshape(16, 8, 8, n) * (a2 > 0)
        da2 = da2.reshape(16, -1)
        dp1 = _col2im(cw2.reshape(16, -1).T @ da2, 6, 5, 12, n)
        da1 = ((m1 * dp1[:, :, None, :, None]).reshape(6, 24, 24, n) * (a1 > 0)).reshape(6, -1)
        grads = [da1 @ cols1.T, da1.sum(1), da2 @ cols2.T, da2.sum(1), dh1 @ f.T, dh1.sum(1),
                 dh2 @ h1.T, dh2.sum(1), dz @ h2.T, dz.sum(1)]
        for p, g in zip(params, grads, strict=True):
            p -= LENET_LR * g.reshape(p.shape)
    return float(loss)


def lenet_layers(lib_nn: ModuleType) -> list[object]:
    return [lib_nn.Conv2d(1, 6, 5), lib_nn.ReLU(), lib_nn.MaxPool2d(2), lib_nn.Conv2d(6, 16, 5),
            lib_nn.ReLU(), lib_nn.MaxPool2d(2), lib_nn.Flatten(), lib_nn.Linear(256, 120),
            lib_nn.ReLU(), lib_nn.Linear(120, 84), lib_nn.ReLU(), lib_nn.Linear(84, 10)]


def lenet_framework(lib: ModuleType, steps: int) -> float:
    """The conv workload in microtensor or PyTorch."""
    x, y, params = lenet_data()
    return train(lib, lenet_layers, "CrossEntropyLoss", params, [(x, y)], steps, lr=LENET_LR)


# ----------------------------------------------------------------------------------------------
# cnn: the network of examples/digits_cnn.py (conv-BN-ReLU-pool twice, then 128-64-10; no
# dropout, so both libraries compute the same numbers), batch 32 of 1x8x8 inputs, Adam.
# No hand-written NumPy version: the row compares microtensor with PyTorch.
# ----------------------------------------------------------------------------------------------

CNN_BATCH = 32
CNN_SHAPES = [(16, 1, 3, 3), (16,), (16,), (16,), (32, 16, 3, 3), (32,), (32,), (32,),
              (64, 128), (64,), (10, 64), (10,)]


def cnn_data() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, (CNN_BATCH, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, CNN_BATCH)
    params = []
    for i, shape in enumerate(CNN_SHAPES):
        if i in (2, 6):  # batch-norm weights start at one, their biases at zero
            params.append(np.ones(shape, np.float32))
        elif i in (3, 7):
            params.append(np.zeros(shape, np.float32))
        else:
            fan_in = np.prod(CNN_SHAPES[i if len(shape) > 1 else i - 1][1:])
            bound = 1 / np.sqrt(fan_in)
            params.append(rng.uniform(-bound, bound, shape).astype(np.float32))
    return x, y, params


def cnn_framework(lib: ModuleType, steps: int) -> float:
    """A digits_cnn training step in microtensor or PyTorch: returns the last loss."""
    nn = lib.nn
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    x, y, params = cnn_data()
    with lib.no_grad():
        for p, v in zip(model.parameters(), params, strict=True):
            p.copy_(lib.from_numpy(v))
    opt = lib.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    xs, ys = lib.from_numpy(x), lib.from_numpy(y)
    value = None
    for _ in range(steps):
        value = loss_fn(model(xs), ys)
        opt.zero_grad()
        value.backward()
        opt.step()
    if value is None:
        raise ValueError(f"steps must be at least 1, not {steps}")
    return float(value.item())


def bench_against_pytorch(res: Results, workload: str, framework_fn: Callable[[ModuleType, int],
                          float], steps: int, repeats: int, unit: str, scale: float) -> None:
    """Time a training workload in microtensor and PyTorch (interleaved), without a NumPy
    floor; the note gives the ratio to PyTorch."""
    impls = {name: partial(framework_fn, lib, steps) for name, lib in frameworks().items()}
    losses: dict[str, float] = {}
    times = median_times({name: keeping_result(fn, losses, name)
                          for name, fn in impls.items()}, repeats)
    for name, t in times.items():
        ratio = (f"; {t / times['PyTorch eager (1 thread)']:.2f}x PyTorch"
                 if torch is not None and name == "microtensor" else "")
        res.add(f"{workload} ({steps} steps)", name, t * scale / steps, unit,
                f"final loss {losses[name]:.5f}{ratio}")


# ----------------------------------------------------------------------------------------------
# op overhead: forward + backward of (a * b).sum() on 4x4
# ----------------------------------------------------------------------------------------------

def bench_overhead(res: Results, steps: int, repeats: int) -> None:
    an = np.random.default_rng(2).standard_normal((2, 4, 4)).astype(np.float32)

    def numpy_run() -> None:
        a, b = an[0], an[1]
        for _ in range(steps):
            _ = (a * b).sum()
            _ = b.copy(), a.copy()  # the two gradients

    def framework_run(lib: ModuleType) -> None:  # microtensor or PyTorch
        a = lib.tensor(an[0], requires_grad=True)
        b = lib.tensor(an[1], requires_grad=True)
        for _ in range(steps):
            a.grad = b.grad = None
            (a * b).sum().backward()

    impls: dict[str, Callable[[], object]] = {"hand-written NumPy": numpy_run}
    for name, lib in frameworks().items():
        impls[name] = partial(framework_run, lib)
    times = median_times(impls, repeats)
    base = times["hand-written NumPy"]
    for name, t in times.items():
        res.add("(a*b).sum() fwd+bwd, 4x4", name, t * 1e6 / steps, "us/iter", "",
                base * 1e6 / steps)


# ----------------------------------------------------------------------------------------------
# deep graph: backward through long chains
# ----------------------------------------------------------------------------------------------

def chain_backward_time(n: int, repeats: int) -> float:
    def run() -> float:
        x = mt.tensor(1.0, requires_grad=True)
        y = x
        for _ in range(n):
            y = y * 1.0
        t = time.perf_counter()
        y.backward()
        return time.perf_counter() - t

    run()
    return statistics.median(run() for _ in range(repeats))


def bench_deep(res: Results, sizes: tuple[int, int], repeats: int) -> None:
    small, large = sizes
    t_small = chain_backward_time(small, repeats)
    t_large = chain_backward_time(large, repeats)
    res.add(f"deep chain {small:,} ops", "microtensor", t_small, "s backward",
            f"{t_small / small * 1e6:.2f} us/node")
    res.add(f"deep chain {large:,} ops", "microtensor", t_large, "s backward",
            f"{t_large / large * 1e6:.2f} us/node; {large // small}x nodes took "
            f"{t_large / t_small:.1f}x time")


# ----------------------------------------------------------------------------------------------
# diagnose.check: how long a learner waits for the report (issue 11: < 1 s for an XOR-sized
# net, < 10 s for the digits MLP)
# ----------------------------------------------------------------------------------------------

Setup = tuple[mt.nn.Module, mt.nn.Module, mt.Tensor, mt.Tensor, mt.optim.Optimizer]


def diagnose_setups() -> dict[str, Callable[[], Setup]]:
    """Each setup as a function building (model, loss_fn, inputs, targets, optimizer)."""
    nn, optim = mt.nn, mt.optim
    x = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = mt.tensor([[0.0], [1.0], [1.0], [0.0]])

    def xor(scale: float | None) -> Setup:
        mt.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
        if scale is not None:  # the NumPy recipe: randn(...) * scale, zero biases
            for layer in (model[0], model[2]):
                nn.init.normal_(layer.weight, 0.0, scale)
                nn.init.zeros_(layer.bias)
        return model, nn.BCELoss(), x, y, optim.SGD(model.parameters(), lr=2.0)

    setups: dict[str, Callable[[], Setup]] = {
        "XOR, README recipe": lambda: xor(None),
        "XOR, weights x0.01 (stuck)": lambda: xor(0.01),
    }
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - depends on the machine
        return setups
    pixels, labels = load_digits(return_X_y=True)
    xd = mt.tensor((pixels - pixels.mean(0)) / (pixels.std(0) + 1e-6), dtype=mt.float32)
    yd = mt.tensor(labels)

    def digits() -> Setup:
        mt.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                              nn.Linear(64, 10))
        return model, nn.CrossEntropyLoss(), xd, yd, optim.Adam(model.parameters(), lr=1e-3)

    setups["digits MLP 64-64-64-10, 1797 images"] = digits
    return setups


def bench_diagnose(res: Results, repeats: int, watch_steps: int = 2_000,
                   watch_repeats: int = 5) -> None:
    bench_watch(res, watch_steps, watch_repeats)
    for name, setup in diagnose_setups().items():
        reports: list[mt.diagnose.Report] = []
        built = setup()

        def run(args: Setup = built, out: list[mt.diagnose.Report] = reports) -> None:
            model, loss_fn, x, y, opt = args
            out.append(mt.diagnose.check(model, loss_fn, x, y, optimizer=opt))

        t = median_times({name: run}, repeats)[name]
        codes = ", ".join(reports[-1].codes) or "ok"
        res.add(f"diagnose.check: {name}", "microtensor", t, "s", codes)


def bench_watch(res: Results, steps: int, repeats: int) -> None:
    """The cost of diagnose.watch on the README's XOR loop (issue 11: at most 20% of a step):
    the same loop with and without it, interleaved; the ratio is to the unwatched loop."""
    nn, optim = mt.nn, mt.optim
    x = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = mt.tensor([[0.0], [1.0], [1.0], [0.0]])
    reports: list[mt.diagnose.Report] = []

    def loop(watched: bool) -> None:
        mt.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
        opt = optim.SGD(model.parameters(), lr=2.0)
        loss_fn = nn.BCELoss()
        doctor = mt.diagnose.watch(model, opt)
        with doctor if watched else contextlib.nullcontext():
            for _ in range(steps):
                loss = loss_fn(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
        if watched:
            reports.append(doctor.report())

    t = median_times({"plain": lambda: loop(False), "watched": lambda: loop(True)}, repeats)
    workload = f"diagnose.watch: XOR loop ({steps} steps)"
    plain, watched = t["plain"] / steps * 1e6, t["watched"] / steps * 1e6
    res.add(workload, "microtensor, unwatched", plain, "us/step", "", plain)
    codes = ", ".join(reports[-1].codes) or "ok"
    res.add(workload, "microtensor + diagnose.watch", watched, "us/step",
            f"ratio to the unwatched loop; report: {codes}", plain)


# ----------------------------------------------------------------------------------------------
# memory
# ----------------------------------------------------------------------------------------------

def peak_bytes(fn: Callable[[], object]) -> int:
    """Peak traced allocation (NumPy reports its buffers to tracemalloc) while ``fn`` runs."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def xor_rss_growth(first: int, last: int) -> tuple[float, float]:
    """RSS and traced-memory growth (bytes) of the xor loop between step ``first`` and ``last``."""
    start: list[int] = []

    def measure(step: int) -> None:
        if step == first:
            gc.collect()
            start.extend((rss_bytes(), tracemalloc.get_traced_memory()[0]))

    tracemalloc.start()
    xor_framework(mt, last, measure)
    gc.collect()
    rss, traced = rss_bytes(), tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return rss - start[0], traced - start[1]


def bench_memory(res: Results, mlp_steps: int, xor_steps: tuple[int, int]) -> None:
    base = peak_bytes(lambda: mlp_numpy(mlp_steps))
    ours = peak_bytes(lambda: mlp_framework(mt, mlp_steps))
    res.add("mlp peak memory", "hand-written NumPy", base / 2**20, "MiB", "tracemalloc peak",
            base / 2**20)
    res.add("mlp peak memory", "microtensor", ours / 2**20, "MiB", "tracemalloc peak",
            base / 2**20)
    rss, traced = xor_rss_growth(*xor_steps)
    res.add(f"xor memory growth, step {xor_steps[0]:,} -> {xor_steps[1]:,}", "microtensor",
            rss / 2**20, "MiB RSS", f"traced Python/NumPy growth {traced / 2**10:.1f} KiB")


# ----------------------------------------------------------------------------------------------

def machine(with_jax: bool) -> str:
    blas = "unknown"
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]["name"]
    except Exception:  # noqa: BLE001 - only a label
        pass
    parts = [platform.processor() or platform.machine(), f"{os.cpu_count()} cores",
             f"Python {platform.python_version()}", f"NumPy {np.__version__} ({blas})"]
    parts.append(f"PyTorch {torch.__version__}" if torch is not None else "PyTorch not installed")
    if with_jax:
        jax = jax_module()
        parts.append(f"JAX {jax.__version__}" if jax is not None else "JAX not installed")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> Results:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few steps of everything")
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, default=list(WORKLOADS),
                        help="which workloads to run")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per workload")
    parser.add_argument("--xor-steps", type=int, default=None)
    parser.add_argument("--moons-steps", type=int, default=None)
    parser.add_argument("--adam-steps", type=int, default=None)
    parser.add_argument("--mlp-steps", type=int, default=None)
    parser.add_argument("--rnn-steps", type=int, default=None)
    parser.add_argument("--conv-steps", type=int, default=None)
    parser.add_argument("--cnn-steps", type=int, default=None)
    args = parser.parse_args(argv)

    quick = args.quick
    repeats = args.repeats or (1 if quick else 5)
    xor_steps = args.xor_steps or (20 if quick else 10_000)
    moons_steps = args.moons_steps or (20 if quick else 2_000)
    adam_steps = args.adam_steps or (10 if quick else 1_000)
    mlp_steps = args.mlp_steps or (2 if quick else 100)
    rnn_steps = args.rnn_steps or (2 if quick else 100)
    conv_steps = args.conv_steps or (2 if quick else 30)
    cnn_steps = args.cnn_steps or (2 if quick else 100)
    if torch is not None:
        torch.set_num_threads(1)

    res = Results()
    runs: dict[str, Callable[[], None]] = {
        "xor": lambda: bench_training(res, "xor", xor_numpy, xor_framework, xor_steps, repeats,
                                      "us/step", 1e6),
        "moons": lambda: bench_training(res, "moons", moons_numpy, moons_framework,
                                        moons_steps, repeats, "us/step", 1e6),
        "adam": lambda: bench_training(res, "adam", adam_numpy, adam_framework, adam_steps,
                                       repeats, "us/step", 1e6),
        "mlp": lambda: bench_training(res, "mlp", mlp_numpy, mlp_framework, mlp_steps, repeats,
                                      "ms/step", 1e3),
        "rnn": lambda: bench_training(res, "rnn", rnn_numpy, rnn_framework, rnn_steps, repeats,
                                      "ms/step", 1e3),
        "conv": lambda: bench_training(res, "conv", lenet_numpy, lenet_framework, conv_steps,
                                       repeats, "ms/step", 1e3),
        "cnn": lambda: bench_against_pytorch(res, "digits cnn", cnn_framework, cnn_steps,
                                             repeats, "ms/step", 1e3),
        "overhead": lambda: bench_overhead(res, 50 if quick else 5_000, repeats),
        "deep": lambda: bench_deep(res, (100, 1_000) if quick else (10_000, 100_000), repeats),
        "memory": lambda: bench_memory(res, mlp_steps if quick else 20,
                                       (5, 20) if quick else (1_000, 10_000)),
        "diagnose": lambda: bench_diagnose(res, 1 if quick else 3, 50 if quick else 2_000,
                                           1 if quick else repeats),
    }
    selected = [name for name in WORKLOADS if name in args.only]
    with_jax = any(name in JAX_WORKLOADS for name in selected)
    print(f"machine: {machine(with_jax)}")
    if with_jax and jax_module() is None:
        print("JAX rows skipped: JAX is not installed (pip install jax)")
    # The progress goes to stderr, so that stdout holds only the results.
    with Progress(len(selected), unit="workload", desc="benchmarks", log=to_stderr) as progress:
        for i, name in enumerate(selected, 1):
            progress.write(f"workload {i}/{len(selected)}: {name}")
            runs[name]()
            progress.step()
    print(res.table())
    return res


def to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


if __name__ == "__main__":
    main()
