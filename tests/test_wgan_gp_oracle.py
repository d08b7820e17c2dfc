"""WGAN-GP through a critic with convolutions and BatchNorm: the penalty's parameter gradients are
second derivatives through conv2d, its transposes and batch_norm's batch statistics. PyTorch is
the oracle (float64); the test is skipped without it."""
import numpy as np
import pytest

import minigan as mg
from minigan import gan, nn


def build_critic():
    return nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                         nn.Conv2d(4, 6, 3, stride=1, padding=1), nn.BatchNorm2d(6),
                         nn.Flatten(), nn.Linear(6 * 4 * 4, 1))


@pytest.mark.parametrize("training", [True, False])
def test_gradient_penalty_parameter_gradients_match_pytorch(training):
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    mg.manual_seed(0)
    critic = build_critic().double()
    rng = np.random.default_rng(0)
    for p in critic.parameters():  # random BatchNorm affine parameters too, not just 1 and 0
        p.data[...] = rng.standard_normal(p.shape) * 0.5
    critic.train(training)
    if not training:
        critic[3].running_mean.data[...] = rng.standard_normal(6) * 0.1
        critic[3].running_var.data[...] = rng.uniform(0.5, 1.5, 6)
    real, fake = rng.standard_normal((5, 2, 8, 8)), rng.standard_normal((5, 2, 8, 8))
    eps = rng.uniform(size=(5, 1, 1, 1))

    penalty = gan.gradient_penalty(critic, mg.tensor(real), mg.tensor(fake), lambda_=10.0, eps=mg.tensor(eps))
    params = list(critic.parameters())
    # The first conv's bias only moves LeakyReLU's kink: no path to the penalty (None = zero).
    grads = mg.grad(penalty, params, allow_unused=True)

    tcritic = tnn.Sequential(tnn.Conv2d(2, 4, 3, stride=2, padding=1), tnn.LeakyReLU(0.2),
                             tnn.Conv2d(4, 6, 3, stride=1, padding=1), tnn.BatchNorm2d(6),
                             tnn.Flatten(), tnn.Linear(6 * 4 * 4, 1)).double()
    tcritic.load_state_dict({k: torch.tensor(v.numpy()) for k, v in critic.state_dict().items()})
    tcritic.train(training)
    x_hat = (torch.tensor(eps) * torch.tensor(real) + (1 - torch.tensor(eps)) * torch.tensor(fake)).requires_grad_()
    (g,) = torch.autograd.grad(tcritic(x_hat).sum(), x_hat, create_graph=True)
    tpenalty = 10 * ((torch.sqrt((g ** 2).flatten(1).sum(1) + 1e-12) - 1) ** 2).mean()
    tgrads = torch.autograd.grad(tpenalty, list(tcritic.parameters()), allow_unused=True)

    assert penalty.item() == pytest.approx(tpenalty.item(), rel=1e-10)
    for (name, _), a, b in zip(critic.named_parameters(), grads, tgrads):
        shape = dict(critic.named_parameters())[name].shape
        a = np.zeros(shape) if a is None else a.numpy()
        b = np.zeros(shape) if b is None else b.numpy()
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-11, err_msg=name)
