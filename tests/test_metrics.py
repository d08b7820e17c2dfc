"""minigan.metrics: mode coverage on the toy mixtures, MNIST score, Fréchet distance, precision/recall,
nearest neighbours."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan.data import grid25, grid25_modes, ring8, ring8_modes
from minigan.metrics import (
    class_statistics,
    code_purity,
    feature_statistics,
    frechet_distance,
    frechet_distance_from_statistics,
    grey_fraction,
    mixture_metrics,
    mnist_score,
    nearest_neighbours,
    precision_recall,
    sharpen,
)


def rng(seed=0):
    return np.random.default_rng(seed)


def softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --- mixture_metrics ------------------------------------------------------------------------------

def test_perfect_ring8_covers_every_mode_evenly():
    result = mixture_metrics(ring8(2500, std=0.01, rng=rng()), ring8_modes(), std=0.01)
    # In 2-D a Gaussian sample lies within 3 std of its centre with probability 1 - e^{-9/2} ~ 0.989
    # (give or take 0.002 at 2,500 samples); 0.997 is the 1-D figure.
    assert result["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    assert result["modes_covered"] == result["modes_covered_1pct"] == 8
    assert result["reverse_kl"] < 0.01
    assert sum(result["mode_counts"]) == round(result["high_quality"] * 2500)


def test_perfect_grid25_covers_every_mode():
    result = mixture_metrics(grid25(2500, std=0.05, rng=rng()), grid25_modes(), std=0.05)
    assert result["modes_covered"] == result["modes_covered_1pct"] == 25
    assert result["high_quality"] > 0.97
    assert result["reverse_kl"] < 0.02


def test_collapse_onto_one_mode():
    modes = ring8_modes()
    samples = modes[3] + 0.01 * rng().standard_normal((2500, 2))
    result = mixture_metrics(samples, modes, std=0.01)
    assert result["modes_covered"] == result["modes_covered_1pct"] == 1
    assert result["mode_counts"][3] == sum(result["mode_counts"])
    assert result["reverse_kl"] == math.log(8)


def test_samples_far_from_every_mode():
    result = mixture_metrics(np.full((100, 2), 50.0), ring8_modes(), std=0.01)
    assert result["high_quality"] == 0.0
    assert result["modes_covered"] == result["modes_covered_1pct"] == 0
    assert result["mode_counts"] == [0] * 8
    assert result["reverse_kl"] == math.inf  # no high-quality sample: the histogram is undefined


def test_counts_threshold_and_min_fraction():
    modes = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    samples = np.concatenate([np.repeat(modes[:1], 990, axis=0), np.repeat(modes[1:2], 9, axis=0),
                              [[0.0, 10.2]]])  # 2 std from mode 2 (std 0.1)
    result = mixture_metrics(samples, modes, std=0.1)
    assert result["mode_counts"] == [990, 9, 1]
    assert result["modes_covered"] == 3
    assert result["modes_covered_1pct"] == 1  # 9 / 1000 and 1 / 1000 are under 1%
    assert mixture_metrics(samples, modes, std=0.1, min_fraction=0.005)["modes_covered_1pct"] == 2
    assert mixture_metrics(samples, modes, std=0.1, threshold=1.0)["mode_counts"] == [990, 9, 0]
    p = np.array([990, 9, 1]) / 1000
    assert result["reverse_kl"] == pytest.approx(np.sum(p * np.log(3 * p)), rel=1e-12)


def test_mixture_metrics_takes_tensors():
    samples = ring8(200, rng=rng())
    assert mixture_metrics(mg.tensor(samples), mg.tensor(ring8_modes()), 0.01) == \
        mixture_metrics(samples, ring8_modes(), 0.01)


def test_mixture_metrics_errors():
    with pytest.raises(ValueError, match=r"mixture_metrics: samples has shape \(5, 3\) and modes \(8, 2\)"):
        mixture_metrics(np.zeros((5, 3)), ring8_modes(), std=0.01)
    with pytest.raises(ValueError, match=r"mixture_metrics: samples has shape \(10,\), expected \(N, d\)"):
        mixture_metrics(np.zeros(10), ring8_modes(), std=0.01)
    with pytest.raises(ValueError, match="mixture_metrics: std=0"):
        mixture_metrics(np.zeros((5, 2)), ring8_modes(), std=0)
    with pytest.raises(ValueError, match="at least one sample"):
        mixture_metrics(np.zeros((0, 2)), ring8_modes(), std=0.01)


# --- mnist_score and class_statistics -------------------------------------------------------------

def test_mnist_score_is_num_classes_for_confident_balanced_samples():
    one_hot = np.eye(10)[np.arange(1000) % 10]
    assert mnist_score(one_hot) == pytest.approx(10, abs=1e-6)
    assert mnist_score(one_hot, splits=10) == pytest.approx(10, abs=1e-6)


def test_mnist_score_is_one_for_identical_predictions():
    probs = np.repeat(softmax(rng().standard_normal((1, 10))), 500, axis=0)
    assert mnist_score(probs) == pytest.approx(1, abs=1e-12)
    assert mnist_score(np.eye(10)[np.zeros(50, dtype=int)]) == pytest.approx(1, abs=1e-12)


def test_mnist_score_matches_the_kl_definition():
    probs = rng().dirichlet(np.full(10, 0.3), size=400)
    marginal = probs.mean(axis=0)
    kl = np.sum(probs * (np.log(probs) - np.log(marginal)), axis=1)
    assert mnist_score(probs) == pytest.approx(np.exp(kl.mean()), rel=1e-10)


def test_mnist_score_averages_over_splits():
    probs = np.eye(10)[np.repeat([0, 1], 100)]  # first half all class 0, second half all class 1
    assert mnist_score(probs) == pytest.approx(2)
    assert mnist_score(probs, splits=2) == pytest.approx(1)


@given(st.integers(0, 2**32 - 1), st.floats(0.01, 10))
def test_mnist_score_lies_between_one_and_num_classes(seed, concentration):
    probs = rng(seed).dirichlet(np.full(10, concentration), size=50)
    assert 1 - 1e-9 <= mnist_score(probs) <= 10 + 1e-9


def test_sharpen_is_softmax_of_scaled_logits_and_raises_the_score():
    logits = rng(3).standard_normal((200, 10)) * 3
    logits[0, :9] = -800.0  # exp underflows to 0 for these: one class holds all, and keeps it
    probs = softmax(logits)
    np.testing.assert_allclose(sharpen(probs, 1.5), softmax(1.5 * logits), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(sharpen(probs, 1), probs, rtol=1e-12, atol=1e-300)
    assert (sharpen(probs, 2).argmax(axis=1) == probs.argmax(axis=1)).all()
    scores = [mnist_score(sharpen(probs, a)) for a in (0.5, 1, 2, 4)]
    assert scores == sorted(scores) and scores[0] < scores[-1]  # a surer judge, a higher score
    with pytest.raises(ValueError, match=r"sharpen: factor=0, expected a positive finite number"):
        sharpen(probs, 0)


def test_probability_checks():
    with pytest.raises(ValueError, match=r"mnist_score: rows of probs sum to 1 only within"):
        mnist_score(rng().standard_normal((5, 10)) ** 2)
    with pytest.raises(ValueError, match=r"mnist_score: probs has negative entries"):
        mnist_score(np.array([[1.5, -0.5]]))
    with pytest.raises(ValueError, match=r"class_statistics: probs has shape \(4, 3\), expected \(N, 10\)"):
        class_statistics(np.full((4, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"mnist_score: splits=3"):
        mnist_score(np.eye(2), splits=3)


def test_class_statistics_on_a_known_histogram():
    labels = np.array([0] * 5 + [1] * 3 + [2] * 2)
    probs = np.full((10, 10), 0.1 / 9)
    probs[np.arange(10), labels] = 0.9
    probs[:4] = np.eye(10)[labels[:4]]  # 4 samples at probability 1, 6 at 0.9
    probs[9] = 0.1
    probs[9, [2, 7]] = [0.15, 0.05]  # argmax 2, probability 0.15
    stats = class_statistics(probs)
    assert stats["class_histogram"] == pytest.approx([0.5, 0.3, 0.2] + [0.0] * 7)
    assert stats["classes_present"] == stats["classes_present_1pct"] == 3
    h = np.array([0.5, 0.3, 0.2])
    assert stats["class_kl"] == pytest.approx(math.log(10) + np.sum(h * np.log(h)), rel=1e-12)
    assert stats["confident_fraction"] == pytest.approx(0.9)
    assert class_statistics(probs, confidence=0.95)["confident_fraction"] == pytest.approx(0.4)
    assert class_statistics(probs, min_fraction=0.25)["classes_present_1pct"] == 2


def test_code_purity():
    codes = np.arange(100) % 10
    assert code_purity(codes, (codes + 3) % 10) == 1.0  # any one-to-one match of codes and classes
    assert code_purity(codes, np.zeros(100, dtype=int)) == 1.0  # purity alone does not see collapse
    assert code_purity(codes, np.arange(100) // 10) == pytest.approx(0.1)  # every code draws every class
    assert code_purity([0, 0, 0, 1], [2, 2, 5, 7]) == pytest.approx(0.75)
    with pytest.raises(ValueError, match=r"code_purity: expected codes and classes of the same shape \(N,\), "
                                         r"got \(2,\) and \(3,\)"):
        code_purity([0, 1], [0, 1, 2])
    with pytest.raises(ValueError,
                       match="code_purity: expected non-negative integer codes, got dtype int64, smallest -1"):
        code_purity([-1, 0], [0, 1])


def test_grey_fraction_counts_pixels_strictly_inside_the_grey_band():
    # on [0, 1]: 0.1 and 0.9 are the band's edges, not grey; 0.5 and 0.11 are
    unit = np.array([[0.0, 0.1, 0.11, 0.5], [0.9, 0.95, 1.0, 0.5]])
    assert grey_fraction(unit, value_range=(0, 1)) == pytest.approx(3 / 8)
    unit[0, 1], unit[1, 0] = 0.05, 0.95  # away from the edges, where [-1, 1] and back may round either way
    assert grey_fraction(unit, value_range=(0, 1)) == pytest.approx(3 / 8)
    assert grey_fraction(2 * unit - 1) == pytest.approx(3 / 8)  # minigan's [-1, 1] by default
    assert grey_fraction(mg.tensor(2 * unit - 1)) == pytest.approx(3 / 8)
    assert grey_fraction(unit, value_range=(0, 1), grey=(0.0, 1.0)) == pytest.approx(6 / 8)
    assert grey_fraction(np.sign(rng(0).standard_normal((4, 1, 28, 28)))) == 0.0  # black and white: no grey
    with pytest.raises(ValueError, match=r"value_range=\(1, 1\), expected \(low, high\) with low < high"):
        grey_fraction(unit, value_range=(1, 1))
    with pytest.raises(ValueError, match=r"grey=\(0.9, 0.1\), expected \(low, high\) with 0 <= low < high <= 1"):
        grey_fraction(unit, grey=(0.9, 0.1))
    with pytest.raises(ValueError, match=r"grey_fraction: images has shape \(0, 4\), expected at least one pixel"):
        grey_fraction(np.zeros((0, 4)))


def test_class_kl_of_collapsed_and_balanced_predictions():
    assert class_statistics(np.eye(10)[np.zeros(20, dtype=int)])["class_kl"] == pytest.approx(math.log(10))
    assert class_statistics(np.eye(10)[np.arange(20) % 10])["class_kl"] == pytest.approx(0, abs=1e-12)


# --- Fréchet distance -----------------------------------------------------------------------------

def diagonal_closed_form(mu1, var1, mu2, var2):
    return np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)


def random_rotation(d, seed=1):
    q, r = np.linalg.qr(rng(seed).standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def test_frechet_distance_from_statistics_matches_the_diagonal_closed_form():
    g = rng()
    mu1, mu2 = g.standard_normal(6), g.standard_normal(6)
    var1, var2 = g.uniform(0.1, 3, 6), g.uniform(0.1, 3, 6)
    expected = diagonal_closed_form(mu1, var1, mu2, var2)
    assert frechet_distance_from_statistics(mu1, np.diag(var1), mu2, np.diag(var2)) == \
        pytest.approx(expected, rel=1e-12)
    # A rotation common to both Gaussians changes nothing, but makes the covariances full matrices.
    q = random_rotation(6)
    assert frechet_distance_from_statistics(q @ mu1, q @ np.diag(var1) @ q.T, q @ mu2, q @ np.diag(var2) @ q.T) == \
        pytest.approx(expected, rel=1e-10)


def test_frechet_distance_matches_a_general_eigenvalue_computation():
    # Non-commuting covariances: Tr (S1 S2)^{1/2} is the sum of the square roots of the (real,
    # non-negative) eigenvalues of the non-symmetric product S1 S2.
    g = rng()
    a, b = g.standard_normal((5, 5)), g.standard_normal((5, 5))
    s1, s2 = a @ a.T + 0.1 * np.eye(5), b @ b.T + 0.1 * np.eye(5)
    mu1, mu2 = g.standard_normal(5), g.standard_normal(5)
    trace_sqrt = np.sum(np.sqrt(np.linalg.eigvals(s1 @ s2).real))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt
    assert frechet_distance_from_statistics(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_a_set_with_itself_and_with_a_shifted_copy():
    x = rng().standard_normal((2000, 16)) @ rng(1).standard_normal((16, 16))
    scale = np.trace(np.cov(x, rowvar=False))
    assert frechet_distance(x, x) < 1e-6 * scale
    shift = rng(2).standard_normal(16)
    assert frechet_distance(x, x + shift) == pytest.approx(shift @ shift, rel=1e-6, abs=1e-6 * scale)


def test_frechet_distance_grows_with_noise():
    x = rng().standard_normal((2000, 8))
    noise = rng(1).standard_normal((2000, 8))
    distances = [frechet_distance(x, x + s * noise) for s in (0.0, 0.1, 0.3, 1.0, 3.0)]
    assert distances[0] < 1e-9
    assert np.all(np.diff(distances) > 0)


def test_frechet_distance_of_samples_approaches_the_closed_form():
    g = rng()
    var1, var2 = g.uniform(0.5, 2, 4), g.uniform(0.5, 2, 4)
    a = np.sqrt(var1) * g.standard_normal((50_000, 4))
    b = 1.0 + np.sqrt(var2) * g.standard_normal((50_000, 4))
    expected = diagonal_closed_form(np.zeros(4), var1, np.ones(4), var2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)


def test_frechet_distance_with_singular_covariances():
    x = rng().standard_normal((5, 10))  # 5 points span at most 4 dimensions of 10
    assert frechet_distance(x, x) < 1e-9
    assert frechet_distance(x, rng(1).standard_normal((5, 10))) > 0


def test_feature_statistics():
    x = rng().standard_normal((30, 4))
    mu, sigma = feature_statistics(mg.tensor(x.astype(np.float32)))
    np.testing.assert_allclose(mu, x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(sigma, np.cov(x, rowvar=False), rtol=1e-5)
    assert feature_statistics(np.ones((3, 1)))[1].shape == (1, 1)
    with pytest.raises(ValueError, match=r"feature_statistics: a covariance needs at least 2 samples, "
                                         r"got features of shape \(1, 4\)"):
        feature_statistics(x[:1])
    with pytest.raises(ValueError, match=r"the two Gaussians have dimensions 4 and 3"):
        frechet_distance(x, x[:, :3])
    with pytest.raises(ValueError, match=r"mu1 has shape \(4,\) and sigma1 \(3, 3\), expected \(d,\) and \(d, d\)"):
        frechet_distance_from_statistics(np.zeros(4), np.eye(3), np.zeros(4), np.eye(4))


# --- precision and recall -------------------------------------------------------------------------

def brute_force_precision_recall(real, fake, k):
    def distances(a, b):
        return np.linalg.norm(a[:, None] - b[None], axis=-1)

    real_radii = np.sort(distances(real, real), axis=1)[:, k]
    fake_radii = np.sort(distances(fake, fake), axis=1)[:, k]
    precision = np.mean((distances(fake, real) <= real_radii).any(axis=1))
    recall = np.mean((distances(real, fake) <= fake_radii).any(axis=1))
    return precision, recall


def test_identical_sets_have_full_precision_and_recall():
    x = rng().standard_normal((500, 16))
    assert precision_recall(x, x.copy()) == (1.0, 1.0)


def test_far_apart_sets_have_zero_precision_and_recall():
    real = rng().standard_normal((300, 8))
    assert precision_recall(real, 100 + rng(1).standard_normal((300, 8))) == (0.0, 0.0)


def test_collapsed_fakes_have_high_precision_and_low_recall():
    real = rng().standard_normal((2000, 2))
    # The 200 real points nearest to (1, 1), slightly jittered: a tenth of the real cloud.
    corner = real[np.argsort(np.linalg.norm(real - 1.0, axis=1))[:200]]
    fake = corner + 0.005 * rng(1).standard_normal(corner.shape)
    precision, recall = precision_recall(real, fake)
    assert precision > 0.95
    assert recall < 0.15


@pytest.mark.parametrize("k", [1, 3, 5])
def test_precision_recall_matches_brute_force_for_any_batch_size(k):
    real = rng().standard_normal((130, 5))
    fake = 0.5 + 1.3 * rng(1).standard_normal((90, 5))
    expected = brute_force_precision_recall(real, fake, k)
    for batch_size in (7, 64, 1000):
        assert precision_recall(real, fake, k=k, batch_size=batch_size) == pytest.approx(expected, abs=1e-12)


def test_precision_recall_far_from_the_origin():
    # Close points far from the origin: the distance expansion must not lose them to cancellation.
    real = 1e6 + rng().standard_normal((200, 4))
    fake = 1e6 + rng(1).standard_normal((200, 4))
    assert precision_recall(real, fake) == pytest.approx(brute_force_precision_recall(real, fake, 3), abs=1e-12)


def test_precision_recall_errors():
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"precision_recall: k=4, expected an integer in \[1, N - 1\]"):
        precision_recall(x, x, k=4)
    with pytest.raises(ValueError, match=r"real_features has shape \(4, 3\) and fake_features \(4, 2\)"):
        precision_recall(x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"fake_features contains NaN"):
        precision_recall(x, np.full((4, 3), np.nan))
    with pytest.raises(ValueError, match=r"batch_size=0"):
        precision_recall(x, x, batch_size=0)


# --- nearest neighbours ---------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_nearest_neighbours_matches_brute_force_for_any_batch_size(batch_size):
    samples = rng().standard_normal((57, 6))
    reference = 0.5 + 1.3 * rng(1).standard_normal((83, 6))
    brute = np.linalg.norm(samples[:, None] - reference[None], axis=-1)  # (57, 83)
    indices, distances = nearest_neighbours(samples, reference, batch_size=batch_size)
    assert indices.shape == distances.shape == (57,)
    np.testing.assert_array_equal(indices, brute.argmin(axis=1))
    np.testing.assert_allclose(distances, brute.min(axis=1), rtol=1e-12)


def test_nearest_neighbours_of_copies_are_the_copied_rows_at_distance_exactly_zero():
    # Far from the origin, where the expanded |a|^2 + |b|^2 - 2 a.b loses digits: the distance
    # reported is computed again directly, so a copy's is 0, not roundoff.
    reference = 1e3 + rng().standard_normal((300, 784))
    copied = [5, 0, 299, 5]
    samples = np.concatenate([reference[copied], reference[[7]] + 0.01])
    indices, distances = nearest_neighbours(mg.tensor(samples), reference, batch_size=2)
    np.testing.assert_array_equal(indices, copied + [7])
    np.testing.assert_array_equal(distances[:4], 0.0)
    assert distances[4] == pytest.approx(0.01 * math.sqrt(784), rel=1e-6)


def test_nearest_neighbours_of_no_samples():
    indices, distances = nearest_neighbours(np.zeros((0, 3)), np.ones((4, 3)))
    assert indices.shape == distances.shape == (0,)


def test_nearest_neighbours_errors():
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"nearest_neighbours: samples has shape \(4, 1, 3\), expected \(N, d\)"):
        nearest_neighbours(x[:, None], x)  # images are flattened first
    with pytest.raises(ValueError, match=r"nearest_neighbours: samples has shape \(4, 3\) and reference \(4, 2\)"):
        nearest_neighbours(x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"nearest_neighbours: reference has shape \(0, 3\), expected at least one"):
        nearest_neighbours(x, np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"nearest_neighbours: reference contains NaN"):
        nearest_neighbours(x, np.full((4, 3), np.nan))
    with pytest.raises(ValueError, match=r"nearest_neighbours: batch_size=0, expected a positive integer"):
        nearest_neighbours(x, x, batch_size=0)
