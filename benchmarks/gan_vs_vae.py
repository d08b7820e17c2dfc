"""GAN against VAE on MNIST at the same wall-clock budget: sample quality, sharpness and stability.

    python benchmarks/gan_vs_vae.py                     # 300 s each, 10,000 samples each
    python benchmarks/gan_vs_vae.py --budget 20 --n 1000 --out-dir /tmp/gvv   # a quick look

Article 004 sets GANs and VAEs side by side: GAN samples sharp, VAE samples blurry, the GAN the
harder of the two to train. This script measures that claim. In one process, one after the other,
it trains through their real trainers (`minigan.gan.training.Trainer`, `minigan.vae.training.VAETrainer`):

* ``dcgan`` with the README main job's recipe: the non-saturating loss, batch 16, Adam 1e-3
  (betas 0.5, 0.999, the loss's);
* ``vae-conv``, the VAE built from the same DCGAN networks: a Bernoulli p(x|z), batch 64,
  Adam 1e-3 (betas 0.9, 0.999), latent size 20;

each for the same wall-clock time, ``--budget`` seconds of ``trainer.train_step()`` calls (building
the trainer and loading MNIST not counted; the step that crosses the budget is finished). Then each
draws ``--n`` samples (the GAN: `evaluation.digit_samples`; the VAE: the means of p(x|z) for prior z
from ``np.random.default_rng(seed)``, mapped from [0, 1] to [-1, 1]), scored by
`evaluation.image_metrics` through the bundled MNIST classifier: MNIST score, Fréchet distance,
precision and recall against real training images, classes present, class KL and the confident
fraction. The VAE also gets its negative ELBO on the first 1,000 test images and its active units
(`evaluation.vae_metrics` with k = 0). The same numbers for ``--n`` real test digits are the
anchor. One more, for the claim about blur: `metrics.grey_fraction`, the share of pixels that are neither
ink nor background (between 0.1 and 0.9 on a [0, 1] scale); a blurred stroke has a wide grey rim.

Stability is shown, not scored: each run's loss curves per step (from its trainer's ``history``),
and in the JSON the mean and standard deviation of each loss over the last quarter of the run. A
run whose loss or gradient turns NaN or infinite stops there and says so (``diverged``); its
samples are then from its last finite weights.

Written into ``--out-dir`` (default benchmarks/results/): ``gan_vs_vae.json`` (per model: steps,
seconds, steps/s, images seen, every metric; the machine's CPU and BLAS, and the command) and
``gan_vs_vae.png`` (top: 64 samples of each model on its trainer's fixed noise, titled with model,
steps and MNIST score; bottom: the loss curves). The table is printed. The run directories (last.npz,
config.json, losses.png, the trainer's sample grids) go under ``--work-dir``, by default a temporary
one that is removed at the end. Two runs agree bit for bit only at equal step counts, which a
wall-clock budget does not fix: the step counts follow the machine's speed and load.
"""
import argparse
import dataclasses
import json
import os
import shlex
import sys
import tempfile
import time

if __name__ == "__main__":  # before NumPy loads its BLAS (the script's folder is on sys.path)
    from blas_threads import pin_blas_threads

    pin_blas_threads(sys.argv[1:])

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from conv import blas_description, cpu_description, set_threads

from minigan import evaluation
from minigan.backend import keep_freed_memory
from minigan.creation import tensor
from minigan.gan.training import Trainer
from minigan.metrics import GREY, grey_fraction
from minigan.training import TrainConfig, TrainingDiverged
from minigan.vae.training import VAETrainer

TEST_IMAGES = 1000  # the VAE's negative ELBO is measured on the first 1,000 test images
# name -> (label, trainer, TrainConfig settings)
MODELS = {
    "dcgan": ("DCGAN (NS-GAN)", Trainer, dict(model="dcgan", loss="ns", batch_size=16, lr=1e-3)),
    "vae-conv": ("conv VAE (Bernoulli)", VAETrainer, dict(model="vae-conv", likelihood="bernoulli", batch_size=64,
                                                          lr=1e-3)),
}
ROWS = [  # the printed table: key, label, format
    ("steps", "steps", "{:d}"),
    ("seconds", "seconds", "{:.1f}"),
    ("steps_per_second", "steps/s", "{:.2f}"),
    ("images_seen", "training images seen", "{:d}"),
    ("mnist_score", "MNIST score (higher better)", "{:.3f}"),
    ("frechet_distance", "Frechet distance (lower better)", "{:.2f}"),
    ("precision", "precision", "{:.3f}"),
    ("recall", "recall", "{:.3f}"),
    ("classes_present", "classes present", "{:d}"),
    ("class_kl", "class KL (0: balanced)", "{:.4f}"),
    ("confident_fraction", "confident fraction (p >= 0.9)", "{:.3f}"),
    ("grey_fraction", "grey pixel fraction", "{:.4f}"),
    ("test_neg_elbo", f"test -ELBO, nats ({TEST_IMAGES} images)", "{:.2f}"),
    ("active_units", "active units", "{:d}"),
]


def train_for(trainer, budget):
    """``trainer.train_step()`` until ``budget`` seconds have passed; the seconds it took and, if a
    loss or gradient turned NaN or infinite, the trainer's message (else None)."""
    diverged = None
    start = time.perf_counter()
    while time.perf_counter() - start < budget:
        try:
            row = trainer.train_step()
        except TrainingDiverged as error:
            diverged = str(error)
            break
        trainer.history.append((trainer.step, *(row[c] for c in trainer.columns)))
    return time.perf_counter() - start, diverged


def loss_summary(trainer):
    """Each column of the run's losses.csv (losses, and a GAN's D(x), D(G(z)) and gradient norms): its
    first value and its mean and standard deviation over the run's last quarter."""
    if not trainer.history:
        return {}
    steps, *curves = zip(*trainer.history)
    tail = max(1, len(steps) // 4)
    return {column: {"first": float(values[0]), "last_quarter_mean": float(np.mean(values[-tail:])),
                     "last_quarter_std": float(np.std(values[-tail:]))}
            for column, values in zip(trainer.columns, curves)}


def run(name, args, work_dir):
    """Train one model for the budget, save its checkpoint, score its samples."""
    label, trainer_class, settings = MODELS[name]
    out = os.path.join(work_dir, name)
    config = TrainConfig(out=out, seed=args.seed, progress=False, **settings)
    trainer = trainer_class(config)
    print(f"{label}: training for {args.budget:g} s ...", flush=True)
    seconds, diverged = train_for(trainer, args.budget)
    trainer.save(trainer.checkpoint_path)
    with open(trainer.path("config.json"), "w") as f:
        json.dump(dataclasses.asdict(trainer.cfg), f, indent=2)
    if trainer.history:
        trainer.save_loss_curves()
    trainer.save_samples()
    print(f"{label}: {trainer.step} steps in {seconds:.1f} s"
          + (f"; DIVERGED: {diverged}" if diverged else "") + f"; scoring {args.n} samples ...", flush=True)
    if name == "dcgan":
        samples = evaluation.digit_samples(trainer.sampler, args.n, seed=args.seed)
        metrics = evaluation.image_metrics(samples)
        grid = trainer.sampler.sample(trainer.fixed_z, trainer.fixed_labels)  # tanh: [-1, 1]
    else:
        metrics = evaluation.vae_metrics(trainer.vae, n_samples=args.n, n_test=TEST_IMAGES, k=0, seed=args.seed)
        # the same draws as vae_metrics scored: prior z from default_rng(seed), means of p(x|z)
        z = np.random.default_rng(args.seed).standard_normal((args.n, trainer.vae.latent_dim)).astype(np.float32)
        samples = trainer.vae.sample(tensor(z)) * 2 - 1
        grid = trainer.vae.sample(trainer.fixed_z) * 2 - 1  # [0, 1] -> [-1, 1]
    batches = trainer.step * getattr(trainer, "n_critic", 1)  # real batches drawn
    result = {
        "label": label,
        "config": dataclasses.asdict(trainer.cfg),
        "steps": trainer.step,
        "seconds": seconds,
        "steps_per_second": trainer.step / seconds,
        "images_seen": batches * trainer.cfg.batch_size,
        "epochs": batches / trainer.batches_per_epoch,
        "diverged": diverged,
        **metrics,
        "grey_fraction": grey_fraction(samples),
        "losses": loss_summary(trainer),
    }
    steps, *curves = zip(*trainer.history) if trainer.history else ((),)
    return result, grid, (steps, first_panel(trainer, curves) if steps else {})


def first_panel(trainer, curves):
    """The curves of the first panel of the trainer's losses.png: its losses."""
    return next(iter(trainer.curve_panels(dict(zip(trainer.columns, curves))).values()))


def real_anchor(n):
    """The same metrics for ``n`` real test digits (at most the 10,000 there are)."""
    images, _ = evaluation.real_images("test", min(n, 10_000))
    return {"label": "real test digits", **evaluation.image_metrics(images), "grey_fraction": grey_fraction(images)}


def cell(result, key, fmt):
    value = result.get(key)
    if value is None:
        return "-"
    return fmt.format(int(value) if fmt.endswith("d}") else float(value))


def print_table(results, args):
    names = list(results)
    print(f"\nGAN vs VAE on MNIST: {args.budget:g} s of training each, {args.n} samples each, seed {args.seed}")
    print(f"{'':34s}" + "".join(f"{results[k]['label']:>24s}" for k in names))
    for key, label, fmt in ROWS:
        print(f"{label:34s}" + "".join(f"{cell(results[k], key, fmt):>24s}" for k in names))
    for name in names:
        if results[name].get("diverged"):
            print(f"{results[name]['label']} diverged: {results[name]['diverged']}")


def save_figure(results, grids, histories, path):
    """Top: 64 samples of each model on fixed noise; bottom: each run's losses per step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from minigan.plotting import draw_curves, image_grid

    names = list(grids)
    fig, axes = plt.subplots(2, len(names), figsize=(6 * len(names), 10.5),
                             gridspec_kw={"height_ratios": [6, 4]}, squeeze=False)
    for j, name in enumerate(names):
        r = results[name]
        ax = axes[0][j]
        ax.imshow(image_grid(grids[name], nrow=8), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.axis("off")
        ax.set_title(f"{name}: {r['steps']} steps in {r['seconds']:.0f} s, MNIST score {r['mnist_score']:.2f}"
                     + (" (diverged)" if r["diverged"] else ""), fontsize=10)
        ax = axes[1][j]
        steps, curves = histories[name]
        note = draw_curves(ax, steps, curves) if steps else ""
        smoothing = f" ({note})" if note else ""
        if name.startswith("vae"):
            ax.set_yscale("log")
            ax.set_ylabel("nats per image (log scale)")
        ax.set(xlabel="step")
        ax.set_title(f"{name}: losses per step{smoothing}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300,
                        help="seconds of training per model (default: %(default)s)")
    parser.add_argument("--n", type=int, default=10_000, help="samples scored per model (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the training runs and of the samples")
    parser.add_argument("--out-dir", default=os.path.join("benchmarks", "results"),
                        help="folder for gan_vs_vae.json and gan_vs_vae.png (default: %(default)s)")
    parser.add_argument("--work-dir", help="folder for the run directories (default: a temporary one, removed)")
    parser.add_argument("--threads", type=int, default=2, help="BLAS (and torch) threads (default: %(default)s)")
    args = parser.parse_args(argv)
    if not args.budget > 0:
        parser.error("--budget must be a positive number of seconds")
    if args.n < 10:
        parser.error("--n must be at least 10 (precision and recall compare nearest neighbours)")
    if args.seed < 0:
        parser.error("--seed must be >= 0")
    if args.work_dir:
        taken = [name for name in MODELS if os.path.exists(os.path.join(args.work_dir, name, "last.npz"))]
        if taken:
            parser.error(f"--work-dir {args.work_dir} already holds a run of {taken[0]}: choose another folder")
    set_threads(args.threads)
    keep_freed_memory()  # as the minigan command does
    os.makedirs(args.out_dir, exist_ok=True)
    start = time.time()
    results, grids, histories = {}, {}, {}
    with tempfile.TemporaryDirectory() as temporary:
        work_dir = args.work_dir or temporary
        for name in MODELS:
            results[name], grids[name], histories[name] = run(name, args, work_dir)
    results["real"] = real_anchor(args.n)
    print_table(results, args)
    figure = os.path.join(args.out_dir, "gan_vs_vae.png")
    save_figure({k: results[k] for k in MODELS}, grids, histories, figure)
    path = os.path.join(args.out_dir, "gan_vs_vae.json")
    with open(path, "w") as f:
        json.dump(evaluation.strict_json({
            "command": shlex.join(["python", "benchmarks/gan_vs_vae.py", *argv]),
            "machine": blas_description(), "cpu": cpu_description(), "threads": args.threads,
            "budget_seconds": args.budget, "n": args.n, "seed": args.seed, "test_images": TEST_IMAGES,
            "grey_range": list(GREY), "minutes": (time.time() - start) / 60,
            "models": {k: results[k] for k in MODELS}, "real": results["real"],
        }), f, indent=2, allow_nan=False)
    print(f"\nmachine: {blas_description()}; {cpu_description()}; {args.threads} threads")
    print(f"figure: {figure}\nnumbers: {path}")


if __name__ == "__main__":
    main()
