"""The VAE: its KL against Monte Carlo, the reparameterization, the likelihoods against PyTorch,
the importance-weighted bound, the models' shapes and the errors."""
import math
import warnings

import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim, vae
from minigan.data import mnist

RNG = np.random.default_rng(0)


def t(a, requires_grad=False):
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def kl_from_moments(mean, var):
    """KL(N(mean, var) || N(0, 1)) summed over the last axis, in NumPy: the formula, independently of minigan."""
    return 0.5 * np.sum(mean**2 + var - 1 - np.log(var), axis=-1)


# --- the KL and the reparameterization ------------------------------------------------------------

def test_gaussian_kl_matches_a_monte_carlo_estimate():
    """E_q[log q(z) - log p(z)] by 200,000 draws in NumPy; within 4 standard errors of the estimate."""
    mu, logvar = np.array([[0.5, -1.0, 2.0], [0.0, 0.3, -0.7]]), np.array([[-1.0, 0.0, 0.8], [1.5, -2.0, 0.2]])
    analytic = vae.gaussian_kl(t(mu), t(logvar)).numpy()
    rng = np.random.default_rng(1)
    for row in range(2):
        sigma = np.exp(logvar[row] / 2)
        z = mu[row] + sigma * rng.standard_normal((200_000, 3))
        log_q = -0.5 * np.sum(np.log(2 * np.pi) + logvar[row] + ((z - mu[row]) / sigma) ** 2, axis=1)
        log_p = -0.5 * np.sum(np.log(2 * np.pi) + z**2, axis=1)
        ratio = log_q - log_p
        standard_error = ratio.std() / np.sqrt(ratio.size)
        assert abs(ratio.mean() - analytic[row]) < 4 * standard_error
    np.testing.assert_allclose(analytic, kl_from_moments(mu, np.exp(logvar)), rtol=1e-12)


def test_gaussian_kl_is_finite_at_log_variances_of_plus_minus_60_in_float32():
    mu = mg.zeros(2, 3, requires_grad=True)
    logvar = mg.tensor([[-60.0, 0.0, 60.0], [60.0, -60.0, 1.0]], requires_grad=True)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        kl = vae.gaussian_kl(mu, logvar)
        g_mu, g_logvar = mg.grad(kl.sum(), [mu, logvar])
    assert kl.dtype == np.float32 and np.all(np.isfinite(kl.numpy()))
    assert np.all(np.isfinite(g_mu.numpy())) and np.all(np.isfinite(g_logvar.numpy()))
    assert kl.numpy()[0] == pytest.approx(0.5 * (np.exp(60.0) + np.exp(-60.0) - 2), rel=1e-5)


def test_reparameterize_is_mu_plus_sigma_eps_and_differentiable():
    mu, logvar = t(RNG.standard_normal((3, 2)), True), t(RNG.standard_normal((3, 2)), True)
    eps = t(RNG.standard_normal((3, 2)))  # fixed noise: z is then a function of mu and logvar alone
    z = vae.reparameterize(mu, logvar, eps)
    np.testing.assert_allclose(z.numpy(), mu.numpy() + np.exp(logvar.numpy() / 2) * eps.numpy(), rtol=1e-14)
    assert mg.gradcheck(lambda m, v: vae.reparameterize(m, v, eps), [mu, logvar], eps=1e-6)


def test_reparameterized_samples_have_mean_mu_and_standard_deviation_exp_half_logvar():
    """200,000 draws: the mean within 5 standard errors (sigma / sqrt(n)), the standard deviation within
    5 of its own (about sigma / sqrt(2n))."""
    n = 200_000
    mu, logvar = np.array([0.5, -1.0, 2.0]), np.array([-2.0, 0.0, 1.5])
    mg.manual_seed(0)
    z = vae.reparameterize(t(np.broadcast_to(mu, (n, 3))), t(np.broadcast_to(logvar, (n, 3)))).numpy()
    sigma = np.exp(logvar / 2)
    assert np.all(np.abs(z.mean(0) - mu) < 5 * sigma / np.sqrt(n))
    assert np.all(np.abs(z.std(0) - sigma) < 5 * sigma / np.sqrt(2 * n))


def test_reparameterize_and_gaussian_kl_describe_the_same_distribution():
    """The pair DeZero's VAE example gets wrong: the z that `reparameterize` draws has variance exp(logvar),
    and the KL of a Gaussian with those draws' moments is `gaussian_kl(mu, logvar)` (to 0.02 nats: the moments
    of 200,000 draws are good to about 0.5%). DeZero's z = mu + exp(logvar) eps has variance exp(2 logvar),
    a distribution whose KL is not the one its loss computes."""
    n = 200_000
    mu, logvar = np.array([0.5, -1.0, 0.3]), np.array([-1.5, 0.8, 1.2])
    mu_n, logvar_n = t(np.broadcast_to(mu, (n, 3))), t(np.broadcast_to(logvar, (n, 3)))
    kl = vae.gaussian_kl(t(mu[None]), t(logvar[None])).item()
    mg.manual_seed(0)
    z = vae.reparameterize(mu_n, logvar_n).numpy()
    np.testing.assert_allclose(z.var(0), np.exp(logvar), rtol=0.02)
    assert kl_from_moments(z.mean(0), z.var(0)) == pytest.approx(kl, abs=0.02)

    z_dezero = (mu_n + mg.exp(logvar_n) * mg.randn_like(mu_n)).numpy()
    np.testing.assert_allclose(z_dezero.var(0), np.exp(2 * logvar), rtol=0.02)
    assert abs(kl_from_moments(z_dezero.mean(0), z_dezero.var(0)) - kl) > 1.0


# --- the likelihoods, the ELBO and the loss -------------------------------------------------------

def test_bernoulli_log_likelihood_by_hand_and_at_extreme_logits():
    logits, x = RNG.standard_normal((2, 1, 3, 3)) * 3, RNG.uniform(size=(2, 1, 3, 3))
    p = 1 / (1 + np.exp(-logits))
    expected = np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))
    np.testing.assert_allclose(vae.bernoulli_log_likelihood(t(logits), t(x)).numpy(), expected, rtol=1e-12)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        ll = vae.bernoulli_log_likelihood(mg.tensor([[-1e4, 1e4]]), mg.tensor([[1.0, 1.0]]))
    assert ll.item() == pytest.approx(-1e4)


def test_gaussian_log_likelihood_by_hand():
    mean, x = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    expected = -0.5 * np.sum((x - mean) ** 2 / 0.3 + np.log(2 * np.pi * 0.3), axis=1)
    np.testing.assert_allclose(vae.gaussian_log_likelihood(t(mean), t(x), 0.3).numpy(), expected, rtol=1e-12)


def test_elbo_and_vae_loss_reduce_as_stated():
    ll, kl = t([-100.0, -80.0]), t([5.0, 7.0])
    np.testing.assert_allclose(vae.elbo(ll, kl).numpy(), [-105.0, -87.0])
    assert vae.vae_loss(ll, kl).item() == pytest.approx(96.0)  # per image, averaged over the batch
    assert vae.vae_loss(ll, kl, beta=4.0).item() == pytest.approx((100 + 80 + 4 * 12) / 2)


def test_likelihoods_and_kl_match_pytorch():
    torch = pytest.importorskip("torch")
    F, Normal = torch.nn.functional, torch.distributions.Normal
    logits, x = RNG.standard_normal((3, 1, 28, 28)) * 4, RNG.uniform(size=(3, 1, 28, 28))
    tl, tx = torch.tensor(logits), torch.tensor(x)
    ll = vae.bernoulli_log_likelihood(t(logits), t(x)).numpy()
    np.testing.assert_allclose(-ll, F.binary_cross_entropy_with_logits(tl, tx, reduction="none").sum((1, 2, 3)),
                               rtol=1e-12)
    assert -ll.sum() == pytest.approx(F.binary_cross_entropy_with_logits(tl, tx, reduction="sum").item(), rel=1e-12)

    # sigma^2 = 1/2: -log p(x|z) is the summed squared error plus (D/2) log pi
    ll = vae.gaussian_log_likelihood(t(logits), t(x), variance=0.5).numpy()
    mse = np.array([F.mse_loss(tl[i], tx[i], reduction="sum").item() for i in range(3)])
    np.testing.assert_allclose(-ll, mse + 784 / 2 * np.log(np.pi), rtol=1e-12)
    ll = vae.gaussian_log_likelihood(t(logits), t(x), variance=0.2).numpy()
    np.testing.assert_allclose(ll, Normal(tl, np.sqrt(0.2)).log_prob(tx).sum((1, 2, 3)), rtol=1e-12)

    mu, logvar, z = RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))
    q, prior = Normal(torch.tensor(mu), torch.tensor(np.exp(logvar / 2))), Normal(0.0, 1.0)
    np.testing.assert_allclose(vae.gaussian_kl(t(mu), t(logvar)).numpy(),
                               torch.distributions.kl_divergence(q, prior).sum(1), rtol=1e-12)
    np.testing.assert_allclose(vae.gaussian_log_density(t(z), t(mu), t(logvar)).numpy(),
                               q.log_prob(torch.tensor(z)).sum(1), rtol=1e-12)
    np.testing.assert_allclose(vae.standard_normal_log_density(t(z)).numpy(),
                               prior.log_prob(torch.tensor(z)).sum(1), rtol=1e-12)


# Every differentiable function of the module, with the shapes of its inputs.
FUNCTIONS = {
    "reparameterize": (vae.reparameterize, [(3, 2)] * 3),
    "gaussian_kl": (vae.gaussian_kl, [(3, 2)] * 2),
    "gaussian_log_density": (vae.gaussian_log_density, [(3, 2)] * 3),
    "standard_normal_log_density": (vae.standard_normal_log_density, [(3, 2)]),
    "bernoulli_log_likelihood": (vae.bernoulli_log_likelihood, [(2, 1, 2, 2)] * 2),
    "gaussian_log_likelihood": (lambda m, x: vae.gaussian_log_likelihood(m, x, 0.3), [(2, 1, 2, 2)] * 2),
    "elbo": (vae.elbo, [(3,)] * 2),
    "vae_loss": (lambda ll, kl: vae.vae_loss(ll, kl, beta=2.0), [(3,)] * 2),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_gradcheck_and_gradgradcheck(name):
    """First and second derivatives, with respect to every input (the data and the noise too), in float64."""
    fn, shapes = FUNCTIONS[name]
    inputs = [t(RNG.standard_normal(s), requires_grad=True) for s in shapes]
    assert mg.gradcheck(fn, inputs, eps=1e-6, name=name)
    assert mg.gradgradcheck(fn, inputs, eps=1e-6, name=name)


# --- the importance-weighted bound ----------------------------------------------------------------

class LinearGaussian(nn.Module):
    """z ~ N(0, 1), x | z ~ N(a z, s2), with the exact posterior as q(z|x): every importance weight is p(x)."""

    a, s2 = 2.0, 0.01

    def encode(self, x):
        post_var = self.s2 / (self.a**2 + self.s2)
        return x * (self.a / (self.a**2 + self.s2)), mg.full_like(x, math.log(post_var))

    def decode(self, z):
        return self.a * z

    def log_likelihood(self, decoded, x):
        return vae.gaussian_log_likelihood(decoded, x, self.s2)


def test_importance_weighted_nll_is_exact_with_the_exact_posterior():
    """-log N(x; 0, a^2 + s2) for any k and chunking, also at x = 100, where p(x) = e^-1246 underflows float64
    and only a log-mean-exp that never exponentiates the weights themselves gets it right."""
    model = LinearGaussian()
    x = np.array([[0.3], [-1.7], [100.0]])
    var = model.a**2 + model.s2
    expected = 0.5 * (np.log(2 * np.pi * var) + x[:, 0] ** 2 / var)
    for k, chunk in [(1, 1), (7, 3), (50, 50)]:
        nll = vae.importance_weighted_nll(model, t(x), k=k, chunk=chunk, progress=True)
        assert nll.dtype == np.float64 and nll.shape == (3,)
        np.testing.assert_allclose(nll, expected, rtol=1e-10)


@pytest.fixture(scope="module")
def trained_vae():
    """vae-mlp (8 latents) after 40 Adam steps on 256 binarised MNIST test digits; left in train mode."""
    images = (mnist("test", scale="unit")[0][:256] > 0.5).astype(np.float32)
    mg.manual_seed(0)
    model = vae.vae_mlp(latent_dim=8)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    for step in range(40):
        x = mg.tensor(images[step % 8 * 32:][:32])
        decoded, mu, logvar, _ = model(x)
        loss = vae.vae_loss(model.log_likelihood(decoded, x), vae.gaussian_kl(mu, logvar))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, mg.tensor(images[:32])


def test_importance_weighted_bound_is_above_the_elbo_and_rises_with_k(trained_vae):
    """Averaged over 32 digits with fixed seeds: the ELBO (20 draws of z per digit) <= the bound at k = 1 <= at
    k = 10 <= at k = 100, each within 0.5 nats (the k = 1 bound *is* a one-draw ELBO estimate: they are equal in
    expectation). After 40 steps the posterior is wide, and k = 100 gains several nats over the ELBO."""
    model, x = trained_vae
    model.eval()
    mg.manual_seed(1)
    with mg.no_grad():
        mu, logvar = model.encode(x)
        kl = vae.gaussian_kl(mu, logvar)
        elbo = np.mean([vae.elbo(model.log_likelihood(model.decode(vae.reparameterize(mu, logvar)), x), kl).numpy()
                        for _ in range(20)])
    model.train()
    bounds = []
    for k in (1, 10, 100):
        mg.manual_seed(2)
        bounds.append(-vae.importance_weighted_nll(model, x, k=k, chunk=40).mean())
    assert model.training  # restored
    tolerance = 0.5
    assert bounds[0] >= elbo - tolerance and bounds[1] >= bounds[0] - tolerance and bounds[2] >= bounds[1] - tolerance
    assert bounds[2] > elbo + 3.0


def test_importance_weighted_nll_does_not_depend_on_the_chunk(trained_vae):
    """The draws come from one generator in the same order however they are split, so chunking changes nothing
    but the float32 rounding of the sums."""
    model, x = trained_vae
    results = []
    for chunk in (64, 7):
        mg.manual_seed(3)
        results.append(vae.importance_weighted_nll(model, x[:4], k=64, chunk=chunk))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


# --- the models -----------------------------------------------------------------------------------

@pytest.mark.parametrize("builder, likelihood", [(vae.vae_mlp, "bernoulli"), (vae.vae_mlp, "gaussian"),
                                                 (vae.vae_conv, "bernoulli"), (vae.vae_conv, "gaussian")])
def test_model_shapes(builder, likelihood):
    model = builder(latent_dim=5, likelihood=likelihood)
    assert model.latent_dim == 5 and model.likelihood == likelihood and model.name == builder.__name__.replace("_", "-")
    mg.manual_seed(0)
    x = mg.rand(3, 1, 28, 28)
    decoded, mu, logvar, z = model(x)
    assert decoded.shape == (3, 1, 28, 28) and decoded.dtype == np.float32
    assert mu.shape == logvar.shape == z.shape == (3, 5)
    assert model.log_likelihood(decoded, x).shape == (3,) and vae.gaussian_kl(mu, logvar).shape == (3,)
    image = model.mean_image(decoded * 100).numpy()
    assert image.min() >= 0 and image.max() <= 1
    samples = model.sample(mg.randn(7, 5), batch_size=4)
    assert isinstance(samples, np.ndarray) and samples.shape == (7, 1, 28, 28)
    assert samples.min() >= 0 and samples.max() <= 1 and model.training


def test_vae_mlp_is_pytorch_examples_vae():
    """fc1 784-400, fc21 and fc22 400-20, fc3 20-400, fc4 400-784: 652,824 parameters."""
    assert sum(p.numel() for p in vae.vae_mlp().parameters()) == 652_824


def test_vae_conv_is_dcgans_networks_ending_in_logits():
    model = vae.vae_conv()
    assert isinstance(model.decoder[-1], nn.ConvTranspose2d)
    assert not any(isinstance(m, (nn.Tanh, nn.Sigmoid)) for m in model.modules())
    assert model.encoder.mu.in_features == 128 * 7 * 7


def test_log_likelihood_picks_the_likelihood():
    decoded, x = t(RNG.standard_normal((2, 1, 28, 28))), t(RNG.uniform(size=(2, 1, 28, 28)))
    bern, gauss = vae.vae_mlp(likelihood="bernoulli"), vae.vae_mlp(likelihood="gaussian", variance=0.1)
    np.testing.assert_allclose(bern.log_likelihood(decoded, x).numpy(),
                               vae.bernoulli_log_likelihood(decoded, x).numpy())
    np.testing.assert_allclose(gauss.log_likelihood(decoded, x).numpy(),
                               vae.gaussian_log_likelihood(decoded, x, 0.1).numpy())
    np.testing.assert_allclose(bern.mean_image(decoded).numpy(), 1 / (1 + np.exp(-decoded.numpy())), rtol=1e-12)
    np.testing.assert_allclose(gauss.mean_image(decoded).numpy(), np.clip(decoded.numpy(), 0, 1))


# --- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("builder", [vae.vae_mlp, vae.vae_conv])
def test_builders_reject_a_bad_latent_dim_likelihood_or_variance(builder):
    name = builder.__name__
    with pytest.raises(ValueError, match=f"{name}: latent_dim must be a positive integer, got 0"):
        builder(latent_dim=0)
    with pytest.raises(ValueError, match=f"{name}: unknown likelihood 'poisson'; choose one of bernoulli, gaussian"):
        builder(likelihood="poisson")
    with pytest.raises(ValueError, match=f"{name}: variance must be positive, got -1"):
        builder(likelihood="gaussian", variance=-1.0)


def test_vae_rejects_bad_configurations_and_shapes():
    with pytest.raises(ValueError, match="VAE: unknown likelihood 'laplace'"):
        vae.VAE(nn.Linear(1, 1), nn.Linear(1, 1), 1, likelihood="laplace")
    model = vae.vae_mlp(latent_dim=4)
    with pytest.raises(ValueError, match=r"VAE.encode \(vae-mlp\): expected images of shape \(N, 1, 28, 28\), "
                                         r"got \(2, 784\)"):
        model.encode(mg.rand(2, 784))
    with pytest.raises(ValueError, match=r"VAE.decode \(vae-mlp\): expected latents of shape \(N, 4\), got \(2, 5\)"):
        model.decode(mg.randn(2, 5))


def test_loss_functions_name_themselves_and_the_shapes():
    a, b = mg.zeros(2, 3), mg.zeros(2, 4)
    with pytest.raises(ValueError, match=r"reparameterize: logvar must have the shape of mu, \(2, 3\); got \(2, 4\)"):
        vae.reparameterize(a, b)
    with pytest.raises(ValueError, match=r"reparameterize: eps must have the shape of mu, \(2, 3\); got \(2, 4\)"):
        vae.reparameterize(a, a, b)
    with pytest.raises(ValueError, match="gaussian_kl: logvar must have the shape of mu"):
        vae.gaussian_kl(a, b)
    with pytest.raises(ValueError, match="bernoulli_log_likelihood: x must have the shape of logits"):
        vae.bernoulli_log_likelihood(a, b)
    with pytest.raises(ValueError, match="gaussian_log_likelihood: variance must be positive, got 0"):
        vae.gaussian_log_likelihood(a, a, variance=0.0)
    with pytest.raises(ValueError, match=r"vae_loss: kl must have the shape of log_likelihood, \(2,\); got \(3,\)"):
        vae.vae_loss(mg.zeros(2), mg.zeros(3))
    with pytest.raises(ValueError, match=r"elbo: log_likelihood must have a batch dim, shape \(N, ...\); got a scalar"):
        vae.elbo(mg.tensor(1.0), mg.tensor(1.0))
    for bad in ({"k": 0}, {"chunk": 0}, {"k": 2.5}):
        with pytest.raises(ValueError, match=f"importance_weighted_nll: {next(iter(bad))} must be a positive integer"):
            vae.importance_weighted_nll(LinearGaussian(), mg.zeros(1, 1), **bad)


# --- active units ---------------------------------------------------------------------------------

def test_active_units_count_the_latents_whose_posterior_mean_varies_with_x():
    """Burda et al.'s measure: Var_x(mu_u(x)) > 0.01. Unit 0 varies (variance 1), unit 1 barely
    (variance 0.0001), unit 2 is the prior's mean for every x; a Tensor counts as its array does."""
    rng = np.random.default_rng(5)
    mu = np.stack([rng.standard_normal(4000), 0.01 * rng.standard_normal(4000), np.zeros(4000)], axis=1)
    assert vae.active_units(mu) == 1 and vae.active_units(t(mu)) == 1
    assert vae.active_units(mu, threshold=1e-5) == 2 and vae.active_units(mu, threshold=2.0) == 0
    assert vae.active_units(mu) == int((mu.var(axis=0) > 0.01).sum())  # what evaluation.vae_metrics counts


def test_active_units_name_themselves_and_the_shape():
    with pytest.raises(ValueError, match=r"active_units: mu must be posterior means of shape \(N, d\) with N >= 2 "
                                         r"images; got shape \(5,\)"):
        vae.active_units(np.zeros(5))
    with pytest.raises(ValueError, match=r"got shape \(1, 3\)"):
        vae.active_units(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="active_units: threshold must be >= 0, got -1"):
        vae.active_units(np.zeros((2, 3)), threshold=-1)
