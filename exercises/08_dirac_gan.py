# %% [markdown]
# # Exercises 8: game dynamics on the Dirac-GAN
#
# After lesson 8 (`lessons/08_dirac_gan.py`), where plain gradient steps circle the Dirac-GAN's
# equilibrium or spiral away from it, and a few methods converge. Write the body of each function
# where it says `raise NotImplementedError`, run the cell below it, which checks your answer, and
# go on. `minigan exercises check 8.1` grades the exercise (with more cases than the cell shows).

# %%
import numpy as np

from minigan import exercises as ex
from minigan.gan import dirac

# %% [markdown]
# ## Exercise 8.1: extragradient on the Dirac-GAN
#
# Simultaneous steps $x_{k+1} = x_k + h\,v(x_k)$ on the Dirac-GAN's field $v$ spiral away from its
# equilibrium $(\theta, \psi) = (0, 0)$, whatever the step size (lesson 8, step 3). The
# extragradient method (外梯度法; Korpelevich 1976, for GANs Gidel et al. 2019) looks one step
# ahead, then steps from where it was with the field found there:
#
# $$x_{k+1/2} = x_k + h\,v(x_k), \qquad x_{k+1} = x_k + h\,v(x_{k+1/2}).$$
#
# Write the step, for a field given as a function: `field(x)` takes points $(\theta, \psi)$, an
# array of shape (..., 2), and returns the field at each, an array of the same shape
# (`dirac.DiracGAN()` is one). Do not change `x` itself: return a new array. Then write the step's
# linearisation at an equilibrium where the field's Jacobian is $J$: the 2 x 2 matrix $M$ with
# $x_{k+1} \approx M x_k$ when $v(x) \approx J x$. Its spectral radius, the largest modulus of its
# eigenvalues, is the factor by which a step shrinks the distance to the equilibrium near it: the
# check runs your step from (1, 1) and compares the two.

# %% nbgrader={"grade": false, "grade_id": "exercise-8-1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def extragradient_step(field, x: np.ndarray, h: float) -> np.ndarray:
    """One extragradient step of size h from the points x, shape (..., 2), on the vector field ``field``."""
    ### BEGIN SOLUTION
    lookahead = x + h * field(x)
    return x + h * field(lookahead)
    ### END SOLUTION


def extragradient_matrix(J: np.ndarray, h: float) -> np.ndarray:
    """The matrix M of the extragradient step near an equilibrium where the field's Jacobian is J."""
    ### BEGIN SOLUTION
    return np.eye(2) + h * J + h * h * J @ J
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-8-1-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def step_agrees(field, x: np.ndarray, h: float, what: str) -> None:
    """Your step against minigan's `dirac.extragradient`, and x left as it was."""
    before = x.copy()
    ex.same(extragradient_step(field, x, h), dirac.extragradient(field, before, h),
            f"extragradient_step({what}, x of shape {x.shape}, h={h})")
    ex.same(x, before, f"x after extragradient_step({what}, ..., h={h}) (return a new array, leave x as it was)")


def matrix_agrees(J: np.ndarray, h: float, what: str) -> None:
    """Your matrix against minigan's `dirac.update_operator("extragradient", J, h)`."""
    ex.same(extragradient_matrix(J, h), dirac.update_operator("extragradient", J, h),
            f"extragradient_matrix({what}, h={h})")


game = dirac.DiracGAN()  # the GAN: f(t) = -log(1 + exp(-t)), f'(0) = 1/2
step_agrees(game, np.array([1.0, 1.0]), 0.5, "the Dirac-GAN")
matrix_agrees(game.jacobian(), 0.5, "the Dirac-GAN's J at (0, 0)")
path = [np.array([1.0, 1.0])]
for _ in range(300):
    path.append(extragradient_step(game, path[-1], 0.5))
distance = np.linalg.norm(path, axis=1)
shrink = (distance[300] / distance[200]) ** (1 / 100)  # per step, once near the equilibrium
ex.same(shrink, dirac.spectral_radius(dirac.update_operator("extragradient", game.jacobian(), 0.5)),
        "the distance to (0, 0) shrinks per step by (steps 200 to 300 from (1, 1), h=0.5)", rtol=1e-3)
ex.same(distance[300] < 1e-3 * distance[0], True, "after 300 steps from (1, 1) the distance to (0, 0) is below "
        "1/1000 of the first")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(801)
for h in (0.1, 0.3, 1.7):
    step_agrees(game, rng.normal(size=(7, 2)), h, "the Dirac-GAN")
    step_agrees(dirac.DiracGAN("wgan"), rng.normal(size=(2, 3, 2)), h, "the WGAN's Dirac-GAN")
    step_agrees(dirac.DiracGAN(gamma=0.4), rng.normal(size=(5, 2)), h, "the Dirac-GAN with R1")
    A = rng.normal(size=(2, 2))
    step_agrees(lambda x, A=A: x @ A.T, rng.normal(size=(4, 2)), h, f"the linear field x -> A x, A = {A.tolist()}")
    matrix_agrees(A, h, f"J = {A.tolist()}")
    matrix_agrees(dirac.DiracGAN(noise=0.8).jacobian(), h, "the Dirac-GAN's J with instance noise")
### END HIDDEN TESTS
