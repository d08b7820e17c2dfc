# %% [markdown]
# # Lesson 8: game dynamics on the Dirac-GAN: why GAN training circles, and what makes it converge
#
# Articles 000 and 001 train "until the parameters of the generator and the discriminator converge"
# (直到生成器和判别器的参数收敛; A000-7 and A001-12 in [the formula audit](../docs/formulas.md)),
# the players taking turns as article 002 describes (fix G and optimise D, then fix D and optimise G:
# A002-6). Article 004 warns that GAN training "may be unstable" (A004-18).
# Both are about one question: do the two players' gradient steps reach the game's equilibrium
# (均衡) at all? This lesson answers it on the smallest GAN there is, the Dirac-GAN of Mescheder,
# Geiger and Nowozin ("Which Training Methods for GANs do actually Converge?", ICML 2018), where
# every step can be followed by hand and every answer comes from the eigenvalues (特征值) of a 2 x 2
# matrix (4 x 4 for optimistic steps), computed here with minigan's second derivatives (lesson 1).
#
# Plain gradient steps do not converge: simultaneous steps spiral out, alternating steps circle,
# and WGAN's critic steps never converge, whatever their number. Two kinds of remedy do converge: changing the
# game (a zero-centred gradient penalty, instance noise) or changing the steps (consensus
# optimisation, extragradient, optimistic steps).
#
# Step through it with `minigan lesson 8`, or run it with `python lessons/08_dirac_gan.py`
# (about ten seconds; `--fast` runs 300 steps per method instead of 600). The starting points other than
# the paper's (1, 1) are drawn from `--seed N` (default 0). Figures go to `lesson_figures/08_dirac_gan/`.

# %%
import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
from minigan import gan, lessons
from minigan.gan import dirac
from minigan.gan.recipes import LOSSES

opts = lessons.options("08_dirac_gan", seed=0)
mg.manual_seed(opts.seed)  # the instance noise drawn in step 6
rng = np.random.default_rng(opts.seed)
STEPS = 300 if opts.fast else 600  # steps of each method
H = 0.5  # the step size (learning rate) of every method
A = 0.5  # f'(0) for the GAN: f(t) = log sigmoid(t), so f'(t) = sigmoid(-t)
angle, radius = rng.uniform(0, 2 * np.pi, 4), rng.uniform(0.5, 1.5, 4)
STARTS = np.vstack([[1.0, 1.0], radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1)])  # (5, 2)
print(f"seed {opts.seed}{', fast' if opts.fast else ''}: {STEPS} steps of size {H} from (theta, psi) =",
      "; ".join(f"({t:+.2f}, {p:+.2f})" for t, p in STARTS))



def norms(path: np.ndarray) -> np.ndarray:
    """The distance of each iterate to the equilibrium (0, 0): shape (steps + 1, starts)."""
    return np.linalg.norm(path, axis=-1)


def rate(path: np.ndarray) -> np.ndarray:
    """The mean factor by which one step shrinks the distance to (0, 0), over steps STEPS/4 to STEPS/2
    (after the start, before rounding errors count): each start's, to compare with a spectral radius."""
    distance = norms(path)
    return (distance[STEPS // 2] / distance[STEPS // 4]) ** (1 / (STEPS // 2 - STEPS // 4))


# %% [markdown]
# ## 1. The Dirac-GAN and its gradient vector field
#
# The data are one point, $p_D = \delta_0$; the generator has one parameter $\theta$ and puts all
# its samples there, $p_\theta = \delta_\theta$; the discriminator is linear, $D_\psi(x) = \psi x$.
# The game's value is
#
# $$L(\theta, \psi) = f(\psi\theta) + f(0), \qquad f(t) = -\log(1 + e^{-t})\ \text{(GAN)}
#   \ \text{or}\ f(t) = t\ \text{(WGAN)}.$$
#
# G descends $L$ in $\theta$ and D ascends it in $\psi$. The only equilibrium (纳什均衡, Nash
# equilibrium) is $(\theta, \psi) = (0, 0)$: G on the data, and a D that cannot tell them apart. (The
# paper's D scores generated samples high; in minigan's convention, lesson 3's, $L$ is
# `gan.minimax_value` of the logits $-\psi x$: checked below.)
#
# Training moves the point $x = (\theta, \psi)$ along the gradient vector field (向量场)
# $v(x) = (-\partial_\theta L, \partial_\psi L) = (-f'(\psi\theta)\,\psi,\ f'(\psi\theta)\,\theta)$,
# each player's descent direction. `dirac.DiracGAN` computes it with `mg.grad`, not by hand; below
# it agrees with the hand derivation. At every point $v$ is perpendicular to $x$ ($x \cdot v = 0$):
# infinitely small steps would circle the equilibrium for ever, never nearer, never farther.

# %%
game, wgan_game = dirac.DiracGAN("gan"), dirac.DiracGAN("wgan")
points = rng.normal(size=(200, 2)) * 1.5
theta, psi = points[:, 0], points[:, 1]
slope = 1 / (1 + np.exp(theta * psi))  # f'(psi theta) = sigmoid(-psi theta)
by_hand = np.stack([-slope * psi, slope * theta], 1)
print(f"v at (theta, psi) = ({theta[0]:+.3f}, {psi[0]:+.3f}): from mg.grad {game(points[0])}, by hand {by_hand[0]}")
assert np.allclose(game(points), by_hand, rtol=1e-12, atol=1e-15)
assert np.allclose(wgan_game(points), np.stack([-psi, theta], 1), rtol=1e-12)
value, _ = game.losses(mg.tensor(points, dtype=mg.float64, requires_grad=True))  # summed over the 200 points
logits = lambda x: -mg.tensor(psi, dtype=mg.float64) * mg.tensor(x, dtype=mg.float64)  # noqa: E731
as_minigan = gan.minimax_value(logits(np.zeros(200)), logits(theta)) * 200  # minimax_value takes means
print(f"L summed over 200 points: {value.item():.6f}; minimax_value of the logits -psi x: {as_minigan.item():.6f}")
assert np.isclose(value.item(), as_minigan.item(), rtol=1e-12)
print("largest |x . v| over the 200 points:", np.abs((points * game(points)).sum(1)).max())
assert np.abs((points * game(points)).sum(1)).max() < 1e-12
assert not game([0.0, 0.0]).any() and (np.abs(game(points)).sum(1) > 0).all()  # v = 0 at (0, 0) only

# %% [markdown]
# ## 2. The Jacobian at the equilibrium, from Hessian-vector products
#
# Near the equilibrium $v(x) \approx J x$, where $J = \partial v / \partial x$ is the field's Jacobian
# (雅可比矩阵). Its rows are second derivatives of the players' losses, G's $L_G = L$ and D's
# $L_D = -L$: since $v = (-\partial_\theta L_G, -\partial_\psi L_D)$, row $\theta$ of $J$ is
# $-\nabla_x \partial_\theta L_G = -H_G e_\theta$ and row $\psi$ is $-H_D e_\psi$, with $H_G, H_D$ the
# Hessians of the two losses and $e_\theta = (1, 0)$, $e_\psi = (0, 1)$. Each is a Hessian-vector
# product, computed as lesson 1 (step 5) does: the gradient with `create_graph=True`, then the
# gradient of its dot product with $e$. Written out below, beside `DiracGAN.jacobian`, which does the
# same:
#
# $$J = \begin{pmatrix} 0 & -f'(0) \\ f'(0) & 0 \end{pmatrix}, \qquad \text{eigenvalues } \pm i f'(0),$$
#
# with $f'(0) = 1/2$ for the GAN and $1$ for the WGAN. The eigenvalues are purely imaginary: the
# linearised flow $\dot x = J x$ rotates, the circles of step 1. Whether discrete steps converge
# depends on how each method turns this $J$ into a step, next.

# %%
x0 = mg.tensor([[0.0, 0.0]], dtype=mg.float64, requires_grad=True)
loss_g, loss_d = game.losses(x0)
(grad_g,) = mg.grad(loss_g, x0, create_graph=True)  # gradients that can be differentiated again
(grad_d,) = mg.grad(loss_d, x0, create_graph=True)
e_theta, e_psi = mg.tensor([[1.0, 0.0]], dtype=mg.float64), mg.tensor([[0.0, 1.0]], dtype=mg.float64)
(hv_g,) = mg.grad((grad_g * e_theta).sum(), x0, retain_graph=True)  # H_G e_theta, without forming H_G
(hv_d,) = mg.grad((grad_d * e_psi).sum(), x0)  # H_D e_psi
J = -np.concatenate([hv_g.numpy(), hv_d.numpy()]) + 0.0  # + 0.0: no "-0." in the print
print("J at (0, 0), from two Hessian-vector products:\n", J)
print("its eigenvalues:", np.linalg.eigvals(J) + 0.0, "; the WGAN's:", np.linalg.eigvals(wgan_game.jacobian()) + 0.0)
assert np.array_equal(J, game.jacobian()) and np.allclose(J, [[0, -A], [A, 0]], rtol=0, atol=1e-15)
for jacobian, f_prime_0 in ((J, A), (wgan_game.jacobian(), 1.0)):
    eigenvalues = np.linalg.eigvals(jacobian)
    assert np.abs(eigenvalues.real).max() < 1e-15 and np.allclose(sorted(eigenvalues.imag), [-f_prime_0, f_prime_0])

# %% [markdown]
# ## 3. Simultaneous gradient descent spirals out, whatever the learning rate
#
# Simultaneous gradient descent (同时梯度下降): both players step at once,
# $x_{k+1} = x_k + h\,v(x_k)$ (`dirac.simultaneous`). Near the equilibrium the step is the matrix
# $I + hJ$ (`dirac.update_operator` gives each method's), whose eigenvalues $1 \pm i h f'(0)$ have
# modulus $\sqrt{1 + h^2 f'(0)^2} > 1$. This spectral radius (谱半径), the largest modulus of the
# step's eigenvalues, is the factor by which the distance to the equilibrium grows (above 1) or
# shrinks (below 1) per step, near it; here it is above 1 for every step size $h$, so no learning
# rate makes simultaneous steps converge. Far from the equilibrium too: $x \cdot v = 0$, so by
# Pythagoras $\|x_{k+1}\|^2 = \|x_k\|^2 \,(1 + h^2 f'(\psi_k\theta_k)^2)$, exactly: every step leaves
# along the tangent of its circle, and a tangent leaves its circle.

# %%
for h in np.logspace(-3, 1, 9):
    radius_h = dirac.spectral_radius(dirac.update_operator("simultaneous", J, h))
    assert np.isclose(radius_h, np.sqrt(1 + (h * A) ** 2), rtol=1e-12, atol=0) and radius_h > 1
print(f"spectral radius of I + hJ at h = {H}: {dirac.spectral_radius(np.eye(2) + H * J):.4f} = sqrt(1 + h^2 f'(0)^2)")
paths = {"simultaneous GD": dirac.trajectory(lambda x, _: dirac.simultaneous(game, x, H), STARTS, STEPS)}
path = paths["simultaneous GD"]
grows = 1 + H**2 / (1 + np.exp(path[:-1, :, 0] * path[:-1, :, 1])) ** 2  # 1 + h^2 f'(psi theta)^2
assert np.allclose(norms(path)[1:] ** 2, norms(path)[:-1] ** 2 * grows, rtol=1e-12)
print("distance to (0, 0), start -> end:", *(f"{a:.2f}->{b:.2f}" for a, b in zip(norms(path)[0], norms(path)[-1])))
assert (np.diff(norms(path), axis=0) > 0).all() and (norms(path)[-1] > 1.5 * norms(path)[0]).all()

# %% [markdown]
# ## 4. Alternating gradient descent circles
#
# Alternating steps (交替梯度下降), as articles 000 to 002 describe them (A002-6) and minigan's
# Trainer takes them: D first, $\psi_{k+1} = \psi_k + h\,v_\psi(\theta_k, \psi_k)$, then G at D's new
# $\psi$, $\theta_{k+1} = \theta_k + h\,v_\theta(\theta_k, \psi_{k+1})$ (`dirac.alternating`).
# Linearised, the step is
#
# $$M = \begin{pmatrix} 1 - h^2 f'(0)^2 & -h f'(0) \\ h f'(0) & 1 \end{pmatrix}, \qquad
#   \det M = 1, \quad \operatorname{tr} M = 2 - h^2 f'(0)^2,$$
#
# whose two eigenvalues, for $h f'(0) < 2$, are a complex pair of modulus exactly 1 (their product
# is the determinant, 1, and $|\operatorname{tr} M| < 2$ keeps them complex): near the
# equilibrium a step neither shrinks nor grows the distance, and the iterates go round it for ever.
# Below, they stay between 80% and 125% of their starting distance for all the steps: bounded, and
# not converging.

# %%
M = dirac.update_operator("alternating", J, H)
print("alternating step M:\n", M, f"\ndet {np.linalg.det(M):.12f}, eigenvalues {np.linalg.eigvals(M)}")
assert np.allclose(M, [[1 - (H * A) ** 2, -H * A], [H * A, 1]], rtol=0, atol=1e-15)
for h in np.linspace(0.05, 1.99 / A, 40):
    M_h = dirac.update_operator("alternating", J, h)
    assert abs(np.linalg.det(M_h) - 1) < 1e-12 and abs(dirac.spectral_radius(M_h) - 1) < 1e-12
paths["alternating GD"] = dirac.trajectory(lambda x, _: dirac.alternating(game, x, H), STARTS, STEPS)
relative = norms(paths["alternating GD"]) / norms(paths["alternating GD"])[0]
print(f"distance / starting distance over {STEPS} steps: {relative.min():.3f} to {relative.max():.3f}")
assert relative.min() > 0.8 and relative.max() < 1.25

# %% [markdown]
# ## 5. WGAN with n critic steps does not converge either, for any n
#
# The WGAN's $f(t) = t$ makes the game bilinear, $L = \psi\theta$: its field $v = (-\psi, \theta)$ is
# linear, so $J$ holds everywhere. WGAN keeps its critic Lipschitz (lesson 3) by weight clipping,
# here $|\psi| \le c = 1$ (`gan.clip_weights_`), and takes n critic steps per generator step
# (`--loss wgan` takes 5). While clipping does nothing, the step is
#
# $$M_n = \begin{pmatrix} 1 - n h^2 & -h \\ n h & 1 \end{pmatrix}, \qquad \det M_n = 1,$$
#
# with both eigenvalues on the unit circle while $n h^2 \le 4$ (at $n h^2 = 4$ a double eigenvalue
# $-1$, whose iterates grow linearly) and one outside it beyond: for no
# number of critic steps is the spectral radius below 1. On the circle the step keeps the
# quadratic $Q(x) = n\theta^2 + \psi^2 + nh\,\theta\psi$ exactly ($M_n^\top P M_n = P$ for its
# matrix $P$): the iterates go round an ellipse. Clipping acts only on the steps where $\psi$ would
# pass $\pm c$, and the critic's steps push $\psi$ one way while $\theta$ stands still, so such a
# step ends with $\psi = \pm c$, where $Q \ge c^2 (1 - n h^2/4) = Q_c$. So $Q$ never falls below
# $\min(Q(x_0), Q_c) > 0$, and the iterates never reach the equilibrium. More critic steps lower
# this floor ($Q_c$ falls as n grows), and from $n h^2 = 4$ on ($n \ge 16$ here) there is none, but
# then the iterates grow and the equilibrium repels. (Mescheder et al. show that WGAN-GP,
# whose penalty pulls the gradient's norm to 1, not 0, does not converge either: their Section 3.
# This lesson does not run it.)

# %%
J_wgan, CLIP, N_CRITIC = wgan_game.jacobian(), 1.0, LOSSES["wgan"].n_critic
assert N_CRITIC == 5 and LOSSES["wgan"].clip
for n in range(1, 41):
    M_n = dirac.update_operator("alternating", J_wgan, H, n_critic=n)
    assert np.allclose(M_n, [[1 - n * H**2, -H], [n * H, 1]], rtol=0, atol=1e-12)
    assert dirac.spectral_radius(M_n) > 1 - 1e-12 and (dirac.spectral_radius(M_n) < 1 + 1e-6) == (n * H**2 <= 4)
P = np.array([[N_CRITIC, N_CRITIC * H / 2], [N_CRITIC * H / 2, 1]])  # Q(x) = x^T P x
M_n = dirac.update_operator("alternating", J_wgan, H, n_critic=N_CRITIC)
assert np.allclose(M_n.T @ P @ M_n, P, rtol=0, atol=1e-12)
path = dirac.trajectory(lambda x, _: dirac.alternating(wgan_game, x, H, n_critic=N_CRITIC, clip=CLIP), STARTS, STEPS)
paths[f"WGAN, {N_CRITIC} critic steps"] = path
Q = np.einsum("...i,ij,...j->...", path, P, path)
floor = np.minimum(Q[0], CLIP**2 * (1 - N_CRITIC * H**2 / 4))
closest = norms(path)[STEPS // 2:].min(0)
print(f"Q never below min(Q(x0), Q_c): smallest Q / that floor = {(Q / floor).min():.4f}; closest approach to "
      f"(0, 0) in the second half: {closest.round(3)}")
assert (Q / floor > 1 - 1e-9).all()
assert (closest ** 2 >= floor / np.linalg.eigvalsh(P).max() * (1 - 1e-9)).all() and closest.min() > 0.1

# %% [markdown]
# ## 6. Changing the game: zero-centred gradient penalties and instance noise converge
#
# **R1 and R2.** The R1 penalty (Mescheder et al. 2018; minigan's `--loss ns-r1`) adds
# $\frac{\gamma}{2}\mathbb{E}_{p_D}\|\nabla_x D(x)\|^2$ to D's loss, R2 the same on generated
# samples: zero-centred gradient penalties (梯度惩罚), which pull D's slope on the data to 0. On
# the Dirac-GAN $\nabla_x D_\psi = \psi$, so both are $\frac{\gamma}{2}\psi^2$ (computed below by
# `gan.r1_penalty` and `gan.r2_penalty`), and the Jacobian becomes
#
# $$J_\gamma = \begin{pmatrix} 0 & -f'(0) \\ f'(0) & -\gamma \end{pmatrix}, \qquad
#   \lambda = \tfrac12\big(-\gamma \pm \sqrt{\gamma^2 - 4 f'(0)^2}\big),$$
#
# eigenvalues with real part $-\gamma/2 < 0$: D's own loss now pulls $\psi$ back, so the flow spirals
# in. Simultaneous steps converge when $|1 + h\lambda| < 1$, which for $\gamma < 2f'(0)$ is
# $h < \gamma / f'(0)^2$ (1.2 for $\gamma = 0.3$): a small enough learning rate now suffices.
# Article 001 says its gradient penalty makes training more stable (A001-13): a real penalty does
# (the audit cites the measurements), and on the Dirac-GAN the zero-centred kind turns circling
# into convergence.
#
# **Instance noise** (实例噪声), article 002's "randomly perturbing the inputs" (A002-13): D judges
# $x + \sigma\epsilon$, $\epsilon \sim N(0, 1)$, real and generated samples alike, so that
# $L = \mathbb{E}_\epsilon f(\psi(\theta + \sigma\epsilon)) + \mathbb{E}_\epsilon f(-\psi\sigma\epsilon)$.
# D's curvature now enters: $J_\sigma$'s lower-right entry is $2 f''(0)\sigma^2 = -\sigma^2/2$ for
# the GAN ($f''(0) = -1/4$), and its eigenvalues $f''(0)\sigma^2 \pm \sqrt{f''(0)^2\sigma^4 - f'(0)^2}$
# have negative real part. (For the WGAN $f'' = 0$: noise leaves its eigenvalues imaginary.)
# `DiracGAN` takes the expectation exactly, by Gauss-Hermite quadrature; with `samples=256` it draws
# the noise with `gan.instance_noise` at every step instead, as training does, and the iterates
# then jitter around the equilibrium, within about 0.15 of it, rather than reach it.
#
# In both, the distance shrinks per step by the spectral radius of $I + hJ$, measured below over
# the run.

# %%
GAMMA, SIGMA = 0.3, 1.0
penalised, noisy = dirac.DiracGAN(gamma=GAMMA), dirac.DiracGAN(noise=SIGMA)
linear_d = lambda x: mg.tensor(psi[:5], dtype=mg.float64) * x  # noqa: E731  D_psi(x) = psi x at 5 values of psi
r1 = gan.r1_penalty(linear_d, mg.zeros(5, dtype=mg.float64), GAMMA)  # on the data, x = 0
r2 = gan.r2_penalty(linear_d, mg.tensor(theta[:5], dtype=mg.float64), GAMMA)  # on G's samples, x = theta
print(f"R1 = {r1.item():.6f}, R2 = {r2.item():.6f}, mean of gamma/2 psi^2 = {np.mean(GAMMA / 2 * psi[:5] ** 2):.6f}")
assert np.isclose(r1.item(), np.mean(GAMMA / 2 * psi[:5] ** 2), rtol=1e-12) and np.isclose(r2.item(), r1.item())
J_gamma, J_sigma = penalised.jacobian(), noisy.jacobian()
print("J with R1:\n", J_gamma, "\nJ with instance noise:\n", J_sigma.round(12))
assert np.allclose(J_gamma, [[0, -A], [A, -GAMMA]], rtol=0, atol=1e-15)
assert np.allclose(J_sigma, [[0, -A], [A, -SIGMA**2 / 2]], rtol=0, atol=1e-12)
assert np.abs(np.linalg.eigvals(dirac.DiracGAN("wgan", noise=SIGMA).jacobian()).real).max() < 1e-12
expected = {"R1": (-GAMMA + np.emath.sqrt(GAMMA**2 - 4 * A**2) * np.array([1, -1])) / 2,
            "noise": -SIGMA**2 / 4 + np.emath.sqrt(SIGMA**4 / 16 - A**2) * np.array([1, -1])}
for name, jacobian in (("R1", J_gamma), ("noise", J_sigma)):
    eigenvalues = np.linalg.eigvals(jacobian)
    print(f"{name}: eigenvalues of J {eigenvalues.round(4)}")
    assert np.allclose(sorted(eigenvalues, key=np.imag), sorted(expected[name], key=np.imag))
    assert (eigenvalues.real < 0).all()
limit = GAMMA / A**2  # the largest step of simultaneous descent that converges, with R1
for h, below in ((0.5 * limit, True), (0.99 * limit, True), (1.01 * limit, False)):
    assert (dirac.spectral_radius(dirac.update_operator("simultaneous", J_gamma, h)) < 1) == below

radii = {}
for name, field, jacobian in (("R1 penalty", penalised, J_gamma), ("instance noise", noisy, J_sigma)):
    paths[name] = dirac.trajectory(lambda x, _, field=field: dirac.simultaneous(field, x, H), STARTS, STEPS)
    radii[name] = dirac.spectral_radius(dirac.update_operator("simultaneous", jacobian, H))
sampled = dirac.trajectory(lambda x, _: dirac.simultaneous(dirac.DiracGAN(noise=SIGMA, samples=256), x, H),
                           STARTS, STEPS)
jitter = norms(sampled)[-100:].mean(0)
print(f"noise drawn at random (gan.instance_noise, 256 draws a step): mean distance over the last 100 steps "
      f"{jitter.round(3)}")
assert (jitter < 0.15).all() and (jitter > 0.01).all()

# %% [markdown]
# ## 7. Changing the steps: consensus optimisation, extragradient and optimistic steps converge
#
# These keep the game and change how the players step on it, so that the step's spectral radius
# falls below 1.
#
# - **Consensus optimisation** (共识优化; Mescheder, Nowozin and Geiger, "The Numerics of GANs",
#   2017): both players also descend $\frac12\|v\|^2$, which is 0 only at a stationary point:
#   simultaneous steps on $w = v - \gamma J^\top v$ (`dirac.consensus_field`; $J^\top v$, the gradient
#   of $\frac12\|v\|^2$, is one more double backward). At the equilibrium $w$'s Jacobian is
#   $J - \gamma J^\top J = J - \gamma f'(0)^2 I$: eigenvalues $-\gamma f'(0)^2 \pm i f'(0)$, and the step
#   $I + h(J - \gamma J^\top J)$ has spectral radius $\sqrt{(1 - h\gamma f'(0)^2)^2 + h^2 f'(0)^2} < 1$ for
#   small $h$.
# - **Extragradient** (外梯度法; Korpelevich 1976, for GANs Gidel et al. 2019): look one step ahead,
#   then step from where you were with the field found there,
#   $x_{k+1} = x_k + h\,v(x_k + h\,v(x_k))$. Linearised, $I + hJ + h^2J^2$, with eigenvalues
#   $1 - h^2 f'(0)^2 \pm i h f'(0)$ of modulus $\sqrt{1 - h^2 f'(0)^2 + h^4 f'(0)^4}$: below 1 exactly when
#   $h f'(0) < 1$.
# - **Optimistic gradient descent** (乐观梯度下降; Daskalakis et al. 2018): step on the field
#   extrapolated from the last two iterates, $x_{k+1} = x_k + 2h\,v(x_k) - h\,v(x_{k-1})$. Its step
#   acts on the pair $(x_k, x_{k-1})$, a 4 x 4 matrix whose spectral radius is below 1 for small $h$
#   (below, for every $h \le 1$).

# %%
CONSENSUS = 1.0
consensus = dirac.consensus_field(game, CONSENSUS)
J_consensus = J - CONSENSUS * J.T @ J
assert np.allclose(J_consensus, [[-CONSENSUS * A**2, -A], [A, -CONSENSUS * A**2]], rtol=0, atol=1e-15)
for h in np.linspace(0.05, 1.0, 20):
    assert np.isclose(dirac.spectral_radius(dirac.update_operator("simultaneous", J_consensus, h)),
                      np.sqrt((1 - h * CONSENSUS * A**2) ** 2 + (h * A) ** 2), rtol=1e-12)
    assert np.isclose(dirac.spectral_radius(dirac.update_operator("extragradient", J, h)),
                      np.sqrt(1 - (h * A) ** 2 + (h * A) ** 4), rtol=1e-12)
    assert dirac.spectral_radius(dirac.update_operator("optimistic", J, h)) < 1
assert dirac.spectral_radius(dirac.update_operator("extragradient", J, 0.99 / A)) < 1
assert dirac.spectral_radius(dirac.update_operator("extragradient", J, 1.01 / A)) > 1  # h f'(0) > 1: out
paths["consensus"] = dirac.trajectory(lambda x, _: dirac.simultaneous(consensus, x, H), STARTS, STEPS)
paths["extragradient"] = dirac.trajectory(lambda x, _: dirac.extragradient(game, x, H), STARTS, STEPS)
paths["optimistic GD"] = dirac.trajectory(lambda x, previous: dirac.optimistic(game, x, previous, H), STARTS, STEPS)
radii["consensus"] = dirac.spectral_radius(dirac.update_operator("simultaneous", J_consensus, H))
radii["extragradient"] = dirac.spectral_radius(dirac.update_operator("extragradient", J, H))
radii["optimistic GD"] = dirac.spectral_radius(dirac.update_operator("optimistic", J, H))

print(f"{'method':16s} spectral radius   measured shrink per step   distance at the end / at the start")
for name, radius_h in radii.items():
    measured, left = rate(paths[name]), norms(paths[name])[-1] / norms(paths[name])[0]
    print(f"{name:16s} {radius_h:10.4f}        {measured.min():.4f} to {measured.max():.4f}           "
          f"at most {left.max():.1e}")
    assert radius_h < 1 and np.allclose(measured, radius_h, rtol=0, atol=0.01) and (left < 1e-3).all()

# %% [markdown]
# ## 8. All of them on one figure, and their spectral radii against the step size
#
# Each panel draws its method's field (for the penalty, the noise and consensus, the changed field
# they step on) and the iterates from the starting points; the last figure plots each step's
# spectral radius against $h$: above 1 for simultaneous steps at every $h$, exactly 1 for
# alternating ones, below 1 for the rest while $h$ is small enough (here, up to $h = 1$ at least).

# %%
fields = {"simultaneous GD": game, "alternating GD": game, f"WGAN, {N_CRITIC} critic steps": wgan_game,
          "R1 penalty": penalised, "instance noise": noisy, "consensus": consensus, "extragradient": game,
          "optimistic GD": game}
grid = np.stack(np.meshgrid(np.linspace(-2, 2, 21), np.linspace(-2, 2, 21)), -1)  # (21, 21, 2): theta, psi
fig, axes = plt.subplots(2, 4, figsize=(13, 6.6), sharex=True, sharey=True)
for ax, (name, field) in zip(axes.ravel(), fields.items()):
    arrows = field(grid)
    ax.streamplot(grid[..., 0], grid[..., 1], arrows[..., 0], arrows[..., 1], color="0.75", density=0.8,
                  linewidth=0.6, arrowsize=0.7)
    for start in range(len(STARTS)):
        ax.plot(*paths[name][:, start].T, lw=0.8)
        ax.plot(*STARTS[start], "k.", ms=4)
    if name.startswith("WGAN"):
        ax.axhspan(-2, -CLIP, color="0.9")
        ax.axhspan(CLIP, 2, color="0.9")
    ax.plot(0, 0, "r*", ms=9)
    ax.set_title(name, fontsize=10)
    ax.set_xlim(-2, 2)
    ax.set_ylim(-2, 2)
for ax in axes[1]:
    ax.set_xlabel(r"$\theta$ (generator)")
for ax in axes[:, 0]:
    ax.set_ylabel(r"$\psi$ (discriminator)")
opts.save(fig, "trajectories.png")

steps = np.logspace(-2, np.log10(3.5), 200)
curves = {"simultaneous": ("simultaneous", J), "alternating": ("alternating", J),
          f"R1, gamma {GAMMA}": ("simultaneous", J_gamma), f"instance noise, sigma {SIGMA}": ("simultaneous", J_sigma),
          f"consensus, gamma {CONSENSUS}": ("simultaneous", J_consensus), "extragradient": ("extragradient", J),
          "optimistic": ("optimistic", J)}
curves = {label: np.array([dirac.spectral_radius(dirac.update_operator(method, jacobian, h)) for h in steps])
          for label, (method, jacobian) in curves.items()}
assert (curves["simultaneous"] > 1).all() and np.allclose(curves["alternating"], 1, rtol=0, atol=1e-9)
converging = [curve for label, curve in curves.items() if label not in ("simultaneous", "alternating")]
assert all((curve[steps <= 1] < 1).all() for curve in converging)
fig, ax = plt.subplots(figsize=(7, 4))
for label, curve in curves.items():
    ax.plot(steps, curve, label=label, lw=2 if label == "alternating" else 1.2)
ax.axhline(1, color="0.5", lw=0.8, ls=":", zorder=0)
ax.axvline(H, color="0.6", lw=0.8, ls="--")
ax.set_xscale("log")
ax.set_ylim(0.6, 1.6)
ax.set_xlabel("step size h (the dashed line: this lesson's)")
ax.set_ylabel("spectral radius of the step at (0, 0)")
ax.legend(fontsize=8, loc="upper left")
opts.save(fig, "spectral_radius.png")

# %% [markdown]
# ## What this says about real GANs, and what next
#
# The Dirac-GAN is a caricature, but its lesson carries over: near an equilibrium a GAN's training
# is governed by the eigenvalues of its field's Jacobian, and where they are close to the imaginary
# axis plain gradient steps circle or drift away instead of settling (Mescheder et al. prove it for
# the general case under their assumptions). That is why lesson 6's recipe that settles uses the R1
# penalty (`--loss ns-r1`) and why minigan offers instance noise (`--loss ns-noise`); that recipe
# also decays the learning rate and averages G's weights, to damp what is left of the circling.
#
# Exercise: [`exercises/08_dirac_gan.py`](../exercises/08_dirac_gan.py), extragradient on the
# Dirac-GAN (8.1): write its step and its linearisation, and check that it converges.
# `minigan exercises check 8.1` grades it. Next, lesson 9 trains article 003's GAN.
