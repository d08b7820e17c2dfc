# %% [markdown]
# # Exercises 3: the GAN game, its losses and its penalties
#
# After lessons 3 and 4 (`lessons/03_gan_game.py`, `lessons/04_gan_losses.py`). Write the body of
# each function where it says `raise NotImplementedError`, run the cell below it, which checks
# your answer, and go on. `minigan exercises check 3.1` grades one exercise (with more cases
# than the cell shows).

# %%
import numpy as np

import minigan as mg
from minigan import exercises as ex
from minigan import gan, nn
from minigan.nn import functional as F

# %% [markdown]
# ## Exercise 3.1: binary cross-entropy from logits, for any logit
#
# D's loss on one sample with logit $x$ and label $t$ (1 real, 0 fake) is
# $\ell = -t \log \sigma(x) - (1 - t) \log(1 - \sigma(x))$ (二元交叉熵). Computed as written,
# $\sigma(50)$ rounds to 1 and $\log(1 - 1)$ is $-\infty$. Simplify it first: with
# $\log \sigma(x) = x - \log(1 + e^x)$ and $\log(1 - \sigma(x)) = -\log(1 + e^x)$, it is
# $\ell = \log(1 + e^x) - t x$, and $\log(1 + e^x) = \max(x, 0) + \log(1 + e^{-|x|})$ never
# exponentiates a positive number. Write the mean of $\ell$ over the elements with `mg.maximum`,
# `mg.abs`, `mg.exp` and `mg.log1p`; it must be finite, and right, for logits of $\pm 10^4$.

# %% nbgrader={"grade": false, "grade_id": "exercise-3-1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bce_with_logits(x: mg.Tensor, t: mg.Tensor) -> mg.Tensor:
    """The mean binary cross-entropy of labels t against sigmoid(x), from the logits x."""
    ### BEGIN SOLUTION
    return (mg.maximum(x, mg.zeros_like(x)) - t * x + mg.log1p(mg.exp(-mg.abs(x)))).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-3-1-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def bce_agrees(x: np.ndarray, t: np.ndarray) -> None:
    xs, ts = mg.tensor(x, requires_grad=True), mg.tensor(t)
    what = f"bce_with_logits(x={np.array2string(x.ravel()[:3], precision=2)}..., t={t.ravel()[:3]}...)"
    ex.same(bce_with_logits(xs, ts), F.binary_cross_entropy_with_logits(xs, ts), what)
    ex.same(mg.grad(bce_with_logits(xs, ts), xs)[0], mg.grad(F.binary_cross_entropy_with_logits(xs, ts), xs)[0],
            "the gradient of " + what)


bce_agrees(np.array([-2.0, 0.5, 3.0]), np.array([0.0, 1.0, 1.0]))
bce_agrees(np.array([1e4, -1e4, 50.0, -50.0]), np.array([0.0, 1.0, 1.0, 0.0]))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(301)
for scale in (1.0, 30.0, 1e3):
    bce_agrees(rng.normal(scale=scale, size=(5, 4)), rng.integers(0, 2, size=(5, 4)).astype(float))
bce_agrees(rng.normal(size=7), rng.uniform(size=7))  # soft labels, as label smoothing uses
x, t = mg.tensor(rng.normal(size=6), requires_grad=True), mg.tensor(rng.uniform(size=6))
assert mg.gradcheck(lambda x: bce_with_logits(x, t), (x,)), "gradcheck of bce_with_logits"
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3.2: the saturating and non-saturating generator losses
#
# From D's logits on generated samples, write the minimax game's own generator loss,
# $\mathbb{E}_z[\log(1 - D(G(z)))]$ (saturating), and the non-saturating one,
# $-\mathbb{E}_z[\log D(G(z))]$, both stable for any logit: $\log(1 - \sigma(x)) = -\log(1 + e^{x})$
# and $\log \sigma(x) = -\log(1 + e^{-x})$; `mg.softplus(x)` is $\log(1 + e^x)$, computed stably.
# Lesson 3, step 4, shows why only the second is used in practice.

# %% nbgrader={"grade": false, "grade_id": "exercise-3-2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def saturating_loss(fake_logits: mg.Tensor) -> mg.Tensor:
    """E[log(1 - D(G(z)))], which G minimises in the minimax game."""
    ### BEGIN SOLUTION
    return -mg.softplus(fake_logits).mean()
    ### END SOLUTION


def nonsaturating_loss(fake_logits: mg.Tensor) -> mg.Tensor:
    """-E[log D(G(z))], which G minimises in practice."""
    ### BEGIN SOLUTION
    return mg.softplus(-fake_logits).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-3-2-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def generator_losses_agree(logits: np.ndarray) -> None:
    x = mg.tensor(logits, requires_grad=True)
    for mine, reference, name in ((saturating_loss, gan.generator_loss_saturating, "saturating_loss"),
                                  (nonsaturating_loss, gan.generator_loss_nonsaturating, "nonsaturating_loss")):
        what = f"{name}(logits={np.array2string(logits.ravel()[:3], precision=2)}...)"
        ex.same(mine(x), reference(x), what)
        ex.same(mg.grad(mine(x), x)[0], mg.grad(reference(x), x)[0], "the gradient of " + what)


generator_losses_agree(np.array([-8.0, -1.0, 0.0, 2.0]))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(302)
for scale in (1.0, 10.0, 1e3):
    generator_losses_agree(rng.normal(scale=scale, size=(6, 1)))
### END HIDDEN TESTS

# %%
def small_critic(shape: tuple, seed: int) -> nn.Module:
    """A critic on images of ``shape`` (C, H, W): a convolution, a LeakyReLU, a linear layer."""
    mg.manual_seed(seed)
    c, h, w = shape
    return nn.Sequential(nn.Conv2d(c, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.Flatten(),
                         nn.Linear(4 * h * w, 1)).to(mg.float64)


def same_penalty(mine: mg.Tensor, expected: mg.Tensor, critic: nn.Module, what: str) -> None:
    """A penalty against minigan's: in value, and in its gradient with respect to the critic's weights."""
    ex.same(mine, expected, what)
    weights = list(critic.parameters())[:-1]  # not the last bias: it does not move the input gradient
    ex.same(tuple(mg.grad(mine, weights)), tuple(mg.grad(expected, weights)),
            f"the gradient of {what} in the critic's weights (did you pass create_graph=True?)")


# %% [markdown]
# ## Exercise 3.3: the gradient penalty, by double backpropagation
#
# WGAN-GP's penalty (梯度惩罚, article 001) is
# $\lambda\,\mathbb{E}_{\hat x}[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2]$ at the points
# $\hat x = \epsilon x + (1 - \epsilon) \tilde x$ between real samples $x$ and generated ones
# $\tilde x$, with one $\epsilon$ per sample (given here, of shape (N, 1, ..., 1), so that your
# answer can be compared). Write it:
# 1. $\hat x$, made a leaf that requires grad (`.detach().requires_grad_()`);
# 2. the input gradient with `mg.grad(critic(x_hat).sum(), x_hat, create_graph=True)`: the sum
#    gives each sample its own gradient, and `create_graph=True` records the backward pass, so
#    that the penalty can be differentiated with respect to the critic's weights (the critic's
#    training step does that: a second derivative);
# 3. each sample's norm over all its other axes, then the mean of $(\text{norm} - 1)^2$ times $\lambda$.

# %% nbgrader={"grade": false, "grade_id": "exercise-3-3", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gradient_penalty(critic, real: mg.Tensor, fake: mg.Tensor, eps: mg.Tensor, lambda_: float = 10.0) -> mg.Tensor:
    """lambda * E[(||grad_x D(x_hat)||_2 - 1)^2] at x_hat = eps real + (1 - eps) fake."""
    ### BEGIN SOLUTION
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_()
    (g,) = mg.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norms = mg.sqrt((g * g).reshape(g.shape[0], -1).sum(1))
    return lambda_ * ((norms - 1) ** 2).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-3-3-check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def penalty_agrees(n: int, shape: tuple, lambda_: float, seed: int) -> None:
    critic, rng = small_critic(shape, seed), np.random.default_rng(seed)
    real, fake = (mg.tensor(rng.normal(size=(n, *shape))) for _ in range(2))
    eps = mg.tensor(rng.uniform(size=(n, 1, 1, 1)))
    what = f"gradient_penalty for {n} samples of shape {shape}, lambda {lambda_}"
    same_penalty(gradient_penalty(critic, real, fake, eps, lambda_),
                 gan.gradient_penalty(critic, real, fake, lambda_, eps=eps), critic, what)


penalty_agrees(4, (1, 4, 4), 10.0, 0)
### BEGIN HIDDEN TESTS
for seed in range(1, 5):
    rng = np.random.default_rng(303 + seed)
    penalty_agrees(int(rng.integers(1, 6)), (int(rng.integers(1, 3)), 3, int(rng.integers(2, 5))),
                   float(rng.choice([0.1, 1.0, 10.0])), seed)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 3.4: the R1 penalty
#
# The R1 penalty (Mescheder et al., 2018) pulls D's gradient on *real* data to zero, not to one:
# $\frac{\gamma}{2}\mathbb{E}_x\lVert\nabla_x D(x)\rVert_2^2$. Write it as you wrote the gradient
# penalty, at the real samples themselves (a leaf that requires grad), with no square root.

# %% nbgrader={"grade": false, "grade_id": "exercise-3-4", "locked": false, "schema_version": 3, "solution": true, "task": false}
def r1_penalty(critic, real: mg.Tensor, gamma: float = 10.0) -> mg.Tensor:
    """gamma / 2 * E[||grad_x D(x)||_2^2] on real samples x."""
    ### BEGIN SOLUTION
    x = real.detach().requires_grad_()
    (g,) = mg.grad(critic(x).sum(), x, create_graph=True)
    return gamma / 2 * (g * g).reshape(g.shape[0], -1).sum(1).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-3-4-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def r1_agrees(n: int, shape: tuple, gamma: float, seed: int) -> None:
    critic = small_critic(shape, seed)
    real = mg.tensor(np.random.default_rng(seed).normal(size=(n, *shape)))
    what = f"r1_penalty for {n} samples of shape {shape}, gamma {gamma}"
    same_penalty(r1_penalty(critic, real, gamma), gan.r1_penalty(critic, real, gamma), critic, what)


r1_agrees(4, (1, 4, 4), 10.0, 0)
### BEGIN HIDDEN TESTS
for seed in range(1, 5):
    rng = np.random.default_rng(304 + seed)
    r1_agrees(int(rng.integers(1, 6)), (int(rng.integers(1, 3)), 3, int(rng.integers(2, 5))),
              float(rng.choice([0.1, 1.0, 10.0])), seed)
### END HIDDEN TESTS
