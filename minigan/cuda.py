"""Is there a GPU minigan can use? (CuPy installed and at least one CUDA device visible.)"""
from __future__ import annotations

import functools


@functools.cache
def why_unavailable() -> str | None:
    """None when CUDA can be used, else the reason in one sentence."""
    try:
        import cupy
    except Exception as error:  # ImportError, or a CUDA library that fails to load
        return f"CuPy is not importable ({error}); install it with pip install 'minigan[gpu]'"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:
        return f"CuPy cannot reach a GPU ({error})"
    return None if count > 0 else "CuPy sees no GPU"


def is_available() -> bool:
    return why_unavailable() is None


def device_count() -> int:
    if not is_available():
        return 0
    import cupy

    return cupy.cuda.runtime.getDeviceCount()


def synchronize() -> None:
    """Wait for queued GPU work: needed before reading a timer around GPU code."""
    if is_available():
        import cupy

        cupy.cuda.Device().synchronize()
