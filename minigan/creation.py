"""Making tensors, with PyTorch's names: tensor, zeros, ones, full, arange, randn, rand, randint, *_like.

Floating-point tensors are float32 unless a dtype says otherwise; the device is ``device`` if
given, else ``$MINIGAN_DEVICE``, else the CPU.
"""
import numpy as np

from . import backend
from .random import generator
from .ops.shape import _shape_arg
from .tensor import DEFAULT_FLOAT, Tensor, _infer_array


def _make(array, dtype, device, requires_grad):
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    array = backend.to_device(array, device or backend.default_device())
    return Tensor(array, requires_grad=requires_grad)


def tensor(data, requires_grad=False, dtype=None, device=None):
    """A new leaf tensor holding a copy of ``data`` (a list, a number, a NumPy or CuPy array, a Tensor)."""
    if isinstance(data, Tensor):
        data = data.data
    if backend.get_array_module(data) is not np:
        array, device = data.copy(), device or "cuda"  # a CuPy array stays on its GPU
    elif isinstance(data, np.ndarray):
        array = data.copy()
    else:
        array = _infer_array(data, dtype)
    return _make(array, dtype, device, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _make(np.zeros(_shape_arg(size), dtype=dtype or DEFAULT_FLOAT), None, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _make(np.ones(_shape_arg(size), dtype=dtype or DEFAULT_FLOAT), None, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    return _make(np.full(_shape_arg((size,)), fill_value, dtype=dtype or _infer_array(fill_value, None).dtype),
                 None, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Integers start, start + step, ... below end (int64), or floats (float32) if any bound is a float."""
    start, end = (0, start) if end is None else (start, end)
    is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    return _make(np.arange(start, end, step, dtype=dtype or (np.int64 if is_int else DEFAULT_FLOAT)),
                 None, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal samples, from minigan's seeded generator."""
    return _make(generator().standard_normal(_shape_arg(size)), dtype or DEFAULT_FLOAT, device, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1), from minigan's seeded generator."""
    return _make(generator().random(_shape_arg(size)), dtype or DEFAULT_FLOAT, device, requires_grad)


def randint(low=0, high=None, size=None, dtype=None, device=None):
    """Integers uniform in [low, high), int64, from minigan's seeded generator. As ``torch.randint``:
    ``randint(high, size)`` and ``randint(high, size=...)`` start at 0."""
    if size is None:
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None or high is None or high <= low:
        raise ValueError(f"randint: expected randint([low,] high, size) with low < high, got low={low}, high={high}, size={size}")
    shape = _shape_arg((size,) if isinstance(size, (int, np.integer)) else tuple(size))
    return _make(generator().integers(low, high, shape), dtype or np.int64, device, False)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    return zeros(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False):
    return randn(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def rand_like(t, dtype=None, device=None, requires_grad=False):
    return rand(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)
