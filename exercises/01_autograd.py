# %% [markdown]
# # Exercises 1: automatic differentiation
#
# After lesson 1 (`lessons/01_autograd.py`). Write the body of each function where it says
# `raise NotImplementedError`, run the cell below it, which checks your answer, and go on.
# `minigan exercises check 1.1` grades one exercise (with more cases than the cell shows);
# `minigan exercises check all` grades them all.

# %%
import numpy as np

import minigan as mg
from minigan import exercises as ex
from minigan.autograd import Function

# %% [markdown]
# ## Exercise 1.1: the backward pass of a scalar engine
#
# Lesson 1 stored each node's local derivatives. micrograd (Karpathy) stores, instead, a small
# function per node, `_backward`, that adds the node's gradient, times its local derivatives, to
# its inputs' `grad`. The ops below are written; write `backward`: set the output's gradient to
# 1, then call every node's `_backward` once, each node after every node that uses it (reverse
# topological order, 反向拓扑排序), so that a node's `grad` is complete before it is passed on.

# %% nbgrader={"grade": false, "grade_id": "exercise-1-1", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Value:
    """A scalar that remembers the inputs it was computed from, and how to pass a gradient to them."""

    def __init__(self, data, inputs=()):
        self.data, self.grad, self.inputs = float(data), 0.0, inputs
        self._backward = lambda: None

    def __add__(self, other):
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = np.tanh(self.data)
        out = Value(t, (self,))

        def _backward():
            self.grad += (1 - t * t) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        """Fill ``grad`` of every Value this one was computed from: d self / d node."""
        ### BEGIN SOLUTION
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for child in node.inputs:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-1-1-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def scalar_engine_agrees(a0: float, b0: float) -> None:
    """f(a, b) = tanh(a b + a) (a + b) * b, with a and b each used more than once, against minigan."""
    a, b = Value(a0), Value(b0)
    f = (a * b + a).tanh() * (a + b) * b
    f.backward()
    ta, tb = (mg.tensor(v, dtype=mg.float64, requires_grad=True) for v in (a0, b0))
    expected = mg.grad(mg.tanh(ta * tb + ta) * (ta + tb) * tb, (ta, tb))
    ex.same((a.grad, b.grad), expected, f"the gradient of tanh(ab + a)(a + b)b at a={a0}, b={b0}")


scalar_engine_agrees(0.5, -1.5)
### BEGIN HIDDEN TESTS
for a0, b0 in np.random.default_rng(101).normal(size=(20, 2)):
    scalar_engine_agrees(float(a0), float(b0))
x = Value(0.3)
y = x
for _ in range(30):  # a chain of 30 uses, each reusing the previous node twice
    y = y * y.tanh() + y
y.backward()
tx, ty = mg.tensor(0.3, dtype=mg.float64, requires_grad=True), None
ty = tx
for _ in range(30):
    ty = ty * mg.tanh(ty) + ty
ex.same(x.grad, mg.grad(ty, tx)[0], "the gradient of a chain of 30 ops that reuse their input")
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 1.2: `sum_to`, the backward of broadcasting
#
# When `a + b` broadcasts b of shape (3,) to (4, 3), each element of b is used 4 times, so its
# gradient is the sum of the output's gradient over the axis it was copied along. Write
# `sum_to(g, shape)` in NumPy: sum the array `g` down to `shape`, a shape that broadcasts to
# `g.shape` (broadcasting, 广播: it adds leading axes, and stretches axes of length 1). Sum over
# the leading axes `shape` lacks, and, keeping them, over the axes where `shape` has 1 and `g`
# has more.

# %% nbgrader={"grade": false, "grade_id": "exercise-1-2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """``g`` summed down to ``shape``, which broadcasts to ``g.shape``."""
    ### BEGIN SOLUTION
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-1-2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
def sum_to_agrees(g_shape: tuple, shape: tuple, rng: np.random.Generator) -> None:
    g = rng.normal(size=g_shape)
    ex.same(sum_to(g, shape), mg.sum_to(mg.tensor(g), shape), f"sum_to(g of shape {g_shape}, {shape})")


rng = np.random.default_rng(0)
for g_shape, shape in [((4, 3), (3,)), ((4, 3), (4, 1)), ((2, 4, 3), (1, 3)), ((5,), (5,))]:
    sum_to_agrees(g_shape, shape, rng)
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(102)
for _ in range(40):
    g_shape = tuple(int(n) for n in rng.integers(1, 5, size=rng.integers(1, 5)))
    kept = g_shape[rng.integers(0, len(g_shape) + 1):]  # drop some leading axes
    shape = tuple(1 if rng.random() < 0.4 else n for n in kept)  # and squeeze some of the rest to 1
    sum_to_agrees(g_shape, shape, rng)
sum_to_agrees((3, 1, 4), (1, 1), rng)  # an axis that is 1 on both sides stays
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 1.3: matmul's backward
#
# For $Y = A B$ with $A$ of shape (n, k) and $B$ (k, m), and the gradient $G = \partial L /
# \partial Y$ (n, m), the chain rule gives $\partial L / \partial A = G B^\top$ and
# $\partial L / \partial B = A^\top G$ (check the shapes: that is how to remember them). Write
# them with minigan's ops on Tensors (`@`, `.mT` for the transpose), not on NumPy arrays: then
# the backward pass is itself recorded when `create_graph=True`, and can be differentiated again.
# The check puts your function in a `Function` and runs `mg.gradcheck` and `mg.gradgradcheck`.

# %% nbgrader={"grade": false, "grade_id": "exercise-1-3", "locked": false, "schema_version": 3, "solution": true, "task": false}
def matmul_backward(a: mg.Tensor, b: mg.Tensor, g: mg.Tensor) -> tuple[mg.Tensor, mg.Tensor]:
    """(dL/dA, dL/dB) for Y = A @ B, given G = dL/dY; 2-D Tensors."""
    ### BEGIN SOLUTION
    return g @ b.mT, a.mT @ g
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-1-3-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
class StudentMatMul(Function):
    def forward(self, a, b):
        return a @ b

    def backward(self, g):
        return matmul_backward(*self.inputs, g)


def matmul_agrees(n: int, k: int, m: int, rng: np.random.Generator) -> None:
    a, b = (mg.tensor(rng.normal(size=s), requires_grad=True) for s in ((n, k), (k, m)))
    g = mg.tensor(rng.normal(size=(n, m)))
    what = f"matmul_backward for A {n}x{k}, B {k}x{m}"
    ex.same(matmul_backward(a, b, g), mg.grad(a @ b, (a, b), grad_outputs=g), what)
    assert mg.gradcheck(lambda a, b: StudentMatMul()(a, b), (a, b)), what
    assert mg.gradgradcheck(lambda a, b: StudentMatMul()(a, b), (a, b)), what + ", differentiated again"


matmul_agrees(2, 3, 4, np.random.default_rng(0))
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(103)
for n, k, m in rng.integers(1, 6, size=(8, 3)):
    matmul_agrees(int(n), int(k), int(m), rng)
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 1.4: a backward pass made of differentiable ops
#
# `Softplus` computes $\log(1 + e^x)$; its derivative is the sigmoid, $\sigma(x) = 1 / (1 + e^{-x})$.
# Write `softplus_backward(x, g)`, the gradient $g\,\sigma(x)$, with minigan's ops (`mg.sigmoid`,
# `*`) on the Tensors it is given. Computed with NumPy on `x.numpy()` it would give the right
# first derivative and pass `gradcheck`, but the graph would stop there: `gradgradcheck`, which
# differentiates the backward pass, fails. That is what a gradient penalty needs of every op.

# %% nbgrader={"grade": false, "grade_id": "exercise-1-4", "locked": false, "schema_version": 3, "solution": true, "task": false}
def softplus_backward(x: mg.Tensor, g: mg.Tensor) -> mg.Tensor:
    """The gradient of softplus at x, times the output's gradient g, as a differentiable Tensor."""
    ### BEGIN SOLUTION
    return g * mg.sigmoid(x)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-1-4-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
class StudentSoftplus(Function):
    def forward(self, x):
        return np.logaddexp(0, x)

    def backward(self, g):
        return softplus_backward(self.inputs[0], g)


def softplus_agrees(x: np.ndarray) -> None:
    t = mg.tensor(x, requires_grad=True)
    what = f"softplus_backward at x of shape {x.shape}"
    assert mg.gradcheck(lambda t: StudentSoftplus()(t), (t,)), what
    assert mg.gradgradcheck(lambda t: StudentSoftplus()(t), (t,)), what + ", differentiated again"
    (second,) = mg.grad(mg.grad(StudentSoftplus()(t).sum(), t, create_graph=True)[0].sum(), t)
    s = 1 / (1 + np.exp(-x))
    ex.same(second, s * (1 - s), "the second derivative of softplus")


softplus_agrees(np.array([-2.0, 0.0, 1.5]))
### BEGIN HIDDEN TESTS
softplus_agrees(np.random.default_rng(104).normal(scale=3, size=(4, 5)))
### END HIDDEN TESTS

# %% [markdown]
# ## Exercise 1.5: the third derivative of $x^3$
#
# Write `third_derivative(f, x)`: $\frac{d^3}{dx^3}$ of `f(x).sum()`, elementwise, for a function
# `f` applied elementwise. Take `mg.grad` three times, with `create_graph=True` the first two
# times so that each gradient can be differentiated again. For $f(x) = x^3$ it is 6 everywhere.

# %% nbgrader={"grade": false, "grade_id": "exercise-1-5", "locked": false, "schema_version": 3, "solution": true, "task": false}
def third_derivative(f, x: mg.Tensor) -> mg.Tensor:
    """The third derivative of the elementwise function f at x (a Tensor that requires grad)."""
    ### BEGIN SOLUTION
    (first,) = mg.grad(f(x).sum(), x, create_graph=True)
    (second,) = mg.grad(first.sum(), x, create_graph=True)
    (third,) = mg.grad(second.sum(), x)
    return third
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "exercise-1-5-check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
x = mg.tensor([0.5, -1.0, 2.0], dtype=mg.float64, requires_grad=True)
ex.same(third_derivative(lambda x: x * x * x, x), [6.0, 6.0, 6.0], "the third derivative of x^3")
### BEGIN HIDDEN TESTS
x = mg.tensor(np.random.default_rng(105).normal(size=6), requires_grad=True)
ex.same(third_derivative(mg.tanh, x), -2 * (1 - np.tanh(x.numpy()) ** 2) * (1 - 3 * np.tanh(x.numpy()) ** 2),
        "the third derivative of tanh")
ex.same(third_derivative(lambda x: x**4, x), 24 * x.numpy(), "the third derivative of x^4")
### END HIDDEN TESTS
