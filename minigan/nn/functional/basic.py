"""The basic layers as functions: linear, dropout, embedding, one_hot.

Their gradients of every order come from differentiable ops: linear's backward is two matmuls,
dropout is a product with a constant mask, embedding an indexing.
"""
from __future__ import annotations

import numpy as np

from ... import backend, ops
from ...autograd import Function, is_grad_enabled
from ...ops.arithmetic import _operands
from ...random import generator
from ...tensor import Tensor, as_tensor, constant

__all__ = ["linear", "dropout", "embedding", "one_hot"]


class Linear(Function):
    r"""$y = x W^\top$ for x (N, in), W (out, in): $\partial x = g_y W$, $\partial W = g_y^\top x$.

    ``x @ W.mT`` computes the same, but its weight gradient would arrive as a transposed view of
    $x^\top g_y$; $g_y^\top x$ comes out of its product in W's own layout, which the optimizer's
    update reads in contiguous runs (a transposed view scatters its reads over memory). The
    forward product is taken as $(W x^\top)^\top$, a view of the same numbers: OpenBLAS multiplies
    a batch of 64 by a wide layer faster in that orientation (docs/benchmarks.md, "A step's time").
    """

    def forward(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        return (w @ x.T).T

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, w = self.inputs
        gx = gy @ w if self.needs_input_grad[0] else None
        gw = gy.mT @ x if self.needs_input_grad[1] else None
        return gx, gw


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""The affine map of a fully connected layer (全连接层): $y = x W^\top + b$.

    ``input`` has shape (*, in_features), ``weight`` (out_features, in_features) and ``bias``
    (out_features,); the result has shape (*, out_features).
    """
    input, weight = as_tensor(input), as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must have shape (out_features, in_features), got {weight.shape}")
    n_out, n_in = weight.shape
    if input.ndim == 0 or input.shape[-1] != n_in:
        raise ValueError(f"linear: input of shape {input.shape} does not fit weight of shape {weight.shape}: "
                         f"expected input of shape (*, {n_in})")
    # Leading dims are folded into one batch dim: a single matrix product forward and backward.
    y = Linear()(*_operands(input.reshape(-1, n_in), weight)).reshape(input.shape[:-1] + (n_out,))
    if bias is None:
        return y
    bias = as_tensor(bias)
    if bias.shape != (n_out,):
        raise ValueError(f"linear: bias must have shape ({n_out},) to fit weight of shape {weight.shape}, "
                         f"got {bias.shape}")
    return y + bias


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    r"""Inverted dropout (随机失活): zero each element with probability p, scale the rest by 1/(1-p).

    $y = x \odot m / (1 - p)$ with $m_i \sim \mathrm{Bernoulli}(1 - p)$, so $\mathbb{E}[y] = x$ and
    evaluation (``training=False``) needs no rescaling: it returns ``input`` itself. The gradient
    is the same mask: $\partial y / \partial x = m / (1 - p)$. p = 1 zeroes everything.

    The mask is drawn on the CPU from minigan's seeded generator (``mg.manual_seed``), then moved
    to the input's device. ``inplace=True`` overwrites ``input`` and returns it; it is refused for
    a tensor that autograd is tracking, whose old values a backward pass may still need.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability p has to be between 0 and 1, but got {p}")
    input = as_tensor(input)
    if not training or p == 0:
        return input
    keep = generator().random(input.shape) >= p  # Bernoulli(1 - p); never true when p = 1
    scale = keep.astype(input.dtype)
    if p < 1:  # p = 1 keeps nothing (and must not divide by 0)
        scale *= scale.dtype.type(1 / (1 - p))
    mask = constant(backend.to_device(scale, input.device), input)
    if not inplace:
        return input * mask
    if input.requires_grad and is_grad_enabled():
        raise RuntimeError(f"dropout: inplace=True on a tensor that requires grad (shape {input.shape}): "
                           "minigan cannot rewrite values that the graph may need; use inplace=False")
    input.data *= mask.data
    return input


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    r"""A lookup table (词嵌入): row ``input[i]`` of ``weight``, $y_{i} = W_{x_i}$.

    ``input`` holds integer indices of any shape, ``weight`` is (num_embeddings, embedding_dim);
    the result has shape input.shape + (embedding_dim,). The backward pass is the indexing op's:
    the output gradients are scatter-added into the rows they came from (repeated indices add up).

    ``padding_idx``: that row still comes out as it is, but receives no gradient.
    ``max_norm``: before the lookup, every row that ``input`` refers to and whose ``norm_type``-norm
    exceeds max_norm is rescaled in place to norm max_norm (as PyTorch, outside the graph).
    """
    input, weight = as_tensor(input), as_tensor(weight)
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse are not supported by minigan")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must have shape (num_embeddings, embedding_dim), got {weight.shape}")
    if not np.issubdtype(input.dtype, np.integer):
        raise TypeError(f"embedding: input must hold integer indices, got dtype {input.dtype}")
    n = weight.shape[0]
    index = input.data
    if index.size and not (int(index.min()) >= 0 and int(index.max()) < n):
        raise IndexError(f"embedding: indices must lie in [0, {n}) for a weight of shape {weight.shape}, "
                         f"got values in [{int(index.min())}, {int(index.max())}]")
    if max_norm is not None:
        _renorm_rows(weight.data, index, max_norm, norm_type)
    rows = weight[index]
    if padding_idx is None:
        return rows
    if not -n <= padding_idx < n:
        raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {n} embeddings")
    is_padding = (index == padding_idx % n)[..., None]
    # Same values either way; the detached copy is the branch that sends no gradient back.
    return ops.where(is_padding, rows.detach(), rows)


def _renorm_rows(table: np.ndarray, index: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale the rows of ``table`` used by ``index`` down to norm ``max_norm``, in place."""
    xp = backend.get_array_module(table)
    used = xp.unique(index)
    norms = (xp.abs(table[used]) ** norm_type).sum(axis=1) ** (1 / norm_type)
    factor = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)  # 1e-7 as in PyTorch
    table[used] *= factor[:, None].astype(table.dtype)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """(...) integer classes -> (..., num_classes) int64: 1 at each class, 0 elsewhere (as PyTorch's).
    ``num_classes=-1`` takes one more than the largest class. No gradient: the input is an index."""
    index = as_tensor(tensor).data
    if not np.issubdtype(index.dtype, np.integer):
        raise TypeError(f"one_hot: expected integer classes, got dtype {index.dtype}")
    if num_classes == -1:
        if not index.size:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes")
        num_classes = int(index.max()) + 1
    if num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be -1 or positive, got {num_classes}")
    if index.size and not (int(index.min()) >= 0 and int(index.max()) < num_classes):
        raise IndexError(f"one_hot: classes must lie in [0, {num_classes}), got values in "
                         f"[{int(index.min())}, {int(index.max())}]")
    xp = backend.get_array_module(index)
    return Tensor((index[..., None] == xp.arange(num_classes)).astype(np.int64))
