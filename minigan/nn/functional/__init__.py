"""minigan.nn.functional (import it as ``F``): layers and losses as plain differentiable functions,
with the signatures and defaults of their namesakes in ``torch.nn.functional``."""
from ...ops import leaky_relu, log_softmax, logsigmoid, relu, sigmoid, softmax, softplus, tanh  # noqa: F401  (as F.relu)
from .basic import *  # noqa: F403  (linear, dropout, embedding, one_hot)
from .conv import *  # noqa: F403  (conv2d, conv_transpose2d)
from .loss import *  # noqa: F403  (binary_cross_entropy[_with_logits], mse_loss, cross_entropy, nll_loss)
from .normalization import *  # noqa: F403  (batch_norm, layer_norm)
from .pooling import *  # noqa: F403  (max_pool2d, avg_pool2d, pad)
