"""``python -m microtensor``: the environment report for bug reports."""

from __future__ import annotations

import importlib.util
import platform
import subprocess
import sys

import numpy as np
import pytest

import microtensor as mt
from microtensor import __main__ as report


def test_python_m_microtensor_prints_the_environment() -> None:
    result = subprocess.run([sys.executable, "-m", "microtensor"], capture_output=True,
                            text=True, timeout=60, check=True)
    lines = dict(line.split(": ", 1) for line in result.stdout.strip().splitlines())
    assert lines["microtensor"] == mt.__version__
    assert lines["Python"].startswith(platform.python_version())
    assert lines["NumPy"].startswith(np.__version__ + " (BLAS: ")
    assert set(lines) == {"microtensor", "Python", "NumPy", "graphviz (Python package)",
                          "graph renderer", "PyTorch"}
    torch_installed = importlib.util.find_spec("torch") is not None
    assert lines["PyTorch"].startswith("not installed") is not torch_installed


def test_the_renderer_line_names_dot_or_the_bundled_engine_or_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report.shutil, "which", lambda name: "/opt/bin/dot")
    assert report._renderer() == "the dot program (/opt/bin/dot)"
    monkeypatch.setattr(report.shutil, "which", lambda name: None)
    monkeypatch.setattr(report, "_version", lambda package: None)
    assert 'pip install -e ".[render]"' in report._renderer()
    if importlib.util.find_spec("pygraphviz") is not None:
        monkeypatch.setattr(report, "_version", lambda package: "9.9")
        assert report._renderer().startswith("the Graphviz bundled with pygraphviz 9.9 (")
