"""The MNIST classifier that ships with minigan: its accuracy, `classify`, training and loading."""
import shutil

import numpy as np
import pytest

import minigan as mg
from minigan import checkpoint
from minigan.classifier import (
    DEFAULT_WEIGHTS_PATH,
    FEATURES,
    build_classifier,
    classify,
    load_classifier,
    random_shift,
    train_classifier,
)
from minigan.data import mnist


@pytest.mark.slow
def test_shipped_weights_reach_99_percent_on_the_test_split():
    images, labels = mnist("test")
    probs, _ = classify(images)
    accuracy = (probs.argmax(axis=1) == labels).mean()
    assert accuracy >= 0.99, f"the shipped classifier's test accuracy is {accuracy:.4f}"
    meta = checkpoint.load(DEFAULT_WEIGHTS_PATH)["meta"]
    assert meta["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)  # the file's record matches
    assert meta["command"] == "minigan train-classifier"


def test_classify_shapes_probabilities_and_inputs():
    images = mnist("test")[0][:20]
    probs, features = classify(images)
    assert probs.shape == (20, 10) and features.shape == (20, FEATURES)
    assert probs.dtype == features.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert (probs >= 0).all()
    # A Tensor, images without the channel axis, [0, 1] images, small batches: the same answers.
    for other in (classify(mg.tensor(images)), classify(images[:, 0]), classify((images + 1) / 2, scale="unit"),
                  classify(images, batch_size=3)):
        np.testing.assert_allclose(other[0], probs, atol=1e-5)
        np.testing.assert_allclose(other[1], features, rtol=1e-4, atol=1e-4)
    assert classify(images[:0])[0].shape == (0, 10)
    with pytest.raises(ValueError, match=r"crop 32 x 32"):
        classify(np.zeros((2, 1, 32, 32), np.float32))
    with pytest.raises(ValueError, match="scale"):
        classify(images, scale="sigmoid")


def test_model_gives_logits_and_features_in_one_pass():
    model = build_classifier().eval()
    x = mg.tensor(mnist("test")[0][:4])
    with mg.no_grad():
        logits, features = model(x, return_features=True)
        np.testing.assert_array_equal(model(x).numpy(), logits.numpy())
        np.testing.assert_array_equal(model.head(model.features(x)).numpy(), logits.numpy())
    assert logits.shape == (4, 10) and features.shape == (4, FEATURES)


def test_random_shift_moves_each_image_by_at_most_max_shift():
    image = -np.ones((1, 1, 28, 28), np.float32)
    image[0, 0, 10, 12] = 1.0
    shifted = random_shift(np.repeat(image, 200, axis=0), 2, np.random.default_rng(0))
    rows, cols = np.nonzero(shifted[:, 0] == 1.0)[1:]
    assert len(rows) == 200  # every image keeps its one bright pixel
    assert set(rows - 10) == set(cols - 12) == {-2, -1, 0, 1, 2}
    assert set(np.unique(shifted)) == {-1.0, 1.0}  # what moves in is background


def test_training_is_deterministic(tmp_path):
    def run(name, seed):
        path = tmp_path / f"{name}.npz"
        metrics = train_classifier(out=str(path), epochs=1, batch_size=32, seed=seed, limit=128, progress=False)
        assert 0 <= metrics["test_accuracy"] <= 1 and np.isfinite(metrics["train_loss"])
        return checkpoint.load(str(path))["state_dict"]

    first, again, other = run("first", 0), run("again", 0), run("other", 1)
    assert first.keys() == again.keys() == build_classifier().state_dict().keys()
    for key in first:
        np.testing.assert_array_equal(first[key], again[key], err_msg=key)
    assert any(not np.array_equal(first[key], other[key]) for key in first)
    load_classifier(str(tmp_path / "first.npz"))  # what train_classifier writes, load_classifier reads


def test_load_classifier_is_cached_and_leaves_the_random_numbers_alone(tmp_path):
    assert load_classifier() is load_classifier()
    assert not load_classifier().training
    path = tmp_path / "copy.npz"
    shutil.copy(DEFAULT_WEIGHTS_PATH, path)
    mg.manual_seed(5)
    expected = mg.randn(3).numpy()
    mg.manual_seed(5)
    load_classifier(str(path))  # not cached yet: builds a model, whose initialisation draws numbers
    np.testing.assert_array_equal(mg.randn(3).numpy(), expected)


def test_missing_or_damaged_weights_raise_checkpoint_error(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match="do not exist"):
        load_classifier(str(tmp_path / "missing.npz"))
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(checkpoint.CheckpointError, match="damaged"):
        load_classifier(str(garbage))
    truncated = tmp_path / "truncated.npz"
    with open(DEFAULT_WEIGHTS_PATH, "rb") as weights:
        truncated.write_bytes(weights.read()[:5000])
    with pytest.raises(checkpoint.CheckpointError):
        load_classifier(str(truncated))
    other_model = tmp_path / "other.npz"
    checkpoint.save(str(other_model), {"state_dict": {"weight": np.zeros(3, np.float32)}})
    with pytest.raises(checkpoint.CheckpointError, match="does not hold MNIST classifier weights"):
        load_classifier(str(other_model))
    # A damaged file is refused even where a good one with the same name was loaded before.
    path = tmp_path / "weights.npz"
    shutil.copy(DEFAULT_WEIGHTS_PATH, path)
    load_classifier(str(path))
    path.write_bytes(b"garbage, and another size")
    with pytest.raises(checkpoint.CheckpointError):
        classify(np.zeros((1, 1, 28, 28), np.float32), path=str(path))


def test_training_shows_progress_and_each_epochs_test_accuracy(tmp_path, capsys):
    train_classifier(out=str(tmp_path / "c.npz"), epochs=2, batch_size=32, limit=128, progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert any(line.startswith("classifier: 100%") and "8/8" in line and "loss=" in line for line in lines), lines
    assert [line.split(":")[0] for line in lines if line.startswith("epoch")] == ["epoch 1/2", "epoch 2/2"], lines
    train_classifier(out=str(tmp_path / "quiet.npz"), epochs=1, batch_size=32, limit=128, progress=False)
    assert capsys.readouterr().err == ""
