"""Types in the editor: a learner's annotated training script passes ``mypy --strict`` and
pyright, and the checkers see ``model(x)`` as a ``Tensor`` (not ``Any``), so completion goes on
after the first layer.

``Any`` would pass a type check too, so each test also asks the checker what type it infers
(``reveal_type``) and reads the answer. One checker run per test; each is skipped when its
checker is not installed.
"""

from __future__ import annotations

import json
import math
import re
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What a learner writes: an MLP as nn.Sequential and as a Module subclass, a DataLoader, a loss,
# an optimizer. It runs (the test runs it), and the reveal_type lines run only for the checkers.
SCRIPT = '''\
"""XOR-like data, fitted by a small MLP (every name annotated or inferred)."""

from typing import TYPE_CHECKING

import microtensor as mt
from microtensor import nn
from microtensor.nn import functional as F
from microtensor.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(2, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        return self.out(F.relu(self.hidden(x)))  # strict mypy: returning Any would be an error


def needs_tensor(t: mt.Tensor) -> None:
    assert t.shape[-1] == 1


def train(model: nn.Module, x: mt.Tensor, y: mt.Tensor, steps: int) -> list[float]:
    opt = mt.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.BCEWithLogitsLoss()
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    losses: list[float] = []
    for _ in range(steps):
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses


def main() -> tuple[list[float], list[float]]:
    mt.manual_seed(0)
    x = mt.randn(64, 2)
    y = (x[:, 0] * x[:, 1] > 0).float().unsqueeze(1)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    needs_tensor(model(x))
    shape: tuple[int, ...] = model(x).shape
    assert shape == (64, 1)
    model(x).sum().backward()
    mlp = MLP(16).float()  # .to(), .train(), .float(), ... return the model itself
    bias: nn.Parameter | None = mlp.out.bias
    assert bias is not None and mlp.hidden.weight.shape == (16, 2)
    if TYPE_CHECKING:
        reveal_type(model(x))
        reveal_type(model(x).sum())
        reveal_type(mlp)
        reveal_type(mlp(x))
        reveal_type(mlp.hidden.weight)
        reveal_type(mlp.out.bias)
        reveal_type(nn.MSELoss()(model(x), y))
        reveal_type(F.max_pool1d(x.unsqueeze(0), 2))
    return train(model, x, y, 20), train(mlp, x, y, 20)


if __name__ == "__main__":
    print(main())
'''

# reveal_type line (counted from the script's first line) -> the type both checkers must see
# (pyright prints the class name alone, mypy its module path).
EXPECTED = {
    "reveal_type(model(x))": "Tensor",
    "reveal_type(model(x).sum())": "Tensor",
    "reveal_type(mlp)": "MLP",
    "reveal_type(mlp(x))": "Tensor",
    "reveal_type(mlp.hidden.weight)": "Parameter",
    "reveal_type(mlp.out.bias)": "Parameter | None",
    "reveal_type(nn.MSELoss()(model(x), y))": "Tensor",
    "reveal_type(F.max_pool1d(x.unsqueeze(0), 2))": "Tensor",
}
MYPY_NAMES = {"Tensor": "microtensor.tensor.Tensor", "MLP": "learner.MLP",
              "Parameter": "microtensor.nn.module.Parameter",
              "Parameter | None": "microtensor.nn.module.Parameter | None"}


def _reveal_lines() -> dict[int, str]:
    """Line number (1-based) of each reveal_type call in SCRIPT -> its expected type."""
    lines = {}
    for number, text in enumerate(SCRIPT.splitlines(), start=1):
        if text.strip() in EXPECTED:
            lines[number] = EXPECTED[text.strip()]
    assert len(lines) == len(EXPECTED)
    return lines


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "learner.py"
    path.write_text(SCRIPT)
    return path


def test_the_script_trains(script: Path) -> None:
    """The checked script is a real program: it runs, and both models learn."""
    first, second = runpy.run_path(str(script))["main"]()
    for losses in (first, second):
        assert all(math.isfinite(v) for v in losses)
        assert sum(losses[-4:]) < 0.8 * sum(losses[:4])


def test_mypy_strict_sees_tensors(script: Path, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    api = pytest.importorskip("mypy.api")
    monkeypatch.setenv("MYPYPATH", str(ROOT))  # microtensor from this checkout
    monkeypatch.chdir(tmp_path)  # (no project config: the flags below are the whole setup)
    out, err, status = api.run([
        "--strict", "--follow-imports=silent", "--no-error-summary", "--show-error-codes",
        "--cache-dir", str(tmp_path / "mypy_cache"), str(script)])
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert errors == [] and status == 0, out + err
    revealed = {int(m.group(1)): m.group(2) for m in
                re.finditer(r'learner\.py:(\d+): note: Revealed type is "(.*)"', out)}
    expected = {line: MYPY_NAMES[name] for line, name in _reveal_lines().items()}
    assert revealed == expected, out


def test_pyright_sees_tensors(script: Path, tmp_path: Path) -> None:
    pyright = shutil.which("basedpyright") or shutil.which("pyright")
    if pyright is None:
        pytest.skip("basedpyright is not installed")
    config = {"typeCheckingMode": "standard", "pythonVersion": "3.10",
              "extraPaths": [str(ROOT)], "include": [script.name]}
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config))
    run = subprocess.run([pyright, "--outputjson", "-p", str(tmp_path)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    report = json.loads(run.stdout)
    diagnostics = report["generalDiagnostics"]
    errors = [d for d in diagnostics if d["severity"] in ("error", "warning")]
    assert errors == [], json.dumps(errors, indent=1)
    revealed = {}
    for d in diagnostics:
        m = re.fullmatch(r'Type of ".*" is "(.*)"', d["message"])
        if m:
            revealed[d["range"]["start"]["line"] + 1] = m.group(1)
    assert revealed == _reveal_lines(), json.dumps(diagnostics, indent=1)
