"""GAN training end to end: the run directory, exact resume, the NaN guard, checkpoints, the CLI."""
import csv
import dataclasses
import math
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import minigan as mg
from minigan import checkpoint
from minigan.gan.recipes import LOSSES
from minigan.gan.training import TrainConfig, Trainer, TrainingDiverged


def toy_config(out, **kw):
    base = dict(model="toy", loss="wgan-gp", data="ring8", out=str(out), steps=6, batch_size=32,
                sample_every=3, checkpoint_every=3, progress=False)
    return TrainConfig(**{**base, **kw})


def read_losses(out):
    with open(os.path.join(out, "losses.csv")) as f:
        return list(csv.reader(f))


def test_a_run_writes_its_directory(tmp_path):
    Trainer(toy_config(tmp_path)).train()
    for name in ("config.json", "losses.csv", "losses.png", "samples.png", "samples_000003.png", "samples_000006.png",
                 "last.npz"):
        assert (tmp_path / name).exists(), name
    rows = read_losses(tmp_path)
    assert rows[0] == ["step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "penalty_grad_norm", "grad_norm_d",
                       "grad_norm_g"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4", "5", "6"]
    assert checkpoint.load(str(tmp_path / "last.npz"))["step"] == 6


def test_a_watcher_is_called_before_the_first_step_and_after_each_step(tmp_path):
    seen = []

    def watch(run):
        seen.append((run.step, len(run.history), os.path.exists(run.path("last.npz"))))

    Trainer(toy_config(tmp_path / "a", loss="ns")).train(watch)
    assert seen == [(0, 0, False), (1, 1, False), (2, 2, False), *[(k, k, True) for k in range(3, 7)]]
    seen.clear()
    Trainer(toy_config(tmp_path / "a", loss="ns", steps=8), resume=True).train(watch)
    assert [step for step, _, _ in seen] == [6, 7, 8]  # a resumed run: from the step it resumes at
    Trainer(toy_config(tmp_path / "b", loss="ns", steps=8)).train()
    assert read_losses(tmp_path / "a") == read_losses(tmp_path / "b")


def test_same_seed_same_losses_bit_for_bit(tmp_path):
    Trainer(toy_config(tmp_path / "a", loss="ns")).train()
    Trainer(toy_config(tmp_path / "b", loss="ns")).train()
    assert read_losses(tmp_path / "a") == read_losses(tmp_path / "b")


@pytest.mark.parametrize("loss", ["wgan-gp", "ns", "wgan"])
def test_an_interrupted_and_resumed_run_gives_the_same_losses(tmp_path, loss):
    # A constant learning rate: a decaying one would fall to 0 at the end of the 3-step part
    # (resuming with a decay: the next test)
    kw = dict(loss=loss, lr_decay="none")
    Trainer(toy_config(tmp_path / "whole", steps=6, **kw)).train()
    Trainer(toy_config(tmp_path / "parts", steps=3, **kw)).train()
    Trainer(toy_config(tmp_path / "parts", steps=6, **kw), resume=True).train()
    assert read_losses(tmp_path / "parts") == read_losses(tmp_path / "whole")


def test_resume_with_lr_decay_ema_and_pacgan_gives_the_same_losses_and_weights(tmp_path):
    kw = dict(loss="ns-r1", lr_decay="linear", ema=0.9, pack=4)
    whole = Trainer(toy_config(tmp_path / "whole", steps=6, **kw))
    whole.train()
    first = Trainer(toy_config(tmp_path / "parts", steps=6, **kw))
    first.total_steps = 3  # stop half way, as Ctrl-C would: the schedule still runs over 6 steps
    first.train()
    parts = Trainer(toy_config(tmp_path / "parts", steps=6, **kw), resume=True)
    parts.train()
    assert read_losses(tmp_path / "parts") == read_losses(tmp_path / "whole")
    for a, b in zip(whole.ema.module.parameters(), parts.ema.module.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert [o.param_groups[0]["lr"] for o in (parts.opt_g, parts.opt_d)] == [0.0, 0.0]  # decayed to zero


def test_an_ema_run_samples_and_checkpoints_the_averaged_generator(tmp_path):
    from minigan.evaluation import load_generator

    trainer = Trainer(toy_config(tmp_path, loss="ns", ema=0.5))
    trainer.train()
    assert trainer.sampler.generator is trainer.ema.module
    state = checkpoint.load(str(tmp_path / "last.npz"))
    gan, _ = load_generator(str(tmp_path / "last.npz"))
    for name, loaded in gan.generator.state_dict().items():
        np.testing.assert_array_equal(loaded, state["generator_ema"][name])
        assert not np.array_equal(loaded, state["generator"][name]) or "running" in name


@pytest.mark.parametrize("kw, message", [
    (dict(lr_decay="cosine"), "--lr-decay must be one of none, linear, got 'cosine'"),
    (dict(model="vae"), "--model must be one of mlp, "),
    (dict(pack=0), "pack=0, expected a positive integer"),
    (dict(pack=2, loss="wgan-gp"), "do not lie between a real and a fake pack"),
    (dict(pack=5, loss="ns"), "--batch-size 32 does not divide into PacGAN packs of 5"),
    (dict(model="mlp", data="mnist", loss="ns", pack=2), "PacGAN is built for dcgan, toy"),
    (dict(info_lambda=-1.0), "--info-lambda must be a finite number >= 0, got -1.0"),
    (dict(info_lambda=2.0), "only --model infogan or toy_infogan has InfoGAN's term, not toy"),
    (dict(lr=float("nan")), "--lr must be a positive finite number, got nan"),
    (dict(lr=-1e-3), "--lr must be a positive finite number"),
    (dict(gp_lambda=float("inf")), "--gp-lambda must be a finite number >= 0"),
    (dict(gp_lambda=-1.0), "--gp-lambda must be a finite number >= 0, got -1.0"),
    (dict(gp_lambda=float("nan")), "--gp-lambda must be a finite number >= 0, got nan"),
    (dict(r1_gamma=-0.5), "--r1-gamma must be a finite number >= 0, got -0.5"),
    (dict(r1_gamma=float("inf")), "--r1-gamma must be a finite number >= 0, got inf"),
    (dict(clip_value=0.0), "--clip-value must be a positive finite number, got 0.0"),
    (dict(loss="ns", gp_lambda=1.0), "--gp-lambda weighs WGAN-GP's penalty: it needs --loss wgan-gp, not ns"),
    (dict(loss="article001", gp_lambda=1.0), "article001 weighs its own with --lambda4"),
    (dict(clip_value=float("nan")), "--clip-value must be a positive finite number, got nan"),
    (dict(ema=1.0), r"--ema must be a decay in \[0, 1\)"),
    (dict(betas=(0.5, 1.5)), r"--betas must be two numbers in \[0, 1\)"),
    (dict(steps=0), "--steps must be an integer >= 1, got 0"),
    (dict(epochs=float("inf")), "--epochs must be a positive finite number"),
    (dict(eval_every=-1), "--eval-every must be an integer >= 0"),
    (dict(data="grid25", data_dir="x"), "--data-dir replaces MNIST's images"),
])
def test_a_bad_option_is_refused_where_the_config_is_made(kw, message):
    with pytest.raises(ValueError, match=message):
        toy_config("unused", **kw)


def test_a_config_changed_after_it_was_made_is_checked_again_by_the_trainer(tmp_path):
    config = toy_config(tmp_path)
    config.lr = float("nan")
    with pytest.raises(ValueError, match="--lr must be a positive finite number"):
        Trainer(config)


def test_the_trainer_fills_in_the_models_and_the_losss_defaults(tmp_path):
    trainer = Trainer(toy_config(tmp_path, data=None, loss="wgan-gp"))
    assert trainer.cfg.data == "ring8" and trainer.cfg.out == str(tmp_path)
    assert (trainer.cfg.lr, trainer.cfg.betas, trainer.cfg.n_critic) == (1e-3, (0.5, 0.9), 5)  # its 2-D lr
    assert isinstance(trainer.opt_g, mg.optim.Adam) and not trainer.recipe.clip


def test_a_recipe_can_set_other_defaults_for_2d_data():
    recipe = dataclasses.replace(LOSSES["wgan-gp"], on_2d={"lr": 1e-3, "n_critic": 2})
    assert (recipe.for_data("2d").lr, recipe.for_data("2d").n_critic) == (1e-3, 2)
    assert recipe.for_data("mnist") is recipe


def test_resume_on_images_with_batchnorm_matches(tmp_path):
    """DCGAN: BatchNorm running statistics, Adam state, the data order and the moving average of G
    (with its BatchNorm buffers) all survive a resume."""
    kw = dict(model="dcgan", loss="ns", data="mnist", batch_size=16, checkpoint_every=2, sample_every=100, ema=0.9)
    whole = Trainer(toy_config(tmp_path / "whole", steps=4, **kw))
    whole.train()
    Trainer(toy_config(tmp_path / "parts", steps=2, **kw)).train()
    parts = Trainer(toy_config(tmp_path / "parts", steps=4, **kw), resume=True)
    parts.train()
    assert read_losses(tmp_path / "parts") == read_losses(tmp_path / "whole")
    for (name, a), b in zip(whole.ema.module.state_dict().items(), parts.ema.module.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    trainer = Trainer(toy_config(tmp_path, steps=10, checkpoint_every=2))
    original = trainer.recipe.g_loss

    def poisoned(D, x, f, c):
        loss = original(D, x, f, c)
        return loss * float("nan") if trainer.step == 4 else loss  # the 5th step goes bad

    trainer.recipe = dataclasses.replace(trainer.recipe, g_loss=poisoned)
    with pytest.raises(TrainingDiverged, match=r"step 5: the generator loss is nan.*last\.npz \(step 4\)"):
        trainer.train()
    assert checkpoint.load(str(tmp_path / "last.npz"))["step"] == 4
    assert [r[0] for r in read_losses(tmp_path)[1:]] == ["1", "2", "3", "4"]
    Trainer(toy_config(tmp_path, steps=6), resume=True).train()  # the kept checkpoint resumes


@pytest.mark.filterwarnings("ignore:.*(divide by zero|invalid value):RuntimeWarning")  # the NaN made on purpose
def test_a_nan_gradient_stops_training_before_the_weights_go_bad(tmp_path):
    """The loss is finite but its gradient is not: the update is refused, so no checkpoint holds NaN."""
    trainer = Trainer(toy_config(tmp_path, steps=10, checkpoint_every=1))
    original = trainer.recipe.d_loss

    def poisoned(D, x, f, c):
        judged = original(D, x, f, c)
        if trainer.step != 3:
            return judged
        zero = D(x)[0] * 0  # value 0, but d sqrt(|0|) = inf * 0 = nan flows to D's parameters
        return judged._replace(loss=judged.loss + mg.sqrt(mg.abs(zero)))

    trainer.recipe = dataclasses.replace(trainer.recipe, d_loss=poisoned)
    with pytest.raises(TrainingDiverged, match="step 4: the gradient of discriminator parameter"):
        trainer.train()
    state = checkpoint.load(str(tmp_path / "last.npz"))
    assert state["step"] == 3
    assert all(np.all(np.isfinite(v)) for v in state["discriminator"].values())


@pytest.mark.parametrize("dtype, scale, expected_norm", [(np.float32, 1e30, 5e30), (np.float64, 1e200, math.inf)])
def test_a_huge_finite_gradient_is_not_taken_for_a_diverged_one(tmp_path, dtype, scale, expected_norm):
    """Gradients of 3e30 and 4e30 are finite in float32 though their squares overflow: the norm is
    redone in float64. Those of 3e200 and 4e200 overflow float64 too: the norm is inf, but no gradient
    is, so the update still goes ahead."""
    trainer = Trainer(toy_config(tmp_path, loss="ns"))
    layer = mg.nn.Linear(2, 1, bias=False).to(dtype=dtype)
    before = layer.weight.numpy().copy()
    x = mg.tensor(np.array([[3.0, 4.0]], dtype=dtype))
    optimizer = mg.optim.SGD(layer.parameters(), lr=0.1 / scale)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the overflow is expected, and quiet
        norm = trainer.update(optimizer, (layer(x) * scale).sum(), layer, "generator")
    assert norm == pytest.approx(expected_norm, rel=1e-6)
    np.testing.assert_allclose(before - layer.weight.numpy(), [[0.3, 0.4]], rtol=1e-5)


def test_a_fresh_run_never_overwrites_a_run_and_resume_keeps_the_config(tmp_path):
    Trainer(toy_config(tmp_path, steps=1)).train()
    with pytest.raises(ValueError, match="already holds a run"):
        Trainer(toy_config(tmp_path, steps=1))
    with pytest.raises(checkpoint.CheckpointError, match="is for batch_size 32, not 64"):
        Trainer(toy_config(tmp_path, steps=2, batch_size=64), resume=True)


def test_checkpoints_are_atomic_and_load_without_pickle(tmp_path):
    path = str(tmp_path / "c.npz")
    tree = {"w": np.arange(3.0), "nested": {"t": mg.ones(2), "n": 3, "s": "x", "l": [1.5, None, np.zeros(1)]}}
    checkpoint.save(path, tree)
    back = checkpoint.load(path)
    assert back["nested"]["n"] == 3 and back["nested"]["s"] == "x" and back["nested"]["l"][1] is None
    np.testing.assert_array_equal(back["w"], np.arange(3.0))
    assert sorted(os.listdir(tmp_path)) == ["c.npz"]  # no temporary file left behind
    with np.load(path, allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)


def test_a_damaged_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "last.npz"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(checkpoint.CheckpointError, match="damaged"):
        checkpoint.load(str(path))
    with pytest.raises(checkpoint.CheckpointError, match="does not exist"):
        checkpoint.load(str(tmp_path / "missing.npz"))


def test_a_checkpoint_of_another_model_is_refused(tmp_path):
    Trainer(toy_config(tmp_path, steps=1)).train()
    with pytest.raises(checkpoint.CheckpointError, match="is for model 'toy'"):
        Trainer(toy_config(tmp_path, model="dcgan", data="mnist"), resume=True)


def test_a_checkpoint_older_than_an_option_resumes_only_with_its_default(tmp_path):
    Trainer(toy_config(tmp_path, loss="ns", steps=1)).train()
    path = str(tmp_path / "last.npz")
    state = checkpoint.load(path)
    for key in ("lr_decay", "ema", "pack"):  # as written before these options existed
        del state["config"][key]
    checkpoint.save(path, state)
    with pytest.raises(checkpoint.CheckpointError, match="is for lr_decay 'none', not 'linear'"):
        Trainer(toy_config(tmp_path, loss="ns", steps=2, lr_decay="linear"), resume=True)
    Trainer(toy_config(tmp_path, loss="ns", steps=2), resume=True).train()


def run_cli(*args, cwd=None, **kw):
    return subprocess.run([sys.executable, "-m", "minigan", *args], capture_output=True, text=True, cwd=cwd, **kw)


def test_cli_train_sample_and_models(tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "--model", "toy", "--data", "grid25", "--loss", "ns-r1", "--steps", "3",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Done" in result.stdout and (out / "last.npz").exists()
    result = run_cli("sample", "--checkpoint", str(out / "last.npz"), "--n", "100", "--out", str(tmp_path / "s.png"))
    assert result.returncode == 0 and (tmp_path / "s.png").exists(), result.stderr
    result = run_cli("models")
    assert result.returncode == 0 and "dcgan" in result.stdout and "cdcgan" in result.stdout
    for command in ("train", "sample", "models"):
        assert run_cli(command, "--help").returncode == 0


@pytest.mark.parametrize("args, message", [
    (["train", "--model", "nope", "--steps", "1"], "argument --model: invalid choice: 'nope'"),
    (["train", "--loss", "nope", "--steps", "1"], "argument --loss: invalid choice: 'nope'"),
    (["train", "--steps", "0"], "--steps must be an integer >= 1, got 0"),
    (["train", "--pack", "0"], "pack=0, expected a positive integer"),
    (["train", "--ema", "1"], "--ema must be a decay in [0, 1)"),
    (["train", "--lr", "nan"], "--lr must be a positive finite number, got nan"),
    (["train", "--loss", "wgan-gp", "--gp-lambda", "-1"], "--gp-lambda must be a finite number >= 0, got -1.0"),
    (["train", "--loss", "wgan-gp", "--gp-lambda", "inf"], "--gp-lambda must be a finite number >= 0, got inf"),
    (["train", "--loss", "ns-r1", "--r1-gamma", "nan"], "--r1-gamma must be a finite number >= 0, got nan"),
    (["train", "--loss", "wgan", "--clip-value", "-0.01"], "--clip-value must be a positive finite number"),
    (["train", "--betas", "0.5"], "argument --betas: expected 2 arguments"),
    (["train", "--lr-decay", "cosine"], "invalid choice"),
    (["train", "--steps", "x"], "invalid int value"),
    (["train", "--resume", "--out", "no-such-run"], "does not exist"),
    (["train", "--data-dir", "no-such-dir"], "is not a directory"),
    (["sample", "--checkpoint", "no-such.npz"], "does not exist"),
    (["frobnicate"], "invalid choice"),
])
def test_cli_errors_are_one_line_and_status_2(tmp_path, args, message):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr


def test_cli_refuses_a_damaged_checkpoint_in_one_line(tmp_path):
    (tmp_path / "last.npz").write_bytes(b"\x00" * 100)
    result = run_cli("sample", "--checkpoint", str(tmp_path / "last.npz"))
    assert result.returncode == 2 and "damaged" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = run_cli("train", "--model", "toy", "--resume", "--out", str(tmp_path))
    assert result.returncode == 2 and "damaged" in result.stderr


def test_cli_label_needs_a_model_given_a_digit_or_code(tmp_path):
    assert run_cli("train", "--model", "toy", "--steps", "1", "--out", str(tmp_path)).returncode == 0
    result = run_cli("sample", "--checkpoint", str(tmp_path / "last.npz"), "--label", "7")
    assert result.returncode == 2
    assert "(cdcgan, infogan, toy_cgan, toy_infogan), this checkpoint is toy" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery")
def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "minigan", "train", "--model", "toy", "--steps", "100000",
                                "--checkpoint-every", "100000", "--sample-every", "100000", "--out", str(out),
                                "--no-progress"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not ((out / "losses.csv").exists() and len(read_losses(out)) > 3):
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "Interrupted; saved" in stdout
    step = checkpoint.load(str(out / "last.npz"))["step"]
    assert step >= 3 and int(read_losses(out)[-1][0]) == step


def test_infogans_term_trains_q_with_d_and_reaches_g(tmp_path):
    def one_step(out, info_lambda):
        trainer = Trainer(toy_config(out, model="infogan", loss="ns", data="mnist", steps=1, batch_size=8,
                                     info_lambda=info_lambda))
        q_before = {k: np.array(v) for k, v in trainer.D.q.state_dict().items()}  # Adam updates in place
        info, graphs = trainer.info, []
        trainer.info = lambda fake, codes: graphs.append(fake.requires_grad) or info(fake, codes) + 100.0
        trainer.train()
        assert graphs == [False, True]  # in D's step (G's samples held fixed) and in G's step
        assert all(float(v) > 100 for v in read_losses(out)[-1][2:4])  # and in the losses they minimise
        q_moved = any(not np.array_equal(q_before[k], v) for k, v in trainer.D.q.state_dict().items())
        return q_moved, trainer.G.state_dict()

    q_moved_0, g_0 = one_step(tmp_path / "a", 0.0)
    q_moved_1, g_1 = one_step(tmp_path / "b", 1.0)
    assert not q_moved_0 and q_moved_1  # Q learns from D's loss, and only through the info term
    assert any(not np.array_equal(g_0[k], g_1[k]) for k in g_0)  # same seed: G differs by the term alone
    result = run_cli("sample", "--checkpoint", str(tmp_path / "b" / "last.npz"), "--label", "3", "--n", "4",
                     "--out", str(tmp_path / "threes.png"))
    assert result.returncode == 0 and (tmp_path / "threes.png").exists(), result.stderr


def test_weight_clipping_keeps_the_critic_small_and_leaves_infogans_q_head_alone(tmp_path):
    trainer = Trainer(toy_config(tmp_path, model="infogan", loss="wgan", data="mnist", steps=1, batch_size=8))
    trainer.train()
    largest = {name: np.abs(p.numpy()).max() for name, p in trainer.D.named_parameters()}
    assert all(v <= trainer.cfg.clip_value for name, v in largest.items() if not name.startswith("q."))
    assert max(v for name, v in largest.items() if name.startswith("q.")) > trainer.cfg.clip_value


@pytest.mark.slow
def test_a_conditional_gan_draws_the_digit_asked_for(tmp_path):
    Trainer(toy_config(tmp_path, model="cdcgan", loss="ns", data="mnist", steps=1, batch_size=8, eval_every=1)).train()
    assert (tmp_path / "metrics.csv").read_text().splitlines()[0].endswith(",recall,label_accuracy")
    result = run_cli("sample", "--checkpoint", str(tmp_path / "last.npz"), "--label", "7", "--n", "8",
                     "--out", str(tmp_path / "sevens.png"))
    assert result.returncode == 0 and (tmp_path / "sevens.png").exists(), result.stderr
    result = run_cli("sample", "--checkpoint", str(tmp_path / "last.npz"), "--label", "10")
    assert result.returncode == 2 and "0..9" in result.stderr


def test_a_conditional_toy_gan_is_given_the_mode_of_each_real_point(tmp_path):
    trainer = Trainer(toy_config(tmp_path, model="toy_cgan", loss="ns", steps=2))
    modes = mg.data.ring8_modes()
    assert np.linalg.norm(trainer.images - modes[trainer.labels], axis=1).max() < 10 * 0.01  # ring8's std: 0.01
    batches, asked = [], []
    next_batch, generate = trainer.next_batch, trainer.generate
    trainer.next_batch = lambda: batches.append(next_batch()) or batches[-1]
    trainer.generate = lambda z, given: asked.append(given.numpy()) or generate(z, given)
    trainer.train()
    assert len(batches) == 2 and len(asked) == 4  # a step: D's fakes, then G's, for the modes of the real batch
    for (real, labels), for_d, for_g in zip(batches, asked[::2], asked[1::2]):
        np.testing.assert_array_equal(for_d, labels.numpy())
        np.testing.assert_array_equal(for_g, labels.numpy())
        assert np.linalg.norm(real.numpy() - modes[for_d], axis=1).max() < 0.1
    assert trainer.fixed_labels.shape == (2500,) and set(np.bincount(trainer.fixed_labels.numpy())) == {312, 313}
    with pytest.raises(ValueError, match="model toy_cgan is given one of 8 modes, but grid25 has 25"):
        Trainer(toy_config(tmp_path / "grid", model="toy_cgan", data="grid25"))


def test_the_toy_infogans_term_trains_q_with_d(tmp_path):
    trainer = Trainer(toy_config(tmp_path, model="toy_infogan", loss="ns", steps=1))
    q_before = {k: np.array(v) for k, v in trainer.D.q.state_dict().items()}
    codes = []
    info = trainer.info
    trainer.info = lambda fake, given: codes.append(given.numpy()) or info(fake, given)
    trainer.train()
    assert len(codes) == 2 and all(c.shape == (32,) and c.max() < 8 for c in codes)  # in D's step and G's
    assert all(not np.array_equal(q_before[k], v) for k, v in trainer.D.q.state_dict().items())


def test_cli_trains_the_toy_conditional_gan_and_draws_the_mode_asked_for(tmp_path):
    result = run_cli("train", "--model", "toy_cgan", "--data", "ring8", "--steps", "2", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    result = run_cli("sample", "--checkpoint", str(tmp_path / "last.npz"), "--label", "7", "--n", "16",
                     "--out", str(tmp_path / "mode7.png"))
    assert result.returncode == 0 and (tmp_path / "mode7.png").exists(), result.stderr
    result = run_cli("sample", "--checkpoint", str(tmp_path / "last.npz"), "--label", "8")
    assert result.returncode == 2 and "0..7" in result.stderr


def poison(path, key="generator"):
    """Write a NaN into the first weight of ``key`` in the checkpoint at ``path``."""
    state = checkpoint.load(path)
    first = next(iter(state[key]))
    state[key][first] = np.full_like(state[key][first], np.nan)
    checkpoint.save(path, state)
    return first


def test_a_checkpoint_with_a_nan_weight_is_refused_by_sample_eval_and_resume(tmp_path):
    Trainer(toy_config(tmp_path, loss="ns", steps=1)).train()
    path = str(tmp_path / "last.npz")
    name = poison(path)
    for args in (["sample", "--checkpoint", path, "--out", str(tmp_path / "s.png")], ["eval", "--checkpoint", path]):
        result = run_cli(*args)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert f"has a NaN or inf weight (generator parameter {name})" in result.stderr
    assert not (tmp_path / "s.png").exists()
    Trainer(toy_config(tmp_path / "b", loss="ns", steps=1)).train()
    poison(str(tmp_path / "b" / "last.npz"), "discriminator")
    result = run_cli("train", "--model", "toy", "--loss", "ns", "--steps", "2", "--batch-size", "32", "--resume",
                     "--out", str(tmp_path / "b"))
    assert result.returncode == 2 and "a run cannot continue from it" in result.stderr, result.stderr


@pytest.mark.filterwarnings("ignore:.*invalid value:RuntimeWarning")  # the inf made on purpose
def test_a_weight_gone_infinite_is_never_checkpointed(tmp_path):
    trainer = Trainer(toy_config(tmp_path, loss="ns", steps=4, checkpoint_every=1))
    step = trainer.train_step

    def step_then_break():  # after step 3 a weight is inf, though every loss and gradient was finite
        row = step()
        if trainer.step == 3:
            next(iter(trainer.G.parameters())).data[0] = np.inf
        return row

    trainer.train_step = step_then_break
    with pytest.raises(TrainingDiverged, match=r"generator parameter 0\.weight is not finite; the last good "
                                               r"checkpoint is .* \(step 2\)"):
        trainer.train()
    assert checkpoint.load(str(tmp_path / "last.npz"))["step"] == 2


def test_every_config_field_is_a_train_option_with_its_default():
    from minigan.cli import build_parser

    parser = build_parser()
    parsed = vars(parser.parse_args(["train"]))
    not_config = ("command", "resume", "device")  # how to run it, not what the run is
    assert {k: v for k, v in parsed.items() if k not in not_config} == dataclasses.asdict(TrainConfig())
    args = parser.parse_args(["train", "--betas", "0.1", "0.2", "--no-progress", "--lr", "3e-4", "--model", "toy"])
    config = TrainConfig(**{k: v for k, v in vars(args).items() if k not in not_config})
    assert (config.betas, config.progress, config.lr, config.model) == ((0.1, 0.2), False, 3e-4, "toy")


def test_progress_goes_to_a_log_file_as_lines(tmp_path):
    result = run_cli("train", "--model", "toy", "--loss", "ns", "--steps", "100", "--batch-size", "32",
                     "--sample-every", "1000", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert "\r" not in result.stderr and len(lines) == 21, lines  # at 0%, then a line every 5%
    assert lines[-1].startswith("toy / ns: 100%") and "100/100" in lines[-1] and "D=" in lines[-1] and "G=" in lines[-1]
    assert "D(x)=" in lines[-1] and "D(G(z))=" in lines[-1]
    assert "step/s" in lines[-1] or "s/step" in lines[-1]
    quiet = run_cli("train", "--model", "toy", "--loss", "ns", "--steps", "5", "--no-progress",
                    "--out", str(tmp_path / "q"))
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_eval_shows_progress_unless_asked_not_to(capsys):
    from minigan import evaluation
    from minigan.cli import build_parser
    from minigan.gan.models import build

    mg.manual_seed(0)
    images = evaluation.generate(build("dcgan"), 600, progress=True)
    evaluation.image_metrics(images, progress=True, reference_n=600)
    lines = capsys.readouterr().err.splitlines()
    for name in ("sampling", "samples", "real digits"):
        assert any(line.startswith(f"{name}: 100%") and "600/600" in line for line in lines), (name, lines)
    evaluation.image_metrics(images, reference_n=500)  # off unless asked for, in the library
    assert capsys.readouterr().err == ""
    assert build_parser().parse_args(["eval", "--real", "test"]).progress
    assert not build_parser().parse_args(["eval", "--real", "test", "--no-progress"]).progress


def test_train_help_lists_each_loss_with_the_defaults_it_trains_with():
    result = run_cli("train", "--help")
    assert result.returncode == 0
    wgan_gp = ("wgan-gp WGAN-GP: gradient penalty (--gp-lambda); Adam, lr 0.001, betas 0.5 0.9, 5 D steps per G step, "
               "penalty weight 10, 900 steps; on 2-D data --gp-lambda 0.1, --batch-size 256, --lr-decay linear, "
               "--steps 6000")
    assert wgan_gp in " ".join(result.stdout.split())
    assert "RMSprop, lr 5e-05, 5 D steps per G step, D's weights clipped (--clip-value)" in result.stdout


def test_older_checkpoints_resume(tmp_path):
    """A run that older versions wrote with --data-dir recorded its data as "idx"."""
    Trainer(toy_config(tmp_path, model="mlp", loss="ns", data="mnist", steps=1, batch_size=8)).train()
    path = str(tmp_path / "last.npz")
    state = checkpoint.load(path)
    state["config"]["data"] = "idx"
    checkpoint.save(path, state)
    Trainer(toy_config(tmp_path, model="mlp", loss="ns", data="mnist", steps=2, batch_size=8), resume=True).train()
    assert checkpoint.load(path)["step"] == 2


def test_data_dir_is_refused_for_a_model_of_2d_points(tmp_path):
    with pytest.raises(ValueError, match="--data-dir gives images; model toy trains on 2-D points"):
        Trainer(toy_config(tmp_path, data=None, data_dir=str(tmp_path)))


def test_a_step_makes_n_critic_d_updates_on_as_many_real_batches_then_one_g_update(tmp_path):
    trainer = Trainer(toy_config(tmp_path, loss="wgan-gp", n_critic=3))
    batches, updates = [], []
    next_batch, update = trainer.next_batch, trainer.update
    trainer.next_batch = lambda: batches.append(next_batch()) or batches[-1]
    trainer.update = lambda optimizer, loss, module, name: updates.append(name) or update(optimizer, loss, module, name)
    trainer.train_step()
    assert updates == ["discriminator"] * 3 + ["generator"]
    expected = [trainer.loader.batch(0, i)[0].numpy() for i in range(3)]  # the loader's first three, in order
    assert len(batches) == 3 and all(np.array_equal(b[0].numpy(), e) for b, e in zip(batches, expected))
    trainer.train_step()
    assert updates.count("discriminator") == 6 and (trainer.epoch, trainer.batch) == (0, 6)


@pytest.mark.parametrize("loss, penalised, probabilities", [
    ("ns", False, True), ("minimax", False, True), ("ns-r1", True, True), ("article001", True, True),
    ("ns-noise", False, True), ("wgan", False, False), ("wgan-gp", True, False), ("hinge", False, False),
    ("lsgan", False, False)])
def test_every_run_records_what_d_said_and_the_gradient_norms(tmp_path, loss, penalised, probabilities):
    trainer = Trainer(toy_config(tmp_path, loss=loss, steps=3))
    trainer.train()
    header, *rows = read_losses(tmp_path)
    assert ("penalty_grad_norm" in header) == penalised
    assert header == ["step", "epoch", *trainer.columns] and all(len(r) == len(header) for r in rows)
    last = dict(zip(header, map(float, rows[-1])))
    assert last["grad_norm_d"] > 0 and last["grad_norm_g"] > 0
    if probabilities:  # the cross-entropy losses: D's outputs as probabilities
        assert 0 < last["d_real"] < 1 and 0 < last["d_fake"] < 1
    assert (tmp_path / "losses.png").exists()
    assert ("D steps per G step" in trainer.progress_title()) == (trainer.n_critic > 1)


def test_a_run_resumed_from_a_log_without_the_diagnostic_columns_keeps_its_rows(tmp_path):
    Trainer(toy_config(tmp_path, loss="ns", steps=2, checkpoint_every=2)).train()
    with open(tmp_path / "losses.csv") as f:  # the log as versions before the diagnostics wrote it
        old = [r[:4] for r in csv.reader(f)]
    with open(tmp_path / "losses.csv", "w", newline="") as f:
        csv.writer(f).writerows(old)
    trainer = Trainer(toy_config(tmp_path, loss="ns", steps=3), resume=True)
    trainer.train()
    header, *rows = read_losses(tmp_path)
    assert [r[:4] for r in rows[:2]] == old[1:] and rows[0][4:] == ["nan"] * (len(header) - 4)
    assert all(v != "nan" for v in rows[2])


def test_a_2d_plot_accounts_for_every_sample():
    from minigan.plotting import points_window

    modes = mg.data.ring8_modes()
    near = np.random.default_rng(0).standard_normal((100, 2)).astype(np.float32)
    centre, half, outside = points_window(near, [modes])  # samples near the data: the axes fit them all
    assert not outside.any() and half >= np.abs(near - centre).max()
    far = near.copy()
    far[:3] = [[1e4, 0], [0, -1e4], [np.nan, 0]]  # a diverged G: far-flung samples and a NaN
    centre, half, outside = points_window(far, [modes])
    assert half <= 3 * 1.15 + 1e-6  # the axes stay near the data
    assert outside[:3].all() and outside.sum() == 3 + (np.abs(near[3:] - centre) > half).any(1).sum()


def test_instance_noise_falls_linearly_to_zero_and_only_ns_noise_has_it_by_default(tmp_path):
    trainer = Trainer(toy_config(tmp_path / "noise", loss="ns-noise", steps=4))
    assert trainer.cfg.noise_std == 0.02  # its 2-D default; on images 0.1
    assert LOSSES["ns-noise"].noise_std == 0.1
    stds = []
    for _ in range(4):
        stds.append(trainer.noise_std_now())
        trainer.train_step()
    assert stds == pytest.approx([0.02, 0.015, 0.01, 0.005])
    assert Trainer(toy_config(tmp_path / "plain", loss="ns")).cfg.noise_std == 0.0
    seen = []  # who sees noise: D's real and generated batches without G's graph, then G's samples with it
    noise = mg.gan.losses.instance_noise
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mg.gan.losses, "instance_noise", lambda x, std: seen.append(x.requires_grad) or noise(x, std))
        trainer.train_step()
    assert seen == [False, False, True]
    # noise changes what D sees: the same seed with and without it gives other losses
    with_noise = Trainer(toy_config(tmp_path / "a", loss="ns", noise_std=0.5, steps=1)).train_step()
    without = Trainer(toy_config(tmp_path / "b", loss="ns", steps=1)).train_step()
    assert with_noise["loss_d"] != without["loss_d"]


def test_article001_weighs_its_terms_with_lambda1_to_lambda4(tmp_path):
    with pytest.raises(ValueError, match="--lambda2 weighs a term of article 001's objectives"):
        toy_config(tmp_path, loss="ns", lambda2=1.0)

    def first_losses(out, **lambdas):
        return Trainer(toy_config(tmp_path / out, loss="article001", steps=1, **lambdas)).train_step()

    plain = first_losses("plain")
    doubled = first_losses("d_doubled", lambda3=2.0, lambda4=20.0)
    assert doubled["loss_d"] == pytest.approx(2 * plain["loss_d"], rel=1e-5)
    assert first_losses("g_halved", lambda1=0.5)["loss_g"] == pytest.approx(0.5 * plain["loss_g"], rel=1e-6)
    with_penalty = first_losses("g_penalised", lambda2=1.0)  # G's loss gains a (positive) penalty term
    assert with_penalty["loss_g"] > plain["loss_g"]


def test_a_resumed_run_keeps_the_defaults_it_began_with(tmp_path):
    """A run begun under other defaults (here given explicitly) resumes with them where the options are
    left to their defaults, instead of being refused for a learning rate the user never chose."""
    Trainer(toy_config(tmp_path, loss="wgan-gp", lr=2e-4, gp_lambda=10.0, steps=2)).train()
    trainer = Trainer(toy_config(tmp_path, loss=None, steps=3), resume=True)
    assert (trainer.cfg.loss, trainer.cfg.lr, trainer.cfg.gp_lambda, trainer.step) == ("wgan-gp", 2e-4, 10.0, 2)
    trainer.train()
    with pytest.raises(checkpoint.CheckpointError, match=r"is for lr 0\.0002, not 0\.001"):
        Trainer(toy_config(tmp_path, lr=1e-3, steps=4), resume=True)


def test_wgan_gp_brings_its_own_defaults_for_2d_data_and_given_options_win(tmp_path):
    toy = Trainer(toy_config(tmp_path / "toy", loss="wgan-gp", steps=None, batch_size=None))
    assert (toy.cfg.gp_lambda, toy.cfg.batch_size, toy.total_steps, toy.cfg.lr, toy.cfg.lr_decay) == \
        (0.1, 256, 6000, 1e-3, "linear")
    assert [s.total_iters for s in toy.schedulers] == [6000, 6000]
    images = Trainer(toy_config(tmp_path / "dcgan", model="dcgan", data="mnist", loss="wgan-gp", steps=None,
                                batch_size=None))
    assert (images.cfg.gp_lambda, images.cfg.batch_size, images.cfg.lr, images.cfg.lr_decay) == (10.0, 64, 1e-3, "none")
    assert images.schedulers == [] and images.total_steps == 900
    epoch = Trainer(toy_config(tmp_path / "epoch", model="dcgan", data="mnist", loss="wgan-gp", steps=None, epochs=1,
                               batch_size=None))
    assert epoch.total_steps == -(-60_000 // 64 // 5)  # one epoch: 937 batches, 5 to a G step
    given = Trainer(toy_config(tmp_path / "given", loss="wgan-gp", steps=None, epochs=0.5, batch_size=100,
                               gp_lambda=1.0))
    assert (given.cfg.gp_lambda, given.cfg.batch_size, given.total_steps) == (1.0, 100, 100)  # 1000 batches / 2 / 5
    assert Trainer(toy_config(tmp_path / "ns", loss="ns", steps=None)).cfg.gp_lambda is None
    with pytest.raises(ValueError, match="--batch-size 64 does not divide into PacGAN packs of 3"):  # once filled in
        Trainer(toy_config(tmp_path / "packs", loss="ns", batch_size=None, pack=3))


def test_a_resumed_run_given_epochs_trains_for_them_not_its_stored_steps(tmp_path):
    Trainer(toy_config(tmp_path, loss="ns", steps=2, checkpoint_every=2)).train()
    trainer = Trainer(toy_config(tmp_path, loss="ns", steps=None, epochs=0.01), resume=True)
    assert trainer.total_steps == 32  # 0.01 of the 100,000 points in batches of 32, not the stored 2 steps
    assert Trainer(toy_config(tmp_path, loss="ns", steps=None), resume=True).total_steps == 2  # nothing given


def test_a_checkpoint_of_an_older_version_resumes(tmp_path):
    """Older versions recorded a penalty weight for every loss (and a VAE), article001's in --gp-lambda,
    and no instance noise or article 001 weights."""
    from minigan.training import saved_config

    Trainer(toy_config(tmp_path / "gan", loss="article001", steps=1)).train()
    path = str(tmp_path / "gan" / "last.npz")
    state = checkpoint.load(path)
    for key in ("noise_std", "lambda1", "lambda2", "lambda3", "lambda4"):
        del state["config"][key]
    state["config"]["gp_lambda"] = 3.0
    checkpoint.save(path, state)
    saved = saved_config(checkpoint.load(path))
    assert (saved["lambda4"], saved["gp_lambda"]) == (3.0, None)
    with pytest.raises(checkpoint.CheckpointError, match=r"is for lambda4 3\.0, not 10\.0"):
        Trainer(toy_config(tmp_path / "gan", loss="article001", steps=2), resume=True)
    Trainer(toy_config(tmp_path / "gan", loss="article001", steps=2, lambda4=3.0), resume=True).train()
