r"""Normalisation layers (归一化层): BatchNorm1d, BatchNorm2d and LayerNorm.

All compute $y = \gamma \, (x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta$ and differ in which
values share a $\mu$ and $\sigma^2$: BatchNorm one per channel over the batch (and space),
LayerNorm one per sample over its last dims.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from numpy.typing import DTypeLike

from ..creation import ones, tensor, zeros
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter


class _BatchNorm(Module):
    r"""Batch normalisation (批归一化) over the channel dim 1 of an (N, C, *) input.

    Training: $\mu$, $\sigma^2$ are the batch's, and with ``track_running_stats`` the buffers
    ``running_mean``/``running_var`` follow them,
    $\hat x \leftarrow (1 - \text{momentum})\,\hat x + \text{momentum}\,x_{\text{batch}}$
    (unbiased variance), while ``num_batches_tracked`` counts the updates. With ``momentum=None``
    the running statistics are the plain average over all batches so far (momentum = 1/count).
    Evaluation: the running statistics are used instead (the batch's, without tracking).
    ``affine`` adds the learnable $\gamma$ (``weight``, starting at 1) and $\beta$ (``bias``, 0;
    none with ``bias=False``).
    """

    _expected = "(N, {C}, *)"  # the input layout, for error messages
    _ndims: tuple[int, ...] = ()  # the allowed input dims
    # buffers, None without track_running_stats
    running_mean: Tensor | None
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: str | None = None, dtype: DTypeLike | None = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(ones(num_features, device=device, dtype=dtype)) if affine else None
        self.bias = Parameter(zeros(num_features, device=device, dtype=dtype)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=np.int64, device=device))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self) -> None:
        if self.track_running_stats:  # then the buffers exist (the casts tell mypy so)
            init.zeros_(cast(Tensor, self.running_mean))
            init.ones_(cast(Tensor, self.running_var))
            init.zeros_(cast(Tensor, self.num_batches_tracked))

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        dtype = None if self.weight is None else self.weight.dtype
        self._check_input(input, input.ndim in self._ndims and input.shape[1] == self.num_features,
                          self._expected.format(C=self.num_features), dtype)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.data += 1  # in place: the buffer is shared with state_dict()
            if self.momentum is None:
                momentum = 1.0 / int(self.num_batches_tracked.item())
        # Batch statistics in training, and in evaluation too when there are no running ones.
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                            self.weight, self.bias, use_batch_stats, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs (after a Linear layer, say)."""

    _expected = "(N, {C}) or (N, {C}, L)"
    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs: one mean and variance per channel, over N, H and W."""

    _expected = "(N, {C}, H, W)"
    _ndims = (4,)


class LayerNorm(Module):
    r"""Layer normalisation (层归一化): each sample over its last dims, those of ``normalized_shape``.

    $y = \gamma \odot (x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta$, same in training and
    evaluation. With ``elementwise_affine``, $\gamma$ (``weight``, ones) and $\beta$ (``bias``,
    zeros, unless ``bias=False``) have shape ``normalized_shape``.
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: str | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        self.weight = Parameter(ones(shape, device=device, dtype=dtype)) if elementwise_affine else None
        self.bias = Parameter(zeros(shape, device=device, dtype=dtype)) if elementwise_affine and bias else None

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        k = len(self.normalized_shape)
        shape_ok = input.ndim >= k and tuple(input.shape[input.ndim - k:]) == self.normalized_shape
        expected = "(*, " + ", ".join(map(str, self.normalized_shape)) + ")"
        self._check_input(input, shape_ok, expected, None if self.weight is None else self.weight.dtype)
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
