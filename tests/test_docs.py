"""Every Python code block in README.md and docs/*.md runs: a renamed function breaks the build.

The blocks of one file run in order in one namespace (like a notebook), in a temporary
directory, so files they write do not land in the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)


def python_blocks(path: Path) -> list[str]:
    """The ```python fenced blocks of a Markdown file."""
    return FENCE.findall(path.read_text(encoding="utf-8"))


def test_readme_has_code() -> None:
    assert python_blocks(ROOT / "README.md"), "README.md should open with a runnable example"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_code_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for i, block in enumerate(python_blocks(path)):
        code = compile(block, f"{path.name} block {i + 1}", "exec")
        exec(code, namespace)  # noqa: S102 - running the documentation is the point
