# %% [markdown]
# # Lesson 4: the GAN losses of the articles, and where the articles go wrong
#
# The discriminator outputs a logit $l$ and $D = \sigma(l)$. Every loss below is in
# `minigan.gan`, written as its formula; the articles' own wrong forms are in
# `minigan.gan.articles`, to run beside the right ones. Each formula links its row of the formula
# audit, [docs/formulas.md](../docs/formulas.md), by id (`A003-14`: article 003, item 14), where
# the article's words are quoted.
#
# Step through it with `minigan lesson 4`, or run it with `python lessons/04_gan_losses.py`.
# Every step prints what it shows and asserts it.

# %%
import numpy as np

import minigan as mg
from minigan import data, gan, lessons, optim
from minigan.gan.models import toy

opts = lessons.options("04_gan_losses", seed=0)
mg.manual_seed(opts.seed)  # step 5's random batches and generator


def slope(loss, at: mg.Tensor) -> np.ndarray:
    """d loss / d at, as a NumPy array."""
    (g,) = mg.grad(loss, at)
    return g.numpy()


# %% [markdown]
# ## 1. The minimax value V(D, G) (极小极大博弈; articles 000, 002, 004)
#
# $V(D, G) = \mathbb{E}_x[\log D(x)] + \mathbb{E}_z[\log(1 - D(G(z)))]$, which D maximises and G
# minimises (A000-6: correct; article 000 calls it "GMM", and its "AT-GAN" is this plain GAN,
# A000-1). A loss is minimised, so D's loss is $-V$: the binary cross-entropy with reals
# labelled 1 and fakes 0. Article 002 gives $V$ itself as D's loss (A002-5): descending it would
# *lower* D's output on real data.

# %%
real, fake = mg.tensor([2.0, 1.5]), mg.tensor([-1.0, -3.0])  # D's logits on two real, two fake samples
V = gan.minimax_value(real, fake).item()
sig = 1 / (1 + np.exp(-np.array([2.0, 1.5, -1.0, -3.0])))
print("V = E[log D(x)] + E[log(1 - D(G(z)))] =", V)
print("discriminator loss -V               =", gan.discriminator_loss(real, fake).item())
assert np.isclose(V, np.mean(np.log(sig[:2])) + np.mean(np.log(1 - sig[2:])))
assert np.isclose(gan.discriminator_loss(real, fake).item(), -V)
real_logits = mg.tensor([2.0, 1.5], dtype=mg.float64, requires_grad=True)
print("article 002's L_D = V: d L_D / d logit of D(x) =", slope(gan.minimax_value(real_logits, fake), real_logits),
      "(positive: descending it lowers D(x))")
assert (slope(gan.minimax_value(real_logits, fake), real_logits) > 0).all()

# %% [markdown]
# Trained, the sign decides what D learns. The toy model's D (`minigan.gan.models.toy`), from the same
# start, takes 100 Adam steps on the 8 Gaussians of `data.ring8` against a fixed batch of fakes at
# the centre, once descending article 002's $L_D = V$ and once descending $-V$: with $-V$ it calls
# the real points real ($D(x) > 0.9$) and the fakes fake ($D(G(z)) < 0.1$); with $V$ it calls the
# real points fake, $D(x) < 0.1$: $V$ has no floor ($\log D(x) \to -\infty$ as $D(x) \to 0$), and
# descending it is the quickest way down. (What it does with the fakes varies with the seed: the
# real points' term wins the race.)

# %%
def train_d(loss_sign: float) -> tuple[float, float]:
    """D's mean probability on the real points and on the fakes after 100 steps descending
    ``loss_sign * V``: -1 is the standard loss, +1 article 002's."""
    mg.manual_seed(opts.seed)
    D = toy().discriminator
    adam = optim.Adam(D.parameters(), lr=1e-3)
    rng = np.random.default_rng(opts.seed)
    fakes = mg.tensor(0.1 * rng.standard_normal((256, 2)).astype(np.float32))
    for _ in range(100):
        reals = mg.tensor(data.ring8(256, rng=rng))
        adam.zero_grad()
        (loss_sign * gan.minimax_value(D(reals), D(fakes))).backward()
        adam.step()
    reals = mg.tensor(data.ring8(1000, rng=rng))
    return mg.sigmoid(D(reals)).mean().item(), mg.sigmoid(D(fakes)).mean().item()


for name, sign in (("-V, the standard loss", -1.0), ("V, article 002's", +1.0)):
    d_real, d_fake = train_d(sign)
    print(f"D trained descending {name:22s} D(x) = {d_real:.3f}, D(G(z)) = {d_fake:.3f}")
    assert (d_real > 0.9 and d_fake < 0.1) if sign < 0 else d_real < 0.1

# %% [markdown]
# ## 2. Saturating vs non-saturating generator loss (articles 002 and 003)
#
# Article 002's $L_G = \mathbb{E}_z[\log(1 - D(G(z)))]$ (A002-4) is the minimax game's own
# generator loss; article 003's $L(G) = -\mathbb{E}_z[\log D(G(z))]$ (A003-7) is the
# non-saturating one, minigan's default. Early on D rejects fakes (very negative logits): the
# saturating gradient, $-D$ per logit, vanishes there; the non-saturating one, $-(1 - D)$, is close
# to -1 (lesson 3, step 4, derives and plots both). Article 000's generator "gradient" adds the
# gradients of $\log(1 - D(G(z)))$ and of $\log D(G(z))$ (A000-5): the saturating loss's gradient
# *minus* the non-saturating loss's, $-D + (1 - D) = 1 - 2D$ per logit (the last column below is
# the second column minus the third). It is positive there: a descent step on it makes the fakes
# look more fake.
#
# Article 002 blames vanishing gradients on losses that are "non-continuous" (A002-17). They are
# smooth: gradcheck agrees with finite differences all along the saturating loss, even where its
# gradient has all but vanished. It vanishes because $\log(1 - \sigma(l))$ flattens as $l \to -\infty$.

# %%
print("logit of D(G(z))   d/dl E[log(1-D)]   d/dl -E[log D]   article 000's sum")
for l in [-8.0, -4.0, 0.0, 4.0]:
    z = mg.tensor([l], dtype=mg.float64, requires_grad=True)
    gs = slope(gan.generator_loss_saturating(z), z).item()
    gn = slope(gan.generator_loss_nonsaturating(z), z).item()
    gsum = slope(gan.articles.article000_summed_generator_loss(z), z).item()
    print(f"{l:16.1f}   {gs:16.5f}   {gn:14.5f}   {gsum:14.5f}")
    assert mg.gradcheck(gan.generator_loss_saturating, (z,))
    assert np.isclose(gsum, gs - gn)  # the article's sum: the saturating gradient minus the non-saturating one
    if l < 0:  # descending: the non-saturating loss raises the logit, the sum lowers it further
        assert gn < -0.9 and gsum > 0.9 and abs(gs) < 0.02

# %% [markdown]
# ## 3. Article 003's discriminator labels everything "real" (A003-14), its generator helps D (A003-15)
#
# Its code, `cross_entropy(ones_like(logits[:batch_size]), logits)` with
# `logits = D(cat[real, fake])`, makes labels from the real half and applies them to every
# output, fakes included (as it can run; as written the shapes differ). Its D ends in a sigmoid
# and the loss takes logits, so the probabilities $p$ pass through a second sigmoid. The slope of
# the fakes' part of the loss is negative: descending it raises D(G(z)), so D learns to accept
# fakes. The right loss, reals 1 and fakes 0, has a positive slope there: it rejects them.
#
# Its generator's loss labels G's samples 0, "fake": its slope in D(G(z)) is positive, so each
# step of G lowers D(G(z)) and makes D's job easier. The article's own $L(G)$ (A003-7) needs label 1.

# %%
p_fake = mg.tensor([0.1, 0.9], dtype=mg.float64, requires_grad=True)
p_real = mg.tensor([0.9, 0.9], dtype=mg.float64)
d_slope = slope(gan.articles.article003_discriminator_loss(p_real, p_fake), p_fake)
print("article 003's D loss:  d loss / d D(G(z))             =", d_slope)
assert (d_slope < 0).all()
logit = mg.tensor([-2.0, 2.0], dtype=mg.float64, requires_grad=True)
right_slope = slope(gan.discriminator_loss(mg.tensor([2.0, 2.0], dtype=mg.float64), logit), logit)
print("the right D loss:      d loss / d logit of D(G(z))    =", right_slope)
assert (right_slope > 0).all()
g_slope = slope(gan.articles.article003_generator_loss(p_fake), p_fake)
print("article 003's G loss:  d loss / d D(G(z))             =", g_slope)
assert (g_slope > 0).all()

# %% [markdown]
# ## 4. Article 004 flips the sign of one term (A004-6)
#
# Its $L_{GAN} = -\mathbb{E}[\log D(x)] + \mathbb{E}[\log(1 - D(G(z)))]$ is neither $V$ nor $-V$.
# Minimised by D, its slope in D(G(z))'s logits is negative: D learns to accept fakes. The
# consistent pair is $L_D = -V$ and $L_G = V$ (only the second term of $V$ depends on G).

# %%
value = gan.articles.article004_gan_loss(real, fake).item()
print(f"L_GAN = {value:.5f}, V = {V:.5f}, -V = {-V:.5f}")
assert not np.isclose(value, V) and not np.isclose(value, -V)
fake_logits = mg.tensor([-1.0, -3.0], dtype=mg.float64, requires_grad=True)
d_slope = slope(gan.articles.article004_gan_loss(real.to(mg.float64), fake_logits), fake_logits)
print("d L_GAN / d logit of D(G(z)) =", d_slope)
assert (d_slope < 0).all()

# %% [markdown]
# Article 004's training loop (A004-15, `gan.articles.article004_train_step`) clears G's gradients
# where D's should be cleared, so D's `.grad` is never emptied: each D step is handed the sum of
# every step's D-loss gradient so far, and of the G-loss gradients each `G_loss.backward()` leaves
# in D too. Trained 200 steps on ring8 beside the standard step, from the same start and batches,
# D's `.grad` at the end is more than 10 times the standard loop's: there it holds the last step's
# gradients, here the sum of all 200 steps'.

# %%
def d_gradient_after(article_loop: bool, steps: int = 200) -> float:
    """The norm of D's `.grad` after ``steps`` steps of a toy GAN on ring8."""
    mg.manual_seed(opts.seed)
    model = toy()
    G, D = model.generator, model.discriminator
    opt_g, opt_d = (optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.999)) for net in (G, D))
    rng = np.random.default_rng(opts.seed)
    opt_d.zero_grad()  # the article's G.zero_grad(); D.zero_grad() before its loop
    for _ in range(steps):
        real_batch = mg.tensor(data.ring8(256, rng=rng))
        z = mg.tensor(rng.standard_normal((256, 2)).astype(np.float32))
        if article_loop:
            gan.articles.article004_train_step(G, D, real_batch, z, opt_g, opt_d)
            continue
        opt_d.zero_grad()
        gan.discriminator_loss(D(real_batch), D(G(z).detach())).backward()
        opt_d.step()
        opt_g.zero_grad()
        gan.generator_loss_nonsaturating(D(G(z))).backward()
        opt_g.step()
    return float(np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in D.parameters())))


standard, article = d_gradient_after(False), d_gradient_after(True)
print(f"|D's .grad| after 200 steps: standard loop {standard:.1f}, article 004's loop {article:.1f}")
assert article > 10 * standard

# %% [markdown]
# ## 5. The gradient penalty of WGAN-GP (梯度惩罚, article 001) is a second derivative
#
# Article 001's "GPAT" is gradient-penalised adversarial training (A001-1): WGAN-GP's
# $\lambda\,\mathbb{E}[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2]$ (why at interpolated points, and
# why norm 1: lesson 3, step 6). For a linear critic
# $D(x) = x w$ the input gradient is $w$ everywhere, so the penalty is $\lambda(\lvert w \rvert - 1)^2$
# and its gradient in $w$ is $2\lambda(\lvert w \rvert - 1)\, w / \lvert w \rvert$: minigan gets both
# by differentiating a gradient.
#
# Article 001's code (A001-9) penalises the gap $(D(x) - D(G(z)))^2$ instead, and its "gradient"
# term, of $D(x)$ with respect to G's weights, is 0: D's output on real data does not depend on G
# (the `stop_gradient` around it only makes that 0 a constant). The gap term does
# train D, the wrong way: it pulls D's scores of real and generated samples together, so that
# after one gradient step on it D tells them apart less.

# %%
w = mg.tensor([[0.6], [0.8], [1.2]], requires_grad=True)
critic = lambda x: x @ w  # noqa: E731   a linear critic: its input gradient is w everywhere
x, g = mg.randn(8, 3), mg.randn(8, 3)
gp = gan.gradient_penalty(critic, x, g, lambda_=10.0)
(dw,) = mg.grad(gp, w)
norm = float(np.linalg.norm(w.numpy()))
print(f"penalty = 10 (|w| - 1)^2 = {10 * (norm - 1) ** 2:.5f}; minigan: {gp.item():.5f}")
print("d penalty / dw =", dw.numpy().ravel(), "expected", (20 * (norm - 1) * w.numpy() / norm).ravel())
assert np.isclose(gp.item(), 10 * (norm - 1) ** 2, rtol=1e-5)
assert np.allclose(dw.numpy(), 20 * (norm - 1) * w.numpy() / norm, rtol=1e-4)

G = mg.nn.Linear(3, 3)
as_coded = gan.articles.article001_penalty_as_coded(critic, G.parameters(), x, G(g))
gap = ((critic(x) - critic(G(g))) ** 2).mean()
print(f"article 001's penalty = {as_coded.item():.5f}; the squared gap alone = {gap.item():.5f}")
assert np.isclose(as_coded.item(), gap.item())
(dw,) = mg.grad(as_coded, w)
with mg.no_grad():
    stepped = lambda v: v @ (w - 0.05 * dw)  # noqa: E731   the critic after one gradient step on it
    gap_after = ((stepped(x) - stepped(G(g))) ** 2).mean()
print(f"one gradient step on it: squared gap {gap.item():.5f} -> {gap_after.item():.5f}")
assert gap_after.item() < gap.item()

# %% [markdown]
# ## 6. InfoGAN's mutual-information term (互信息): a code that Q can read back
#
# InfoGAN gives G a code $c$ (here one of 10) beside the noise, and a head $Q$ on D that guesses
# $c$ back from the sample. Its loss $-\mathbb{E}[\log Q(c \mid x)]$ bounds the mutual information
# from below: $L_I = \log 10 - \text{loss} \le I(c; x)$. A $Q$ that knows nothing (uniform) has
# loss $\log 10$ and bound 0; a $Q$ that reads every code has a bound close to $\log 10$.
# G and Q are both trained to lower the loss, which rewards a G whose 10 codes draw samples Q can
# tell apart.
#
# Not shown here but measured (docs/training.md, "InfoGAN: finding the digits without labels"):
# on MNIST (`minigan train --model infogan`) the codes come to follow the digits in part, without
# labels, and some codes learn a style instead, such as the slant of a 1 (`minigan eval`
# measures `code_purity`).

# %%
codes = mg.tensor([0, 1, 2, 3])
bounds = {}
for name, logits in (("Q knows nothing (uniform)", mg.zeros(4, 10)),
                     ("Q reads every code", 8.0 * mg.nn.functional.one_hot(codes, 10).to(mg.float32))):
    loss = gan.info_loss(logits, codes).item()
    bounds[name] = round(np.log(10) - loss, 4) + 0.0  # + 0.0: no "-0.0000"
    print(f"{name:27s} loss -E[log Q(c|x)] = {loss:.4f};  bound L_I on I(c; x) = log 10 - loss = {bounds[name]:.4f}")
assert bounds["Q knows nothing (uniform)"] == 0.0
assert bounds["Q reads every code"] > 0.99 * np.log(10)


# %% [markdown]
# ## Exercises
#
# the losses of this lesson and their penalties are exercises 3.1 to 3.4, in
# [`exercises/03_gan_game.py`](../exercises/03_gan_game.py).
# `minigan exercises check all` grades every exercise; `minigan exercises list` lists them.
