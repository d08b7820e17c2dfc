r"""Parameter initialisers (权重初始化), with the names of ``torch.nn.init``: each fills a tensor in place.

They write into ``tensor.data`` directly, so no graph is recorded. Numbers are drawn on the CPU
from minigan's seeded generator (or the NumPy ``generator`` given) and then moved, so a seed
gives the same weights on every device.

Why the scale matters: a layer with ``fan_in`` inputs of variance 1 and weights of variance
$\sigma^2$ gives outputs of variance $\text{fan\_in}\,\sigma^2$; choosing
$\sigma = \text{gain}/\sqrt{\text{fan}}$ keeps activations (or gradients, with ``fan_out``)
from growing or shrinking layer after layer (Glorot & Bengio 2010; He et al. 2015).
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from .. import backend
from .. import random as _random
from ..tensor import Tensor


def _fill(tensor: Tensor, values: ArrayLike) -> Tensor:
    """Write ``values`` (a NumPy array or a number) into ``tensor``, on its device, in its dtype."""
    tensor.data[...] = backend.to_device(np.asarray(values, dtype=tensor.dtype), tensor.device)
    return tensor


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return _random.generator() if generator is None else generator


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    r"""Fill with samples of $\mathcal{U}(a, b)$."""
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: np.random.Generator | None = None) -> Tensor:
    r"""Fill with samples of $\mathcal{N}(\text{mean}, \text{std}^2)$."""
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 0.0)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The gain that keeps the variance of activations steady through ``nonlinearity``.

    linear, conv, sigmoid: 1; tanh: 5/3; relu: $\sqrt{2}$; leaky_relu: $\sqrt{2 / (1 + a^2)}$ with
    $a$ = ``param`` (default 0.01); selu: 3/4.
    """
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in linear or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: dim 1 and dim 0 times the receptive field (the dims after 1).

    Linear (out, in): (in, out). Conv2d (C_out, C_in, kH, kW): (C_in kH kW, C_out kH kW).
    ConvTranspose2d stores (C_in, C_out, kH, kW) and PyTorch still reads dims 1 and 0, so its
    "fan_in" is C_out kH kW; minigan follows, to give the same statistics.
    """
    if len(tensor.shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {tuple(tensor.shape)})")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    r"""Glorot: $\mathcal{U}(-a, a)$ with $a = \text{gain}\sqrt{6 / (\text{fan\_in} + \text{fan\_out})}$."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))  # U(-a, a) has std a / sqrt(3)
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    r"""Glorot: $\mathcal{N}(0, \sigma^2)$ with $\sigma = \text{gain}\sqrt{2 / (\text{fan\_in} + \text{fan\_out})}$."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: np.random.Generator | None = None) -> Tensor:
    r"""He: $\mathcal{U}(-b, b)$ with $b = \text{gain}\sqrt{3 / \text{fan}}$, gain = calculate_gain(nonlinearity, a)."""
    if tensor.numel() == 0:  # nothing to fill, and no fan to divide by
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: np.random.Generator | None = None) -> Tensor:
    r"""He: $\mathcal{N}(0, \sigma^2)$ with $\sigma = \text{gain} / \sqrt{\text{fan}}$,
    gain = calculate_gain(nonlinearity, a)."""
    if tensor.numel() == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)

