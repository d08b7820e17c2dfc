"""Stochastic gradient descent (随机梯度下降), with momentum, dampening, Nesterov and weight decay."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, Params, check_non_negative


class SGD(Optimizer):
    r"""Stochastic gradient descent, exactly as PyTorch's ``torch.optim.SGD``.

    With learning rate $\gamma$, momentum $\mu$, dampening $\tau$ and weight decay $\lambda$, at step $t$:

    $$g_t = \nabla_\theta f(\theta_{t-1}) + \lambda \theta_{t-1}$$
    $$b_t = \begin{cases} g_t & t = 1 \\ \mu b_{t-1} + (1 - \tau) g_t & t > 1 \end{cases}
      \qquad (\text{only if } \mu \ne 0)$$
    $$\theta_t = \theta_{t-1} - \gamma \begin{cases} g_t & \mu = 0 \\ g_t + \mu b_t & \text{nesterov} \\
      b_t & \text{otherwise} \end{cases}$$

    The state of a parameter is its ``momentum_buffer`` $b$ (none when $\mu = 0$).
    """

    def __init__(self, params: Params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        check_non_negative(lr=lr, momentum=momentum, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    def _update(self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        momentum = group["momentum"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # An array of its own (xp.array, not grad.copy()): with weight decay, NumPy's sum above is a
                # scalar for a 0-d parameter, which the in-place updates below would replace, not update.
                buf = state["momentum_buffer"] = backend.get_array_module(param.data).array(grad)
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param.data -= group["lr"] * grad
