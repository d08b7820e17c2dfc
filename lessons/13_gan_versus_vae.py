# %% [markdown]
# # Lesson 13: GAN against VAE, on the same data and the same measures
#
# Article 004 ends by setting the two side by side (A004-18 in
# [the formula audit](../docs/formulas.md)): a generative adversarial network (生成对抗网络) draws
# samples closer to the real data but trains unstably; a variational autoencoder (变分自编码器)
# trains stably but draws less well. Here the two train on MNIST for the same number of steps on
# the same batches, and the same judges score them: the MNIST classifier's measures of lesson 5
# (MNIST score, Fréchet distance, precision and recall), how evenly the samples cover the ten
# digits (mode coverage), how sharp they are, and the one measure only a VAE can take, a
# likelihood.
#
# Step through it with `minigan lesson 13`, or run it with `python lessons/13_gan_versus_vae.py`
# (about a minute on two CPU cores; `--fast` trains a quarter of the steps and scores
# 500 samples instead of 2,000, and the same checks pass). It trains from `--seed N` (default 0);
# checked with seeds 0 to 4. Figures go to `lesson_figures/13_gan_versus_vae/`.

# %%
import os

# Small matrices run a little faster on one BLAS thread (docs/benchmarks.md). NumPy reads this as it
# loads, so it counts when the lesson runs as a script or in a fresh kernel; `minigan lesson` has
# loaded NumPy already: there, set it in the shell (OPENBLAS_NUM_THREADS=1 minigan lesson 13).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
from minigan import data, lessons, plotting
from minigan.evaluation import digit_samples, image_metrics, real_images
from minigan.gan.training import Trainer
from minigan.metrics import grey_fraction
from minigan.training import TrainConfig
from minigan.vae import importance_weighted_nll
from minigan.vae.training import VAETrainer

opts = lessons.options("13_gan_versus_vae", seed=0)
STEPS = 600 if opts.fast else 2400  # steps of 64 images, for each model
N = 500 if opts.fast else 2000  # samples each model is judged on
print(f"seed {opts.seed}, {STEPS} steps, {N} samples{', fast' if opts.fast else ''}; figures in {opts.out}/")


def train(trainer_class, name, **options):
    """``STEPS`` steps of 64 images by ``trainer_class``; the trainer, its losses.csv rows and the CPU seconds."""
    config = TrainConfig(out=str(opts.out / name), steps=STEPS, batch_size=64, seed=opts.seed, progress=False,
                         **options)
    trainer, start = trainer_class(config), time.process_time()
    rows = [trainer.train_step() for _ in range(STEPS)]
    return trainer, rows, time.process_time() - start


# %% [markdown]
# ## 1. Two models, one budget
#
# The GAN is minigan's `mlp` (article 003's networks: G maps 100 numbers through 128 ReLUs to 784
# sigmoid pixels, D maps them through 128 ReLUs to a logit), trained with the non-saturating
# loss and an R1 penalty on D's gradient at real digits (`ns-r1`, lesson 6's loss, with weight
# $\gamma = 1$), Adam at $10^{-3}$, $\beta = (0.5, 0.999)$. The VAE is `vae-mlp` (lesson 7: an
# encoder 784-400-20, a decoder 20-400-784, a Bernoulli likelihood), trained on the negative ELBO
# with Adam at $10^{-3}$, $\beta = (0.9, 0.999)$. Each takes the same number of steps on the same
# batches of 64 training digits (their loaders share the seed), through its own trainer
# (`Trainer`, `VAETrainer`, the two of `minigan train`). A GAN step is two updates (D's, with its
# penalty, then G's), and G and D together have about a third of the VAE's weights, so the CPU
# times differ: they are printed.

# %%
gan, gan_rows, gan_seconds = train(Trainer, "gan", model="mlp", loss="ns-r1", r1_gamma=1.0, lr=1e-3)
vae, vae_rows, vae_seconds = train(VAETrainer, "vae", model="vae-mlp")
sizes = {name: sum(p.numpy().size for p in net.parameters())
         for name, net in (("G", gan.gan.generator), ("D", gan.gan.discriminator), ("VAE", vae.vae))}
print(f"GAN: {STEPS} steps in {gan_seconds:.1f} CPU s (G {sizes['G']:,} weights, D {sizes['D']:,}); "
      f"VAE: {STEPS} steps in {vae_seconds:.1f} CPU s ({sizes['VAE']:,} weights); {64 * STEPS:,} images seen each")
assert 0.3 < (sizes["G"] + sizes["D"]) / sizes["VAE"] < 0.37
assert all(np.array_equal(gan.loader.batch(epoch, i)[0].numpy(), vae.loader.batch(epoch, i)[0].numpy())
           for epoch, i in ((0, 0), (1, 5)))  # the same training digits, batch for batch

# %% [markdown]
# ## 2. Sharpness: the VAE draws means
#
# A VAE's sample is usually shown as the mean of $p(x \mid z)$ for a $z$ from the prior: the
# average of every image the decoder thinks likely for that code, a blur wherever it is unsure
# between strokes. A GAN's sample is one image, and D learns to reject a blur that real digits
# never show. Sharpness is measured as the share of grey pixels, neither ink nor background: the
# GAN's samples have fewer than the VAE's, and real digits fewer still (about 9%). The figure:
# real test digits, then 64 samples of each model.

# %%
gan_samples = digit_samples(gan.sampler, N, seed=opts.seed)  # in [-1, 1], the range the classifier reads
z = mg.tensor(np.random.default_rng(opts.seed).standard_normal((N, vae.vae.latent_dim)).astype(np.float32))
vae_samples = vae.vae.sample(z) * 2 - 1  # the means of p(x|z), from [0, 1] to [-1, 1]
real, _ = real_images("test", N)
grey = {"real test digits": grey_fraction(real), "VAE": grey_fraction(vae_samples), "GAN": grey_fraction(gan_samples)}
print("grey pixels: " + ", ".join(f"{name} {100 * g:.1f}%" for name, g in grey.items()))
assert abs(grey["real test digits"] - 0.09) < 0.01 and grey["real test digits"] < grey["GAN"] < grey["VAE"]

fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.9))
for ax, (name, images) in zip(axes, (("real test digits", real), ("VAE", vae_samples), ("GAN", gan_samples))):
    ax.imshow(plotting.image_grid(images[:64]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(f"{name}: {100 * grey[name]:.0f}% grey pixels", fontsize=10)
    ax.axis("off")
fig.suptitle(f"after {STEPS} steps of 64 images, seed {opts.seed}")
opts.save(fig, "samples.png")

# %% [markdown]
# ## 3. The classifier's judgement, and mode coverage
#
# The same `image_metrics` for both, against the classifier's view of 1,000 real training digits
# (lesson 5 explains each measure), and for real test digits as the anchor. Mode coverage on
# MNIST is coverage of the ten digits: how many the classifier finds among the samples, and the
# KL of their histogram from the uniform one (0 when each digit is a tenth of the samples).
#
# Both models draw all ten digits. In the classifier's feature space the GAN's samples lie
# closer to the real digits: a lower Fréchet distance, by more than a tenth of the VAE's. On the
# MNIST score, precision, recall and the class KL the two are close, and which is ahead varies
# with the seed and the budget, so those are printed, not claimed. Mode dropping, the GAN's
# failure that coverage measures, is lesson 6's subject, counted there on 2-D data where the
# modes are known.

# %%
judged = {name: image_metrics(images, reference_n=1000)
          for name, images in (("real test digits", real), ("VAE", vae_samples), ("GAN", gan_samples))}
rows = [("MNIST score (higher is better)", "mnist_score", "{:.2f}"),
        ("Fréchet distance (lower is better)", "frechet_distance", "{:.0f}"),
        ("precision", "precision", "{:.2f}"), ("recall", "recall", "{:.2f}"),
        ("digits present", "classes_present", "{:d}"), ("class KL (0: balanced)", "class_kl", "{:.3f}")]
print(f"{'':36s}" + "".join(f"{name:>18s}" for name in judged))
for label, key, form in rows:
    print(f"{label:36s}" + "".join(f"{form.format(m[key]):>18s}" for m in judged.values()))
v, g = judged["VAE"], judged["GAN"]
assert judged["real test digits"]["mnist_score"] > 9 and judged["real test digits"]["classes_present"] == 10
assert v["classes_present"] == g["classes_present"] == 10
assert g["frechet_distance"] < 0.9 * v["frechet_distance"]

# %% [markdown]
# ## 4. A likelihood, which only the VAE has
#
# A VAE defines a density, $p_\theta(x) = \int p_\theta(x \mid z)\, p(z)\, dz$, and bounds it
# from below: it can say how likely a test image is. Its importance-weighted estimate
# (`importance_weighted_nll`, lesson 7) gives 200 test digits a $-\log p(x)$ below their
# $-$ELBO; the same digits with their pixels shuffled (the same grey levels, no strokes) are more
# than 150 nats less likely on average: the model knows what a digit looks like, not only which grey
# levels occur. (On grey pixels a Bernoulli likelihood is a cross-entropy rather than a true
# likelihood, so these numbers compare images, not papers: docs/vae.md.)
#
# A GAN gives no such number. G maps 100 numbers to 784 pixels, so its samples lie on a surface
# of at most 100 dimensions in the 784 of the pixel space: a set of no volume there, so its
# distribution has no density to evaluate at a test digit. It can be judged only through its
# samples, as steps 2 and 3 judged both.

# %%
test_images, _ = data.mnist("test", scale="unit")
digits = test_images[:200]
rng = np.random.default_rng(opts.seed)
shuffled = np.stack([rng.permutation(image.ravel()).reshape(image.shape) for image in digits])
nll = {k: importance_weighted_nll(vae.vae, mg.tensor(digits), k=k).mean() for k in (1, 100)}
nll_shuffled = importance_weighted_nll(vae.vae, mg.tensor(shuffled), k=100).mean()
print(f"-log p(x) of 200 test digits: {nll[100]:.1f} nats (k = 100; -ELBO, k = 1: {nll[1]:.1f}); "
      f"the same digits shuffled: {nll_shuffled:.1f}")
assert nll[100] < nll[1] and nll_shuffled > nll[100] + 150

# %% [markdown]
# ## 5. What the losses say while training
#
# The VAE's loss is its negative ELBO on each batch: a bound on $-\log p(x)$, so its fall is the
# model's progress; from the first quarter of the run to the last it falls by more than a
# quarter. A GAN's two losses measure the game, not the samples. As G improves, D tells its
# samples from real digits less surely: its mean outputs on the two, $D(x)$ and $D(G(z))$, draw
# together (their gap is smaller over the last quarter than over the first), and D's loss
# (penalty included) *rises*, by more than 0.1, on its way to where a D that cannot tell the two
# apart sits, $D = 1/2$ and a cross-entropy of $\log 4$ (lesson 3). A falling D loss would mean
# D winning, not G. That is why a GAN is judged by its samples, and its runs watched through
# their sample grids and metrics (docs/training.md, "Watching D and G"). How
# unstable GAN training can be, over longer runs and other losses, is lesson 6's subject,
# measured in docs/benchmarks.md.

# %%
quarter = STEPS // 4
vae_loss = [r["loss"] for r in vae_rows]
g_loss, d_loss = [r["loss_g"] for r in gan_rows], [r["loss_d"] for r in gan_rows]
fall = 1 - np.mean(vae_loss[-quarter:]) / np.mean(vae_loss[:quarter])
d_first, d_last = np.mean(d_loss[:quarter]), np.mean(d_loss[-quarter:])
gap = [r["d_real"] - r["d_fake"] for r in gan_rows]  # D(x) - D(G(z)), D's mean outputs, each step
print(f"first quarter to last: the VAE's loss falls by {100 * fall:.0f}%; D's loss goes from {d_first:.3f} to "
      f"{d_last:.3f}, and D(x) - D(G(z)) from {np.mean(gap[:quarter]):.3f} to {np.mean(gap[-quarter:]):.3f}")
assert fall > 0.25 and d_last > d_first + 0.1 and np.mean(gap[-quarter:]) < np.mean(gap[:quarter])

fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.4))
steps = np.arange(1, STEPS + 1)
plotting.draw_curves(left, steps, {"VAE: -ELBO per image": vae_loss})
left.set_ylabel("nats per image")
left.set_ylim(top=300)
plotting.draw_curves(right, steps, {"GAN: D's loss": d_loss, "GAN: G's loss": g_loss,
                                    **{name: [r[key] for r in gan_rows] for name, key in (("D(x)", "d_real"),
                                                                                          ("D(G(z))", "d_fake"))}})
right.set_ylabel("loss; D's mean output")
for ax in (left, right):
    ax.set_xlabel("step")
opts.save(fig, "losses.png")

# %% [markdown]
# ## Longer runs, and what next
#
# These are small networks after a minute of CPU or less. docs/vae.md trains a larger pair for
# 300 s each, `dcgan` against `vae-conv` (a VAE built of the same convolutional networks), and
# scores them the same way: [a GAN and a VAE, side by side](../docs/vae.md#a-gan-and-a-vae-side-by-side).
# There the GAN leads on the MNIST score and the Fréchet distance, its samples have fewer grey
# pixels than the VAE's, and the two are about even on precision and recall.
# `benchmarks/gan_vs_vae.py` reruns it.
#
# This is the last lesson. The exercises are in [`exercises/`](../exercises/README.md)
# (`minigan exercises list`); [docs/training.md](../docs/training.md) and
# [docs/vae.md](../docs/vae.md) train both kinds of model for longer.
