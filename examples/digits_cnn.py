"""Classify scikit-learn's 8x8 handwritten digits with a small convolutional network.

    python examples/digits_cnn.py                   # ~98-99% test accuracy in well under a minute
    python examples/digits_cnn.py --epochs 3 --checkpoint /tmp/cnn.npz --graph /tmp/cnn.svg
    python examples/digits_cnn.py --plot            # also draw the loss and accuracy curves
    python examples/digits_cnn.py --compile         # the training step compiled (mt.compile)
    python examples/digits_cnn.py --help

The PyTorch way, unchanged: a ``TensorDataset`` and ``DataLoader``, ``Conv2d``, ``BatchNorm2d``,
``MaxPool2d``, ``Dropout`` and ``Adam``; then a checkpoint saved and reloaded, and the graph of
one training step drawn with the layers as clusters.

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
from microtensor.utils.data import DataLoader, TensorDataset

MISSING_SKLEARN = ("this example needs scikit-learn for its dataset: pip install scikit-learn "
                   '(or, from a checkout of microtensor: pip install -e ".[examples]")')


def load_data(seed: int) -> tuple[TensorDataset, TensorDataset]:
    """Training and test sets (80% / 20%) of (image, label): images of shape (1, 8, 8) with
    pixels scaled to [0, 1], labels int64."""
    from sklearn.datasets import load_digits  # optional: main() says how to install it
    from sklearn.model_selection import train_test_split

    pixels, labels = load_digits(return_X_y=True)  # 1797 rows of 8x8 = 64 pixels 0..16; 0..9
    images = pixels.reshape(-1, 8, 8) / 16.0
    x_train, x_test, y_train, y_test = (np.asarray(part) for part in train_test_split(
        images, labels, test_size=0.2, random_state=seed, stratify=labels))
    return _dataset(x_train, y_train), _dataset(x_test, y_test)


def _dataset(images: np.ndarray, labels: np.ndarray) -> TensorDataset:
    return TensorDataset(mt.tensor(images, dtype=mt.float32).unsqueeze(1),  # a channel dim
                         mt.tensor(labels, dtype=mt.int64))


class DigitsCNN(nn.Module):
    """Two convolution blocks (conv, batch norm, ReLU, 2x2 max pool) and a classifier."""

    def __init__(self, channels: int = 16, dropout: float = 0.25) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, kernel_size=3, padding=1),             # 16 x 8 x 8
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.MaxPool2d(2),                                              # 16 x 4 x 4
            nn.Conv2d(channels, 2 * channels, kernel_size=3, padding=1),  # 32 x 4 x 4
            nn.BatchNorm2d(2 * channels),
            nn.ReLU(),
            nn.MaxPool2d(2),                                              # 32 x 2 x 2
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(2 * channels * 2 * 2, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        return self.classifier(self.features(x))


def evaluate(model: nn.Module, loader: DataLoader[tuple[mt.Tensor, ...]]) -> float:
    """The fraction of the examples in ``loader`` whose highest score is at their label."""
    model.eval()
    correct = seen = 0
    with mt.no_grad():
        for x, y in loader:
            correct += int((model(x).argmax(dim=1) == y).sum().item())
            seen += len(y)
    return correct / seen


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train a small CNN on scikit-learn's 8x8 digits "
                                "with microtensor, save and reload a checkpoint, draw the graph.")
    p.add_argument("--epochs", type=int, default=15, help="passes over the training set "
                   "(default: 15)")
    p.add_argument("--batch-size", type=int, default=32, help="examples per step (default: 32)")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam's learning rate (default: 3e-3)")
    p.add_argument("--channels", type=int, default=16, help="channels of the first convolution "
                   "(the second has twice as many; default: 16)")
    p.add_argument("--seed", type=int, default=0, help="random seed for the split, the initial "
                   "weights and the batches (default: 0)")
    p.add_argument("--checkpoint", type=Path, default=Path("digits_cnn_checkpoint.npz"),
                   help="where to save the trained model and optimizer "
                   "(default: digits_cnn_checkpoint.npz)")
    p.add_argument("--graph", type=Path, default=None, help="draw the graph of one training "
                   "step to this file (.svg, .png, .pdf or .dot)")
    p.add_argument("--plot", type=Path, nargs="?", const=Path("digits_cnn_curves.png"),
                   default=None, metavar="FILE", help="draw the training loss and the test "
                   "accuracy of every epoch to FILE (default: digits_cnn_curves.png); needs "
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
        train_set, test_set = load_data(args.seed)
    except ImportError:  # scikit-learn is an optional extra
        sys.exit(MISSING_SKLEARN)
    # Each item of the datasets, and so each batch, is a tuple (images, labels).
    train_loader: DataLoader[tuple[mt.Tensor, ...]] = DataLoader(
        train_set, batch_size=args.batch_size, shuffle=True,
        generator=mt.Generator().manual_seed(args.seed))
    test_loader: DataLoader[tuple[mt.Tensor, ...]] = DataLoader(test_set, batch_size=256)
    print(f"{len(train_set)} training and {len(test_set)} test images of 1x8x8 pixels")

    model = DigitsCNN(args.channels)
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=args.lr)
    print(model)

    def train_step(x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    # --compile: mt.compile records the step on its first two calls and then replays it as
    # straight-line NumPy, with the same numbers (docs/compile.md): dropout draws fresh masks,
    # batch norm updates its running statistics. The last, smaller batch of an epoch records
    # once more, for its shape. What reads values (.item()) stays outside.
    step = mt.compile(train_step) if args.compile else train_step

    losses: list[float] = []  # the training loss of each epoch, for --plot
    accuracies: list[float] = []  # and the test accuracy
    start = time.perf_counter()
    with Progress(args.epochs * len(train_loader), unit="batch", desc="digits CNN") as progress:
        for epoch in range(1, args.epochs + 1):
            model.train()
            total = 0.0
            for x, y in train_loader:
                loss = step(x, y)
                value = loss.item()
                if not math.isfinite(value):  # diverged: every later step would be nan too
                    sys.exit(f"epoch {epoch}: the loss is {value}; the learning rate "
                             f"({args.lr:g}) is probably too large: try --lr {args.lr / 10:g}")
                total += value * len(y)
                progress.step(epoch=epoch, loss=value)
            losses.append(total / len(train_set))
            accuracies.append(evaluate(model, test_loader))
            progress.write(f"epoch {epoch:>3}/{args.epochs}  loss {losses[-1]:.4f}  test "
                           f"accuracy {accuracies[-1]:.2%}  ({time.perf_counter() - start:.1f} s)")
    test_accuracy = accuracies[-1]

    mt.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
             "channels": args.channels, "epoch": args.epochs}, args.checkpoint)
    checkpoint = mt.load(args.checkpoint)
    reloaded = DigitsCNN(checkpoint["channels"])
    reloaded.load_state_dict(checkpoint["model"])
    optim.Adam(reloaded.parameters(), lr=args.lr).load_state_dict(checkpoint["optimizer"])
    reloaded_accuracy = evaluate(reloaded, test_loader)
    print(f"checkpoint saved to {args.checkpoint}; the reloaded model's test accuracy: "
          f"{reloaded_accuracy:.2%}")
    assert reloaded_accuracy == test_accuracy, "the reloaded model should predict the same"

    if args.graph is not None:
        model.train()
        x, y = next(iter(train_loader))
        loss = loss_fn(model(x[:4]), y[:4])
        loss.backward()
        try:
            written = mt.save_graph({"loss": loss}, args.graph, params=model, show_data=False)
            print(f"the graph of one training step written to {written}")
        except mt.viz.GraphvizNotFoundError as err:  # the .dot file was still written
            print(err)
    if args.plot is not None:
        plot_curves(args.plot, {"training loss": losses, "test accuracy": accuracies},
                    title="digits: CNN")
        print(f"loss and accuracy curves drawn to {args.plot}")
    return test_accuracy


if __name__ == "__main__":
    main()
