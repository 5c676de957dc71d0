"""microtensor.diagnose.watch: the user's own loop, unchanged, diagnosed while it runs; the
report's curves and plot; the global backward hooks watch listens with."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor import autograd, diagnose, nn, optim
from microtensor.autograd import hooks as autograd_hooks
from microtensor.diagnose import Report
from microtensor.diagnose.watch import MAX_HISTORY, History

X = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = mt.tensor([[0.0], [1.0], [1.0], [0.0]])


def xor_net(hidden: int = 4, activation: type[nn.Module] = nn.Sigmoid,
            weight_std: float | None = None, seed: int = 0) -> nn.Sequential:
    mt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, hidden), activation(), nn.Linear(hidden, 1),
                          nn.Sigmoid())
    if weight_std is not None:
        for layer in (model[0], model[2]):
            nn.init.normal_(layer.weight, 0.0, weight_std)
            nn.init.zeros_(layer.bias)
    return model


def train(model: nn.Module, opt: optim.Optimizer, steps: int, loss_fn: Any = None,
          x: mt.Tensor = X, y: mt.Tensor = Y, zero_grad: bool = True) -> list[float]:
    """The learner's loop, as they write it."""
    loss_fn = loss_fn or nn.BCELoss()
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        if zero_grad:
            opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def watched(model: nn.Module, opt: optim.Optimizer, steps: int, **kw: Any) -> Report:
    with diagnose.watch(model, opt) as doctor:
        train(model, opt, steps, **kw)
    return doctor.report()


# -- the loop is unchanged, and the hooks go away -----------------------------------------------

def test_watch_changes_nothing_and_removes_its_hooks() -> None:
    model = xor_net()
    opt = optim.SGD(model.parameters(), lr=2.0)
    with diagnose.watch(model, opt) as doctor:
        seen = train(model, opt, 200)
    plain_model = xor_net()
    plain_opt = optim.SGD(plain_model.parameters(), lr=2.0)
    assert seen == train(plain_model, plain_opt, 200)  # bit for bit
    for (_, a), (_, b) in zip(model.named_parameters(), plain_model.named_parameters(),
                              strict=True):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    assert model._hooks == []
    assert autograd_hooks.backward_pre_hooks == [] and autograd_hooks.backward_post_hooks == []
    assert opt._step_hooks == []
    report = doctor.report()
    assert report.ok and report.findings == [], str(report)
    # the loss curve is the loop's own losses, at the recorded steps
    assert report.steps == list(range(200))
    assert report.losses["watched run"] == pytest.approx(seen, rel=1e-6)


def test_forward_hook_is_gone_after_the_block() -> None:
    model = xor_net()
    opt = optim.SGD(model.parameters(), lr=2.0)
    with diagnose.watch(model, opt) as doctor:
        train(model, opt, 3)
    train(model, opt, 5)  # outside the block: not watched
    assert doctor.steps == 3 and doctor.optimizer_steps == 3


def test_the_readme_recipe_and_relu_adam_are_ok() -> None:
    model = xor_net()
    assert watched(model, optim.SGD(model.parameters(), lr=2.0), 2000).ok
    model = xor_net(8, nn.ReLU, seed=1)
    report = watched(model, optim.Adam(model.parameters(), lr=0.05), 1000)
    assert report.ok, str(report)


def test_grad_norms_are_the_gradients_of_the_loop() -> None:
    model = xor_net()
    opt = optim.SGD(model.parameters(), lr=0.0)  # lr 0: every step sees the same gradient
    report = watched(model, opt, 5)
    loss = nn.BCELoss()(model(X), Y)
    opt.zero_grad()
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None
        expected = float(np.linalg.norm(p.grad.numpy().astype(np.float64)))
        assert report.grad_norms[name] == pytest.approx([expected] * 5, rel=1e-5)


# -- findings ---------------------------------------------------------------------------------

def test_small_weights_plateau_leads_with_init_scale() -> None:
    model = xor_net(5, weight_std=0.01)
    report = watched(model, optim.SGD(model.parameters(), lr=0.03), 2000)
    assert report.codes[0] == "init-scale", str(report)
    assert "plateau-constant-output" in report.codes
    plateau = report.findings[report.codes.index("plateau-constant-output")]
    end = plateau.evidence["end loss"]
    assert isinstance(end, float) and abs(end - math.log(2)) < 1e-3


def test_zero_grad_never_called_is_gradient_accumulation() -> None:
    model = xor_net()
    report = watched(model, optim.SGD(model.parameters(), lr=0.5), 200, zero_grad=False)
    assert report.codes[0] == "gradient-accumulation", str(report)
    f = report.findings[0]
    assert f.evidence["steps with old gradients"] == 199
    assert f.evidence["optimizer steps"] == 200
    first, last = f.evidence["first stale gradient norm"], f.evidence["last stale gradient norm"]
    assert isinstance(first, float) and isinstance(last, float) and last > first


def test_accumulating_micro_batches_on_purpose_is_not_reported() -> None:
    model = xor_net()
    opt = optim.SGD(model.parameters(), lr=2.0)
    with diagnose.watch(model, opt) as doctor:
        for _ in range(300):
            opt.zero_grad()
            for i in range(0, 4, 2):  # two micro-batches, then one step
                nn.BCELoss()(model(X[i:i + 2]), Y[i:i + 2]).backward()
            opt.step()
    report = doctor.report()
    assert "gradient-accumulation" not in report.codes, str(report)
    assert doctor.steps == 600 and doctor.optimizer_steps == 300


def test_zero_grad_to_zeros_in_place_is_fine() -> None:
    model = xor_net()
    opt = optim.SGD(model.parameters(), lr=2.0)
    with diagnose.watch(model, opt) as doctor:
        for _ in range(50):
            loss = nn.BCELoss()(model(X), Y)
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
    assert "gradient-accumulation" not in doctor.report().codes


def test_loss_that_grows_is_learning_rate_too_high() -> None:
    mt.manual_seed(0)
    x = mt.linspace(-1, 1, 32).reshape(-1, 1)
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
    with np.errstate(all="ignore"):  # (the loop overflows: that is what is diagnosed)
        report = watched(model, optim.SGD(model.parameters(), lr=1.0), 100,
                         loss_fn=nn.MSELoss(), x=x, y=3 * x)
    assert report.codes[0] in ("learning-rate-too-high", "diverged"), str(report)
    assert not report.ok


def test_diverged_at_a_large_rate() -> None:
    mt.manual_seed(0)
    x = mt.linspace(-1, 1, 32).reshape(-1, 1) * 100
    model = nn.Sequential(nn.Linear(1, 8), nn.Linear(8, 1))
    opt = optim.SGD(model.parameters(), lr=1.0)
    with np.errstate(all="ignore"), diagnose.watch(model, opt) as doctor:
        losses = train(model, opt, 30, loss_fn=nn.MSELoss(), x=x, y=x)
    report = doctor.report()
    assert "diverged" in report.codes, str(report)
    step = report.findings[report.codes.index("diverged")].evidence["diverged at step"]
    first = next(i for i, v in enumerate(losses) if not math.isfinite(v))
    assert step == first and first > 0


class LogNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(1, 4)
        self.out = nn.Linear(4, 1)

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        return self.out(self.hidden(x).log())  # nan where the hidden value is negative


def test_diverged_names_the_first_op_with_a_non_finite_output() -> None:
    mt.manual_seed(0)
    model = LogNet()
    x = mt.linspace(-1, 1, 8).reshape(-1, 1)
    with np.errstate(all="ignore"):
        report = watched(model, optim.SGD(model.parameters(), lr=0.1), 3,
                         loss_fn=nn.MSELoss(), x=x, y=x)
    assert report.codes[0] == "diverged", str(report)
    f = report.findings[0]
    assert f.evidence["diverged at step"] == 0
    assert f.evidence["first non-finite op"] == "Log"


def test_parameter_missing_from_the_optimizer_is_frozen() -> None:
    model = xor_net()
    opt = optim.SGD(list(model[2].parameters()), lr=2.0)
    report = watched(model, opt, 50)
    frozen = [f for f in report.findings if f.code == "frozen-parameters"]
    assert frozen and frozen[0].where == ("0.weight", "0.bias"), str(report)
    assert "not in the optimizer" in frozen[0].message


def test_requires_grad_off_is_a_hint_for_some_parameters() -> None:
    model = xor_net()
    model[0].bias.requires_grad_(False)
    report = watched(model, optim.SGD(model.parameters(), lr=2.0), 50)
    frozen = [f for f in report.findings if f.code == "frozen-parameters"]
    assert [(f.where, f.severity) for f in frozen] == [(("0.bias",), "hint")]


def test_dead_units() -> None:
    model = xor_net(8, nn.ReLU)
    nn.init.constant_(model[0].bias, -10.0)
    report = watched(model, optim.SGD(model.parameters(), lr=2.0), 200)
    assert "dead-units" in report.codes and not report.ok, str(report)
    f = report.findings[report.codes.index("dead-units")]
    assert f.where == ("1",) and f.evidence["dead units"] == 8


def test_saturated_units_and_unscaled_inputs() -> None:
    model = xor_net()
    report = watched(model, optim.SGD(model.parameters(), lr=0.5), 200, x=X * 1000)
    assert "unscaled-inputs" in report.codes and "saturated-units" in report.codes, str(report)


def test_vanishing_gradients_in_a_deep_sigmoid_network() -> None:
    mt.manual_seed(0)
    layers: list[nn.Module] = []
    for i in range(8):
        layers += [nn.Linear(2 if i == 0 else 16, 16), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(16, 1), nn.Sigmoid())
    report = watched(model, optim.SGD(model.parameters(), lr=2.0), 60)
    assert "vanishing-gradients" in report.codes, str(report)


def test_symmetric_units_that_stay_identical() -> None:
    model = xor_net()
    for layer in (model[0], model[2]):
        nn.init.constant_(layer.weight, 0.5)
        nn.init.zeros_(layer.bias)
    report = watched(model, optim.SGD(model.parameters(), lr=2.0), 100)
    assert "symmetric-units" in report.codes, str(report)


def test_sigmoid_before_bce_with_logits() -> None:
    model = xor_net()
    report = watched(model, optim.SGD(model.parameters(), lr=2.0), 20,
                     loss_fn=nn.BCEWithLogitsLoss())
    assert report.codes[0] == "activation-loss-mismatch", str(report)


# -- bounded history, and what else runs inside the block ----------------------------------------

def test_history_is_bounded_and_covers_the_whole_run() -> None:
    h = History(capacity=8)
    for step in range(1000):
        if h.wants(step):
            h.add(step, float(step), {"w": 1.0})
    assert len(h.steps) <= 8 and h.steps[0] == 0 and h.steps[-1] >= 1000 - h.stride
    assert all(s % h.stride == 0 for s in h.steps)
    assert h.losses == [float(s) for s in h.steps]


def test_a_long_run_keeps_at_most_max_history_entries() -> None:
    model = xor_net()
    opt = optim.SGD(model.parameters(), lr=2.0)
    with diagnose.watch(model, opt) as doctor:
        train(model, opt, 3000)
    report = doctor.report()
    assert len(report.steps) <= MAX_HISTORY and report.steps[-1] >= 3000 - doctor.history.stride
    assert all(len(v) == len(report.steps) for v in report.grad_norms.values())
    assert len(doctor.recent) <= 100


def test_check_inside_a_watched_loop_is_not_counted() -> None:
    model = xor_net()
    opt = optim.SGD(model.parameters(), lr=2.0)
    with diagnose.watch(model, opt) as doctor:
        train(model, opt, 5)
        diagnose.check(model, nn.BCELoss(), X, Y, optimizer=opt, steps=30)
        train(model, opt, 5)
    assert doctor.steps == 10 and doctor.optimizer_steps == 10


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        diagnose.watch(lambda x: x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="optimizer must be"):
        diagnose.watch(xor_net(), "sgd")  # type: ignore[arg-type]


# -- the report's plot --------------------------------------------------------------------------

def test_report_plot_draws_the_curves(tmp_path: Any) -> None:
    pytest.importorskip("matplotlib")
    model = xor_net()
    report = watched(model, optim.SGD(model.parameters(), lr=2.0), 100)
    path = tmp_path / "report.png"
    fig = report.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    top, bottom = fig.axes
    (loss_line,) = top.get_lines()
    assert list(loss_line.get_xdata()) == report.steps
    assert np.allclose(loss_line.get_ydata(), report.losses["watched run"])
    names = [line.get_label() for line in bottom.get_lines()]
    assert names == [n for n, _ in model.named_parameters()]
    assert "<img src='data:image/png;base64," in report._repr_html_()


def test_check_report_has_per_parameter_gradient_norms() -> None:
    model = xor_net()
    report = diagnose.check(model, nn.BCELoss(), X, Y,
                            optimizer=optim.SGD(model.parameters(), lr=2.0), steps=40)
    assert list(report.grad_norms) == [n for n, _ in model.named_parameters()]
    main = report.losses["lr x1"]
    assert all(len(v) == len(main) for v in report.grad_norms.values())
    # the first step's gradient is the one of the untouched model
    loss = nn.BCELoss()(model(X), Y)
    loss.backward()
    assert model[0].weight.grad is not None
    first = float(np.linalg.norm(model[0].weight.grad.numpy().astype(np.float64)))
    assert report.grad_norms["0.weight"][0] == pytest.approx(first, rel=1e-5)


def test_plot_without_matplotlib_names_the_extra(monkeypatch: Any) -> None:
    import builtins
    real = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    report = Report([], losses={"run": [1.0, 0.5]})
    with pytest.raises(ImportError, match=r'pip install "microtensor\[plot\]"'):
        report.plot()
    assert "<img" not in report._repr_html_()


# -- the global backward hooks ------------------------------------------------------------------

def test_backward_hooks_see_the_roots_before_and_after() -> None:
    x = mt.tensor([2.0], requires_grad=True)
    seen: list[tuple[str, Any]] = []

    def pre(roots: Any) -> None:
        seen.append(("pre", roots[0].item(), x.grad))

    def post(roots: Any) -> None:
        assert x.grad is not None
        seen.append(("post", roots[0].item(), x.grad.item()))

    with autograd.register_backward_pre_hook(pre), autograd.register_backward_post_hook(post):
        (x * x).sum().backward()
        autograd.grad((x * x).sum(), x)  # accumulates nothing: not a backward() the hooks see
    (x * x).sum().backward()  # removed
    assert seen == [("pre", 4.0, None), ("post", 4.0, 4.0)]


# -- no false alarms on the healthy setups of check's tests ------------------------------------

def test_healthy_setups_are_ok_under_watch() -> None:
    mt.manual_seed(0)
    centres = mt.tensor([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    labels = mt.arange(3).repeat_interleave(30)
    blobs = centres[labels] + 0.5 * mt.randn(90, 2)
    softmax = nn.Linear(2, 3)
    report = watched(softmax, optim.SGD(softmax.parameters(), lr=0.1), 300,
                     loss_fn=nn.CrossEntropyLoss(), x=blobs, y=labels)
    assert report.ok and report.findings == [], str(report)

    mt.manual_seed(0)
    x = mt.linspace(-math.pi, math.pi, 64).reshape(-1, 1)
    sine = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                         nn.Linear(32, 1))
    report = watched(sine, optim.Adam(sine.parameters(), lr=0.01), 1000, loss_fn=nn.MSELoss(),
                     x=x, y=x.sin())
    assert report.ok and report.findings == [], str(report)


def test_digits_mlp_minibatches_are_ok_under_watch() -> None:
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_digits()
    x = mt.tensor((data.data - data.data.mean(0)) / (data.data.std(0) + 1e-6), dtype=mt.float32)
    y = mt.tensor(data.target, dtype=mt.int64)
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = mt.utils.data.DataLoader(mt.utils.data.TensorDataset(x, y), batch_size=64,
                                      shuffle=True)
    with diagnose.watch(model, opt) as doctor:
        for _ in range(3):
            for xb, yb in loader:
                loss = nn.functional.cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
    report = doctor.report()
    assert report.ok and report.findings == [], str(report)
    assert doctor.steps == 3 * len(loader)


def test_plot_names_a_parameter_whose_gradient_is_always_zero() -> None:
    pytest.importorskip("matplotlib")
    report = Report([], losses={"run": [1.0, 0.5]}, grad_norms={"w": [0.0, 0.0],
                                                                 "b": [0.1, 0.2]})
    labels = [line.get_label() for line in report.plot().axes[1].get_lines()]
    assert labels == ["w (gradient 0)", "b"]
