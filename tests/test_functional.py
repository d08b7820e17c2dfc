"""Tests of minigan.nn.functional's layers and losses: linear, dropout, embedding, batch_norm,
layer_norm and the five losses (conv and pooling are tested on their own).

- gradcheck and gradgradcheck (float64, finite differences) for every function and every
  argument it is differentiable in, over shapes drawn by hypothesis (size-1 dims included);
- PyTorch as an oracle for values, gradients and second derivatives, where torch is installed;
- numerical stability, dtypes, and the error messages for bad input.
"""
import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.nn import functional as F

FAST = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**16)
sizes = st.integers(1, 3)
REDUCTIONS = ["mean", "sum", "none"]
reductions = st.sampled_from(REDUCTIONS)


def leaf(array, requires_grad=True):
    """A float64 leaf tensor (gradcheck needs double precision)."""
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def check_gradients(fn, *inputs):
    """First derivatives, and those of the backward pass itself, against finite differences."""
    assert mg.gradcheck(fn, inputs)
    assert mg.gradgradcheck(fn, inputs)


def assert_close(ours, theirs, what):
    """Equal to rounding; None (no gradient: a zero one) on one side stands for zeros."""
    theirs = np.zeros(ours.shape) if theirs is None else theirs.detach().numpy()
    ours = np.zeros(theirs.shape) if ours is None else ours.numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12, err_msg=what)


def assert_matches_torch(mg_fn, torch_fn, arrays, wrt):
    """``mg_fn`` and ``torch_fn`` agree on values, gradients and second derivatives, in float64.

    ``arrays``: the tensor arguments as NumPy arrays; ``wrt``: the positions to differentiate.
    Gradients are vector-Jacobian products with a random v; second derivatives are the gradients
    of <gradients, u> for a random u, so every entry of the second-order tensor is probed.
    """
    import torch

    rng = np.random.default_rng(0)
    ours = [mg.tensor(a, requires_grad=i in wrt) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=i in wrt) for i, a in enumerate(arrays)]
    out, ref = mg_fn(*ours), torch_fn(*theirs)
    assert out.dtype == np.float64 and out.shape == tuple(ref.shape)
    assert_close(out, ref, "values")
    if not wrt:
        return
    v = np.asarray(rng.standard_normal(out.shape))
    grads = mg.grad(out, [ours[i] for i in wrt], grad_outputs=mg.tensor(v), create_graph=True)
    ref_grads = torch.autograd.grad(ref, [theirs[i] for i in wrt], grad_outputs=torch.tensor(v), create_graph=True)
    for i, g, r in zip(wrt, grads, ref_grads):
        assert_close(g, r, f"gradient of argument {i}")
    u = [np.asarray(rng.standard_normal(g.shape)) for g in grads]
    s = sum((g * mg.tensor(w)).sum() for g, w in zip(grads, u))
    ref_s = sum((g * torch.tensor(w)).sum() for g, w in zip(ref_grads, u))
    second = (mg.grad(s, [ours[i] for i in wrt], allow_unused=True) if s.requires_grad else [None] * len(wrt))
    ref_second = (torch.autograd.grad(ref_s, [theirs[i] for i in wrt], allow_unused=True)
                  if ref_s.requires_grad else [None] * len(wrt))
    for i, h, r in zip(wrt, second, ref_second):
        if h is not None or r is not None:
            assert_close(h, r, f"second derivative of argument {i}")


@contextlib.contextmanager
def no_float_trouble():
    """Every warning an error, every floating-point exception raised, except underflow to 0:
    e^{-10000} is 0 to any precision, and NumPy ignores that by default too."""
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


# --- linear ---------------------------------------------------------------------------------------

@FAST
@given(lead=st.lists(sizes, max_size=2), n_in=sizes, n_out=sizes, with_bias=st.booleans(), seed=seeds)
def test_linear_gradients(lead, n_in, n_out, with_bias, seed):
    rng = np.random.default_rng(seed)
    x, w = leaf(rng.standard_normal((*lead, n_in))), leaf(rng.standard_normal((n_out, n_in)))
    if with_bias:
        check_gradients(F.linear, x, w, leaf(rng.standard_normal(n_out)))
    else:
        check_gradients(lambda x, w: F.linear(x, w), x, w)


@pytest.mark.parametrize("shape", [(4,), (1, 4), (3, 4), (2, 1, 4)])
def test_linear_matches_torch(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(shape), rng.standard_normal((3, 4)), rng.standard_normal(3)]
    assert_matches_torch(F.linear, torch.nn.functional.linear, arrays, wrt=(0, 1, 2))


def test_linear_weight_gradient_comes_in_the_weights_layout():
    # The optimizer reads it in blocks of rows, which a transposed view would scatter over memory.
    x, w = leaf(np.ones((5, 3))), leaf(np.ones((4, 3)))
    F.linear(x, w).sum().backward()
    (gw,) = mg.grad(F.linear(x, w).sum(), [w])
    assert w.grad.data.flags.c_contiguous and gw.data.flags.c_contiguous
    np.testing.assert_array_equal(w.grad.numpy(), np.full((4, 3), 5.0))


# --- dropout --------------------------------------------------------------------------------------

@FAST
@given(shape=st.lists(sizes, max_size=3), p=st.sampled_from([0.0, 0.25, 0.5, 1.0]), seed=seeds)
def test_dropout_gradients(shape, p, seed):
    def fn(x):
        mg.manual_seed(seed)  # the same mask every time finite differences call it
        return F.dropout(x, p)

    check_gradients(fn, leaf(np.random.default_rng(seed).standard_normal(shape)))


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_keeps_the_expectation(p):
    mg.manual_seed(0)
    n = 200_000
    x = mg.ones(n, requires_grad=True)
    y = F.dropout(x, p)
    assert y.dtype == np.float32
    values = y.numpy()
    kept = values != 0
    # The number kept is Binomial(n, 1 - p): within 5 standard deviations of n (1 - p).
    assert abs(kept.sum() - n * (1 - p)) < 5 * np.sqrt(n * p * (1 - p))
    np.testing.assert_allclose(values[kept], 1 / (1 - p), rtol=1e-6)
    (g,) = mg.grad(y.sum(), x)
    np.testing.assert_array_equal(g.numpy(), values)  # dy/dx is the scaled mask itself


def test_dropout_edge_cases():
    x = mg.randn(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    assert np.all(y.numpy() == 0)
    (g,) = mg.grad(y.sum(), x)
    assert np.all(g.numpy() == 0)
    mg.manual_seed(7)
    a = F.dropout(x, 0.5).numpy()
    mg.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), a)


def test_dropout_inplace():
    x = mg.ones(1000)
    data = x.data
    mg.manual_seed(0)
    assert F.dropout(x, 0.5, inplace=True) is x
    assert x.data is data and set(np.unique(data)) == {0.0, 2.0}
    with pytest.raises(RuntimeError, match="dropout: inplace=True"):
        F.dropout(mg.ones(3, requires_grad=True), 0.5, inplace=True)


@pytest.mark.parametrize("p", [0.0, 0.3, 0.9, 1.0])
def test_dropout_statistics_match_torch(p):
    torch = pytest.importorskip("torch")
    n = 100_000
    ours = F.dropout(mg.ones(n, dtype=np.float64), p).numpy()
    theirs = torch.nn.functional.dropout(torch.ones(n, dtype=torch.float64), p).numpy()
    np.testing.assert_allclose(np.unique(ours), np.unique(theirs), rtol=1e-12)  # {0, 1/(1-p)}
    sigma = np.sqrt(p * (1 - p) / n)
    assert abs(np.mean(ours == 0) - np.mean(theirs == 0)) <= 10 * sigma


# --- embedding ------------------------------------------------------------------------------------

@FAST
@given(data=st.data(), n=st.integers(1, 4), dim=sizes, index_shape=st.lists(sizes, max_size=2), seed=seeds)
def test_embedding_gradients(data, n, dim, index_shape, seed):
    rng = np.random.default_rng(seed)
    index = mg.tensor(rng.integers(0, n, index_shape))
    padding_idx = data.draw(st.none() | st.integers(-n, n - 1))
    weight = leaf(rng.standard_normal((n, dim)))
    check_gradients(lambda w: F.embedding(index, w), weight)
    # padding_idx changes no value, only the gradient (so finite differences cannot check it):
    # the padding row's is zeroed, the others are those of the plain lookup.
    v = mg.tensor(rng.standard_normal((*index_shape, dim)))
    out = F.embedding(index, weight, padding_idx=padding_idx)
    assert out.shape == (*index_shape, dim)
    np.testing.assert_array_equal(out.numpy(), F.embedding(index, weight).numpy())
    (g,) = mg.grad(out, weight, grad_outputs=v)
    (expected,) = mg.grad(F.embedding(index, weight), weight, grad_outputs=v)
    expected = expected.numpy().copy()
    if padding_idx is not None:
        expected[padding_idx] = 0
    np.testing.assert_array_equal(g.numpy(), expected)


def test_one_hot_as_torch():
    out = F.one_hot(mg.tensor([[0, 2], [1, 2]]), 4)
    assert out.dtype == np.int64 and out.shape == (2, 2, 4)
    assert out.numpy().tolist() == [[[1, 0, 0, 0], [0, 0, 1, 0]], [[0, 1, 0, 0], [0, 0, 1, 0]]]
    assert F.one_hot(mg.tensor([1, 3])).shape == (2, 4)  # num_classes=-1: the largest class + 1
    with pytest.raises(IndexError, match=r"one_hot: classes must lie in \[0, 3\), got values in \[0, 3\]"):
        F.one_hot(mg.tensor([0, 3]), 3)
    with pytest.raises(TypeError, match="one_hot: expected integer classes, got dtype float32"):
        F.one_hot(mg.tensor([0.0]), 3)
    with pytest.raises(IndexError, match=r"got values in \[-1, 0\]"):
        F.one_hot(mg.tensor([-1, 0]), 3)
    with pytest.raises(ValueError, match="one_hot: num_classes must be -1 or positive, got -3"):
        F.one_hot(mg.tensor([0]), -3)
    with pytest.raises(ValueError, match="cannot infer num_classes from an empty tensor"):
        F.one_hot(mg.tensor(np.zeros(0, dtype=np.int64)))


def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch")
    classes = np.array([[3, 0, 1], [2, 2, 4]])
    for k in (-1, 5, 7):
        expected = torch.nn.functional.one_hot(torch.from_numpy(classes), k).numpy()
        assert np.array_equal(F.one_hot(mg.tensor(classes), k).numpy(), expected) and expected.dtype == np.int64


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    index = np.array([[0, 2, 2], [4, 1, 2]])
    assert_matches_torch(lambda w: F.embedding(mg.tensor(index), w, padding_idx=padding_idx),
                         lambda w: torch.nn.functional.embedding(torch.tensor(index), w, padding_idx=padding_idx),
                         [rng.standard_normal((5, 3))], wrt=(0,))


def test_embedding_max_norm_matches_torch():
    torch = pytest.importorskip("torch")
    table = np.random.default_rng(3).standard_normal((5, 4)) * 2
    index = np.array([0, 3, 3, 1])
    ours, theirs = mg.tensor(table), torch.tensor(table)
    out = F.embedding(mg.tensor(index), ours, max_norm=1.5, norm_type=1.0)
    ref = torch.nn.functional.embedding(torch.tensor(index), theirs, max_norm=1.5, norm_type=1.0)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)  # the table itself, renormed in place


# --- batch_norm -----------------------------------------------------------------------------------

@FAST
@given(n=sizes, c=sizes, spatial=st.lists(st.integers(1, 2), max_size=2), training=st.booleans(),
       affine=st.booleans(), seed=seeds)
def test_batch_norm_gradients(n, c, spatial, training, affine, seed):
    shape = (n, c, *spatial)
    assume(not training or np.prod(shape) // c > 1)  # training needs more than one value per channel
    rng = np.random.default_rng(seed)
    running_mean, running_var = mg.tensor(rng.standard_normal(c)), mg.tensor(rng.uniform(0.5, 2, c))
    x = leaf(rng.standard_normal(shape))
    if affine:
        w, b = leaf(rng.standard_normal(c)), leaf(rng.standard_normal(c))
        check_gradients(lambda x, w, b: F.batch_norm(x, running_mean, running_var, w, b, training), x, w, b)
    else:
        check_gradients(lambda x: F.batch_norm(x, running_mean, running_var, training=training), x)


@pytest.mark.parametrize("shape", [(6, 3), (1, 3, 4), (4, 3, 2), (2, 3, 2, 2), (3, 1, 1, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(shape, training):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    c = shape[1]
    mean0, var0 = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    ours = mg.tensor(mean0), mg.tensor(var0)
    theirs = torch.tensor(mean0), torch.tensor(var0)
    buffers = ours[0].data, ours[1].data
    arrays = [rng.standard_normal(shape) * 3 + 1, rng.standard_normal(c), rng.standard_normal(c)]
    assert_matches_torch(lambda x, w, b: F.batch_norm(x, *ours, w, b, training, 0.3, 1e-3),
                         lambda x, w, b: torch.nn.functional.batch_norm(x, *theirs, w, b, training, 0.3, 1e-3),
                         arrays, wrt=(0, 1, 2))
    for mine, ref in zip(ours, theirs):  # the running statistics, updated with the unbiased variance
        np.testing.assert_allclose(mine.numpy(), ref.numpy(), rtol=1e-12)
    assert ours[0].data is buffers[0] and ours[1].data is buffers[1]  # in place, as module buffers need
    if not training:
        np.testing.assert_array_equal(ours[0].numpy(), mean0)


def test_batch_norm_without_running_stats_or_affine_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).standard_normal((4, 2, 3))
    assert_matches_torch(lambda x: F.batch_norm(x, None, None, training=True),
                         lambda x: torch.nn.functional.batch_norm(x, None, None, training=True), [x], wrt=(0,))


def test_batch_norm_float32_stays_float32():
    running_mean, running_var = mg.zeros(3), mg.ones(3)
    x, w, b = mg.randn(4, 3, 2, requires_grad=True), mg.ones(3, requires_grad=True), mg.zeros(3, requires_grad=True)
    y = F.batch_norm(x, running_mean, running_var, w, b, training=True)
    grads = mg.grad(y.sum(), [x, w, b])
    assert {y.dtype, running_mean.dtype, running_var.dtype, *(g.dtype for g in grads)} == {np.dtype(np.float32)}


# --- layer_norm -----------------------------------------------------------------------------------

@FAST
@given(data=st.data(), shape=st.lists(sizes, min_size=1, max_size=3), affine=st.booleans(), seed=seeds)
def test_layer_norm_gradients(data, shape, affine, seed):
    k = data.draw(st.integers(1, len(shape)))
    normalized = tuple(shape[-k:])
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal(shape))
    if affine:
        w, b = leaf(rng.standard_normal(normalized)), leaf(rng.standard_normal(normalized))
        check_gradients(lambda x, w, b: F.layer_norm(x, normalized, w, b), x, w, b)
    else:
        check_gradients(lambda x: F.layer_norm(x, normalized), x)


@pytest.mark.parametrize("shape, normalized", [((4, 5), 5), ((2, 3, 4), (3, 4)), ((1, 3, 1), (1,)), ((3,), [3])])
def test_layer_norm_matches_torch(shape, normalized):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    tail = (normalized,) if isinstance(normalized, int) else tuple(normalized)
    arrays = [rng.standard_normal(shape) * 2, rng.standard_normal(tail), rng.standard_normal(tail)]
    assert_matches_torch(lambda x, w, b: F.layer_norm(x, normalized, w, b, 1e-3),
                         lambda x, w, b: torch.nn.functional.layer_norm(x, tail, w, b, 1e-3),
                         arrays, wrt=(0, 1, 2))


# --- losses: gradients ----------------------------------------------------------------------------

shapes = st.lists(sizes, max_size=3)


@FAST
@given(shape=shapes, reduction=reductions, weighted=st.booleans(), seed=seeds)
def test_binary_cross_entropy_gradients(shape, reduction, weighted, seed):
    rng = np.random.default_rng(seed)
    x, t = leaf(rng.uniform(0.05, 0.95, shape)), leaf(rng.uniform(0, 1, shape))
    w = leaf(rng.uniform(0.5, 2, shape[-1:])) if weighted else None  # broadcast over the rest
    check_gradients(lambda x, t: F.binary_cross_entropy(x, t, w, reduction), x, t)
    if weighted:
        check_gradients(lambda w: F.binary_cross_entropy(x, t, w, reduction), w)


@FAST
@given(shape=shapes, reduction=reductions, weighted=st.booleans(), seed=seeds)
def test_binary_cross_entropy_with_logits_gradients(shape, reduction, weighted, seed):
    rng = np.random.default_rng(seed)
    x, t = leaf(rng.standard_normal(shape) * 3), leaf(rng.uniform(0, 1, shape))
    w, pos = (leaf(rng.uniform(0.5, 2, shape)), leaf(rng.uniform(0.5, 2, shape[-1:]))) if weighted else (None, None)
    inputs = (x, t) + ((w, pos) if weighted else ())
    check_gradients(lambda x, t, w=None, pos=None: F.binary_cross_entropy_with_logits(x, t, w, reduction, pos),
                    *inputs)


@FAST
@given(shape=shapes, reduction=reductions, seed=seeds)
def test_mse_loss_gradients(shape, reduction, seed):
    rng = np.random.default_rng(seed)
    check_gradients(lambda x, t: F.mse_loss(x, t, reduction), leaf(rng.standard_normal(shape)),
                    leaf(rng.standard_normal(shape)))


class_shapes = st.sampled_from([(3,), (1, 3), (2, 1), (3, 4), (2, 3, 2), (1, 2, 1, 2)])


def class_targets(rng, shape, ignore):
    """Integer classes for logits of ``shape`` (classes along dim 1, or dim 0 if unbatched),
    some set to ``ignore`` (-100) when asked, never all of them."""
    class_dim = min(1, len(shape) - 1)
    target_shape = shape[:class_dim] + shape[class_dim + 1:]
    target = rng.integers(0, shape[class_dim], target_shape)
    if ignore and target.size > 1:
        target.reshape(-1)[rng.permutation(target.size)[: target.size // 2]] = -100
    return mg.tensor(target)


@FAST
@given(shape=class_shapes, reduction=reductions, weighted=st.booleans(), ignore=st.booleans(), seed=seeds)
def test_nll_loss_gradients(shape, reduction, weighted, ignore, seed):
    rng = np.random.default_rng(seed)
    target = class_targets(rng, shape, ignore)
    x = leaf(rng.standard_normal(shape))
    w = leaf(rng.uniform(0.5, 2, shape[min(1, len(shape) - 1)]))
    if weighted:
        check_gradients(lambda x, w: F.nll_loss(x, target, w, reduction=reduction), x, w)
    else:
        check_gradients(lambda x: F.nll_loss(x, target, reduction=reduction), x)


@FAST
@given(shape=class_shapes, reduction=reductions, weighted=st.booleans(), ignore=st.booleans(),
       smoothing=st.sampled_from([0.0, 0.3]), probabilities=st.booleans(), seed=seeds)
def test_cross_entropy_gradients(shape, reduction, weighted, ignore, smoothing, probabilities, seed):
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal(shape) * 2)
    w = leaf(rng.uniform(0.5, 2, shape[min(1, len(shape) - 1)])) if weighted else None
    inputs = (x,) + ((w,) if weighted else ())
    if probabilities:
        target = leaf(rng.uniform(0, 1, shape))
        inputs += (target,)
        def fn(x, *rest):
            return F.cross_entropy(x, rest[-1], rest[0] if weighted else None, reduction=reduction,
                                   label_smoothing=smoothing)
    else:
        target = class_targets(rng, shape, ignore)
        def fn(x, w=None):
            return F.cross_entropy(x, target, w, reduction=reduction, label_smoothing=smoothing)
    check_gradients(fn, *inputs)


# --- losses: PyTorch as the oracle ----------------------------------------------------------------

def loss_cases(torch):
    """name -> (minigan call, torch call, float64 arrays, positions torch differentiates)."""
    rng = np.random.default_rng(8)
    TF = torch.nn.functional
    p, t, w = rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3)), rng.uniform(0.5, 2, (4, 3))
    logits, pos = rng.standard_normal((4, 3)) * 3, rng.uniform(0.5, 2, 3)
    classes = rng.integers(0, 5, (3, 2))
    classes[0, 1] = -100
    class_weight = rng.uniform(0.5, 2, 5)
    ce_logits, probabilities = rng.standard_normal((3, 5, 2)) * 2, rng.dirichlet(np.ones(5), (3, 2)).transpose(0, 2, 1)

    def pair(name, **options):
        """The loss ``name`` of both libraries, with ``options`` (arrays become each one's tensors)."""
        def bind(fn, tensor):
            fixed = {k: tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
            return lambda *args, reduction: fn(*args, reduction=reduction, **fixed)
        return bind(getattr(F, name), mg.tensor), bind(getattr(TF, name), torch.tensor)

    return {
        "bce": (*pair("binary_cross_entropy", weight=w), [p, t], (0, 1)),
        "bce_with_logits": (*pair("binary_cross_entropy_with_logits", weight=w, pos_weight=pos), [logits, t], (0, 1)),
        "mse": (*pair("mse_loss"), [logits, t], (0, 1)),
        "nll": (*pair("nll_loss", weight=class_weight), [ce_logits, classes], (0,)),
        "nll_unweighted": (*pair("nll_loss"), [ce_logits, classes], (0,)),
        "cross_entropy": (*pair("cross_entropy", weight=class_weight, label_smoothing=0.2), [ce_logits, classes], (0,)),
        "cross_entropy_2d": (*pair("cross_entropy"), [ce_logits[:, :, 0], classes[:, 0]], (0,)),
        "cross_entropy_unbatched": (*pair("cross_entropy", label_smoothing=0.1),
                                    [ce_logits[0, :, 0], classes[1, 0]], (0,)),
        "cross_entropy_probabilities": (*pair("cross_entropy", weight=class_weight, label_smoothing=0.1),
                                        [ce_logits, probabilities], (0, 1)),
    }


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["bce", "bce_with_logits", "mse", "nll", "nll_unweighted", "cross_entropy",
                                  "cross_entropy_2d", "cross_entropy_unbatched", "cross_entropy_probabilities"])
def test_losses_match_torch(name, reduction):
    torch = pytest.importorskip("torch")
    ours, theirs, arrays, wrt = loss_cases(torch)[name]
    assert_matches_torch(lambda *a: ours(*a, reduction=reduction), lambda *a: theirs(*a, reduction=reduction),
                         arrays, wrt)


def test_nll_loss_when_every_target_is_ignored_matches_torch():
    torch = pytest.importorskip("torch")
    x, target = np.zeros((2, 3)), np.array([-100, -100])
    for reduction in REDUCTIONS:
        with np.errstate(invalid="ignore"):  # 0 / 0: the mean of nothing is nan, as in torch
            ours = F.nll_loss(mg.tensor(x), mg.tensor(target), reduction=reduction).numpy()
        theirs = torch.nn.functional.nll_loss(torch.tensor(x), torch.tensor(target), reduction=reduction).numpy()
        np.testing.assert_array_equal(ours, theirs)


# --- losses: stability and dtypes -----------------------------------------------------------------

def test_logit_losses_are_exact_at_huge_logits():
    x = leaf([1e4, -1e4, 1e4, -1e4])
    t = leaf([1.0, 1.0, 0.0, 0.0], requires_grad=False)
    with no_float_trouble():
        loss = F.binary_cross_entropy_with_logits(x, t, reduction="none", pos_weight=mg.tensor(np.float64(2.0)))
        (g,) = mg.grad(loss.sum(), x, create_graph=True)
        (h,) = mg.grad(g.sum(), x)
        logits = leaf([[1e4, -1e4], [-1e4, 1e4]])
        ce = F.cross_entropy(logits, mg.tensor([0, 0]), reduction="none")
        (ce_grad,) = mg.grad(ce.sum(), logits)
    np.testing.assert_array_equal(loss.numpy(), [0, 2e4, 1e4, 0])
    np.testing.assert_array_equal(g.numpy(), [0, -2, 1, 0])  # (1 - t) - (1 + (p - 1) t) sigma(-x)
    np.testing.assert_array_equal(h.numpy(), [0, 0, 0, 0])
    np.testing.assert_array_equal(ce.numpy(), [0, 2e4])
    np.testing.assert_array_equal(ce_grad.numpy(), [[0, 0], [-1, 1]])  # softmax - one_hot


def test_binary_cross_entropy_clamps_its_logs():
    x = leaf([0.0, 1.0, 1.0, 0.0])
    t = leaf([0.0, 1.0, 0.0, 1.0], requires_grad=False)
    with no_float_trouble():
        loss = F.binary_cross_entropy(x, t, reduction="none")
        (g,) = mg.grad(loss.sum(), x)
    np.testing.assert_array_equal(loss.numpy(), [0, 0, 100, 100])  # log 0 counts as -100, as in torch
    assert np.all(np.isfinite(g.numpy()))


def test_huge_logits_in_float32():
    with no_float_trouble():
        x = mg.tensor([1e4, -1e4], requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(x, mg.tensor([0.0, 1.0]), reduction="sum")
        (g,) = mg.grad(loss, x)
    assert loss.dtype == g.dtype == np.float32
    assert loss.item() == 2e4 and g.tolist() == [1, -1]


FLOAT32_CALLS = {
    "linear": lambda x: F.linear(x, mg.ones(3, 4), mg.ones(3)),
    "dropout": lambda x: F.dropout(x, 0.5),
    "embedding": lambda w: F.embedding(mg.tensor([[1, 0]]), w.reshape(-1, 2), padding_idx=0),
    "batch_norm_eval": lambda x: F.batch_norm(x, mg.zeros(4), mg.ones(4), training=False),
    "layer_norm": lambda x: F.layer_norm(x, 4, mg.ones(4), mg.zeros(4)),
    "bce": lambda x: F.binary_cross_entropy(x.sigmoid(), mg.rand(2, 4), mg.ones(4)),
    "bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, mg.rand(2, 4), pos_weight=mg.ones(4)),
    "mse": lambda x: F.mse_loss(x, mg.zeros(2, 4)),
    "cross_entropy": lambda x: F.cross_entropy(x, mg.tensor([3, 1]), mg.ones(4), label_smoothing=0.1),
    "cross_entropy_probabilities": lambda x: F.cross_entropy(x, mg.rand(2, 4)),
    "nll": lambda x: F.nll_loss(x, mg.tensor([3, -100]), mg.ones(4)),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_CALLS))
def test_float32_stays_float32(name):
    x = mg.randn(2, 4, requires_grad=True)
    y = FLOAT32_CALLS[name](x)
    (g,) = mg.grad(y.sum(), x)
    assert y.dtype == g.dtype == np.float32


# --- clear errors ---------------------------------------------------------------------------------

ERRORS = [
    (lambda: F.linear(mg.ones(2, 3), mg.ones(4, 5)), ValueError, r"linear: .*\(2, 3\).*\(4, 5\)"),
    (lambda: F.linear(mg.ones(2, 3), mg.ones(4, 3), mg.ones(3)), ValueError, r"linear: bias .*\(4,\)"),
    (lambda: F.dropout(mg.ones(2), 1.5), ValueError, "dropout: .*1.5"),
    (lambda: F.embedding(mg.tensor([0, 5]), mg.ones(3, 2)), IndexError, r"embedding: .*\[0, 3\)"),
    (lambda: F.embedding(mg.tensor([-1]), mg.ones(3, 2)), IndexError, "embedding"),
    (lambda: F.embedding(mg.ones(2), mg.ones(3, 2)), TypeError, "embedding: .*integer.*float32"),
    (lambda: F.embedding(mg.tensor([0]), mg.ones(3, 2), padding_idx=3), ValueError, "embedding: padding_idx 3"),
    (lambda: F.batch_norm(mg.ones(4, 3), mg.zeros(4), mg.ones(3)), ValueError,
     r"batch_norm: running_mean should have shape \(3,\).*\(4, 3\).*\(4,\)"),
    (lambda: F.batch_norm(mg.ones(4, 3), None, None, mg.ones(2), training=True), ValueError, "batch_norm: weight"),
    (lambda: F.batch_norm(mg.ones(3), None, None, training=True), ValueError, r"batch_norm: .*\(3,\)"),
    (lambda: F.batch_norm(mg.ones(1, 3), None, None, training=True), ValueError,
     r"batch_norm: expected more than 1 value per channel.*\(1, 3\)"),
    (lambda: F.batch_norm(mg.ones(4, 3), None, None), ValueError, "batch_norm: running_mean and running_var"),
    (lambda: F.layer_norm(mg.ones(3, 4), 5), ValueError, r"layer_norm: normalized_shape \(5,\).*\(3, 4\)"),
    (lambda: F.layer_norm(mg.ones(3, 4), 4, mg.ones(3)), ValueError, r"layer_norm: weight .*\(4,\)"),
    (lambda: F.binary_cross_entropy(mg.rand(3, 1), mg.rand(3)), ValueError,
     r"binary_cross_entropy: target of shape \(3,\).*\(3, 1\)"),
    (lambda: F.binary_cross_entropy(mg.tensor([1.5]), mg.tensor([1.0])), ValueError, "between 0 and 1"),
    (lambda: F.binary_cross_entropy(mg.rand(3, 2), mg.rand(3, 2), mg.ones(3)), ValueError,
     r"binary_cross_entropy: weight of shape \(3,\)"),
    (lambda: F.binary_cross_entropy_with_logits(mg.ones(3, 1), mg.ones(3)), ValueError,
     r"binary_cross_entropy_with_logits: target of shape \(3,\)"),
    (lambda: F.binary_cross_entropy_with_logits(mg.ones(3, 2), mg.ones(3, 2), pos_weight=mg.ones(3)), ValueError,
     r"binary_cross_entropy_with_logits: pos_weight of shape \(3,\)"),
    (lambda: F.mse_loss(mg.ones(3), mg.ones(4)), ValueError, r"mse_loss: .*\(4,\).*\(3,\)"),
    (lambda: F.mse_loss(mg.ones(3), mg.ones(3), reduction="avg"), ValueError, "mse_loss: reduction .*'avg'"),
    (lambda: F.cross_entropy(mg.ones(3, 4), mg.tensor([0, 1])), ValueError,
     r"cross_entropy: for input of shape \(3, 4\), target must be .*\(3,\).*int64 of shape \(2,\)"),
    (lambda: F.cross_entropy(mg.ones(3, 4), mg.ones(3)), ValueError, "cross_entropy: .*float32 of shape"),
    (lambda: F.cross_entropy(mg.ones(3, 4), mg.tensor([0, 1, 4])), IndexError, "cross_entropy: target 4 is out"),
    (lambda: F.cross_entropy(mg.ones(3, 4), mg.tensor([0, 1, 2]), mg.ones(3)), ValueError,
     r"cross_entropy: weight .*\(4,\).*\(3,\)"),
    (lambda: F.cross_entropy(mg.ones(3, 4), mg.tensor([0, 1, 2]), label_smoothing=1.5), ValueError, "label_smoothing"),
    (lambda: F.cross_entropy(mg.ones(3, 4), mg.rand(3, 4), ignore_index=0), ValueError, "ignore_index"),
    (lambda: F.nll_loss(mg.ones(3, 4), mg.tensor([0, -2, 1])), IndexError, "nll_loss: target -2 is out"),
    (lambda: F.nll_loss(mg.ones(3, 4, 2), mg.tensor([0, 1, 1])), ValueError, r"nll_loss: .*\(3, 2\)"),
]


@pytest.mark.parametrize("call, error, message", ERRORS, ids=[m[:30] for _, _, m in ERRORS])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_mse_loss_warns_when_shapes_differ():
    with pytest.warns(UserWarning, match=r"mse_loss: target of shape \(3,\) differs from input of shape \(3, 1\)"):
        assert F.mse_loss(mg.ones(3, 1), mg.ones(3), reduction="none").shape == (3, 3)
