"""``watch``: diagnose the user's own training loop while it runs, without changing it.

    with diagnose.watch(model, opt) as doctor:
        for step in range(2000):
            loss = loss_fn(model(x), y)
            opt.zero_grad(); loss.backward(); opt.step()
    print(doctor.report())

It listens with four hooks, and removes them on exit:

- a forward hook on the model (the top module only): the output of each forward pass;
- a hook at the start of every ``backward()`` (``autograd.register_backward_pre_hook``): the
  root is the loss of the step; its graph is still there, so the activations can be read;
- a hook at the end of every ``backward()``: the gradients of the step;
- a step post-hook on the optimizer: a step happened (for gradients left from an earlier step).

Memory stays bounded however long the run: the history keeps at most ``MAX_HISTORY`` entries,
and when it is full it drops every other one and records half as often. Work per step stays
small: the loss every step, the gradient norms at the recorded steps, the activations every
``TRACE_EVERY`` steps.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import numpy as np

from ..autograd import register_backward_post_hook, register_backward_pre_hook
from ..autograd.hooks import RemovableHandle
from ..nn import Module
from ..optim import Optimizer
from ..tensor import Tensor
from . import static
from .findings import HINT, PROBLEM, Finding
from .probe import first_nonfinite, still_identical
from .report import Report
from .trace import Trace, as_array, consumer_of, loss_kind, read_graph, spread

MAX_HISTORY = 256      # entries of the loss / gradient-norm history (then it is thinned)
TRACE_EVERY = 50       # read the activations from the graph every this many steps
RECENT = 100           # losses kept for the trend at the end of the run
FLAT = 0.01            # a loss that changed less than 1% over the recent steps is flat


@dataclass
class History:
    """Loss and per-parameter gradient norm at the recorded steps: all steps at first, then
    every 2nd, 4th, ... step (the oldest thinned the same way), so it never grows past
    ``capacity`` entries."""

    capacity: int = MAX_HISTORY
    stride: int = 1
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    norms: list[dict[str, float]] = field(default_factory=list)

    def wants(self, step: int) -> bool:
        return step % self.stride == 0

    def add(self, step: int, loss: float, norms: dict[str, float]) -> None:
        self.steps.append(step)
        self.losses.append(loss)
        self.norms.append(norms)
        if len(self.steps) > self.capacity:
            self.stride *= 2
            keep = [i for i, s in enumerate(self.steps) if s % self.stride == 0]
            self.steps = [self.steps[i] for i in keep]
            self.losses = [self.losses[i] for i in keep]
            self.norms = [self.norms[i] for i in keep]

    def grad_norms(self) -> dict[str, list[float]]:
        """Each parameter's gradient norm at the recorded steps (nan where it had none)."""
        names: dict[str, None] = {}
        for entry in self.norms:
            names.update(dict.fromkeys(entry))
        return {n: [entry.get(n, math.nan) for entry in self.norms] for n in names}


class Watch:
    """Hooks on a model and its optimizer that diagnose the training loop they run in.

    Use it through ``diagnose.watch(model, optimizer)``; ``report()`` gives the findings
    (a ``Report``, like ``diagnose.check``'s) at any time, during or after the loop.
    """

    def __init__(self, model: Module, optimizer: Optimizer | None = None) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"watch(): model must be an nn.Module, got {type(model).__name__}")
        if optimizer is not None and not isinstance(optimizer, Optimizer):
            raise TypeError(f"watch(): optimizer must be a microtensor.optim.Optimizer, got "
                            f"{type(optimizer).__name__}")
        self.model, self.optimizer = model, optimizer
        self.history = History()
        self.steps = 0                     # backward passes from the model's loss
        self.optimizer_steps = 0
        self.recent: deque[float] = deque(maxlen=RECENT)
        self.first_losses: list[float] = []
        self.diverged_at: int | None = None
        self.first_nonfinite = ""
        self.accumulated = 0               # backward passes that found last step's gradients
        self.accumulated_norms: list[float] = []  # their norm: the first and the latest
        self.initial: list[Finding] = []   # what the first step's graph shows (static checks)
        self.findings_seen: dict[str, list[Finding]] = {}  # the latest activation findings
        self.output_spread: float | None = None
        self.kind = "unknown"
        self.inputs: Tensor | None = None
        self._output: Tensor | None = None
        self._trace: Trace | None = None
        self._sampling = False
        self._counting = False             # this backward is from the loss of our model
        self._stepped = False              # a step ran since the last backward
        self._start: dict[str, np.ndarray] = {}
        self._had_grad: set[str] = set()
        self._symmetric: list[tuple[Finding, list[list[int]], bool]] = []
        self._handles: list[RemovableHandle] = []
        self._params = list(model.named_parameters())

    # -- the hooks --------------------------------------------------------------------------

    def __enter__(self) -> Watch:
        self._start = {n: p.detach().numpy().copy() for n, p in self._params}
        self._handles = [self.model.register_forward_hook(self._forward),
                         register_backward_pre_hook(self._backward_start),
                         register_backward_post_hook(self._backward_end)]
        if self.optimizer is not None:
            self._handles.append(self.optimizer.register_step_post_hook(self._stepped_hook))
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._output = self._trace = None

    def _forward(self, module: Module, args: tuple[Any, ...], output: Any) -> None:
        # (a deep copy of the model, made by diagnose.check, say, carries this hook: ignore it)
        if module is not self.model or not isinstance(output, Tensor):
            return
        self._output = output
        if self.inputs is None and args and isinstance(args[0], Tensor):
            self.inputs = args[0].detach()

    def _backward_start(self, roots: Any) -> None:
        output = self._output
        if output is None or len(roots) != 1 or roots[0].numel() != 1:
            return  # not the loss of our model's forward pass
        self._output = None
        self._counting = True
        step, loss = self.steps, float(roots[0].item())
        self.recent.append(loss)
        if len(self.first_losses) < 5:
            self.first_losses.append(loss)
        if not math.isfinite(loss) and self.diverged_at is None:
            self.diverged_at = step
            self.first_nonfinite = _first_nonfinite(self.model, output)
        if self._stepped and self.optimizer is not None:
            self._check_accumulation(step)
        self._sampling = self.history.wants(step)
        if step % TRACE_EVERY == 0 and math.isfinite(loss):
            trace = Trace(output=output, loss=roots[0])
            read_graph(trace, self.model, output)
            trace.consumer = consumer_of(roots[0], output)
            self.kind = loss_kind(None, trace.consumer)
            if step == 0:
                self._read_initial(trace)
            self._read_activations(trace)
            self._trace = trace

    def _backward_end(self, roots: Any) -> None:
        if not self._counting:
            return
        self._counting = False
        if self._trace is not None:
            self.findings_seen["vanishing-gradients"] = static.vanishing_gradients(self._trace)
            self._trace = None
        if self._sampling:
            self._sampling = False
            norms = {}
            for name, p in self._params:
                if p.grad is not None:
                    g = p.grad.numpy()
                    norms[name] = float(np.sqrt(np.vdot(g, g).real))
                    self._had_grad.add(name)
            self.history.add(self.steps, self.recent[-1], norms)
        self.steps += 1
        self._stepped = False

    def _stepped_hook(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        self.optimizer_steps += 1
        self._stepped = True

    def _check_accumulation(self, step: int) -> None:
        """At the start of a backward after a step: gradients still there (not zeroed) will
        have this step's gradients added to them."""
        assert self.optimizer is not None
        total, stale = 0.0, False
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    g = p.grad.numpy()
                    if g.any():
                        stale = True
                        total += float(np.vdot(g, g).real)
        if stale:
            self.accumulated += 1
            self.accumulated_norms[1:] = []
            self.accumulated_norms.append(math.sqrt(total))

    def _read_initial(self, trace: Trace) -> None:
        """The checks of the initial model that need no training (as ``diagnose.check``):
        the output activation against the loss, the architecture, the initialisation."""
        self.initial = static.activation_loss_mismatch(trace, self.kind)
        self.initial += static.no_hidden_nonlinearity(trace)
        symmetric = static.symmetric_units(trace)
        self.initial += [f for f in static.init_scale(trace)
                         if not set(f.where) <= {s.where[0] for s in symmetric}]
        # identical units are a problem only if they stay identical: checked in report()
        self._symmetric = [(f, static.symmetric_groups(la), la.units_last) for f in symmetric
                           for la in trace.layers if la.weight_name == f.where[0]]

    def _read_activations(self, trace: Trace) -> None:
        """Saturated and dead units, and how much the output depends on the input, now."""
        self.findings_seen["saturated-units"] = static.saturated_units(trace)
        self.findings_seen["dead-units"] = static.dead_units(trace, stuck=False)
        out = trace.output
        if out is not None and out.ndim >= 1 and out.shape[0] > 1 and out.dtype.kind == "f":
            probabilities = _as_probabilities(self.kind, as_array(out))
            self.output_spread = (spread(Tensor(probabilities))
                                  if probabilities is not None else None)

    # -- the report -------------------------------------------------------------------------

    def report(self) -> Report:
        """What the run so far shows: findings, most important first, with the loss curve and
        the per-parameter gradient norms at the recorded steps."""
        findings: list[Finding] = list(self.initial)
        findings += [f for f, groups, units_last in self._symmetric
                     if still_identical(self.model, f.where[0], groups, units_last)]
        unstable = self._diverged() + self._growing()
        findings += unstable
        findings += self._accumulation()
        findings += self._frozen()
        if self.inputs is not None:
            findings += static.unscaled_inputs(self.inputs)
        stuck = self._flat()
        findings += self.findings_seen.get("saturated-units", [])
        findings += self.findings_seen.get("vanishing-gradients", [])
        for f in self.findings_seen.get("dead-units", []):
            dead, units = f.evidence["dead units"], f.evidence["units"]
            severity = PROBLEM if dead == units or stuck else HINT
            findings.append(Finding(f.code, severity, f.message, f.fix, f.where, f.evidence))
        if stuck and not unstable:
            findings += self._plateau()
        return Report(findings, losses={"watched run": list(self.history.losses)},
                      steps=list(self.history.steps), grad_norms=self.history.grad_norms())

    def _diverged(self) -> list[Finding]:
        if self.diverged_at is None:
            return []
        where = self.first_nonfinite or "the loss (the model's outputs are finite)"
        return [Finding(
            "diverged", PROBLEM,
            f"the loss became non-finite at step {self.diverged_at}; the first op with a "
            f"non-finite output is {where}",
            "Lower the learning rate (try 10 times smaller), and scale the inputs to order one.",
            evidence={"diverged at step": self.diverged_at, "first non-finite op": where,
                      "lr": self._lr()})]

    def _growing(self) -> list[Finding]:
        """The loss grew over the run (learning rate too high) and the gradients exploded."""
        out: list[Finding] = []
        finite = [v for v in self.history.losses if math.isfinite(v)]
        if self.diverged_at is None and len(self.recent) >= 20 and self.first_losses:
            start, end = self.first_losses[0], float(np.mean(list(self.recent)[-5:]))
            if math.isfinite(end) and end > 1.1 * start + 1e-12:
                out.append(Finding(
                    "learning-rate-too-high", PROBLEM,
                    f"the loss grew from {start:.4g} to {end:.4g} over {self.steps} steps",
                    "Use a smaller learning rate (try 10 times smaller).",
                    evidence={"start loss": start, "end loss": end, "lr": self._lr()}))
        totals = [math.sqrt(sum(v * v for v in entry.values() if math.isfinite(v)))
                  for entry in self.history.norms]
        totals = [t for t in totals if t > 0]
        if len(totals) > 1 and max(totals) > 1e3 * totals[0] and finite and \
                (self.diverged_at is not None or max(finite) > 1.1 * finite[0]):
            out.append(Finding(
                "exploding-gradients", PROBLEM,
                f"the gradient norm grew from {totals[0]:.3g} to {max(totals):.3g}, while "
                f"the loss grew",
                "Lower the learning rate; scale the inputs; keep the default initialisation.",
                evidence={"first gradient norm": totals[0], "largest gradient norm": max(totals)}))
        return out

    def _accumulation(self) -> list[Finding]:
        """zero_grad never (or not every step) called: each backward adds to old gradients."""
        if self.optimizer_steps < 2 or self.accumulated < max(2, self.optimizer_steps // 2):
            return []
        norms = self.accumulated_norms
        return [Finding(
            "gradient-accumulation", PROBLEM,
            f"in {self.accumulated} of {self.optimizer_steps} steps, backward() started "
            f"with the gradients of the previous step still in .grad: zero_grad() is not "
            f"called between step() and the next backward(), so the gradients add up step "
            f"over step (their norm went from {norms[0]:.3g} to {norms[-1]:.3g})",
            "Call optimizer.zero_grad() in every step, before loss.backward().",
            evidence={"steps with old gradients": self.accumulated,
                      "optimizer steps": self.optimizer_steps,
                      "first stale gradient norm": norms[0],
                      "last stale gradient norm": norms[-1]})]

    def _frozen(self) -> list[Finding]:
        """Parameters that did not change over the run."""
        if self.optimizer_steps == 0:
            return []
        in_opt = ({id(p) for g in self.optimizer.param_groups for p in g["params"]}
                  if self.optimizer is not None else set())
        unchanged = [(n, p) for n, p in self._params
                     if n in self._start and np.array_equal(self._start[n], p.detach().numpy())]
        if not unchanged:
            return []
        off = [n for n, p in unchanged if not p.requires_grad]
        missing = [n for n, p in unchanged if p.requires_grad and id(p) not in in_opt]
        cut = [n for n, p in unchanged if p.requires_grad and id(p) in in_opt
               and n not in self._had_grad and self.history.norms]
        out = []
        for names, message, fix in (
                (missing, "not in the optimizer", "Create the optimizer after building the whole "
                 "model, from model.parameters()."),
                (cut, "never given a gradient by backward() (unused, or used through .detach() "
                 "or .data)", "Compute the output from the parameters themselves, without "
                 ".detach() or .data."),
                (off, "requires_grad=False", "Call model.requires_grad_(True), or leave out the "
                 "requires_grad_(False) call (fine if you froze them on purpose).")):
            if names:
                out.append(Finding(
                    "frozen-parameters", HINT if names is off and len(off) < len(self._params)
                    else PROBLEM,
                    f"{', '.join(names)} did not change in {self.optimizer_steps} steps: "
                    f"{'it is' if len(names) == 1 else 'they are'} {message}", fix,
                    where=tuple(names), evidence={"unchanged parameters": len(names),
                                                  "optimizer steps": self.optimizer_steps}))
        return out

    def _flat(self) -> bool:
        """The loss has not moved (less than 1%) over the last ``RECENT`` steps."""
        if len(self.recent) < RECENT or self.diverged_at is not None:
            return False
        recent = np.asarray(self.recent)
        scale = max(abs(float(recent.mean())), 1e-12)
        return float(recent.max() - recent.min()) < FLAT * scale

    def _plateau(self) -> list[Finding]:
        if self.output_spread is None or self.output_spread >= 0.01:
            return []
        end = float(np.mean(list(self.recent)[-5:]))
        return [Finding(
            "plateau-constant-output", PROBLEM,
            f"the loss sits at {end:.4g} (it moved less than {FLAT:.0%} in the last {RECENT} "
            f"steps) and the predictions barely depend on the input: the model predicts "
            f"(nearly) the same output for every example",
            "Fix the cause listed before this finding (often the initialisation or the "
            "learning rate); a plateau is a symptom. diagnose.check names the cause.",
            evidence={"end loss": end, "prediction spread over the batch": self.output_spread,
                      "steps": self.steps})]

    def _lr(self) -> object:
        return self.optimizer.param_groups[0]["lr"] if self.optimizer is not None else "unknown"


def watch(model: Module, optimizer: Optimizer | None = None) -> Watch:
    """Diagnose a training loop while it runs: use as ``with diagnose.watch(model, opt) as
    doctor:`` around the loop, then ``print(doctor.report())``.

    The loop is not changed. Hooks on the model, on every ``backward()`` and on the optimizer's
    step record the loss of each step, the gradient norms (at most ``MAX_HISTORY`` entries,
    thinned as the run grows) and, every ``TRACE_EVERY`` steps, the activations. The report
    names a loss that diverges or grows, exploding or vanishing gradients, gradients that
    accumulate because ``zero_grad()`` is not called, parameters that never change, saturated
    or dead units, unscaled inputs, and a loss stuck at a constant prediction.

    Args:
        model: the network trained in the loop (its forward passes are watched).
        optimizer: its optimizer (needed for gradients left from a previous step, parameters
            missing from it, and the learning rate in the findings).
    """
    return Watch(model, optimizer)


def _as_probabilities(kind: str, output: np.ndarray) -> np.ndarray | None:
    """The model's predictions as probabilities, when the loss tells how to read them."""
    if kind == "bce-logits":
        return 0.5 * (1.0 + np.tanh(0.5 * output))  # the sigmoid, without overflow
    if kind == "ce" and output.ndim == 2:
        z: np.ndarray = np.exp(output - output.max(axis=1, keepdims=True))
        probabilities: np.ndarray = z / z.sum(axis=1, keepdims=True)
        return probabilities
    if kind == "bce":
        return output
    return None


def _first_nonfinite(model: Module, output: Tensor) -> str:
    """The first op (in forward order) whose output is not finite, with its module."""
    trace = Trace(output=output)
    read_graph(trace, model, output)
    return first_nonfinite(trace)


__all__ = ["History", "Watch", "watch"]
