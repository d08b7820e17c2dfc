"""minigan: GANs and VAEs on a small autodiff engine of its own, NumPy on the CPU, CuPy on a GPU.

    import minigan as mg
    x = mg.tensor([0.3, -1.2, 2.0], requires_grad=True)
    (g,) = mg.grad(mg.tanh(x).sum(), x, create_graph=True)   # first derivative, with a graph
    (h,) = mg.grad(g.sum(), x)                               # second derivative
"""
import numpy as _np

from .tensor import Tensor  # first: it wires the autograd engine and the ops together

# isort: split
from . import cuda, nn, optim
from .autograd import Function, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (
    arange,
    full,
    full_like,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .ops import *  # noqa: F403  (every differentiable op: mg.tanh, mg.matmul, ...)
from .ops import __all__ as _ops_all
from .random import get_rng_state, manual_seed, set_rng_state

__version__ = "0.1.0"

float16, float32, float64 = _np.float16, _np.float32, _np.float64
int32, int64, bool_ = _np.int32, _np.int64, _np.bool_

__all__ = [
    "Tensor", "Function", "tensor", "zeros", "ones", "full", "arange", "randn", "rand", "randint",
    "zeros_like", "ones_like", "full_like", "randn_like", "rand_like",
    "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "gradcheck", "gradgradcheck", "GradcheckError", "manual_seed", "get_rng_state", "set_rng_state",
    "cuda", "nn", "optim", "float16", "float32", "float64", "int32", "int64", "bool_",
]
__all__.extend(_ops_all)
