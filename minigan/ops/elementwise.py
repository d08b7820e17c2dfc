"""Elementwise math: exp, log, log1p, sqrt, abs, clamp, where, maximum, minimum.

Where a derivative is piecewise (abs, clamp, where, maximum), the pieces are picked by a constant
mask, written with ``where``-style products: the mask's own derivative is zero almost everywhere.
"""
from .. import backend
from ..autograd import Function
from ..tensor import Tensor, as_tensor, constant
from .arithmetic import _pair
from .shape import sum_to


class Exp(Function):
    float_inputs = True

    def forward(self, x):
        return backend.get_array_module(x).exp(x)

    def backward(self, gy):
        return gy * self.output  # d/dx e^x = e^x


class Log(Function):
    float_inputs = True

    def forward(self, x):
        return backend.get_array_module(x).log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


class Log1p(Function):
    float_inputs = True

    def forward(self, x):
        return backend.get_array_module(x).log1p(x)

    def backward(self, gy):
        return gy / (1 + self.inputs[0])


class Sqrt(Function):
    float_inputs = True

    def forward(self, x):
        return backend.get_array_module(x).sqrt(x)

    def backward(self, gy):
        return gy / (2 * self.output)


class Abs(Function):
    def forward(self, x):
        return backend.get_array_module(x).abs(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * constant(x.xp.sign(x.data), x)  # sign(0) = 0, as in PyTorch


class Clamp(Function):
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        xp, as_x = backend.get_array_module(x), x.dtype.type  # bounds never promote x's dtype
        y = x if self.lo is None else xp.maximum(x, as_x(self.lo))
        return y if self.hi is None else xp.minimum(y, as_x(self.hi))

    def backward(self, gy):
        x = self.inputs[0]
        inside = x.xp.ones(x.shape, dtype=bool)  # the gradient passes where lo <= x <= hi
        if self.lo is not None:
            inside &= x.data >= self.lo
        if self.hi is not None:
            inside &= x.data <= self.hi
        return gy * constant(inside, x)


class Where(Function):
    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        return backend.get_array_module(a).where(self.condition, a, b)

    def backward(self, gy):
        a, b = self.inputs
        zero = gy.xp.zeros((), dtype=gy.dtype)
        ga = sum_to(where(self.condition, gy, zero), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(where(self.condition, zero, gy), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Maximum(Function):
    """Elementwise max; at a tie each side gets half the gradient (as in PyTorch)."""

    def forward(self, a, b):
        return backend.get_array_module(a).maximum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        xp = a.xp
        share = xp.where(a.data > b.data, 1.0, xp.where(a.data == b.data, 0.5, 0.0))
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy * constant(share, gy), a.shape) if need_a else None,
                sum_to(gy * constant(1.0 - share, gy), b.shape) if need_b else None)


def exp(x):
    return Exp()(x)


def log(x):
    return Log()(x)


def log1p(x):
    return Log1p()(x)


def sqrt(x):
    return Sqrt()(x)


def abs(x):
    return Abs()(x)


def clamp(x, min=None, max=None):
    """Limit ``x`` to [min, max] (either bound may be None); the gradient passes inside, ends included."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp(min, max)(x)


clip = clamp


def where(condition, x, y):
    """``x`` where ``condition`` holds, else ``y`` (all three broadcast together)."""
    condition = condition.data if isinstance(condition, Tensor) else as_tensor(condition).data
    a, b = _pair(x, y)
    return Where(condition.astype(bool, copy=False))(a, b)


def maximum(a, b):
    return Maximum()(*_pair(a, b))


def minimum(a, b):
    a, b = _pair(a, b)
    return -maximum(-a, -b)  # min(a, b) = -max(-a, -b), ties included
