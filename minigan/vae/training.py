r"""Training a VAE: one Adam step on the negative ELBO per batch, through the loop every model shares.

What every run shares (options, run directory, log, checkpoints, resume, progress, the NaN guard)
is `minigan.training.Run`; this file is what is a VAE's own: its step, with $\beta$ and its warm-up,

    $\mathcal{L} = -\mathbb{E}_{q(z|x)}[\log p(x \mid z)] + \beta_t\, \mathrm{KL}(q(z \mid x) \,\|\, p(z))$,
    $\beta_t = \beta \min(1, t / T_{warm-up})$ (KL warm-up; $\beta_t = \beta$ without one),

and its pictures: samples from the prior on fixed z, reconstructions beside their inputs, a strip
along a straight line in latent space between two test digits, and the latent manifold when z is
2-D. losses.csv has the loss and its parts per step: the reconstruction term, the KL and the
ELBO (all per image, in nats, the ELBO with $\beta = 1$).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from .. import data, optim, plotting
from ..creation import rand_like, tensor
from ..data import DataLoader
from ..models import MODELS
from ..nn import Module
from ..tensor import Tensor
from ..training import Run, TrainConfig
from .losses import gaussian_kl, vae_loss
from .models import VAE

DEFAULT_LR, DEFAULT_BETAS = 1e-3, (0.9, 0.999)  # Adam's defaults, as pytorch/examples/vae trains
DEFAULT_BATCH_SIZE = 64


def build_vae(cfg: TrainConfig) -> VAE:
    """The config's VAE: its model and likelihood, and its latent size (the model's default when None)."""
    size = {"latent_dim": cfg.latent_dim} if cfg.latent_dim else {}
    return MODELS[cfg.model].build(likelihood=cfg.likelihood, **size)


def binarize(x: Any) -> Any:
    """Dynamic binarisation: each pixel is 1 with probability its grey level, drawn anew each time, so
    that a Bernoulli p(x|z) is a true likelihood of the (binary) data."""
    return (rand_like(x) < x).to(x.dtype)


class VAETrainer(Run):
    """Trains ``config``'s VAE; `train` runs it to the end. ``resume=True`` continues the run in
    ``config.out`` from its last.npz."""

    columns = ("loss", "reconstruction", "kl", "elbo")
    column_labels: ClassVar[dict[str, str]] = {"reconstruction": "rec"}

    def __init__(self, config: TrainConfig, resume: bool = False):
        super().__init__(config, resume)
        cfg = self.cfg
        cfg.lr, cfg.betas = cfg.lr or DEFAULT_LR, cfg.betas or DEFAULT_BETAS
        cfg.lr_decay = cfg.lr_decay or "none"
        cfg.batch_size = cfg.batch_size or DEFAULT_BATCH_SIZE
        cfg.data = "mnist"
        self.vae = build_vae(cfg)
        cfg.latent_dim = self.vae.latent_dim
        images, labels = data.mnist("train", scale="unit", data_dir=cfg.data_dir)
        self.loader = DataLoader(images, labels, batch_size=cfg.batch_size, seed=cfg.seed)
        self.total_steps = self.steps_for_epochs()
        self.optimizer = optim.Adam(self.vae.parameters(), lr=cfg.lr, betas=cfg.betas)
        self.optimizers = {"optimizer": self.optimizer}
        # Fixed latents and test digits, from their own generator: each picture shows the same ones all along.
        fixed = np.random.default_rng(cfg.seed + 1)
        self.fixed_z = tensor(fixed.standard_normal((64, cfg.latent_dim)).astype(np.float32))
        test_images, _ = data.mnist("test", scale="unit", data_dir=cfg.data_dir)
        self.fixed_x = tensor(test_images[:32])
        self.begin()

    def networks(self) -> dict[str, Module]:
        return {"vae": self.vae}

    def beta_now(self) -> float:
        """$\\beta_t$: the KL's weight at this step, rising linearly from 0 over ``kl_warmup`` steps."""
        warmup = self.cfg.kl_warmup
        return self.cfg.beta * min(1.0, self.step / warmup) if warmup else self.cfg.beta

    def loss(self, log_likelihood: Tensor, kl: Tensor) -> Tensor:
        """What a step minimises, from the per-image $\\log p(x \\mid z)$ and KL of its batch, (N,) each:
        `vae_loss` with this step's $\\beta_t$. A subclass may put another objective here, e.g. article
        004's $L_{VAE}$ as written (`minigan.gan.articles.article004_vae_objective`, which lesson 7
        trains on to show where it leads); the step, its data and its log stay the same."""
        return vae_loss(log_likelihood, kl, self.beta_now())

    def train_step(self) -> dict[str, float]:
        x, _ = self.next_batch()
        if self.cfg.binarize:
            x = binarize(x)
        decoded, mu, logvar, _z = self.vae(x)
        log_likelihood, kl = self.vae.log_likelihood(decoded, x), gaussian_kl(mu, logvar)
        loss = self.loss(log_likelihood, kl)
        self.update(self.optimizer, loss, self.vae, "VAE")
        self.end_step()
        reconstruction, kl_mean = -log_likelihood.mean().item(), kl.mean().item()
        return {"loss": loss.item(), "reconstruction": reconstruction, "kl": kl_mean,
                "elbo": -(reconstruction + kl_mean)}

    def curve_panels(self, curves: dict[str, Sequence[float]]) -> dict[str, dict[str, Sequence[float]]]:
        # the ELBO is minus (reconstruction + KL): one curve fewer says the same
        return {"losses (nats per image)": {"loss (beta-weighted)": curves["loss"],
                                            "reconstruction -log p(x|z)": curves["reconstruction"],
                                            "KL": curves["kl"]}}

    # --- pictures -------------------------------------------------------------------------
    def save_samples(self) -> None:
        """Samples from the prior on fixed z, reconstructions, the interpolation strip, the 2-D manifold."""
        title = f"{self.title()}, step {self.step}"
        samples = self.vae.sample(self.fixed_z)
        for name in (f"samples_{self.step:06d}.png", "samples.png"):
            plotting.save_image_grid(samples, self.path(name), title=title, value_range=(0.0, 1.0))
        self.save_reconstructions(title)
        self.save_interpolation(title)
        if self.cfg.latent_dim == 2:
            self.save_manifold(title)

    def save_reconstructions(self, title: str) -> None:
        """Test digits (odd columns) and their reconstructions, the means of p(x | z = mu(x)), beside them."""
        recon = self.vae.sample(self.vae.encode_means(self.fixed_x))
        pairs = np.stack([self.fixed_x.numpy(), recon], axis=1).reshape(-1, *recon.shape[1:])
        plotting.save_image_grid(pairs, self.path("reconstructions.png"), title=f"{title}: input, reconstruction",
                                 value_range=(0.0, 1.0), nrow=8)

    def save_interpolation(self, title: str) -> None:
        """The decoded means along the straight line between the posterior means of two test digits."""
        mu = self.vae.encode_means(self.fixed_x[:2])
        t = tensor(np.linspace(0, 1, 10, dtype=np.float32)[:, None])
        strip = self.vae.sample(mu[0:1] * (1 - t) + mu[1:2] * t)
        plotting.save_image_grid(strip, self.path("interpolation.png"), title=f"{title}: z from one digit to another",
                                 value_range=(0.0, 1.0), nrow=10)

    def save_manifold(self, title: str) -> None:
        """With a 2-D latent space, the decoded means over a 20 x 20 grid of z in [-2.5, 2.5]^2."""
        grid = np.linspace(-2.5, 2.5, 20, dtype=np.float32)
        z = np.stack(np.meshgrid(grid, grid[::-1]), axis=-1).reshape(-1, 2)
        plotting.save_image_grid(self.vae.sample(tensor(z)), self.path("manifold.png"),
                                 title=f"{title}: the 2-D latent manifold", value_range=(0.0, 1.0), nrow=20)

    # --- evaluation -----------------------------------------------------------------------
    def evaluate(self) -> dict[str, float]:
        """Sample metrics (2,000 samples from the prior) and the test negative ELBO (1,000 test images)
        into metrics.csv and metrics.png, with their own random numbers."""
        from .. import evaluation

        result = evaluation.vae_metrics(self.vae, n_samples=2000, n_test=1000, k=0, seed=self.step,
                                        binarized=self.cfg.binarize, data_dir=self.cfg.data_dir)
        self.record_metrics(result, evaluation.VAE_TRAINING_KEYS)
        return result
