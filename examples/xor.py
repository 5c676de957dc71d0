"""Train a small network on XOR (or AND / OR) and draw its computation graph.

    python examples/xor.py                          # 2-4-1 sigmoid network, BCE, SGD
    python examples/xor.py --activation relu --optimizer adam --lr 0.05
    python examples/xor.py --plot loss.png          # also draw the loss curve (matplotlib)
    python examples/xor.py --init-scale 0.01 --diagnose   # a learner's stuck recipe, explained
    python examples/xor.py --init-scale 0.01 --watch      # ... and the run itself, watched
    python examples/xor.py --compile                # the training step compiled (mt.compile)
    python examples/xor.py --help

In a terminal a progress bar runs under the progress lines (with tqdm installed: the
``examples`` extra); ``--plot`` needs matplotlib (the ``plot`` extra).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from collections.abc import Callable
from pathlib import Path

from _progress import Progress, plot_curves, require_matplotlib  # examples/_progress.py

import microtensor as mt
from microtensor import nn, optim

TASKS = {  # the four inputs, and the target of each task
    "xor": [0.0, 1.0, 1.0, 0.0],
    "and": [0.0, 0.0, 0.0, 1.0],
    "or": [0.0, 1.0, 1.0, 1.0],
}
INPUTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
LOSSES = {"bce": nn.BCELoss, "mse": nn.MSELoss}
DEFAULT_LR = {"sgd": 2.0, "momentum": 0.5, "adam": 0.05, "rmsprop": 0.02, "rprop": 0.01}
# A ReLU unit that outputs 0 for all four inputs gets no gradient and never recovers; with only
# 4 of them, about 1 seed in 4 loses too many (measured: 15 of 20 seeds with Adam), so ReLU
# networks default to 8 hidden units (40 of 40 seeds).
DEFAULT_HIDDEN = {"sigmoid": 4, "tanh": 4, "relu": 8}


def make_optimizer(name: str, params: list[nn.Parameter], lr: float) -> optim.Optimizer:
    """The optimizer called ``name`` with learning rate ``lr``."""
    if name == "sgd":
        return optim.SGD(params, lr=lr)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(params, lr=lr)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr)
    return optim.Rprop(params, lr=lr)


def build(task: str = "xor", hidden: int | None = None, activation: str = "sigmoid",
          optimizer: str = "sgd", lr: float | None = None, loss: str = "bce", seed: int = 0,
          init_scale: float | None = None,
          ) -> tuple[nn.Module, nn.Module, optim.Optimizer, mt.Tensor, mt.Tensor]:
    """The model, loss function, optimizer, inputs and targets of a run, before training.

    ``init_scale`` replaces the default initialisation with the one of hand-written NumPy
    recipes: weights drawn from N(0, 1) times ``init_scale``, biases zero.
    """
    mt.manual_seed(seed)
    hidden = hidden or DEFAULT_HIDDEN[activation]
    x = mt.tensor(INPUTS)
    y = mt.tensor(TASKS[task]).reshape(4, 1)  # (4, 1), like the model's output

    model = nn.Sequential(
        nn.Linear(2, hidden),
        ACTIVATIONS[activation](),
        nn.Linear(hidden, 1),
        nn.Sigmoid(),
    )
    if init_scale is not None:
        for layer in model:
            if isinstance(layer, nn.Linear):
                nn.init.normal_(layer.weight, 0.0, init_scale)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)
    loss_fn = LOSSES[loss]()
    opt = make_optimizer(optimizer, list(model.parameters()), lr or DEFAULT_LR[optimizer])
    return model, loss_fn, opt, x, y


def train(task: str = "xor", hidden: int | None = None, activation: str = "sigmoid",
          optimizer: str = "sgd", lr: float | None = None, epochs: int = 2000,
          loss: str = "bce", seed: int = 0, log: Callable[[str], object] = print,
          losses: list[float] | None = None, bar: bool | None = None,
          init_scale: float | None = None, diagnose: bool = False, watch: bool = False,
          compile: bool = False,  # noqa: A002  (the option's name)
          ) -> tuple[nn.Module, mt.Tensor, mt.Tensor]:
    """Train a 2-hidden-1 network on ``task``; return the model, the inputs and the targets.

    ``log`` prints the progress lines; each epoch's loss is appended to ``losses`` if given;
    ``bar`` chooses the progress bar (see ``Progress``; by default, one in a terminal);
    ``diagnose`` logs ``microtensor.diagnose.check``'s report on the run before training;
    ``watch`` watches the training loop with ``microtensor.diagnose.watch`` and logs its
    report after training; ``compile`` runs the training step through ``microtensor.compile``
    (the same losses, faster).
    """
    model, loss_fn, opt, x, y = build(task, hidden, activation, optimizer, lr, loss, seed,
                                      init_scale)
    if diagnose:
        log(str(mt.diagnose.check(model, loss_fn, x, y, optimizer=opt)) + "\n")

    every = max(1, epochs // 10)
    rate = lr or DEFAULT_LR[optimizer]
    diverged = (f"the learning rate ({rate:g}) is probably too large: try a smaller one "
                f"(--lr {rate / 10:g})")
    doctor = mt.diagnose.watch(model, opt)

    def train_step() -> mt.Tensor:
        output = model(x)
        loss_value = loss_fn(output, y)
        opt.zero_grad()
        loss_value.backward()
        opt.step()
        return loss_value

    # A compiled step replays the NumPy calls of its first calls: no check inside it may read
    # a value (a nan output shows in the loss, checked below).
    step = mt.compile(train_step) if compile else None
    with Progress(epochs, unit="epoch", desc=task, log=log, bar=bar) as progress, \
            (doctor if watch else contextlib.nullcontext()):
        for epoch in range(1, epochs + 1):
            if step is not None:
                loss_value = step()
            else:
                output = model(x)
                if not output.isfinite().all():  # (BCELoss would refuse a nan output)
                    raise FloatingPointError(f"epoch {epoch}: the output is not finite; "
                                             f"{diverged}")
                loss_value = loss_fn(output, y)
                opt.zero_grad()
                loss_value.backward()
                opt.step()
            value = loss_value.item()
            if not math.isfinite(value):  # diverged: every later step would be nan too
                raise FloatingPointError(f"epoch {epoch}: the loss is {value}; {diverged}")
            if losses is not None:
                losses.append(value)
            progress.step(loss=value)
            if epoch % every == 0 or epoch == epochs:
                progress.write(f"epoch {epoch:>6}/{epochs}  loss {value:.6f}")
    if watch:
        log("\n" + str(doctor.report()))
    return model, x, y


def report(model: nn.Module, x: mt.Tensor, y: mt.Tensor,
           log: Callable[[str], object] = print) -> float:
    """Print a table of inputs, outputs, predictions and targets; return the accuracy."""
    with mt.no_grad():
        output = model(x)
    predictions = (output > 0.5).float()
    log("\n  x1   x2 | output  prediction  target")
    for xi, oi, pi, yi in zip(x.tolist(), output.tolist(), predictions.tolist(), y.tolist(),
                              strict=True):
        mark = "" if pi == yi else "   <- wrong"
        log(f"  {xi[0]:.0f}    {xi[1]:.0f}  | {oi[0]:.4f}  {pi[0]:>10.0f}  {yi[0]:>6.0f}{mark}")
    accuracy = (predictions == y).float().mean().item()
    log(f"accuracy: {accuracy:.0%}")
    return accuracy


def draw(model: nn.Module, loss: str, x: mt.Tensor, y: mt.Tensor, path: Path,
         log: Callable[[str], object] = print) -> None:
    """Run one more forward and backward pass and draw its graph, with the gradients."""
    output = model(x)
    loss_value = LOSSES[loss]()(output, y)
    model.zero_grad()
    loss_value.backward()
    try:
        written = mt.save_graph({"loss": loss_value, "output": output}, path, params=model,
                                inputs={"x": x, "target": y})
        log(f"\ncomputation graph written to {written}")
    except mt.viz.GraphvizNotFoundError as err:  # the .dot file was still written
        log(f"\n{err}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train a small neural network on XOR with "
                                "microtensor, print its predictions and draw its graph.")
    p.add_argument("--task", choices=sorted(TASKS), default="xor", help="the truth table to "
                   "learn (default: xor)")
    p.add_argument("--hidden", type=int, default=None, help="hidden units (default: 4, or 8 "
                   "with --activation relu, whose units can die)")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default="sigmoid",
                   help="hidden-layer activation (default: sigmoid)")
    p.add_argument("--optimizer", choices=list(DEFAULT_LR), default="sgd",
                   help="sgd, momentum (SGD with momentum 0.9), adam, rmsprop or rprop "
                   "(default: sgd)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default depends on "
                   "the optimizer: " + ", ".join(f"{k} {v}" for k, v in DEFAULT_LR.items()) + ")")
    p.add_argument("--epochs", type=int, default=2000, help="training steps on the full batch "
                   "of four examples (default: 2000)")
    p.add_argument("--loss", choices=["bce", "mse"], default="bce",
                   help="binary cross-entropy or mean squared error (default: bce)")
    p.add_argument("--seed", type=int, default=0, help="random seed for the initial weights")
    p.add_argument("--init-scale", type=float, default=None, metavar="S", help="initialise "
                   "as hand-written NumPy recipes do: weights N(0, 1) times S (e.g. 0.01), "
                   "biases 0 (default: PyTorch's initialisation)")
    p.add_argument("--watch", action="store_true", help="watch the training loop with "
                   "microtensor.diagnose.watch and print its report after training")
    p.add_argument("--diagnose", action="store_true", help="before training, print what "
                   "microtensor.diagnose finds in this run (why it would not learn)")
    p.add_argument("--compile", action="store_true", help="run the training step through "
                   "microtensor.compile: recorded on its first calls, then replayed as "
                   "straight-line NumPy (the same losses)")
    p.add_argument("--graph", type=Path, default=Path("xor_graph.svg"),
                   help="where to draw the computation graph (.svg, .png, .pdf or .dot; "
                   "default: xor_graph.svg)")
    p.add_argument("--no-graph", action="store_true", help="do not draw the graph")
    p.add_argument("--plot", type=Path, nargs="?", const=Path("xor_loss.png"), default=None,
                   metavar="FILE", help="draw the loss at every epoch to FILE (default: "
                   "xor_loss.png); needs matplotlib")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> float:
    args = parse_args(argv)
    if args.plot is not None:
        require_matplotlib()  # before training, not after it
    losses: list[float] = []
    try:
        model, x, y = train(args.task, args.hidden, args.activation, args.optimizer, args.lr,
                            args.epochs, args.loss, args.seed, losses=losses,
                            init_scale=args.init_scale, diagnose=args.diagnose,
                            watch=args.watch, compile=args.compile)
    except FloatingPointError as err:
        sys.exit(str(err))
    accuracy = report(model, x, y)
    if not args.no_graph:
        draw(model, args.loss, x, y, args.graph)
    if args.plot is not None:
        plot_curves(args.plot, {f"{args.loss.upper()} loss": losses},
                    title=f"{args.task.upper()}: training loss")
        print(f"loss curve drawn to {args.plot}")
    return accuracy


if __name__ == "__main__":
    main()
