"""benchmarks/vae_vs_torch.py runs on a few batches and reports what it says (its timings are read, not asserted)."""
import json
import pathlib
import subprocess
import sys

import pytest

SCRIPT = pathlib.Path(__file__).parent.parent / "benchmarks" / "vae_vs_torch.py"


def run(*args, hide_torch=False):
    """The script as a command; ``hide_torch`` runs it as if torch were not installed."""
    if hide_torch:  # `import torch` raises ImportError; the script's folder first on sys.path, as for a script
        code = ("import runpy, sys; sys.modules['torch'] = None; "
                f"sys.path.insert(0, {str(SCRIPT.parent)!r}); sys.argv = [{str(SCRIPT)!r}, *{list(args)!r}]; "
                f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')")
        command = [sys.executable, "-c", code]
    else:
        command = [sys.executable, str(SCRIPT), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_vae_vs_torch_trains_both_and_writes_json(tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "out" / "vae.json"
    out = run("--limit", "512", "--epochs", "2", "--no-progress", "--json", str(path))
    assert "machine: " in out and "2 threads for BLAS and torch" in out
    assert "(not the same weights)" in out and "one z ~ q(z|x) drawn per image" in out
    assert "minigan/torch training time:" in out
    results = json.loads(path.read_text())
    assert results["epochs"] == 2 and results["machine"] in out
    assert results["train_images"] == results["test_images"] == 512
    for name in ("minigan", "torch"):
        r = results[name]
        assert r["seconds"] > 0 and len(r["seconds_per_epoch"]) == len(r["train_loss"]) == 2
        assert r["train_loss"][1] < r["train_loss"][0] < 545  # 784 ln 2 = 543 nats before any training
        assert 150 < r["test_loss"] < 545
    # 8 Adam steps from different initial weights: the two libraries train alike
    assert abs(results["minigan"]["test_loss"] - results["torch"]["test_loss"]) < 30


@pytest.mark.slow
def test_vae_vs_torch_without_torch_trains_minigan_alone(tmp_path):
    path = tmp_path / "vae.json"
    out = run("--limit", "256", "--no-progress", "--json", str(path), hide_torch=True)
    assert "torch is not installed: training minigan alone" in out and "torch not installed" in out
    assert "minigan/torch" not in out
    results = json.loads(path.read_text())
    assert results["torch"] is None and results["minigan"]["seconds"] > 0 and results["epochs"] == 1
