"""Reverse-mode automatic differentiation (自动微分).

A `Function` computes its forward pass on raw arrays and its backward pass with *Tensors*,
using the same differentiable ops as everything else. So when the backward pass runs with
grad mode on (``create_graph=True``), it records a graph of its own, and that graph can be
differentiated again: gradients of gradients, to any order (as the gradient penalty of WGAN-GP
needs).

The engine below walks the graph with an explicit stack (no recursion, so a 50,000-op chain is
fine), visits each function once in reverse topological order and frees the graph afterwards
unless asked to keep it: a freed function keeps only its edges (where its inputs came from), so
a later pass can still walk past it, and fails only if it would have to run it again.
"""
from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Sequence
from typing import Any, NamedTuple, cast

import numpy as np
from numpy.typing import ArrayLike

from .backend import is_floating
from .tensor import DEFAULT_FLOAT, Tensor, as_tensor

_state = threading.local()


def is_grad_enabled() -> bool:
    return getattr(_state, "grad_enabled", True)


class set_grad_enabled(contextlib.ContextDecorator):
    """Turn graph recording on or off inside a ``with`` block (or a decorated function)."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        self.previous = is_grad_enabled()
        _state.grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self.previous


class no_grad(set_grad_enabled):
    """Record no graph: for evaluation, sampling and optimizer updates."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    def __init__(self) -> None:
        super().__init__(True)


_ZERO = object()  # the engine's stand-in for a gradient known to be zero; see _run


class Edge(NamedTuple):
    """Where a function's input came from: enough to walk the graph after its tensors are freed."""

    id: int
    grad_fn: Function | None
    requires_grad: bool


class Function:
    """One differentiable operation.

    Subclasses write ``forward(*arrays) -> array`` and ``backward(grad_output) -> grads``, one
    gradient (a Tensor or None) per input. ``backward`` reads ``self.inputs`` (Tensors) and
    ``self.output`` (the output Tensor) and must use differentiable ops only.
    ``self.needs_input_grad`` tells it which input gradients are wanted, so it can skip the rest.
    """

    float_inputs = False  # True for math functions: integer inputs are computed in float32, as in PyTorch
    # True for a function whose derivative is zero (sign, a mask): its inputs are sent a zero
    # gradient, so they count as used, and backward is never called.
    zero_derivative = False

    # Set by __call__ when the call is recorded in the graph:
    inputs: tuple[Tensor, ...]  # the input tensors, for backward; None once a backward pass freed them
    edges: tuple[Edge, ...]  # where each input came from: kept, so the graph can be walked after freeing
    _output: weakref.ref[Tensor]
    # Set by the engine before it calls backward: which inputs want a gradient.
    needs_input_grad: tuple[bool, ...]

    def __call__(self, *inputs: Tensor | ArrayLike) -> Tensor:
        tensors = tuple(as_tensor(x) for x in inputs)
        if self.float_inputs:
            tensors = tuple(x if is_floating(x.dtype) else Tensor(x.data.astype(DEFAULT_FLOAT))
                            for x in tensors)
        y = self.forward(*(x.data for x in tensors))
        out = Tensor(np.asarray(y) if isinstance(y, np.generic) else y)  # NumPy reductions return scalars
        # Only floating-point results are differentiable (a cast to int64 leaves the graph).
        if is_grad_enabled() and any(x.requires_grad for x in tensors) and is_floating(out.dtype):
            out.requires_grad = True
            out.grad_fn = self
            self.inputs = tensors  # the tensors backward needs; freed after a backward pass
            self.edges = tuple(Edge(id(x), x.grad_fn, x.requires_grad) for x in tensors)  # the graph; kept
            self._output = weakref.ref(out)  # a strong reference would make a cycle
        return out

    @property
    def output(self) -> Tensor:
        """The output Tensor, for backward (alive while backward runs: the engine holds it)."""
        return cast(Tensor, self._output())

    def forward(self, *arrays: Any) -> np.ndarray:
        """The output array from the input arrays (a subclass names them: ``forward(self, a, b)``)."""
        raise NotImplementedError

    def backward(self, grad_output: Tensor) -> Tensor | tuple[Tensor | None, ...] | None:
        """The gradient of each input (None for one not needed), computed with differentiable ops."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"


def backward(tensors: Tensor | Sequence[Tensor], grad_tensors: Tensor | Sequence[Tensor | None] | None = None,
             retain_graph: bool | None = None, create_graph: bool = False) -> None:
    """Accumulate d(tensors)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
    tensors, grad_tensors = _roots(tensors, grad_tensors)
    grads = _run(tensors, grad_tensors, None, retain_graph, create_graph)
    for leaf, g in grads.values():
        if not create_graph:  # a writable array of its own: never a broadcast view, never shared
            g = Tensor(g.xp.array(g.data))
        leaf.grad = g if leaf.grad is None else leaf.grad + g


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Tensor | Sequence[Tensor | None] | None = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple[Tensor, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, as ``torch.autograd.grad``.

    Returns a tuple with one gradient per input and leaves every ``.grad`` untouched. With
    ``create_graph=True`` the gradients carry a graph, so they can be differentiated again.
    With ``allow_unused=True`` an unused input's gradient is None; the return type does not say
    so, as PyTorch's does not, so that the common case needs no None checks.
    """
    outputs, grad_outputs = _roots(outputs, grad_outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad (shape {x.shape})")
    grads = _run(outputs, grad_outputs, inputs, retain_graph, create_graph)
    result: list[Any] = []  # Tensors, and None for an unused input (allow_unused)
    for i, x in enumerate(inputs):
        if id(x) in grads:
            result.append(grads[id(x)][1])
        elif allow_unused:
            result.append(None)
        else:
            raise RuntimeError(f"grad: input {i} (shape {x.shape}) was not used to compute the "
                               "outputs; pass allow_unused=True to get None for it")
    return tuple(result)


def _roots(outputs, grad_outputs):
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    seeds = []
    for i, (y, g) in enumerate(zip(outputs, grad_outputs)):
        if not y.requires_grad:
            raise RuntimeError(f"backward: output {i} does not require grad and has no grad_fn")
        if g is None:
            if y.numel() != 1:
                raise RuntimeError(f"backward: output {i} has shape {y.shape}; a gradient can be "
                                   "created implicitly only for a single-element output")
            g = Tensor(y.xp.ones_like(y.data))
        g = as_tensor(g)
        if g.shape != y.shape:
            raise ValueError(f"backward: grad_output {i} has shape {g.shape}, expected {y.shape}")
        seeds.append(g)
    return outputs, tuple(seeds)


def _run(outputs, grad_outputs, inputs, retain_graph, create_graph):
    """The engine. Returns {id(tensor): (tensor, gradient)} for the wanted tensors.

    Wanted are ``inputs`` when given (``grad``), else every leaf that requires grad (``backward``).
    """
    if retain_graph is None:
        retain_graph = create_graph
    targets = None if inputs is None else {id(x) for x in inputs}

    def wanted(e):  # e: an Edge, or a Tensor seen as one
        return e.id in targets if targets is not None else (e.grad_fn is None and e.requires_grad)

    order = _topological_order(y.grad_fn for y in outputs)
    # A function runs only if a wanted tensor lies upstream of it (torch prunes the same way).
    needed = set()
    for fn in order:
        if any(wanted(e) or id(e.grad_fn) in needed for e in fn.edges):
            if fn.inputs is None:
                raise RuntimeError("backward: trying to go through the graph a second time; its "
                                   "buffers were freed by the first pass. Pass retain_graph=True the "
                                   "first time if you need to.")
            needed.add(id(fn))

    # id(tensor) -> (tensor, accumulated gradient). A gradient known to be zero is the marker _ZERO
    # until the end: each backward is linear in its gradient, so zero in means zero out, and the
    # functions behind a zero are skipped instead of multiplying zeros (as a conv's backward would).
    # One difference from PyTorch follows: where a local derivative behind the zero is infinite
    # (sqrt' at 0), PyTorch multiplies 0 * inf = NaN, and minigan answers the exact 0.
    grads: dict[int, tuple[Tensor, Any]] = {}  # Any: a Tensor, or _ZERO

    def accumulate(x, g):
        if g is _ZERO:
            grads.setdefault(id(x), (x, _ZERO))
            return
        if g.shape != x.shape:
            raise RuntimeError(f"autograd: a gradient of shape {g.shape} reached a tensor of shape "
                               f"{x.shape} (from {x.grad_fn or 'a leaf'})")
        if g.dtype != x.dtype:
            g = g.to(x.dtype)
        if id(x) in grads and grads[id(x)][1] is not _ZERO:
            g = grads[id(x)][1] + g
        grads[id(x)] = (x, g)

    with set_grad_enabled(create_graph):
        for y, g in zip(outputs, grad_outputs):
            accumulate(y, g)
        for fn in reversed(order):
            if id(fn) not in needed:
                continue
            out = fn._output()  # None if the output tensor is gone
            entry = grads.get(id(out)) if out is not None else None
            if entry is None:
                continue
            if not wanted(Edge(id(out), out.grad_fn, True)):
                del grads[id(out)]  # an intermediate gradient is done with once it is passed on
            fn.needs_input_grad = tuple(wanted(e) or id(e.grad_fn) in needed for e in fn.edges)
            if entry[1] is _ZERO or fn.zero_derivative:
                in_grads: tuple[Any, ...] = (_ZERO,) * len(fn.inputs)  # Tensors, None or _ZERO
            else:
                in_grads = fn.backward(entry[1])
                in_grads = in_grads if isinstance(in_grads, tuple) else (in_grads,)
            for x, g, need in zip(fn.inputs, in_grads, fn.needs_input_grad):
                if need and g is not None:
                    accumulate(x, g if g is _ZERO else as_tensor(g))
            if not retain_graph:
                fn.inputs = None
    return {k: (x, Tensor(x.xp.zeros(x.shape, dtype=x.dtype)) if g is _ZERO else g)
            for k, (x, g) in grads.items() if wanted(Edge(id(x), x.grad_fn, x.requires_grad))}


def _topological_order(root_fns):
    """Functions reachable from the roots, each after the functions that made its inputs."""
    order, seen = [], set()
    stack = [(fn, False) for fn in root_fns if fn is not None]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        stack.append((fn, True))
        stack.extend((e.grad_fn, False) for e in fn.edges if e.grad_fn is not None and id(e.grad_fn) not in seen)
    return order
