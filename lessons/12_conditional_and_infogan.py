# %% [markdown]
# # Lesson 12: what a label or a code gives the generator: conditional GAN and InfoGAN
#
# Article 002 lists conditional generation (条件生成) among the ways GANs are being improved
# (A002-15 in [the formula audit](../docs/formulas.md)). A conditional GAN (条件生成对抗网络;
# Mirza & Osindero, 2014) hands G and D the class of each sample: ask for a 7, get a 7. (Article
# 001 calls its adversarial loss $L_{cGAN}$, a conditional GAN's name, but gives its networks no
# condition other than zeros: A001-4, A001-10, and lesson 11.) InfoGAN (Chen et al., 2016) has no
# labels: it gives G a code beside its noise, and makes the code mean something with a
# mutual-information term (互信息): a second head on D, Q, must read the code back from the sample.
# minigan has both for MNIST (`cdcgan`, `infogan`), and measures them: *label accuracy*, the share
# of samples that are the class asked for, and *code purity*, how well each code keeps to one
# class. Their MNIST runs take far longer than a lesson has, and are measured in
# [docs/training.md](../docs/training.md); here the same ideas run on lesson 6's eight Gaussians
# in a ring, where a mode's index is the label and a few hundred steps are enough.
#
# Step through it with `minigan lesson 12`, or run it with `python lessons/12_conditional_and_infogan.py`
# (about a minute on two CPU cores; `--fast` trains 300 steps instead of 1,000, in about 20 s). It
# trains four small GANs from a seed, `--seed N` (default 0): another seed gives other numbers,
# and the same checks pass (tried with seeds 0 to 4). Figures go to
# `lesson_figures/12_conditional_and_infogan/`.

# %%
import os

# Small matrices run a little faster on one BLAS thread (docs/benchmarks.md). NumPy reads this as it
# loads, so it counts when the lesson runs as a script or in a fresh kernel; `minigan lesson` has
# loaded NumPy already: there, set it in the shell (OPENBLAS_NUM_THREADS=1 minigan lesson 12).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
from minigan import data, gan, lessons, metrics, tensor
from minigan.evaluation import generate, image_metrics, point_metrics, requested_labels
from minigan.gan.models import build
from minigan.gan.training import TrainConfig, Trainer

opts = lessons.options("12_conditional_and_infogan", seed=0)
RING8 = data.MIXTURES["ring8"]
MODES, STD = RING8.modes(), RING8.std  # the 8 centres; each Gaussian's standard deviation, 0.01
STEPS = 300 if opts.fast else 1000
N = 2400  # samples measured per GAN: each of the 8 labels or codes asked for 300 times
print(f"seed {opts.seed}, {STEPS} steps{', fast' if opts.fast else ''}; figures in {opts.out}/")


def train(name, model, trainer_class=Trainer):
    """Train ``model`` on ring8 for STEPS steps into a run folder beside the figures: lesson 6's
    settling recipe (NS loss with R1, learning rate decayed linearly to 0), without the moving average."""
    config = TrainConfig(model=model, data="ring8", out=opts.run_folder(name), steps=STEPS, batch_size=128, lr=1e-3,
                         loss="ns-r1", r1_gamma=0.1, lr_decay="linear", seed=opts.seed, sample_every=10**9,
                         checkpoint_every=10**9, progress=False)
    trainer = trainer_class(config)
    trainer.train()
    return trainer


def measure(name, sampler):
    """N fresh samples, the labels or codes they were asked for (every value in turn; None for a GAN
    given noise alone), the mode nearest each, and the numbers of lesson 6 plus the share between modes."""
    samples, asked = generate(sampler, N, seed=opts.seed + 1), requested_labels(sampler, N)
    at = RING8.nearest_mode(samples)
    m = point_metrics(samples, "ring8")
    m["between"] = float(np.mean(np.linalg.norm(samples - MODES[at], axis=1) > 10 * STD))
    print(f"{name:34s} high quality {100 * m['high_quality']:5.1f}%, modes covered {m['modes_covered']}/8, "
          f"between modes {100 * m['between']:5.1f}%")
    return samples, asked, at, m


def panel(ax, samples, colours, title):
    """Samples coloured by the label or code they were drawn for (grey: none), over the 8 mode centres."""
    if colours is None:
        ax.scatter(*samples.T, s=2, color="0.5")
    else:
        ax.scatter(*samples.T, s=2, c=colours, cmap="tab10", vmin=0, vmax=9)
    ax.scatter(*MODES.T, marker="x", c="k", s=30, linewidths=1)
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-1.4, 1.4)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)



# %% [markdown]
# ## 1. A conditional GAN on ring8: ask for mode k, get mode k
#
# `toy_cgan` (in `minigan.gan.models`) is lesson 6's toy networks, each also given the index of a
# mode, one-hot: G(z, y) draws a point from 2 noise values and the label y; D(x, y) judges whether
# x is a real point *of mode y*, so a point at the wrong mode is a fake to it. The trainer hands it
# ring8's points with the index of the Gaussian that drew each, as it hands `cdcgan` the digits:
# `RING8.nearest_mode`, since neighbouring centres lie more than 76 std apart and every training
# point lies within 10 std of the centre it is labelled with. From the command line:
# `minigan train --model toy_cgan --data ring8`.
#
# Asked for each of the 8 modes 300 times, its *label accuracy*, the share of samples whose nearest
# mode is the one asked for, is above 95%, where a G that ignored the label would score 1/8. The
# table counts, for each label asked, the samples at each mode. More than 80% of the samples are
# also of high quality (within 3 std of their mode, lesson 6).

# %%
conditional = train("conditional", "toy_cgan")
spacing = np.linalg.norm(MODES[0] - MODES[1]) / STD
off_label = np.linalg.norm(conditional.images - MODES[conditional.labels], axis=1).max() / STD
print(f"neighbouring modes {spacing:.1f} std apart; training points at most {off_label:.1f} std from the mode "
      "they are labelled with")
assert spacing > 76 and off_label < 10
c_samples, c_asked, c_at, c_m = measure("conditional (toy_cgan)", conditional.sampler)
label_accuracy = float(np.mean(c_at == c_asked))
table = np.zeros((8, 8), dtype=int)
np.add.at(table, (c_asked, c_at), 1)
print(f"label accuracy {100 * label_accuracy:.1f}% (a G that ignored the label: {100 / 8:.1f}%)")
print("asked   samples at mode 0 ... 7")
for k, row in enumerate(table):
    print(f"{k:5d}  " + "".join(f"{c:5d}" for c in row))
assert label_accuracy > 0.95 and c_m["high_quality"] > 0.8

# %% [markdown]
# ## 2. The same networks without the label
#
# The unconditional `toy` trains with the same loss, steps and seed. Nothing can ask it for a mode,
# and more is lost than the asking. G is now one continuous map from one connected noise plane onto
# eight modes, and on the way from one mode to the next it must draw points between them (lesson 6,
# step 4). More than 10% of its samples lie farther than 10 std from every mode, where fewer than
# 2% of the conditional GAN's do, and its share of high-quality samples is lower by more than 0.25.
# Given the label, G has one noise plane per mode and no path between modes to draw. On MNIST it
# is the same: an unconditional GAN draws hybrid digits a conditional one does not (measured in
# [docs/training.md, "Conditional or not"](../docs/training.md#conditional-or-not-the-hybrid-digits)).

# %%
unconditional = train("unconditional", "toy")
u_samples, _, _, u_m = measure("unconditional (toy)", unconditional.sampler)
assert u_m["between"] > 0.1 and c_m["between"] < 0.02
assert u_m["high_quality"] < c_m["high_quality"] - 0.25

fig, (left, right) = plt.subplots(1, 2, figsize=(7.6, 3.9))
panel(left, c_samples, c_asked, f"toy_cgan, coloured by the label asked\nlabel accuracy {100 * label_accuracy:.1f}%")
panel(right, u_samples, None, f"toy, no label\n{100 * u_m['between']:.1f}% of the samples between modes")
opts.save(fig, "label.png")

# %% [markdown]
# ## 3. InfoGAN: a code that finds the modes without labels
#
# `toy_infogan` is given no labels. G(z, c) gets an 8-way code c, drawn uniformly, beside its
# noise; D has a second head Q(c | x) on its hidden layers, and G and Q both lower `gan.info_loss`,
# $-\lambda\, \mathbb{E}[\log Q(c \mid G(z, c))]$ with $\lambda = 1$ (lesson 4, step 6). With
# $H(c) = \log 8$,
#
# $$L_I = \log 8 + \mathbb{E}[\log Q(c \mid G(z, c))] \le I(c; G(z, c)) \le H(c) = \log 8 \approx 2.079,$$
#
# so a Q that reads every code back brings the bound near $\log 8$ nats. G is rewarded for codes Q
# can tell apart and for samples D takes for data; on ring8 one way to have both is to give each
# code a mode of its own, and training comes close to that.
#
# *Code purity* (`metrics.code_purity`, which `minigan eval` computes against the digits on MNIST)
# is the share of samples whose nearest mode is their code's most common one. Here it is above 0.9:
# more than 90% of the samples lie nearest their code's mode, and the eight codes' modes are at
# least seven different ones (the lines below give each code's, and how many of its samples are
# there). Purity counts a sample at its nearest mode however far from it the sample lies; the
# high-quality share printed beside it says how close they are. $L_I$, measured with Q on fresh
# samples, is above $0.9 \log 8$.

# %%
info = train("infogan", "toy_infogan")
i_samples, i_asked, i_at, i_m = measure("InfoGAN (toy_infogan)", info.sampler)
with mg.no_grad():
    code_logits = info.D.code_logits(tensor(i_samples))
bound = np.log(8) - gan.info_loss(code_logits, tensor(i_asked)).item()
purity = metrics.code_purity(i_asked, i_at)
codes_at = np.zeros((8, 8), dtype=int)
np.add.at(codes_at, (i_asked, i_at), 1)
print(f"code purity {purity:.3f}; L_I = {bound:.3f} nats of log 8 = {np.log(8):.3f}")
for c, row in enumerate(codes_at):
    print(f"code {c}: {100 * row.max() / row.sum():5.1f}% of its samples at mode {row.argmax()}")
assert purity > 0.9 and len(set(codes_at.argmax(1))) >= 7 and bound > 0.9 * np.log(8)

# %% [markdown]
# ## 4. Without the mutual-information term the code means nothing; and what purity cannot see
#
# The same trainer with the term multiplied by 0 (`WithoutInfo` below): G is still given the code,
# but nothing asks it to use it. Its code purity falls below 0.3, near the 1/8 of a code that says
# nothing about the mode, and more than 10% of its samples lie between modes, as the unconditional
# GAN's do: the code is then just more noise. Q, which only that term trains, keeps its initial
# weights: its bound $L_I$ on fresh samples is within 0.1 nats of 0.
#
# Purity has a blind spot: it asks whether each code keeps to one mode, not whether the codes reach
# different ones. A G that drew every sample at one mode would score 1, whatever its codes (the
# second line below). That is why step 3 also counted the codes' modes and measured $L_I$; on MNIST
# it is read beside the classes present (step 5).

# %%
class WithoutInfo(Trainer):
    """The trainer with InfoGAN's term switched off: G gets the code, nothing rewards it for using it."""

    def info(self, fake, codes):
        return 0.0 * super().info(fake, codes)


no_info = train("infogan_without_info", "toy_infogan", WithoutInfo)
n_samples, n_asked, n_at, n_m = measure("InfoGAN without the term", no_info.sampler)
no_info_purity = metrics.code_purity(n_asked, n_at)
with mg.no_grad():
    no_info_bound = np.log(8) - gan.info_loss(no_info.D.code_logits(tensor(n_samples)), tensor(n_asked)).item()
one_mode_purity = metrics.code_purity(i_asked, np.zeros_like(i_asked))
print(f"code purity without the term {no_info_purity:.3f} (with it {purity:.3f}; a code that says nothing: "
      f"about {1 / 8:.3f}); its Q's L_I {no_info_bound:.3f} nats")
print(f"code purity if every sample sat at mode 0: {one_mode_purity:.3f}")
assert no_info_purity < 0.3 and n_m["between"] > 0.1 and abs(no_info_bound) < 0.1 and one_mode_purity == 1.0

fig, (left, right) = plt.subplots(1, 2, figsize=(7.6, 3.9))
panel(left, i_samples, i_asked, f"toy_infogan, coloured by code\ncode purity {purity:.2f}, $L_I$ = {bound:.2f} nats")
panel(right, n_samples, n_asked, f"the same without the info term\ncode purity {no_info_purity:.2f}")
opts.save(fig, "code.png")

# %% [markdown]
# ## 5. The MNIST models, in brief: `cdcgan` and `infogan`
#
# On MNIST the label is the digit. `cdcgan` learns an embedding of it, which joins the noise in G
# and becomes a second image channel in D; `infogan` gives G a 10-way code, one-hot beside 90 noise
# values, and puts Q on D's convolutions. Below, their shapes, and their numbers before any
# training: the classifier that ships with minigan reads every sample of either as one and the same
# digit (one class present), so the untrained `cdcgan`'s label accuracy is at chance, below 0.2,
# and the untrained `infogan`'s code purity is 1, step 4's blind spot on digits.
#
# Trained, they are measured in docs/training.md, not here: `cdcgan` against `dcgan` after one
# epoch in ["Conditional or not"](../docs/training.md#conditional-or-not-the-hybrid-digits) and
# after four in ["Longer runs"](../docs/training.md#longer-runs) (with its label accuracy), and
# `infogan`'s code purity after one and four epochs in
# ["InfoGAN: finding the digits without labels"](../docs/training.md#infogan-finding-the-digits-without-labels).

# %%
mg.manual_seed(opts.seed)
cdcgan, infogan = build("cdcgan"), build("infogan")
cdcgan.generator.eval()  # BatchNorm with its running statistics, as when sampling
infogan.generator.eval()
digits = codes = mg.arange(10)
with mg.no_grad():
    z = mg.randn(10, cdcgan.z_dim)
    digit_images = cdcgan.generator(z, digits)
    print(f"cdcgan:  G(z {tuple(z.shape)}, digits {tuple(digits.shape)}) -> {tuple(digit_images.shape)};  "
          f"D(x, digits) -> {tuple(cdcgan.discriminator(digit_images, digits).shape)}")
    z = mg.randn(10, infogan.z_dim)
    coded = infogan.generator(z, codes)
    print(f"infogan: G(z {tuple(z.shape)}, codes {tuple(codes.shape)}) -> {tuple(coded.shape)};  D(x) -> "
          f"{tuple(infogan.discriminator(coded).shape)};  Q's logits D.code_logits(x) -> "
          f"{tuple(infogan.discriminator.code_logits(coded).shape)}")
assert digit_images.shape == coded.shape == (10, 1, 28, 28)

untrained = {}
for model, asked in ((cdcgan, "labels"), (infogan, "codes")):
    images = generate(model, 200, seed=opts.seed)
    untrained[model.name] = image_metrics(images, **{asked: requested_labels(model, 200)}, reference_n=200)
by_label, by_code = untrained["cdcgan"], untrained["infogan"]
print(f"untrained cdcgan:  label accuracy {by_label['label_accuracy']:.3f}, "
      f"classes present {by_label['classes_present']}")
print(f"untrained infogan: code purity {by_code['code_purity']:.3f}, classes present {by_code['classes_present']}")
assert by_label["classes_present"] == by_code["classes_present"] == 1
assert by_label["label_accuracy"] < 0.2 and by_code["code_purity"] == 1.0

# %% [markdown]
# ## What next
#
# `minigan train --model toy_cgan --data ring8` and `--model toy_infogan` train this lesson's GANs
# from the command line (`minigan sample --label 3` draws one label or code), and `--model cdcgan`,
# `--model infogan` the MNIST ones (docs/training.md). [Lesson 13](13_gan_versus_vae.py) sets the GAN
# against the VAE, on the same data and the same measures.
