"""Pictures people would rather see than read: sample grids, loss curves, 2-D samples over their modes.

matplotlib is imported here only, inside each function, and always with the headless Agg backend.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _pyplot() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Figure, path: str | os.PathLike[str]) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)


def image_grid(images: ArrayLike, nrow: int | None = None,
               value_range: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """Tile (N, C, H, W) images into one (rows*H, cols*W[, C]) array in [0, 1], with 2-pixel gaps."""
    images = np.asarray(images, dtype=np.float32)
    n, c, h, w = images.shape
    lo, hi = value_range
    images = np.clip((images - lo) / (hi - lo), 0, 1)
    cols = nrow or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.ones((rows * (h + 2) + 2, cols * (w + 2) + 2, c), dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, cols)
        grid[2 + r * (h + 2):2 + r * (h + 2) + h, 2 + k * (w + 2):2 + k * (w + 2) + w] = images[i].transpose(1, 2, 0)
    return grid[..., 0] if c == 1 else grid


def save_image_grid(images: ArrayLike, path: str | os.PathLike[str], title: str | None = None,
                    value_range: tuple[float, float] = (-1.0, 1.0), nrow: int | None = None) -> None:
    """`image_grid` as a PNG: ``nrow`` images a row (default: a square)."""
    plt = _pyplot()
    grid = image_grid(images, nrow=nrow, value_range=value_range)
    fig = plt.figure(figsize=(6, 6 * grid.shape[0] / grid.shape[1] + (0.4 if title else 0)))
    plt.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    plt.axis("off")
    if title:
        plt.title(title)
    _save(fig, path)


def save_loss_curves(steps: Sequence[int], curves: dict[str, Sequence[float]], path: str | os.PathLike[str],
                     title: str = "losses") -> None:
    """One line per named curve (``curves``: name -> values), against the training step."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, values in curves.items():
        ax.plot(steps, values, label=name, linewidth=1)
    ax.set(xlabel="step", title=title)
    ax.legend()
    ax.grid(alpha=0.3)
    _save(fig, path)


def save_points(samples: np.ndarray, path: str | os.PathLike[str], modes: np.ndarray | None = None,
                real: np.ndarray | None = None, title: str | None = None, limit: float | None = None) -> None:
    """2-D samples as a scatter (with the real data and the mode centres, when given)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    if real is not None:
        ax.scatter(real[:, 0], real[:, 1], s=2, c="#bbbbbb", label="real")
    ax.scatter(samples[:, 0], samples[:, 1], s=2, c="#1f77b4", label="generated")
    if modes is not None:
        ax.scatter(modes[:, 0], modes[:, 1], s=40, marker="x", c="red", label="modes")
    if limit:
        ax.set(xlim=(-limit, limit), ylim=(-limit, limit))
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8)
    if title:
        ax.set_title(title)
    _save(fig, path)


def save_metric_curves(steps: Sequence[int], curves: dict[str, Sequence[float]], path: str | os.PathLike[str],
                       title: str = "metrics") -> None:
    """One small panel per metric (they live on different scales), against the training step."""
    plt = _pyplot()
    names = list(curves)
    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        ax.plot(steps, curves[name], marker="o", markersize=3)
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(title)
    _save(fig, path)
