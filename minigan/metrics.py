r"""Sample-quality metrics: mode coverage on the 2-D mixtures, and classifier-based scores for images.

Two families, both on NumPy arrays (minigan Tensors are accepted and converted), float64 inside:

* **2-D mixtures** (`mixture_metrics`), following VEEGAN (Srivastava et al. 2017) and PacGAN
  (Lin et al. 2018): with the mode centres known, count the samples that land near a mode, the
  modes that receive them, and how evenly. The published tables use 2,500 generated samples per
  evaluation; use the same number when comparing with them, since the counts depend on it.
* **Images**, from the outputs of an MNIST classifier: class probabilities ``probs`` (N, K) for
  `mnist_score` (the Inception Score with an MNIST classifier) and `class_statistics`, penultimate
  features (N, d) for `frechet_distance` (FID with MNIST features) and `precision_recall`
  (Kynkäänniemi et al. 2019). Neither family looks at single samples against the training set:
  `nearest_neighbours` does, each sample's nearest training image, a check for memorised copies.

Entropies are in nats, with :math:`0 \log 0 = 0`. Pairwise distances are computed a block of rows
at a time, so 10,000 x 10,000 points need a few tens of MB, not the 800 MB of the full matrix.

    from minigan.data import ring8, ring8_modes
    from minigan.metrics import mixture_metrics
    mixture_metrics(generator_samples, ring8_modes(), std=0.01)["modes_covered"]   # 8 when all found

Inputs typed ``ArrayLike`` take anything ``np.asarray`` takes: arrays, nested lists, minigan Tensors.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .tensor import Tensor

__all__ = ["mixture_metrics", "mnist_score", "sharpen", "class_statistics", "code_purity", "grey_fraction",
           "feature_statistics", "frechet_distance", "frechet_distance_from_statistics", "precision_recall",
           "nearest_neighbours"]

GREY = (0.1, 0.9)  # grey_fraction's grey pixels, on a [0, 1] scale
PROBS_ATOL = 1e-4  # how far a row of probabilities may sum from 1 (float32 softmax is within ~1e-7)


# --- 2-D mixtures ---------------------------------------------------------------------------------

def mixture_metrics(samples: ArrayLike, modes: ArrayLike, std: float, threshold: float = 3.0,
                    min_fraction: float = 0.01) -> dict[str, Any]:
    r"""How well ``samples`` (N, D) cover a mixture of Gaussians with centres ``modes`` (K, D).

    Following VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018). Each sample is assigned
    to its nearest mode :math:`m_{k(x)}`; it is *high quality* when
    :math:`\lVert x - m_{k(x)} \rVert_2 \le \text{threshold} \cdot \text{std}`, ``std`` being the
    standard deviation of the mixture's components (the data's own, e.g. 0.01 for ``ring8``).

    Returns a dict:

    * ``high_quality``: the fraction of the N samples that are high quality. In 2-D a perfect
      sample lies within 3 std of its mode with probability :math:`1 - e^{-9/2} \approx 0.989`
      (the radius of a 2-D Gaussian is Rayleigh distributed), not 0.997 as in 1-D.
    * ``mode_counts``: list of K ints, :math:`c_k` = high-quality samples whose nearest mode is k.
    * ``modes_covered``: modes with :math:`c_k \ge 1` (VEEGAN's "modes captured").
    * ``modes_covered_1pct``: the stricter count of modes with :math:`c_k / N \ge` ``min_fraction``
      (named for the default 1%), so that a few stray samples do not make a mode count as found.
    * ``reverse_kl``: with :math:`p_k = c_k / \sum_j c_j` the histogram of the high-quality samples
      over the modes, its KL divergence to the uniform :math:`u_k = 1/K`,

      .. math:: \mathrm{KL}(p \,\|\, u) = \sum_k p_k \log (p_k K) = \log K - H(p),

      0 for a perfect balance, :math:`\log K` when every sample sits at one mode. With no
      high-quality sample at all, p is undefined and ``reverse_kl`` is ``inf``: worse than any
      collapse onto a mode, and impossible to mistake for a measured value.
    """
    samples = _as_matrix(samples, "samples", "mixture_metrics")
    modes = _as_matrix(modes, "modes", "mixture_metrics")
    _check_same_width(samples, modes, "samples", "modes", "mixture_metrics")
    for name, value in (("std", std), ("threshold", threshold)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"mixture_metrics: {name}={value!r}, expected a positive number")
    if len(samples) == 0 or len(modes) == 0:
        raise ValueError(f"mixture_metrics: need at least one sample and one mode, "
                         f"got samples {samples.shape} and modes {modes.shape}")
    nearest, sq_distance = _nearest(samples, modes)
    good = sq_distance <= (threshold * std) ** 2
    counts = np.bincount(nearest[good], minlength=len(modes))
    total = counts.sum()
    return {
        "high_quality": float(good.mean()),
        "mode_counts": counts.tolist(),
        "modes_covered": int(np.count_nonzero(counts)),
        "modes_covered_1pct": int(np.count_nonzero(counts >= min_fraction * len(samples))),
        "reverse_kl": _kl_to_uniform(counts / total) if total else float("inf"),
    }


# --- classifier probabilities ---------------------------------------------------------------------

def mnist_score(probs: ArrayLike, splits: int = 1) -> float:
    r"""The Inception Score (Salimans et al. 2016) computed with an MNIST classifier's ``probs`` (N, K).

    .. math:: \mathrm{IS} = \exp\Big( \mathbb{E}_x\, \mathrm{KL}\big(p(y|x) \,\|\, p(y)\big) \Big),
              \qquad p(y) = \mathbb{E}_x\, p(y|x).

    Large when each sample is classified confidently (low :math:`H(y|x)`) and the classes are
    balanced (high :math:`H(y)`): 1 at worst, K (here 10) for confident, perfectly balanced samples.
    Because p(y) is the mean of the p(y|x), the expected KL is the mutual information
    :math:`H(y) - \mathbb{E}_x H(y|x)`, which is how it is computed: entropies with
    :math:`0 \log 0 = 0` (masked, not clipped with an eps), so one-hot probabilities are exact.

    ``splits``: the samples are cut into that many near-equal parts, the score is computed on each
    and the mean returned, as in the paper's protocol (10 splits of 5,000). For the spread over
    splits, call this on each part: ``[mnist_score(part) for part in np.array_split(probs, 10)]``.
    """
    probs = _as_probs(probs, "mnist_score")
    if not isinstance(splits, (int, np.integer)) or not 1 <= splits <= len(probs):
        raise ValueError(f"mnist_score: splits={splits!r}, expected an integer in [1, {len(probs)}]")
    scores = [np.exp(_entropy(part.mean(axis=0)) - _entropy(part).mean())
              for part in np.array_split(probs, splits)]
    return float(np.mean(scores))


def sharpen(probs: ArrayLike, factor: float) -> np.ndarray:
    r"""The probabilities a classifier would give with its logits multiplied by ``factor``:

    .. math:: p'(y|x) = \mathrm{softmax}(a \cdot \mathrm{logits})_y = \frac{p(y|x)^a}{\sum_k p(k|x)^a}

    (temperature scaling, with temperature 1/a). It keeps every sample's predicted class and
    changes only how sure the judge is: a > 1 makes it surer. The MNIST score depends on that
    as much as on the samples, so two papers' scores compare only with the same judge. Zero
    probabilities stay zero.
    """
    probs = _as_probs(probs, "sharpen")
    is_number = isinstance(factor, (int, float, np.number)) and not isinstance(factor, bool)
    if not (is_number and np.isfinite(factor) and factor > 0):
        raise ValueError(f"sharpen: factor={factor!r}, expected a positive finite number")
    top = probs.max(axis=1, keepdims=True)
    powered = (probs / top) ** factor  # divided by the largest first, so that p^a cannot underflow to all zeros
    return powered / powered.sum(axis=1, keepdims=True)


def class_statistics(probs: ArrayLike, num_classes: int = 10, confidence: float = 0.9,
                     min_fraction: float = 0.01) -> dict[str, Any]:
    r"""What an MNIST classifier makes of the samples, from its ``probs`` (N, num_classes).

    Returns a dict:

    * ``class_histogram``: list, :math:`h_k` = fraction of samples whose argmax class is k;
    * ``classes_present``: classes predicted for at least one sample;
    * ``classes_present_1pct``: classes with :math:`h_k \ge` ``min_fraction`` (named for the
      default 1%), the stricter count, which a handful of odd samples cannot inflate;
    * ``class_kl``: :math:`\mathrm{KL}(h \,\|\, u) = \log K - H(h)`, 0 for balanced classes,
      :math:`\log K` when every sample gets the same class;
    * ``confident_fraction``: share of samples with :math:`\max_k p(k|x) \ge` ``confidence``.
    """
    probs = _as_probs(probs, "class_statistics", num_classes)
    histogram = np.bincount(probs.argmax(axis=1), minlength=num_classes) / len(probs)
    return {
        "class_histogram": histogram.tolist(),
        "classes_present": int(np.count_nonzero(histogram)),
        "classes_present_1pct": int(np.count_nonzero(histogram >= min_fraction)),
        "class_kl": _kl_to_uniform(histogram),
        "confident_fraction": float(np.mean(probs.max(axis=1) >= confidence)),
    }


def grey_fraction(images: ArrayLike, value_range: tuple[float, float] = (-1.0, 1.0),
                  grey: tuple[float, float] = GREY) -> float:
    """The share of pixels that are grey, neither ink nor background: strictly inside ``grey`` once
    ``value_range`` is mapped onto [0, 1]: [-1, 1] for the models of scale "tanh" (dcgan, ...),
    [0, 1] for those of scale "unit" (mlp, the VAEs' means).

    A measure of blur, not of quality: MNIST's digits are nearly black and white (8.6% of the test
    digits' pixels are grey), and a blurred stroke has a wide grey rim, so a VAE's means score higher
    than real digits or a GAN's samples (`benchmarks/gan_vs_vae.py`, lessons 7 and 13).
    """
    low, high = value_range
    if not high > low:
        raise ValueError(f"grey_fraction: value_range={value_range!r}, expected (low, high) with low < high")
    if not 0 <= grey[0] < grey[1] <= 1:
        raise ValueError(f"grey_fraction: grey={grey!r}, expected (low, high) with 0 <= low < high <= 1")
    images = np.asarray(images.numpy() if isinstance(images, Tensor) else images, dtype=np.float64)
    if images.size == 0:
        raise ValueError(f"grey_fraction: images has shape {images.shape}, expected at least one pixel")
    unit = (images - low) / (high - low)
    return float(np.mean((unit > grey[0]) & (unit < grey[1])))


def code_purity(codes: ArrayLike, classes: ArrayLike) -> float:
    r"""How well a GAN's codes (InfoGAN's) line up with the classifier's classes: the share of
    samples whose class is the most common class among the samples of their code,
    :math:`\frac{1}{N} \sum_c \max_k n_{ck}` (the *purity* of the codes as a clustering).
    1 when each code draws a single class (whichever class that is), about 0.1 for codes that
    ignore the digit; ``codes`` and ``classes`` are (N,) integers."""
    codes, classes = np.asarray(codes), np.asarray(classes)
    if codes.shape != classes.shape or codes.ndim != 1 or not len(codes):
        raise ValueError(f"code_purity: expected codes and classes of the same shape (N,), "
                         f"got {codes.shape} and {classes.shape}")
    for name, values in (("codes", codes), ("classes", classes)):
        if not np.issubdtype(values.dtype, np.integer) or values.min() < 0:
            raise ValueError(f"code_purity: expected non-negative integer {name}, got dtype {values.dtype}, "
                             f"smallest {values.min()}")
    k = classes.max() + 1
    counts = np.bincount(codes * k + classes, minlength=(codes.max() + 1) * k).reshape(-1, k)  # n_ck
    return float(counts.max(axis=1).sum() / len(codes))


# --- classifier features --------------------------------------------------------------------------

def feature_statistics(features: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""The mean :math:`\mu` (d,) and covariance :math:`\Sigma` (d, d) of ``features`` (N, d), N >= 2.

    :math:`\Sigma = \frac{1}{N-1} \sum_i (x_i - \mu)(x_i - \mu)^\top`, unbiased as ``np.cov``.
    Cache the real data's pair and pass it to `frechet_distance_from_statistics`.
    """
    features = _as_matrix(features, "features", "feature_statistics")
    if len(features) < 2:
        raise ValueError(f"feature_statistics: a covariance needs at least 2 samples, "
                         f"got features of shape {features.shape}")
    mu = features.mean(axis=0)
    centred = features - mu
    return mu, centred.T @ centred / (len(features) - 1)


def frechet_distance(features_a: ArrayLike, features_b: ArrayLike) -> float:
    r"""The Fréchet distance between Gaussians fitted to two feature sets (N, d) and (M, d).

    FID (Heusel et al. 2017) with an MNIST classifier's features in place of Inception's; see
    `frechet_distance_from_statistics` for the formula.
    """
    return frechet_distance_from_statistics(*feature_statistics(features_a), *feature_statistics(features_b))


def frechet_distance_from_statistics(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    r"""The Fréchet (2-Wasserstein) distance between :math:`N(\mu_1, \Sigma_1)` and :math:`N(\mu_2, \Sigma_2)`:

    .. math:: d^2 = \lVert \mu_1 - \mu_2 \rVert^2
                    + \mathrm{Tr}\big(\Sigma_1 + \Sigma_2 - 2 (\Sigma_1 \Sigma_2)^{1/2}\big).

    :math:`\Sigma_1 \Sigma_2` is not symmetric, and a general matrix square root of it (as
    ``scipy.linalg.sqrtm``) can return complex noise. Only its trace is needed, and with
    :math:`S = \Sigma_1^{1/2}` the product is similar to the symmetric PSD matrix
    :math:`S \Sigma_2 S`:

    .. math:: \Sigma_1 \Sigma_2 = S\, (S \Sigma_2 S)\, S^{-1}
              \;\Rightarrow\; \mathrm{Tr}(\Sigma_1 \Sigma_2)^{1/2} = \sum_i \sqrt{\lambda_i(S \Sigma_2 S)},

    (and by continuity when :math:`\Sigma_1` is singular), so two symmetric eigendecompositions
    suffice, eigenvalues clipped at 0 against roundoff. The result is clipped at 0 likewise.
    """
    mu1, sigma1 = _check_statistics(mu1, sigma1, "1")
    mu2, sigma2 = _check_statistics(mu2, sigma2, "2")
    if mu1.shape != mu2.shape:
        raise ValueError(f"frechet_distance_from_statistics: the two Gaussians have dimensions "
                         f"{mu1.shape[0]} and {mu2.shape[0]}, expected equal")
    root1 = _symmetric_sqrt(sigma1)
    trace_sqrt_product = np.sqrt(_psd_eigenvalues(root1 @ sigma2 @ root1)).sum()
    diff = mu1 - mu2
    distance = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product
    return float(max(distance, 0.0))


def precision_recall(real_features: ArrayLike, fake_features: ArrayLike, k: int = 3,
                     batch_size: int = 1000) -> tuple[float, float]:
    r"""Improved precision and recall (Kynkäänniemi et al. 2019) of ``fake_features`` against ``real_features``.

    Each set :math:`\Phi` stands for a manifold: the union of balls around its points, each of radius
    the distance to the point's k-th nearest neighbour in the same set (itself not counted),

    .. math:: \mathrm{manifold}(\Phi)
              = \bigcup_{\phi \in \Phi} B\big(\phi, \lVert \phi - \mathrm{NN}_k(\phi, \Phi) \rVert\big),

    .. math:: \text{precision} = \frac{1}{|\Phi_g|} \sum_{\phi_g \in \Phi_g} [\phi_g \in \mathrm{manifold}(\Phi_r)],
              \qquad
              \text{recall} = \frac{1}{|\Phi_r|} \sum_{\phi_r \in \Phi_r} [\phi_r \in \mathrm{manifold}(\Phi_g)].

    Precision: how many fakes look real (quality). Recall: how much of the real data the fakes
    cover (diversity; a collapsed generator has high precision and low recall).
    Returns ``(precision, recall)``. Distances are computed ``batch_size`` rows at a time.
    """
    real = _as_matrix(real_features, "real_features", "precision_recall")
    fake = _as_matrix(fake_features, "fake_features", "precision_recall")
    _check_same_width(real, fake, "real_features", "fake_features", "precision_recall")
    if not isinstance(k, (int, np.integer)) or k < 1 or k >= min(len(real), len(fake)):
        raise ValueError(f"precision_recall: k={k!r}, expected an integer in [1, N - 1] for both sets, "
                         f"got {len(real)} real and {len(fake)} fake samples")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"precision_recall: batch_size={batch_size!r}, expected a positive integer")
    real_radii = _kth_neighbour_sq_distance(real, k, batch_size)
    fake_radii = _kth_neighbour_sq_distance(fake, k, batch_size)
    # One pass over the real-fake distances serves both: a block's rows (real points) test against
    # the fake balls, its columns (fake points) against the balls of the block's real points.
    real_in_fake = np.empty(len(real), dtype=bool)
    fake_in_real = np.zeros(len(fake), dtype=bool)
    for start, block in _sq_distance_blocks(real, fake, batch_size):
        stop = start + len(block)
        real_in_fake[start:stop] = (block <= fake_radii).any(axis=1)
        fake_in_real |= (block <= real_radii[start:stop, None]).any(axis=0)
    return float(fake_in_real.mean()), float(real_in_fake.mean())


# --- single samples against the training set ------------------------------------------------------

def nearest_neighbours(samples: ArrayLike, reference: ArrayLike,
                       batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    r"""Each sample's nearest row of ``reference``: for each row :math:`x_i` of ``samples`` (N, d), the
    index :math:`j(i) = \arg\min_j \lVert x_i - r_j \rVert_2` of its nearest row of ``reference`` (M, d),
    and the distance :math:`\lVert x_i - r_{j(i)} \rVert_2` to it.

    A memorisation check for a generator: with its samples and the training images flattened to
    pixels (``images.reshape(len(images), -1)``), a sample copied from the training set has
    distance 0. The MNIST score and the Fréchet distance compare distributions only, and rate a
    copy as highly as a new digit; precision and recall too.

    Returns ``(indices, distances)``: (N,) integers into ``reference`` and (N,) float64 distances.
    The nearest row is found from squared distances computed ``batch_size`` rows of ``samples`` at
    a time (a (batch_size, M) block in memory); the distance to it is then computed again directly,
    so that a sample equal to a row of ``reference`` has distance exactly 0, not roundoff. Both
    sets are held in float64, with a shifted copy of each: for MNIST's 60,000 training images as
    ``reference``, about 0.75 GB.
    """
    samples = _as_matrix(samples, "samples", "nearest_neighbours")
    reference = _as_matrix(reference, "reference", "nearest_neighbours")
    _check_same_width(samples, reference, "samples", "reference", "nearest_neighbours")
    if len(reference) == 0:
        raise ValueError(f"nearest_neighbours: reference has shape {reference.shape}, expected at least one row")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"nearest_neighbours: batch_size={batch_size!r}, expected a positive integer")
    indices, _ = _nearest(samples, reference, batch_size)
    return indices, np.linalg.norm(samples - reference[indices], axis=1)


# --- helpers --------------------------------------------------------------------------------------

def _as_matrix(x: ArrayLike, name: str, caller: str) -> np.ndarray:
    """``x`` as a finite float64 (N, d) array; a minigan Tensor is brought over with ``.numpy()``."""
    x = np.asarray(x.numpy() if isinstance(x, Tensor) else x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{caller}: {name} has shape {x.shape}, expected (N, d)")
    if not np.isfinite(x).all():
        raise ValueError(f"{caller}: {name} contains NaN or infinite values")
    return x


def _as_probs(probs: ArrayLike, caller: str, num_classes: int | None = None) -> np.ndarray:
    """``probs`` checked to be (N, K) rows of probabilities: non-negative, each summing to 1."""
    probs = _as_matrix(probs, "probs", caller)
    expected = "(N, K)" if num_classes is None else f"(N, {num_classes})"
    if len(probs) == 0 or (num_classes is not None and probs.shape[1] != num_classes):
        raise ValueError(f"{caller}: probs has shape {probs.shape}, expected {expected} with N >= 1")
    if (probs < 0).any():
        raise ValueError(f"{caller}: probs has negative entries (min {probs.min():.3g}), expected probabilities")
    worst = np.abs(probs.sum(axis=1) - 1.0).max()
    if worst > PROBS_ATOL:
        raise ValueError(f"{caller}: rows of probs sum to 1 only within {worst:.3g}, expected {PROBS_ATOL} "
                         f"(pass softmax outputs, not logits)")
    return probs


def _check_same_width(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str, caller: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{caller}: {name_a} has shape {a.shape} and {name_b} {b.shape}, "
                         f"expected the same number of columns")


def _check_statistics(mu: ArrayLike, sigma: ArrayLike, which: str) -> tuple[np.ndarray, np.ndarray]:
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(f"frechet_distance_from_statistics: mu{which} has shape {mu.shape} and sigma{which} "
                         f"{sigma.shape}, expected (d,) and (d, d)")
    return mu, sigma


def _entropy(p: np.ndarray) -> np.ndarray:
    r""":math:`H(p) = -\sum_k p_k \log p_k` along the last axis, with :math:`0 \log 0 = 0` (the limit)."""
    return -np.sum(p * np.log(np.where(p > 0, p, 1.0)), axis=-1)


def _kl_to_uniform(p: np.ndarray) -> float:
    r""":math:`\mathrm{KL}(p \,\|\, u) = \log K - H(p)` for a histogram p over K bins."""
    return float(np.log(len(p)) - _entropy(p))


def _psd_eigenvalues(matrix: np.ndarray) -> np.ndarray:
    """The eigenvalues of a symmetric positive semi-definite matrix, roundoff below 0 clipped to 0."""
    return np.clip(np.linalg.eigvalsh((matrix + matrix.T) / 2), 0.0, None)


def _symmetric_sqrt(matrix: np.ndarray) -> np.ndarray:
    r"""The PSD square root :math:`V \operatorname{diag}(\sqrt{\lambda}) V^\top` of a symmetric PSD matrix."""
    eigenvalues, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ vectors.T


def _sq_distance_blocks(a: np.ndarray, b: np.ndarray, batch_size: int) -> Iterator[tuple[int, np.ndarray]]:
    r"""Yield ``(start, block)``, block[i, j] = :math:`\lVert a_{start+i} - b_j \rVert^2`, batch_size rows at a time.

    :math:`\lVert a - b \rVert^2 = \lVert a \rVert^2 + \lVert b \rVert^2 - 2 a \cdot b` puts the work in
    one matrix product; roundoff can make it slightly negative, hence the clip at 0.
    """
    # Distances do not change under a shift; centring first keeps the three terms small, so that
    # points far from the origin but close together do not lose their distance to cancellation.
    shift = b.mean(axis=0)
    a, b = a - shift, b - shift
    b_sq = np.einsum("ij,ij->i", b, b)
    for start in range(0, len(a), batch_size):
        rows = a[start:start + batch_size]
        block = rows @ b.T
        block *= -2.0
        block += np.einsum("ij,ij->i", rows, rows)[:, None]
        block += b_sq
        yield start, np.maximum(block, 0.0, out=block)


def _nearest(a: np.ndarray, b: np.ndarray, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """For each row of a: the index of its nearest row of b, and the squared distance to it."""
    index = np.empty(len(a), dtype=np.intp)
    sq_distance = np.empty(len(a))
    for start, block in _sq_distance_blocks(a, b, batch_size):
        stop = start + len(block)
        index[start:stop] = block.argmin(axis=1)
        sq_distance[start:stop] = block[np.arange(len(block)), index[start:stop]]
    return index, sq_distance


def _kth_neighbour_sq_distance(x: np.ndarray, k: int, batch_size: int) -> np.ndarray:
    """For each row of x, the squared distance to its k-th nearest other row of x."""
    radii = np.empty(len(x))
    for start, block in _sq_distance_blocks(x, x, batch_size):
        rows = np.arange(len(block))
        block[rows, start + rows] = 0.0  # exactly, so that each point is its own 0-th neighbour
        radii[start:start + len(block)] = np.partition(block, k, axis=1)[:, k]
    return radii
