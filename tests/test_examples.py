"""The example scripts: XOR converges from almost every seed, the scripts run end to end, show
their progress (a bar in a terminal, lines otherwise) and draw their curves with --plot."""

from __future__ import annotations

import importlib.util
import math
import re
import struct
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import microtensor as mt

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
INPUTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
TRUTH_TABLES = {"xor": [0, 1, 1, 0], "and": [0, 0, 0, 1], "or": [0, 1, 1, 1]}


def load_example(name: str) -> ModuleType:
    """Import examples/NAME.py (a script, not a package) as a module."""
    if str(EXAMPLES) not in sys.path:  # where a script finds its sibling helper, _progress
        sys.path.insert(0, str(EXAMPLES))
    path = EXAMPLES / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


xor = load_example("xor")
helper = sys.modules["_progress"]  # examples/_progress.py, as the scripts import it


def quiet(*args: object, **kwargs: object) -> None:
    """A ``log`` function that prints nothing."""


def solves(task: str, seed: int, **options: object) -> bool:
    """Whether the network trained by xor.train gets all four rows of the truth table right."""
    model, x, y = xor.train(task=task, seed=seed, log=quiet, **options)
    assert x.tolist() == INPUTS
    with mt.no_grad():
        predictions = [int(p > 0.5) for (p,) in model(x).tolist()]
    matches = [p == t for p, t in zip(predictions, TRUTH_TABLES[task], strict=True)]
    assert xor.report(model, x, y, log=quiet) == pytest.approx(sum(matches) / 4)
    return all(matches)


# The robustness bar: with the script's defaults for everything not named, at least 19
# of 20 seeds classify all four XOR inputs correctly.
CONFIGURATIONS = {
    "defaults (2-4-1 sigmoid, SGD, BCE)": {},
    "tanh": {"activation": "tanh"},
    "relu + adam": {"activation": "relu", "optimizer": "adam"},
    "2-5-1 sigmoid, rmsprop, BCE": {"hidden": 5, "optimizer": "rmsprop", "loss": "bce"},
    "2-5-1 sigmoid, rprop, BCE": {"hidden": 5, "optimizer": "rprop", "loss": "bce"},
}


@pytest.mark.parametrize("options", CONFIGURATIONS.values(), ids=CONFIGURATIONS.keys())
def test_xor_converges_from_at_least_19_of_20_seeds(options: dict[str, object]) -> None:
    failed = [seed for seed in range(20) if not solves("xor", seed, **options)]
    assert len(failed) <= 1, f"seeds that did not learn XOR: {failed}"


@pytest.mark.parametrize("task", ["and", "or"])
def test_and_and_or_train_with_the_same_script(task: str) -> None:
    failed = [seed for seed in range(5) if not solves(task, seed)]
    assert failed == []


def test_xor_main_prints_the_table_and_draws_the_graph(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "graph.svg"
    accuracy = xor.main(["--epochs", "50", "--graph", str(path)])
    out = capsys.readouterr().out
    assert 0.0 <= accuracy <= 1.0
    assert f"accuracy: {accuracy:.0%}" in out
    assert re.search(r"^epoch +50/50 +loss \d+\.\d+$", out, re.MULTILINE)
    assert out.count("epoch ") == 10  # a progress line every tenth of the run, not one per step
    for x1, x2 in INPUTS:
        assert f"  {x1:.0f}    {x2:.0f}  | " in out
    root = ET.parse(path).getroot()  # well-formed XML
    assert root.tag.endswith("svg")
    assert "Linear" in path.read_text()  # nodes are grouped by the module that made them


def test_xor_main_without_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # where the default xor_graph.svg would go
    accuracy = xor.main(["--epochs", "50", "--no-graph", "--task", "or", "--hidden", "3",
                         "--activation", "tanh", "--optimizer", "momentum", "--loss", "mse"])
    out = capsys.readouterr().out
    assert f"accuracy: {accuracy:.0%}" in out
    assert "computation graph" not in out
    assert list(tmp_path.iterdir()) == []


def test_init_scale_reproduces_the_learners_stuck_recipe_and_diagnose_names_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    # The NumPy recipe's initialisation: weights N(0, 1) * 0.01, biases 0.
    model, _, _, _, _ = xor.build(init_scale=0.01)
    first, last = model[0], model[2]
    assert first.bias.tolist() == [0.0] * 4 and last.bias.tolist() == [0.0]
    weights = np.concatenate([first.weight.detach().numpy().ravel(),
                              last.weight.detach().numpy().ravel()])
    assert 0.003 < weights.std() < 0.03  # 12 draws of N(0, 0.01**2)
    accuracy = xor.main(["--init-scale", "0.01", "--diagnose", "--no-graph",
                         "--epochs", "200"])
    out = capsys.readouterr().out
    assert accuracy == 0.5  # stuck: every output 0.5
    assert re.search(r"^epoch +200/200 +loss 0\.6931\d*$", out, re.MULTILINE)
    report, training = out.split("epoch ", 1)
    assert report.startswith("diagnose: 2 problems")
    assert "1. [problem] init-scale" in report and "2. [problem] plateau-constant-output" in report
    # The default recipe gets a clean report.
    xor.main(["--diagnose", "--no-graph", "--epochs", "10"])
    assert capsys.readouterr().out.startswith("diagnose: no problem found")


def test_watch_diagnoses_the_training_run_itself(capsys: pytest.CaptureFixture[str]) -> None:
    accuracy = xor.main(["--init-scale", "0.01", "--watch", "--no-graph", "--epochs", "300"])
    out = capsys.readouterr().out
    assert accuracy == 0.5
    training, report = out.split("\ndiagnose: ", 1)
    assert re.search(r"^epoch +300/300 +loss 0\.6931\d*$", training, re.MULTILINE)
    assert report.startswith("2 problems")
    assert "1. [problem] init-scale" in report and "2. [problem] plateau-constant-output" in report
    assert "steps 300" in report  # it watched every epoch of the run
    xor.main(["--watch", "--no-graph", "--epochs", "300"])
    assert "\ndiagnose: no problem found\n" in capsys.readouterr().out


def test_xor_help_explains_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        xor.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ["--hidden", "--activation", "--optimizer", "--lr", "--epochs", "--seed",
                   "--loss", "--task", "--graph", "--no-graph"]:
        assert option in out
    for choice in ["sigmoid", "tanh", "relu", "sgd", "momentum", "adam", "rmsprop", "rprop",
                   "bce", "mse"]:
        assert choice in out


def test_readme_main_job_runs_the_xor_script() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert any(line.rstrip().endswith("python examples/xor.py") for line in lines)


# ---- examples/digits.py -------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits() -> ModuleType:
    pytest.importorskip("sklearn")
    return load_example("digits")


def test_digits_reduced_run_reloads_the_checkpoint(digits: ModuleType, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "digits.npz"
    accuracy = digits.main(["--epochs", "2", "--hidden", "16", "--batch-size", "128",
                            "--lr", "0.01", "--seed", "1", "--checkpoint", str(path)])
    out = capsys.readouterr().out
    assert accuracy > 0.5  # ten classes: chance is 10%
    assert re.search(r"^epoch +2/2 +loss \d+\.\d+ +test accuracy", out, re.MULTILINE)
    assert f"the reloaded model's test accuracy: {accuracy:.2%}" in out

    # The checkpoint holds the model and the optimizer; a fresh model loaded from it predicts
    # exactly as the trained one did.
    checkpoint = mt.load(path)
    assert checkpoint["hidden"] == 16 and checkpoint["epoch"] == 2
    assert set(checkpoint["optimizer"]) == {"state", "param_groups"}
    assert checkpoint["optimizer"]["param_groups"][0]["lr"] == 0.01
    model = digits.make_model(16)
    model.load_state_dict(checkpoint["model"])
    mt.manual_seed(0)  # load_data does not depend on it, only on its seed argument
    _, _, x_test, y_test = digits.load_data(1)
    assert len(x_test) == 360
    with mt.no_grad():
        predictions = model(x_test).argmax(dim=1)
    assert (predictions == y_test).float().mean().item() == accuracy


def test_digits_full_run_reaches_95_percent(digits: ModuleType, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    accuracy = digits.main(["--checkpoint", str(tmp_path / "digits.npz")])
    assert accuracy >= 0.95
    assert capsys.readouterr().out.count("test accuracy") == 21  # 20 epochs, then the reload


def hide_module(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make ``import name`` (and its submodules) fail as if the package were not installed."""
    for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.parametrize("example", ["digits", "digits_cnn"])
def test_digits_without_sklearn_says_what_to_install(example: str,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    module = load_example(example)
    hide_module(monkeypatch, "sklearn")
    with pytest.raises(SystemExit) as exc:
        module.main([])
    assert "pip install scikit-learn" in str(exc.value.code)
    assert 'pip install -e ".[examples]"' in str(exc.value.code)
    assert "epoch" not in capsys.readouterr().out


def test_digits_help_explains_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        load_example("digits").main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ["--epochs", "--batch-size", "--lr", "--hidden", "--seed", "--checkpoint"]:
        assert option in out



# ---- examples/digits_cnn.py ---------------------------------------------------------------

@pytest.fixture(scope="module")
def digits_cnn() -> ModuleType:
    pytest.importorskip("sklearn")
    return load_example("digits_cnn")


def test_digits_cnn_reduced_run_reloads_and_draws(digits_cnn: ModuleType, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    figures = record_figures(monkeypatch, digits_cnn)
    path = tmp_path / "cnn.npz"
    accuracy = digits_cnn.main(["--epochs", "2", "--channels", "4", "--seed", "1",
                                "--checkpoint", str(path), "--graph", str(tmp_path / "g.dot"),
                                "--plot", str(tmp_path / "curves.png")])
    out = capsys.readouterr().out
    assert png_size(tmp_path / "curves.png") == (900, 350)  # two panels of 4.5 x 3.5 inches
    assert plotted(figures[0]) == [(["training loss"], 2), (["test accuracy"], 2)]
    assert accuracy > 0.5  # ten classes: chance is 10%
    assert re.search(r"^epoch +2/2 +loss \d+\.\d+ +test accuracy", out, re.MULTILINE)
    assert f"the reloaded model's test accuracy: {accuracy:.2%}" in out
    checkpoint = mt.load(path)
    assert checkpoint["channels"] == 4 and checkpoint["epoch"] == 2
    # The batch-norm buffers travel with the weights (num_batches_tracked: 2 epochs of batches).
    state = checkpoint["model"]
    assert "features.1.running_mean" in state
    assert int(state["features.1.num_batches_tracked"].item()) == 2 * math.ceil(1437 / 32)
    dot = (tmp_path / "g.dot").read_text()
    assert "Conv" in dot and "MaxPool" in dot and "features.0 (Conv2d)" in dot


def test_digits_cnn_full_run_reaches_98_percent(digits_cnn: ModuleType, tmp_path: Path) -> None:
    accuracy = digits_cnn.main(["--checkpoint", str(tmp_path / "cnn.npz")])
    assert accuracy >= 0.98


# ---- a diverging run stops with a hint -----------------------------------------------------

@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy: inf - inf on the way
def test_xor_stops_on_a_nan_loss_and_suggests_a_smaller_learning_rate() -> None:
    with pytest.raises(SystemExit) as exc:
        load_example("xor").main(["--lr", "inf", "--no-graph"])
    assert "the output is not finite; the learning rate (inf) is probably too large" in \
        str(exc.value.code)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow warnings on the way
def test_digits_stops_on_a_nan_loss_and_suggests_a_smaller_learning_rate(
        digits: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        digits.main(["--lr", "1e12", "--epochs", "2", "--checkpoint", str(tmp_path / "d.npz")])
    assert str(exc.value.code) == ("epoch 1: the loss is nan; the learning rate (1e+12) is "
                                   "probably too large: try --lr 1e+11")
    assert not (tmp_path / "d.npz").exists()  # stopped before saving a broken checkpoint


def test_getting_started_gradient_sizes_are_what_the_guide_says() -> None:
    """docs/getting-started.md: largest gradient about 0.0005 after 2000 epochs, about 0.03 at
    150 (loss near 0.37), 0.004 at 20 (loss still 0.69)."""
    xor = load_example("xor")

    def largest_gradient(epochs: int) -> tuple[float, float]:
        model, x, y = xor.train(epochs=epochs, log=lambda *args: None)
        loss = mt.nn.BCELoss()(model(x), y)
        model.zero_grad()
        loss.backward()
        return max(p.grad.abs().max().item() for p in model.parameters()), loss.item()

    end, mid, start = largest_gradient(2000), largest_gradient(150), largest_gradient(20)
    assert end[0] == pytest.approx(0.0005, abs=0.0002)
    assert mid[0] == pytest.approx(0.03, abs=0.005) and mid[1] == pytest.approx(0.37, abs=0.02)
    assert start[0] == pytest.approx(0.004, abs=0.001) and start[1] == pytest.approx(0.69, abs=0.01)
    assert mid[0] > 50 * end[0]


# ---- progress: a bar in a terminal, lines otherwise -----------------------------------------

def fake_terminal(monkeypatch: pytest.MonkeyPatch, stdout: bool = True,
                  stderr: bool = True) -> None:
    """Make sys.stdout and sys.stderr say that they are terminals (pytest captures them)."""
    monkeypatch.setattr(sys.stdout, "isatty", lambda: stdout)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: stderr)


def test_progress_is_lines_when_the_output_is_not_a_terminal(
        capsys: pytest.CaptureFixture[str]) -> None:
    xor.main(["--epochs", "50", "--no-graph"])
    captured = capsys.readouterr()
    assert captured.out.count("epoch ") == 10
    assert captured.err == ""  # no bar


@pytest.mark.parametrize(("stdout", "stderr"), [(True, False), (False, True)])
def test_progress_is_lines_when_stdout_or_stderr_is_a_pipe(
        stdout: bool, stderr: bool, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    fake_terminal(monkeypatch, stdout, stderr)
    assert not helper.in_terminal()
    xor.main(["--epochs", "50", "--no-graph"])
    captured = capsys.readouterr()
    assert captured.out.count("epoch ") == 10 and captured.err == ""


def test_progress_is_a_tqdm_bar_in_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    fake_terminal(monkeypatch)
    assert helper.in_terminal()
    xor.main(["--epochs", "50", "--no-graph"])
    captured = capsys.readouterr()
    assert captured.out.count("epoch ") == 10  # the lines still go to stdout, above the bar
    final = re.search(r"^epoch +50/50 +loss (\S+)$", captured.out, re.MULTILINE)
    assert final is not None
    # The finished bar on stderr, with the loss of the last epoch beside it (tqdm shows 3
    # significant digits).
    bars = re.findall(r"xor: 100%\|[^|\r\n]*\| 50/50 \[[^]]*loss=([\d.e-]+)\]", captured.err)
    assert bars, captured.err
    assert float(bars[-1]) == pytest.approx(float(final.group(1)), rel=5e-3)


def test_progress_is_lines_in_a_terminal_without_tqdm(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    fake_terminal(monkeypatch)
    hide_module(monkeypatch, "tqdm")
    xor.main(["--epochs", "50", "--no-graph"])
    captured = capsys.readouterr()
    assert captured.out.count("epoch ") == 10 and captured.err == ""


def test_progress_bar_can_be_forced_on_or_off(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    lines: list[str] = []
    with helper.Progress(4, unit="batch", desc="forced", log=lines.append, bar=True) as progress:
        assert progress.bar is not None  # a bar although the output is captured
        for i in range(4):
            progress.step(loss=0.5)
            progress.write(f"line {i}")
    assert lines == ["line 0", "line 1", "line 2", "line 3"]  # through log, above the bar
    assert re.search(r"forced: 100%\|.*\| 4/4 \[.*batch/s, loss=0.5\]", capsys.readouterr().err)

    fake_terminal(monkeypatch)
    with helper.Progress(4, log=lines.append, bar=False) as progress:
        assert progress.bar is None
        progress.step()
        progress.write("plain")
    assert lines[-1] == "plain" and capsys.readouterr().err == ""


def test_digits_shows_a_bar_over_all_batches_in_a_terminal(
        digits: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    fake_terminal(monkeypatch)
    digits.main(["--epochs", "2", "--hidden", "16", "--batch-size", "128",
                 "--checkpoint", str(tmp_path / "d.npz")])
    captured = capsys.readouterr()
    assert captured.out.count("test accuracy") == 3  # 2 epochs, then the reload
    batches = 2 * math.ceil(1437 / 128)
    assert re.search(rf"digits: 100%\|.*\| {batches}/{batches} \[.*batch/s, epoch=2, loss=",
                     captured.err), captured.err


# ---- --plot ---------------------------------------------------------------------------------

def png_size(path: Path) -> tuple[int, int]:
    """The width and height in pixels of a PNG file, after checking that it is one."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"  # the PNG signature
    assert data[12:16] == b"IHDR"  # the header chunk comes first
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def record_figures(monkeypatch: pytest.MonkeyPatch, example: ModuleType) -> list[Any]:
    """Make ``example`` keep the matplotlib figures that its plot_curves returns."""
    figures: list[Any] = []

    def plot_curves(*args: Any, **kwargs: Any) -> Any:
        figures.append(helper.plot_curves(*args, **kwargs))
        return figures[-1]

    monkeypatch.setattr(example, "plot_curves", plot_curves)
    return figures


def plotted(figure: Any) -> list[tuple[list[str], int]]:
    """Each panel of a figure as ([its y label], number of points), checking x = 1, 2, ..."""
    panels = []
    for ax in figure.axes:
        (line,) = ax.get_lines()
        n = len(line.get_xdata())
        assert list(line.get_xdata()) == list(range(1, n + 1))
        panels.append(([ax.get_ylabel()], n))
    return panels


def test_xor_plot_draws_the_loss_of_every_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    figures = record_figures(monkeypatch, xor)
    path = tmp_path / "loss.png"
    xor.main(["--epochs", "30", "--no-graph", "--plot", str(path)])
    out = capsys.readouterr().out
    assert f"loss curve drawn to {path}" in out
    assert png_size(path) == (450, 350)  # 4.5 x 3.5 inches at 100 dpi
    assert plotted(figures[0]) == [(["BCE loss"], 30)]
    # The points are the losses of the training run, epoch by epoch.
    losses = list(figures[0].axes[0].get_lines()[0].get_ydata())
    expected: list[float] = []
    xor.train(epochs=30, log=quiet, losses=expected)
    assert losses == expected
    printed = re.findall(r"^epoch +(\d+)/30 +loss (\S+)$", out, re.MULTILINE)
    assert [f"{losses[int(epoch) - 1]:.6f}" for epoch, _ in printed] == [v for _, v in printed]


def test_digits_plot_draws_loss_and_accuracy_per_epoch(
        digits: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    figures = record_figures(monkeypatch, digits)
    monkeypatch.chdir(tmp_path)  # --plot with no file name writes digits_curves.png here
    digits.main(["--epochs", "3", "--hidden", "16", "--checkpoint", "d.npz", "--plot"])
    out = capsys.readouterr().out
    assert png_size(tmp_path / "digits_curves.png") == (900, 350)
    assert plotted(figures[0]) == [(["training loss"], 3), (["test accuracy"], 3)]
    loss_ax, accuracy_ax = figures[0].axes
    printed = re.findall(r"^epoch +\d/3 +loss (\S+) +test accuracy (\S+)", out, re.MULTILINE)
    assert [f"{v:.4f}" for v in loss_ax.get_lines()[0].get_ydata()] == [p[0] for p in printed]
    assert [f"{v:.2%}" for v in accuracy_ax.get_lines()[0].get_ydata()] == [p[1] for p in printed]


@pytest.mark.parametrize("example", ["xor", "digits", "digits_cnn"])
def test_plot_without_matplotlib_says_what_to_install(example: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    if example != "xor":
        pytest.importorskip("sklearn")
    module = load_example(example)
    hide_module(monkeypatch, "matplotlib")
    args = ["--plot", str(tmp_path / "curves.png")]
    if example != "xor":
        args += ["--checkpoint", str(tmp_path / "checkpoint.npz")]
    with pytest.raises(SystemExit) as exc:
        module.main(args)
    message = str(exc.value.code)
    assert message.startswith("--plot needs matplotlib")
    assert 'pip install "microtensor[plot]"' in message and 'pip install -e ".[plot]"' in message
    assert "epoch" not in capsys.readouterr().out  # it stopped before training, not after
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("example", ["xor", "digits", "digits_cnn"])
def test_help_explains_plot(example: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        load_example(example).main(["--help"])
    assert "--plot [FILE]" in capsys.readouterr().out
