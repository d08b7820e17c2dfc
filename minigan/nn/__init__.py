"""minigan.nn: modules (layers with parameters), their functional forms (F) and initialisers."""
from . import functional, init
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .container import Sequential
from .conv import Conv2d, ConvTranspose2d
from .dropout import Dropout
from .flatten import Flatten, Unflatten
from .linear import Embedding, Linear
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .pooling import AvgPool2d, MaxPool2d

__all__ = [
    "Module", "Parameter", "Sequential",
    "Linear", "Embedding", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    "MaxPool2d", "AvgPool2d", "Dropout", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Flatten", "Unflatten",
    "functional", "init",
]
