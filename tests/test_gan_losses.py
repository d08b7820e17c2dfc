"""GAN losses: hand computations, PyTorch, stability, and the penalties' second-order gradients."""
import warnings

import numpy as np
import pytest

import minigan as mg
from minigan import gan

RNG = np.random.default_rng(0)
REAL, FAKE = RNG.standard_normal(6) * 2, RNG.standard_normal(6) * 2


def sig(z):
    return 1 / (1 + np.exp(-z))


def t(a, requires_grad=False):
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


HAND = {
    "minimax_value": (lambda: gan.minimax_value(t(REAL), t(FAKE)),
                      np.mean(np.log(sig(REAL))) + np.mean(np.log(1 - sig(FAKE)))),
    "discriminator_loss": (lambda: gan.discriminator_loss(t(REAL), t(FAKE)),
                           -np.mean(np.log(sig(REAL))) - np.mean(np.log(1 - sig(FAKE)))),
    "generator_loss_saturating": (lambda: gan.generator_loss_saturating(t(FAKE)), np.mean(np.log(1 - sig(FAKE)))),
    "generator_loss_nonsaturating": (lambda: gan.generator_loss_nonsaturating(t(FAKE)), -np.mean(np.log(sig(FAKE)))),
    "wasserstein_critic_loss": (lambda: gan.wasserstein_critic_loss(t(REAL), t(FAKE)), FAKE.mean() - REAL.mean()),
    "wasserstein_generator_loss": (lambda: gan.wasserstein_generator_loss(t(FAKE)), -FAKE.mean()),
    "hinge_discriminator_loss": (lambda: gan.hinge_discriminator_loss(t(REAL), t(FAKE)),
                                 np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE))),
    "hinge_generator_loss": (lambda: gan.hinge_generator_loss(t(FAKE)), -FAKE.mean()),
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_losses_match_a_hand_computation(name):
    fn, expected = HAND[name]
    assert fn().item() == pytest.approx(expected, rel=1e-12)


def test_info_loss_is_the_cross_entropy_of_q_at_the_codes():
    logits, codes = RNG.standard_normal((6, 10)), np.array([0, 3, 3, 9, 1, 5])
    log_q = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    assert gan.info_loss(t(logits), mg.tensor(codes), 0.5).item() == pytest.approx(
        -0.5 * log_q[range(6), codes].mean(), rel=1e-12)
    # H(c): Q knows nothing
    assert gan.info_loss(t(np.zeros((4, 10))), mg.tensor([1, 2, 3, 4])).item() == pytest.approx(np.log(10))
    x = t(logits, requires_grad=True)
    (g,) = mg.grad(gan.info_loss(x, mg.tensor(codes), 0.5), x)  # lambda (softmax - onehot) / N
    assert np.allclose(g.numpy(), 0.5 * (np.exp(log_q) - np.eye(10)[codes]) / 6, atol=1e-12)


def test_losses_match_pytorch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    r, f = torch.tensor(REAL), torch.tensor(FAKE)
    bce = F.binary_cross_entropy_with_logits
    assert gan.discriminator_loss(t(REAL), t(FAKE)).item() == pytest.approx(
        (bce(r, torch.ones(6, dtype=torch.float64)) + bce(f, torch.zeros(6, dtype=torch.float64))).item(), rel=1e-12)
    assert gan.generator_loss_nonsaturating(t(FAKE)).item() == pytest.approx(
        bce(f, torch.ones(6, dtype=torch.float64)).item(), rel=1e-12)
    assert gan.generator_loss_saturating(t(FAKE)).item() == pytest.approx(
        -bce(f, torch.zeros(6, dtype=torch.float64)).item(), rel=1e-12)


def test_losses_are_finite_at_extreme_logits():
    z = mg.tensor([-1e4, 1e4], requires_grad=True)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        for loss in (gan.discriminator_loss(z, z), gan.generator_loss_saturating(z),
                     gan.generator_loss_nonsaturating(z), gan.minimax_value(z, z)):
            (g,) = mg.grad(loss, z)
            assert np.isfinite(loss.item()) and np.all(np.isfinite(g.numpy()))
    assert gan.generator_loss_nonsaturating(mg.tensor([-1e4])).item() == pytest.approx(1e4)


def test_the_saturating_loss_saturates_and_the_nonsaturating_does_not():
    """Where D confidently rejects a fake (logit -10), only the non-saturating loss still pushes G."""
    z = mg.tensor([-10.0], dtype=mg.float64, requires_grad=True)
    (g_sat,) = mg.grad(gan.generator_loss_saturating(z), z)
    (g_ns,) = mg.grad(gan.generator_loss_nonsaturating(z), z)
    assert abs(g_sat.item()) < 1e-4 and abs(g_ns.item()) > 0.99


def mlp_critic(params):
    w1, b1, w2 = params
    return lambda x: mg.tanh(x.reshape(x.shape[0], -1) @ w1 + b1) @ w2


def critic_params(rng):
    return [t(rng.standard_normal(s) * 0.7, requires_grad=True) for s in [(8, 5), (5,), (5, 1)]]


def test_gradient_penalty_gradient_wrt_critic_parameters_matches_finite_differences():
    rng = np.random.default_rng(1)
    params = critic_params(rng)
    real, fake = t(rng.standard_normal((4, 2, 2, 2))), t(rng.standard_normal((4, 2, 2, 2)))
    eps = t(rng.uniform(size=(4, 1, 1, 1)))
    assert mg.gradcheck(lambda *p: gan.gradient_penalty(mlp_critic(p), real, fake, eps=eps), params)
    assert mg.gradcheck(lambda *p: gan.r1_penalty(mlp_critic(p), real), params)


def test_gradient_penalty_value_by_hand_for_a_linear_critic():
    """D(x) = a . x has gradient a everywhere: the penalty is lambda (|a| - 1)^2, R1 is gamma/2 |a|^2."""
    a = np.array([[0.6], [0.8], [1.2]])

    def critic(x):
        return x @ t(a)

    real, fake = t(RNG.standard_normal((5, 3))), t(RNG.standard_normal((5, 3)))
    norm = np.linalg.norm(a)
    assert gan.gradient_penalty(critic, real, fake, lambda_=10.0).item() == pytest.approx(
        10 * (norm - 1) ** 2, rel=1e-9)
    assert gan.r1_penalty(critic, real, gamma=4.0).item() == pytest.approx(2 * norm**2, rel=1e-12)
    assert gan.r2_penalty(critic, fake, gamma=4.0).item() == pytest.approx(2 * norm**2, rel=1e-12)


def test_gradient_penalty_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    params = critic_params(rng)
    real, fake = rng.standard_normal((4, 8)), rng.standard_normal((4, 8))
    eps = rng.uniform(size=(4, 1))
    gp = gan.gradient_penalty(mlp_critic(params), t(real), t(fake), eps=t(eps))
    grads = mg.grad(gp, params)
    tp = [torch.tensor(p.numpy(), requires_grad=True) for p in params]
    x_hat = (torch.tensor(eps) * torch.tensor(real) + (1 - torch.tensor(eps)) * torch.tensor(fake)).requires_grad_()
    out = torch.tanh(x_hat @ tp[0] + tp[1]) @ tp[2]
    (g,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    tgp = 10 * ((g.norm(2, dim=1) - 1) ** 2).mean()
    tgrads = torch.autograd.grad(tgp, tp)
    assert gp.item() == pytest.approx(tgp.item(), rel=1e-10)
    for a, b in zip(grads, tgrads):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-8, atol=1e-12)


def test_interpolates_lie_between_real_and_fake():
    real, fake = mg.zeros(100, 2), mg.ones(100, 2)
    x_hat = gan.interpolate(real, fake)
    assert x_hat.requires_grad and x_hat.is_leaf and x_hat.dtype == np.float32
    values = x_hat.numpy()
    assert np.all((values >= 0) & (values <= 1)) and np.allclose(values[:, 0], values[:, 1])


def test_interpolate_draws_one_weight_per_sample():
    """Each x_hat lies on its own pair's line, at its own uniform epsilon: one per sample, shared by
    that sample's every entry; not one for the whole batch."""
    mg.manual_seed(0)
    real, fake = mg.ones(1000, 3, 2, 2), mg.zeros(1000, 3, 2, 2)
    eps = gan.interpolate(real, fake).numpy().reshape(1000, -1)  # with real 1 and fake 0, x_hat = eps
    assert np.all(eps == eps[:, :1])
    assert len(np.unique(eps[:, 0])) == 1000
    assert abs(eps.mean() - 0.5) < 0.05 and abs(eps[:, 0].std() - np.sqrt(1 / 12)) < 0.02  # U[0, 1]


def test_article001_objectives_are_the_weighted_standard_pieces():
    rng = np.random.default_rng(3)
    params = critic_params(rng)
    critic = mlp_critic(params)
    real, fake = t(rng.standard_normal((4, 8))), t(rng.standard_normal((4, 8)))
    penalty = gan.gradient_penalty(critic, real, fake, lambda_=1.0)
    loss_d = gan.article001_discriminator_loss(critic(real), critic(fake), penalty, lambda3=2.0, lambda4=3.0)
    expected = 2 * gan.discriminator_loss(critic(real), critic(fake)) + 3 * penalty
    assert loss_d.item() == pytest.approx(expected.item(), rel=1e-12)
    loss_g = gan.article001_generator_loss(critic(fake), penalty, lambda1=0.5, lambda2=0.25)
    assert loss_g.item() == pytest.approx(0.5 * gan.generator_loss_nonsaturating(critic(fake)).item()
                                          + 0.25 * penalty.item(), rel=1e-12)


def test_clip_weights_clips_in_place():
    w = mg.tensor([-0.5, 0.005, 0.5], requires_grad=True)
    gan.clip_weights_([w], 0.01)
    assert w.tolist() == pytest.approx([-0.01, 0.005, 0.01])


def test_r1_on_a_pacgan_critic_takes_the_gradient_norm_per_pack():
    """A pack is one input of D: its squared gradient norm is the sum over its samples'."""
    from minigan.gan.models import build

    critic = build("toy", pack=2).discriminator
    x = mg.randn(6, 2).requires_grad_()
    per_pack = gan.losses._input_gradient_sq_norms(critic, x)
    (g,) = mg.grad(critic(x).sum(), x)
    by_sample = (g.numpy() ** 2).sum(1)
    assert per_pack.shape == (3,)
    np.testing.assert_allclose(per_pack.numpy(), by_sample.reshape(3, 2).sum(1), rtol=1e-5)
    np.testing.assert_allclose(gan.losses.r1_penalty(critic, x, gamma=2.0).item(), per_pack.numpy().mean(), rtol=1e-5)


def test_least_squares_losses_are_half_mean_squared_distances_to_the_labels():
    real, fake = np.array([0.3, 1.5, -0.2]), np.array([0.1, -0.7, 2.0])
    loss_d = gan.least_squares_discriminator_loss(t(real), t(fake)).item()
    assert loss_d == pytest.approx(0.5 * np.mean((real - 1) ** 2) + 0.5 * np.mean(fake ** 2), rel=1e-12)
    assert gan.least_squares_generator_loss(t(fake)).item() == pytest.approx(0.5 * np.mean((fake - 1) ** 2), rel=1e-12)
    assert gan.least_squares_discriminator_loss(t([1.0, 1.0]), t([0.0, 0.0])).item() == 0  # D at its labels
    scores = [t(RNG.standard_normal(4), requires_grad=True), t(RNG.standard_normal(4), requires_grad=True)]
    assert mg.gradcheck(gan.least_squares_discriminator_loss, scores)
    assert mg.gradgradcheck(gan.least_squares_discriminator_loss, scores)


def test_instance_noise_adds_gaussian_noise_of_the_given_std_and_passes_gradients():
    x = t(np.zeros((4000, 2)), requires_grad=True)
    assert gan.instance_noise(x, 0.0) is x  # no noise, no random draw
    mg.manual_seed(0)
    noisy = gan.instance_noise(x, 0.3)
    values = noisy.numpy()
    assert abs(values.mean()) < 0.02 and values.std() == pytest.approx(0.3, rel=0.05)
    (g,) = mg.grad(noisy.sum(), x)
    np.testing.assert_array_equal(g.numpy(), np.ones((4000, 2)))  # D's gradient reaches G's samples unchanged
