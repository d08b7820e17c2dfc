"""The array backend: NumPy on the CPU, CuPy on an NVIDIA GPU, through one code path.

Every op asks `get_array_module(array)` for its ``xp`` and calls ``xp.exp``, ``xp.matmul``, ...;
the same line then runs on whichever device the array lives on. CuPy is imported only when a
GPU is asked for, so ``import minigan`` never needs it.
"""
from __future__ import annotations

import ctypes
import os
import sys
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

DEVICES = ("cpu", "cuda")


def get_array_module(array: object) -> ModuleType:
    """``numpy`` or ``cupy``: the module that owns ``array``."""
    cupy = sys.modules.get("cupy")  # an array can only be a CuPy array if CuPy was imported
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy
    return np


def is_floating(dtype: DTypeLike) -> bool:
    """Whether ``dtype`` (a dtype, a type such as ``np.float32``, or a name) is a floating-point type:
    the one test, used wherever minigan asks "can this be differentiated?". Kind "f" is what
    ``np.issubdtype(dtype, np.floating)`` tests, at a tenth of its cost: every op asks, so it counts."""
    return np.dtype(dtype).kind == "f"


def device_of(array: np.ndarray) -> str:
    return "cuda" if get_array_module(array) is not np else "cpu"


def check_device(device: str) -> str:
    """Normalise a device name ('cpu', 'cuda', 'cuda:0') and fail clearly if it cannot be used."""
    name = str(device).split(":")[0]
    if name not in DEVICES:
        raise ValueError(f"minigan: unknown device {device!r}; expected one of {DEVICES}")
    if name == "cuda":
        _cupy()
    return name


def default_device() -> str:
    """The device new tensors are made on: ``$MINIGAN_DEVICE``, else 'cpu'."""
    return check_device(os.environ.get("MINIGAN_DEVICE", "cpu"))


def to_device(array: np.ndarray, device: str) -> np.ndarray:
    """Copy ``array`` to ``device`` (a no-op when it is already there)."""
    device = check_device(device)
    if device == device_of(array):
        return array
    if device == "cpu":
        return array.get()  # type: ignore[attr-defined]  # a CuPy array here: its .get() copies it to the host
    return _cupy().asarray(array)


def scatter_add(target: np.ndarray, index: Any, values: np.ndarray) -> None:
    """``target[index] += values`` where repeated indices add up (the backward of a gather)."""
    xp = get_array_module(target)
    if xp is np and isinstance(index, np.ndarray) and index.dtype.kind in "iu" and target.ndim > 0:
        # Rows picked by one integer array (an embedding's backward): NumPy's add.at scatters
        # single elements by flat position much faster than it scatters whole rows.
        row = target[0].size
        flat = ((index.reshape(-1) % target.shape[0])[:, None] * row + np.arange(row)).reshape(-1)
        np.add.at(target.reshape(-1), flat, values.reshape(-1))
    elif xp is np:
        np.add.at(target, index, values)
    else:
        import cupyx

        cupyx.scatter_add(target, index, values)


def _cupy() -> ModuleType:
    from . import cuda

    if not cuda.is_available():
        raise RuntimeError(f"minigan: device 'cuda' is not available: {cuda.why_unavailable()}")
    import cupy

    return cupy


def keep_freed_memory() -> bool:
    """Opt in: let glibc's malloc keep freed large blocks for reuse instead of handing them back to
    the OS; returns whether it could (glibc on Linux only).

    A training step allocates arrays of megabytes (im2col matrices, activations). By default glibc
    gives a block above its mmap threshold its own mapping and unmaps it on free, and the kernel
    then zero-fills every page of the next one on first touch (`docs/benchmarks.md` measures the
    cost). Here blocks below 256 MB (32 MB where an older glibc caps the setting) come from
    malloc's heap, which keeps freed memory for the next step. This changes malloc's settings for
    the whole process, which is the host's to decide: `import minigan` never calls it. minigan's
    own processes do (the ``minigan`` command, the lessons run as scripts, the benchmarks that
    time minigan); call it yourself in a notebook that trains for long, knowing that the process
    will hold on to memory it freed (the heap's free top up to 1 GB) instead of returning it.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, ...): leave the allocator as it is
        return False
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
    if not (libc.mallopt(M_MMAP_THRESHOLD, 256 << 20) or libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)):
        # Touch nothing else: either setting below fixes the threshold, which glibc otherwise
        # raises as blocks are freed, at its starting 128 KB, and more blocks would be mapped.
        return False
    libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)  # freed blocks stay in the heap for the next step
    libc.mallopt(M_TOP_PAD, 64 << 20)
    return True
