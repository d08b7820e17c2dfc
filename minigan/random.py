"""minigan's random numbers: one seeded NumPy generator behind every random op.

Numbers are drawn on the CPU and then moved, so a seed gives the same numbers on every device,
and the generator's state can be saved in a checkpoint and restored exactly.
"""
import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed):
    """Seed every random op of minigan (as ``torch.manual_seed``)."""
    global _generator
    _generator = np.random.default_rng(int(seed))


def generator():
    return _generator


def get_rng_state():
    """The generator's state, as a JSON-friendly dict (for checkpoints)."""
    return _generator.bit_generator.state


def set_rng_state(state):
    _generator.bit_generator.state = state
