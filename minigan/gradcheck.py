"""Check analytic gradients against central finite differences, as torch.autograd.gradcheck does.

``gradcheck`` compares the Jacobian that backward computes with
$J_{ij} \\approx (f_i(x + \\epsilon e_j) - f_i(x - \\epsilon e_j)) / 2\\epsilon$, in float64.
``gradgradcheck`` does the same for the backward pass itself, seen as a function of the inputs
*and* the output gradients: that is what create_graph=True must get right.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeAlias

import numpy as np

from .autograd import grad
from .tensor import Tensor

TensorFn: TypeAlias = Callable[..., Tensor | Sequence[Tensor]]  # the function checked: one output or several
Inputs: TypeAlias = Tensor | tuple[Tensor, ...] | list[Tensor]  # one input tensor, or a tuple or list of them


class GradcheckError(AssertionError):
    pass


def _outputs(fn: TensorFn, inputs: Sequence[Tensor]) -> tuple[Tensor, ...]:
    out = fn(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(out)


def _flat_values(outputs: Sequence[Tensor]) -> np.ndarray:
    if not outputs:
        return np.zeros(0)
    return np.concatenate([np.asarray(o.numpy(), dtype=np.float64).ravel() for o in outputs])


def _numeric_jacobian(fn: TensorFn, inputs: Sequence[Tensor], x: Tensor, eps: float) -> np.ndarray:
    """Column j: how every output moves when element j of ``x`` moves (central differences)."""
    if not x.data.flags.c_contiguous:
        x.data = x.xp.ascontiguousarray(x.data)
    flat = x.data.reshape(-1)  # a view of contiguous data: perturbing it perturbs x
    columns = []  # fn runs with grad mode on: gradgradcheck's fn takes a gradient itself
    for j in range(flat.size):
        saved = flat[j].item()
        flat[j] = saved + eps
        plus = _flat_values(_outputs(fn, inputs))
        flat[j] = saved - eps
        minus = _flat_values(_outputs(fn, inputs))
        flat[j] = saved
        with np.errstate(invalid="ignore"):  # inf - inf at an infinite output: nan, skipped below
            columns.append((plus - minus) / (2 * eps))
    n_out = sum(o.numel() for o in _outputs(fn, inputs))
    return np.stack(columns, axis=1) if columns else np.zeros((n_out, 0))


def _analytic_jacobians(fn: TensorFn, inputs: Sequence[Tensor], wrt: Sequence[Tensor]) -> list[np.ndarray]:
    """Row i: the gradient of output element i with respect to each input in ``wrt``."""
    outputs = _outputs(fn, inputs)
    jacobians = [np.zeros((sum(o.numel() for o in outputs), x.numel())) for x in wrt]
    row = 0
    for o in outputs:
        for i in range(o.numel()):
            if o.requires_grad:
                seed = o.xp.zeros(o.shape, dtype=o.dtype)
                seed.reshape(-1)[i] = 1
                grads = grad(o, wrt, grad_outputs=Tensor(seed), retain_graph=True, allow_unused=True)
                for J, g in zip(jacobians, grads):
                    if g is not None:
                        J[row] = np.asarray(g.numpy(), dtype=np.float64).ravel()
            row += 1  # an output outside the graph has a zero row: finite differences will disagree
    return jacobians


def gradcheck(fn: TensorFn, inputs: Inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              name: str | None = None) -> bool:
    """True if backward agrees with finite differences for every input that requires grad.

    ``inputs`` must be float64 tensors (single precision cannot resolve eps = 1e-6). On a mismatch,
    raises GradcheckError naming the input, the worst element and both values.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    wrt = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    for x in wrt:
        if x.dtype != np.float64:
            raise GradcheckError(f"gradcheck: inputs must be float64 to resolve eps={eps}, got {x.dtype}")
    analytic = _analytic_jacobians(fn, inputs, wrt)
    label = f"{name}: " if name else ""
    for x, A in zip(wrt, analytic):
        N = _numeric_jacobian(fn, inputs, x, eps)
        error = np.abs(A - N) - (atol + rtol * np.abs(N))
        # nan where an output is infinite (inf - inf): skip those entries, not the whole check
        if error.size and not np.all(np.isnan(error)) and np.nanmax(error) > 0:
            out_i, in_j = np.unravel_index(np.nanargmax(error), error.shape)
            where = np.unravel_index(in_j, x.shape) if x.ndim else ()
            raise GradcheckError(
                f"{label}gradient mismatch for input {_index_of(inputs, x)} "
                f"(shape {x.shape}) at element {tuple(int(i) for i in where)}, output element {int(out_i)}: "
                f"analytic {A[out_i, in_j]:.10g}, numeric {N[out_i, in_j]:.10g}")
    return True


def _index_of(seq: Sequence[object], item: object) -> int | None:
    return next((i for i, s in enumerate(seq) if s is item), None)


def gradgradcheck(fn: TensorFn, inputs: Inputs, grad_outputs: Sequence[Tensor] | None = None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, name: str | None = None, seed: int = 0) -> bool:
    """gradcheck of the backward pass: of (inputs, v) -> v^T J(inputs), with random v by default."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    outputs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(Tensor(o.xp.asarray(rng.standard_normal(o.shape)), requires_grad=True)
                             for o in outputs)
    grad_outputs = tuple(grad_outputs)
    n = len(inputs)
    wrt_index = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_derivative(*args: Tensor) -> tuple[Tensor, ...]:
        xs, vs = args[:n], args[n:]
        pairs = [(o, v) for o, v in zip(_outputs(fn, xs), vs) if o.requires_grad]
        grads = grad([o for o, _ in pairs], [xs[i] for i in wrt_index], [v for _, v in pairs],
                     create_graph=True, allow_unused=True)
        # A gradient that left the graph (a backward written with raw arrays) stays in: its
        # analytic Jacobian is then zero and the finite differences expose it.
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps, atol, rtol,
                     name=f"{name or 'fn'} (second order)")
