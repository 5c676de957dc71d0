"""``Report``: the findings of a diagnosis, most important first, as text or as HTML."""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Iterable
from typing import Any

from .findings import PROBLEM, Finding


def _number(value: object) -> str:
    """A number as a learner reads it: 4 significant digits, scientific when small or large."""
    if isinstance(value, bool) or not isinstance(value, float):
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(_number(v) for v in value) + "]"
        return str(value)
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.4g}"


class Report:
    """What ``diagnose.check`` or ``diagnose.watch`` found.

    Attributes:
        findings: the findings, problems first, each kind in the order of ``findings.CODES``
            (root causes before the symptoms they cause).
        losses: the loss curves that were measured, by run (e.g. ``"lr x1"``, ``"lr x10"``,
            or ``"watched run"``); the first is the main run.
        steps: the step number of each entry of the main run's curve (``watch`` records every
            step at first, then every 2nd, 4th, ... step); ``0, 1, 2, ...`` when not given.
        grad_norms: the gradient norm of each parameter (by name) at those steps of the main
            run (nan where the parameter had no gradient).
    """

    def __init__(self, findings: Iterable[Finding],
                 losses: dict[str, list[float]] | None = None, steps: list[int] | None = None,
                 grad_norms: dict[str, list[float]] | None = None) -> None:
        self.findings: list[Finding] = sorted(findings, key=Finding.sort_key)
        self.losses: dict[str, list[float]] = dict(losses or {})
        main = next(iter(self.losses.values()), [])
        self.steps: list[int] = list(steps) if steps is not None else list(range(len(main)))
        self.grad_norms: dict[str, list[float]] = dict(grad_norms or {})

    @property
    def ok(self) -> bool:
        """True when no finding is a problem (hints are allowed)."""
        return all(f.severity != PROBLEM for f in self.findings)

    @property
    def codes(self) -> list[str]:
        """The codes of the findings, in the report's order."""
        return [f.code for f in self.findings]

    def _summary(self) -> str:
        problems = sum(f.severity == PROBLEM for f in self.findings)
        hints = len(self.findings) - problems
        if not self.findings:
            return "diagnose: no problem found"
        parts = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in
                 ((problems, "problem"), (hints, "hint")) if n]
        return "diagnose: " + ", ".join(parts)

    def __str__(self) -> str:
        lines = [self._summary()]
        for i, f in enumerate(self.findings, 1):
            where = f" at {', '.join(f.where)}" if f.where else ""
            lines.append(f"{i}. [{f.severity}] {f.code}{where}: {f.message}")
            if f.evidence:
                numbers = ", ".join(f"{k} {_number(v)}" for k, v in f.evidence.items())
                lines.append(f"   evidence: {numbers}")
            lines.append(f"   fix: {f.fix}")
            lines.append(f"   see: {f.doc}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Report ok={self.ok} codes={self.codes}>"

    def plot(self, path: str | os.PathLike[str] | None = None) -> Any:
        """Draw the loss curves and the gradient norm of each parameter over the steps (log
        scales), save the figure to ``path`` (PNG, SVG, PDF: from its suffix) when given, and
        return the matplotlib ``Figure``. Needs matplotlib (``pip install "microtensor[plot]"``).
        """
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError('report.plot() needs matplotlib: pip install "microtensor[plot]" '
                              '(or pip install matplotlib)') from None
        # (a Figure without pyplot: no window, and the user's matplotlib backend is untouched)
        fig = Figure(figsize=(7, 6))
        top, bottom = fig.subplots(2, 1, sharex=True)
        for i, (label, curve) in enumerate(self.losses.items()):
            steps = self.steps if i == 0 and len(self.steps) == len(curve) else \
                list(range(len(curve)))
            top.plot(steps, _positive(curve), label=label)
        top.set_yscale("log")
        values = [v for curve in self.losses.values() for v in _positive(curve) if v == v]
        if values and max(values) < 10 * min(values):
            # (a flat loss on an automatic log scale gets ticks like 6.9315e-01 and looks
            # like a slope: show it on a whole decade instead)
            low = 10.0 ** math.floor(math.log10(min(values)))
            top.set_ylim(low, max(10.0 ** math.ceil(math.log10(max(values))), 10 * low))
        top.set_ylabel("loss")
        top.set_title(self._summary())
        if self.losses:
            top.legend(fontsize="small")
        for name, norms in self.grad_norms.items():
            # (a run that diverged has a loss, but no gradient, at its last step)
            drawn = _positive(norms[:len(self.steps)])
            dead = all(v != v for v in drawn) and any(v == 0 for v in norms)
            # (a log scale cannot show 0: say so, or the line silently disappears)
            bottom.plot(self.steps[:len(norms)], drawn,
                        label=f"{name} (gradient 0)" if dead else name)
        bottom.set_yscale("log")
        bottom.set_xlabel("step")
        bottom.set_ylabel("gradient norm")
        if self.grad_norms:
            bottom.legend(fontsize="small", ncol=2)
        fig.tight_layout()
        if path is not None:
            fig.savefig(os.fspath(path), dpi=100)
        return fig

    def _plot_png(self) -> str:
        """The plot as a base64 PNG for HTML, or "" without matplotlib or curves."""
        if not self.losses:
            return ""
        try:
            fig = self.plot()
        except ImportError:
            return ""
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    def _repr_html_(self) -> str:
        """The report as an HTML table (what Jupyter shows for a report)."""
        e = html.escape
        rows = []
        for f in self.findings:
            colour = "#b00020" if f.severity == PROBLEM else "#8a6d00"
            evidence = "<br>".join(f"{e(k)}: {e(_number(v))}" for k, v in f.evidence.items())
            rows.append(
                f"<tr><td style='color:{colour}'><b>{e(f.severity)}</b></td>"
                f"<td><code>{e(f.code)}</code></td><td>{e(', '.join(f.where))}</td>"
                f"<td>{e(f.message)}<br><i>fix:</i> {e(f.fix)}<br><small>{e(f.doc)}</small></td>"
                f"<td><small>{evidence}</small></td></tr>")
        head = ("<tr><th>severity</th><th>code</th><th>where</th><th>finding</th>"
                "<th>evidence</th></tr>")
        table = f"<table>{head}{''.join(rows)}</table>" if rows else ""
        png = self._plot_png()
        picture = f"<img src='data:image/png;base64,{png}'>" if png else ""
        return f"<div><p><b>{e(self._summary())}</b></p>{table}{picture}</div>"


def _positive(values: list[float]) -> list[float]:
    """Values for a log scale: zeros and non-finite values become gaps (nan)."""
    return [v if math.isfinite(v) and v > 0 else math.nan for v in values]
