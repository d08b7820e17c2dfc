r"""Activation layers (激活函数): ReLU, LeakyReLU, Tanh, Sigmoid, as modules for a Sequential.

``inplace=True`` is accepted so that PyTorch code (``nn.LeakyReLU(0.2, inplace=True)``) runs
unchanged; minigan always computes out of place, which gives the same values.
"""
from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class ReLU(Module):
    r"""$\mathrm{ReLU}(x) = \max(0, x)$."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    r"""$\mathrm{LeakyReLU}(x) = x$ for $x \ge 0$, ``negative_slope`` $\cdot\, x$ otherwise
    (DCGAN's discriminator uses 0.2)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Tanh(Module):
    r"""$\tanh(x) = (e^x - e^{-x}) / (e^x + e^{-x})$, in (-1, 1): a generator's last layer for images in [-1, 1]."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Sigmoid(Module):
    r"""$\sigma(x) = 1 / (1 + e^{-x})$, in (0, 1)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)
