"""Pictures people would rather see than read: sample grids, loss curves, 2-D samples over their modes.

matplotlib is imported here only, inside each function, and always with the headless Agg backend.
"""
from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .tensor import Tensor

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .nn import Module


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


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """The mean of each ``window`` consecutive values, NaN until the first full window."""
    array = np.asarray(values, dtype=float)
    if window <= 1 or len(array) < window:
        return array
    kernel = np.ones(window) / window
    return np.concatenate([np.full(window - 1, np.nan), np.convolve(array, kernel, mode="valid")])


def draw_curves(ax: Axes, steps: Sequence[int], curves: dict[str, Sequence[float]]) -> str:
    """Each named curve against the step: faint, every step; bold, a moving mean over 1/50 of the run
    (per-step values of a GAN are noisy). Returns a note on the smoothing, for a title."""
    window = max(1, len(steps) // 50)
    for k, (name, values) in enumerate(curves.items()):
        if window > 1:
            ax.plot(steps, values, linewidth=0.5, alpha=0.3, color=f"C{k}")
        ax.plot(steps, moving_average(values, window), linewidth=1.2, color=f"C{k}", label=name)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return f"faint: each step; bold: moving mean of {window}" if window > 1 else ""


def save_loss_curves(steps: Sequence[int], panels: dict[str, dict[str, Sequence[float]]],
                     path: str | os.PathLike[str], title: str = "losses", log_scale: Sequence[str] = ()) -> None:
    """One panel per entry of ``panels`` (panel title -> {curve name: values}), stacked, against the
    training step; the panels named in ``log_scale`` have a logarithmic y axis."""
    plt = _pyplot()
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 1 + 2.6 * len(panels)), sharex=True, squeeze=False)
    for ax, (name, curves) in zip(axes[:, 0], panels.items()):
        note = draw_curves(ax, steps, curves)
        if name in log_scale:
            ax.set_yscale("log")
        ax.set_title(name, fontsize=10)
    axes[-1, 0].set_xlabel("step" + (f" ({note})" if note else ""))
    fig.suptitle(title)
    _save(fig, path)


def points_window(samples: np.ndarray, anchors: Sequence[np.ndarray], reach: float = 3.0
                  ) -> tuple[np.ndarray, float, np.ndarray]:
    """`save_points`'s square axes: their centre and half-width, and which samples fall outside them.

    The square fits the ``anchors`` (the data, the modes) with a margin, widened to fit the samples
    too, but never wider than ``reach`` times its own half-width around the data. A NaN or inf
    sample is always outside."""
    box = np.concatenate(anchors) if anchors else samples[np.isfinite(samples).all(1)]
    lo, hi = (box.min(0), box.max(0)) if len(box) else (np.zeros(2), np.zeros(2))
    centre, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 1e-6) * 1.15
    finite = np.isfinite(samples).all(1)
    furthest = float(np.abs(samples[finite] - centre).max()) * 1.05 if finite.any() else half
    half = min(max(half, furthest), reach * half)
    outside = ~finite | (np.abs(np.where(finite[:, None], samples, 0) - centre) > half).any(1)
    return centre, half, outside


SAMPLE_COLOUR, REAL_COLOUR = "#1f77b4", "#b0b0b0"  # `draw_points`: generated samples, and the real data under them


def draw_points(ax: Axes, samples: np.ndarray, mixture: str | None = None, reach: float = 3.0,
                legend: bool = True, window: tuple[np.ndarray, float] | None = None) -> None:
    """2-D samples as a scatter on ``ax``, over the mixture ``mixture`` (ring8, grid25: 2,500 of its
    points and its mode centres) when given, with every sample accounted for.

    The real points lie underneath in light grey and the samples over them, so that samples sitting
    on a mode are seen; the mode centres are thin open rings on top, each labelled with the number
    of samples within 3 std of it (`metrics.mixture_metrics`'s ``mode_counts``): hundreds of samples
    on one mode look like a few.

    The axes fit the data and the samples together, unless some samples lie farther from the data
    than ``reach`` times the data's own half-width (`points_window`): then the axes stop there, and
    the plot says how many samples fell outside (a collapsing or diverging G can throw samples far).
    ``window``, a (centre, half-width) pair, fixes the square instead: the frames of an animation
    share one.
    """
    from matplotlib.lines import Line2D

    from .data import MIXTURES
    from .metrics import mixture_metrics

    real = MIXTURES[mixture].sample(2500, rng=np.random.default_rng(0)) if mixture else None
    modes = MIXTURES[mixture].modes() if mixture else None
    finite = np.isfinite(samples).all(1)
    if window is None:
        centre, half, outside = points_window(samples, [a for a in (real, modes) if a is not None], reach)
    else:
        centre, half = np.asarray(window[0], dtype=float), float(window[1])
        outside = ~finite | (np.abs(np.where(finite[:, None], samples, 0) - centre) > half).any(1)
    # The real data underneath, light; the generated samples over it, so that samples sitting on a mode
    # stay in sight; the mode centres on top as thin open rings, wider than a mode, that hide nothing inside.
    if real is not None:
        ax.scatter(real[:, 0], real[:, 1], s=1, c=REAL_COLOUR, zorder=1)
    ax.scatter(samples[:, 0], samples[:, 1], s=2, c=SAMPLE_COLOUR, alpha=0.6, zorder=2)
    if modes is not None:
        ax.scatter(modes[:, 0], modes[:, 1], s=160, facecolors="none", edgecolors="red", linewidths=0.6, zorder=3)
    if mixture and modes is not None:  # a crowd on a mode looks like a few points: say how many
        counts = (mixture_metrics(samples[finite], modes, MIXTURES[mixture].std)["mode_counts"] if finite.any()
                  else [0] * len(modes))
        points_per_unit = 72 * ax.get_window_extent().width / ax.figure.dpi / (2 * half)
        for mode, count in zip(modes, counts):  # each number just outside its ring, away from the middle...
            away = mode - modes.mean(0)
            away = away / np.linalg.norm(away) if np.linalg.norm(away) > 1e-9 else np.array([0.6, 0.8])
            turns = (away, np.array([-away[1], away[0]]), np.array([away[1], -away[0]]), -away)
            away = next((d for d in turns if (np.abs(mode + 20 * d / points_per_unit - centre) <= half).all()),
                        away)  # ...unless that is off the axes: then beside it, or towards the middle
            ax.annotate(str(count), mode, xytext=tuple(14 * away), textcoords="offset points", ha="center",
                        va="center", fontsize=6, color="darkred", zorder=4,
                        bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.7})
    ax.set(xlim=(centre[0] - half, centre[0] + half), ylim=(centre[1] - half, centre[1] + half))
    ax.set_aspect("equal")
    shown = f"{len(samples) - outside.sum()} of {len(samples)} samples shown"
    if outside.any():
        shown += f"; {outside.sum()} outside these axes"
        if not finite.all():
            shown += f" ({(~finite).sum()} not finite)"
    ax.text(0.01, 0.01, shown, transform=ax.transAxes, fontsize=7, color="darkred" if outside.any() else "black",
            va="bottom")
    if not legend:
        return
    # The legend's own markers, below the axes: every entry visible, none hidden under the points.
    handles = [Line2D([], [], linestyle="none", marker="o", color=SAMPLE_COLOUR, markersize=5, label="generated")]
    if mixture:
        handles += [Line2D([], [], linestyle="none", marker="o", color=REAL_COLOUR, markersize=4,
                           label="real data"),
                    Line2D([], [], linestyle="none", marker="o", markerfacecolor="none", markeredgecolor="red",
                           markeredgewidth=0.6, markersize=12,
                           label="mode centres (n within 3 std)")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=3, fontsize=8, frameon=False)


def save_points(samples: np.ndarray, path: str | os.PathLike[str], mixture: str | None = None,
                title: str | None = None) -> None:
    """`draw_points` as a PNG: what the trainer writes for 2-D data, and `minigan sample`."""
    fig, ax = _pyplot().subplots(figsize=(5.5, 6))
    draw_points(ax, samples, mixture)
    if title:
        ax.set_title(title)
    _save(fig, path)


@dataclass(frozen=True)
class TrainingFrame:
    r"""A 2-D GAN at one step of its training: one frame of `save_training_animation`, made by `record_frame`.

    ``samples`` (N, 2): G's samples of a fixed batch of noise. ``field`` (R, R): D's probability
    that a point is real, $D(x) = \sigma(\ell(x))$ with $\ell$ D's logit, on an even R x R grid
    over the square ``window`` = (centre, half-width); ``field[i, j]`` is at (x_j, y_i).
    ``arrows`` (M, 2), M <= N: at each of the first M samples $x_i$, $-\nabla_{x_i} \ell_G(x_i)$,
    minus the gradient of G's loss for that one sample: the way G's step pushes it (the push
    reaches G's weights through its Jacobian, $J_G(z_i)^\top$, and moves every sample at once).
    """

    step: int
    samples: np.ndarray
    field: np.ndarray
    window: tuple[np.ndarray, float]
    arrows: np.ndarray


def record_frame(step: int, generator: Module, discriminator: Module, z: Tensor | ArrayLike,
                 window: tuple[ArrayLike, float], generator_loss: Callable[[Tensor], Tensor] | None = None,
                 arrows: int = 64, resolution: int = 41) -> TrainingFrame:
    r"""The `TrainingFrame` of a 2-D GAN now: G's samples of the noise ``z`` (N, z_dim), D's field
    on a ``resolution`` x ``resolution`` grid over ``window`` (centre, half-width), and the arrows
    of ``generator_loss`` (a mean over samples of D's logits; default the non-saturating
    $-\mathbb{E}[\log D(G(z))]$) at the first ``arrows`` samples (all N, where there are fewer).

    D's outputs are read as logits, as the cross-entropy losses read them (a Wasserstein critic's
    scores are not logits: its field would be their sigmoid). The networks are used as they are
    (their mode, their weights); no random number is drawn and no ``.grad`` is touched, so
    recording a frame in the middle of a run leaves the run as it was.
    """
    from .autograd import grad, no_grad
    from .creation import tensor
    from .gan.losses import generator_loss_nonsaturating
    from .ops import sigmoid

    z = z if isinstance(z, Tensor) else tensor(np.asarray(z, dtype=np.float32))
    centre, half = np.asarray(window[0], dtype=np.float64), float(window[1])
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"record_frame: expected noise z of shape (N, z_dim) with N >= 1, got {z.shape}")
    if centre.shape != (2,) or not (np.isfinite(centre).all() and 0 < half < np.inf):
        raise ValueError(f"record_frame: expected window (centre (2,), half-width > 0), got ({centre}, {half})")
    if not (isinstance(arrows, (int, np.integer)) and arrows >= 1):
        raise ValueError(f"record_frame: arrows must be an integer >= 1, got {arrows!r}")
    arrows = min(int(arrows), z.shape[0])
    if not (isinstance(resolution, (int, np.integer)) and resolution >= 2):
        raise ValueError(f"record_frame: resolution must be an integer >= 2, got {resolution!r}")
    with no_grad():
        x = generator(z)
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"record_frame: the generator must make 2-D points (N, 2), it made {x.shape}")
        axis = [np.linspace(c - half, c + half, resolution) for c in centre]
        grid = np.stack(np.meshgrid(*axis), axis=-1).reshape(-1, 2)
        field = sigmoid(discriminator(tensor(grid, dtype=x.dtype, device=x.device))).numpy()
    pushed = tensor(x[:arrows], requires_grad=True)
    loss = (generator_loss or generator_loss_nonsaturating)(discriminator(pushed))
    (gradient,) = grad(loss * arrows, pushed)  # a mean over `arrows` samples: times their number, each one's own
    return TrainingFrame(int(step), x.numpy(), field.reshape(resolution, resolution), (centre, half),
                         -gradient.numpy())


class FrameRecorder:
    """Films a 2-D GAN as it trains: a `TrainingFrame` (`record_frame`) before the first step and
    every ``every`` steps, of G's samples of the fixed noise ``z`` over ``window``, with the arrows
    of ``generator_loss``. The GAN is one G(z) draws from and D scores single points of (`toy`;
    not a conditional G, nor a packed D), filmed as it trains (the raw G, not its moving average).
    Give it to the trainer, which calls it after each step:

        film = plotting.FrameRecorder(every=100, z=noise, window=(np.zeros(2), 1.5))
        trainer.train(watch=film)
        plotting.save_training_animation(film.frames, "training.gif", "ring8")

    For networks without dropout or batch norm (`toy`), recording draws no random number and changes
    no weight, statistic or ``.grad``: the run is the one it would have been without the camera.
    """

    def __init__(self, every: int, z: Tensor | ArrayLike, window: tuple[ArrayLike, float],
                 generator_loss: Callable[[Tensor], Tensor] | None = None) -> None:
        if not (isinstance(every, (int, np.integer)) and every >= 1):
            raise ValueError(f"FrameRecorder: every must be an integer >= 1, got {every!r}")
        self.every, self.z, self.window, self.generator_loss = int(every), z, window, generator_loss
        self.frames: list[TrainingFrame] = []

    def __call__(self, trainer: Any) -> None:
        """Record a frame of ``trainer`` (a GAN trainer: its ``step``, ``G`` and ``D``) if its step is a
        multiple of ``every``."""
        if trainer.step % self.every == 0:
            self.frames.append(record_frame(trainer.step, trainer.G, trainer.D, self.z, self.window,
                                            self.generator_loss))


def save_training_animation(frames: Sequence[TrainingFrame], path: str | os.PathLike[str], mixture: str | None = None,
                            fps: int = 4, title: str | None = None, dpi: int = 100) -> None:
    """The frames as an animated GIF (matplotlib's Pillow writer), the view GAN Lab made popular:
    D's field shaded (green where D calls a point real, pink where fake), G's samples over the
    mixture's data (`draw_points`), and G's arrows at the samples, the longest of each frame a
    quarter of the half-width (their lengths change by orders of magnitude in a run: the title
    gives the longest). Each frame is titled with its step; the GIF loops.

    The frames must share one window and grid, in the order of their steps; ``path`` ends in .gif.
    """
    from matplotlib.animation import PillowWriter

    caller = "save_training_animation"
    if not str(path).lower().endswith(".gif"):
        raise ValueError(f"{caller}: expected a path ending in .gif, got {os.fspath(path)!r}")
    frames = list(frames)
    if not frames or not all(isinstance(f, TrainingFrame) for f in frames):
        kinds = sorted({type(f).__name__ for f in frames})
        raise ValueError(f"{caller}: expected a non-empty sequence of TrainingFrame (see record_frame), got "
                         f"{len(frames)} item(s) of type {', '.join(kinds) or 'none'}")
    steps = [f.step for f in frames]
    if any(b <= a for a, b in itertools.pairwise(steps)):
        raise ValueError(f"{caller}: the frames' steps must increase, got {steps}")
    centre, half = frames[0].window
    for f in frames:
        if not (np.array_equal(f.window[0], centre) and f.window[1] == half and f.field.shape == frames[0].field.shape):
            raise ValueError(f"{caller}: every frame must share one window and grid: frame of step {f.step} has "
                             f"window ({f.window[0]}, {f.window[1]}) and field {f.field.shape}, the first "
                             f"({centre}, {half}) and {frames[0].field.shape}")
        if f.samples.ndim != 2 or f.samples.shape[1] != 2 or f.arrows.shape[1:] != (2,) or \
                len(f.arrows) > len(f.samples):
            raise ValueError(f"{caller}: frame of step {f.step}: expected samples (N, 2) and arrows (M, 2) with "
                             f"M <= N, got {f.samples.shape} and {f.arrows.shape}")
    if not (isinstance(fps, (int, np.integer)) and fps >= 1):
        raise ValueError(f"{caller}: fps (frames per second) must be an integer >= 1, got {fps!r}")
    plt = _pyplot()
    fig = plt.figure(figsize=(5.2, 5.6))
    ax = fig.add_axes((0.1, 0.12, 0.72, 0.78))
    axis = [np.linspace(c - half, c + half, frames[0].field.shape[0]) for c in centre]
    drawn: list[Artist] = []  # the last frame's artists; the axes, their ticks and the colour bar stay
    writer = PillowWriter(fps=fps)
    with writer.saving(fig, os.fspath(path), dpi):
        for frame in frames:
            for artist in drawn:
                artist.remove()
            kept = set(ax.get_children())
            shading = ax.contourf(*axis, frame.field, levels=np.linspace(0, 1, 11), cmap="PiYG", alpha=0.55, zorder=0)
            if frame is frames[0]:
                fig.colorbar(shading, cax=fig.add_axes((0.85, 0.12, 0.03, 0.78)), label="D(x), the probability 'real'")
            draw_points(ax, frame.samples, mixture, window=frame.window)
            at, lengths = frame.samples[:len(frame.arrows)], np.linalg.norm(frame.arrows, axis=1)
            longest = float(lengths[np.isfinite(lengths)].max(initial=0.0))
            ax.quiver(at[:, 0], at[:, 1], frame.arrows[:, 0], frame.arrows[:, 1], angles="xy", scale_units="xy",
                      scale=(longest or 1.0) / (0.25 * half), width=0.004, color="black", zorder=5)
            ax.set_title(f"{title + ', ' if title else ''}step {frame.step}\narrows: G's push on its samples "
                         f"(the longest {longest:.2g})", fontsize=10)
            drawn = [artist for artist in ax.get_children() if artist not in kept]
            writer.grab_frame()
    plt.close(fig)


def save_metric_curves(steps: Sequence[int], curves: dict[str, Sequence[float]], path: str | os.PathLike[str],
                       title: str = "metrics") -> None:
    """One small panel per metric (they live on different scales), against the training step."""
    plt = _pyplot()
    names = list(curves)
    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows + 0.3), squeeze=False)
    for ax, name in zip(axes.flat, names):
        ax.plot(steps, curves[name], marker="o", markersize=3)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("training step", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(title)
    _save(fig, path)
