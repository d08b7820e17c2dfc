# %% [markdown]
# # Lesson 6: mode collapse (模式崩溃), seen and measured on 8 Gaussians in a ring
#
# Article 002 names mode collapse as one of the open problems of GANs (A002-12 in
# [the formula audit](../docs/formulas.md)): the generator finds a few outputs that fool D and
# stays there, covering some modes of the data and ignoring the rest. On images it is hard to
# see; on a 2-D mixture with known centres we can count it.
#
# Step through it with `minigan lesson 6`, or run it with `python lessons/06_mode_collapse.py`
# (about a minute on two CPU cores; `--fast` trains 2,000 steps instead of 3,000). It trains small
# GANs from a seed, `--seed N` (default 1): another seed gives other numbers, but the same checks
# pass (tried with seeds 0 to 9). Figures go to `lesson_figures/06_mode_collapse/` (`--out` to
# change).

# %%
import os

# Small matrices run a little faster on one BLAS thread (docs/benchmarks.md). NumPy reads this as it
# loads, so it counts when the lesson runs as a script or in a fresh kernel; `minigan lesson` has
# loaded NumPy already: there, set it in the shell (OPENBLAS_NUM_THREADS=1 minigan lesson 6).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import csv

import numpy as np

import minigan as mg
from minigan import data, lessons, metrics, plotting, tensor
from minigan.evaluation import generate, point_metrics
from minigan.gan import generator_loss_saturating
from minigan.gan.training import TrainConfig, Trainer

opts = lessons.options("06_mode_collapse", seed=1)
modes = data.ring8_modes()
STD = 0.01  # each ring8 mode's standard deviation
print(f"seed {opts.seed}{', fast' if opts.fast else ''}; figures in {opts.out}/")


def report(name, samples):
    m = point_metrics(samples, "ring8")  # judged with the data's own std, STD
    print(f"{name:36s} modes covered {m['modes_covered']}/8, high quality {100 * m['high_quality']:5.1f}%, "
          f"reverse KL {m['reverse_kl']:.3f}")
    return m


# %% [markdown]
# ## 1. The three numbers (VEEGAN, PacGAN), on samples whose answer we know
#
# Each sample is assigned to its nearest mode. It is of *high quality* when it lies within 3 std
# of that mode: 98.9% of the data's own samples do, in 2-D. A mode is *covered* when at least one
# high-quality sample lands on it. The *reverse KL* of the histogram of high-quality samples over
# the modes to the uniform one is 0 when they are balanced, and $\log 8 = 2.079$ when all sit at
# one mode. Uniform noise over the square lands a few samples near some modes: covered modes alone
# do not tell a good generator from noise, high quality does.

# %%
rng = np.random.default_rng(opts.seed)
truth = report("samples of the data itself", data.ring8(2500, rng=rng))
one = report("every sample at one mode (collapse)", modes[0] + STD * rng.standard_normal((2500, 2)))
noise = report("uniform noise over the square", rng.uniform(-1.5, 1.5, (2500, 2)))
assert abs(truth["high_quality"] - (1 - np.exp(-9 / 2))) < 0.01 and truth["modes_covered"] == 8
assert truth["reverse_kl"] < 0.01 and one["modes_covered"] == 1 and np.isclose(one["reverse_kl"], np.log(8))
assert noise["modes_covered"] > 1 and noise["high_quality"] < 0.01


# %% [markdown]
# ## 2. A plain GAN (minimax loss, article 002's V(D, G)) through training
#
# A small GAN (the `toy` model: 2-D noise into three ReLU layers of 128 units, and a discriminator
# of the same size) trains on ring8 with the minimax loss, and every few hundred steps 2,500 of its
# samples are counted: the modes covered, the share of high quality, and how many high-quality
# samples sit at each of the 8 modes.
#
# At most counts the minimax GAN covers fewer than 8 modes. It does not keep the modes it has
# found: from one count to the next, some mode that held at least 50 of the 2,500 samples (2%;
# uniform noise put less than 1% near all eight together, step 1) is left with fewer than 5, and
# some mode goes from fewer than 5 to at least 50. G moves its samples from mode to mode rather
# than settling, which is mode collapse while it happens. (The number of modes covered rises and
# falls as well, but early on, with few samples of high quality, a handful of stray samples
# covers a mode, as step 1's noise did; the counts at each mode say more.)
#
# Its samples also string out in arcs between the modes: at most counts fewer than half of them
# are of high quality, where 98.9% of the data's own samples are. The last counts can be higher
# (the table prints each). The figure draws 2,500 fresh samples after the last step, each mode
# labelled with how many of them lie within 3 std of it; `metrics.png` the three numbers against
# the training step. `minimax.gif` animates the run (the view lesson 9 explains): 26 frames, one
# before the first step and one every 1/25 of the run, each with the samples of one fixed batch of
# 500 noise vectors over D's field (shaded: the probability D gives a point of being real) and the
# push of G's loss on 64 of them.

# %%
class CountingTrainer(Trainer):
    """A Trainer that, each time it counts (``eval_every``), also keeps how many high-quality samples
    sit at each mode: the same 2,500 samples as the count in metrics.csv, drawn again from their seed."""

    def __init__(self, config):
        super().__init__(config)
        self.at_each_mode = {}  # step -> high-quality samples at each of the 8 modes

    def evaluate(self):
        result = super().evaluate()
        state = mg.get_rng_state()  # as the trainer's own count does: counting leaves training alone
        samples = generate(self.sampler, 2500, seed=self.step)
        mg.set_rng_state(state)
        self.at_each_mode[self.step] = metrics.mixture_metrics(samples, modes, STD)["mode_counts"]
        return result


def train(name, steps, watch=None, **options):
    """Train the toy GAN on ring8 for ``steps`` steps into a run folder beside the figures, ``watch``
    looking on (`Run.train`)."""
    config = TrainConfig(model="toy", data="ring8", out=opts.run_folder(name), steps=steps, batch_size=256, lr=1e-3,
                         r1_gamma=0.1, seed=opts.seed, sample_every=10**9, checkpoint_every=10**9, progress=False,
                         **options)
    trainer = CountingTrainer(config)
    trainer.train(watch)
    samples = generate(trainer.sampler, 2500, seed=1)
    plotting.save_points(samples, opts.figure(f"{name}.png"), "ring8", title=f"{name}, seed {opts.seed}")
    return trainer, samples


steps, every = (2000, 200) if opts.fast else (3000, 250)
# the animation: a frame before the first step and every 1/25 of the run, of one fixed batch of 500 noise
# vectors, the arrows the push of the minimax loss, log(1 - D(G(z)))
film = plotting.FrameRecorder(steps // 25, np.random.default_rng(opts.seed).standard_normal((500, 2)),
                              (np.zeros(2), 1.5), generator_loss_saturating)
minimax, samples = train("minimax", steps, film, loss="minimax", eval_every=every)
with open(minimax.path("metrics.csv")) as f:  # the trainer counted 2,500 samples every `every` steps
    counts = [(int(row["step"]), int(float(row["modes_covered"])), float(row["high_quality"]))
              for row in csv.DictReader(f)]
print(" step  modes covered  high quality   high-quality samples at mode 0 ... 7")
for step, covered, quality in counts:
    print(f"{step:5d}  {covered:7d}/8     {100 * quality:8.1f}%    "
          + "".join(f"{c:5d}" for c in minimax.at_each_mode[step]))
at_mode = np.array([minimax.at_each_mode[step] for step, _, _ in counts])  # (counts, 8 modes)
covered, quality = np.array([c for _, c, _ in counts]), np.array([q for _, _, q in counts])
assert ((at_mode > 0).sum(axis=1) == covered).all()  # the same samples as metrics.csv's counts
assert (covered < 8).sum() > len(counts) / 2, "the minimax GAN covered every mode at most counts"
lost = [(step, k) for (step, _, _), before, after in zip(counts[1:], at_mode, at_mode[1:])
        for k in range(8) if before[k] >= 50 and after[k] < 5]
found = [(step, k) for (step, _, _), before, after in zip(counts[1:], at_mode, at_mode[1:])
         for k in range(8) if before[k] < 5 and after[k] >= 50]
print(f"(step, mode) where a mode that held at least 50 is left with fewer than 5: {lost}")
print(f"(step, mode) where a mode that held fewer than 5 gets at least 50:        {found}")
assert lost and found, "G kept to the modes it had found"
assert (quality < 0.5).sum() > len(counts) / 2, "more than half the samples were of high quality at most counts"
lessons.show(opts.figure("minimax.png"))
lessons.show(minimax.path("metrics.png"))
assert [frame.step for frame in film.frames] == list(range(0, steps + 1, steps // 25)) and steps % 25 == 0
plotting.save_training_animation(film.frames, opts.figure("minimax.gif"), "ring8",
                                 title=f"minimax, seed {opts.seed}")
lessons.show(opts.figure("minimax.gif"))

# %% [markdown]
# ## 3. A GAN that settles: NS loss + R1, learning rate decayed to 0, average of G's weights
#
# The non-saturating loss with an R1 penalty on D's gradient at real data, a learning rate that
# falls linearly to 0 (so that the two players stop circling), and an exponential moving average
# of G's weights (EMA, which averages out what is left of the circling). After the same budget it
# covers all 8 modes, more than half of its samples are of high quality, and they are spread
# evenly over the modes (reverse KL below 0.05).
# `benchmarks/mode_collapse.py` trains it for 30,000 steps over 5 seeds: its results are in
# docs/benchmarks.md.

# %%
recipe, samples = train("recipe", steps, loss="ns-r1", lr_decay="linear", ema=0.999)
m = report(f"NS + R1 + decay + EMA, {steps} steps", samples)
assert m["modes_covered"] == 8 and m["high_quality"] > 0.5 and m["reverse_kl"] < 0.05
lessons.show(opts.figure("recipe.png"))

# %% [markdown]
# ## 4. Why some samples always fall between modes: G is a continuous function of z
#
# Take two noise vectors whose samples land at two different modes, and walk the straight line
# between them. G(z) moves continuously with z, so it cannot jump from one mode to the next: some
# points of the line must land in the gap between. Training can shrink the part of the noise
# space that lands in the gaps; it cannot remove it.
#
# Digits have the same gaps. Measured in docs/training.md ("Conditional or not"), not here: an
# unconditional dcgan draws some of its samples as hybrids (a 4 half-way to a 9), which the MNIST
# score counts against it, while a conditional GAN (cdcgan) is handed the digit and has one noise
# space per digit, with no line between them to draw.

# %%
G = recipe.sampler
z = rng.standard_normal((2500, G.z_dim)).astype(np.float32)
distance = np.linalg.norm(G.sample(tensor(z))[:, None] - modes[None], axis=2)  # (2500 samples, 8 modes)
nearest, good = distance.argmin(1), distance.min(1) <= 3 * STD
a = np.flatnonzero(good)[0]
b = np.flatnonzero(good & (nearest != nearest[a]))[0]  # two high-quality samples at different modes
path = z[a] + np.linspace(0, 1, 1001, dtype=np.float32)[:, None] * (z[b] - z[a])  # a line in noise space
gaps = np.linalg.norm(G.sample(tensor(path))[:, None] - modes[None], axis=2).min(1) > 3 * STD
print(f"On the line from a noise vector that lands at mode {nearest[a]} to one that lands at mode {nearest[b]},")
print(f"{gaps.sum()} of 1001 points land more than 3 std from every mode.")
assert gaps.any()


# %% [markdown]
# ## Exercises
#
# [`exercises/06_training.py`](../exercises/06_training.py): one Adam step (6.1) and the moving average
# of G's weights that the finishing recipe samples with (6.2).
# `minigan exercises check all` grades every exercise; `minigan exercises list` lists them.
