"""Flatten and Unflatten: reshapes between a convolutional (N, C, H, W) and a dense (N, C*H*W) view."""
from __future__ import annotations

from collections.abc import Sequence

from ..ops.shape import normalize_dim
from ..tensor import Tensor
from .module import Module


class Flatten(Module):
    """Merge dims ``start_dim`` .. ``end_dim`` into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: ``Unflatten(1, (128, 7, 7))`` turns (N, 6272) into
    (N, 128, 7, 7), as a generator does after its first Linear layer (Keras's ``Reshape``)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        dim = normalize_dim(self.dim, input.ndim)
        try:
            return input.reshape(input.shape[:dim] + self.unflattened_size + input.shape[dim + 1:])
        except ValueError:
            raise ValueError(f"{self!r}: cannot split dim {self.dim} of an input of shape {tuple(input.shape)} "
                             f"into {self.unflattened_size}") from None

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
