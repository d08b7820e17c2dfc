"""Train pytorch/examples/vae in minigan and in PyTorch, in one run: test loss and training time.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/vae_vs_torch.py --epochs 1 \\
        --json benchmarks/results/vae_vs_torch.json

The recipe is pytorch/examples/vae/main.py: a 784-400-20 encoder and a 20-400-784 decoder with
ReLU, the loss summed BCE on pixels in [0, 1] plus the Gaussian KL, summed over the batch (each
batch's loss divided by nothing), Adam with lr 1e-3, batches of 128, ``--epochs`` epochs.

* minigan: ``minigan.vae.models.vae_mlp()`` and the losses of ``minigan.vae.losses``; the decoder
  gives logits, so the BCE is ``-bernoulli_log_likelihood`` (equal to BCE on the sigmoid).
  ``vae_loss`` averages over the batch, so it is multiplied by the batch size here: the same
  summed loss as the recipe. A plain loop: zero_grad, loss.backward(), optimizer.step().
* PyTorch: the recipe's network written in torch.nn as in its main.py (fc1 784->400, fc21/fc22
  400->20, fc3 20->400, fc4 400->784, a sigmoid) and its loss,
  ``F.binary_cross_entropy(recon, x, reduction="sum") + KLD``.

Both are fed the bundled MNIST training set (``minigan.data.mnist("train", scale="unit")``) in
the same order: one NumPy permutation per epoch, drawn from ``--seed``. Each library starts from
its own seeded initial weights (``mg.manual_seed(seed)``, ``torch.manual_seed(seed)``): not the same
weights, only the same initialisation scheme. The two train side by side, taking turns epoch by
epoch, so that a busy spell on a shared machine slows both alike (each library draws from its own
generator, so the order changes no number but the times). The time is the training loop's wall
time (batches gathered, forward, backward, Adam step, ``loss.item()``), without the evaluation;
the ratio is minigan's over PyTorch's, for the whole run and for the median epoch. After each
model's training, the test loss is the summed BCE + KL per image in nats, averaged over the
bundled 10,000 test images, with one z ~ q(z|x) drawn per image as pytorch/examples' test loop
does, from a fixed seed (``--seed`` + 1) in each library. The training loss printed per epoch is
pytorch/examples' "Average loss": the epoch's summed loss over the dataset size.

Targets (benchmarks, not tests):

* after 1 epoch, minigan's test loss within 1.5 nats of PyTorch's in the same run, in at most
  1.5x its training time;
* after 10 epochs, minigan's test loss within 1 nat of 105.5 (pytorch/examples' published logs
  give 105.56-105.59 after 10 epochs).

Threads: ``--threads`` (default 2) for BLAS and for torch. Without torch installed it trains
minigan alone and says so. ``--limit N`` uses only the first N training and test images (tests).
"""
import argparse
import json
import os
import statistics
import sys
import time

if __name__ == "__main__":  # before NumPy loads its BLAS (the script's folder is on sys.path)
    from blas_threads import pin_blas_threads

    pin_blas_threads(sys.argv[1:])

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from conv import blas_description, cpu_description, set_threads
from run import torch_vae_recipe

import minigan as mg
from minigan import optim
from minigan.backend import keep_freed_memory
from minigan.data import mnist
from minigan.progress import progress_bar
from minigan.vae.losses import gaussian_kl, vae_loss
from minigan.vae.models import vae_mlp

BATCH_SIZE = 128  # pytorch/examples/vae's --batch-size
LR = 1e-3
TEST_BATCH = 1000  # the test loss is per image, so the batch only sets memory and speed
PUBLISHED_10_EPOCHS = 105.5  # pytorch/examples' logs: 105.56-105.59


def machine_description(torch, threads):
    torch_part = f"; torch {torch.__version__}" if torch else "; torch not installed"
    return (f"{cpu_description()}; BLAS: {blas_description()}; numpy {np.__version__}{torch_part}; "
            f"{threads} threads for BLAS" + (" and torch" if torch else ""))


# --- minigan ---------------------------------------------------------------------------------------

def minigan_trainer(images, seed):
    """vae_mlp, seeded, and a function that trains it one epoch on ``images`` (N, 1, 28, 28) in the
    order of a permutation, returning the epoch's summed loss."""
    mg.manual_seed(seed)
    model = vae_mlp()
    optimizer = optim.Adam(model.parameters(), lr=LR)
    model.train()

    def train_epoch(perm, bar):
        total = 0.0
        for i in range(0, len(perm), BATCH_SIZE):
            x = mg.tensor(images[perm[i:i + BATCH_SIZE]])
            decoded, mu, logvar, _ = model(x)
            # vae_loss is the batch mean; times the batch size, the recipe's summed loss
            loss = vae_loss(model.log_likelihood(decoded, x), gaussian_kl(mu, logvar)) * x.shape[0]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            bar.update(x.shape[0])
        return total

    return model, train_epoch


def evaluate_minigan(model, images, seed):
    """Summed BCE + KL per image (nats), averaged over ``images``, one z ~ q(z|x) each, drawn from ``seed``."""
    mg.manual_seed(seed)
    model.eval()
    total = 0.0
    with mg.no_grad():
        for i in range(0, len(images), TEST_BATCH):
            x = mg.tensor(images[i:i + TEST_BATCH])
            decoded, mu, logvar, _ = model(x)
            per_image = -model.log_likelihood(decoded, x) + gaussian_kl(mu, logvar)
            total += float(np.sum(per_image.numpy(), dtype=np.float64))
    return total / len(images)


# --- PyTorch: pytorch/examples/vae/main.py (its VAE and loss: run.py's torch_vae_recipe) ------------

def torch_trainer(torch, images, seed):
    """The recipe's model, seeded, and its train loop for one epoch on ``images`` (N, 784); as `minigan_trainer`."""
    vae_class, loss_function = torch_vae_recipe(torch)
    torch.manual_seed(seed)
    model = vae_class()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()

    def train_epoch(perm, bar):
        total = 0.0
        for i in range(0, len(perm), BATCH_SIZE):
            data = torch.from_numpy(images[perm[i:i + BATCH_SIZE]])
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            total += loss.item()
            optimizer.step()
            bar.update(data.shape[0])
        return total

    return model, train_epoch


def evaluate_torch(torch, model, images, seed):
    """The recipe's test loop: z drawn (``torch.manual_seed(seed)``), summed loss over the dataset size."""
    _, loss_function = torch_vae_recipe(torch)
    torch.manual_seed(seed)
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(images), TEST_BATCH):
            data = torch.from_numpy(images[i:i + TEST_BATCH])
            recon_batch, mu, logvar = model(data)
            total += loss_function(recon_batch, data, mu, logvar).item()
    return total / len(images)


# --- the run ---------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="initial weights, data order; test z from seed + 1")
    parser.add_argument("--threads", type=int, default=2, help="threads for BLAS and for torch (default 2)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--limit", type=int, metavar="N", help="use only the first N training and test images")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="progress bars on stderr (default on)")
    args = parser.parse_args(argv)
    if args.epochs < 1 or (args.limit is not None and args.limit < 1):
        parser.error("--epochs and --limit must be positive")
    torch = set_threads(args.threads)
    keep_freed_memory()  # as the minigan command does

    train = mnist("train", scale="unit")[0][:args.limit]
    test = mnist("test", scale="unit")[0][:args.limit]
    rng = np.random.default_rng(args.seed)
    perms = [rng.permutation(len(train)) for _ in range(args.epochs)]
    test_seed = args.seed + 1
    machine = machine_description(torch, args.threads)

    print("pytorch/examples/vae (784-400-20, ReLU, summed BCE + KL, Adam lr 1e-3, batch 128): "
          f"{args.epochs} epoch(s) on {len(train)} training images, tested on {len(test)}")
    print(f"machine: {machine}")
    if torch is None:
        print("torch is not installed: training minigan alone")
    print(f"initial weights: each library's own, seeded with {args.seed} (not the same weights); "
          f"data order: one NumPy permutation per epoch (seed {args.seed}), the same for both")

    # The two models train side by side, taking turns epoch by epoch, so that a busy spell on a
    # shared machine slows both alike (their random numbers come from separate generators, so
    # the order changes no result).
    trainers = {"minigan": minigan_trainer(train, args.seed)}
    if torch is not None:
        flat = [a.reshape(len(a), -1) for a in (train, test)]
        trainers["torch"] = torch_trainer(torch, flat[0], args.seed)
    results = {name: dict(seconds_per_epoch=[], train_loss=[]) for name in trainers}
    for epoch, perm in enumerate(perms, 1):
        for name, (_, train_epoch) in trainers.items():
            with progress_bar(len(perm), desc=f"{name} epoch {epoch}", enabled=args.progress, unit="image") as bar:
                start = time.perf_counter()
                total = train_epoch(perm, bar)
                results[name]["seconds_per_epoch"].append(time.perf_counter() - start)
            results[name]["train_loss"].append(total / len(perm))
    results["minigan"]["test_loss"] = evaluate_minigan(trainers["minigan"][0], test, test_seed)
    if torch is not None:
        results["torch"]["test_loss"] = evaluate_torch(torch, trainers["torch"][0], flat[1], test_seed)
    for r in results.values():
        r["seconds"] = sum(r["seconds_per_epoch"])

    names = list(results)
    print()
    both = torch is not None
    print(f"{'epoch':>5} " + " ".join(f"{name + ' train loss':>18} {'s':>7}" for name in names)
          + (f" {'ratio':>6}" if both else ""))
    for epoch in range(args.epochs):
        seconds = [results[name]["seconds_per_epoch"][epoch] for name in names]
        print(f"{epoch + 1:5d} " + " ".join(f"{results[name]['train_loss'][epoch]:18.2f} {s:7.2f}"
                                             for name, s in zip(names, seconds))
              + (f" {seconds[0] / seconds[1]:6.2f}" if both else ""))
    print()
    print(f"test loss: summed BCE + KL per image (nats), averaged over {len(test)} test images, "
          f"one z ~ q(z|x) drawn per image as pytorch/examples' test loop does (seed {test_seed})")
    for name in names:
        r = results[name]
        print(f"  {name:8} test loss {r['test_loss']:8.2f}   training {r['seconds'] / args.epochs:7.2f} s/epoch"
              f"  ({r['seconds']:.1f} s in all)")
    if torch is not None:
        ours, theirs = results["minigan"], results["torch"]
        ratio, gap = ours["seconds"] / theirs["seconds"], ours["test_loss"] - theirs["test_loss"]
        print(f"  minigan/torch training time: {ratio:.2f}x; test loss minigan - torch: {gap:+.2f} nats")
        if args.epochs > 1:
            medians = [statistics.median(r["seconds_per_epoch"]) for r in (ours, theirs)]
            print(f"  median epoch: minigan {medians[0]:.2f} s, torch {medians[1]:.2f} s, "
                  f"{medians[0] / medians[1]:.2f}x (less swayed by a busy spell on a shared machine)")
        if args.epochs == 1:
            met = abs(gap) <= 1.5 and ratio <= 1.5
            print("target after 1 epoch (within 1.5 nats of torch, in at most 1.5x its time): "
                  + ("met" if met else "not met"))
    if args.epochs == 10:
        gap = results["minigan"]["test_loss"] - PUBLISHED_10_EPOCHS
        print(f"target after 10 epochs (within 1 nat of {PUBLISHED_10_EPOCHS}, pytorch/examples' logs): "
              f"minigan {gap:+.2f} nats, {'met' if abs(gap) <= 1 else 'not met'}")

    if args.json:
        out = {name: dict(test_loss=round(r["test_loss"], 4), seconds=round(r["seconds"], 3),
                          seconds_per_epoch=[round(s, 3) for s in r["seconds_per_epoch"]],
                          train_loss=[round(v, 4) for v in r["train_loss"]]) for name, r in results.items()}
        out["torch"] = out.get("torch")  # null without torch
        out.update(epochs=args.epochs, machine=machine, threads=args.threads, seed=args.seed, test_seed=test_seed,
                   train_images=len(train), test_images=len(test), batch_size=BATCH_SIZE, lr=LR)
        folder = os.path.dirname(args.json)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
    return results


if __name__ == "__main__":
    main()
