# %% [markdown]
# # Exercises 5: measuring a generator
#
# After lesson 5 (`lessons/05_measuring.py`). Write the body of each function where it says
# `raise NotImplementedError`, run the cell below it, which checks your answer, and go on.
# `minigan exercises check 5.1` grades one exercise (with more cases than the cell shows).

# %%
import numpy as np

from minigan import exercises as ex
from minigan import metrics

# %% [markdown]
# ## Exercise 5.1: the Inception Score, from a classifier's probabilities
#
# Given each sample's class probabilities $p(y|x)$, rows of an (N, K) array, write the score
# $\exp\big(\mathbb{E}_x \mathrm{KL}(p(y|x) \,\|\, p(y))\big)$ with $p(y) = \mathbb{E}_x\, p(y|x)$,
# the mean row (Inception 分数; with an MNIST classifier, the MNIST score). Take $0 \log 0 = 0$:
# a one-hot row is a valid input, and `np.log(0)` must not turn it into NaN (`np.where` or a
# mask, not `np.log(p + 1e-12)`, which is off for one-hot rows).

# %% nbgrader={"grade": false, "grade_id": "exercise-5-1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def inception_score(probs: np.ndarray) -> float:
    """exp(E_x KL(p(y|x) || p(y))) for probabilities of shape (N, K)."""
    ### BEGIN SOLUTION
    p_y = probs.mean(axis=0, keepdims=True)  # > 0 wherever a row is
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0 where probs is 0, masked out by where
        terms = np.where(probs > 0, probs * np.log(probs / p_y), 0.0)
    return float(np.exp(terms.sum(axis=1).mean()))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-5-1-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def score_agrees(probs: np.ndarray, what: str) -> None:
    ex.same(inception_score(probs), metrics.mnist_score(probs), f"inception_score of {what}")


score_agrees(np.eye(10), "ten one-hot rows, one per class (expected 10)")
score_agrees(np.full((5, 10), 0.1), "five uniform rows (expected 1)")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(501)
for n, k, sharpness in ((50, 10, 1.0), (7, 3, 5.0), (200, 10, 0.2)):
    logits = sharpness * rng.normal(size=(n, k)) * 3
    probs = np.exp(logits - logits.max(1, keepdims=True))
    score_agrees(probs / probs.sum(1, keepdims=True), f"{n} random rows of {k} classes")
score_agrees(np.eye(4)[rng.integers(0, 4, size=30)], "30 one-hot rows of 4 classes, unbalanced")
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 5.2: the Fréchet distance between two feature sets
#
# Fit a Gaussian to each set of features, rows of (N, d) and (M, d): mean $\mu$ and covariance
# $\Sigma$ (`np.cov(f, rowvar=False)`, which divides by N - 1). The Fréchet distance between the
# two Gaussians (FID, with Inception's features) is
# $\lVert\mu_1 - \mu_2\rVert^2 + \mathrm{Tr}\big(\Sigma_1 + \Sigma_2 - 2(\Sigma_1\Sigma_2)^{1/2}\big)$.
# $\Sigma_1\Sigma_2$ is not symmetric, but only the trace of its square root is needed, and with
# $S = \Sigma_1^{1/2}$ (from `np.linalg.eigh`: $S = V \sqrt{\Lambda} V^\top$) the product is similar
# to the symmetric $S \Sigma_2 S$, so $\mathrm{Tr}(\Sigma_1\Sigma_2)^{1/2} = \sum_i
# \sqrt{\lambda_i(S \Sigma_2 S)}$. Clip eigenvalues at 0 before each square root: roundoff makes
# the zero ones slightly negative.

# %% nbgrader={"grade": false, "grade_id": "exercise-5-2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to feature sets a (N, d) and b (M, d)."""
    ### BEGIN SOLUTION
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    sigma1, sigma2 = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    values, vectors = np.linalg.eigh(sigma1)
    root1 = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(root1 @ sigma2 @ root1), 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-5-2-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def frechet_agrees(a: np.ndarray, b: np.ndarray, what: str) -> None:
    ex.same(frechet_distance(a, b), metrics.frechet_distance(a, b), f"frechet_distance of {what}", atol=1e-6)


rng = np.random.default_rng(0)
frechet_agrees(rng.normal(size=(500, 3)), rng.normal(loc=1.0, size=(400, 3)), "N(0, I) and N(1, I) samples in 3-D")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(502)
for d in (1, 2, 8, 20):
    a = rng.normal(size=(300, d)) @ rng.normal(size=(d, d))
    b = rng.normal(loc=rng.normal(size=d), size=(250, d)) @ rng.normal(size=(d, d))
    frechet_agrees(a, b, f"two correlated Gaussian samples in {d}-D")
a = rng.normal(size=(100, 6))
frechet_agrees(a, a, "a set and itself (expected 0)")
frechet_agrees(np.c_[a[:, :3], a[:, :3]], rng.normal(size=(80, 6)), "a set with a singular covariance")
### END HIDDEN TESTS
