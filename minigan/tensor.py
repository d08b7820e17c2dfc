"""The Tensor (张量): an array, plus what autograd needs to send gradients back through it.

A Tensor holds ``data`` (a NumPy or CuPy array), ``requires_grad``, ``grad`` and ``grad_fn`` (the
Function that made it, None for a leaf). Its methods and operators only forward to the
differentiable ops in `minigan.ops`, so ``x * y`` and ``mg.mul(x, y)`` are one and the same.
"""
import numbers

import numpy as np

from . import backend

DEFAULT_FLOAT = np.dtype(np.float32)


def _is_float(dtype):
    return np.issubdtype(dtype, np.floating)


class Movable:
    """PyTorch's shorthands for ``.to(...)``, shared by Tensor and nn.Module."""

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)


class Tensor(Movable):
    __array_ufunc__ = None  # makes `ndarray * Tensor` call Tensor.__rmul__ instead of looping
    __hash__ = object.__hash__  # __eq__ is elementwise, as in PyTorch

    def __init__(self, data, requires_grad=False):
        self.data = data
        self.grad = None
        self.grad_fn = None
        self.requires_grad = requires_grad

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and not _is_float(self.data.dtype):
            raise RuntimeError(f"only floating-point tensors can require gradients, got {self.data.dtype}")
        self._requires_grad = bool(flag)

    # --- what the tensor is -------------------------------------------------------------
    shape = property(lambda self: tuple(self.data.shape))
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    device = property(lambda self: backend.device_of(self.data))
    xp = property(lambda self: backend.get_array_module(self.data))
    is_leaf = property(lambda self: self.grad_fn is None)

    def size(self, dim=None):
        """The shape, or one dimension of it (PyTorch's ``x.size(0)``)."""
        return self.shape if dim is None else self.shape[dim]

    def numel(self):
        return int(self.data.size)

    def dim(self):
        return self.ndim

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def numpy(self):
        """The values as a NumPy array (copied off the GPU if need be)."""
        return self.data.get() if self.device == "cuda" else self.data

    def __array__(self, dtype=None, copy=None):
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

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item(): the tensor has {self.numel()} elements, expected 1")
        return self.data.item()

    def tolist(self):
        return self.numpy().tolist()

    def __float__(self):
        return float(self.item())

    def __bool__(self):
        return bool(self.item())

    def __repr__(self):
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
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see `minigan.grad`)."""
        autograd.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    def detach(self):
        """The same values, cut off from the graph."""
        return Tensor(self.data)

    def requires_grad_(self, flag=True):
        self.requires_grad = flag
        return self

    # --- dtype and device ---------------------------------------------------------------
    def to(self, target):
        """A copy on another device ('cpu', 'cuda') or with another dtype; differentiable."""
        if isinstance(target, str):
            return ops.to_device(self, target)
        return ops.cast(self, target)

    # --- operators ----------------------------------------------------------------------
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __pow__(self, other): return ops.pow(self, other)
    def __rpow__(self, other): return ops.pow(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ops.abs(self)
    def __getitem__(self, index): return ops.getitem(self, index)

    # Comparisons are not differentiable: they give bool tensors outside the graph.
    def _compare(self, other, name):
        return Tensor(getattr(self.xp, name)(self.data, _operand(other, self).data))

    def __eq__(self, other): return self._compare(other, "equal")
    def __ne__(self, other): return self._compare(other, "not_equal")
    def __lt__(self, other): return self._compare(other, "less")
    def __le__(self, other): return self._compare(other, "less_equal")
    def __gt__(self, other): return self._compare(other, "greater")
    def __ge__(self, other): return self._compare(other, "greater_equal")

    # --- the ops as methods, with PyTorch's names ----------------------------------------
    def reshape(self, *shape): return ops.reshape(self, *shape)
    def view(self, *shape): return ops.reshape(self, *shape)
    def transpose(self, dim0, dim1): return ops.transpose(self, dim0, dim1)
    def permute(self, *dims): return ops.permute(self, *dims)
    def flatten(self, start_dim=0, end_dim=-1): return ops.flatten(self, start_dim, end_dim)
    def expand(self, *sizes): return ops.expand(self, *sizes)
    def squeeze(self, dim=None): return ops.squeeze(self, dim)
    def unsqueeze(self, dim): return ops.unsqueeze(self, dim)
    def split(self, split_size_or_sections, dim=0): return ops.split(self, split_size_or_sections, dim)
    T = property(lambda self: ops.permute(self, *reversed(range(self.ndim))))
    mT = property(lambda self: ops.transpose(self, -2, -1))

    def sum(self, dim=None, keepdim=False): return ops.sum(self, dim, keepdim)
    def mean(self, dim=None, keepdim=False): return ops.mean(self, dim, keepdim)
    def var(self, dim=None, *, correction=1, keepdim=False): return ops.var(self, dim, correction=correction, keepdim=keepdim)
    def std(self, dim=None, *, correction=1, keepdim=False): return ops.std(self, dim, correction=correction, keepdim=keepdim)
    def max(self, dim=None, keepdim=False): return ops.max(self, dim, keepdim)
    def min(self, dim=None, keepdim=False): return ops.min(self, dim, keepdim)
    def amax(self, dim=None, keepdim=False): return ops.amax(self, dim, keepdim)
    def amin(self, dim=None, keepdim=False): return ops.amin(self, dim, keepdim)
    def argmax(self, dim=None, keepdim=False): return ops.argmax(self, dim, keepdim)
    def argmin(self, dim=None, keepdim=False): return ops.argmin(self, dim, keepdim)

    def matmul(self, other): return ops.matmul(self, other)
    def pow(self, exponent): return ops.pow(self, exponent)
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def log1p(self): return ops.log1p(self)
    def sqrt(self): return ops.sqrt(self)
    def abs(self): return ops.abs(self)
    def clamp(self, min=None, max=None): return ops.clamp(self, min, max)
    def clip(self, min=None, max=None): return ops.clamp(self, min, max)
    def relu(self): return ops.relu(self)
    def sigmoid(self): return ops.sigmoid(self)
    def tanh(self): return ops.tanh(self)
    def softmax(self, dim): return ops.softmax(self, dim)
    def log_softmax(self, dim): return ops.log_softmax(self, dim)


def as_tensor(value, dtype=None):
    """``value`` itself if it is a Tensor, else a new constant Tensor (no copy of an array)."""
    if isinstance(value, Tensor):
        return value
    xp = backend.get_array_module(value)
    if xp is np and not isinstance(value, np.ndarray):
        value = _infer_array(value, dtype)
    elif dtype is not None:
        value = value.astype(dtype, copy=False)
    return Tensor(value)


def constant(array, like):
    """A Tensor outside the graph with ``like``'s dtype: masks and weights inside a backward pass."""
    return Tensor(array.astype(like.dtype, copy=False))


def _infer_array(value, dtype):
    """Python data to an array with PyTorch's dtype rules: floats become float32."""
    array = np.asarray(value, dtype=dtype)
    if dtype is None and array.dtype == np.float64 and not isinstance(value, np.generic):
        array = array.astype(DEFAULT_FLOAT)
    return array


def _operand(value, like):
    """The other operand of a binary op: a Python or NumPy scalar takes ``like``'s dtype.

    So a float32 tensor times ``0.5`` or ``np.float64(0.5)`` stays float32 (NumPy 2's rules
    alone would promote the latter to float64).
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (numbers.Number, np.generic)):
        dtype = like.dtype
        if not _is_float(dtype) and isinstance(value, (float, np.floating)):
            dtype = DEFAULT_FLOAT  # int tensor * 0.5 is a float tensor, as in PyTorch
        return Tensor(like.xp.asarray(value, dtype=dtype))
    return as_tensor(value)


from . import autograd, ops  # noqa: E402  (the methods above call into these at run time)
