"""Classify scikit-learn's 8x8 handwritten digits with an MLP, then save and reload a checkpoint.

    python examples/digits.py                       # 64-64-10 MLP, Adam, 20 epochs: ~97% accuracy
    python examples/digits.py --epochs 5 --hidden 32 --checkpoint /tmp/digits.npz
    python examples/digits.py --plot                # also draw the loss and accuracy curves
    python examples/digits.py --compile             # the training step compiled (mt.compile)
    python examples/digits.py --help

Needs scikit-learn for the dataset (bundled with it, no download):
``pip install scikit-learn``, or ``pip install -e ".[examples]"`` from a checkout, which also
installs tqdm for a progress bar in a terminal. ``--plot`` needs matplotlib (the ``plot`` extra).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from _progress import Progress, plot_curves, require_matplotlib  # examples/_progress.py

import microtensor as mt
from microtensor import nn, optim

MISSING_SKLEARN = ("this example needs scikit-learn for its dataset: pip install scikit-learn "
                   '(or, from a checkout of microtensor: pip install -e ".[examples]")')


def load_data(seed: int) -> tuple[mt.Tensor, mt.Tensor, mt.Tensor, mt.Tensor]:
    """The digits as (x_train, y_train, x_test, y_test): 80% / 20%, pixels standardized."""
    from sklearn.datasets import load_digits  # optional: main() says how to install it
    from sklearn.model_selection import train_test_split

    images, labels = load_digits(return_X_y=True)  # 1797 rows of 8x8 = 64 pixels 0..16; 0..9
    x_train, x_test, y_train, y_test = (np.asarray(part) for part in train_test_split(
        images, labels, test_size=0.2, random_state=seed, stratify=labels))
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-6  # statistics of training data
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    return (mt.tensor(x_train, dtype=mt.float32), mt.tensor(y_train, dtype=mt.int64),
            mt.tensor(x_test, dtype=mt.float32), mt.tensor(y_test, dtype=mt.int64))


def make_model(hidden: int) -> nn.Sequential:
    """An MLP from 64 pixels through two hidden ReLU layers to 10 class scores (logits)."""
    return nn.Sequential(
        nn.Linear(64, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, 10),
    )


def accuracy(model: nn.Module, x: mt.Tensor, y: mt.Tensor) -> float:
    """The fraction of the rows of ``x`` whose highest score is at the label in ``y``."""
    model.eval()
    with mt.no_grad():
        predictions = model(x).argmax(dim=1)
    return (predictions == y).float().mean().item()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train an MLP on scikit-learn's 8x8 digits with "
                                "microtensor, then save a checkpoint and check that it reloads.")
    p.add_argument("--epochs", type=int, default=20, help="passes over the training set "
                   "(default: 20)")
    p.add_argument("--batch-size", type=int, default=64, help="examples per step (default: 64)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate (default: 1e-3)")
    p.add_argument("--hidden", type=int, default=64, help="units in each of the two hidden "
                   "layers (default: 64)")
    p.add_argument("--seed", type=int, default=0, help="random seed for the split, the initial "
                   "weights and the batches (default: 0)")
    p.add_argument("--checkpoint", type=Path, default=Path("digits_checkpoint.npz"),
                   help="where to save the trained model and optimizer "
                   "(default: digits_checkpoint.npz)")
    p.add_argument("--plot", type=Path, nargs="?", const=Path("digits_curves.png"),
                   default=None, metavar="FILE", help="draw the training loss and the test "
                   "accuracy of every epoch to FILE (default: digits_curves.png); needs "
                   "matplotlib")
    p.add_argument("--compile", action="store_true", help="run the training step through "
                   "microtensor.compile: recorded on its first calls, then replayed as "
                   "straight-line NumPy (the same losses and accuracy)")
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error("--epochs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> float:
    args = parse_args(argv)
    if args.plot is not None:
        require_matplotlib()  # before training, not after it
    mt.manual_seed(args.seed)
    try:
        x_train, y_train, x_test, y_test = load_data(args.seed)
    except ImportError:  # scikit-learn is an optional extra
        sys.exit(MISSING_SKLEARN)
    print(f"{len(x_train)} training and {len(x_test)} test images of 8x8 pixels")

    model = make_model(args.hidden)
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=args.lr)

    def train_step(x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    # --compile: mt.compile records the step on its first two calls and then replays it as
    # straight-line NumPy, with the same numbers (docs/compile.md). The last, smaller batch of
    # an epoch records once more, for its shape. What reads values (.item()) stays outside.
    step = mt.compile(train_step) if args.compile else train_step

    losses: list[float] = []  # the training loss of each epoch, for --plot
    accuracies: list[float] = []  # and the test accuracy
    batches = math.ceil(len(x_train) / args.batch_size)
    start = time.perf_counter()
    with Progress(args.epochs * batches, unit="batch", desc="digits") as progress:
        for epoch in range(1, args.epochs + 1):
            model.train()
            order = mt.randperm(len(x_train))  # a new shuffle every epoch
            total = 0.0
            for i in range(0, len(x_train), args.batch_size):
                batch = order[i:i + args.batch_size]
                loss = step(x_train[batch], y_train[batch])
                value = loss.item()
                if not math.isfinite(value):  # diverged: every later step would be nan too
                    sys.exit(f"epoch {epoch}: the loss is {value}; the learning rate "
                             f"({args.lr:g}) is probably too large: try --lr {args.lr / 10:g}")
                total += value * len(batch)
                progress.step(epoch=epoch, loss=value)
            losses.append(total / len(x_train))
            accuracies.append(accuracy(model, x_test, y_test))
            progress.write(f"epoch {epoch:>3}/{args.epochs}  loss {losses[-1]:.4f}  test "
                           f"accuracy {accuracies[-1]:.2%}  ({time.perf_counter() - start:.1f} s)")
    test_accuracy = accuracies[-1]

    # Save everything needed to rebuild the model and resume training.
    mt.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
             "hidden": args.hidden, "epoch": args.epochs}, args.checkpoint)
    checkpoint = mt.load(args.checkpoint)
    reloaded = make_model(checkpoint["hidden"])
    reloaded.load_state_dict(checkpoint["model"])
    optim.Adam(reloaded.parameters(), lr=args.lr).load_state_dict(checkpoint["optimizer"])
    reloaded_accuracy = accuracy(reloaded, x_test, y_test)
    print(f"checkpoint saved to {args.checkpoint}; the reloaded model's test accuracy: "
          f"{reloaded_accuracy:.2%}")
    assert reloaded_accuracy == test_accuracy, "the reloaded model should predict the same"
    if args.plot is not None:
        plot_curves(args.plot, {"training loss": losses, "test accuracy": accuracies},
                    title="digits: MLP")
        print(f"loss and accuracy curves drawn to {args.plot}")
    return test_accuracy


if __name__ == "__main__":
    main()
