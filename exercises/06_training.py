# %% [markdown]
# # Exercises 6: the optimizer and the finishing recipe
#
# After lesson 6 (`lessons/06_mode_collapse.py`), whose best row finishes training with a
# decaying learning rate and an exponential moving average (EMA) of G's weights. Write the body of
# each function where it says `raise NotImplementedError`, run the cell below it, which checks
# your answer, and go on. `minigan exercises check 6.1` grades one exercise (with more cases than
# the cell shows).

# %%
import numpy as np

import minigan as mg
from minigan import exercises as ex
from minigan import nn, optim

# %% [markdown]
# ## Exercise 6.1: one Adam step
#
# Adam (Kingma & Ba, 2015) keeps two running averages per weight, of the gradient $g$ and of its
# square, and divides one by the square root of the other, so that every weight moves by about
# the learning rate $\gamma$ whatever its gradient's scale. At step $t = 1, 2, \dots$:
#
# $$m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2,$$
# $$\theta_t = \theta_{t-1} - \gamma\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}, \qquad
#   \hat m_t = \frac{m_t}{1 - \beta_1^t}, \ \hat v_t = \frac{v_t}{1 - \beta_2^t},$$
#
# with $m_0 = v_0 = 0$; the division by $1 - \beta^t$ undoes the pull towards 0 of averages that
# start at 0. Write the step on NumPy arrays, returning the new $(\theta, m, v)$.

# %% nbgrader={"grade": false, "grade_id": "exercise-6-1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def adam_step(theta: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, lr: float = 1e-3,
              betas: tuple = (0.9, 0.999), eps: float = 1e-8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adam's step t (counting from 1): the new weights theta and averages m and v."""
    ### BEGIN SOLUTION
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-6-1-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def adam_agrees(shape: tuple, steps: int, lr: float, betas: tuple, rng: np.random.Generator) -> None:
    """Your steps against minigan's optim.Adam (PyTorch's rule), on the same gradients."""
    theta = rng.normal(size=shape)
    weight = mg.tensor(theta.copy(), requires_grad=True)
    reference = optim.Adam([weight], lr=lr, betas=betas)
    m, v = np.zeros(shape), np.zeros(shape)
    for t in range(1, steps + 1):
        g = rng.normal(scale=10.0 ** rng.uniform(-3, 2), size=shape)
        theta, m, v = adam_step(theta, g, m, v, t, lr, betas)
        weight.grad = mg.tensor(g)
        reference.step()
        ex.same(theta, weight.numpy(), f"the weights after Adam step {t} (lr {lr}, betas {betas})")


adam_agrees((3,), 3, 1e-3, (0.9, 0.999), np.random.default_rng(0))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(601)
adam_agrees((4, 5), 50, 1e-2, (0.5, 0.999), rng)
adam_agrees((7,), 20, 2e-4, (0.0, 0.9), rng)
adam_agrees((2, 3), 30, 1e-1, (0.9, 0.99), rng)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 6.2: an exponential moving average of the weights
#
# The EMA (指数移动平均) keeps a copy $\bar\theta$ of G's weights that follows them slowly,
# $\bar\theta_t = \beta_t \bar\theta_{t-1} + (1 - \beta_t)\,\theta_t$ after the t-th update
# ($t = 1, 2, \dots$), and samples with the copy: it averages away the last steps' jitter. A
# plain $\beta_t = 0.999$ would still give the random initial weights a weight of 37% after 1,000
# steps, so, as TensorFlow's `ExponentialMovingAverage` does, $\beta_t = \min(\beta, \frac{1 + t}{10 + t})$:
# fast forgetting at first. Write the update of one array of weights, returning the new average.

# %% nbgrader={"grade": false, "grade_id": "exercise-6-2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ema_update(average: np.ndarray, theta: np.ndarray, t: int, decay: float = 0.999) -> np.ndarray:
    """The moving average after its t-th update (t from 1) with the current weights theta."""
    ### BEGIN SOLUTION
    beta = min(decay, (1 + t) / (10 + t))
    return beta * average + (1 - beta) * theta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-6-2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
def ema_agrees(steps: int, decay: float, rng: np.random.Generator) -> None:
    """Your average against minigan's optim.EMA, over a layer whose weights take random walks."""
    layer = nn.Linear(3, 2).to(mg.float64)
    ema = optim.EMA(layer, decay=decay)
    averages = [p.numpy().copy() for p in layer.parameters()]
    for t in range(1, steps + 1):
        with mg.no_grad():
            for p in layer.parameters():
                p.data += rng.normal(size=p.shape)
        ema.update(layer)
        averages = [ema_update(a, p.numpy(), t, decay) for a, p in zip(averages, layer.parameters())]
        ex.same(tuple(averages), tuple(ema.module.parameters()), f"the average after update {t} (decay {decay})")


ema_agrees(3, 0.999, np.random.default_rng(0))
### BEGIN HIDDEN TESTS
ema_agrees(60, 0.9, np.random.default_rng(602))
ema_agrees(30, 0.5, np.random.default_rng(603))
### END HIDDEN TESTS
