"""An MNIST classifier, trained with minigan itself, to judge generated digits.

A GAN's loss says little about how good its samples are. A classifier trained on real digits
can say more: is a sample recognisable as *some* digit (a confident prediction), do the samples
cover all ten digits, does a conditional generator draw the digit it was asked for, and how far
are its samples from real ones in the classifier's feature space (the idea behind the Inception
Score and the FID, with MNIST in place of ImageNet). Its trained weights ship inside the package:

    from minigan.classifier import classify
    probs, features = classify(images)   # images (N, 1, 28, 28) in [-1, 1]: (N, 10) and (N, 128)

``train_classifier()`` (the command ``minigan train-classifier``) trains them again, bit for bit
the same for the same seed on one machine and BLAS build.
"""
from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

import numpy as np

from . import checkpoint, data, nn, optim, random
from .autograd import no_grad
from .creation import tensor
from .nn import functional as F
from .ops import softmax
from .progress import progress_bar
from .tensor import Tensor

DEFAULT_WEIGHTS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights", "mnist_classifier.npz")
FEATURES = 128  # the width of the penultimate layer, whose outputs `classify` returns as features


class MNISTClassifier(nn.Module):
    """A small VGG-style CNN: (N, 1, 28, 28) images in [-1, 1] -> 10 logits.

    Two blocks of two 3 x 3 convolutions and a 2 x 2 max-pool (28 -> 26 -> 24 -> 12 -> 10 -> 8
    -> 4), then ``features``: a Linear layer to 128 numbers, and ``head``: ReLU, Dropout and a
    Linear layer to the logits. BatchNorm after every convolution makes the few epochs we can
    afford on a CPU go further.
    """

    def __init__(self) -> None:
        super().__init__()

        def conv(c_in: int, c_out: int) -> list[nn.Module]:  # no bias: BatchNorm's shift replaces it
            return [nn.Conv2d(c_in, c_out, 3, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]

        self.features = nn.Sequential(
            *conv(1, 32), *conv(32, 32), nn.MaxPool2d(2),
            *conv(32, 64), *conv(64, 64), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 4 * 4, FEATURES))
        self.head = nn.Sequential(nn.ReLU(), nn.Dropout(0.5), nn.Linear(FEATURES, 10))

    def forward(self, x: Tensor, return_features: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """The logits, or ``(logits, features)`` with ``return_features``: both from one pass."""
        features = self.features(x)
        logits = self.head(features)
        return (logits, features) if return_features else logits


def build_classifier() -> MNISTClassifier:
    """A fresh, untrained `MNISTClassifier` (its initial weights come from minigan's generator)."""
    return MNISTClassifier()


# --- training -----------------------------------------------------------------------------------

def random_shift(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by its own random offset of up to ``max_shift`` pixels in x and in y.

    The simplest augmentation for digits: a digit one pixel to the left is the same digit, and
    a classifier that has seen such shifts also copes with generators that do not centre their
    digits exactly as MNIST does. Pixels shifted in are background (-1).
    """
    n, channels, height, width = images.shape
    m = max_shift
    padded = np.pad(images, ((0, 0), (0, 0), (m, m), (m, m)), constant_values=-1.0)
    dy, dx = rng.integers(0, 2 * m + 1, size=(2, n))
    rows = (dy[:, None] + np.arange(height))[:, None, :, None]  # (n, 1, H, 1)
    cols = (dx[:, None] + np.arange(width))[:, None, None, :]  # (n, 1, 1, W)
    return padded[np.arange(n)[:, None, None, None], np.arange(channels)[None, :, None, None], rows, cols]


def train_classifier(out: str = DEFAULT_WEIGHTS_PATH, epochs: int = 2, batch_size: int = 128, lr: float = 2e-3,
                     max_shift: int = 1, seed: int = 0, limit: int | None = None,
                     progress: bool = True) -> dict[str, Any]:
    """Train `build_classifier()` on MNIST's training split, test it, save it to ``out``; returns the metrics.

    Adam, with the learning rate decaying along a half cosine from ``lr`` to 0 over the run (large
    steps first, then small ones that settle into a minimum), cross-entropy on batches shifted by
    up to ``max_shift`` pixels (`random_shift`). ``limit`` uses only the first ``limit`` images
    of each split: a quick run, for tests.

    Deterministic on the CPU: the initial weights, the dropout masks and the shifts come from
    minigan's generator (``manual_seed(seed)``), the order of the batches from the DataLoader's
    seed, so the same arguments give the same weights bit for bit (on one machine and BLAS build:
    another BLAS may sum in another order).

    Returns {"test_accuracy", "test_loss", "train_loss" (of the last epoch), "epochs", "seed",
    "seconds", "out"}.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"train_classifier: epochs={epochs} and batch_size={batch_size} must be at least 1")
    t0 = time.perf_counter()
    random.manual_seed(seed)
    model = build_classifier()
    train_images, train_labels = data.mnist("train")
    test_images, test_labels = data.mnist("test")
    if limit is not None:
        train_images, train_labels = train_images[:limit], train_labels[:limit]
        test_images, test_labels = test_images[:limit], test_labels[:limit]
    loader = data.DataLoader(train_images, train_labels, batch_size=batch_size, seed=seed)
    if len(loader) == 0:
        raise ValueError(f"train_classifier: {len(train_images)} training images make no batch of {batch_size}")
    optimizer = optim.Adam(model.parameters(), lr=lr)
    total_steps, step = epochs * len(loader), 0

    with progress_bar(total_steps, desc="classifier", enabled=progress) as bar:
        for epoch in range(epochs):
            model.train()
            order, losses = loader.order(epoch), []
            for batch in range(len(loader)):
                rows = order[batch * batch_size:(batch + 1) * batch_size]
                images = train_images[rows]
                if max_shift:
                    images = random_shift(images, max_shift, random.generator())
                optimizer.param_groups[0]["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
                loss = F.cross_entropy(model(tensor(images)), tensor(train_labels[rows]))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step += 1
                losses.append(loss.item())
                if not math.isfinite(losses[-1]):
                    raise FloatingPointError(f"train_classifier: the loss is {losses[-1]} at step {step}")
                bar.set_postfix(epoch=f"{epoch + 1}/{epochs}", loss=f"{losses[-1]:.4f}", refresh=False)
                bar.update()
            metrics = evaluate(model, test_images, test_labels)
            if progress:  # a line per epoch above the bar, on stderr with it
                bar.write(f"epoch {epoch + 1}/{epochs}: train loss {np.mean(losses):.4f}, "
                          f"test loss {metrics['loss']:.4f}, test accuracy {metrics['accuracy']:.4f} "
                          f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)

    result = {"test_accuracy": metrics["accuracy"], "test_loss": metrics["loss"], "train_loss": float(np.mean(losses)),
              "epochs": epochs, "seed": seed, "seconds": time.perf_counter() - t0, "out": out}
    meta = {key: result[key] for key in ("test_accuracy", "test_loss", "epochs", "seed")}
    meta.update(batch_size=batch_size, lr=lr, max_shift=max_shift, limit=limit, command="minigan train-classifier")
    checkpoint.save(out, {"state_dict": model.state_dict(), "meta": meta})
    _forget(out)  # weights loaded from this path before are stale now
    return result


def evaluate(model: nn.Module, images: np.ndarray, labels: np.ndarray, batch_size: int = 500) -> dict[str, float]:
    """{"accuracy", "loss"} of ``model`` (put in eval mode) on NumPy ``images`` and ``labels``."""
    logits, _ = _forward(model, images, batch_size)
    return {"accuracy": float((logits.argmax(axis=1) == labels).mean()),
            "loss": F.cross_entropy(tensor(logits), tensor(labels)).item()}


def _forward(model: nn.Module, images: np.ndarray, batch_size: int, progress: bool = False,
             desc: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(logits, features)`` as NumPy arrays, in batches, without a graph, in eval mode."""
    model.eval()  # BatchNorm's running statistics and no dropout: a prediction must not depend on its batch
    # The model's device, not the default one: the shared classifier stays where it was first loaded.
    device = next(model.parameters()).device
    logits, features = [], []
    with no_grad(), progress_bar(len(images), desc=desc, enabled=progress, unit="image") as bar:
        for start in range(0, len(images), batch_size):
            out, feature = model(tensor(images[start:start + batch_size], device=device), return_features=True)
            logits.append(out.numpy())
            features.append(feature.numpy())
            bar.update(out.shape[0])
    if not logits:
        return np.zeros((0, 10), np.float32), np.zeros((0, FEATURES), np.float32)
    return np.concatenate(logits), np.concatenate(features)


# --- using the shipped weights ------------------------------------------------------------------

# {(real path, modification time, size): model}; a rewritten file gets a new key
_cache: dict[tuple[str, int | None, int | None], MNISTClassifier] = {}


def _cache_key(path: str) -> tuple[str, int | None, int | None]:
    path = os.path.realpath(path)
    try:
        stat = os.stat(path)
    except OSError:
        return path, None, None
    return path, stat.st_mtime_ns, stat.st_size


def _forget(path: str) -> None:
    """Drop every cached model loaded from ``path``."""
    path = os.path.realpath(path)
    for key in [key for key in _cache if key[0] == path]:
        del _cache[key]


def load_classifier(path: str = DEFAULT_WEIGHTS_PATH) -> MNISTClassifier:
    """The classifier saved at ``path`` (by default the one that ships with minigan), in eval mode.

    Loaded once per file and then served from a cache (a file rewritten since is loaded again),
    so the model is shared: do not train it or put it in training mode. A missing or damaged
    file, or one holding some other model, raises checkpoint.CheckpointError.
    """
    key = _cache_key(path)
    if key in _cache:
        return _cache[key]
    if key[1] is None:
        raise checkpoint.CheckpointError(f"classifier weights {path} do not exist; train them with "
                                         "minigan.classifier.train_classifier() (minigan train-classifier)")
    state = checkpoint.load(path)
    # Building draws initial weights from minigan's generator; put its state back, so that
    # judging samples in the middle of a training run does not change that run's random numbers.
    rng_state = random.get_rng_state()
    model = build_classifier()
    random.set_rng_state(rng_state)
    try:
        model.load_state_dict(state["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise checkpoint.CheckpointError(f"{path} does not hold MNIST classifier weights: {error}") from None
    model.eval()
    _forget(path)
    _cache[key] = model
    return model


def classify(images: np.ndarray | Tensor, batch_size: int = 500, scale: str = "tanh", path: str = DEFAULT_WEIGHTS_PATH,
             progress: bool = False, desc: str = "classifying") -> tuple[np.ndarray, np.ndarray]:
    """``(probs, features)`` of the classifier at ``path`` for ``images``, as NumPy float32 arrays.

    images: (N, 1, 28, 28) or (N, 28, 28), a NumPy array or a Tensor (on any device), scaled to
        [-1, 1] (``scale="tanh"``, the default of ``minigan.data.mnist`` and of tanh generators)
        or to [0, 1] (``scale="unit"``: sigmoid generators, Bernoulli VAEs).
    probs: (N, 10), the softmax of the logits; each row sums to 1.
    features: (N, 128), the penultimate layer (before its ReLU), for Frechet distances and the like.

    Computed in batches of ``batch_size`` under ``no_grad``; ``progress`` shows a bar named ``desc``.
    """
    images = images.numpy() if isinstance(images, Tensor) else np.asarray(images)
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or images.shape[1:] != (1, 28, 28):
        hint = (" (crop 32 x 32 images padded by minigan.data.mnist(pad_to=32) with images[..., 2:30, 2:30])"
                if images.shape[-2:] == (32, 32) else "")
        raise ValueError(f"classify: expected images of shape (N, 1, 28, 28), got {images.shape}{hint}")
    if scale not in data.datasets.SCALES:
        raise ValueError(f"classify: scale={scale!r}, expected one of {data.datasets.SCALES}")
    images = images.astype(np.float32, copy=False)
    if scale == "unit":
        images = images * 2 - 1
    logits, features = _forward(load_classifier(path), images, batch_size, progress, desc)
    return softmax(tensor(logits), dim=1).numpy(), features
