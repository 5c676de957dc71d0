"""The benchmark runner keeps working: a --quick run in the test suite (no timing asserts)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUNNER = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def test_quick_run_prints_every_workload() -> None:
    result = subprocess.run([sys.executable, str(RUNNER), "--quick"], capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "| workload | implementation | median | vs NumPy | note |" in out
    for workload in ("xor (20 steps)", "mlp (2 steps)", "conv (2 steps)", "digits cnn (2 steps)",
                     "(a*b).sum() fwd+bwd",
                     "deep chain",
                     "mlp peak memory", "xor memory growth"):
        assert workload in out, workload
    # Every implementation trains the same network from the same start: the losses agree.
    losses = [line.split("final loss ")[1].split()[0] for line in out.splitlines()
              if line.startswith("| xor (20 steps)")]
    assert len(set(losses)) == 1, losses
    losses = [line.split("final loss ")[1].split(";")[0].split()[0] for line in out.splitlines()
              if line.startswith("| digits cnn (2 steps)")]
    assert len(losses) == (2 if "PyTorch eager" in out else 1)
    assert len(set(losses)) == 1, losses  # microtensor and PyTorch compute the same numbers
