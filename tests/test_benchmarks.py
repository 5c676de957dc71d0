"""The benchmark runner keeps working: a --quick run in the test suite (no timing asserts), with
its progress on stderr (a bar in a terminal, lines otherwise) and only the results on stdout; and
every implementation of a training workload (hand-written NumPy, microtensor, PyTorch, JAX)
computes the same losses."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

RUNNER = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def test_quick_run_prints_every_workload() -> None:
    result = subprocess.run([sys.executable, str(RUNNER), "--quick"], capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "| workload | implementation | median | vs NumPy | note |" in out
    for workload in ("xor (20 steps)", "moons (20 steps)", "adam (10 steps)", "mlp (2 steps)",
                     "rnn (2 steps)", "conv (2 steps)", "digits cnn (2 steps)",
                     "(a*b).sum() fwd+bwd",
                     "deep chain",
                     "mlp peak memory", "xor memory growth",
                     "diagnose.check: XOR, README recipe"):
        assert workload in out, workload
    # diagnose.check names the stuck recipe's cause, and finds nothing in the README's.
    assert re.search(r"\| diagnose\.check: XOR, README recipe \| microtensor \| .* \| ok \|", out)
    assert re.search(r"\| diagnose\.check: XOR, weights x0\.01 \(stuck\) .* \| init-scale, "
                     r"plateau-constant-output \|", out)
    # diagnose.watch's cost is measured against the same loop unwatched (which trains: "ok").
    assert re.search(r"\| diagnose\.watch: XOR loop \(50 steps\) \| microtensor \+ "
                     r"diagnose\.watch \| .* us/step \| \d+\.\d+x \| ratio to the unwatched "
                     r"loop; report: ok \|", out)
    # Every implementation trains the same network from the same start: the losses agree (in
    # float32, to the 5 decimals printed; test_same_losses_in_float64 checks them tightly).
    jax_installed = "JAX not installed" not in out
    # (the compiled step gives the eager numbers bit for bit: tests/test_compile.py)
    impls = ["hand-written NumPy", "microtensor", "microtensor, mt.compile"]
    impls += ["PyTorch eager (1 thread)"] * ("PyTorch not installed" not in out)
    for workload in ("xor (20 steps)", "moons (20 steps)", "adam (10 steps)", "mlp (2 steps)",
                     "rnn (2 steps)"):
        rows = [line.split(" | ") for line in out.splitlines()
                if line.startswith(f"| {workload} |")]
        assert [row[1] for row in rows] == impls + ["JAX jit (1 thread)"] * jax_installed
        losses = [float(row[4].split()[2].rstrip(";")) for row in rows]  # "final loss 0.69364"
        assert max(losses) - min(losses) <= 1.5e-5, (workload, losses)
        assert "not in the time: compiling" in rows[2][4]  # (the recording calls, timed apart)
    if not jax_installed:
        assert "JAX rows skipped: JAX is not installed (pip install jax)" in out
    losses = [line.split("final loss ")[1].split(";")[0].split()[0] for line in out.splitlines()
              if line.startswith("| digits cnn (2 steps)")]
    assert len(losses) == (2 if "PyTorch eager" in out else 1)
    assert len(set(losses)) == 1, losses  # microtensor and PyTorch compute the same numbers
    # Not a terminal: the progress is one line per workload, on stderr, and no bar.
    names = ["xor", "moons", "adam", "mlp", "rnn", "conv", "cnn", "overhead", "deep", "memory",
             "diagnose"]
    assert result.stderr.splitlines() == [
        f"workload {i}/{len(names)}: {name}" for i, name in enumerate(names, 1)]
    assert "workload 1/" not in out


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    """benchmarks/run.py imported as a module."""
    spec = importlib.util.spec_from_file_location("benchmarks_run", RUNNER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its dataclasses look their module up while being made)
    spec.loader.exec_module(module)
    return module


def test_progress_is_a_bar_over_the_workloads_in_a_terminal(
        runner: ModuleType, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    results = runner.main(["--quick", "--only", "deep", "overhead"])
    captured = capsys.readouterr()
    assert {row.workload for row in results.rows} == {
        "(a*b).sum() fwd+bwd, 4x4", "deep chain 100 ops", "deep chain 1,000 ops"}
    # The workloads run in the table's order; the lines are printed above the bar, which
    # ends full.
    assert re.findall(r"workload \d/2: \w+", captured.err) == ["workload 1/2: overhead",
                                                                "workload 2/2: deep"]
    assert re.search(r"benchmarks: 100%\|.*\| 2/2 \[", captured.err), captured.err
    assert "workload 1/2" not in captured.out and "| deep chain 100 ops |" in captured.out


FLOAT64_STEPS = {"xor": 5, "moons": 5, "adam": 10, "mlp": 2, "rnn": 3}

# JAX runs in a child process: JAX starts threads, and this process forks later (DataLoader
# workers in tests/test_data.py), which could then deadlock.
JAX_FLOAT64 = """
import importlib.util, json, sys
import numpy as np
spec = importlib.util.spec_from_file_location("benchmarks_run", sys.argv[1])
runner = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = runner
spec.loader.exec_module(runner)
imported_early = "jax" in sys.modules
jax = runner.jax_module()
with jax.enable_x64(True):
    losses = {w: runner.jax_runs(jax)[w](n, np.float64) for w, n in json.loads(sys.argv[2]).items()}
print(json.dumps({"imported_early": imported_early, "losses": losses}))
"""


@pytest.fixture(scope="module")
def jax_float64_losses() -> dict[str, float]:
    """The JAX rows' losses after FLOAT64_STEPS steps in float64 (jax.enable_x64)."""
    if importlib.util.find_spec("jax") is None:
        pytest.skip("JAX is not installed")
    result = subprocess.run([sys.executable, "-c", JAX_FLOAT64, str(RUNNER),
                             json.dumps(FLOAT64_STEPS)], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert not out["imported_early"]  # importing the runner does not start JAX
    losses: dict[str, float] = out["losses"]
    return losses


@pytest.mark.parametrize("workload", list(FLOAT64_STEPS))
def test_same_losses_in_float64(runner: ModuleType, workload: str) -> None:
    """The hand-written NumPy floor computes what microtensor and PyTorch compute: the same loss
    after a few steps (forward, backward and update; adam goes through all its batches), in
    float64, to 1e-12 relative. A wrong gradient would change the loss after the first step."""
    steps = FLOAT64_STEPS[workload]
    floor = getattr(runner, f"{workload}_numpy")(steps, np.float64)
    framework = getattr(runner, f"{workload}_framework")
    losses = {"microtensor": framework(runner.mt, steps, dtype=np.float64)}
    if runner.torch is not None:
        losses["PyTorch"] = framework(runner.torch, steps, dtype=np.float64)
    for name, loss in losses.items():
        assert loss == pytest.approx(floor, rel=1e-12, abs=0), name
    # and float32 is float32 (the runs in the table): close to float64, not equal
    single = getattr(runner, f"{workload}_numpy")(steps)
    assert single == pytest.approx(floor, rel=1e-5) and single != floor


@pytest.mark.parametrize("workload", list(FLOAT64_STEPS))
def test_jax_gives_the_same_losses_in_float64(runner: ModuleType, workload: str,
                                              jax_float64_losses: dict[str, float]) -> None:
    floor = getattr(runner, f"{workload}_numpy")(FLOAT64_STEPS[workload], np.float64)
    assert jax_float64_losses[workload] == pytest.approx(floor, rel=1e-12, abs=0)


def test_jax_rows_are_skipped_with_a_line_saying_so_without_jax(
        runner: ModuleType, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(runner, "jax_module", lambda: None)
    results = runner.main(["--quick", "--only", "xor"])
    out = capsys.readouterr().out
    assert "JAX not installed" in out.splitlines()[0]  # the machine line
    assert out.splitlines()[1] == "JAX rows skipped: JAX is not installed (pip install jax)"
    assert [row.impl for row in results.rows][:2] == ["hand-written NumPy", "microtensor"]
    assert "JAX jit (1 thread)" not in {row.impl for row in results.rows}
