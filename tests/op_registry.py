"""Every op that minigan exports, with what the tests need to check it.

The tests enumerate this registry: each entry gets a gradcheck, a gradgradcheck, hypothesis
property tests over shapes, a float32 check and (with torch installed) a PyTorch oracle test.
`test_ops.py` fails if an exported op has no entry here, so a new op cannot slip through untested.

An entry builds its inputs from *domains*, chosen so that finite differences are meaningful:
'real' (normal), 'positive' (away from 0, for log/sqrt/pow), 'nonzero' (away from the kink of
abs/relu/clamp), 'distinct' (no ties, for max/min).
"""
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigan as mg


def sample(rng, shape, domain="real"):
    shape = tuple(shape)
    if domain == "real":
        return rng.standard_normal(shape)
    if domain == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "nonzero":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 2.0, shape)
    if domain == "distinct":  # a shuffled grid: no two values closer than 0.1
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.1 - 0.05 * n).reshape(shape) if n else np.zeros(shape)
    raise ValueError(domain)


@dataclass
class OpSpec:
    """How to test one op.

    fn(*tensors, **params) -> Tensor or tuple; shapes/domains build the gradcheck inputs;
    ref(*arrays, **params) is the NumPy reference; torch_fn(torch, *tensors, **params) the oracle;
    draw(data) -> (shapes, params) draws a random case for the property tests.
    """

    name: str
    fn: object
    shapes: list
    domains: list
    ref: object
    torch_fn: object = None
    params: dict = field(default_factory=dict)
    draw: object = None
    differentiable: bool = True
    gradcheck_kwargs: dict = field(default_factory=dict)

    @property
    def op(self):
        return self.name.split("[")[0]

    def inputs(self, rng, dtype=np.float64, shapes=None, requires_grad=True):
        shapes = self.shapes if shapes is None else shapes
        return [mg.tensor(sample(rng, s, d).astype(dtype), requires_grad=requires_grad and self.differentiable)
                for s, d in zip(shapes, self.domains)]

    def __call__(self, *tensors, params=None):
        return self.fn(*tensors, **(self.params if params is None else params))


# --- hypothesis strategies: shapes with size-0 and size-1 sides ---------------------------
any_shape = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)
nonempty_shape = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4)


def draw_unary(data):
    return [data.draw(any_shape)], {}


def draw_binary(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4))
    return list(shapes.input_shapes), {}


def draw_dim(data, shape, allow_none=True, allow_tuple=True):
    """A dim argument for ``shape``: None, an int (maybe negative) or a tuple of ints."""
    options = [st.just(None)] if allow_none else []
    if shape:
        options.append(st.integers(-len(shape), len(shape) - 1))
        if allow_tuple:
            options.append(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape),
                                    unique=True).map(tuple))
    return data.draw(st.one_of(options))


def draw_reduction(data, allow_tuple=True, allow_none=True, nonempty=False):
    shape = data.draw(nonempty_shape if nonempty else any_shape)
    if not shape and not allow_none:
        shape = (2,)
    return [shape], {"dim": draw_dim(data, shape, allow_none, allow_tuple), "keepdim": data.draw(st.booleans())}


def draw_softmax(data):
    shape = data.draw(nonempty_shape)
    return [shape], {"dim": data.draw(st.integers(-len(shape), len(shape) - 1))}


def draw_matmul(data):
    batch = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3))
    n, k, m = (data.draw(st.integers(0, 4)) for _ in range(3))
    a = (k,) if data.draw(st.booleans()) else batch.input_shapes[0] + (n, k)
    b = (k,) if data.draw(st.booleans()) else batch.input_shapes[1] + (k, m)
    return [a, b], {}


def draw_reshape(data):
    shape = data.draw(any_shape)
    n = int(np.prod(shape))
    target = data.draw(st.permutations(list(shape)))  # same size, other order of sides
    if n and target and data.draw(st.booleans()):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
    return [shape], {"shape": tuple(target)}


def draw_permute(data):
    shape = data.draw(any_shape)
    return [shape], {"dims": tuple(data.draw(st.permutations(range(len(shape)))))}


def draw_transpose(data):
    shape = data.draw(nonempty_shape)
    pick = st.integers(-len(shape), len(shape) - 1)
    return [shape], {"dim0": data.draw(pick), "dim1": data.draw(pick)}


def draw_flatten(data):
    shape = data.draw(nonempty_shape)
    s = data.draw(st.integers(0, len(shape) - 1))
    return [shape], {"start_dim": s, "end_dim": data.draw(st.integers(s, len(shape) - 1))}


def draw_broadcast(data):
    shape = data.draw(any_shape)
    target = data.draw(hnp.broadcastable_shapes(shape, min_dims=len(shape), max_dims=len(shape) + 2,
                                                min_side=0, max_side=4))
    target = tuple(np.broadcast_shapes(shape, target))
    return [shape], {"shape": target}


def draw_sum_to(data):
    (small,), params = draw_broadcast(data)
    return [params["shape"]], {"shape": small}


def draw_squeeze(data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))
    return [shape], {"dim": draw_dim(data, shape)}


def draw_unsqueeze(data):
    shape = data.draw(any_shape)
    return [shape], {"dim": data.draw(st.integers(-len(shape) - 1, len(shape)))}


def draw_getitem(data):
    shape = data.draw(nonempty_shape)
    kind = data.draw(st.sampled_from(["basic", "array", "mask"]))
    if kind == "basic":
        index = tuple(data.draw(st.one_of(st.integers(0, n - 1), st.slices(n))) for n in shape)
    elif kind == "array":  # integer arrays, repeats included: their gradients must add up
        index = np.array(data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), max_size=6)), dtype=np.int64)
    else:
        index = np.array(data.draw(st.lists(st.booleans(), min_size=shape[0], max_size=shape[0])), dtype=bool)
    return [shape], {"index": index}


def draw_cat(data):
    base = list(data.draw(nonempty_shape))
    dim = data.draw(st.integers(0, len(base) - 1))
    shapes = []
    for _ in range(data.draw(st.integers(1, 3))):
        s = list(base)
        s[dim] = data.draw(st.integers(0, 3))
        shapes.append(tuple(s))
    return shapes, {"dim": dim}


def draw_stack(data):
    shape = data.draw(any_shape)
    return [shape] * data.draw(st.integers(1, 3)), {"dim": data.draw(st.integers(-len(shape) - 1, len(shape)))}


def draw_split(data):
    shape = data.draw(nonempty_shape)
    dim = data.draw(st.integers(0, len(shape) - 1))
    return [shape], {"split_size_or_sections": data.draw(st.integers(1, 4)), "dim": dim}


def draw_expand(data):
    shapes, p = draw_broadcast(data)
    lead = len(p["shape"]) - len(shapes[0])
    sizes = tuple(-1 if i >= lead and data.draw(st.booleans()) else n for i, n in enumerate(p["shape"]))
    return shapes, {"sizes": sizes}


def _np_max(x, dim=None, keepdim=False, largest=True):
    return (np.max if largest else np.min)(x, axis=dim, keepdims=keepdim)


def _np_var(x, dim=None, keepdim=False, correction=1):
    n = x.size if dim is None else int(np.prod([x.shape[d] for d in np.atleast_1d(dim)]))
    return np.sum((x - x.mean(axis=dim, keepdims=True)) ** 2, axis=dim, keepdims=keepdim) / max(n - correction, 0)


def _np_softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _torch_dim(dim):
    return {} if dim is None else {"dim": dim}


WHERE_CONDITION = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])

OPS = [
    # arithmetic
    OpSpec("add", mg.add, [(3, 1, 4), (2, 4)], ["real"] * 2, np.add, lambda t, a, b: a + b, draw=draw_binary),
    OpSpec("sub", mg.sub, [(3, 4), (4,)], ["real"] * 2, np.subtract, lambda t, a, b: a - b, draw=draw_binary),
    OpSpec("mul", mg.mul, [(2, 3, 4), (3, 1)], ["real"] * 2, np.multiply, lambda t, a, b: a * b, draw=draw_binary),
    OpSpec("div", mg.div, [(3, 4), (3, 4)], ["real", "nonzero"], np.divide, lambda t, a, b: a / b, draw=draw_binary),
    OpSpec("neg", mg.neg, [(3, 4)], ["real"], np.negative, lambda t, a: -a, draw=draw_unary),
    OpSpec("pow", mg.pow, [(3, 4), (4,)], ["positive", "real"], np.power, lambda t, a, b: a ** b, draw=draw_binary),
    OpSpec("pow[scalar]", lambda a: a ** 3, [(3, 4)], ["real"], lambda a: a ** 3, lambda t, a: a ** 3, draw=draw_unary),
    OpSpec("matmul", mg.matmul, [(2, 1, 3, 4), (5, 4, 2)], ["real"] * 2, np.matmul, lambda t, a, b: a @ b,
           draw=draw_matmul),
    OpSpec("matmul[vector]", mg.matmul, [(4,), (2, 4, 3)], ["real"] * 2, np.matmul, lambda t, a, b: a @ b),
    OpSpec("matmul[dot]", mg.matmul, [(4,), (4,)], ["real"] * 2, np.matmul, lambda t, a, b: a @ b),
    # elementwise
    OpSpec("exp", mg.exp, [(3, 4)], ["real"], np.exp, lambda t, a: a.exp(), draw=draw_unary),
    OpSpec("log", mg.log, [(3, 4)], ["positive"], np.log, lambda t, a: a.log(), draw=draw_unary),
    OpSpec("log1p", mg.log1p, [(3, 4)], ["positive"], np.log1p, lambda t, a: a.log1p(), draw=draw_unary),
    OpSpec("sqrt", mg.sqrt, [(3, 4)], ["positive"], np.sqrt, lambda t, a: a.sqrt(), draw=draw_unary),
    OpSpec("sign", mg.sign, [(3, 4)], ["nonzero"], np.sign, lambda t, a: a.sign(), draw=draw_unary),
    OpSpec("abs", mg.abs, [(3, 4)], ["nonzero"], np.abs, lambda t, a: a.abs(), draw=draw_unary),
    OpSpec("clamp", mg.clamp, [(3, 4)], ["nonzero"], np.clip, lambda t, a, **p: a.clamp(**p),
           params={"min": -1.0, "max": 1.0}, draw=lambda d: (draw_unary(d)[0], {"min": -1.0, "max": 1.0})),
    OpSpec("clip", mg.clip, [(3, 4)], ["nonzero"], lambda a, min, max: np.clip(a, min, None),
           lambda t, a, **p: a.clip(min=p["min"]), params={"min": 0.5, "max": None},
           draw=lambda d: (draw_unary(d)[0], {"min": 0.5, "max": None})),
    OpSpec("where", lambda a, b: mg.where(WHERE_CONDITION, a, b), [(3, 4), (4,)], ["real"] * 2,
           lambda a, b: np.where(WHERE_CONDITION, a, b),
           lambda t, a, b: t.where(t.tensor(WHERE_CONDITION), a, b)),
    OpSpec("maximum", mg.maximum, [(3, 4), (4,)], ["real"] * 2, np.maximum, lambda t, a, b: t.maximum(a, b),
           draw=draw_binary),
    OpSpec("minimum", mg.minimum, [(3, 4), (3, 1)], ["real"] * 2, np.minimum, lambda t, a, b: t.minimum(a, b),
           draw=draw_binary),
    # activations
    OpSpec("relu", mg.relu, [(3, 4)], ["nonzero"], lambda a: np.maximum(a, 0), lambda t, a: t.relu(a),
           draw=draw_unary),
    OpSpec("leaky_relu", mg.leaky_relu, [(3, 4)], ["nonzero"],
           lambda a, negative_slope: np.where(a > 0, a, negative_slope * a),
           lambda t, a, **p: t.nn.functional.leaky_relu(a, **p), params={"negative_slope": 0.2},
           draw=lambda d: (draw_unary(d)[0], {"negative_slope": 0.2})),
    OpSpec("sigmoid", mg.sigmoid, [(3, 4)], ["real"], lambda a: 1 / (1 + np.exp(-a)), lambda t, a: a.sigmoid(),
           draw=draw_unary),
    OpSpec("tanh", mg.tanh, [(3, 4)], ["real"], np.tanh, lambda t, a: a.tanh(), draw=draw_unary),
    OpSpec("softplus", mg.softplus, [(3, 4)], ["real"], lambda a: np.logaddexp(0, a),
           lambda t, a: t.nn.functional.softplus(a), draw=draw_unary),
    OpSpec("softplus[beta]", mg.softplus, [(3, 4)], ["real"],
           lambda a, beta, threshold: np.where(a * beta > threshold, a, np.logaddexp(0, beta * a) / beta),
           lambda t, a, **p: t.nn.functional.softplus(a, **p), params={"beta": 2.0, "threshold": 1.0}),
    OpSpec("logsigmoid", mg.logsigmoid, [(3, 4)], ["real"], lambda a: -np.logaddexp(0, -a),
           lambda t, a: t.nn.functional.logsigmoid(a), draw=draw_unary),
    OpSpec("softmax", mg.softmax, [(3, 4)], ["real"], _np_softmax, lambda t, a, dim: t.softmax(a, dim),
           params={"dim": 1}, draw=draw_softmax),
    OpSpec("log_softmax", mg.log_softmax, [(3, 4)], ["real"], lambda a, dim: np.log(_np_softmax(a, dim)),
           lambda t, a, dim: t.log_softmax(a, dim), params={"dim": 0}, draw=draw_softmax),
    # reductions
    OpSpec("sum", mg.sum, [(2, 3, 4)], ["real"], lambda a, dim, keepdim: np.sum(a, axis=dim, keepdims=keepdim),
           lambda t, a, dim, keepdim: a.sum(**_torch_dim(dim), keepdim=keepdim),
           params={"dim": (0, 2), "keepdim": True}, draw=draw_reduction),
    OpSpec("mean", mg.mean, [(2, 3, 4)], ["real"], lambda a, dim, keepdim: np.mean(a, axis=dim, keepdims=keepdim),
           lambda t, a, dim, keepdim: a.mean(**_torch_dim(dim), keepdim=keepdim),
           params={"dim": 1, "keepdim": False}, draw=lambda d: draw_reduction(d, nonempty=True)),
    OpSpec("var", mg.var, [(3, 4)], ["real"], _np_var,
           lambda t, a, dim, keepdim: a.var(**_torch_dim(dim), keepdim=keepdim),
           params={"dim": 1, "keepdim": False}, draw=lambda d: draw_reduction(d, nonempty=True)),
    OpSpec("std", mg.std, [(3, 4)], ["real"], lambda a, dim, keepdim: np.sqrt(_np_var(a, dim, keepdim)),
           lambda t, a, dim, keepdim: a.std(**_torch_dim(dim), keepdim=keepdim),
           params={"dim": None, "keepdim": False}),
    OpSpec("amax", mg.amax, [(3, 4)], ["distinct"], lambda a, dim, keepdim: _np_max(a, dim, keepdim),
           lambda t, a, dim, keepdim: a.amax(dim=() if dim is None else dim, keepdim=keepdim),
           params={"dim": 1, "keepdim": True}, draw=lambda d: draw_reduction(d, nonempty=True)),
    OpSpec("amin", mg.amin, [(3, 4)], ["distinct"], lambda a, dim, keepdim: _np_max(a, dim, keepdim, largest=False),
           lambda t, a, dim, keepdim: a.amin(dim=() if dim is None else dim, keepdim=keepdim),
           params={"dim": (0, 1), "keepdim": False}, draw=lambda d: draw_reduction(d, nonempty=True)),
    OpSpec("max", lambda a, **p: mg.max(a, **p).values, [(3, 4)], ["distinct"],
           lambda a, dim, keepdim: _np_max(a, dim, keepdim),
           lambda t, a, **p: a.max(**p).values, params={"dim": 1, "keepdim": False},
           draw=lambda d: draw_reduction(d, allow_tuple=False, allow_none=False, nonempty=True)),
    OpSpec("max[all]", mg.max, [(3, 4)], ["distinct"], np.max, lambda t, a: a.max()),
    OpSpec("min", lambda a, **p: mg.min(a, **p).values, [(3, 4)], ["distinct"],
           lambda a, dim, keepdim: _np_max(a, dim, keepdim, largest=False),
           lambda t, a, **p: a.min(**p).values, params={"dim": 0, "keepdim": True},
           draw=lambda d: draw_reduction(d, allow_tuple=False, allow_none=False, nonempty=True)),
    OpSpec("min[all]", mg.min, [(3, 4)], ["distinct"], np.min, lambda t, a: a.min()),
    OpSpec("argmax", mg.argmax, [(3, 4)], ["distinct"], lambda a, dim: np.argmax(a, axis=dim),
           lambda t, a, dim: a.argmax(dim), params={"dim": 1}, differentiable=False),
    OpSpec("argmin", mg.argmin, [(3, 4)], ["distinct"], lambda a, dim: np.argmin(a, axis=dim),
           lambda t, a, dim: a.argmin(dim), params={"dim": None}, differentiable=False),
    # shape
    OpSpec("reshape", lambda a, shape: mg.reshape(a, shape), [(3, 4)], ["real"], lambda a, shape: a.reshape(shape),
           lambda t, a, shape: a.reshape(shape), params={"shape": (2, -1)}, draw=draw_reshape),
    OpSpec("view", lambda a, shape: mg.view(a, shape), [(3, 4)], ["real"], lambda a, shape: a.reshape(shape),
           lambda t, a, shape: a.reshape(shape), params={"shape": (4, 3)}, draw=draw_reshape),
    OpSpec("transpose", mg.transpose, [(2, 3, 4)], ["real"], lambda a, dim0, dim1: np.swapaxes(a, dim0, dim1),
           lambda t, a, dim0, dim1: a.transpose(dim0, dim1), params={"dim0": 0, "dim1": -1}, draw=draw_transpose),
    OpSpec("permute", lambda a, dims: mg.permute(a, dims), [(2, 3, 4)], ["real"],
           lambda a, dims: np.transpose(a, dims),
           lambda t, a, dims: a.permute(dims), params={"dims": (2, 0, 1)}, draw=draw_permute),
    OpSpec("flatten", mg.flatten, [(2, 3, 4)], ["real"],
           lambda a, start_dim, end_dim: a.reshape(a.shape[:start_dim] + (-1,) + a.shape[end_dim % a.ndim + 1:]),
           lambda t, a, **p: a.flatten(**p), params={"start_dim": 1, "end_dim": -1}, draw=draw_flatten),
    OpSpec("expand", lambda a, sizes: mg.expand(a, sizes), [(3, 1)], ["real"],
           lambda a, sizes: np.broadcast_to(a, tuple(a.shape[i - len(sizes) + a.ndim] if n == -1 else n
                                                     for i, n in enumerate(sizes))),
           lambda t, a, sizes: a.expand(sizes), params={"sizes": (2, -1, 4)}, draw=draw_expand),
    OpSpec("broadcast_to", mg.broadcast_to, [(3, 1)], ["real"], np.broadcast_to,
           lambda t, a, shape: a.broadcast_to(shape), params={"shape": (2, 3, 4)}, draw=draw_broadcast),
    OpSpec("sum_to", mg.sum_to, [(2, 3, 4)], ["real"],
           lambda a, shape: a.sum(axis=tuple(range(a.ndim - len(shape)))).sum(
               axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True).reshape(shape),
           lambda t, a, shape: a.sum_to_size(shape), params={"shape": (3, 1)}, draw=draw_sum_to),
    OpSpec("squeeze", mg.squeeze, [(3, 1, 4, 1)], ["real"],
           lambda a, dim: a.squeeze(axis=tuple(d for d in np.atleast_1d(dim if dim is not None else range(a.ndim))
                                               if a.shape[d] == 1)),
           lambda t, a, dim: a.squeeze(**_torch_dim(dim)), params={"dim": 1}, draw=draw_squeeze),
    OpSpec("unsqueeze", mg.unsqueeze, [(3, 4)], ["real"], lambda a, dim: np.expand_dims(a, dim),
           lambda t, a, dim: a.unsqueeze(dim), params={"dim": -1}, draw=draw_unsqueeze),
    OpSpec("getitem", lambda a, index: a[index], [(4, 3)], ["real"], lambda a, index: a[index],
           lambda t, a, index: a[t.as_tensor(index) if isinstance(index, np.ndarray) else index],
           params={"index": np.array([0, 2, 2, -1])}, draw=draw_getitem),
    OpSpec("getitem[basic]", lambda a, index: a[index], [(4, 3, 2)], ["real"], lambda a, index: a[index],
           lambda t, a, index: a[index], params={"index": (slice(1, None, 2), None, Ellipsis, 0)}),
    OpSpec("getitem[mask]", lambda a, index: a[index], [(4, 3)], ["real"], lambda a, index: a[index],
           lambda t, a, index: a[t.as_tensor(index)], params={"index": np.array([[True, False, True]] * 4)}),
    OpSpec("cat", lambda *ts, dim: mg.cat(ts, dim), [(2, 3), (2, 1), (2, 2)], ["real"] * 3,
           lambda *a, dim: np.concatenate(a, axis=dim), lambda t, *a, dim: t.cat(a, dim), params={"dim": 1},
           draw=draw_cat),
    OpSpec("stack", lambda *ts, dim: mg.stack(ts, dim), [(2, 3), (2, 3)], ["real"] * 2,
           lambda *a, dim: np.stack(a, axis=dim), lambda t, *a, dim: t.stack(a, dim), params={"dim": -1},
           draw=draw_stack),
    OpSpec("split", mg.split, [(5, 3)], ["real"],
           lambda a, split_size_or_sections, dim: tuple(np.split(
               a, range(split_size_or_sections, a.shape[dim], split_size_or_sections), axis=dim)),
           lambda t, a, **p: a.split(*p.values()), params={"split_size_or_sections": 2, "dim": 0}, draw=draw_split),
    OpSpec("split[sections]", mg.split, [(2, 6)], ["real"],
           lambda a, split_size_or_sections, dim: tuple(np.split(a, [1, 4], axis=dim)),
           lambda t, a, **p: a.split(*p.values()), params={"split_size_or_sections": [1, 3, 2], "dim": 1}),
    OpSpec("cast", lambda a: mg.cast(a, np.float32), [(3, 4)], ["real"], lambda a: a.astype(np.float32),
           lambda t, a: a.float(), gradcheck_kwargs={"eps": 1e-2, "atol": 1e-4}),
    OpSpec("to_device", lambda a: mg.to_device(a, "cpu"), [(3, 4)], ["real"], lambda a: a, lambda t, a: a.to("cpu"),
           draw=draw_unary),
]
