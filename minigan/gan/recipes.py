r"""Each ``--loss`` of ``minigan train`` as one record: D's loss, G's loss, and how its paper trains them.

A `LossRecipe` names the two losses of `minigan.gan.losses` that the trainer minimises in turn,
and the optimizer settings that go with them: Adam with $\beta_1 = 0.5$ for the cross-entropy
losses (DCGAN), RMSprop with weight clipping for WGAN, Adam with $\beta = (0.5, 0.9)$ and five
critic steps per generator step for WGAN-GP. ``on_2d`` overrides any of these for 2-D toy data,
where the networks are small MLPs and what suits images need not suit them.

Each loss function takes ``(D, real, fake, cfg)``: the critic (with the labels bound, for a
conditional GAN), a real batch, a generated batch, and the run's `TrainConfig` (for the weights
of the penalties).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import optim
from ..optim.optimizer import Params
from . import losses as L

if TYPE_CHECKING:
    from ..tensor import Tensor
    from .losses import Critic

    # (D, real, fake, cfg) -> loss; cfg is the run's TrainConfig (not imported: training.py imports this file)
    LossFn = Callable[[Critic, Tensor, Tensor, Any], Tensor]


@dataclasses.dataclass(frozen=True)
class LossRecipe:
    """D's loss, G's loss, and the defaults their paper trains them with."""

    d_loss: LossFn
    g_loss: LossFn
    about: str  # what it is, in a few words
    optimizer_name: str = "adam"  # "adam" or "rmsprop"
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 1  # D updates per G update
    clip: bool = False  # WGAN: clip D's weights to [-clip_value, clip_value] after each D update
    on_2d: dict[str, Any] = dataclasses.field(default_factory=dict)  # defaults for 2-D toy data

    def for_data(self, kind: str) -> LossRecipe:
        """The recipe for a model's kind of data ("2d" for the toy mixtures, else images)."""
        return dataclasses.replace(self, on_2d={}, **self.on_2d) if kind == "2d" else self

    def describe(self) -> str:
        """One line for `minigan train --help`: what the loss is and what it trains with."""
        optimizer = f"RMSprop, lr {self.lr:g}" if self.optimizer_name == "rmsprop" else \
            f"Adam, lr {self.lr:g}, betas {self.betas[0]:g} {self.betas[1]:g}"
        clip = ", D's weights clipped (--clip-value)" if self.clip else ""
        on_2d = f"; on 2-D data {', '.join(f'{k} {v}' for k, v in self.on_2d.items())}" if self.on_2d else ""
        steps = f"{self.n_critic} D step{'s' if self.n_critic > 1 else ''} per G step"
        return f"{self.about}; {optimizer}, {steps}{clip}{on_2d}"

    def optimizer(self, parameters: Params, lr: float, betas: tuple[float, float]) -> optim.Optimizer:
        """This recipe's optimizer over ``parameters`` (``betas`` are Adam's: RMSprop has none)."""
        if self.optimizer_name == "rmsprop":
            return optim.RMSprop(parameters, lr=lr)
        return optim.Adam(parameters, lr=lr, betas=betas)


# --- D's losses ----------------------------------------------------------------------------------

def cross_entropy_d(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Tensor:
    return L.discriminator_loss(D(real), D(fake))


def cross_entropy_r1_d(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Tensor:
    return L.discriminator_loss(D(real), D(fake)) + L.r1_penalty(D, real, cfg.r1_gamma)


def wasserstein_d(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Tensor:
    return L.wasserstein_critic_loss(D(real), D(fake))


def wasserstein_gp_d(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Tensor:
    return L.wasserstein_critic_loss(D(real), D(fake)) + L.gradient_penalty(D, real, fake, cfg.gp_lambda)


def hinge_d(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Tensor:
    return L.hinge_discriminator_loss(D(real), D(fake))


def article001_d(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Tensor:
    return L.article001_discriminator_loss(D, real, fake, lambda4=cfg.gp_lambda)


# --- G's losses ----------------------------------------------------------------------------------

def saturating_g(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Tensor:
    return L.generator_loss_saturating(D(fake))


def nonsaturating_g(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Tensor:
    return L.generator_loss_nonsaturating(D(fake))


def wasserstein_g(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Tensor:
    return L.wasserstein_generator_loss(D(fake))


def hinge_g(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Tensor:
    return L.hinge_generator_loss(D(fake))


def article001_g(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Tensor:
    return L.article001_generator_loss(D, real, fake)


LOSSES: dict[str, LossRecipe] = {
    "minimax": LossRecipe(cross_entropy_d, saturating_g, "the minimax game, G's loss log(1 - D(G(z)))"),
    "ns": LossRecipe(cross_entropy_d, nonsaturating_g, "non-saturating: G's loss -log D(G(z))"),
    "ns-r1": LossRecipe(cross_entropy_r1_d, nonsaturating_g, "non-saturating, R1 penalty on real data (--r1-gamma)"),
    "wgan": LossRecipe(wasserstein_d, wasserstein_g, "WGAN: the Wasserstein critic",
                       optimizer_name="rmsprop", lr=5e-5, n_critic=5, clip=True),
    "wgan-gp": LossRecipe(wasserstein_gp_d, wasserstein_g, "WGAN-GP: gradient penalty (--gp-lambda)",
                          lr=1e-4, betas=(0.5, 0.9), n_critic=5),
    "hinge": LossRecipe(hinge_d, hinge_g, "hinge loss (SNGAN, BigGAN)"),
    "article001": LossRecipe(article001_d, article001_g, "article 001: cross-entropy plus its gradient penalty"),
}
