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
import contextlib
import threading
import weakref
from typing import NamedTuple

import numpy as np

from .tensor import DEFAULT_FLOAT, Tensor, as_tensor

_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "grad_enabled", True)


class set_grad_enabled(contextlib.ContextDecorator):
    """Turn graph recording on or off inside a ``with`` block (or a decorated function)."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __enter__(self):
        self.previous = is_grad_enabled()
        _state.grad_enabled = self.mode

    def __exit__(self, *exc):
        _state.grad_enabled = self.previous


class no_grad(set_grad_enabled):
    """Record no graph: for evaluation, sampling and optimizer updates."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    def __init__(self):
        super().__init__(True)


class Edge(NamedTuple):
    """Where a function's input came from: enough to walk the graph after its tensors are freed."""

    id: int
    grad_fn: object
    requires_grad: bool


class Function:
    """One differentiable operation.

    Subclasses write ``forward(*arrays) -> array`` and ``backward(grad_output) -> grads``, one
    gradient (a Tensor or None) per input. ``backward`` reads ``self.inputs`` (Tensors) and
    ``self.output`` (the output Tensor) and must use differentiable ops only.
    ``self.needs_input_grad`` tells it which input gradients are wanted, so it can skip the rest.
    """

    float_inputs = False  # True for math functions: integer inputs are computed in float32, as in PyTorch

    def __call__(self, *inputs):
        inputs = tuple(as_tensor(x) for x in inputs)
        if self.float_inputs:
            inputs = tuple(x if np.issubdtype(x.dtype, np.floating) else Tensor(x.data.astype(DEFAULT_FLOAT))
                           for x in inputs)
        y = self.forward(*(x.data for x in inputs))
        out = Tensor(np.asarray(y) if isinstance(y, np.generic) else y)  # NumPy reductions return scalars
        # Only floating-point results are differentiable (a cast to int64 leaves the graph).
        if is_grad_enabled() and any(x.requires_grad for x in inputs) and np.issubdtype(out.dtype, np.floating):
            out.requires_grad = True
            out.grad_fn = self
            self.inputs = inputs  # the tensors backward needs; freed after a backward pass
            self.edges = tuple(Edge(id(x), x.grad_fn, x.requires_grad) for x in inputs)  # the graph; kept
            self._output = weakref.ref(out)  # a strong reference would make a cycle
        return out

    @property
    def output(self):
        return self._output()

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulate d(tensors)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
    tensors, grad_tensors = _roots(tensors, grad_tensors)
    grads = _run(tensors, grad_tensors, None, retain_graph, create_graph)
    for leaf, g in grads.values():
        if not create_graph:  # a writable array of its own: never a broadcast view, never shared
            g = Tensor(g.xp.array(g.data))
        leaf.grad = g if leaf.grad is None else leaf.grad + g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as ``torch.autograd.grad``.

    Returns a tuple with one gradient per input and leaves every ``.grad`` untouched. With
    ``create_graph=True`` the gradients carry a graph, so they can be differentiated again.
    """
    outputs, grad_outputs = _roots(outputs, grad_outputs)
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad (shape {x.shape})")
    grads = _run(outputs, grad_outputs, inputs, retain_graph, create_graph)
    result = []
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

    grads = {}  # id(tensor) -> (tensor, accumulated gradient)

    def accumulate(x, g):
        if g.shape != x.shape:
            raise RuntimeError(f"autograd: a gradient of shape {g.shape} reached a tensor of shape "
                               f"{x.shape} (from {x.grad_fn or 'a leaf'})")
        if g.dtype != x.dtype:
            g = g.to(x.dtype)
        if id(x) in grads:
            g = grads[id(x)][1] + g
        grads[id(x)] = (x, g)

    with set_grad_enabled(create_graph):
        for y, g in zip(outputs, grad_outputs):
            accumulate(y, g)
        for fn in reversed(order):
            if id(fn) not in needed:
                continue
            out = fn.output
            entry = grads.get(id(out)) if out is not None else None
            if entry is None:
                continue
            if not wanted(Edge(id(out), out.grad_fn, True)):
                del grads[id(out)]  # an intermediate gradient is done with once it is passed on
            fn.needs_input_grad = tuple(wanted(e) or id(e.grad_fn) in needed for e in fn.edges)
            in_grads = fn.backward(entry[1])
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            for x, g, need in zip(fn.inputs, in_grads, fn.needs_input_grad):
                if need and g is not None:
                    accumulate(x, as_tensor(g))
            if not retain_graph:
                fn.inputs = None
    return {k: (x, g) for k, (x, g) in grads.items() if wanted(Edge(id(x), x.grad_fn, x.requires_grad))}


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
