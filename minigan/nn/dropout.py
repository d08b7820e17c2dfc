"""Dropout (随机失活): a regulariser that is only active in training mode."""
from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class Dropout(Module):
    r"""In training, zero each element with probability ``p`` and scale the rest by $1/(1 - p)$,
    so the expected output equals the input; in evaluation (``model.eval()``), the identity.

    ``inplace`` is accepted for PyTorch compatibility; minigan computes out of place (same values).
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability p has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
