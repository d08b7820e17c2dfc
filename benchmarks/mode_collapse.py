"""Mode collapse (模式崩溃) on 2-D mixtures: how many modes each GAN method covers, and how well.

    python benchmarks/mode_collapse.py --jobs 2        # ring8 and grid25, 9 methods, 5 seeds each
    python benchmarks/mode_collapse.py --steps 500 --seeds 1 --methods ns ns-r1 --out look  # a quick look
    python benchmarks/mode_collapse.py --jobs 2 --resume   # go on from the runs already recorded

For each dataset, method and seed it trains the `toy` GAN, draws 2,500 samples and reports the
metrics of VEEGAN and PacGAN (`minigan.metrics.mixture_metrics`): modes covered, the share of
high-quality samples (within 3 standard deviations of a mode) and the reverse KL of the mode
histogram to uniform. It prints mean +- std over seeds beside the published rows, and writes a
figure of every method's samples (first seed) over the modes, plus the numbers as JSON.

The cross-entropy and least-squares methods (minimax, NS, R1, LSGAN, instance noise) compare losses at one budget
(`ROW`, constant learning rate). WGAN-GP trains as ``minigan train --loss wgan-gp`` does with no
other option: the loss's own defaults for 2-D data. PacGAN packs 4 samples into each input of D at
the same budget of samples, so its D sees 64 packs per step; the paper's feeds 4 times the samples
and trains far longer, which may be why its row is much better than ours. "recipe" is our best: R1,
a learning rate that decays linearly to 0, and samples from the moving average of G's weights,
trained 10 times longer (`FINISH`); "wgan-gp-recipe" gives WGAN-GP the same finish. Each run is
seeded, so ``--jobs`` changes the wall time, not the numbers.

All of it takes hours on two cores, so each finished run is recorded as it ends (one JSON line in
``mode_collapse_runs.jsonl``, and the first seed's samples, which the figure draws, in
``mode_collapse_samples.npz``): ``--resume`` runs only what is not recorded yet with the same
settings, and the table covers every recorded run. ``--fresh`` discards the records.
"""
import argparse
import concurrent.futures
import dataclasses
import json
import os
import sys
import tempfile
import time

# One BLAS thread per job: the jobs run side by side (--jobs), one on each core, and the toy
# networks' small matrices gain little from a second thread. Set before NumPy loads its BLAS.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402  (after the thread settings above)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from minigan import evaluation  # noqa: E402  (after the sys.path line above)
from minigan.data import MIXTURES  # noqa: E402
from minigan.gan.recipes import LOSSES  # noqa: E402
from minigan.gan.training import TrainConfig, Trainer  # noqa: E402
from minigan.plotting import draw_points  # noqa: E402

# name -> (label, TrainConfig settings). The cross-entropy rows share one budget: batch 256 and
# 3,000 steps at learning rate 1e-3 (the image default, 2e-4, barely moves a toy GAN in a few
# thousand steps), R1 weight 0.1. WGAN-GP's row is `minigan train --loss wgan-gp` as it comes: the
# loss's own defaults for 2-D data (`minigan.gan.recipes`), no overrides.
ROW = dict(batch_size=256, lr=1e-3, steps=3000)
# What the JSON records of each method's training, defaults filled in:
RECORDED = ("loss", "lr", "betas", "n_critic", "batch_size", "steps", "gp_lambda", "r1_gamma", "noise_std", "pack",
            "lr_decay", "ema")
# What a loss's recipe fills in where a method does not say:
LOSS_DEFAULTS = ("lr", "betas", "n_critic", "gp_lambda", "noise_std", "steps", "batch_size", "lr_decay")
FINISH = dict(lr_decay="linear", ema=0.999, steps=30_000)  # the best row's finishing recipe
METHODS = {
    "minimax": ("GAN (minimax)", dict(loss="minimax", **ROW)),
    "ns": ("NS-GAN", dict(loss="ns", **ROW)),
    "wgan-gp": ("WGAN-GP (the CLI's defaults)", dict(loss="wgan-gp")),
    "ns-r1": ("NS-GAN + R1", dict(loss="ns-r1", r1_gamma=0.1, **ROW)),
    "lsgan": ("LSGAN", dict(loss="lsgan", **ROW)),
    "ns-noise": ("NS-GAN + instance noise", dict(loss="ns-noise", **ROW)),
    "pacgan4": ("PacGAN4 (NS-GAN)", dict(loss="ns", pack=4, **ROW)),
    "recipe": ("NS-GAN + R1, LR decay, EMA, 10x steps", dict(loss="ns-r1", r1_gamma=0.1, **{**ROW, **FINISH})),
    "wgan-gp-recipe": ("WGAN-GP + LR decay, EMA, 30,000 steps", dict(loss="wgan-gp", **FINISH)),
}
DATASETS = tuple(MIXTURES)

# Published rows (2,500 samples): modes covered / % high quality / reverse KL where given.
PUBLISHED = {
    "ring8": [("GAN (VEEGAN Table 1)", 1, 99.3, None), ("Unrolled GAN (VEEGAN)", 7.6, 35.6, None),
              ("VEEGAN", 8, 52.9, None), ("PacGAN4 (PacGAN Table 1)", 7.8, 95.9, 0.07),
              ("WGAN-GP (GDPP)", 6.8, 59.6, None)],
    "grid25": [("GAN (VEEGAN Table 1)", 3.3, 0.5, None), ("Unrolled GAN (VEEGAN)", 23.6, 16.0, None),
               ("VEEGAN", 24.6, 40.0, None), ("PacGAN4 (PacGAN Table 1)", 24.8, 93.6, 0.04),
               ("WGAN-GP (GDPP)", 24.2, 28.7, None)],
}


def method_settings(method, args):
    """The TrainConfig settings of one method, as this invocation runs them."""
    _, settings = METHODS[method]
    return {**settings, "steps": args.steps} if args.steps else settings  # --steps: a quick look


def run_key(method, args):
    """A method's settings with its loss's 2-D defaults filled in: a recorded run counts as done only
    while these are the same, so that a new default is measured anew."""
    settings = method_settings(method, args)
    recipe = LOSSES[settings["loss"]].for_data("2d")
    filled = {name: getattr(recipe, name) for name in LOSS_DEFAULTS if name not in settings}
    return json.loads(json.dumps({**settings, **filled}))


def run(dataset, method, seed, settings, workdir):
    """Train one method on one dataset with one seed: its 2,500 samples, their metrics, the seconds it
    took, and the settings it trained with (the defaults filled in)."""
    t0 = time.time()
    config = TrainConfig(model="toy", data=dataset, out=os.path.join(workdir, f"{dataset}-{method}-{seed}"),
                         seed=seed, sample_every=10**9, checkpoint_every=10**9, progress=False, **settings)
    trainer = Trainer(config)
    trainer.train()
    samples = evaluation.generate(trainer.sampler, 2500, seed=10_000 + seed)
    used = {k: v for k, v in dataclasses.asdict(trainer.cfg).items() if k in RECORDED}
    return samples, evaluation.point_metrics(samples, dataset), time.time() - t0, used


class Records:
    """The runs finished so far, kept in ``folder`` as they end: one JSON line each (its dataset,
    method, seed, settings asked for and used, metrics and seconds), and the first seed's samples."""

    LINES, SAMPLES = "mode_collapse_runs.jsonl", "mode_collapse_samples.npz"

    def __init__(self, folder, resume):
        self.lines = os.path.join(folder, self.LINES)
        self.samples_path = os.path.join(folder, self.SAMPLES)
        self.runs, self.samples = {}, {}
        if not resume:
            for path in (self.lines, self.samples_path):
                if os.path.exists(path):
                    os.remove(path)
            return
        if os.path.exists(self.lines):
            with open(self.lines) as f:
                for line in f:
                    r = json.loads(line)
                    self.runs[r["dataset"], r["method"], r["seed"]] = r
        if os.path.exists(self.samples_path):
            with np.load(self.samples_path) as saved:
                self.samples = {tuple(key.split("/")): saved[key] for key in saved.files}

    def done(self, dataset, method, seed, key):
        """Whether this run is recorded with these settings (`run_key`; with others, it runs again)."""
        r = self.runs.get((dataset, method, seed))
        return r is not None and r["settings"] == key and \
            (seed != 0 or (dataset, method) in self.samples)

    def add(self, dataset, method, seed, key, samples, metrics, seconds, used):
        r = {"dataset": dataset, "method": method, "seed": seed, "settings": key, "used": used,
             "metrics": metrics, "seconds": seconds}
        r = json.loads(json.dumps(evaluation.strict_json(r)))
        self.runs[dataset, method, seed] = r
        with open(self.lines, "a") as f:
            f.write(json.dumps(r, allow_nan=False) + "\n")
        if seed == 0:
            self.samples[dataset, method] = samples.astype(np.float16)  # the figure's precision
            partial = self.samples_path + ".partial.npz"
            np.savez_compressed(partial, **{f"{d}/{m}": x for (d, m), x in self.samples.items()})
            os.replace(partial, self.samples_path)  # atomic: a killed run leaves the old file whole


def summarise(rows):
    values = {k: np.array([np.inf if r[k] is None else r[k] for r in rows], dtype=float)
              for k in ("modes_covered", "high_quality", "reverse_kl")}
    with np.errstate(invalid="ignore"):  # an inf reverse KL (no high-quality sample) has mean inf and std nan
        return {k: (float(v.mean()), float(v.std())) for k, v in values.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="every method's generator updates, for a quick look "
                        "(default: each method's own)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time, one core each (default: %(default)s)")
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"), help="folder for the figure and JSON")
    parser.add_argument("--resume", action="store_true", help="keep the runs recorded in --out (with the same "
                        "settings) and run only the others")
    parser.add_argument("--fresh", action="store_true", help="discard the runs recorded in --out and start again")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    labels = {method: METHODS[method][0] for method in METHODS}
    if os.path.exists(os.path.join(args.out, Records.LINES)) and not (args.resume or args.fresh):
        parser.error(f"{args.out} holds recorded runs (hours of them, perhaps): pass --resume to go on from them, "
                     "--fresh to discard them, or another --out")
    records = Records(args.out, args.resume)
    tasks = [(d, m, s) for d in args.datasets for m in args.methods for s in range(args.seeds)
             if not records.done(d, m, s, run_key(m, args))]
    print(f"{len(tasks)} runs to go" + (f", {len(records.runs)} recorded before" if args.resume else ""), flush=True)
    start = time.time()
    with tempfile.TemporaryDirectory() as workdir, concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run, *task, method_settings(task[1], args), workdir): task for task in tasks}
        for future in concurrent.futures.as_completed(futures):
            if future.exception() is not None:  # cancel the queued runs (those under way still finish)
                pool.shutdown(cancel_futures=True)
                raise RuntimeError(f"run {futures[future]} (dataset, method, seed) failed") from future.exception()
            (dataset, method, seed), (points, m, seconds, used) = futures[future], future.result()
            records.add(dataset, method, seed, run_key(method, args), points, m, seconds, used)
            print(f"{dataset:7s} {labels[method]:38s} seed {seed}: {m['modes_covered']:2d} modes, "
                  f"{100 * m['high_quality']:5.1f}% high quality, reverse KL {m['reverse_kl']:.3f} ({seconds:.0f} s)",
                  flush=True)
    runs = records.runs
    results = {(d, m): summarise([runs[d, m, s]["metrics"] for s in range(args.seeds)])
               for d in args.datasets for m in args.methods}
    print_table(results, args, labels)
    minutes = sum(runs[d, m, s]["seconds"] for d in args.datasets for m in args.methods for s in range(args.seeds)) / 60
    print(f"\nThe {len(args.datasets) * len(args.methods) * args.seeds} runs took {minutes:.1f} minutes of one core "
          f"in all ({(time.time() - start) / 60:.1f} minutes of wall time now, with {args.jobs} job(s))")
    save_figure({(d, m): records.samples[d, m] for d in args.datasets for m in args.methods}, args, labels)
    with open(os.path.join(args.out, "mode_collapse.json"), "w") as f:
        json.dump({"seeds": args.seeds, "core_minutes": minutes,
                   "methods": {m: {"label": labels[m], **{d: runs[d, m, 0]["used"] for d in args.datasets}}
                               for m in args.methods},
                   "results": {f"{d}/{m}": r for (d, m), r in evaluation.strict_json(results).items()}},
                  f, indent=2, allow_nan=False)


def print_table(results, args, labels):
    for dataset in args.datasets:
        print(f"\n{dataset} (2,500 samples; ours: mean +- std over {args.seeds} seeds)")
        print(f"{'method':46s} {'modes':>12s} {'high quality %':>16s} {'reverse KL':>14s}")
        for method in args.methods:
            r = results[(dataset, method)]
            print(f"{'minigan ' + labels[method]:46s} {r['modes_covered'][0]:6.1f} +- {r['modes_covered'][1]:3.1f} "
                  f"{100 * r['high_quality'][0]:8.1f} +- {100 * r['high_quality'][1]:4.1f} "
                  f"{r['reverse_kl'][0]:7.3f} +- {r['reverse_kl'][1]:.3f}")
        for name, modes, hq, kl in PUBLISHED[dataset]:
            print(f"{name:46s} {modes:6.1f}       {hq:8.1f}         {'' if kl is None else f'{kl:7.2f}'}")


def save_figure(samples, args, labels):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, cols = len(args.datasets), len(args.methods)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3 * rows), squeeze=False)
    for i, dataset in enumerate(args.datasets):
        for j, method in enumerate(args.methods):
            ax = axes[i][j]
            draw_points(ax, samples[(dataset, method)], dataset, legend=False)
            ax.set(xticks=[], yticks=[])
            ax.set_title(f"{dataset}: {labels[method]}", fontsize=8, wrap=True)
    fig.tight_layout()
    path = os.path.join(args.out, "mode_collapse.png")
    fig.savefig(path, dpi=100)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
