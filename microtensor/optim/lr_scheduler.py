"""Learning-rate schedules: each ``step()`` sets ``group["lr"]`` of the optimizer's groups.

Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``. Creating a scheduler
records each group's starting lr as ``group["initial_lr"]`` (the schedule's ``base_lrs``).
"""

from __future__ import annotations

import copy
import math
import types
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from ..autograd.function import recording
from .optimizer import Optimizer


class LRScheduler:
    """Base class of the schedules: subclasses compute the next lrs in ``get_lr()``.

    Args:
        optimizer: the optimizer whose learning rates are set.
        last_epoch: index of the last epoch; -1 starts a new schedule, a value >= 0 resumes one
            (the groups must then have ``"initial_lr"``).

    Attributes:
        base_lrs: the starting lr of each group.
        last_epoch: the number of ``step()`` calls since the start (0 after construction).
    """

    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   f"when resuming a scheduler with last_epoch={last_epoch} "
                                   f"(load the optimizer's state dict first, or use "
                                   f"last_epoch=-1 for a new schedule)")
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rate of each group for epoch ``last_epoch`` (called by ``step``)."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def _closed_form_lr(self) -> list[float] | None:
        """The lrs at ``last_epoch`` computed from ``base_lrs`` alone, if the schedule has one."""
        return None

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group set by the last ``step()``."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance the schedule by one epoch and set each group's lr.

        Args:
            epoch: deprecated (as in PyTorch): jump to this epoch, using the closed form where
                the schedule has one.
        """
        if recording.recorder is not None:  # (a replay would not call it: microtensor.compile)
            recording.recorder.refuse("an LR scheduler's step() (a replay would skip it: call "
                                      "it outside the compiled step)")
        opt = self.optimizer
        if (self._step_count == 1 and not getattr(opt, "_opt_called", True)
                and type(opt).step is Optimizer.step):
            warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
                          "Call `optimizer.step()` first, or the first value of the learning "
                          "rate schedule is skipped.", UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            warnings.warn("The epoch parameter in `scheduler.step()` is deprecated; call "
                          "`scheduler.step()` without it.", UserWarning, stacklevel=2)
            self.last_epoch = epoch
            values = self._closed_form_lr() or self.get_lr()
        for group, lr in zip(opt.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in opt.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's attributes except the optimizer (a copy)."""
        return {k: copy.deepcopy(v) for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes saved by ``state_dict()``."""
        self.__dict__.update(copy.deepcopy(state_dict))

    def _group_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch).

    Args:
        optimizer: the optimizer whose learning rates are set.
        lr_lambda: a function of the epoch (an int) giving a factor, or a list of such
            functions, one per parameter group.
        last_epoch: index of the last epoch (-1 for a new schedule).
    """

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"Expected {n} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch)
                for fn, base in zip(self.lr_lambdas, self.base_lrs, strict=True)]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's attributes; a plain function is saved as ``None``, a callable object
        as a copy of its ``__dict__`` (as PyTorch does)."""
        state = {k: copy.deepcopy(v) for k, v in vars(self).items()
                 if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType)
                               else copy.deepcopy(fn.__dict__) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = copy.deepcopy(state_dict)
        saved_fns = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, saved_fns, strict=True):
            if saved is not None:
                fn.__dict__.update(saved)


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size): decay by gamma every step_size epochs.

    Args:
        optimizer: the optimizer whose learning rates are set.
        step_size: the number of epochs between two decays.
        gamma: the decay factor.
        last_epoch: index of the last epoch (-1 for a new schedule).
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        if not isinstance(step_size, int) or step_size <= 0:
            raise ValueError(f"step_size must be a positive integer, but got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size)
                for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma ** (number of milestones <= epoch): decay by gamma at each milestone.

    Args:
        optimizer: the optimizer whose learning rates are set.
        milestones: the epochs at which to decay (a repeated epoch decays more than once).
        gamma: the decay factor.
        last_epoch: index of the last epoch (-1 for a new schedule).
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._group_lrs()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in self._group_lrs()]

    def _closed_form_lr(self) -> list[float]:
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["milestones"] = dict(state["milestones"])  # a plain dict: epoch -> count
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.milestones = Counter({int(k): int(v) for k, v in self.milestones.items()})


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch: decay by gamma every epoch.

    Args:
        optimizer: the optimizer whose learning rates are set.
        gamma: the decay factor.
        last_epoch: index of the last epoch (-1 for a new schedule).
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2.

    As in PyTorch, ``step()`` applies this as a ratio to the current lr (so the schedule follows
    a manual change of lr), and past T_max the lr rises again along the cosine.

    Args:
        optimizer: the optimizer whose learning rates are set.
        T_max: the number of epochs from base_lr down to eta_min.
        eta_min: the minimum learning rate.
        last_epoch: index of the last epoch (-1 for a new schedule).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if T_max <= 0:
            raise ValueError(f"T_max must be positive, but got {T_max}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._group_lrs()
        if (t - 1 - t_max) % (2 * t_max) == 0:
            # NOTE: at the bottom of the cosine the ratio below would divide by zero; add the
            # first increment of the rising half instead.
            rise = (1 - math.cos(math.pi / t_max)) / 2
            return [lr + (base - eta_min) * rise
                    for base, lr in zip(self.base_lrs, self._group_lrs(), strict=True)]
        ratio = (1 + math.cos(math.pi * t / t_max)) / (1 + math.cos(math.pi * (t - 1) / t_max))
        return [ratio * (lr - eta_min) + eta_min for lr in self._group_lrs()]

    def _closed_form_lr(self) -> list[float]:
        c = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * c for base in self.base_lrs]
