r"""Variational autoencoders (变分自编码器) for MNIST, built by name: `vae_mlp()`, `vae_conv()`.

| name     | from                 | encoder q(z|x)                               | decoder p(x|z)                     |
| -------- | -------------------- | -------------------------------------------- | ---------------------------------- |
| vae-mlp  | pytorch/examples/vae | 784-400 ReLU, two heads 400 -> mu, logvar    | latent-400 ReLU-784                |
| vae-conv | dcgan's networks     | dcgan D's two convs (6272 features), 2 heads | dcgan G's layers, ending in logits |

Data: MNIST scaled to [0, 1] (``minigan.data.mnist(scale="unit")``), images of shape (N, 1, 28, 28).
The decoder's output is the likelihood's parameter, not an image: logits for ``"bernoulli"``,
the mean for ``"gaussian"``; `VAE.mean_image` turns it into one.
"""
from __future__ import annotations

import numpy as np

from .. import nn, ops
from ..autograd import no_grad
from ..gan.models import _dcgan_features, _dcgan_generator
from ..progress import progress_bar
from ..tensor import Tensor
from .losses import bernoulli_log_likelihood, gaussian_log_likelihood, reparameterize

IMAGE_SHAPE = (1, 28, 28)
LIKELIHOODS = ("bernoulli", "gaussian")


def _check_config(fn: str, latent_dim: int, likelihood: str, variance: float) -> None:
    if not isinstance(latent_dim, (int, np.integer)) or isinstance(latent_dim, bool) or latent_dim < 1:
        raise ValueError(f"{fn}: latent_dim must be a positive integer, got {latent_dim!r}")
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"{fn}: unknown likelihood {likelihood!r}; choose one of {', '.join(LIKELIHOODS)}")
    if not variance > 0:
        raise ValueError(f"{fn}: variance must be positive, got {variance!r}")


class GaussianEncoder(nn.Module):
    r"""$q(z \mid x) = N(\mu(x), \mathrm{diag}\, e^{\text{logvar}(x)})$: shared features, then one Linear head each.

    The head predicts the log-variance rather than $\sigma$: any real number is a valid
    log-variance, so it needs no positivity constraint.
    """

    def __init__(self, features: nn.Module, n_features: int, latent_dim: int) -> None:
        super().__init__()
        self.features = features
        self.mu = nn.Linear(n_features, latent_dim)
        self.logvar = nn.Linear(n_features, latent_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.features(x)
        return self.mu(h), self.logvar(h)


class VAE(nn.Module):
    r"""An encoder $q_\phi(z \mid x)$, a decoder $p_\theta(x \mid z)$ and the prior $p(z) = N(0, I)$.

    ``encoder(x)`` gives ``(mu, logvar)``, each (N, latent_dim); ``decoder(z)`` gives the
    likelihood's parameter, (N, 1, 28, 28): logits for ``likelihood="bernoulli"``, the mean for
    ``"gaussian"`` (with the fixed per-pixel ``variance``). Training:

        decoded, mu, logvar, z = vae(x)
        loss = vae_loss(vae.log_likelihood(decoded, x), gaussian_kl(mu, logvar), beta)
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, latent_dim: int, likelihood: str = "bernoulli",
                 name: str = "vae", variance: float = 1.0) -> None:
        super().__init__()
        _check_config("VAE", latent_dim, likelihood, variance)
        self.encoder, self.decoder = encoder, decoder
        self.latent_dim, self.likelihood, self.name, self.variance = int(latent_dim), likelihood, name, variance

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(mu, logvar)`` of q(z|x) for images x of shape (N, 1, 28, 28)."""
        if x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE:
            raise ValueError(f"VAE.encode ({self.name}): expected images of shape (N, 1, 28, 28), got {x.shape}")
        mu, logvar = self.encoder(x)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        """The likelihood's parameter (logits or mean), (N, 1, 28, 28), for latents z of shape (N, latent_dim)."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"VAE.decode ({self.name}): expected latents of shape (N, {self.latent_dim}), "
                             f"got {z.shape}")
        decoded: Tensor = self.decoder(z)
        return decoded

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(decoded, mu, logvar, z)``: one z ~ q(z|x) per image, drawn by `reparameterize` so that
        the loss's gradient flows back into the encoder."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar)
        return self.decode(z), mu, logvar, z

    def log_likelihood(self, decoded: Tensor, x: Tensor) -> Tensor:
        """log p(x|z) per image, (N,), summed over pixels, for the decoder's output ``decoded``."""
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(decoded, x)
        return gaussian_log_likelihood(decoded, x, self.variance)

    def mean_image(self, decoded: Tensor) -> Tensor:
        r"""The mean of p(x|z), an image in [0, 1]: $\sigma(\ell)$ for logits, the Gaussian mean clipped to [0, 1]."""
        if self.likelihood == "bernoulli":
            return ops.sigmoid(decoded)
        return ops.clamp(decoded, 0.0, 1.0)

    def sample(self, z: Tensor, batch_size: int = 500, progress: bool = False) -> np.ndarray:
        """The mean images of p(x|z) for latents z (from the prior: ``mg.randn(n, latent_dim)``), as a NumPy
        array in [0, 1], in eval mode and without a graph, in batches (with a progress bar if
        ``progress``); the model's mode is restored. Means, not draws: Bernoulli draws are noisy
        binary images, and the mean is what a VAE's samples are usually shown as."""
        was_training = self.training
        self.eval()
        out = []
        try:
            with no_grad(), progress_bar(z.shape[0], desc="sampling", enabled=progress, unit="sample") as bar:
                for start in range(0, z.shape[0], batch_size):
                    part = z[start:start + batch_size]
                    out.append(self.mean_image(self.decode(part)).numpy())
                    bar.update(part.shape[0])
        finally:
            self.train(was_training)
        return np.concatenate(out)

    def encode_means(self, x: Tensor) -> Tensor:
        """The posterior means mu(x), in eval mode and without a graph (for pictures, not training)."""
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                return self.encode(x)[0]
        finally:
            self.train(was_training)

    def extra_repr(self) -> str:
        variance = f", variance={self.variance}" if self.likelihood == "gaussian" else ""
        return f"name={self.name!r}, latent_dim={self.latent_dim}, likelihood={self.likelihood!r}{variance}"


def vae_mlp(latent_dim: int = 20, likelihood: str = "bernoulli", variance: float = 1.0) -> VAE:
    """pytorch/examples/vae: encoder 784 -> 400 ReLU -> (mu, logvar), decoder latent -> 400 ReLU -> 784.

    Data: MNIST in [0, 1]. ``variance``: the Gaussian decoder's fixed per-pixel variance (unused
    for the Bernoulli one).
    """
    _check_config("vae_mlp", latent_dim, likelihood, variance)
    encoder = GaussianEncoder(nn.Sequential(nn.Flatten(), nn.Linear(784, 400), nn.ReLU()), 400, latent_dim)
    decoder = nn.Sequential(nn.Linear(latent_dim, 400), nn.ReLU(), nn.Linear(400, 784), nn.Unflatten(1, IMAGE_SHAPE))
    return VAE(encoder, decoder, latent_dim, likelihood, name="vae-mlp", variance=variance)


def vae_conv(latent_dim: int = 20, likelihood: str = "bernoulli", variance: float = 1.0) -> VAE:
    """dcgan's networks as a VAE: D's convolutions encode, G's layers decode.

    Encoder: Conv 1->64 -> LeakyReLU(0.2) -> Conv 64->128 -> LeakyReLU(0.2) -> Flatten (6272)
    -> Linear heads to mu and logvar. Decoder: Linear(latent, 1024) -> BN -> ReLU -> Linear(6272)
    -> BN -> ReLU -> ConvT 128->64 -> BN -> ReLU -> ConvT 64->1, every convolution k4 s2 p1.
    Data: MNIST in [0, 1].

    The decoder ends in logits (or the Gaussian mean), so dcgan's final tanh is left off. The
    layers keep their default initialisation: DCGAN's N(0, 0.02) is a recipe for adversarial
    training, and a VAE trains by plain maximum likelihood.
    """
    _check_config("vae_conv", latent_dim, likelihood, variance)
    encoder = GaussianEncoder(nn.Sequential(*_dcgan_features(1)), 128 * 7 * 7, latent_dim)
    decoder = _dcgan_generator(latent_dim)[:-1]  # all but the tanh
    return VAE(encoder, decoder, latent_dim, likelihood, name="vae-conv", variance=variance)
