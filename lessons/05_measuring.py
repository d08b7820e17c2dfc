# %% [markdown]
# # Lesson 5: measuring a generator (评估指标)
#
# A GAN has no likelihood to report, only samples, so it is judged by its samples (article 002,
# A002-18 in [the formula audit](../docs/formulas.md)). The usual numbers are the Inception Score
# and the FID, which article 002 says reflect a generator's performance "only in part" (A002-14).
# This lesson computes both, in their MNIST versions, and shows which parts they miss.
#
# No GAN is trained here. The "generators" are sets of images whose answer we know: real test
# digits (the best case), training digits copied (a generator that memorised its data), blurred
# and noised digits, digits of one class only, one digit repeated. The judge is the MNIST
# classifier that ships with minigan (`minigan.classifier.classify`), in place of Inception.
#
# Step through it with `minigan lesson 5`, or run it with `python lessons/05_measuring.py`
# (`--fast`: fewer images; `--seed N` draws other images, and the same checks pass). Every step
# prints what it shows and asserts it.

# %%
import os

# The Fréchet distances' 128 x 128 eigendecompositions are small matrices, which run faster on one
# BLAS thread, most of all when other work keeps the cores busy. NumPy reads this as it loads, so
# it counts when the lesson runs as a script or in a fresh kernel; `minigan lesson` has loaded NumPy
# already: there, set it in the shell (OPENBLAS_NUM_THREADS=1 minigan lesson 5).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import matplotlib.pyplot as plt  # drawn with the Agg backend outside a notebook: lessons.options sets it
import numpy as np

from minigan import data, lessons, metrics
from minigan.classifier import classify

opts = lessons.options("05_measuring", seed=0)
rng = np.random.default_rng(opts.seed)  # which digits each set holds, and the noise
N = 250 if opts.fast else 1000  # images per stand-in generator
train_images, train_labels = data.mnist("train")  # (60000, 1, 28, 28), pixels in [-1, 1]
test_images, test_labels = data.mnist("test")  # (10000, 1, 28, 28)
print(f"seed {opts.seed}, {N} images a set{', fast' if opts.fast else ''}; figures in {opts.out}/")
assert train_images.min() == test_images.min() == -1 and train_images.max() == test_images.max() == 1


def blur(images, radius):
    """Each pixel replaced by the mean of the (2 radius + 1)^2 square around it (background beyond the edge)."""
    r, size = radius, 2 * radius + 1
    padded = np.pad(images, ((0, 0), (0, 0), (r, r), (r, r)), constant_values=-1.0)
    return sum(padded[:, :, i:i + 28, j:j + 28] for i in range(size) for j in range(size)) / size**2


def noised(images, std):
    """Gaussian noise of standard deviation ``std`` added to every pixel, clipped back to [-1, 1]."""
    return np.clip(images + std * rng.standard_normal(images.shape, dtype=np.float32), -1, 1)


train_order, test_order = rng.permutation(len(train_images)), rng.permutation(len(test_images))
reference = train_images[train_order[:N]]  # the real digits the samples are compared with, as `minigan eval` does
real = test_images[test_order[:N]]
copied_from = train_order[N:2 * N]  # other training images than the reference's
sevens = rng.choice(np.flatnonzero(test_labels == 7), N, replace=False)
sets = {
    "real test digits": real,
    "training digits, copied": train_images[copied_from],
    "blurred 3x3": blur(real, 1),
    "blurred 5x5": blur(real, 2),
    "noised, std 0.3": noised(real, 0.3),
    "noised, std 0.6": noised(real, 0.6),
    "one class (7s)": test_images[sevens],
    "one image repeated": np.repeat(real[:1], N, axis=0),
}
DEGRADED = ["blurred 3x3", "blurred 5x5", "noised, std 0.3", "noised, std 0.6"]
judged = {name: classify(images) for name, images in sets.items()}  # each: probs (N, 10), features (N, 128)
probs = {name: p for name, (p, _) in judged.items()}
features = {name: f for name, (_, f) in judged.items()}
reference_features = classify(reference)[1]
assert probs["real test digits"].shape == (N, 10) and reference_features.shape == (N, 128)

# %% [markdown]
# ## 1. The Inception Score (Inception 分数, IS) and its MNIST version
#
# The judge gives each image $x$ its class probabilities $p(y|x)$; their mean over the samples is
# $p(y) = \mathbb{E}_x\, p(y|x)$, the classes the generator draws. The score (Salimans et al., 2016) is
#
# $$\mathrm{IS} = \exp\Big(\mathbb{E}_x\, \mathrm{KL}\big(p(y|x) \,\|\, p(y)\big)\Big)
#               = \exp\big(H(y) - \mathbb{E}_x H(y|x)\big).$$
#
# It is large when each sample is confidently one class (low $H(y|x)$) and the samples spread
# over all the classes (high $H(y)$). With Inception's 1,000 ImageNet classes it is the IS; with
# the MNIST classifier's 10 it is the MNIST score, `metrics.mnist_score`, between 1 and 10: ten
# confident samples, one of each digit, score exactly 10.
#
# Real test digits score above 9.2, near the top, and higher than every blurred or noised set;
# more blur or more noise, a lower score. Copied training digits score above 9.2 as well, and
# above every blurred or noised set. Digits of one class score below 1.2, and one image repeated
# exactly 1: each sample is confident, but together they are one class. The score never looks at
# a real image, only at what the judge says of the samples.

# %%
score = {name: metrics.mnist_score(p) for name, p in probs.items()}
for name in sets:
    print(f"{name:25s} MNIST score {score[name]:6.3f}")

p_yx = probs["real test digits"].astype(np.float64)  # p(y|x), one row per image
p_y = p_yx.mean(axis=0)
kl = np.sum(p_yx * np.log(np.where(p_yx > 0, p_yx / p_y, 1.0)), axis=1)  # KL(p(y|x) || p(y)), with 0 log 0 = 0


def entropy(p):
    """H(p) = -sum_k p_k log p_k along the last axis, with 0 log 0 = 0."""
    return -np.sum(p * np.log(np.where(p > 0, p, 1.0)), axis=-1)


print(f"real test digits by hand: exp(E_x KL(p(y|x) || p(y))) = {np.exp(kl.mean()):.3f}, "
      f"exp(H(y) - E_x H(y|x)) = {np.exp(entropy(p_y) - entropy(p_yx).mean()):.3f}")
print(f"ten one-hot predictions, one per digit: {metrics.mnist_score(np.eye(10)):.3f}")
assert np.isclose(np.exp(kl.mean()), score["real test digits"], rtol=1e-9)
assert np.isclose(np.exp(entropy(p_y) - entropy(p_yx).mean()), score["real test digits"], rtol=1e-9)
assert np.isclose(metrics.mnist_score(np.eye(10)), 10)
assert all(1 - 1e-9 <= s <= 10 + 1e-9 for s in score.values())
assert score["real test digits"] > 9.2 and all(score["real test digits"] > score[name] for name in DEGRADED)
assert score["blurred 3x3"] > score["blurred 5x5"] and score["noised, std 0.3"] > score["noised, std 0.6"]
assert score["training digits, copied"] > 9.2 and all(score["training digits, copied"] > score[n] for n in DEGRADED)
assert score["one class (7s)"] < 1.2 and np.isclose(score["one image repeated"], 1, atol=1e-9)

# %% [markdown]
# ## 2. FID (Fréchet Inception 距离) and its MNIST version
#
# The Fréchet distance (Heusel et al., 2017) does compare with real images. It fits a Gaussian to
# the judge's features of the real images, $N(\mu_1, \Sigma_1)$, and one to those of the samples,
# $N(\mu_2, \Sigma_2)$, and measures the distance between the two:
#
# $$d^2 = \lVert \mu_1 - \mu_2 \rVert^2 + \mathrm{Tr}\big(\Sigma_1 + \Sigma_2 - 2 (\Sigma_1 \Sigma_2)^{1/2}\big).$$
#
# FID takes Inception's 2,048 features; minigan takes the MNIST classifier's 128 penultimate
# features (the second output of `classify`) and `metrics.frechet_distance`, against real
# training digits, as `minigan eval` does. Lower is better.
#
# The reference set against itself is at 0. Real test digits are close, but not at 0: two samples
# of one distribution differ, and the fewer the images the more, so that a quarter as many real
# test digits are farther. FIDs compare only at the same number of images (docs/training.md gives
# 2.4 for real test digits at 10,000; here there are fewer). Copied training digits are closer
# than any blurred or noised set, as real test digits are. Blur and noise move the samples away,
# farther with more of either, and one class alone is farther than all of them, and more than 10
# times as far as the real test digits.

# %%
fd = {name: metrics.frechet_distance(reference_features, f) for name, f in features.items()}
for name in sets:
    print(f"{name:25s} Fréchet distance {fd[name]:8.1f}")
itself = metrics.frechet_distance(reference_features, reference_features)
quarter = metrics.frechet_distance(reference_features, features["real test digits"][:N // 4])
print(f"the reference against itself: {itself:.2g}; a quarter as many real test digits ({N // 4}): {quarter:.1f}")
assert itself < 1e-3 < fd["real test digits"] < quarter
assert fd["training digits, copied"] < min(fd[name] for name in DEGRADED)
assert fd["real test digits"] < fd["noised, std 0.3"] < fd["noised, std 0.6"]
assert fd["real test digits"] < fd["blurred 3x3"] < fd["blurred 5x5"]
assert fd["one class (7s)"] > 10 * fd["real test digits"] and fd["one class (7s)"] > max(fd[n] for n in DEGRADED)

# %% [markdown]
# ## 3. How the judge changes the number
#
# Both numbers measure the judge as well as the samples. `metrics.sharpen(probs, a)` gives the
# probabilities of the same classifier with its logits multiplied by $a$: every image keeps its
# predicted class, and only the judge's confidence changes ($a > 1$: surer). The same real and
# blurred digits score higher under a surer judge, and the gap between real and 5x5-blurred
# digits shrinks as the judge grows surer; the collapsed sets stay near 1 under every judge.
#
# The Fréchet distance is in the units of the judge's features, squared: features twice as large
# (the same network with the weights and bias of its feature layer doubled) give exactly 4 times
# the distance.
# Another layer, the same 128 features after their ReLU, gives other numbers, and not just
# rescaled ones: the ratio of the blurred digits' distance to the real digits' changes by more
# than 20%.
#
# So scores from different judges cannot be compared: not this classifier's with another MNIST
# classifier's, and not either with the IS or FID of papers, whose Inception network was trained
# on ImageNet photos. Cited, not shown here (docs/training.md, "How much of the score is the
# judge's"), and measured on all 10,000 test digits: papers report 9.88 for real test digits, this
# judge gives them 9.79, and a judge 1.42 times surer (`benchmarks/mnist_score_judge.py`) gives
# them 9.88.
#
# The table is not meant to reproduce those numbers: it scores the N real test digits of this
# lesson (1,000; 250 with `--fast`), not 10,000, and the MNIST score, like the Fréchet distance,
# depends on how many images it is given. It is biased low for few images. $\mathbb{E}_x H(y|x)$
# is a plain mean, right on average; but $p(y)$ is the mean of few predictions, and the entropy of
# such a mean is on average below the entropy of the mean of all of them (the entropy is concave,
# and a few images spread less evenly over the classes). The last lines show it: random quarters of
# the same N real test digits score lower on average than all N together, because their $H(y)$ is
# lower, while their $\mathbb{E}_x H(y|x)$ is about the same.

# %%
FACTORS = (0.5, 1.0, 1.42, 2.0)
sharpened = {name: [metrics.mnist_score(metrics.sharpen(probs[name], a)) for a in FACTORS] for name in sets}
print(f"MNIST score of {N} images a set, under a judge with its")
print("logits times         " + "".join(f"{a:8.2f}" for a in FACTORS))
for name in ("real test digits", "blurred 3x3", "blurred 5x5", "one class (7s)", "one image repeated"):
    print(f"{name:20s} " + "".join(f"{s:8.3f}" for s in sharpened[name]))
for name in sets:
    for a in FACTORS:
        assert (metrics.sharpen(probs[name], a).argmax(axis=1) == probs[name].argmax(axis=1)).all()
for name in ("real test digits", "blurred 3x3", "blurred 5x5"):
    assert np.all(np.diff(sharpened[name]) > 0), name
gap = np.subtract(sharpened["real test digits"], sharpened["blurred 5x5"])
print("gap, real - blurred 5x5" + "".join(f"{g:8.3f}" for g in gap))
assert np.all(np.diff(gap) < 0)
assert max(sharpened["one class (7s)"]) < 1.2 and np.allclose(sharpened["one image repeated"], 1, atol=1e-9)

real_f, blur_f = features["real test digits"], features["blurred 3x3"]
doubled = metrics.frechet_distance(2 * reference_features, 2 * real_f)
print(f"\nreal test digits, features doubled: {doubled:.1f} = 4 x {fd['real test digits']:.1f}")
assert np.isclose(doubled, 4 * fd["real test digits"], rtol=1e-6)
relu = {name: metrics.frechet_distance(np.maximum(reference_features, 0), np.maximum(f, 0))
        for name, f in (("real", real_f), ("blurred 3x3", blur_f))}
before, after = fd["blurred 3x3"] / fd["real test digits"], relu["blurred 3x3"] / relu["real"]
print(f"features after the ReLU: real {relu['real']:.1f}, blurred 3x3 {relu['blurred 3x3']:.1f}")
print(f"blurred / real: {before:.1f} before the ReLU, {after:.1f} after it")
assert abs(after / before - 1) > 0.2

quarters = [rng.choice(N, N // 4, replace=False) for _ in range(200)]  # random quarters of the real test digits
quarter_scores = [metrics.mnist_score(p_yx[q]) for q in quarters]
h_y, h_yx = entropy(p_y), entropy(p_yx).mean()  # all N: H(y) and E_x H(y|x)
quarter_h_y = np.mean([entropy(p_yx[q].mean(axis=0)) for q in quarters])
quarter_h_yx = np.mean([entropy(p_yx[q]).mean() for q in quarters])
print(f"\nreal test digits, all {N}: MNIST score {score['real test digits']:.3f}, H(y) {h_y:.4f}, "
      f"E_x H(y|x) {h_yx:.4f}")
print(f"{len(quarters)} random quarters ({N // 4}), on average: MNIST score {np.mean(quarter_scores):.3f}, "
      f"H(y) {quarter_h_y:.4f}, E_x H(y|x) {quarter_h_yx:.4f}")
assert np.mean(quarter_scores) < score["real test digits"] and quarter_h_y < h_y
assert abs(quarter_h_yx - h_yx) < 0.25 * (h_y - quarter_h_y)

# %% [markdown]
# ## 4. A memorisation check (记忆): each sample's nearest training image
#
# A generator that hands back its training images draws nothing new, yet the numbers rate it
# highly: the MNIST score, the Fréchet distance and precision and recall (step 5) compare
# distributions, and copies come from the right one. Steps 1 and 2 rated the copied digits above
# every blurred or noised set by both numbers, as they rated the real test digits. To catch copies,
# look at single samples:
# `metrics.nearest_neighbours(samples, reference)` gives each sample's nearest row of the
# reference and the distance to it, here the Euclidean distance in pixel space to every one of
# the 60,000 training images.
#
# Every copy's nearest training image is the image it was copied from, at distance exactly 0.
# Real test digits are new: every one checked here is more than 1.5 from every training image,
# and the median distance lies between 6 and 11 (pixels run from -1 for black to 1 for white).
# The figure shows samples over their nearest training images (and, last, two of the moved copies
# of the next paragraph).
#
# Pixel distance catches exact and near copies only. Move the same copies two pixels to the right
# and run the same check on them: at most one in ten still finds the image it was copied from as
# its nearest training image, none is within 1.5 of any training image, and the median distance to
# the nearest one is larger than the real test digits' median. By this check the moved copies look
# new, farther from the training images than the new digits are. A fuller check also looks in the
# judge's feature space, and at the nearest images by eye.

# %%
for name in ("training digits, copied", "real test digits"):  # steps 1 and 2, again: above every degraded set
    assert score[name] > max(score[n] for n in DEGRADED) and fd[name] < min(fd[n] for n in DEGRADED), name
n_check = 50 if opts.fast else 200  # samples of each set checked against all 60,000 training images
originals = sets["training digits, copied"][:n_check]
moved = np.pad(originals, ((0, 0), (0, 0), (0, 0), (2, 0)), constant_values=-1.0)[..., :28]  # 2 pixels right
checked = np.concatenate([originals, real[:n_check], moved])  # copies, real test digits, moved copies
nearest, distance = metrics.nearest_neighbours(checked.reshape(len(checked), -1),
                                               train_images.reshape(len(train_images), -1), batch_size=250)
copies, new, moved_distance = distance[:n_check], distance[n_check:2 * n_check], distance[2 * n_check:]
print(f"copied training digits: nearest distance at most {copies.max():.3g}; "
      f"the image copied found for {np.mean(nearest[:n_check] == copied_from[:n_check]):.0%} of them")
print(f"real test digits:       nearest distance from {new.min():.2f} to {new.max():.2f}, median {np.median(new):.2f}")
assert (copies == 0).all() and (nearest[:n_check] == copied_from[:n_check]).all()
assert new.min() > 1.5 and 6 < np.median(new) < 11
moved_found = np.mean(nearest[2 * n_check:] == copied_from[:n_check])
print(f"copies moved 2 pixels right: nearest distance from {moved_distance.min():.2f} to {moved_distance.max():.2f}, "
      f"median {np.median(moved_distance):.2f}; the image copied found for {moved_found:.0%} of them")
assert moved_found <= 0.1 and moved_distance.min() > 1.5 and np.median(moved_distance) > np.median(new)

shown = [0, 1, 2, n_check, n_check + 1, n_check + 2, 2 * n_check, 2 * n_check + 1]  # 3 copies, 3 test digits, 2 moved
kind = ["copy"] * 3 + ["test digit"] * 3 + ["moved copy"] * 2
fig, axes = plt.subplots(2, len(shown), figsize=(1.6 * len(shown), 3.6))
for column, i in enumerate(shown):
    axes[0, column].imshow(checked[i, 0], cmap="gray", vmin=-1, vmax=1)
    axes[0, column].set_title(kind[column], fontsize=9)
    axes[1, column].imshow(train_images[nearest[i], 0], cmap="gray", vmin=-1, vmax=1)
    axes[1, column].set_title(f"nearest: {distance[i]:.1f}", fontsize=9)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_ylabel("sample")
axes[1, 0].set_ylabel("training")
opts.save(fig, "nearest.png")

# %% [markdown]
# ## 5. Mode collapse (模式崩溃), seen by the metrics
#
# Article 002 names mode collapse, a generator drawing one kind of sample only, as an open
# problem of GANs (A002-12; lesson 6 counts it on 2-D data). On digits, the MNIST score sees it
# in $H(y)$: the 7s and the repeated image score about 1 (step 1), and a set holding five of the
# ten digits (the real test digits labelled 0 to 4) scores about 5 (between 4.5 and 5.5).
# `metrics.class_statistics` says why. The judge reads the 7s as one class: the few it misreads
# make less than 1% of the set for any other class. It reads the repeated image as one class,
# and the five digits as five, each at least 1%. The KL of the class histogram to uniform is
# close to its largest value, $\log 10 = 2.30$, for the 7s (above 2), and exactly that for the
# repeated image.
#
# Precision and recall (精确率 and 召回率; Kynkäänniemi et al., 2019; `metrics.precision_recall`,
# on the judge's features) give two numbers where the Fréchet distance gives one: *precision*,
# the share of samples that lie among real ones (quality), and *recall*, the share of real
# digits that lie among the samples (diversity). Real test digits have both above 0.7. The 7s
# are real digits, so most of them lie among the real ones (precision above 0.6), but they cover
# only the real 7s: recall below 0.3. Copied digits have both above 0.7, as the real test digits
# do: precision and recall do not catch memorisation either.

# %%
five = np.isin(test_labels[test_order[:N]], [0, 1, 2, 3, 4])  # the real test digits of classes 0 to 4
five_score = metrics.mnist_score(probs["real test digits"][five])
stats = {name: metrics.class_statistics(p) for name, p in
         (("one class (7s)", probs["one class (7s)"]), ("one image repeated", probs["one image repeated"]),
          ("digits 0 to 4", probs["real test digits"][five]))}
for name, s in stats.items():
    print(f"{name:20s} classes present {s['classes_present']:2d} (at least 1%: {s['classes_present_1pct']}), "
          f"class KL {s['class_kl']:.3f}")
print(f"MNIST score of the {five.sum()} real test digits labelled 0 to 4: {five_score:.3f}")
assert 4.5 < five_score < 5.5 and stats["digits 0 to 4"]["classes_present_1pct"] == 5
assert stats["one class (7s)"]["classes_present_1pct"] == 1 and stats["one class (7s)"]["class_kl"] > 2
assert stats["one image repeated"]["classes_present"] == 1
assert np.isclose(stats["one image repeated"]["class_kl"], np.log(10))

pr = {name: metrics.precision_recall(reference_features, features[name])
      for name in ("real test digits", "training digits, copied", "one class (7s)")}
for name, (precision, recall) in pr.items():
    print(f"{name:25s} precision {precision:.2f}, recall {recall:.2f}")
assert min(pr["real test digits"]) > 0.7
assert pr["one class (7s)"][0] > 0.6 and pr["one class (7s)"][1] < 0.3
assert min(pr["training digits, copied"]) > 0.7


# %% [markdown]
# ## Exercises
#
# [`exercises/05_measuring.py`](../exercises/05_measuring.py): the Inception Score from a classifier's
# probabilities (5.1) and the Fréchet distance between two feature sets (5.2).
# `minigan exercises check all` grades every exercise; `minigan exercises list` lists them.
