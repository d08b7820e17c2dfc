"""Tensors: creation with PyTorch's names and dtype rules, properties, indexing, devices."""
import numpy as np
import pytest

import minigan as mg


def test_creation_functions_and_default_dtypes():
    assert mg.tensor([1.0, 2.0]).dtype == np.float32
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor(np.zeros(2)).dtype == np.float64  # an array keeps its dtype, as torch.tensor
    assert mg.tensor([1.0], dtype=mg.float64).dtype == np.float64
    assert mg.zeros(2, 3).shape == (2, 3) and mg.zeros((2, 3)).dtype == np.float32
    assert mg.ones(4).tolist() == [1.0] * 4
    assert mg.full((2,), 7.0).tolist() == [7.0, 7.0] and mg.full((2,), 7.0).dtype == np.float32
    assert mg.arange(3).tolist() == [0, 1, 2] and mg.arange(3).dtype == np.int64
    assert mg.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert mg.randn(2, 3).shape == (2, 3) and mg.rand(5).numpy().min() >= 0
    t = mg.randn(2, 3, dtype=mg.float64)
    assert mg.zeros_like(t).dtype == np.float64 and mg.ones_like(t).shape == (2, 3)
    assert mg.randn_like(t).shape == (2, 3) and mg.full_like(t, 2.0).numpy().sum() == 12


def test_randint_as_torch():
    mg.manual_seed(0)
    a = mg.randint(10, (1000,))
    assert a.dtype == np.int64 and a.shape == (1000,) and set(a.tolist()) == set(range(10))
    b = mg.randint(3, 5, (2, 500))
    assert b.shape == (2, 500) and set(b.numpy().ravel().tolist()) == {3, 4}
    mg.manual_seed(0)
    assert np.array_equal(mg.randint(10, (1000,)).numpy(), a.numpy())
    assert mg.randint(10, size=(4,)).shape == (4,) and mg.randint(high=3, size=5).shape == (5,)
    with pytest.raises(ValueError, match="randint: expected"):
        mg.randint(5, 5, (2,))


def test_tensor_copies_its_data():
    a = np.zeros(2)
    t = mg.tensor(a)
    a[0] = 5
    assert t.tolist() == [0.0, 0.0]


def test_manual_seed_makes_random_tensors_repeatable():
    mg.manual_seed(7)
    a = mg.randn(3).numpy()
    state = mg.get_rng_state()
    b = mg.rand(2).numpy()
    mg.manual_seed(7)
    assert np.array_equal(a, mg.randn(3).numpy())
    mg.set_rng_state(state)
    assert np.array_equal(b, mg.rand(2).numpy())


def test_properties():
    x = mg.randn(2, 3, requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size() == (2, 3) and x.size(1) == 3
    assert x.numel() == 6 and len(x) == 2 and x.device == "cpu" and x.is_leaf
    assert mg.tensor([2.5]).item() == 2.5
    assert isinstance(x.numpy(), np.ndarray)
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2)
    assert x.double().dtype == np.float64 and x.double().float().dtype == np.float32


def test_repr_looks_like_pytorch():
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(mg.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert "grad_fn=<MulBackward>" in repr(mg.tensor([1.0], requires_grad=True) * 2)
    assert "dtype=float64" in repr(mg.tensor(np.zeros(1)))


def test_comparisons_give_bool_tensors_outside_the_graph():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for mask in (x > 1.5, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert mask.dtype == np.bool_ and not mask.requires_grad
    assert (x > 1.5).tolist() == [False, True, True]
    assert {x: 1}[x] == 1  # tensors stay hashable by identity


def test_a_scalar_of_a_higher_kind_promotes_as_in_pytorch():
    """bool < integer < float: a bool tensor + 1 counts (int64) instead of staying bool."""
    flags = mg.tensor([True, False])
    assert (flags + 1).dtype == np.int64 and (flags + 1).tolist() == [2, 1]
    assert (flags == 2).tolist() == [False, False]
    assert (flags * 0.5).dtype == np.float32 and (mg.arange(2, dtype=mg.int32) + 1).dtype == np.int32
    assert (mg.ones(2, dtype=mg.float16) * np.float64(0.5)).dtype == np.float16


def test_numpy_array_on_the_left_defers_to_the_tensor():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([2.0, 3.0], dtype=np.float32) * x
    assert isinstance(y, mg.Tensor) and y.requires_grad


def test_indexing_basic_and_integer_arrays():
    x = mg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    assert x[1].tolist() == [4.0, 5.0, 6.0, 7.0]
    assert x[:, 1:3].shape == (3, 2) and x[..., None].shape == (3, 4, 1)
    assert x[mg.tensor([0, 0, 2])].shape == (3, 4)
    x[[0, 0, 2], 1].sum().backward()
    assert x.grad.numpy()[:, 1].tolist() == [2.0, 0.0, 1.0]


def test_shape_errors_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        mg.randn(2, 3) @ mg.randn(4, 5)
    with pytest.raises(ValueError, match=r"reshape: cannot view a tensor of shape \(2, 3\) as \(4,\)"):
        mg.randn(2, 3).reshape(4)
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 4\)"):
        mg.cat([mg.randn(3, 3), mg.randn(2, 4)])
    with pytest.raises(IndexError, match="dim 3 is out of range"):
        mg.randn(2, 3).sum(3)


def test_cuda_without_a_gpu_is_a_clear_error(monkeypatch):
    if mg.cuda.is_available():
        pytest.skip("a GPU is present: this test is about machines without one")
    assert mg.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        mg.ones(2).to("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        mg.ones(2).to("tpu")
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="not available"):
        mg.zeros(2)


def test_minigan_device_variable_sets_the_default(monkeypatch):
    monkeypatch.setenv("MINIGAN_DEVICE", "cpu")
    assert mg.zeros(2).device == "cpu"


def test_import_pulls_in_neither_matplotlib_nor_cupy():
    import subprocess
    import sys

    code = "import sys, minigan; print(any(m.split('.')[0] in ('matplotlib', 'cupy') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_numpy_reads_a_tensor_in_one_step():
    t = mg.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    a = np.asarray(t)
    assert a.shape == (2, 3) and a.dtype == np.float32 and np.shares_memory(a, t.data)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    copied = np.array(t)
    copied[0, 0] = 99
    assert t.data[0, 0] == 0
    assert type(np.ones(3) * mg.tensor([1.0, 2.0, 3.0])) is mg.Tensor  # arithmetic still defers to Tensor
    assert np.shares_memory(np.array(t, copy=False), t.data)
    with pytest.raises(ValueError, match="copy=False"):
        np.array(t, dtype=np.float64, copy=False)
