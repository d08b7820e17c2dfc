"""Training a GAN: alternating discriminator and generator updates, with everything a long run needs.

One *step* is one generator update, preceded by ``n_critic`` discriminator updates (1 for the
cross-entropy losses, 5 for the Wasserstein ones). A run directory collects:

    config.json     the configuration, defaults filled in
    losses.csv      one row per step: the losses, written as exact decimals
    samples_*.png   the generator's output on fixed noise, every ``sample_every`` steps
    losses.png      the loss curves
    last.npz        the newest checkpoint: models, optimizers, step, data position, RNG state

Beyond the losses (their effect is measured in `benchmarks/mode_collapse.py`):
``lr_decay="linear"`` takes both learning rates linearly to 0 by the end, so the players settle
instead of circling their equilibrium; ``ema=0.999`` keeps a moving average of G's weights
(`minigan.optim.EMA`), and the samples, the evaluations and `minigan sample`/`eval` then use it;
``pack=m`` is PacGAN: D judges packs of m samples. For InfoGAN, ``info_lambda`` weighs the
mutual-information term, which both logged losses include. The decay spans the run's total steps, so a
run resumed with another ``--steps`` continues on the new schedule.

Every option is a field of `TrainConfig`, which checks its values when it is made; each loss's
record (D's loss, G's loss, optimizer, learning rate, betas, critic steps, clipping) is in
`minigan.gan.recipes`. Runs are deterministic on one machine and BLAS build (same seed, same
losses, bit for bit), and ``resume=True`` continues from ``last.npz`` to exactly the losses of an
uninterrupted run. A NaN or inf loss or weight stops the run with a message, and last.npz stays
the last good checkpoint; Ctrl-C saves a checkpoint at the end of the current step. Progress
shows as a tqdm bar (``progress=False``, ``--no-progress``: none).
"""
from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import signal
import threading
from typing import Any, cast

import numpy as np

from .. import checkpoint, data, optim, random
from ..autograd import grad, no_grad
from ..creation import randint, randn, tensor
from ..data import DataLoader
from ..nn import Module
from ..progress import progress_bar
from ..tensor import Tensor
from . import losses as L
from .models import GAN, MODELS, build, check_pack, nonfinite_parameter
from .recipes import LOSSES

LR_DECAYS = ("none", "linear")
DATASETS = ("mnist", "ring8", "grid25")
DEFAULT_DATA = {"2d": "ring8", "mnist": "mnist", "mnist32": "mnist"}  # a model's data when --data is not given


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


def option(default: Any, help: str, **cli: Any) -> Any:
    """A `TrainConfig` field and its `minigan train` option, which `minigan.cli` builds from it:
    ``help``, and argparse's ``choices`` or ``flag`` (a switch's name, e.g. ``--no-progress``)."""
    return dataclasses.field(default=default, metadata={"help": help, **cli})


@dataclasses.dataclass
class TrainConfig:
    """Everything a run is: `minigan train`'s options are these fields, with these defaults and help.

    None means "the loss's" (lr, betas, n_critic: `minigan.gan.recipes`) or "the model's" (data:
    ring8 for the toy model, else mnist; out: runs/MODEL); the trainer fills them in, and
    config.json records the values used. Every value is checked here, once.
    """

    model: str = option("dcgan", "the networks (see `minigan models`)", choices=tuple(MODELS))
    loss: str = option("ns", "the GAN loss", choices=tuple(LOSSES))
    data: str | None = option(None, "mnist (images), or ring8, grid25 (2-D points); default: the model's",
                              choices=DATASETS)
    data_dir: str | None = option(None, "a folder of IDX files (e.g. Fashion-MNIST) instead of the bundled MNIST")
    out: str | None = option(None, "the run directory (default: runs/MODEL)")
    epochs: float = option(1.0, "passes over the data")
    steps: int | None = option(None, "stop after this many generator updates (overrides --epochs)")
    batch_size: int = option(64, "samples per batch")
    lr: float | None = option(None, "learning rate of both players (default: the loss's, listed below)")
    betas: tuple[float, float] | None = option(None, "Adam's betas (default: the loss's)")
    n_critic: int | None = option(None, "D updates per G update (default: the loss's)")
    gp_lambda: float = option(10.0, "gradient-penalty weight (wgan-gp, article001)")
    r1_gamma: float = option(10.0, "R1 weight (ns-r1)")
    clip_value: float = option(0.01, "wgan: D's weights are clipped to [-c, c]")
    lr_decay: str = option("none", "linear: both learning rates fall linearly to 0 over the run", choices=LR_DECAYS)
    ema: float = option(0.0, "sample from a moving average of G's weights with this decay, e.g. 0.999 (0: off)")
    pack: int = option(1, "PacGAN: D judges packs of this many samples")
    info_lambda: float = option(1.0, "infogan: weight of the mutual-information term")
    seed: int = option(0, "seed of every random number of the run")
    sample_every: int = option(200, "write a sample grid every N steps")
    checkpoint_every: int = option(500, "write last.npz every N steps")
    eval_every: int = option(0, "compute the eval metrics every N steps into metrics.csv (0: off)")
    progress: bool = option(True, "no progress bar", flag="--no-progress")

    def __post_init__(self):
        def fail(name, expected):
            raise ValueError(f"--{name.replace('_', '-')} must be {expected}, got {getattr(self, name)!r}")

        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            if choices and getattr(self, f.name) is not None and getattr(self, f.name) not in choices:
                fail(f.name, f"one of {', '.join(choices)}")
        for name, least in (("steps", 1), ("batch_size", 1), ("n_critic", 1), ("sample_every", 1),
                            ("checkpoint_every", 1), ("eval_every", 0), ("seed", 0)):
            value = getattr(self, name)
            whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            if value is not None and not (whole and value >= least):
                fail(name, f"an integer >= {least}")
        for name, low, high in (("epochs", 0, math.inf), ("lr", 0, math.inf), ("clip_value", 0, math.inf)):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and low < value < high):
                fail(name, "a positive finite number")
        for name in ("gp_lambda", "r1_gamma", "info_lambda"):
            if not (isinstance(getattr(self, name), (int, float)) and 0 <= getattr(self, name) < math.inf):
                fail(name, "a finite number >= 0")
        if not (isinstance(self.ema, (int, float)) and 0 <= self.ema < 1):
            fail("ema", "a decay in [0, 1), e.g. 0.999 (0: off)")
        if self.betas is not None and not (len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas)):
            fail("betas", "two numbers in [0, 1)")
        check_pack(self.model, self.pack)
        # A NumPy integer would not go into config.json, nor a tuple come back from it as one.
        self.pack = int(self.pack)
        self.betas = None if self.betas is None else (float(self.betas[0]), float(self.betas[1]))
        if self.batch_size % self.pack:
            raise ValueError(f"--batch-size {self.batch_size} does not divide into PacGAN packs of {self.pack}")
        if self.pack > 1 and self.loss in ("wgan-gp", "article001"):
            raise ValueError(f"--pack {self.pack}: the {self.loss} gradient penalty draws one interpolation weight "
                             "per sample, so its points do not lie between a real and a fake pack")
        if self.info_lambda != TrainConfig.info_lambda and self.model != "infogan":
            raise ValueError(f"--info-lambda {self.info_lambda}: only --model infogan has InfoGAN's term, "
                             f"not {self.model}")
        if self.data_dir is not None and self.data not in (None, "mnist"):
            raise ValueError(f"--data-dir replaces MNIST's images, it does not go with --data {self.data}")


def load_data(cfg: TrainConfig, gan: GAN) -> tuple[np.ndarray, np.ndarray]:
    """The training set as arrays: images (N, C, H, W) and labels, or 2-D points."""
    if gan.data == "2d":
        if cfg.data_dir is not None:
            raise ValueError(f"--data-dir gives images; model {gan.name} trains on 2-D points (ring8, grid25)")
        if cfg.data not in ("ring8", "grid25"):
            raise ValueError(f"model {gan.name} trains on 2-D data (ring8, grid25), not {cfg.data!r}")
        points = getattr(data, cfg.data)(100_000, rng=np.random.default_rng(cfg.seed))
        return points, np.zeros(len(points), dtype=np.int64)
    if cfg.data != "mnist":
        raise ValueError(f"model {gan.name} trains on images (--data mnist, or --data-dir), not {cfg.data!r}")
    return data.mnist("train", scale=gan.scale, pad_to=32 if gan.data == "mnist32" else None, data_dir=cfg.data_dir)


class Trainer:
    """Trains ``config``'s GAN; `train` runs it to the end. ``resume=True`` continues the run in
    ``config.out`` from its last.npz."""

    def __init__(self, config: TrainConfig, resume: bool = False):
        self.cfg = cfg = dataclasses.replace(config)  # checks again: a config may be changed after it is made
        if cfg.data_dir is not None and not os.path.isdir(cfg.data_dir):
            raise ValueError(f"--data-dir {cfg.data_dir} is not a directory")
        random.manual_seed(cfg.seed)
        self.gan = build(cfg.model, pack=cfg.pack)
        recipe = LOSSES[cfg.loss].for_data(self.gan.data)
        # The defaults that depend on the model and the loss, filled in (config.json records them):
        self.out: str = cfg.out or os.path.join("runs", cfg.model)
        self.n_critic: int = cfg.n_critic or recipe.n_critic
        lr, betas = cfg.lr or recipe.lr, cfg.betas or recipe.betas
        cfg.out, cfg.n_critic, cfg.lr, cfg.betas = self.out, self.n_critic, lr, betas
        cfg.data = cfg.data or DEFAULT_DATA[self.gan.data]
        self.recipe = recipe
        self.checkpoint_path = self.path("last.npz")
        if resume and not os.path.exists(self.checkpoint_path):
            raise ValueError(f"--resume, but {self.checkpoint_path} does not exist")
        if not resume and os.path.exists(self.checkpoint_path):  # never overwrite a run: it may be all someone has
            raise ValueError(f"{self.out} already holds a run (last.npz); pass --resume to continue it, "
                             "or choose another --out")
        self.G, self.D = self.gan.generator, self.gan.discriminator
        # What weight clipping (wgan) keeps small: the critic's weights, not InfoGAN's Q head.
        self.clipped = [p for name, p in self.D.named_parameters() if not name.startswith("q.")]
        # What samples, evaluations and `minigan sample` see: G itself, or the average of its weights.
        self.ema = optim.EMA(self.G, cfg.ema) if cfg.ema else None
        self.sampler = dataclasses.replace(self.gan, generator=self.ema.module) if self.ema else self.gan
        self.images, self.labels = load_data(cfg, self.gan)
        self.loader = DataLoader(self.images, self.labels, batch_size=cfg.batch_size, seed=cfg.seed)
        self.batches_per_epoch = len(self.loader)
        if self.batches_per_epoch == 0:
            raise ValueError(f"--batch-size {cfg.batch_size} is larger than the {len(self.images)} training samples")
        if cfg.eval_every and self.gan.data == "mnist32":
            raise ValueError(f"--eval-every: the MNIST classifier judges 28x28 digits, model {cfg.model} makes 32x32")
        epoch_steps = math.ceil(cfg.epochs * self.batches_per_epoch / self.n_critic)
        self.total_steps = cfg.steps if cfg.steps is not None else max(1, epoch_steps)
        self.opt_g, self.opt_d = (recipe.optimizer(net.parameters(), lr, betas) for net in (self.G, self.D))
        self.schedulers = [optim.lr_scheduler.LinearLR(opt, 1.0, 0.0, total_iters=self.total_steps)
                           for opt in (self.opt_g, self.opt_d)] if cfg.lr_decay == "linear" else []
        # Fixed noise, from its own generator: the sample grids show one and the same z all along.
        fixed = np.random.default_rng(cfg.seed + 1)
        given = self.gan.given_values  # a grid row per digit (cdcgan) or code (InfoGAN)
        n = 100 if given else (2500 if self.gan.data == "2d" else 64)
        z = fixed.standard_normal((n, self.gan.z_dim)).astype(np.float32)
        # InfoGAN: the rows of a column differ by the code alone
        self.fixed_z = tensor(z[np.arange(n) % 10] if self.gan.codes else z)
        self.fixed_labels = tensor(np.arange(n) // 10 % given) if given else None
        self.step, self.epoch, self.batch = 0, 0, 0
        self.history: list[tuple[int, float, float]] = []  # (step, loss_d, loss_g)
        os.makedirs(self.out, exist_ok=True)
        if resume:
            self.load(self.checkpoint_path)
        elif os.path.exists(self.path("metrics.csv")):
            os.remove(self.path("metrics.csv"))  # left by a run that never reached a checkpoint

    def path(self, name: str) -> str:
        """A file of the run directory."""
        return os.path.join(self.out, name)

    # --- data ---------------------------------------------------------------------------
    def next_batch(self) -> tuple[Tensor, ...]:
        """The next real batch. The loader's order for an epoch depends on (seed, epoch) alone, so a
        resumed run, which knows (epoch, batch), continues exactly where the first one stopped."""
        if self.batch == self.batches_per_epoch:
            self.epoch, self.batch = self.epoch + 1, 0
        self.batch += 1
        return self.loader.batch(self.epoch, self.batch - 1)

    # --- one step -----------------------------------------------------------------------
    def critic(self, labels):
        return (lambda x: self.D(x, labels)) if self.gan.conditional else self.D

    def latent(self, labels):
        """A batch of noise, and what else G is given: the real batch's labels (cdcgan), a random
        code (InfoGAN), or nothing (None)."""
        z = randn(self.cfg.batch_size, self.gan.z_dim)
        if self.gan.conditional:
            return z, labels
        return z, randint(self.gan.codes, (self.cfg.batch_size,)) if self.gan.codes else None

    def generate(self, z, given):
        return self.G(z) if given is None else self.G(z, given)

    def info(self, fake, codes):
        """InfoGAN's mutual-information term, in D's loss (for its Q head) and in G's."""
        return L.info_loss(self.D.code_logits(fake), codes, self.cfg.info_lambda)

    def train_step(self) -> dict[str, float]:
        cfg = self.cfg
        for _ in range(self.n_critic):
            real, labels = self.next_batch()
            z, given = self.latent(labels)
            with no_grad():  # D's step needs no graph through G
                fake = self.generate(z, given)
            loss_d = self.recipe.d_loss(self.critic(labels), real, fake, cfg)
            if self.gan.codes:
                loss_d = loss_d + self.info(fake, given)
            self._update(self.opt_d, loss_d, self.D, "discriminator")
            if self.recipe.clip:
                L.clip_weights_(self.clipped, cfg.clip_value)
        z, given = self.latent(labels)
        fake = self.generate(z, given)
        loss_g = self.recipe.g_loss(self.critic(labels), real, fake, cfg)
        if self.gan.codes:
            loss_g = loss_g + self.info(fake, given)
        self._update(self.opt_g, loss_g, self.G, "generator")
        for scheduler in self.schedulers:
            scheduler.step()
        if self.ema:
            self.ema.update(self.G)
        self.step += 1
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}

    def _update(self, optimizer, loss, module, name):
        """One optimizer step on the gradients of ``loss`` for ``module``'s parameters only (``grad``
        skips the other network's weight gradients). A NaN or inf loss or gradient stops the run
        *before* the step, so the weights, and any checkpoint written later, stay finite."""
        params = list(module.parameters())
        grads = grad(loss, params, allow_unused=True)
        bad = [n for n, g in zip(module.named_parameters(), grads) if g is not None and not g.xp.isfinite(g.data).all()]
        if not math.isfinite(loss.item()) or bad:
            what = f"the {name} loss is {loss.item()}" if not math.isfinite(loss.item()) else \
                f"the gradient of {name} parameter {bad[0][0]} is not finite"
            raise TrainingDiverged(f"training stopped at step {self.step + 1}: {what}; the last good checkpoint "
                                   f"is {self.checkpoint_path} (step {self._checkpoint_step()})")
        for p, g in zip(params, grads):
            p.grad = g
        optimizer.step()

    # --- the run ------------------------------------------------------------------------
    def train(self) -> str:
        """Train to ``total_steps``; returns "done" or "interrupted". Raises TrainingDiverged on NaN."""
        cfg = self.cfg
        with open(self.path("config.json"), "w") as f:
            json.dump(dataclasses.asdict(cfg), f, indent=2)
        log = self._open_log()
        interrupted, previous = [], None
        bar = progress_bar(self.total_steps, initial=self.step, desc=f"{cfg.model}/{cfg.loss}", enabled=cfg.progress)
        try:
            if _main_thread():  # Ctrl-C only raises a flag: the step in flight completes first
                previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
            while self.step < self.total_steps and not interrupted:
                row = self.train_step()
                self.history.append((self.step, row["loss_d"], row["loss_g"]))
                log.writerow([self.step, self.epoch, repr(row["loss_d"]), repr(row["loss_g"])])
                bar.set_postfix(D=f"{row['loss_d']:.4f}", G=f"{row['loss_g']:.4f}", refresh=False)
                bar.update()
                if self.step % cfg.sample_every == 0 or self.step == self.total_steps:
                    self.save_samples()
                if cfg.eval_every and (self.step % cfg.eval_every == 0 or self.step == self.total_steps):
                    self.evaluate()
                if self.step % cfg.checkpoint_every == 0 or self.step == self.total_steps:
                    self.save(self.checkpoint_path)
            if interrupted:
                self.save(self.checkpoint_path)
        finally:
            bar.close()
            self._log_file.close()
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            if self.history:
                self.save_loss_curves()
        return "interrupted" if interrupted else "done"

    def _open_log(self):
        """losses.csv, cut back to the checkpoint's step when resuming (rows after it are redone)."""
        path = self.path("losses.csv")
        rows = []
        if self.step and os.path.exists(path):
            with open(path) as f:
                rows = list(csv.reader(f))[1:]
            rows = [r for r in rows if int(r[0]) <= self.step]
        self._log_file = open(path, "w", newline="", buffering=1)  # noqa: SIM115  (train() closes it)
        log = csv.writer(self._log_file)
        log.writerow(["step", "epoch", "loss_d", "loss_g"])
        log.writerows(rows)
        self.history = [(int(r[0]), float(r[2]), float(r[3])) for r in rows]
        return log

    # --- evaluation ---------------------------------------------------------------------
    def evaluate(self) -> dict[str, float]:
        """Metrics of fresh samples into metrics.csv and metrics.png. Uses its own random numbers,
        so evaluating does not change the training run."""
        from .. import evaluation, plotting

        rng_state = random.get_rng_state()  # (building the classifier draws initial weights)
        n = 2500 if self.gan.data == "2d" else 2000
        data_name = cast(str, self.cfg.data)  # None only until __init__ fills in the model's default
        result = evaluation.evaluate(self.sampler, n, data_name, seed=self.step)
        random.set_rng_state(rng_state)
        keys = evaluation.metric_keys(self.gan)
        path = self.path("metrics.csv")
        rows = []
        if os.path.exists(path):  # by column name: a run resumed on newer code may record more metrics
            with open(path) as f:
                rows = [[r["step"], *(r.get(k) or "nan" for k in keys)]
                        for r in csv.DictReader(f) if int(r["step"]) < self.step]
        rows.append([str(self.step)] + [repr(float(result[k])) for k in keys])
        with open(path, "w", newline="") as f:
            csv.writer(f).writerows([["step", *keys], *rows])
        steps = [int(r[0]) for r in rows]
        plotting.save_metric_curves(steps, {k: [float(r[i + 1]) for r in rows] for i, k in enumerate(keys)},
                                    self.path("metrics.png"), title=f"{self.cfg.model} / {self.cfg.loss}")
        return result

    # --- pictures -----------------------------------------------------------------------
    def save_samples(self) -> None:
        from .. import plotting

        samples = self.sampler.sample(self.fixed_z, self.fixed_labels)
        title = f"{self.cfg.model} / {self.cfg.loss}, step {self.step}"
        for name in (f"samples_{self.step:06d}.png", "samples.png"):
            path = self.path(name)
            if self.gan.data == "2d":
                modes = getattr(data, f"{self.cfg.data}_modes")()
                plotting.save_points(samples, path, modes=modes, real=self.images[:2500], title=title,
                                     limit=1.6 if self.cfg.data == "ring8" else 5.5)
            else:
                plotting.save_image_grid(samples, path, title=title,
                                         value_range=(0.0, 1.0) if self.gan.scale == "unit" else (-1.0, 1.0))

    def save_loss_curves(self) -> None:
        from .. import plotting

        steps, d, g = zip(*self.history)
        plotting.save_loss_curves(steps, {"discriminator": d, "generator": g}, self.path("losses.png"),
                                  title=f"{self.cfg.model} / {self.cfg.loss}")

    # --- checkpoints --------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        state = {
            "config": dataclasses.asdict(self.cfg),
            "step": self.step, "epoch": self.epoch, "batch": self.batch,
            "rng": json.dumps(random.get_rng_state()),
            "generator": self.G.state_dict(), "discriminator": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
        }
        if self.ema:
            state["generator_ema"] = self.ema.module.state_dict()
        return state

    def networks(self) -> list[tuple[str, Module]]:
        """What a checkpoint holds weights of, by name: G, D and the moving average of G (--ema)."""
        return [("generator", self.G), ("discriminator", self.D)] + ([("averaged generator", self.ema.module)]
                                                                      if self.ema else [])

    def save(self, path: str) -> None:
        """Write a checkpoint; refuse one with a NaN or inf weight, so that last.npz stays the last good one."""
        for name, net in self.networks():
            bad = nonfinite_parameter(net)
            if bad:
                raise TrainingDiverged(f"training stopped at step {self.step}: {name} parameter {bad} is not finite; "
                                       f"the last good checkpoint is {self.checkpoint_path} "
                                       f"(step {self._checkpoint_step()})")
        checkpoint.save(path, self.state())

    def load(self, path: str) -> None:
        state = checkpoint.load(path)
        saved, now = state["config"], dataclasses.asdict(self.cfg)
        defaults = dataclasses.asdict(TrainConfig())  # for keys that older checkpoints lack
        if saved.get("data") == "idx":  # how older versions recorded --data-dir's images
            saved["data"] = "mnist"
        for key in ("model", "loss") + RESUMABLE_MUST_MATCH:
            was = saved.get(key, defaults[key])
            if _comparable(was) != _comparable(now[key]):
                raise checkpoint.CheckpointError(f"checkpoint {path} is for {key} {was!r}, not {now[key]!r}: a resumed "
                                                 "run continues the same run (only --steps/--epochs may change)")
        try:
            self.G.load_state_dict(state["generator"])
            self.D.load_state_dict(state["discriminator"])
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
            if self.ema:
                self.ema.module.load_state_dict(state["generator_ema"])
                self.ema.num_updates = int(state["step"])
        except (KeyError, ValueError, RuntimeError) as error:
            raise checkpoint.CheckpointError(f"checkpoint {path} does not fit this model: {error}") from None
        for name, net in self.networks():
            bad = nonfinite_parameter(net)
            if bad:
                raise checkpoint.CheckpointError(f"checkpoint {path} has a NaN or inf weight ({name} parameter {bad}): "
                                                 "a run cannot continue from it")
        self.step, self.epoch, self.batch = int(state["step"]), int(state["epoch"]), int(state["batch"])
        for scheduler in self.schedulers:  # the rates the schedule gives at this step
            scheduler.load_state_dict({"last_epoch": self.step, "base_lrs": scheduler.base_lrs})
        random.set_rng_state(json.loads(state["rng"]))

    def _checkpoint_step(self):
        try:
            return int(checkpoint.load(self.checkpoint_path)["step"])
        except checkpoint.CheckpointError:
            return "none yet"


# What a resumed run must share with the run it continues, for its losses to be the same.
RESUMABLE_MUST_MATCH = ("data", "data_dir", "batch_size", "lr", "betas", "n_critic", "gp_lambda", "r1_gamma",
                        "clip_value", "lr_decay", "ema", "pack", "info_lambda", "seed")


def _comparable(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def _main_thread():
    return threading.current_thread() is threading.main_thread()
