"""A PyTorch copy of a minigan network, layer for layer, for tests that train both and compare.

`torch_twin(module)` builds the torch layers with the same hyperparameters, then copies every
parameter and buffer through ``load_state_dict(strict=True)``: minigan and torch name their state
alike ('0.weight', '3.running_var', ...), so a key that one side has and the other lacks means the
twin is not the same network, and fails there rather than as a small numeric difference later.
"""
from collections import OrderedDict

import numpy as np
import torch
from torch import nn as tnn

from minigan import nn
from minigan.gan.models import Logit


def _layer(m: nn.Module) -> tnn.Module:
    """The torch layer with ``m``'s hyperparameters (its values come later, from the state dict)."""
    if isinstance(m, nn.Sequential):
        return tnn.Sequential(OrderedDict((name, _layer(child)) for name, child in m.named_children()))
    if isinstance(m, Logit):
        return tnn.Flatten(0)  # (N, 1) -> (N,)
    if isinstance(m, nn.Linear):
        return tnn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
    if isinstance(m, nn.Conv2d):
        return tnn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation,
                          m.groups, m.bias is not None, m.padding_mode)
    if isinstance(m, nn.ConvTranspose2d):
        # minigan has already turned padding='same' into (padding, output_padding), as torch wants them
        return tnn.ConvTranspose2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                                   m.output_padding, m.groups, m.bias is not None, m.dilation)
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        kind = tnn.BatchNorm1d if isinstance(m, nn.BatchNorm1d) else tnn.BatchNorm2d
        return kind(m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats, bias=m.bias is not None)
    if isinstance(m, nn.LeakyReLU):
        return tnn.LeakyReLU(m.negative_slope)
    if isinstance(m, nn.Flatten):
        return tnn.Flatten(m.start_dim, m.end_dim)
    if isinstance(m, nn.Unflatten):
        return tnn.Unflatten(m.dim, m.unflattened_size)
    # exact types: a subclass may compute something else under the same name
    simple = {nn.ReLU: tnn.ReLU, nn.Tanh: tnn.Tanh, nn.Sigmoid: tnn.Sigmoid}
    if type(m) in simple:
        return simple[type(m)]()
    raise TypeError(f"torch_twin: no PyTorch twin for {type(m).__name__} ({m!r})")


def torch_twin(module: nn.Module) -> tnn.Module:
    """A torch network computing what ``module`` computes, with equal parameters and buffers (BatchNorm's
    running statistics and batch count too), in ``module``'s dtype (float32 unless it was cast) and
    training mode."""
    state = {name: torch.from_numpy(np.array(t.numpy())) for name, t in module.state_dict().items()}
    dtype = next((t.dtype for t in state.values() if t.is_floating_point()), torch.float32)
    twin = _layer(module).to(dtype)
    twin.load_state_dict(state)
    return twin.train(module.training)


def weights(net: nn.Module | tnn.Module) -> dict[str, np.ndarray]:
    """Every parameter and buffer of a minigan or a torch network, by name, in float64."""
    return {name: np.asarray(t.detach().numpy(), dtype=np.float64) for name, t in net.state_dict().items()}


def relative_differences(net: nn.Module | tnn.Module, reference: nn.Module | tnn.Module) -> dict[str, float]:
    r"""$\|w - w_{ref}\| / \|w_{ref}\|$ for each parameter and buffer, two networks of one layout (minigan
    or torch, in any dtype) compared. Frobenius norms, not the largest entry: see the tolerances in
    test_trainer_vs_torch.py for why one entry can differ by a whole optimizer step."""
    ref = weights(reference)
    return {name: float(np.linalg.norm(w - ref[name]) / max(np.linalg.norm(ref[name]), 1e-30))
            for name, w in weights(net).items()}
