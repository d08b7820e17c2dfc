"""The GPU code path, on the emulated device of tests/fake_cupy.py (the ``fake_gpu`` fixture).

Every op of the registry, every layer, loss and optimizer, checkpoints, sampling, evaluation and
training steps run twice, on the CPU and on the "cuda" device, and must agree: values, dtypes,
first and second derivatives, running statistics, optimizer states. The emulation refuses what
CuPy refuses (a device array handed to NumPy, a host array handed to the device), so a test
here fails where minigan would fail on a real GPU. Then `minigan train/sample/eval --device`.
What the emulation cannot show (CuPy's own numerics and dtype rules, speed) is in fake_cupy's
docstring.
"""
import inspect
import json
import sys

import fake_cupy
import numpy as np
import pytest
from op_registry import OPS
from test_optim import CONFIGS, IDS

import minigan as mg
from minigan import backend, checkpoint, classifier, cli, evaluation, gan, nn, optim, vae
from minigan.data import DataLoader
from minigan.gan import articles
from minigan.gan.models import GAN, Logit, build
from minigan.gan.recipes import LOSSES as RECIPES
from minigan.gan.training import TrainConfig, Trainer
from minigan.nn import functional as F
from minigan.nn.functional import loss as loss_functions
from minigan.vae import losses as vae_losses
from minigan.vae.training import VAETrainer

RNG = np.random.default_rng(0)


# --- the emulation, and how minigan selects it ------------------------------------------------------

def test_the_emulation_refuses_what_cupy_refuses(fake_gpu):
    a = fake_gpu.asarray(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(a)
    with pytest.raises(TypeError, match="NumPy's exp was handed a device array"):
        np.exp(a)
    with pytest.raises(TypeError, match="NumPy's concatenate was handed a device array"):
        np.concatenate([a, a])
    with pytest.raises(TypeError, match="Unsupported type"):
        a + np.ones(3)
    with pytest.raises(TypeError, match="Unsupported type"):
        fake_gpu.maximum(a, np.ones(3))
    with pytest.raises(TypeError, match="Unsupported type"):
        a[0] = np.ones(3)
    with pytest.raises(TypeError):  # a device scalar is no index
        range(a.sum().astype(np.int64))
    with pytest.raises(AttributeError):  # CuPy has no errstate: only CuPy's names are there
        fake_gpu.errstate  # noqa: B018
    total = a.sum()
    assert isinstance(total, fake_gpu.ndarray) and float(total) == 15.0  # a reduction stays on the device
    assert isinstance(np.float32(2) * a, fake_gpu.ndarray)  # a NumPy scalar operand is fine, as in CuPy
    b = a.get()
    assert type(b) is np.ndarray and b.tolist() == [[0, 1, 2], [3, 4, 5]]
    b[0, 0] = 9  # .get() copies
    assert a[0, 0].item() == 0


def test_minigan_finds_the_device_as_it_would_find_cupy(fake_gpu, monkeypatch):
    assert mg.cuda.is_available() and mg.cuda.why_unavailable() is None and mg.cuda.device_count() == 1
    mg.cuda.synchronize()
    assert backend.check_device("cuda:0") == "cuda" and backend.get_array_module(fake_gpu.zeros(1)) is fake_gpu
    x = mg.tensor([1.0, 2.0])
    for moved in (x.to("cuda"), x.cuda(), mg.tensor([1.0, 2.0], device="cuda"), mg.zeros(2, device="cuda")):
        assert moved.device == "cuda" and isinstance(moved.data, fake_gpu.ndarray) and moved.xp is fake_gpu
    assert repr(x.cuda()) == "tensor([1., 2.], device='cuda')"
    assert x.cuda().cpu().device == "cpu" and type(x.cuda().numpy()) is np.ndarray
    np.testing.assert_array_equal(np.asarray(x.cuda()), [1.0, 2.0])  # np.asarray(tensor) copies it over
    layer = nn.Linear(2, 3, device="cuda")
    assert layer.weight.device == layer.bias.device == "cuda"
    assert layer.cpu().weight.device == "cpu" and layer.to("cuda").weight.device == "cuda"
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")
    assert mg.randn(2).device == mg.ones(1).device == nn.BatchNorm1d(2).running_var.device == "cuda"
    assert DataLoader(np.zeros((4, 2)), batch_size=2).batch(0, 0)[0].device == "cuda"


def test_to_device_is_differentiable_both_ways(fake_gpu):
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    y = x.to("cuda") ** 3
    assert y.device == "cuda"
    (g,) = mg.grad(y.sum(), x, create_graph=True)
    assert g.device == "cpu" and g.tolist() == [3.0, 12.0]
    (h,) = mg.grad(g.sum(), x)
    assert h.tolist() == [6.0, -12.0]


def test_tensors_made_and_read_on_the_device(fake_gpu):
    made = [mg.arange(5, device="cuda"), mg.full((2, 2), 1.5, device="cuda"), mg.randint(0, 3, (4,), device="cuda"),
            mg.rand(3, device="cuda"), mg.tensor(fake_gpu.ones(2))]  # a CuPy array stays on its GPU
    made += [f(made[1]) for f in (mg.zeros_like, mg.ones_like, mg.randn_like, mg.rand_like)]
    assert all(t.device == "cuda" for t in made) and made[0].dtype == np.int64 and made[1].dtype == np.float32
    x = mg.tensor([[1.0, -2.0], [3.0, 0.5]], device="cuda")
    mask, rows = x > 0.5, mg.tensor([1, 1, 0], device="cuda")
    assert mask.device == "cuda" and mask.tolist() == [[True, False], [True, False]]
    assert x[mask].tolist() == [1.0, 3.0] and x[rows].tolist() == [[3.0, 0.5], [3.0, 0.5], [1.0, -2.0]]
    assert (x == np.float64(3.0)).sum().item() == 1 and float(x[0, 0]) == 1.0 and bool(x[1, 1]) and len(x) == 2
    assert mg.where(mask, x, 0.0).tolist() == [[1.0, 0.0], [3.0, 0.0]]
    assert x.argmax(1).tolist() == [0, 0] and x.max(dim=0).indices.tolist() == [1, 1]
    layer = nn.Linear(2, 1, device="cuda")
    layer(x).sum().backward()
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad.device == "cuda" and layer.to("cpu").weight.grad.device == "cpu"


def test_gradcheck_on_the_device(fake_gpu):
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True, device="cuda")
    w = mg.tensor(rng.standard_normal((4, 3)), requires_grad=True, device="cuda")
    assert mg.gradcheck(lambda a, b: mg.tanh(F.linear(a, b)), [x, w])
    assert mg.gradgradcheck(lambda a: mg.softmax(a, 1), [x])


# --- a case run on both devices ------------------------------------------------------------------

class On:
    """What a case builds its tensors and modules with, on one device; remembers the leaves for the gradients."""

    def __init__(self, device):
        self.device, self.leaves, self.modules = device, [], []

    def __call__(self, array, requires_grad=None):
        """A new tensor holding ``array``; a floating-point one requires grad unless told otherwise."""
        array = np.asarray(array)
        requires_grad = backend.is_floating(array.dtype) if requires_grad is None else requires_grad
        t = mg.tensor(array, requires_grad=requires_grad, device=self.device)
        if requires_grad:
            self.leaves.append(t)
        return t

    def module(self, make):
        """``make()``, built on the CPU from the seeded generator and moved: the same weights on both devices."""
        m = make().to(self.device)
        self.modules.append(m)
        self.leaves += [p for p in m.parameters() if p.requires_grad]
        return m


def run(case, device):
    """{name: value} of what ``case(on)`` returns, then the gradients of its differentiable outputs with
    respect to every leaf (against random output gradients, themselves leaves), the gradients of
    those gradients (a double backward), and its modules' parameters and buffers."""
    mg.manual_seed(0)  # dropout, noise, interpolation weights: the same draws on both devices
    on = On(device)
    outs = case(on)
    result = dict(outs) if isinstance(outs, dict) else {f"out{i}": o for i, o in enumerate(
        outs if isinstance(outs, tuple) else (outs,))}
    tracked = [o for o in result.values() if isinstance(o, mg.Tensor) and o.requires_grad]
    if tracked and on.leaves:
        rng = np.random.default_rng(1)
        ws = [mg.tensor(rng.standard_normal(o.shape).astype(o.dtype), requires_grad=True, device=o.device)
              for o in tracked]
        grads = mg.grad(tracked, on.leaves, ws, create_graph=True, allow_unused=True)
        result.update({f"grad{i}": g for i, g in enumerate(grads) if g is not None})
        again = [g for g in grads if g is not None and g.requires_grad]
        if again:
            second = mg.grad(sum((g * g).sum() for g in again), on.leaves + ws, allow_unused=True)
            result.update({f"grad2_{i}": g for i, g in enumerate(second[:len(on.leaves)]) if g is not None})
    for j, m in enumerate(on.modules):
        result.update({f"module{j}.{name}": v for name, v in m.state_dict().items()})
    return result


def host(value):
    """A value of a case on the host: NumPy arrays, numbers, and dicts and lists of them."""
    if isinstance(value, dict):
        return {k: host(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [host(v) for v in value]
    if isinstance(value, mg.Tensor):
        return value.numpy()
    if isinstance(value, fake_cupy.ndarray):
        return value.get()
    return value


def on_device(value, expected):
    """Whether every array in ``value`` lies on the ``expected`` device."""
    if isinstance(value, dict):
        return all(on_device(v, expected) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(on_device(v, expected) for v in value)
    if isinstance(value, mg.Tensor):
        return value.device == expected
    if isinstance(value, (np.ndarray, fake_cupy.ndarray)):
        return backend.device_of(value) == expected
    return True


def assert_same(cpu, dev, rtol=1e-6, atol=1e-7, where=""):
    """The same tree of values, with the same dtypes, within float32 rounding."""
    if isinstance(cpu, dict):
        assert dev.keys() == cpu.keys(), where
        for k in cpu:
            assert_same(cpu[k], dev[k], rtol, atol, f"{where}/{k}")
    elif isinstance(cpu, list):
        assert len(dev) == len(cpu), where
        for i, (a, b) in enumerate(zip(cpu, dev)):
            assert_same(a, b, rtol, atol, f"{where}/{i}")
    elif isinstance(cpu, np.ndarray):
        assert isinstance(dev, np.ndarray) and dev.dtype == cpu.dtype, f"{where}: {dev.dtype} != {cpu.dtype}"
        np.testing.assert_allclose(dev, cpu, rtol=rtol, atol=atol, err_msg=where)
    elif isinstance(cpu, (float, np.floating)):
        assert dev == pytest.approx(cpu, rel=rtol, abs=atol, nan_ok=True), where
    else:
        assert dev == cpu, where


def check(case, host_outputs=()):
    """Run ``case`` on the CPU and on the device: the same results, and the device's on the device
    (but the outputs named in ``host_outputs``, which the case moves to the CPU itself)."""
    cpu, dev = run(case, "cpu"), run(case, "cuda")
    for name, value in dev.items():
        assert on_device(value, "cpu" if name in host_outputs else "cuda"), f"{name} is not on the device"
    assert_same(host(cpu), host(dev))


# --- every op ---------------------------------------------------------------------------------------

def op_case(spec):
    inputs = [x.numpy() for x in spec.inputs(np.random.default_rng(0))]
    return lambda on: spec(*[on(x, requires_grad=spec.differentiable) for x in inputs])


@pytest.mark.parametrize("spec", OPS, ids=[s.name for s in OPS])
def test_every_op_on_the_device(fake_gpu, spec):
    check(op_case(spec), host_outputs=("out0",) if spec.op == "to_device" else ())


# --- every layer --------------------------------------------------------------------------------------

X4 = RNG.standard_normal((2, 4, 7, 7)).astype(np.float32)  # images
X2 = RNG.standard_normal((5, 6)).astype(np.float32)  # features
INDICES = np.array([[0, 2, 6], [2, 2, 1]])
W_T = RNG.standard_normal((4, 2, 3, 2)).astype(np.float32)  # a transposed convolution's weight
TABLE = RNG.standard_normal((7, 3)).astype(np.float32) * 2  # an embedding's, some rows longer than 2

LAYERS = {
    "Linear": (lambda: nn.Linear(6, 4), X2),
    "Embedding": (lambda: nn.Embedding(7, 3, padding_idx=2), INDICES),
    "Embedding[max_norm]": (lambda: nn.Embedding(7, 3, max_norm=1.0), INDICES),
    "Conv2d": (lambda: nn.Conv2d(4, 3, 3, stride=2, padding=1), X4),
    "Conv2d[groups,dilation]": (lambda: nn.Conv2d(4, 6, (3, 2), dilation=2, padding=(2, 1), groups=2), X4),
    "Conv2d[reflect]": (lambda: nn.Conv2d(4, 3, 3, padding=1, padding_mode="reflect"), X4),
    "Conv2d[replicate]": (lambda: nn.Conv2d(4, 3, 3, padding=2, padding_mode="replicate", bias=False), X4),
    "Conv2d[circular]": (lambda: nn.Conv2d(4, 3, 3, stride=2, padding=1, padding_mode="circular"), X4),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1), X4),
    "ConvTranspose2d[groups,output_padding]": (
        lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), X4),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(6), X2),
    "BatchNorm1d[cumulative]": (lambda: nn.BatchNorm1d(7, momentum=None), X4[:, 0]),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(4, momentum=0.3), X4),
    "LayerNorm": (lambda: nn.LayerNorm((7, 7)), X4),
    "MaxPool2d": (lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), X4),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), X4),
    "Dropout": (lambda: nn.Dropout(0.3), X2),
    "ReLU": (nn.ReLU, X2),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), X2),
    "Tanh": (nn.Tanh, X2),
    "Sigmoid": (nn.Sigmoid, X2),
    "Flatten": (nn.Flatten, X4),
    "Unflatten": (lambda: nn.Unflatten(1, (2, 3)), X2),
    "Sequential": (lambda: nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.2), nn.Linear(8, 1)), X2),
}


def test_every_layer_has_a_device_case():
    layers = {name for name in nn.__all__ if isinstance(getattr(nn, name), type)
              and issubclass(getattr(nn, name), nn.Module) and name != "Module"}
    missing = layers - {name.split("[")[0] for name in LAYERS}
    assert not missing, f"layers without a case in LAYERS: {sorted(missing)}"


def layer_case(make, x):
    def case(on):
        layer = on.module(make)
        again = x * 2 if backend.is_floating(x.dtype) else x[::-1]
        outputs = [layer(on(x)), layer(on(again))]  # twice in training mode: the running statistics move
        layer.eval()
        return (*outputs, layer(on(x)))
    return case


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_layer_on_the_device(fake_gpu, name):
    check(layer_case(*LAYERS[name]))


FUNCTIONAL = {
    "one_hot": lambda on: F.one_hot(on(INDICES), 8),
    "pad[constant]": lambda on: F.pad(on(X4), (1, -2, 2, 0), value=0.5),
    "pad[reflect]": lambda on: F.pad(on(X4), (2, 1, 0, 3), mode="reflect"),
    "dropout[inplace]": lambda on: F.dropout(on(X2, requires_grad=False), 0.4, inplace=True),
    "max_pool2d[indices]": lambda on: F.max_pool2d(on(X4), 2, return_indices=True),
    "avg_pool2d[divisor]": lambda on: F.avg_pool2d(on(X4), 2, divisor_override=3),
    "conv_transpose2d[dilation]": lambda on: F.conv_transpose2d(on(X4), on(W_T), dilation=2),
    "embedding[max_norm,padding]": lambda on: F.embedding(on(INDICES), on(TABLE, requires_grad=False), padding_idx=0,
                                                          max_norm=2.0),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional_options_on_the_device(fake_gpu, name):
    check(FUNCTIONAL[name])


# --- every loss -------------------------------------------------------------------------------------

P = RNG.uniform(0.05, 0.95, (4, 3))  # probabilities
T = RNG.uniform(0, 1, (4, 3))  # soft targets
LOGITS = RNG.standard_normal((4, 3)) * 2
CLASSES = np.array([2, 0, 1, 2])
PIXEL_CLASSES = RNG.integers(0, 3, (2, 7, 7))  # a class per pixel of X4
SCORES, SCORES2 = RNG.standard_normal(6), RNG.standard_normal(6)
SAMPLES, SAMPLES2 = RNG.standard_normal((6, 4)), RNG.standard_normal((6, 4))
IMAGES = RNG.uniform(0, 1, (3, 1, 28, 28))
MU, LOGVAR, Z = (RNG.standard_normal((3, 2)) for _ in range(3))


def critic():
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1), Logit()).double()


def tiny_vae():
    return vae.vae_mlp(latent_dim=2).double()


def article004_steps(on):
    g, d = on.module(lambda: nn.Sequential(nn.Linear(2, 4)).double()), on.module(critic)
    opt_g, opt_d = optim.SGD(g.parameters(), lr=0.1), optim.Adam(d.parameters(), lr=0.1)
    return tuple(articles.article004_train_step(g, d, on(SAMPLES), on(SAMPLES2[:, :2]), opt_g, opt_d)
                 for _ in range(2))


def clipped_critic(on):
    d = on.module(critic)
    gan.clip_weights_(d.parameters(), 0.05)
    return d(on(SAMPLES))


LOSSES = {
    # torch.nn.functional's
    "binary_cross_entropy": lambda on: F.binary_cross_entropy(on(P), on(T), weight=on(T[0])),
    "binary_cross_entropy_with_logits": lambda on: F.binary_cross_entropy_with_logits(
        on(LOGITS), on(T), weight=on(P[:, 0:1]), pos_weight=on(P[0] * 3), reduction="none"),
    "mse_loss": lambda on: F.mse_loss(on(LOGITS), on(T), reduction="sum"),
    "cross_entropy": lambda on: F.cross_entropy(on(LOGITS), on(CLASSES), weight=on(P[0]), ignore_index=1,
                                                label_smoothing=0.1),
    "cross_entropy[probabilities]": lambda on: F.cross_entropy(on(LOGITS), on(T / T.sum(1, keepdims=True))),
    "cross_entropy[spatial]": lambda on: F.cross_entropy(on(X4[:, :3]), on(PIXEL_CLASSES), reduction="none"),
    "nll_loss": lambda on: F.nll_loss(on(LOGITS), on(CLASSES), reduction="sum"),
    # the GANs'
    "minimax_value": lambda on: gan.minimax_value(on(SCORES), on(SCORES2)),
    "discriminator_loss": lambda on: gan.discriminator_loss(on(SCORES), on(SCORES2)),
    "generator_loss_saturating": lambda on: gan.generator_loss_saturating(on(SCORES)),
    "generator_loss_nonsaturating": lambda on: gan.generator_loss_nonsaturating(on(SCORES)),
    "wasserstein_critic_loss": lambda on: gan.wasserstein_critic_loss(on(SCORES), on(SCORES2)),
    "wasserstein_generator_loss": lambda on: gan.wasserstein_generator_loss(on(SCORES)),
    "clip_weights_": clipped_critic,
    "interpolate": lambda on: gan.interpolate(on(SAMPLES), on(SAMPLES2)),
    "gradient_penalty": lambda on: gan.gradient_penalty(on.module(critic), on(SAMPLES), on(SAMPLES2),
                                                        return_norms=True),
    "r1_penalty": lambda on: gan.r1_penalty(on.module(critic), on(SAMPLES), return_norms=True),
    "r2_penalty": lambda on: gan.r2_penalty(on.module(critic), on(SAMPLES2)),
    "hinge_discriminator_loss": lambda on: gan.hinge_discriminator_loss(on(SCORES), on(SCORES2)),
    "hinge_generator_loss": lambda on: gan.hinge_generator_loss(on(SCORES)),
    "least_squares_discriminator_loss": lambda on: gan.least_squares_discriminator_loss(on(SCORES), on(SCORES2)),
    "least_squares_generator_loss": lambda on: gan.least_squares_generator_loss(on(SCORES)),
    "instance_noise": lambda on: gan.instance_noise(on(SAMPLES), 0.3),
    "article001_generator_loss": lambda on: gan.article001_generator_loss(on(SCORES), on(SCORES2[0]), 1.0, 0.5),
    "article001_discriminator_loss": lambda on: gan.article001_discriminator_loss(on(SCORES), on(SCORES2),
                                                                                  on(SCORES2[1])),
    "info_loss": lambda on: gan.info_loss(on(LOGITS), on(CLASSES), 0.5),
    # the articles' forms
    "article000_summed_generator_loss": lambda on: articles.article000_summed_generator_loss(on(SCORES)),
    "article000_shared_loss": lambda on: articles.article000_shared_loss(on.module(critic), on(SAMPLES), 1.0),
    "article001_penalty_as_coded": lambda on: articles.article001_penalty_as_coded(
        on.module(critic), on.module(critic).parameters(), on(SAMPLES), on(SAMPLES2)),
    "article003_generator_gradient_loss": lambda on: articles.article003_generator_gradient_loss(on(SCORES)),
    "article003_discriminator_loss": lambda on: articles.article003_discriminator_loss(on(P[0]), on(P[1])),
    "article003_generator_loss": lambda on: articles.article003_generator_loss(on(P[0])),
    "article004_gan_loss": lambda on: articles.article004_gan_loss(on(SCORES), on(SCORES2)),
    "article004_train_step": article004_steps,
    "article004_vae_objective": lambda on: articles.article004_vae_objective(on(SCORES), on(SCORES2) ** 2, 2.0),
    # the VAE's
    "reparameterize": lambda on: vae.reparameterize(on(MU), on(LOGVAR)),
    "gaussian_kl": lambda on: vae.gaussian_kl(on(MU), on(LOGVAR)),
    "gaussian_log_density": lambda on: vae.gaussian_log_density(on(Z), on(MU), on(LOGVAR)),
    "standard_normal_log_density": lambda on: vae.standard_normal_log_density(on(Z)),
    "bernoulli_log_likelihood": lambda on: vae.bernoulli_log_likelihood(on(IMAGES - 0.5), on(IMAGES)),
    "gaussian_log_likelihood": lambda on: vae.gaussian_log_likelihood(on(IMAGES - 0.5), on(IMAGES), 0.3),
    "elbo": lambda on: vae.elbo(on(SCORES), on(SCORES2)),
    "vae_loss": lambda on: vae.vae_loss(on(SCORES), on(SCORES2), beta=2.0),
    "active_units": lambda on: on(vae.active_units(on(Z)) * np.ones(1)),
    "importance_weighted_nll": lambda on: vae.importance_weighted_nll(on.module(tiny_vae), on(IMAGES), k=5,
                                                                      chunk=2),
}


def test_every_loss_has_a_device_case():
    public = set(loss_functions.__all__) | (set(gan.__all__) - {"articles"}) | {
        name for module in (articles, vae_losses) for name, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")}
    missing = public - {name.split("[")[0] for name in LOSSES}
    assert not missing, f"losses without a case in LOSSES: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_on_the_device(fake_gpu, name):
    check(LOSSES[name], host_outputs=("out0",) if name == "importance_weighted_nll" else ())


# --- every optimizer ----------------------------------------------------------------------------------

PARAMS = [RNG.standard_normal((3, 4)).astype(np.float32), RNG.standard_normal(5).astype(np.float32)]


def optimizer_case(name, kwargs, path=None):
    """Four steps; with a ``path``, the optimizer's state goes through a checkpoint into a new optimizer after two."""
    def case(on):
        params = [on(PARAMS[0]), on(PARAMS[1]), on(np.float32(0.3))]  # a 0-d parameter too
        opt = getattr(optim, name)(params, **kwargs)
        for step in range(4):
            if step == 2 and path:
                checkpoint.save(path, opt.state_dict())
                opt = getattr(optim, name)(params, **kwargs)
                opt.load_state_dict(checkpoint.load(path))
            opt.zero_grad()
            sum((p ** 4 / 4 - 0.5 * p * p + 0.1 * p).sum() for p in params).backward()
            opt.step()
        return {"params": [p.detach() for p in params], "state": opt.state_dict()["state"]}
    return case


def test_every_optimizer_has_a_device_case():
    missing = set(optim.__all__) - {name for name, _ in CONFIGS} - {"Optimizer", "EMA", "lr_scheduler"}
    assert not missing, f"optimizers without a case in test_optim.CONFIGS: {sorted(missing)}"


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_every_optimizer_on_the_device(fake_gpu, tmp_path, name, kwargs):
    resumed = optimizer_case(name, kwargs, tmp_path / "optimizer.npz")
    check(resumed)
    assert_same(host(run(optimizer_case(name, kwargs), "cuda")), host(run(resumed, "cuda")))  # as if never saved


def test_ema_and_a_learning_rate_schedule_on_the_device(fake_gpu):
    def case(on):
        model = on.module(lambda: nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4)))
        ema = optim.EMA(model, decay=0.9)
        opt = optim.Adam(model.parameters(), lr=0.1)
        schedule = optim.lr_scheduler.LinearLR(opt, 1.0, 0.1, total_iters=3)
        for _ in range(3):
            opt.zero_grad()
            model(on(X2, requires_grad=False)).pow(2).mean().backward()
            opt.step()
            schedule.step()
            ema.update(model)
        return {"average": ema.module.state_dict(), "lr": opt.param_groups[0]["lr"]}
    check(case)


# --- checkpoints -------------------------------------------------------------------------------------

def test_a_checkpoint_saved_on_the_device_loads_on_the_cpu_and_back(fake_gpu, tmp_path):
    def make():
        mg.manual_seed(0)
        return nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))

    def step(model, opt, device):
        opt.zero_grad()
        model(mg.tensor(X2, device=device)).pow(2).mean().backward()
        opt.step()

    model = make().to("cuda")
    opt = optim.Adam(model.parameters(), lr=0.1)
    step(model, opt, "cuda")
    tree = {"model": model.state_dict(), "opt": opt.state_dict(), "raw": fake_gpu.ones(3), "step": 1}
    checkpoint.save(tmp_path / "device.npz", tree)
    saved = checkpoint.load(tmp_path / "device.npz")
    assert all(type(v) is np.ndarray for v in saved["model"].values()) and saved["raw"].tolist() == [1, 1, 1]

    on_cpu = make()  # other weights until the checkpoint is loaded
    opt_cpu = optim.Adam(on_cpu.parameters(), lr=0.5)
    on_cpu.load_state_dict(saved["model"])
    opt_cpu.load_state_dict(saved["opt"])
    assert_same(host(on_cpu.state_dict()), host(model.state_dict()), rtol=0, atol=0)
    assert opt_cpu.state[next(on_cpu.parameters())]["exp_avg"].__class__ is np.ndarray
    for device, (m, o) in (("cpu", (on_cpu, opt_cpu)), ("cuda", (model, opt))):
        step(m, o, device)  # the two continue alike
    assert_same(host(on_cpu.state_dict()), host(model.state_dict()))

    checkpoint.save(tmp_path / "cpu.npz", {"model": on_cpu.state_dict(), "opt": opt_cpu.state_dict()})
    back = make().to("cuda")
    opt_back = optim.Adam(back.parameters())
    saved = checkpoint.load(tmp_path / "cpu.npz")
    back.load_state_dict(saved["model"])
    opt_back.load_state_dict(saved["opt"])
    assert all(v.device == "cuda" for v in back.state_dict().values())
    assert all(isinstance(a, fake_gpu.ndarray) for s in opt_back.state.values() for a in s.values()
               if not isinstance(a, int))
    assert_same(host(back.state_dict()), host(on_cpu.state_dict()), rtol=0, atol=0)
    back.load_state_dict(model.state_dict())  # and from device to device
    step(back, opt_back, "cuda")


# --- sampling and evaluation --------------------------------------------------------------------------

def on_default_device(monkeypatch, device, fn):
    """``fn()`` with ``$MINIGAN_DEVICE`` set to ``device``, from the same seed."""
    monkeypatch.setenv("MINIGAN_DEVICE", device)
    mg.manual_seed(0)
    return fn()


@pytest.fixture
def small_reference(monkeypatch):
    """The eval metrics' real digits: the first 50 instead of 10,000, to keep these tests quick. (Classified
    once and shared, as NumPy arrays: the samples are the part under test.)"""
    reference = evaluation._reference
    monkeypatch.setattr(evaluation, "_reference", lambda split, n, progress=False: reference(split, 50, progress))


def test_sampling_and_evaluating_a_gan_on_the_device(fake_gpu, small_reference, monkeypatch):
    def sample_and_score():
        toy, cdcgan = build("toy"), build("cdcgan")
        assert toy.generator[0].weight.device == backend.default_device()
        return {"points": evaluation.generate(toy, 300, seed=1), "digits": evaluation.generate(cdcgan, 20, seed=2),
                "point_metrics": evaluation.evaluate(toy, 300, "ring8"),
                "image_metrics": evaluation.evaluate(cdcgan, 20, "mnist", seed=3)}
    cpu, dev = (on_default_device(monkeypatch, device, sample_and_score) for device in ("cpu", "cuda"))
    assert type(dev["points"]) is np.ndarray and "label_accuracy" in dev["image_metrics"]
    assert_same(cpu, dev, rtol=1e-4, atol=1e-5)


def test_sampling_and_evaluating_a_vae_on_the_device(fake_gpu, small_reference, monkeypatch):
    def sample_and_score():
        model = vae.vae_conv(latent_dim=3)
        x = mg.tensor(IMAGES.astype(np.float32))
        return {"samples": model.sample(mg.randn(5, 3)), "means": model.encode_means(x).numpy(),
                "nll": vae.importance_weighted_nll(model, x, k=4, chunk=3),
                "metrics": evaluation.vae_metrics(model, n_samples=20, n_test=10, k=3)}
    cpu, dev = (on_default_device(monkeypatch, device, sample_and_score) for device in ("cpu", "cuda"))
    assert "test_iw_nll" in dev["metrics"]
    assert_same(cpu, dev, rtol=1e-4, atol=1e-5)


def test_the_classifier_reads_device_tensors_whatever_the_default_device(fake_gpu, monkeypatch):
    images = (IMAGES * 2 - 1).astype(np.float32)
    monkeypatch.setenv("MINIGAN_DEVICE", "cpu")
    probs, features = classifier.classify(images)  # the shared classifier is loaded (or was) on the CPU
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")
    for given in (images, mg.tensor(images)):
        dev_probs, dev_features = classifier.classify(given)
        assert_same([probs, features], [dev_probs, dev_features], rtol=1e-5, atol=1e-6)


# --- training -------------------------------------------------------------------------------------

def steps(trainer, n):
    """The rows of ``n`` train steps, and the trainer's state (weights, optimizers) after them."""
    rows = [trainer.train_step() for _ in range(n)]
    return {"rows": rows, "state": host({k: v for k, v in trainer.state().items() if k != "config"})}


def train_on(monkeypatch, device, config, n, trainer=Trainer):
    return on_default_device(monkeypatch, device, lambda: steps(trainer(config), n))


def test_a_run_trained_on_the_device_resumes_on_the_cpu(fake_gpu, monkeypatch, tmp_path):
    def trainer(out, resume=False):
        return Trainer(TrainConfig(model="toy", loss="wgan-gp", batch_size=16, steps=4, out=str(tmp_path / out),
                                   progress=False), resume=resume)
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")
    whole = trainer("whole")
    rows = [whole.train_step() for _ in range(4)]
    first = trainer("parts")
    parts = [first.train_step() for _ in range(2)]
    first.save(first.checkpoint_path)
    monkeypatch.setenv("MINIGAN_DEVICE", "cpu")
    second = trainer("parts", resume=True)
    assert second.step == 2 and next(second.G.parameters()).device == "cpu"
    parts += [second.train_step() for _ in range(2)]
    assert_same(rows, parts, rtol=1e-5, atol=1e-6)  # float32 on either device: equal to rounding


# Every loss on the toy GAN and every model with its own; the larger networks' steps take seconds (slow).
MODEL_CONFIGS = {
    **{loss: dict(model="toy", loss=loss, ema=0.9) for loss in RECIPES},
    **{model: dict(model=model) for model in ("mlp", "atgan", "dcgan", "dcgan32", "dcgan32_8x8", "cdcgan",
                                                         "toy_cgan", "toy_infogan")},
    "infogan": dict(model="infogan", ema=0.99),
    "dcgan[pack]": dict(model="dcgan", loss="lsgan", pack=2),
    "vae-mlp": dict(model="vae-mlp", likelihood="gaussian"),
    "vae-conv": dict(model="vae-conv", binarize=True, kl_warmup=2),
}
QUICK_MODELS = ("toy", "toy_cgan", "toy_infogan", "mlp", "vae-mlp")


@pytest.mark.parametrize("name", [pytest.param(name, marks=() if kw["model"] in QUICK_MODELS else pytest.mark.slow)
                                  for name, kw in sorted(MODEL_CONFIGS.items())])
def test_training_steps_of_every_model_and_loss_on_the_device(fake_gpu, monkeypatch, tmp_path, name):
    kw = MODEL_CONFIGS[name]
    trainer = VAETrainer if kw["model"].startswith("vae") else Trainer

    def config(device):
        return TrainConfig(**kw, batch_size=4, steps=2, out=str(tmp_path / device), progress=False)
    cpu, dev = (train_on(monkeypatch, device, config(device), 2, trainer) for device in ("cpu", "cuda"))
    assert_same(cpu, dev, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_whole_runs_with_evaluations_on_the_device(fake_gpu, small_reference, monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")
    for trainer, kw in ((Trainer, dict(model="toy")), (VAETrainer, dict(model="vae-mlp", latent_dim=2))):
        out = tmp_path / kw["model"]
        assert trainer(TrainConfig(**kw, batch_size=16, steps=2, eval_every=2, out=str(out), progress=False)).train() \
            == "done"
        assert (out / "metrics.csv").exists() and (out / "samples.png").exists()
        model, _ = evaluation.load_model(out / "last.npz")
        network = model.generator if isinstance(model, GAN) else model
        assert next(network.parameters()).device == "cuda"


# --- minigan train / sample / eval --device ----------------------------------------------------------

@pytest.fixture
def no_gpu(monkeypatch, tmp_path):
    """This machine as one without CuPy, whatever is installed (and a scratch working directory)."""
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` raises ImportError
    monkeypatch.setenv("MINIGAN_DEVICE", "cpu")  # set, not deleted: then monkeypatch undoes what --device sets
    monkeypatch.chdir(tmp_path)
    mg.cuda.why_unavailable.cache_clear()
    yield
    mg.cuda.why_unavailable.cache_clear()


@pytest.mark.parametrize("command", [["train", "--model", "toy", "--steps", "1"], ["sample", "--checkpoint", "x.npz"],
                                     ["eval", "--checkpoint", "x.npz"]], ids=["train", "sample", "eval"])
def test_device_cuda_without_a_gpu_is_one_line_and_status_2(no_gpu, monkeypatch, capsys, command):
    assert cli.main([*command, "--device", "cuda"]) == 2
    out, err = capsys.readouterr()
    reason = mg.cuda.why_unavailable()
    assert "CuPy is not importable" in reason
    assert out == "" and err == f"minigan: device 'cuda' is not available: {reason}\n"
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")  # the variable is checked the same way
    assert cli.main(command) == 2
    assert capsys.readouterr().err == err


def test_an_unknown_device_is_a_usage_error(capsys):
    assert cli.main(["sample", "--checkpoint", "x.npz", "--device", "tpu"]) == 2
    assert "invalid choice: 'tpu'" in capsys.readouterr().err


@pytest.fixture
def copies_to_device(fake_gpu, monkeypatch):
    """A list that gets an entry each time an array is copied to the (emulated) device."""
    copies = []
    asarray = fake_gpu.asarray
    monkeypatch.setattr(fake_gpu, "asarray", lambda *args, **kw: copies.append(args[0]) or asarray(*args, **kw))
    monkeypatch.setenv("MINIGAN_DEVICE", "cpu")  # set, not deleted: then monkeypatch undoes what --device sets
    return copies


def test_train_sample_and_eval_with_device_cuda(copies_to_device, tmp_path, capsys):
    run_dir, grid, metrics = tmp_path / "run", tmp_path / "grid.png", tmp_path / "metrics.json"
    assert cli.main(["train", "--device", "cuda", "--model", "toy", "--steps", "2", "--batch-size", "16",
                     "--out", str(run_dir), "--no-progress"]) == 0
    assert copies_to_device and json.loads((run_dir / "config.json").read_text())["steps"] == 2
    copies_to_device.clear()
    assert cli.main(["sample", "--device", "cuda", "--checkpoint", str(run_dir / "last.npz"), "--n", "50",
                     "--out", str(grid)]) == 0
    assert copies_to_device and grid.exists()
    copies_to_device.clear()
    assert cli.main(["eval", "--device", "cuda", "--checkpoint", str(run_dir / "last.npz"), "--n", "200",
                     "--json", str(metrics), "--no-progress"]) == 0
    assert copies_to_device and "modes_covered" in json.loads(metrics.read_text())
    assert "Wrote" in capsys.readouterr().out


def test_device_cpu_overrides_the_variable(copies_to_device, monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")
    assert cli.main(["train", "--device", "cpu", "--model", "toy", "--steps", "1", "--batch-size", "16",
                     "--out", str(tmp_path), "--no-progress"]) == 0
    assert not copies_to_device
