"""conv2d and conv_transpose2d, grouped or not: values against a direct nested-loop convolution,
first and second derivatives against finite differences, the adjoint identity that ties the two
together, dtypes, errors, and PyTorch as an oracle for values and derivatives of every order we
use; the Conv2d and ConvTranspose2d layers' groups, init and padding against PyTorch."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import nn
from minigan.nn import functional as F

SETTINGS = settings(max_examples=60, deadline=None)


def param(x, requires_grad=True):
    return mg.tensor(np.asarray(x, dtype=np.float64), requires_grad=requires_grad)


# --- references: the definitions, one multiply-add at a time ----------------------------------

def ref_conv2d(x, w, b, stride, padding, dilation):
    """y[n, o, p, q] = b[o] + sum x[n, c, p*s - pad + i*d, q*s - pad + j*d] w[o, c, i, j], where the
    input index is inside the image. ``padding`` is ((top, bottom), (left, right))."""
    N, _, H, W = x.shape
    O, _, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    (pt, pb), (pl, pr) = padding
    Ho = (H + pt + pb - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + pl + pr - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((N, O, Ho, Wo)) + (0 if b is None else b[:, None, None])
    for p in range(Ho):
        for q in range(Wo):
            for i in range(kh):
                for j in range(kw):
                    h, v = p * sh - pt + i * dh, q * sw - pl + j * dw
                    if 0 <= h < H and 0 <= v < W:
                        y[:, :, p, q] += x[:, :, h, v] @ w[:, :, i, j].T
    return y


def ref_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation):
    """Each input pixel x[n, c, h, v] adds x * w[c, :, i, j] at output (h*s - pad + i*d, v*s - pad + j*d)."""
    N, _, H, W = x.shape
    _, O, kh, kw = w.shape
    (sh, sw), (ph, pw), (oh, ow), (dh, dw) = stride, padding, output_padding, dilation
    Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + 1 + oh
    Wo = (W - 1) * sw - 2 * pw + dw * (kw - 1) + 1 + ow
    y = np.zeros((N, O, Ho, Wo)) + (0 if b is None else b[:, None, None])
    for h in range(H):
        for v in range(W):
            for i in range(kh):
                for j in range(kw):
                    p, q = h * sh - ph + i * dh, v * sw - pw + j * dw
                    if 0 <= p < Ho and 0 <= q < Wo:
                        y[:, :, p, q] += x[:, :, h, v] @ w[:, :, i, j]
    return y


def grouped(ref, x, w, b, groups, *args):
    """``groups`` independent convolutions side by side, which is what groups means: the input's
    channels, the weight's dim 0 and the bias split into equal parts, the results stacked."""
    biases = [None] * groups if b is None else np.split(b, groups)
    return np.concatenate([ref(xg, wg, bg, *args) for xg, wg, bg in
                           zip(np.split(x, groups, axis=1), np.split(w, groups), biases)], axis=1)


# --- random configurations ---------------------------------------------------------------------

pairs = lambda lo, hi: st.tuples(st.integers(lo, hi), st.integers(lo, hi))  # noqa: E731 (rectangular)


@st.composite
def channels(draw):
    """(groups, C_in, C_out): 1 to 3 groups of 1 or 2 channels a side. One input channel per group
    (groups = C_in) is a depthwise convolution."""
    groups = draw(st.integers(1, 3))
    return groups, groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))


@st.composite
def conv_cases(draw):
    """A conv2d call small enough for the loop reference: shapes, stride, padding, dilation, groups."""
    n, (groups, c_in, c_out) = draw(st.integers(1, 2)), draw(channels())
    kernel, stride, dilation, padding = draw(pairs(1, 3)), draw(pairs(1, 3)), draw(pairs(1, 2)), draw(pairs(0, 2))
    # the image: at least one window must fit, so size >= d*(k-1) + 1 - 2*pad
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 7))
                 for k, d, p in zip(kernel, dilation, padding))
    return dict(x=(n, c_in) + size, w=(c_out, c_in // groups) + kernel, stride=stride, padding=padding,
                dilation=dilation, groups=groups)


@st.composite
def conv_transpose_cases(draw):
    n, (groups, c_in, c_out) = draw(st.integers(1, 2)), draw(channels())
    kernel, stride, dilation = draw(pairs(1, 3)), draw(pairs(1, 3)), draw(pairs(1, 2))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    size = draw(pairs(1, 4))
    # padding may not eat the whole output: (size-1)*s + d*(k-1) + 1 + op - 2*pad >= 1
    padding = tuple(draw(st.integers(0, min(2, ((g - 1) * s + d * (k - 1) + op) // 2)))
                    for g, s, d, k, op in zip(size, stride, dilation, kernel, output_padding))
    return dict(x=(n, c_in) + size, w=(c_in, c_out // groups) + kernel, stride=stride, padding=padding,
                output_padding=output_padding, dilation=dilation, groups=groups)


def arrays(case, rng, bias=True):
    x, w = rng.standard_normal(case["x"]), rng.standard_normal(case["w"])
    transposed = "output_padding" in case  # its weight is (C_in, C_out/groups, kH, kW)
    out_channels = case["w"][1] * case.get("groups", 1) if transposed else case["w"][0]
    b = rng.standard_normal(out_channels) if bias else None
    params = {k: v for k, v in case.items() if k not in ("x", "w")}
    return x, w, b, params


# --- values ---------------------------------------------------------------------------------------

@SETTINGS
@given(conv_cases(), st.booleans(), st.integers(0, 2**32 - 1))
def test_conv2d_matches_the_loop_reference(case, bias, seed):
    x, w, b, params = arrays(case, np.random.default_rng(seed), bias)
    y = F.conv2d(param(x), param(w), None if b is None else param(b), **params)
    pads = tuple((p, p) for p in params["padding"])
    expected = grouped(ref_conv2d, x, w, b, params["groups"], params["stride"], pads, params["dilation"])
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(conv_transpose_cases(), st.booleans(), st.integers(0, 2**32 - 1))
def test_conv_transpose2d_matches_the_loop_reference(case, bias, seed):
    x, w, b, params = arrays(case, np.random.default_rng(seed), bias)
    y = F.conv_transpose2d(param(x), param(w), None if b is None else param(b), **params)
    expected = grouped(ref_conv_transpose2d, x, w, b, params["groups"], params["stride"], params["padding"],
                       params["output_padding"], params["dilation"])
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(pairs(1, 4), pairs(1, 3), pairs(1, 7), st.integers(0, 2**32 - 1))
def test_same_padding_keeps_the_size_and_puts_the_odd_row_last(kernel, dilation, size, seed):
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((2, 2) + size), rng.standard_normal((3, 2) + kernel)
    y = F.conv2d(param(x), param(w), padding="same", dilation=dilation)
    assert y.shape == (2, 3) + size
    total = [d * (k - 1) for d, k in zip(dilation, kernel)]
    pads = tuple((t // 2, t - t // 2) for t in total)  # PyTorch: the extra row/column at the end
    np.testing.assert_allclose(y.numpy(), ref_conv2d(x, w, None, (1, 1), pads, dilation), rtol=1e-12, atol=1e-12)


@SETTINGS
@given(conv_cases(), st.integers(0, 2**32 - 1))
def test_conv_transpose2d_is_the_adjoint_of_conv2d(case, seed):
    """<conv2d(x, w), g> = <x, conv_transpose2d(g, w)>, with output_padding giving back x's size."""
    rng = np.random.default_rng(seed)
    x, w, _, params = arrays(case, rng, bias=False)
    y = F.conv2d(param(x), param(w), **params)
    g = rng.standard_normal(y.shape)
    expected_size = [(o - 1) * s - 2 * p + d * (k - 1) + 1 for o, s, p, d, k in
                     zip(y.shape[2:], params["stride"], params["padding"], params["dilation"], w.shape[2:])]
    output_padding = tuple(n - e for n, e in zip(x.shape[2:], expected_size))  # the rows no window reads
    back = F.conv_transpose2d(param(g), param(w), output_padding=output_padding, **params)
    assert back.shape == x.shape
    np.testing.assert_allclose(float((y.numpy() * g).sum()), float((x * back.numpy()).sum()), rtol=1e-10)


@pytest.mark.parametrize("groups", [1, 2])
def test_non_contiguous_inputs(groups):
    rng = np.random.default_rng(1)
    x, w = param(rng.standard_normal((2, 4, 5, 6))), param(rng.standard_normal((4 // groups, 6, 2, 3)))
    xs, ws = x.permute(0, 1, 3, 2), w.permute(1, 0, 2, 3)  # strided views
    y = F.conv2d(xs, ws, groups=groups)
    expected = grouped(ref_conv2d, xs.numpy(), ws.numpy(), None, groups, (1, 1), ((0, 0), (0, 0)), (1, 1))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    # y.sum()'s backward hands the convolution a broadcast (stride 0) gradient
    broadcast = mg.grad(y.sum(), [x, w], retain_graph=True)
    for a, b in zip(broadcast, mg.grad(y, [x, w], grad_outputs=mg.ones_like(y))):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


def test_outputs_stay_channels_last_through_the_next_layers():
    """A convolution's output is an NCHW view of channels-last memory; elementwise layers keep that
    order, and the stack computes what the same layers give on contiguous copies."""
    rng = np.random.default_rng(2)
    x = param(rng.standard_normal((3, 4, 8, 8)))
    w1, w2, wt = (param(rng.standard_normal(shape)) for shape in ((6, 4, 3, 3), (5, 6, 4, 4), (5, 2, 4, 4)))

    def stack(contiguous):
        fix = (lambda t: mg.tensor(np.ascontiguousarray(t.numpy()))) if contiguous else (lambda t: t)
        h = mg.leaky_relu(fix(F.conv2d(x, w1, padding=1)) + 1.0, 0.2)
        channels_last = h.numpy().transpose(0, 2, 3, 1).flags.c_contiguous
        h = fix(F.conv2d(h, w2, stride=2, padding=1))
        return fix(F.conv_transpose2d(mg.relu(h), wt, stride=2, padding=1)).numpy(), channels_last

    (fast, channels_last), (reference, _) = stack(False), stack(True)
    assert channels_last
    np.testing.assert_allclose(fast, reference, rtol=1e-12, atol=1e-12)


def test_int_tuple_and_valid_arguments_agree():
    rng = np.random.default_rng(0)
    x, w = param(rng.standard_normal((1, 2, 6, 6))), param(rng.standard_normal((3, 2, 3, 3)))
    np.testing.assert_array_equal(F.conv2d(x, w, stride=2, padding=1, dilation=1).numpy(),
                                  F.conv2d(x, w, stride=(2, 2), padding=[1, 1], dilation=(1, 1)).numpy())
    np.testing.assert_array_equal(F.conv2d(x, w, padding="valid").numpy(), F.conv2d(x, w, padding=0).numpy())


# --- derivatives against finite differences ---------------------------------------------------

CONV_CONFIGS = [
    dict(x=(2, 2, 5, 5), w=(3, 2, 3, 3), stride=1, padding=1, dilation=1),
    dict(x=(1, 2, 5, 6), w=(2, 2, 2, 3), stride=(2, 1), padding=(1, 2), dilation=(1, 2)),  # rectangular
    dict(x=(2, 1, 7, 5), w=(2, 1, 4, 4), stride=2, padding=1, dilation=1),  # stride 2 on odd sizes
    dict(x=(1, 2, 5, 4), w=(2, 2, 2, 3), stride=1, padding="same", dilation=(2, 1)),  # asymmetric 'same'
    dict(x=(2, 4, 5, 5), w=(6, 2, 3, 3), stride=1, padding=1, dilation=1, groups=2),
    dict(x=(1, 3, 6, 5), w=(6, 1, 3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=3),  # depthwise
]
TRANSPOSE_CONFIGS = [
    dict(x=(2, 2, 3, 3), w=(2, 3, 4, 4), stride=2, padding=1, output_padding=0, dilation=1),  # DCGAN
    dict(x=(1, 2, 3, 2), w=(2, 2, 3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(1, 2)),
    dict(x=(2, 1, 2, 3), w=(1, 2, 2, 2), stride=1, padding=0, output_padding=(1, 0), dilation=(2, 1)),
    dict(x=(2, 4, 3, 3), w=(4, 1, 4, 4), stride=2, padding=1, output_padding=0, dilation=1, groups=2),
    dict(x=(1, 3, 3, 2), w=(3, 2, 3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0), dilation=(1, 2),
         groups=3),  # depthwise
]


def _fn_and_inputs(config, seed, transpose):
    x, w, b, params = arrays(config, np.random.default_rng(seed))
    fn = F.conv_transpose2d if transpose else F.conv2d
    return (lambda x, w, b: fn(x, w, b, **params)), (param(x), param(w), param(b))


@pytest.mark.parametrize("transpose, config",
                         [(False, c) for c in CONV_CONFIGS] + [(True, c) for c in TRANSPOSE_CONFIGS])
def test_gradcheck_and_gradgradcheck(transpose, config):
    """With respect to input, weight and bias; second order includes d/dw of the weight gradient."""
    fn, inputs = _fn_and_inputs(config, 0, transpose)
    name = "conv_transpose2d" if transpose else "conv2d"
    assert mg.gradcheck(fn, inputs, name=name)
    assert mg.gradgradcheck(fn, inputs, name=name)


@settings(max_examples=20, deadline=None)
@given(conv_cases(), st.integers(0, 2**32 - 1))
def test_gradcheck_on_random_configurations(case, seed):
    x, w, b, params = arrays(case, np.random.default_rng(seed))
    assert mg.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **params), (param(x), param(w), param(b)))


@settings(max_examples=20, deadline=None)
@given(conv_transpose_cases(), st.integers(0, 2**32 - 1))
def test_gradcheck_transpose_on_random_configurations(case, seed):
    x, w, b, params = arrays(case, np.random.default_rng(seed))
    assert mg.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **params), (param(x), param(w), param(b)))


def _penalty(x, w):
    """A gradient penalty on both gradients of a nonlinear conv net: its derivative in w needs the
    backward of every primitive, the weight-gradient op's included (where DeZero's Conv2DGradW fails)."""
    y = mg.tanh(F.conv2d(x, w, stride=2, padding=1))
    gx, gw = mg.grad((y * y).sum(), [x, w], create_graph=True)
    return (gx * gx).sum() + (gw * gw).sum()


def test_second_derivative_with_respect_to_the_weight():
    rng = np.random.default_rng(3)
    x, w = param(rng.standard_normal((2, 2, 5, 5))), param(rng.standard_normal((3, 2, 3, 3)) * 0.5)
    assert mg.gradcheck(_penalty, (x, w), name="gradient penalty")
    (gw,) = mg.grad(_penalty(x, w), w)
    assert gw.shape == w.shape and np.abs(gw.numpy()).max() > 0


@pytest.mark.parametrize("groups", [1, 2])
def test_weight_gradient_op_is_differentiable_in_both_inputs(groups):
    """d(dL/dw)/dx and d(dL/dw)/d(grad_output): the two halves of the weight-gradient op's backward."""
    rng = np.random.default_rng(4)
    x, w = param(rng.standard_normal((1, 2, 5, 4))), param(rng.standard_normal((2, 2 // groups, 3, 2)))
    v = param(rng.standard_normal(F.conv2d(x, w, stride=2, groups=groups).shape))

    def weight_gradient(x, v):
        return mg.grad(F.conv2d(x, w, stride=2, groups=groups), w, grad_outputs=v, create_graph=True)[0]

    assert mg.gradcheck(weight_gradient, (x, v), name="conv2d weight gradient")


def test_backward_twice_with_retain_graph():
    """conv2d hands its im2col matrix to the weight gradient once; a second pass rebuilds it."""
    rng = np.random.default_rng(5)
    x, w = param(rng.standard_normal((2, 2, 5, 5))), param(rng.standard_normal((3, 2, 3, 3)))
    y = (F.conv2d(x, w, stride=2, padding=1) ** 2).sum()
    first = mg.grad(y, [x, w], retain_graph=True)
    second = mg.grad(y, [x, w])
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# --- dtypes and errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn, w_shape", [(F.conv2d, (4, 3, 3, 3)), (F.conv_transpose2d, (3, 4, 3, 3))])
def test_float32_stays_float32(fn, w_shape):
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((2, 3, 6, 6)), dtype=mg.float32, requires_grad=True)
    w = mg.tensor(rng.standard_normal(w_shape), dtype=mg.float32, requires_grad=True)
    b = mg.tensor(rng.standard_normal(4), dtype=mg.float32, requires_grad=True)
    y = fn(x, w, b, stride=2, padding=1)
    assert y.dtype == np.float32
    gx, gw, gb = mg.grad((y * y).sum(), [x, w, b], create_graph=True)
    assert gx.dtype == gw.dtype == gb.dtype == np.float32
    (ggw,) = mg.grad((gx * gx).sum() + (gw * gw).sum(), [w])
    assert ggw.dtype == np.float32


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(mg.zeros(3, 5, 5), mg.zeros(2, 3, 3, 3)), "4-D input"),
    (lambda: F.conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 3, 3)), "4-D weight"),
    (lambda: F.conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 4, 3, 3)), "3 channels"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 3, 3, 3)), "expects 2"),
    (lambda: F.conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 3, 3, 3), mg.zeros(3)), r"bias of shape \(2,\)"),
    (lambda: F.conv2d(mg.zeros(1, 3, 2, 5), mg.zeros(2, 3, 3, 3)), "output"),
    (lambda: F.conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 3, 3, 3), stride=2, padding="same"), "stride 1"),
    (lambda: F.conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 3, 3, 3), padding="full"), "'same' or 'valid'"),
    (lambda: F.conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 3, 3, 3), stride=0), "stride must be >= 1"),
    (lambda: F.conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 3, 3, 3), padding=-1), "padding must be >= 0"),
    (lambda: F.conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 3, 3, 3), stride=(1, 2, 3)), "pair of ints"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 3, 5, 5), mg.zeros(3, 2, 3, 3), stride=2, output_padding=2),
     "output_padding"),
    (lambda: F.conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(4, 1, 3, 3), groups=2),
     "conv2d: C_in = 3 does not split into groups=2"),
    (lambda: F.conv2d(mg.zeros(1, 4, 5, 5), mg.zeros(3, 2, 3, 3), groups=2),
     "conv2d: C_out = 3 does not split into groups=2"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 3, 5, 5), mg.zeros(3, 2, 3, 3), groups=2),
     "conv_transpose2d: C_in = 3 does not split into groups=2"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 4, 5, 5), mg.zeros(3, 2, 3, 3), groups=2),
     r"4 channels, but weight of shape \(3, 2, 3, 3\) \(C_in, C_out/groups, kH, kW\) with groups=2 expects 3"),
    (lambda: F.conv2d(mg.zeros(1, 4, 5, 5), mg.zeros(4, 1, 3, 3), groups=2), "4 channels, .* groups=2 expects 2"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 4, 5, 5), mg.zeros(4, 2, 3, 3), mg.zeros(2), groups=2),
     r"bias of shape \(4,\)"),
    (lambda: F.conv2d(mg.zeros(1, 4, 5, 5), mg.zeros(4, 4, 3, 3), groups=0), "groups must be an int >= 1, got 0"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), "Conv2d: out_channels = 6 does not split into groups=4"),
    (lambda: nn.ConvTranspose2d(3, 4, 3, groups=2), "ConvTranspose2d: in_channels = 3 does not split into groups=2"),
    (lambda: nn.Conv2d(2, 2, 3, padding="full"), "Conv2d: padding must be .* 'same' or 'valid'"),
    (lambda: nn.Conv2d(2, 2, 3, stride=2, padding="same"), "Conv2d: padding='same' .* needs stride 1"),
    (lambda: nn.Conv2d(2, 2, (3, 3, 3)), "Conv2d: kernel_size must be an int or a pair of ints"),
    (lambda: nn.ConvTranspose2d(2, 2, 3, stride=0), "ConvTranspose2d: stride must be >= 1"),
])
def test_bad_arguments_give_clear_errors(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_mixed_dtypes_are_refused():
    with pytest.raises(TypeError, match="float32, float64"):
        F.conv2d(mg.zeros(1, 1, 3, 3), mg.zeros(1, 1, 2, 2, dtype=mg.float64))


# --- PyTorch as an oracle ----------------------------------------------------------------------

def _torch_case(rng, transpose, groups):
    """A random configuration (as keyword arguments) that both libraries accept."""
    kernel, stride, dilation = [tuple(int(v) for v in rng.integers(1, hi, 2)) for hi in (4, 4, 3)]
    if transpose:
        output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        size = tuple(int(v) for v in rng.integers(1, 5, 2))
        padding = tuple(int(rng.integers(0, min(2, ((g - 1) * s + d * (k - 1) + op) // 2) + 1))
                        for g, s, d, k, op in zip(size, stride, dilation, kernel, output_padding))
        params = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
    else:
        padding = tuple(int(v) for v in rng.integers(0, 3, 2))
        size = tuple(int(rng.integers(max(1, d * (k - 1) + 1 - 2 * p), 8))
                     for k, d, p in zip(kernel, dilation, padding))
        params = dict(stride=stride, padding=padding, dilation=dilation)
    c_in, c_out = (groups * int(v) for v in rng.integers(1, 3, 2))  # 1 or 2 a group; 1 input channel: depthwise
    x_shape = (int(rng.integers(1, 3)), c_in) + size
    w_shape = ((c_in, c_out // groups) if transpose else (c_out, c_in // groups)) + kernel
    return x_shape, w_shape, c_out, dict(params, groups=groups)


@pytest.mark.parametrize("transpose", [False, True], ids=["conv2d", "conv_transpose2d"])
@pytest.mark.parametrize("seed", range(6))
def test_matches_torch_values_gradients_and_second_derivatives(transpose, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x_shape, w_shape, c_out, params = _torch_case(rng, transpose, groups=1 + seed % 3)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(c_out)
    ours_fn = F.conv_transpose2d if transpose else F.conv2d
    torch_fn = torch.nn.functional.conv_transpose2d if transpose else torch.nn.functional.conv2d

    def run(lib_fn, tensor, grad, tanh):
        xs = [tensor(a) for a in (x, w, b)]
        y = tanh(lib_fn(*xs, **params))
        v = tensor(np.random.default_rng(seed + 100).standard_normal(tuple(y.shape)))
        gx, gw, gb = grad([y], xs, [v], create_graph=True)
        a, c = (tensor(np.random.default_rng(seed + k).standard_normal(s)) for k, s in ((200, x.shape), (300, w.shape)))
        second = grad([(gx * a).sum() + (gw * c).sum() + (gb * gb).sum()], xs + [v], None, create_graph=False)
        return [t.detach().numpy() for t in [y, gx, gw, gb, *second]]

    def torch_grad(outputs, inputs, grad_outputs, create_graph):
        return torch.autograd.grad(outputs, inputs, grad_outputs, create_graph=create_graph)

    def ours_grad(outputs, inputs, grad_outputs, create_graph):
        return mg.grad(outputs, inputs, grad_outputs, create_graph=create_graph)

    theirs = run(torch_fn, lambda a: torch.tensor(a, requires_grad=True), torch_grad, torch.tanh)
    ours = run(ours_fn, param, ours_grad, mg.tanh)
    names = ["y", "dx", "dw", "db", "d2/dx", "d2/dw", "d2/db", "d2/dv"]
    for name, o, t in zip(names, ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-10, err_msg=f"{name} for {params}")


def test_gradient_penalty_second_and_third_derivatives_match_torch():
    """d/dw of a penalty on both first derivatives, and one derivative further, as PyTorch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 3, 2)) * 0.5

    def run(conv, tensor, grad, tanh):
        xt, wt = tensor(x), tensor(w)
        y = tanh(conv(xt, wt, stride=(2, 1), padding=(1, 0)))
        gx, gw = grad((y * y).sum(), [xt, wt], create_graph=True)
        penalty = (gx * gx).sum() + (gw * gw).sum()
        (dw,) = grad(penalty, [wt], create_graph=True)
        (d3x,) = grad((dw * dw).sum(), [xt], create_graph=False)  # third order
        return [t.detach().numpy() for t in (penalty, dw, d3x)]

    theirs = run(torch.nn.functional.conv2d, lambda a: torch.tensor(a, requires_grad=True),
                 lambda o, i, create_graph: torch.autograd.grad(o, i, create_graph=create_graph), torch.tanh)
    ours = run(F.conv2d, param, lambda o, i, create_graph: mg.grad(o, i, create_graph=create_graph), mg.tanh)
    for name, o, t in zip(["penalty", "d penalty/dw", "third derivative"], ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-10, err_msg=name)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kernel, dilation", [((2, 4), (1, 1)), ((3, 2), (2, 3)), ((1, 4), (1, 2))])
def test_same_padding_matches_torch(kernel, dilation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((2, 3) + kernel)
    expected = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding="same", dilation=dilation)
    ours = F.conv2d(param(x), param(w), padding="same", dilation=dilation)
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-10, atol=1e-10)


def test_grouped_gradient_penalty_matches_torch():
    """WGAN-GP's use of groups: the parameter gradients of a penalty on the input gradient (second
    derivatives), through a depthwise conv (two filters per channel) and a grouped transpose."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 2, 6, 5))
    weights = [rng.standard_normal((4, 1, 3, 3)) * 0.5, rng.standard_normal(4) * 0.1,  # conv2d, groups 2
               rng.standard_normal((4, 1, 2, 2)) * 0.5, rng.standard_normal(2) * 0.1]  # conv_transpose2d, groups 2

    def run(functional, tanh, tensor, grad):
        xt, *ps = (tensor(a) for a in [x, *weights])
        h = tanh(functional.conv2d(xt, ps[0], ps[1], stride=2, padding=1, groups=2))
        critic = tanh(functional.conv_transpose2d(h, ps[2], ps[3], stride=2, groups=2)).sum()
        (gx,) = grad(critic, [xt], create_graph=True)  # each sample's own gradient: the samples do not mix
        penalty = (((gx * gx).sum(dim=(1, 2, 3)) ** 0.5 - 1) ** 2).mean()
        return [t.detach().numpy() for t in [penalty, *grad(penalty, ps)]]

    theirs = run(torch.nn.functional, torch.tanh, lambda a: torch.tensor(a, requires_grad=True),
                 lambda o, i, create_graph=False: torch.autograd.grad(o, i, create_graph=create_graph))
    ours = run(F, mg.tanh, param, lambda o, i, create_graph=False: mg.grad(o, i, create_graph=create_graph))
    for name, o, t in zip(["penalty", "d/dw1", "d/db1", "d/dw2", "d/db2"], ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-10, err_msg=name)


# --- the layers -------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda nn: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
    lambda nn: nn.Conv2d(3, 6, 3, padding="same", padding_mode="reflect", groups=3),  # depthwise
    lambda nn: nn.Conv2d(4, 4, (2, 4), padding="same", dilation=(2, 1), padding_mode="circular", groups=4),
    lambda nn: nn.Conv2d(2, 3, (2, 3), padding="same", padding_mode="replicate"),  # odd extra row/column last
    lambda nn: nn.ConvTranspose2d(4, 6, 4, stride=2, padding=1, groups=2),
    lambda nn: nn.ConvTranspose2d(3, 3, 3, stride=2, padding=1, output_padding=1, groups=3, bias=False),
], ids=["grouped", "depthwise_reflect_same", "circular_same_even", "replicate_same", "transpose_grouped",
        "transpose_depthwise"])
def test_layers_match_torch(make):
    """Weight shapes, values and gradients, with the padding modes that pad through F.pad first."""
    torch = pytest.importorskip("torch")
    ours, theirs = make(nn).double(), make(torch.nn).double()
    assert ours.weight.shape == tuple(theirs.weight.shape)
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.tensor(p.numpy()))
    x = np.random.default_rng(0).standard_normal((2, ours.in_channels, 7, 6))
    results = []
    for layer, tensor in [(ours, param), (theirs, lambda a: torch.tensor(a, requires_grad=True))]:
        xt = tensor(x)
        y = layer(xt)
        (y * y).sum().backward()
        results.append([t.detach().numpy() for t in [y, xt.grad, *(p.grad for p in layer.parameters())]])
    for o, t in zip(*results):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("make, shape", [(lambda: nn.Conv2d(16, 32, 5, groups=4), (32, 4, 5, 5)),
                                         (lambda: nn.ConvTranspose2d(16, 32, 5, groups=4), (16, 8, 5, 5))])
def test_grouped_init_has_torchs_statistics(make, shape):
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, fan_in = weight dim 1 x kH x kW: the
    inputs of one group, as torch's weight shape gives it."""
    mg.manual_seed(0)
    layer = make()
    assert layer.weight.shape == shape and layer.bias.shape == (32,)
    bound = 1 / np.sqrt(shape[1] * 25)
    w = layer.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.05)  # the std of U(-a, a) is a / sqrt(3)
    assert np.abs(layer.bias.numpy()).max() <= bound


def test_repr_shows_groups_when_not_one():
    assert repr(nn.Conv2d(4, 6, 3, groups=2)) == "Conv2d(4, 6, kernel_size=(3, 3), stride=(1, 1), groups=2)"
    assert repr(nn.ConvTranspose2d(4, 6, 4, 2, 1, groups=2, bias=False)) == (
        "ConvTranspose2d(4, 6, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), groups=2, bias=False)")
    assert "groups" not in repr(nn.Conv2d(4, 6, 3))
