"""``python -m microtensor``: what to paste into a bug report (like PyTorch's ``collect_env``).

Prints microtensor's version, Python's, NumPy's and its BLAS, the graph renderer that drawings
will use (the ``dot`` program, or the Graphviz bundled with pygraphviz) and where it is, and
whether PyTorch is installed for the parity tests.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import shutil

import numpy as np

from . import __version__


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _blas() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except Exception:  # (the layout of NumPy's build report is not a stable API)
        return "unknown"


def _renderer() -> str:
    dot = shutil.which("dot")
    if dot is not None:
        return f"the dot program ({dot})"
    pygraphviz = _version("pygraphviz")
    spec = importlib.util.find_spec("pygraphviz") if pygraphviz is not None else None
    if spec is not None:
        return f"the Graphviz bundled with pygraphviz {pygraphviz} ({spec.origin})"
    return ('none: install pygraphviz (pip install "microtensor[render]", or '
            'pip install -e ".[render]" in a checkout) or Graphviz\'s dot program')


def environment() -> str:
    """The report, one ``name: value`` line each."""
    torch = _version("torch")
    lines = [
        f"microtensor: {__version__}",
        f"Python: {platform.python_version()} ({platform.python_implementation()}, "
        f"{platform.system()} {platform.machine()})",
        f"NumPy: {np.__version__} (BLAS: {_blas()})",
        f"graphviz (Python package): {_version('graphviz') or 'not installed'}",
        f"graph renderer: {_renderer()}",
        f"PyTorch: {torch} (the parity tests compare with it)" if torch is not None else
        "PyTorch: not installed (the parity tests are skipped; pip install torch to run them)",
    ]
    return "\n".join(lines)


def main() -> None:
    print(environment())


if __name__ == "__main__":
    main()
