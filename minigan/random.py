"""minigan's random numbers: one seeded NumPy generator behind every random op.

Numbers are drawn on the CPU and then moved, so a seed gives the same numbers on every device,
and the generator's state can be saved in a checkpoint and restored exactly.
"""
from __future__ import annotations

from typing import Any

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Seed every random op of minigan (as ``torch.manual_seed``)."""
    global _generator
    _generator = np.random.default_rng(int(seed))


def generator() -> np.random.Generator:
    return _generator


def get_rng_state() -> dict[str, Any]:
    """The generator's state, as a JSON-friendly dict (for checkpoints)."""
    return dict(_generator.bit_generator.state)


def set_rng_state(state: dict[str, Any]) -> None:
    _generator.bit_generator.state = state
