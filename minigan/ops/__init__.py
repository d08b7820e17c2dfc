"""Every differentiable op of minigan, grouped by kind; each file pairs forwards with backwards."""
from .activation import leaky_relu, log_softmax, logsigmoid, relu, sigmoid, softmax, softplus, tanh
from .arithmetic import add, div, matmul, mul, neg, sub
from .elementwise import abs, clamp, clip, exp, log, log1p, maximum, minimum, pow, sign, sqrt, where
from .reduction import amax, amin, argmax, argmin, max, mean, min, std, sum, var
from .shape import (
    broadcast_to,
    cast,
    cat,
    expand,
    flatten,
    getitem,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    sum_to,
    to_device,
    transpose,
    unsqueeze,
)

view = reshape

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "matmul",
    "exp", "log", "log1p", "sqrt", "sign", "abs", "clamp", "clip", "where", "maximum", "minimum",
    "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "logsigmoid", "softmax", "log_softmax",
    "sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin",
    "reshape", "view", "transpose", "permute", "flatten", "expand", "broadcast_to", "sum_to",
    "squeeze", "unsqueeze", "getitem", "cat", "stack", "split", "cast", "to_device",
]
