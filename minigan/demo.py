"""`minigan demo`: the engine at work in half a minute.

1. Derivatives of tanh to third order, against their closed forms.
2. A two-layer network fitted to two interleaved half-moons by plain gradient descent,
   written with nothing but tensors and `mg.grad`; the loss curve and the decision regions
   are saved as a PNG.
"""
from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

import minigan as mg
from minigan.tensor import Tensor


def tanh_derivatives(values: np.ndarray) -> list[np.ndarray]:
    x = mg.tensor(values, requires_grad=True)
    y, derivatives = mg.tanh(x).sum(), []
    for _ in range(3):
        (d,) = mg.grad(y, x, create_graph=True)
        derivatives.append(d.numpy())
        y = d.sum()
    return derivatives


def two_moons(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    t = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    upper: np.ndarray = np.c_[np.cos(t), np.sin(t)]
    lower: np.ndarray = np.c_[1 - np.cos(t), 0.5 - np.sin(t)]
    x = np.where(label[:, None] == 0, upper, lower)
    return (x + rng.normal(0, 0.1, x.shape)).astype(np.float32), label.astype(np.float32)


def forward(params: Sequence[Tensor], x: Tensor) -> Tensor:
    w1, b1, w2, b2 = params
    return (mg.tanh(x @ w1 + b1) @ w2 + b2).squeeze(-1)  # one logit per point


def fit(steps: int = 400, lr: float = 0.5,
        seed: int = 0) -> tuple[list[Tensor], np.ndarray, np.ndarray, list[float], float]:
    rng = np.random.default_rng(seed)
    points, labels = two_moons(512, rng)
    shapes = [(2, 16), (16,), (16, 1), (1,)]
    params = [mg.tensor(rng.normal(0, 0.5, s).astype(np.float32), requires_grad=True) for s in shapes]
    x, y = mg.tensor(points), mg.tensor(labels)
    losses = []
    for step in range(steps):
        logits = forward(params, x)
        # binary cross-entropy from logits: softplus(z) - y z = -[y log s(z) + (1 - y) log(1 - s(z))]
        loss = (mg.softplus(logits) - y * logits).mean()
        for p, g in zip(params, mg.grad(loss, params)):
            p.data -= lr * g.data  # the update acts on the raw arrays: it is not part of any graph
        losses.append(loss.item())
        if step % 100 == 0 or step == steps - 1:
            print(f"  step {step:4d}  loss {loss.item():.4f}")
    with mg.no_grad():
        accuracy = float(((forward(params, x) > 0).numpy() == (y.numpy() > 0.5)).mean())
    return params, x.numpy(), y.numpy(), losses, accuracy


def plot(params: Sequence[Tensor], x: np.ndarray, y: np.ndarray, losses: Sequence[float],
         path: str | os.PathLike[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(losses)
    left.set(title="training loss (binary cross-entropy)", xlabel="step", yscale="log")
    gx, gy = np.meshgrid(np.linspace(-1.5, 2.5, 200), np.linspace(-1, 1.5, 200))
    grid = mg.tensor(np.c_[gx.ravel(), gy.ravel()].astype(np.float32))
    with mg.no_grad():
        p = mg.sigmoid(forward(params, grid)).numpy().reshape(gx.shape)
    right.contourf(gx, gy, p, levels=20, cmap="RdBu", alpha=0.6)
    right.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu", s=6, edgecolors="k", linewidths=0.2)
    right.set(title="decision regions of the fitted network")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(out: str = "demo.png") -> int:
    x = np.array([0.3, -1.2, 2.0])
    t = np.tanh(x)
    closed = [1 - t**2, -2 * t * (1 - t**2), -2 * (1 - t**2) ** 2 + 4 * t**2 * (1 - t**2)]
    print("Derivatives of tanh at", x.tolist())
    for order, (got, want) in enumerate(zip(tanh_derivatives(x), closed), start=1):
        print(f"  order {order}: minigan {np.round(got, 6).tolist()}  closed form {np.round(want, 6).tolist()}")
    print("Fitting a 2-16-1 tanh network to two moons with plain gradient descent:")
    params, xs, ys, losses, accuracy = fit()
    plot(params, xs, ys, losses, out)
    print(f"Training accuracy {accuracy:.1%}; wrote {out}")
    return 0
