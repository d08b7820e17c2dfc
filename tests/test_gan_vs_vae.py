"""benchmarks/gan_vs_vae.py trains both models on a tiny budget and writes what it says (numbers read, not judged)."""
import json
import pathlib
import subprocess
import sys

import pytest

from minigan import evaluation

SCRIPT = pathlib.Path(__file__).parent.parent / "benchmarks" / "gan_vs_vae.py"


@pytest.mark.slow
def test_gan_vs_vae_trains_both_for_the_budget_and_scores_them(tmp_path):
    out_dir, work_dir = tmp_path / "results", tmp_path / "runs"
    args = ["--budget", "3", "--n", "300", "--out-dir", str(out_dir), "--work-dir", str(work_dir)]
    result = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for row in ("steps/s", "MNIST score", "Frechet distance", "recall", "test -ELBO", "active units", "real test"):
        assert row in out
    results = json.loads((out_dir / "gan_vs_vae.json").read_text())
    assert results["command"].endswith(" ".join(args)) and results["n"] == 300 and results["budget_seconds"] == 3
    gan, vae = results["models"]["dcgan"], results["models"]["vae-conv"]
    assert (gan["config"]["batch_size"], gan["config"]["lr"], gan["config"]["loss"]) == (16, 1e-3, "ns")
    assert (vae["config"]["batch_size"], vae["config"]["lr"], vae["config"]["likelihood"]) == (64, 1e-3, "bernoulli")
    for model in (gan, vae):
        assert model["steps"] >= 1 and model["seconds"] >= 3 and model["diverged"] is None
        assert model["images_seen"] == model["steps"] * model["config"]["batch_size"]
        assert model["n"] == 300 and 1 <= model["mnist_score"] <= 10 and 0 <= model["grey_fraction"] <= 1
        for key in evaluation.IMAGE_KEYS:
            assert model[key] is not None
    assert vae["active_units"] <= vae["config"]["latent_dim"] == 20 and 0 < vae["test_neg_elbo"] < 2000
    assert set(gan["losses"]) == {"loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g"}
    assert "loss" in vae["losses"]
    assert results["real"]["mnist_score"] > 9  # the anchor: real test digits
    assert (out_dir / "gan_vs_vae.png").stat().st_size > 0
    # the checkpoints load as the models they were trained as, at the steps reported
    for name, model in (("dcgan", gan), ("vae-conv", vae)):
        _, config = evaluation.load_model(work_dir / name / "last.npz")
        assert config["model"] == name and config["step"] == model["steps"]
