# %% [markdown]
# # Exercises 2: convolution and transposed convolution
#
# After lesson 2 (`lessons/02_convolution.py`). Write the body of each function where it says
# `raise NotImplementedError`, run the cell below it, which checks your answer, and go on.
# `minigan exercises check 2.1` grades one exercise (with more cases than the cell shows).

# %%
import numpy as np

import minigan as mg
from minigan import exercises as ex
from minigan.nn import functional as F

# %% [markdown]
# ## Exercise 2.1: im2col
#
# Write `im2col(x, k, stride, padding)` for a NumPy array `x` of shape (N, C, H, W): zero-pad H
# and W by `padding` on each side, then return one row per k x k window (N, then the window's
# row p, then its column q, in that order: row $n H_o W_o + p W_o + q$), each row the window's
# $C k^2$ values in (c, i, j) order, channel slowest. Then
# `im2col(x, k, s, p) @ w.reshape(C_out, -1).T` is the convolution's output, one row per output
# pixel, for a kernel `w` of shape (C_out, C, k, k). No Python loop over pixels: loop over the
# $k^2$ kernel offsets (i, j) at most, and slice with a step of `stride`.
# ($H_o = \lfloor (H + 2\,\text{padding} - k) / \text{stride} \rfloor + 1$, lesson 2 step 1.)

# %% nbgrader={"grade": false, "grade_id": "exercise-2-1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def im2col(x: np.ndarray, k: int, stride: int, padding: int) -> np.ndarray:
    """The (N * Ho * Wo, C * k * k) matrix of x's k x k windows, one row per window."""
    ### BEGIN SOLUTION
    n, c, h, w = x.shape
    ho, wo = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((n, c, k, k, ho, wo), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = padded[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * ho * wo, c * k * k)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-2-1-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def im2col_agrees(shape: tuple, c_out: int, k: int, stride: int, padding: int, rng: np.random.Generator) -> None:
    x, w = rng.normal(size=shape), rng.normal(size=(c_out, shape[1], k, k))
    y = F.conv2d(mg.tensor(x), mg.tensor(w), stride=stride, padding=padding).numpy()  # (N, C_out, Ho, Wo)
    what = f"im2col(x of shape {shape}, k={k}, stride={stride}, padding={padding})"
    cols = im2col(x, k, stride, padding)
    ex.same(np.shape(cols), (y.shape[0] * y.shape[2] * y.shape[3], shape[1] * k * k), what + "'s shape")
    ex.same(cols @ w.reshape(c_out, -1).T, y.transpose(0, 2, 3, 1).reshape(-1, c_out), what + " @ W^T")


im2col_agrees((1, 1, 5, 5), 1, 3, 1, 0, np.random.default_rng(0))
im2col_agrees((2, 3, 7, 6), 4, 3, 2, 1, np.random.default_rng(1))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(201)
for _ in range(12):
    k, stride, padding = int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
    h, w = (int(v) for v in rng.integers(k, k + 6, size=2))
    im2col_agrees((int(rng.integers(1, 3)), int(rng.integers(1, 4)), h, w), int(rng.integers(1, 4)), k, stride,
                  padding, rng)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 2.2: conv2d's input gradient is a transposed convolution
#
# Write `conv2d_input_grad(g, w, stride, padding, input_size)`: the gradient of a loss with
# respect to conv2d's input x, given the gradient `g` = dL/dy of its output y (Tensors), the
# kernel `w` (C_out, C_in, kH, kW), and x's (H, W). It is `F.conv_transpose2d` of g with the same kernel, stride and
# padding (lesson 2, step 4). The one thing to work out is `output_padding`: conv2d's floor maps
# several input sizes onto one output size, and the transposed convolution must give back the
# right one.

# %% nbgrader={"grade": false, "grade_id": "exercise-2-2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv2d_input_grad(g: mg.Tensor, w: mg.Tensor, stride: int, padding: int, input_size: tuple) -> mg.Tensor:
    """dL/dx for y = conv2d(x, w, stride, padding), given g = dL/dy and x's (H, W)."""
    ### BEGIN SOLUTION
    extra = tuple((n + 2 * padding - k) % stride for n, k in zip(input_size, w.shape[2:]))
    return F.conv_transpose2d(g, w, stride=stride, padding=padding, output_padding=extra)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-2-2-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def input_grad_agrees(shape: tuple, c_out: int, k: int | tuple, stride: int, padding: int,
                      rng: np.random.Generator) -> None:
    kernel = (k, k) if isinstance(k, int) else k
    x = mg.tensor(rng.normal(size=shape), requires_grad=True)
    w = mg.tensor(rng.normal(size=(c_out, shape[1], *kernel)), requires_grad=True)
    y = F.conv2d(x, w, stride=stride, padding=padding)
    g = mg.tensor(rng.normal(size=y.shape), requires_grad=True)
    what = f"conv2d_input_grad for x of shape {shape}, k={k}, stride={stride}, padding={padding}"
    mine = conv2d_input_grad(g, w, stride, padding, shape[2:])
    ex.same(mine, mg.grad(y, x, grad_outputs=g)[0], what)
    # and it is differentiable in g and w, as a gradient penalty needs
    assert mg.gradcheck(lambda g, w: conv2d_input_grad(g, w, stride, padding, shape[2:]), (g, w)), what


input_grad_agrees((1, 2, 5, 5), 3, 3, 1, 1, np.random.default_rng(0))
input_grad_agrees((2, 3, 7, 6), 4, 3, 2, 1, np.random.default_rng(1))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(202)
for _ in range(10):
    k, stride, padding = int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
    h, w = (int(v) for v in rng.integers(k + 1, k + 7, size=2))
    input_grad_agrees((1, int(rng.integers(1, 3)), h, w), int(rng.integers(1, 3)), k, stride, padding, rng)
input_grad_agrees((1, 2, 7, 8), 3, (2, 3), 3, 1, rng)  # a kernel that is not square
### END HIDDEN TESTS
