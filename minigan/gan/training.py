"""Training a GAN: alternating discriminator and generator updates.

One *step* is one generator update, preceded by ``n_critic`` discriminator updates (1 for the
cross-entropy losses, 5 for the Wasserstein ones; each loss's record is in `minigan.gan.recipes`).
What every run shares (options, run directory, log, checkpoints, resume, progress, the NaN guard)
is `minigan.training.Run`; this file is what is a GAN's own.

Beyond the losses (their effect is measured in `benchmarks/mode_collapse.py`):
``lr_decay="linear"`` takes both learning rates linearly to 0 by the end, so the players settle
instead of circling their equilibrium; ``ema=0.999`` keeps a moving average of G's weights
(`minigan.optim.EMA`), and the samples, the evaluations and `minigan sample`/`eval` then use it;
``pack=m`` is PacGAN: D judges packs of m samples. For InfoGAN, ``info_lambda`` weighs the
mutual-information term, which both logged losses include. The decay spans the run's total steps,
so a run resumed with another ``--steps`` continues on the new schedule.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar, cast

import numpy as np

from .. import data, ops, optim, random
from ..autograd import no_grad
from ..creation import randint, randn, tensor
from ..data import DataLoader
from ..nn import Module
from ..tensor import Tensor
from ..training import Run, TrainConfig, TrainingDiverged
from . import losses as L
from .models import GAN, build
from .recipes import LOSSES

__all__ = ["Trainer", "TrainConfig", "TrainingDiverged", "load_data"]

DEFAULT_DATA = {"2d": "ring8", "mnist": "mnist", "mnist32": "mnist"}  # a model's data when --data is not given


def load_data(cfg: TrainConfig, gan: GAN) -> tuple[np.ndarray, np.ndarray]:
    """The training set as arrays: images (N, C, H, W) and their digits, or 2-D points and the index
    of the mode that drew each (what a conditional toy GAN is given)."""
    if gan.data == "2d":
        if cfg.data_dir is not None:
            raise ValueError(f"--data-dir gives images; model {gan.name} trains on 2-D points (ring8, grid25)")
        if cfg.data not in data.MIXTURES:
            raise ValueError(f"model {gan.name} trains on 2-D data (ring8, grid25), not {cfg.data!r}")
        mixture = data.MIXTURES[cfg.data]
        modes = len(mixture.modes())
        if gan.conditional and modes != gan.num_classes:
            raise ValueError(f"model {gan.name} is given one of {gan.num_classes} modes, but {cfg.data} has {modes}")
        points = mixture.sample(100_000, rng=np.random.default_rng(cfg.seed))
        return points, mixture.nearest_mode(points)
    if cfg.data != "mnist":
        raise ValueError(f"model {gan.name} trains on images (--data mnist, or --data-dir), not {cfg.data!r}")
    return data.mnist("train", scale=gan.scale, pad_to=32 if gan.data == "mnist32" else None, data_dir=cfg.data_dir)


class Trainer(Run):
    """Trains ``config``'s GAN; `train` runs it to the end. ``resume=True`` continues the run in
    ``config.out`` from its last.npz."""

    column_labels: ClassVar[dict[str, str]] = {"loss_d": "D", "loss_g": "G", "d_real": "D(x)", "d_fake": "D(G(z))"}
    progress_columns = ("loss_d", "loss_g", "d_real", "d_fake")
    log_panels = ("gradient norms",)

    def __init__(self, config: TrainConfig, resume: bool = False):
        super().__init__(config, resume)
        cfg = self.cfg
        cfg.loss = cfg.loss or "ns"
        self.gan = build(cfg.model, pack=cfg.pack)
        recipe = self.recipe = LOSSES[cfg.loss].for_data(self.gan.data)
        # The defaults that depend on the model and the loss, filled in (config.json records them):
        self.columns = ("loss_d", "loss_g", "d_real", "d_fake", *(("penalty_grad_norm",) if recipe.penalty else ()),
                        "grad_norm_d", "grad_norm_g")
        self.n_critic: int = cfg.n_critic or recipe.n_critic
        lr, betas = cfg.lr or recipe.lr, cfg.betas or recipe.betas
        cfg.n_critic, cfg.lr, cfg.betas = self.n_critic, lr, betas
        cfg.gp_lambda = recipe.gp_lambda if cfg.gp_lambda is None else cfg.gp_lambda
        cfg.noise_std = recipe.noise_std if cfg.noise_std is None else cfg.noise_std
        cfg.lr_decay = cfg.lr_decay or recipe.lr_decay
        if cfg.steps is None and cfg.epochs is None:
            cfg.steps = recipe.steps
        self.batch_size: int = cfg.batch_size or recipe.batch_size
        cfg.batch_size = self.batch_size
        cfg.check_batch_size()
        cfg.data = cfg.data or DEFAULT_DATA[self.gan.data]
        self.G, self.D = self.gan.generator, self.gan.discriminator
        # What weight clipping (wgan) keeps small: the critic's weights, not InfoGAN's Q head.
        self.clipped = [p for name, p in self.D.named_parameters() if not name.startswith("q.")]
        # What samples, evaluations and `minigan sample` see: G itself, or the average of its weights.
        self.ema = optim.EMA(self.G, cfg.ema) if cfg.ema else None
        self.sampler = dataclasses.replace(self.gan, generator=self.ema.module) if self.ema else self.gan
        self.images, self.labels = load_data(cfg, self.gan)
        self.loader = DataLoader(self.images, self.labels, batch_size=cfg.batch_size, seed=cfg.seed)
        self.total_steps = self.steps_for_epochs(batches_per_step=self.n_critic)
        self.opt_g, self.opt_d = (recipe.optimizer(net.parameters(), lr, betas) for net in (self.G, self.D))
        self.optimizers = {"opt_g": self.opt_g, "opt_d": self.opt_d}
        # Fixed noise, from its own generator: the sample grids show one and the same z all along.
        fixed = np.random.default_rng(cfg.seed + 1)
        given = self.gan.given_values  # a grid row per digit (cdcgan) or code (InfoGAN)
        points = self.gan.data == "2d"  # a cloud of 2,500 points, every label or code as often
        n = 2500 if points else (100 if given else 64)
        z = fixed.standard_normal((n, self.gan.z_dim)).astype(np.float32)
        # InfoGAN: the rows of a column differ by the code alone
        self.fixed_z = tensor(z[np.arange(n) % 10] if self.gan.codes and not points else z)
        self.fixed_labels = tensor(np.arange(n) // (1 if points else 10) % given) if given else None
        self.begin()

    def networks(self) -> dict[str, Module]:
        """G, D and the moving average of G (--ema), by their keys in a checkpoint."""
        averaged = {"generator_ema": self.ema.module} if self.ema else {}
        return {"generator": self.G, "discriminator": self.D, **averaged}

    # --- one step -----------------------------------------------------------------------
    def critic(self, labels):
        return (lambda x: self.D(x, labels)) if self.gan.conditional else self.D

    def latent(self, labels):
        """A batch of noise, and what else G is given: the real batch's labels (cdcgan), a random
        code (InfoGAN), or nothing (None)."""
        z = randn(self.batch_size, self.gan.z_dim)
        if self.gan.conditional:
            return z, labels
        return z, randint(self.gan.codes, (self.batch_size,)) if self.gan.codes else None

    def generate(self, z, given):
        return self.G(z) if given is None else self.G(z, given)

    def info(self, fake, codes):
        """InfoGAN's mutual-information term, in D's loss (for its Q head) and in G's."""
        return L.info_loss(self.D.code_logits(fake), codes, self.cfg.info_lambda)

    def train_step(self) -> dict[str, float]:
        """``n_critic`` updates of D, each on a fresh real batch, then one of G. Besides the losses, it
        returns what D said on the last real and generated batches (before D's update on them), the
        input-gradient norm at a penalty's points, and the global norms of D's and G's gradients."""
        cfg, recipe = self.cfg, self.recipe
        noise = self.noise_std_now()
        for _ in range(self.n_critic):
            real, labels = self.next_batch()
            z, given = self.latent(labels)
            with no_grad():  # D's step needs no graph through G
                fake = self.generate(z, given)
            seen = L.instance_noise(real, noise), L.instance_noise(fake, noise)  # D sees noisy inputs, if any
            judged = recipe.d_loss(self.critic(labels), *seen, cfg)
            loss_d = judged.loss + self.info(fake, given) if self.gan.codes else judged.loss
            grad_norm_d = self.update(self.opt_d, loss_d, self.D, "discriminator")
            if recipe.clip:
                L.clip_weights_(self.clipped, cfg.clip_value)
        z, given = self.latent(labels)
        fake = self.generate(z, given)
        loss_g = recipe.g_loss(self.critic(labels), real, L.instance_noise(fake, noise), cfg)
        if self.gan.codes:
            loss_g = loss_g + self.info(fake, given)
        grad_norm_g = self.update(self.opt_g, loss_g, self.G, "generator")
        if self.ema:
            self.ema.update(self.G)
        self.end_step()
        row = {"loss_d": loss_d.item(), "loss_g": loss_g.item(), "d_real": self.mean_output(judged.real_scores),
               "d_fake": self.mean_output(judged.fake_scores), "grad_norm_d": grad_norm_d, "grad_norm_g": grad_norm_g}
        if judged.penalty_norms is not None:
            row["penalty_grad_norm"] = judged.penalty_norms.mean().item()
        return row

    def noise_std_now(self) -> float:
        """Instance noise's standard deviation at this step: ``noise_std`` falling linearly to 0 at the end."""
        return cast(float, self.cfg.noise_std) * max(0.0, 1 - self.step / self.total_steps)

    def mean_output(self, scores: Tensor) -> float:
        """D's mean output: the probability sigmoid(logit) for the cross-entropy losses, the raw
        score for the Wasserstein, hinge and least-squares ones (no probability there)."""
        return (ops.sigmoid(scores.detach()) if self.recipe.logits else scores.detach()).mean().item()

    # --- evaluation ---------------------------------------------------------------------
    def evaluate(self) -> dict[str, float]:
        """Metrics of fresh samples into metrics.csv and metrics.png. Uses its own random numbers,
        so evaluating does not change the training run."""
        from .. import evaluation

        rng_state = random.get_rng_state()  # (building the classifier draws initial weights)
        n = 2500 if self.gan.data == "2d" else 2000
        data_name = cast(str, self.cfg.data)  # None only until __init__ fills in the model's default
        result = evaluation.evaluate(self.sampler, n, data_name, seed=self.step)
        random.set_rng_state(rng_state)
        self.record_metrics(result, evaluation.metric_keys(self.gan))
        return result

    # --- pictures -----------------------------------------------------------------------
    def save_samples(self) -> None:
        from .. import plotting

        samples = self.sampler.sample(self.fixed_z, self.fixed_labels)
        title = f"{self.title()}, step {self.step}"
        for name in (f"samples_{self.step:06d}.png", "samples.png"):
            path = self.path(name)
            if self.gan.data == "2d":
                plotting.save_points(samples, path, self.cfg.data, title=title)
            else:
                plotting.save_image_grid(samples, path, title=title,
                                         value_range=(0.0, 1.0) if self.gan.scale == "unit" else (-1.0, 1.0))

    def progress_title(self) -> str:
        steps = f", {self.n_critic} D steps per G step" if self.n_critic > 1 else ""
        return super().progress_title() + steps

    def curve_panels(self, curves: dict[str, Sequence[float]]) -> dict[str, dict[str, Sequence[float]]]:
        what = "probability 'real'" if self.recipe.logits else "critic scores"
        norms = {"|grad of D's parameters|": curves["grad_norm_d"], "|grad of G's parameters|": curves["grad_norm_g"]}
        if self.recipe.penalty:
            norms[f"|grad_x D| at {self.recipe.penalty}"] = curves["penalty_grad_norm"]
        return {"losses": {"discriminator": curves["loss_d"], "generator": curves["loss_g"]},
                f"D's mean output ({what}), on the last D step's batches": {"D(x), real": curves["d_real"],
                                                                            "D(G(z)), generated": curves["d_fake"]},
                "gradient norms": norms}

    def load(self, state: dict[str, Any]) -> None:
        super().load(state)
        if self.ema:
            self.ema.num_updates = self.step  # the moving average's warm-up goes on from here
