"""Data for the lessons: MNIST (shipped in the package), toy 2-D mixtures, a batch iterator.

    from minigan.data import DataLoader, mnist, ring8
    images, labels = mnist("train")                  # float32 (60000, 1, 28, 28) in [-1, 1]
    for x, y in DataLoader(images, labels, batch_size=64, seed=0):
        ...                                          # minigan Tensors, one shuffled epoch
    points = ring8(512)                              # float32 (512, 2), 8 Gaussians on a circle
"""
from .datasets import FILES, MNIST_DIR, MNIST_SHA256, MissingDataError, mnist
from .idx import ChecksumError, IDXError, read_idx
from .loader import DataLoader
from .toy import MIXTURES, Mixture, grid25, grid25_modes, ring8, ring8_modes

__all__ = [
    "mnist", "MNIST_DIR", "MNIST_SHA256", "FILES", "read_idx",
    "IDXError", "ChecksumError", "MissingDataError",
    "ring8", "ring8_modes", "grid25", "grid25_modes", "MIXTURES", "Mixture", "DataLoader",
]
