"""benchmarks/run.py: a small subset runs and writes what it says (its timings are read, not asserted), and
its PyTorch networks are minigan's, layer for layer."""
import importlib.util
import json
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import minigan as mg
from minigan.gan import models
from minigan.vae.models import vae_mlp

RUN = pathlib.Path(__file__).parent.parent / "benchmarks" / "run.py"


def run_module():
    """benchmarks/run.py imported as a module (it puts its own folder on sys.path, for conv.py)."""
    spec = importlib.util.spec_from_file_location("run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def positive(x):
    return isinstance(x, float) and math.isfinite(x) and x > 0


@pytest.mark.slow  # a run with two worker processes, one of which imports torch
def test_a_subset_runs_and_writes_its_json(tmp_path):
    path = tmp_path / "results.json"
    names = ["mlp_gan_step", "conv2d_1x64_28_fwd"]
    # One thread per library: on a busy machine, two BLAS and two OpenMP threads spinning on two cores
    # make these small steps some 40 times slower (the test, some 20 s instead of 9).
    result = subprocess.run([sys.executable, str(RUN), "--only", *names, "--repeats", "2", "--threads", "1",
                             "--json", str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "| workload | minigan ms | PyTorch ms | ratio (minigan/torch) | minigan GFLOP/s (share of GEMM) |" \
        in result.stdout
    results = json.loads(path.read_text())
    machine = results["machine"]
    assert {"cpu", "blas", "threads", "python", "numpy", "torch", "minigan"} <= set(machine)
    assert positive(machine["gemm_gflops"]) and machine["threads"] == 1
    assert list(results["workloads"]) == names
    has_torch = importlib.util.find_spec("torch") is not None
    for name, r in results["workloads"].items():
        convolution = name.startswith("conv")
        assert set(r) == {"minigan_ms", "torch_ms", "ratio"} | ({"gflops"} if convolution else set())
        assert positive(r["minigan_ms"]) and (not convolution or positive(r["gflops"]))
        if has_torch:
            assert positive(r["torch_ms"]) and r["ratio"] == pytest.approx(r["minigan_ms"] / r["torch_ms"])
        else:
            assert r["torch_ms"] is None and r["ratio"] is None
        assert f"| {name} | " in result.stdout
    peaks = results["peak_rss_mib"]
    assert set(peaks) == {"minigan", "torch"} and positive(peaks["minigan"])
    assert positive(peaks["torch"]) if has_torch else peaks["torch"] is None


def test_results_keeps_other_machines_and_replaces_its_own():
    replace_section = run_module().replace_section
    text = "# Results\n\nintro\n\n## CPU A, 2 threads\n\nold A\n\n## CPU B, 2 threads\n\nB\n"
    text = replace_section(text, "## CPU A, 2 threads\n\nnew A\n")
    assert text == "# Results\n\nintro\n\n## CPU A, 2 threads\n\nnew A\n\n## CPU B, 2 threads\n\nB\n"
    assert replace_section(text, "## CPU A, 4 threads\n\nA4\n") == text + "\n## CPU A, 4 threads\n\nA4\n"


def test_the_torch_networks_are_minigans_layer_for_layer():
    torch = pytest.importorskip("torch")
    run = run_module()

    def shapes(net):
        return {name: tuple(t.shape) for name, t in net.state_dict().items()}

    def same_outputs(ours, theirs, x):
        """minigan's weights loaded into the torch network: the same outputs, both in eval mode."""
        state = {name: torch.from_numpy(np.array(value.numpy() if hasattr(value, "numpy") else value))
                 for name, value in ours.state_dict().items()}
        theirs.load_state_dict(state)
        ours.eval(), theirs.eval()
        with mg.no_grad():
            expected = ours(mg.tensor(x)).numpy()
        with torch.no_grad():
            np.testing.assert_allclose(theirs(torch.from_numpy(x)).numpy(), expected, rtol=1e-4, atol=1e-5)

    rng = np.random.default_rng(0)
    for build, spell in ((models.dcgan, run.torch_dcgan), (models.dcgan32, run.torch_dcgan32),
                         (models.mlp, run.torch_mlp)):
        gan, (g, d) = build(), spell(torch.nn)
        assert shapes(g) == shapes(gan.generator) and shapes(d) == shapes(gan.discriminator), gan.name
        z = rng.standard_normal((3, gan.z_dim)).astype(np.float32)
        same_outputs(gan.generator, g, z)  # every activation, slope and padding as minigan's
        same_outputs(gan.discriminator, d, rng.uniform(-1, 1, (3, *gan.sample_shape)).astype(np.float32))
    # pytorch/examples names its layers fc1, fc21, ...: the same parameters in the same order
    ours, theirs = vae_mlp().parameters(), run.torch_vae_recipe(torch)[0]().parameters()
    assert [p.shape for p in ours] == [tuple(p.shape) for p in theirs]
