"""minigan.plotting: the frames of a 2-D GAN's training and their animation."""
import numpy as np
import pytest
from PIL import Image

import minigan as mg
from minigan import plotting
from minigan.gan import generator_loss_saturating
from minigan.gan.models import toy

WINDOW = (np.zeros(2), 1.5)


@pytest.fixture
def small_gan():
    mg.manual_seed(0)
    return toy(hidden=8)


def noise(n=20):
    return np.random.default_rng(0).standard_normal((n, 2)).astype(np.float32)


def test_a_frame_holds_gs_samples_ds_field_and_each_samples_own_push(small_gan):
    G, D = small_gan.generator, small_gan.discriminator
    state = mg.get_rng_state()
    frame = plotting.record_frame(7, G, D, noise(), WINDOW, arrows=5, resolution=9)
    assert mg.get_rng_state() == state and all(p.grad is None for p in [*G.parameters(), *D.parameters()])
    with mg.no_grad():
        samples = G(mg.tensor(noise())).numpy()
    assert frame.step == 7 and np.allclose(frame.samples, samples) and frame.arrows.shape == (5, 2)
    assert frame.field.shape == (9, 9)  # D(x) at the grid's corners: field[row = y, column = x]
    corners = mg.tensor([[-1.5, -1.5], [1.5, -1.5], [-1.5, 1.5]], dtype=mg.float32)
    with mg.no_grad():
        expected = mg.sigmoid(D(corners)).numpy()
    assert np.allclose([frame.field[0, 0], frame.field[0, -1], frame.field[-1, 0]], expected, atol=1e-6)
    x = mg.tensor(samples[3:4], requires_grad=True)  # sample 3 alone: minus the gradient of its own loss
    (g,) = mg.grad(mg.gan.generator_loss_nonsaturating(D(x)), x)
    assert np.allclose(frame.arrows[3], -g.numpy()[0], rtol=1e-5, atol=1e-7)
    saturating = plotting.record_frame(7, G, D, noise(), WINDOW, generator_loss_saturating, arrows=5, resolution=9)
    (g,) = mg.grad(generator_loss_saturating(D(x)), x)
    assert np.allclose(saturating.arrows[3], -g.numpy()[0], rtol=1e-5, atol=1e-7)
    assert plotting.record_frame(7, G, D, noise(), WINDOW).arrows.shape == (20, 2)  # 64 asked, 20 samples: all


@pytest.mark.parametrize("kwargs, message", [
    (dict(z=np.zeros((0, 2))), r"expected noise z of shape \(N, z_dim\) with N >= 1, got \(0, 2\)"),
    (dict(window=(np.zeros(2), 0.0)), "expected window"),
    (dict(arrows=0), "arrows must be an integer >= 1, got 0"),
    (dict(resolution=1), "resolution must be an integer >= 2, got 1"),
])
def test_record_frame_refuses_bad_input_saying_what_it_expected(small_gan, kwargs, message):
    args = {"z": noise(), "window": WINDOW, **kwargs}
    with pytest.raises(ValueError, match=f"^record_frame: {message}"):
        plotting.record_frame(0, small_gan.generator, small_gan.discriminator, **args)


def frames(small_gan, steps=(0, 5, 10)):
    return [plotting.record_frame(step, small_gan.generator, small_gan.discriminator, noise(), WINDOW, arrows=8,
                                  resolution=11) for step in steps]


def test_the_animation_is_a_gif_with_one_frame_per_recorded_frame(small_gan, tmp_path):
    path = tmp_path / "training.gif"
    plotting.save_training_animation(frames(small_gan), path, mixture="ring8", fps=5, title="toy", dpi=50)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 3 and gif.is_animated
        assert gif.size == (260, 280)  # 5.2 x 5.6 inches at 50 dpi
        assert gif.info["duration"] == 200  # 5 frames a second
        gif.seek(2)  # the last frame differs from the first: its title has its step
        last = np.asarray(gif.convert("RGB"))
        gif.seek(0)
        assert not np.array_equal(np.asarray(gif.convert("RGB")), last)


def test_the_animation_refuses_bad_input_saying_what_it_expected(small_gan, tmp_path):
    good = frames(small_gan)

    def refused(message, frames=good, path=tmp_path / "a.gif", **kwargs):
        with pytest.raises(ValueError, match=f"^save_training_animation: {message}"):
            plotting.save_training_animation(frames, path, **kwargs)
        assert not path.exists()

    refused("expected a path ending in .gif, got '.*a.png'", path=tmp_path / "a.png")
    refused(r"expected a non-empty sequence of TrainingFrame \(see record_frame\), got 0 item", frames=[])
    refused("expected a non-empty sequence of TrainingFrame .* got 2 item.* ndarray", frames=[good[0].field] * 2)
    refused(r"the frames' steps must increase, got \[0, 10, 5\]", frames=[good[0], good[2], good[1]])
    moved = frames(small_gan, steps=(20,))[0]
    shifted = plotting.TrainingFrame(moved.step, moved.samples, moved.field, (np.ones(2), 1.5), moved.arrows)
    refused("every frame must share one window and grid: frame of step 20", frames=[*good, shifted])
    refused(r"fps \(frames per second\) must be an integer >= 1, got 0", fps=0)


def test_a_frame_recorder_films_a_run_every_k_steps_and_leaves_it_as_it_was(tmp_path):
    from minigan.gan.training import TrainConfig, Trainer

    def run(name, watch=None):
        config = TrainConfig(model="toy", data="ring8", loss="ns", out=str(tmp_path / name), steps=6, batch_size=32,
                             sample_every=10**9, checkpoint_every=10**9, progress=False)
        trainer = Trainer(config)
        trainer.train(watch)
        return trainer

    film = plotting.FrameRecorder(every=2, z=noise(), window=WINDOW)
    filmed, plain = run("filmed", film), run("plain")
    assert [frame.step for frame in film.frames] == [0, 2, 4, 6]  # before the first step, then every 2
    assert filmed.history == plain.history  # the camera changed nothing
    assert all(np.array_equal(a.data, b.data) for a, b in zip(filmed.G.parameters(), plain.G.parameters()))
    last = plotting.record_frame(6, plain.G, plain.D, noise(), WINDOW)
    assert np.array_equal(film.frames[-1].samples, last.samples) and np.array_equal(film.frames[-1].arrows, last.arrows)
    assert not np.array_equal(film.frames[0].samples, last.samples)  # the first frame is of the untrained G
    with pytest.raises(ValueError, match=r"^FrameRecorder: every must be an integer >= 1, got 0"):
        plotting.FrameRecorder(every=0, z=noise(), window=WINDOW)


def test_draw_points_in_a_given_window_counts_the_samples_outside_it():
    import matplotlib.pyplot as plt

    samples = np.array([[0.0, 0.0], [0.5, -0.5], [3.0, 0.0], [np.nan, 0.0]])
    fig, ax = plt.subplots()
    plotting.draw_points(ax, samples, "ring8", window=WINDOW)
    assert ax.get_xlim() == ax.get_ylim() == (-1.5, 1.5)
    assert "2 of 4 samples shown; 2 outside these axes (1 not finite)" in [t.get_text() for t in ax.texts]
    plt.close(fig)
