"""docs/xor-pitfalls.md: the measured tables that no code block runs, and PyTorch's numbers.

The page's code blocks run (and assert their claims) in test_docs.py. Its ```text tables of
step counts come from longer runs; the cheap rows are re-measured here from the numbers as the
page prints them, so the page and the code cannot drift apart. Where PyTorch is installed, the
page's experiments also run under PyTorch from microtensor's initial weights (the two libraries'
random numbers differ by design) and must print the same numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import microtensor as mt
from microtensor import nn, optim

PAGE = Path(__file__).resolve().parent.parent / "docs" / "xor-pitfalls.md"
INPUTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
TARGETS = [[0.0], [1.0], [1.0], [0.0]]


def table_row(start: str) -> list[int]:
    """The whole numbers (not the parts of 0.69) on the page's line that starts with ``start``,
    after that label."""
    lines = [line for line in PAGE.read_text(encoding="utf-8").splitlines()
             if line.startswith(start)]
    assert len(lines) == 1, f"docs/xor-pitfalls.md should have one line starting {start!r}"
    return [int(n) for n in re.findall(r"(?<![\d.])\d+(?![\d.])", lines[0][len(start):])]


def xor_net(activation: type[nn.Module], hidden: int = 4, weight_std: float | None = None,
            seed: int = 0) -> nn.Sequential:
    """The page's network: 2-hidden-1 with a sigmoid output."""
    mt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, hidden), activation(), nn.Linear(hidden, 1), nn.Sigmoid())
    if weight_std is not None:
        for layer in (model[0], model[2]):
            nn.init.normal_(layer.weight, 0.0, weight_std)
            nn.init.zeros_(layer.bias)
    return model


def first_step_below(model: nn.Module, lr: float, level: float, steps: int = 2000) -> int | None:
    """The first step whose BCE loss (computed before that step's update) is below ``level``."""
    x, y = mt.tensor(INPUTS), mt.tensor(TARGETS)
    opt = optim.SGD(model.parameters(), lr=lr)
    for step in range(1, steps + 1):
        loss = nn.functional.binary_cross_entropy(model(x), y)
        if loss.item() < level:
            return step
        opt.zero_grad()
        loss.backward()
        opt.step()
    return None


def test_relu_delay_table() -> None:
    row = table_row("weights ~0.001, seeds 0-9:")
    assert len(row) == 20
    assert [first_step_below(xor_net(nn.ReLU, 8, 0.001, seed), 0.1, 0.69)
            for seed in range(10)] == row[:10]
    assert [first_step_below(xor_net(nn.ReLU, 8, 0.001, seed), 2.0, 0.69)
            for seed in range(10)] == row[10:]
    assert [first_step_below(xor_net(nn.ReLU, 8, None, seed), 0.1, 0.69)
            for seed in range(10)] == table_row("default weights, seeds 0-9:")


def test_learning_rate_table_at_lr_2() -> None:
    row = table_row("lr 2.0:")
    assert [first_step_below(xor_net(nn.Sigmoid, seed=seed), 2.0, 0.69)
            for seed in range(3)] == row[:3]
    assert [first_step_below(xor_net(nn.Sigmoid, seed=seed), 2.0, 0.1)
            for seed in range(3)] == row[-3:]


# -- PyTorch, from the same initial weights ------------------------------------------------------


def as_torch(model: nn.Sequential, torch: Any) -> Any:
    """A PyTorch copy of ``model`` (Linear and activation layers), with the same parameters."""
    kinds = {nn.Linear: None, nn.Sigmoid: torch.nn.Sigmoid, nn.ReLU: torch.nn.ReLU}
    layers = []
    for layer in model:
        if isinstance(layer, nn.Linear):
            copy = torch.nn.Linear(layer.in_features, layer.out_features)
            with torch.no_grad():
                copy.weight.copy_(torch.from_numpy(layer.weight.detach().numpy()))
                copy.bias.copy_(torch.from_numpy(layer.bias.detach().numpy()))
            layers.append(copy)
        else:
            layers.append(kinds[type(layer)]())
    return torch.nn.Sequential(*layers)


def final_loss(model: Any, lib: Any, lr: float, steps: int, loss_fn: Callable[..., Any]) -> float:
    """Full-batch SGD with either library; the loss of the last step, rounded as the page."""
    x, y = lib.tensor(INPUTS), lib.tensor(TARGETS)
    opt = lib.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return round(loss.item(), 4)


def constant(value: float) -> Callable[[nn.Sequential], None]:
    def init(model: nn.Sequential) -> None:
        for p in model.parameters():
            nn.init.constant_(p, value)
    return init


CASES = {  # page section: (network, its initialisation, lr, steps, loss, the page's number)
    "zero initialisation": (lambda: xor_net(nn.Sigmoid), constant(0.0), 2.0, 1000, "bce", 0.6931),
    "constant initialisation": (lambda: xor_net(nn.Sigmoid), constant(0.5), 2.0, 1000, "bce",
                                0.4891),
    "small sigmoid weights": (lambda: xor_net(nn.Sigmoid, weight_std=0.01), None, 0.1, 1000,
                              "bce", 0.6931),
    "sigmoid before BCEWithLogitsLoss": (lambda: xor_net(nn.Sigmoid), None, 2.0, 1000, "logits",
                                         0.6932),
}


@pytest.fixture
def torch() -> Iterator[Any]:
    """PyTorch, on one thread (two threads on a busy two-core machine run 10x slower)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


@pytest.mark.parametrize("case", CASES)
def test_pytorch_gives_the_pages_numbers(case: str, torch: Any) -> None:
    make, init, lr, steps, loss, expected = CASES[case]
    ours = make()
    if init is not None:
        init(ours)
    theirs = as_torch(ours, torch)
    losses = {"bce": (nn.functional.binary_cross_entropy, torch.nn.functional.binary_cross_entropy),
              "logits": (nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss())}[loss]
    assert final_loss(ours, mt, lr, steps, losses[0]) == expected
    assert final_loss(theirs, torch, lr, steps, losses[1]) == expected
