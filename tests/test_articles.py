"""minigan.gan.articles: each of the articles' wrong forms, run beside the standard form, doing the
wrong thing with real numbers."""
import copy
import math

import numpy as np
import pytest

import minigan as mg
from minigan import gan, nn, optim
from minigan.gan import articles
from minigan.vae import bernoulli_log_likelihood, gaussian_kl, vae_loss

RNG = np.random.default_rng(0)
REAL_PTS = RNG.standard_normal((8, 2)) * 0.3 + 2.0  # real data around (2, 2)
FAKE_PTS = RNG.standard_normal((8, 2)) * 0.3 - 2.0  # generated around (-2, -2): separable


def sig(z):
    return 1 / (1 + np.exp(-z))


def t(a, requires_grad=False):
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def linear_d(weight=(0.3, -0.2), bias=0.1):
    """A logistic-regression discriminator on 2-D points, with fixed starting weights."""
    D = nn.Linear(2, 1, dtype=mg.float64)
    D.weight.data[...] = np.asarray([weight])
    D.bias.data[...] = bias
    return D


def logit(D, x):
    return D(x).reshape(-1)


def sgd_step(loss, params, lr):
    """One plain gradient-descent step on ``params`` (leaves), in place."""
    grads = mg.grad(loss, params)
    with mg.no_grad():
        for p, g in zip(params, grads):
            p.data -= lr * g.data


# --- article 000: the summed generator "gradient" -------------------------------------------


def test_article000_summed_loss_has_logit_gradient_one_minus_two_sigma():
    l = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    x = t(l, requires_grad=True)
    loss = articles.article000_summed_generator_loss(x)
    assert loss.item() == pytest.approx(np.mean(np.log(1 - sig(l))) + np.mean(np.log(sig(l))), rel=1e-12)
    (g,) = mg.grad(loss, x)
    np.testing.assert_allclose(g.numpy(), (1 - 2 * sig(l)) / len(l), rtol=1e-12, atol=1e-15)
    # the two standard losses' gradients, summed (their signs make them pull apart)
    (gs,) = mg.grad(gan.generator_loss_saturating(x), x)
    (gn,) = mg.grad(gan.generator_loss_nonsaturating(x), x)
    np.testing.assert_allclose(gs.numpy() - gn.numpy(), g.numpy(), rtol=1e-12, atol=1e-15)


def test_article000_summed_loss_pushes_fakes_away_from_one_half():
    l = np.array([-2.0, -0.5, 0.5, 2.0])
    summed, nonsat = t(l, requires_grad=True), t(l, requires_grad=True)
    sgd_step(articles.article000_summed_generator_loss(summed), [summed], lr=1.0)
    sgd_step(gan.generator_loss_nonsaturating(nonsat), [nonsat], lr=1.0)
    rejected = l < 0  # D(G(z)) < 1/2
    # the article's step makes rejected fakes look *more* fake, accepted ones more real ...
    assert (summed.numpy()[rejected] < l[rejected]).all() and (summed.numpy()[~rejected] > l[~rejected]).all()
    # ... the non-saturating loss moves every fake towards "real"
    assert (nonsat.numpy() > l).all()


# --- article 000: one loss shared by both players --------------------------------------------


def test_article000_shared_loss_is_bce_on_the_fakes_alone():
    D = linear_d()
    fake = t(FAKE_PTS)
    l = logit(D, fake).numpy()
    for label in (0.0, 1.0):
        loss = articles.article000_shared_loss(D, fake, label)
        expected = np.mean(-(label * np.log(sig(l)) + (1 - label) * np.log(1 - sig(l))))
        assert loss.item() == pytest.approx(expected, rel=1e-12)


def test_article000_shared_loss_teaches_d_to_accept_fakes():
    real, fake = t(REAL_PTS), t(FAKE_PTS)
    shared, standard = linear_d(), linear_d()
    before = sig(logit(shared, fake).numpy()).mean()
    sgd_step(articles.article000_shared_loss(shared, fake, 1.0), list(shared.parameters()), lr=0.5)
    sgd_step(gan.discriminator_loss(logit(standard, real), logit(standard, fake)), list(standard.parameters()), lr=0.5)
    assert sig(logit(shared, fake).numpy()).mean() > before + 0.05  # D learns to call fakes real
    assert sig(logit(standard, fake).numpy()).mean() < before - 0.05  # the standard D rejects them


def test_article000_shared_loss_with_label_zero_teaches_g_to_look_fake():
    D = linear_d(weight=(1.0, 1.0), bias=0.0)
    z = t(FAKE_PTS)
    shared, nonsat = t([0.0, 0.0], requires_grad=True), t([0.0, 0.0], requires_grad=True)  # G(z) = z + shift
    before = sig(logit(D, z).numpy()).mean()
    sgd_step(articles.article000_shared_loss(D, z + shared, 0.0), [shared], lr=0.5)
    sgd_step(gan.generator_loss_nonsaturating(logit(D, z + nonsat)), [nonsat], lr=0.5)
    with mg.no_grad():
        assert sig(logit(D, z + shared).numpy()).mean() < before  # G makes its samples look *more* fake
        assert sig(logit(D, z + nonsat).numpy()).mean() > before


# --- article 001: the "gradient penalty" as coded --------------------------------------------


def penalty_setup():
    rng = np.random.default_rng(1)
    x, zs = rng.standard_normal((6, 3)) + 1.0, rng.standard_normal((6, 2))
    w = t(rng.standard_normal(3), requires_grad=True)  # the critic D(x) = x @ w
    A = t(rng.standard_normal((2, 3)), requires_grad=True)  # the generator G(z) = z @ A
    return x, zs, w, A


def test_article001_penalty_is_the_squared_score_gap_and_its_gradient_term_is_zero():
    x, zs, w, A = penalty_setup()
    critic = lambda v: v @ w  # noqa: E731
    fake = t(zs) @ A
    loss = articles.article001_penalty_as_coded(critic, [A], t(x), fake)
    gap = x @ w.numpy() - (zs @ A.numpy()) @ w.numpy()
    assert loss.item() == pytest.approx(np.mean(gap ** 2), rel=1e-12)
    # exactly the squared gap: the term that names a gradient adds 0 to the value ...
    squared_gap = ((critic(t(x)) - critic(fake)) ** 2).mean()
    assert loss.item() == squared_gap.item()
    # ... and 0 to every gradient: d/dw and d/dA are the squared gap's
    gw, gA = mg.grad(loss, [w, A], retain_graph=True)  # the squared gap shares G(z)'s graph
    sw, sA = mg.grad(squared_gap, [w, A])
    np.testing.assert_array_equal(gw.numpy(), sw.numpy())
    np.testing.assert_array_equal(gA.numpy(), sA.numpy())
    np.testing.assert_allclose(gw.numpy(), 2 * np.mean(gap[:, None] * (x - zs @ A.numpy()), 0), rtol=1e-12)


def test_article001_penalty_pulls_the_scores_together_and_its_gradient_term_is_zero():
    x, zs, w, A = penalty_setup()
    fake = (t(zs) @ A).detach()

    def gap(wv):
        return abs((x @ wv).mean() - (fake.numpy() @ wv).mean())

    w_penalty, w_wgan = t(w.numpy(), requires_grad=True), t(w.numpy(), requires_grad=True)
    loss = articles.article001_penalty_as_coded(lambda v: v @ w_penalty, [A], t(x), fake)
    assert loss.item() == ((t(x) @ w_penalty - fake @ w_penalty) ** 2).mean().item()  # + exactly 0
    sgd_step(loss, [w_penalty], lr=0.01)
    sgd_step(gan.wasserstein_critic_loss(t(x) @ w_wgan, fake @ w_wgan), [w_wgan], lr=0.01)
    assert gap(w_penalty.numpy()) < gap(w.numpy()) < gap(w_wgan.numpy())  # D's own objective widens it


def test_article001_penalty_does_not_constrain_the_critics_slope():
    x, _, _, A = penalty_setup()
    u = np.array([0.6, 0.0, 0.8])  # a unit vector: D(x) = x @ (c u) has slope c everywhere
    eps = t(np.full((6, 1), 0.3))

    def both(c, real, fake):
        w = t(c * u, requires_grad=True)
        return (articles.article001_penalty_as_coded(lambda v: v @ w, [A], t(real), t(fake)).item(),
                gan.gradient_penalty(lambda v: v @ w, t(real), t(fake), eps=eps).item())

    # a steep critic (slope 5) scoring both batches alike (real == fake) pays nothing here ...
    coded, gp = both(5.0, x, x)
    assert coded == 0.0 and gp == pytest.approx(10 * (5 - 1) ** 2, rel=1e-9)
    # ... and a 1-Lipschitz one (slope 1), which WGAN-GP accepts, pays for telling them apart
    coded, gp = both(1.0, x, -x)
    assert coded > 1.0 and gp == pytest.approx(0.0, abs=1e-9)


# --- article 003: labels and probabilities as logits -----------------------------------------


def test_article003_discriminator_loss_labels_everything_real():
    p_real, p_fake = np.array([0.9, 0.2, 0.6]), np.array([0.1, 0.7, 0.4])
    loss = articles.article003_discriminator_loss(t(p_real), t(p_fake))
    p = np.concatenate([p_real, p_fake])
    assert loss.item() == pytest.approx(np.mean(-np.log(sig(p))), rel=1e-12)  # label 1 on sigma(p), fakes included


def test_article003_losses_read_probabilities_as_logits():
    grid = np.linspace(0.0, 1.0, 1001)
    losses = [articles.article003_discriminator_loss(t([p]), t([q])).item() for p, q in zip(grid, grid[::-1])]
    floor = math.log1p(math.exp(-1))  # softplus(-1), about 0.313
    assert min(losses) >= floor - 1e-15
    assert articles.article003_discriminator_loss(t([1.0]), t([1.0])).item() == pytest.approx(floor, rel=1e-12)
    assert gan.discriminator_loss(t([10.0]), t([-10.0])).item() < 1e-4  # on logits, a confident D's loss goes to 0
    # G's loss too reads sigma(p) in (0.5, 0.73): it lies between softplus(0) and softplus(1)
    g_losses = np.array([articles.article003_generator_loss(t([p])).item() for p in grid])
    assert (g_losses >= math.log(2) - 1e-15).all() and (g_losses <= math.log1p(math.e) + 1e-15).all()
    # the gradient in D's own logit is squashed: where D calls a real sample fake with confidence
    # (logit -6), BCE on the logit pulls with about -1, the article's double sigmoid with under 0.01
    l, other = t([-6.0], requires_grad=True), t([0.3])
    (g_coded,) = mg.grad(articles.article003_discriminator_loss(mg.sigmoid(l), mg.sigmoid(other)), l)
    (g_logit,) = mg.grad(gan.discriminator_loss(l, other), l)
    p, per_sample = sig(-6.0), 2 * g_coded.item()  # the article's loss averages over 2 samples, the standard over 1
    assert per_sample == pytest.approx(-sig(-p) * p * (1 - p), rel=1e-12)
    assert abs(per_sample) < 0.01 and g_logit.item() == pytest.approx(p - 1, rel=1e-12)


def train_d(loss_of, steps=150, lr=1.0):
    D = linear_d(weight=(0.1, 0.05), bias=0.0)
    real, fake = t(REAL_PTS), t(FAKE_PTS)
    for _ in range(steps):
        sgd_step(loss_of(logit(D, real), logit(D, fake)), list(D.parameters()), lr)
    with mg.no_grad():
        return sig(logit(D, real).numpy()), sig(logit(D, fake).numpy())


def test_article003_discriminator_loss_teaches_d_to_accept_fakes():
    d_real, d_fake = train_d(lambda lr_, lf: articles.article003_discriminator_loss(mg.sigmoid(lr_), mg.sigmoid(lf)))
    assert (d_fake > 0.5).all() and (d_real > 0.5).all()  # everything "real"
    d_real, d_fake = train_d(gan.discriminator_loss)
    assert (d_fake < 0.5).all() and (d_real > 0.5).all()


def test_article003_generator_loss_helps_d():
    D = linear_d(weight=(1.0, 1.0), bias=0.0)
    z = t(FAKE_PTS * 0.25)
    probs = mg.sigmoid(logit(D, z))
    assert articles.article003_generator_loss(probs).item() == pytest.approx(
        np.mean(np.log1p(np.exp(probs.numpy()))), rel=1e-12)  # BCE with label 0, probabilities as logits
    before = probs.numpy().mean()
    coded, nonsat = t([0.0, 0.0], requires_grad=True), t([0.0, 0.0], requires_grad=True)  # G(z) = z + shift
    sgd_step(articles.article003_generator_loss(mg.sigmoid(logit(D, z + coded))), [coded], lr=1.0)
    sgd_step(gan.generator_loss_nonsaturating(logit(D, z + nonsat)), [nonsat], lr=1.0)
    with mg.no_grad():
        assert sig(logit(D, z + coded).numpy()).mean() < before  # G makes D's job easier
        assert sig(logit(D, z + nonsat).numpy()).mean() > before


def test_article003_generator_gradient_vanishes_where_d_rejects_the_fakes():
    l = np.array([-8.0, -4.0, 0.0, 2.0])
    x = t(l, requires_grad=True)
    loss = articles.article003_generator_gradient_loss(x)
    assert loss.item() == pytest.approx(-np.mean(sig(l)), rel=1e-12)  # ascends E[D(G(z))]
    (g,) = mg.grad(loss, x)
    (gn,) = mg.grad(gan.generator_loss_nonsaturating(x), x)
    np.testing.assert_allclose(g.numpy(), -sig(l) * (1 - sig(l)) / len(l), rtol=1e-12)
    # at logit -8 (D rejects the fake) the article's pull is ~3e-4, the article's own L(G)'s ~ -1
    assert abs(g.numpy()[0]) * len(l) < 1e-3 and gn.numpy()[0] * len(l) < -0.99


# --- article 004: one sign flipped -----------------------------------------------------------


def test_article004_gan_loss_value_and_its_g_gradient():
    r, f = np.array([1.5, -0.3, 0.7]), np.array([-1.0, 0.4, -2.5, 0.1])
    fake = t(f, requires_grad=True)
    loss = articles.article004_gan_loss(t(r), fake)
    assert loss.item() == pytest.approx(-np.mean(np.log(sig(r))) + np.mean(np.log(1 - sig(f))), rel=1e-12)
    assert loss.item() != pytest.approx(gan.minimax_value(t(r), t(f)).item())  # neither V ...
    assert loss.item() != pytest.approx(gan.discriminator_loss(t(r), t(f)).item())  # ... nor -V
    (g,) = mg.grad(loss, fake)
    (gs,) = mg.grad(gan.generator_loss_saturating(fake), fake)
    np.testing.assert_allclose(g.numpy(), gs.numpy(), rtol=1e-12)  # for G, the saturating loss


def test_article004_gan_loss_teaches_d_to_accept_fakes():
    real, fake = t(REAL_PTS), t(FAKE_PTS)
    coded, standard = linear_d(), linear_d()
    before = logit(coded, fake).numpy().mean()
    sgd_step(articles.article004_gan_loss(logit(coded, real), logit(coded, fake)), list(coded.parameters()), 0.5)
    sgd_step(gan.discriminator_loss(logit(standard, real), logit(standard, fake)), list(standard.parameters()), 0.5)
    with mg.no_grad():
        assert logit(coded, fake).numpy().mean() > before + 0.1  # D learns to accept fakes
        assert logit(standard, fake).numpy().mean() < before - 0.1


# --- article 004: D's gradients never cleared ------------------------------------------------


def article004_setup(lr):
    mg.manual_seed(0)
    G, D = nn.Linear(2, 2, dtype=mg.float64), nn.Linear(2, 1, dtype=mg.float64)
    return G, D, optim.SGD(G.parameters(), lr=lr), optim.SGD(D.parameters(), lr=lr)


def bce(logits, label):
    return mg.nn.functional.binary_cross_entropy_with_logits(logits, mg.full_like(logits, label))


def d_loss_grad(D, G, real, z):
    """The gradient in D's parameters of the article's D_loss, on fresh tensors (no .grad touched)."""
    return mg.grad(bce(D(real), 1.0) + bce(D(G(z)), 0.0), list(D.parameters()))


def g_loss_grads(D, G, z):
    loss = bce(D(G(z)), 1.0)
    return mg.grad(loss, list(D.parameters()), retain_graph=True), mg.grad(loss, list(G.parameters()))


def snapshot(net):
    return [p.numpy().copy() for p in net.parameters()]


def test_article004_train_step_accumulates_ds_gradients():
    lr = 0.1
    G, D, opt_g, opt_d = article004_setup(lr)
    rng = np.random.default_rng(2)
    batches = [(t(rng.standard_normal((5, 2)) + 2), t(rng.standard_normal((5, 2)))) for _ in range(2)]
    opt_d.zero_grad()  # the article's D.zero_grad() before the loop
    G0 = copy.deepcopy(G)  # G before its first step, where G_loss's first gradient is taken
    d0, g0 = snapshot(D), snapshot(G)
    gD1 = d_loss_grad(D, G, *batches[0])

    losses = articles.article004_train_step(G, D, *batches[0], opt_g, opt_d)
    assert all(isinstance(v, float) for v in losses)
    d1, g1 = snapshot(D), snapshot(G)
    for p0, p1, g in zip(d0, d1, gD1):  # the first D step is right: there was nothing to accumulate yet
        np.testing.assert_allclose(p1, p0 - lr * g.numpy(), rtol=1e-12, atol=1e-15)
    # G's step is right: G_loss at the updated D, G's gradients cleared in time
    gG1_in_d, gG1_in_g = g_loss_grads(D, G0, batches[0][1])
    for pg0, pg1, g in zip(g0, g1, gG1_in_g):
        np.testing.assert_allclose(pg1, pg0 - lr * g.numpy(), rtol=1e-12, atol=1e-15)
    gD2 = d_loss_grad(D, G, *batches[1])

    articles.article004_train_step(G, D, *batches[1], opt_g, opt_d)
    d2 = snapshot(D)
    for p1, p2, a, b, c in zip(d1, d2, gD1, gG1_in_d, gD2):
        accumulated = a.numpy() + b.numpy() + c.numpy()
        np.testing.assert_allclose(p2, p1 - lr * accumulated, rtol=1e-12, atol=1e-15)
    # the correct step, p1 - lr * gD2, is far from it
    gap = sum(np.abs(p2 - (p1 - lr * c.numpy())).sum() for p1, p2, c in zip(d1, d2, gD2))
    assert gap > 1e-2


# --- article 004: the VAE objective, minimised ------------------------------------------------


def test_article004_vae_objective_minimised_makes_reconstructions_worse():
    rng = np.random.default_rng(3)
    x = t((rng.random((4, 6)) > 0.5).astype(np.float64))
    start_logits = (x.numpy() * 2 - 1) * 0.5  # a decoder already leaning the right way
    start_mu, start_logvar = rng.standard_normal((4, 2)) * 0.5, rng.standard_normal((4, 2)) * 0.1

    def run(objective):
        logits, mu, logvar = t(start_logits, True), t(start_mu, True), t(start_logvar, True)
        pieces = lambda: (bernoulli_log_likelihood(logits, x), gaussian_kl(mu, logvar))  # noqa: E731
        ll0, kl0 = (v.numpy().mean() for v in pieces())
        sgd_step(objective(*pieces()), [logits, mu, logvar], lr=0.5)
        ll1, kl1 = (v.numpy().mean() for v in pieces())
        return ll1 - ll0, kl1 - kl0

    ll, kl = bernoulli_log_likelihood(t(start_logits), x), gaussian_kl(t(start_mu), t(start_logvar))
    for beta in (1.0, 4.0):
        assert articles.article004_vae_objective(ll, kl, beta).item() == pytest.approx(
            -vae_loss(ll, kl, beta).item(), rel=1e-12)
    d_ll, d_kl = run(articles.article004_vae_objective)
    assert d_ll < 0 and d_kl > 0  # worse reconstructions, q pushed away from the prior
    d_ll, d_kl = run(vae_loss)
    assert d_ll > 0 and d_kl < 0
