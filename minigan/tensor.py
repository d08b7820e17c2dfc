"""The Tensor (张量): an array, plus what autograd needs to send gradients back through it.

A Tensor holds ``data`` (a NumPy or CuPy array), ``requires_grad``, ``grad`` and ``grad_fn`` (the
Function that made it, None for a leaf). Its methods and operators only forward to the
differentiable ops in `minigan.ops`, so ``x * y`` and ``mg.mul(x, y)`` are one and the same.

Arrays are typed ``np.ndarray``; on a GPU they are CuPy arrays, which have the same methods.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeAlias, overload

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import backend

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11 on

    from .autograd import Function
    from .ops.reduction import values_indices

# The argument types of the methods below, named once:
Operand: TypeAlias = "Tensor | ArrayLike"  # the other side of x + y, x * y, ...: a Tensor, a number, an array
Dims: TypeAlias = "int | Sequence[int] | None"  # the dims to reduce: one, several, or None for all of them
Shape: TypeAlias = "int | Sequence[int]"  # x.reshape(2, 3) or x.reshape((2, 3)), as PyTorch takes both

DEFAULT_FLOAT = np.dtype(np.float32)


class Movable:
    """PyTorch's shorthands for ``.to(...)``, shared by Tensor and nn.Module (each writes its own ``to``)."""

    def to(self, target: str | DTypeLike) -> Self:
        """A device ('cpu', 'cuda') or a dtype: a Tensor returns a moved copy, a Module moves itself."""
        raise NotImplementedError

    def cpu(self) -> Self:
        return self.to("cpu")

    def cuda(self) -> Self:
        return self.to("cuda")

    def float(self) -> Self:
        return self.to(np.float32)

    def double(self) -> Self:
        return self.to(np.float64)


class Tensor(Movable):
    __array_ufunc__ = None  # makes `ndarray * Tensor` call Tensor.__rmul__ instead of looping
    __hash__ = object.__hash__  # __eq__ is elementwise, as in PyTorch

    data: np.ndarray  # NumPy on the CPU, CuPy on a GPU
    grad: Tensor | None  # filled in by backward() for a leaf that requires grad
    grad_fn: Function | None  # the Function that made this tensor; None for a leaf

    def __init__(self, data: np.ndarray, requires_grad: bool = False) -> None:
        self.data = data
        self.grad = None
        self.grad_fn = None
        self.requires_grad = requires_grad

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if flag and not backend.is_floating(self.data.dtype):
            raise RuntimeError(f"only floating-point tensors can require gradients, got {self.data.dtype}")
        self._requires_grad = bool(flag)

    # --- what the tensor is -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self.data)

    @property
    def xp(self) -> ModuleType:
        """The array module of the data: ``numpy`` or ``cupy``."""
        return backend.get_array_module(self.data)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @overload
    def size(self, dim: None = None) -> tuple[int, ...]: ...
    @overload
    def size(self, dim: int) -> int: ...

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or one dimension of it (PyTorch's ``x.size(0)``)."""
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return int(self.data.size)

    def dim(self) -> int:
        return self.ndim

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (copied off the GPU if need be)."""
        return backend.to_device(self.data, "cpu")

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(t)``: the values in one step (without this, NumPy would index element by element).
        A CUDA tensor is copied to the host, as by ``numpy()`` (PyTorch refuses instead)."""
        converts = dtype is not None and np.dtype(dtype) != self.dtype
        if copy is False and (converts or self.device != "cpu"):
            raise ValueError("np.array(tensor, copy=False): a copy is needed (another dtype, or off the GPU); "
                             "use np.asarray(tensor)")
        array = self.numpy()
        if converts:
            return array.astype(dtype)
        return array.copy() if copy and self.device == "cpu" else array

    def item(self) -> int | float | bool:
        if self.numel() != 1:
            raise ValueError(f"item(): the tensor has {self.numel()} elements, expected 1")
        return self.data.item()

    def tolist(self) -> Any:
        """Nested Python lists of numbers (a number alone for a 0-d tensor)."""
        return self.numpy().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(", precision=4)
        extra = "" if self.dtype in (DEFAULT_FLOAT, np.int64, np.bool_) else f", dtype={self.dtype}"
        if self.device != "cpu":
            extra += f", device='{self.device}'"
        if self.grad_fn is not None:
            extra += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # --- autograd -----------------------------------------------------------------------
    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see `minigan.grad`)."""
        autograd.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    def detach(self) -> Tensor:
        """The same values, cut off from the graph."""
        return Tensor(self.data)

    def requires_grad_(self, flag: bool = True) -> Self:
        self.requires_grad = flag
        return self

    # --- dtype and device ---------------------------------------------------------------
    def to(self, target: str | DTypeLike) -> Tensor:
        """A copy on another device ('cpu', 'cuda') or with another dtype; differentiable."""
        if isinstance(target, str):
            return ops.to_device(self, target)
        return ops.cast(self, target)

    # --- operators ----------------------------------------------------------------------
    def __add__(self, other: Operand) -> Tensor: return ops.add(self, other)
    def __radd__(self, other: Operand) -> Tensor: return ops.add(other, self)
    def __sub__(self, other: Operand) -> Tensor: return ops.sub(self, other)
    def __rsub__(self, other: Operand) -> Tensor: return ops.sub(other, self)
    def __mul__(self, other: Operand) -> Tensor: return ops.mul(self, other)
    def __rmul__(self, other: Operand) -> Tensor: return ops.mul(other, self)
    def __truediv__(self, other: Operand) -> Tensor: return ops.div(self, other)
    def __rtruediv__(self, other: Operand) -> Tensor: return ops.div(other, self)
    def __pow__(self, other: Operand) -> Tensor: return ops.pow(self, other)
    def __rpow__(self, other: Operand) -> Tensor: return ops.pow(other, self)
    def __matmul__(self, other: Operand) -> Tensor: return ops.matmul(self, other)
    def __rmatmul__(self, other: Operand) -> Tensor: return ops.matmul(other, self)
    def __neg__(self) -> Tensor: return ops.neg(self)
    def __pos__(self) -> Tensor: return self
    def __abs__(self) -> Tensor: return ops.abs(self)
    def __getitem__(self, index: Any) -> Tensor: return ops.getitem(self, index)  # what NumPy indexing takes

    # Comparisons are not differentiable: they give bool tensors outside the graph. == and != give a
    # Tensor, not the bool that object's == promises: hence the two `type: ignore[override]`s.
    def _compare(self, other: Operand, name: str) -> Tensor:
        return Tensor(getattr(self.xp, name)(self.data, _operand(other, self).data))

    def __eq__(self, other: Operand) -> Tensor: return self._compare(other, "equal")  # type: ignore[override]
    def __ne__(self, other: Operand) -> Tensor: return self._compare(other, "not_equal")  # type: ignore[override]
    def __lt__(self, other: Operand) -> Tensor: return self._compare(other, "less")
    def __le__(self, other: Operand) -> Tensor: return self._compare(other, "less_equal")
    def __gt__(self, other: Operand) -> Tensor: return self._compare(other, "greater")
    def __ge__(self, other: Operand) -> Tensor: return self._compare(other, "greater_equal")

    # --- the ops as methods, with PyTorch's names ----------------------------------------
    def reshape(self, *shape: Shape) -> Tensor: return ops.reshape(self, *shape)
    def view(self, *shape: Shape) -> Tensor: return ops.reshape(self, *shape)
    def transpose(self, dim0: int, dim1: int) -> Tensor: return ops.transpose(self, dim0, dim1)
    def permute(self, *dims: Shape) -> Tensor: return ops.permute(self, *dims)
    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor: return ops.flatten(self, start_dim, end_dim)
    def expand(self, *sizes: Shape) -> Tensor: return ops.expand(self, *sizes)
    def squeeze(self, dim: Dims = None) -> Tensor: return ops.squeeze(self, dim)
    def unsqueeze(self, dim: int) -> Tensor: return ops.unsqueeze(self, dim)

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        return ops.split(self, split_size_or_sections, dim)

    @property
    def T(self) -> Tensor:
        return ops.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        return ops.transpose(self, -2, -1)

    def sum(self, dim: Dims = None, keepdim: bool = False) -> Tensor: return ops.sum(self, dim, keepdim)
    def mean(self, dim: Dims = None, keepdim: bool = False) -> Tensor: return ops.mean(self, dim, keepdim)

    def var(self, dim: Dims = None, *, correction: float = 1, keepdim: bool = False) -> Tensor:
        return ops.var(self, dim, correction=correction, keepdim=keepdim)

    def std(self, dim: Dims = None, *, correction: float = 1, keepdim: bool = False) -> Tensor:
        return ops.std(self, dim, correction=correction, keepdim=keepdim)

    # max and min: the largest value without a dim; with one, (values, indices) as in PyTorch.
    @overload
    def max(self, dim: None = None, keepdim: bool = False) -> Tensor: ...
    @overload
    def max(self, dim: int, keepdim: bool = False) -> values_indices: ...

    def max(self, dim: int | None = None, keepdim: bool = False) -> Tensor | values_indices:
        return ops.max(self, dim, keepdim)

    @overload
    def min(self, dim: None = None, keepdim: bool = False) -> Tensor: ...
    @overload
    def min(self, dim: int, keepdim: bool = False) -> values_indices: ...

    def min(self, dim: int | None = None, keepdim: bool = False) -> Tensor | values_indices:
        return ops.min(self, dim, keepdim)

    def amax(self, dim: Dims = None, keepdim: bool = False) -> Tensor: return ops.amax(self, dim, keepdim)
    def amin(self, dim: Dims = None, keepdim: bool = False) -> Tensor: return ops.amin(self, dim, keepdim)
    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor: return ops.argmax(self, dim, keepdim)
    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor: return ops.argmin(self, dim, keepdim)

    def matmul(self, other: Operand) -> Tensor: return ops.matmul(self, other)
    def pow(self, exponent: Operand) -> Tensor: return ops.pow(self, exponent)
    def exp(self) -> Tensor: return ops.exp(self)
    def log(self) -> Tensor: return ops.log(self)
    def log1p(self) -> Tensor: return ops.log1p(self)
    def sqrt(self) -> Tensor: return ops.sqrt(self)
    def abs(self) -> Tensor: return ops.abs(self)
    def sign(self) -> Tensor: return ops.sign(self)
    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor: return ops.clamp(self, min, max)
    def clip(self, min: float | None = None, max: float | None = None) -> Tensor: return ops.clamp(self, min, max)
    def relu(self) -> Tensor: return ops.relu(self)
    def sigmoid(self) -> Tensor: return ops.sigmoid(self)
    def tanh(self) -> Tensor: return ops.tanh(self)
    def softmax(self, dim: int) -> Tensor: return ops.softmax(self, dim)
    def log_softmax(self, dim: int) -> Tensor: return ops.log_softmax(self, dim)


def as_tensor(value: Operand, dtype: DTypeLike | None = None) -> Tensor:
    """``value`` itself if it is a Tensor, else a new constant Tensor (no copy of an array)."""
    if isinstance(value, Tensor):
        return value
    array: Any = value  # a NumPy or CuPy array, or Python data (a number, nested lists)
    xp = backend.get_array_module(array)
    if xp is np and not isinstance(array, np.ndarray):
        array = _infer_array(array, dtype)
    elif dtype is not None:
        array = array.astype(dtype, copy=False)
    return Tensor(array)


def constant(array: np.ndarray, like: Tensor) -> Tensor:
    """A Tensor outside the graph with ``like``'s dtype: masks and weights inside a backward pass."""
    return Tensor(array.astype(like.dtype, copy=False))


def _infer_array(value: ArrayLike, dtype: DTypeLike | None) -> np.ndarray:
    """Python data to an array with PyTorch's dtype rules: floats become float32."""
    array = np.asarray(value, dtype=dtype)
    if dtype is None and array.dtype == np.float64 and not isinstance(value, np.generic):
        array = array.astype(DEFAULT_FLOAT)
    return array


_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}  # PyTorch's order of kinds: bool < integer < float
_SCALAR_DEFAULT = {1: np.dtype(np.int64), 2: DEFAULT_FLOAT}  # the dtype of an integer or a float alone


def _operand(value: Operand, like: Tensor) -> Tensor:
    """The other operand of a binary op: a Python or NumPy scalar takes ``like``'s dtype, unless
    it is of a higher kind (bool < integer < float): then that kind's default, int64 or float32.

    These are PyTorch's rules: a float32 tensor times ``0.5`` or ``np.float64(0.5)`` stays float32
    (NumPy 2's rules alone would promote the latter to float64), an int tensor times 0.5 is
    float32, and a bool tensor plus 1 is int64 (not bool, which would turn 1 + 1 into True).
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (numbers.Number, np.generic)):
        kind = np.asarray(value).dtype.kind
        if kind not in _KIND_RANK:
            raise TypeError(f"minigan tensors are bool, integer or floating point; "
                            f"got the {type(value).__name__} {value!r}")
        rank = _KIND_RANK[kind]
        dtype = like.dtype if rank <= _KIND_RANK[like.dtype.kind] else _SCALAR_DEFAULT[rank]
        return Tensor(like.xp.asarray(value, dtype=dtype))
    return as_tensor(value)


# The one import circle minigan allows: the methods above call into the ops and autograd at run
# time, and every op makes Tensors. One engine split over files, as in PyTorch (tests/test_imports.py).
from . import autograd, ops  # noqa: E402
