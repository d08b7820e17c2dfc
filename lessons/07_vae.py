# %% [markdown]
# # Lesson 7: the variational autoencoder (变分自编码器), its bound, and beta-VAE
#
# Article 004 sets the VAE (Kingma & Welling, 2014; Rezende, Mohamed & Wierstra, 2014) beside the
# GAN. A VAE has an encoder (编码器) that gives each image $x$
# a distribution over codes, $q_\phi(z \mid x) = N(\mu(x), \mathrm{diag}\,\sigma^2(x))$ (a mean
# and a variance, not one code: A004-2 in [the formula audit](../docs/formulas.md)), a decoder
# (解码器) that gives a likelihood $p_\theta(x \mid z)$, and a prior $p(z) = N(0, I)$. It trains
# by maximising a lower bound on $\log p_\theta(x)$, the ELBO. This lesson takes the bound apart:
# its two terms, the reparameterisation trick that lets its gradient through the sampling, the KL
# term in closed form, article 004's objective as written against the right one (A004-3, A004-9,
# A004-10, A004-11, A004-16, A004-17), β-VAE (A004-12), posterior collapse and KL warm-up.
#
# The VAE is minigan's `vae-mlp` (pytorch/examples/vae: 784-400-20-400-784, a Bernoulli
# likelihood from logits on MNIST in [0, 1]), trained by `minigan.vae.training.VAETrainer`, the
# trainer of `minigan train --model vae-mlp`. Step through it with `minigan lesson 7`, or run it
# with `python lessons/07_vae.py` (about a minute on two CPU cores; `--fast` trains a quarter of
# the steps, 300 batches of 64 images for the longest runs, a third of an epoch, and still asserts
# all it says). It trains from `--seed N` (default 0); checked with seeds 0 to 4. Figures go to
# `lesson_figures/07_vae/`.

# %%
import os

# Small matrices run a little faster on one BLAS thread (docs/benchmarks.md). NumPy reads this as it
# loads, so it counts when the lesson runs as a script or in a fresh kernel; `minigan lesson` has
# loaded NumPy already: there, set it in the shell (OPENBLAS_NUM_THREADS=1 minigan lesson 7).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
from minigan import data, lessons, plotting
from minigan.gan import articles
from minigan.metrics import grey_fraction
from minigan.nn import functional as F
from minigan.training import TrainConfig
from minigan.vae import (
    active_units,
    gaussian_kl,
    gaussian_log_density,
    gaussian_log_likelihood,
    importance_weighted_nll,
    reparameterize,
    standard_normal_log_density,
    vae_loss,
)
from minigan.vae.training import VAETrainer

opts = lessons.options("07_vae", seed=0)
STEPS = 300 if opts.fast else 1200  # the main runs' steps, of 64 images each
SHORT = STEPS * 2 // 3  # the runs whose point shows sooner
test_images, test_labels = data.mnist("test", scale="unit")
x_test, y_test = mg.tensor(test_images[:1000]), test_labels[:1000]  # every run is judged on these
print(f"seed {opts.seed}, {STEPS} steps{', fast' if opts.fast else ''}; figures in {opts.out}/")


def train(name, steps, trainer_class=VAETrainer, variance=None, **options):
    """vae-mlp trained for ``steps`` steps of 64 images by ``trainer_class``, Adam 1e-3 (betas 0.9,
    0.999) unless ``options`` say; a Gaussian decoder's fixed ``variance`` is set on the model. Returns
    the trainer and its losses.csv rows (loss, reconstruction -log p(x|z), KL, ELBO: nats per image)."""
    config = TrainConfig(model="vae-mlp", out=str(opts.out / name), steps=steps, batch_size=64, seed=opts.seed,
                         progress=False, **options)
    trainer = trainer_class(config)
    if variance is not None:
        trainer.vae.variance = variance
    return trainer, [trainer.train_step() for _ in range(steps)]


def judge(vae):
    """The model on the test images: -log p(x|z) and KL per image (one z each), the KL of each latent,
    the posterior means mu(x), the active units, and the reconstructions (means of p(x | z = mu(x)))."""
    with mg.no_grad():
        decoded, mu, logvar, _ = vae(x_test)
        log_likelihood, kl = vae.log_likelihood(decoded, x_test).numpy(), gaussian_kl(mu, logvar).numpy()
        kl_each = np.array([gaussian_kl(mu[:, [j]], logvar[:, [j]]).numpy().mean() for j in range(vae.latent_dim)])
        recon = vae.mean_image(vae.decode(mu)).numpy()
    return {"reconstruction": -log_likelihood.mean(), "kl": kl.mean(), "neg_elbo": (kl - log_likelihood).mean(),
            "kl_each": kl_each, "mu": mu.numpy(), "active": active_units(mu),
            "grey": grey_fraction(recon, value_range=(0, 1)), "recon": recon}


# %% [markdown]
# ## 1. The bound and its two terms
#
# For any $q(z \mid x)$, $\log p_\theta(x) = \log \mathbb{E}_{z \sim q}[p_\theta(x \mid z)\,p(z) / q(z \mid x)]$,
# and Jensen's inequality moves the log inside the expectation, giving the evidence lower bound
# (证据下界):
#
# $$\log p_\theta(x) \ \ge\ \mathrm{ELBO}(x)
#   = \underbrace{\mathbb{E}_{z \sim q_\phi(z|x)}[\log p_\theta(x \mid z)]}_{\text{reconstruction}}
#   - \underbrace{\mathrm{KL}(q_\phi(z \mid x) \,\|\, p(z))}_{\text{keeps } q \text{ near the prior}}.$$
#
# The gap is $\mathrm{KL}(q_\phi(z \mid x) \,\|\, p_\theta(z \mid x))$: the bound is tight when
# the encoder gives the true posterior. The first term rewards codes that let the decoder rebuild
# $x$; the second costs a code for every nat it tells about $x$ beyond the prior. Training
# minimises $-\mathrm{ELBO}$ averaged over the data: `vae_loss` (nats per image; each term summed
# over pixels or latents, never averaged, so that the two keep their weights).
#
# The VAE below starts near $784 \log 2 = 543$ nats per image (every pixel a coin flip) and falls
# below 200 on the test images within the run. The importance-weighted bound (Burda et al., 2016)
# averages $k$ ratios $p(x, z_i) / q(z_i \mid x)$ inside the log rather than outside: at $k = 1$ it
# is the ELBO, and it rises towards $\log p(x)$ with $k$, so its estimate of $-\log p(x)$ falls
# with $k$: by more than 2 nats from $k = 1$ to $k = 100$ here, and the ELBO is below
# $\log p(x)$ by at least that much.

# %%
main, main_rows = train("beta1", STEPS)
m1 = judge(main.vae)
print(f"first step's loss {main_rows[0]['loss']:.1f} nats; after {STEPS} steps, on 1,000 test images: "
      f"-log p(x|z) {m1['reconstruction']:.1f} + KL {m1['kl']:.1f} = -ELBO {m1['neg_elbo']:.1f}")
assert abs(main_rows[0]["reconstruction"] - 784 * np.log(2)) < 15 and m1["neg_elbo"] < 200
iw = {k: importance_weighted_nll(main.vae, x_test[:100], k=k).mean() for k in (1, 10, 100)}
print("importance-weighted estimate of -log p(x) on 100 test images: "
      + ", ".join(f"k = {k}: {v:.2f}" for k, v in iw.items()))
assert iw[1] > iw[10] > iw[100] and iw[1] - iw[100] > 2

# %% [markdown]
# Its samples: the means of $p(x \mid z)$ for 64 codes $z$ drawn from the prior (what
# `minigan sample` draws), blurred where the decoder is unsure between strokes.

# %%
main.save_samples()  # the trainer's own pictures: samples.png, reconstructions.png, interpolation.png
lessons.show(main.path("samples.png"))

# %% [markdown]
# ## 2. The reparameterisation trick (重参数化): a gradient through the sampling
#
# The reconstruction term is an expectation over $z \sim q_\phi(z \mid x)$, whose parameters the
# encoder outputs; a draw from a random number generator has no gradient in $\mu$ or $\sigma$.
# The trick draws the noise first and makes $z$ a function of the parameters:
# $z = \mu + \sigma \epsilon$, $\epsilon \sim N(0, 1)$, $\sigma = e^{\text{logvar}/2}$
# (`reparameterize`). Then $\mathbb{E}_q[f(z)] = \mathbb{E}_\epsilon[f(\mu + \sigma\epsilon)]$
# and the gradient moves inside the expectation: the mean over draws of the gradient through
# `reparameterize` is an unbiased estimate of $\nabla \mathbb{E}_q[f(z)]$.
#
# Take $f(z) = e^z$, whose expectation is known: $\mathbb{E}[e^z] = e^{\mu + \sigma^2 / 2}$, so
# $\partial / \partial\mu = e^{\mu + \sigma^2/2}$ and $\partial / \partial\,\text{logvar} =
# \tfrac{\sigma^2}{2} e^{\mu + \sigma^2/2}$. From 100,000 draws, the gradient through
# `reparameterize` lies within 4 standard errors of both. The score-function (REINFORCE)
# estimator, $f(z)\,\nabla_\mu \log q(z) = f(z)\,\epsilon / \sigma$, needs no gradient of $f$ and
# is unbiased too, but its variance here is more than 5 times larger (in theory
# $\frac{e^{2\sigma^2}(1 + 4\sigma^2)/\sigma^2 - e^{\sigma^2}}{(e^{\sigma^2} - 1)\,e^{\sigma^2}} = 13.7$
# times, for $\sigma^2 = 0.5$; measured within 10% of it): reparameterised gradients are what make a
# VAE trainable with one $z$ per image.

# %%
N = 100_000
MU, LOGVAR = 0.5, np.log(0.5)
mu = mg.tensor([[MU]], dtype=mg.float64, requires_grad=True)
logvar = mg.tensor([[LOGVAR]], dtype=mg.float64, requires_grad=True)
mg.manual_seed(opts.seed)
eps = mg.randn(N, 1, dtype=mg.float64)
z = reparameterize(mu.expand(N, 1), logvar.expand(N, 1), eps)
grad_mu, grad_logvar = (g.item() for g in mg.grad(mg.exp(z).mean(), (mu, logvar)))
sigma2, e, f = np.exp(LOGVAR), eps.numpy().ravel(), np.exp(z.numpy().ravel())
exact_mu, exact_logvar = np.exp(MU + sigma2 / 2), sigma2 / 2 * np.exp(MU + sigma2 / 2)
per_draw_mu, per_draw_logvar = f, f * e * np.sqrt(sigma2) / 2  # d f(mu + sigma eps) / d(mu, logvar), each draw
se_mu, se_logvar = per_draw_mu.std() / np.sqrt(N), per_draw_logvar.std() / np.sqrt(N)
print(f"d/dmu E[e^z]:     through reparameterize {grad_mu:.4f} +- {se_mu:.4f}, exact {exact_mu:.4f}")
print(f"d/dlogvar E[e^z]: through reparameterize {grad_logvar:.4f} +- {se_logvar:.4f}, exact {exact_logvar:.4f}")
assert abs(grad_mu - exact_mu) < 4 * se_mu and abs(grad_logvar - exact_logvar) < 4 * se_logvar
assert np.isclose(per_draw_mu.mean(), grad_mu) and np.isclose(per_draw_logvar.mean(), grad_logvar)
score = f * e / np.sqrt(sigma2)  # the score-function estimate of d/dmu, each draw
print(f"score function: {score.mean():.4f} +- {score.std() / np.sqrt(N):.4f}; "
      f"variance {score.var():.2f} against {per_draw_mu.var():.2f} reparameterised")
ratio = (np.exp(2 * sigma2) * (1 + 4 * sigma2) / sigma2 - np.exp(sigma2)) / ((np.exp(sigma2) - 1) * np.exp(sigma2))
assert abs(score.mean() - exact_mu) < 4 * score.std() / np.sqrt(N) and score.var() > 5 * per_draw_mu.var()
assert abs(score.var() / per_draw_mu.var() / ratio - 1) < 0.1 and np.isclose(ratio, 13.7, atol=0.05)

# %% [markdown]
# ## 3. The KL term in closed form, and why it is not an entropy
#
# For $q = N(\mu, \sigma^2)$ and the prior $N(0, 1)$, per latent,
#
# $$\mathrm{KL}(q \,\|\, p) = \mathbb{E}_q[\log q(z) - \log p(z)]
#   = -\tfrac12 \big(1 + \log\sigma^2 - \mu^2 - \sigma^2\big),$$
#
# summed over the latents (`gaussian_kl`). No sampling is needed: below, the closed form against
# a Monte Carlo estimate of the expectation from 100,000 draws of `reparameterize`, with
# `gaussian_log_density` and `standard_normal_log_density`, for a posterior in 3-D. Article 004's
# code calls a `KL_divergence(q, p)` it never defines; for two Gaussians this is it (A004-16).
#
# Article 004 calls the KL term an "entropy constraint" that "limits the entropy of the code"
# (熵约束项, A004-3). It is not an entropy: the KL is the cross-entropy $-\mathbb{E}_q[\log p]$
# minus the entropy $H(q) = \tfrac12 \log(2\pi e\sigma^2)$. Moving $\mu$ leaves the entropy as it
# is and raises the KL by $\mu^2/2$; and over $\sigma$, the KL is least at $\sigma = 1$, the
# prior's: below it the KL *rewards* a wider posterior (more entropy), above it penalises one.
# Article 004 also takes the KL's expectation over the prior (A004-11; the docstring of
# `minigan.vae.losses` says why that is wrong).

# %%
mu3 = mg.tensor([[0.5, -1.0, 2.0]], dtype=mg.float64)
logvar3 = mg.tensor([[-1.0, 0.0, 0.8]], dtype=mg.float64)
closed = gaussian_kl(mu3, logvar3).item()
mu_n, logvar_n = mu3.expand(N, 3), logvar3.expand(N, 3)
z3 = reparameterize(mu_n, logvar_n)
log_ratio = (gaussian_log_density(z3, mu_n, logvar_n) - standard_normal_log_density(z3)).numpy()
print(f"KL in closed form {closed:.4f}; Monte Carlo {log_ratio.mean():.4f} +- {log_ratio.std() / np.sqrt(N):.4f}")
assert abs(log_ratio.mean() - closed) < 4 * log_ratio.std() / np.sqrt(N)

logvars = np.linspace(-4, 4, 81)
one_d = lambda m, lv: gaussian_kl(mg.tensor([[m]], dtype=mg.float64), mg.tensor([[lv]], dtype=mg.float64)).item()  # noqa: E731
kl_curve = np.array([one_d(0.0, lv) for lv in logvars])
entropy = 0.5 * np.log(2 * np.pi * np.e * np.exp(logvars))
print(f"KL at mu = 2, sigma = 1: {one_d(2, 0):.3f}, at mu = 0, sigma = 1 (the prior itself, the same entropy "
      f"{entropy[40]:.3f}): {abs(one_d(0, 0)):.3f}; least KL over logvar in [-4, 4] at logvar = "
      f"{logvars[kl_curve.argmin()]:.1f}")
assert one_d(0, 0) == 0 and np.isclose(one_d(2, 0), 2**2 / 2) and logvars[kl_curve.argmin()] == 0
below = logvars < 0
assert (np.diff(kl_curve[below]) < 0).all() and (np.diff(entropy[below]) > 0).all()  # more entropy, less KL
assert (np.diff(kl_curve[~below]) > 0).all()

# %% [markdown]
# ## 4. Article 004's objective, as written
#
# Article 004 writes
#
# $$L_{VAE} = \mathbb{E}_{x \sim p_{data}}[\log p_\theta(x \mid z)]
#   - \beta\,\mathbb{E}_{z \sim p_z}[\mathrm{KL}(q_\phi(z \mid x) \,\|\, p(z))]$$
#
# and says the encoder is trained by *minimising* it, and that encoder and decoder both
# "maximise the reconstruction error" (A004-9, A004-10). With $\beta = 1$ that is the ELBO, the
# quantity to *maximise*: `article004_vae_objective` is exactly $-$`vae_loss`. Minimised, it
# makes the reconstructions worse and pushes $q$ away from the prior. Below, the same run as
# step 1 (the same seed, weights, batches and draws of $z$) with the article's objective put in
# `VAETrainer.loss`: its first step's objective is minus step 1's loss, and in 10 steps
# $-\log p(x \mid z)$ more than doubles and the KL climbs from under a nat past 30 (left longer,
# both run off towards infinity, for nothing bounds $\log p(x \mid z)$ from below). The full
# critique is in the docstrings of `minigan.gan.articles.article004_vae_objective` and of
# `minigan/vae/losses.py`.

# %%
class ArticleObjective(VAETrainer):
    """VAETrainer minimising article 004's L_VAE as written, where VAETrainer minimises vae_loss."""

    def loss(self, log_likelihood, kl):
        return articles.article004_vae_objective(log_likelihood, kl, self.beta_now())


_, article_rows = train("article_objective", 10, trainer_class=ArticleObjective)
first, last = article_rows[0], article_rows[-1]
print(f"step 1: article's objective {first['loss']:.2f}, step 1's loss {main_rows[0]['loss']:.2f}")
print(f"minimising it for 10 steps: -log p(x|z) {first['reconstruction']:.0f} -> {last['reconstruction']:.0f}, "
      f"KL {first['kl']:.1f} -> {last['kl']:.1f}")
assert np.isclose(first["loss"], -main_rows[0]["loss"]) and np.isclose(first["elbo"], main_rows[0]["elbo"])
assert last["reconstruction"] > 2 * first["reconstruction"] and first["kl"] < 1 and last["kl"] > 30

# %% [markdown]
# Its code has two more faults of weight. `nn.MSELoss()` averages the squared error over the 784
# pixels, while the KL is per image (A004-16). For a Gaussian decoder of fixed variance
# $\sigma_x^2$, $-\log p(x \mid z) = \sum_i (x_i - \hat x_i)^2 / 2\sigma_x^2 + \text{const}$, so
# the article's loss is `vae_loss` with $\sigma_x^2 = 392$, up to a constant (checked below):
# a likelihood so flat that no code is worth its KL. Step 6 trains it.
#
# And it trains the VAE with Adam at learning rate $10^{-4}$ and $\beta_1 = 0.5$ (A004-17), a
# GAN's setting: a VAE has no adversary to damp, and trains with $10^{-3}$ and $\beta_1 = 0.9$
# (pytorch/examples/vae; minigan's defaults). With the same seed and batches, the article's
# setting is at least 30 nats per image behind after the same steps.

# %%
rng = np.random.default_rng(opts.seed)
x64 = mg.tensor(test_images[:64], dtype=mg.float64)
mean64 = mg.tensor(rng.random((64, 1, 28, 28)), dtype=mg.float64)  # any decoder output
mu64, logvar64 = (mg.tensor(rng.standard_normal((64, 20)), dtype=mg.float64) for _ in range(2))
beta = 4.0
as_coded = F.mse_loss(mean64, x64) + beta * gaussian_kl(mu64, logvar64).mean()
as_vae_loss = vae_loss(gaussian_log_likelihood(mean64, x64, variance=392.0), gaussian_kl(mu64, logvar64), beta)
print(f"MSELoss + beta KL = {as_coded.item():.4f}; vae_loss with variance 392, less 392 log(2 pi 392): "
      f"{as_vae_loss.item() - 392 * np.log(2 * np.pi * 392):.4f}")
assert np.isclose(as_coded.item(), as_vae_loss.item() - 392 * np.log(2 * np.pi * 392))

_, adam_rows = train("article_adam", SHORT, lr=1e-4, betas=(0.5, 0.999))
window = slice(SHORT - 50, SHORT)  # the last 50 steps of the article's run, and the same steps of step 1's
article_loss = np.mean([r["loss"] for r in adam_rows[window]])
ours = np.mean([r["loss"] for r in main_rows[window]])
print(f"loss over steps {SHORT - 49}-{SHORT}: Adam 1e-4, beta1 0.5: {article_loss:.1f}; "
      f"Adam 1e-3, beta1 0.9: {ours:.1f}")
assert article_loss > ours + 30

# %% [markdown]
# ## 5. β-VAE (A004-12): a heavier KL, a blurrier picture
#
# $\beta$ weighs the KL: `vae_loss(log_likelihood, kl, beta)`, or `--beta` (Higgins et al., 2017).
# With $\beta > 1$ every nat the code tells about $x$ costs more, so the encoder tells less: the
# KL falls, and the decoder, knowing less about which digit it rebuilds, draws an average of the
# digits the code leaves possible: a blurrier one. Below, $\beta = 8$ against step 1's $\beta = 1$,
# the same steps: the KL per image falls below half, the reconstruction term rises, and the
# reconstructions have at least 8 points more grey pixels (neither ink nor background; the test
# digits themselves have about 9%).

# %%
b8, b8_rows = train("beta8", STEPS, beta=8.0)
m8 = judge(b8.vae)
real_grey = grey_fraction(test_images[:1000], value_range=(0, 1))
for name, m in (("beta = 1", m1), ("beta = 8", m8)):
    print(f"{name}: KL {m['kl']:5.2f}, -log p(x|z) {m['reconstruction']:6.1f}, grey pixels in the reconstructions "
          f"{100 * m['grey']:.1f}% (test digits {100 * real_grey:.1f}%)")
assert m8["kl"] < m1["kl"] / 2 and m8["reconstruction"] > m1["reconstruction"]
assert m8["grey"] > m1["grey"] + 0.08 > real_grey + 0.08 and abs(real_grey - 0.09) < 0.01

# %% [markdown]
# ## 6. Posterior collapse (后验坍塌): article 004's weighting
#
# Weigh the KL heavily enough, or give the decoder a likelihood flat enough (or a decoder strong
# enough to model $x$ on its own, which this lesson does not build: Bowman et al., 2016), and the
# best encoder tells nothing: $q(z \mid x) = p(z)$ for every $x$, the KL of every latent is 0, and
# the decoder, told nothing, draws one image whatever the digit. A unit is *active* (Burda et al.,
# 2016; `active_units`) when its posterior mean varies over the images, $\mathrm{Var}_x(\mu_u(x))
# > 0.01$. Step 1's VAE uses all 20; trained with article 004's loss (step 4's $\sigma_x^2 = 392$),
# it uses none, the KL of every latent is under 0.01 nats, and its reconstructions of 1,000
# different digits differ by less than 0.01 anywhere.

# %%
collapsed, _ = train("article_mse", SHORT, variance=392.0, likelihood="gaussian")
mc = judge(collapsed.vae)
spread = mc["recon"].std(axis=0).max()  # over the 1,000 reconstructions, at the pixel where they differ most
print(f"active units: beta = 1 {m1['active']}/20, beta = 8 {m8['active']}/20, article 004's loss {mc['active']}/20")
print(f"article 004's loss: largest KL of a latent {mc['kl_each'].max():.4f} nats; its reconstructions differ "
      f"by at most {spread:.4f} (standard deviation over the images, at any pixel)")
assert m1["active"] == 20 and mc["active"] == 0 and mc["kl_each"].max() < 0.01 and spread < 0.01

columns = np.concatenate([np.flatnonzero(y_test == d)[:1] for d in range(10)])  # one test digit of each class
rows = [test_images[columns], m1["recon"][columns], m8["recon"][columns], mc["recon"][columns]]
plotting.save_image_grid(np.concatenate(rows), opts.figure("reconstructions.png"), value_range=(0.0, 1.0), nrow=10,
                         title="test digits; reconstructed with beta = 1, beta = 8, article 004's loss")
lessons.show(opts.figure("reconstructions.png"))

# %% [markdown]
# ## 7. KL warm-up: let the code form before the KL weighs in
#
# At the start the decoder cannot use $z$ yet, so the reconstruction term barely pulls on the
# code while the KL pulls it to the prior at full weight. KL warm-up (Bowman et al., 2016;
# Sønderby et al., 2016; `--kl-warmup STEPS`) raises $\beta_t$ linearly from 0 over the first
# steps, so the VAE starts as a plain autoencoder and the KL shapes the code after it has formed.
# Below, $\beta = 8$ again, with $\beta_t$ rising over the first half of the run: at the same
# step it ends with a better bound: a $-$ELBO at least a nat lower. The $\beta = 8$ objective
# that both runs minimise is printed beside it, and so are the active units and the largest KL
# of a latent: how those compare varies with the seed and the length of the run. The
# figure: each run's KL per latent, largest first, and the KL per step of the two $\beta = 8$
# runs: over the first quarter of the run, while $\beta_t$ is small, the warm-up's KL is on
# average more than twice the other's.

# %%
warm, warm_rows = train("beta8_warmup", STEPS, beta=8.0, kl_warmup=STEPS // 2)
mw = judge(warm.vae)
for name, m in (("beta = 8", m8), ("beta = 8, warm-up", mw)):
    print(f"{name:18s}: -ELBO {m['neg_elbo']:.1f}, -log p(x|z) + 8 KL {m['reconstruction'] + 8 * m['kl']:.1f}, "
          f"active units {m['active']}, largest KL of a latent {m['kl_each'].max():.2f}")
assert mw["neg_elbo"] < m8["neg_elbo"] - 1
early = slice(0, STEPS // 4)
assert np.mean([r["kl"] for r in warm_rows[early]]) > 2 * np.mean([r["kl"] for r in b8_rows[early]])

fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.4))
for name, m in (("beta = 1", m1), ("beta = 8", m8), ("beta = 8, warm-up", mw), ("article 004's loss", mc)):
    left.plot(np.arange(1, 21), np.sort(m["kl_each"])[::-1], marker="o", ms=3, label=name)
left.set_yscale("log")
left.set_xlabel("latent, largest KL first")
left.set_ylabel("KL per latent, nats (test images)")
left.legend(fontsize=8)
steps = np.arange(1, STEPS + 1)
right.plot(steps, plotting.moving_average([r["kl"] for r in b8_rows], 10), label="beta = 8")
right.plot(steps, plotting.moving_average([r["kl"] for r in warm_rows], 10), label="beta = 8, warm-up")
right.axvline(STEPS // 2, color="0.6", ls=":", label="warm-up ends")
right.set_xlabel("step")
right.set_ylabel("KL per image, nats (training batches)")
right.legend(fontsize=8)
opts.save(fig, "kl_per_latent.png")

# %% [markdown]
# ## 8. A code in two dimensions
#
# With `latent_dim=2` the code can be drawn. Each test digit's posterior mean $\mu(x)$, coloured
# by its class: digits of one class lie together, so that the nearest class centre (the mean
# $\mu$ of each class) gives the right digit for more than 30% of the images (10% by chance).
# The trainer's `manifold.png` draws what the decoder makes of each point of a grid of $z$.

# %%
flat, _ = train("latent2", SHORT, latent_dim=2)
codes = flat.vae.encode_means(x_test).numpy()
centres = np.stack([codes[y_test == d].mean(0) for d in range(10)])
nearest = np.linalg.norm(codes[:, None] - centres[None], axis=2).argmin(1)
print(f"nearest class centre of mu(x) is the digit's class for {100 * np.mean(nearest == y_test):.0f}% of the images")
assert np.mean(nearest == y_test) > 0.3

fig, ax = plt.subplots(figsize=(5.6, 4.8))
dots = ax.scatter(*codes.T, c=y_test, cmap="tab10", s=5, vmin=-0.5, vmax=9.5)
fig.colorbar(dots, ax=ax, ticks=range(10), label="digit")
ax.set_xlabel("$\\mu_1(x)$")
ax.set_ylabel("$\\mu_2(x)$")
ax.set_title(f"posterior means of 1,000 test digits, {SHORT} steps")
opts.save(fig, "latent_2d.png")
flat.save_manifold(f"vae-mlp, latent_dim 2, step {SHORT}")
lessons.show(flat.path("manifold.png"))

# %% [markdown]
# ## What next
#
# [`exercises/07_vae.py`](../exercises/07_vae.py): the reparameterisation (7.1), the Gaussian KL
# (7.2) and the log-mean-exp behind the importance-weighted bound (7.3). Lesson 8 goes back to
# GANs, to the smallest one there is, the Dirac-GAN; lesson 13 sets this VAE beside a GAN on the
# same data and the same measures, as article 004 does. `minigan exercises check all` grades
# every exercise; [docs/vae.md](../docs/vae.md) trains a VAE for longer.
