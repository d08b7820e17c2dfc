# %% [markdown]
# # Exercises 7: the variational autoencoder
#
# After lesson 7 (`lessons/07_vae.py`), the VAE of article 004: its reparameterisation, its KL
# term and its importance-weighted bound. Write the body of each function where it says
# `raise NotImplementedError`, run the cell below it, which checks your answer, and go on.
# `minigan exercises check 7.1` grades one exercise (with more cases than the cell shows).

# %%
import numpy as np

import minigan as mg
from minigan import exercises as ex
from minigan import vae

# %% [markdown]
# ## Exercise 7.1: the reparameterisation trick
#
# The encoder gives each image a Gaussian $q(z \mid x) = N(\mu, \mathrm{diag}\,\sigma^2)$, as
# $\mu$ and $\text{logvar} = \log \sigma^2$. A sample drawn by a random number generator cannot be
# differentiated with respect to $\mu$ and $\sigma$; the trick (重参数化) moves the randomness into
# $\epsilon \sim N(0, I)$: $z = \mu + \sigma \odot \epsilon$, a differentiable function of $\mu$ and
# logvar. Write it with minigan's ops, given $\epsilon$. Mind that logvar is the log of the
# *variance*: $\sigma = e^{\text{logvar}/2}$.

# %% nbgrader={"grade": false, "grade_id": "exercise-7-1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def reparameterize(mu: mg.Tensor, logvar: mg.Tensor, eps: mg.Tensor) -> mg.Tensor:
    """z = mu + sigma * eps, with sigma = exp(logvar / 2)."""
    ### BEGIN SOLUTION
    return mu + mg.exp(logvar / 2) * eps
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-7-1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
def reparameterize_agrees(shape: tuple, rng: np.random.Generator) -> None:
    mu, logvar = (mg.tensor(rng.normal(size=shape), requires_grad=True) for _ in range(2))
    eps = mg.tensor(rng.normal(size=shape))
    what = f"reparameterize on ({shape[0]}, {shape[1]}) inputs"
    ex.same(reparameterize(mu, logvar, eps), vae.reparameterize(mu, logvar, eps), what)
    ex.same(mg.grad(reparameterize(mu, logvar, eps).sum(), (mu, logvar)),
            mg.grad(vae.reparameterize(mu, logvar, eps).sum(), (mu, logvar)), "the gradients of " + what)


reparameterize_agrees((2, 3), np.random.default_rng(0))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(701)
for n, d in rng.integers(1, 8, size=(5, 2)):
    reparameterize_agrees((int(n), int(d)), rng)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 7.2: the KL divergence from the prior
#
# The ELBO's second term is $\mathrm{KL}(q(z \mid x) \,\|\, p(z))$ with the prior $p(z) = N(0, I)$
# (KL 散度). For diagonal Gaussians it has a closed form, summed over the latent dimensions j:
# $\mathrm{KL} = -\tfrac12 \sum_j (1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2)$. Write it per
# sample, shape (N,) for inputs (N, d), from logvar: $\sigma^2 = e^{\text{logvar}}$, and
# $\log\sigma^2$ is logvar itself (never take the log of an exponential that may round to 0).

# %% nbgrader={"grade": false, "grade_id": "exercise-7-2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gaussian_kl(mu: mg.Tensor, logvar: mg.Tensor) -> mg.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per sample: shape (N,)."""
    ### BEGIN SOLUTION
    return -0.5 * (1 + logvar - mu * mu - mg.exp(logvar)).sum(1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-7-2-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def kl_agrees(mu: np.ndarray, logvar: np.ndarray, what: str) -> None:
    m, lv = mg.tensor(mu, requires_grad=True), mg.tensor(logvar, requires_grad=True)
    ex.same(gaussian_kl(m, lv), vae.gaussian_kl(m, lv), f"gaussian_kl of {what}")
    ex.same(mg.grad(gaussian_kl(m, lv).sum(), (m, lv)), mg.grad(vae.gaussian_kl(m, lv).sum(), (m, lv)),
            f"the gradients of gaussian_kl of {what}")


kl_agrees(np.zeros((2, 3)), np.zeros((2, 3)), "the prior itself (expected 0)")
kl_agrees(np.array([[1.0, -2.0]]), np.array([[0.5, -1.0]]), "one sample in 2-D")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(702)
for n, d in rng.integers(1, 8, size=(5, 2)):
    kl_agrees(rng.normal(size=(n, d)), rng.normal(scale=3, size=(n, d)), f"{n} random samples in {d}-D")
kl_agrees(rng.normal(size=(3, 4)), np.full((3, 4), -200.0), "a posterior of variance e^-200")
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 7.3: log-mean-exp, for the importance-weighted bound
#
# The importance-weighted estimate of $\log p(x)$ (Burda et al., 2016) averages k weights
# $e^{w_i}$ whose logs $w_i$ are around -100 nats or less: `np.exp(-800.0)` is 0 in float64, and
# the log of a mean of zeros is $-\infty$. Take out the largest, $m = \max_i w_i$:
# $\log \frac1k \sum_i e^{w_i} = m + \log \sum_i e^{w_i - m} - \log k$, where every exponent is at
# most 0 and the largest term is exactly 1. Write it along `axis` of a NumPy array (the result has
# that axis removed). A row of $-\infty$ (every weight zero) gives $-\infty$, without a warning.

# %% nbgrader={"grade": false, "grade_id": "exercise-7-3", "locked": false, "schema_version": 3, "solution": true, "task": false}
def log_mean_exp(w: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(mean(exp(w), axis)), computed without overflow or underflow."""
    ### BEGIN SOLUTION
    m = w.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # a row of -inf: subtract nothing, and log(0) = -inf below
    with np.errstate(divide="ignore"):
        return (np.squeeze(m, axis) + np.log(np.exp(w - m).sum(axis=axis)) - np.log(w.shape[axis]))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-7-3-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def log_mean_exp_agrees(w: np.ndarray, axis: int, what: str) -> None:
    # NumPy's own pairwise log(exp(a) + exp(b)), reduced along the axis, is the reference
    with np.errstate(divide="ignore"):
        expected = np.logaddexp.reduce(w, axis=axis) - np.log(w.shape[axis])
    with np.errstate(all="raise"):  # a warning (overflow, log of 0) is an error here
        ex.same(log_mean_exp(w, axis), expected, f"log_mean_exp of {what}, axis={axis}", rtol=1e-10)


log_mean_exp_agrees(np.array([0.0, np.log(3.0)]), -1, "[0, log 3] (expected log 2)")
log_mean_exp_agrees(np.array([[-800.0, -801.0, -799.5]]), 1, "weights around e^-800")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(703)
log_mean_exp_agrees(rng.normal(loc=-500, scale=50, size=(4, 1000)), 1, "4 rows of 1,000 log weights around -500")
log_mean_exp_agrees(rng.normal(loc=800, scale=5, size=(30, 3)), 0, "log weights around +800")
log_mean_exp_agrees(np.array([[-np.inf, -np.inf], [-np.inf, -3.0]]), 1, "rows with -inf")
### END HIDDEN TESTS
