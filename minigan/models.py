"""Every model `minigan train` knows, GAN or VAE, by name: one registry for the CLI, the config and `minigan models`."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from . import backend
from .gan import models as gan_models
from .nn import Module
from .vae import models as vae_models


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """How to build a model, and what kind it is: "gan" (`minigan.gan.models`) or "vae" (`minigan.vae.models`)."""

    build: Callable[..., Any]
    kind: str

    @property
    def summary(self) -> str:
        """The first line of its builder's docstring."""
        return (self.build.__doc__ or "").strip().splitlines()[0]


MODELS: dict[str, ModelSpec] = {
    **{name: ModelSpec(fn, "gan") for name, fn in gan_models.MODELS.items()},
    "vae-mlp": ModelSpec(vae_models.vae_mlp, "vae"),
    "vae-conv": ModelSpec(vae_models.vae_conv, "vae"),
}
check_pack = gan_models.check_pack  # --pack is PacGAN's: the GANs' registry checks it


def nonfinite_parameter(module: Module) -> str | None:
    """The name of ``module``'s first parameter or buffer holding a NaN or inf, or None when all are finite."""
    for name, value in module.state_dict().items():
        if backend.is_floating(value.dtype) and not value.xp.isfinite(value.data).all():
            return name
    return None


def describe() -> dict[str, str]:
    """One line per model: its name and the first line of its docstring."""
    return {name: spec.summary for name, spec in MODELS.items()}
