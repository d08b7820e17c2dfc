"""Making tensors, with PyTorch's names: tensor, zeros, ones, full, arange, randn, rand, randint, *_like.

Floating-point tensors are float32 unless a dtype says otherwise; the device is ``device`` if
given, else ``$MINIGAN_DEVICE``, else the CPU. A ``size`` is given as ints, ``zeros(2, 3)``, or as
one sequence, ``zeros((2, 3))``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import backend
from .ops.shape import _shape_arg
from .random import generator
from .tensor import DEFAULT_FLOAT, Tensor, _infer_array


def _make(array: np.ndarray, dtype: DTypeLike | None, device: str | None, requires_grad: bool) -> Tensor:
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    array = backend.to_device(array, device or backend.default_device())
    return Tensor(array, requires_grad=requires_grad)


def tensor(data: ArrayLike, requires_grad: bool = False, dtype: DTypeLike | None = None,
           device: str | None = None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (a list, a number, a NumPy or CuPy array, a Tensor)."""
    value: Any = data.data if isinstance(data, Tensor) else data
    if backend.get_array_module(value) is not np:
        array, device = value.copy(), device or "cuda"  # a CuPy array stays on its GPU
    elif isinstance(value, np.ndarray):
        array = value.copy()
    else:
        array = _infer_array(value, dtype)
    return _make(array, dtype, device, requires_grad)


def zeros(*size: int | Sequence[int], dtype: DTypeLike | None = None, device: str | None = None,
          requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_shape_arg(size), dtype=dtype or DEFAULT_FLOAT), None, device, requires_grad)


def ones(*size: int | Sequence[int], dtype: DTypeLike | None = None, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_shape_arg(size), dtype=dtype or DEFAULT_FLOAT), None, device, requires_grad)


def full(size: int | Sequence[int], fill_value: float, dtype: DTypeLike | None = None, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    return _make(np.full(_shape_arg((size,)), fill_value, dtype=dtype or _infer_array(fill_value, None).dtype),
                 None, device, requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: DTypeLike | None = None,
           device: str | None = None, requires_grad: bool = False) -> Tensor:
    """Integers start, start + step, ... below end (int64), or floats (float32) if any bound is a float."""
    start, end = (0, start) if end is None else (start, end)
    is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    return _make(np.arange(start, end, step, dtype=dtype or (np.int64 if is_int else DEFAULT_FLOAT)),
                 None, device, requires_grad)


def randn(*size: int | Sequence[int], dtype: DTypeLike | None = None, device: str | None = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples, from minigan's seeded generator."""
    return _make(generator().standard_normal(_shape_arg(size)), dtype or DEFAULT_FLOAT, device, requires_grad)


def rand(*size: int | Sequence[int], dtype: DTypeLike | None = None, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1), from minigan's seeded generator."""
    return _make(generator().random(_shape_arg(size)), dtype or DEFAULT_FLOAT, device, requires_grad)


def randint(low: int = 0, high: int | Sequence[int] | None = None, size: int | Sequence[int] | None = None,
            dtype: DTypeLike | None = None, device: str | None = None) -> Tensor:
    """Integers uniform in [low, high), int64, from minigan's seeded generator. As ``torch.randint``:
    ``randint(high, size)`` and ``randint(high, size=...)`` start at 0 (so ``high`` may hold the size)."""
    if size is None:
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None or not isinstance(high, (int, np.integer)) or high <= low:
        raise ValueError(f"randint: expected randint([low,] high, size) with low < high, got low={low}, high={high}, "
                         f"size={size}")
    shape = _shape_arg((size,) if isinstance(size, (int, np.integer)) else tuple(size))
    return _make(generator().integers(low, high, shape), dtype or np.int64, device, False)


def zeros_like(t: Tensor, dtype: DTypeLike | None = None, device: str | None = None,
               requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: DTypeLike | None = None, device: str | None = None,
              requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value: float, dtype: DTypeLike | None = None, device: str | None = None,
              requires_grad: bool = False) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: DTypeLike | None = None, device: str | None = None,
               requires_grad: bool = False) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def rand_like(t: Tensor, dtype: DTypeLike | None = None, device: str | None = None,
              requires_grad: bool = False) -> Tensor:
    return rand(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)
