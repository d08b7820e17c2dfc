"""The articles' models: each builds, maps noise to data-shaped samples and samples to one logit each."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.gan.models import MODELS, PACKABLE, build, dcgan32, dcgan_init_


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_shapes(name):
    gan = build(name)
    z = mg.randn(3, gan.z_dim)
    labels = mg.tensor([1, 7, 3])
    fake = gan.generator(z, labels) if gan.conditional or gan.codes else gan.generator(z)
    assert fake.shape == (3,) + gan.sample_shape and fake.dtype == np.float32
    logits = gan.discriminator(fake, labels) if gan.conditional else gan.discriminator(fake)
    assert logits.shape == (3,)
    out = fake.numpy()
    if gan.scale == "tanh":
        assert out.min() >= -1 and out.max() <= 1
    elif gan.scale == "unit":
        assert out.min() >= 0 and out.max() <= 1


def test_atgan_ends_in_one_tanh_so_pixels_reach_black_and_white():
    """Article 000's generator applies one tanh (formula audit A000-3, A000-8): its samples can reach
    -1 and 1, the range of the data scaled for it, not the article's [0, 1]."""
    g = build("atgan").generator
    assert [type(m).__name__ for m in g].count("Tanh") == 1
    with mg.no_grad():
        g[-3].bias.data[...] = np.linspace(-10, 10, 784, dtype=np.float32)  # the logits before the tanh
        out = g(mg.zeros(1, 100)).numpy()
    assert out.min() < -0.999 and out.max() > 0.999 and out.min() >= -1 and out.max() <= 1


def test_infogans_q_head_shares_ds_convolutions():
    gan = build("infogan")
    x = mg.randn(4, 1, 28, 28)
    assert gan.discriminator.code_logits(x).shape == (4, gan.codes) and gan.discriminator(x).shape == (4,)
    params = dict(gan.discriminator.named_parameters())
    grads = mg.grad(gan.discriminator.code_logits(x).sum(), list(params.values()), allow_unused=True)
    reached = {name for name, g in zip(params, grads) if g is not None}
    assert reached == {n for n in params if n.startswith(("features.", "q."))}  # not D's own head


def test_infogans_generator_draws_a_different_sample_for_each_code():
    gan = build("infogan")
    gan.generator.eval()
    z = mg.randn(1, gan.z_dim).numpy().repeat(gan.codes, 0)
    samples = gan.sample(mg.tensor(z), mg.arange(gan.codes))
    assert len({s.tobytes() for s in samples}) == gan.codes


def test_dcgan32_is_article_001s_layer_list_and_takes_three_channels():
    gan = dcgan32(channels=3)
    sizes = []
    x = mg.randn(2, 100)
    for layer in gan.generator:
        x = layer(x)
        sizes.append(x.shape[1:])
    assert (512, 4, 4) in sizes and (256, 4, 4) in sizes and (128, 8, 8) in sizes and (64, 16, 16) in sizes
    assert sizes[-1] == (3, 32, 32)
    convs = [m for m in gan.generator.modules() if isinstance(m, mg.nn.ConvTranspose2d)]
    assert [c.kernel_size for c in convs] == [(5, 5)] * 4 and all(c.bias is None for c in convs)
    assert gan.discriminator(gan.generator(mg.randn(2, 100))).shape == (2,)


def test_dcgan32_8x8_is_dcgan32_with_the_generator_started_at_8x8x256():
    gan, article = build("dcgan32_8x8"), dcgan32()
    shapes = []
    x = mg.randn(2, 100)
    for layer in gan.generator:
        x = layer(x)
        shapes.append(x.shape[1:])
    assert shapes[3] == (256, 8, 8) and shapes[-1] == (1, 32, 32)
    convs = [m for m in gan.generator.modules() if isinstance(m, mg.nn.ConvTranspose2d)]
    assert [(c.in_channels, c.out_channels, c.stride) for c in convs] == [(256, 128, (1, 1)), (128, 64, (2, 2)),
                                                                        (64, 1, (2, 2))]
    assert [type(m) for m in gan.discriminator] == [type(m) for m in article.discriminator]
    assert gan.data == article.data == "mnist32"


def test_dcgan_discriminator_has_no_batchnorm_so_it_can_be_a_wgan_gp_critic():
    assert not any(isinstance(m, mg.nn.BatchNorm2d) for m in build("dcgan").discriminator.modules())


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown model 'gan9000'"):
        build("gan9000")


@pytest.mark.parametrize("name", PACKABLE)
def test_pacgan_judges_packs_of_consecutive_samples(name):
    gan = build(name, pack=4)
    x = gan.generator(mg.randn(8, gan.z_dim))
    logits = gan.discriminator(x)
    assert logits.shape == (2,)
    # The second pack's logit depends on samples 4..7 alone.
    (g,) = mg.grad(logits[1], x)
    per_sample = np.abs(g.numpy()).reshape(8, -1).sum(1)
    assert (per_sample[:4] == 0).all() and (per_sample[4:] > 0).all()
    # A pack is the samples side by side on the channel (feature) axis, in order.
    inner = gan.discriminator.discriminator
    np.testing.assert_array_equal(logits.numpy(), inner(x.reshape(2, 4 * x.shape[1], *x.shape[2:])).numpy())
    with pytest.raises(ValueError, match="Packed \\(PacGAN, m=4\\): batch of 6 samples"):
        gan.discriminator(x[:6])


def test_pack_errors_name_the_models_that_take_it():
    with pytest.raises(ValueError, match="PacGAN is built for dcgan, toy, not 'mlp'"):
        build("mlp", pack=2)
    with pytest.raises(ValueError, match="pack=0"):
        build("toy", pack=0)
    assert build("mlp", pack=1).name == "mlp"


def test_dcgan_init():
    mg.manual_seed(0)
    net = nn.Sequential(nn.ConvTranspose2d(64, 64, 4, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                        nn.Conv2d(64, 64, 4), nn.BatchNorm2d(64, affine=False), nn.Linear(3, 3))
    linear_before = net[5].weight.numpy().copy()
    conv_bias_before = net[3].bias.numpy().copy()
    assert dcgan_init_(net) is net
    for conv in (net[0], net[3]):
        w = conv.weight.numpy()
        assert abs(w.mean()) < 1e-3 and abs(w.std() - 0.02) < 1e-3 and w.dtype == np.float32
    bn = net[1].weight.numpy()
    assert abs(bn.mean() - 1) < 0.01 and 0.01 < bn.std() < 0.03
    assert not net[1].bias.numpy().any()
    np.testing.assert_array_equal(net[5].weight.numpy(), linear_before)  # other layers untouched
    np.testing.assert_array_equal(net[3].bias.numpy(), conv_bias_before)


def test_the_toy_conditional_gan_gives_g_and_d_the_mode_one_hot():
    gan = build("toy_cgan")
    assert gan.conditional and gan.given_values == gan.num_classes == 8 and gan.data == "2d"
    z, modes = mg.randn(8, gan.z_dim), mg.arange(8)
    one_hot = mg.nn.functional.one_hot(modes, 8).to(mg.float32)
    np.testing.assert_array_equal(gan.generator(z, modes).numpy(), gan.generator.net(mg.cat([z, one_hot], 1)).numpy())
    same_z = mg.tensor(z.numpy()[:1].repeat(8, 0))
    assert len({p.tobytes() for p in gan.generator(same_z, modes).numpy()}) == 8  # the label moves the sample
    x = mg.tensor(np.zeros((8, 2), dtype=np.float32))
    assert len(set(gan.discriminator(x, modes).numpy().tolist())) == 8  # one point, judged per mode asked


def test_the_toy_infogans_q_head_shares_ds_hidden_layers():
    gan = build("toy_infogan")
    assert gan.codes == gan.given_values == 8 and not gan.conditional
    x = mg.randn(4, 2)
    assert gan.discriminator.code_logits(x).shape == (4, 8) and gan.discriminator(x).shape == (4,)
    params = dict(gan.discriminator.named_parameters())
    grads = mg.grad(gan.discriminator.code_logits(x).sum(), list(params.values()), allow_unused=True)
    reached = {name for name, g in zip(params, grads) if g is not None}
    assert reached == {n for n in params if n.startswith(("features.", "q."))}  # not D's own head
    toy = build("toy").discriminator  # D(x) is the toy GAN's discriminator, layer for layer
    assert [p.shape for p in toy.parameters()] == [p.shape for n, p in params.items() if not n.startswith("q.")]
