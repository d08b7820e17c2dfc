"""Reading IDX files, the format MNIST (and Fashion-MNIST, KMNIST, ...) is distributed in.

An IDX file is a big-endian header followed by the raw data, row-major:

    bytes 0-1   zero
    byte  2     element type (0x08 = uint8, the only one these data sets use)
    byte  3     number of dimensions d
    then d big-endian uint32 sizes, then prod(sizes) uint8 values.

So MNIST's image files start with the magic number 0x00000803 (uint8, 3 dimensions: count, rows,
columns) and its label files with 0x00000801 (uint8, 1 dimension: count). Files are usually
gzip-compressed; a name ending in ``.gz`` is decompressed on reading.
"""
from __future__ import annotations

import gzip
import hashlib
import math
import os
import zlib

import numpy as np

UINT8 = 0x08


class IDXError(ValueError):
    """An IDX file whose content is wrong: not gzip, a bad header, the wrong size or checksum."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = os.fspath(path)
        super().__init__(f"{self.path}: {problem}")


class ChecksumError(IDXError):
    """The SHA-256 of a file's decompressed content is not the one it should have."""

    def __init__(self, path: str | os.PathLike[str], expected: str, actual: str) -> None:
        self.expected, self.actual = expected, actual
        super().__init__(path, f"SHA-256 of the decompressed content is {actual}, expected {expected}: "
                               "the file is corrupted or is not the file its name says")


# realpath -> (size and mtime when read, decoded array, SHA-256 of the decompressed bytes).
# Keyed by path with a stat signature so that a file rewritten on disk is read again.
_cache: dict[str, tuple[tuple[int, int], np.ndarray, str]] = {}


def read_idx(path: str | os.PathLike[str], ndim: int | None = None, sha256: str | None = None) -> np.ndarray:
    """The uint8 array stored in the IDX file at ``path`` (gzip-compressed if it ends in ``.gz``).

    ndim: the number of dimensions the file must have (3 for images, 1 for labels), or None.
    sha256: the expected SHA-256 hex digest of the *decompressed* content, or None to skip that
        check. (The digest of the content, not of the .gz: two gzip tools compress the same
        bytes differently.)

    Decoded arrays are cached per file, so reading the same file again costs a ``stat``. The
    array returned is that cached one and read-only: copy it before changing it in place.
    """
    real = os.path.realpath(path)
    stat = os.stat(real)
    signature = (stat.st_size, stat.st_mtime_ns)
    if real not in _cache or _cache[real][0] != signature:
        content = _read_bytes(path)
        # Hash before decoding: frombuffer keeps ``content`` alive as the array's memory, no copy.
        _cache[real] = (signature, _decode(path, content), hashlib.sha256(content).hexdigest())
    _, array, digest = _cache[real]
    if ndim is not None and array.ndim != ndim:
        raise IDXError(path, f"magic number 0x{0x0800 | array.ndim:08x} ({array.ndim}-dimensional "
                             f"data), expected 0x{0x0800 | ndim:08x} ({ndim}-dimensional)")
    if sha256 is not None and digest != sha256.lower():
        raise ChecksumError(path, sha256.lower(), digest)
    return array


def _read_bytes(path: str | os.PathLike[str]) -> bytes:
    if not os.fspath(path).endswith(".gz"):
        with open(path, "rb") as f:
            return f.read()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        # EOFError: the stream stops early (a truncated download); BadGzipFile: a bad header or CRC.
        raise IDXError(path, f"not a valid, complete gzip stream ({error}): the file is "
                             "truncated or corrupted") from error


def _decode(path: str | os.PathLike[str], content: bytes) -> np.ndarray:
    """Check the header against the content's length, then view the data: no copy, no loop."""
    if len(content) < 4:
        raise IDXError(path, f"{len(content)} bytes, too short for an IDX magic number (4 bytes)")
    magic = int.from_bytes(content[:4], "big")
    if magic >> 16 != 0 or content[2] != UINT8:
        raise IDXError(path, f"magic number 0x{magic:08x}, expected 0x000008NN (uint8 data in NN "
                             "dimensions): not a uint8 IDX file")
    ndim = content[3]
    header = 4 + 4 * ndim
    if len(content) < header:
        raise IDXError(path, f"{len(content)} bytes, expected at least {header} for the header of a "
                             f"{ndim}-dimensional IDX file: the file is truncated")
    shape = tuple(int(size) for size in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))
    expected = header + math.prod(shape)
    if len(content) != expected:
        what = "truncated" if len(content) < expected else "longer than its header says"
        raise IDXError(path, f"{len(content):,} bytes, expected {expected:,} (a {header}-byte header "
                             f"then {' x '.join(map(str, shape))} uint8 values): the file is {what}")
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)
