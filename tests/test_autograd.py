"""The autograd engine: higher-order derivatives, torch.autograd.grad semantics, graph handling."""
import numpy as np
import pytest

import minigan as mg
from minigan.autograd import Function
from minigan.tensor import Tensor


def test_second_and_third_derivative_of_tanh():
    x = mg.tensor([0.3, -1.2, 2.0], requires_grad=True)
    (g,) = mg.grad(mg.tanh(x).sum(), x, create_graph=True)
    (h,) = mg.grad(g.sum(), x, create_graph=True)
    (h3,) = mg.grad(h.sum(), x)
    t = np.tanh(np.array([0.3, -1.2, 2.0]))
    np.testing.assert_allclose(g.numpy(), 1 - t**2, atol=1e-6)
    np.testing.assert_allclose(h.numpy(), -2 * t * (1 - t**2), atol=1e-6)
    np.testing.assert_allclose(h3.numpy(), -2 * (1 - t**2) ** 2 + 4 * t**2 * (1 - t**2), atol=1e-6)


def test_fourth_derivative_of_a_polynomial():
    x = mg.tensor(1.5, dtype=mg.float64, requires_grad=True)
    y = x**5 - 2 * x**3
    derivatives = []
    for _ in range(4):
        (y,) = mg.grad(y, x, create_graph=True)
        derivatives.append(y.item())
    np.testing.assert_allclose(derivatives, [5 * 1.5**4 - 6 * 1.5**2, 20 * 1.5**3 - 12 * 1.5,
                                             60 * 1.5**2 - 12, 120 * 1.5])


def test_a_50000_op_chain_backpropagates_without_recursion():
    x = mg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(50_000):
        y = y * 1.0 + 0.0
    y.sum().backward(retain_graph=True)
    assert x.grad.tolist() == [1.0]
    del y  # dropping a long retained graph must not overflow the stack either


@pytest.mark.parametrize("scalar", [0.5, np.float64(0.5), np.float32(0.5), 2, np.int64(2)])
def test_python_and_numpy_scalars_keep_float32(scalar):
    x = mg.ones(3)
    for y in (x * scalar, scalar * x, x + scalar, scalar - x, x / scalar, scalar / x, x**scalar, mg.maximum(x, scalar)):
        assert y.dtype == np.float32
    assert (mg.ones(3) * np.float64(2.0)).dtype == np.float32


def test_integer_tensor_times_a_float_is_float32():
    assert (mg.arange(3) * 0.5).dtype == np.float32
    assert (mg.arange(3) * 2).dtype == np.int64


def test_division_of_integers_is_float32_and_casts_to_int_leave_the_graph():
    i = mg.arange(4)
    for y in (i / 2, mg.exp(i), mg.sqrt(i), mg.tanh(i), mg.softmax(i, 0), i.mean()):
        assert y.dtype == np.float32  # math on integers is float32, as in PyTorch
    x = mg.tensor([1.5, 2.5], requires_grad=True)
    i = x.to(mg.int64)
    assert i.dtype == np.int64 and not i.requires_grad


@pytest.mark.parametrize("op", [lambda x: mg.clamp(x, np.float64(-0.5), np.float64(0.5)),
                                lambda x: mg.leaky_relu(x, np.float64(0.2)),
                                lambda x: mg.softplus(x, beta=np.float64(2.0))])
def test_numpy_float64_hyperparameters_keep_float32(op):
    assert op(mg.randn(3)).dtype == np.float32


def test_leaf_gradients_are_writable_arrays_of_their_own():
    a, b = mg.randn(3, requires_grad=True), mg.randn(3, requires_grad=True)
    (a + b).sum().backward()
    assert a.grad is not b.grad and a.grad.data.flags.writeable
    a.grad.data[...] = 0
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_std_of_equal_values_has_a_zero_gradient_as_in_pytorch():
    x = mg.tensor([2.0, 2.0, 2.0], requires_grad=True)
    (g,) = mg.grad(x.std(), x)
    assert g.tolist() == [0.0, 0.0, 0.0]


def test_gradients_reduce_to_each_inputs_broadcast_shape():
    a = mg.randn(3, 1, requires_grad=True)
    b = mg.randn(4, requires_grad=True)
    (a * b + a - b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)


def test_grad_leaves_dot_grad_alone_and_backward_accumulates():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = mg.grad((x * x).sum(), x)
    assert g.tolist() == [2.0, 4.0] and x.grad is None
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]


def test_grad_of_an_intermediate_tensor_and_grad_outputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = h * h
    gh, gx = mg.grad(y, (h, x), grad_outputs=mg.tensor([1.0, 0.5]))
    assert gh.tolist() == [6.0, 6.0] and gx.tolist() == [18.0, 18.0]


def test_grad_unused_input_needs_allow_unused():
    x, z = mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        mg.grad((x * 2).sum(), (x, z))
    assert mg.grad((x * 2).sum(), (x, z), allow_unused=True)[1] is None


def test_errors_say_what_is_wrong():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="single-element"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.grad(mg.tensor([1.0]).sum(), x)
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.grad((x * 2).sum(), mg.tensor([1.0]))
    with pytest.raises(ValueError, match=r"shape \(3,\), expected \(2,\)"):
        (x * 2).backward(mg.ones(3))
    with pytest.raises(RuntimeError, match="floating-point"):
        mg.tensor([1, 2], requires_grad=True)


def test_the_graph_is_freed_after_backward_unless_retained():
    x = mg.tensor([1.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == pytest.approx([4 * np.e])
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_a_freed_part_of_the_graph_that_is_not_needed_does_not_stop_a_later_grad():
    """As in a GAN step: G's branch is freed by G's update; D's gradient only walks past it."""
    g, d = mg.randn(3, requires_grad=True), mg.randn(3, requires_grad=True)
    fake = g * 2
    mg.grad((fake * d).sum(), [g])
    (gd,) = mg.grad((fake * d).sum(), [d])
    assert gd.tolist() == pytest.approx((2 * g.numpy()).tolist())
    with pytest.raises(RuntimeError, match="second time"):
        mg.grad((fake * d).sum(), [g])


def test_no_grad_records_nothing_and_detach_cuts_the_graph():
    x = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    z = x.detach() * 2
    assert not z.requires_grad

    @mg.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad and mg.is_grad_enabled()


class Spy(Function):
    """The identity, noting each call of its backward in ``calls``."""

    def __init__(self, calls):
        self.calls = calls

    def forward(self, a):
        return a * 1

    def backward(self, gy):
        self.calls.append(1)
        return gy


def test_only_needed_backwards_run():
    """grad() prunes: a branch that cannot reach the inputs is never differentiated."""
    calls = []
    w = mg.tensor([1.0], requires_grad=True)
    x = mg.tensor([2.0], requires_grad=True)
    y = (Spy(calls)(w) * x).sum()
    mg.grad(y, x, retain_graph=True)
    assert calls == []
    mg.grad(y, w)
    assert calls == [1]


def test_a_zero_derivative_sends_zeros_and_skips_the_backwards_behind_it():
    """sign is flat: what lies behind it was used and gets zeros (not None), and the functions
    behind it are not run just to multiply zeros."""
    calls = []
    w = mg.tensor([1.5, -2.0], requires_grad=True)
    (g,) = mg.grad((mg.sign(Spy(calls)(w)) * 3).sum(), w)
    assert g.tolist() == [0.0, 0.0] and calls == []
    mg.sign(w).sum().backward()
    assert w.grad.tolist() == [0.0, 0.0]


def test_the_second_derivative_of_relu_is_zeros_but_a_clamped_input_is_unused():
    """As PyTorch: relu's derivative reads its mask through an op (zeros), clamp's through a
    comparison (the input behind the mask was not used)."""
    x, shift = mg.tensor([1.0, -2.0], requires_grad=True), mg.tensor([0.5, 0.5], requires_grad=True)
    (g,) = mg.grad(mg.relu(x * 2 + shift).sum(), x, create_graph=True)
    assert mg.grad(g.sum(), shift)[0].tolist() == [0.0, 0.0]
    (g,) = mg.grad(mg.clamp(x * x + shift, -1.0, 1.0).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="not used"):
        mg.grad(g.sum(), shift)


def test_pow_at_zero_is_flat_where_the_function_is():
    """d/dx x^0 = 0 at x = 0 (not 0 * inf); d/dy 0^y = 0 for y >= 0 (not 0 * log 0)."""
    x = mg.tensor([0.0, 2.0], requires_grad=True)
    assert mg.grad((x**0).sum(), x)[0].tolist() == [0.0, 0.0]
    y = mg.tensor([0.0, 1.0], requires_grad=True)
    gx, gy = mg.grad((x**y).sum(), (x, y))
    assert gx.tolist() == [0.0, 1.0] and gy.tolist() == pytest.approx([0.0, 2 * np.log(2)])


class NotDifferentiableTanh(Function):
    """A backward written with raw arrays: right first derivative, no graph for the second."""

    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy):
        return Tensor(gy.data * (1 - self.output.data ** 2))


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    x = mg.tensor(np.array([0.3, -0.7]), requires_grad=True)
    assert mg.gradcheck(lambda t: NotDifferentiableTanh()(t), (x,))
    with pytest.raises(mg.GradcheckError, match="second order"):
        mg.gradgradcheck(lambda t: NotDifferentiableTanh()(t), (x,))


def test_gradcheck_names_the_input_and_the_element():
    class WrongSquare(Function):
        def forward(self, x):
            return x * x

        def backward(self, gy):
            return gy * self.inputs[0] * 3  # should be 2

    a = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(mg.GradcheckError, match=r"input 1 \(shape \(2,\)\) at element \(1,\).*analytic 6.*numeric 4"):
        mg.gradcheck(lambda a, b: a + WrongSquare()(b), (a, b))


def test_gradcheck_still_checks_when_an_output_is_infinite():
    class WrongWithInf(Function):
        def forward(self, x):
            return np.concatenate([2 * x, [-np.inf]])

        def backward(self, gy):
            return gy[:-1] * 3  # should be 2

    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(lambda t: WrongWithInf()(t), (x,))


def mlp(params, x):
    w1, b1, w2, b2 = params
    return (mg.tanh(x @ w1 + b1) @ w2 + b2).sum()


def test_hessian_vector_product_of_a_small_mlp_matches_finite_differences():
    rng = np.random.default_rng(0)
    shapes = [(3, 5), (5,), (5, 2), (2,)]
    params = [mg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    x = mg.tensor(rng.standard_normal((4, 3)))
    vs = [rng.standard_normal(s) for s in shapes]
    grads = mg.grad(mlp(params, x), params, create_graph=True)
    gv = sum((g * mg.tensor(v)).sum() for g, v in zip(grads, vs))
    hvp = mg.grad(gv, params, allow_unused=True)  # the output bias enters linearly: no second derivative

    def gradient_at(t):
        moved = [mg.tensor(p.numpy() + t * v, requires_grad=True) for p, v in zip(params, vs)]
        return [g.numpy() for g in mg.grad(mlp(moved, x), moved)]

    eps = 1e-5
    for h, gp, gm in zip(hvp, gradient_at(eps), gradient_at(-eps)):
        np.testing.assert_allclose(0 if h is None else h.numpy(), (gp - gm) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_hessian_vector_product_against_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    shapes = [(3, 5), (5,), (5, 2), (2,)]
    values = [rng.standard_normal(s) for s in shapes]
    vs = [rng.standard_normal(s) for s in shapes]
    x = rng.standard_normal((4, 3))
    params = [mg.tensor(v, requires_grad=True) for v in values]
    grads = mg.grad(mlp(params, mg.tensor(x)), params, create_graph=True)
    hvp = mg.grad(sum((g * mg.tensor(v)).sum() for g, v in zip(grads, vs)), params, allow_unused=True)
    tparams = [torch.tensor(v, requires_grad=True) for v in values]
    w1, b1, w2, b2 = tparams
    tgrads = torch.autograd.grad((torch.tanh(torch.tensor(x) @ w1 + b1) @ w2 + b2).sum(), tparams, create_graph=True)
    thvp = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(tgrads, vs)), tparams, allow_unused=True)
    for h, t in zip(hvp, thvp):
        assert (h is None) == (t is None)
        if h is not None:
            np.testing.assert_allclose(h.numpy(), t.numpy(), rtol=1e-10, atol=1e-12)


def test_a_zero_gradient_stays_zero_behind_an_infinite_derivative():
    """The one place minigan differs from PyTorch on purpose: d sign(sqrt(x))/dx at x = 0 is the
    exact 0 here, where PyTorch multiplies its zero by sqrt'(0) = inf and answers NaN."""
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    (g,) = mg.grad(mg.sign(mg.sqrt(x)).sum(), x)
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])
