"""Probe training: a short run on deep copies of the model and optimizer, and on copies whose
learning rate is 10 times larger or smaller, to see whether (and how) the run learns.

For small learning rates, gradient descent with the rate ×10 for ``n`` steps goes about as far
as the original rate for 10·``n`` steps, so the copies with larger rates show where the run will
be much later, in the time of a short probe. The user's model, optimizer and random state are
never touched.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..nn import Module
from ..optim import Optimizer
from ..random import set_rng_state
from ..tensor import Tensor
from .findings import HINT, PROBLEM, Finding
from .trace import LossFn, Trace, as_array, call_model, run, spread

DEFAULT_STEPS = 300  # per copy; fewer for a large model and batch (see choose_steps)
WORK = 5_000 * 10_000  # examples x parameters of a step that still gets DEFAULT_STEPS
SECONDS_PER_RUN = 20.0  # and at most this long per copy (a digits MLP step takes ~4 ms)
STUCK = 0.01         # a run is stuck when its loss is within 1% of the constant prediction's


@dataclass
class Run:
    """One probe run: the copies it trains, and the loss and gradient norm at each step."""

    label: str
    lr_scale: float
    model: Module
    optimizer: Optimizer
    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    param_norms: dict[str, list[float]] = field(default_factory=dict)  # by parameter name
    diverged_at: int | None = None  # the first step whose loss or output is not finite
    error: str = ""

    def end(self) -> float:
        """The loss at the end, averaged over the last 5 steps (smooths oscillations)."""
        tail = self.losses[-5:]
        return float(np.mean(tail)) if tail else math.nan

    def unstable(self) -> bool:
        """Diverged, or ended with a larger loss than it started with."""
        if self.diverged_at is not None or not self.losses:
            return True
        return self.end() > self.losses[0] * 1.1 + 1e-12

    def progress(self, reference: float) -> float:
        """How far below ``reference`` (the constant prediction's loss) the run ended, as a
        fraction of it."""
        return (reference - self.end()) / reference if reference > 0 else 0.0

    def first_below(self, level: float) -> int | None:
        """The first step whose loss is below ``level``."""
        return next((i for i, v in enumerate(self.losses) if v < level), None)

    def more(self, loss_fn: LossFn, inputs: Any, targets: Any, steps: int,
             stop_below: float = -math.inf) -> Run:
        """Train this run's copies for up to ``steps`` more steps (fewer if the loss falls
        below ``stop_below``, or grows past 100 times its start: diverging)."""
        names = {id(p): n for n, p in self.model.named_parameters()}
        params = [(names.get(id(p), f"parameter {i}"), p) for i, p in
                  enumerate(p for g in self.optimizer.param_groups for p in g["params"])]
        with np.errstate(all="ignore"):  # overflow is expected when a copy diverges
            for _ in range(steps):
                if not self._step(params, loss_fn, inputs, targets):
                    break
                value = self.losses[-1]
                # (a loss 100 times its start is diverging; a smaller bump can be the transient
                # of a rate at the edge of stability, which recovers: let the run show it)
                if value < stop_below or (len(self.losses) > 20 and
                                          value > 100 * self.losses[0] + 1e-12):
                    break
        return self

    def _step(self, params: list[tuple[str, Tensor]], loss_fn: LossFn, inputs: Any,
              targets: Any) -> bool:
        """One training step; False when training cannot go on."""
        step = len(self.losses)
        try:
            loss = loss_fn(call_model(self.model, inputs), targets)
            value = loss.item()
        except Exception as err:  # noqa: BLE001 - a failing run is a finding, not a crash
            if not all(np.all(np.isfinite(as_array(p))) for p in self.model.parameters()):
                self.diverged_at = step  # e.g. BCELoss refusing a nan output
            else:
                self.error = f"{type(err).__name__}: {err}"
            return False
        self.losses.append(value)
        if not math.isfinite(value):
            self.diverged_at = step
            return False
        self.optimizer.zero_grad()
        loss.backward()
        total = 0.0
        for name, p in params:
            norm = math.nan
            if p.grad is not None:
                g = as_array(p.grad).ravel()
                square = float(np.dot(g, g))
                total += square
                norm = math.sqrt(square)
            self.param_norms.setdefault(name, [math.nan] * step).append(norm)
        self.grad_norms.append(math.sqrt(total))
        self.optimizer.step()
        return True


def train(model: Module, optimizer: Optimizer, loss_fn: LossFn, inputs: Any, targets: Any,
          steps: int, lr_scale: float, rng_state: Tensor, label: str,
          stop_below: float = -math.inf) -> Run:
    """Train deep copies of ``model`` and ``optimizer`` (learning rate × ``lr_scale``) for
    ``steps`` full-batch steps (see ``Run.more`` for when it stops sooner)."""
    m, opt = copy.deepcopy((model, optimizer))
    for group in opt.param_groups:
        group["lr"] = group["lr"] * lr_scale
    set_rng_state(rng_state)  # every copy sees the same random numbers (dropout, ...)
    return Run(label, lr_scale, m, opt).more(loss_fn, inputs, targets, steps, stop_below)


def choose_steps(model: Module, optimizer: Optimizer, loss_fn: LossFn, inputs: Any,
                 targets: Any, rng_state: Tensor) -> int:
    """``DEFAULT_STEPS``, or fewer for a large model and batch: about as much work as 300
    steps of an MLP with 10 000 parameters on 5 000 examples (the digits MLP does 300), and
    at most ``SECONDS_PER_RUN`` of training per copy (a convolutional network, say)."""
    batch = inputs[0].shape[0] if isinstance(inputs, tuple) else getattr(inputs, "shape", (1,))[0]
    work = max(int(batch), 1) * sum(p.numel() for p in model.parameters())
    steps = max(30, min(DEFAULT_STEPS, int(DEFAULT_STEPS * WORK / work)))
    start = time.perf_counter()
    trial = train(model, optimizer, loss_fn, inputs, targets, 3, 1.0, rng_state, "timing")
    per_step = (time.perf_counter() - start) / max(len(trial.losses), 1)
    if per_step * steps > SECONDS_PER_RUN:  # only slow models: small ones stay deterministic
        steps = max(30, int(SECONDS_PER_RUN / per_step))
    return steps


def constant_loss(kind: str, loss_fn: LossFn, output: Tensor, targets: Any) -> float | None:
    """The loss of the best constant prediction (the same output for every input): ln 2 for
    balanced binary targets, the targets' variance for MSE, ln C for C balanced classes."""
    if not isinstance(targets, Tensor) or output.ndim == 0:
        return None
    y = as_array(targets)
    n = output.shape[0]
    shape = tuple(output.shape)
    c: np.ndarray
    if kind in ("mse", "bce", "bce-logits") and y.shape == shape:
        m = y.mean(axis=0)
        if kind == "mse":
            c = m
        else:
            m = np.clip(m, 1e-7, 1 - 1e-7)
            c = m if kind == "bce" else np.log(m / (1 - m))
    elif kind in ("ce", "nll") and len(shape) == 2:
        if targets.dtype.kind in "iu" and y.shape == (n,):
            freq = np.bincount(y.astype(np.int64).clip(0, shape[1] - 1), minlength=shape[1]) / n
        elif y.shape == shape:
            freq = y.mean(axis=0)
        else:
            return None
        c = np.log(np.clip(freq, 1e-12, None))  # logits = log-probabilities of the frequencies
    else:
        return None
    constant = Tensor(np.broadcast_to(c, shape).astype(output.dtype))
    try:
        with no_grad():
            return float(loss_fn(constant, targets).item())
    except Exception:  # noqa: BLE001 - a loss we cannot evaluate on it: no reference
        return None


def input_dependence(kind: str, output: Tensor, targets: Any) -> float | None:
    """How much the predictions vary with the input, relative to how much the targets vary
    (both as probabilities for classification): about 0 for a constant output."""
    if not isinstance(targets, Tensor):
        return None
    with no_grad():
        if kind == "bce-logits":
            pred = output.sigmoid()
        elif kind == "ce" and output.ndim == 2:
            pred = output.softmax(1)
        elif kind == "nll" and output.ndim == 2:
            pred = output.exp()
        else:
            pred = output
    y = as_array(targets)
    if kind in ("ce", "nll") and targets.dtype.kind in "iu" and output.ndim == 2:
        y = np.eye(output.shape[1])[y.astype(np.int64).clip(0, output.shape[1] - 1)]
    target_spread = spread(Tensor(y))
    if target_spread == 0:
        return None
    return spread(pred) / target_spread


def first_nonfinite(trace: Trace) -> str:
    """The first op (in forward order) whose output is not finite, with its module."""
    for node in trace.nodes:
        if not np.all(np.isfinite(as_array(node.output))):
            where = f" in {node.module}" if node.module else ""
            return f"{node.op.__name__}{where}"
    return ""


@dataclass
class ProbeResult:
    """The findings of the probe, its runs, and whether the run at the user's rate is stuck."""

    findings: list[Finding]
    runs: list[Run]
    stuck: bool
    end_trace: Trace | None


def probe(model: Module, optimizer: Optimizer, loss_fn: LossFn, inputs: Any, targets: Any,
          kind: str, steps: int, rng_state: Tensor, judge_lr: bool) -> ProbeResult:
    """Train copies and name what goes wrong: divergence, a rate too high or too low, a
    plateau at the constant prediction."""
    findings: list[Finding] = []
    base = train(model, optimizer, loss_fn, inputs, targets, steps, 1.0, rng_state, "lr x1")
    runs = [base]
    with no_grad():
        start_output = call_model(copy.deepcopy(model), inputs)
    set_rng_state(rng_state)
    reference = (constant_loss(kind, loss_fn, start_output, targets)
                 if isinstance(start_output, Tensor) else None)
    ref = reference if reference is not None else (base.losses[0] if base.losses else math.nan)
    lr = optimizer.param_groups[0]["lr"]

    if base.error:
        findings.append(Finding(
            "loss-error", PROBLEM, f"training raised after {len(base.losses)} steps: "
            f"{base.error.splitlines()[0]}", "Read the error message: it names what does "
            "not fit.", evidence={"error": base.error}))
        return ProbeResult(findings, runs, False, None)

    if base.unstable():
        down = train(model, optimizer, loss_fn, inputs, targets, steps, 0.1, rng_state, "lr /10")
        runs.append(down)
        evidence: dict[str, object] = {"lr": lr, "start loss": base.losses[0] if base.losses
                                       else math.nan}
        if base.diverged_at is not None:
            evidence["diverged at step"] = base.diverged_at
        else:
            evidence["end loss"] = base.end()
        if not down.unstable():  # (evidence first: the findings below share it)
            evidence["end loss with lr / 10"] = down.end()
            if judge_lr:
                findings.append(Finding(
                    "learning-rate-too-high", PROBLEM,
                    f"with lr {lr:g} the loss {'grows' if base.diverged_at is None else 'diverges'}"
                    f"; with lr {lr / 10:g} it falls from {down.losses[0]:.4g} to "
                    f"{down.end():.4g} in {len(down.losses)} steps",
                    f"Use a smaller learning rate: {lr / 10:g} trains.",
                    evidence=evidence))
        if base.diverged_at is not None:
            with np.errstate(all="ignore"):
                end_trace = run(base.model, loss_fn, inputs, targets, backward=False)
            bad = [n for n, p in base.model.named_parameters()
                   if not np.all(np.isfinite(as_array(p)))]
            op = first_nonfinite(end_trace) or "the loss (the model's outputs are finite)"
            where = tuple(bad) if bad else ()
            findings.append(Finding(
                "diverged", PROBLEM,
                f"the loss became {base.losses[-1] if base.losses else 'nan'} at step "
                f"{base.diverged_at}" + (f"; the first op with a non-finite output is {op}"
                                         if op else "")
                + (f"; non-finite parameters: {', '.join(bad)}" if bad else ""),
                "Lower the learning rate (or clip the gradients with "
                "nn.utils.clip_grad_norm_-style scaling), and scale the inputs to order one.",
                where=where, evidence={**evidence, "first non-finite op": op or "none"}))
        norms = [g for g in base.grad_norms if math.isfinite(g)]
        if len(norms) > 1 and norms[0] > 0 and max(norms) > 1e3 * norms[0]:
            findings.append(Finding(
                "exploding-gradients", PROBLEM,
                f"the gradient norm grew from {norms[0]:.3g} to {max(norms):.3g} during the "
                f"probe, while the loss grew",
                "Lower the learning rate; scale the inputs; keep the default initialisation.",
                evidence={"first gradient norm": norms[0], "largest gradient norm": max(norms)}))
        return ProbeResult(findings, runs, False, None)

    progress = base.progress(ref)
    stuck = progress < STUCK
    if not stuck and progress >= 0.5:
        return ProbeResult(findings, runs, False, _end_trace(base, loss_fn, inputs, targets))
    half = 0.5 * ref  # "learned": half the loss of the constant prediction
    long = steps * 10 // 3  # a copy at 10 times the rate for this long ~ 10 000 steps at 1x
    up = train(model, optimizer, loss_fn, inputs, targets, long if stuck else steps, 10.0,
               rng_state, "lr x10", stop_below=half if stuck else -math.inf)
    runs.append(up)
    evidence = {"lr": lr, "steps": len(base.losses), "end loss": base.end(),
                "end loss with lr x10": up.end()}
    if reference is not None:
        evidence["constant-prediction loss"] = reference
    if not stuck:  # learning, slowly: would a larger rate be much faster?
        if not up.unstable() and up.progress(ref) > progress + 0.25 and judge_lr:
            findings.append(Finding(
                "learning-rate-too-low", HINT,
                f"a copy with lr {lr * 10:g} reaches a loss of {up.end():.4g} in "
                f"{len(up.losses)} steps, where lr {lr:g} reaches {base.end():.4g}",
                f"Try a learning rate of {lr * 10:g}.", evidence=evidence))
        return ProbeResult(findings, runs, False, _end_trace(base, loss_fn, inputs, targets))

    if up.unstable():  # a larger rate is no option: does the run itself leave the plateau?
        base.more(loss_fn, inputs, targets, long, stop_below=half)
        if base.progress(ref) >= STUCK or base.first_below(half) is not None:
            return ProbeResult(findings, runs, False, _end_trace(base, loss_fn, inputs, targets))
    else:
        t = up.first_below(half)
        if t is not None and judge_lr:
            findings.append(Finding(
                "learning-rate-too-low", HINT,
                f"with lr {lr:g} the loss is still at {base.end():.4g} after {len(base.losses)} "
                f"steps, but a copy with lr {lr * 10:g} halves it in {t} steps: this run "
                f"learns, about 10 times more slowly than it could",
                f"Try a learning rate of {lr * 10:g} (or train about {10 * t} steps).",
                evidence=evidence))
            return ProbeResult(findings, runs, False, _end_trace(base, loss_fn, inputs, targets))
        if t is None and up.progress(ref) >= STUCK / 2 and judge_lr:
            findings.append(Finding(
                "learning-rate-too-low", PROBLEM,
                f"with lr {lr:g} the loss stays at {base.end():.4g} for {len(base.losses)} "
                f"steps; a copy with lr {lr * 10:g} is still at {up.end():.4g} after "
                f"{len(up.losses)} steps: at this rate training needs far more than "
                f"{10 * len(up.losses)} steps",
                f"Use a larger learning rate: try {lr * 10:g} or more.", evidence=evidence))
            return ProbeResult(findings, runs, True, _end_trace(base, loss_fn, inputs, targets))
        up2 = train(model, optimizer, loss_fn, inputs, targets, steps, 100.0, rng_state,
                    "lr x100", stop_below=half)
        runs.append(up2)
        if not up2.unstable() and up2.progress(ref) >= 5 * STUCK and judge_lr:
            evidence["end loss with lr x100"] = up2.end()
            findings.append(Finding(
                "learning-rate-too-low", PROBLEM,
                f"with lr {lr:g} the loss stays at {base.end():.4g} for {len(base.losses)} "
                f"steps, and at lr {lr * 10:g} for {len(up.losses)} steps; a copy with lr "
                f"{lr * 100:g} reaches {up2.end():.4g}: at this rate training needs about "
                f"100 times more steps",
                f"Use a larger learning rate: try {lr * 100:g}.", evidence=evidence))
            return ProbeResult(findings, runs, True, _end_trace(base, loss_fn, inputs, targets))
    end_trace = _end_trace(base, loss_fn, inputs, targets)
    if reference is not None and end_trace.output is not None:
        dependence = input_dependence(kind, end_trace.output, targets)
        if dependence is not None and dependence < 0.05:
            findings.append(Finding(
                "plateau-constant-output", PROBLEM,
                f"the loss sits at {base.end():.4g}, the loss of predicting the same output "
                f"for every input ({reference:.4g}), and the outputs barely depend on the "
                f"input; copies with larger learning rates do not leave it either",
                "Fix the cause listed before this finding (often the initialisation); a "
                "plateau is a symptom.",
                evidence={"end loss": base.end(), "constant-prediction loss": reference,
                          "output spread / target spread": dependence,
                          "steps": len(base.losses)}))
    return ProbeResult(findings, runs, True, end_trace)


def _end_trace(base: Run, loss_fn: LossFn, inputs: Any, targets: Any) -> Trace:
    """The trace of the trained copy (for dead units at the end of the probe)."""
    return run(base.model, loss_fn, inputs, targets, backward=False)


def still_identical(model: Module, weight_name: str, groups: list[list[int]],
                    units_last: bool) -> bool:
    """Whether the units of each group still have identical weights in ``model``."""
    weights = dict(model.named_parameters())
    if weight_name not in weights:
        return False
    rows = as_array(weights[weight_name])
    rows = rows.T if units_last else rows
    scale = float(np.abs(rows).max()) or 1.0
    return all(np.abs(rows[g] - rows[g[0]]).max() <= 1e-6 * scale for g in groups)
