"""Time one DCGAN training step on MNIST shapes, minigan beside the same step in PyTorch.

A step is what `minigan train --model dcgan --loss ns` does per generator update: G draws a
batch without a graph, D takes an Adam step on the real and the fake batch, then G takes an
Adam step through D. The PyTorch side is the same networks (`minigan.gan.models.dcgan`, layer for
layer), losses and optimizer (benchmarks/run.py's `torch_dcgan` and `torch_gan_step`; run.py times
this step at batch 64 among others), so the ratio minigan/torch is the price of the whole engine:
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
from run import NS, torch_dcgan, torch_gan_step

from minigan.backend import keep_freed_memory
from minigan.gan.training import TrainConfig, Trainer


def minigan_step(batch_size, workdir):
    trainer = Trainer(TrainConfig(model="dcgan", **NS, batch_size=batch_size, steps=10 ** 9,
                                  out=os.path.join(workdir, f"b{batch_size}"), progress=False))
    return trainer.train_step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2, help="threads for BLAS and for torch (default 2)")
    args = parser.parse_args()
    torch = set_threads(args.threads)
    keep_freed_memory()  # as the minigan command does

    print(f"BLAS: {blas_description()}" + (f"; torch {torch.__version__}, {args.threads} threads" if torch else ""))
    print(f"{'DCGAN step':12} {'minigan ms':>10} {'torch ms':>9} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as workdir:
        for batch_size in args.batch_sizes:
            ours = minigan_step(batch_size, workdir)
            steps = [ours]
            if torch:
                import minigan.data

                images = minigan.data.mnist("test")[0]
                steps.append(torch_gan_step(torch, torch_dcgan(torch.nn), images, batch_size, **NS))
            ms = median_ms(steps, args.repeats) + [None]
            theirs = f"{ms[1]:9.1f} {ms[0] / ms[1]:6.2f}" if torch else f"{'-':>9} {'-':>6}"
            print(f"{'batch ' + str(batch_size):12} {ms[0]:10.1f} {theirs}")


if __name__ == "__main__":
    main()
