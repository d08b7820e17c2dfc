r"""Convolution layers (卷积层): Conv2d and its transpose, ConvTranspose2d (the generator's upsampler).

For an input of size $i$, kernel $k$, stride $s$, padding $p$ and dilation $d$:

    Conv2d:          out = floor((i + 2p - d(k - 1) - 1) / s) + 1
    ConvTranspose2d: out = (i - 1)s - 2p + d(k - 1) + output_padding + 1

ConvTranspose2d is the gradient of Conv2d with respect to its input: it spreads each input pixel
over a k x k patch of the output, the patches ``stride`` apart.
"""
from __future__ import annotations

import math

from numpy.typing import DTypeLike

from ..creation import zeros
from ..tensor import Tensor
from . import functional as F
from .functional.conv import IntPair, _check_groups, _conv_padding, _pair, _positive
from .linear import reset_affine_parameters
from .module import Module, Parameter


def transposed_same_padding(kernel_size: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    r"""``(padding, output_padding)`` that give ConvTranspose2d Keras's ``padding='same'``: out = in * stride.

    With the effective kernel $k' = d(k - 1) + 1$, PyTorch's output size is
    $(i - 1)s - 2p + k' - 1 + o + 1 = i s + (k' - s) - 2p + o$, so 'same' needs $2p - o = k' - s$:

    $$p = \max\left(\left\lceil \frac{k' - s}{2} \right\rceil, 0\right), \qquad o = 2p - (k' - s).$$

    For $k' \ge s$ this gives $o \in \{0, 1\}$, for $k' < s$ it gives $p = 0$, $o = s - k'$.
    PyTorch requires $o < \max(s, d)$, which fails in one case only: stride 1 (and dilation 1)
    with an even kernel. There $k' - s$ is odd, so one side would need one row more padding
    than the other, which ``padding`` cannot say; that case raises a ValueError.

    Sizes always match Keras. Values match too when $k' - s$ is even or $k' \le s$. When
    $k' - s$ is odd (Keras's usual 5 x 5 kernel with stride 2), PyTorch trims the extra row at
    the top/left where TensorFlow trims it at the bottom/right: the same layer, its output
    shifted by one pixel. That does not matter when training from scratch, only when porting
    trained Keras weights.
    """
    effective = dilation * (kernel_size - 1) + 1
    padding = max(math.ceil((effective - stride) / 2), 0)
    output_padding = 2 * padding - (effective - stride)
    if output_padding >= max(stride, dilation):
        raise ValueError(f"ConvTranspose2d: padding='same' with kernel_size {kernel_size}, stride {stride} and "
                         f"dilation {dilation} needs {effective - stride} rows of padding split unevenly, which "
                         "PyTorch's symmetric padding cannot express; use an odd kernel_size or stride > 1")
    return padding, output_padding


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: hyperparameters, the weight, its init and the repr."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair,
                 padding: IntPair | str, dilation: IntPair, transposed: bool, output_padding: IntPair, groups: int,
                 bias: bool, padding_mode: str, device: str | None, dtype: DTypeLike | None) -> None:
        super().__init__()
        name = type(self).__name__
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be one of 'zeros', 'reflect', "
                             f"'replicate', 'circular', got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.groups = _check_groups(name, groups, {"in_channels": in_channels, "out_channels": out_channels})
        self.kernel_size = _positive(kernel_size, "kernel_size", name)
        self.stride, self.dilation = _positive(stride, "stride", name), _positive(dilation, "dilation", name)
        self.padding = padding if isinstance(padding, str) else _positive(padding, "padding", name, least=0)
        self.output_padding = _positive(output_padding, "output_padding", name, least=0)
        self.padding_mode = padding_mode
        # Conv2d maps C_in -> C_out, its transpose C_out -> C_in: both store the "forward conv" shape,
        # (its C_out, its C_in / groups, ...), so that fan_in (dim 1) counts one group's inputs, as in torch
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups))
        self.weight = Parameter(zeros(shape + self.kernel_size, device=device, dtype=dtype))
        self.bias = Parameter(zeros(out_channels, device=device, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine_parameters(self.weight, self.bias)

    def _check_images(self, input: Tensor) -> None:
        self._check_input(input, input.ndim == 4 and input.shape[1] == self.in_channels,
                          f"(N, {self.in_channels}, H, W)", self.weight.dtype)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    r"""2-D convolution (cross-correlation, as in every framework) of an (N, C_in, H, W) input:

    $y_{n,o} = b_o + \sum_{c} W_{o,c} \star x_{n,c}$, giving (N, C_out, H_out, W_out).

    ``weight`` is (C_out, C_in/groups, kH, kW): with ``groups`` G the channels split into G
    independent convolutions, each from C_in/G input to C_out/G output channels (G = C_in is a
    depthwise convolution). ``padding`` is an int, a pair, 'valid' (no padding) or 'same' (output
    size = input size; stride 1 only, as in PyTorch). A ``padding_mode`` other than 'zeros' pads
    the input with ``F.pad`` first, by the amounts F.conv2d's padding rule gives.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair | str = 0, dilation: IntPair = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: str | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups,
                         bias, padding_mode, device, dtype)
        self._pad_amounts()  # a bad padding fails here, where the layer is built, not at its first call

    def _pad_amounts(self) -> tuple[int, ...]:
        """F.pad's (left, right, top, bottom): F.conv2d's padding rule, in F.pad's order (last dim first)."""
        rows, columns = _conv_padding(type(self).__name__, self.padding, self.kernel_size, self.stride,
                                      self.dilation)
        return columns + rows

    def forward(self, input: Tensor) -> Tensor:
        self._check_images(input)
        if self.padding_mode == "zeros":
            return F.conv2d(input, self.weight, self.bias, stride=self.stride, padding=self.padding,
                            dilation=self.dilation, groups=self.groups)
        padded = F.pad(input, self._pad_amounts(), mode=self.padding_mode)
        return F.conv2d(padded, self.weight, self.bias, stride=self.stride, padding=0, dilation=self.dilation,
                        groups=self.groups)


class ConvTranspose2d(_ConvNd):
    r"""Transposed 2-D convolution (转置卷积), the upsampling layer of DCGAN's generator.

    Each input pixel adds $x_{n,c,i,j} W_{c,o}$ into the output patch at $(i s, j s)$; then
    ``padding`` rows and columns are trimmed from each side and ``output_padding`` extra rows and
    columns are kept at the bottom/right. ``weight`` is (C_in, C_out/groups, kH, kW): with
    ``groups`` G, each of G independent transposed convolutions maps C_in/G channels to C_out/G.

    ``padding='same'`` is Keras's: output size = input size * stride, so a Keras generator layer
    ``Conv2DTranspose(128, (5, 5), strides=(2, 2), padding='same')`` can be written as
    ``ConvTranspose2d(c_in, 128, (5, 5), stride=(2, 2), padding='same')``. It is turned into
    PyTorch's padding and output_padding per dimension by `transposed_same_padding` (for k = 5,
    s = 2: padding 2, output_padding 1), which also says which cases it cannot express.
    Only ``padding_mode='zeros'`` exists for the transpose, as in PyTorch.
    """

    padding: tuple[int, int]  # never a str here: __init__ turns 'same' into numbers

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair | str = 0, output_padding: IntPair = 0, groups: int = 1, bias: bool = True,
                 dilation: IntPair = 1, padding_mode: str = "zeros", device: str | None = None,
                 dtype: DTypeLike | None = None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose2d: only padding_mode='zeros' is supported, got {padding_mode!r}")
        if padding == "same":
            name = "ConvTranspose2d"
            if output_padding != 0:
                raise ValueError(f"{name}: padding='same' sets output_padding itself; leave output_padding at 0")
            (pad_h, extra_h), (pad_w, extra_w) = [  # (padding, output_padding) of the height, then the width
                transposed_same_padding(k, s, d) for k, s, d in
                zip(_pair(kernel_size, "kernel_size", name), _pair(stride, "stride", name),
                    _pair(dilation, "dilation", name))]
            padding, output_padding = (pad_h, pad_w), (extra_h, extra_w)
        elif isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: padding must be an int, a pair or 'same', got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True, output_padding,
                         groups, bias, padding_mode, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        self._check_images(input)
        return F.conv_transpose2d(input, self.weight, self.bias, stride=self.stride, padding=self.padding,
                                  output_padding=self.output_padding, groups=self.groups, dilation=self.dilation)
