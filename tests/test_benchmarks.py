"""The benchmark scripts run and say what they measure (their timings are read, not asserted)."""
import importlib.util
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from minigan.gan.training import TrainConfig, Trainer
from minigan.metrics import mnist_score, sharpen

BENCHMARKS = pathlib.Path(__file__).parent.parent / "benchmarks"


def script_module(name):
    """A benchmark script imported as a module, without putting benchmarks/ on sys.path."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(script, *args):
    result = subprocess.run([sys.executable, str(BENCHMARKS / script), *args],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_matching_factor_finds_the_sharpness_that_gives_a_score():
    logits = np.random.default_rng(0).standard_normal((500, 10)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    matching_factor = script_module("mnist_score_judge").matching_factor
    for a in (0.5, 2.5):
        assert abs(matching_factor(probs, mnist_score(sharpen(probs, a))) - a) < 1e-6
    assert matching_factor(probs, 10.0) is None  # 500 soft predictions cannot reach the maximum
    assert matching_factor(probs, 1.0) is None  # nor the minimum


@pytest.mark.slow
def test_mnist_score_judge_on_a_checkpoint(tmp_path):
    Trainer(TrainConfig(model="dcgan", loss="ns", steps=2, batch_size=8, out=str(tmp_path), progress=False)).train()
    out = run("mnist_score_judge.py", "--checkpoint", str(tmp_path / "last.npz"), "--n", "2000")
    rows = [line.split() for line in out.splitlines() if line[:6].strip().replace(".", "").isdigit()]
    assert [float(row[0]) for row in rows] == [0.75, 1.0, 1.25, 1.5, 2.0, 3.0]
    real = [float(row[1]) for row in rows]
    assert real == sorted(real) and 9.0 < real[1] < 10  # the shipped judge on real test digits
    assert "the real test set scores the papers' 9.88" in out


@pytest.mark.slow
def test_train_step_benchmark_runs():
    out = run("train_step.py", "--batch-sizes", "4", "--repeats", "1")
    assert "minigan ms" in out and "batch 4" in out


@pytest.mark.slow
def test_mode_collapse_records_each_run_and_resumes_only_what_is_missing(tmp_path):
    quick = ("--steps", "3", "--methods", "ns", "--datasets", "ring8", "--out", str(tmp_path))
    assert "1 runs to go" in run("mode_collapse.py", *quick, "--seeds", "1")
    out = run("mode_collapse.py", *quick, "--seeds", "2", "--resume")
    assert "1 runs to go, 1 recorded before" in out and "The 2 runs took" in out
    lines = (tmp_path / "mode_collapse_runs.jsonl").read_text().splitlines()
    assert [json.loads(line)["seed"] for line in lines] == [0, 1]
    # other settings are measured anew; records are discarded only when asked (--fresh)
    assert "2 runs to go" in run("mode_collapse.py", *quick[2:], "--steps", "4", "--seeds", "2", "--resume")
    refused = subprocess.run([sys.executable, str(BENCHMARKS / "mode_collapse.py"), *quick, "--seeds", "2"],
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "pass --resume to go on from them, --fresh to discard them" in refused.stderr
    assert "2 runs to go" in run("mode_collapse.py", *quick, "--seeds", "2", "--fresh")
    saved = json.loads((tmp_path / "mode_collapse.json").read_text())
    assert saved["methods"]["ns"]["ring8"]["steps"] == 3 and set(saved["results"]) == {"ring8/ns"}
