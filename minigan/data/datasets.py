"""MNIST, shipped inside the package, and any other data set in MNIST's IDX files.

The four gzip IDX files of the MNIST database (Yann LeCun, Corinna Cortes, Christopher J. C.
Burges; CC BY-SA 3.0) ship in ``minigan/data/mnist_idx/``, so nothing is downloaded at run time.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .idx import IDXError, read_idx

MNIST_DIR = Path(__file__).with_name("mnist_idx")

# The standard file names of each split: (images, labels). Fashion-MNIST, KMNIST, ... use them too.
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# SHA-256 of the decompressed MNIST files (also listed in minigan/data/mnist_idx/README.md).
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

SCALES = ("tanh", "unit")


class MissingDataError(FileNotFoundError):
    """A data file that is in neither its gzip-compressed nor its uncompressed form."""


def mnist(split: str = "train", scale: str = "tanh", pad_to: int | None = None,
          data_dir: str | os.PathLike[str] | None = None,
          checksums: dict[str, str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` of MNIST's training (60,000) or test (10,000) split, as NumPy arrays.

    images: float32 of shape (N, 1, 28, 28), ink bright on a dark background, scaled to
        [-1, 1] for ``scale="tanh"`` (the range of a tanh generator's output) or to [0, 1] for
        ``scale="unit"`` (a sigmoid generator's; also what a Bernoulli VAE decoder models).
    labels: int64 of shape (N,), the digits 0-9.
    pad_to: if given (say 32, for a generator that doubles 4 -> 8 -> 16 -> 32), pad each image
        to pad_to x pad_to, centred, with the background value (-1 for tanh, 0 for unit). An
        odd margin puts its extra row and column at the bottom and right.
    data_dir: a folder of IDX files with MNIST's standard names (``train-images-idx3-ubyte.gz``,
        ... or the same without ``.gz``): Fashion-MNIST, say. Default: the copy of MNIST that
        ships with minigan.
    checksums: {file name without .gz: SHA-256 of its decompressed content}. Default: MNIST's
        for the bundled copy, none for a data_dir (Fashion-MNIST has MNIST's file names but
        other content); pass ``checksums=MNIST_SHA256`` to check a copy of MNIST kept elsewhere.
        The header and the file sizes are always checked.

    Raises MissingDataError if a file is missing and IDXError (or its subclass ChecksumError)
    if one is truncated or corrupted, naming the file and what is wrong. Decoded files are
    cached in memory, so a second call only rescales.
    """
    if split not in FILES:
        raise ValueError(f"mnist: split={split!r}, expected one of {tuple(FILES)}")
    if scale not in SCALES:
        raise ValueError(f"mnist: scale={scale!r}, expected one of {SCALES}")
    folder = MNIST_DIR if data_dir is None else Path(data_dir)
    if checksums is None:
        checksums = MNIST_SHA256 if data_dir is None else {}

    image_name, label_name = FILES[split]
    raw_images = read_idx(_find(folder, image_name), ndim=3, sha256=checksums.get(image_name))
    label_path = _find(folder, label_name)
    raw_labels = read_idx(label_path, ndim=1, sha256=checksums.get(label_name))
    if len(raw_labels) != len(raw_images):
        raise IDXError(label_path, f"{len(raw_labels):,} labels, expected {len(raw_images):,} "
                                   f"(one per image of {image_name})")

    if pad_to is not None:
        raw_images = _pad(raw_images, pad_to)
    # uint8 0..255 to float32; dividing (not multiplying by 1/127.5) maps 255 to exactly 1.
    images = raw_images[:, None].astype(np.float32)  # (N, 1, H, W): one channel, as conv layers want
    if scale == "tanh":
        images /= 127.5
        images -= 1.0
    else:
        images /= 255.0
    return images, raw_labels.astype(np.int64)


def _find(folder: Path, name: str) -> Path:
    """The path of ``name``, gzip-compressed or not, in ``folder``."""
    if not folder.is_dir():
        raise MissingDataError(f"mnist: data_dir {os.fspath(folder)} is not a folder")
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    raise MissingDataError(f"mnist: neither {name}.gz nor {name} is in {os.fspath(folder)}")


def _pad(raw_images: np.ndarray, pad_to: int) -> np.ndarray:
    """Zero-pad uint8 images to pad_to x pad_to, centred; 0 is the background in either scale."""
    _, rows, cols = raw_images.shape
    if not isinstance(pad_to, (int, np.integer)) or pad_to < max(rows, cols):
        raise ValueError(f"mnist: pad_to={pad_to!r}, expected an integer >= the image size "
                         f"({rows} x {cols})")
    top, left = (pad_to - rows) // 2, (pad_to - cols) // 2
    return np.pad(raw_images, ((0, 0), (top, pad_to - rows - top), (left, pad_to - cols - left)))
