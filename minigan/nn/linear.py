r"""Layers that map each input vector through a weight matrix: Linear and Embedding.

An Embedding is a Linear layer without bias applied to one-hot vectors: $\text{onehot}(i)\,W = W_i$,
so it is written as a row lookup instead of a product with mostly zeros.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import DTypeLike

from ..creation import zeros
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter


def reset_affine_parameters(weight: Tensor, bias: Tensor | None) -> None:
    r"""PyTorch's default for Linear and Conv layers: weight by kaiming_uniform_ with $a = \sqrt 5$,
    i.e. $\mathcal{U}(-1/\sqrt{\text{fan\_in}}, 1/\sqrt{\text{fan\_in}})$, and bias from that same uniform."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    r"""Fully connected layer (全连接层): $y = x W^\top + b$.

    Input (*, in_features) -> output (*, out_features). ``weight`` is (out_features, in_features),
    ``bias`` (out_features,); both start as $\mathcal{U}(-1/\sqrt{\text{in\_features}}, 1/\sqrt{\text{in\_features}})$.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: str | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(out_features, in_features, device=device, dtype=dtype))
        self.bias = Parameter(zeros(out_features, device=device, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine_parameters(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input, input.ndim >= 1 and input.shape[-1] == self.in_features,
                          f"(*, {self.in_features})", self.weight.dtype)
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    r"""A lookup table (词嵌入): integer indices of any shape -> their rows of ``weight``, $y = W_{x}$.

    ``weight`` is (num_embeddings, embedding_dim), initialised $\mathcal{N}(0, 1)$. The row
    ``padding_idx``, if given, starts at zero and receives no gradient. Of PyTorch's other
    options, ``max_norm`` and ``norm_type`` are supported (see ``F.embedding``).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, device: str | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings {num_embeddings}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.weight = Parameter(zeros(num_embeddings, embedding_dim, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        if not np.issubdtype(input.dtype, np.integer):
            raise TypeError(f"{self!r}: expected a tensor of integer indices, got dtype {input.dtype}")
        try:
            return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type)
        except IndexError as error:  # an index outside the table: say which layer it was
            raise IndexError(f"{self!r}: {error}") from None

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        return s
