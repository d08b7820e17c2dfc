"""A VAE trained through the loop GANs use: its run directory, exact resume, KL warm-up, its pictures,
`minigan sample` and `minigan eval` on its checkpoints, and its options refused where they do not apply."""
import csv
import subprocess
import sys

import numpy as np
import pytest

from minigan import checkpoint, evaluation
from minigan.gan import articles
from minigan.training import TrainConfig
from minigan.vae.training import VAETrainer


def vae_config(out, **kw):
    base = dict(model="vae-mlp", out=str(out), steps=4, batch_size=16, sample_every=2, checkpoint_every=2,
                progress=False)
    return TrainConfig(**{**base, **kw})


def read_losses(out):
    with open(out / "losses.csv") as f:
        return list(csv.reader(f))


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "minigan", *args], capture_output=True, text=True)


def test_a_vae_run_writes_its_directory_and_logs_the_elbos_parts(tmp_path):
    trainer = VAETrainer(vae_config(tmp_path, latent_dim=2))
    trainer.train()
    for name in ("config.json", "losses.csv", "losses.png", "samples.png", "samples_000002.png", "reconstructions.png",
                 "interpolation.png", "manifold.png", "last.npz"):
        assert (tmp_path / name).exists(), name
    rows = read_losses(tmp_path)
    assert rows[0] == ["step", "epoch", "loss", "reconstruction", "kl", "elbo"] and len(rows) == 5
    for row in rows[1:]:
        loss, reconstruction, kl, elbo = map(float, row[2:])
        assert loss == pytest.approx(reconstruction + kl, rel=1e-5) and elbo == pytest.approx(-loss, rel=1e-5)
        assert kl > 0 and reconstruction > 0
    cfg = trainer.cfg
    assert (cfg.lr, cfg.betas, cfg.lr_decay, cfg.latent_dim, cfg.loss) == (1e-3, (0.9, 0.999), "none", 2, None)


def test_a_resumed_vae_run_gives_the_same_losses(tmp_path):
    VAETrainer(vae_config(tmp_path / "whole", binarize=True)).train()
    VAETrainer(vae_config(tmp_path / "parts", binarize=True, steps=2)).train()
    VAETrainer(vae_config(tmp_path / "parts", binarize=True), resume=True).train()
    assert read_losses(tmp_path / "parts") == read_losses(tmp_path / "whole")


def test_kl_warmup_rises_linearly_from_0_to_beta(tmp_path):
    trainer = VAETrainer(vae_config(tmp_path, beta=4.0, kl_warmup=3))
    betas = []
    for _ in range(5):
        betas.append(trainer.beta_now())
        trainer.train_step()
    assert betas == pytest.approx([0.0, 4 / 3, 8 / 3, 4.0, 4.0])


def test_the_losses_weight_the_kl_by_beta(tmp_path):
    trainer = VAETrainer(vae_config(tmp_path, beta=0.5))
    row = trainer.train_step()
    assert row["loss"] == pytest.approx(row["reconstruction"] + 0.5 * row["kl"], rel=1e-5)


def test_a_subclass_may_change_what_a_step_minimises(tmp_path):
    """`VAETrainer.loss` is the one place the objective is chosen: article 004's L_VAE, minimised as the
    article says, gives the negative of the loss the trainer minimises, and drives the ELBO down."""
    class ArticleObjective(VAETrainer):
        def loss(self, log_likelihood, kl):
            return articles.article004_vae_objective(log_likelihood, kl, self.beta_now())

    plain = VAETrainer(vae_config(tmp_path / "plain")).train_step()
    article = ArticleObjective(vae_config(tmp_path / "article"))  # seeded as it is built: the same weights, batch, z
    first = article.train_step()
    assert first["loss"] == pytest.approx(-plain["loss"], rel=1e-6)
    assert first["elbo"] == pytest.approx(plain["elbo"], rel=1e-6)
    rows = [article.train_step() for _ in range(20)]
    assert rows[-1]["elbo"] < first["elbo"] - 10


@pytest.mark.parametrize("kw, message", [
    (dict(latent_dim=0), "--latent-dim must be an integer >= 1, got 0"),
    (dict(beta=-1.0), "--beta must be a finite number >= 0, got -1.0"),
    (dict(kl_warmup=-5), "--kl-warmup must be an integer >= 0"),
    (dict(likelihood="poisson"), "--likelihood must be one of bernoulli, gaussian"),
    (dict(loss="ns"), "--loss does not apply to a VAE"),
    (dict(gp_lambda=1.0), "--gp-lambda does not apply to model vae-mlp, a VAE"),
    (dict(model="dcgan", beta=2.0), "--beta does not apply to model dcgan, a GAN"),
])
def test_options_that_do_not_apply_or_are_out_of_range_are_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        vae_config("unused", **kw)


@pytest.mark.slow
def test_sample_and_eval_work_on_a_vae_checkpoint_and_a_gan_is_not_given_one(tmp_path):
    VAETrainer(vae_config(tmp_path)).train()
    path = str(tmp_path / "last.npz")
    result = run_cli("sample", "--checkpoint", path, "--n", "16", "--out", str(tmp_path / "s.png"))
    assert result.returncode == 0 and (tmp_path / "s.png").exists(), result.stderr
    result = run_cli("sample", "--checkpoint", path, "--label", "3")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    result = run_cli("eval", "--checkpoint", path, "--n", "50", "--k", "5", "--no-progress")
    assert result.returncode == 0, result.stderr
    for key in ("test_neg_elbo", "test_iw_nll", "active_units", "mnist_score", "frechet_distance", "recall"):
        assert key in result.stdout
    assert "not a true likelihood" in result.stdout
    with pytest.raises(checkpoint.CheckpointError, match="holds a VAE \\(vae-mlp\\), not a GAN"):
        evaluation.load_generator(path)
    result = run_cli("train", "--model", "dcgan", "--resume", "--out", str(tmp_path), "--steps", "5")
    assert result.returncode == 2 and "is for model 'vae-mlp', not 'dcgan'" in result.stderr, result.stderr


@pytest.mark.slow
def test_vae_metrics_count_active_units_and_the_iw_bound_is_below_the_elbo(tmp_path):
    trainer = VAETrainer(vae_config(tmp_path, steps=30, latent_dim=4))
    trainer.train()
    result = evaluation.vae_metrics(trainer.vae, n_samples=200, n_test=64, k=20, seed=0)
    assert 0 <= result["active_units"] <= 4 and result["latent_dim"] == 4
    assert result["test_iw_nll"] <= result["test_neg_elbo"] + 0.5
    assert np.isfinite(result["frechet_distance"])


@pytest.mark.slow
def test_eval_every_records_a_vaes_metrics_without_changing_the_run(tmp_path):
    VAETrainer(vae_config(tmp_path / "judged", eval_every=2)).train()
    VAETrainer(vae_config(tmp_path / "plain")).train()
    header, *rows = (tmp_path / "judged" / "metrics.csv").read_text().splitlines()
    assert header.split(",") == ["step", *evaluation.VAE_TRAINING_KEYS]
    assert [r.split(",")[0] for r in rows] == ["2", "4"]
    assert (tmp_path / "judged" / "metrics.png").exists()
    assert read_losses(tmp_path / "judged") == read_losses(tmp_path / "plain")


def test_a_vae_checkpoint_of_an_older_version_resumes(tmp_path):
    """Older versions recorded a GAN's options for a VAE too (a penalty weight of 10) and had no
    instance noise: a VAE leaves out the options that are not its own."""
    VAETrainer(vae_config(tmp_path, steps=1)).train()
    path = str(tmp_path / "last.npz")
    state = checkpoint.load(path)
    state["config"]["gp_lambda"] = 10.0
    del state["config"]["noise_std"]
    checkpoint.save(path, state)
    trainer = VAETrainer(vae_config(tmp_path, steps=2), resume=True)
    assert trainer.cfg.gp_lambda is None and trainer.step == 1
    trainer.train()
