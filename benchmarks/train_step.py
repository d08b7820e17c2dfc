"""Time one DCGAN training step on MNIST shapes, minigan beside the same step in PyTorch.

A step is what `minigan train --model dcgan --loss ns` does per generator update: G draws a
batch without a graph, D takes an Adam step on the real and the fake batch, then G takes an
Adam step through D. The PyTorch side is the same networks (`minigan.gan.models.dcgan`, layer for
layer), losses and optimizer, so the ratio minigan/torch is the price of the whole engine:
kernels, graph, optimizer, and the trainer's check that every gradient is finite (which the
PyTorch loop leaves out).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/train_step.py [--batch-sizes 16 64]

Without torch installed it times minigan alone.
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from conv import blas_description, median_ms, set_threads

from minigan.gan.training import TrainConfig, Trainer


def minigan_step(batch_size, workdir):
    trainer = Trainer(TrainConfig(model="dcgan", loss="ns", batch_size=batch_size, steps=10 ** 9,
                                  out=os.path.join(workdir, f"b{batch_size}"), progress=False))
    return trainer.train_step


def torch_step(torch, batch_size, images):
    """The same step in PyTorch: `models._dcgan_generator` and `_dcgan_discriminator`, spelled in torch.nn."""
    nn, F = torch.nn, torch.nn.functional
    g = nn.Sequential(
        nn.Linear(100, 1024), nn.BatchNorm1d(1024), nn.ReLU(),
        nn.Linear(1024, 128 * 7 * 7), nn.BatchNorm1d(128 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(128 * 7 * 7, 1), nn.Flatten(0))
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    real = torch.from_numpy(images[:batch_size])

    def step():
        with torch.no_grad():
            fake = g(torch.randn(batch_size, 100))
        loss_d = F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-d(g(torch.randn(batch_size, 100)))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2, help="threads for BLAS and for torch (default 2)")
    args = parser.parse_args()
    torch = set_threads(args.threads)

    print(f"BLAS: {blas_description()}" + (f"; torch {torch.__version__}, {args.threads} threads" if torch else ""))
    print(f"{'DCGAN step':12} {'minigan ms':>10} {'torch ms':>9} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as workdir:
        for batch_size in args.batch_sizes:
            ours = minigan_step(batch_size, workdir)
            steps = [ours]
            if torch:
                import minigan.data

                steps.append(torch_step(torch, batch_size, minigan.data.mnist("test")[0]))
            ms = median_ms(steps, args.repeats) + [None]
            theirs = f"{ms[1]:9.1f} {ms[0] / ms[1]:6.2f}" if torch else f"{'-':>9} {'-':>6}"
            print(f"{'batch ' + str(batch_size):12} {ms[0]:10.1f} {theirs}")


if __name__ == "__main__":
    main()
