"""``Finding``: one thing that stops (or slows) training, with its evidence, its fix and its page.

The vocabulary of codes is fixed (docs and tests rely on it) and ordered from root causes to
symptoms: a report lists its problems in this order, so the first one is the cause to fix first
(``init-scale`` before the ``plateau-constant-output`` it causes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["problem", "hint"]
PROBLEM: Severity = "problem"
HINT: Severity = "hint"

PITFALLS = "docs/xor-pitfalls.md"
GUIDE = "docs/diagnosing-training.md"

# Each code, from root causes to symptoms, with the section of the docs that explains it.
CODES: dict[str, str] = {
    "forward-error": f"{GUIDE}#errors-in-the-forward-pass-or-the-loss",
    "loss-error": f"{GUIDE}#errors-in-the-forward-pass-or-the-loss",
    "target-shape": f"{PITFALLS}#predictions-4-1-against-targets-4",
    "activation-loss-mismatch": f"{PITFALLS}#sigmoid-before-bcewithlogitsloss-squashed-twice",
    "bad-backward": f"{PITFALLS}#a-derivative-applied-to-the-wrong-quantity",
    "gradient-accumulation": f"{PITFALLS}#gradients-that-add-up-zero_grad-never-called",
    "frozen-parameters": f"{PITFALLS}#parameters-that-never-change",
    "no-hidden-nonlinearity": f"{PITFALLS}#no-activation-between-the-layers-a-linear-model",
    "symmetric-units": f"{PITFALLS}#zero-or-constant-initialisation-symmetric-units",
    "init-scale": f"{PITFALLS}#small-sigmoid-weights-an-almost-linear-network",
    "unscaled-inputs": f"{PITFALLS}#inputs-far-from-order-one",
    "learning-rate-too-high": f"{PITFALLS}#a-learning-rate-far-too-large-divergence",
    "diverged": f"{PITFALLS}#a-learning-rate-far-too-large-divergence",
    "exploding-gradients": f"{PITFALLS}#a-learning-rate-far-too-large-divergence",
    "saturated-units": f"{PITFALLS}#large-weights-saturated-units",
    "dead-units": f"{PITFALLS}#dead-relu-units",
    "vanishing-gradients": f"{PITFALLS}#vanishing-gradients-in-a-deep-sigmoid-network",
    "learning-rate-too-low": f"{PITFALLS}#a-learning-rate-far-too-small",
    "plateau-constant-output": f"{PITFALLS}#the-number-0693",
}
RANK = {code: i for i, code in enumerate(CODES)}


@dataclass(frozen=True)
class Finding:
    """One diagnosis: what is wrong, where, the numbers that show it, and the fix.

    Attributes:
        code: the kind of finding, from the fixed vocabulary (``CODES``), e.g. ``"init-scale"``.
        severity: ``"problem"`` (training will not work as it is) or ``"hint"`` (it works, but
            could work better, or something looks unusual).
        message: one or two sentences saying what was found.
        where: the names (from ``named_modules`` / ``named_parameters``) it was found at; empty
            when it concerns the whole model, the data or the optimizer.
        evidence: the measured numbers that led to it, by name.
        fix: the fix, in one sentence.
        doc: the documentation section that explains it (``docs/FILE.md#section``).
    """

    code: str
    severity: Severity
    message: str
    fix: str
    where: tuple[str, ...] = ()
    evidence: dict[str, object] = field(default_factory=dict)
    doc: str = ""

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}; known codes: "
                             f"{', '.join(CODES)}")
        if self.severity not in (PROBLEM, HINT):
            raise ValueError(f"severity must be 'problem' or 'hint', got {self.severity!r}")
        if not self.doc:
            object.__setattr__(self, "doc", CODES[self.code])  # (the dataclass is frozen)

    def sort_key(self) -> tuple[int, int]:
        """Problems before hints, then root causes before symptoms."""
        return (0 if self.severity == PROBLEM else 1, RANK[self.code])
