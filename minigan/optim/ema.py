"""An exponential moving average (指数滑动平均) of a model's weights, the model one samples from.

A GAN's generator never sits still: each step moves it a little around the equilibrium. The
average of its recent weights sits closer to the middle of that orbit, and draws sharper samples
than any single iterate (Yazıcı et al., 2019, "The Unusual Effectiveness of Averaging in GAN
Training"; Karras et al., 2018, use it for every result of ProGAN and StyleGAN).
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from ..autograd import no_grad

if TYPE_CHECKING:
    from ..nn.module import Module


class EMA:
    r"""A copy of ``model`` whose parameters follow
    $\bar\theta_t = \beta_t\,\bar\theta_{t-1} + (1 - \beta_t)\,\theta_t$.

        ema = EMA(generator, decay=0.999)
        ...; opt_g.step(); ema.update(generator)
        samples = ema.module(z)

    $\beta_t = \min(\beta, \frac{1 + t}{10 + t})$ at the t-th update (TensorFlow's
    ``ExponentialMovingAverage`` with ``num_updates``): early on the average forgets fast, so
    a short run is not held back by its random initial weights, which plain $\beta$ = 0.999 would
    still weigh at 37% after 1,000 steps. Until $\beta_t$ reaches ``decay`` (after about 9,000
    updates for 0.999) the average spans roughly the last t/9 updates; then about 1/(1 - decay).
    ``num_updates`` counts the updates; a resumed run sets it (the trainer sets it to the step).

    Buffers (BatchNorm's running statistics) are copied from the live model, as PyTorch's
    ``AveragedModel`` does by default. That is an approximation: the statistics belong to the live
    weights, not to their average. (``AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))``
    also differs at its first update, which copies the weights instead of averaging them.)
    """

    def __init__(self, model: Module, decay: float = 0.999) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA: decay={decay!r}, expected 0 <= decay < 1")
        self.decay = decay
        self.num_updates = 0
        self.module = copy.deepcopy(model)
        self.module.requires_grad_(False)

    def update(self, model: Module) -> None:
        self.num_updates += 1
        beta = min(self.decay, (1 + self.num_updates) / (10 + self.num_updates))
        with no_grad():
            for average, param in zip(self.module.parameters(), model.parameters(), strict=True):
                average.data += (1 - beta) * (param.data - average.data)
            for mine, theirs in zip(self.module.buffers(), model.buffers(), strict=True):
                mine.data[...] = theirs.data
