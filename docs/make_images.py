"""Generate every picture in docs/images/ from code.

    python docs/make_images.py

Each picture in the guides is written by a code block of the guide itself, e.g.
``mt.save_graph(y, "neuron.svg", ...)`` in ``autograd.md`` above ``images/neuron.svg``. This
script runs the ```python blocks of every ``docs/*.md`` file (in order, in one namespace per
file, in a temporary directory: the same way ``tests/test_docs.py`` runs them), then copies each
SVG file the blocks wrote into ``docs/images/``. The picture of the XOR example comes from
running ``examples/xor.py`` with its default settings, as a reader would.

Finally it checks that every ``images/...`` link in the guides points to a file it generated.
Rendering needs Graphviz: the ``dot`` program, or the engine bundled in pygraphviz
(``pip install -e ".[render]"``); the plots of ``report.plot`` need matplotlib. Plots are
written reproducibly (no date, fixed element ids), so running the script again changes no file
whose picture did not change. ``tests/test_diagnose_pictures.py`` reuses these functions to check
that the committed pictures of ``diagnosing-training.md`` are what its code draws.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
IMAGES = DOCS / "images"
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\((images/[^)\s]+)\)")

sys.path.insert(0, str(ROOT / "examples"))

import xor  # noqa: E402  (examples/ is not a package: it is put on the path above)


@contextlib.contextmanager
def quiet_in(directory: Path) -> Iterator[None]:
    """Run with ``directory`` as the working directory and the printed output discarded."""
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        os.chdir(cwd)


@contextlib.contextmanager
def reproducible_plots() -> Iterator[None]:
    """Make matplotlib's SVG files the same on every run: no creation date (it reads
    ``SOURCE_DATE_EPOCH``) and element ids from a fixed salt instead of random ones."""
    saved_epoch = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = "0"
    try:  # (matplotlib draws report.plot's pictures; guides without plots need none)
        matplotlib = importlib.import_module("matplotlib")
        salt = matplotlib.rc_context({"svg.hashsalt": "microtensor docs"})
    except ImportError:
        salt = contextlib.nullcontext()
    try:
        with salt:
            yield
    finally:
        if saved_epoch is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = saved_epoch


def pictures_of_guide(path: Path, out: Path) -> list[Path]:
    """Run the Python blocks of one guide in ``out``; return the SVG files they wrote."""
    namespace: dict[str, object] = {"__name__": "__docs__"}
    with quiet_in(out), reproducible_plots():
        for i, block in enumerate(FENCE.findall(path.read_text(encoding="utf-8"))):
            exec(compile(block, f"{path.name} block {i + 1}", "exec"), namespace)  # noqa: S102
    return sorted(out.glob("*.svg"))


def image_links(path: Path) -> list[str]:
    """The ``images/...`` links of one guide, in order (``images/mlp.svg``, ...)."""
    return IMAGE_LINK.findall(path.read_text(encoding="utf-8"))


def picture_of_xor_example(out: Path) -> list[Path]:
    """Run ``examples/xor.py`` with its defaults; return the graph it drew."""
    # Not named xor_graph.svg, the script's default, which .gitignore keeps out of the repository.
    path = out / "xor-example.svg"
    with quiet_in(out):
        xor.main(["--graph", str(path)])
    return [path]


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    made: dict[str, str] = {}  # file name -> what wrote it
    jobs: list[tuple[str, Callable[[Path], list[Path]]]] = [
        (p.name, functools.partial(pictures_of_guide, p)) for p in sorted(DOCS.glob("*.md"))]
    jobs.append(("examples/xor.py", picture_of_xor_example))
    for source, job in jobs:
        with tempfile.TemporaryDirectory() as tmp:
            for svg in job(Path(tmp)):
                if svg.name in made:
                    raise SystemExit(f"{svg.name} is written by both {made[svg.name]} and "
                                     f"{source}: give the pictures different names")
                made[svg.name] = source
                shutil.copyfile(svg, IMAGES / svg.name)
                print(f"{source:>24} -> docs/images/{svg.name}")
    linked = {link for p in DOCS.glob("*.md") for link in image_links(p)}
    missing = sorted(link for link in linked if Path(link).name not in made)
    if missing:
        raise SystemExit(f"the guides link to pictures that no code wrote: {missing}")
    unused = sorted(name for name in made if f"images/{name}" not in linked)
    if unused:
        print(f"note: written but not shown in any guide: {unused}")


if __name__ == "__main__":
    main()
