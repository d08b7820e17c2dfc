r"""Loss functions (损失函数), with the signatures and ``reduction`` modes of torch.nn.functional.

Every loss is first computed per element, $\ell_i$, then reduced: ``'mean'`` averages (the class
losses take a weighted average, see nll_loss), ``'sum'`` adds up, ``'none'`` returns every $\ell_i$.
All are compositions of differentiable ops, so they can be differentiated to any order, with
respect to the target too.

Logs are never taken of something that can round to 0: binary_cross_entropy clamps its logs at
-100 (as PyTorch), the logit and class losses work with log-sigmoid and log-softmax, which stay
finite and exact for logits of any size.
"""
from __future__ import annotations

import warnings

import numpy as np

from ... import backend, ops
from ...tensor import Tensor, as_tensor, constant

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss", "cross_entropy", "nll_loss"]

_REDUCTIONS = ("mean", "sum", "none")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    r"""Binary cross-entropy (二元交叉熵) of probabilities ``input`` in [0, 1] against ``target``.

    $\ell_i = -w_i \left[ t_i \log x_i + (1 - t_i) \log(1 - x_i) \right]$, each log clamped to
    $\ge -100$ so that x = 0 or 1 gives a finite loss. Where a log is clamped its gradient is 0,
    the derivative of what was computed (PyTorch's hand-written backward,
    $(x - t) / \max(x(1 - x), 10^{-12})$, differs only there). Prefer
    binary_cross_entropy_with_logits on logits: sigmoid followed by this loss loses precision
    where the sigmoid saturates.
    """
    _check_reduction("binary_cross_entropy", reduction)
    input, target = as_tensor(input), as_tensor(target)
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy: target of shape {target.shape} must have the shape of the "
                         f"input, {input.shape}")
    if not ((input.data >= 0) & (input.data <= 1)).all():
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1 "
                         "(they are probabilities; for logits use binary_cross_entropy_with_logits)")
    loss = (target - 1) * _clamped_log(1 - input) - target * _clamped_log(input)  # no -0.0 where t = x
    return _reduce(_weighted("binary_cross_entropy", loss, weight), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    r"""Binary cross-entropy of ``target`` against $\sigma(x)$, computed from the logits x.

    $\ell_i = -w_i \left[ p_c\, t_i \log \sigma(x_i) + (1 - t_i) \log(1 - \sigma(x_i)) \right]$,
    with ``pos_weight`` $p_c$ broadcast along the last (class) dim. Since
    $\log(1 - \sigma(x)) = \log \sigma(x) - x$, this is
    $\ell_i = w_i \left[ (1 - t_i)\, x_i - (1 + (p_c - 1)\, t_i) \log \sigma(x_i) \right]$,
    and $\log \sigma(x) = -\mathrm{softplus}(-x)$ is finite and exact for any x (x = +-1e4 included).
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    input, target = as_tensor(input), as_tensor(target)
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target of shape {target.shape} must have the "
                         f"shape of the input, {input.shape}")
    log_weight: Tensor | float = 1
    if pos_weight is not None:
        pos_weight = _broadcastable("binary_cross_entropy_with_logits", "pos_weight", pos_weight, input.shape)
        log_weight = 1 + (pos_weight - 1) * target
    loss = (1 - target) * input - log_weight * ops.logsigmoid(input)
    return _reduce(_weighted("binary_cross_entropy_with_logits", loss, weight), reduction)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    r"""Mean squared error (均方误差): $\ell_i = (x_i - t_i)^2$.

    Shapes that differ but broadcast are accepted with a warning, as in PyTorch (an (N, 1) input
    against an (N,) target gives an (N, N) loss, which is rarely what was meant).
    """
    _check_reduction("mse_loss", reduction)
    input, target = as_tensor(input), as_tensor(target)
    if target.shape != input.shape:
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ValueError(f"mse_loss: target of shape {target.shape} does not broadcast with input of shape "
                             f"{input.shape}") from None
        warnings.warn(f"mse_loss: target of shape {target.shape} differs from input of shape {input.shape}; "
                      "they will be broadcast together, which is likely not what you want", stacklevel=2)
    diff = input - target
    return _reduce(diff * diff, reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    r"""Cross-entropy (交叉熵) of the softmax of logits ``input`` against ``target``.

    ``input``: logits of shape (C,), (N, C) or (N, C, d1, ...). ``target``, either
    - class indices, integers of the input's shape without C: nll_loss of the log-softmax,
      $\ell_i = -w_{y_i} \log \mathrm{softmax}(x_i)_{y_i}$; or
    - class probabilities q, floats of the input's own shape:
      $\ell_i = -\sum_c w_c\, q_{ic} \log \mathrm{softmax}(x_i)_c$, and ``'mean'`` divides by the
      number of samples, N d1 ....

    ``label_smoothing`` $\varepsilon$ mixes the target with the uniform distribution,
    $q \leftarrow (1 - \varepsilon)\, q + \varepsilon / C$. For class indices that adds
    $\frac{\varepsilon}{C} \left(-\sum_c w_c \log \mathrm{softmax}(x_i)_c\right)$ to
    $(1 - \varepsilon)\ell_i$, reduced with the same denominator as nll_loss.
    """
    _check_reduction("cross_entropy", reduction)
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0 and 1, got {label_smoothing}")
    input, target = as_tensor(input), as_tensor(target)
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have a class dim: shape (C,), (N, C) or (N, C, d1, ...), got ()")
    class_dim = min(1, input.ndim - 1)
    n_classes = input.shape[class_dim]
    weight = _class_weight("cross_entropy", weight, n_classes)
    log_p = ops.log_softmax(input, class_dim)  # log-sum-exp with the max subtracted: stable
    if backend.is_floating(target.dtype) and target.shape == input.shape:
        if ignore_index >= 0:
            raise ValueError("cross_entropy: ignore_index is not supported with class-probability targets")
        q = target if label_smoothing == 0 else (1 - label_smoothing) * target + label_smoothing / n_classes
        return _reduce(_soft_nll(log_p, q, weight, class_dim), reduction)
    loss, total = _nll(log_p, target, weight, ignore_index, "cross_entropy")
    if label_smoothing > 0:
        uniform = ops.where(_valid(target, ignore_index), _soft_nll(log_p, 1.0, weight, class_dim), 0.0)
        loss = (1 - label_smoothing) * loss + (label_smoothing / n_classes) * uniform
    return _reduce(loss, reduction, total)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    r"""Negative log-likelihood (负对数似然) of class indices under log-probabilities ``input``.

    ``input``: (C,), (N, C) or (N, C, d1, ...); ``target``: integer classes of the input's shape
    without C. $\ell_i = -w_{y_i}\, x_{i, y_i}$, and $\ell_i = 0$ where $y_i$ = ``ignore_index``.
    ``'mean'`` is the weighted mean $\sum_i \ell_i / \sum_{i:\, y_i \ne \text{ignore}} w_{y_i}$
    (nan when every target is ignored, as in PyTorch).
    """
    _check_reduction("nll_loss", reduction)
    input, target = as_tensor(input), as_tensor(target)
    if input.ndim == 0:
        raise ValueError("nll_loss: input must have a class dim: shape (C,), (N, C) or (N, C, d1, ...), got ()")
    weight = _class_weight("nll_loss", weight, input.shape[min(1, input.ndim - 1)])
    loss, total = _nll(input, target, weight, ignore_index, "nll_loss")
    return _reduce(loss, reduction, total)


# --- the pieces the losses share ------------------------------------------------------------------

def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str, total: Tensor | None = None) -> Tensor:
    """'none', 'sum', or 'mean': divided by ``total`` (the summed class weights) if given, else by the count."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if total is None else loss.sum() / total


def _broadcastable(name: str, what: str, value: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``value`` as a Tensor, if it broadcasts to ``shape`` (and does not widen it)."""
    value = as_tensor(value)
    try:
        fits = np.broadcast_shapes(value.shape, shape) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name}: {what} of shape {value.shape} does not broadcast to the input's shape {shape}")
    return value


def _weighted(name: str, loss: Tensor, weight: Tensor | None) -> Tensor:
    return loss if weight is None else loss * _broadcastable(name, "weight", weight, loss.shape)


def _clamped_log(x: Tensor) -> Tensor:
    """log x, clamped to >= -100 as PyTorch's BCE does: log 0 gives -100, not -inf.

    Where x = 0 the log is taken of 1 instead and thrown away, so there is no divide-by-zero
    warning, and no 0 * inf = nan in the backward pass.
    """
    positive = x.data > 0
    return ops.where(positive, ops.log(ops.where(positive, x, 1.0)).clamp(min=-100), -100.0)


def _class_weight(name: str, weight: Tensor | None, n_classes: int) -> Tensor | None:
    if weight is None:
        return None
    weight = as_tensor(weight)
    if weight.shape != (n_classes,):
        raise ValueError(f"{name}: weight should have one value per class, shape ({n_classes},), got {weight.shape}")
    return weight


def _valid(target: Tensor, ignore_index: int) -> np.ndarray:
    return target.data != ignore_index


def _soft_nll(log_p: Tensor, q: Tensor | float, weight: Tensor | None, class_dim: int) -> Tensor:
    r"""$-\sum_c w_c\, q_c \log p_c$ along the class dim: the cross-entropy of q against p."""
    if weight is not None:
        q = q * weight.reshape((-1,) + (1,) * (log_p.ndim - class_dim - 1))
    return -ops.sum(log_p * q, class_dim)


def _nll(log_p: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
         name: str) -> tuple[Tensor, Tensor]:
    r"""Per element $-w_{y_i} \log p_{i, y_i}$ (0 where ignored), and $\sum_i w_{y_i}$ over the kept i.

    The picking is integer-array indexing, ``log_p[i, y_i, j, ...]``, whose backward pass
    scatter-adds the gradient into the picked elements.
    """
    class_dim = min(1, log_p.ndim - 1)
    n_classes = log_p.shape[class_dim]
    expected = log_p.shape[:class_dim] + log_p.shape[class_dim + 1:]
    if not np.issubdtype(target.dtype, np.integer) or target.shape != expected:
        raise ValueError(f"{name}: for input of shape {log_p.shape}, target must be class indices (integers) of "
                         f"shape {expected}" + (" or class probabilities (floats) of the input's shape"
                                                if name == "cross_entropy" else "")
                         + f"; got {target.dtype} of shape {target.shape}")
    xp = log_p.xp
    valid = _valid(target, ignore_index)
    classes = xp.where(valid, target.data, 0)  # an ignored target picks class 0, then gets weight 0
    if classes.size and not (int(classes.min()) >= 0 and int(classes.max()) < n_classes):
        bad = int(classes.max()) if int(classes.min()) >= 0 else int(classes.min())
        raise IndexError(f"{name}: target {bad} is out of bounds for {n_classes} classes")
    # One open-grid index per non-class dim: i, j, ... broadcast against the class index y.
    grid = [xp.arange(n).reshape((-1,) + (1,) * (target.ndim - d - 1)) for d, n in enumerate(target.shape)]
    picked = log_p[tuple(grid[:class_dim]) + (classes,) + tuple(grid[class_dim:])]
    log_p_y = ops.where(valid, picked, 0.0)  # where, not a product: an ignored log p may be -inf
    if weight is None:
        return -log_p_y, constant(valid, log_p).sum()
    w_y = ops.where(valid, weight[classes], 0.0)
    return -log_p_y * w_y, w_y.sum()
