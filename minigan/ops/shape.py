"""Ops that move values around without changing them: reshape, permute, broadcast, index, join.

Each backward is another op of this file: reshape undoes reshape, a permutation is undone by
its inverse, broadcasting is undone by summing (``sum_to``), indexing by scattering.
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import backend
from ..autograd import Function
from ..tensor import Dims, Shape, Tensor, as_tensor


def normalize_dim(dim: int, ndim: int, name: str = "dim") -> int:
    """A dim in [-ndim, ndim) as a non-negative int, or a clear IndexError."""
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{name} {dim} is out of range for a tensor of {ndim} dimensions")
    return dim % max(ndim, 1)


def normalize_dims(dim: Dims, ndim: int) -> tuple[int, ...]:
    """None -> every dim; an int or a sequence -> a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(sorted({normalize_dim(d, ndim) for d in dims}))


def _shape_arg(shape: tuple[Shape, ...]) -> tuple[int, ...]:
    """Accept f(x, 2, 3) and f(x, (2, 3)) alike, as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)  # type: ignore[arg-type]  # f(x, 2, 3): the ints themselves, one per dim


class Reshape(Function):
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(self.shape)

    def backward(self, gy: Tensor) -> Tensor:
        return reshape(gy, self.inputs[0].shape)


def reshape(x: Tensor, *shape: Shape) -> Tensor:
    x, shape = as_tensor(x), _shape_arg(shape)
    try:
        new_shape = np.empty(x.shape, dtype=np.bool_).reshape(shape).shape  # resolves a -1
    except ValueError:
        raise ValueError(f"reshape: cannot view a tensor of shape {x.shape} as {shape}") from None
    return x if new_shape == x.shape else Reshape(new_shape)(x)


class Permute(Function):
    def __init__(self, dims: tuple[int, ...]) -> None:
        self.dims = dims

    def forward(self, x: np.ndarray) -> np.ndarray:
        return backend.get_array_module(x).transpose(x, self.dims)

    def backward(self, gy: Tensor) -> Tensor:
        return permute(gy, *np.argsort(self.dims).tolist())


def permute(x: Tensor, *dims: Shape) -> Tensor:
    x = as_tensor(x)
    order = tuple(normalize_dim(d, x.ndim) for d in _shape_arg(dims))
    if sorted(order) != list(range(x.ndim)):
        raise ValueError(f"permute: {order} is not a permutation of the {x.ndim} dims of shape {x.shape}")
    return x if order == tuple(range(x.ndim)) else Permute(order)(x)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    x = as_tensor(x)
    dims = list(range(x.ndim))
    d0, d1 = normalize_dim(dim0, x.ndim), normalize_dim(dim1, x.ndim)
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(x, *dims)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = normalize_dim(start_dim, x.ndim), normalize_dim(end_dim, x.ndim)
    return reshape(x, x.shape[:s] + (-1,) + x.shape[e + 1:])


def squeeze(x: Tensor, dim: Dims = None) -> Tensor:
    """Drop size-1 dims (all of them, or those of ``dim`` that have size 1, as PyTorch)."""
    x = as_tensor(x)
    dims = normalize_dims(dim, x.ndim)
    return reshape(x, tuple(n for d, n in enumerate(x.shape) if not (d in dims and n == 1)))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    x = as_tensor(x)
    d = normalize_dim(dim, x.ndim + 1)
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


class BroadcastTo(Function):
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        return backend.get_array_module(x).broadcast_to(x, self.shape)

    def backward(self, gy: Tensor) -> Tensor:
        return sum_to(gy, self.inputs[0].shape)


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    x, shape = as_tensor(x), tuple(shape)
    try:
        np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return x if x.shape == shape else BroadcastTo(shape)(x)


def expand(x: Tensor, *sizes: Shape) -> Tensor:
    """``broadcast_to`` where -1 keeps a dim's size (PyTorch's ``Tensor.expand``)."""
    x, sizes = as_tensor(x), _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    return broadcast_to(x, tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes)))


class SumTo(Function):
    """Sum a broadcast result back down to ``shape``: the adjoint of broadcasting."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(self.shape)
                                          if n == 1 and x.shape[lead + i] != 1)
        return x.sum(axis=axes, keepdims=True).reshape(self.shape)

    def backward(self, gy: Tensor) -> Tensor:
        return broadcast_to(gy, self.inputs[0].shape)


def sum_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    x, shape = as_tensor(x), tuple(shape)
    if np.broadcast_shapes(x.shape, shape) != x.shape:
        raise ValueError(f"sum_to: shape {x.shape} does not broadcast from {shape}")
    return x if x.shape == shape else SumTo(shape)(x)


def _index_arrays(index: Any) -> tuple[Any, bool]:
    """Tensors inside an index become arrays; is it an advanced (array) index?"""
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(i.data if isinstance(i, Tensor) else i for i in items)
    advanced = any(not isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in items)
    return (items if isinstance(index, tuple) else items[0]), advanced


class GetItem(Function):
    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x[self.index]

    def backward(self, gy: Tensor) -> Tensor:
        return GetItemGrad(self.index, self.inputs[0].shape)(gy)


class GetItemGrad(Function):
    """Put the gradient back where the elements came from; repeated indices add up."""

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        self.index, self.shape = index, shape

    def forward(self, gy: np.ndarray) -> np.ndarray:
        gx = backend.get_array_module(gy).zeros(self.shape, dtype=gy.dtype)
        if _index_arrays(self.index)[1]:
            backend.scatter_add(gx, self.index, gy)
        else:
            gx[self.index] = gy  # basic indexing never picks an element twice
        return gx

    def backward(self, ggx: Tensor) -> Tensor:
        return getitem(ggx, self.index)


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` for basic (ints, slices, None, ...) and integer- or bool-array indexing."""
    index, _ = _index_arrays(index)
    return GetItem(index)(as_tensor(x))


class Cat(Function):
    def __init__(self, dim: int) -> None:
        self.dim = dim

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        return backend.get_array_module(xs[0]).concatenate(xs, axis=self.dim)

    def backward(self, gy: Tensor) -> tuple[Tensor, ...]:
        bounds = np.cumsum([0] + [x.shape[self.dim] for x in self.inputs])
        lead = (slice(None),) * self.dim
        return tuple(gy[lead + (slice(a, b),)] for a, b in itertools.pairwise(bounds))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    first = tensors[0]
    d = normalize_dim(dim, first.ndim)
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or t.shape[:d] + t.shape[d + 1:] != first.shape[:d] + first.shape[d + 1:]:
            raise ValueError(f"cat: tensor {i} has shape {t.shape}, which does not match "
                             f"{first.shape} outside dim {d}")
    return Cat(d)(*tensors)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ValueError(f"stack: all tensors need one shape, got {[t.shape for t in tensors]}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``x`` along ``dim``: of equal size (an int; the last may be smaller) or the sizes given."""
    x = as_tensor(x)
    d = normalize_dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [min(step, n - a) for a in range(0, n, step)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the size of dim {d}")
    bounds = np.cumsum([0] + sizes)
    lead = (slice(None),) * d
    return tuple(x[lead + (slice(int(a), int(b)),)] for a, b in itertools.pairwise(bounds))


class Cast(Function):
    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.astype(self.dtype)

    def backward(self, gy: Tensor) -> Tensor:
        return cast(gy, self.inputs[0].dtype)


def cast(x: Tensor, dtype: DTypeLike) -> Tensor:
    x, dtype = as_tensor(x), np.dtype(dtype)
    return x if x.dtype == dtype else Cast(dtype)(x)


class ToDevice(Function):
    def __init__(self, device: str) -> None:
        self.device = device

    def forward(self, x: np.ndarray) -> np.ndarray:
        return backend.to_device(x, self.device)

    def backward(self, gy: Tensor) -> Tensor:
        return to_device(gy, self.inputs[0].device)


def to_device(x: Tensor, device: str) -> Tensor:
    x, device = as_tensor(x), backend.check_device(device)
    return x if x.device == device else ToDevice(device)(x)
