"""A strict stand-in for CuPy, so that the test suite runs minigan's GPU code path on a machine without a GPU.

`install(monkeypatch)` puts two module objects in ``sys.modules`` as ``cupy`` and ``cupyx`` (the
``fake_gpu`` fixture of conftest.py does it for one test). minigan then finds them as it would
find CuPy: ``minigan.cuda.is_available()`` is True, ``backend.check_device("cuda")``,
``Tensor.to("cuda")`` and ``MINIGAN_DEVICE=cuda`` make device arrays, ``backend.get_array_module``
answers this ``cupy`` for them, and ``backend.scatter_add`` calls this ``cupyx.scatter_add``.
The library needs no hook: it imports CuPy by name, and this is what the name resolves to.

A device array (`ndarray`) wraps a NumPy array, its "device memory"; every op computes with
NumPy underneath and hands back device arrays. What makes the emulation worth having is what it
refuses, as CuPy does, so that a test fails wherever minigan would fail on a real GPU:

- NumPy refuses device arrays: ``np.asarray(a)`` raises TypeError (CuPy's message), and so does
  any NumPy function or ufunc handed one (stricter than CuPy, which runs a NumPy call on its own
  arrays where it has the function: library code should ask ``xp``, not ``np``). The one
  exception is a NumPy scalar on the left of an operator, ``np.float32(2) * a``, which Python
  sends through NumPy's ufunc and CuPy computes on the device.
- The device refuses host arrays: a NumPy array given to a ``cupy`` function or operator raises
  TypeError ("Unsupported type", as CuPy's kernels do), and so does assigning one (but a 0-d one)
  into a device array (CuPy refuses it into a slice, and copies it over into an array index:
  refused here for both). Index arrays are the exception: CuPy copies a NumPy (or list) index to
  the device.
- Only ``.get()``, ``cupy.asnumpy`` and the Python conversions (``float``, ``int``, ``bool`` of
  one element, ``.item()``, ``.tolist()``) bring values to the host, as in CuPy. A 0-d array is
  not an index (``range(a)`` fails: CuPy's arrays have no ``__index__``), and a reduction gives
  a 0-d device array, never a NumPy scalar.
- ``cupy`` and its arrays offer only the names listed below (`_FUNCTIONS`, `_METHODS`), each one
  that CuPy has: an op minigan starts to use on device arrays must be added here, after checking
  that CuPy has it.

What it cannot show: CuPy's own numerics (cuBLAS, the order of its reductions, how it breaks ties
and treats NaN in argmax), which keyword arguments and modes its functions support beyond the
names (``pad``'s modes, say), its dtype rules where they differ from NumPy's, an index that CuPy
refuses and NumPy takes (more than one boolean array), writes through a broadcast view (NumPy's
are read-only, CuPy's are not), memory and speed, and asynchronous execution.
"""
from __future__ import annotations

import functools
import operator
import sys
import types

import numpy as np

# --- the device array ------------------------------------------------------------------------------

def _refuse_host(value, where):
    raise TypeError(f"Unsupported type {type(value)} (fake_cupy: a NumPy array reached the device in {where}; "
                    "move it with cupy.asarray first)")


def _unwrap(value, where):
    """An argument of a device op, as NumPy sees it: device arrays give their memory, a host array is refused."""
    if isinstance(value, ndarray):
        return value._host
    if isinstance(value, np.ndarray):
        _refuse_host(value, where)
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, where) for v in value)
    return value


def _wrap(value):
    """A result of NumPy, as the device gives it: arrays and NumPy scalars become device arrays."""
    if isinstance(value, (np.ndarray, np.generic)):
        return ndarray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _index(index):
    """An index of a device array: device arrays unwrapped; NumPy arrays and lists kept, as CuPy copies them over."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    return index._host if isinstance(index, ndarray) else index


# ndarray methods that CuPy's ndarray has too: each computes with NumPy's method and returns device arrays.
_METHODS = frozenset({
    "all", "any", "argmax", "argmin", "astype", "clip", "copy", "cumsum", "dot", "flatten", "max", "mean",
    "min", "nonzero", "prod", "ravel", "repeat", "reshape", "squeeze", "std", "sum", "swapaxes", "take",
    "transpose", "var", "view",
})


class ndarray:  # CuPy's name, lower case
    """An array in (emulated) device memory: a NumPy array that only this module's functions may touch."""

    __slots__ = ("_host",)
    __hash__ = None  # type: ignore[assignment]  # unhashable, as NumPy's and CuPy's arrays

    def __init__(self, host):
        assert isinstance(host, np.ndarray), type(host)
        self._host = host

    # what NumPy may not do with it
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        scalar_operator = (method == "__call__" and not kwargs and len(inputs) == 2
                           and isinstance(inputs[0], np.generic) and inputs[1] is self)
        if scalar_operator:  # np.float32(2) * a: CuPy computes it on the device
            return _wrap(ufunc(inputs[0], self._host))
        raise TypeError(f"fake_cupy: NumPy's {ufunc.__name__} was handed a device array (use xp.{ufunc.__name__}, "
                        "or .get() to copy it to the host)")

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"fake_cupy: NumPy's {func.__name__} was handed a device array (use "
                        f"xp.{func.__name__}, or .get() to copy it to the host)")

    # the ways to the host
    def get(self):
        return self._host.copy()

    def item(self):
        return self._host.item()

    def tolist(self):
        return self._host.tolist()

    def __float__(self):
        return float(self._host)

    def __int__(self):
        return int(self._host)

    def __bool__(self):
        if self._host.size > 1:
            raise ValueError("The truth value of an array with more than one element is ambiguous. "
                             "Use a.any() or a.all()")
        return bool(self._host)

    # what it is
    shape = property(lambda self: self._host.shape)
    dtype = property(lambda self: self._host.dtype)
    ndim = property(lambda self: self._host.ndim)
    size = property(lambda self: self._host.size)
    itemsize = property(lambda self: self._host.itemsize)
    nbytes = property(lambda self: self._host.nbytes)
    strides = property(lambda self: self._host.strides)
    flags = property(lambda self: self._host.flags)
    T = property(lambda self: ndarray(self._host.T))

    def __len__(self):
        return len(self._host)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return f"fake_cupy.{self._host!r}"

    def __copy__(self):
        return ndarray(self._host.copy())

    def __deepcopy__(self, memo):
        return ndarray(self._host.copy())

    def __reduce__(self):  # pickling goes through the host, as CuPy's does
        return _array, (self._host.copy(),)

    def __getattr__(self, name):
        if name not in _METHODS:
            raise AttributeError(f"fake_cupy.ndarray has no attribute {name!r} (CuPy's may; add it to _METHODS if so)")
        method = getattr(self._host, name)
        return lambda *args, **kwargs: _wrap(method(*_unwrap(args, f".{name}()"),
                                                    **{k: _unwrap(v, f".{name}()") for k, v in kwargs.items()}))

    def fill(self, value):
        self._host.fill(_unwrap(value, ".fill()"))

    # indexing: views share memory, as CuPy's do
    def __getitem__(self, index):
        return _wrap(self._host[_index(index)])

    def __setitem__(self, index, value):
        if isinstance(value, np.ndarray) and value.ndim:
            _refuse_host(value, "an assignment a[...] = value")
        self._host[_index(index)] = _unwrap(value, "an assignment")


def _operator(op, reflected=False):
    def method(self, other):
        if isinstance(other, np.ndarray):
            _refuse_host(other, f"operator {op.__name__}")
        if not isinstance(other, (ndarray, int, float, bool, complex, np.generic)):
            return NotImplemented
        a, b = self._host, _unwrap(other, op.__name__)
        return _wrap(op(b, a) if reflected else op(a, b))
    return method


def _inplace(op):
    def method(self, other):
        if isinstance(other, np.ndarray):
            _refuse_host(other, f"operator {op.__name__}")
        op(self._host, _unwrap(other, op.__name__))  # NumPy's in-place operator writes into self's memory
        return self
    return method


_ARITHMETIC = [("add", operator.add, operator.iadd), ("sub", operator.sub, operator.isub),
               ("mul", operator.mul, operator.imul), ("truediv", operator.truediv, operator.itruediv),
               ("floordiv", operator.floordiv, operator.ifloordiv), ("mod", operator.mod, operator.imod),
               ("pow", operator.pow, operator.ipow), ("matmul", operator.matmul, operator.imatmul),
               ("and", operator.and_, operator.iand), ("or", operator.or_, operator.ior),
               ("xor", operator.xor, operator.ixor)]
for _name, _op, _iop in _ARITHMETIC:
    setattr(ndarray, f"__{_name}__", _operator(_op))
    setattr(ndarray, f"__r{_name}__", _operator(_op, reflected=True))
    setattr(ndarray, f"__i{_name}__", _inplace(_iop))
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(ndarray, f"__{_name}__", _operator(getattr(operator, _name)))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_name}__", functools.partialmethod(lambda self, op: _wrap(op(self._host)),
                                                             getattr(operator, _name)))


# --- the cupy module ----------------------------------------------------------------------------

def _array(obj, dtype=None, copy=True):
    """cupy.array: host data (a NumPy array, Python numbers, lists) or a device array, copied to the device."""
    host = obj._host if isinstance(obj, ndarray) else obj
    return ndarray(np.array(host, dtype=dtype, copy=copy or None))


def _asarray(obj, dtype=None):
    """cupy.asarray: like `_array`, without a copy where the array is on the device in that dtype already."""
    if isinstance(obj, ndarray) and (dtype is None or np.dtype(dtype) == obj.dtype):
        return obj
    return _array(obj, dtype)


def _asnumpy(a):
    return a.get() if isinstance(a, ndarray) else np.asarray(a)


def _function(name, numpy_function):
    """cupy.<name>: NumPy's function on device arrays; ``out=`` writes into a device array and returns it."""
    def call(*args, **kwargs):
        out = kwargs.get("out")
        if out is not None and not isinstance(out, ndarray):
            raise TypeError(f"fake_cupy: cupy.{name}(out=...) needs a device array, got {type(out)}")
        result = numpy_function(*_unwrap(args, f"cupy.{name}"),
                                **{k: _unwrap(v, f"cupy.{name}") for k, v in kwargs.items()})
        return out if out is not None else _wrap(result)
    call.__name__ = call.__qualname__ = name
    return call


# Every function and ufunc of CuPy's that minigan calls through ``xp`` (and the siblings a reader would
# expect next to them); all exist in CuPy with NumPy's signatures.
_FUNCTIONS = (
    # making arrays
    "arange", "zeros", "zeros_like", "ones", "ones_like", "full", "full_like", "empty", "empty_like", "linspace",
    "ascontiguousarray",
    # arithmetic, elementwise math, comparisons (ufuncs)
    "add", "subtract", "multiply", "divide", "true_divide", "negative", "power", "square", "matmul", "exp", "expm1",
    "log", "log1p", "sqrt", "abs", "absolute", "sign", "tanh", "maximum", "minimum", "clip", "where", "isfinite",
    "isnan", "isinf", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
    "logical_or", "logical_not",
    # reductions and sorting
    "sum", "mean", "var", "std", "prod", "max", "min", "argmax", "argmin", "unique", "take_along_axis", "cumsum",
    # shapes and joins
    "reshape", "transpose", "swapaxes", "broadcast_to", "expand_dims", "squeeze", "concatenate", "stack", "pad",
    "ix_", "meshgrid",
)
_CONSTANTS = ("float16", "float32", "float64", "int8", "int32", "int64", "uint8", "intp", "bool_", "dtype", "inf",
              "nan", "pi", "newaxis")


def _module(name, **attributes):
    module = types.ModuleType(name, f"fake_cupy's {name} (tests/fake_cupy.py)")
    module.__dict__.update(attributes)
    return module


cupy = _module(
    "cupy",
    ndarray=ndarray, array=_array, asarray=_asarray, asnumpy=_asnumpy,
    **{name: _function(name, getattr(np, name)) for name in _FUNCTIONS},
    **{name: getattr(np, name) for name in _CONSTANTS},
    lib=_module("cupy.lib", stride_tricks=_module(
        "cupy.lib.stride_tricks", as_strided=_function("as_strided", np.lib.stride_tricks.as_strided))),
    # one emulated GPU; its work is never queued, so synchronising has nothing to wait for
    cuda=_module("cupy.cuda", runtime=_module("cupy.cuda.runtime", getDeviceCount=lambda: 1),
                 Device=lambda device=0: types.SimpleNamespace(id=device, synchronize=lambda: None)),
)


def _scatter_add(a, slices, value):
    """cupyx.scatter_add: ``a[slices] += value`` where repeated indices add up (NumPy's add.at)."""
    if isinstance(value, np.ndarray):
        _refuse_host(value, "cupyx.scatter_add")
    np.add.at(a._host, _index(slices), _unwrap(value, "cupyx.scatter_add"))


cupyx = _module("cupyx", scatter_add=_scatter_add)


def install(monkeypatch):
    """Make this emulation minigan's CuPy until ``monkeypatch`` undoes it (the end of a test)."""
    import minigan.cuda

    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)
    minigan.cuda.why_unavailable.cache_clear()  # it remembers whether CuPy was importable

