"""Progress and plots for the example scripts (a helper they import, not an example itself).

While a script trains, ``Progress`` shows a tqdm progress bar in a terminal, under the usual
progress lines; when the output goes to a file or a pipe, or tqdm is not installed, it prints the
progress lines alone. After training, ``plot_curves`` draws the loss (and other curves) to a PNG
with matplotlib, for the scripts' ``--plot`` option.

tqdm is in the ``examples`` extra and matplotlib in the ``plot`` extra; both are optional.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:  # only for the annotations: both packages are optional at run time
    from matplotlib.figure import Figure
    from tqdm import tqdm

MISSING_MATPLOTLIB = ('--plot needs matplotlib: pip install "microtensor[plot]" (or, from a '
                      'checkout of microtensor: pip install -e ".[plot]")')


def in_terminal() -> bool:
    """Whether stdout and stderr are both terminals.

    The bar is drawn on stderr and the lines go to stdout: when either is a file or a pipe,
    a bar would mix its redraws with the lines there, so the scripts print the lines alone.
    """
    return sys.stdout.isatty() and sys.stderr.isatty()


def _tqdm_bar(total: int, unit: str, desc: str | None) -> tqdm[NoReturn] | None:
    """A tqdm bar of ``total`` steps, or None if tqdm is not installed."""
    try:
        from tqdm import tqdm
    except ImportError:  # optional: the progress lines alone
        return None
    return tqdm(total=total, unit=unit, desc=desc, dynamic_ncols=True)


class Progress:
    """The progress of a run of ``total`` steps: a tqdm bar in a terminal, lines otherwise.

    ``step()`` after each step moves the bar on (its keyword arguments, such as ``loss=0.25``,
    are shown beside the bar); ``write(line)`` prints a progress line through ``log``, above
    the bar when there is one. Use it in a ``with`` block, which closes the bar.

    Args:
        total: the number of steps of the run.
        unit: what a step is called on the bar ("epoch", "batch", ...).
        desc: a label in front of the bar.
        log: prints a progress line (``print``; a function that prints nothing for quiet runs).
        bar: True for a bar (when tqdm is installed), False for lines only; by default, a bar
            when stdout and stderr are terminals.
    """

    def __init__(self, total: int, unit: str = "step", desc: str | None = None,
                 log: Callable[[str], object] = print, bar: bool | None = None) -> None:
        self.log = log
        if bar is None:
            bar = in_terminal()
        self.bar = _tqdm_bar(total, unit, desc) if bar else None

    def step(self, **shown: object) -> None:
        """One more step done; ``shown`` values are displayed beside the bar."""
        if self.bar is not None:
            if shown:
                self.bar.set_postfix(shown, refresh=False)
            self.bar.update()

    def write(self, line: str) -> None:
        """Print a progress line (the bar is cleared first and redrawn under it)."""
        if self.bar is None:
            self.log(line)
        else:
            with self.bar.external_write_mode():
                self.log(line)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def require_matplotlib() -> None:
    """Exit with the command that installs matplotlib if it is missing: ``--plot`` checks
    before training rather than fail after it."""
    try:
        import matplotlib  # noqa: F401 - only whether it imports
    except ImportError:
        sys.exit(MISSING_MATPLOTLIB)


def plot_curves(path: str | Path, curves: dict[str, Sequence[float]], xlabel: str = "epoch",
                title: str | None = None) -> Figure:
    """Draw each curve in its own panel, side by side, against 1, 2, 3, ...; save to ``path``.

    The format follows the file name's suffix (.png, .svg, .pdf). The figure is drawn without
    pyplot (matplotlib's Agg renderer writes the PNG), so it needs no display and leaves
    matplotlib's settings alone. Returns the figure.
    """
    from matplotlib.figure import Figure  # optional: require_matplotlib() says how to install
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(4.5 * len(curves), 3.5), layout="constrained")
    axes = fig.subplots(1, len(curves), squeeze=False)[0]
    for ax, (name, values) in zip(axes, curves.items(), strict=True):
        ax.plot(range(1, len(values) + 1), values, marker="o" if len(values) <= 30 else None)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.set_xlabel(xlabel)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=100)
    return fig
