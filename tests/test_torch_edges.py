"""PyTorch's behaviour at the edges, asked of PyTorch and of minigan side by side: which gradients
are zero tensors and which inputs are unused, the derivatives of pow at 0, the dtypes of arithmetic
with Python scalars. Skipped without torch."""
import numpy as np
import pytest

import minigan as mg
from minigan import gan, nn
from minigan.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def as_numpy(t):
    return t.numpy(force=True)  # force: torch may answer with a lazy ZeroTensor


# --- zero gradients through piecewise-constant masks --------------------------------------

@pytest.mark.parametrize("training", [True, False])
def test_gradient_penalty_gives_batchnorms_bias_a_zero_gradient_as_pytorch(training):
    """The bias of a BatchNorm before a LeakyReLU only moves where the LeakyReLU bends, so the
    penalty's gradient for it is zero; PyTorch gives a zero tensor, not "unused", and None only
    for the last bias, which the input gradient never sees."""
    rng = np.random.default_rng(0)
    critic = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.LeakyReLU(0.2), nn.Linear(5, 1)).double()
    for p in critic.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    critic[1].running_var.data[...] = rng.uniform(0.5, 1.5, 5)
    tcritic = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.BatchNorm1d(5), torch.nn.LeakyReLU(0.2),
                                  torch.nn.Linear(5, 1)).double()
    tcritic.load_state_dict({k: torch.tensor(v.numpy()) for k, v in critic.state_dict().items()})
    critic.train(training)
    tcritic.train(training)
    real, fake, eps = rng.standard_normal((6, 3)), rng.standard_normal((6, 3)), rng.uniform(size=(6, 1))

    penalty = gan.gradient_penalty(critic, mg.tensor(real), mg.tensor(fake), eps=mg.tensor(eps))
    (bias_grad,) = mg.grad(penalty, critic[1].bias, retain_graph=True)  # allow_unused=False
    grads = mg.grad(penalty, list(critic.parameters()), allow_unused=True)

    x_hat = torch.tensor(eps * real + (1 - eps) * fake, requires_grad=True)
    (g,) = torch.autograd.grad(tcritic(x_hat).sum(), x_hat, create_graph=True)
    tpenalty = 10 * ((torch.sqrt((g * g).sum(1) + 1e-12) - 1) ** 2).mean()
    tgrads = torch.autograd.grad(tpenalty, list(tcritic.parameters()), allow_unused=True)

    assert bias_grad.tolist() == [0.0] * 5
    for (name, _), a, b in zip(critic.named_parameters(), grads, tgrads):
        assert (a is None) == (b is None), name
        if a is not None:
            np.testing.assert_allclose(a.numpy(), as_numpy(b), rtol=1e-9, atol=1e-12, err_msg=name)


MASKED = {  # name: (minigan op, torch op), each of a (3, 4) tensor z
    "relu": (mg.relu, torch.relu),
    "leaky_relu": (lambda z: mg.leaky_relu(z, 0.2), lambda z: TF.leaky_relu(z, 0.2)),
    "abs": (mg.abs, torch.abs),
    "sign": (lambda z: mg.sign(z) * z, lambda z: torch.sign(z) * z),
    "softplus": (lambda z: mg.softplus(z, threshold=0.0), lambda z: TF.softplus(z, threshold=0.0)),
    "clamp": (lambda z: z.clamp(-0.5, 0.5), lambda z: z.clamp(-0.5, 0.5)),
    "clip": (lambda z: z.clip(min=0.1), lambda z: z.clip(min=0.1)),
    "maximum": (lambda z: mg.maximum(z, 0.1 * z), lambda z: torch.maximum(z, 0.1 * z)),
    "minimum": (lambda z: mg.minimum(z, 0.1 * z), lambda z: torch.minimum(z, 0.1 * z)),
    "where": (lambda z: mg.where(z > 0, z, 2 * z), lambda z: torch.where(z > 0, z, 2 * z)),
    "amax": (lambda z: z.amax(1), lambda z: z.amax(1)),
    "amin": (lambda z: z.amin(0), lambda z: z.amin(0)),
    "max[dim]": (lambda z: z.max(1).values, lambda z: z.max(1).values),
    "min[dim]": (lambda z: z.min(0).values, lambda z: z.min(0).values),
    "max": (lambda z: z.max(), lambda z: z.max()),
    "min": (lambda z: z.min(), lambda z: z.min()),
    "max_pool2d": (lambda z: F.max_pool2d(z.reshape(1, 1, 3, 4), 2), lambda z: TF.max_pool2d(z.reshape(1, 1, 3, 4), 2)),
}

def _second_derivative(lib, op, wrt, values):
    """d/d(wrt) of sum(d sum(op(z)) / dx), z = (x + shift) * scale: an array, or "unused"."""
    if lib is torch:
        grad, tensors = torch.autograd.grad, [torch.tensor(v, requires_grad=True) for v in values]
    else:
        grad, tensors = mg.grad, [mg.tensor(v, requires_grad=True) for v in values]
    x, shift, scale = tensors
    z = (x + shift) * scale
    y = op(z)
    (g,) = grad(y.sum(), x, create_graph=True)  # d/dx depends on shift only through op's mask
    target = {"shift": shift, "input": z, "output": y}[wrt]
    (h,) = grad(g.sum(), target, retain_graph=True, allow_unused=True)
    if h is None:
        with pytest.raises(RuntimeError, match="used"):  # and allow_unused=False says why
            grad(g.sum(), target)
        return "unused"
    return as_numpy(h) if lib is torch else h.numpy()


@pytest.mark.parametrize("name, wrt", [(name, wrt) for name in MASKED for wrt in ("shift", "input", "output")])
def test_a_gradient_through_a_mask_is_zeros_or_unused_as_in_pytorch(name, wrt):
    """In PyTorch, relu, leaky_relu, abs, sign and max_pool2d keep the edge to their mask's source
    (zeros), while clamp, where, maximum and the max/min reductions compare into a constant mask
    (unused)."""
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s) for s in [(3, 4), (4,), (4,)]]
    op, top = MASKED[name]
    ours, theirs = _second_derivative(mg, op, wrt, values), _second_derivative(torch, top, wrt, values)
    if isinstance(theirs, str) or isinstance(ours, str):
        assert ours == theirs
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


# --- pow at 0 -----------------------------------------------------------------------------

BASES, EXPONENTS = (0.0, 2.0, -2.0), (0, 1, 2, 3, 0.5, -1, 1.5, -0.5)
POW = {  # name: fn of the tensors, and the grid of their values
    "x ** c": [(lambda x, c=c: x ** c, [a]) for a in BASES for c in EXPONENTS],
    "x ** y": [(lambda x, y: x ** y, [a, float(c)]) for a in BASES for c in EXPONENTS],
    "c ** y": [(lambda y, a=a: a ** y, [float(c)]) for a in BASES for c in EXPONENTS],
}


def _pow_derivatives(lib, fn, values):
    """The value, first derivatives and second derivatives, None for unused, "no graph" for a
    first derivative that is a constant."""
    if lib is torch:
        grad, tensors = torch.autograd.grad, [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    else:
        grad, tensors = mg.grad, [mg.tensor(np.float64(v), requires_grad=True) for v in values]
    y = fn(*tensors)
    first = grad(y, tensors, create_graph=True, allow_unused=True)
    second = [None if g is None else "no graph" if not g.requires_grad else
              [None if h is None else h.item() for h in grad(g, tensors, retain_graph=True, allow_unused=True)]
              for g in first]
    return y.item(), [None if g is None else g.item() for g in first], second


def assert_same(ours, theirs, context):
    """Equal structure (None, "no graph", numbers in nested lists) and equal numbers, nan and inf included."""
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), context
        for o, t in zip(ours, theirs):
            assert_same(o, t, context)
    elif isinstance(theirs, float):
        assert isinstance(ours, float), context
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, err_msg=str(context))
    else:
        assert ours == theirs, context


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns of the infs and nans PyTorch returns quietly
@pytest.mark.parametrize("kind", sorted(POW))
def test_pow_first_and_second_derivatives_at_zero_match_pytorch(kind):
    """x ** 0 has derivative 0 at x = 0 (not 0 * inf = nan), and d/dy 0 ** y is 0 for y >= 0; where
    PyTorch's own second derivatives are nan or inf, minigan's are the same."""
    for fn, values in POW[kind]:
        ours, theirs = _pow_derivatives(mg, fn, values), _pow_derivatives(torch, fn, values)
        assert_same(ours, theirs, (kind, values, ours, theirs))


# --- dtypes of arithmetic with Python scalars ---------------------------------------------

DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]
# Not np.bool_: PyTorch reads it as a float.
SCALARS = [True, 2, 2.5, np.int64(2), np.int32(2), np.float64(2.5), np.float32(2.5)]
BINARY = {"a + s": lambda a, s: a + s, "s - a": lambda a, s: s - a, "a * s": lambda a, s: a * s,
          "a / s": lambda a, s: a / s, "s / a": lambda a, s: s / a, "a ** s": lambda a, s: a ** s,
          "s ** a": lambda a, s: s ** a, "a == s": lambda a, s: a == s}


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_scalar_arithmetic_has_pytorchs_result_dtype(dtype):
    """A bool tensor + 1 is int64, an int tensor * 0.5 is float32, a float32 tensor * np.float64 stays
    float32: the scalar's kind counts, its precision does not."""
    for scalar in SCALARS:
        for name, op in BINARY.items():
            try:
                expected = str(op(torch.ones(3, dtype=getattr(torch, dtype)), scalar).dtype).removeprefix("torch.")
            except RuntimeError:
                continue  # PyTorch refuses it (bools do not subtract); minigan may allow it
            got = op(mg.tensor(np.ones(3, dtype=dtype)), scalar).dtype
            assert str(got) == expected, (dtype, name, type(scalar).__name__)


# --- PyTorch's names ------------------------------------------------------------------------

def test_logsigmoid_has_pytorchs_name():
    assert not hasattr(F, "log_sigmoid") and not hasattr(mg, "log_sigmoid")
    x = np.linspace(-40.0, 40.0, 9)
    np.testing.assert_allclose(F.logsigmoid(mg.tensor(x)).numpy(), TF.logsigmoid(torch.tensor(x)).numpy(), rtol=1e-12)
