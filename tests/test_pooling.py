"""max_pool2d, avg_pool2d and pad: values against direct loops, first and second derivatives
against finite differences, dtypes, errors, and PyTorch as an oracle."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.nn import functional as F

SETTINGS = settings(max_examples=80, deadline=None)


def param(x, requires_grad=True):
    return mg.tensor(np.asarray(x, dtype=np.float64), requires_grad=requires_grad)


def distinct(rng, shape):
    """Values at least 0.1 apart: no ties, so max pooling is differentiable around them."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - 0.05 * n).reshape(shape)


# --- references ---------------------------------------------------------------------------------

def out_size(n, k, s, p, d, ceil_mode):
    size = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    return size - 1 if ceil_mode and (size - 1) * s >= n + p else size


def ref_max_pool2d(x, kernel, stride, padding, dilation, ceil_mode):
    """Loop over windows; also the flat index of each (first) maximum in its H*W plane."""
    N, C, H, W = x.shape
    Ho, Wo = (out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip((H, W), kernel, stride, padding, dilation))
    y, index = np.full((N, C, Ho, Wo), -np.inf), np.full((N, C, Ho, Wo), -1)
    for n in range(N):
        for c in range(C):
            for p in range(Ho):
                for q in range(Wo):
                    for i in range(kernel[0]):
                        for j in range(kernel[1]):
                            h = p * stride[0] - padding[0] + i * dilation[0]
                            v = q * stride[1] - padding[1] + j * dilation[1]
                            if 0 <= h < H and 0 <= v < W and x[n, c, h, v] > y[n, c, p, q]:
                                y[n, c, p, q], index[n, c, p, q] = x[n, c, h, v], h * W + v
    return y, index


def ref_avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad):
    """PyTorch's rule: the divisor counts the padding (if asked) but never what ceil_mode adds past it."""
    N, C, H, W = x.shape
    Ho, Wo = (out_size(n, k, s, p, 1, ceil_mode) for n, k, s, p in zip((H, W), kernel, stride, padding))
    y = np.zeros((N, C, Ho, Wo))
    for p in range(Ho):
        for q in range(Wo):
            h0, v0 = p * stride[0] - padding[0], q * stride[1] - padding[1]
            h1, v1 = min(h0 + kernel[0], H + padding[0]), min(v0 + kernel[1], W + padding[1])
            divisor = (h1 - h0) * (v1 - v0)
            h0, v0, h1, v1 = max(h0, 0), max(v0, 0), min(h1, H), min(v1, W)
            if not count_include_pad:
                divisor = (h1 - h0) * (v1 - v0)
            y[:, :, p, q] = x[:, :, h0:h1, v0:v1].sum(axis=(2, 3)) / divisor
    return y


# --- random configurations ---------------------------------------------------------------------

def pairs(lo, hi):
    return st.tuples(st.integers(lo, hi), st.integers(lo, hi))


@st.composite
def pool_cases(draw, dilated=True):
    kernel, stride = draw(pairs(1, 3)), draw(pairs(1, 3))
    dilation = draw(pairs(1, 2)) if dilated else (1, 1)
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 7)) for k, d, p in zip(kernel, dilation, padding))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + size
    return shape, dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=draw(st.booleans()),
                       **({"dilation": dilation} if dilated else {}))


# --- values -------------------------------------------------------------------------------------

@SETTINGS
@given(pool_cases(), st.integers(0, 2**32 - 1))
def test_max_pool2d_matches_the_loop_reference(case, seed):
    shape, params = case
    x = np.random.default_rng(seed).standard_normal(shape)
    y, index = F.max_pool2d(param(x), return_indices=True, **params)
    expected, expected_index = ref_max_pool2d(x, params["kernel_size"], params["stride"], params["padding"],
                                              params["dilation"], params["ceil_mode"])
    np.testing.assert_array_equal(y.numpy(), expected)
    found = np.isfinite(expected)  # a dilated window may miss the image entirely: no index to compare
    np.testing.assert_array_equal(index.numpy()[found], expected_index[found])
    assert index.dtype == np.int64


@SETTINGS
@given(pool_cases(dilated=False), st.booleans(), st.integers(0, 2**32 - 1))
def test_avg_pool2d_matches_the_loop_reference(case, count_include_pad, seed):
    shape, params = case
    x = np.random.default_rng(seed).standard_normal(shape)
    y = F.avg_pool2d(param(x), count_include_pad=count_include_pad, **params)
    expected = ref_avg_pool2d(x, params["kernel_size"], params["stride"], params["padding"], params["ceil_mode"],
                              count_include_pad)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_stride_defaults_to_the_kernel_and_divisor_override():
    x = param(np.arange(16.0).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(F.max_pool2d(x, 2).numpy(), [[[[5, 7], [13, 15]]]])
    np.testing.assert_array_equal(F.avg_pool2d(x, 2).numpy(), [[[[2.5, 4.5], [10.5, 12.5]]]])
    np.testing.assert_array_equal(F.avg_pool2d(x, 2, divisor_override=2).numpy(), [[[[5, 9], [21, 25]]]])


def test_max_pool2d_gradient_goes_to_the_first_maximum():
    x = param(np.array([[[[1.0, 3.0], [3.0, 2.0]]]]))
    (g,) = mg.grad(F.max_pool2d(x, 2).sum(), x)
    np.testing.assert_array_equal(g.numpy(), [[[[0, 1], [0, 0]]]])


def test_max_pool2d_ignores_infinities_elsewhere_in_the_window():
    x = param(np.array([[[[-np.inf, 1.0], [np.nan, 0.0]]]]))
    np.testing.assert_array_equal(F.max_pool2d(x, (1, 2)).numpy(), [[[[1.0], [np.nan]]]])


PAD_CASES = [
    ((2, 3, 4, 5), (1, 2), "constant"), ((2, 3, 4, 5), (1, 0, 2, 3), "constant"),
    ((2, 3, 4, 5), (0, 1, 1, 0, 1, 1), "constant"), ((2, 3, 4, 5), (-1, 2, 1, -2), "constant"),
    ((2, 3, 4, 5), (1, 2, 3, 1), "reflect"), ((2, 4, 5), (2, 0), "reflect"),
    ((2, 3, 4, 5), (2, 3, 0, 4), "replicate"), ((2, 3, 4, 5), (-1, 2, 1, -2), "replicate"),
    ((2, 3, 4, 5), (4, 1, 2, 4), "circular"), ((2, 3, 4, 5), (-1, 2, 1, -2), "circular"),
]


@pytest.mark.parametrize("shape, widths, mode", PAD_CASES)
def test_pad_gradcheck_and_gradgradcheck(shape, widths, mode):
    x = param(np.random.default_rng(0).standard_normal(shape)[..., :3, :3])  # small: finite differences
    widths = tuple(max(min(w, 2), -1) for w in widths)
    assert mg.gradcheck(lambda x: F.pad(x, widths, mode, 0.5), x, name=f"pad {mode}")
    assert mg.gradgradcheck(lambda x: F.pad(x, widths, mode, 0.5) ** 2, x, name=f"pad {mode}")


def test_pad_constant_values_and_crop():
    x = param(np.ones((1, 2, 2)))
    y = F.pad(x, (1, 0, 0, 1), value=-3.0)
    np.testing.assert_array_equal(y.numpy()[0], [[-3, 1, 1], [-3, 1, 1], [-3, -3, -3]])
    np.testing.assert_array_equal(F.pad(x, (0, -1)).numpy(), np.ones((1, 2, 1)))


# --- derivatives against finite differences ---------------------------------------------------

POOL_CONFIGS = [
    dict(kernel_size=2),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1),
]


@pytest.mark.parametrize("config", POOL_CONFIGS)
def test_max_pool2d_gradcheck_and_gradgradcheck(config):
    x = param(distinct(np.random.default_rng(0), (2, 2, 5, 5)))

    def fn(x):
        return F.max_pool2d(x, dilation=(1, 2) if config.get("ceil_mode") else 1, **config)

    assert mg.gradcheck(fn, x, name="max_pool2d")
    assert mg.gradgradcheck(lambda x: fn(x) ** 2, x, name="max_pool2d")


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("config", POOL_CONFIGS)
def test_avg_pool2d_gradcheck_and_gradgradcheck(config, count_include_pad):
    x = param(np.random.default_rng(0).standard_normal((2, 2, 5, 5)))

    def fn(x):
        return F.avg_pool2d(x, count_include_pad=count_include_pad, **config)

    assert mg.gradcheck(fn, x, name="avg_pool2d")
    assert mg.gradgradcheck(lambda x: fn(x) ** 2, x, name="avg_pool2d")


def every_window_meets_the_image(shape, params):
    """False when a dilated window falls wholly on padding: its maximum is -inf, and PyTorch's
    index for it points outside the plane. Finite differences and oracles skip those cases."""
    return bool(np.isfinite(F.max_pool2d(mg.zeros(*shape), **params).numpy()).all())


@settings(max_examples=25, deadline=None)
@given(pool_cases(), st.integers(0, 2**32 - 1))
def test_pool_gradcheck_on_random_configurations(case, seed):
    shape, params = case
    assume(every_window_meets_the_image(shape, params))
    x = param(distinct(np.random.default_rng(seed), shape))
    assert mg.gradcheck(lambda x: F.max_pool2d(x, **params), x, name="max_pool2d")
    params.pop("dilation")
    assert mg.gradcheck(lambda x: F.avg_pool2d(x, **params), x, name="avg_pool2d")


# --- dtypes and errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda x: F.max_pool2d(x, 2), lambda x: F.avg_pool2d(x, 3, 2, 1), lambda x: F.pad(x, (1, 2, 0, 1)),
    lambda x: F.pad(x, (1, 2, 0, 1), mode="reflect"),
])
def test_float32_stays_float32(fn):
    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 3, 6, 6)), dtype=mg.float32, requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    (g,) = mg.grad((y * y).sum(), x, create_graph=True)
    (gg,) = mg.grad((g * g).sum(), x)
    assert g.dtype == gg.dtype == np.float32


@pytest.mark.parametrize("call, message", [
    (lambda: F.max_pool2d(mg.zeros(3, 4, 4), 2), "4-D input"),
    (lambda: F.avg_pool2d(mg.zeros(1, 1, 4, 4, dtype=mg.int64), 2), "floating-point"),
    (lambda: F.max_pool2d(mg.zeros(1, 1, 4, 4), 2, padding=2), "half the kernel"),
    (lambda: F.avg_pool2d(mg.zeros(1, 1, 2, 2), 3), "empty"),
    (lambda: F.max_pool2d(mg.zeros(1, 1, 4, 4), 0), "kernel_size must be >= 1"),
    (lambda: F.avg_pool2d(mg.zeros(1, 1, 4, 4), 2, divisor_override=0), "not be zero"),
    (lambda: F.pad(mg.zeros(2, 2), (1, 2, 3)), "even number"),
    (lambda: F.pad(mg.zeros(2, 2), (1, 1, 1, 1, 1, 1)), "even number"),
    (lambda: F.pad(mg.zeros(2, 2), (-3, 0)), "would give shape"),
    (lambda: F.pad(mg.zeros(2, 2), (1, 1), mode="mirror"), "mode must be"),
    (lambda: F.pad(mg.zeros(2, 2), (2, 0), mode="reflect"), "at most 1"),
    (lambda: F.pad(mg.zeros(2, 2), (3, 0), mode="circular"), "at most 2"),
])
def test_bad_arguments_give_clear_errors(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# --- PyTorch as an oracle ----------------------------------------------------------------------

def _compare_with_torch(torch, ours_fn, torch_fn, x, seed):
    """Values, gradients and the derivative of a gradient penalty, in float64."""
    def run(fn, tensor, grad):
        xt = tensor(x)
        y = fn(xt)
        v = tensor(np.random.default_rng(seed).standard_normal(tuple(y.shape)))
        (g,) = grad([(y * y * v).sum()], [xt], create_graph=True)
        (gg,) = grad([(g * g).sum()], [xt], create_graph=False)
        return [t.detach().numpy() for t in (y, g, gg)]

    theirs = run(torch_fn, lambda a: torch.tensor(a, requires_grad=True),
                 lambda o, i, create_graph: torch.autograd.grad(o, i, create_graph=create_graph))
    ours = run(ours_fn, param, lambda o, i, create_graph: mg.grad(o, i, create_graph=create_graph))
    for name, o, t in zip(["value", "gradient", "second derivative"], ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-10, err_msg=name)


@settings(max_examples=30, deadline=None)
@given(pool_cases(), st.booleans(), st.integers(0, 2**32 - 1))
def test_pools_match_torch(case, count_include_pad, seed):
    torch = pytest.importorskip("torch")
    shape, params = case
    assume(every_window_meets_the_image(shape, params))
    x = distinct(np.random.default_rng(seed), shape)
    _compare_with_torch(torch, lambda t: F.max_pool2d(t, **params),
                        lambda t: torch.nn.functional.max_pool2d(t, **params), x, seed)
    params.pop("dilation")
    _compare_with_torch(torch, lambda t: F.avg_pool2d(t, count_include_pad=count_include_pad, **params),
                        lambda t: torch.nn.functional.avg_pool2d(t, count_include_pad=count_include_pad, **params),
                        x, seed)


@pytest.mark.parametrize("shape, widths, mode", PAD_CASES)
def test_pad_matches_torch(shape, widths, mode):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal(shape)
    extra = {"value": 0.5} if mode == "constant" else {}
    _compare_with_torch(torch, lambda t: F.pad(t, widths, mode, **extra),
                        lambda t: torch.nn.functional.pad(t, widths, mode, **extra), x, 0)
