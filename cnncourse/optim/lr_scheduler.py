"""Learning-rate schedules (``torch.optim.lr_scheduler``): ``StepLR``, ``CosineAnnealingLR``,
``OneCycleLR``.

A schedule sets ``group["lr"]`` of every parameter group of its optimizer. It is made after the
optimizer, and stepped after it -- once per epoch for ``StepLR`` and ``CosineAnnealingLR`` as
usually used, once per batch for ``OneCycleLR``::

    scheduler = StepLR(optimizer, step_size=5, gamma=0.5)
    for epoch in range(epochs):
        for x, y in batches:
            ...; optimizer.step()
        scheduler.step()

Each schedule is written as the closed formula of its learning rate at step ``last_epoch``;
they give torch's sequences of learning rates (and, for ``OneCycleLR``, of momenta).
"""
from __future__ import annotations

import math

__all__ = ["LRScheduler", "StepLR", "CosineAnnealingLR", "OneCycleLR"]


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and sets each group's ``"lr"`` to
    :meth:`get_lr`; :meth:`get_last_lr` returns the learning rates last set.

    Args:
        optimizer: a :mod:`cnncourse.optim` optimizer.
        last_epoch: ``-1`` (default) starts the schedule; a checkpoint's value resumes it.
    """

    def __init__(self, optimizer, last_epoch=-1):
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"{type(self).__name__} schedules an optimizer (with param_groups); "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param_groups[{i}] has no 'initial_lr': to resume a schedule "
                               f"with last_epoch={last_epoch}, load the optimizer's state first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()                                     # sets the learning rate of step 0

    def get_lr(self) -> list:
        """The learning rate of every group at step ``last_epoch``."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one step and set every group's learning rate."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list:
        """The learning rates set by the last :meth:`step` (one per group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Everything but the optimizer, for checkpoints."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps.

    Formula::

        lr = base_lr * gamma ** (last_epoch // step_size)

    Example:
        >>> from cnncourse.nn import Parameter
        >>> from cnncourse.optim import SGD
        >>> import numpy as np
        >>> sched = StepLR(SGD([Parameter(np.zeros(1))], lr=1.0), step_size=2, gamma=0.5)
        >>> lrs = []
        >>> for _ in range(5):
        ...     lrs.append(sched.get_last_lr()[0]); sched.step()
        >>> lrs
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not isinstance(step_size, int) or step_size <= 0:
            raise ValueError(f"step_size must be a positive int; got step_size={step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Lower the learning rate along half a cosine, from ``base_lr`` to ``eta_min`` in
    ``T_max`` steps.

    Formula::

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2

    Example:
        >>> from cnncourse.nn import Parameter
        >>> from cnncourse.optim import SGD
        >>> import numpy as np
        >>> sched = CosineAnnealingLR(SGD([Parameter(np.zeros(1))], lr=1.0), T_max=4)
        >>> lrs = []
        >>> for _ in range(5):
        ...     lrs.append(round(sched.get_last_lr()[0], 4)); sched.step()
        >>> lrs
        [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if not isinstance(T_max, int) or T_max <= 0:
            raise ValueError(f"T_max must be a positive int; got T_max={T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        cos = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cos for base in self.base_lrs]


class OneCycleLR(LRScheduler):
    """The one-cycle policy (Smith): warm the learning rate up to ``max_lr``, then anneal it
    far below where it started, while the momentum does the opposite. Step it every batch.

    Phases (``T = total_steps``; cosine interpolation unless ``anneal_strategy="linear"``)::

        steps 0 .. pct_start*T - 1:  lr  max_lr/div_factor -> max_lr,    momentum max -> base
        then .. T - 1:               lr  max_lr -> max_lr/(div_factor*final_div_factor),
                                     momentum base -> max
        (three_phase: up, back down to max_lr/div_factor, then down to the minimum)

    The momentum is SGD's ``momentum`` or Adam's ``beta1`` (``cycle_momentum=True``).

    Args:
        optimizer: the optimizer.
        max_lr: the peak learning rate (one per group, or one for all).
        total_steps: number of steps; or give ``epochs`` and ``steps_per_epoch``.
        pct_start, anneal_strategy, cycle_momentum, base_momentum, max_momentum, div_factor,
        final_div_factor, three_phase: as in torch (defaults 0.3, "cos", True, 0.85, 0.95,
            25.0, 1e4, False).

    Example:
        >>> from cnncourse.nn import Parameter
        >>> from cnncourse.optim import SGD
        >>> import numpy as np
        >>> opt = SGD([Parameter(np.zeros(1))], lr=0.1, momentum=0.9)
        >>> sched = OneCycleLR(opt, max_lr=1.0, total_steps=10)
        >>> lrs = []
        >>> for _ in range(10):
        ...     lrs.append(round(sched.get_last_lr()[0], 3)); opt.step(); sched.step()
        >>> lrs
        [0.04, 0.52, 1.0, 0.95, 0.812, 0.611, 0.389, 0.188, 0.05, 0.0]
        >>> sched.step()
        Traceback (most recent call last):
        ...
        ValueError: Tried to step 11 times. The specified number of total steps is 10
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        if total_steps is None:
            if not (isinstance(epochs, int) and isinstance(steps_per_epoch, int)
                    and epochs > 0 and steps_per_epoch > 0):
                raise ValueError("OneCycleLR needs total_steps, or epochs and steps_per_epoch "
                                 f"(positive ints); got total_steps=None, epochs={epochs!r}, "
                                 f"steps_per_epoch={steps_per_epoch!r}")
            total_steps = epochs * steps_per_epoch
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"total_steps must be a positive int; got total_steps={total_steps!r}")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"pct_start must be in [0, 1]; got pct_start={pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear'; got {anneal_strategy!r}")
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        up = float(pct_start * total_steps) - 1
        if three_phase:
            self._phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr",
                             "base_momentum", "max_momentum"),
                            (total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                             "max_momentum")]
        else:
            self._phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (total_steps - 1, "max_lr", "min_lr", "base_momentum",
                             "max_momentum")]
        groups = optimizer.param_groups
        max_lrs = self._per_group("max_lr", max_lr, groups)
        if last_epoch == -1:
            for group, peak in zip(groups, max_lrs):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("cycle_momentum=True needs an optimizer with momentum (SGD) or "
                                 "betas (Adam); pass cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                for group, top, base in zip(groups,
                                            self._per_group("max_momentum", max_momentum, groups),
                                            self._per_group("base_momentum", base_momentum,
                                                            groups)):
                    self._set_momentum(group, top)
                    group["max_momentum"], group["base_momentum"] = top, base
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _per_group(name, value, groups):
        values = list(value) if isinstance(value, (list, tuple)) else [value] * len(groups)
        if len(values) != len(groups):
            raise ValueError(f"{name} must be one number or one per group ({len(groups)}); "
                             f"got {len(values)}")
        return values

    def _set_momentum(self, group, value):
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps "
                             f"is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr0, lr1, m0, m1) in enumerate(self._phases):
                if step <= end or i == len(self._phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(group[lr0], group[lr1], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[m0], group[m1], pct))
                    break
                start = end
        return lrs
