"""Time minigan's conv2d and conv_transpose2d at the DCGAN-MNIST shapes, beside PyTorch and BLAS.

Each workload is timed forward only and forward+backward (gradients for input and weight), in
float32, as the median of several runs after a warm-up. Two yardsticks in the same run:

* PyTorch's CPU build with as many threads as BLAS (2 by default), as a ratio minigan/torch
  (if torch imports);
* NumPy's own float32 GEMM speed, at its best: a convolution here *is* a few GEMMs plus copies,
  so its GFLOP/s over the GEMM's GFLOP/s says how much time goes to the copies around them.

    python benchmarks/conv.py [--repeats 20] [--threads 2] [--json results.json]

Some machines set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which can slow OpenBLAS down; unset them
for the benchmark run only (``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python ...``).
"""
import argparse
import json
import platform
import statistics
import time

import numpy as np

BATCH = 64
# name, function, input shape, weight shape: all kernel 4, stride 2, padding 1 (DCGAN on MNIST)
WORKLOADS = [
    ("conv2d_1x64_28", "conv2d", (BATCH, 1, 28, 28), (64, 1, 4, 4)),
    ("conv2d_64x128_14", "conv2d", (BATCH, 64, 14, 14), (128, 64, 4, 4)),
    ("conv_transpose2d_128x64_7", "conv_transpose2d", (BATCH, 128, 7, 7), (128, 64, 4, 4)),
    ("conv_transpose2d_64x1_14", "conv_transpose2d", (BATCH, 64, 14, 14), (64, 1, 4, 4)),
]
CONV = dict(stride=2, padding=1)
PASSES = (("fwd", False), ("fwdbwd", True))  # a workload's name ends with its pass: forward, or forward+backward


def conv_inputs(x_shape, w_shape, rng):
    """An input ~ N(0, 1) and a weight ~ N(0, 0.1^2), float32."""
    return rng.standard_normal(x_shape, dtype=np.float32), rng.standard_normal(w_shape, dtype=np.float32) * 0.1


def median_ms(fns, repeats, warmup=3, rounds=4):
    """The median time of each function in ms, over ``repeats`` runs after a warm-up.

    The functions take turns in blocks (``rounds`` of them), so a busy spell on a shared machine
    slows all of them alike. Not call by call: the threads of OpenBLAS and of PyTorch's OpenMP
    spin for a while after each call, and would slow the other library's next call down.
    """
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, t in zip(fns, times):
            for _ in range(warmup):
                fn()
            for _ in range(max(1, repeats // rounds)):
                start = time.perf_counter()
                fn()
                t.append(time.perf_counter() - start)
    return [1e3 * statistics.median(t) for t in times]


def conv_flops(kind, x_shape, w_shape):
    """2 x the multiply-adds of one forward pass: each weight meets every output pixel (conv2d)
    or every input pixel (conv_transpose2d). The backward pass costs twice that (input + weight)."""
    n, _, h, w = x_shape
    if kind == "conv2d":
        k, s, p = w_shape[2], CONV["stride"], CONV["padding"]
        h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    return 2 * n * h * w * int(np.prod(w_shape))


def conv_gflops(kind, x_shape, w_shape, backward, ms):
    """The GFLOP/s of a pass that took ``ms``: forward, or forward and backward (three times the work)."""
    return (3 if backward else 1) * conv_flops(kind, x_shape, w_shape) / ms / 1e6


def gemm_gflops(repeats, n=1024):
    """NumPy's float32 GEMM speed, n x n by n x n, at its best of ``repeats`` runs after a warm-up: the
    ceiling a convolution's GEMMs can reach (a median would sink with any busy spell of the machine)."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    a @ a
    best = float("inf")
    for _ in range(max(repeats, 5)):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def runner(lib, fn, x, w, backward):
    """A closure that runs one forward (and backward) pass of ``fn`` with library ``lib``."""
    xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
    seed = lib.ones_like(fn(xt, wt, **CONV))

    def run():
        y = fn(xt, wt, **CONV)
        if backward:
            xt.grad = wt.grad = None
            y.backward(seed)

    return run


def cpu_description():
    """The CPU's model name and logical cores (Linux), else what `platform` says: every figure names its machine."""
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            return f"{names[0]} ({len(names)} logical cores)"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_description():
    """The BLAS NumPy runs, with its kernel and threads (threadpoolctl), else the one NumPy was built with."""
    try:
        import threadpoolctl
    except ImportError:
        try:
            info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
            return f"{info['name']} {info['version']} (NumPy's build; threads from OPENBLAS_NUM_THREADS)"
        except (KeyError, TypeError, ValueError):
            return "unknown (threadpoolctl not installed)"
    infos = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}, {i['num_threads']} threads)"
                     for i in infos) or "none found"


def set_threads(threads):
    """Give BLAS and PyTorch ``threads`` threads each; returns torch, or None if it is not installed."""
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    try:
        import threadpoolctl

        threadpoolctl.threadpool_limits(threads, user_api="blas")
    except ImportError:
        pass
    return torch


def main():
    # Here, not at the top: benchmarks/run.py imports this file in its PyTorch worker, which measures torch alone.
    import minigan as mg
    from minigan.backend import keep_freed_memory
    from minigan.nn import functional as F

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2, help="threads for BLAS and for torch (default 2)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args()
    torch = set_threads(args.threads)
    keep_freed_memory()  # as the minigan command does

    rng = np.random.default_rng(0)
    gemm = gemm_gflops(args.repeats)
    results = {}
    for name, kind, x_shape, w_shape in WORKLOADS:
        x, w = conv_inputs(x_shape, w_shape, rng)
        for suffix, backward in PASSES:
            runners = [runner(mg, getattr(F, kind), x, w, backward)]
            if torch:
                runners.append(runner(torch, getattr(torch.nn.functional, kind), x, w, backward))
            ms, torch_ms = (median_ms(runners, args.repeats) + [None])[:2]
            results[f"{name}_{suffix}"] = {
                "minigan_ms": round(ms, 3),
                "torch_ms": round(torch_ms, 3) if torch else None,
                "ratio": round(ms / torch_ms, 2) if torch else None,
                "gflops": round(conv_gflops(kind, x_shape, w_shape, backward, ms), 1),
            }

    print(f"BLAS: {blas_description()}")
    print(f"NumPy float32 GEMM (1024^3): {gemm:.0f} GFLOP/s"
          + (f"; torch {torch.__version__}, {args.threads} threads" if torch else ""))
    print(f"{'workload':38} {'minigan ms':>10} {'torch ms':>9} {'ratio':>6} {'GFLOP/s':>8} {'% GEMM':>7}")
    for name, r in results.items():
        torch_cols = f"{r['torch_ms']:9.2f} {r['ratio']:6.2f}" if torch else f"{'-':>9} {'-':>6}"
        print(f"{name:38} {r['minigan_ms']:10.2f} {torch_cols} {r['gflops']:8.1f} {100 * r['gflops'] / gemm:6.0f}%")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"workloads": results, "gemm_gflops": round(gemm, 1), "blas": blas_description(),
                       "threads": args.threads}, f, indent=2)


if __name__ == "__main__":
    main()
