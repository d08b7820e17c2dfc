"""What every training run shares, GAN or VAE: its options, its directory, its log, its checkpoints.

`TrainConfig` holds every option of `minigan train`; `Run` is the loop around a model's own step
(`minigan.gan.training.Trainer`, `minigan.vae.training.VAETrainer`). A run directory collects:

    config.json     the configuration, defaults filled in
    losses.csv      one row per step: the step's losses (for a GAN also D's outputs and the
                    gradient norms), written as exact decimals
    losses.png      their curves
    samples_*.png   what the model draws, every ``sample_every`` steps (and more, by model)
    metrics.csv     with ``eval_every``: the eval metrics, and metrics.png
    last.npz        the newest checkpoint: models, optimizers, step, data position, RNG state

Runs are deterministic on one machine and BLAS build (same seed, same losses, bit for bit), and
``resume=True`` continues from ``last.npz`` to exactly the losses of an uninterrupted run. A NaN
or inf loss, gradient or weight stops the run with a message, and last.npz stays the last good
checkpoint; Ctrl-C saves a checkpoint at the end of the current step. Progress shows as a tqdm
bar (``progress=False``, ``--no-progress``: none).
"""
from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from . import checkpoint, random
from .autograd import grad
from .data import DataLoader
from .gan.recipes import LOSSES
from .models import MODELS, check_pack, nonfinite_parameter
from .nn import Module
from .optim import Optimizer
from .optim.lr_scheduler import LinearLR
from .progress import progress_bar
from .tensor import Tensor
from .vae.models import LIKELIHOODS

LR_DECAYS = ("none", "linear")
# The options of one kind of model only: the other kind refuses them.
GAN_OPTIONS = ("n_critic", "gp_lambda", "r1_gamma", "noise_std", "lambda1", "lambda2", "lambda3", "lambda4",
               "clip_value", "ema", "pack", "info_lambda")
VAE_OPTIONS = ("latent_dim", "likelihood", "beta", "kl_warmup", "binarize")
DATASETS = ("mnist", "ring8", "grid25")


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


def global_norm(arrays: Sequence[Any]) -> float:
    """The L2 norm of all the arrays' entries together (NumPy or CuPy): a dot product in the arrays'
    dtype, which is fast, redone in float64 only where that sum of squares overflows. A NaN or inf
    entry makes the norm NaN or inf (and so does a norm beyond float64's range)."""
    with np.errstate(over="ignore"):  # an overflow is redone in float64, or is the answer
        squares = sum(float(a.ravel() @ a.ravel()) for a in arrays)
        if not math.isfinite(squares):
            squares = sum(float((a.astype(np.float64) ** 2).sum()) for a in arrays)
    return math.sqrt(squares)


def option(default: Any, help: str, **cli: Any) -> Any:
    """A `TrainConfig` field and its `minigan train` option, which `minigan.cli` builds from it:
    ``help``, and argparse's ``choices`` or ``flag`` (a switch's name, e.g. ``--no-progress``)."""
    return dataclasses.field(default=default, metadata={"help": help, **cli})


@dataclasses.dataclass
class TrainConfig:
    """Everything a run is: `minigan train`'s options are these fields, with these defaults and help.

    None means "the loss's" (lr, betas, n_critic, gp_lambda, noise_std, lr_decay, batch_size, and steps where
    neither steps nor epochs is given: `minigan.gan.recipes`, which may set others for 2-D data) or
    "the model's" (data: ring8 for the toy model, else mnist; out: runs/MODEL; a VAE's learning
    rate, batch size and latent size); the trainer fills them in, and config.json records the
    values used. A resumed run fills them from the run it continues. Every value is checked here,
    once.
    """

    model: str = option("dcgan", "the networks (see `minigan models`)", choices=tuple(MODELS))
    loss: str | None = option(None, "a GAN's loss (default: ns); a VAE has its own", choices=tuple(LOSSES))
    data: str | None = option(None, "mnist (images), or ring8, grid25 (2-D points); default: the model's",
                              choices=DATASETS)
    data_dir: str | None = option(None, "a folder of IDX files (e.g. Fashion-MNIST) instead of the bundled MNIST")
    out: str | None = option(None, "the run directory (default: runs/MODEL)")
    epochs: float | None = option(None, "passes over the data (default: 1, or the loss's number of steps where it "
                                  "has one, as wgan-gp has)")
    steps: int | None = option(None, "stop after this many updates (of G, for a GAN; overrides --epochs)")
    batch_size: int | None = option(None, "samples per batch (default: 64; the loss's on 2-D data)")
    lr: float | None = option(None, "learning rate (default: the loss's, listed below; a VAE's 1e-3)")
    betas: tuple[float, float] | None = option(None, "Adam's betas (default: the loss's; a VAE's 0.9 0.999)")
    n_critic: int | None = option(None, "GAN: D updates per G update (default: the loss's)")
    gp_lambda: float | None = option(None, "wgan-gp: the gradient penalty's weight (default: the loss's)")
    r1_gamma: float = option(10.0, "R1 weight (ns-r1)")
    noise_std: float | None = option(None, "instance noise on D's inputs: its standard deviation at the first step, "
                                     "falling linearly to 0 at the end of the run (default: the loss's; 0: none)")
    lambda1: float = option(1.0, "article001: the weight of G's adversarial loss")
    lambda2: float = option(0.0, "article001: the weight of G's gradient penalty")
    lambda3: float = option(1.0, "article001: the weight of D's adversarial loss")
    lambda4: float = option(10.0, "article001: the weight of D's gradient penalty")
    clip_value: float = option(0.01, "wgan: D's weights are clipped to [-c, c]")
    lr_decay: str | None = option(None, "linear: the learning rates fall linearly to 0 over the run (default: the "
                                  "loss's; a VAE's none)", choices=LR_DECAYS)
    ema: float = option(0.0, "GAN: sample from a moving average of G's weights with this decay, e.g. 0.999 (0: off)")
    pack: int = option(1, "PacGAN: D judges packs of this many samples")
    info_lambda: float = option(1.0, "infogan: weight of the mutual-information term")
    latent_dim: int | None = option(None, "VAE: the size of z (default: the model's, 20)")
    likelihood: str = option("bernoulli", "VAE: p(x|z), bernoulli (logits) or gaussian (MSE)", choices=LIKELIHOODS)
    beta: float = option(1.0, "VAE: the weight of the KL term (beta-VAE)")
    kl_warmup: int = option(0, "VAE: beta rises linearly from 0 over this many steps (0: off)")
    binarize: bool = option(False, "VAE: train on dynamically binarised MNIST, where Bernoulli is a true likelihood",
                            flag="--binarize")
    seed: int = option(0, "seed of every random number of the run")
    sample_every: int = option(200, "write a sample grid every N steps")
    checkpoint_every: int = option(500, "write last.npz every N steps")
    eval_every: int = option(0, "compute the eval metrics every N steps into metrics.csv (0: off)")
    progress: bool = option(True, "no progress bar", flag="--no-progress")

    @property
    def is_vae(self) -> bool:
        return MODELS[self.model].kind == "vae"

    def __post_init__(self) -> None:
        def fail(name: str, expected: str) -> None:
            raise ValueError(f"--{name.replace('_', '-')} must be {expected}, got {getattr(self, name)!r}")

        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            if choices and getattr(self, f.name) is not None and getattr(self, f.name) not in choices:
                fail(f.name, f"one of {', '.join(choices)}")
        for name, least in (("steps", 1), ("batch_size", 1), ("n_critic", 1), ("sample_every", 1),
                            ("checkpoint_every", 1), ("eval_every", 0), ("seed", 0), ("latent_dim", 1),
                            ("kl_warmup", 0)):
            value = getattr(self, name)
            whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            if value is not None and not (whole and value >= least):
                fail(name, f"an integer >= {least}")
        for name in ("epochs", "lr", "clip_value"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and 0 < value < math.inf):
                fail(name, "a positive finite number")
        for name in ("gp_lambda", "r1_gamma", "noise_std", "lambda1", "lambda2", "lambda3", "lambda4", "info_lambda",
                     "beta"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and 0 <= value < math.inf):
                fail(name, "a finite number >= 0")
        if not (isinstance(self.ema, (int, float)) and 0 <= self.ema < 1):
            fail("ema", "a decay in [0, 1), e.g. 0.999 (0: off)")
        if self.betas is not None and not (len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas)):
            fail("betas", "two numbers in [0, 1)")
        if not isinstance(self.binarize, bool) or not isinstance(self.progress, bool):
            raise ValueError(f"binarize and progress must be True or False, got {self.binarize!r}, {self.progress!r}")
        self._check_kind()
        check_pack(self.model, self.pack)
        # A NumPy integer would not go into config.json, nor a tuple come back from it as one.
        self.pack = int(self.pack)
        self.betas = None if self.betas is None else (float(self.betas[0]), float(self.betas[1]))
        self.check_batch_size()
        if self.pack > 1 and self.loss in ("wgan-gp", "article001"):
            raise ValueError(f"--pack {self.pack}: the {self.loss} gradient penalty draws one interpolation weight "
                             "per sample, so its points do not lie between a real and a fake pack")
        changed = [name for name in ("lambda1", "lambda2", "lambda3", "lambda4")
                   if getattr(self, name) != getattr(TrainConfig, name)]
        if changed and self.loss != "article001":
            raise ValueError(f"--{changed[0]} weighs a term of article 001's objectives: it needs --loss article001, "
                             f"not {self.loss or 'the default'}")
        if self.gp_lambda is not None and self.loss != "wgan-gp":
            raise ValueError(f"--gp-lambda weighs WGAN-GP's penalty: it needs --loss wgan-gp, not "
                             f"{self.loss or 'the default'}" + (" (article001 weighs its own with --lambda4)"
                                                                  if self.loss == "article001" else ""))
        if self.info_lambda != TrainConfig.info_lambda and self.model not in ("infogan", "toy_infogan"):
            raise ValueError(f"--info-lambda {self.info_lambda}: only --model infogan or toy_infogan has "
                             f"InfoGAN's term, not {self.model}")
        if self.data_dir is not None and self.data not in (None, "mnist"):
            raise ValueError(f"--data-dir replaces MNIST's images, it does not go with --data {self.data}")

    def check_batch_size(self) -> None:
        """PacGAN's packs divide the batch (checked again once the trainer fills in a default)."""
        if self.batch_size is not None and self.batch_size % self.pack:
            raise ValueError(f"--batch-size {self.batch_size} does not divide into PacGAN packs of {self.pack}")

    def foreign_options(self) -> tuple[str, ...]:
        """The options of the other kind of model: a GAN's for a VAE, a VAE's for a GAN."""
        return GAN_OPTIONS if self.is_vae else VAE_OPTIONS

    def _check_kind(self) -> None:
        """The options of the other kind of model are refused, not ignored."""
        defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
        if self.is_vae:
            if self.loss is not None:
                raise ValueError(f"--loss does not apply to a VAE (model {self.model}): it minimises the "
                                 "negative ELBO, weighted by --beta")
            if self.data not in (None, "mnist"):
                raise ValueError(f"model {self.model} is a VAE of 28x28 images (--data mnist, or --data-dir), "
                                 f"not {self.data}")
        given = [name for name in self.foreign_options() if getattr(self, name) != defaults[name]]
        if given:
            option = "--" + given[0].replace("_", "-")
            raise ValueError(f"{option} does not apply to model {self.model}, a {'VAE' if self.is_vae else 'GAN'}")


# What a resumed run must share with the run it continues, for its losses to be the same.
RESUMABLE_MUST_MATCH = ("model", "loss", "data", "data_dir", "batch_size", "lr", "betas", "n_critic", "gp_lambda",
                        "r1_gamma", "noise_std", "lambda1", "lambda2", "lambda3", "lambda4", "clip_value", "lr_decay",
                        "ema", "pack", "info_lambda", "latent_dim", "likelihood", "beta", "kl_warmup", "binarize",
                        "seed")


class Run:
    """The loop every model's trainer shares; a subclass builds its model and says what one step is.

    A subclass sets ``columns`` (what a step returns: losses.csv's columns after step and epoch;
    ``column_labels``, ``progress_columns`` and `curve_panels` say how to show them), and in
    ``__init__``, after ``super().__init__``: ``self.loader`` (a `DataLoader`), ``self.total_steps``
    and ``self.optimizers`` ({name: optimizer}, saved in checkpoints), then calls `begin`. It writes
    `train_step`, `networks`, `save_samples` and `evaluate`.
    """

    columns: tuple[str, ...] = ()
    progress_columns: tuple[str, ...] = ()  # the columns the progress bar shows (default: all)
    column_labels: ClassVar[dict[str, str]] = {}  # a column's name on the progress bar and the plots, where not its own
    log_panels: tuple[str, ...] = ()  # the panels of losses.png drawn on a log scale
    loader: DataLoader
    total_steps: int
    optimizers: dict[str, Optimizer]

    def __init__(self, config: TrainConfig, resume: bool = False) -> None:
        self.cfg = cfg = dataclasses.replace(config)  # checks again: a config may be changed after it is made
        if cfg.data_dir is not None and not os.path.isdir(cfg.data_dir):
            raise ValueError(f"--data-dir {cfg.data_dir} is not a directory")
        self.out: str = cfg.out or os.path.join("runs", cfg.model)
        cfg.out = self.out
        self.checkpoint_path = self.path("last.npz")
        if resume and not os.path.exists(self.checkpoint_path):
            raise ValueError(f"--resume, but {self.checkpoint_path} does not exist")
        if not resume and os.path.exists(self.checkpoint_path):  # never overwrite a run: it may be all someone has
            raise ValueError(f"{self.out} already holds a run (last.npz); pass --resume to continue it, "
                             "or choose another --out")
        # The checkpoint to continue, read once: its config here, the rest in `begin`.
        self.resumed: dict[str, Any] | None = checkpoint.load(self.checkpoint_path) if resume else None
        if self.resumed is not None:
            # An option left to its default (None) takes the value the run began with, so that a run
            # resumes as it began even where a newer minigan's defaults differ. --steps and --epochs
            # go together: giving either is a new length for the run.
            saved = saved_config(self.resumed)
            kept = [f.name for f in dataclasses.fields(cfg) if f.name not in cfg.foreign_options()
                    and getattr(cfg, f.name) is None and saved.get(f.name) is not None]
            if cfg.steps is not None or cfg.epochs is not None:
                kept = [name for name in kept if name not in ("steps", "epochs")]
            self.cfg = cfg = dataclasses.replace(cfg, **{name: saved[name] for name in kept})
        self.step, self.epoch, self.batch = 0, 0, 0
        self.history: list[tuple[float, ...]] = []  # (step, *losses)
        self.schedulers: list[LinearLR] = []
        random.manual_seed(cfg.seed)

    def begin(self) -> None:
        """Called at the end of a subclass's ``__init__``: the directory, and the checkpoint to resume."""
        self.batches_per_epoch = len(self.loader)
        if self.batches_per_epoch == 0:
            raise ValueError(f"--batch-size {self.cfg.batch_size} is larger than the {len(self.loader.arrays[0])} "
                             "training samples")
        if self.cfg.lr_decay == "linear":
            # --lr-decay linear: each learning rate falls linearly to 0 after the last step
            self.schedulers = [LinearLR(opt, 1.0, 0.0, total_iters=self.total_steps)
                               for opt in self.optimizers.values()]
        os.makedirs(self.out, exist_ok=True)
        if self.resumed is not None:
            self.load(self.resumed)
            self.resumed = None  # its arrays are in the networks and optimizers now
        elif os.path.exists(self.path("metrics.csv")):
            os.remove(self.path("metrics.csv"))  # left by a run that never reached a checkpoint

    def path(self, name: str) -> str:
        """A file of the run directory."""
        return os.path.join(self.out, name)

    def steps_for_epochs(self, batches_per_step: int = 1) -> int:
        """``cfg.steps``, or the steps ``cfg.epochs`` (default 1) passes over the data take."""
        if self.cfg.steps is not None:
            return self.cfg.steps
        return max(1, math.ceil((self.cfg.epochs or 1) * len(self.loader) / batches_per_step))

    # --- what a subclass writes -----------------------------------------------------------
    def train_step(self) -> dict[str, float]:
        raise NotImplementedError

    def networks(self) -> dict[str, Module]:
        """The networks a checkpoint holds, by their keys in it."""
        raise NotImplementedError

    def save_samples(self) -> None:
        raise NotImplementedError

    def evaluate(self) -> dict[str, float]:
        raise NotImplementedError

    # --- data -----------------------------------------------------------------------------
    def next_batch(self) -> tuple[Tensor, ...]:
        """The next real batch. The loader's order for an epoch depends on (seed, epoch) alone, so a
        resumed run, which knows (epoch, batch), continues exactly where the first one stopped."""
        if self.batch == self.batches_per_epoch:
            self.epoch, self.batch = self.epoch + 1, 0
        self.batch += 1
        return self.loader.batch(self.epoch, self.batch - 1)

    # --- one update -----------------------------------------------------------------------
    def update(self, optimizer: Optimizer, loss: Tensor, module: Module, name: str) -> float:
        """One optimizer step on the gradients of ``loss`` for ``module``'s parameters only (``grad``
        skips other networks' weight gradients); returns the gradients' global L2 norm, as PyTorch's
        ``clip_grad_norm_`` measures it. A NaN or inf loss or gradient stops the run *before* the
        step, so the weights, and any checkpoint written later, stay finite."""
        params = list(module.parameters())
        grads = grad(loss, params, allow_unused=True)
        # A NaN or inf in any gradient makes the norm NaN or inf, so the gradients are searched for
        # one only when the norm is not finite (finite ones can still overflow it, and pass).
        norm = global_norm([g.data for g in grads if g is not None])
        bad = [] if math.isfinite(norm) else [n for n, g in zip(module.named_parameters(), grads)
                                              if g is not None and not g.xp.isfinite(g.data).all()]
        value = loss.item()  # one read of the loss (from a GPU, a copy to the host)
        if not math.isfinite(value) or bad:
            what = f"the {name} loss is {value}" if not math.isfinite(value) else \
                f"the gradient of {name} parameter {bad[0][0]} is not finite"
            raise TrainingDiverged(f"training stopped at step {self.step + 1}: {what}; the last good checkpoint "
                                   f"is {self.checkpoint_path} (step {self._checkpoint_step()})")
        for p, g in zip(params, grads):
            p.grad = g
        optimizer.step()
        return norm

    def end_step(self) -> None:
        """After a step's updates: the learning-rate schedule moves on, and the step is counted."""
        for scheduler in self.schedulers:
            scheduler.step()
        self.step += 1

    # --- the run --------------------------------------------------------------------------
    def train(self, watch: Callable[[Run], None] | None = None) -> str:
        """Train to ``total_steps``; returns "done" or "interrupted". Raises TrainingDiverged on NaN.

        ``watch``, if given, is called with the run before its first step (a resumed run: at the step
        it resumes from) and after each completed step, once the samples, evaluation and checkpoint
        due at that step are written (after Ctrl-C: before the checkpoint the interruption writes);
        not after a step that diverges, and an exception in it ends the run. A way to look at
        training as it goes without changing it, such as `plotting.FrameRecorder`, which films a
        2-D GAN."""
        cfg = self.cfg
        with open(self.path("config.json"), "w") as f:
            json.dump(dataclasses.asdict(cfg), f, indent=2)
        log = self._open_log()
        interrupted: list[bool] = []
        previous = None
        bar = progress_bar(self.total_steps, initial=self.step, desc=self.progress_title(), enabled=cfg.progress)
        try:
            if threading.current_thread() is threading.main_thread():  # Ctrl-C raises a flag: the step completes
                previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
            if watch is not None:
                watch(self)
            while self.step < self.total_steps and not interrupted:
                row = self.train_step()
                values = [row[c] for c in self.columns]
                self.history.append((self.step, *values))
                log.writerow([self.step, self.epoch, *map(repr, values)])
                shown = self.progress_columns or self.columns
                bar.set_postfix({self.column_labels.get(c, c): f"{row[c]:.4f}" for c in shown}, refresh=False)
                bar.update()
                if self.step % cfg.sample_every == 0 or self.step == self.total_steps:
                    self.save_samples()
                if cfg.eval_every and (self.step % cfg.eval_every == 0 or self.step == self.total_steps):
                    self.evaluate()
                if self.step % cfg.checkpoint_every == 0 or self.step == self.total_steps:
                    self.save(self.checkpoint_path)
                if watch is not None:
                    watch(self)
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

    def title(self) -> str:
        """The run in a few words, for the titles of its pictures: model / loss."""
        return f"{self.cfg.model} / {self.cfg.loss}" if self.cfg.loss else self.cfg.model

    def progress_title(self) -> str:
        """The progress bar's description."""
        return self.title()

    def _open_log(self) -> Any:
        """losses.csv, cut back to the checkpoint's step when resuming (rows after it are redone). Old
        rows are read by column name: one written by an older version lacks the newer columns (NaN)."""
        path = self.path("losses.csv")
        rows: list[list[str]] = []
        if self.step and os.path.exists(path):
            with open(path) as f:
                rows = [[r["step"], r["epoch"], *(r.get(c) or "nan" for c in self.columns)]
                        for r in csv.DictReader(f) if int(r["step"]) <= self.step]
        self._log_file = open(path, "w", newline="", buffering=1)  # noqa: SIM115  (train() closes it)
        log = csv.writer(self._log_file)
        log.writerow(["step", "epoch", *self.columns])
        log.writerows(rows)
        self.history = [(int(r[0]), *(float(v) for v in r[2:])) for r in rows]
        return log

    def save_loss_curves(self) -> None:
        """losses.png: the columns of losses.csv against the step, in the panels `curve_panels` groups."""
        from . import plotting

        steps, *curves = zip(*self.history)
        panels = self.curve_panels(dict(zip(self.columns, curves)))
        plotting.save_loss_curves(steps, panels, self.path("losses.png"), title=self.title(), log_scale=self.log_panels)

    def curve_panels(self, curves: dict[str, Sequence[float]]) -> dict[str, dict[str, Sequence[float]]]:
        """losses.png's panels, {title: {curve name: values}}, from the values of each column."""
        return {"losses": {self.column_labels.get(c, c): v for c, v in curves.items()}}

    def record_metrics(self, result: dict[str, Any], keys: Sequence[str]) -> None:
        """One row of metrics.csv (``keys`` of ``result``) at this step, and metrics.png."""
        from . import plotting

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
                                    self.path("metrics.png"), title=self.title())

    # --- checkpoints ----------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "config": dataclasses.asdict(self.cfg),
            "step": self.step, "epoch": self.epoch, "batch": self.batch,
            "rng": json.dumps(random.get_rng_state()),
            **{key: net.state_dict() for key, net in self.networks().items()},
            **{key: opt.state_dict() for key, opt in self.optimizers.items()},
        }

    def save(self, path: str) -> None:
        """Write a checkpoint; refuse one with a NaN or inf weight, so that last.npz stays the last good one."""
        for name, net in self.networks().items():
            bad = nonfinite_parameter(net)
            if bad:
                raise TrainingDiverged(f"training stopped at step {self.step}: {name} parameter {bad} is not finite; "
                                       f"the last good checkpoint is {self.checkpoint_path} "
                                       f"(step {self._checkpoint_step()})")
        checkpoint.save(path, self.state())

    def load(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint of this run directory (``state``, as `checkpoint.load` read it)."""
        path = self.checkpoint_path
        saved, now = saved_config(state), dataclasses.asdict(self.cfg)
        for key in RESUMABLE_MUST_MATCH:
            if key in self.cfg.foreign_options():  # older versions recorded a GAN's options for a VAE too
                continue
            was = saved[key]
            if _comparable(was) != _comparable(now[key]):
                raise checkpoint.CheckpointError(f"checkpoint {path} is for {key} {was!r}, not {now[key]!r}: a resumed "
                                                 "run continues the same run (only --steps/--epochs may change)")
        try:
            for key, net in self.networks().items():
                net.load_state_dict(state[key])
            for key, opt in self.optimizers.items():
                opt.load_state_dict(state[key])
        except (KeyError, ValueError, RuntimeError) as error:
            raise checkpoint.CheckpointError(f"checkpoint {path} does not fit this model: {error}") from None
        for name, net in self.networks().items():
            bad = nonfinite_parameter(net)
            if bad:
                raise checkpoint.CheckpointError(f"checkpoint {path} has a NaN or inf weight ({name} parameter {bad}): "
                                                 "a run cannot continue from it")
        self.step, self.epoch, self.batch = int(state["step"]), int(state["epoch"]), int(state["batch"])
        for scheduler in self.schedulers:  # the rates the schedule gives at this step
            scheduler.load_state_dict({"last_epoch": self.step, "base_lrs": scheduler.base_lrs})
        random.set_rng_state(json.loads(state["rng"]))

    def _checkpoint_step(self) -> int | str:
        try:
            return int(checkpoint.load(self.checkpoint_path)["step"])
        except checkpoint.CheckpointError:
            return "none yet"


def saved_config(state: dict[str, Any]) -> dict[str, Any]:
    """The config a checkpoint (``state``, as `checkpoint.load` read it) was trained with, in this
    version's terms: what older versions left out or spelled otherwise, as they meant it."""
    saved = dict(state["config"])
    if saved.get("data") == "idx":  # how older versions recorded --data-dir's images
        saved["data"] = "mnist"
    saved.setdefault("noise_std", 0.0)  # no instance noise before it existed
    saved.setdefault("lr_decay", "none")  # nor a learning-rate schedule
    if saved.get("loss") == "article001" and "lambda4" not in saved:  # --gp-lambda weighed its D's penalty
        saved["lambda4"] = saved.get("gp_lambda", TrainConfig.lambda4)
    if saved.get("loss") != "wgan-gp":  # older versions recorded a penalty weight for every loss
        saved["gp_lambda"] = None
    defaults = dataclasses.asdict(TrainConfig())
    return {**defaults, **{k: v for k, v in saved.items() if k in defaults}}


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value
