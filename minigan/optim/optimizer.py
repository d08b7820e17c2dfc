"""The Optimizer base class: parameter groups, per-parameter state, zero_grad, step and checkpoints.

An optimizer holds ``param_groups``, a list of dicts, each with its ``params`` and its own
hyperparameters (``lr``, ...; missing ones are filled from the defaults), and ``state``, a dict
from each parameter to what its update rule remembers (a step count, moving averages).
A subclass writes only ``_update``, the rule for one parameter.
"""
from __future__ import annotations

import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias

import numpy as np

from .. import backend
from ..autograd import enable_grad, no_grad
from ..nn.module import clear_grads
from ..tensor import Tensor

# What an optimizer is built over: parameters (``model.parameters()``), or parameter groups, dicts
# with a "params" entry and hyperparameters of their own.
Params: TypeAlias = Iterable[Tensor] | Iterable[dict[str, Any]]

BLOCK = 65_536  # elements: 256 KB of float32 per array, so a block's few arrays stay in a core's cache


def blocks(*arrays: np.ndarray) -> Sequence[Sequence[np.ndarray]]:
    """The same-shaped ``arrays`` cut into matching blocks of about BLOCK elements (runs of their
    first axis), for an update rule that runs a dozen elementwise steps. Such an update is
    memory-bound: a 25 MB weight, done whole, goes through main memory once per step; done in
    blocks, about once in all (twice as fast for DCGAN's 6272 x 1024 weight). The blocks are
    views, so writing one writes its array; any memory layout is cut without a copy. On a GPU
    the whole arrays form the one block.
    """
    first = arrays[0]
    if backend.get_array_module(first) is not np or first.size == 0:
        return [arrays]
    if first.ndim == 0:  # NumPy's ufuncs return a 0-d result as a scalar, which ``out=`` cannot take
        return [[a.reshape(1) for a in arrays]]
    rows = max(1, BLOCK * len(first) // first.size)
    return [[a[i:i + rows] for a in arrays] for i in range(0, len(first), rows)]


class Optimizer:
    """The base class: holds ``param_groups`` and ``state``; subclasses write ``_update``."""

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError("params given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got a Tensor; pass model.parameters() or [tensor]")
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = defaultdict(dict)  # keyed by the parameter (hashed by identity)
        self.param_groups: list[dict[str, Any]] = []
        given: list[Any] = list(params)
        if not given:
            raise ValueError("optimizer got an empty parameter list")
        for group in given if isinstance(given[0], dict) else [{"params": given}]:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (e.g. a smaller ``lr``)."""
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for param in group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(param).__name__}")
            if not param.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (shape {param.shape}): it is computed "
                                 "from others, so an update to it would be overwritten")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in group["params"]]
        if len(set(ids)) != len(ids) or any(i in taken for i in ids):
            raise ValueError("some parameters appear more than once in the optimizer's parameter groups")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter: None (the default), or zeros."""
        clear_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        """Update every parameter that has a gradient, in place, outside the graph.

        ``closure``, if given, is called first (with grad mode on) to recompute the loss and the
        gradients; its result is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is not None:
                        self._update(param, param.grad.data, self.state[param], group)
        return loss

    def _update(self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Change ``param.data`` in place, given its gradient array, its state dict and its group."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, each parameter replaced by its index::

            {"state": {0: {"step": 5, "exp_avg": array, "exp_avg_sq": array}, 1: {...}, ...},
             "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), ..., "params": [0, 1, ...]}, ...]}

        Indices count the parameters of all groups in order; a parameter that has not been
        updated yet has no entry. State arrays are copies, on the parameters' device; everything
        else is an int, a float, a bool, None or a tuple of floats: all JSON-able.
        """
        index: dict[int, int] = {}  # id(parameter) -> its index
        param_groups = []
        for group in self.param_groups:
            saved = {name: value for name, value in group.items() if name != "params"}
            saved["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            param_groups.append(saved)
        state = {index[id(param)]: {name: value if isinstance(value, numbers.Number) else value.copy()
                                    for name, value in values.items()}
                 for param, values in self.state.items() if values}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` into an optimizer built over the same parameters, in the same order.

        Hyperparameters are taken from the saved groups; state arrays move to each parameter's
        device and dtype. Keys may be strings ("0") and scalars 0-d arrays, as after a round
        trip through JSON or .npz.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, this optimizer has "
                             f"{len(self.param_groups)}")
        params: dict[int, Tensor] = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"loaded state dict's parameter group {i} has {len(saved['params'])} parameters, "
                                 f"this optimizer's has {len(group['params'])}")
            params.update(zip((int(k) for k in saved["params"]), group["params"]))
        state: dict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            if int(key) not in params:
                raise ValueError(f"loaded state dict has state for parameter {key}, which none of its groups lists")
            param = params[int(key)]
            for name, value in values.items():
                if isinstance(value, (list, tuple)):  # an array that went through JSON
                    value = np.asarray(value)
                # A count (step) is an integer, a number or a 0-d array from .npz; a moving average or a
                # buffer is a floating-point array of the parameter's shape, 0-d for a 0-d parameter.
                if np.isscalar(value) or not backend.is_floating(value.dtype):
                    state[param][name] = value.item() if hasattr(value, "item") else value
                elif tuple(value.shape) != param.shape:
                    raise ValueError(f"loaded optimizer state '{name}' of parameter {key} has shape "
                                     f"{tuple(value.shape)}, but the parameter has shape {param.shape}")
                else:
                    state[param][name] = backend.to_device(value, param.device).astype(param.dtype)
        for saved, group in zip(saved_groups, self.param_groups):
            group.update({name: tuple(v) if isinstance(v, list) else v  # JSON turns tuples into lists
                          for name, v in saved.items() if name != "params"})
        self.state = state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {name}: {group[name]}" for name in sorted(group) if name != "params"]
        return "\n".join(lines + [")"])


def check_non_negative(**hyperparameters: float) -> None:
    """PyTorch's argument checks: a negative learning rate, epsilon, ... is a mistake."""
    for name, value in hyperparameters.items():
        if value < 0:
            raise ValueError(f"Invalid {name} value: {value}")
