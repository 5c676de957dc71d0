"""Every Python code block in README.md and docs/*.md runs: a renamed function breaks the build.

The blocks of one file run in order in one namespace (like a notebook), in a temporary
directory, so files they write do not land in the repository. A ```python block followed
directly by a ```text block must print that text (compared with runs of whitespace collapsed,
so long lines may be wrapped in the Markdown). Relative links and images must point to files
(and headings) that exist, so the guides read well on the repository host.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def fenced_blocks(path: Path) -> list[tuple[str, str, str | None]]:
    """Each fenced block as (language, body, body of a ```text block right after it or None)."""
    text = path.read_text(encoding="utf-8")
    matches = list(FENCE.finditer(text))
    out = []
    for m, nxt in zip(matches, [*matches[1:], None], strict=True):
        follows = nxt is not None and nxt.group(1) == "text" and \
            not text[m.end():nxt.start()].strip()
        out.append((m.group(1), m.group(2), nxt.group(2) if follows else None))
    return out


def python_blocks(path: Path) -> list[str]:
    """The ```python fenced blocks of a Markdown file."""
    return [body for lang, body, _ in fenced_blocks(path) if lang == "python"]


def test_readme_has_code() -> None:
    assert python_blocks(ROOT / "README.md"), "README.md should open with a runnable example"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_code_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    namespace: dict[str, object] = {"__name__": "__docs__"}
    blocks = [(body, expected) for lang, body, expected in fenced_blocks(path)
              if lang == "python"]
    for i, (block, expected) in enumerate(blocks):
        code = compile(block, f"{path.name} block {i + 1}", "exec")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(code, namespace)  # noqa: S102 - running the documentation is the point
        if expected is not None:
            assert printed.getvalue().split() == expected.split(), (
                f"{path.name} block {i + 1} printed\n{printed.getvalue()}\nbut the ```text block "
                f"after it shows\n{expected}")


def _anchor(heading: str) -> str:
    """The anchor a repository host (GitHub) gives a heading: lower case, punctuation dropped,
    spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))  # no headings inside code
    return {_anchor(h) for h in re.findall(r"^#+ (.*)$", text, re.M)}


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(path: Path) -> None:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # an absolute URL
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        assert linked.exists(), f"{path.name} links to {target}, which does not exist"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked), f"{path.name} links to {target}: no such heading"
