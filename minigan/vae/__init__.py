"""minigan.vae: the variational autoencoder (变分自编码器) of article 004, its objective and its models."""
from .losses import (
    active_units,
    bernoulli_log_likelihood,
    elbo,
    gaussian_kl,
    gaussian_log_density,
    gaussian_log_likelihood,
    importance_weighted_nll,
    reparameterize,
    standard_normal_log_density,
    vae_loss,
)
from .models import VAE, GaussianEncoder, vae_conv, vae_mlp

__all__ = [
    "reparameterize", "gaussian_kl", "gaussian_log_density", "standard_normal_log_density",
    "bernoulli_log_likelihood", "gaussian_log_likelihood", "elbo", "vae_loss", "importance_weighted_nll",
    "active_units",
    "VAE", "GaussianEncoder", "vae_mlp", "vae_conv",
]
