"""+ - * / @ and their derivatives (** is with exp and log, in `elementwise`).

Binary ops broadcast like NumPy; each input's gradient is then summed back to that input's shape
(``sum_to``), which is what broadcasting means for the backward pass.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import DEFAULT_FLOAT, Operand, Tensor, _operand, as_tensor
from .shape import cast, sum_to, unsqueeze


def _operands(a: Operand, b: Operand) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors; a Python or NumPy scalar takes the other operand's dtype.

    An integer operand meeting a float one takes the float's dtype (int64 * float32 is float32,
    as in PyTorch; NumPy alone would give float64).
    """
    if isinstance(a, Tensor):
        b = _operand(b, a)
    elif isinstance(b, Tensor):
        a = _operand(a, b)
    else:
        a = as_tensor(a)
        b = _operand(b, a)
    a_float, b_float = backend.is_floating(a.dtype), backend.is_floating(b.dtype)
    if a_float and not b_float:
        b = cast(b, a.dtype)
    elif b_float and not a_float:
        a = cast(a, b.dtype)
    return a, b


class Add(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return sum_to(gy, a.shape) if need_a else None, sum_to(gy, b.shape) if need_b else None


class Sub(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a - b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return sum_to(gy, a.shape) if need_a else None, sum_to(-gy, b.shape) if need_b else None


class Mul(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs  # x * mask: the constant mask needs no gradient, so skip its product
        need_a, need_b = self.needs_input_grad
        return sum_to(gy * b, a.shape) if need_a else None, sum_to(gy * a, b.shape) if need_b else None


class Div(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a / b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        ga = sum_to(gy / b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(-gy * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return -x

    def backward(self, gy: Tensor) -> Tensor:
        return -gy


class MatMul(Function):
    """a @ b, batched and broadcast like ``numpy.matmul``: dA = dY B^T, dB = A^T dY."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return backend.get_array_module(a).matmul(a, b)

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        # Give 1-D operands (and the dims matmul dropped for them) back their matrix dim.
        a2 = unsqueeze(a, 0) if a.ndim == 1 else a
        b2 = unsqueeze(b, -1) if b.ndim == 1 else b
        if b.ndim == 1:
            gy = unsqueeze(gy, -1)
        if a.ndim == 1:
            gy = unsqueeze(gy, -2)
        ga = sum_to(gy @ b2.mT, a2.shape).reshape(a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(a2.mT @ gy, b2.shape).reshape(b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def add(a: Operand, b: Operand) -> Tensor:
    return Add()(*_operands(a, b))


def sub(a: Operand, b: Operand) -> Tensor:
    return Sub()(*_operands(a, b))


def mul(a: Operand, b: Operand) -> Tensor:
    return Mul()(*_operands(a, b))


def div(a: Operand, b: Operand) -> Tensor:
    """True division: integer operands give a float32 result, as in PyTorch."""
    a, b = _operands(a, b)
    if not backend.is_floating(a.dtype):
        a, b = cast(a, DEFAULT_FLOAT), cast(b, DEFAULT_FLOAT)
    return Div()(a, b)


def neg(x: Tensor) -> Tensor:
    return Neg()(x)


def matmul(a: Operand, b: Operand) -> Tensor:
    a, b = _operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    k_a, k_b = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not fit ({k_a} != {k_b})")
    return MatMul()(a, b)

