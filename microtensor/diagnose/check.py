"""``check``: diagnose a model, loss and data before (instead of) a long training run.

Static checks first (one forward and backward pass on a copy), then probe training on copies.
The user's model, optimizer and random state are left exactly as they were.
"""

from __future__ import annotations

import copy
from typing import Any

from ..nn import Module
from ..optim import Adam, Optimizer
from ..random import get_rng_state, set_rng_state
from . import static
from .findings import Finding
from .probe import choose_steps, probe, still_identical
from .report import Report
from .trace import LossFn, loss_kind, run


def check(model: Module, loss_fn: LossFn, inputs: Any, targets: Any,
          optimizer: Optimizer | None = None, steps: int | None = None) -> Report:
    """Find why ``model`` does not learn (or will not) from ``inputs`` and ``targets``.

    Runs static checks (shapes, the output activation against the loss, the architecture, the
    initialisation, frozen parameters, the inputs' scale, user-written backward functions),
    then trains deep copies of the model and optimizer for a few hundred full-batch steps, and
    copies with the learning rate ×10, ×100 or ÷10 when the first run is stuck or unstable.
    Problems are reported as findings, never raised.

    Args:
        model: the network (``model(inputs)`` is its output).
        loss_fn: ``loss_fn(output, targets)`` returns the loss, e.g. ``nn.BCELoss()``.
        inputs: the input batch (a tensor, or a tuple of tensors for ``model(*inputs)``).
        targets: the targets of that batch.
        optimizer: the optimizer of ``model``'s parameters; ``None`` probes with
            ``Adam(lr=0.01)`` and does not judge the learning rate.
        steps: training steps of each probe copy; ``None`` chooses: 300, fewer for a large
            model and batch or when 300 steps would take more than 20 s (a stuck run's copy
            at 10 times the rate trains 10/3 as long).

    Returns:
        A ``Report``: ``report.findings`` (most important first), ``report.ok``.
    """
    rng_state = get_rng_state()
    try:
        return _check(model, loss_fn, inputs, targets, optimizer, steps, rng_state)
    finally:
        set_rng_state(rng_state)


def _check(model: Module, loss_fn: LossFn, inputs: Any, targets: Any,
           optimizer: Optimizer | None, steps: int | None, rng_state: Any) -> Report:
    trace = run(copy.deepcopy(model), loss_fn, inputs, targets)
    set_rng_state(rng_state)
    kind = loss_kind(loss_fn, trace.consumer)
    findings: list[Finding] = []
    mismatch = static.activation_loss_mismatch(trace, kind)
    findings += mismatch
    if trace.error is not None and trace.error_in in ("forward", "loss"):
        errors = static.errors(trace, kind, targets)
        if not (mismatch and errors and errors[0].code == "loss-error"):
            findings += errors
        return Report(findings)
    findings += static.errors(trace, kind, targets)
    findings += static.bad_backward(trace)
    if trace.error is not None and not any(f.code == "bad-backward" for f in findings):
        findings.append(Finding(
            "bad-backward" if trace.custom else "loss-error", "problem",
            f"loss.backward() raised {type(trace.error).__name__}: {trace.error}",
            "Read the error message; check the backward of any Function you wrote.",
            evidence={"error": str(trace.error)}))
    if trace.error is not None:
        return Report(findings)
    findings += static.frozen_parameters(model, optimizer, trace)
    findings += static.no_hidden_nonlinearity(trace)
    symmetric = static.symmetric_units(trace)
    symmetric_layers = {f.where[0] for f in symmetric}
    findings += [f for f in static.init_scale(trace)
                 if not set(f.where) <= symmetric_layers]
    findings += static.unscaled_inputs(inputs)
    findings += static.saturated_units(trace)
    findings += static.vanishing_gradients(trace)

    judge_lr = optimizer is not None
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        return Report(findings + symmetric)
    opt = optimizer if optimizer is not None else Adam(trainable, lr=0.01)
    if steps is None:
        steps = choose_steps(model, opt, loss_fn, inputs, targets, rng_state)
    result = probe(model, opt, loss_fn, inputs, targets, kind, steps, rng_state, judge_lr)
    # (a loss that refuses the outputs mid-training is explained by a mismatch found above)
    findings += [f for f in result.findings if not (mismatch and f.code == "loss-error")]
    base = result.runs[0]
    for f in symmetric:  # identical units are a problem only if they stay identical
        layer = next(la for la in trace.layers if la.weight_name == f.where[0])
        groups = static.symmetric_groups(layer)
        if base.diverged_at is not None or still_identical(base.model, f.where[0], groups,
                                                           layer.units_last):
            findings.append(f)
    if result.end_trace is not None:
        findings += static.dead_units(result.end_trace, result.stuck)
    return Report(findings, losses={r.label: r.losses for r in result.runs},
                  grad_norms=base.param_norms)
