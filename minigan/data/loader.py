"""A seeded, shuffling batch iterator over NumPy arrays, yielding minigan Tensors."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike

from .. import backend
from ..creation import tensor
from ..random import generator
from ..tensor import Tensor


class DataLoader:
    """Batches of rows of ``arrays`` (all with the same first dimension), one epoch per pass.

        images, labels = minigan.data.mnist()
        loader = DataLoader(images, labels, batch_size=64, seed=0)
        for epoch in range(5):
            for x, y in loader:      # x: float32 (64, 1, 28, 28), y: int64 (64,)
                ...

    Each batch is a tuple of Tensors, one per array (so ``for (x,) in DataLoader(x_all)`` for
    one array): float arrays become float32, integer arrays int64, on ``device`` (default: the
    default device, ``$MINIGAN_DEVICE`` or the CPU).

    The order of epoch e is a permutation drawn from ``np.random.default_rng((seed, e))``: a
    function of the seed and the epoch alone, not of how many batches were drawn before. So a
    run resumed at epoch k sees the same batches as the uninterrupted run: set ``loader.epoch =
    k`` before iterating. Each ``iter()`` uses ``loader.epoch`` and then advances it by one.
    With ``seed=None`` the seed is drawn from minigan's generator, so ``manual_seed`` fixes it.

    drop_last: skip the final, smaller batch, so that every batch has ``batch_size`` rows (a
        GAN's batch statistics and the shapes of its noise then never change mid-training).
    """

    def __init__(self, *arrays: ArrayLike, batch_size: int = 64, shuffle: bool = True, drop_last: bool = True,
                 seed: int | None = None, device: str | None = None) -> None:
        if not arrays:
            raise ValueError("DataLoader: expected at least one array")
        standard = tuple(_standard_dtype(np.asarray(a)) for a in arrays)
        lengths = [len(a) for a in standard]
        if len(set(lengths)) != 1:
            raise ValueError(f"DataLoader: the arrays have {lengths} rows, expected the same number")
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size={batch_size!r}, expected a positive integer")
        self.arrays: tuple[np.ndarray, ...] = standard
        self.batch_size = int(batch_size)
        self.shuffle, self.drop_last, self.device = shuffle, drop_last, device
        self.seed = int(generator().integers(2**63)) if seed is None else int(seed)
        self.epoch = 0
        self._cached_order: np.ndarray | None = None
        self._cached_epoch: int | None = None

    def __len__(self) -> int:
        """The number of batches per epoch."""
        n = len(self.arrays[0])
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        """The row indices of epoch ``epoch``, in the order its batches take them."""
        n = len(self.arrays[0])
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng((self.seed, epoch)).permutation(n)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        # A plain method returning a generator, so the epoch advances when iteration starts.
        epoch = self.epoch
        self.epoch += 1
        return (self.batch(epoch, i) for i in range(len(self)))

    def batch(self, epoch: int, index: int) -> tuple[Tensor, ...]:
        """Batch ``index`` of epoch ``epoch``: what a resumed run asks for to pick up mid-epoch."""
        if self._cached_order is None or self._cached_epoch != epoch:  # one permutation per epoch, not per batch
            self._cached_order, self._cached_epoch = self.order(epoch), epoch
        rows = self._cached_order[index * self.batch_size:(index + 1) * self.batch_size]
        return tuple(tensor(a[rows], device=self.device) for a in self.arrays)


def _standard_dtype(array: np.ndarray) -> np.ndarray:
    """float32 for floating-point data, int64 for integers (labels, as cross-entropy wants)."""
    if backend.is_floating(array.dtype):
        return array.astype(np.float32, copy=False)
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.int64, copy=False)
    return array
