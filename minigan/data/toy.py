"""Toy 2-D data sets, mixtures of Gaussians, for watching a GAN cover (or collapse onto) modes.

A generator that has collapsed puts all its samples near one or a few of the mode centres; with
the centres known, counting the modes that receive samples measures it (hence ``*_modes()``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..metrics import nearest_neighbours
from ..random import generator


def ring8_modes(radius: float = 1.0) -> np.ndarray:
    """The 8 centres of `ring8`, float32 (8, 2): radius * (cos, sin) of the angles 2*pi*k/8.

    Why not ``np.linspace(0, 2 * np.pi, 8)``, as several public demos write? linspace includes
    both endpoints, so its first and last angles, 0 and 2*pi, are the same point: that gives 7
    distinct modes (one drawn twice as often), unevenly spaced. ``2 * pi * arange(8) / 8``
    (or ``linspace(0, 2 * pi, 8, endpoint=False)``) gives 8, 45 degrees apart.
    """
    angles = 2 * np.pi * np.arange(8) / 8
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def grid25_modes() -> np.ndarray:
    """The 25 centres of `grid25`, float32 (25, 2): every point of {-4, -2, 0, 2, 4}^2."""
    values = np.arange(-4, 5, 2)
    xs, ys = np.meshgrid(values, values, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)


def ring8(n: int, std: float = 0.01, radius: float = 1.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """n samples, float32 (n, 2), from 8 Gaussians evenly spaced on a circle (see `ring8_modes`).

    Each sample picks a mode uniformly, then adds isotropic noise of standard deviation ``std``.
    Random numbers come from ``rng`` (a NumPy Generator), else from minigan's seeded generator.
    """
    return _mixture(ring8_modes(radius), n, std, rng, "ring8")


def grid25(n: int, std: float = 0.05, rng: np.random.Generator | None = None) -> np.ndarray:
    """n samples, float32 (n, 2), from 25 Gaussians on a 5 x 5 grid (see `grid25_modes`).

    Each sample picks a mode uniformly, then adds isotropic noise of standard deviation ``std``.
    Random numbers come from ``rng`` (a NumPy Generator), else from minigan's seeded generator.
    """
    return _mixture(grid25_modes(), n, std, rng, "grid25")


@dataclass(frozen=True)
class Mixture:
    """A mixture by name (`MIXTURES`): its sampler, its mode centres, and each Gaussian's standard
    deviation (the sampler's default; metrics count a sample near a mode in units of it)."""

    sample: Callable[..., np.ndarray]  # (n, rng=None) -> float32 (n, 2)
    modes: Callable[[], np.ndarray]
    std: float

    def nearest_mode(self, points: np.ndarray) -> np.ndarray:
        r"""The index of each point's nearest mode centre, integers (N,): $\arg\min_k \lVert x - m_k \rVert_2$.

        For the data's own points it is the mode that drew them: neighbouring centres lie 77 std apart
        in ring8 and 40 in grid25, so a point nearer another centre than its own lies 20 std or more
        from its own, which does not happen. So it labels the data with its modes (the toy conditional
        GAN's labels), and tells which mode a generator's sample landed at (label accuracy, code purity).
        """
        points = np.asarray(points)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"nearest_mode: expected points of shape (N, 2), got {points.shape}")
        return nearest_neighbours(points, self.modes())[0]


MIXTURES = {"ring8": Mixture(ring8, ring8_modes, 0.01), "grid25": Mixture(grid25, grid25_modes, 0.05)}


def _mixture(modes: np.ndarray, n: int, std: float, rng: np.random.Generator | None, name: str) -> np.ndarray:
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{name}: n={n!r}, expected a non-negative integer")
    if std < 0:
        raise ValueError(f"{name}: std={std!r}, expected >= 0")
    rng = generator() if rng is None else rng  # looked up now: manual_seed replaces the generator
    which = rng.integers(len(modes), size=n)
    return (modes[which] + std * rng.standard_normal((n, 2))).astype(np.float32)
