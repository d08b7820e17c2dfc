r"""The Dirac-GAN: the smallest GAN, whose training dynamics can be worked out by hand.

Mescheder, Geiger & Nowozin, "Which Training Methods for GANs do actually Converge?" (ICML 2018),
Section 2. The data are a point mass at 0, $p_D = \delta_0$; the generator puts all its mass at its
one parameter, $p_\theta = \delta_\theta$; the discriminator is linear, $D_\psi(x) = \psi x$. The
value of the game is

$L(\theta, \psi) = f(D_\psi(\theta)) + f(-D_\psi(0)) = f(\psi\theta) + f(0)$,

with $f(t) = -\log(1 + e^{-t})$ for the GAN and $f(t) = t$ for the WGAN. G descends $L$ in
$\theta$, D ascends it in $\psi$, and the only equilibrium (均衡) is $(\theta, \psi) = (0, 0)$. (The
paper's D scores generated samples high; in minigan's convention, where D scores real ones high,
$L$ is `minigan.gan.minimax_value` of the logits $-\psi x$.)

Training is a discrete dynamical system on $x = (\theta, \psi)$, driven by the gradient vector field

$v(x) = \big(-\partial_\theta L_G(x),\ -\partial_\psi L_D(x)\big)$,

where $L_G = L$ is G's loss and $L_D = -L + R$ is D's, with an optional penalty $R$; without one,
$v = \big(-f'(\psi\theta)\,\psi,\ f'(\psi\theta)\,\theta\big)$. `DiracGAN` computes $v$ and its
Jacobian with minigan's autograd. The functions below are the update rules, each a map
$x_k \mapsto x_{k+1}$ given the field, and `update_operator` is each rule's linearisation at an
equilibrium: its eigenvalues (特征值) decide whether the iterates converge there (spectral radius,
谱半径, below 1) or not. `lessons/08_dirac_gan.py` runs them all.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .. import ops
from ..autograd import grad
from ..creation import full, tensor, zeros
from ..tensor import Tensor
from .losses import instance_noise, r1_penalty

Field = Callable[[np.ndarray], np.ndarray]  # points of shape (..., 2) in, the vector field at each out
METHODS = ("simultaneous", "alternating", "extragradient", "optimistic")  # what update_operator linearises


def _points(x: ArrayLike, where: str) -> np.ndarray:
    """``x`` as float64 points (θ, ψ): an array whose last axis has length 2."""
    points = np.asarray(x, dtype=np.float64)
    if points.ndim == 0 or points.shape[-1] != 2:
        raise ValueError(f"{where}: expected points (theta, psi), an array of shape (..., 2), got shape "
                         f"{points.shape}")
    return points


@dataclasses.dataclass(frozen=True)
class DiracGAN:
    r"""The Dirac-GAN's game: its two losses, its gradient vector field $v$ and the field's Jacobian.

    ``loss``: "gan", $f(t) = -\log(1 + e^{-t}) = \log\sigma(t)$, or "wgan", $f(t) = t$.

    ``gamma``: the weight of a zero-centred gradient penalty on D (Mescheder et al. 2018, Section
    4.1), R1 $= \frac{\gamma}{2}\mathbb{E}_{p_D}\|\nabla_x D_\psi(x)\|^2$ computed by
    `minigan.gan.r1_penalty`; here $\nabla_x D_\psi = \psi$ everywhere, so R1 $= \frac{\gamma}{2}\psi^2$,
    and R2, the same on $p_\theta$, is equal to it.

    ``noise``: the standard deviation $\sigma$ of instance noise (Sønderby et al. 2016): D judges
    $x + \sigma\epsilon$, $\epsilon \sim N(0, 1)$, real and generated samples alike, so that
    $L = \mathbb{E}_\epsilon f(\psi(\theta + \sigma\epsilon)) + \mathbb{E}_\epsilon f(-\psi\sigma\epsilon)$.
    With ``samples`` = 0 the expectations are taken exactly, by Gauss-Hermite quadrature on ``nodes``
    points; with ``samples`` = n they are means over n draws of `minigan.gan.instance_noise`, new
    ones at each evaluation, as in training.
    """

    loss: str = "gan"
    gamma: float = 0.0
    noise: float = 0.0
    samples: int = 0
    nodes: int = 20

    def __post_init__(self) -> None:
        if self.loss not in ("gan", "wgan"):
            raise ValueError(f"DiracGAN: expected loss 'gan' or 'wgan', got {self.loss!r}")
        if self.gamma < 0 or self.noise < 0 or self.samples < 0 or self.nodes < 1:
            raise ValueError(f"DiracGAN: expected gamma >= 0, noise >= 0, samples >= 0 and nodes >= 1, got "
                             f"gamma={self.gamma}, noise={self.noise}, samples={self.samples}, nodes={self.nodes}")

    def f(self, t: Tensor) -> Tensor:
        r"""$f(t) = \log\sigma(t) = -\log(1 + e^{-t})$ (GAN) or $f(t) = t$ (WGAN)."""
        return ops.logsigmoid(t) if self.loss == "gan" else t

    def losses(self, x: Tensor) -> tuple[Tensor, Tensor]:
        r"""G's loss $L_G = L$ and D's loss $L_D = -L + \frac{\gamma}{2}\psi^2$, summed over the points
        ``x``, shape (K, 2): K independent games, so that each point's gradient is its own game's."""
        k = x.shape[0]
        theta, psi = x[:, 0:1], x[:, 1:2]  # (K, 1): one column of samples per game
        if not self.noise:
            fake, real, weights = theta, zeros(k, 1, dtype=x.dtype), full(1, 1.0, dtype=x.dtype)
        elif self.samples:
            fake = instance_noise(theta * full(self.samples, 1.0, dtype=x.dtype), self.noise)
            real = instance_noise(zeros(k, self.samples, dtype=x.dtype), self.noise)
            weights = full(self.samples, 1.0 / self.samples, dtype=x.dtype)
        else:  # E g(ε) = Σ w_i g(z_i) / sqrt(2π), exact for polynomials of degree below 2 * nodes
            z, w = np.polynomial.hermite_e.hermegauss(self.nodes)
            fake, real = theta + tensor(self.noise * z, dtype=x.dtype), tensor(self.noise * z, dtype=x.dtype)
            weights = tensor(w / np.sqrt(2 * np.pi), dtype=x.dtype)
        value = ((self.f(psi * fake) + self.f(-psi * real)) * weights).sum()
        penalty = k * r1_penalty(lambda s: psi[:, 0] * s, zeros(k, dtype=x.dtype), self.gamma) if self.gamma else 0.0
        return value, -value + penalty  # r1_penalty averages over its K points: the K games' penalties add

    def field_tensor(self, x: Tensor, create_graph: bool = False) -> Tensor:
        r"""$v(x) = (-\partial_\theta L_G, -\partial_\psi L_D)$ at the points ``x`` (K, 2), a leaf that
        requires grad; with ``create_graph`` it can be differentiated again (`jacobian`)."""
        loss_g, loss_d = self.losses(x)
        (grad_g,) = grad(loss_g, x, retain_graph=True, create_graph=create_graph)
        (grad_d,) = grad(loss_d, x, create_graph=create_graph)
        return ops.stack([-grad_g[:, 0], -grad_d[:, 1]], 1)

    def __call__(self, x: ArrayLike) -> np.ndarray:
        """The vector field at the points ``x``, shape (2,) or (..., 2): an array of the same shape."""
        points = _points(x, "DiracGAN")
        leaf = tensor(points.reshape(-1, 2), dtype=np.float64, requires_grad=True)
        return self.field_tensor(leaf).numpy().reshape(points.shape)

    def jacobian(self, x: ArrayLike = (0.0, 0.0)) -> np.ndarray:
        r"""The Jacobian $J = \partial v / \partial x$ at one point (the equilibrium by default), by double
        backward: row $i$ is $\nabla_x v_i$, and $v_i = -\partial_i L_i$ ($L_i$ player i's loss), so
        the row is a Hessian-vector product, $-H_i e_i$ with $H_i = \nabla^2 L_i$, computed as the
        gradient of $\langle \nabla L_i, e_i \rangle$ without forming $H_i$.

        At $(0, 0)$, unregularised: $J = \begin{pmatrix} 0 & -f'(0) \\ f'(0) & 0 \end{pmatrix}$."""
        point = _points(x, "DiracGAN.jacobian")
        if point.shape != (2,):
            raise ValueError(f"DiracGAN.jacobian: expected one point (theta, psi), shape (2,), got shape {point.shape}")
        leaf = tensor(point.reshape(1, 2), dtype=np.float64, requires_grad=True)
        v = self.field_tensor(leaf, create_graph=True)
        return np.stack([grad(v[0, i], leaf, retain_graph=True)[0].numpy()[0] for i in range(2)])


def consensus_field(game: DiracGAN, gamma: float) -> Field:
    r"""The field of consensus optimisation (Mescheder, Nowozin & Geiger, "The Numerics of GANs", NIPS 2017):

    $w(x) = v(x) - \gamma \nabla_x \tfrac12 \|v(x)\|^2 = v(x) - \gamma J(x)^\top v(x)$.

    Both players also descend $\frac12\|v\|^2$, which is 0 only at a stationary point; simultaneous
    steps on $w$ are consensus optimisation. At an equilibrium ($v = 0$) $w$'s Jacobian is
    $J - \gamma J^\top J$. The gradient of $\frac12\|v\|^2$ is one more double backward."""
    def field(x: np.ndarray) -> np.ndarray:
        points = _points(x, "consensus_field")
        leaf = tensor(points.reshape(-1, 2), dtype=np.float64, requires_grad=True)
        v = game.field_tensor(leaf, create_graph=True)
        (pull,) = grad(0.5 * (v * v).sum(), leaf)
        return (v.numpy() - gamma * pull.numpy()).reshape(points.shape)

    return field


def simultaneous(field: Field, x: np.ndarray, h: float) -> np.ndarray:
    r"""Simultaneous gradient descent (同时梯度下降): both players step at once, on the gradients at $x_k$:
    $x_{k+1} = x_k + h\,v(x_k)$."""
    return x + h * field(x)


def alternating(field: Field, x: np.ndarray, h: float, n_critic: int = 1, clip: float | None = None) -> np.ndarray:
    r"""Alternating gradient descent (交替梯度下降), D first, as minigan's Trainer does: ``n_critic`` steps
    $\psi \leftarrow \psi + h\,v_\psi(\theta, \psi)$, each followed, when ``clip`` = c, by WGAN's weight
    clipping $\psi \leftarrow \mathrm{clip}(\psi, -c, c)$ (`minigan.gan.clip_weights_`); then one step
    of G at D's new $\psi$: $\theta \leftarrow \theta + h\,v_\theta(\theta, \psi)$."""
    x = np.array(x, dtype=np.float64)
    for _ in range(n_critic):
        x[..., 1] += h * field(x)[..., 1]
        if clip is not None:
            x[..., 1] = np.clip(x[..., 1], -clip, clip)
    x[..., 0] += h * field(x)[..., 0]
    return x


def extragradient(field: Field, x: np.ndarray, h: float) -> np.ndarray:
    r"""The extragradient method (外梯度法; Korpelevich 1976; for GANs Gidel et al., ICLR 2019): look
    ahead one step, then step from $x_k$ with the field found there:

    $x_{k+1/2} = x_k + h\,v(x_k), \qquad x_{k+1} = x_k + h\,v(x_{k+1/2})$."""
    return x + h * field(x + h * field(x))


def optimistic(field: Field, x: np.ndarray, previous: np.ndarray, h: float) -> np.ndarray:
    r"""Optimistic gradient descent (乐观梯度下降; Daskalakis, Ilyas, Syrgkanis & Zeng, ICLR 2018): step on
    the field extrapolated from the last two iterates,

    $x_{k+1} = x_k + 2h\,v(x_k) - h\,v(x_{k-1})$."""
    return x + 2 * h * field(x) - h * field(previous)


def trajectory(update: Callable[[np.ndarray, np.ndarray], np.ndarray], x0: ArrayLike, steps: int) -> np.ndarray:
    r"""The iterates $x_0, \dots, x_{steps}$ of ``update``$(x_k, x_{k-1})$, with $x_{-1} = x_0$ (only
    `optimistic` looks back): an array of shape (steps + 1, *x0.shape)."""
    x = previous = _points(x0, "trajectory")
    found = [x]
    for _ in range(steps):
        x, previous = update(x, previous), x
        found.append(x)
    return np.stack(found)


def update_operator(method: str, jacobian: ArrayLike, h: float, n_critic: int = 1) -> np.ndarray:
    r"""The linearisation of an update rule at an equilibrium where the field's Jacobian is $J$: the
    matrix $M$ with $x_{k+1} \approx M x_k$ (for "optimistic", on the pair $(x_k, x_{k-1})$). The
    iterates near the equilibrium converge to it if $M$'s spectral radius is below 1 and move away
    if it is above 1.

    - simultaneous: $M = I + hJ$;
    - alternating: $M = (I + hP_\theta J)(I + hP_\psi J)^{n_{critic}}$, $P_\theta, P_\psi$ the projections
      on $\theta$ and on $\psi$ (D's steps first; weight clipping is inactive near the equilibrium);
    - extragradient: $M = I + hJ + h^2 J^2$;
    - optimistic: $M = \begin{pmatrix} I + 2hJ & -hJ \\ I & 0 \end{pmatrix}$.
    """
    J = np.asarray(jacobian, dtype=np.float64)
    if J.shape != (2, 2):
        raise ValueError(f"update_operator: expected a 2 x 2 Jacobian, got shape {J.shape}")
    eye = np.eye(2)
    if method == "simultaneous":
        return eye + h * J
    if method == "alternating":
        d_step, g_step = eye + h * np.diag([0.0, 1.0]) @ J, eye + h * np.diag([1.0, 0.0]) @ J
        return g_step @ np.linalg.matrix_power(d_step, n_critic)
    if method == "extragradient":
        return eye + h * J + h * h * J @ J
    if method == "optimistic":
        return np.block([[eye + 2 * h * J, -h * J], [eye, np.zeros((2, 2))]])
    raise ValueError(f"update_operator: expected a method in {METHODS}, got {method!r}")


def spectral_radius(matrix: ArrayLike) -> float:
    r"""$\rho(M) = \max_i |\lambda_i(M)|$, the largest modulus of the eigenvalues: $\|M^k x\|$ grows or
    shrinks like $\rho^k$."""
    return float(np.abs(np.linalg.eigvals(np.asarray(matrix, dtype=np.float64))).max())
