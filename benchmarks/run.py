"""Time minigan's training steps beside PyTorch's, in one command: a Markdown table of ratios, with the machine.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py [--repeats 12] [--threads 2]
        [--only NAME ...] [--json PATH] [--results benchmarks/RESULTS.md]

(Some machines set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which can slow OpenBLAS down: unset them
for the benchmark run only.) Every workload is float32, a closure called over and over, once in
minigan and once in PyTorch, doing the same arithmetic: the same layers and shapes, loss,
optimizer and its settings, batch.

* gan_step: dcgan, ``--loss ns``: one D update and one G update, batch 64, Adam(2e-4, betas 0.5, 0.999).
* wgan_gp_step: dcgan, ``--loss wgan-gp`` with ``n_critic=1``: one critic update with the gradient
  penalty, lambda 10, at interpolates x^ = eps x + (1 - eps) G(z) (a second derivative through D),
  then one G update, batch 64, Adam(1e-3, betas 0.5, 0.9).
* sample_1000: dcgan's G in eval mode, without a graph: 1000 images in batches of 64, into one array.
* dcgan32_step: article 001's DCGAN-32 (``models.dcgan32``, 5x5 'same' convolutions, dropout in D)
  on MNIST padded to 32x32, the gan_step of ``--loss ns``.
* vae_step: the MLP VAE (``vae-mlp``, pytorch/examples/vae's 784-400-20), one Adam(1e-3) step on the
  negative ELBO, batch 128.
* mlp_gan_step: article 003's MLP GAN (``models.mlp``, lesson 9's), the gan_step of ``--loss ns``.
* ``<conv>_fwd`` and ``<conv>_fwdbwd``: benchmarks/conv.py's convolutions at dcgan's shapes, forward
  only, and forward + backward for the input and the weight (conv.py's runner, on both libraries).
  Their last column is minigan's GFLOP/s and its share of NumPy's own GEMM speed: a convolution here
  is GEMMs plus copies, so the share left to 100% is the time the copies take.

minigan's side is what a user runs: `Trainer.train_step` (`VAETrainer.train_step`) of a trainer built
from a `TrainConfig`, `GAN.sample`, `minigan.nn.functional`. PyTorch's is the same step spelled in
torch.nn (the networks: `torch_dcgan`, `torch_dcgan32`, `torch_mlp`, `torch_vae_recipe`, layer for layer).
Both compute only the gradients each update needs: minigan's trainer takes G's update through D
without D's weight gradients, so PyTorch's takes `torch.autograd.grad` of G's parameters alone. What
minigan's step does beyond PyTorch's, and counts in its time: it checks that the loss and every
gradient are finite, measures the gradients' global norms, and reads the losses, D's mean outputs
and WGAN-GP's mean penalty gradient norm (the VAE: the loss's parts) as floats for losses.csv.
What differs without changing the cost: PyTorch keeps its own initial weights (not DCGAN's
N(0, 0.02)); its VAE decodes through a sigmoid and `binary_cross_entropy`, as pytorch/examples
does, where minigan's decoder gives logits; and it draws its batches from stand-in pixels, uniform
in MNIST's range, as many images as MNIST's training set (its memory worker, below, must not
import minigan, whose loader reads MNIST).

Time: the median of ``--repeats`` steps of each library (default 12, in 4 blocks, so rounded down
to a multiple of 4, and at least 4; each block after 3 warm-up steps), the libraries taking turns block by block in
one process (conv.py's `median_ms`), so that a busy spell slows both alike. The ratio is minigan's
time over PyTorch's: 3.0 means minigan takes three times as long. ``--threads`` (default 2) for
BLAS and for PyTorch alike. Without torch installed, minigan is timed alone and PyTorch's column reads "-".
That process's malloc keeps freed memory for reuse (`minigan.backend.keep_freed_memory`, as the
``minigan`` command's does), for both libraries' allocations.

Peak memory: each library runs the same workloads again, a few steps each, in a process of its own
(``run.py --worker minigan`` or ``--worker torch``, which never imports the other library: minigan
and torch are imported inside the functions that use them), and reports its peak resident set size
(VmHWM on Linux, else ``ru_maxrss``). It includes the interpreter, NumPy, the library and a training
set in memory. Each runs as it would by default: minigan's worker keeps freed memory, as the
``minigan`` command does; PyTorch's leaves malloc as it is.

The figures hold for the machine named above the table (CPU, BLAS and its kernel, threads, versions,
NumPy's float32 GEMM speed) and for no other. ``--results benchmarks/RESULTS.md`` puts the table in
that file under its machine's heading (CPU and threads), replacing the one there and keeping the
other machines'.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import tempfile

if __name__ == "__main__":  # before NumPy loads its BLAS (the script's folder is on sys.path)
    from blas_threads import pin_blas_threads

    pin_blas_threads(sys.argv[1:])

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from conv import (
    PASSES,
    blas_description,
    conv_gflops,
    conv_inputs,
    cpu_description,
    gemm_gflops,
    median_ms,
    runner,
    set_threads,
)
from conv import WORKLOADS as CONVOLUTIONS

Z_DIM = 100  # the noise every GAN here draws
GAN_BATCH, VAE_BATCH, SAMPLES = 64, 128, 1000
MNIST_IMAGES = 60_000  # the training set the stand-in pixels stand in for
WORKER_STEPS = 3  # a workload's steps in a worker: the first makes Adam's state, so the peak comes by the second
# The optimizer settings of each loss, given to both libraries: `minigan.gan.recipes.LOSSES`'s own.
NS = dict(loss="ns", lr=2e-4, betas=(0.5, 0.999))
WGAN_GP = dict(loss="wgan-gp", lr=1e-3, betas=(0.5, 0.9), gp_lambda=10.0)


# --- the networks in torch.nn, layer for layer as minigan builds them -----------------------------------

def torch_dcgan(nn):
    """`minigan.gan.models.dcgan`'s G and D (`_dcgan_generator(100)`, `_dcgan_discriminator(1)`) in torch.nn."""
    g = nn.Sequential(
        nn.Linear(Z_DIM, 1024), nn.BatchNorm1d(1024), nn.ReLU(),
        nn.Linear(1024, 128 * 7 * 7), nn.BatchNorm1d(128 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(128 * 7 * 7, 1), nn.Flatten(0))
    return g, d


def torch_dcgan32(nn):
    """`minigan.gan.models.dcgan32()` (article 001, one channel) in torch.nn. Keras's 'same' transposed
    convolution of a 5x5 kernel is padding 2, and output_padding 1 at stride 2, as minigan turns it."""
    def up(c_in, c_out, stride):
        return nn.ConvTranspose2d(c_in, c_out, 5, stride, padding=2, output_padding=stride - 1, bias=False)

    g = nn.Sequential(
        nn.Linear(Z_DIM, 4 * 4 * 512, bias=False), nn.BatchNorm1d(4 * 4 * 512), nn.LeakyReLU(0.3),
        nn.Unflatten(1, (512, 4, 4)), up(512, 256, 1), nn.BatchNorm2d(256), nn.LeakyReLU(0.3),
        up(256, 128, 2), nn.BatchNorm2d(128), nn.LeakyReLU(0.3),
        up(128, 64, 2), nn.BatchNorm2d(64), nn.LeakyReLU(0.3),
        up(64, 1, 2), nn.Tanh())
    d = nn.Sequential(
        nn.Conv2d(1, 64, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
        nn.Conv2d(64, 128, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(128 * 8 * 8, 1), nn.Flatten(0))
    return g, d


def torch_mlp(nn):
    """`minigan.gan.models.mlp`, article 003's G and D, in torch.nn."""
    g = nn.Sequential(nn.Linear(Z_DIM, 128), nn.ReLU(), nn.Linear(128, 784), nn.Sigmoid(), nn.Unflatten(1, (1, 28, 28)))
    d = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 1), nn.Flatten(0))
    return g, d


def torch_vae_recipe(torch):
    """pytorch/examples/vae/main.py's ``VAE`` class and ``loss_function``, as written there."""
    nn, F = torch.nn, torch.nn.functional

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 400)
            self.fc21 = nn.Linear(400, 20)
            self.fc22 = nn.Linear(400, 20)
            self.fc3 = nn.Linear(20, 400)
            self.fc4 = nn.Linear(400, 784)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar):
            std = torch.exp(0.5 * logvar)
            eps = torch.randn_like(std)
            return mu + eps * std

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return torch.sigmoid(self.fc4(h3))

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, 784))
            z = self.reparameterize(mu, logvar)
            return self.decode(z), mu, logvar

    def loss_function(recon_x, x, mu, logvar):
        bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return bce + kld

    return VAE, loss_function


# --- PyTorch's steps ---------------------------------------------------------------------------------

def stand_in_mnist(scale, size):
    """Uniform pixels in MNIST's range ([-1, 1] for "tanh", [0, 1] for "unit"), float32, (60000, 1, size, size)."""
    images = np.random.default_rng(0).random((MNIST_IMAGES, 1, size, size), dtype=np.float32)
    if scale == "tanh":
        images *= 2  # in place: a second array the size of the training set would count in the peak memory
        images -= 1
    return images


def batches(torch, images, batch_size):
    """A function that returns a random batch of ``images`` as a tensor, as minigan's DataLoader gathers one."""
    rng = np.random.default_rng(0)
    return lambda: torch.from_numpy(images[rng.integers(len(images), size=batch_size)])


def torch_update(torch, optimizer, loss, params):
    """`minigan.training.Run.update` without its checks: the gradients of ``params`` alone, then a step."""
    for p, g in zip(params, torch.autograd.grad(loss, params)):
        p.grad = g
    optimizer.step()


def torch_gan_step(torch, nets, images, batch_size, loss, lr, betas, gp_lambda=None):
    """`Trainer.train_step` with one D update, in PyTorch: G (``nets[0]``) draws a batch without a graph,
    D (``nets[1]``) takes an Adam step on a real batch of ``images`` and the fake one, then G an Adam step
    through D. ``loss``: "ns" (cross-entropy on logits) or "wgan-gp" (with ``gp_lambda``)."""
    g, d = nets
    F = torch.nn.functional
    opt_g, opt_d = (torch.optim.Adam(net.parameters(), lr, betas=betas) for net in nets)
    params_g, params_d = list(g.parameters()), list(d.parameters())
    next_real = batches(torch, images, batch_size)

    def d_loss(real, fake):
        real_scores, fake_scores = d(real), d(fake)
        if loss == "ns":
            return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()
        eps = torch.rand(len(real), *[1] * (real.ndim - 1))
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_()
        (grad,) = torch.autograd.grad(d(x_hat).sum(), x_hat, create_graph=True)
        norms = torch.sqrt(grad.pow(2).flatten(1).sum(1) + 1e-12)
        return fake_scores.mean() - real_scores.mean() + gp_lambda * (norms - 1).pow(2).mean()

    def g_loss(fake_scores):
        return F.softplus(-fake_scores).mean() if loss == "ns" else -fake_scores.mean()

    def step():
        real = next_real()
        with torch.no_grad():
            fake = g(torch.randn(batch_size, Z_DIM))
        torch_update(torch, opt_d, d_loss(real, fake), params_d)
        torch_update(torch, opt_g, g_loss(d(g(torch.randn(batch_size, Z_DIM)))), params_g)

    return step


def torch_sample(torch):
    """dcgan's G in eval mode and without a graph, batch by batch, as `GAN.sample` runs it."""
    g = torch_dcgan(torch.nn)[0].eval()
    z = torch.randn(SAMPLES, Z_DIM)

    def sample():
        with torch.no_grad():
            return np.concatenate([g(part).numpy() for part in z.split(GAN_BATCH)])

    return sample


def torch_vae_step(torch):
    """pytorch/examples/vae's training step, its summed loss divided by the batch as minigan's `vae_loss` is."""
    vae_class, loss_function = torch_vae_recipe(torch)
    model = vae_class()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
    params = list(model.parameters())
    next_batch = batches(torch, stand_in_mnist("unit", 28), VAE_BATCH)

    def step():
        x = next_batch()
        recon, mu, logvar = model(x)
        torch_update(torch, optimizer, loss_function(recon, x, mu, logvar) / VAE_BATCH, params)

    return step


# --- minigan's steps: its own trainers ----------------------------------------------------------------
# Each takes a scratch folder, where a trainer makes its run directory (a step writes nothing there).

def minigan_gan_step(config, workdir):
    from minigan.gan.training import TrainConfig, Trainer

    trainer = Trainer(TrainConfig(**config, n_critic=1, batch_size=GAN_BATCH, steps=10 ** 9,
                                  out=tempfile.mkdtemp(dir=workdir), progress=False))
    return trainer.train_step


def minigan_sample(workdir):
    import minigan as mg
    from minigan.gan.models import build

    gan = build("dcgan")
    z = mg.randn(SAMPLES, Z_DIM)
    return lambda: gan.sample(z, batch_size=GAN_BATCH)


def minigan_vae_step(workdir):
    from minigan.training import TrainConfig
    from minigan.vae.training import VAETrainer

    trainer = VAETrainer(TrainConfig(model="vae-mlp", batch_size=VAE_BATCH, lr=1e-3, betas=(0.9, 0.999),
                                     steps=10 ** 9, out=tempfile.mkdtemp(dir=workdir), progress=False))
    return trainer.train_step


# --- the workloads -------------------------------------------------------------------------------------

def gan_workload(model, settings, torch_nets, data):
    """A GAN step's pair of builders: ``settings`` for both libraries, ``data`` (scale, size) for PyTorch's stand-in."""
    def torch_step(torch):
        return torch_gan_step(torch, torch_nets(torch.nn), stand_in_mnist(*data), GAN_BATCH, **settings)

    return lambda workdir: minigan_gan_step(dict(model=model, **settings), workdir), torch_step


def convolution(kind, x_shape, w_shape, backward):
    """conv.py's runner for each library, on the same input and weight."""
    def minigan_conv(workdir):
        import minigan as mg
        from minigan.nn import functional as F

        return runner(mg, getattr(F, kind), *conv_inputs(x_shape, w_shape, np.random.default_rng(0)), backward)

    def torch_conv(torch):
        fn = getattr(torch.nn.functional, kind)
        return runner(torch, fn, *conv_inputs(x_shape, w_shape, np.random.default_rng(0)), backward)

    return minigan_conv, torch_conv


# name: (minigan's builder, of a scratch folder; PyTorch's, of torch), each returning the closure to time
WORKLOADS = {
    "gan_step": gan_workload("dcgan", NS, torch_dcgan, ("tanh", 28)),
    "wgan_gp_step": gan_workload("dcgan", WGAN_GP, torch_dcgan, ("tanh", 28)),
    "sample_1000": (minigan_sample, torch_sample),
    "dcgan32_step": gan_workload("dcgan32", NS, torch_dcgan32, ("tanh", 32)),
    "vae_step": (minigan_vae_step, torch_vae_step),
    "mlp_gan_step": gan_workload("mlp", NS, torch_mlp, ("unit", 28)),
    **{f"{name}_{suffix}": convolution(kind, x_shape, w_shape, backward)
       for name, kind, x_shape, w_shape in CONVOLUTIONS for suffix, backward in PASSES},
}
LIBRARIES = ("minigan", "torch")
# a convolution workload's name: (kind, input shape, weight shape, backward), for its GFLOP/s
CONVOLUTION_SHAPES = {f"{name}_{suffix}": (kind, x_shape, w_shape, backward)
                      for name, kind, x_shape, w_shape in CONVOLUTIONS for suffix, backward in PASSES}


# --- timing and memory ---------------------------------------------------------------------------------

def time_workloads(names, torch, repeats):
    """{name: {"minigan_ms", "torch_ms", "ratio"}}, the two libraries timed side by side; a convolution
    also gets minigan's "gflops"."""
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name in names:
            build_minigan, build_torch = WORKLOADS[name]
            steps = [build_minigan(workdir)] + ([build_torch(torch)] if torch else [])
            ms, torch_ms = (median_ms(steps, repeats) + [None])[:2]
            results[name] = {"minigan_ms": ms, "torch_ms": torch_ms, "ratio": ms / torch_ms if torch else None}
            if name in CONVOLUTION_SHAPES:
                results[name]["gflops"] = conv_gflops(*CONVOLUTION_SHAPES[name], ms)
    return results


def own_peak_rss_mib():
    """This process's peak resident memory in MiB: Linux's VmHWM, the peak of this program alone (Linux's
    ``ru_maxrss`` would also count the parent's memory this process was forked from); elsewhere ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 2 ** 10  # KiB
    except (OSError, StopIteration):
        import resource  # Unix only: here, so that the rest of the script runs on Windows

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2 ** 20 if sys.platform == "darwin" else peak / 2 ** 10  # macOS counts bytes, others KiB


def run_alone(build, arg):
    """A few steps of one workload; its arrays go when this returns, before the next workload's."""
    step = build(arg)
    for _ in range(WORKER_STEPS):
        step()


def worker(library, names, threads):
    """``library``'s workloads, one after another in this process, which never imports the other library;
    returns this process's peak resident memory in MiB."""
    with tempfile.TemporaryDirectory() as workdir:
        if library == "minigan":
            from minigan.backend import keep_freed_memory

            keep_freed_memory()  # as the minigan command does
        arg = set_threads(threads) if library == "torch" else workdir
        for name in names:
            run_alone(WORKLOADS[name][LIBRARIES.index(library)], arg)
    other = LIBRARIES[1 - LIBRARIES.index(library)]
    if other in sys.modules:
        raise RuntimeError(f"the {library} worker imported {other}: its peak memory would count both")
    return own_peak_rss_mib()


def peak_rss_mib(library, names, threads):
    """The peak resident memory of a fresh process that runs ``library``'s workloads ``names``, in MiB."""
    command = [sys.executable, os.path.abspath(__file__), "--worker", library, "--threads", str(threads),
               "--only", *names]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"the {library} worker failed:\n{result.stderr}")
    return json.loads(result.stdout.splitlines()[-1])["peak_rss_mib"]


# --- the report ----------------------------------------------------------------------------------------

def machine_description(torch, threads, gemm):
    import minigan

    return {"cpu": cpu_description(), "blas": blas_description(), "threads": threads,
            "python": platform.python_version(), "numpy": np.__version__,
            "torch": torch.__version__ if torch else None, "minigan": minigan.__version__, "gemm_gflops": gemm}


def markdown(results, repeats):
    """The machine's section of RESULTS.md: a heading that names it (CPU and threads), its lines, the table."""
    m = results["machine"]

    def row(name, ours, theirs, digits, gflops=None):
        share = "-" if gflops is None else f"{gflops:.0f} ({100 * gflops / m['gemm_gflops']:.0f}%)"
        if theirs is None:
            return f"| {name} | {ours:.{digits}f} | - | - | {share} |"
        return f"| {name} | {ours:.{digits}f} | {theirs:.{digits}f} | {ours / theirs:.2f} | {share} |"

    libraries = f"PyTorch {m['torch']}" if m["torch"] else "PyTorch not installed"
    lines = [
        f"## {m['cpu']}, {m['threads']} threads",
        "",
        (f"- run {datetime.date.today().isoformat()}: `python benchmarks/run.py --repeats {repeats} "
         f"--threads {m['threads']}`: each time is the median of a library's steps after warm-up, the two "
         "libraries taking turns"),
        f"- BLAS: {m['blas']}; {m['threads']} threads for BLAS and for PyTorch",
        f"- Python {m['python']}, NumPy {m['numpy']}, minigan {m['minigan']}, {libraries}",
        f"- NumPy float32 GEMM (1024 x 1024 x 1024) at its best: {m['gemm_gflops']:.0f} GFLOP/s",
        "",
        "| workload | minigan ms | PyTorch ms | ratio (minigan/torch) | minigan GFLOP/s (share of GEMM) |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(row(name, r["minigan_ms"], r["torch_ms"], 2, r.get("gflops")) for name, r in results["workloads"].items()),
        row("peak RSS, MiB (each library in a process of its own)", *results["peak_rss_mib"].values(), 0),
    ]
    return "\n".join(lines) + "\n"


RESULTS_PREAMBLE = """# Benchmark results

The latest table of each machine, written by `python benchmarks/run.py --results benchmarks/RESULTS.md`
(what each workload is, and how it is timed: the docstring of benchmarks/run.py). A figure holds for
the machine it is listed under, and for no other.
"""


def replace_section(text, section):
    """Markdown ``text`` with its ``## `` section headed as ``section`` is replaced by ``section``, or
    ``section`` added at the end; the text before the first section and every other section stay."""
    parts = re.split(r"(?m)^(?=## )", text)
    heading = section.partition("\n")[0]
    same = [i for i, part in enumerate(parts) if part.partition("\n")[0] == heading]
    if same:
        parts[same[0]] = section
    else:
        parts.append(section)
    return "\n\n".join(part.strip("\n") for part in parts if part.strip()) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=12,
                        help="steps timed per library and workload, in 4 blocks (default 12)")
    parser.add_argument("--threads", type=int, default=2, help="threads for BLAS and for torch (default 2)")
    parser.add_argument("--only", nargs="+", choices=list(WORKLOADS), metavar="NAME",
                        help=f"these workloads only, of: {', '.join(WORKLOADS)}")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--results", metavar="PATH", help="put the table into this Markdown file under the "
                        "machine's heading (e.g. benchmarks/RESULTS.md)")
    parser.add_argument("--worker", choices=LIBRARIES,
                        help="run one library's workloads alone and print its peak memory (what the run starts)")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.threads < 1:
        parser.error("--repeats and --threads must be positive")
    if args.results and args.only:
        parser.error("--results keeps a machine's whole table: leave out --only")
    names = args.only or list(WORKLOADS)
    if args.worker:
        print(json.dumps({"peak_rss_mib": worker(args.worker, names, args.threads)}))
        return

    torch = set_threads(args.threads)
    from minigan.backend import keep_freed_memory

    keep_freed_memory()  # as the minigan command does (here for both libraries, timed side by side)
    gemm = gemm_gflops(args.repeats)
    workloads = time_workloads(names, torch, args.repeats)
    peaks = {library: peak_rss_mib(library, names, args.threads) if library == "minigan" or torch else None
             for library in LIBRARIES}
    results = {"machine": machine_description(torch, args.threads, gemm), "workloads": workloads,
               "peak_rss_mib": peaks, "repeats": args.repeats}
    section = markdown(results, args.repeats)
    print(section, end="")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")
    if args.results:
        path = pathlib.Path(args.results)
        path.write_text(replace_section(path.read_text() if path.exists() else RESULTS_PREAMBLE, section))


if __name__ == "__main__":
    main()
