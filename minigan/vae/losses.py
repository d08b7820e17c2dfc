r"""The variational autoencoder's (变分自编码器) objective, each piece written as its formula.

Notation: the encoder (编码器) gives $q_\phi(z \mid x) = N(\mu, \mathrm{diag}\,\sigma^2)$ as
$(\mu, \text{logvar})$ with $\text{logvar} = \log\sigma^2$; the prior is $p(z) = N(0, I)$; the decoder
(解码器) gives the parameters of $p_\theta(x \mid z)$: logits for a Bernoulli likelihood, a mean
for a Gaussian one. For one image $x$, the evidence lower bound (证据下界, ELBO) is

    $\mathrm{ELBO}(x) = \mathbb{E}_{z \sim q_\phi(z|x)}[\log p_\theta(x \mid z)]
                       - \mathrm{KL}(q_\phi(z \mid x) \,\|\, p(z)) \le \log p_\theta(x)$,

and training maximises its average over the data, $\mathbb{E}_{x \sim p_{data}}[\mathrm{ELBO}(x)]$,
or minimises the negative: `vae_loss`. Every per-sample function returns shape (N,): a sum over
pixels or latents, never a mean, so that the two terms keep their relative weight.

    decoded, mu, logvar, z = vae(x)
    loss = vae_loss(vae.log_likelihood(decoded, x), gaussian_kl(mu, logvar), beta=1.0)

Article 004 (in Chinese, not shipped; formula audit A004-9 to A004-11 in docs/formulas.md) writes
the objective as

    $L_{VAE} = \mathbb{E}_{x \sim p_{data}(x)}[\log p_\theta(x \mid z)]
               - \beta\, \mathbb{E}_{z \sim p_z(z)}[\mathrm{KL}(q_\phi(z \mid x) \,\|\, p(z))]$

and says the encoder is trained by *minimising* it. What is wrong with it:

- the $z$ of the reconstruction term is never drawn: it must be $z \sim q_\phi(z \mid x)$, an
  expectation inside the one over $x$ (here one sample, by `reparameterize`);
- its KL sits under an expectation over the prior $p(z)$, but the KL already integrates $z$
  out; what it depends on is $x$, so the expectation belongs over the data, $x \sim p_{data}$;
- it calls $L_{VAE}$ a loss to minimise while writing the quantity to *maximise* (with
  $\beta = 1$, the ELBO above); minimising it as written would make reconstructions worse and
  push $q$ away from the prior. The loss is its negative;
- its code's ``KL_divergence(q, p)`` is never defined (for two Gaussians it has a closed form:
  `gaussian_kl`), and it calls the KL an "entropy constraint" (熵约束项); the KL is not an entropy;
- it says the encoder "maximises the reconstruction error" (最大化重构误差), and the decoder
  too: both *minimise* it, i.e. maximise $\log p_\theta(x \mid z)$.

The correct objective, maximised over $\theta$ and $\phi$:

    $\mathbb{E}_{x \sim p_{data}}\big[\mathbb{E}_{z \sim q_\phi(z|x)}[\log p_\theta(x \mid z)]
     - \beta\, \mathrm{KL}(q_\phi(z \mid x) \,\|\, p(z))\big]$.
"""
from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

from .. import ops
from ..autograd import no_grad
from ..creation import randn_like
from ..progress import progress_bar
from ..tensor import Tensor

LOG_2PI = math.log(2 * math.pi)


def _per_sample_sum(t: Tensor) -> Tensor:
    """(N, ...) -> (N,): one number per sample, summed over its pixels or latents."""
    return t.reshape(t.shape[0], -1).sum(1)


def _check_same_shape(fn: str, a_name: str, a: Tensor, b_name: str, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{fn}: {b_name} must have the shape of {a_name}, {a.shape}; got {b.shape}")


def _check_per_sample(fn: str, name: str, t: Tensor) -> None:
    if t.ndim < 1:
        raise ValueError(f"{fn}: {name} must have a batch dim, shape (N, ...); got a scalar, shape {t.shape}")


def reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor | None = None) -> Tensor:
    r"""The reparameterization trick (重参数化): a sample of $q(z \mid x) = N(\mu, \sigma^2)$,

    $z = \mu + e^{\text{logvar}/2} \odot \epsilon$, $\epsilon \sim N(0, I)$,

    written so that $z$ is a differentiable function of $\mu$ and logvar: the randomness is
    in $\epsilon$ alone, drawn from minigan's seeded generator (``randn_like``) unless given.
    $e^{\text{logvar}/2} = \sigma$, the standard deviation, because logvar is the log-*variance*.

    DeZero's VAE example (deep-learning-from-scratch-3, ``examples/vae.py``) samples
    ``z_mean + F.exp(z_log_var) * epsilon``, with $e^{\text{logvar}}$ as the standard deviation,
    so its $z$ has variance $e^{2\,\text{logvar}}$, while its KL term treats logvar as the
    log-variance. The two halves of its ELBO describe different distributions; this pair
    (`reparameterize` and `gaussian_kl`) describes the same one.
    """
    _check_same_shape("reparameterize", "mu", mu, "logvar", logvar)
    if eps is None:
        eps = randn_like(mu)
    _check_same_shape("reparameterize", "mu", mu, "eps", eps)
    return mu + ops.exp(logvar / 2) * eps


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    r"""KL divergence (KL 散度) of $q = N(\mu, \mathrm{diag}\,\sigma^2)$ from the prior $N(0, I)$, per sample:

    $\mathrm{KL}(N(\mu, \sigma^2) \,\|\, N(0, I)) = -\tfrac12 \sum_j (1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2)$,

    summed over the latents $j$: shape (N,) for ``mu`` and ``logvar`` of shape (N, d). Taking
    logvar as input (not $\sigma$) keeps it finite: $\log\sigma^2$ is never computed from a
    $\sigma^2$ that could round to 0, and in float32 $e^{\text{logvar}}$ stays finite for any
    logvar in [-60, 60] ($e^{60} \approx 10^{26}$, float32 reaches $3 \cdot 10^{38}$).
    """
    _check_per_sample("gaussian_kl", "mu", mu)
    _check_same_shape("gaussian_kl", "mu", mu, "logvar", logvar)
    return -0.5 * _per_sample_sum(1 + logvar - mu * mu - ops.exp(logvar))


def gaussian_log_density(z: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    r"""$\log N(z; \mu, \mathrm{diag}\,\sigma^2)$ per sample: $\log q(z \mid x)$ for the encoder's output,

    $\log q(z \mid x) = -\tfrac12 \sum_j \big(\log 2\pi + \text{logvar}_j + (z_j - \mu_j)^2 e^{-\text{logvar}_j}\big)$.
    """
    _check_per_sample("gaussian_log_density", "z", z)
    _check_same_shape("gaussian_log_density", "z", z, "mu", mu)
    _check_same_shape("gaussian_log_density", "z", z, "logvar", logvar)
    return -0.5 * _per_sample_sum(LOG_2PI + logvar + (z - mu) ** 2 * ops.exp(-logvar))


def standard_normal_log_density(z: Tensor) -> Tensor:
    r"""$\log p(z)$ per sample under the prior $N(0, I)$: $-\tfrac12 \sum_j (\log 2\pi + z_j^2)$."""
    _check_per_sample("standard_normal_log_density", "z", z)
    return -0.5 * _per_sample_sum(LOG_2PI + z * z)


def bernoulli_log_likelihood(logits: Tensor, x: Tensor) -> Tensor:
    r"""$\log p(x \mid z)$ per sample for a Bernoulli decoder with logits $\ell$, summed over pixels:

    $\log p(x \mid z) = \sum_i x_i \log\sigma(\ell_i) + (1 - x_i)\log(1 - \sigma(\ell_i))
                      = \sum_i x_i \ell_i - \mathrm{softplus}(\ell_i)$,

    the negative of ``binary_cross_entropy_with_logits(logits, x, reduction="sum")`` per sample,
    finite for logits of any size. It is a likelihood for binary pixels; on grey MNIST in
    [0, 1] it is still the usual reconstruction term (a cross-entropy), but not the log of a
    normalised density of $x$, so its NLL is not comparable with results on binarised MNIST.
    """
    _check_per_sample("bernoulli_log_likelihood", "logits", logits)
    _check_same_shape("bernoulli_log_likelihood", "logits", logits, "x", x)
    return _per_sample_sum(x * logits - ops.softplus(logits))


def gaussian_log_likelihood(mean: Tensor, x: Tensor, variance: float = 1.0) -> Tensor:
    r"""$\log p(x \mid z)$ per sample for a Gaussian decoder with mean $\mu$ and a fixed variance $\sigma^2$ per pixel:

    $\log p(x \mid z) = -\tfrac12 \sum_i \big((x_i - \mu_i)^2 / \sigma^2 + \log 2\pi\sigma^2\big)$.

    With $\sigma^2$ fixed, this is $-\frac{1}{2\sigma^2}$ times the *summed* squared error plus a
    constant: ``mse_loss(mean, x, reduction="sum")`` is $-\log p(x \mid z)$ for $\sigma^2 = 1/2$, up
    to a constant. Article 004 uses ``nn.MSELoss()``, whose default *averages* over the D = 784
    pixels, beside a KL summed over the latents: $\mathrm{MSE}_{mean} + \beta\,\mathrm{KL}
    = \frac{1}{784}(\mathrm{MSE}_{sum} + 784\,\beta\,\mathrm{KL})$, i.e. $\sigma^2 = 1/2$ with $\beta$
    silently multiplied by 784 (or $\sigma^2 = 392$ with $\beta$ as written). The KL then
    dominates, and the encoder learns to ignore $x$: posterior collapse (后验坍塌). The scale of
    $\sigma^2$ matters in the same way here: on pixels in [0, 1], $\sigma^2 = 1$ rewards a good
    reconstruction with at most $\frac12$ nat per pixel.
    """
    _check_per_sample("gaussian_log_likelihood", "mean", mean)
    _check_same_shape("gaussian_log_likelihood", "mean", mean, "x", x)
    if not variance > 0:
        raise ValueError(f"gaussian_log_likelihood: variance must be positive, got {variance}")
    return -0.5 * _per_sample_sum((x - mean) ** 2 / variance + math.log(2 * math.pi * variance))


def elbo(log_likelihood: Tensor, kl: Tensor) -> Tensor:
    r"""The evidence lower bound (证据下界) per sample, one $z \sim q(z \mid x)$ estimating the expectation:

    $\mathrm{ELBO}(x) = \mathbb{E}_{q(z|x)}[\log p(x \mid z)] - \mathrm{KL}(q(z \mid x) \,\|\, p(z)) \le \log p(x)$.
    """
    _check_per_sample("elbo", "log_likelihood", log_likelihood)
    _check_same_shape("elbo", "log_likelihood", log_likelihood, "kl", kl)
    return log_likelihood - kl


def vae_loss(log_likelihood: Tensor, kl: Tensor, beta: float = 1.0) -> Tensor:
    r"""The loss to minimise: $-\mathbb{E}_{q(z|x)}[\log p(x \mid z)] + \beta\,\mathrm{KL}(q(z \mid x) \,\|\, p(z))$.

    Reduction: ``log_likelihood`` and ``kl`` are per sample, (N,), already summed over pixels
    and latents; the loss averages them over the batch. $\beta = 1$ gives the negative ELBO
    (nats per image); $\beta > 1$ is the β-VAE (Higgins et al., 2017). The critique of article
    004's $L_{VAE}$ is in this module's docstring.
    """
    _check_per_sample("vae_loss", "log_likelihood", log_likelihood)
    _check_same_shape("vae_loss", "log_likelihood", log_likelihood, "kl", kl)
    return (-log_likelihood + beta * kl).mean()


def active_units(mu: Tensor | np.ndarray, threshold: float = 0.01) -> int:
    r"""How many latent units are *active* (Burda et al., 2016, section 5.2): those whose posterior mean
    varies with the image,

    $A_u = \mathrm{Cov}_x\big(\mathbb{E}_{q(z|x)}[z_u]\big) > \delta$

    ($\delta$ = ``threshold``, 0.01 as in the paper), from ``mu``, the means $\mu(x)$ of $q(z \mid x)$
    for N images, shape (N, d), the variance taken over the images. A unit whose posterior is the
    prior for every x, $q(z_u \mid x) = N(0, 1)$, has $\mu_u(x) = 0$ throughout and its KL is 0: it
    carries nothing about x (posterior collapse, 后验坍塌). The converse does not hold: a unit can
    pass the threshold while its KL is well under one nat.
    """
    means = np.asarray(mu.numpy() if isinstance(mu, Tensor) else mu, dtype=np.float64)
    if means.ndim != 2 or means.shape[0] < 2:
        raise ValueError(f"active_units: mu must be posterior means of shape (N, d) with N >= 2 images; "
                         f"got shape {means.shape}")
    if not threshold >= 0:
        raise ValueError(f"active_units: threshold must be >= 0, got {threshold!r}")
    return int((means.var(axis=0) > threshold).sum())


class LatentVariableModel(Protocol):
    """What `importance_weighted_nll` needs of a model: a VAE, or anything that encodes and decodes like one."""

    @property
    def training(self) -> bool: ...
    def train(self, mode: bool = True) -> object: ...
    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]: ...
    def decode(self, z: Tensor) -> Tensor: ...
    def log_likelihood(self, decoded: Tensor, x: Tensor) -> Tensor: ...


def importance_weighted_nll(model: LatentVariableModel, x: Tensor, k: int = 1000, chunk: int = 100,
                            progress: bool = False, rows: int = 10_000) -> np.ndarray:
    r"""$-\log p(x)$ per image, in nats, by importance sampling with $q(z \mid x)$ as the proposal (Burda et al., 2016):

    $-\log p(x) \approx -\log \frac1k \sum_{i=1}^k \frac{p(x \mid z_i)\, p(z_i)}{q(z_i \mid x)}$,
    $z_i \sim q(z \mid x)$.

    Its expectation is a lower bound on $\log p(x)$ that rises with k, from the ELBO at k = 1
    towards $\log p(x)$, so the returned NLL falls with k. The weights' logs are around -100
    nats, so they are never exponentiated as they are: the log-mean-exp keeps a running max m,
    $\log\frac1k\sum_i e^{w_i} = m + \log\sum_i e^{w_i - m} - \log k$, updated chunk by chunk.

    Runs in eval mode (BatchNorm must not couple the samples) and without a graph, ``chunk``
    samples per image at a time, for as many images at once as keep a pass to at most ``rows``
    decoded latents: memory is set by ``rows``, and k = 5000 or N = 10,000 cost only time. ``x``:
    (N, ...) images as the model's likelihood expects them. Returns a float64 NumPy array of
    shape (N,). The model's mode is restored.
    """
    for name, value in (("k", k), ("chunk", chunk), ("rows", rows)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"importance_weighted_nll: {name} must be a positive integer, got {value!r}")
    chunk = min(chunk, rows)
    group = max(1, rows // chunk)  # images per pass
    was_training = model.training
    model.train(False)
    try:
        with no_grad(), progress_bar(k * x.shape[0], desc="importance sampling", enabled=progress,
                                     unit="sample") as bar:
            nll = [_iw_nll(model, x[start:start + group], k, chunk, bar) for start in range(0, x.shape[0], group)]
    finally:
        model.train(was_training)
    return np.concatenate(nll)


def _iw_nll(model: LatentVariableModel, x: Tensor, k: int, chunk: int, bar: Any) -> np.ndarray:
    """`importance_weighted_nll` for the N images of ``x``, ``chunk`` samples of each per pass."""
    n = x.shape[0]
    running_max, running_sum = np.full(n, -np.inf), np.zeros(n)
    mu, logvar = model.encode(x)
    for start in range(0, k, chunk):
        c = min(chunk, k - start)
        # c draws for every image at once: (c, N, d), flattened to (c N, d) for the decoder.
        mu_c = mu.expand(c, *mu.shape).reshape(c * n, -1)
        logvar_c = logvar.expand(c, *logvar.shape).reshape(c * n, -1)
        x_c = x.expand(c, *x.shape).reshape(c * n, *x.shape[1:])
        z = reparameterize(mu_c, logvar_c)
        log_w = (model.log_likelihood(model.decode(z), x_c) + standard_normal_log_density(z)
                 - gaussian_log_density(z, mu_c, logvar_c))
        log_w_np = np.asarray(log_w.numpy(), dtype=np.float64).reshape(c, n)
        new_max = np.maximum(running_max, log_w_np.max(0))
        running_sum = running_sum * np.exp(running_max - new_max) + np.exp(log_w_np - new_max).sum(0)
        running_max = new_max
        bar.update(c * n)
    return -(running_max + np.log(running_sum) - math.log(k))
