"""Activations (激活函数): relu, leaky_relu, sigmoid, tanh, softplus, logsigmoid, softmax, log_softmax.

All are written to stay finite and exact for any finite input: no exp of a large positive number
is ever computed, so x = +-1e4 gives the right answer without an overflow warning.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import Tensor, as_tensor
from .elementwise import PiecewiseConstant, where
from .reduction import sum
from .shape import normalize_dim


class ReLU(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return backend.get_array_module(x).maximum(x, 0)

    def backward(self, gy: Tensor) -> Tensor:
        # The mask "not y <= 0", read off the output as PyTorch's threshold_backward does (so a NaN
        # passes its gradient on); PiecewiseConstant keeps the edge: relu'' is zeros, not "unused".
        return gy * PiecewiseConstant(lambda y: ~(y <= 0))(self.output)


class LeakyReLU(Function):
    """x where x > 0, slope * x elsewhere; its derivative is 1 or slope.

    Written without ``where``: NumPy's ``where`` branches on every element, and on the random signs
    of a layer's activations it is an order of magnitude slower than the ``maximum`` below
    (docs/benchmarks.md, "A step's time").
    """

    def __init__(self, slope: float) -> None:
        self.slope = slope

    def forward(self, x: np.ndarray) -> np.ndarray:
        xp = backend.get_array_module(x)
        if self.slope == 0:  # maximum(x, 0 * x) would make +inf NaN (0 * inf)
            return x * (x > 0)
        # the larger of x and slope*x when slope <= 1 (x > 0 is then the larger), else the smaller
        return (xp.maximum if self.slope <= 1 else xp.minimum)(x, x * x.dtype.type(self.slope))

    def backward(self, gy: Tensor) -> Tensor:
        def derivative(x: np.ndarray) -> np.ndarray:
            above = (x > 0).astype(x.dtype)
            return above + (1 - above) * x.dtype.type(self.slope)  # exactly 1 or slope: products by 0 and 1

        return gy * PiecewiseConstant(derivative)(self.inputs[0])


class Sigmoid(Function):
    r"""$\sigma(x) = 1 / (1 + e^{-x})$, computed from $e^{-|x|} \le 1$ on both sides of 0."""

    float_inputs = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        xp = backend.get_array_module(x)
        z = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + z), z / (1 + z))

    def backward(self, gy: Tensor) -> Tensor:
        y = self.output
        return gy * y * (1 - y)  # sigma' = sigma (1 - sigma)


class Tanh(Function):
    float_inputs = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return backend.get_array_module(x).tanh(x)

    def backward(self, gy: Tensor) -> Tensor:
        y = self.output
        return gy * (1 - y * y)  # tanh' = 1 - tanh^2


def _softplus_array(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) = max(x, 0) + log1p(e^{-|x|}): never exponentiates a positive number."""
    xp = backend.get_array_module(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class Softplus(Function):
    float_inputs = True

    def __init__(self, beta: float, threshold: float) -> None:
        self.beta, self.threshold = beta, threshold

    def forward(self, x: np.ndarray) -> np.ndarray:
        beta = x.dtype.type(self.beta)  # a NumPy float64 beta must not promote float32 x
        bx = x * beta
        return backend.get_array_module(x).where(bx > self.threshold, x, _softplus_array(bx) / beta)

    def backward(self, gy: Tensor) -> Tensor:
        x = self.inputs[0]
        linear = x.data * self.beta > self.threshold
        return gy * where(linear, 1.0, sigmoid(x * self.beta))  # softplus' = sigma(beta x)


class LogSigmoid(Function):
    float_inputs = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return -_softplus_array(-x)  # log sigma(x) = -softplus(-x)

    def backward(self, gy: Tensor) -> Tensor:
        return gy * sigmoid(-self.inputs[0])


class Softmax(Function):
    float_inputs = True

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def forward(self, x: np.ndarray) -> np.ndarray:
        e = backend.get_array_module(x).exp(x - x.max(axis=self.dim, keepdims=True))
        return e / e.sum(axis=self.dim, keepdims=True)

    def backward(self, gy: Tensor) -> Tensor:
        y = self.output
        return y * (gy - sum(gy * y, self.dim, keepdim=True))  # J = diag(y) - y y^T


class LogSoftmax(Function):
    float_inputs = True

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def forward(self, x: np.ndarray) -> np.ndarray:
        xp = backend.get_array_module(x)
        shifted = x - x.max(axis=self.dim, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=self.dim, keepdims=True))

    def backward(self, gy: Tensor) -> Tensor:
        return gy - self.output.exp() * sum(gy, self.dim, keepdim=True)


def relu(x: Tensor) -> Tensor:
    return ReLU()(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyReLU(negative_slope)(x)


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid()(x)


def tanh(x: Tensor) -> Tensor:
    return Tanh()(x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^{beta x}) / beta, and x itself where beta x > threshold (as PyTorch)."""
    return Softplus(beta, threshold)(x)


def logsigmoid(x: Tensor) -> Tensor:
    return LogSigmoid()(x)


def _dim_of(x: Tensor, dim: int) -> tuple[Tensor, int]:
    x = as_tensor(x)
    return x, normalize_dim(dim, x.ndim)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    x, d = _dim_of(x, dim)
    return Softmax(d)(x)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    x, d = _dim_of(x, dim)
    return LogSoftmax(d)(x)
