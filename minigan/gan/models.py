"""The articles' GANs, built by name: `build("dcgan")` -> `GAN(generator, discriminator, ...)`.

| name    | from           | data             | generator -> discriminator                               |
| ------- | -------------- | ---------------- | -------------------------------------------------------- |
| mlp     | article 003    | MNIST in [0, 1]  | 100-128-784 MLP, sigmoid -> 784-128-1 MLP                |
| atgan   | article 000    | MNIST in [-1, 1] | 100-1024-1024-784 MLP, tanh -> five 5x5 stride-2 convs   |
| dcgan   | DCGAN, InfoGAN | MNIST in [-1, 1] | 2 Linear+BN -> 2 transposed convs -> 2 convs -> Linear   |
| dcgan32 | article 001    | 32x32, 1 or 3 ch | Dense 4x4x512 -> 4 'same' transposed convs -> 2 convs    |
| dcgan32_8x8 | article 001, corrected | 32x32 | Dense 8x8x256 -> 3 'same' transposed convs -> 2 convs |
| cdcgan  | DCGAN + labels | MNIST in [-1, 1] | dcgan with a label embedding in G and D                  |
| infogan | InfoGAN        | MNIST in [-1, 1] | dcgan's G given a 10-way code; D with a head Q(c|x)      |
| toy     | -              | 2-D mixtures     | 2-D noise -> 3x128 ReLU MLP -> 2; critic 2 -> 3x128 -> 1 |
| toy_cgan | conditional GAN | ring8  | toy, G and D each also given the mode's index, one-hot |
| toy_infogan | InfoGAN, 2-D | 2-D mixtures   | toy's G given an 8-way code; D with a head Q(c|x)        |

Every discriminator returns one *logit* (or critic score) per sample, of shape (N,): the sigmoid
the articles put at the end lives inside the losses, where it is numerically safe.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from .. import nn, ops
from ..autograd import no_grad
from ..nn import functional as F
from ..progress import progress_bar
from ..tensor import Tensor


@dataclass
class GAN:
    name: str
    generator: nn.Module
    discriminator: nn.Module
    z_dim: int
    sample_shape: tuple[int, ...]  # one sample's shape: (1, 28, 28), (2,), ...
    data: str  # "mnist", "mnist32" or "2d"
    scale: str = "tanh"  # the output range: "tanh" [-1, 1], "unit" [0, 1], "none" (2-D points)
    conditional: bool = False  # G and D are given the data's class labels
    codes: int = 0  # InfoGAN: G is given a categorical code with this many values, which D's Q head guesses
    num_classes: int = 10
    notes: list[str] = field(default_factory=list)

    @property
    def given_values(self) -> int:
        """How many values G's second input takes: the digits (cdcgan) or the codes (InfoGAN); 0
        when G takes noise alone."""
        return self.num_classes if self.conditional else self.codes

    def sample(self, z: Tensor, labels: Tensor | None = None, batch_size: int = 500,
               progress: bool = False) -> np.ndarray:
        """G(z), or G(z, labels) (cdcgan's digits, InfoGAN's codes), as a NumPy array, in eval mode and
        without a graph, in batches (with a progress bar if ``progress``); G's mode is restored."""
        was_training = self.generator.training
        self.generator.eval()
        out = []
        with no_grad(), progress_bar(z.shape[0], desc="sampling", enabled=progress, unit="sample") as bar:
            for start in range(0, z.shape[0], batch_size):
                part = z[start:start + batch_size]
                y = self.generator(part) if labels is None else self.generator(part, labels[start:start + batch_size])
                out.append(y.numpy())
                bar.update(part.shape[0])
        self.generator.train(was_training)
        return np.concatenate(out)


class Packed(nn.Module):
    r"""PacGAN (Lin et al., 2018): the discriminator judges ``m`` samples at once, concatenated along the
    channel (or feature) axis, so $D(x_1, \dots, x_m)$ sees whether a *set* of samples is diverse. A
    generator that collapses makes packs of near-copies, which no pack of real data looks like.

    (N, C, ...) -> (N / m, m * C, ...): consecutive samples form a pack; N must divide by m.
    """

    def __init__(self, discriminator: nn.Module, m: int) -> None:
        super().__init__()
        self.m = m
        self.discriminator = discriminator

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        if n % self.m:
            raise ValueError(f"Packed (PacGAN, m={self.m}): batch of {n} samples does not divide into packs "
                             f"of {self.m}")
        return self.discriminator(x.reshape(n // self.m, self.m * x.shape[1], *x.shape[2:]))

    def extra_repr(self) -> str:
        return f"m={self.m}"


class Logit(nn.Module):
    """Ends a discriminator: (N, 1) -> (N,)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0])


def dcgan_init_(module: nn.Module) -> nn.Module:
    r"""The DCGAN initialisation (Radford et al. 2016), over every submodule of ``module``, in place.

    Conv2d and ConvTranspose2d weights $\sim \mathcal{N}(0, 0.02^2)$ (their biases are left as
    they are); BatchNorm weights $\sim \mathcal{N}(1, 0.02^2)$ and biases 0. Returns ``module``.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine:
            nn.init.normal_(cast(nn.Parameter, m.weight), 1.0, 0.02)  # affine: the weight exists
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module


def mlp() -> GAN:
    """Article 003: G 100 -> 128 ReLU -> 784 sigmoid; D 784 -> 128 ReLU -> 1."""
    g = nn.Sequential(nn.Linear(100, 128), nn.ReLU(), nn.Linear(128, 784), nn.Sigmoid(), nn.Unflatten(1, (1, 28, 28)))
    d = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 1), Logit())
    return GAN("mlp", g, d, 100, (1, 28, 28), "mnist", scale="unit",
               notes=["article 003: the sigmoid output matches MNIST scaled to [0, 1]"])


def atgan() -> GAN:
    """Article 000: G 100 -> 1024 -> 1024 -> 784, LeakyReLU, tanh; D five 5x5 stride-2 convs (32..512) -> logit.

    As the article's code: its last dense layer has no activation and one ``tf.tanh`` follows, so
    G's pixels lie in (-1, 1) and the data is scaled to [-1, 1] to match (the article's text says
    tanh gives [0, 1]: formula audit A000-3). Its (N, 28, 28) output gets the channel axis its
    convolutions need (A000-9). Keras's 'same' padding with stride 2 becomes padding 2, which gives
    the same sizes: 28 -> 14 -> 7 -> 4 -> 2 -> 1.
    """
    g = nn.Sequential(nn.Linear(100, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 1024), nn.LeakyReLU(0.2),
                      nn.Linear(1024, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))
    layers, channels = [], [1, 32, 64, 128, 256, 512]
    for c_in, c_out in itertools.pairwise(channels):
        layers += [nn.Conv2d(c_in, c_out, 5, stride=2, padding=2), nn.LeakyReLU(0.2)]
    d = nn.Sequential(*layers, nn.Flatten(), nn.Linear(512, 1), Logit())
    return GAN("atgan", g, d, 100, (1, 28, 28), "mnist",
               notes=["article 000: tanh gives (-1, 1), not the [0, 1] the article says: MNIST in [-1, 1]"])


def _dcgan_generator(z_in: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(z_in, 1024), nn.BatchNorm1d(1024), nn.ReLU(),
        nn.Linear(1024, 128 * 7 * 7), nn.BatchNorm1d(128 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1), nn.Tanh())


def _dcgan_features(c_in: int) -> list[nn.Module]:
    """D's convolutions, up to the 6272 features its last Linear reads."""
    return [nn.Conv2d(c_in, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Flatten()]


def _dcgan_discriminator(c_in: int) -> nn.Sequential:
    return nn.Sequential(*_dcgan_features(c_in), nn.Linear(128 * 7 * 7, 1), Logit())


def _packed(make_discriminator: Callable[[int], nn.Module], channels: int, pack: int) -> nn.Module:
    """D for one sample, or PacGAN's D for ``pack`` samples stacked on the channel axis."""
    return make_discriminator(channels) if pack == 1 else Packed(make_discriminator(channels * pack), pack)


def dcgan(pack: int = 1) -> GAN:
    """DCGAN for 28x28 MNIST: InfoGAN's generator, two transposed convs; D two convs and a Linear.

    G: z -> Linear(1024) -> BN -> ReLU -> Linear(6272) -> BN -> ReLU -> ConvT 128->64 -> BN -> ReLU
    -> ConvT 64->1 -> tanh. D: Conv 1->64 -> LeakyReLU(0.2) -> Conv 64->128 -> LeakyReLU(0.2)
    -> Linear(6272 -> 1). Every convolution is k4 s2 p1.

    G is InfoGAN's MNIST generator (Chen et al., 2016), and cdcgan's is built the same way.
    Without the first Linear(1024), the 7x7 feature map is a linear function of z, and the MNIST
    score stalls however long it trains; with it, the score is higher at a higher cost per step
    (the layer's GEMMs and Adam's update of its 6272 x 1024 weight). The numbers are in
    docs/training.md.
    D has no BatchNorm, so it is also a valid WGAN-GP critic (the penalty is per sample, and
    BatchNorm would couple the samples of a batch).
    """
    gan = GAN("dcgan", _dcgan_generator(100), _packed(_dcgan_discriminator, 1, pack), 100, (1, 28, 28), "mnist")
    dcgan_init_(gan.generator)
    dcgan_init_(gan.discriminator)
    return gan


def _keras_up(c_in: int, c_out: int, stride: int) -> nn.ConvTranspose2d:
    """Keras's Conv2DTranspose(c_out, (5, 5), strides, padding='same', use_bias=False)."""
    return nn.ConvTranspose2d(c_in, c_out, 5, stride=stride, padding="same", bias=False)


def _article001_generator(start: int, channels: int) -> nn.Sequential:
    """Dense to start x start x (2048 / start) maps, then 'same' transposed convolutions (the first
    of stride 1, each next of stride 2, halving the maps) up to 32x32, BatchNorm and LeakyReLU(0.3)
    between them, tanh at the end."""
    width = 2048 // start
    layers: list[nn.Module] = [nn.Linear(100, start * start * width, bias=False),
                               nn.BatchNorm1d(start * start * width), nn.LeakyReLU(0.3),
                               nn.Unflatten(1, (width, start, start)),
                               _keras_up(width, width // 2, 1), nn.BatchNorm2d(width // 2), nn.LeakyReLU(0.3)]
    c, size = width // 2, start
    while 2 * size < 32:
        layers += [_keras_up(c, c // 2, 2), nn.BatchNorm2d(c // 2), nn.LeakyReLU(0.3)]
        c, size = c // 2, 2 * size
    return nn.Sequential(*layers, _keras_up(c, channels, 2), nn.Tanh())


def _article001_discriminator(channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels, 64, 5, stride=2, padding=2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
        nn.Conv2d(64, 128, 5, stride=2, padding=2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(128 * 8 * 8, 1), Logit())


def dcgan32(channels: int = 1) -> GAN:
    """Article 001's generator and discriminator, layer for layer, for 32x32 images.

    G: Dense 4*4*512 (no bias) -> BN -> LeakyReLU -> ConvT 256 (5x5, stride 1) -> BN -> LeakyReLU
    -> ConvT 128, 64 (5x5, stride 2) each with BN and LeakyReLU -> ConvT C (5x5, stride 2) -> tanh,
    every ConvT with Keras's padding='same' and no bias. D: Conv 64 and 128 (5x5, stride 2, 'same')
    each followed by LeakyReLU and Dropout(0.3) -> Flatten -> Dense 1. Keras's LeakyReLU slope is 0.3.
    A 'same' transposed convolution of stride 2 has the sizes Keras gives, cropped as PyTorch's
    padding=2, output_padding=1 crops it: one pixel off TensorFlow's, which crops one row and column
    fewer at the top and left.

    On MNIST padded to 32x32 this generator collapses onto one image within ~100 steps, whatever the
    loss, initialisation or learning rate, in PyTorch too; `dcgan32_8x8`, the generator begun where the
    tutorial's begins, trains (A001-7 in docs/formulas.md, measurements in docs/benchmarks.md).
    """
    return GAN("dcgan32", _article001_generator(4, channels), _article001_discriminator(channels), 100,
               (channels, 32, 32), "mnist32",
               notes=["article 001: its zero tensors concatenated onto noise and images are left out"])


def dcgan32_8x8(channels: int = 1) -> GAN:
    """Article 001's networks with G started at 8x8x256, not 4x4x512: unlike `dcgan32`, it trains.

    The generator starts where the TensorFlow tutorial article 001 grew from starts, one transposed
    convolution shorter: Dense 8*8*256 -> ConvT 128 (stride 1) -> ConvT 64 (stride 2) -> ConvT C
    (stride 2) -> tanh, the tutorial's 28x28 generator at 32x32. The discriminator is article
    001's (A001-7, A001-8).
    """
    return GAN("dcgan32_8x8", _article001_generator(8, channels), _article001_discriminator(channels), 100,
               (channels, 32, 32), "mnist32",
               notes=["article 001's networks, G started at 8x8x256 instead of 4x4x512 (A001-7)"])


class ConditionalGenerator(nn.Module):
    """G(z, y): the class label's embedding is concatenated to the noise."""

    def __init__(self, z_dim: int = 100, num_classes: int = 10, embed_dim: int = 10) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_classes, embed_dim)
        self.net = _dcgan_generator(z_dim + embed_dim)

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        return self.net(ops.cat([z, self.embed(labels)], 1))


class ConditionalDiscriminator(nn.Module):
    """D(x, y): the label's embedding becomes a second image channel, so every filter sees it."""

    def __init__(self, num_classes: int = 10, size: int = 28) -> None:
        super().__init__()
        self.size = size
        self.embed = nn.Embedding(num_classes, size * size)
        self.net = _dcgan_discriminator(2)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        label_map = self.embed(labels).reshape(x.shape[0], 1, self.size, self.size)
        return self.net(ops.cat([x, label_map], 1))


def cdcgan() -> GAN:
    """Class-conditional DCGAN (Mirza & Osindero, 2014): ask it for a 7 and get a 7.

    dcgan's networks, each also given the label. With one noise space per digit, G need not draw
    anything between two digits, where an unconditional G, continuous on one connected noise
    space, must; so it scores well above dcgan after the same epoch, and `minigan.evaluation`'s
    ``label_accuracy`` checks that it draws the digit asked for (the numbers: docs/training.md).
    """
    gan = GAN("cdcgan", ConditionalGenerator(), ConditionalDiscriminator(), 100, (1, 28, 28), "mnist", conditional=True)
    dcgan_init_(gan.generator)
    dcgan_init_(gan.discriminator)
    return gan


class InfoGANGenerator(nn.Module):
    """G(z, c): the code c, one-hot, joins the noise (as the label does in cdcgan's G)."""

    def __init__(self, noise_dim: int = 90, codes: int = 10) -> None:
        super().__init__()
        self.codes = codes
        self.net = _dcgan_generator(noise_dim + codes)

    def forward(self, z: Tensor, codes: Tensor) -> Tensor:
        return self.net(ops.cat([z, F.one_hot(codes, self.codes).to(z.dtype)], 1))


class InfoGANDiscriminator(nn.Module):
    """D and InfoGAN's Q share their convolutions: ``D(x)`` is one logit, ``D.code_logits(x)`` Q's
    K logits for the code behind x."""

    def __init__(self, codes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(*_dcgan_features(1))
        self.head = nn.Sequential(nn.Linear(128 * 7 * 7, 1), Logit())
        self.q = nn.Sequential(nn.Linear(128 * 7 * 7, 128), nn.LeakyReLU(0.2), nn.Linear(128, codes))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))

    def code_logits(self, x: Tensor) -> Tensor:
        return self.q(self.features(x))


def infogan() -> GAN:
    """InfoGAN (Chen et al., 2016): a 10-way code c that G must make guessable from its samples.

    G(z, c) is dcgan's generator fed 90 noise values and c one-hot; D is dcgan's, with a second
    head Q(c|x) on its convolutions. Both G and Q lower `losses.info_loss`, so each value of c comes
    to draw a kind of sample that the others do not: a digit, or a style (the trainer's grids show
    one code per row; ``code_purity`` measures how well codes follow digits, docs/training.md
    what it reached). Where cdcgan is handed the digit, InfoGAN has to find the ten pieces of its
    noise space by itself.
    """
    gan = GAN("infogan", InfoGANGenerator(), InfoGANDiscriminator(), 90, (1, 28, 28), "mnist", codes=10)
    dcgan_init_(gan.generator)
    dcgan_init_(gan.discriminator)
    return gan


def _toy_hidden(n_in: int, hidden: int) -> list[nn.Module]:
    """The toy GANs' hidden layers: 3 of ``hidden`` ReLUs."""
    return [nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
            nn.ReLU()]


def _toy_mlp(n_in: int, n_out: int, hidden: int = 128) -> nn.Sequential:
    """The toy GANs' networks: the hidden layers, then a linear output."""
    return nn.Sequential(*_toy_hidden(n_in, hidden), nn.Linear(hidden, n_out))


def toy(z_dim: int = 2, hidden: int = 128, pack: int = 1) -> GAN:
    """MLPs for 2-D mixtures (ring8, grid25): 3 hidden layers of ReLUs in G and D."""
    d = _packed(lambda features: nn.Sequential(_toy_mlp(features, 1, hidden), Logit()), 2, pack)
    return GAN("toy", _toy_mlp(z_dim, 2, hidden), d, z_dim, (2,), "2d", scale="none")


class OneHotInput(nn.Module):
    """``net([x, one_hot(y)])``: a network given a second input, a value y in 0..K-1, one-hot beside x.

    The toy conditional GAN's G(z, y) and D(x, y), and the toy InfoGAN's G(z, c). One-hot, with
    nothing to learn, is how `InfoGANGenerator` takes its code; cdcgan learns an embedding of the label.
    """

    def __init__(self, net: nn.Module, values: int) -> None:
        super().__init__()
        self.values = values
        self.net = net

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.net(ops.cat([x, F.one_hot(y, self.values).to(x.dtype)], 1))

    def extra_repr(self) -> str:
        return f"values={self.values}"


RING8_MODES = 8  # the values of the toy conditional GAN's label and of the toy InfoGAN's code


def toy_cgan(z_dim: int = 2, hidden: int = 128) -> GAN:
    """A conditional toy GAN for ring8: ask for mode k (0..7) and get a point at mode k.

    `toy`'s networks, each also given the mode's index one-hot: G(z, y) draws from 2 noise values and
    y, D(x, y) judges whether x is a real point *of mode y*, so a point at another mode is a fake to
    it. The trainer gives it ring8's points with the index of the mode that drew each
    (`data.Mixture.nearest_mode`), as cdcgan is given MNIST's digits. It is built for ring8's 8 modes:
    the trainer refuses grid25's 25. Lesson 12 measures its label accuracy.
    """
    g = OneHotInput(_toy_mlp(z_dim + RING8_MODES, 2, hidden), RING8_MODES)
    d = OneHotInput(nn.Sequential(_toy_mlp(2 + RING8_MODES, 1, hidden), Logit()), RING8_MODES)
    return GAN("toy_cgan", g, d, z_dim, (2,), "2d", scale="none", conditional=True, num_classes=RING8_MODES)


class ToyInfoDiscriminator(nn.Module):
    """D and InfoGAN's Q share `toy`'s hidden layers: ``D(x)`` is one logit, ``D.code_logits(x)`` Q's
    K logits for the code behind x (as `InfoGANDiscriminator` on images)."""

    def __init__(self, codes: int, hidden: int = 128) -> None:
        super().__init__()
        self.features = nn.Sequential(*_toy_hidden(2, hidden))
        self.head = nn.Sequential(nn.Linear(hidden, 1), Logit())
        self.q = nn.Linear(hidden, codes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))

    def code_logits(self, x: Tensor) -> Tensor:
        return self.q(self.features(x))


def toy_infogan(z_dim: int = 2, hidden: int = 128) -> GAN:
    """InfoGAN on 2-D points: an 8-way code that G must make guessable from its samples, no labels.

    G(z, c) is `toy`'s generator fed 2 noise values and c one-hot; D is `toy`'s, with a second head
    Q(c|x) on its hidden layers, and `losses.info_loss` trains both G and Q, as in `infogan`. On
    ring8, training comes to give each value of the code a mode of its own: lesson 12 measures it
    with ``metrics.code_purity`` of the codes against the samples' nearest modes.
    """
    g = OneHotInput(_toy_mlp(z_dim + RING8_MODES, 2, hidden), RING8_MODES)
    return GAN("toy_infogan", g, ToyInfoDiscriminator(RING8_MODES, hidden), z_dim, (2,), "2d", scale="none",
               codes=RING8_MODES)


MODELS: dict[str, Callable[..., GAN]] = {"mlp": mlp, "atgan": atgan, "dcgan": dcgan, "dcgan32": dcgan32,
                                         "dcgan32_8x8": dcgan32_8x8,
                                         "cdcgan": cdcgan, "infogan": infogan, "toy": toy, "toy_cgan": toy_cgan,
                                         "toy_infogan": toy_infogan}


PACKABLE = ("dcgan", "toy")


def check_pack(name: str, pack: int) -> None:
    """PacGAN's ``pack``: a positive integer, and above 1 only for the models in PACKABLE."""
    if not isinstance(pack, (int, np.integer)) or isinstance(pack, bool) or pack < 1:
        raise ValueError(f"pack={pack!r}, expected a positive integer")
    if pack > 1 and name not in PACKABLE:
        raise ValueError(f"pack={pack}: PacGAN is built for {', '.join(PACKABLE)}, not {name!r}")


def build(name: str, pack: int = 1) -> GAN:
    """The model ``name``; ``pack`` > 1 gives it PacGAN's discriminator (models in PACKABLE)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    check_pack(name, pack)
    return MODELS[name]() if pack == 1 else MODELS[name](pack=int(pack))
