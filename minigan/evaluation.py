"""How good is a generator? The numbers of `minigan eval` and of the trainer's ``--eval-every``.

Images are judged through the MNIST classifier that ships with minigan (`minigan.classifier`):
its class probabilities give the MNIST score and the class statistics, its penultimate features
the Fréchet distance and precision/recall against real training images. A conditional GAN's
samples are also checked against the digits they were asked for (``label_accuracy``): its MNIST
score is only worth as much as that. InfoGAN's codes are checked for how well they follow the
digits (``code_purity``). 2-D samples are judged against the modes of their mixture
(`minigan.metrics.mixture_metrics`).
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import checkpoint, data, metrics, random
from .autograd import no_grad
from .classifier import classify
from .creation import tensor
from .gan.models import GAN, build
from .models import MODELS, nonfinite_parameter
from .nn import Module
from .vae.models import VAE

IMAGE_KEYS = ("mnist_score", "frechet_distance", "classes_present", "class_kl", "confident_fraction", "precision",
              "recall")
POINT_KEYS = ("modes_covered", "high_quality", "reverse_kl")


_references: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}  # (split, n) -> (probs, features)


def _reference(split: str, n: int, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Classifier outputs for the first ``n`` real images of ``split`` (computed once per process)."""
    if (split, n) not in _references:
        images, _ = data.mnist(split)
        _references[split, n] = classify(images[:n], progress=progress, desc="real digits")
    return _references[split, n]


def image_metrics(images: ArrayLike, labels: ArrayLike | None = None, codes: ArrayLike | None = None,
                  reference_n: int = 10_000, progress: bool = False) -> dict[str, float]:
    """Metrics of (N, 1, 28, 28) images in [-1, 1] against the first ``reference_n`` training images.
    With ``labels`` (N,), the digits the images should show, also ``label_accuracy``: the share of
    images the classifier reads as their label. With ``codes`` (N,), InfoGAN's codes behind the
    images, also `metrics.code_purity`. ``progress`` shows progress bars while the classifier reads them."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1:] != (1, 28, 28):
        raise ValueError(f"image_metrics: expected images of shape (N, 1, 28, 28), got {images.shape}")
    for name, given in (("labels", labels), ("codes", codes)):
        if given is not None and np.shape(given) != (len(images),):
            raise ValueError(f"image_metrics: expected {name} of shape ({len(images)},), got {np.shape(given)}")
    probs, features = classify(images, progress=progress, desc="samples")
    _, real_features = _reference("train", reference_n, progress)
    precision, recall = metrics.precision_recall(real_features[:len(features)], features)
    stats = metrics.class_statistics(probs)
    asked = {} if labels is None else {"label_accuracy": float(np.mean(probs.argmax(1) == np.asarray(labels)))}
    if codes is not None:
        asked["code_purity"] = metrics.code_purity(codes, probs.argmax(1))
    return {
        "n": len(images),
        "mnist_score": metrics.mnist_score(probs),
        "frechet_distance": metrics.frechet_distance(real_features, features),
        "classes_present": stats["classes_present"],
        "class_kl": stats["class_kl"],
        "confident_fraction": stats["confident_fraction"],
        "precision": precision,
        "recall": recall,
        **asked,
    }


def point_metrics(samples: np.ndarray, mixture: str) -> dict[str, float]:
    m = metrics.mixture_metrics(samples, data.MIXTURES[mixture].modes(), data.MIXTURES[mixture].std)
    return {"n": len(samples), **{k: m[k] for k in POINT_KEYS}, "modes_covered_1pct": m["modes_covered_1pct"]}


def real_images(which: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """Real test images (the sanity anchor), real training images past the reference, or uniform
    noise; with their labels (None for noise)."""
    if which == "noise":
        return np.random.default_rng(seed).uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32), None
    images, labels = data.mnist(which)
    part = slice(-n, None) if which == "train" else slice(n)
    return images[part], labels[part]


def requested_labels(gan: GAN, n: int, label: int | None = None) -> np.ndarray | None:
    """The digits (cdcgan) or codes (InfoGAN) that ``n`` samples are drawn for: ``label`` each time,
    or every value in turn when it is None, so that each is drawn equally. None for other GANs."""
    if not gan.given_values:
        return None
    return np.full(n, label) if label is not None else np.arange(n) % gan.given_values


def generate(gan: GAN, n: int, seed: int = 0, label: int | None = None, progress: bool = False) -> np.ndarray:
    """``n`` samples of a trained GAN from noise seeded by ``seed``, asked for `requested_labels`."""
    z = tensor(np.random.default_rng(seed).standard_normal((n, gan.z_dim)).astype(np.float32))
    labels = requested_labels(gan, n, label)
    return gan.sample(z, None if labels is None else tensor(labels), progress=progress)


def metric_keys(gan: GAN) -> tuple[str, ...]:
    """The metrics the trainer's ``--eval-every`` records for ``gan``."""
    if gan.data == "2d":
        return POINT_KEYS
    return IMAGE_KEYS + (("label_accuracy",) if gan.conditional else ()) + (("code_purity",) if gan.codes else ())


def strict_json(value: Any) -> Any:
    """``value`` (dicts, lists, numbers) with every inf or nan replaced by None, so that it dumps as
    standard JSON (``null``) rather than Python's ``Infinity``/``NaN``, which most JSON readers refuse.
    (The reverse KL is inf when no sample is of high quality.)"""
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    return value


def load_model(path: str | os.PathLike[str]) -> tuple[GAN | VAE, dict[str, Any]]:
    """The model a checkpoint was trained as, and the run's config: a GAN with its generator's weights
    (their moving average when the run kept one, --ema), or a VAE. Refuses a checkpoint with a NaN
    or inf weight."""
    state = checkpoint.load(path)
    if "config" not in state or not ("generator" in state or "vae" in state):
        raise checkpoint.CheckpointError(f"checkpoint {path} holds no generator and no VAE")
    config = state["config"]
    try:
        model: GAN | VAE
        network: Module
        if "vae" in state:
            vae = MODELS[config["model"]].build(latent_dim=config["latent_dim"], likelihood=config["likelihood"])
            vae.load_state_dict(state["vae"])
            model = network = vae
        else:
            gan = build(config["model"])
            gan.generator.load_state_dict(state.get("generator_ema", state["generator"]))
            model, network = gan, gan.generator
    except (KeyError, ValueError, RuntimeError) as error:
        raise checkpoint.CheckpointError(f"checkpoint {path} does not fit its model: {error}") from None
    bad = nonfinite_parameter(network)
    if bad:
        what = "VAE" if isinstance(model, VAE) else "generator"
        raise checkpoint.CheckpointError(f"checkpoint {path} has a NaN or inf weight ({what} parameter {bad}): "
                                         "its samples would be NaN")
    return model, {**config, "step": state.get("step")}


def load_generator(path: str | os.PathLike[str]) -> tuple[GAN, dict[str, Any]]:
    """`load_model` for a GAN's checkpoint; a VAE's is refused."""
    model, config = load_model(path)
    if isinstance(model, VAE):
        raise checkpoint.CheckpointError(f"checkpoint {path} holds a VAE ({config['model']}), not a GAN")
    return model, config


def digit_samples(gan: GAN, n: int, seed: int = 0, progress: bool = False) -> np.ndarray:
    """``n`` samples of an MNIST GAN in [-1, 1], the range the classifier reads, 28x28: a model of
    MNIST padded to 32x32 (dcgan32) has the 2-pixel border the padding added cut off again."""
    if gan.data not in ("mnist", "mnist32") or gan.sample_shape[0] != 1:
        raise ValueError(f"the MNIST classifier judges 28x28 digits; model {gan.name} makes {gan.sample_shape} samples")
    samples = generate(gan, n, seed, progress=progress)
    if gan.data == "mnist32":
        samples = samples[:, :, 2:30, 2:30]
    return samples * 2 - 1 if gan.scale == "unit" else samples


VAE_TRAINING_KEYS = IMAGE_KEYS + ("test_neg_elbo",)


def vae_metrics(vae: VAE, n_samples: int = 10_000, n_test: int = 1000, k: int = 1000, seed: int = 0,
                binarized: bool = False, data_dir: str | None = None, progress: bool = False) -> dict[str, Any]:
    r"""A VAE judged as a likelihood model and as a generator.

    On the first ``n_test`` test images: the negative ELBO per image (in nats, z drawn once per
    image), the importance-weighted NLL $-\log \frac1k \sum_i p(x, z_i)/q(z_i|x)$ with ``k``
    samples (`minigan.vae.importance_weighted_nll`; skipped when ``k`` is 0), and the number of
    *active units* (Burda et al., 2016): latent dimensions whose posterior mean varies with x,
    $\mathrm{Cov}_x(\mathbb{E}_q[z_u]) > 0.01$; a collapsed posterior (后验坍塌) leaves units
    inactive. Then the sample metrics of a GAN on ``n_samples`` draws from the prior. With
    ``binarized`` (a model trained with --binarize), the test images are binarised as the
    training images were, each pixel 1 with probability its grey level, drawn once from ``seed``:
    there a Bernoulli p(x|z) is a true likelihood; on grey levels it is not, and its "NLL" is a
    cross-entropy. Uses its own random numbers (``seed``): minigan's generator and the model's
    mode are as they were afterwards.
    """
    from .vae import active_units, gaussian_kl, importance_weighted_nll

    images, _ = data.mnist("test", scale="unit", data_dir=data_dir)
    if not 1 <= n_test <= len(images):
        raise ValueError(f"vae_metrics: n_test must be in 1..{len(images)} (the test images), got {n_test}")
    x = images[:n_test]
    if binarized:
        x = (np.random.default_rng(seed).random(x.shape) < x).astype(np.float32)
    rng_state, was_training = random.get_rng_state(), vae.training
    random.manual_seed(seed)
    vae.eval()
    try:
        neg_elbo, means = [], []
        with no_grad():
            for start in range(0, n_test, 500):
                batch = tensor(x[start:start + 500])
                decoded, mu, logvar, _ = vae(batch)
                neg_elbo.append(-(vae.log_likelihood(decoded, batch) - gaussian_kl(mu, logvar)).numpy())
                means.append(mu.numpy())
        result: dict[str, Any] = {"test_neg_elbo": float(np.concatenate(neg_elbo).mean())}
        if k:
            result["test_iw_nll"] = float(importance_weighted_nll(vae, tensor(x), k=k, progress=progress).mean())
        result["active_units"] = active_units(np.concatenate(means))
        result["latent_dim"] = vae.latent_dim
        z = tensor(np.random.default_rng(seed).standard_normal((n_samples, vae.latent_dim)).astype(np.float32))
        samples = vae.sample(z, progress=progress) * 2 - 1  # [0, 1] -> [-1, 1], the classifier's range
    finally:
        random.set_rng_state(rng_state)
        vae.train(was_training)
    return {**result, **image_metrics(samples, progress=progress)}


def evaluate(gan: GAN, n: int, data_name: str, seed: int = 0, progress: bool = False) -> dict[str, float]:
    """The metrics that apply to ``gan``'s kind of data; ``progress`` shows progress bars."""
    if gan.data == "2d":
        return point_metrics(generate(gan, n, seed), data_name)
    images, given = digit_samples(gan, n, seed, progress), requested_labels(gan, n)
    asked: dict[str, Any] = {"codes": given} if gan.codes else {"labels": given}  # codes= or labels=
    return image_metrics(images, **asked, progress=progress)
