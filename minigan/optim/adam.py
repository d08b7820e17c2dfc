"""Adam and AdamW: gradient descent scaled per coordinate by running moments of the gradient."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, Params, blocks, check_non_negative


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), exactly as PyTorch's ``torch.optim.Adam`` (without amsgrad).

    With learning rate $\gamma$, betas $(\beta_1, \beta_2)$, $\epsilon$ and weight decay $\lambda$, at step $t$:

    $$g_t = \nabla_\theta f(\theta_{t-1}) + \lambda \theta_{t-1}
      \qquad (\text{AdamW instead: } \theta_{t-1} \leftarrow (1 - \gamma\lambda)\,\theta_{t-1},\
      g_t = \nabla_\theta f(\theta_{t-1}))$$
    $$m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2$$
    $$\theta_t = \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \cdot
      \frac{m_t}{\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon}$$

    $m_0 = v_0 = 0$; dividing by $1 - \beta^t$ removes the bias of starting the averages at 0.
    State per parameter: ``step`` $t$, ``exp_avg`` $m$, ``exp_avg_sq`` $v$.
    ``decoupled_weight_decay=True`` is AdamW's rule (Loshchilov & Hutter, 2019).
    """

    def __init__(self, params: Params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, *, decoupled_weight_decay: bool = False) -> None:
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        check_non_negative(lr=lr, eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.get_array_module(param.data)
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state.update(step=0, exp_avg=xp.zeros_like(param.data), exp_avg_sq=xp.zeros_like(param.data))
        state["step"] += 1
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param.data *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * param.data
        bias_correction1 = 1 - beta1 ** state["step"]
        bias_correction2 = 1 - beta2 ** state["step"]
        for p, g, m, v in blocks(param.data, grad, state["exp_avg"], state["exp_avg_sq"]):
            # In place, through one scratch array per block: every temporary of the plain formula
            # would cost one more pass over memory.
            scratch = xp.subtract(g, m)
            scratch *= 1 - beta1
            m += scratch  # m = beta1 m + (1 - beta1) g, as m + (1 - beta1)(g - m): PyTorch's lerp, to rounding
            v *= beta2
            xp.multiply(g, 1 - beta2, out=scratch)
            scratch *= g
            v += scratch  # v = beta2 v + (1 - beta2) g^2
            denom = xp.sqrt(v, out=scratch)
            denom /= math.sqrt(bias_correction2)
            denom += group["eps"]
            update = xp.divide(m, denom, out=scratch)
            update *= lr / bias_correction1
            p -= update


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``:

    $$\theta_{t-1} \leftarrow (1 - \gamma\lambda)\,\theta_{t-1}$$

    then Adam's update (see `Adam`) with the plain gradient: the decay is not scaled by
    $1/\sqrt{v_t}$, so every weight shrinks at the same rate.
    """

    def __init__(self, params: Params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, decoupled_weight_decay=True)
