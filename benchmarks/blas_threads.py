"""``--threads`` for BLAS, set before NumPy loads it: a benchmark's first import when run as a script.

Without threadpoolctl, OpenBLAS reads its thread count once, from the environment, when NumPy is
first imported; so a script that times NumPy must set it before its own ``import numpy``.
"""
import argparse
import os


def pin_blas_threads(argv: list[str], default: int = 2) -> int:
    """Put ``--threads`` (from ``argv``; ``default`` when absent) into BLAS's environment; returns it."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--threads", type=int, default=default)
    threads = parser.parse_known_args(argv)[0].threads
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    return threads
