"""Learning-rate schedules with PyTorch's names: call ``scheduler.step()`` once per training step,
after ``optimizer.step()``, and the optimizer's ``lr`` follows the schedule.

Why decay at all? A GAN's two players chase each other; with a constant step size they keep
circling the equilibrium at a distance that shrinks with the step size. Taking the step to zero at
the end lets them settle. On the 2-D mixtures of `benchmarks/mode_collapse.py`, decay together
with a moving average of G (`minigan.optim.EMA`) and a longer run brings nearly every sample to
within 3 standard deviations of a mode (the numbers: docs/benchmarks.md).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .optimizer import Optimizer


class LinearLR:
    r"""Scale each group's learning rate by a factor that moves linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` steps, then stays there (as ``torch.optim.lr_scheduler.LinearLR``):

    $$\eta_t = \eta_0 \Big(s + (e - s)\,\frac{\min(t, T)}{T}\Big)$$

    ``LinearLR(opt, 1.0, 0.0, total_iters=steps)``: the t-th step (from 0) uses $\eta_0 (1 - t/T)$,
    so the last one uses $\eta_0 / T$, and the rate is 0 after it.

    Where it differs from PyTorch's: the rate comes from the closed form above, not from
    PyTorch's step-by-step recursion (the same numbers, to rounding); ``get_last_lr`` reads the
    optimizer; ``state_dict`` holds ``last_epoch`` and ``base_lrs`` alone, and ``load_state_dict``
    also sets the optimizer's rates to the schedule's, so that a resumed run continues on it.
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: start_factor={start_factor!r} must be in (0, 1] and "
                             f"end_factor={end_factor!r} in [0, 1]")
        if total_iters < 1:
            raise ValueError(f"LinearLR: total_iters={total_iters!r}, expected at least 1")
        self.optimizer = optimizer
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def factor(self, t: int) -> float:
        return self.start_factor + (self.end_factor - self.start_factor) * min(t, self.total_iters) / self.total_iters

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self) -> None:
        self.last_epoch += 1
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base_lr * self.factor(self.last_epoch)

    def state_dict(self) -> dict[str, Any]:
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue a saved schedule: its step count and base rates, and the optimizer's ``lr`` to match."""
        self.last_epoch = int(state_dict["last_epoch"]) - 1
        self.base_lrs = [float(lr) for lr in state_dict["base_lrs"]]
        self.step()
