"""``Report``: the findings of a diagnosis, most important first, as text or as HTML."""

from __future__ import annotations

import html
from collections.abc import Iterable

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
    """What ``diagnose.check`` (and later ``diagnose.watch``) found.

    Attributes:
        findings: the findings, problems first, each kind in the order of ``findings.CODES``
            (root causes before the symptoms they cause).
        losses: the loss curves that were measured, by run (e.g. ``"lr x1"``, ``"lr x10"``).
    """

    def __init__(self, findings: Iterable[Finding],
                 losses: dict[str, list[float]] | None = None) -> None:
        self.findings: list[Finding] = sorted(findings, key=Finding.sort_key)
        self.losses: dict[str, list[float]] = dict(losses or {})

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
        return f"<div><p><b>{e(self._summary())}</b></p>{table}</div>"
