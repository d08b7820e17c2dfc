# %% [markdown]
# # Lesson 1: automatic differentiation (自动微分), to any order
#
# A GAN trained with a gradient penalty differentiates a gradient. This lesson builds the idea
# from nothing, in a scalar engine of 35 lines, then shows how minigan does it on tensors: every
# op's backward pass is made of ops too, so a backward pass can itself be differentiated.
#
# Step through it with `minigan lesson 1`, or run it with `python lessons/01_autograd.py`.
# Every step prints what it shows and asserts it: if minigan ever stops doing what the text says,
# the lesson fails.

# %%
import math

import numpy as np

import minigan as mg
from minigan import lessons

opts = lessons.options("01_autograd", seed=0)
mg.manual_seed(opts.seed)  # the random inputs of step 4 and of the exercise's check

# %% [markdown]
# ## 0. Reverse-mode automatic differentiation in 35 lines
#
# Reverse mode (反向模式) records each operation as it computes, then walks the record backwards
# from the output, applying the chain rule: a node's gradient is the sum, over the nodes that used
# it, of *their* gradient times the local derivative of that use. Each op below stores its inputs
# and those local derivatives ($\partial(a + b)/\partial a = 1$, $\partial(ab)/\partial a = b$,
# $\tanh' = 1 - \tanh^2$, $\exp' = \exp$); `backward` visits the nodes in reverse topological order,
# so that a node's gradient is complete before it is passed on. This is micrograd's design
# (Karpathy), and the whole of the idea.

# %%
class Scalar:
    """A number that remembers how it was computed: its inputs and the local derivatives."""

    def __init__(self, value, inputs=(), local_grads=()):
        self.value, self.inputs, self.local_grads, self.grad = value, inputs, local_grads, 0.0

    def __add__(self, other):
        return Scalar(self.value + other.value, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        return Scalar(self.value * other.value, (self, other), (other.value, self.value))

    def tanh(self):
        t = math.tanh(self.value)
        return Scalar(t, (self,), (1 - t * t,))

    def exp(self):
        e = math.exp(self.value)
        return Scalar(e, (self,), (e,))

    def backward(self):
        order, seen = [], set()

        def visit(node):  # depth first: every node after all of its inputs
            if id(node) not in seen:
                seen.add(id(node))
                for child in node.inputs:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):  # the output first: each node's grad is complete when reached
            for child, local in zip(node.inputs, node.local_grads):
                child.grad += node.grad * local


# %% [markdown]
# The same expression, $f(a, b) = \tanh(a b + e^a) \cdot b$, in the 35-line engine and in
# minigan, whose `mg.grad` returns the gradients: they agree. `a` is used twice (in $ab$ and in
# $e^a$) and `b` twice: their gradients are sums over the uses, which is why `backward` adds with
# `+=`.

# %%
a, b = Scalar(0.5), Scalar(-1.5)
f = (a * b + a.exp()).tanh() * b
f.backward()

ta, tb = mg.tensor(0.5, dtype=mg.float64, requires_grad=True), mg.tensor(-1.5, dtype=mg.float64, requires_grad=True)
tf = mg.tanh(ta * tb + mg.exp(ta)) * tb
ga, gb = mg.grad(tf, (ta, tb))
print(f"scalar engine: f = {f.value:.6f}, df/da = {a.grad:.6f}, df/db = {b.grad:.6f}")
print(f"minigan      : f = {tf.item():.6f}, df/da = {ga.item():.6f}, df/db = {gb.item():.6f}")
assert np.allclose([f.value, a.grad, b.grad], [tf.item(), ga.item(), gb.item()], rtol=1e-12)

# %% [markdown]
# The scalar engine stops at first derivatives: its local derivatives are plain floats, so
# nothing records how *they* were computed. minigan's tensors differ in two ways. Each op works on
# whole arrays (a matrix multiply's local derivative is another matrix multiply), and each op's
# backward is written with the same differentiable ops as its forward, so the backward pass can
# be recorded as a graph too (step 3), the one thing the scalar engine cannot do.
#
# ## 1. A graph is recorded as you compute
#
# Each result of an op on a tensor that requires a gradient remembers the op that made it, its
# `grad_fn`: the last node of the graph. The node's `inputs` are the tensors the op was given,
# here `tanh(x)` and `x` itself.

# %%
x = mg.tensor([0.3, -1.2, 2.0], requires_grad=True)
y = mg.tanh(x) * x
print("y =", y)
print("y.grad_fn.inputs:", y.grad_fn.inputs)
assert type(y.grad_fn).__name__ == "Mul" and y.grad_fn.inputs[1] is x
assert type(y.grad_fn.inputs[0].grad_fn).__name__ == "Tanh" and y.grad_fn.inputs[0].grad_fn.inputs[0] is x

# %% [markdown]
# ## 2. `backward()` fills `.grad` of the leaves; `grad()` returns gradients instead
#
# Both give $\frac{d}{dx} x \tanh x = \tanh x + x (1 - \tanh^2 x)$. `mg.grad` returns the
# gradient and leaves `x.grad` as it was.

# %%
y.sum().backward()
print("dy/dx  (backward):", x.grad)
x_grad = x.grad.numpy().copy()
(g,) = mg.grad((mg.tanh(x) * x).sum(), x)
print("dy/dx  (grad)    :", g)
t = np.tanh(x.numpy())
print("by hand          :", t + x.numpy() * (1 - t**2))
assert np.allclose(g.numpy(), t + x.numpy() * (1 - t**2)) and np.allclose(x.grad.numpy(), g.numpy())
assert np.array_equal(x.grad.numpy(), x_grad)  # grad() left x.grad untouched

# %% [markdown]
# ## 3. `create_graph=True`: the gradient is a differentiable tensor
#
# With `create_graph=True` the backward pass records its own graph, so its result can be
# differentiated again: the second derivative of tanh is $-2 \tanh x \, (1 - \tanh^2 x)$.

# %%
(g,) = mg.grad(mg.tanh(x).sum(), x, create_graph=True)
(h,) = mg.grad(g.sum(), x)
print("d2/dx2 tanh  minigan    :", h.numpy())
print("             -2 t (1-t^2):", -2 * t * (1 - t**2))
assert np.allclose(h.numpy(), -2 * t * (1 - t**2))

# %% [markdown]
# ## 4. Check any derivative against finite differences, in float64
#
# `mg.gradcheck` compares the gradient backward computes with central differences,
# $(f(x + \epsilon) - f(x - \epsilon)) / 2\epsilon$ with $\epsilon = 10^{-6}$, and
# `mg.gradgradcheck` does the same for the backward pass itself. Both need float64 inputs. In
# float32, whose numbers near 0.3 are 3e-8 apart, $x \pm \epsilon$ and the two values of $f$ are
# each rounded by up to 1% of the $2 \cdot 10^{-6}$ between them, so the difference quotient is off
# by more than gradcheck's tolerance (0.1%) allows: rounding swamps the gradient. Below, the slope
# of tanh at 0.3 both ways, and what gradcheck says when given float32.

# %%
exact = 1 - np.tanh(0.3) ** 2
for dtype in (np.float32, np.float64):
    x0, eps = dtype(0.3), dtype(1e-6)
    estimate = (np.tanh(x0 + eps) - np.tanh(x0 - eps)) / (2 * eps)
    error = abs(estimate - exact) / exact
    print(f"{dtype.__name__}: central difference {estimate:.10f}, exact {exact:.10f}, relative error {error:.1e}")
    assert error > 1e-3 if dtype is np.float32 else error < 1e-8

a = mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
print("gradcheck    :", mg.gradcheck(lambda a: mg.softmax(a, 1), (a,)))
print("gradgradcheck:", mg.gradgradcheck(lambda a: mg.softmax(a, 1), (a,)))
try:
    mg.gradcheck(mg.tanh, (mg.randn(3, requires_grad=True),))  # float32, minigan's default
except mg.GradcheckError as refusal:
    print("given float32:", refusal)
else:
    raise AssertionError("gradcheck accepted float32 inputs")

# %% [markdown]
# ## 5. A Hessian-vector product without the Hessian
#
# For $f(w) = w_0^3 + w_1^3 + w_0 w_1$ the Hessian is $\begin{pmatrix} 6 w_0 & 1 \\ 1 & 6 w_1 \end{pmatrix}$.
# Differentiating $\nabla f \cdot v$ gives $H v$ at the cost of two backward passes, without ever
# forming $H$: the double backward a gradient penalty's training step runs.

# %%
w = mg.tensor([1.0, -2.0], dtype=mg.float64, requires_grad=True)
v = mg.tensor([0.5, 1.0], dtype=mg.float64)
f = (w**3).sum() + w[0] * w[1]
(gw,) = mg.grad(f, w, create_graph=True)
(hv,) = mg.grad((gw * v).sum(), w)
expected = np.array([[6.0, 1.0], [1.0, -12.0]]) @ v.numpy()
print("H v =", hv.numpy(), " expected", expected)
assert np.allclose(hv.numpy(), expected)

# %% [markdown]
# ## Exercises
#
# [`exercises/01_autograd.py`](../exercises/01_autograd.py) has five, each checked as you go:
# the backward pass of a scalar engine in micrograd's style (1.1), `sum_to`, the backward of
# broadcasting (1.2), matmul's backward (1.3), a backward pass made of differentiable ops, which
# `gradgradcheck` can tell from one made of NumPy (1.4), and the third derivative of $x^3$ (1.5).
# `minigan exercises list` lists them all; `minigan exercises check 1.1` grades one.
