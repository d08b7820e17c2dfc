r"""The GAN losses of the five articles, each written as its formula.

Notation: $D$ is the discriminator (判别器) or critic, $G$ the generator (生成器), $x \sim p_{data}$ a
real sample, $z \sim p_z$ noise. The discriminator outputs a *logit* $\ell$, and $D = \sigma(\ell)$;
every log-probability is computed from logits, stable for any logit:

    $\log D = \log\sigma(\ell) = -\mathrm{softplus}(-\ell)$,
    $\log(1 - D) = \log\sigma(-\ell) = -\mathrm{softplus}(\ell)$.

Wasserstein, hinge and penalty terms take the critic's raw scores instead (no sigmoid).
Articles: 000 AT-GAN, 001 gradient-penalised training, 002 GAN overview, 003 "GAC" generation,
004 GANs and VAEs (in Chinese, not shipped). Ids such as A003-14 are rows of the formula audit,
docs/formulas.md, which quotes each article, gives its verdict, and names the function here that
implements it; the articles' wrong forms run in `minigan.gan.articles`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal, overload

from .. import ops
from ..autograd import grad
from ..creation import rand, randn
from ..nn import functional as F
from ..tensor import Tensor

Critic = Callable[[Tensor], Tensor]  # a discriminator or critic: samples in, one score (logit) per sample out


def minimax_value(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    r"""The value of the two-player game (极小极大博弈), articles 000, 002 and 004:

    $V(D, G) = \mathbb{E}_{x \sim p_{data}}[\log D(x)] + \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))]$

    $D$ ascends it, $G$ descends it: $\min_G \max_D V(D, G)$. The consistent pair of losses is
    $L_D = -V$ and $L_G = V$ (in $G$ only the second term depends on $G$): `discriminator_loss` and
    `generator_loss_saturating`. Article 004's $L_{GAN}$ flips the sign of one term only, which is
    neither (formula audit A004-6; run it: `minigan.gan.articles.article004_gan_loss`).
    """
    return ops.logsigmoid(real_logits).mean() + ops.logsigmoid(-fake_logits).mean()


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    r"""Binary cross-entropy (二元交叉熵) of the discriminator, $L_D = -V(D, G)$:

    $L_D = -\mathbb{E}_x[\log D(x)] - \mathbb{E}_z[\log(1 - D(G(z)))]
         = \mathbb{E}_x[\mathrm{softplus}(-\ell_{real})] + \mathbb{E}_z[\mathrm{softplus}(\ell_{fake})]$

    Real samples are labelled 1 and generated ones 0. Article 003's code makes its labels with
    ``ones_like`` of the real half of D's outputs and applies them to all of them, fakes included
    (formula audit A003-14, run as it can in `minigan.gan.articles.article003_discriminator_loss`):
    a D rewarded for calling fakes real. Article 002 calls
    $\mathbb{E}[\log D(x)] + \mathbb{E}[\log(1 - D(G(z)))]$ the discriminator's *loss*; it is the
    quantity D maximises, so the loss to minimise is its negative, as here (A002-5).
    """
    return ops.softplus(-real_logits).mean() + ops.softplus(fake_logits).mean()


def generator_loss_saturating(fake_logits: Tensor) -> Tensor:
    r"""The generator's loss as the minimax game has it (article 002): $L_G = \mathbb{E}_z[\log(1 - D(G(z)))]$.

    It *saturates*: when $D$ confidently rejects fakes early in training ($D(G(z)) \to 0$), its
    gradient $\partial L_G / \partial \ell = -\sigma(\ell)$ vanishes and G stops learning. Hence the
    non-saturating loss below, which Goodfellow et al. (2014) recommend in practice.
    """
    return ops.logsigmoid(-fake_logits).mean()


def generator_loss_nonsaturating(fake_logits: Tensor) -> Tensor:
    r"""The non-saturating generator loss (article 003, 3.3.5): $L_G = -\mathbb{E}_z[\log D(G(z))]$.

    Same fixed point as the saturating loss, but a strong gradient $\sigma(\ell) - 1$ exactly where
    $D$ rejects the fakes. Use this one or the saturating one, not their sum, which article 000 takes
    as G's "gradient" (formula audit A000-5), and with label 1, not the label 0 of article 003's code
    (A003-15): both run in `minigan.gan.articles`.
    """
    return ops.softplus(-fake_logits).mean()


def wasserstein_critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    r"""WGAN critic (评论家) loss: $L_D = \mathbb{E}_z[D(G(z))] - \mathbb{E}_x[D(x)]$ (Arjovsky et al., 2017).

    Minimising it maximises the gap between the critic's scores of real and generated samples, an
    estimate of the Wasserstein-1 distance when $D$ is 1-Lipschitz: enforce that with
    `clip_weights_` (WGAN) or `gradient_penalty` (WGAN-GP).
    """
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: Tensor) -> Tensor:
    r"""WGAN generator loss: $L_G = -\mathbb{E}_z[D(G(z))]$."""
    return -fake_scores.mean()


def clip_weights_(parameters: Iterable[Tensor], clip_value: float = 0.01) -> None:
    r"""WGAN's weight clipping: $w \leftarrow \mathrm{clip}(w, -c, c)$ after each critic step, in place."""
    for p in parameters:
        p.data[...] = p.xp.clip(p.data, -clip_value, clip_value)


def _input_gradient_sq_norms(critic: Critic, x: Tensor) -> Tensor:
    r"""$\|\nabla_x D(x)\|_2^2$ per output of D, with a graph, so that a penalty on it can be trained.
    One output per sample; with PacGAN's packs, one per pack, whose input is all of its samples."""
    scores = critic(x)
    (g,) = grad(scores.sum(), x, create_graph=True)
    return (g * g).reshape(scores.shape[0], -1).sum(1)


def interpolate(real: Tensor, fake: Tensor, eps: Tensor | None = None) -> Tensor:
    r"""Random points on the lines between real and generated samples: $\hat x = \epsilon x + (1 - \epsilon) G(z)$,
    with one $\epsilon \sim U[0, 1]$ per sample."""
    if eps is None:
        eps = rand(real.shape[0], *([1] * (real.ndim - 1)), dtype=real.dtype, device=real.device)
    x_hat = eps * real.detach() + (1 - eps) * fake
    # A leaf when ``fake`` is detached (the critic's step); else it keeps G's graph behind it.
    return x_hat if x_hat.requires_grad else x_hat.requires_grad_()


# ``return_norms=True`` also returns the gradient norms (what the trainer records), as a pair:
@overload
def gradient_penalty(critic: Critic, real: Tensor, fake: Tensor, lambda_: float = ..., eps: Tensor | None = ...,
                     return_norms: Literal[False] = ...) -> Tensor: ...
@overload
def gradient_penalty(critic: Critic, real: Tensor, fake: Tensor, lambda_: float = ..., eps: Tensor | None = ..., *,
                     return_norms: Literal[True]) -> tuple[Tensor, Tensor]: ...
def gradient_penalty(critic: Critic, real: Tensor, fake: Tensor, lambda_: float = 10.0,
                     eps: Tensor | None = None, return_norms: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    r"""The gradient penalty of WGAN-GP (梯度惩罚; Gulrajani et al., 2017), article 001:

    $L_{grad} = \lambda\, \mathbb{E}_{\hat x}\big[(\|\nabla_{\hat x} D(\hat x)\|_2 - 1)^2\big]$,
    $\hat x = \epsilon x + (1 - \epsilon) G(z)$, $\epsilon \sim U[0, 1]$.

    It differentiates the critic with respect to its *input* and keeps that graph
    (``create_graph=True``), so the critic's update differentiates through a gradient: a second
    derivative through every layer of the critic. ``return_norms=True`` also returns the norms
    $\|\nabla_{\hat x} D(\hat x)\|_2$ (detached), which the trainer records: the penalty pulls them to 1.

    Article 001 names this penalty, but its code computes another thing, with no input gradient in
    it (formula audit A001-9; run it: `minigan.gan.articles.article001_penalty_as_coded`).
    """
    x_hat = interpolate(real, fake, eps)
    # A tiny constant keeps the square root differentiable at a zero gradient.
    norms = ops.sqrt(_input_gradient_sq_norms(critic, x_hat) + 1e-12)
    penalty = lambda_ * ((norms - 1) ** 2).mean()
    return (penalty, norms.detach()) if return_norms else penalty


@overload
def r1_penalty(critic: Critic, real: Tensor, gamma: float = ..., return_norms: Literal[False] = ...) -> Tensor: ...
@overload
def r1_penalty(critic: Critic, real: Tensor, gamma: float = ..., *,
               return_norms: Literal[True]) -> tuple[Tensor, Tensor]: ...
def r1_penalty(critic: Critic, real: Tensor, gamma: float = 10.0,
               return_norms: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    r"""R1 zero-centred penalty on real data (Mescheder et al., 2018):
    $\frac{\gamma}{2}\mathbb{E}_x\|\nabla_x D(x)\|_2^2$.

    ``return_norms=True`` also returns $\|\nabla_x D(x)\|_2$ per sample (detached): the penalty pulls
    them to 0. With PacGAN's packs of m samples, x is a pack: its squared norm sums its m samples',
    so the same ``gamma`` weighs about m times as much as without packs."""
    sq_norms = _input_gradient_sq_norms(critic, real.detach().requires_grad_())
    penalty = gamma / 2 * sq_norms.mean()
    return (penalty, ops.sqrt(sq_norms.detach())) if return_norms else penalty


def r2_penalty(critic: Critic, fake: Tensor, gamma: float = 10.0) -> Tensor:
    r"""R2 zero-centred penalty on generated data:
    $\frac{\gamma}{2}\mathbb{E}_z\|\nabla_{\tilde x} D(\tilde x)\|_2^2$, $\tilde x = G(z)$."""
    return r1_penalty(critic, fake, gamma)


def hinge_discriminator_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    r"""Hinge loss (铰链损失; Lim & Ye 2017, Miyato et al. 2018):
    $L_D = \mathbb{E}_x[\max(0, 1 - D(x))] + \mathbb{E}_z[\max(0, 1 + D(G(z)))]$."""
    return ops.relu(1 - real_scores).mean() + ops.relu(1 + fake_scores).mean()


# The hinge GAN's generator loss is the Wasserstein one: $L_G = -\mathbb{E}_z[D(G(z))]$.
hinge_generator_loss = wasserstein_generator_loss


def least_squares_discriminator_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    r"""Least-squares GAN (LSGAN, 最小二乘生成对抗网络; Mao et al., 2017), D's loss with the labels 1 for
    real and 0 for generated samples on D's raw output, no sigmoid:

    $L_D = \tfrac12 \mathbb{E}_x[(D(x) - 1)^2] + \tfrac12 \mathbb{E}_z[D(G(z))^2]$

    Article 003 (3.3.3) trains D with "a binary loss, cross-entropy or mean squared error (均方误差)";
    the mean squared error is this. Put on a sigmoid's output instead, it would saturate as the
    minimax loss does: LSGAN's point is that a raw score far on the right side of the boundary
    still gets a gradient pulling it back to its label.
    """
    return 0.5 * ((real_scores - 1) ** 2).mean() + 0.5 * (fake_scores ** 2).mean()


def least_squares_generator_loss(fake_scores: Tensor) -> Tensor:
    r"""LSGAN's generator loss: G wants its samples scored as real, $L_G = \tfrac12 \mathbb{E}_z[(D(G(z)) - 1)^2]$."""
    return 0.5 * ((fake_scores - 1) ** 2).mean()


def instance_noise(x: Tensor, std: float) -> Tensor:
    r"""Instance noise (实例噪声; Sønderby et al., 2016): D judges $x + \sigma\epsilon$, $\epsilon \sim N(0, I)$.

    Article 002 lists "randomly perturbing the inputs" (随机扰动输入) among the remedies for mode
    collapse. Noise on both D's real and generated inputs makes the two distributions overlap, so
    D cannot separate them perfectly and its gradient stays informative; $\sigma$ falls to 0
    during training (the trainer decays it linearly, `--noise-std`), and with it the bias the
    noise adds. Mescheder et al. (2018) show that GAN training with instance noise converges
    locally where plain training may not. G's samples keep their graph, so G's loss sees the noise too.
    """
    return x + std * randn(*x.shape, dtype=x.dtype, device=x.device) if std else x


def article001_generator_loss(fake_logits: Tensor, penalty: Tensor | float = 0.0, lambda1: float = 1.0,
                               lambda2: float = 0.0) -> Tensor:
    r"""Article 001's generator objective, $L_G = \lambda_1 L_{cGAN} + \lambda_2 L_{grad}$, with the standard
    pieces it means: $L_{cGAN}$ = `generator_loss_nonsaturating` of ``fake_logits``, $L_{grad}$ =
    ``penalty``, `gradient_penalty` with $\lambda = 1$ (the $\lambda$s alone weigh it) on fakes that carry
    G's graph, so that it pulls on G through the interpolates. The usual choice is $\lambda_2 = 0$; with a
    piecewise-linear D (ReLU, LeakyReLU) the pull is exactly 0, since $\nabla_{\hat x} D$ is constant between
    kinks (A001-4)."""
    return lambda1 * generator_loss_nonsaturating(fake_logits) + lambda2 * penalty


def article001_discriminator_loss(real_logits: Tensor, fake_logits: Tensor, penalty: Tensor,
                                  lambda3: float = 1.0, lambda4: float = 10.0) -> Tensor:
    r"""Article 001's discriminator objective, $L_D = \lambda_3 L_{cGAN} + \lambda_4 L_{grad}$:
    $L_{cGAN}$ = `discriminator_loss` of the logits, $L_{grad}$ = ``penalty``, `gradient_penalty` with $\lambda = 1$."""
    return lambda3 * discriminator_loss(real_logits, fake_logits) + lambda4 * penalty


def info_loss(code_logits: Tensor, codes: Tensor, lambda_: float = 1.0) -> Tensor:
    r"""InfoGAN's mutual-information term (互信息, Chen et al., 2016), minimised by G and by D's Q head.

    G is given a code $c$, uniform over K values, beside its noise, and a head $Q(c \mid x)$ on D
    guesses the code back from $G(z, c)$. The paper's bound on the mutual information is
    $$ I(c; G(z, c)) \ge L_I = \mathbb{E}_{c, z}\left[\log Q(c \mid G(z, c))\right] + H(c), $$
    and $H(c) = \log K$ is a constant, so raising $L_I$ means lowering the cross-entropy
    $$ \mathcal{L}_{info} = -\lambda\, \mathbb{E}_{c, z}\left[\log Q(c \mid G(z, c))\right] = \lambda\,(H(c) - L_I), $$
    ``code_logits`` (N, K) being Q's logits for the samples G drew from ``codes`` (N,).
    """
    return lambda_ * F.cross_entropy(code_logits, codes)
