"""microtensor.compile: a compiled step gives the eager step's numbers bit for bit (float32) on
the models of the repository, re-records when its guards change, and runs eagerly, with one
warning naming the cause and the line, whatever it cannot replay."""

from __future__ import annotations

import importlib.util
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor import nn, optim

ROOT = Path(__file__).resolve().parent.parent
Step = Callable[..., Any]
# build() -> (the tensors to compare afterwards, the step, the arguments of call i)
Build = Callable[[], tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]]


def run(build: Build, steps: int, compiled: bool) -> tuple[list[Any], list[np.ndarray], Any]:
    """Run ``steps`` calls of the step that ``build`` makes: the losses, the final values of
    the tensors to compare, and the step called (compiled or not)."""
    tensors, step, data = build()
    fn = mt.compile(step) if compiled else step
    losses = []
    for i in range(steps):
        out = fn(*data(i))
        losses.append(out.detach().numpy().copy() if isinstance(out, mt.Tensor) else out)
    return losses, [t.detach().numpy().copy() for t in tensors], fn


def assert_same(build: Build, steps: int = 55, *, exact: bool = True) -> Any:
    """Compiled and eager give the same losses and final tensors (bit for bit when ``exact``,
    else within 1e-12 relative); returns the compiled step."""
    eager_losses, eager_tensors, _ = run(build, steps, compiled=False)
    losses, tensors, fn = run(build, steps, compiled=True)
    assert len(losses) == steps
    for a, b in zip([*eager_losses, *eager_tensors], [*losses, *tensors], strict=True):
        if exact:
            assert np.array_equal(a, b), (a, b)
        else:
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=0)
    return fn


def ops_in(source: str, op: str) -> int:
    """How many applications of ``op`` a replay's source has (a forward written in is named
    in a comment; one that does not fit is called)."""
    return len(re.findall(rf"# {op}(?:,|$)|\b{op}\.forward\(", source, re.MULTILINE))


def compiled_quietly(build: Build, steps: int = 55) -> Any:
    """assert_same, for a step that must compile without any warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn = assert_same(build, steps)
    assert fn.source is not None
    return fn


# -- the models of the repository -------------------------------------------------------------

XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [[0.0], [1.0], [1.0], [0.0]]


def xor_sgd(dtype: Any = mt.float32) -> Build:
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
        model.to(dtype)
        opt = optim.SGD(model.parameters(), lr=2.0)
        loss_fn = nn.BCELoss()
        x, y = mt.tensor(XOR_X, dtype=dtype), mt.tensor(XOR_Y, dtype=dtype)

        def step(x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return list(model.parameters()), step, lambda i: (x, y)
    return build


def test_xor_with_sgd_is_bit_identical_and_its_source_is_the_numpy_of_the_step() -> None:
    fn = compiled_quietly(xor_sgd())
    source = fn.source
    assert fn.recompiles == 0
    # forward, backward (the engine's work, as ops) and update, in that order
    body = source.splitlines()
    forward = body.index("    # -- forward")
    backward = body.index("    # -- backward")
    assert forward < backward < max(i for i, line in enumerate(body) if "-- update" in line)
    # each op's forward written in: the NumPy it runs, named in a comment
    assert ".forward(" not in source
    assert source.count("# Linear, ") == 2 and source.count("stable_sigmoid(") == 2
    assert "    v0 = matmul(a0, s0.T)\n    v0 += s1\n" in source  # x @ W^T + b: model[0]
    assert "* (1 - v3)  # SigmoidGrad, 3: Sigmoid, SigmoidBackward" in source
    assert "accumulate(S0" in source
    assert source.count("accumulate(") == 4  # one per parameter
    assert "sgd.step()" in source and "sgd.zero_grad(True)" in source  # (if not as recorded)
    assert "s0 += -lr * g" in source and "S0._grad = None" in source  # (written out)
    assert "# 0.weight, (4, 2) float32" in source


def test_xor_in_float64_is_within_1e_12() -> None:
    assert_same(xor_sgd(mt.float64), exact=False)
    compiled_quietly(xor_sgd(mt.float64))


def mlp(optimizer: str, activation: type[nn.Module] = nn.Tanh, loss: str = "mse",
        sizes: tuple[int, ...] = (2, 16, 16, 1), batch: int = 64,
        batches: Callable[[int], slice] | None = None) -> Build:
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(1)
        layers: list[nn.Module] = []
        for a, b in zip(sizes, sizes[1:], strict=False):
            layers += [nn.Linear(a, b), activation()]
        model = nn.Sequential(*layers[:-1])
        params = list(model.parameters())
        opt: optim.Optimizer
        if optimizer == "momentum":
            opt = optim.SGD(params, lr=0.05, momentum=0.9)
        else:
            opt = optim.Adam(params, lr=1e-3)
        x = mt.randn(batch, sizes[0])
        if loss == "ce":
            y = mt.randint(0, sizes[-1], (batch,))
            loss_fn: nn.Module = nn.CrossEntropyLoss()
        else:
            y = mt.randn(batch, sizes[-1])
            loss_fn = nn.MSELoss()

        def step(x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss

        def data(i: int) -> tuple[Any, ...]:
            if batches is None:
                return x, y
            s = batches(i)
            return x[s], y[s]

        return params, step, data
    return build


def test_mlp_with_momentum_sgd_is_bit_identical() -> None:
    compiled_quietly(mlp("momentum"))


def test_relu_net_with_cross_entropy_and_adam_is_bit_identical() -> None:
    # ReLU's backward mask comes from an op (ReluGrad): the step compiles
    fn = compiled_quietly(mlp("adam", nn.ReLU, "ce", (64, 128, 10), batch=32))
    assert ops_in(fn.source, "ReluGrad") and "adam.step()" in fn.source


def test_tanh_net_with_cross_entropy_and_adam_is_bit_identical() -> None:
    fn = compiled_quietly(mlp("adam", nn.Tanh, "ce", (64, 128, 10), batch=32))
    assert ops_in(fn.source, "CrossEntropy") and "adam.step()" in fn.source


def test_digits_sized_mlp_on_mini_batches_and_a_last_smaller_batch_re_records() -> None:
    # 120 rows in batches of 16: 7 full batches, then 8 rows (a new shape: recorded again)
    def batches(i: int) -> slice:
        start = (i * 16) % 120
        return slice(start, min(start + 16, 120))
    fn = compiled_quietly(mlp("adam", nn.Tanh, "ce", (64, 32, 10), batch=120, batches=batches),
                          steps=60)
    assert fn.recompiles == 1


def rnn(hidden: int = 32, length: int = 50) -> Build:
    class TanhRNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ih = nn.Linear(4, hidden)
            self.hh = nn.Linear(hidden, hidden)
            self.out = nn.Linear(hidden, 1)

        def forward(self, xs: mt.Tensor) -> mt.Tensor:
            h = mt.zeros(xs.shape[1], hidden)  # a constant of the step
            for t in range(xs.shape[0]):
                h = (self.ih(xs[t]) + self.hh(h)).tanh()
            out: mt.Tensor = self.out(h)
            return out

    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(2)
        model = TanhRNN()
        opt = optim.SGD(model.parameters(), lr=0.01)
        xs, y = mt.randn(length, 8, 4), mt.randn(8, 1)

        def step(xs: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
            opt.zero_grad()
            loss = ((model(xs) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        return list(model.parameters()), step, lambda i: (xs, y)
    return build


def test_tanh_rnn_loop_is_bit_identical() -> None:
    fn = compiled_quietly(rnn(), steps=52)
    assert ops_in(fn.source, "Tanh") == 50


def hand_written(grad_to_none: bool = True) -> Build:
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(3)
        w = mt.randn(3, 1, requires_grad=True)
        b = mt.zeros(1, requires_grad=True)
        x, y = mt.randn(20, 3), mt.randn(20, 1)

        def step(x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
            loss = ((x @ w + b - y) ** 2).mean()
            loss.backward()
            with mt.no_grad():
                w.sub_(0.1 * w.grad)
                bias = b
                bias -= 0.1 * b.grad  # (Tensor.__isub__: in place)
            if grad_to_none:
                w.grad = None
                b.grad = None
            return loss

        return [w, b], step, lambda i: (x, y)
    return build


def test_hand_written_update_under_no_grad_is_bit_identical() -> None:
    fn = compiled_quietly(hand_written())
    assert "np_subtract(s0, " in fn.source and "S0._grad = None" in fn.source


def test_gradients_accumulating_in_place_across_steps_are_replayed() -> None:
    # without clearing .grad, each backward adds into the same array (the engine's in-place add)
    compiled_quietly(hand_written(grad_to_none=False), steps=20)


def test_two_backwards_in_one_step_and_zero_grad_to_zeros() -> None:
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(4)
        model = nn.Linear(3, 2)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
        x, y = mt.randn(8, 3), mt.randn(8, 2)

        def step(x: mt.Tensor, y: mt.Tensor) -> tuple[mt.Tensor, mt.Tensor]:
            opt.zero_grad(set_to_none=False)
            first = ((model(x[:4]) - y[:4]) ** 2).mean()
            first.backward()
            second = ((model(x[4:]) - y[4:]) ** 2).mean()
            second.backward()
            opt.step()
            return first, second

        return list(model.parameters()), step, lambda i: (x, y)
    eager, _, _ = run(build, 3, compiled=False)
    assert isinstance(eager[0], np.ndarray) is False  # (a tuple of two losses)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params = run(build, 30, compiled=False)[1], run(build, 30, compiled=True)[1]
    for a, b in zip(*params, strict=True):
        assert np.array_equal(a, b)
    _, _, fn = run(build, 3, compiled=True)
    out = fn(*build()[2](0))
    assert isinstance(out, tuple) and len(out) == 2 and out[0].grad_fn is None


@pytest.mark.parametrize("set_to_none", [True, False])
def test_a_step_that_starts_with_model_zero_grad_compiles(set_to_none: bool) -> None:
    # The pattern of PyTorch's tutorials: model.zero_grad() first. At the first call no
    # parameter has a .grad yet, so the call is recorded as one call (like an optimizer's),
    # not as what it did: both recordings then agree, and the replay calls it.
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(5)
        model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x, y = mt.randn(8, 2), mt.randn(8, 1)

        def step(x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
            model.zero_grad(set_to_none=set_to_none)
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        return list(model.parameters()), step, lambda i: (x, y)
    fn = compiled_quietly(build, 20)
    assert f"sequential.zero_grad({set_to_none})" in fn.source


def test_dropout_draws_fresh_numbers_in_the_eager_order() -> None:
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(5)
        model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Dropout(0.3), nn.Linear(16, 1))
        opt = optim.SGD(model.parameters(), lr=0.1)
        x, y = mt.randn(10, 6), mt.randn(10, 1)

        def step(x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        return list(model.parameters()), step, lambda i: (x, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn = assert_same(build, 30)
    # the mask is drawn inside an op (DropoutMask): the replay draws a fresh one each step
    assert fn.source is not None and ops_in(fn.source, "DropoutMask")
    assert not caught


# -- outputs computed once ---------------------------------------------------------------------


def test_the_mean_losss_starting_gradient_is_computed_once() -> None:
    # MSELoss ends with a Mean node: its backward's MeanGrad of the constant seed 1.0 (1 / 8 in
    # the loss's shape) is the same array at every call
    fn = assert_same(mlp("momentum", batch=8), 20)
    assert fn.source is not None
    assert re.search(r"# v\d+: \(\(8, 1\) float32\), computed once: MeanGrad, MSELoss, "
                     r"MeanBackward", fn.source)
    assert "np.divide(s" not in fn.source  # (MeanGrad's line is not run at each call)


@pytest.mark.parametrize("zero_grad", [True, False])
def test_constant_outputs_stored_as_grad_or_returned_are_computed_at_each_call(
        zero_grad: bool) -> None:
    # w.grad = 2c: an op of constants (mt.ones in the step, times 2) whose output the engine
    # stores as .grad, then adds into in place (zero_grad=False): computed at each call, or
    # the stored array would change the next replay's value. The step's result c * 3 likewise.
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        w = nn.Parameter(mt.tensor([1.0, 2.0, 3.0]))

        def step(x: mt.Tensor) -> tuple[mt.Tensor, mt.Tensor]:
            if zero_grad:
                w.grad = None
            c = mt.ones(3)
            loss = (w * (c * 2.0)).sum()  # (x: unused)
            loss.backward()
            return loss, c * 3.0

        return [w], step, lambda i: (mt.ones(3),)

    eager_w, step, data = build()
    compiled_w, step2, _ = build()
    compiled = mt.compile(step2)
    results = []
    for i in range(6):
        out, triple = compiled(*data(i))
        expected_out, expected_triple = step(*data(i))
        assert np.array_equal(out.detach().numpy(), expected_out.detach().numpy())
        assert eager_w[0].grad is not None and compiled_w[0].grad is not None
        assert np.array_equal(compiled_w[0].grad.numpy(), eager_w[0].grad.numpy())
        assert triple.tolist() == expected_triple.tolist() == [3.0, 3.0, 3.0]
        results.append(triple)
        for w in (eager_w[0], compiled_w[0]):  # (a .grad is the user's: e.g. clipped in place)
            assert w.grad is not None
            if i >= 2:  # (after the recordings, which compare their values)
                w.grad.mul_(0.5)
    assert compiled_w[0].grad.tolist() == ([1.0] * 3 if zero_grad else [2.125] * 3)
    results[-1].add_(1.0)  # (a returned array is the caller's: the next call gets a new one)
    assert compiled(*data(0))[1].tolist() == [3.0, 3.0, 3.0]
    # (c * 2.0 in the forward is computed once: only the product with w reads it)
    assert compiled.source is not None and "computed once: Mul" in compiled.source


def test_a_tensor_made_in_the_step_and_changed_in_place_starts_afresh_at_each_call() -> None:
    # c = mt.ones(3) and h = mt.zeros(3) are constants of the recording, changed in place by
    # the step (through a view, and with +=): each replay starts from a copy of their values.
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        w = nn.Parameter(mt.tensor([1.0, 2.0, 3.0]))

        def step(x: mt.Tensor) -> mt.Tensor:
            w.grad = None
            c = mt.ones(3)
            a = (c * 2.0).sum()
            c[:2].add_(1.0)
            h = mt.zeros(3)
            h += x
            loss = a + (w * c * x).sum() + (h * w).sum()
            loss.backward()
            with mt.no_grad():
                w.sub_(0.125 * w.grad)  # (so that w's last value depends on every gradient)
            return loss

        return [w], step, lambda i: (mt.tensor([1.0, 2.0, 0.5 * i]),)

    fn = assert_same(build, 6)
    assert fn.source is not None and fn.source.count("that the step changes in place") == 2


def test_returned_arguments_parameters_and_constants_are_as_in_eager_mode() -> None:
    # An argument or a parameter returned is that tensor (as eager mode returns it); a tensor
    # made in the step is a new one at each call (changing one does not change the next).
    w = nn.Parameter(mt.ones(3))

    @mt.compile
    def step(x: mt.Tensor) -> tuple[mt.Tensor, ...]:
        w.grad = None
        c = mt.zeros(3)
        loss = (w * x + c).sum()
        loss.backward()
        return loss, c, x, w

    x = mt.ones(3)
    for i in range(5):
        loss, c, same_x, same_w = step(x)
        assert loss.item() == 3.0 and c.tolist() == [0.0, 0.0, 0.0]
        assert same_x is x and same_w is w
        if i >= 2:  # (after the recordings, which compare their values)
            c.add_(1.0)
    assert step.source is not None and "return (Tensor._make(v" in step.source
    assert "Tensor._make(s1.copy()), A[0], S0)" in step.source


def test_random_ops_and_ops_of_the_users_own_are_not_computed_once() -> None:
    # Dropout on constants draws fresh numbers at each call; a Function of the user's own,
    # reading a counter, is run at each call: neither is taken for a constant.
    count = [0]

    class Count(mt.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            count[0] += 1
            return x * count[0]

        @staticmethod
        def backward(ctx: Any, g: mt.Tensor) -> mt.Tensor:
            return g

    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(1)  # (its first two draws of a 1-element mask are equal, not the third)
        count[0] = 0
        w = nn.Parameter(mt.ones(8))

        def step(x: mt.Tensor) -> mt.Tensor:
            w.grad = None
            mask = nn.functional.dropout(mt.ones(1), 0.5)
            loss = (w * mask * Count.apply(mt.ones(8))).sum() + (w * x).sum()
            loss.backward()
            return loss

        return [w], step, lambda i: (mt.ones(8),)

    fn = assert_same(build, 8)
    assert fn.source is not None and ops_in(fn.source, "DropoutMask") == 1
    assert ops_in(fn.source, "Count") == 1
    assert not re.search(r"computed once: (DropoutMask|Count)", fn.source)


def test_the_xor_example_with_compile_gives_the_eager_losses() -> None:
    sys.path.insert(0, str(ROOT / "examples"))
    spec = importlib.util.spec_from_file_location("example_xor_compile",
                                                  ROOT / "examples" / "xor.py")
    assert spec is not None and spec.loader is not None
    xor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(xor)
    eager: list[float] = []
    compiled: list[float] = []
    xor.train(epochs=200, log=lambda *a: None, losses=eager, bar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xor.train(epochs=200, log=lambda *a: None, losses=compiled, bar=False, compile=True)
    assert compiled == eager and eager[-1] < eager[0]


# -- guards -------------------------------------------------------------------------------------

def test_guards_re_record_on_new_shapes_values_and_grad_mode() -> None:
    w = mt.randn(3)
    calls: list[int] = []

    @mt.compile
    def f(x: mt.Tensor, scale: float) -> mt.Tensor:
        calls.append(1)  # (Python code runs only while recording)
        return (x * w).sum() * scale

    x = mt.randn(4, 3)
    for _ in range(4):
        assert np.array_equal(f(x, 2.0).numpy(), ((x * w).sum() * 2.0).numpy())
    assert len(calls) == 2 and f.recompiles == 0
    f(x, 3.0)
    f(mt.randn(5, 3), 2.0)
    with mt.no_grad():
        f(x, 2.0)
    assert f.recompiles == 3
    out = f(x, 2.0)  # a replay: a tensor without a graph
    assert out.grad_fn is None and not out.requires_grad
    # a captured tensor changed: recorded again; its result now needs a graph, which a replay
    # cannot give (no backward ran in the function): it runs eagerly, with a warning
    w.requires_grad_(True)
    with pytest.warns(UserWarning, match="compile a whole training step"):
        out = f(x, 2.0)
    assert out.grad_fn is not None
    assert np.array_equal(out.detach().numpy(), ((x * w).sum() * 2.0).detach().numpy())
    assert f.recompiles == 4


def test_after_8_re_records_new_arguments_run_eagerly_with_one_warning() -> None:
    w = mt.randn(1)
    f = mt.compile(lambda x: x * w)
    for n in range(1, 10):
        f(mt.randn(n))
    assert f.recompiles == 8
    with pytest.warns(UserWarning, match="recompiled 8 times"):
        out = f(mt.randn(10))
    x = mt.randn(11)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once only
        assert np.array_equal(f(x).numpy(), (x * w).numpy())
    assert out.shape == (10,)


# -- refusals: a warning naming the cause and the line, and eager results ------------------------

def refused(body: Callable[[mt.Tensor, mt.Tensor, nn.Module], Any], match: str,
            steps: int = 5, setup: Callable[[nn.Module], object] | None = None) -> None:
    """A step that does ``body`` runs eagerly after one warning matching ``match`` (which
    names this file's line), and gives the eager numbers."""
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(6)
        model = nn.Linear(3, 1)
        if setup is not None:
            setup(model)
        opt = optim.SGD(model.parameters(), lr=0.1)
        x, y = mt.randn(6, 3), mt.randn(6, 1)

        def step(x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
            opt.zero_grad()
            loss = body(x, y, model)
            opt.step()
            return loss

        return list(model.parameters()), step, lambda i: (x, y)
    with pytest.warns(UserWarning, match=match) as caught:
        fn = assert_same(build, steps)
    assert len(caught) == 1 and "test_compile.py:" in str(caught[0].message)
    assert fn.source is None


def mse(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
    loss: mt.Tensor = ((model(x) - y) ** 2).mean()
    return loss


def test_item_steering_control_flow_is_refused() -> None:
    def body(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        loss = mse(x, y, model)
        if loss.item() > 0:
            loss.backward()
        return loss
    refused(body, r"refused \.item\(\)")


def test_an_lr_scheduler_step_inside_the_step_is_refused() -> None:
    # a replay would skip the scheduler's Python side effect (the learning rate would freeze)
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(6)
        model = nn.Linear(3, 1)
        opt = optim.SGD(model.parameters(), lr=0.1)
        sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        x, y = mt.randn(6, 3), mt.randn(6, 1)

        def step(x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
            opt.zero_grad()
            loss = mse(x, y, model)
            loss.backward()
            opt.step()
            sched.step()
            return loss

        return list(model.parameters()), step, lambda i: (x, y)
    with pytest.warns(UserWarning, match=r"LR scheduler's step\(\)") as caught:
        fn = assert_same(build, 8)
    assert len(caught) == 1 and "test_compile.py:" in str(caught[0].message)
    assert fn.source is None


def test_bool_of_a_tensor_is_refused() -> None:
    def body(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        loss = mse(x, y, model)
        if loss > 0:
            loss.backward()
        return loss
    refused(body, r"bool\(tensor\)")


def test_numpy_and_asarray_in_the_step_are_refused() -> None:
    def body(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        loss = mse(x, y, model)
        loss.backward()
        loss.detach().numpy()
        return loss
    refused(body, r"\.numpy\(\)")

    def body2(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        loss = mse(x, y, model)
        loss.backward()
        np.asarray(x)
        return loss
    refused(body2, r"np\.asarray")


def test_formatting_a_tensor_is_refused() -> None:
    log: list[str] = []

    def body(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        loss = mse(x, y, model)
        loss.backward()
        log.append(f"{loss}")
        return loss
    refused(body, r"a tensor formatted into a string")
    assert len(log) == 10


def test_printing_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    def body(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        loss = mse(x, y, model)
        loss.backward()
        print("step")
        return loss
    refused(body, r"sys\.stdout \(a print\)")
    assert capsys.readouterr().out.count("step") == 10  # every call printed (eager)


def test_create_graph_is_refused() -> None:
    def body(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        loss = mse(x, y, model)
        loss.backward(create_graph=True)
        for p in model.parameters():  # (no reference cycle left behind)
            p.grad = None
        return loss
    refused(body, r"create_graph=True")


def test_autograd_grad_is_refused() -> None:
    def body(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        loss = mse(x, y, model)
        grads = mt.autograd.grad(loss, list(model.parameters()))
        for p, g in zip(model.parameters(), grads, strict=True):
            p.grad = g
        return loss
    refused(body, r"autograd\.grad")


def test_tensor_and_module_hooks_and_retain_grad_are_refused() -> None:
    def body(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        h = model(x)
        h.register_hook(lambda g: g * 2)
        loss = ((h - y) ** 2).mean()
        loss.backward()
        return loss
    refused(body, r"a hook registered on a tensor")

    def body2(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        h = model(x)
        h.retain_grad()
        loss = ((h - y) ** 2).mean()
        loss.backward()
        return loss
    refused(body2, r"retain_grad")

    def body3(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        loss = mse(x, y, model)
        loss.backward()
        return loss
    refused(body3, r"a hook registered on the module Linear",
            setup=lambda model: model.register_forward_hook(lambda m, i, o: None))


def test_values_computed_outside_an_op_are_refused() -> None:
    def body(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        noise = mt.randn(6, 1) * 0.01  # a fresh draw outside an op: not replayable
        loss = ((model(x) + noise - y) ** 2).mean()
        loss.backward()
        return loss
    refused(body, r"values computed outside an op: an array of \(6, 1\) float32")

    def body2(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        view = mt.Tensor._make(x._data[:, :1])  # NumPy on an argument, outside an op
        loss = ((model(x) * view - y) ** 2).mean()
        loss.backward()
        return loss
    refused(body2, r"computed outside an op from a value of this step")


def test_an_in_place_change_outside_an_op_and_a_closure_are_refused() -> None:
    def body(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        loss = mse(x, y, model)
        loss.backward()
        model.bias.grad.zero_()
        return loss
    refused(body, r"an in-place change of a tensor outside an op")

    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(7)
        model = nn.Linear(3, 1)
        opt = optim.SGD(model.parameters(), lr=0.1)
        x, y = mt.randn(6, 3), mt.randn(6, 1)

        def step(x: mt.Tensor, y: mt.Tensor) -> Any:
            def closure() -> mt.Tensor:
                opt.zero_grad()
                loss = mse(x, y, model)
                loss.backward()
                return loss
            return opt.step(closure)

        return list(model.parameters()), step, lambda i: (x, y)
    with pytest.warns(UserWarning, match=r"optimizer\.step\(closure\)"):
        assert_same(build, 4)


def test_backward_hooks_of_diagnose_watch_are_refused() -> None:
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(8)
        model = nn.Linear(3, 1)
        opt = optim.SGD(model.parameters(), lr=0.1)
        x, y = mt.randn(6, 3), mt.randn(6, 1)

        def step(x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
            opt.zero_grad()
            loss = mse(x, y, model)
            loss.backward()
            opt.step()
            return loss

        return list(model.parameters()), step, lambda i: (x, y)

    handle = mt.autograd.register_backward_pre_hook(lambda roots: None)
    try:
        with pytest.warns(UserWarning, match=r"backward hooks"):
            assert_same(build, 4)
    finally:
        handle.remove()


def test_the_eager_path_is_untouched_when_nothing_records() -> None:
    from microtensor.autograd.function import recording
    assert recording.recorder is None
    f = mt.compile(lambda x: x * 2)
    f(mt.ones(2))
    assert recording.recorder is None


def test_compiling_a_compiled_step_starts_afresh_with_the_function() -> None:
    w = mt.ones(2)
    f = mt.compile(lambda x: x * w)
    for _ in range(3):
        f(mt.ones(2))
    assert f.source is not None
    g = mt.compile(f)
    assert g.fn is f.fn and g.source is None and g.recompiles == 0
    assert g.__name__ == "<lambda>"


def test_train_eval_mode_and_hooks_added_later_are_guarded() -> None:
    class Scale(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(mt.ones(3))

        def forward(self, x: mt.Tensor) -> mt.Tensor:
            return x * self.w * (2.0 if self.training else 3.0)

    model = Scale()

    @mt.compile
    def f(x: mt.Tensor) -> mt.Tensor:
        model.w.grad = None
        loss = model(x).sum()
        loss.backward()
        return loss

    x = mt.ones(3)
    for _ in range(3):
        assert f(x).item() == 6.0
    model.eval()
    assert f(x).item() == 9.0 and f.recompiles == 1
    for _ in range(2):
        assert f(x).item() == 9.0
    seen: list[mt.Tensor] = []
    model.w.register_hook(seen.append)
    with pytest.warns(UserWarning, match="register_hook"):
        assert f(x).item() == 9.0
    assert len(seen) == 1 and model.w.grad is not None and model.w.grad[0].item() == 3.0


def test_the_fast_guard_sees_new_arrays_requires_grad_hooks_and_anomaly_mode() -> None:
    # After the first replays, a call with the same tensors takes one generated check
    # (compiled._fast_check): each change below must still be seen, and give eager's numbers.
    w = nn.Parameter(mt.tensor([1.0, 2.0, 3.0]))
    calls: list[int] = []

    @mt.compile
    def f(x: mt.Tensor) -> mt.Tensor:
        calls.append(1)
        w.grad = None
        loss = (x * w).sum()
        loss.backward()
        return loss

    def expected(x: mt.Tensor) -> float:
        return float((x.numpy() * w.detach().numpy()).sum())

    x = mt.tensor([1.0, 1.0, 1.0])
    for _ in range(4):
        assert f(x).item() == expected(x)
    assert len(calls) == 2  # (two recordings, then replays)
    x.data = mt.tensor([1.0, 10.0, 100.0])  # a new array, same shape: replayed with it
    assert f(x).item() == expected(x) == 321.0
    w.data = mt.tensor([2.0, 2.0, 2.0])  # a captured tensor's new array, same shape
    assert f(x).item() == expected(x) == 222.0
    assert w.grad is not None and w.grad.tolist() == [1.0, 10.0, 100.0]
    assert len(calls) == 2 and f.recompiles == 0
    x.data = mt.tensor([5.0])  # an argument's new array of a new shape: recorded again
    for _ in range(3):
        assert f(x).item() == expected(x) == 30.0
    assert f.recompiles == 1 and len(calls) == 4
    w.data = mt.tensor([1.0, 1.0])  # a captured tensor's new shape: recorded again
    for _ in range(3):
        assert f(x).item() == expected(x) == 10.0
    assert f.recompiles == 2 and len(calls) == 6
    x2 = mt.tensor([3.0, 4.0])
    for _ in range(3):
        assert f(x2).item() == 7.0
    x2.requires_grad_(True)  # an argument's requires_grad: a new key
    for _ in range(3):
        assert f(x2).item() == 7.0
    assert f.recompiles == 4 and len(calls) == 10
    assert x2.grad is not None and x2.grad.tolist() == [3.0, 3.0]  # (3 calls of w)
    with pytest.warns(UserWarning, match="anomaly mode"), mt.autograd.set_detect_anomaly(True):
        n = len(calls)
        assert f(x2).item() == 7.0  # (the replay would skip anomaly mode's checks)
        assert len(calls) == n + 1
    double, y = mt.compile(lambda a: a * 2), mt.tensor([3.0, 4.0])
    for _ in range(3):
        assert double(y).tolist() == [6.0, 8.0]
    with mt.no_grad():  # the grad mode: a new key
        assert double(y).tolist() == [6.0, 8.0]
    assert double.recompiles == 1
    g = mt.compile(f.fn)
    for _ in range(4):
        assert g(x2).item() == 7.0
    handle = mt.autograd.register_backward_pre_hook(lambda roots: None)
    try:  # a global backward hook, added after the replays began
        with pytest.warns(UserWarning, match=r"backward hooks"):
            assert g(x2).item() == 7.0
    finally:
        handle.remove()
    h = mt.compile(f.fn)
    for _ in range(4):
        assert h(x2).item() == 7.0
    seen: list[mt.Tensor] = []
    w.register_hook(seen.append)  # a captured tensor's hook
    with pytest.warns(UserWarning, match="register_hook"):
        assert h(x2).item() == 7.0
    assert len(seen) == 1


_model: nn.Module = nn.Linear(3, 1)  # (globals of the step below: a notebook's cells)
_opt: optim.Optimizer = optim.SGD(_model.parameters(), lr=0.1)


def _step_on_globals(x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
    _opt.zero_grad()
    loss = ((_model(x) - y) ** 2).mean()
    loss.backward()
    _opt.step()
    return loss


def test_a_global_or_closure_variable_assigned_again_records_again() -> None:
    # A notebook cell run again makes a new model and optimizer under the same names: the step
    # must train them, as eager mode does, not the ones it recorded.
    global _model, _opt
    x, y = mt.tensor([[1.0, 2.0, 3.0]]), mt.tensor([[1.0]])

    def fresh() -> tuple[nn.Module, optim.Optimizer]:
        mt.manual_seed(4)
        model = nn.Linear(3, 1)
        return model, optim.SGD(model.parameters(), lr=0.1)

    step = mt.compile(_step_on_globals)
    _model, _opt = fresh()
    for _ in range(4):
        step(x, y)
    _model, _opt = fresh()  # (the cell run again)
    losses = [step(x, y).item() for _ in range(3)]
    trained = _model
    _model, _opt = fresh()
    assert losses == [_step_on_globals(x, y).item() for _ in range(3)]
    assert trained.weight.tolist() == _model.weight.tolist()
    assert step.recompiles == 1

    lr = 0.5  # a closure variable assigned again (a number read by the step's own code)
    w = mt.ones(2, requires_grad=True)

    def hand_written(x: mt.Tensor) -> mt.Tensor:
        loss = (w * x).sum()
        loss.backward()
        with mt.no_grad():
            w.sub_(w.grad * lr)
            w.grad = None
        return loss

    compiled = mt.compile(hand_written)
    for _ in range(3):
        compiled(mt.ones(2))
    lr = 0.25
    compiled(mt.ones(2))
    assert w.tolist() == [1.0 - 3 * 0.5 - 0.25] * 2 and compiled.recompiles == 1


def test_the_same_tensor_passed_twice_is_guarded() -> None:
    f = mt.compile(lambda a, b: a * 2 + b)
    x = mt.ones(2)
    for _ in range(3):
        assert f(x, x).tolist() == [3.0, 3.0]
    assert f(x, mt.zeros(2)).tolist() == [2.0, 2.0] and f.recompiles == 1
    g = mt.compile(lambda a, b: a * 2 + b)
    for _ in range(3):
        assert g(x, mt.zeros(2)).tolist() == [2.0, 2.0]  # (new tensors of the same key)
    for _ in range(3):
        assert g(x, x).tolist() == [3.0, 3.0]  # (one array twice: a new key)
    assert g.recompiles == 1
    with pytest.warns(UserWarning, match="a float in the step's result"):
        assert g(1.0, 2.0) == 4.0  # (numbers where tensors were: a new key; it returns a number)
    assert g.recompiles == 2
    h = mt.compile(lambda a, b: (a * 2, b))  # (an argument returned: the same at each call)
    for _ in range(3):
        assert h(x, 3.0)[1] == 3.0
    assert h.source is not None and h.source.rstrip().endswith("3.0)")
    for _ in range(3):
        assert g(x, x).tolist() == [3.0, 3.0]
    xd = x.double()
    assert g(xd, xd).dtype == mt.float64 and g.recompiles == 3  # (a new dtype: a new key)
    for _ in range(3):
        assert g(xd, xd).tolist() == [3.0, 3.0]
    assert g(xd[:1], xd[:1]).tolist() == [3.0] and g.recompiles == 4  # (a new shape)


def test_parameters_that_are_views_of_one_buffer_are_captured() -> None:
    # as fused optimizers keep them: each parameter a view of one flat array
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(9)
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
        params = list(model.parameters())
        flat = np.concatenate([p.detach().numpy().ravel() for p in params])
        offset = 0
        for p in params:
            n = p.numel()
            p.data = mt.from_numpy(flat[offset:offset + n].reshape(p.shape))
            offset += n
        opt = optim.SGD(params, lr=0.1)
        x, y = mt.randn(5, 3), mt.randn(5, 1)

        def step(x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
            opt.zero_grad()
            w = model[0].weight
            loss = ((model(x) - y) ** 2).mean() + (w.t() * w.t()).sum() * 0.01
            loss.backward()
            opt.step()
            return loss

        return params, step, lambda i: (x, y)
    compiled_quietly(build, 20)


def test_a_result_computed_outside_an_op_is_refused() -> None:
    def step(x: mt.Tensor) -> mt.Tensor:
        y = x * 2
        return mt.Tensor._make(y._data[:1])  # a NumPy view of an op's output
    f = mt.compile(step)
    x = mt.ones(3)
    with pytest.warns(UserWarning, match="the step's result: an array computed outside an op"):
        for _ in range(3):
            assert f(x).tolist() == [2.0]


def test_relu_mask_is_recomputed_in_the_replay() -> None:
    # ReLU's backward takes its mask from an op (ReluGrad): the replay recomputes it, so a sign
    # that flips after the recordings gives the eager result, not the recorded mask.
    w = mt.ones(3, requires_grad=True)
    x = mt.tensor([1.0, 2.0, 3.0])

    def step(x: mt.Tensor) -> mt.Tensor:
        w.grad = None
        loss = (x * w).relu().sum()
        loss.backward()
        return loss
    f = mt.compile(step)
    for _ in range(3):
        assert f(x).item() == 6.0
    assert f.source is not None and "ReluGrad" in f.source
    with mt.no_grad():
        w.mul_(-1.0)
    assert f(x).item() == 0.0 and w.grad is not None and w.grad.tolist() == [0.0, 0.0, 0.0]


class NumpyMaskRelu(mt.autograd.Function):
    """A user's ReLU whose backward builds its mask with NumPy, outside any op."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx: Any, g: mt.Tensor) -> mt.Tensor:
        (x,) = ctx.saved_tensors
        return g * mt.Tensor._make(x._data > 0)  # (a mask made outside an op)


def test_a_mask_computed_with_numpy_in_a_backward_is_refused_even_when_equal() -> None:
    # Both recordings see the same mask here (x > 0 throughout), yet a later step could flip
    # a sign: a mask made outside an op is never taken for a constant.
    w = mt.ones(3, requires_grad=True)
    x = mt.tensor([1.0, 2.0, 3.0])

    def step(x: mt.Tensor) -> mt.Tensor:
        w.grad = None
        loss = NumpyMaskRelu.apply(x * w).sum()
        loss.backward()
        return loss
    f = mt.compile(step)
    with pytest.warns(UserWarning, match=r"\(in NumpyMaskReluBackward\) is a new one"):
        for _ in range(3):
            assert f(x).item() == 6.0
    assert f.source is None
    with mt.no_grad():
        w.mul_(-1.0)
    assert f(x).item() == 0.0 and w.grad is not None and w.grad.tolist() == [0.0, 0.0, 0.0]


def test_a_random_op_draws_fresh_numbers_in_the_eager_order() -> None:
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(10)
        model = nn.Linear(4, 4)
        opt = optim.SGD(model.parameters(), lr=0.1)
        x = mt.randn(6, 4)

        def step(x: mt.Tensor) -> mt.Tensor:
            opt.zero_grad()
            h = model(x)
            keep = h.detach().bernoulli(0.5)  # (an op: BernoulliScalar draws in its forward)
            loss = (h * keep).pow(2).mean()
            loss.backward()
            opt.step()
            return loss

        return list(model.parameters()), step, lambda i: (x,)
    fn = compiled_quietly(build, 30)
    assert ops_in(fn.source, "BernoulliScalar")
    losses = run(build, 30, compiled=True)[0]
    assert len({float(v) for v in losses}) > 20  # fresh draws: the losses differ


@pytest.mark.parametrize("flag", ["fused", "foreach"])
def test_a_fused_or_foreach_optimizer_replays_as_eager(flag: str) -> None:
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(3)
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
        opt = optim.Adam(model.parameters(), lr=0.01, **{flag: True})
        x, y = mt.randn(12, 8), mt.randint(0, 4, (12,))

        def step(x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return list(model.parameters()), step, lambda i: (x, y)
    fn = compiled_quietly(build, 30)
    assert "adam.step()" in fn.source


def test_comparisons_and_argmax_in_the_step_are_recomputed() -> None:
    # masks and indices computed by tensor methods (x > 0, argmax, max(dim)) are ops: a replay
    # on new data recomputes them (the two recordings see the same batch, later ones differ)
    def build() -> tuple[list[mt.Tensor], Step, Callable[[int], tuple[Any, ...]]]:
        mt.manual_seed(8)
        model = nn.Linear(4, 3)
        opt = optim.SGD(model.parameters(), lr=0.1)
        first = mt.randn(6, 4)
        others = [mt.randn(6, 4) for _ in range(5)]

        def step(x: mt.Tensor) -> mt.Tensor:
            opt.zero_grad()
            out = model(x)
            mask = (x[:, :3] > 0).logical_and(out.isfinite())
            best = out.argmax(1, keepdim=True)
            top, _ = out.max(1)
            loss = (out * mask).sum() + out.take_along_dim(best, 1).sum() + top.mean()
            loss.backward()
            opt.step()
            return loss

        return list(model.parameters()), step, lambda i: (first if i < 2 else others[i % 5],)
    fn = compiled_quietly(build, 20)
    assert ops_in(fn.source, "Values") and ops_in(fn.source, "ArgExtreme")


def test_a_numpy_ufunc_of_a_tensor_in_the_step_is_refused() -> None:
    def body(x: mt.Tensor, y: mt.Tensor, model: nn.Module) -> mt.Tensor:
        loss = mse(x, y, model) * np.exp(x.detach()).mean()
        loss.backward()
        return loss
    refused(body, r"np\.exp\(\) of a tensor")


def test_compiling_the_model_alone_runs_eagerly_with_a_warning() -> None:
    # model = torch.compile(model), then loss.backward() outside: the output must keep its graph
    mt.manual_seed(2)
    model = nn.Linear(3, 1)
    compiled = mt.compile(model)
    x = mt.randn(4, 3)
    with pytest.warns(UserWarning, match=r"compile a whole training step"):
        for _ in range(3):
            out = compiled(x)
            out.sum().backward()
    assert compiled.source is None and out.grad_fn is not None
    assert model.weight.grad is not None
    expected = 3 * x.sum(0, keepdim=True)  # three backward calls accumulated
    assert np.allclose(model.weight.grad.numpy(), expected.numpy())
