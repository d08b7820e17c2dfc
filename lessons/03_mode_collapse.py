"""Lesson 3: mode collapse (模式崩溃), seen and measured on 8 Gaussians in a ring.

Run it: python lessons/03_mode_collapse.py      (about a minute on a laptop's CPU)

Article 002 names mode collapse as one of the open problems of GANs: the generator finds a few
outputs that fool D and stops there, covering some modes of the data and ignoring the rest.
On images it is hard to see; on a 2-D mixture with known centres we can count it.
Pictures go to runs/lessons/.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: one BLAS thread is a little faster

import numpy as np

from minigan import data, plotting, tensor
from minigan.evaluation import generate, point_metrics
from minigan.gan.training import TrainConfig, Trainer

OUT = os.path.join("runs", "lessons")
modes = data.ring8_modes()
STD = 0.01  # each ring8 mode's standard deviation


def step(title):
    print(f"\n=== {title}")


def report(name, samples):
    m = point_metrics(samples, "ring8")  # judged with the data's own std, STD
    print(f"{name:36s} modes covered {m['modes_covered']}/8, high quality {100 * m['high_quality']:5.1f}%, "
          f"reverse KL {m['reverse_kl']:.3f}")
    return m


step("1. The three numbers (VEEGAN, PacGAN), on samples whose answer we know")
rng = np.random.default_rng(0)
report("samples of the data itself", data.ring8(2500, rng=rng))
report("every sample at one mode (collapse)", modes[np.zeros(2500, dtype=int)] + STD * rng.standard_normal((2500, 2)))
report("uniform noise over the square", rng.uniform(-1.5, 1.5, (2500, 2)))
print("High quality: within 3 std of the nearest mode (98.9% for true samples, in 2-D).")
print("Reverse KL of the mode histogram to uniform: 0 when balanced, log 8 = 2.079 at one mode.")


def train(name, steps, **options):
    config = TrainConfig(model="toy", data="ring8", out=os.path.join(OUT, name), steps=steps, batch_size=256,
                         lr=1e-3, r1_gamma=0.1, sample_every=10**9, checkpoint_every=10**9, progress=False, **options)
    if os.path.exists(os.path.join(config.out, "last.npz")):
        os.remove(os.path.join(config.out, "last.npz"))  # a lesson starts afresh each time
    trainer = Trainer(config)
    trainer.train()
    samples = generate(trainer.sampler, 2500, seed=1)
    plotting.save_points(samples, os.path.join(OUT, f"{name}.png"), "ring8", title=name)
    return trainer.sampler, samples


step("2. A plain GAN (minimax loss, article 002's V(D, G)) through training")
for steps in (300, 1000):
    report(f"minimax GAN, {steps} steps", train(f"minimax_{steps}", steps, loss="minimax")[1])
print("Watch the modes covered: the minimax GAN drops or never finds some of them, and its")
print("samples form arcs between modes (low quality). Run it again with another seed: it differs.")

step("3. A GAN that settles: NS loss + R1, learning rate decayed to 0, average of G's weights")
gan, samples = train("recipe_3000", 3000, loss="ns-r1", lr_decay="linear", ema=0.999)
report("NS + R1 + decay + EMA, 3000 steps", samples)
print("benchmarks/mode_collapse.py runs this 10x longer over 5 seeds: its results are in docs/benchmarks.md.")

step("4. Why some samples always fall between modes: G is a continuous function of z")
z = rng.standard_normal((2500, gan.z_dim)).astype(np.float32)
distance = np.linalg.norm(gan.sample(tensor(z))[:, None] - modes[None], axis=2)  # (2500 samples, 8 modes)
nearest, good = distance.argmin(1), distance.min(1) <= 3 * STD
a = np.flatnonzero(good)[0]
b = np.flatnonzero(good & (nearest != nearest[a]))[0]  # two high-quality samples at different modes
path = z[a] + np.linspace(0, 1, 1001, dtype=np.float32)[:, None] * (z[b] - z[a])  # a line in noise space
gaps = np.linalg.norm(gan.sample(tensor(path))[:, None] - modes[None], axis=2).min(1) > 3 * STD
print(f"On the line from a noise vector that lands at mode {nearest[a]} to one that lands at mode {nearest[b]},")
print(f"{gaps.sum()} of 1001 points land more than 3 std from every mode. Some must: G(z) moves")
print("continuously with z, so it cannot jump from one mode to the next. Training can shrink the part of")
print("the noise space that lands in the gaps; it cannot remove it. Digits have the same gaps: an")
print("unconditional dcgan draws some of its samples as hybrids (a 4 half-way to a 9), which the MNIST")
print("score counts against it. A conditional GAN (cdcgan) is handed the digit and has one noise space")
print("per digit, with no line between them to draw. Their scores: docs/training.md, 'Conditional or not'.")
print(f"Pictures: {OUT}/*.png")
