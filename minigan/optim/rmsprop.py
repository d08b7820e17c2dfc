"""RMSprop: gradient descent divided by a running root mean square of the gradient (WGAN's optimizer)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, Params, check_non_negative


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012), exactly as PyTorch's ``torch.optim.RMSprop``.

    With learning rate $\gamma$, smoothing $\alpha$, $\epsilon$, weight decay $\lambda$ and momentum $\mu$, at step $t$:

    $$g_t = \nabla_\theta f(\theta_{t-1}) + \lambda \theta_{t-1}, \qquad v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2$$
    $$\tilde v_t = v_t, \quad\text{or if centered: } \bar g_t = \alpha \bar g_{t-1} + (1 - \alpha) g_t,\
      \tilde v_t = v_t - \bar g_t^2$$
    $$\theta_t = \theta_{t-1} - \gamma \frac{g_t}{\sqrt{\tilde v_t} + \epsilon}, \quad\text{or if } \mu > 0:\
      b_t = \mu b_{t-1} + \frac{g_t}{\sqrt{\tilde v_t} + \epsilon},\ \theta_t = \theta_{t-1} - \gamma b_t$$

    $v_0 = \bar g_0 = b_0 = 0$. State per parameter: ``step``, ``square_avg`` $v$, and
    ``grad_avg`` $\bar g$ (centered) and ``momentum_buffer`` $b$ ($\mu > 0$).
    """

    def __init__(self, params: Params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False) -> None:
        check_non_negative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered))

    def _update(self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.get_array_module(param.data)
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state.update(step=0, square_avg=xp.zeros_like(param.data))
            if momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(param.data)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(param.data)
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (1 - alpha) * (grad - grad_avg)
            avg = xp.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            avg = xp.sqrt(square_avg) + group["eps"]
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += grad / avg
            param.data -= group["lr"] * buf
        else:
            param.data -= group["lr"] * (grad / avg)
