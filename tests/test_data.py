"""minigan.data: the bundled MNIST and its checks, IDX files elsewhere, toy mixtures, DataLoader."""
import gzip
import shutil

import numpy as np
import pytest

import minigan as mg
from minigan.data import (
    MIXTURES,
    MNIST_DIR,
    MNIST_SHA256,
    ChecksumError,
    DataLoader,
    IDXError,
    MissingDataError,
    grid25,
    grid25_modes,
    mnist,
    read_idx,
    ring8,
    ring8_modes,
)

TEST_CLASS_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def copy_test_split(folder, compress=True):
    """The test split's two files in ``folder``, gzip-compressed as bundled or decompressed."""
    for name in TEST_FILES:
        if compress:
            shutil.copy(MNIST_DIR / f"{name}.gz", folder / f"{name}.gz")
        else:
            (folder / name).write_bytes(gzip.decompress((MNIST_DIR / f"{name}.gz").read_bytes()))


def write_idx(path, array):
    """A uint8 array as an IDX file: magic 0x000008NN, one big-endian uint32 per dimension, data."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    path.write_bytes(header + array.tobytes())


# --- the bundled MNIST -------------------------------------------------------------------------

def test_train_split_shapes_dtypes_and_tanh_range():
    images, labels = mnist("train")
    assert images.shape == (60000, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (60000,) and labels.dtype == np.int64
    assert images.min() == -1.0 and images.max() == 1.0
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the well-known first digits


def test_test_split_class_counts_and_unit_range():
    images, labels = mnist("test", scale="unit")
    assert images.shape == (10000, 1, 28, 28) and images.dtype == np.float32
    assert images.min() == 0.0 and images.max() == 1.0
    assert np.bincount(labels).tolist() == TEST_CLASS_COUNTS


@pytest.mark.parametrize("scale, background", [("tanh", -1.0), ("unit", 0.0)])
def test_pad_to_32_centres_the_image_on_the_background(scale, background):
    images, _ = mnist("test", scale=scale)
    padded, _ = mnist("test", scale=scale, pad_to=32)
    assert padded.shape == (10000, 1, 32, 32) and padded.dtype == np.float32
    np.testing.assert_array_equal(padded[:, :, 2:30, 2:30], images)
    border = np.ones((32, 32), dtype=bool)
    border[2:30, 2:30] = False
    assert np.all(padded[:, :, border] == background)


def test_scales_are_the_same_pixels():
    tanh, _ = mnist("test", scale="tanh")
    unit, _ = mnist("test", scale="unit")
    np.testing.assert_allclose(tanh, 2 * unit - 1, atol=1e-6)


def test_repeated_calls_reuse_the_decoded_file_and_return_fresh_arrays():
    path = MNIST_DIR / "t10k-labels-idx1-ubyte.gz"
    assert read_idx(path) is read_idx(path)  # cached, not decoded again
    first, _ = mnist("test")
    first[:] = 0  # the caller's own copy: changing it changes nothing for the next call
    second, _ = mnist("test")
    assert second.min() == -1.0


def test_readme_lists_the_checksums_the_code_checks():
    readme = (MNIST_DIR / "README.md").read_text()
    assert all(f"| {name} |" in readme and digest in readme for name, digest in MNIST_SHA256.items())


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="split='val'"):
        mnist("val")
    with pytest.raises(ValueError, match="scale='sigmoid'"):
        mnist("test", scale="sigmoid")
    with pytest.raises(ValueError, match="pad_to=20"):
        mnist("test", pad_to=20)


# --- damaged copies ----------------------------------------------------------------------------

def test_corrupted_content_fails_its_checksum_naming_the_file(tmp_path):
    copy_test_split(tmp_path)
    target = tmp_path / "t10k-images-idx3-ubyte.gz"
    content = bytearray(gzip.decompress(target.read_bytes()))
    content[16 + 28 * 14 + 14] ^= 0xFF  # one pixel of the first image; header and size unchanged
    target.write_bytes(gzip.compress(bytes(content), compresslevel=1))

    with pytest.raises(ChecksumError, match=r"t10k-images-idx3-ubyte\.gz") as error:
        mnist("test", data_dir=tmp_path, checksums=MNIST_SHA256)
    assert error.value.expected == MNIST_SHA256["t10k-images-idx3-ubyte"]
    assert error.value.actual != error.value.expected and str(error.value.actual) in str(error.value)
    # Without known checksums (a data_dir may be Fashion-MNIST) the well-formed file loads.
    images, _ = mnist("test", data_dir=tmp_path)
    assert images.shape == (10000, 1, 28, 28)


def test_truncated_gzip_is_named(tmp_path):
    copy_test_split(tmp_path)
    target = tmp_path / "t10k-labels-idx1-ubyte.gz"
    target.write_bytes(target.read_bytes()[:2000])
    with pytest.raises(IDXError, match=r"t10k-labels-idx1-ubyte\.gz.*truncated"):
        mnist("test", data_dir=tmp_path)


def test_truncated_uncompressed_file_gives_expected_and_actual_size(tmp_path):
    copy_test_split(tmp_path, compress=False)
    target = tmp_path / "t10k-labels-idx1-ubyte"
    target.write_bytes(target.read_bytes()[:5008])
    expected = r"t10k-labels-idx1-ubyte: 5,008 bytes, expected 10,008.*truncated"
    with pytest.raises(IDXError, match=expected):
        mnist("test", data_dir=tmp_path)


def test_missing_file_is_named(tmp_path):
    copy_test_split(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(MissingDataError, match="t10k-labels-idx1-ubyte") as error:
        mnist("test", data_dir=tmp_path)
    assert isinstance(error.value, FileNotFoundError)


def test_labels_file_in_place_of_images_is_a_header_error(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros(3))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(3))
    with pytest.raises(IDXError, match=r"0x00000801.*expected 0x00000803"):
        mnist("test", data_dir=tmp_path)


def test_not_an_idx_file(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"<html>not found</html>")
    with pytest.raises(IDXError, match="magic number 0x3c68746d"):
        read_idx(tmp_path / "t10k-images-idx3-ubyte")


# --- other IDX folders -------------------------------------------------------------------------

def test_uncompressed_data_dir_loads_the_same_arrays(tmp_path):
    copy_test_split(tmp_path, compress=False)
    images, labels = mnist("test", data_dir=tmp_path, checksums=MNIST_SHA256)
    bundled_images, bundled_labels = mnist("test")
    np.testing.assert_array_equal(images, bundled_images)
    np.testing.assert_array_equal(labels, bundled_labels)


def test_any_idx_data_set_with_the_standard_names_loads(tmp_path):
    pixels = np.arange(5 * 4 * 4).reshape(5, 4, 4) % 256
    write_idx(tmp_path / "train-images-idx3-ubyte", pixels)
    write_idx(tmp_path / "train-labels-idx1-ubyte", [3, 1, 4, 1, 5])
    images, labels = mnist(data_dir=tmp_path, scale="unit", pad_to=7)
    assert images.shape == (5, 1, 7, 7) and labels.tolist() == [3, 1, 4, 1, 5]
    # A margin of 3 splits as 1 row/column before and 2 after.
    np.testing.assert_allclose(images[:, 0, 1:5, 1:5], pixels / 255, rtol=1e-6)
    assert images[:, 0, [0, 5, 6]].max() == 0 and images[:, 0, :, [0, 5, 6]].max() == 0


def test_label_count_must_match_image_count(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((5, 4, 4)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", [0, 1, 2])
    with pytest.raises(IDXError, match="3 labels, expected 5"):
        mnist(data_dir=tmp_path)


# --- toy mixtures ------------------------------------------------------------------------------

def nearest_mode(points, modes):
    return np.argmin(((points[:, None] - modes[None]) ** 2).sum(-1), axis=1)


def test_ring8_modes_are_eight_distinct_points_on_the_circle():
    modes = ring8_modes(radius=2.0)
    assert modes.shape == (8, 2) and modes.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(modes, axis=1), 2.0, rtol=1e-6)
    gaps = np.linalg.norm(modes[:, None] - modes[None], axis=-1)[~np.eye(8, dtype=bool)]
    assert gaps.min() > 1.5  # 45 degrees apart: 2 * 2 * sin(pi / 8) = 1.53; none coincide
    np.testing.assert_allclose(modes[2], [0.0, 2.0], atol=1e-6)


def test_grid25_modes_are_the_grid():
    modes = grid25_modes()
    assert modes.shape == (25, 2) and modes.dtype == np.float32
    grid = {(x, y) for x in range(-4, 5, 2) for y in range(-4, 5, 2)}
    assert {tuple(m) for m in modes.tolist()} == grid


@pytest.mark.parametrize("sample, modes, std", [
    (lambda rng: ring8(40000, std=0.02, rng=rng), ring8_modes(), 0.02),
    (lambda rng: grid25(40000, std=0.05, rng=rng), grid25_modes(), 0.05),
])
def test_mixture_samples_spread_evenly_around_their_modes(sample, modes, std):
    points = sample(np.random.default_rng(0))
    assert points.shape == (40000, 2) and points.dtype == np.float32
    which = nearest_mode(points, modes)
    counts = np.bincount(which, minlength=len(modes))
    np.testing.assert_allclose(counts, 40000 / len(modes), rtol=0.1)  # every mode, equally often
    offsets = points - modes[which]
    np.testing.assert_allclose(offsets.mean(0), 0.0, atol=0.05 * std)
    np.testing.assert_allclose(offsets.std(0), std, rtol=0.05)


def test_toy_data_follows_minigan_seed_or_the_given_rng():
    mg.manual_seed(3)
    a = ring8(10)
    mg.manual_seed(3)
    np.testing.assert_array_equal(ring8(10), a)
    np.testing.assert_array_equal(grid25(10, rng=np.random.default_rng(1)),
                                  grid25(10, rng=np.random.default_rng(1)))


@pytest.mark.parametrize("name", sorted(MIXTURES))
def test_nearest_mode_is_the_mode_that_drew_each_point(name):
    mixture = MIXTURES[name]
    points = mixture.sample(20000, rng=np.random.default_rng(0))
    drew = np.random.default_rng(0).integers(len(mixture.modes()), size=20000)  # the sampler's first draw
    labels = mixture.nearest_mode(points)
    assert labels.shape == (20000,) and np.issubdtype(labels.dtype, np.integer)
    np.testing.assert_array_equal(labels, drew)
    np.testing.assert_array_equal(mixture.nearest_mode(mixture.modes() * 1.2), np.arange(len(mixture.modes())))
    with pytest.raises(ValueError, match=r"nearest_mode: expected points of shape \(N, 2\), got \(5,\)"):
        mixture.nearest_mode(np.zeros(5))


# --- DataLoader --------------------------------------------------------------------------------

def rows_of_one_pass(loader):
    """The rows one pass over a DataLoader of ``arange(n)`` yields, in order."""
    return np.concatenate([batch.numpy() for (batch,) in loader]).tolist()


def test_loader_batches_shapes_dtypes_and_drop_last():
    x = np.random.default_rng(0).standard_normal((100, 1, 4, 4))  # float64 in, float32 out
    y = np.arange(100, dtype=np.int32)                               # int32 in, int64 out
    loader = DataLoader(x, y, batch_size=32, seed=0)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    for xb, yb in batches:
        assert isinstance(xb, mg.Tensor) and xb.shape == (32, 1, 4, 4) and xb.dtype == np.float32
        assert yb.shape == (32,) and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()].astype(np.float32))  # rows stay paired

    keep_last = DataLoader(x, y, batch_size=32, drop_last=False, seed=0)
    sizes = [len(yb) for _, yb in keep_last]
    assert len(keep_last) == 4 and sizes == [32, 32, 32, 4]


def test_loader_is_a_function_of_seed_and_epoch():
    rows = np.arange(50)
    loader = DataLoader(rows, batch_size=10, seed=7)
    epochs = [rows_of_one_pass(loader) for _ in range(3)]
    assert all(sorted(epoch) == list(range(50)) for epoch in epochs)  # each row once per epoch
    assert epochs[0] != epochs[1] != epochs[2]                         # reshuffled every epoch
    assert rows_of_one_pass(DataLoader(rows, batch_size=10, seed=7)) == epochs[0]
    assert rows_of_one_pass(DataLoader(rows, batch_size=10, seed=8)) != epochs[0]

    resumed = DataLoader(rows, batch_size=10, seed=7)
    resumed.epoch = 2  # a run resumed at epoch 2 sees the batches of the uninterrupted run's epoch 2
    assert rows_of_one_pass(resumed) == epochs[2]


def test_loader_without_shuffle_keeps_order_and_without_seed_follows_manual_seed():
    rows = np.arange(10)
    batches = [batch.tolist() for (batch,) in DataLoader(rows, batch_size=4, shuffle=False)]
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7]]
    mg.manual_seed(5)
    first = rows_of_one_pass(DataLoader(rows, batch_size=5))
    mg.manual_seed(5)
    assert rows_of_one_pass(DataLoader(rows, batch_size=5)) == first


def test_loader_rejects_mismatched_arrays():
    with pytest.raises(ValueError, match=r"\[10, 9\] rows"):
        DataLoader(np.zeros(10), np.zeros(9))
