"""minigan.optim: optimizers with PyTorch's names, defaults and update rules.

    opt = mg.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt.zero_grad(); loss.backward(); opt.step()
"""
from . import lr_scheduler
from .adam import Adam, AdamW
from .ema import EMA
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "EMA", "lr_scheduler"]
