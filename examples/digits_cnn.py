"""Classify scikit-learn's 8x8 handwritten digits with a small convolutional network.

    python examples/digits_cnn.py                   # ~98-99% test accuracy in well under a minute
    python examples/digits_cnn.py --epochs 3 --checkpoint /tmp/cnn.npz --graph /tmp/cnn.svg
    python examples/digits_cnn.py --help

The PyTorch way, unchanged: a ``TensorDataset`` and ``DataLoader``, ``Conv2d``, ``BatchNorm2d``,
``MaxPool2d``, ``Dropout`` and ``Adam``; then a checkpoint saved and reloaded, and the graph of
one training step drawn with the layers as clusters.

Needs scikit-learn for the dataset (bundled with it, no download):
``pip install scikit-learn``, or ``pip install -e ".[examples]"`` from a checkout.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

import microtensor as mt
from microtensor import nn, optim
from microtensor.utils.data import DataLoader, TensorDataset

try:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
except ImportError:  # an optional extra: main() explains how to install it
    load_digits = train_test_split = None

MISSING_SKLEARN = ("this example needs scikit-learn for its dataset: pip install scikit-learn "
                   '(or, from a checkout of microtensor: pip install -e ".[examples]")')


def load_data(seed: int) -> tuple[TensorDataset, TensorDataset]:
    """Training and test sets (80% / 20%) of (image, label): images of shape (1, 8, 8) with
    pixels scaled to [0, 1], labels int64."""
    digits = load_digits()  # 1797 images of 8x8 pixels with values 0..16, labels 0..9
    x_train, x_test, y_train, y_test = train_test_split(
        digits.images / 16.0, digits.target, test_size=0.2, random_state=seed,
        stratify=digits.target)
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


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    """The fraction of the examples in ``loader`` whose highest score is at their label."""
    model.eval()
    correct = 0
    with mt.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(dim=1) == y).sum().item()
    return correct / len(loader.dataset)


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
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> float:
    args = parse_args(argv)
    if load_digits is None:
        sys.exit(MISSING_SKLEARN)
    mt.manual_seed(args.seed)
    train_set, test_set = load_data(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              generator=mt.Generator().manual_seed(args.seed))
    test_loader = DataLoader(test_set, batch_size=256)
    print(f"{len(train_set)} training and {len(test_set)} test images of 1x8x8 pixels")

    model = DigitsCNN(args.channels)
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=args.lr)
    print(model)

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        total = 0.0
        for x, y in train_loader:
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            value = loss.item()
            if not math.isfinite(value):  # diverged: every later step would be nan too
                sys.exit(f"epoch {epoch}: the loss is {value}; the learning rate "
                         f"({args.lr:g}) is probably too large: try --lr {args.lr / 10:g}")
            total += value * len(y)
        test_accuracy = evaluate(model, test_loader)
        print(f"epoch {epoch:>3}/{args.epochs}  loss {total / len(train_set):.4f}  "
              f"test accuracy {test_accuracy:.2%}  ({time.perf_counter() - start:.1f} s)")

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
    return test_accuracy


if __name__ == "__main__":
    main()
