"""Lesson 1: automatic differentiation (自动微分), to any order.

Run it: python lessons/01_autograd.py   (each step prints what it shows; read the code beside it)

A GAN trained with a gradient penalty differentiates a gradient. This lesson shows how minigan
does that: every op's backward pass is made of ops too, so a backward pass can itself be
differentiated.
"""
import numpy as np

import minigan as mg


def step(title):
    print(f"\n=== {title}")


step("1. A graph is recorded as you compute")
x = mg.tensor([0.3, -1.2, 2.0], requires_grad=True)
y = mg.tanh(x) * x
print("y =", y)  # grad_fn names the op that made y: the last node of the graph
print("y.grad_fn.inputs:", y.grad_fn.inputs)

step("2. backward() fills .grad of the leaves; grad() returns gradients instead")
y.sum().backward()
print("dy/dx  (backward):", x.grad)
(g,) = mg.grad((mg.tanh(x) * x).sum(), x)
print("dy/dx  (grad)    :", g, "  x.grad is untouched by grad()")

step("3. create_graph=True: the gradient is a differentiable tensor")
(g,) = mg.grad(mg.tanh(x).sum(), x, create_graph=True)
(h,) = mg.grad(g.sum(), x)
t = np.tanh(x.numpy())
print("d2/dx2 tanh  minigan    :", h.numpy())
print("             -2 t (1-t^2):", -2 * t * (1 - t**2))

step("4. Check any derivative against finite differences")
a = mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
print("gradcheck    :", mg.gradcheck(lambda a: mg.softmax(a, 1), (a,)))
print("gradgradcheck:", mg.gradgradcheck(lambda a: mg.softmax(a, 1), (a,)))

step("5. A Hessian-vector product without the Hessian")
w = mg.tensor([1.0, -2.0], dtype=mg.float64, requires_grad=True)
v = mg.tensor([0.5, 1.0], dtype=mg.float64)
f = (w ** 3).sum() + w[0] * w[1]  # Hessian [[6 w0, 1], [1, 6 w1]]
(gw,) = mg.grad(f, w, create_graph=True)
(hv,) = mg.grad((gw * v).sum(), w)
print("H v =", hv.numpy(), " expected", np.array([[6.0, 1.0], [1.0, -12.0]]) @ v.numpy())

# Exercise: write `def cube(x): return x * x * x` and check with gradgradcheck that its third
# derivative is 6 everywhere (take mg.grad three times with create_graph=True).
