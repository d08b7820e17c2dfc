"""Reductions over dims: sum, mean, var, std, max, min (and amax, amin, argmax, argmin).

The backward of a sum spreads the gradient back over the summed dims (broadcasting); max and
min send it to the elements they picked.
"""
from __future__ import annotations

import builtins
from typing import NamedTuple, overload

import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import Dims, Tensor, as_tensor, constant
from .elementwise import where
from .shape import broadcast_to, normalize_dim, normalize_dims, reshape


class values_indices(NamedTuple):
    """What max and min along a dim return (PyTorch's ``torch.return_types.max``): a tuple with names."""

    values: Tensor
    indices: Tensor  # int64


def _kept_shape(shape: tuple[int, ...], dims: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced dims kept as size 1: where a reduced gradient broadcasts back."""
    return tuple(1 if d in dims else n for d, n in enumerate(shape))


class Sum(Function):
    def __init__(self, dims: tuple[int, ...], keepdim: bool) -> None:
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.sum(axis=self.dims, keepdims=self.keepdim)

    def backward(self, gy: Tensor) -> Tensor:
        x = self.inputs[0]
        return broadcast_to(reshape(gy, _kept_shape(x.shape, self.dims)), x.shape)


def sum(x: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    x = as_tensor(x)
    return Sum(normalize_dims(dim, x.ndim), keepdim)(x)


def mean(x: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    x = as_tensor(x)
    dims = normalize_dims(dim, x.ndim)
    count = int(backend.np.prod([x.shape[d] for d in dims]))
    return sum(x, dims, keepdim) / count


def var(x: Tensor, dim: Dims = None, *, correction: float = 1, keepdim: bool = False) -> Tensor:
    r"""Variance (方差) $\frac{1}{N - c}\sum_i (x_i - \bar x)^2$, with Bessel's correction c = 1 by default."""
    x = as_tensor(x)
    dims = normalize_dims(dim, x.ndim)
    count = int(backend.np.prod([x.shape[d] for d in dims]))
    centred = x - mean(x, dims, keepdim=True)
    return sum(centred * centred, dims, keepdim) / builtins.max(count - correction, 0)


class StdFromVariance(Function):
    """The square root that turns a variance into a standard deviation. Where all values are equal
    (variance 0) its derivative, and so the gradient of std, is taken as 0, as PyTorch does, not inf."""

    def forward(self, v: np.ndarray) -> np.ndarray:
        return backend.get_array_module(v).sqrt(v)

    def backward(self, gy: Tensor) -> Tensor:
        y = self.output
        positive = y.data > 0
        return gy * constant(positive, y) / (2 * where(positive, y, 1.0))  # 1/(2y) only where y > 0


def std(x: Tensor, dim: Dims = None, *, correction: float = 1, keepdim: bool = False) -> Tensor:
    r"""Standard deviation (标准差) $\sqrt{\mathrm{var}(x)}$."""
    return StdFromVariance()(var(x, dim, correction=correction, keepdim=keepdim))


class Pick(Function):
    """A reduction that picks elements (max, min): the gradient flows to the picked ones only.

    ``share`` says how much of each output's gradient each input element gets: 1 for the one
    picked by an index, 1/k for each of k tied extremes.
    """

    def __init__(self, dims: tuple[int, ...], keepdim: bool, share: np.ndarray, values: np.ndarray) -> None:
        self.dims, self.keepdim, self.share, self.values = dims, keepdim, share, values

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.values if self.keepdim else self.values.squeeze(axis=self.dims)

    def backward(self, gy: Tensor) -> Tensor:
        x = self.inputs[0]
        return broadcast_to(reshape(gy, _kept_shape(x.shape, self.dims)), x.shape) * constant(self.share, x)


def _extreme(x: Tensor, dim: Dims, keepdim: bool, largest: bool) -> Tensor:
    """amax/amin: ties share the gradient evenly (as PyTorch's amax/amin and full max/min)."""
    x = as_tensor(x)
    dims = normalize_dims(dim, x.ndim)
    if any(x.shape[d] == 0 for d in dims):
        raise ValueError(f"{'amax' if largest else 'amin'}: cannot reduce an empty dim of shape {x.shape}")
    values = (x.data.max if largest else x.data.min)(axis=dims, keepdims=True)
    tied = x.data == values
    return Pick(dims, keepdim, tied / tied.sum(axis=dims, keepdims=True), values)(x)


def amax(x: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    return _extreme(x, dim, keepdim, largest=True)


def amin(x: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    return _extreme(x, dim, keepdim, largest=False)


def _arg(x: Tensor, dim: int | None, keepdim: bool, largest: bool) -> Tensor:
    x = as_tensor(x)
    pick = x.xp.argmax if largest else x.xp.argmin
    if dim is None:
        return Tensor(pick(x.data.reshape(-1)))
    d = normalize_dim(dim, x.ndim)
    return Tensor(pick(x.data, axis=d, keepdims=keepdim))


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg(x, dim, keepdim, largest=True)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg(x, dim, keepdim, largest=False)


def _max_or_min(x: Tensor, dim: int | None, keepdim: bool, largest: bool) -> Tensor | values_indices:
    """Without ``dim``, the extreme value; with it, ``(values, indices)`` as PyTorch's max/min."""
    if dim is None:
        return _extreme(x, None, False, largest)
    x = as_tensor(x)
    d = normalize_dim(dim, x.ndim)
    indices = _arg(x, d, True, largest).data
    position = x.xp.arange(x.shape[d]).reshape((-1,) + (1,) * (x.ndim - d - 1))
    picked = position == indices  # one-hot along d: the gradient goes to the index returned
    values = x.xp.take_along_axis(x.data, indices, axis=d)
    out = Pick((d,), keepdim, picked, values)(x)
    return values_indices(out, Tensor(indices if keepdim else indices.squeeze(axis=d)))


# max and min: the largest value without a dim; with one, (values, indices) as in PyTorch.
@overload
def max(x: Tensor, dim: None = None, keepdim: bool = False) -> Tensor: ...
@overload
def max(x: Tensor, dim: int, keepdim: bool = False) -> values_indices: ...

def max(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | values_indices:
    return _max_or_min(x, dim, keepdim, largest=True)


@overload
def min(x: Tensor, dim: None = None, keepdim: bool = False) -> Tensor: ...
@overload
def min(x: Tensor, dim: int, keepdim: bool = False) -> values_indices: ...

def min(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | values_indices:
    return _max_or_min(x, dim, keepdim, largest=False)
