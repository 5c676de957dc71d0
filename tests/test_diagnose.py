"""microtensor.diagnose: each finding from a small setup, the learners' four failures, no false
alarms on healthy setups, and check() leaving the model, optimizer and random state alone."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor import diagnose, nn, optim
from microtensor.autograd import Function
from microtensor.diagnose import CODES, Finding, Report

X = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = mt.tensor([[0.0], [1.0], [1.0], [0.0]])


def xor_net(hidden: int = 4, activation: type[nn.Module] = nn.Sigmoid,
            weight_std: float | None = None, seed: int = 0, out: bool = True) -> nn.Sequential:
    """2-hidden-1; ``weight_std`` replaces the default init by N(0, std²) weights, zero biases."""
    mt.manual_seed(seed)
    layers: list[nn.Module] = [nn.Linear(2, hidden), activation(), nn.Linear(hidden, 1)]
    model = nn.Sequential(*layers, nn.Sigmoid()) if out else nn.Sequential(*layers)
    if weight_std is not None:
        for layer in (model[0], model[2]):
            nn.init.normal_(layer.weight, 0.0, weight_std)
            nn.init.zeros_(layer.bias)
    return model


def check_sgd(model: nn.Module, lr: float, loss_fn: Any = None, x: mt.Tensor = X,
              y: mt.Tensor = Y) -> Report:
    return diagnose.check(model, loss_fn or nn.BCELoss(), x, y,
                          optimizer=optim.SGD(model.parameters(), lr=lr))


# -- the four failures of our learners --------------------------------------------------------------

def test_learner_sigmoid_weights_001_plateau_leads_with_init_scale() -> None:
    report = check_sgd(xor_net(5, weight_std=0.01), lr=0.03)
    assert not report.ok
    assert report.codes[0] == "init-scale"
    assert "plateau-constant-output" in report.codes
    first = report.findings[0]
    assert first.where == ("0.weight", "2.weight")
    assert first.doc == "docs/xor-pitfalls.md#small-sigmoid-weights-an-almost-linear-network"
    gains = first.evidence["gain per layer"]
    assert isinstance(gains, list) and max(gains) < 0.02  # ~0.01 against the default 0.58
    plateau = report.findings[report.codes.index("plateau-constant-output")]
    assert abs(float(plateau.evidence["constant-prediction loss"]) - math.log(2)) < 1e-4


def test_learner_relu_weights_0001_outputs_one_half() -> None:
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.ReLU(),
                          nn.Linear(3, 1), nn.Sigmoid())
    for layer in (model[0], model[2], model[4]):
        nn.init.normal_(layer.weight, 0.0, 0.001)
        nn.init.zeros_(layer.bias)
    with mt.no_grad():
        assert mt.allclose(model(X), mt.full((4, 1), 0.5))
    report = check_sgd(model, lr=0.01)
    assert not report.ok
    assert report.codes[0] == "init-scale"
    assert report.findings[0].doc == "docs/xor-pitfalls.md#small-relu-weights-a-long-delay"
    assert report.findings[0].where == ("0.weight", "2.weight", "4.weight")


class WrongSigmoid(Function):
    """y = sigmoid(x), with the classic slip in backward: sigma' applied to the output."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        y = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad_output: mt.Tensor) -> mt.Tensor:
        (y,) = ctx.saved_tensors
        s = y.sigmoid()  # wrong: sigma'(y) instead of sigma'(x) = y (1 - y)
        return grad_output * s * (1 - s)


class MySigmoid(nn.Module):
    def forward(self, x: mt.Tensor) -> mt.Tensor:
        return WrongSigmoid.apply(x)


def test_learner_derivative_applied_to_the_output_is_bad_backward() -> None:
    model = xor_net(activation=MySigmoid)
    report = check_sgd(model, lr=0.5, x=X[:1], y=Y[:1])  # trained per sample
    assert report.codes[0] == "bad-backward"
    finding = report.findings[0]
    assert finding.where == ("1",) and finding.evidence["function"] == "WrongSigmoid"
    assert "finite differences" in finding.message


def test_learner_healthy_sigmoid_lr_01_is_ok_with_a_hint_to_go_faster() -> None:
    report = check_sgd(xor_net(), lr=0.1)
    assert report.ok
    assert report.codes == ["learning-rate-too-low"]
    assert report.findings[0].severity == "hint"


# -- no false alarms --------------------------------------------------------------------------------

def test_readme_xor_recipe_is_ok() -> None:
    report = check_sgd(xor_net(), lr=2.0)
    assert report.ok and report.findings == [], str(report)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relu_adam_xor_is_ok(seed: int) -> None:
    model = xor_net(8, nn.ReLU, seed=seed)
    report = diagnose.check(model, nn.BCELoss(), X, Y,
                            optimizer=optim.Adam(model.parameters(), lr=0.05))
    assert report.ok, str(report)


def test_moons_mlp_is_ok() -> None:
    datasets = pytest.importorskip("sklearn.datasets")
    x_np, y_np = datasets.make_moons(200, noise=0.1, random_state=0)
    x, y = mt.tensor(x_np, dtype=mt.float32), mt.tensor(y_np, dtype=mt.float32).reshape(-1, 1)
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 1))
    report = diagnose.check(model, nn.BCEWithLogitsLoss(), x, y,
                            optimizer=optim.Adam(model.parameters(), lr=0.01))
    assert report.ok, str(report)


def digits() -> tuple[mt.Tensor, mt.Tensor]:
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_digits()
    x = (data.data - data.data.mean(0)) / (data.data.std(0) + 1e-6)
    return mt.tensor(x, dtype=mt.float32), mt.tensor(data.target, dtype=mt.int64)


def digits_mlp(seed: int = 0) -> nn.Sequential:
    mt.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 10))


def test_digits_mlp_is_ok_within_10_seconds() -> None:
    x, y = digits()
    model = digits_mlp()
    start = time.perf_counter()
    report = diagnose.check(model, nn.CrossEntropyLoss(), x, y,
                            optimizer=optim.Adam(model.parameters(), lr=1e-3))
    elapsed = time.perf_counter() - start
    assert report.ok, str(report)
    assert elapsed < 10, elapsed


def test_softmax_regression_on_blobs_is_ok() -> None:
    mt.manual_seed(0)
    centres = mt.tensor([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    labels = mt.arange(3).repeat_interleave(30)
    x = centres[labels] + 0.5 * mt.randn(90, 2)
    model = nn.Linear(2, 3)
    report = diagnose.check(model, nn.CrossEntropyLoss(), x, labels,
                            optimizer=optim.SGD(model.parameters(), lr=0.1))
    assert report.ok and "no-hidden-nonlinearity" not in report.codes, str(report)


def test_sine_regression_is_ok() -> None:
    mt.manual_seed(0)
    x = mt.linspace(-math.pi, math.pi, 64).reshape(-1, 1)
    y = x.sin()
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                          nn.Linear(32, 1))
    report = diagnose.check(model, nn.MSELoss(), x, y,
                            optimizer=optim.Adam(model.parameters(), lr=0.01))
    assert report.ok, str(report)
