r"""Normalisation layers as functions (归一化): batch_norm and layer_norm.

Both standardise and then scale and shift,
$y = \gamma \, (x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta$, with the biased variance
$\sigma^2 = \frac{1}{n}\sum (x - \mu)^2$; they differ in which elements share one $\mu$ and $\sigma^2$.

They are compositions of mean, mul, sqrt and div, so the backward pass contains the paths through
$\mu$ and $\sigma^2$, and so does the backward of the backward. That matters: the gradient penalty of
WGAN-GP differentiates a normalised critic twice, and a fused backward that treats
$1/\sqrt{\sigma^2 + \epsilon}$ as a constant would get its second derivative wrong.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ... import ops
from ...tensor import Tensor, as_tensor

__all__ = ["batch_norm", "layer_norm"]


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    r"""Batch normalisation (批归一化) of an (N, C, *) input: per channel c, over the batch and space.

    $y = \gamma_c \, (x - \mu_c) / \sqrt{\sigma_c^2 + \epsilon} + \beta_c$.

    Training: $\mu_c$ and $\sigma_c^2$ (biased) are the batch's, and the running statistics, if given,
    are updated in place:
    $\hat\mu \leftarrow (1 - m)\hat\mu + m\,\mu_c$ and
    $\hat\sigma^2 \leftarrow (1 - m)\hat\sigma^2 + m\,\frac{n}{n - 1}\sigma_c^2$
    (the unbiased variance over the n values of a channel, as PyTorch).
    Evaluation: $\mu_c$, $\sigma_c^2$ are the running statistics.
    """
    input = as_tensor(input)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C), (N, C, L) or (N, C, H, W), got {input.shape}")
    channels = input.shape[1]
    running_mean, running_var, weight, bias = (None if t is None else as_tensor(t)
                                               for t in (running_mean, running_var, weight, bias))
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ValueError(f"batch_norm: {name} should have shape ({channels},), one value per channel of "
                             f"the input of shape {input.shape}, got {t.shape}")
    dims = (0,) + tuple(range(2, input.ndim))  # every dim but the channels
    per_channel = (1, channels) + (1,) * (input.ndim - 2)  # a (C,) vector, broadcastable against input
    if training:
        count = input.numel() // channels
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input "
                             f"of shape {input.shape}")
        mean, centred, var = _moments(input, dims)
        if running_mean is not None:
            _update_running(running_mean, mean.data, momentum)
        if running_var is not None:
            _update_running(running_var, var.data * (count / (count - 1)), momentum)
        return _scale_shift(centred, var, eps,
                            None if weight is None else weight.reshape(per_channel),
                            None if bias is None else bias.reshape(per_channel))
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are needed in evaluation mode "
                         "(training=False)")
    # The statistics are constants here: (x - mu) * scale + beta folds into x * scale + shift, per
    # channel, as PyTorch's CPU kernel folds it: one pass over the input fewer when there is a beta.
    # It rounds differently where |mu| is far above the standard deviation.
    scale = _scale(running_var, eps, weight)
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(per_channel) + shift.reshape(per_channel)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    r"""Layer normalisation (层归一化): each sample over its last dims, those of ``normalized_shape``.

    $y = \gamma \odot (x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta$, with $\mu$, $\sigma^2$ (biased)
    taken over the trailing ``normalized_shape`` dims, and $\gamma$, $\beta$ of that shape.
    """
    input = as_tensor(input)
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.ndim < k or input.shape[input.ndim - k:] != normalized_shape:
        raise ValueError(f"layer_norm: normalized_shape {normalized_shape} must be the last dims of the "
                         f"input, got input of shape {input.shape}")
    weight, bias = (None if t is None else as_tensor(t) for t in (weight, bias))
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != normalized_shape:
            raise ValueError(f"layer_norm: {name} should have shape {normalized_shape}, got {t.shape}")
    _, centred, var = _moments(input, tuple(range(input.ndim - k, input.ndim)))
    return _scale_shift(centred, var, eps, weight, bias)


def _moments(x: Tensor, dims: tuple[int, ...]) -> tuple[Tensor, Tensor, Tensor]:
    r"""$\mu$, $x - \mu$ and the biased $\sigma^2$ over ``dims`` (kept as size 1)."""
    mean = ops.mean(x, dims, keepdim=True)
    centred = x - mean
    # ops.var(correction=0) would give the same, but would compute x - mean a second time.
    return mean, centred, ops.mean(centred * centred, dims, keepdim=True)


def _scale_shift(centred: Tensor, var: Tensor, eps: float, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    r"""$(x - \mu) \cdot \gamma / \sqrt{\sigma^2 + \epsilon} + \beta$, with $\gamma$, $\beta$ optional.

    $\gamma / \sqrt{\sigma^2 + \epsilon}$ is formed first: for batch_norm both are per-channel
    vectors, so the full-size tensor is multiplied once instead of twice.
    """
    y = centred * _scale(var, eps, weight)
    return y if bias is None else y + bias


def _scale(var: Tensor, eps: float, weight: Tensor | None) -> Tensor:
    r"""$\gamma / \sqrt{\sigma^2 + \epsilon}$ ($\gamma$ optional)."""
    scale = 1 / ops.sqrt(var + eps)
    return scale if weight is None else scale * weight


def _update_running(stat: Tensor, batch_value: np.ndarray, momentum: float) -> None:
    """An exponential moving average, written into ``stat``'s own array (outside the graph)."""
    stat.data[...] = (1 - momentum) * stat.data + momentum * batch_value.reshape(stat.shape)
