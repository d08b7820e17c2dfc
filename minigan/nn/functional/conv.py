r"""Convolutions (卷积): ``conv2d`` and ``conv_transpose2d``, each a few large matrix products.

**im2col.** Copy every kernel window of the (padded) input into one row of a matrix ``cols``;
the convolution is then one GEMM with the weight matrix, which BLAS runs at full speed:

    y[n, o, p, q] = sum_{c,i,j} w[o, c, i, j] * x[n, c, p*s - pad + i*d, q*s - pad + j*d]
    cols (N*Ho*Wo, kH*kW*C)  @  W^T (kH*kW*C, C_out)  =  y (N*Ho*Wo, C_out)

The windows are one strided *view* of the padded input (no copy, no loop); ``reshape`` then
copies them into ``cols`` once. We work channels-last (N, H, W, C) inside: a window row
(kH, kW, C) is then made of runs of C contiguous numbers, which copy far faster than the
NCHW order, whose innermost run is one output row read with stride s. (With groups, below,
the arrays are (G, N, H, W, C/G) and the runs C/G long.)

**col2im** is the adjoint: add every row of ``cols`` back onto the window it came from. Windows
overlap, so this is one strided ``+=`` per kernel offset (kH*kW of them), never a scatter. The
transposed convolution is the mirror image of conv2d: one GEMM makes its ``cols``, col2im adds them up:

    rows(y) (N*Ho*Wo, C_out)  @  W (C_out, kH*kW*C_in)  =  cols (N*Ho*Wo, kH*kW*C_in)  ->  col2im  ->  x

**Groups.** With ``groups`` = G the channels split into G independent convolutions side by side:
output channel o, of group g = o // (C_out/G), reads input channels g*C_in/G ... (g+1)*C_in/G - 1
only, so the weight is (C_out, C_in/G, kH, kW) (depthwise: G = C_in, one filter per channel).
Every matrix below therefore carries the group as a leading axis, (G, rows, columns), and each
GEMM is one batched ``@`` over it; G = 1 is the plain convolution, with a leading axis of one.

**Three primitives, each the others' backward.** A convolution is bilinear, so everything
follows from one identity, for any x, w and g (g shaped like the output):

    <conv2d(x, w), g>  =  <x, conv_transpose2d(g, w)>  =  <w, conv2d_weight(x, g)>

conv2d is the derivative of this number with respect to g, conv_transpose2d with respect to x,
conv2d_weight with respect to w (the Functions `Conv2d`, `ConvTranspose2d`, `Conv2dGradWeight`).
Differentiating each once more gives the other two: e.g. d<v, conv2d_weight(x, g)>/dx =
conv_transpose2d(g, v). All three share one `_Geometry`, groups included, so every shape
round-trips exactly (no output_padding guesswork) and derivatives of any order work, with respect
to weights too.
"""
from __future__ import annotations

import numbers
from typing import NamedTuple, TypeAlias

import numpy as np

from ... import backend
from ...autograd import Function, is_grad_enabled
from ...tensor import Tensor, as_tensor

__all__ = ["conv2d", "conv_transpose2d"]

IntPair: TypeAlias = int | tuple[int, int]  # a kernel size, stride, ...: one int for both dims, or (height, width)


class _Geometry(NamedTuple):
    """Where the windows of a 2-D sliding-window op lie; each field is a (height, width) pair.

    Window (p, q) of the ``grid`` (the output of conv2d) reads the ``image`` rows
    ``p*stride - padding + i*dilation`` for i < kernel, and the columns likewise.
    """

    kernel: tuple
    stride: tuple
    padding: tuple  # before the first row/column only: what lies past the last one follows
    dilation: tuple
    image: tuple
    grid: tuple
    groups: int = 1  # convolutions only: how many independent convolutions the channels split into

    @property
    def span(self) -> tuple[int, ...]:
        """The extent of padded image that the windows cover: s*(G-1) + d*(k-1) + 1."""
        return tuple(s * (g - 1) + d * (k - 1) + 1
                     for s, g, d, k in zip(self.stride, self.grid, self.dilation, self.kernel))


# --- array kernels (raw NumPy/CuPy arrays; the spatial axes are `axis` and `axis + 1`) ----------

def _crop(a: np.ndarray, start: tuple[int, ...], size: tuple[int, ...], axis: int, fill: float = 0) -> np.ndarray:
    """``a[..., start:start+size, ...]`` on both spatial axes; positions outside ``a`` read ``fill``.

    A negative start pads, a start or end beyond the array pads or crops: one helper serves
    padding the input (start = -padding) and cropping the padded result (start = +padding).
    """
    xp = backend.get_array_module(a)
    widths, index = [(0, 0)] * a.ndim, [slice(None)] * a.ndim
    for ax, b, n in zip((axis, axis + 1), start, size):
        before, after = max(0, -b), max(0, b + n - a.shape[ax])
        widths[ax], index[ax] = (before, after), slice(b + before, b + before + n)
    if any(before or after for before, after in widths):
        a = xp.pad(a, widths, constant_values=fill)
    return a[tuple(index)]


def _windows(a: np.ndarray, g: _Geometry, axis: int, fill: float = 0) -> np.ndarray:
    """Every kernel window of ``a``, as a strided view: the spatial axes (H, W) become
    (Ho, Wo, kH, kW). Element [p, q, i, j] is padded-image element [p*s + i*d, q*s + j*d]."""
    xp = backend.get_array_module(a)
    a = xp.ascontiguousarray(_crop(a, tuple(-p for p in g.padding), g.span, axis, fill))
    sh, sw = a.strides[axis], a.strides[axis + 1]
    shape = a.shape[:axis] + g.grid + g.kernel + a.shape[axis + 2:]
    strides = (a.strides[:axis] + (sh * g.stride[0], sw * g.stride[1], sh * g.dilation[0], sw * g.dilation[1])
               + a.strides[axis + 2:])
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


def _overlap_add(out: np.ndarray, windows: np.ndarray, g: _Geometry, axis: int) -> np.ndarray:
    """The adjoint of `_windows` (col2im): add every window back onto the image it came from.

    ``windows`` is shaped as `_windows` returns them: the grid (Ho, Wo) at ``axis``, then the
    kernel (kH, kW). Offset (i, j) of every window lands on padded rows i*d + p*s of ``out``
    (zeros, of extent ``g.span``). One strided add per offset: the elements of one offset never
    overlap, so ``+=`` is exact. Returns the image: ``out`` with the padding cropped away.
    """
    lead = (slice(None),) * axis
    (sh, sw), (dh, dw), (gh, gw) = g.stride, g.dilation, g.grid
    for i in range(g.kernel[0]):
        for j in range(g.kernel[1]):
            rows = slice(i * dh, i * dh + sh * (gh - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (gw - 1) + 1, sw)
            out[lead + (rows, columns)] += windows[lead + (slice(None), slice(None), i, j)]
    return _crop(out, g.padding, g.image, axis)


def _channels_last(a: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, H, W) -> the view (G, N, H, W, C/G): the channels split into their groups, and last."""
    n, c, h, w = a.shape
    return a.reshape(n, groups, c // groups, h, w).transpose(1, 0, 3, 4, 2)


def _pixel_rows(a: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, H, W) -> the matrices (G, N*H*W, C/G): per group, one row per pixel."""
    return _channels_last(a, groups).reshape(groups, -1, a.shape[1] // groups)


def _channels_first(m: np.ndarray, n: int, h: int, w: int) -> np.ndarray:
    """The inverse of `_pixel_rows`: (G, N*H*W, C/G), or that as (G, N, H, W, C/G), -> (N, C, H, W).

    A view, not a copy (except with groups, whose channels lie in G separate blocks): the result
    is (N, C, H, W) to every op but stays channels-last in memory. NumPy's elementwise ops keep
    an input's memory order, so the layers after a convolution keep it too, and the next
    convolution gathers its windows (`_im2col`, `_pixel_rows`) from memory already in the order
    it reads, instead of transposing it first. (conv_transpose2d's result is a cropped view of its
    padded image: channels-last too, and holding the padding's memory while it lives.)
    """
    return m.reshape(m.shape[0], n, h, w, -1).transpose(1, 0, 4, 2, 3).reshape(n, -1, h, w)


def _weight_matrix(w: np.ndarray, groups: int) -> np.ndarray:
    """(C_out, C_in/G, kH, kW) -> (G, C_out/G, kH*kW*C_in/G): per group, the column order of `_im2col`."""
    by_group = w.reshape((groups, w.shape[0] // groups) + w.shape[1:])  # (G, C_out/G, C_in/G, kH, kW)
    return by_group.transpose(0, 1, 3, 4, 2).reshape(groups, w.shape[0] // groups, -1)


def _im2col(x: np.ndarray, g: _Geometry) -> np.ndarray:
    """(N, C, H, W) -> cols (G, N*Ho*Wo, kH*kW*C/G): per group, one row per window, built by one copy."""
    windows = _windows(_channels_last(x, g.groups), g, axis=2)  # (G, N, Ho, Wo, kH, kW, C/G), a view
    return windows.reshape(g.groups, -1, g.kernel[0] * g.kernel[1] * x.shape[1] // g.groups)


# --- the three primitives ------------------------------------------------------------------------

class Conv2d(Function):
    """y = conv2d(x, w): x (N, C_in, H, W), w (C_out, C_in/G, kH, kW) -> y (N, C_out, Ho, Wo)."""

    def __init__(self, geometry: _Geometry, keep_cols: bool = False, cols: np.ndarray | None = None) -> None:
        self.geometry, self.keep_cols, self.cols = geometry, keep_cols, cols  # cols: x's im2col, if built

    def forward(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        cols = _im2col(x, self.geometry) if self.cols is None else self.cols
        # Kept for the weight gradient when one will be wanted, which needs this very matrix (as
        # PyTorch's THNN kernels kept their ``finput``): not rebuilding it saves a copy of every
        # window in the backward. A frozen weight (G's step through D) keeps nothing.
        self.cols = cols if self.keep_cols else None
        y = cols @ _weight_matrix(w, self.geometry.groups).swapaxes(1, 2)  # (G, N*Ho*Wo, C_out/G)
        return _channels_first(y, x.shape[0], *self.geometry.grid)

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, w = self.inputs
        cols, self.cols = self.cols, None  # handed on once; a second backward (retain_graph) rebuilds it
        gx = ConvTranspose2d(self.geometry)(gy, w) if self.needs_input_grad[0] else None
        gw = Conv2dGradWeight(self.geometry, cols)(x, gy) if self.needs_input_grad[1] else None
        return gx, gw


class ConvTranspose2d(Function):
    """x = conv_transpose2d(y, w): y (N, C_out, Ho, Wo), w (C_out, C_in/G, kH, kW) -> (N, C_in, H, W).

    The adjoint of conv2d in its input: each input pixel spreads w-weighted copies of itself
    over one window of the output. That is cols = rows(y) @ W, with conv2d's own weight matrix W,
    then col2im. cols holds kH*kW values for each input pixel and output channel, as conv2d's
    im2col matrix does for its input. (One GEMM per kernel offset, each product added while still
    in cache, needs kH*kW times less memory; in a whole training step it was the slower one:
    docs/benchmarks.md, "A step's time".)
    """

    def __init__(self, geometry: _Geometry) -> None:
        self.geometry = geometry

    def forward(self, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        g, n = self.geometry, y.shape[0]
        xp = backend.get_array_module(y)
        cols = _pixel_rows(y, g.groups) @ _weight_matrix(w, g.groups)  # (G, N*Ho*Wo, kH*kW*C_in/G)
        windows = cols.reshape((g.groups, n) + g.grid + g.kernel + (-1,))  # (G, N, Ho, Wo, kH, kW, C_in/G)
        padded = xp.zeros((g.groups, n) + g.span + (w.shape[1],), dtype=y.dtype)
        image = _overlap_add(padded, windows, g, axis=2)
        return _channels_first(image, n, *g.image)

    def backward(self, gx: Tensor) -> tuple[Tensor | None, Tensor | None]:
        y, w = self.inputs
        # Both gradients read the windows of gx: build its im2col matrix once for the two.
        cols = _im2col(gx.data, self.geometry) if all(self.needs_input_grad) else None
        gy = Conv2d(self.geometry, cols=cols)(gx, w) if self.needs_input_grad[0] else None
        gw = Conv2dGradWeight(self.geometry, cols)(gx, y) if self.needs_input_grad[1] else None
        return gy, gw


class Conv2dGradWeight(Function):
    """gw = conv2d_weight(x, gy): the gradient of conv2d with respect to its weight,
    gw[o, c, i, j] = sum_{n,p,q} gy[n, o, p, q] x[n, g*C_in/G + c, p*s - pad + i*d, q*s - pad + j*d],
    with g the group of output channel o."""

    def __init__(self, geometry: _Geometry, cols: np.ndarray | None = None) -> None:
        self.geometry, self.cols = geometry, cols  # cols: x's im2col matrix, if already built

    def forward(self, x: np.ndarray, gy: np.ndarray) -> np.ndarray:
        g = self.geometry
        cols = _im2col(x, g) if self.cols is None else self.cols
        # per group as (C_out/G, kH*kW*C_in/G): into the weight's layout, each output channel's row
        # then needs only its own (kH*kW, C_in/G) block transposed, small enough to stay in cache
        gw = _pixel_rows(gy, g.groups).swapaxes(1, 2) @ cols
        xp = backend.get_array_module(gw)
        c = x.shape[1] // g.groups
        gw = gw.reshape(gw.shape[:2] + g.kernel + (c,)).transpose(0, 1, 4, 2, 3)  # (G, C_out/G, C_in/G, kH, kW)
        return xp.ascontiguousarray(gw).reshape((-1, c) + g.kernel)

    def backward(self, ggw: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, gy = self.inputs
        gx = ConvTranspose2d(self.geometry)(gy, ggw) if self.needs_input_grad[0] else None
        ggy = Conv2d(self.geometry)(x, ggw) if self.needs_input_grad[1] else None
        return gx, ggy


# --- the public functions ------------------------------------------------------------------------

def _pair(value: IntPair, name: str, fn: str) -> tuple[int, int]:
    """An int or a pair of ints -> a (height, width) tuple of ints."""
    # The ignore: mypy does not know that an int is a numbers.Integral, so to it tuple(value) may get an int.
    pair = (value, value) if isinstance(value, numbers.Integral) else tuple(value)  # type: ignore[arg-type]
    if len(pair) != 2 or not all(isinstance(v, numbers.Integral) for v in pair):
        raise TypeError(f"{fn}: {name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def _positive(value: IntPair, name: str, fn: str, least: int = 1) -> tuple[int, int]:
    pair = _pair(value, name, fn)
    if min(pair) < least:
        raise ValueError(f"{fn}: {name} must be >= {least}, got {value!r}")
    return pair


def _check_groups(fn: str, groups: int, channels: dict[str, int]) -> int:
    """``groups`` as an int that divides every channel count in ``channels``, {name: count}, or a clear error."""
    if not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{fn}: groups must be an int >= 1, got {groups!r}")
    for name, count in channels.items():
        if count % groups:
            raise ValueError(f"{fn}: {name} = {count} does not split into groups={groups}")
    return int(groups)


def _conv_padding(fn: str, padding: IntPair | str, kernel: tuple[int, ...], stride: tuple[int, ...],
                  dilation: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """conv2d's ``padding`` as ((top, bottom), (left, right)), the one rule that F.conv2d and the
    Conv2d layer (for its other padding modes) both follow.

    An int or a pair pads both sides alike; 'valid' is no padding; 'same' keeps the size (stride 1
    only), padding d*(k - 1) in all, the odd extra row/column at the bottom/right (as PyTorch).
    """
    if not isinstance(padding, str):
        return tuple((p, p) for p in _positive(padding, "padding", fn, least=0))
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding != "same":
        raise ValueError(f"{fn}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    if stride != (1, 1):
        raise ValueError(f"{fn}: padding='same' is not supported for strided convolutions (as in PyTorch): "
                         f"it needs stride 1, got stride {stride}; give the padding explicitly")
    totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
    return tuple((t // 2, t - t // 2) for t in totals)


def _check_operands(fn: str, input: Tensor, weight: Tensor, bias: Tensor | None, groups: int,
                    transposed: bool) -> tuple[Tensor, Tensor, Tensor | None, int]:
    """Tensors of the right rank, dtype and channel counts, and ``groups`` as an int, or a clear error."""
    input, weight = as_tensor(input), as_tensor(weight)
    dim0, dim1 = ("C_in", "C_out") if transposed else ("C_out", "C_in")
    layout = f"({dim0}, {dim1}/groups, kH, kW)"
    if input.ndim != 4:
        raise ValueError(f"{fn}: expected a 4-D input (N, C, H, W), got shape {input.shape}")
    if weight.ndim != 4:
        raise ValueError(f"{fn}: expected a 4-D weight {layout}, got shape {weight.shape}")
    # C_out for conv2d; its transpose's weight dim 0 is C_in, which must match the input anyway
    groups = _check_groups(fn, groups, {"C_in": input.shape[1]} if transposed else
                           {"C_in": input.shape[1], "C_out": weight.shape[0]})
    # conv2d maps weight dim 1 (times groups) to dim 0, its transpose dim 0 to dim 1 (times groups)
    in_channels, out_channels = ((weight.shape[0], weight.shape[1] * groups) if transposed
                                 else (weight.shape[1] * groups, weight.shape[0]))
    if input.shape[1] != in_channels:
        raise ValueError(f"{fn}: input of shape {input.shape} has {input.shape[1]} channels, but weight of "
                         f"shape {weight.shape} {layout} with groups={groups} expects {in_channels}")
    tensors = [input, weight]
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape != (out_channels,):
            raise ValueError(f"{fn}: expected a bias of shape ({out_channels},), got {bias.shape}")
        tensors.append(bias)
    if not all(backend.is_floating(t.dtype) for t in tensors) or len({t.dtype for t in tensors}) != 1:
        raise TypeError(f"{fn}: input, weight and bias need one floating-point dtype, got "
                        f"{', '.join(str(t.dtype) for t in tensors)}")
    return input, weight, bias, groups


def _with_bias(y: Tensor, bias: Tensor | None) -> Tensor:
    return y if bias is None else y + bias.reshape(1, -1, 1, 1)


def _check_size(fn: str, size: tuple[int, ...], what: str, input_shape: tuple[int, ...]) -> None:
    if min(size) < 1:
        raise ValueError(f"{fn}: the {what} {tuple(size)} is empty for an input of shape {input_shape}; "
                         "the kernel (times dilation) does not fit")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
           padding: IntPair | str = 0, dilation: IntPair = 1, groups: int = 1) -> Tensor:
    r"""2-D convolution (cross-correlation, as in PyTorch) over a batch of images.

    input (N, C_in, H, W), weight (C_out, C_in/groups, kH, kW), bias (C_out,) -> (N, C_out, Ho, Wo):

    $y_{n,o,p,q} = b_o + \sum_{c,i,j} w_{o,c,i,j}\,
    x_{n,\, g C_{in}/G + c,\, p s - \text{pad} + i d,\, q s - \text{pad} + j d}$,
    where $g = \lfloor o / (C_{out}/G) \rfloor$ is the group of output channel o (G = ``groups``;
    with G = 1 every output channel sees every input channel), and
    $H_o = \lfloor (H + 2\,\text{pad} - d (k_H - 1) - 1) / s \rfloor + 1$ (and W likewise).

    ``padding`` is an int, a pair, ``'valid'`` (no padding) or ``'same'`` (output as large as
    the input; stride 1 only; an odd total padding puts the extra row/column at the bottom/right,
    as PyTorch does).
    """
    fn = "conv2d"
    input, weight, bias, groups = _check_operands(fn, input, weight, bias, groups, transposed=False)
    stride, dilation = _positive(stride, "stride", fn), _positive(dilation, "dilation", fn)
    kernel, image = weight.shape[2:], input.shape[2:]
    pads = _conv_padding(fn, padding, kernel, stride, dilation)
    grid = tuple((n + a + b - d * (k - 1) - 1) // s + 1
                 for n, (a, b), d, k, s in zip(image, pads, dilation, kernel, stride))
    _check_size(fn, grid, "output", input.shape)
    geometry = _Geometry(kernel, stride, tuple(a for a, _ in pads), dilation, image, grid, groups)
    keep_cols = weight.requires_grad and is_grad_enabled()
    return _with_bias(Conv2d(geometry, keep_cols)(input, weight), bias)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
                     padding: IntPair = 0, output_padding: IntPair = 0, groups: int = 1,
                     dilation: IntPair = 1) -> Tensor:
    r"""Transposed convolution (转置卷积), the adjoint of conv2d: the generator's upsampling layer.

    input (N, C_in, H, W), weight (C_in, C_out/groups, kH, kW), bias (C_out,) -> (N, C_out, Ho, Wo):
    each input pixel adds ``x[n, c, h, w] * weight[c, :, i, j]`` to the C_out/groups output
    channels of its group, at output position
    $(h s - \text{pad} + i d,\; w s - \text{pad} + j d)$, with
    $H_o = (H - 1) s - 2\,\text{pad} + d (k_H - 1) + 1 + \text{output\_padding}$.

    ``output_padding`` (< stride or < dilation) picks among the output sizes that a strided
    conv2d maps onto the input's size: it adds rows/columns at the bottom/right. The arguments
    come in PyTorch's order, ``groups`` before ``dilation``.
    """
    fn = "conv_transpose2d"
    input, weight, bias, groups = _check_operands(fn, input, weight, bias, groups, transposed=True)
    stride, dilation = _positive(stride, "stride", fn), _positive(dilation, "dilation", fn)
    padding = _positive(padding, "padding", fn, least=0)
    output_padding = _positive(output_padding, "output_padding", fn, least=0)
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{fn}: output_padding {output_padding} must be smaller than stride {stride} "
                         f"or dilation {dilation}")
    kernel, grid = weight.shape[2:], input.shape[2:]
    image = tuple((g - 1) * s - 2 * p + d * (k - 1) + 1 + op
                  for g, s, p, d, k, op in zip(grid, stride, padding, dilation, kernel, output_padding))
    _check_size(fn, image, "output", input.shape)
    geometry = _Geometry(kernel, stride, padding, dilation, image, grid, groups)
    return _with_bias(ConvTranspose2d(geometry)(input, weight), bias)
