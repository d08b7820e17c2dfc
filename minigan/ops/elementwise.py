"""Elementwise math: exp, log, log1p, sqrt, pow, sign, abs, clamp, where, maximum, minimum.

Where a derivative is piecewise (abs, clamp, where, maximum), a mask picks the pieces, and the
mask's own derivative is zero. How the mask is made decides what `grad` says about the tensor it
is read from; minigan follows PyTorch op by op. abs (and relu, leaky_relu in `activation`) read it
through the op `PiecewiseConstant`, which keeps the graph's edge: that tensor gets a zero gradient.
clamp, where, maximum (and the max/min reductions) compare arrays into a constant mask, which cuts
the edge: a tensor reached only through the mask was "not used".
"""
from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import Operand, Tensor, as_tensor, constant
from .arithmetic import _operands
from .shape import cast, sum_to


class Exp(Function):
    float_inputs = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return backend.get_array_module(x).exp(x)

    def backward(self, gy: Tensor) -> Tensor:
        return gy * self.output  # d/dx e^x = e^x


class Log(Function):
    float_inputs = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return backend.get_array_module(x).log(x)

    def backward(self, gy: Tensor) -> Tensor:
        return gy / self.inputs[0]


class Log1p(Function):
    float_inputs = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return backend.get_array_module(x).log1p(x)

    def backward(self, gy: Tensor) -> Tensor:
        return gy / (1 + self.inputs[0])


class Sqrt(Function):
    float_inputs = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return backend.get_array_module(x).sqrt(x)

    def backward(self, gy: Tensor) -> Tensor:
        return gy / (2 * self.output)


class Pow(Function):
    """a ** b for two tensors: d/da = b a^(b-1), d/db = a^b log a.

    At a = 0 these formulas can give 0 * inf = nan where the function is flat: PyTorch's answer,
    which minigan follows, is d/da = 0 where b = 0 (a^0 = 1 for every a) and d/db = 0 where a = 0
    and b >= 0. The masks come from comparisons, so they are constants, as PyTorch's are.
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a ** b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):  # the entries masked out may be 0 * inf
            if self.needs_input_grad[0]:
                ga = sum_to(where(b.data == 0, 0.0, gy * b * a ** (b - 1)), a.shape)
            if self.needs_input_grad[1]:
                gb = sum_to(gy * where((a.data == 0) & (b.data >= 0), 0.0, self.output * log(a)), b.shape)
        return ga, gb


class PowScalar(Function):
    """x ** c for a number c, an op of its own as in PyTorch: d/dx = c x^(c-1), and for c = 0 a
    zero gradient with no graph (x ** 0 = 1 is flat everywhere, x = 0 included)."""

    def __init__(self, exponent: float) -> None:
        self.exponent = exponent
        self.zero_derivative = exponent == 0

    def forward(self, x: np.ndarray) -> np.ndarray:
        return (x ** self.exponent).astype(x.dtype, copy=False)  # NumPy makes bool ** 2 int8

    def backward(self, gy: Tensor) -> Tensor:
        c = self.exponent
        return gy * c * self.inputs[0] ** (c - 1)


class PiecewiseConstant(Function):
    """``fn(x)`` for a function that is constant between its jumps: sign, the mask x > 0 of relu'.

    Its derivative is 0, taken as 0 at the jumps too (as PyTorch does). It still is an op: a
    gradient that passes only through it reaches x as a zero tensor, so ``grad(..., x)`` answers
    zeros where a constant mask would make x look unused (PyTorch's relu backward,
    ``threshold_backward(grad, result)``, is differentiable in ``result`` in the same way).
    """

    zero_derivative = True  # the engine sends x its zero gradient; there is no backward to run

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        self.fn = fn  # array -> array of the same shape (bool or numbers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.fn(x).astype(x.dtype, copy=False)


class Abs(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return backend.get_array_module(x).abs(x)

    def backward(self, gy: Tensor) -> Tensor:
        return gy * sign(self.inputs[0])  # sign(0) = 0, as in PyTorch


class Clamp(Function):
    def __init__(self, lo: float | None, hi: float | None) -> None:
        self.lo, self.hi = lo, hi

    def forward(self, x: np.ndarray) -> np.ndarray:
        xp, as_x = backend.get_array_module(x), x.dtype.type  # bounds never promote x's dtype
        y = x if self.lo is None else xp.maximum(x, as_x(self.lo))
        return y if self.hi is None else xp.minimum(y, as_x(self.hi))

    def backward(self, gy: Tensor) -> Tensor:
        x = self.inputs[0]
        inside = x.xp.ones(x.shape, dtype=bool)  # the gradient passes where lo <= x <= hi
        if self.lo is not None:
            inside &= x.data >= self.lo
        if self.hi is not None:
            inside &= x.data <= self.hi
        return gy * constant(inside, x)


class Where(Function):
    def __init__(self, condition: np.ndarray) -> None:
        self.condition = condition  # a bool array

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return backend.get_array_module(a).where(self.condition, a, b)

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        zero = gy.xp.zeros((), dtype=gy.dtype)
        ga = sum_to(where(self.condition, gy, zero), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(where(self.condition, zero, gy), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Maximum(Function):
    """Elementwise max; at a tie each side gets half the gradient (as in PyTorch)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return backend.get_array_module(a).maximum(a, b)

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        xp = a.xp
        share = xp.where(a.data > b.data, 1.0, xp.where(a.data == b.data, 0.5, 0.0))
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy * constant(share, gy), a.shape) if need_a else None,
                sum_to(gy * constant(1.0 - share, gy), b.shape) if need_b else None)


def exp(x: Tensor) -> Tensor:
    return Exp()(x)


def log(x: Tensor) -> Tensor:
    return Log()(x)


def log1p(x: Tensor) -> Tensor:
    return Log1p()(x)


def sqrt(x: Tensor) -> Tensor:
    return Sqrt()(x)


def pow(a: Operand, b: Operand) -> Tensor:
    """``a ** b``; a number as the exponent (``x ** 2``) takes `PowScalar`."""
    a, exponent = _operands(a, b)  # exponent.dtype is the result's: a bool tensor ** 2 is int64, as in PyTorch
    if isinstance(b, (numbers.Number, np.generic)):
        return PowScalar(b.item() if isinstance(b, np.generic) else b)(cast(a, exponent.dtype))
    return Pow()(a, exponent)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element; the derivative is 0 everywhere (at 0 too, as PyTorch)."""
    return PiecewiseConstant(lambda a: backend.get_array_module(a).sign(a))(x)


def abs(x: Tensor) -> Tensor:
    return Abs()(x)


def clamp(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """Limit ``x`` to [min, max] (either bound may be None); the gradient passes inside, ends included."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp(min, max)(x)


clip = clamp


def where(condition: Operand, x: Operand, y: Operand) -> Tensor:
    """``x`` where ``condition`` holds, else ``y`` (all three broadcast together)."""
    a, b = _operands(x, y)
    # A mask given as a list or NumPy array is on the CPU: take it to the values' device.
    condition = backend.to_device(as_tensor(condition).data, a.device)
    return Where(condition.astype(bool, copy=False))(a, b)


def maximum(a: Operand, b: Operand) -> Tensor:
    return Maximum()(*_operands(a, b))


def minimum(a: Operand, b: Operand) -> Tensor:
    a, b = _operands(a, b)
    return -maximum(-a, -b)  # min(a, b) = -max(-a, -b), ties included
