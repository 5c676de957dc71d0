"""The digits examples with --compile: the training step through mt.compile gives the eager run's
numbers bit for bit (every batch's loss, the test accuracy of every epoch, the parameters, the
batch-norm buffers and Adam's state), and the compiled step really replays."""

from __future__ import annotations

import importlib.util
import math
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor.jit.compiled import CompiledStep

pytest.importorskip("sklearn")  # the examples' dataset

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TRAIN_SIZE = 1437  # 80% of scikit-learn's 1797 digits


def load_example(name: str) -> ModuleType:
    """Import examples/NAME.py (a script, not a package) as a module."""
    if str(EXAMPLES) not in sys.path:  # where a script finds its sibling helper, _progress
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Run:
    """What one run of an example's main() did."""

    accuracy: float  # what main() returned: the final test accuracy
    batch_losses: list[float]  # the loss of every training step, as the example read it
    lines: list[str]  # the progress lines ("epoch 1/3  loss ...  test accuracy ...")
    checkpoint: dict[str, Any]  # the saved model and optimizer
    steps: list[CompiledStep[Any]] = field(default_factory=list)  # what mt.compile returned
    step_runs: int = 0  # how many times the Python step function itself ran
    warnings: list[str] = field(default_factory=list)


def run(module: ModuleType, argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        compile: bool) -> Run:  # noqa: A002  (the option's name)
    """Run ``module.main(argv)``, eagerly or with --compile, and record what it did."""
    losses: list[float] = []
    lines: list[str] = []
    steps: list[CompiledStep[Any]] = []
    calls = [0]

    class Recording(module.Progress):
        """The example's progress display, keeping every loss it is shown and every line."""

        def step(self, **shown: object) -> None:
            assert isinstance(shown["loss"], float)
            losses.append(shown["loss"])
            super().step(**shown)

        def write(self, line: str) -> None:
            lines.append(line)
            super().write(line)

    def counting_compile(fn: Callable[..., Any]) -> CompiledStep[Any]:
        """mt.compile, over a function that counts the calls of the step itself: a replay
        runs the recorded NumPy, not the step's Python."""
        def counted(*args: Any) -> Any:
            calls[0] += 1
            return fn(*args)

        step = real_compile(counted)
        steps.append(step)
        return step

    real_compile = mt.compile
    path = tmp_path / f"{'compiled' if compile else 'eager'}.npz"
    with monkeypatch.context() as patch, warnings.catch_warnings(record=True) as caught:
        patch.setattr(module, "Progress", Recording)
        patch.setattr(mt, "compile", counting_compile)
        warnings.simplefilter("always")
        accuracy = module.main([*argv, "--checkpoint", str(path)]
                               + (["--compile"] if compile else []))
    return Run(accuracy, losses, lines, mt.load(path), steps, calls[0],
               [f"{w.category.__name__}: {w.message}" for w in caught])


def arrays(state: Any) -> dict[str, np.ndarray]:
    """The arrays (and numbers) of a nested state dict, by dotted name."""
    if isinstance(state, dict):
        return {f"{k}.{name}" if name else str(k): a
                for k, v in state.items() for name, a in arrays(v).items()}
    if isinstance(state, list):
        return arrays(dict(enumerate(state)))
    if isinstance(state, mt.Tensor):
        return {"": state.detach().numpy()}
    return {"": np.asarray(state)}


def assert_same_run(eager: Run, compiled: Run, steps: int, epochs: int) -> None:
    """The compiled run gave the eager run's numbers, bit for bit."""
    assert eager.warnings == [] and compiled.warnings == []  # no "runs eagerly", no recompile
    assert len(eager.batch_losses) == steps and all(map(math.isfinite, eager.batch_losses))
    assert compiled.batch_losses == eager.batch_losses  # every step's loss, exactly
    assert len(eager.lines) == epochs
    assert all(re.match(rf"epoch +{e}/{epochs} +loss \d\.\d+ +test accuracy", line)
               for e, line in enumerate(eager.lines, 1))
    # The same per-epoch losses and test accuracies (the lines less their timings).
    assert [line.split("(")[0] for line in compiled.lines] == \
        [line.split("(")[0] for line in eager.lines]
    assert compiled.accuracy == eager.accuracy > 0.5  # ten classes: chance is 10%
    expected, got = arrays(eager.checkpoint), arrays(compiled.checkpoint)
    assert got.keys() == expected.keys()
    for name, array in expected.items():  # parameters, buffers, Adam's step, exp_avg, ...
        assert got[name].dtype == array.dtype and np.array_equal(got[name], array), name


def assert_replayed(run: Run, steps: int) -> None:
    """The step was compiled once and replayed: its Python ran only on the two recording calls
    of each of the two batch shapes (the full batches and the epoch's last, smaller one)."""
    assert run.steps != []
    step = run.steps[0]
    assert len(run.steps) == 1 and step.source is not None
    assert step.recompiles == 1  # the last, smaller batch: recorded once more, for its shape
    assert run.step_runs == 4 < steps


# ---- examples/digits.py: an MLP, Adam, mini-batches by index ---------------------------------

def test_digits_compiled_gives_the_eager_run_bit_for_bit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digits = load_example("digits")
    argv = ["--epochs", "3", "--hidden", "32", "--batch-size", "100", "--lr", "0.01"]
    eager = run(digits, argv, tmp_path, monkeypatch, compile=False)
    compiled = run(digits, argv, tmp_path, monkeypatch, compile=True)
    steps = 3 * math.ceil(TRAIN_SIZE / 100)  # 14 full batches and one of 37, each epoch
    assert eager.steps == [] and eager.step_runs == 0  # the eager run compiled nothing
    assert_same_run(eager, compiled, steps, epochs=3)
    assert_replayed(compiled, steps)


# ---- examples/digits_cnn.py: Conv2d, BatchNorm2d, MaxPool2d, Dropout, a DataLoader ----------

def test_digits_cnn_compiled_gives_the_eager_run_bit_for_bit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digits_cnn = load_example("digits_cnn")
    argv = ["--epochs", "3", "--channels", "4", "--batch-size", "128", "--seed", "1"]
    eager = run(digits_cnn, argv, tmp_path, monkeypatch, compile=False)
    compiled = run(digits_cnn, argv, tmp_path, monkeypatch, compile=True)
    steps = 3 * math.ceil(TRAIN_SIZE / 128)  # 11 full batches and one of 29, each epoch
    assert eager.steps == [] and eager.step_runs == 0
    assert_same_run(eager, compiled, steps, epochs=3)
    assert_replayed(compiled, steps)
    # Batch norm's running statistics were updated by every step, replays included.
    batches = int(compiled.checkpoint["model"]["features.1.num_batches_tracked"].item())
    assert batches == steps


@pytest.mark.parametrize("name", ["digits", "digits_cnn"])
def test_help_names_the_compile_option(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        load_example(name).main(["--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # (argparse wraps the help text)
    assert "--compile run the training step through microtensor.compile" in out
