"""Modules (模块): the building blocks of a network, and Parameters, the weights they own.

A Module keeps three ordered registries, filled in by plain attribute assignment:

    self.weight = Parameter(...)                  -> _parameters  (what an optimizer trains)
    self.register_buffer("running_mean", tensor)  -> _buffers     (saved state that is not trained)
    self.fc = Linear(2, 3)                        -> _modules     (children)

Everything else (parameters(), state_dict(), train(), to(), the repr) walks that tree.
"""
from __future__ import annotations

import itertools
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import backend
from ..tensor import Movable, Tensor, as_tensor

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Parameter(Tensor):
    """A Tensor that a Module trains: assigning one to a module attribute registers it.

    ``Parameter(tensor)`` shares the tensor's array; it requires grad unless told otherwise.
    """

    def __init__(self, data: Tensor | ArrayLike | None = None, requires_grad: bool = True) -> None:
        data = np.zeros(0, dtype=np.float32) if data is None else as_tensor(data).data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module(Movable):
    """Base class of every layer and model: subclass it, set parameters and submodules as
    attributes in ``__init__`` (after ``super().__init__()``) and write ``forward``."""

    training: bool  # set by train() and eval(); layers such as Dropout and BatchNorm read it

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these registries to exist already
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward() method")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # --- registration ------------------------------------------------------------------
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias=False``)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' as parameter '{name}' of "
                            f"{type(self).__name__} (minigan.nn.Parameter or None expected)")
        self._register("_parameters", name, param)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Register ``tensor`` as state saved in the state_dict but not trained (e.g. running means)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' as buffer '{name}' of "
                            f"{type(self).__name__} (minigan.Tensor or None expected)")
        self._register("_buffers", name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"cannot add '{name}' to {type(self).__name__}: {type(module).__name__} "
                            "is not a minigan.nn.Module (an activation function, for example, goes in "
                            "as its module: nn.Tanh(), not mg.tanh)")
        self._register("_modules", name, module)

    def _register(self, registry: str, name: str, value: Any) -> None:
        if "_modules" not in self.__dict__:
            raise AttributeError(f"cannot assign '{name}' before Module.__init__() call: call "
                                 f"super().__init__() first in {type(self).__name__}.__init__")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{type(self).__name__}: invalid name {name!r} (a non-empty string without '.')")
        for other in ("_parameters", "_buffers", "_modules"):  # a name lives in one place only
            self.__dict__[other].pop(name, None)
        self.__dict__.pop(name, None)
        self.__dict__[registry][name] = value

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self.add_module(name, value)
        elif name in self.__dict__.get("_parameters", ()):
            self.register_parameter(name, value)  # only None may replace a parameter
        elif name in self.__dict__.get("_buffers", ()):
            self.register_buffer(name, value)
        elif name in self.__dict__.get("_modules", ()):
            self.add_module(name, value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:  # called only when normal lookup fails: look in the registries
        for registry in ("_parameters", "_buffers", "_modules"):
            values = self.__dict__.get(registry, {})
            if name in values:
                return values[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[registry]:
                del self.__dict__[registry][name]
                return
        object.__delattr__(self, name)

    # --- walking the tree --------------------------------------------------------------
    def named_modules(self, memo: set[int] | None = None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(name, module) for this module and every submodule, depth first, each once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Any]]:
        """(dotted name, tensor) of one registry over the tree; a shared tensor comes once."""
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in module.__dict__[registry].items():
                if value is not None and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs, in the order the attributes were assigned."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[[Module], object]) -> Module:
        """Call ``fn(module)`` on every submodule, then on this one (``net.apply(weights_init)``)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes and gradients ------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (the default) or, with ``mode=False``, evaluation mode, for the whole tree.

        Only some layers care: Dropout drops units and BatchNorm uses batch statistics in training.
        """
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradients of every parameter on or off (freeze a discriminator, say); returns self."""
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients accumulated by ``backward`` (see `clear_grads`)."""
        clear_grads(self.parameters(), set_to_none)

    # --- saving and loading -------------------------------------------------------------
    def state_dict(self, *, prefix: str = "", keep_vars: bool = False) -> dict[str, Tensor]:
        """A flat dict {dotted name: tensor} of every parameter and buffer, e.g. '0.weight'.

        The tensors share memory with the module (detached from the graph unless ``keep_vars``).
        """
        state = {}
        for name, value in itertools.chain(self._parameters.items(), self._buffers.items()):
            if value is not None:
                state[prefix + name] = value if keep_vars else value.detach()
        for name, child in self._modules.items():
            if child is not None:
                state.update(child.state_dict(prefix=f"{prefix}{name}.", keep_vars=keep_vars))
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values (Tensors or arrays) from ``state_dict`` into the parameters and buffers, in place.

        Each value keeps the module's dtype and device. A shape mismatch is always an error; with
        ``strict`` (the default) so are missing and unexpected keys. Returns
        ``IncompatibleKeys(missing_keys, unexpected_keys)``.
        """
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        values = {key: _array(state_dict[key]) for key in own if key in state_dict}
        errors = []
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        for key, value in values.items():
            if tuple(value.shape) != own[key].shape:
                errors.append(f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} from "
                              f"checkpoint, the shape in current model is {own[key].shape}.")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for key, value in values.items():
            target = own[key]
            target.data[...] = backend.to_device(value, target.device)  # casts to the target's dtype
        return IncompatibleKeys(missing, unexpected)

    # --- device and dtype ---------------------------------------------------------------
    def to(self, device: str | DTypeLike | None = None, dtype: DTypeLike | None = None) -> Module:
        """Move parameters and buffers to ``device`` and/or cast the floating-point ones to ``dtype``.

        Works in place and returns self: ``model.to('cuda')``, ``model.to(mg.float64)``. The
        Parameter objects stay the same, but build the optimizer after moving the model: its state
        is not moved.
        """
        if device is not None and not isinstance(device, str):
            device, dtype = None, device  # model.to(mg.float64)
        if device is not None:
            device = backend.check_device(device)
        if dtype is not None and not backend.is_floating(dtype):
            raise TypeError(f"{type(self).__name__}.to: parameters can only be cast to a floating-point dtype, "
                            f"got {np.dtype(dtype)}")

        def convert(array: np.ndarray) -> np.ndarray:
            if dtype is not None and backend.is_floating(array.dtype):
                array = array.astype(dtype, copy=False)
            return array if device is None else backend.to_device(array, device)

        for tensor in itertools.chain(self.parameters(), self.buffers()):
            tensor.data = convert(tensor.data)
            if tensor.grad is not None:
                tensor.grad = Tensor(convert(tensor.grad.data))
        return self

    # --- printing -----------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The arguments shown inside the parentheses of this module's repr; layers override it."""
        return ""

    def __repr__(self) -> str:
        # PyTorch's layout: a leaf on one line, children indented one per line with their names
        text = self.extra_repr()
        extra = text.split("\n") if text else []
        children = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self._modules.items()]
        if len(extra) == 1 and not children:
            return f"{type(self).__name__}({extra[0]})"
        lines = extra + children
        body = "\n  " + "\n  ".join(lines) + "\n" if lines else ""
        return f"{type(self).__name__}({body})"

    def _check_input(self, input: Tensor, shape_ok: bool, expected_shape: str, dtype: DTypeLike | None = None) -> None:
        """Fail early, naming this layer, when the input has the wrong shape or dtype."""
        if not shape_ok:
            raise ValueError(f"{self!r}: expected input of shape {expected_shape}, got {tuple(input.shape)}")
        if dtype is not None and input.dtype != dtype:
            raise TypeError(f"{self!r}: expected input of dtype {dtype} (the dtype of its parameters), got "
                            f"{input.dtype}; convert one of them, e.g. x.to(mg.{dtype})")


def clear_grads(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Set every ``param.grad`` to None (the default), or to zeros with ``set_to_none=False``.

    None is cheaper and lets the next ``backward`` store its gradient without adding. Zeros are
    new arrays: a gradient may be a read-only broadcast view, which cannot be zeroed in place.
    """
    for param in params:
        if param.grad is not None:
            param.grad = None if set_to_none else Tensor(param.grad.xp.zeros_like(param.grad.data))


def _array(value: Any) -> Any:
    """A state_dict value (a Tensor, a NumPy or CuPy array, a number or a list) as an array."""
    if isinstance(value, Tensor):
        return value.data
    return value if hasattr(value, "shape") else np.asarray(value)
