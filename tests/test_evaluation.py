"""`minigan eval` and the trainer's --eval-every: the metrics of real data, of a run, of 2-D samples."""
import json
import subprocess
import sys

import numpy as np
import pytest

from minigan import evaluation, nn, tensor
from minigan.gan.models import GAN, build
from minigan.gan.training import TrainConfig, Trainer


@pytest.mark.slow
def test_real_test_digits_score_like_real_digits_and_noise_does_not():
    real = evaluation.image_metrics(*evaluation.real_images("test", 2000))
    noise = evaluation.image_metrics(*evaluation.real_images("noise", 2000))
    assert real["mnist_score"] > 9.5 and real["classes_present"] == 10 and real["label_accuracy"] > 0.99
    assert noise["frechet_distance"] > 20 * real["frechet_distance"] and "label_accuracy" not in noise
    assert noise["mnist_score"] < real["mnist_score"] and noise["precision"] < 0.1


def test_label_accuracy_counts_images_read_as_their_label():
    images, labels = evaluation.real_images("test", 500)
    wrong = evaluation.image_metrics(images, (labels + 1) % 10)["label_accuracy"]
    assert wrong < 0.02
    with pytest.raises(ValueError, match=r"image_metrics: expected labels of shape \(500,\), got \(499,\)"):
        evaluation.image_metrics(images, labels[:499])


class RealDigits(nn.Module):
    """A "generator" that draws real test digits of the class it is asked for (the noise picks which)."""

    def __init__(self):
        super().__init__()
        self.images, self.labels = evaluation.real_images("test", 10_000)

    def forward(self, z, labels):
        pick = [np.flatnonzero(self.labels == y)[int(abs(v) * 100) % 800]
                for y, v in zip(labels.numpy(), z.numpy()[:, 0])]
        return tensor(self.images[pick])


def test_a_conditional_gan_is_judged_on_the_digits_it_was_asked_for():
    gan = GAN("real-digits", RealDigits(), None, 4, (1, 28, 28), "mnist", conditional=True)
    assert list(evaluation.requested_labels(gan, 12)) == [*range(10), 0, 1]
    assert list(evaluation.requested_labels(gan, 3, label=7)) == [7, 7, 7]
    assert list(evaluation.requested_labels(gan, 2, label=0)) == [0, 0]
    assert evaluation.requested_labels(build("dcgan"), 3) is None
    result = evaluation.evaluate(gan, 1000, "mnist")
    assert result["label_accuracy"] > 0.98 and result["class_kl"] < 0.01 and result["mnist_score"] > 9.5
    assert evaluation.metric_keys(gan)[-1] == "label_accuracy"
    assert "label_accuracy" not in evaluation.metric_keys(build("dcgan"))

    coded = GAN("real-digits-by-code", RealDigits(), None, 4, (1, 28, 28), "mnist", codes=10)  # InfoGAN-like
    result = evaluation.evaluate(coded, 1000, "mnist")
    assert result["code_purity"] > 0.98 and "label_accuracy" not in result
    assert evaluation.metric_keys(coded)[-1] == "code_purity"


@pytest.mark.slow
def test_eval_cli_on_real_data_and_on_a_toy_run(tmp_path):
    out = tmp_path / "m.json"
    result = subprocess.run([sys.executable, "-m", "minigan", "eval", "--real", "test", "--n", "1000",
                             "--json", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(out.read_text())
    assert set(evaluation.IMAGE_KEYS) <= set(metrics) and "mnist_score" in result.stdout
    assert metrics["label_accuracy"] > 0.98  # real test digits carry their labels

    Trainer(TrainConfig(model="toy", data="grid25", loss="ns", out=str(tmp_path / "run"), steps=2, batch_size=32,
                        progress=False)).train()
    result = subprocess.run([sys.executable, "-m", "minigan", "eval",
                             "--checkpoint", str(tmp_path / "run" / "last.npz"), "--n", "500", "--json", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert set(evaluation.POINT_KEYS) <= set(json.loads(out.read_text()))


def test_eval_every_writes_metric_curves_without_changing_the_run(tmp_path):
    kw = dict(model="toy", data="ring8", loss="ns", steps=4, batch_size=32, progress=False, sample_every=100)
    Trainer(TrainConfig(out=str(tmp_path / "a"), eval_every=2, **kw)).train()
    Trainer(TrainConfig(out=str(tmp_path / "b"), **kw)).train()
    assert (tmp_path / "a" / "metrics.png").exists()
    rows = (tmp_path / "a" / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("step,modes_covered") and [r.split(",")[0] for r in rows[1:]] == ["2", "4"]
    assert (tmp_path / "a" / "losses.csv").read_text() == (tmp_path / "b" / "losses.csv").read_text()


def test_a_resumed_run_keeps_metric_rows_written_with_fewer_columns(tmp_path):
    kw = dict(model="toy", data="ring8", loss="ns", batch_size=32, progress=False, eval_every=2, out=str(tmp_path))
    Trainer(TrainConfig(steps=2, **kw)).train()
    path = tmp_path / "metrics.csv"
    rows = [r.rsplit(",", 1)[0] for r in path.read_text().splitlines()]  # as if written before reverse_kl existed
    path.write_text("\n".join(rows) + "\n")
    Trainer(TrainConfig(steps=4, **kw), resume=True).train()
    header, old, new = path.read_text().splitlines()
    assert header.endswith(",reverse_kl") and old.startswith("2,") and old.endswith(",nan")
    assert new.startswith("4,") and new.count(",") == header.count(",")


def test_point_metrics_of_perfect_samples():
    from minigan import data

    m = evaluation.point_metrics(data.grid25(2500, rng=np.random.default_rng(0)), "grid25")
    assert m["modes_covered"] == 25 and m["high_quality"] > 0.97


def test_strict_json_writes_inf_and_nan_as_null():
    result = {"reverse_kl": float("inf"), "high_quality": 0.0, "rows": [float("nan"), 1.5, 3], "name": "ring8"}
    text = json.dumps(evaluation.strict_json(result), allow_nan=False)
    assert json.loads(text) == {"reverse_kl": None, "high_quality": 0.0, "rows": [None, 1.5, 3], "name": "ring8"}


def test_the_classifier_reads_dcgan32s_digits_without_the_padding():
    from minigan.gan.models import dcgan32

    gan = dcgan32()
    full = evaluation.generate(gan, 3, seed=5)
    digits = evaluation.digit_samples(gan, 3, seed=5)
    assert full.shape == (3, 1, 32, 32) and digits.shape == (3, 1, 28, 28)
    np.testing.assert_array_equal(digits, full[:, :, 2:30, 2:30])  # the 2-pixel border MNIST was padded with
    with pytest.raises(ValueError, match="judges 28x28 digits"):
        evaluation.digit_samples(dcgan32(channels=3), 3)
