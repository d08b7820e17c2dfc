# %% [markdown]
# # Lesson 9: article 003's MLP GAN, trained with its label bugs and without, and G's gradient seen in 2-D
#
# Article 003 presents 梯度共轭方向 ("gradient conjugate direction"), which it expands in English as
# Gradient Ascent in the Cotangent Space (GAC): generate a batch, update D, take D's gradient at the
# generated samples, and ascend it to improve G (A003-1, A003-2 in [the formula
# audit](../docs/formulas.md)). No such method exists: what it describes is an ordinary GAN, and its
# own $L(G) = -\mathbb{E}_z[\log D(G(z))]$ (A003-7) is the standard non-saturating loss. Its
# networks are two small MLPs (A003-8, A003-9: minigan's `mlp` model) trained with Adam (A003-11).
# Its code, though, labels every sample "real" for D (A003-14), labels G's samples "fake" for G
# (A003-15), and passes probabilities where logits belong, so that the sigmoid is applied twice
# (A003-10). Lesson 4 showed what each does to one number; here they train.
#
# 1. The MLP GAN trained on MNIST with the article's code (`--loss article003`, the audit's functions
#    in `minigan.gan.articles`) and with the labels corrected (`--loss ns`): what D learns.
# 2. What G draws after each, judged by minigan's digit classifier.
# 3. On 2-D data: a GAN in training as an animation, D's field and G's push on its samples.
# 4. "Gradient ascent along the discriminator" (A003-5): D's gradient field, and where one step
#    of G moves the samples.
# 5. G's gradient is a vector-Jacobian product of that field, checked against minigan's backward;
#    and why ascending $D$ rather than $\log D$ (A003-5 against A003-7) fades where D rejects samples.
#
# Step through it with `minigan lesson 9`, or run it with `python lessons/09_article003_mlp_gan.py`
# (a minute or so on two CPU cores; `--fast` trains the corrected GAN 800 steps instead of 3,000 and
# the 2-D one 400 instead of 1,500). It trains from `--seed N` (default 0); other seeds give other
# numbers and the same checks pass. Figures go to `lesson_figures/09_article003_mlp_gan/`.

# %%
import os

# Small networks run faster on one BLAS thread (docs/benchmarks.md). NumPy reads this as it loads, so
# it counts when the lesson runs as a script or in a fresh kernel; `minigan lesson` has loaded NumPy
# already: there, set it in the shell (OPENBLAS_NUM_THREADS=1 minigan lesson 9).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import copy

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

import minigan as mg
from minigan import data, lessons, metrics, optim, plotting
from minigan.classifier import classify
from minigan.evaluation import digit_samples
from minigan.gan import articles
from minigan.gan.training import TrainConfig, Trainer

opts = lessons.options("09_article003_mlp_gan", seed=0)
ARTICLE_STEPS = 300  # article 003's run: by about step 150 its G has no gradient left (step 1 shows it)
MNIST_STEPS = 800 if opts.fast else 3000  # the corrected run
TOY_STEPS = 400 if opts.fast else 1500  # the 2-D run
print(f"seed {opts.seed}{', fast' if opts.fast else ''}; figures in {opts.out}/")


def train(name, watch=None, **options):
    """A run into a folder beside the figures, with the lesson's seed and learning rate, ``watch``
    looking on (`Run.train`)."""
    config = TrainConfig(out=opts.run_folder(name), lr=1e-3, seed=opts.seed, sample_every=10**9,
                         checkpoint_every=10**9, progress=False, **options)
    run = Trainer(config)
    run.train(watch)
    return run


def logged(run):
    """The run's losses.csv as columns: step, loss_d, loss_g, d_real, d_fake, grad_norm_d, grad_norm_g."""
    return dict(zip(("step", *run.columns), np.array(run.history).T))


# %% [markdown]
# ## 1. The same GAN, trained with the article's labels and with the right ones
#
# Both runs train minigan's `mlp` (G: 100 → 128 ReLU → 784 sigmoid; D: 784 → 128 ReLU → 1, ending at
# the logit: A003-9's sigmoid lives in the losses) with the same seed, batches and Adam's
# $\beta_1 = 0.5$. The learning rate is 1e-3, five times the article's 2e-4 (A003-11), so that the
# corrected GAN draws digits within the lesson's budget. What differs is the loss:
#
# - `--loss article003`: D's loss `article003_discriminator_loss` (every sample labelled 1, D's
#   probabilities read as logits) and G's `article003_generator_loss` (label 0), as the article's code
#   computes them;
# - `--loss ns`: reals labelled 1 and fakes 0 for D (`discriminator_loss`), label 1 for G
#   (`generator_loss_nonsaturating`, the article's own $L(G)$), on D's logits.
#
# With the article's labels D learns to call everything real: at the end its mean output is above
# 0.99 on the data and on G's samples alike. Its loss then sits at the floor the doubled sigmoid
# gives it, $\mathrm{softplus}(-1) = \log(1 + e^{-1}) \approx 0.3133$ (A003-10): its outputs have
# reached 1 as probabilities, and read as logits they cannot go higher. G, told that its samples
# should look fake, has nothing left to learn from: once D's probability on its samples rounds to 1,
# the gradient of its loss, $\sigma(p)\,p(1 - p)$ per logit, is exactly 0, and from then on
# (over the last 150 of the 300 steps) G's weights get no gradient at all. That is why the run stops at 300
# steps: more would change nothing in G. The corrected GAN's D tells the two apart: over the last
# tenth of its run, its mean output is above 1/2 on the data and below 1/2 on G's samples.

# %%
article = train("article003", model="mlp", loss="article003", steps=ARTICLE_STEPS)
corrected = train("corrected", model="mlp", loss="ns", steps=MNIST_STEPS)
print("                       (last tenth of each run)   D(x)  D(G(z))  D's loss   |grad of G's weights|")
for name, run in (("article 003's labels", article), ("corrected, NS loss", corrected)):
    log, tenth = logged(run), len(run.history) // 10
    print(f"{name:22s} {len(run.history):5d} steps  {log['d_real'][-tenth:].mean():15.4f}"
          f"{log['d_fake'][-tenth:].mean():9.4f}{log['loss_d'][-tenth:].mean():10.4f}"
          f"{log['grad_norm_g'][-tenth:].mean():14.2e}")
log = logged(article)
floor = np.log1p(np.exp(-1.0))
assert log["d_real"][-30:].min() > 0.99 and log["d_fake"][-30:].min() > 0.99, "D did not accept everything"
assert abs(log["loss_d"][-30:].mean() - floor) < 1e-3, "D's loss is not at softplus(-1)"
assert log["grad_norm_g"][-ARTICLE_STEPS // 2:].max() == 0, "G still had a gradient in the second half"
log = logged(corrected)
tenth = MNIST_STEPS // 10
assert log["d_fake"][-tenth:].mean() < 0.5 < log["d_real"][-tenth:].mean(), "D does not tell real from generated"

# %% [markdown]
# ## 2. What G draws: the digit classifier's verdict
#
# 500 samples of each G, read by minigan's MNIST classifier (lesson 5). The article's G still draws
# grey fuzz (its mean pixel is within 0.2 of mid-grey, 0 on the classifier's [-1, 1] scale), and the
# classifier gives every one of its samples the same digit: one class present, an MNIST score under
# 1.2 (1 is the least there is). The corrected G draws digits of at least 5 classes, with a score
# above 1.8: far from what GANs reach on MNIST (docs/training.md: the convolutional `dcgan`, 7.8 after
# 4 epochs), but digits.

# %%
judged = {}
for name, run in (("article 003's labels", article), ("corrected, NS loss", corrected)):
    samples = digit_samples(run.gan, 500, seed=opts.seed)  # in [-1, 1], as the classifier reads them
    probs, _ = classify(samples)
    judged[name] = samples, metrics.mnist_score(probs), metrics.class_statistics(probs)["classes_present"]
    print(f"{name:22s} MNIST score {judged[name][1]:.2f}, classes present {judged[name][2]}, "
          f"mean pixel {samples.mean():+.2f}")
(article_samples, article_score, article_classes), (_, score, classes) = judged.values()
assert abs(article_samples.mean()) < 0.2 and article_score < 1.2 and article_classes == 1
assert score > 1.8 and classes >= 5

fig, axes = plt.subplots(1, 2, figsize=(8, 4.8))
for ax, (name, (samples, score_, _)) in zip(axes, judged.items()):
    ax.imshow(plotting.image_grid(samples[:64]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(f"{name}\nMNIST score {score_:.2f}", fontsize=10)
    ax.axis("off")
opts.save(fig, "samples.png")

# %% [markdown]
# ## 3. A GAN in training, seen in 2-D
#
# Images have 784 dimensions; 2-D points can be drawn whole. A small GAN (minigan's `toy`) trains on
# eight Gaussians in a ring (`ring8`, lesson 6) with the corrected losses, and every
# $1/20$ of the run `plotting.FrameRecorder` records what it looks like: G's samples of a fixed batch of
# 500 noise vectors, D's probability that a point is real over the plane (shaded, green for "real"),
# and at 64 of the samples an arrow: minus the gradient of G's loss for that sample,
# $-\nabla_x \ell_G$, the way G's step pushes it. `plotting.save_training_animation` makes them a GIF,
# the view that GAN Lab (Kahng et al., 2018) made popular.
#
# An untrained D knows nothing: in the first frame its probability is within 0.1 of 1/2 everywhere
# in view. By the last, the samples have spread from a blob near the centre out to the ring (their
# mean distance from the centre is within 0.2 of the ring's radius, 1), and D scores the real data
# higher than G's samples.

# %%
Z = np.random.default_rng(opts.seed).standard_normal((500, 2)).astype(np.float32)  # the same noise in every frame
WINDOW = (np.zeros(2), 1.6)  # the square every frame shows: centre, half-width


film = plotting.FrameRecorder(TOY_STEPS // 20, Z, WINDOW)  # a frame before the first step and every 1/20 of the run
toy = train("toy", watch=film, model="toy", data="ring8", loss="ns", steps=TOY_STEPS, batch_size=256)
animation = opts.figure("training.gif")
plotting.save_training_animation(film.frames, animation, "ring8", title="toy / ns")
with Image.open(animation) as gif:
    print(f"{animation}: {gif.n_frames} frames, steps {film.frames[0].step} to {film.frames[-1].step}")
    assert gif.n_frames == len(film.frames) == 21
first, last = film.frames[0], film.frames[-1]
radius = {f.step: np.linalg.norm(f.samples, axis=1).mean() for f in (first, last)}
G, D = toy.G, toy.D
with mg.no_grad():
    d_data = mg.sigmoid(D(mg.tensor(data.ring8(2500, rng=np.random.default_rng(opts.seed))))).numpy().mean()
    d_samples = mg.sigmoid(D(mg.tensor(last.samples))).numpy().mean()
print(f"first frame: D(x) from {first.field.min():.3f} to {first.field.max():.3f}; "
      f"mean distance of the samples from the centre {radius[first.step]:.2f}, at the last {radius[last.step]:.2f}")
print(f"last frame: mean D on the data {d_data:.3f}, on G's samples {d_samples:.3f}")
assert np.abs(first.field - 0.5).max() < 0.1
assert radius[first.step] < 0.5 and abs(radius[last.step] - 1) < 0.2
assert d_data > d_samples
lessons.show(animation)

# %% [markdown]
# ## 4. "Gradient ascent along the discriminator": D's field, and one step of G
#
# Article 003's G ascends $\mathbb{E}_z[D(G(z))]$ (its $\nabla_G = \mathbb{E}_z[\nabla_G D(G(z))]$,
# A003-5; `articles.article003_generator_gradient_loss` is the loss whose descent is that ascent). By
# the chain rule, $\nabla_G D(G(z)) = J_G(z)^\top \nabla_x D(x)\big|_{x = G(z)}$: what D contributes is
# its gradient in data space, $\nabla_x D(x)$, a field of arrows over the plane pointing to where D
# says "more real". Below, that field (grey arrows, computed with `mg.grad` on a grid) at the end of
# the 2-D run, and one small plain gradient step of G on the article's loss (black arrows: where
# each sample moved, magnified; no sample moves as far as 0.05).
#
# The step does what it says: D's mean output on the samples rises, and most samples (more than
# half) move uphill, their move making an acute angle with the field where they stand. Not all of
# them, and none need move exactly along its own arrow: G's weights are shared by all the samples, so
# one step moves each sample by its Jacobian times the *sum* of every sample's push (step 5). At
# least one sample's move is more than 8 degrees off its arrow.

# %%
def d_and_its_gradient(points):
    """D(x), the probability, and its gradient in x, at the rows of ``points``."""
    x = mg.tensor(points, requires_grad=True)
    probability = mg.sigmoid(D(x))
    (gradient,) = mg.grad(probability.sum(), x)  # each row's D depends on its own x only
    return probability.numpy(), gradient.numpy()


with mg.no_grad():
    before = G(mg.tensor(Z)).numpy()
d_before, field_at_samples = d_and_its_gradient(before)
stepped = copy.deepcopy(G)  # the toy run's G stays as it is, for step 5
sgd = optim.SGD(stepped.parameters(), lr=3e-4)  # small enough that the step is first order
sgd.zero_grad()
articles.article003_generator_gradient_loss(D(stepped(mg.tensor(Z)))).backward()
sgd.step()
with mg.no_grad():
    after = stepped(mg.tensor(Z)).numpy()
d_after, _ = d_and_its_gradient(after)
move = after - before
cosine = (move * field_at_samples).sum(1) / (np.linalg.norm(move, axis=1) * np.linalg.norm(field_at_samples, axis=1))
print(f"mean D(G(z)) before the step {d_before.mean():.4f}, after {d_after.mean():.4f}")
print(f"samples that moved uphill (cosine with the field > 0): {(cosine > 0).mean():.0%}; "
      f"mean cosine {cosine.mean():.2f}, smallest {cosine.min():.2f}")
assert np.linalg.norm(move, axis=1).max() < 0.05, "not a small step"
assert d_after.mean() > d_before.mean() and (cosine > 0).mean() > 0.5 and cosine.min() < np.cos(np.radians(8))

u, v = np.meshgrid(*[np.linspace(-WINDOW[1], WINDOW[1], 17)] * 2)
d_grid, field = d_and_its_gradient(np.stack([u.ravel(), v.ravel()], 1).astype(np.float32))
fig, ax = plt.subplots(figsize=(5.6, 6))
ax.contourf(u, v, d_grid.reshape(u.shape), levels=np.linspace(0, 1, 11), cmap="PiYG", alpha=0.55, zorder=0)
plotting.draw_points(ax, before, "ring8", window=WINDOW)
ax.quiver(u, v, field[:, 0], field[:, 1], color="0.45", angles="xy", zorder=4)
shown, magnified = slice(0, 500, 8), 0.2 / np.linalg.norm(move, axis=1).max()  # the longest move drawn 0.2 long
ax.quiver(before[shown, 0], before[shown, 1], move[shown, 0], move[shown, 1], angles="xy", scale_units="xy",
          scale=1 / magnified, width=0.004, zorder=5)
ax.set_title(f"grey: $\\nabla_x D(x)$; black: one step of G ascending D, moves x{magnified:.0f}", fontsize=9)
opts.save(fig, "gradient_ascent.png")

# %% [markdown]
# ## 5. G's gradient is a vector-Jacobian product of D's field
#
# For a batch of $N$ samples $x_i = G(z_i)$ and the article's loss
# $L = -\frac1N \sum_i D(x_i)$, the chain rule splits $\partial L / \partial \theta$ (G's weights
# $\theta$) in two:
#
# $$\frac{\partial L}{\partial \theta} = \sum_i J_G(z_i)^\top \frac{\partial L}{\partial x_i},
#   \qquad \frac{\partial L}{\partial x_i} = -\frac1N \nabla_x D(x_i),$$
#
# with $J_G(z_i)$, the $2 \times |\theta|$ Jacobian of G's output at $z_i$. Backpropagation computes
# exactly this, without ever forming a Jacobian: it carries the vector $\partial L / \partial x_i$
# back through G (a vector-Jacobian product). Below, for 32 samples: minigan's backward through G and
# D at once, against the two stages by hand: the field at the samples (`mg.grad` of D), and each
# $J_G(z_i)$ row by row (`mg.grad` of each output coordinate), multiplied out in NumPy. They agree to
# float32 rounding.
#
# The same split shows what is wrong with ascending $D$ rather than $\log D$ (A003-5 against the
# article's own $L(G)$, A003-7). The non-saturating loss's field is
# $\nabla_x \log D(x) = \nabla_x D(x) / D(x)$: the same directions, each divided by $D(x)$. Where D
# confidently rejects a sample, $D(x)$ is small and the article's push on it is that many times
# weaker: it fades just where G most needs to move.

# %%
n = 32
z = mg.tensor(Z[:n])
weights = list(G.parameters())
by_backward = mg.grad(articles.article003_generator_gradient_loss(D(G(z))), weights)

x = mg.tensor(before[:n], requires_grad=True)  # G's samples as a leaf: D's side of the chain rule alone
(dl_dx,) = mg.grad(articles.article003_generator_gradient_loss(D(x)), x)
assert np.allclose(dl_dx.numpy(), -field_at_samples[:n] / n, rtol=1e-5, atol=1e-9)  # -1/N times D's field
by_hand = [np.zeros(w.shape) for w in weights]
for i in range(n):
    for k in range(2):  # row k of J_G(z_i): the gradient of coordinate k of G(z_i) in every weight
        row = mg.grad(G(z[i:i + 1])[0, k], weights)
        for total, part in zip(by_hand, row):
            total += part.numpy() * dl_dx.numpy()[i, k]
worst = max(np.abs(a.numpy() - b).max() / np.abs(b).max() for a, b in zip(by_backward, by_hand))
print(f"{len(weights)} weight tensors, {sum(w.size for w in by_hand)} weights: backward against "
      f"sum_i J_G(z_i)^T dL/dx_i, largest difference {worst:.1e} of the largest entry")
assert worst < 1e-4

x = mg.tensor(before, requires_grad=True)
(log_field,) = mg.grad(mg.logsigmoid(D(x)).sum(), x)  # the non-saturating loss's field, grad log D
assert np.allclose(log_field.numpy(), field_at_samples / d_before[:, None], rtol=1e-3, atol=1e-6)
rejected = d_before <= np.quantile(d_before, 0.25)
print(f"the quarter of samples D rejects most (D(G(z)) <= {d_before[rejected].max():.3f}): the article's push on "
      f"them is {d_before[rejected].mean():.3f} times the non-saturating loss's, on average")

# %% [markdown]
# ## What next
#
# Lesson 10 trains article 000's AT-GAN. To train this lesson's GANs yourself:
# `minigan train --model mlp --loss article003 --lr 1e-3 --steps 300` (the article's code), and
# `--loss ns --steps 3000` for the corrected one; each run's folder holds its losses.csv, losses.png
# and samples.png, as this lesson's do under `lesson_figures/09_article003_mlp_gan/`.
