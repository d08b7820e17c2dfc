# %% [markdown]
# # Lesson 3: the GAN game, its optimal discriminator, and the distances it minimises
#
# The theory under every GAN loss, each result checked by running it: the value $V(D, G)$ of the
# minimax game (极小极大博弈), the discriminator that maximises it, why a balanced
# discriminator's loss sits at $\log 4$, the Jensen-Shannon divergence (JS 散度) the game
# minimises, why the generator's loss is not the game's own, and why WGAN trades the
# Jensen-Shannon divergence for the Wasserstein distance (Wasserstein 距离) with a 1-Lipschitz
# critic, enforced by a gradient penalty (梯度惩罚) at interpolated points. Articles 002 and 004
# state the game (A002-5, A004-7, A002-6 in [the formula audit](../docs/formulas.md)); lesson 4
# shows where their losses go wrong.
#
# Step through it with `minigan lesson 3`, or run it with `python lessons/03_gan_game.py`
# (a few seconds; it trains two small networks, from `--seed N`, default 0). Figures go to
# `lesson_figures/03_gan_game/`.

# %%
import os

# Small networks run faster on one BLAS thread (docs/benchmarks.md). NumPy reads this as it loads, so
# it counts when the lesson runs as a script or in a fresh kernel; `minigan lesson` has loaded NumPy
# already: there, set it in the shell (OPENBLAS_NUM_THREADS=1 minigan lesson 3).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
from minigan import gan, lessons, nn, optim

opts = lessons.options("03_gan_game", seed=0)
mg.manual_seed(opts.seed)
STEPS = 200 if opts.fast else 400  # training steps of the two small networks below
LOG4 = np.log(4.0)


def normal_logpdf(x, mean, std):
    return -0.5 * ((x - mean) / std) ** 2 - np.log(std * np.sqrt(2 * np.pi))



def small_net(inputs: int) -> nn.Module:
    """The discriminator (and critic) of this lesson: two hidden layers of 64 LeakyReLU units."""
    return nn.Sequential(nn.Linear(inputs, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2),
                         nn.Linear(64, 1))


# %% [markdown]
# ## 1. The game and its value
#
# D outputs the probability $D(x)$ that $x$ is real; G maps noise $z$ to samples, whose
# distribution is $p_g$. The value
#
# $$V(D, G) = \mathbb{E}_{x \sim p_{data}}[\log D(x)] + \mathbb{E}_{z}[\log(1 - D(G(z)))]
#   = \int p_{data}(x) \log D(x) + p_g(x) \log(1 - D(x)) \, dx$$
#
# is what D maximises and G minimises, taking turns: fix G and improve D, then fix D and improve
# G (A002-6). Below, 1-D data $p_{data} = N(1, 0.7^2)$ and a generator whose samples are
# $N(-1, 1)$, and a network D trained on their samples by minigan's `discriminator_loss`, which
# is $-V$ (A002-5 gives $V$ itself as D's loss, with the wrong sign; lesson 4 shows it).

# %%
DATA, GEN = (1.0, 0.7), (-1.0, 1.0)  # (mean, std) of p_data and of p_g
D = small_net(1)
d_opt = optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
for _ in range(STEPS):
    real, fake = DATA[0] + DATA[1] * mg.randn(256, 1), GEN[0] + GEN[1] * mg.randn(256, 1)
    loss = gan.discriminator_loss(D(real), D(fake))
    d_opt.zero_grad()
    loss.backward()
    d_opt.step()
print(f"D trained {STEPS} steps: its loss -V = {loss.item():.3f}")

# %% [markdown]
# ## 2. The optimal discriminator
#
# For a fixed G, $V$ is an integral of $a \log y + b \log(1 - y)$ with $a = p_{data}(x)$,
# $b = p_g(x)$ and $y = D(x)$, maximised point by point where its derivative
# $a / y - b / (1 - y)$ is 0:
#
# $$D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}, \qquad
#   \text{logit } D^*(x) = \log p_{data}(x) - \log p_g(x).$$
#
# The best discriminator's logit is the log of the density ratio: that is what a trained D
# estimates, from samples alone. Where both densities have mass (here $-2 \le x \le 2$), the
# trained D is within 0.06 of $D^*$ everywhere.

# %%
xs = np.linspace(-2.0, 2.0, 81)
ratio_logit = normal_logpdf(xs, *DATA) - normal_logpdf(xs, *GEN)
d_star = 1 / (1 + np.exp(-ratio_logit))
with mg.no_grad():
    d_trained = mg.sigmoid(D(mg.tensor(xs[:, None], dtype=mg.float32))).numpy().ravel()
gap = np.abs(d_trained - d_star).max()
print(f"max |D(x) - D*(x)| for -2 <= x <= 2: {gap:.3f}")
assert gap < 0.06

wide = np.linspace(-4.5, 4.5, 400)
fig, ax = plt.subplots(figsize=(6.4, 3.6))
ax.plot(wide, np.exp(normal_logpdf(wide, *DATA)), color="tab:blue", label="$p_{data}$")
ax.plot(wide, np.exp(normal_logpdf(wide, *GEN)), color="tab:orange", label="$p_g$")
ax.plot(wide, 1 / (1 + np.exp(-(normal_logpdf(wide, *DATA) - normal_logpdf(wide, *GEN)))), "k--",
        label="$D^* = p_{data} / (p_{data} + p_g)$")
with mg.no_grad():
    ax.plot(wide, mg.sigmoid(D(mg.tensor(wide[:, None], dtype=mg.float32))).numpy().ravel(), color="tab:green",
            label=f"D trained on samples ({STEPS} steps)")
ax.set_xlabel("x")
ax.set_ylabel("density; probability that x is real")
ax.legend(fontsize=8, loc="upper left")
opts.save(fig, "optimal_discriminator.png")

# %% [markdown]
# ## 3. What G minimises against $D^*$: the Jensen-Shannon divergence, and $\log 4$
#
# Put $D^*$ into $V$: with the mixture $m = (p_{data} + p_g) / 2$,
#
# $$V(D^*, G) = \mathbb{E}_{p_{data}}\Big[\log \frac{p_{data}}{2m}\Big]
#   + \mathbb{E}_{p_g}\Big[\log \frac{p_g}{2m}\Big] = -\log 4 + 2\,\mathrm{JSD}(p_{data} \,\|\, p_g),$$
#
# $$\mathrm{JSD}(p \,\|\, q) = \tfrac12 \mathrm{KL}(p \,\|\, m) + \tfrac12 \mathrm{KL}(q \,\|\, m),$$
#
# which is 0 only when $p = q$ and at most $\log 2$. So against the best D, G's descent on $V$
# lowers the Jensen-Shannon divergence, and the game's end is $p_g = p_{data}$, where
# $D^* = 1/2$ everywhere and D's loss, $-V$, is $\log 4 \approx 1.386$: the best D can do no
# better than chance. That is what a balanced game looks like in a run's losses.csv (`loss_d`
# near 1.39). A D that has learned nothing scores $\log 4$ too; a loss below it means D tells
# the two apart, as the D trained above does.
#
# Below: $V(D^*, G)$ estimated on samples with minigan's `minimax_value` (the logits are the log
# density ratio of step 2), against $-\log 4 + 2\,\mathrm{JSD}$ by numerical integration.

# %%
def jsd(logp, logq, grid):
    """The Jensen-Shannon divergence of two densities given as log densities on an even grid."""
    logm = np.logaddexp(logp, logq) - np.log(2)  # log of the mixture m = (p + q) / 2, without underflow
    terms = 0.5 * np.exp(logp) * (logp - logm) + 0.5 * np.exp(logq) * (logq - logm)
    return float(terms.sum() * (grid[1] - grid[0]))


grid = np.linspace(-12, 12, 24001)
js = jsd(normal_logpdf(grid, *DATA), normal_logpdf(grid, *GEN), grid)
rng = np.random.default_rng(opts.seed)
x_real, x_fake = rng.normal(*DATA, 200_000), rng.normal(*GEN, 200_000)
logit = lambda x: mg.tensor(normal_logpdf(x, *DATA) - normal_logpdf(x, *GEN), dtype=mg.float64)  # noqa: E731
v_star = gan.minimax_value(logit(x_real), logit(x_fake)).item()
print(f"V(D*, G) on samples = {v_star:.4f};  -log 4 + 2 JSD = {-LOG4 + 2 * js:.4f}  (JSD = {js:.4f})")
assert abs(v_star - (-LOG4 + 2 * js)) < 0.01
with mg.no_grad():  # the trained D's value on the same samples
    on = lambda x: D(mg.tensor(x[:, None], dtype=mg.float32))  # noqa: E731
    v_trained = gan.minimax_value(on(x_real), on(x_fake)).item()
print(f"V(D, G) of the trained D on the same samples = {v_trained:.4f}: no D does better than D*")
assert v_trained < v_star

balanced = gan.discriminator_loss(mg.zeros(4), mg.zeros(4)).item()  # D = 1/2 everywhere: logits 0
print(f"D's loss when D = 1/2 everywhere: {balanced:.4f};  log 4 = {LOG4:.4f}")
assert np.isclose(balanced, LOG4)
same = jsd(normal_logpdf(grid, *DATA), normal_logpdf(grid, *DATA), grid)
assert abs(same) < 1e-9 and js < np.log(2)
print(f"the trained D's loss, {loss.item():.3f}, is below log 4: it tells p_data from p_g apart")
assert loss.item() < LOG4

# %% [markdown]
# ## 4. G's loss in practice is not the game's own: saturating and non-saturating gradients
#
# In the game G minimises $\mathbb{E}_z[\log(1 - D(G(z)))]$ (A002-4). Per sample, with D's logit
# $l$ and $D = \sigma(l)$, its derivative is $\frac{d}{dl}\log(1 - \sigma(l)) = -D$: when D
# confidently rejects a fake, $D(G(z)) \to 0$, G's gradient vanishes just when G most needs it.
# The non-saturating loss $-\mathbb{E}_z[\log D(G(z))]$ (A003-7; "maximise the probability that D
# is wrong", A004-4) has derivative $-(1 - D)$: near $-1$ there. Both derivatives are negative
# everywhere, so descending either pushes the logit up, but only the non-saturating one pushes
# hard early in training; the saturating one pushes hardest once D is already fooled.

# %%
logits = mg.tensor(np.linspace(-9, 9, 181), dtype=mg.float64, requires_grad=True)
d_fake = 1 / (1 + np.exp(-logits.numpy()))
(saturating,) = mg.grad(gan.generator_loss_saturating(logits) * logits.shape[0], logits)  # per sample: undo the mean
(nonsaturating,) = mg.grad(gan.generator_loss_nonsaturating(logits) * logits.shape[0], logits)
assert np.allclose(saturating.numpy(), -d_fake) and np.allclose(nonsaturating.numpy(), -(1 - d_fake))
assert (saturating.numpy() < 0).all() and (nonsaturating.numpy() < 0).all()
for p in (1e-3, 0.5, 0.999):
    i = np.argmin(np.abs(d_fake - p))
    print(f"D(G(z)) = {d_fake[i]:.3f}: d/dl saturating {saturating.numpy()[i]:+.4f}, "
          f"non-saturating {nonsaturating.numpy()[i]:+.4f}")

fig, ax = plt.subplots(figsize=(6.4, 3.4))
ax.plot(d_fake, np.abs(saturating.numpy()), label=r"saturating, $\log(1 - D)$: $|{-D}|$")
ax.plot(d_fake, np.abs(nonsaturating.numpy()), label=r"non-saturating, $-\log D$: $|{-(1 - D)}|$")
ax.set_xscale("logit")
ax.set_yscale("log")
ax.set_xlabel("D(G(z)), the probability D gives a fake (logit scale)")
ax.set_ylabel("|d loss / d logit|")
ax.axvspan(d_fake[0], 0.05, color="0.9")
ax.text(2e-4, 2e-3, "early training:\nD rejects fakes", fontsize=8)
ax.legend(fontsize=8, loc="lower center")
opts.save(fig, "generator_gradients.png")

# %% [markdown]
# ## 5. When the two distributions do not overlap, the Jensen-Shannon divergence stops telling G where to go
#
# Real data often lies on a thin set (images of digits are a sliver of all 784-pixel images), and
# so do a generator's samples: early on they barely overlap. Take narrow data $N(0, 0.1^2)$ and
# a generator $N(\theta, 0.1^2)$. As $\theta$ grows the Jensen-Shannon divergence climbs to
# $\log 2$ and stays there: flat (beyond $\theta = 1$ its slope is under 1/1000), so its
# gradient in $\theta$ vanishes, and a generator far from the data learns next to nothing from
# it. The Wasserstein-1 distance (the earth mover's distance, 推土机距离), the least mean
# distance a transport plan moves $p_g$'s mass to $p_{data}$, is $|\theta|$ here: its slope is 1
# however far G is. In 1-D the best plan pairs the samples in sorted order, so $W_1$ of two
# equal-sized samples is the mean distance between the i-th smallest of each.

# %%
thetas = np.linspace(0, 2, 41)
js_curve = np.array([jsd(normal_logpdf(grid, 0, 0.1), normal_logpdf(grid, t, 0.1), grid) for t in thetas])
far = thetas >= 1.0
print(f"JSD at theta = 0, 0.2, 1, 2: {js_curve[0]:.4f} {js_curve[4]:.4f} {js_curve[20]:.6f} {js_curve[40]:.6f}"
      f"  (log 2 = {np.log(2):.6f})")
slope_js = np.abs(np.gradient(js_curve, thetas))[far].max()
base = np.sort(rng.normal(0, 0.1, 100_000))  # samples of p_data, paired in sorted order with those of p_theta
w1_curve = np.array([np.abs(base - np.sort(rng.normal(t, 0.1, 100_000))).mean() for t in thetas])
slope_w1 = np.gradient(w1_curve, thetas)[far]
print(f"largest |d JSD / d theta| for theta >= 1: {slope_js:.1e};  d W1 / d theta there: "
      f"{slope_w1.min():.3f} to {slope_w1.max():.3f}")
assert js_curve[0] < 1e-9 and np.all(np.diff(js_curve) > -1e-12) and slope_js < 1e-3
assert np.allclose(js_curve[far], np.log(2), atol=1e-6)
assert np.allclose(w1_curve, thetas, atol=0.01) and np.allclose(slope_w1, 1, atol=0.05)

fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.2))
left.plot(thetas, js_curve)
left.axhline(np.log(2), color="0.6", ls=":", label="log 2")
left.set_ylabel(r"JSD$(p_{data} \,\|\, p_\theta)$, nats")
left.legend(fontsize=8, loc="lower right")
right.plot(thetas, w1_curve, color="tab:orange")
right.set_ylabel(r"$W_1(p_{data}, p_\theta)$, from samples")
for ax in (left, right):
    ax.set_xlabel(r"$\theta$, how far G's samples are from the data")
opts.save(fig, "jsd_against_wasserstein.png")

# %% [markdown]
# ## 6. WGAN's critic must be 1-Lipschitz; WGAN-GP asks it at interpolated points
#
# By the Kantorovich-Rubinstein duality,
#
# $$W_1(p_{data}, p_g) = \sup_{\|f\|_L \le 1} \mathbb{E}_{x \sim p_{data}}[f(x)] - \mathbb{E}_{x \sim p_g}[f(x)],$$
#
# the largest gap in mean score that a *1-Lipschitz* critic $f$ (1-Lipschitz 连续:
# $|f(x) - f(y)| \le \|x - y\|$, a gradient norm of at most 1) can open between real and generated
# samples. The critic $f$ outputs a score, not a probability; without the constraint it could
# scale its scores without bound. WGAN clipped the critic's weights (`--loss wgan`), a crude
# bound. WGAN-GP (Gulrajani et al., 2017; article 001's gradient penalty, A001-1) uses a fact
# about the optimal critic instead: its gradient has norm exactly 1 on the straight lines between
# real and generated samples that the optimal transport pairs up. A penalty cannot be taken
# everywhere, so it is taken there:
#
# $$\lambda\, \mathbb{E}_{\hat x}\big[(\|\nabla_{\hat x} f(\hat x)\|_2 - 1)^2\big], \qquad
#   \hat x = \epsilon x + (1 - \epsilon) G(z), \ \epsilon \sim U[0, 1],$$
#
# with $\hat x$ from `gan.interpolate` (one $\epsilon$ per pair), and the gradient in it taken
# with `create_graph=True` so that the critic's step differentiates through it (lesson 1).
#
# The penalty is soft. In 2-D, take data $N(\mu, 0.5^2 I)$ and samples
# $N(\mu - \Delta, 0.5^2 I)$ with $\|\Delta\| = 4$, so that $W_1 = 4$. For a critic of slope $a$
# along $\Delta$, the critic's loss plus penalty is $-a \|\Delta\| + \lambda (a - 1)^2$, least at
# $a = 1 + \|\Delta\| / (2\lambda) = 1.2$ for $\lambda = 10$: a critic trained with
# `wasserstein_critic_loss` and `gradient_penalty` has gradient norm about 1.2 at the
# interpolates, and its gap in mean score, divided by that slope, is $W_1$.

# %%
LAMBDA, SHIFT = 10.0, mg.tensor([[4.0, 0.0]])
real_2d = lambda n: 0.5 * mg.randn(n, 2) + 0.5 * SHIFT  # noqa: E731
fake_2d = lambda n: 0.5 * mg.randn(n, 2) - 0.5 * SHIFT  # noqa: E731
critic = small_net(2)
c_opt = optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
for _ in range(STEPS):
    real, fake = real_2d(256), fake_2d(256)
    loss = gan.wasserstein_critic_loss(critic(real), critic(fake)) + gan.gradient_penalty(critic, real, fake, LAMBDA)
    c_opt.zero_grad()
    loss.backward()
    c_opt.step()

real, fake = real_2d(4096), fake_2d(4096)
_, norms = gan.gradient_penalty(critic, real, fake, LAMBDA, return_norms=True)
with mg.no_grad():
    score_gap = (critic(real).mean() - critic(fake).mean()).item()
slope = float(norms.numpy().mean())
print(f"critic trained {STEPS} steps: gradient norm at the interpolates {slope:.3f} (mean; theory 1.2), "
      f"middle 90% {np.percentile(norms.numpy(), 5):.2f} to {np.percentile(norms.numpy(), 95):.2f}")
print(f"gap in mean score {score_gap:.3f}; divided by the slope {score_gap / slope:.3f}; W1 = 4")
assert abs(slope - 1.2) < 0.1 and abs(score_gap / slope - 4.0) < 0.4

u, v = np.meshgrid(np.linspace(-4.5, 4.5, 91), np.linspace(-3, 3, 61))
with mg.no_grad():
    scores = critic(mg.tensor(np.stack([u.ravel(), v.ravel()], 1), dtype=mg.float32)).numpy().reshape(u.shape)
x_hat = gan.interpolate(real[:300], fake[:300]).detach().numpy()
fig, ax = plt.subplots(figsize=(6.4, 4.0))
filled = ax.contourf(u, v, scores, levels=20, cmap="RdBu_r")
fig.colorbar(filled, ax=ax, label="critic score f(x)")
ax.scatter(*real[:300].numpy().T, s=4, c="k", label="real")
ax.scatter(*fake[:300].numpy().T, s=4, c="tab:orange", label="generated")
ax.scatter(*x_hat.T, s=3, c="tab:green", alpha=0.5, label=r"interpolates $\hat x$")
ax.set_aspect("equal")
ax.legend(fontsize=8, loc="lower left")
opts.save(fig, "critic.png")


# %% [markdown]
# ## Exercises
#
# [`exercises/03_gan_game.py`](../exercises/03_gan_game.py): binary cross-entropy from logits, finite for
# any logit (3.1), the saturating and non-saturating generator losses (3.2), the gradient penalty by
# double backpropagation (3.3) and the R1 penalty (3.4).
# `minigan exercises check all` grades every exercise; `minigan exercises list` lists them.
