"""minigan.gan: the adversarial losses and penalties of the articles (models and training follow);
``minigan.gan.articles``: the articles' wrong forms, to run beside these."""
from . import articles
from .losses import (
    article001_discriminator_loss,
    article001_generator_loss,
    clip_weights_,
    discriminator_loss,
    generator_loss_nonsaturating,
    generator_loss_saturating,
    gradient_penalty,
    hinge_discriminator_loss,
    hinge_generator_loss,
    info_loss,
    instance_noise,
    interpolate,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    minimax_value,
    r1_penalty,
    r2_penalty,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)

__all__ = [
    "minimax_value", "discriminator_loss", "generator_loss_saturating", "generator_loss_nonsaturating",
    "wasserstein_critic_loss", "wasserstein_generator_loss", "clip_weights_", "interpolate",
    "gradient_penalty", "r1_penalty", "r2_penalty", "hinge_discriminator_loss", "hinge_generator_loss",
    "least_squares_discriminator_loss", "least_squares_generator_loss", "instance_noise",
    "article001_generator_loss", "article001_discriminator_loss", "info_loss", "articles",
]
