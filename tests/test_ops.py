"""Every op in the registry (op_registry.py): first and second derivatives against finite
differences, values and gradients over random shapes, dtype preservation, and PyTorch as oracle."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_registry import OPS

import minigan as mg

DIFFERENTIABLE = [s for s in OPS if s.differentiable]


def ids(specs):
    return [s.name for s in specs]


def as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def test_every_exported_op_is_in_the_registry():
    missing = set(mg.ops.__all__) - {s.op for s in OPS}
    assert not missing, f"ops without a registry entry (add them to tests/op_registry.py): {sorted(missing)}"


@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=ids(DIFFERENTIABLE))
def test_gradcheck(spec):
    inputs = spec.inputs(np.random.default_rng(0))
    assert mg.gradcheck(spec, inputs, name=spec.name, **spec.gradcheck_kwargs)


@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=ids(DIFFERENTIABLE))
def test_gradgradcheck(spec):
    inputs = spec.inputs(np.random.default_rng(1))
    assert mg.gradgradcheck(spec, inputs, name=spec.name, **spec.gradcheck_kwargs)


@pytest.mark.parametrize("spec", OPS, ids=ids(OPS))
def test_float32_stays_float32(spec):
    xs = spec.inputs(np.random.default_rng(2), dtype=np.float32)
    outs = as_tuple(spec(*xs))
    for out in outs:
        assert out.dtype == (np.int64 if spec.op in ("argmax", "argmin") else np.float32), spec.name
    if spec.differentiable:
        gys = [mg.ones_like(o) * 0.5 for o in outs]
        for g in mg.grad(outs, xs, gys, allow_unused=True):
            assert g is None or g.dtype == np.float32, spec.name


@pytest.mark.parametrize("spec", [s for s in OPS if s.draw], ids=ids([s for s in OPS if s.draw]))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
@pytest.mark.filterwarnings("ignore:.*(divide|invalid value):RuntimeWarning")  # var/std of one element: nan, as NumPy
def test_random_shapes(spec, data):
    """Values match NumPy; each gradient has its input's shape and agrees with a directional
    finite difference, over shapes with broadcasting and size-0 and size-1 sides."""
    shapes, params = spec.draw(data)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    xs = spec.inputs(rng, shapes=shapes)
    outs = as_tuple(spec(*xs, params=params))
    refs = as_tuple(spec.ref(*[x.numpy() for x in xs], **params))
    assert len(outs) == len(refs)
    for out, ref in zip(outs, refs):
        assert out.shape == np.shape(ref), (spec.name, shapes, params)
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)
    if not spec.differentiable or not all(np.all(np.isfinite(o.numpy())) for o in outs):
        return  # (the variance of one sample is nan, as in NumPy and PyTorch)
    gys = [mg.tensor(rng.standard_normal(o.shape)) for o in outs]
    grads = mg.grad(outs, xs, gys, allow_unused=True)
    vs = [rng.standard_normal(x.shape) for x in xs]
    predicted = 0.0
    for x, g, v in zip(xs, grads, vs):
        if g is not None:
            assert g.shape == x.shape and g.dtype == x.dtype, (spec.name, shapes, params)
            predicted += float(np.sum(g.numpy() * v))
    h = 1e-6

    def at(t):
        moved = [mg.tensor(x.numpy() + t * v) for x, v in zip(xs, vs)]
        return sum(float(np.sum(o.numpy() * gy.numpy())) for o, gy in zip(as_tuple(spec(*moved, params=params)), gys))

    measured = (at(h) - at(-h)) / (2 * h)
    assert abs(predicted - measured) <= 1e-5 + 1e-4 * abs(measured), (spec.name, shapes, params, predicted, measured)


def test_argmax_and_argmin_are_outside_the_graph():
    x = mg.tensor([[1.0, 3.0, 2.0]], requires_grad=True)
    for idx in (mg.argmax(x, 1), mg.argmin(x), x.max(1).indices):
        assert idx.dtype == np.int64 and not idx.requires_grad
    assert mg.argmax(x, 1).tolist() == [1] and mg.argmin(x).item() == 0


def test_max_with_dim_sends_the_gradient_to_the_returned_index_and_amax_splits_ties():
    x = mg.tensor([[2.0, 5.0, 5.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    (g,) = mg.grad(values.sum(), x)
    assert indices.tolist() == [1] and g.tolist() == [[0.0, 1.0, 0.0]]
    (g,) = mg.grad(x.amax(), x)
    assert g.tolist() == [[0.0, 0.5, 0.5]]


def test_maximum_splits_a_tie_and_abs_has_zero_slope_at_zero():
    a, b = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([1.0, 0.0], requires_grad=True)
    ga, gb = mg.grad(mg.maximum(a, b).sum(), (a, b))
    assert ga.tolist() == [0.5, 1.0] and gb.tolist() == [0.5, 0.0]
    z = mg.tensor([0.0], requires_grad=True)
    assert mg.grad(mg.abs(z).sum(), z)[0].tolist() == [0.0]
    assert mg.grad(mg.relu(z).sum(), z)[0].tolist() == [0.0]


STABLE = {
    "sigmoid": (mg.sigmoid, lambda x: np.array([0.0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-1)), 1.0])),
    "tanh": (mg.tanh, np.tanh),
    "softplus": (mg.softplus,
                 lambda x: np.array([0.0, np.log1p(np.exp(-1)), np.log(2), 1 + np.log1p(np.exp(-1)), 1e4])),
    "logsigmoid": (mg.logsigmoid,
                   lambda x: np.array([-1e4, -1 - np.log1p(np.exp(-1)), -np.log(2), -np.log1p(np.exp(-1)), 0.0])),
    "softmax": (lambda x: mg.softmax(x, 0), lambda x: np.array([0.0, 0.0, 0.0, 0.0, 1.0])),
    "log_softmax": (lambda x: mg.log_softmax(x, 0), lambda x: x - 1e4),
    "relu": (mg.relu, lambda x: np.maximum(x, 0)),
    "leaky_relu": (lambda x: mg.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(STABLE))
def test_activations_are_exact_and_quiet_at_plus_minus_1e4(name, dtype):
    fn, exact = STABLE[name]
    x64 = np.array([-1e4, -1.0, 0.0, 1.0, 1e4])
    x = mg.tensor(x64.astype(dtype), requires_grad=True)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = fn(x)
        (g,) = mg.grad(y.sum(), x, create_graph=True)
        derivatives = [y, g, mg.grad(g.sum(), x)[0]]  # relu'' too: a zero tensor, as in PyTorch
    assert y.dtype == dtype
    for t in derivatives:
        assert np.all(np.isfinite(t.numpy())), (name, t)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.numpy(), exact(x64), rtol=tol, atol=tol)


def _torch_case(spec, torch, rng):
    xs = spec.inputs(rng)
    ts = [torch.tensor(x.numpy(), requires_grad=spec.differentiable) for x in xs]
    return xs, ts


TORCH = [s for s in OPS if s.torch_fn]


@pytest.mark.parametrize("spec", TORCH, ids=ids(TORCH))
def test_against_pytorch(spec):
    """Values, first derivatives and second derivatives equal PyTorch's, in float64."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    xs, ts = _torch_case(spec, torch, rng)
    outs, touts = as_tuple(spec(*xs)), spec.torch_fn(torch, *ts, **spec.params)
    touts = tuple(touts) if isinstance(touts, (tuple, list)) else (touts,)
    assert len(outs) == len(touts)
    tol = dict(rtol=1e-6, atol=1e-7) if outs[0].dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    for o, t in zip(outs, touts):
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), **tol)
    if not spec.differentiable:
        return
    gy_np = [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]
    gys = [mg.tensor(g, requires_grad=True) for g in gy_np]
    tgys = [torch.tensor(g, requires_grad=True) for g in gy_np]
    grads = mg.grad(outs, xs, gys, create_graph=True, allow_unused=True)
    tgrads = torch.autograd.grad(touts, ts, tgys, create_graph=True, allow_unused=True)
    for g, t, x in zip(grads, tgrads, xs):
        ref = np.zeros(x.shape) if t is None else t.detach().numpy()
        np.testing.assert_allclose(np.zeros(x.shape) if g is None else g.numpy(), ref, **tol)
    # second order: d/d(inputs, grad_outputs) of sum(grad * w)
    ws = [rng.standard_normal(x.shape) for x in xs]
    pairs = [(g, t, w) for g, t, w in zip(grads, tgrads, ws) if g is not None and t is not None]
    s = sum(((g * mg.tensor(w)).sum() for g, _, w in pairs), mg.tensor(0.0, dtype=np.float64))
    ts_ = sum(((t * torch.tensor(w)).sum() for _, t, w in pairs), torch.tensor(0.0, dtype=torch.float64))
    if not ts_.requires_grad:  # a constant first derivative (sign's zeros): no second order, in both
        assert not s.requires_grad
        return
    second = mg.grad(s, xs + gys, allow_unused=True)
    tsecond = torch.autograd.grad(ts_, ts + tgys, allow_unused=True)
    for g, t, x in zip(second, tsecond, xs + gys):
        np.testing.assert_allclose(np.zeros(x.shape) if g is None else g.numpy(),
                                   np.zeros(x.shape) if t is None else t.numpy(force=True), **tol)


@pytest.mark.parametrize("slope", [-0.5, 0.0, 0.2, 1.0, 3.0])
def test_leaky_relu_for_any_slope(slope):
    """maximum(x, slope x) serves slopes up to 1, minimum above, x * (x > 0) a slope of 0; each gives
    what "x if x > 0 else slope * x" gives, infinities and NaN included; the derivative is exactly
    1 or slope, its own derivative zero."""
    x64 = np.array([-np.inf, -2.5, -1e-3, 0.0, 1e-3, 4.0, np.inf, np.nan])
    for dtype in (np.float32, np.float64):
        x = mg.tensor(x64.astype(dtype), requires_grad=True)
        with np.errstate(invalid="ignore"):  # -inf * 0 is NaN, as in PyTorch
            y = mg.leaky_relu(x, slope)
            reference = np.where(x64 > 0, x64, x64 * dtype(slope)).astype(dtype)
        (g,) = mg.grad(y.sum(), x, create_graph=True)
        (gg,) = mg.grad(g.sum(), x)
        np.testing.assert_array_equal(y.numpy(), reference)
        assert y.dtype == g.dtype == dtype
        np.testing.assert_array_equal(g.numpy(), np.where(x64 > 0, 1, dtype(slope)).astype(dtype))
        np.testing.assert_array_equal(gg.numpy(), np.zeros(len(x64), dtype))
    finite = mg.tensor(np.array([-2.5, -0.7, 0.6, 4.0]), requires_grad=True)  # away from the kink
    assert mg.gradcheck(lambda t: mg.leaky_relu(t, slope), [finite])
    assert mg.gradgradcheck(lambda t: mg.leaky_relu(t, slope), [finite])
