"""The Dirac-GAN (minigan.gan.dirac): its field, Jacobian and update rules against hand-derived closed forms
and finite differences."""
import re

import numpy as np
import pytest

import minigan as mg
from minigan import gan
from minigan.gan import dirac

RNG = np.random.default_rng(0)
POINTS = RNG.normal(size=(7, 2)) * 1.5


def sig(t):
    return 1 / (1 + np.exp(-t))


def f_prime(t, loss):
    """f'(t): sigma(-t) for f(t) = log sigma(t), 1 for f(t) = t."""
    return sig(-t) if loss == "gan" else np.ones_like(t)


def hand_field(x, loss="gan", gamma=0.0):
    """v = (-f'(psi theta) psi, f'(psi theta) theta - gamma psi), derived by hand."""
    theta, psi = x[..., 0], x[..., 1]
    slope = f_prime(theta * psi, loss)
    return np.stack([-slope * psi, slope * theta - gamma * psi], -1)


def losses_at(game, point):
    x = mg.tensor(np.reshape(point, (1, 2)), dtype=mg.float64, requires_grad=True)  # R1 differentiates D in x
    return [loss.item() for loss in game.losses(x)]


@pytest.mark.parametrize("loss", ["gan", "wgan"])
@pytest.mark.parametrize("gamma", [0.0, 0.7])
def test_the_field_is_the_hand_derived_one_for_one_point_and_for_many(loss, gamma):
    game = dirac.DiracGAN(loss, gamma=gamma)
    np.testing.assert_allclose(game(POINTS), hand_field(POINTS, loss, gamma), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(game(POINTS[0]), hand_field(POINTS[0], loss, gamma), rtol=1e-12, atol=1e-14)
    grid = POINTS[:6].reshape(2, 3, 2)  # any leading shape
    assert game(grid).shape == (2, 3, 2)
    np.testing.assert_allclose(game(grid), hand_field(grid, loss, gamma), rtol=1e-12, atol=1e-14)


def test_the_value_is_minigans_minimax_value_and_wasserstein_loss_with_the_logit_minus_psi_x():
    for theta, psi in POINTS:
        real, fake = mg.tensor([0.0], dtype=mg.float64), mg.tensor([theta], dtype=mg.float64)
        gan_value, _ = losses_at(dirac.DiracGAN("gan"), (theta, psi))
        wgan_value, _ = losses_at(dirac.DiracGAN("wgan"), (theta, psi))
        assert gan_value == pytest.approx(gan.minimax_value(-psi * real, -psi * fake).item(), rel=1e-12)
        assert gan_value == pytest.approx(np.log(sig(psi * theta)) + np.log(0.5), rel=1e-12)
        assert wgan_value == pytest.approx(-gan.wasserstein_critic_loss(-psi * real, -psi * fake).item(), rel=1e-12)


@pytest.mark.parametrize("game", [dirac.DiracGAN(), dirac.DiracGAN("wgan"), dirac.DiracGAN(gamma=0.4),
                                  dirac.DiracGAN(noise=0.8)], ids=["gan", "wgan", "r1", "noise"])
def test_the_field_is_minus_each_players_partial_derivative_by_central_differences(game):
    eps = 1e-6
    for point in POINTS[:4]:
        expected = np.zeros(2)
        for i in range(2):  # player i (0: G, theta; 1: D, psi) descends its own loss in its own parameter
            step = np.eye(2)[i] * eps
            expected[i] = -(losses_at(game, point + step)[i] - losses_at(game, point - step)[i]) / (2 * eps)
        np.testing.assert_allclose(game(point), expected, rtol=1e-6, atol=1e-9)


def test_the_penalty_is_r1_of_the_linear_discriminator_gamma_over_2_psi_squared():
    gamma = 0.6
    for point in POINTS:
        (_, plain), (_, penalised) = losses_at(dirac.DiracGAN(), point), losses_at(dirac.DiracGAN(gamma=gamma), point)
        assert penalised - plain == pytest.approx(gamma / 2 * point[1] ** 2, rel=1e-10)


def test_instance_noise_in_expectation_is_the_integral_of_the_noisy_field():
    sigma = 0.9
    game, finer = dirac.DiracGAN(noise=sigma), dirac.DiracGAN(noise=sigma, nodes=40)
    eps = np.linspace(-12, 12, 200_001)
    density = np.exp(-eps**2 / 2) / np.sqrt(2 * np.pi) * (eps[1] - eps[0])
    for theta, psi in POINTS[:4]:
        fake, real = theta + sigma * eps, sigma * eps  # dL/dtheta, dL/dpsi of E f(psi fake) + E f(-psi real)
        d_theta = (f_prime(psi * fake, "gan") * psi * density).sum()
        d_psi = ((f_prime(psi * fake, "gan") * fake - f_prime(-psi * real, "gan") * real) * density).sum()
        np.testing.assert_allclose(game((theta, psi)), [-d_theta, d_psi], rtol=1e-6)  # 20 nodes
        np.testing.assert_allclose(finer((theta, psi)), [-d_theta, d_psi], rtol=1e-9)


def test_instance_noise_drawn_at_random_averages_to_the_expectation():
    mg.manual_seed(0)
    sampled, exact = dirac.DiracGAN(noise=0.9, samples=4000), dirac.DiracGAN(noise=0.9)
    points = np.repeat(POINTS[:3], 50, axis=0)  # 50 independent draws at each of 3 points
    mean = sampled(points).reshape(3, 50, 2).mean(1)
    np.testing.assert_allclose(mean, exact(POINTS[:3]), atol=0.01)  # each mean's standard error is below 0.002
    assert (sampled(np.zeros((5, 2)))[:, 0] == 0).all()  # at psi = 0 G's gradient is 0 whatever the noise


@pytest.mark.parametrize("loss, slope", [("gan", 0.5), ("wgan", 1.0)])
def test_the_jacobian_at_the_equilibrium_is_a_rotation_with_eigenvalues_plus_minus_i_f_prime_0(loss, slope):
    J = dirac.DiracGAN(loss).jacobian()
    np.testing.assert_allclose(J, [[0.0, -slope], [slope, 0.0]], atol=1e-15)
    np.testing.assert_allclose(sorted(np.linalg.eigvals(J), key=np.imag), [-1j * slope, 1j * slope], atol=1e-15)


def test_the_jacobian_of_the_penalised_and_noisy_games_at_the_equilibrium():
    gamma, sigma = 0.3, 1.2
    np.testing.assert_allclose(dirac.DiracGAN(gamma=gamma).jacobian(), [[0, -0.5], [0.5, -gamma]], atol=1e-15)
    # f''(0) = -1/4: the noise puts 2 f''(0) sigma^2 on D's diagonal (Mescheder et al. 2018, Lemma 4.3's matrix)
    np.testing.assert_allclose(dirac.DiracGAN(noise=sigma).jacobian(), [[0, -0.5], [0.5, -sigma**2 / 2]],
                               atol=1e-12)


@pytest.mark.parametrize("game", [dirac.DiracGAN(), dirac.DiracGAN(gamma=0.4), dirac.DiracGAN(noise=0.7)],
                         ids=["gan", "r1", "noise"])
def test_the_jacobian_anywhere_is_the_fields_central_differences(game):
    eps = 1e-6
    for point in POINTS[:4]:
        columns = [(game(point + eps * e) - game(point - eps * e)) / (2 * eps) for e in np.eye(2)]
        np.testing.assert_allclose(game.jacobian(point), np.stack(columns, 1), rtol=1e-6, atol=1e-9)


def test_the_consensus_field_is_v_minus_gamma_j_transposed_v():
    game, gamma = dirac.DiracGAN(), 0.8
    for point in POINTS[:4]:
        v = game(point)
        np.testing.assert_allclose(dirac.consensus_field(game, gamma)(point), v - gamma * game.jacobian(point).T @ v,
                                   rtol=1e-12, atol=1e-14)
    assert dirac.consensus_field(game, gamma)(POINTS).shape == POINTS.shape


A = np.array([[0.3, -1.1], [0.7, -0.2]])  # a linear field v(x) = A x, on which each rule is a matrix


def linear(x):
    return x @ A.T


def test_each_update_rule_is_its_formula():
    h, x, prev = 0.3, POINTS[:3], POINTS[3:6]
    np.testing.assert_allclose(dirac.simultaneous(linear, x, h), x + h * linear(x), rtol=1e-14)
    np.testing.assert_allclose(dirac.extragradient(linear, x, h), x + h * linear(x + h * linear(x)), rtol=1e-14)
    np.testing.assert_allclose(dirac.optimistic(linear, x, prev, h), x + 2 * h * linear(x) - h * linear(prev),
                               rtol=1e-14)
    theta, psi = x[:, 0].copy(), x[:, 1].copy()
    for _ in range(3):  # three critic steps on psi, each clipped, then one step on theta at the new psi
        psi = np.clip(psi + h * (A[1, 0] * theta + A[1, 1] * psi), -0.5, 0.5)
    theta = theta + h * (A[0, 0] * theta + A[0, 1] * psi)
    np.testing.assert_allclose(dirac.alternating(linear, x, h, n_critic=3, clip=0.5), np.stack([theta, psi], 1),
                               rtol=1e-14)
    before = x.copy()
    dirac.alternating(linear, x, h)
    assert (x == before).all()  # the rule returns new points and leaves its input alone


def test_trajectory_starts_at_x0_and_hands_optimistic_the_previous_iterate():
    x0 = np.array([1.0, -0.5])
    path = dirac.trajectory(lambda x, prev: dirac.optimistic(linear, x, prev, 0.2), x0, 5)
    assert path.shape == (6, 2) and (path[0] == x0).all()
    np.testing.assert_allclose(path[1], dirac.simultaneous(linear, x0, 0.2))  # x_{-1} = x_0: a plain first step
    np.testing.assert_allclose(path[3], dirac.optimistic(linear, path[2], path[1], 0.2))


@pytest.mark.parametrize("method", dirac.METHODS)
def test_the_update_operator_is_the_rule_itself_on_a_linear_field(method):
    h, n_critic = 0.4, 3
    M = dirac.update_operator(method, A, h, n_critic=n_critic)
    x, prev = POINTS[:4], POINTS[3:7]
    rules = {"simultaneous": lambda: dirac.simultaneous(linear, x, h),
             "alternating": lambda: dirac.alternating(linear, x, h, n_critic=n_critic),
             "extragradient": lambda: dirac.extragradient(linear, x, h),
             "optimistic": lambda: np.concatenate([dirac.optimistic(linear, x, prev, h), x], 1)}
    state = np.concatenate([x, prev], 1) if method == "optimistic" else x
    np.testing.assert_allclose(state @ M.T, rules[method](), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("h", [1e-3, 0.1, 0.5, 1.5, 3.0])
def test_spectral_radii_of_the_rules_on_the_dirac_gan_are_the_closed_forms(h):
    a = 0.5  # f'(0) of the GAN
    J = dirac.DiracGAN().jacobian()
    assert dirac.spectral_radius(dirac.update_operator("simultaneous", J, h)) == pytest.approx(np.sqrt(1 + (h * a)**2))
    assert dirac.spectral_radius(dirac.update_operator("extragradient", J, h)) == pytest.approx(
        np.sqrt(1 - (h * a)**2 + (h * a)**4))
    if h * a < 2:  # det 1, trace 2 - h^2 a^2: both eigenvalues on the unit circle
        assert dirac.spectral_radius(dirac.update_operator("alternating", J, h)) == pytest.approx(1.0)
    gamma = 0.7
    consensus = J - gamma * J.T @ J  # eigenvalues -gamma a^2 +- i a
    assert dirac.spectral_radius(dirac.update_operator("simultaneous", consensus, h)) == pytest.approx(
        np.sqrt((1 - h * gamma * a**2)**2 + (h * a)**2))


def test_simultaneous_descent_multiplies_the_squared_norm_by_1_plus_h2_f_prime_squared_at_every_step():
    game, h = dirac.DiracGAN(), 0.3
    path = dirac.trajectory(lambda x, _: dirac.simultaneous(game, x, h), POINTS, 50)
    before, after = (path[:-1] ** 2).sum(-1), (path[1:] ** 2).sum(-1)
    slope = sig(-path[:-1, :, 0] * path[:-1, :, 1])
    np.testing.assert_allclose(after, before * (1 + h**2 * slope**2), rtol=1e-12)


@pytest.mark.parametrize("call, says", [
    (lambda: dirac.DiracGAN("hinge"), "DiracGAN: expected loss 'gan' or 'wgan', got 'hinge'"),
    (lambda: dirac.DiracGAN(noise=-1.0), "DiracGAN: expected gamma >= 0, noise >= 0"),
    (lambda: dirac.DiracGAN()(np.zeros(3)), ("DiracGAN: expected points (theta, psi), an array of shape (..., 2), "
                                             "got shape (3,)")),
    (lambda: dirac.DiracGAN().jacobian(np.zeros((2, 2))), "DiracGAN.jacobian: expected one point"),
    (lambda: dirac.update_operator("adam", np.eye(2), 0.1), "update_operator: expected a method in"),
    (lambda: dirac.update_operator("simultaneous", np.eye(3), 0.1), ("update_operator: expected a 2 x 2 Jacobian, "
                                                                      "got shape (3, 3)")),
])
def test_errors_name_the_function_what_it_expected_and_what_it_got(call, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        call()
