r"""Pooling (池化) and padding: ``max_pool2d``, ``avg_pool2d`` and ``pad``.

Pooling reuses the window machinery of convolution (`conv.py`): ``_Unfold`` copies every window
of every channel out, (N, C, H, W) -> (N, C, Ho, Wo, kH, kW), and its backward ``_Fold`` adds
them back (col2im); each is the other's backward, so both are differentiable to any order. Then

    avg_pool2d = sum of each window / its size,
    max_pool2d = sum of each window where a one-hot mask (derivative 0) marks its maximum,

and autograd derives every backward from these two lines. ``pad`` is one Function whose
backward is itself with the widths negated (padding and cropping are adjoint).
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from ... import backend
from ...autograd import Function
from ...ops import getitem, sum, where
from ...ops.elementwise import PiecewiseConstant
from ...tensor import Tensor, as_tensor, constant
from .conv import IntPair, _Geometry, _overlap_add, _positive, _windows

__all__ = ["max_pool2d", "avg_pool2d", "pad"]


class _Unfold(Function):
    """(N, C, H, W) -> every window of every channel, (N, C, Ho, Wo, kH, kW), padded with ``fill``."""

    def __init__(self, geometry: _Geometry, fill: float = 0.0) -> None:
        self.geometry, self.fill = geometry, fill

    def forward(self, x: np.ndarray) -> np.ndarray:
        return backend.get_array_module(x).ascontiguousarray(_windows(x, self.geometry, axis=2, fill=self.fill))

    def backward(self, gy: Tensor) -> Tensor:
        return _Fold(self.geometry)(gy)  # the padding is a constant: it gets no gradient


class _Fold(Function):
    """The adjoint of `_Unfold`: add each window back where it came from (col2im)."""

    def __init__(self, geometry: _Geometry) -> None:
        self.geometry = geometry

    def forward(self, cols: np.ndarray) -> np.ndarray:
        xp = backend.get_array_module(cols)
        padded = xp.zeros(cols.shape[:2] + self.geometry.span, dtype=cols.dtype)
        return xp.ascontiguousarray(_overlap_add(padded, cols, self.geometry, axis=2))

    def backward(self, gx: Tensor) -> Tensor:
        return _Unfold(self.geometry)(gx)


def _pool_geometry(fn: str, input: Tensor, kernel_size: IntPair, stride: IntPair | None, padding: IntPair,
                   dilation: IntPair, ceil_mode: bool) -> tuple[Tensor, _Geometry]:
    """Check a pooling call and work out its windows (PyTorch's output-size rule, ceil_mode included)."""
    input = as_tensor(input)
    if input.ndim != 4:
        raise ValueError(f"{fn}: expected a 4-D input (N, C, H, W), got shape {input.shape}")
    if not backend.is_floating(input.dtype):
        raise TypeError(f"{fn}: expected a floating-point input, got {input.dtype}")
    kernel = _positive(kernel_size, "kernel_size", fn)
    strides = kernel if stride is None else _positive(stride, "stride", fn)
    pads, dilations = _positive(padding, "padding", fn, least=0), _positive(dilation, "dilation", fn)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(f"{fn}: padding {pads} must be at most half the kernel size {kernel}")
    grid = []
    for n, k, s, p, d in zip(input.shape[2:], kernel, strides, pads, dilations):
        size = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (size - 1) * s >= n + p:
            size -= 1  # the last window must start inside the input or its left padding
        grid.append(size)
    if min(grid) < 1:
        raise ValueError(f"{fn}: the output {tuple(grid)} is empty for an input of shape {input.shape} "
                         f"and kernel {kernel}")
    return input, _Geometry(kernel, strides, pads, dilations, input.shape[2:], tuple(grid))


def max_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
               dilation: IntPair = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    r"""The largest value of each window:
    $y_{n,c,p,q} = \max_{i,j} x_{n,c,\,p s - \text{pad} + i d,\, q s - \text{pad} + j d}$.

    Padding counts as $-\infty$. The gradient goes to the first maximum of each window (as in
    PyTorch). With ``return_indices`` also returns, as int64, where each maximum lies in its
    (H*W) input plane.
    """
    input, g = _pool_geometry("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    xp = input.xp
    windows = _Unfold(g, fill=-float("inf"))(input)
    flat: np.ndarray = windows.data.reshape(windows.shape[:4] + (-1,))
    best = xp.argmax(flat, axis=-1)  # the first maximum (or the first NaN) of each window
    picked = (xp.arange(flat.shape[-1]) == best[..., None]).reshape(windows.shape)
    # The one-hot mask as an op of the windows, with derivative 0: the input a gradient passes
    # only through the choice of maximum gets zeros (as in PyTorch), not "unused". `where` first:
    # the -inf of the padding times a 0 of the mask would be NaN.
    mask = PiecewiseConstant(lambda _: picked)(windows)
    out = sum(where(picked, windows, 0) * mask, dim=(-2, -1))
    if not return_indices:
        return out
    (s_h, s_w), (p_h, p_w), (d_h, d_w) = g.stride, g.padding, g.dilation
    i, j = best // g.kernel[1], best % g.kernel[1]
    rows = xp.arange(g.grid[0])[:, None] * s_h - p_h + i * d_h
    columns = xp.arange(g.grid[1]) * s_w - p_w + j * d_w
    return out, as_tensor((rows * g.image[1] + columns).astype(xp.int64))


def avg_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
               ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    r"""The mean of each window:
    $y_{n,c,p,q} = \frac{1}{D_{p,q}} \sum_{i,j} x_{n,c,\,p s - \text{pad} + i,\, q s - \text{pad} + j}$.

    The divisor $D$ counts the window's positions inside the input plus, with
    ``count_include_pad``, inside the padding (never those past the padding that ``ceil_mode``
    adds), as PyTorch does; ``divisor_override`` replaces it.
    """
    input, g = _pool_geometry("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    xp = input.xp
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError("avg_pool2d: divisor_override must not be zero")
        divisor = xp.asarray(float(divisor_override))
    else:
        counts = []  # per axis: how many positions of each window lie in [low, high)
        for n, k, s, p, size in zip(g.image, g.kernel, g.stride, g.padding, g.grid):
            low, high = (-p, n + p) if count_include_pad else (0, n)
            start = xp.arange(size) * s - p
            counts.append(xp.minimum(start + k, high) - xp.maximum(start, low))
        divisor = counts[0][:, None] * counts[1]
    return sum(_Unfold(g)(input), dim=(-2, -1)) / constant(divisor, input)


class _ConstantPad(Function):
    """Pad with ``value``; a negative width crops. The backward crops what was padded and pads
    (with 0) what was cropped: ``_ConstantPad`` with the widths negated."""

    def __init__(self, widths: Sequence[tuple[int, int]], value: float) -> None:
        self.widths, self.value = widths, value

    def forward(self, x: np.ndarray) -> np.ndarray:
        xp = backend.get_array_module(x)
        grow = [(max(b, 0), max(a, 0)) for b, a in self.widths]
        if any(b or a for b, a in grow):
            x = xp.pad(x, grow, constant_values=self.value)
        return x[tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(self.widths, x.shape))]

    def backward(self, gy: Tensor) -> Tensor:
        return _ConstantPad([(-b, -a) for b, a in self.widths], 0)(gy)


# PyTorch's mode -> (NumPy's name for it, the widest padding it allows a dim of size n)
_INDEX_MODES = {"reflect": ("reflect", lambda n: n - 1), "replicate": ("edge", lambda n: float("inf")),
                "circular": ("wrap", lambda n: n)}


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = 0) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims; ``pad`` lists (before, after) widths from the last dim
    backwards, as PyTorch: ``(left, right, top, bottom)`` pads W, then H.

    ``mode='constant'`` fills with ``value``; ``'reflect'``, ``'replicate'`` and ``'circular'``
    copy input values, by indexing with padded index arrays, so their backward is the existing
    gather/scatter of indexing. A negative width crops.
    """
    input = as_tensor(input)
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) > 2 * input.ndim or not all(isinstance(p, numbers.Integral) for p in pad):
        raise ValueError(f"pad: expected an even number (at most {2 * input.ndim}) of ints for an input of "
                         f"shape {input.shape}, got {pad}")
    dims = len(pad) // 2
    widths = [(0, 0)] * (input.ndim - dims) + [(int(pad[2 * k]), int(pad[2 * k + 1])) for k in reversed(range(dims))]
    sizes = [n + b + a for n, (b, a) in zip(input.shape, widths)]
    if min(sizes, default=0) < 0:
        raise ValueError(f"pad: widths {pad} would give shape {tuple(sizes)} for an input of shape {input.shape}")
    if mode == "constant":
        return _ConstantPad(widths, 0 if value is None else value)(input)
    if mode not in _INDEX_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    numpy_mode, widest = _INDEX_MODES[mode]
    index = []
    for n, (b, a) in zip(input.shape[input.ndim - dims:], widths[input.ndim - dims:]):
        kept = input.xp.arange(max(-b, 0), n - max(-a, 0))  # a negative width crops, first
        if kept.size == 0 or max(b, a) > widest(kept.size):
            raise ValueError(f"pad: mode {mode!r} can pad a non-empty dim of size {kept.size} by at most "
                             f"{widest(kept.size)} on each side, got widths {(b, a)} for a dim of size {n}")
        index.append(input.xp.pad(kept, (max(b, 0), max(a, 0)), mode=numpy_mode))
    return getitem(input, (Ellipsis,) + input.xp.ix_(*index))
