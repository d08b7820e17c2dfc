r"""Each ``--loss`` of ``minigan train`` as one record: D's loss, G's loss, and how its paper trains them.

A `LossRecipe` names the two losses of `minigan.gan.losses` that the trainer minimises in turn,
and the optimizer settings that go with them: Adam with $\beta_1 = 0.5$ for the cross-entropy
losses (DCGAN), RMSprop with weight clipping for WGAN, Adam with $\beta = (0.5, 0.9)$ and five
critic steps per generator step for WGAN-GP. ``on_2d`` overrides any of these for 2-D toy data,
where the networks are small MLPs and what suits images need not suit them.

Each loss function takes ``(D, real, fake, cfg)``: the critic (with the labels bound, for a
conditional GAN), a real batch, a generated batch, and the run's `TrainConfig` (for the weights
of the penalties). G's returns its loss; D's returns a `Judgement`: its loss and what D said,
which the trainer records beside the losses (mean D(x), D(G(z)), the penalty's gradient norms).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

from .. import ops, optim
from ..optim.optimizer import Params
from ..tensor import Tensor
from . import articles
from . import losses as L
from .losses import Critic

# (D, real, fake, cfg) -> D's `Judgement` or G's loss; cfg is the run's TrainConfig (not imported:
# training.py imports this file)
DLossFn = Callable[[Critic, Tensor, Tensor, Any], "Judgement"]
GLossFn = Callable[[Critic, Tensor, Tensor, Any], Tensor]


@dataclasses.dataclass(frozen=True)
class LossRecipe:
    """D's loss, G's loss, and the defaults their paper trains them with."""

    d_loss: DLossFn
    g_loss: GLossFn
    about: str  # what it is, in a few words
    logits: bool = True  # D's scores are logits of D(x) = sigmoid(score), recorded as probabilities
    penalty: str = ""  # a penalty on D's input gradient: where it acts and its target ("real data, pulled to 0")
    optimizer_name: str = "adam"  # "adam" or "rmsprop"
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 1  # D updates per G update
    clip: bool = False  # WGAN: clip D's weights to [-clip_value, clip_value] after each D update
    gp_lambda: float | None = None  # the gradient penalty's weight (wgan-gp's)
    noise_std: float = 0.0  # instance noise: its standard deviation at the first step (0: none)
    steps: int | None = None  # G updates when neither --steps nor --epochs is given (None: one epoch)
    lr_decay: str = "none"  # "linear": the learning rates fall linearly to 0 over the run
    batch_size: int = 64
    on_2d: dict[str, Any] = dataclasses.field(default_factory=dict)  # defaults for 2-D toy data

    def for_data(self, kind: str) -> LossRecipe:
        """The recipe for a model's kind of data ("2d" for the toy mixtures, else images)."""
        return dataclasses.replace(self, on_2d={}, **self.on_2d) if kind == "2d" else self

    def describe(self) -> str:
        """One line for `minigan train --help`: what the loss is and what it trains with."""
        optimizer = f"RMSprop, lr {self.lr:g}" if self.optimizer_name == "rmsprop" else \
            f"Adam, lr {self.lr:g}, betas {self.betas[0]:g} {self.betas[1]:g}"
        extra = ", D's weights clipped (--clip-value)" if self.clip else ""
        extra += f", penalty weight {self.gp_lambda:g}" if self.gp_lambda is not None else ""
        extra += f", instance noise from std {self.noise_std:g}" if self.noise_std else ""
        extra += f", learning rate decay {self.lr_decay}" if self.lr_decay != "none" else ""
        extra += f", {self.steps} steps" if self.steps else ""
        on_2d = "; on 2-D data " + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in self.on_2d.items()) \
            if self.on_2d else ""
        steps = f"{self.n_critic} D step{'s' if self.n_critic > 1 else ''} per G step"
        return f"{self.about}; {optimizer}, {steps}{extra}{on_2d}"

    def optimizer(self, parameters: Params, lr: float, betas: tuple[float, float]) -> optim.Optimizer:
        """This recipe's optimizer over ``parameters`` (``betas`` are Adam's: RMSprop has none)."""
        if self.optimizer_name == "rmsprop":
            return optim.RMSprop(parameters, lr=lr)
        return optim.Adam(parameters, lr=lr, betas=betas)


# --- D's losses ----------------------------------------------------------------------------------

class Judgement(NamedTuple):
    r"""What one of D's losses computed on a real and a generated batch: the loss, D's scores (its
    logits, or a critic's raw scores) on each batch, and for a penalised loss the input-gradient
    norms $\|\nabla_x D(x)\|_2$ at the penalty's points. The trainer records the means."""

    loss: Tensor
    real_scores: Tensor
    fake_scores: Tensor
    penalty_norms: Tensor | None = None


def of_scores(loss: Callable[[Tensor, Tensor], Tensor]) -> DLossFn:
    """D's loss function for a loss of D's scores alone: ``loss(D(real), D(fake))``."""
    def d_loss(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Judgement:
        real_scores, fake_scores = D(real), D(fake)
        return Judgement(loss(real_scores, fake_scores), real_scores, fake_scores)

    return d_loss


def cross_entropy_r1_d(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Judgement:
    real_scores, fake_scores = D(real), D(fake)
    penalty, norms = L.r1_penalty(D, real, cfg.r1_gamma, return_norms=True)
    return Judgement(L.discriminator_loss(real_scores, fake_scores) + penalty, real_scores, fake_scores, norms)


def wasserstein_gp_d(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Judgement:
    real_scores, fake_scores = D(real), D(fake)
    penalty, norms = L.gradient_penalty(D, real, fake, cfg.gp_lambda, return_norms=True)
    return Judgement(L.wasserstein_critic_loss(real_scores, fake_scores) + penalty, real_scores, fake_scores, norms)


def article001_d(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Judgement:
    real_scores, fake_scores = D(real), D(fake)
    penalty, norms = L.gradient_penalty(D, real, fake, lambda_=1.0, return_norms=True)
    loss = L.article001_discriminator_loss(real_scores, fake_scores, penalty, cfg.lambda3, cfg.lambda4)
    return Judgement(loss, real_scores, fake_scores, norms)


def article003_d(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Judgement:
    """Article 003's D step as its code runs it (A003-14): D's outputs through the sigmoid its last
    layer has there, then every one labelled "real" and read as a logit again (A003-10)."""
    real_scores, fake_scores = D(real), D(fake)
    loss = articles.article003_discriminator_loss(ops.sigmoid(real_scores), ops.sigmoid(fake_scores))
    return Judgement(loss, real_scores, fake_scores)


# --- G's losses ----------------------------------------------------------------------------------

def of_fake_scores(loss: Callable[[Tensor], Tensor]) -> GLossFn:
    """G's loss function for a loss of D's scores of G's samples: ``loss(D(fake))``."""
    def g_loss(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Tensor:
        return loss(D(fake))

    return g_loss


def article001_g(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Tensor:
    penalty = L.gradient_penalty(D, real, fake, lambda_=1.0) if cfg.lambda2 else 0.0  # through G's fakes
    return L.article001_generator_loss(D(fake), penalty, cfg.lambda1, cfg.lambda2)


def article003_g(D: Critic, real: Tensor, fake: Tensor, cfg: Any) -> Tensor:
    """Article 003's G step as its code runs it (A003-15): its samples labelled "fake", D's sigmoid
    outputs read as logits."""
    return articles.article003_generator_loss(ops.sigmoid(D(fake)))


cross_entropy_d = of_scores(L.discriminator_loss)
nonsaturating_g = of_fake_scores(L.generator_loss_nonsaturating)
wasserstein_g = of_fake_scores(L.wasserstein_generator_loss)

LOSSES: dict[str, LossRecipe] = {
    "minimax": LossRecipe(cross_entropy_d, of_fake_scores(L.generator_loss_saturating),
                          "the minimax game, G's loss log(1 - D(G(z)))"),
    "ns": LossRecipe(cross_entropy_d, nonsaturating_g, "non-saturating: G's loss -log D(G(z))"),
    "ns-r1": LossRecipe(cross_entropy_r1_d, nonsaturating_g, "non-saturating, R1 penalty on real data (--r1-gamma)",
                        penalty="real data, pulled to 0"),
    "wgan": LossRecipe(of_scores(L.wasserstein_critic_loss), wasserstein_g, "WGAN: the Wasserstein critic",
                       logits=False, optimizer_name="rmsprop", lr=5e-5, n_critic=5, clip=True),
    # The paper's betas, critic steps and penalty weight, with a learning rate 10x its 1e-4, which on
    # MNIST reaches in 900 steps a score its 1e-4 does not reach in 1,500. On 2-D data, the WGAN-GP
    # authors' toy settings (their gan_toy.py: lambda 0.1, batch 256), the rate falling linearly to 0
    # over 6,000 steps. Each chosen from measurements: docs/benchmarks.md.
    "wgan-gp": LossRecipe(wasserstein_gp_d, wasserstein_g, "WGAN-GP: gradient penalty (--gp-lambda)", logits=False,
                          penalty="interpolates, pulled to 1", lr=1e-3, betas=(0.5, 0.9), n_critic=5, gp_lambda=10.0,
                          steps=900, on_2d={"gp_lambda": 0.1, "batch_size": 256, "lr_decay": "linear", "steps": 6000}),
    "hinge": LossRecipe(of_scores(L.hinge_discriminator_loss), of_fake_scores(L.hinge_generator_loss),
                        "hinge loss (SNGAN, BigGAN)", logits=False),
    "lsgan": LossRecipe(of_scores(L.least_squares_discriminator_loss), of_fake_scores(L.least_squares_generator_loss),
                        "LSGAN: least squares on D's raw score", logits=False),
    # On 2-D data the noise starts near the mixtures' own spread (0.01 on ring8, 0.05 on grid25): 0.1,
    # 10x ring8's, cost it modes (measured: docs/benchmarks.md)
    "ns-noise": LossRecipe(cross_entropy_d, nonsaturating_g, "non-saturating, instance noise on D's inputs, falling "
                           "to 0 (--noise-std)", noise_std=0.1, on_2d={"noise_std": 0.02}),
    "article001": LossRecipe(article001_d, article001_g, "article 001: cross-entropy plus its gradient penalty, "
                             "weighed by --lambda1..4", penalty="interpolates, pulled to 1"),
    # Its code's optimizer, Adam(2e-4, beta_1=0.5), is minigan's default already (A003-11).
    "article003": LossRecipe(article003_d, article003_g, "article 003's code: every sample labelled real for D, "
                             "G's labelled fake, sigmoid applied twice (do not train with it)"),
}
