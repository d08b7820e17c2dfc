# %% [markdown]
# # Lesson 10: article 000's AT-GAN: its networks, its training loop, and its two wrong losses trained
#
# Article 000 presents "AT-GANs", a GAN with a "gradient conjugate direction" (梯度共轭方向, AT)
# and a "gradient conjugate maximisation" (梯度共轭最大化, GMM). What it computes is a plain GAN
# (A000-1): its "GMM" is the minimax value $V(D, G)$ (A000-6, lesson 4, step 1), its "AT" a
# generator "gradient" that adds two gradients which pull opposite ways (A000-5). Lesson 4 (step 2)
# showed, per logit, that this sum is the saturating loss's gradient minus the non-saturating
# one's. This lesson builds the article's networks from its code (minigan's `atgan`), checks them
# against its text, writes its training loop in minigan, and trains its two wrong forms (the
# summed "gradient", and the one loss that its code gives both players) beside the corrected loss,
# the non-saturating GAN of lesson 3. Each verdict is a row of
# [the formula audit](../docs/formulas.md); the lesson names the row rather than restating it.
#
# Step through it with `minigan lesson 10`, or run it with `python lessons/10_article000_atgan.py`
# (about two minutes on two CPU cores; `--fast`, 24 training steps of batches of 16 instead of
# 150 of 32, about 20 s). The networks are big for a CPU (G has 2 million weights, D 4.4
# million), so the runs are short: what they show happens in the first steps. It trains from
# `--seed N` (default 0): another seed gives other numbers, and the same checks pass (tried with
# seeds 0 to 4). Figures go to `lesson_figures/10_article000_atgan/`.

# %%
import os

# Small batches through big matrices run faster on one BLAS thread when other work keeps the cores
# busy (docs/benchmarks.md). NumPy reads this as it loads, so it counts when the lesson runs as a
# script or in a fresh kernel; `minigan lesson` has loaded NumPy already: there, set it in the
# shell (OPENBLAS_NUM_THREADS=1 minigan lesson 10).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
from minigan import data, gan, lessons, nn, ops, optim, plotting
from minigan.evaluation import generate
from minigan.gan import models, recipes
from minigan.gan.training import TrainConfig, Trainer
from minigan.nn import functional as F
from minigan.training import global_norm

opts = lessons.options("10_article000_atgan", seed=0)
mg.manual_seed(opts.seed)
STEPS, BATCH = (24, 16) if opts.fast else (150, 32)  # training steps of each run in step 5, and its batch size
print(f"seed {opts.seed}{', fast' if opts.fast else ''}; figures in {opts.out}/")


def trace(net: nn.Sequential, x: mg.Tensor) -> list[tuple[int, ...]]:
    """Run ``x`` through ``net`` a layer at a time, printing each layer and the shape it outputs;
    returns the shapes, the input's first."""
    shapes = [x.shape]
    print(f"{'input':52s} {x.shape}")
    with mg.no_grad():
        for layer in net:
            x = layer(x)
            shapes.append(x.shape)
            print(f"{layer!r:52.52s} {x.shape}")
    return shapes


# %% [markdown]
# ## 1. The networks, layer by layer, against the article's text
#
# The article's code gives the generator three dense layers, 100 → 1024 → 1024 → 784, LeakyReLU
# between them and one `tf.tanh` at the end (A000-8); its text says convolutions and transposed
# convolutions (A000-2), which the code has none of. The tanh puts every pixel in $(-1, 1)$,
# not the $[0, 1]$ the text says (A000-3): about half of an untrained G's pixels are negative. So the
# data is scaled to $[-1, 1]$ to match, which is how `data.mnist` loads it.
#
# Its discriminator is five 5x5 convolutions of stride 2, 32 to 512 channels, then one dense
# layer to a single number (A000-10): 'same' padding takes the 28x28 image to 14, 7, 4, 2 and 1
# pixels, and minigan's padding 2 gives the same sizes (lesson 2 computes a convolution's output
# size). That number is a *logit*: the code has no sigmoid at the end, though the text says so
# (A000-4); the sigmoid is inside the loss, where it is numerically safe, and minigan's D returns
# the logit too.

# %%
atgan = models.build("atgan")
G, D = atgan.generator, atgan.discriminator
print("G:")
g_shapes = trace(G, mg.randn(4, atgan.z_dim))
print("D:")
d_shapes = trace(D, mg.randn(4, 1, 28, 28))

dense = [layer for layer in G if isinstance(layer, nn.Linear)]
assert [(layer.in_features, layer.out_features) for layer in dense] == [(100, 1024), (1024, 1024), (1024, 784)]
assert not any(isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)) for layer in G.modules())  # A000-2: no convolution
assert [type(layer).__name__ for layer in G].count("Tanh") == 1 and isinstance(G[-2], nn.Tanh)  # one tanh, last
assert g_shapes[-1] == (4, 1, 28, 28)
weights_g = sum(p.numpy().size for p in G.parameters())
weights_d = sum(p.numpy().size for p in D.parameters())
print(f"weights: G {weights_g:,}, D {weights_d:,}")
assert weights_g == (100 + 1) * 1024 + (1024 + 1) * 1024 + (1024 + 1) * 784
assert round(weights_g / 1e6, 1) == 2.0 and round(weights_d / 1e6, 1) == 4.4

convolved = [shape for layer, shape in zip(D, d_shapes[1:]) if isinstance(layer, nn.Conv2d)]
assert [shape[1:] for shape in convolved] == [(32, 14, 14), (64, 7, 7), (128, 4, 4), (256, 2, 2), (512, 1, 1)]
assert d_shapes[-1] == (4,)  # one number per image ...
assert not any(isinstance(layer, nn.Sigmoid) for layer in D.modules())  # ... a logit: no sigmoid (A000-4)

with mg.no_grad():
    pixels = G(mg.randn(256, atgan.z_dim)).numpy()
images, _ = data.mnist("train")
print(f"an untrained G's pixels: from {pixels.min():.3f} to {pixels.max():.3f}, {100 * (pixels < 0).mean():.0f}% "
      f"negative; MNIST as loaded: from {images.min()} to {images.max()}")
assert np.abs(pixels).max() < 1 and 0.3 < (pixels < 0).mean() < 0.7  # tanh's (-1, 1), not [0, 1] (A000-3)
assert images.min() == -1 and images.max() == 1

# %% [markdown]
# ## 2. Two lines of the article's code that stop it before it computes anything
#
# Its generator ends with `tf.reshape(output, [-1, 28, 28])` (A000-9): images without a channel
# axis. A convolution needs one (TensorFlow's (N, 28, 28, 1), minigan's (N, 1, 28, 28)), so the
# article's D cannot read its own G's output. minigan's `atgan` ends G with
# `Unflatten(1, (1, 28, 28))` instead: below, G without that layer, reshaped as the article does.
#
# Its `train` assigns `adversarial_loss = adversarial_loss(logits, labels)` (A000-13). A name
# assigned anywhere in a Python function is local to all of it, so the call on the right looks up
# a local that has no value yet, and Python raises UnboundLocalError: the loss function the line
# means to call is never reached. Below, its `adversarial_loss`, with minigan's binary
# cross-entropy on logits as the body (its `gan_loss` has the same one, A000-11), and its `train`,
# cut to that line. The audit row lists two more faults of the same code that this lesson does not
# run: `optimizer` is never defined, and it mixes TensorFlow 1 and 2.

# %%
with mg.no_grad():
    flat = G[:-1](mg.randn(4, atgan.z_dim)).reshape(-1, 28, 28)  # the article's G: (N, 28, 28)
try:
    D(flat)
    raise AssertionError("D read images without a channel axis")
except ValueError as error:
    print(f"D(G(z)) with G's output of shape {flat.shape}: ValueError: {error}")


def adversarial_loss(logits, true):  # the article's "AT" loss
    return F.binary_cross_entropy_with_logits(logits, true)


def train(logits, labels):  # the article's train, cut to the line that fails
    adversarial_loss = adversarial_loss(logits, labels)  # noqa: F823 (the article's line, run to see it fail)
    return adversarial_loss


try:
    train(mg.zeros(4), mg.ones(4))
    raise AssertionError("the article's train ran")
except UnboundLocalError as error:
    print(f"the article's train: UnboundLocalError: {error}")
print(f"the loss it meant to call, on logits 0 and labels 1: {adversarial_loss(mg.zeros(4), mg.ones(4)).item():.4f}"
      f" = log 2")
assert np.isclose(adversarial_loss(mg.zeros(4), mg.ones(4)).item(), np.log(2))

# %% [markdown]
# ## 3. The article's training loop, written in minigan
#
# The article's steps (A000-7) are the usual alternation: train D on real and generated images,
# then G, and repeat. Its code (A000-12) does something else. With the faults of step 2 mended (and
# an optimizer defined) and nothing else changed, one call of its `train` is:
#
# 1. `generated_images = generator(z)`, `logits = discriminator(generated_images)`: D sees
#    generated images only; `train` takes `images` and never uses them;
# 2. one loss, the binary cross-entropy of those logits against `labels`, which the caller passes
#    (the article does not say which), is both G's loss and D's (`disc_loss = adversarial_loss`);
# 3. its gradient for G's weights and its gradient for D's weights are both *descended*, by one
#    optimizer.
#
# That is `gan.articles.article000_shared_loss`, differentiated for both networks; the trainer
# below is the article's `train` line for line (Adam, at the learning rate and betas of minigan's
# other runs: the article gives none). The corrected step is minigan's own `Trainer.train_step`
# (`minigan/gan/training.py`): D descends `discriminator_loss` on a real and a generated batch,
# reals labelled 1 and fakes 0; then G descends the non-saturating `generator_loss_nonsaturating`;
# each with its own optimizer. A third run keeps that D and gives G the article's summed "gradient"
# (A000-5), `gan.articles.article000_summed_generator_loss`, to see that fault alone.

# %%
class ArticleTrainer(Trainer):
    """Article 000's ``train``, step for step: one loss on generated images, descended by G and D."""

    def __init__(self, config: TrainConfig, labels: float):
        super().__init__(config)  # the same networks, from the same seed, and the same real batches as the others
        self.labels = labels  # the article leaves them to its caller
        self.both = [*self.G.parameters(), *self.D.parameters()]
        self.optimizer = optim.Adam(self.both, lr=self.cfg.lr, betas=self.cfg.betas)  # one optimizer for both

    def train_step(self) -> dict[str, float]:
        real, _ = self.next_batch()  # the article's `images`: never trained on; only watched, to record D(x)
        generated_images = self.G(mg.randn(self.batch_size, self.gan.z_dim))
        loss = gan.articles.article000_shared_loss(self.D, generated_images, self.labels)  # = disc_loss
        grads = mg.grad(loss, self.both)  # gen_tape.gradient(loss, gen_vars), disc_tape.gradient(loss, disc_vars)
        with mg.no_grad():  # what D says before the step, as the Trainer records it
            d_real, d_fake = (ops.sigmoid(self.D(x)).mean().item() for x in (real, generated_images))
        for p, g in zip(self.both, grads):
            p.grad = g
        self.optimizer.step()  # both apply_gradients: each network descends the one loss
        self.end_step()
        g_grads = grads[:len(list(self.G.parameters()))]
        return {"loss": loss.item(), "d_real": d_real, "d_fake": d_fake,
                "grad_norm_g": global_norm([g.data for g in g_grads])}


def config(name: str) -> TrainConfig:
    return TrainConfig(model="atgan", loss="ns", out=str(opts.out / "runs" / name), steps=STEPS, batch_size=BATCH,
                       seed=opts.seed, sample_every=10**9, checkpoint_every=10**9, progress=False)


corrected, summed = Trainer(config("corrected")), Trainer(config("summed"))
summed.recipe = dataclasses.replace(summed.recipe,  # the corrected D's loss; G's, the article's sum
                                    g_loss=recipes.of_fake_scores(gan.articles.article000_summed_generator_loss))
runs = {"corrected (NS GAN)": corrected, "A000-5: G's summed gradient": summed,
        "A000-12: shared loss, labels 1": ArticleTrainer(config("shared_labels_1"), labels=1.0),
        "A000-12: shared loss, labels 0": ArticleTrainer(config("shared_labels_0"), labels=0.0)}
for run in runs.values():  # every run starts from the same networks, and its loader orders the digits alike
    for net, twin in ((run.G, corrected.G), (run.D, corrected.D)):
        assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(net.parameters(), twin.parameters()))
    assert np.array_equal(run.loader.order(0), corrected.loader.order(0))
before = generate(corrected.gan, 256, seed=opts.seed + 1)  # 256 samples of the untrained G, for step 6
print(f"{len(runs)} runs of {STEPS} steps, batches of {BATCH}: {', '.join(runs)}")

# %% [markdown]
# ## 4. G's gradient at step 0, exactly (A000-5)
#
# Before any training, take the three generator losses of one batch of noise, with the same
# untrained D, and differentiate each for all of G's 2 million weights. Lesson 4 showed, per
# logit, that the summed loss's gradient is the saturating loss's minus the non-saturating one's;
# through G's weights it stays so, weight for weight (the gradient of a difference is the
# difference of the gradients).
#
# Per logit the sum's gradient is $1 - 2D(G(z))$. An untrained D gives every image a logit within
# 0.05 of 0 (its last layer's bias is drawn within $\pm 1/\sqrt{512}$, and its convolutions add
# under 0.01 to it), so $D(G(z)) \approx 1/2$, where the two terms cancel: the summed gradient starts
# at under 5% of the non-saturating one's size. Which way it points depends on the side of 1/2
# that $D(G(z))$ is on: as soon as D rejects the fakes ($D(G(z)) < 1/2$), $1 - 2D$ is positive, and
# descending it lowers $D(G(z))$ further. Step 5 shows where that leads.

# %%
z = mg.randn(64, atgan.z_dim)
with mg.no_grad():
    logits0 = corrected.D(corrected.G(z)).numpy()


def g_gradient(loss_of_logits) -> np.ndarray:
    """d loss / d (all of G's weights) at the untrained networks, as one vector."""
    weights = list(corrected.G.parameters())
    return np.concatenate([g.numpy().ravel() for g in mg.grad(loss_of_logits(corrected.D(corrected.G(z))), weights)])


saturating = g_gradient(gan.generator_loss_saturating)
nonsaturating = g_gradient(gan.generator_loss_nonsaturating)
summed_at_0 = g_gradient(gan.articles.article000_summed_generator_loss)
size = np.linalg.norm(summed_at_0) / np.linalg.norm(nonsaturating)
bias = corrected.D[-2].bias.item()  # the last Linear's
print(f"D's logits of 64 untrained fakes: {logits0.min():+.4f} to {logits0.max():+.4f}; its last bias {bias:+.4f}, "
      f"drawn within +-1/sqrt(512) = +-{1 / np.sqrt(512):.4f}")
gap = np.abs(summed_at_0 - (saturating - nonsaturating)).max()
print(f"over G's {summed_at_0.size:,} weights: max |summed - (saturating - non-saturating)| = {gap:.1e} "
      f"(largest entry {np.abs(nonsaturating).max():.1e})")
print(f"|summed gradient| / |non-saturating gradient| = {size:.4f}")
assert gap < 1e-4 * np.abs(nonsaturating).max()
assert abs(bias) <= 1 / np.sqrt(512) and np.abs(logits0 - bias).max() < 0.01  # the bias, and little else
assert np.abs(logits0).max() < 0.05 and size < 0.05

# %% [markdown]
# ## 5. The four runs, side by side
#
# All four start from the same networks and draw the same real batches. Each step records what D
# says of the real batch, $D(x)$, and of the generated one, $D(G(z))$, and the norm of G's
# gradient.
#
# - **Corrected.** The game goes on: at the end $D(G(z))$ is neither near 0 nor near 1 (its mean
#   over the last 5 steps lies between 0.05 and 0.95), and G's gradient over those steps stays above 0.05.
# - **A000-5, the summed gradient, with a correct D.** D wins outright: over the last 5 steps
#   $D(G(z))$ is below 0.01 and $D(x)$ above 0.99. G helps it: from where each run ended, the
#   cell takes the cosine between the step G's loss takes (minus its gradient in G's weights) and
#   the gradient of D's mean logit of the fakes (the way to "more real"). It is above 0.5 for the
#   corrected G and below -0.5 for the summed one: each step of the summed G makes its fakes look
#   more fake.
# - **A000-12, one loss for both.** With labels 1 D learns to call the fakes real, $D(G(z))$ above
#   0.99; with labels 0 G learns to make them look fake, $D(G(z))$ below 0.01. D has never seen a
#   digit and gives real ones what it gives the fakes (within 0.25). Both players then agree, the
#   loss falls below 0.01, and G's gradient below 0.001: G stops learning anything at all.
#
# The figure draws the three records against the step (`plotting.save_loss_curves`).

# %%
RECORDED = ("d_real", "d_fake", "grad_norm_g")


def header(title: str) -> None:
    print(f"{title:33s} {'D(x)':>7s} {'D(G(z))':>7s} {'|grad G|':>9s}")


def report(name: str, d_real: float, d_fake: float, grad_norm_g: float) -> None:
    print(f"  {name:31s} {d_real:7.3f} {d_fake:7.3f} {grad_norm_g:9.5f}")


records = {name: [] for name in runs}
shown_at = np.linspace(0, STEPS, 5).astype(int)[1:]  # the steps whose records are printed
for step in range(1, STEPS + 1):
    for name, run in runs.items():
        records[name].append(run.train_step())
    if step in shown_at:
        header(f"step {step}")
        for name, rows in records.items():
            report(name, *(rows[-1][key] for key in RECORDED))

last = {name: {key: np.array([row[key] for row in rows[-5:]]) for key in RECORDED} for name, rows in records.items()}
header("mean of the last 5 steps")
for name, means in last.items():
    report(name, *(means[key].mean() for key in RECORDED))
ns, sm, one, zero = last.values()
assert 0.05 < ns["d_fake"].mean() < 0.95 and ns["grad_norm_g"].min() > 0.05
assert sm["d_fake"].mean() < 0.01 and sm["d_real"].mean() > 0.99
assert one["d_fake"].mean() > 0.99 and zero["d_fake"].mean() < 0.01
for name, article in zip(list(runs)[2:], (one, zero)):
    loss = max(row["loss"] for row in records[name][-5:])
    print(f"{name}: the loss over the last 5 steps, at most {loss:.1e}")
    assert loss < 0.01 and abs(article["d_real"][-1] - article["d_fake"][-1]) < 0.25
    assert article["grad_norm_g"].max() < 1e-3


def step_direction(run: Trainer, loss_of_logits) -> float:
    """The cosine, in G's weights, between a descent step on G's loss and the gradient of D's mean
    logit of G's samples: positive when a small step of G makes D call them more real."""
    weights, noise = list(run.G.parameters()), mg.randn(64, run.gan.z_dim)
    descent = np.concatenate([-g.numpy().ravel() for g in mg.grad(loss_of_logits(run.D(run.G(noise))), weights)])
    realer = np.concatenate([g.numpy().ravel() for g in mg.grad(run.D(run.G(noise)).mean(), weights)])
    return float(descent @ realer / np.linalg.norm(descent) / np.linalg.norm(realer))


towards_real = {"corrected (NS GAN)": step_direction(corrected, gan.generator_loss_nonsaturating),
                "A000-5: G's summed gradient": step_direction(summed, gan.articles.article000_summed_generator_loss)}
for name, cosine in towards_real.items():
    print(f"{name}: cosine of G's next step with 'more real' {cosine:+.3f}")
assert towards_real["corrected (NS GAN)"] > 0.5 and towards_real["A000-5: G's summed gradient"] < -0.5

steps = list(range(1, STEPS + 1))
panels = {title: {name: [row[key] for row in rows] for name, rows in records.items()}
          for title, key in (("D(x), on real digits", "d_real"), ("D(G(z)), on generated images", "d_fake"),
                             ("|gradient of G's weights|", "grad_norm_g"))}
plotting.save_loss_curves(steps, panels, opts.figure("runs.png"), title=f"article 000's losses and the corrected one, "
                          f"seed {opts.seed}", log_scale=("|gradient of G's weights|",))
lessons.show(opts.figure("runs.png"))

# %% [markdown]
# ## 6. What each G has learned: the mean image
#
# The figure shows what the runs draw after so few steps. What a GAN learns
# first on MNIST is the mean: most of a digit is black background (the mean pixel of MNIST is
# -0.74), and an untrained G's mean pixel is about 0. Measured as the root-mean-square distance
# between the mean of 256 samples and the mean digit, the corrected G comes closer: to under 0.8
# of where it started, and under 0.75 of the distance of each of the article's Gs; its mean pixel
# falls below -0.25. The article's Gs come no nearer than that: D, the only one
# that could tell them, either never saw a digit or was helped by G to reject the fakes.
#
# The figure: a row for each G (the real digits first): its mean image, then 7 samples.

# %%
mean_digit = images.mean(axis=0)


def distance(samples: np.ndarray) -> float:
    """The root-mean-square distance, per pixel, between the mean of ``samples`` and the mean digit."""
    return float(np.sqrt(((samples.mean(axis=0) - mean_digit) ** 2).mean()))


after = {name: generate(run.gan, 256, seed=opts.seed + 1) for name, run in runs.items()}  # the same noise as `before`
print(f"{'':31s} mean pixel  distance to the mean digit")
print(f"{'MNIST':31s} {mean_digit.mean():+.3f}")
print(f"{'every G, untrained':31s} {before.mean():+.3f}      {distance(before):.3f}")
for name, samples in after.items():
    print(f"{name:31s} {samples.mean():+.3f}      {distance(samples):.3f}")
assert abs(mean_digit.mean() + 0.74) < 0.005 and abs(before.mean()) < 0.05
ns_distance, *article_distances = (distance(samples) for samples in after.values())
assert ns_distance < 0.8 * distance(before) and ns_distance < 0.75 * min(article_distances)
assert after["corrected (NS GAN)"].mean() < -0.25

real_digits = images[np.random.default_rng(opts.seed).choice(len(images), 7, replace=False)]
rows = {"MNIST": np.concatenate([mean_digit[None], real_digits]),
        **{name: np.concatenate([samples.mean(axis=0, keepdims=True), samples[:7]]) for name, samples in after.items()}}
fig, axes = plt.subplots(len(rows), 1, figsize=(6.4, 1.1 * len(rows)))
for ax, (name, row) in zip(axes, rows.items()):
    ax.imshow(plotting.image_grid(row, nrow=8), cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"{name}: the mean image, then 7 samples", fontsize=8)
    ax.axis("off")
opts.save(fig, "samples.png")


# %% [markdown]
# ## What next
#
# Lesson 11 takes article 001, whose "gradient penalty" is WGAN-GP's in its text and something
# else in its code. The generator losses of this lesson are exercise 3.2, in
# [`exercises/03_gan_game.py`](../exercises/03_gan_game.py).
# `minigan exercises check all` grades every exercise; `minigan exercises list` lists them.
