"""An exponential moving average (指数滑动平均) of a model's weights, the model one samples from.

A GAN's generator never sits still: each step moves it a little around the equilibrium. The
average of its recent weights sits closer to the middle of that orbit, and draws sharper samples
than any single iterate (Yazıcı et al., 2019, "The Unusual Effectiveness of Averaging in GAN
Training"; Karras et al., 2018, use it for every result of ProGAN and StyleGAN).
"""
import copy

from ..autograd import no_grad


class EMA:
    r"""A copy of ``model`` whose parameters follow $\bar\theta_t = \beta\,\bar\theta_{t-1} + (1 - \beta)\,\theta_t$.

        ema = EMA(generator, decay=0.999)
        ...; opt_g.step(); ema.update(generator)
        samples = ema.module(z)

    Buffers (BatchNorm's running statistics) are copied, not averaged: they describe the batch
    statistics of the live model. (PyTorch's ``AveragedModel`` with ``get_ema_multi_avg_fn(decay)``
    averages the parameters the same way, but leaves its buffers as they were at the copy unless
    told ``use_buffers=True``.) ``decay`` 0.999 averages over about the last 1,000 steps.
    """

    def __init__(self, model, decay=0.999):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA: decay={decay!r}, expected 0 <= decay < 1")
        self.decay = decay
        self.module = copy.deepcopy(model)
        self.module.requires_grad_(False)

    def update(self, model):
        with no_grad():
            for average, param in zip(self.module.parameters(), model.parameters()):
                average.data += (1 - self.decay) * (param.data - average.data)
            for mine, theirs in zip(self.module.buffers(), model.buffers()):
                mine.data[...] = theirs.data
