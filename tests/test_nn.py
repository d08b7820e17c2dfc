"""minigan.nn: the Module machinery, every layer (against its functional form and against PyTorch),
default initialisation, ConvTranspose2d's padding='same', and minigan.nn.init."""
import copy
import math
from collections import OrderedDict

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.nn import functional as F
from minigan.nn import init
from minigan.nn.conv import transposed_same_padding


class Net(nn.Module):
    """Parameters, a buffer and children, assigned in a known order."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(mg.ones(1))
        self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4))
        self.register_buffer("steps", mg.zeros(1))
        self.head = nn.Linear(4, 2, bias=False)

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


def rand(*shape, dtype=np.float32):
    return mg.tensor(np.random.default_rng(sum(shape)).standard_normal(shape).astype(dtype))


# --- Module machinery ------------------------------------------------------------------------

def test_parameters_children_and_modules_come_in_definition_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias", "head.weight"]
    assert [p.shape for p in net.parameters()] == [(1,), (4, 3), (4,), (4,), (4,), (2, 4)]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert [n for n, _ in net.named_children()] == ["body", "head"]
    assert list(net.children()) == [net.body, net.head]
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Sequential", "Linear", "ReLU", "BatchNorm1d", "Linear"]
    assert [n for n, _ in net.named_modules()] == ["", "body", "body.0", "body.1", "body.2", "head"]
    assert [n for n, _ in net.named_buffers()] == [
        "steps", "body.2.running_mean", "body.2.running_var", "body.2.num_batches_tracked"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert net.head.bias is None


def test_a_shared_module_or_parameter_is_listed_once():
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.Tanh(), shared)
    assert len(list(net.parameters())) == 2 and len(list(net.children())) == 2
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as torch


def test_attribute_assignment_registers_replaces_and_deletes():
    net = Net()
    net.head = nn.Linear(4, 5)
    assert [n for n, _ in net.named_children()] == ["body", "head"] and net.head.out_features == 5
    net.scale = None  # a parameter slot may hold None (as bias=False)
    assert "scale" not in dict(net.named_parameters())
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'scale'"):
        net.scale = mg.ones(1)
    net.extra = nn.Parameter(mg.zeros(2))
    assert next(iter(dict(net.named_parameters()))) == "extra"  # own parameters come before the children's
    del net.extra
    assert "extra" not in dict(net.named_parameters())
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = net.missing


def test_assigning_a_parameter_before_init_says_what_to_do():
    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.ones(1))

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first in Forgetful"):
        Forgetful()


def test_train_and_eval_reach_every_submodule():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.body.train(False)
    assert net.training and not any(m.training for m in net.body.modules())


def test_zero_grad_sets_gradients_to_none_or_zero():
    net = Net()
    net(rand(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_and_apply():
    net = Net()
    assert net.requires_grad_(False) is net and not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "BatchNorm1d", "Sequential", "Linear", "Net"]  # children first


def test_state_dict_round_trip_includes_buffers():
    mg.manual_seed(0)
    a, b = Net(), Net()
    a(rand(6, 3))  # training: updates the BatchNorm buffers
    state = a.state_dict()
    assert list(state) == ["scale", "steps", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias",
                           "body.2.running_mean", "body.2.running_var", "body.2.num_batches_tracked", "head.weight"]
    assert state["body.2.num_batches_tracked"].dtype == np.int64 and state["body.2.num_batches_tracked"].item() == 1
    assert all(not t.requires_grad for t in state.values())  # detached
    params_before = list(b.parameters())
    result = b.load_state_dict({k: v.numpy().copy() for k, v in state.items()})  # plain arrays, as from .npz
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert all(p is q for p, q in zip(b.parameters(), params_before))  # loaded in place
    for key, value in b.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[key].numpy())
        assert value.dtype == state[key].dtype
    x = rand(4, 3)
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_load_state_dict_keeps_the_module_dtype():
    lin = nn.Linear(2, 2)
    lin.load_state_dict({"weight": np.ones((2, 2)), "bias": [1.0, 2.0]})  # float64 and a list
    assert lin.weight.dtype == np.float32 and lin.bias.tolist() == [1.0, 2.0]


def test_load_state_dict_errors_name_the_keys_and_shapes():
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    state = {k: v.numpy() for k, v in net.state_dict().items()}
    missing = dict(state)
    del missing["1.running_var"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "1.running_var"'):
        net.load_state_dict(missing)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "2.weight"'):
        net.load_state_dict({**state, "2.weight": np.zeros(1)})
    wrong = {**state, "0.weight": np.zeros((2, 4))}
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.weight: copying a param with shape \(2, 4\) "
                                           r"from checkpoint, the shape in current model is \(2, 3\)"):
        net.load_state_dict(wrong)
    result = net.load_state_dict(missing, strict=False)
    assert result.missing_keys == ["1.running_var"] and result.unexpected_keys == []
    with pytest.raises(RuntimeError, match="size mismatch"):  # even when not strict
        net.load_state_dict(wrong, strict=False)


def test_to_casts_floating_tensors_in_place_and_keeps_integer_buffers():
    bn = nn.BatchNorm1d(3)
    weight = bn.weight
    assert bn.to(mg.float64) is bn and bn.weight is weight
    assert bn.weight.dtype == np.float64 and bn.running_var.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64
    assert bn.to("cpu").weight.device == "cpu"
    assert bn.float().weight.dtype == np.float32 and bn.double().running_mean.dtype == np.float64
    with pytest.raises(ValueError, match="unknown device"):
        bn.to("tpu")


REPR = """Sequential(
  (0): Linear(in_features=100, out_features=256, bias=False)
  (1): BatchNorm1d(256, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
  (2): LeakyReLU(negative_slope=0.2, inplace=True)
  (3): Unflatten(dim=1, unflattened_size=(16, 4, 4))
  (4): Sequential(
    (0): ConvTranspose2d(16, 8, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))
    (1): ReLU()
  )
  (5): Conv2d(8, 1, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
  (6): Tanh()
  (7): Flatten(start_dim=1, end_dim=-1)
  (8): Dropout(p=0.3, inplace=False)
  (9): LayerNorm((64,), eps=1e-05, elementwise_affine=True, bias=True)
  (10): Sigmoid()
)"""


def _repr_net(nn):
    return nn.Sequential(
        nn.Linear(100, 256, bias=False), nn.BatchNorm1d(256), nn.LeakyReLU(0.2, inplace=True),
        nn.Unflatten(1, (16, 4, 4)), nn.Sequential(nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.ReLU()),
        nn.Conv2d(8, 1, 3, padding=1, bias=False), nn.Tanh(), nn.Flatten(), nn.Dropout(0.3), nn.LayerNorm(64),
        nn.Sigmoid())


def test_pooling_layers_repr_as_pytorchs():
    torch = pytest.importorskip("torch")
    for make in (lambda m: m.MaxPool2d(2), lambda m: m.MaxPool2d(3, 1, 1, ceil_mode=True),
                 lambda m: m.AvgPool2d(3, 2, 1)):
        assert repr(make(nn)) == repr(make(torch.nn))


def test_repr_is_pytorchs():
    assert repr(_repr_net(nn)) == REPR
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"
    torch = pytest.importorskip("torch")
    assert repr(_repr_net(torch.nn)) == REPR
    assert repr(nn.Parameter(mg.ones(2))) == repr(torch.nn.Parameter(torch.ones(2)))


def test_sequential_indexing_length_iteration_and_append():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    net = nn.Sequential(*layers)
    assert len(net) == 3 and list(net) == layers and net[0] is layers[0] and net[-1] is layers[2]
    tail = net[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == layers[1:]
    assert [n for n, _ in tail.named_children()] == ["1", "2"]  # names kept, as torch
    with pytest.raises(IndexError, match="index 3 is out of range for 3 modules"):
        net[3]
    x = rand(4, 2)
    np.testing.assert_allclose(net(x).numpy(), layers[2](layers[1](layers[0](x))).numpy())
    assert net.append(nn.Sigmoid()) is net and len(net) == 4
    named = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.Tanh()))
    assert [n for n, _ in named.named_children()] == ["fc", "act"] and named.fc is named[0]
    with pytest.raises(TypeError, match=r"function is not a minigan\.nn\.Module"):
        nn.Sequential(nn.Linear(2, 2), mg.tanh)


def test_deepcopy_gives_an_independent_module():  # as for a generator's moving average
    net = Net()
    twin = copy.deepcopy(net)
    assert all(p is not q for p, q in zip(net.parameters(), twin.parameters()))
    x = rand(5, 3)
    np.testing.assert_array_equal(twin(x).numpy(), net(x).numpy())
    init.zeros_(twin.head.weight)
    assert net.head.weight.numpy().any()


def test_a_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(1)


# --- layers against their functional forms --------------------------------------------------

def test_linear():
    lin = nn.Linear(5, 3)
    x = rand(2, 4, 5)
    y = lin(x)
    assert y.shape == (2, 4, 3) and y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), x.numpy() @ lin.weight.numpy().T + lin.bias.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(y.numpy(), F.linear(x, lin.weight, lin.bias).numpy())


def test_conv_layers_call_the_functional_forms():
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
    x = rand(2, 3, 9, 9)
    y = conv(x)
    assert y.shape == (2, 4, 5, 5)
    np.testing.assert_array_equal(y.numpy(), F.conv2d(x, conv.weight, conv.bias, 2, 1).numpy())
    assert nn.Conv2d(3, 4, (3, 5), padding="same")(x).shape == (2, 4, 9, 9)
    assert nn.Conv2d(3, 4, 3, padding="valid")(x).shape == (2, 4, 7, 7)
    up = nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1, bias=False)
    assert up.weight.shape == (3, 2, 4, 4)
    y = up(x)
    assert y.shape == (2, 2, 18, 18)
    np.testing.assert_array_equal(y.numpy(), F.conv_transpose2d(x, up.weight, None, 2, 1).numpy())


def test_normalisation_layers():
    bn = nn.BatchNorm2d(3)
    x = rand(4, 3, 5, 5)
    y = bn(x).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * x.numpy().mean(axis=(0, 2, 3)), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * x.numpy().var(axis=(0, 2, 3), ddof=1), rtol=1e-5)
    bn.eval()
    expected = F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False)
    np.testing.assert_array_equal(bn(x).numpy(), expected.numpy())
    assert bn.num_batches_tracked.item() == 1  # not counted in evaluation
    ln = nn.LayerNorm([5, 5])
    np.testing.assert_array_equal(ln(x).numpy(), F.layer_norm(x, (5, 5), ln.weight, ln.bias).numpy())
    assert nn.LayerNorm(5, elementwise_affine=False).weight is None and nn.LayerNorm(5, bias=False).bias is None


def test_batchnorm_without_running_stats_and_with_cumulative_average():
    bn = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(bn.state_dict()) == [] and bn.running_mean is None
    x = rand(8, 3)
    y = bn.eval()(x).numpy()  # no running stats: batch statistics even in evaluation
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-5)
    bn = nn.BatchNorm1d(3, momentum=None)
    xs = [rand(8 + i, 3) for i in range(3)]
    for xi in xs:
        bn(xi)
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([xi.numpy().mean(axis=0) for xi in xs], axis=0),
                               rtol=1e-5)
    assert bn.num_batches_tracked.item() == 3
    assert nn.BatchNorm1d(4)(rand(2, 4, 7)).shape == (2, 4, 7)


def test_dropout_follows_training_mode_and_the_seed():
    drop = nn.Dropout(0.5)
    x = mg.ones(1000)
    mg.manual_seed(3)
    y = drop(x).numpy()
    assert set(np.unique(y)) == {0.0, 2.0} and 400 < (y == 0).sum() < 600
    mg.manual_seed(3)
    np.testing.assert_array_equal(drop(x).numpy(), y)
    np.testing.assert_array_equal(drop.eval()(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_activations_flatten_unflatten_embedding():
    x = rand(2, 3, 4)
    for layer, fn in [(nn.ReLU(), F.relu), (nn.Tanh(), F.tanh), (nn.Sigmoid(), F.sigmoid),
                      (nn.LeakyReLU(), lambda t: F.leaky_relu(t, 0.01)),
                      (nn.LeakyReLU(0.2), lambda t: F.leaky_relu(t, 0.2))]:
        np.testing.assert_array_equal(layer(x).numpy(), fn(x).numpy())
    assert nn.Flatten()(x).shape == (2, 12) and nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Unflatten(1, (3, 2, 2))(nn.Flatten()(x)).shape == (2, 3, 2, 2)
    assert nn.Unflatten(-1, (2, -1))(x).shape == (2, 3, 2, 2)
    with pytest.raises(ValueError, match=r"Unflatten\(dim=1, unflattened_size=\(5, 2\)\): cannot split dim 1 of "
                                         r"an input of shape \(2, 3, 4\)"):
        nn.Unflatten(1, (5, 2))(x)
    emb = nn.Embedding(10, 3, padding_idx=-1)
    assert emb.padding_idx == 9 and not emb.weight.numpy()[9].any()
    idx = mg.tensor([[1, 9], [1, 0]])
    out = emb(idx)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy(), emb.weight.numpy()[idx.numpy()])
    out.sum().backward()
    grad = emb.weight.grad.numpy()
    assert (grad[1] == 2).all() and (grad[0] == 1).all() and not grad[9].any()  # padding gets no gradient


def test_bad_inputs_name_the_layer_and_both_shapes_or_dtypes():
    with pytest.raises(ValueError, match=r"Linear\(in_features=784, out_features=128, bias=True\): expected "
                                         r"input of shape \(\*, 784\), got \(32, 100\)"):
        nn.Linear(784, 128)(mg.zeros(32, 100))
    with pytest.raises(TypeError, match=r"Linear\(.*\): expected input of dtype float32 .*got float64"):
        nn.Linear(2, 2)(mg.zeros(3, 2, dtype=mg.float64))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8, .*\): expected input of shape \(N, 3, H, W\), "
                                         r"got \(2, 1, 8, 8\)"):
        nn.Conv2d(3, 8, 3)(mg.zeros(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(.*\): expected input of shape \(N, 4, H, W\), "
                                         r"got \(4, 4\)"):
        nn.ConvTranspose2d(4, 2, 3)(mg.zeros(4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(8, .*\): expected input of shape \(N, 8, H, W\), got \(2, 8\)"):
        nn.BatchNorm2d(8)(mg.zeros(2, 8))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(8, .*\): expected input of shape \(N, 8\) or \(N, 8, L\)"):
        nn.BatchNorm1d(8)(mg.zeros(2, 4))
    with pytest.raises(ValueError, match=r"LayerNorm\(\(4, 5\), .*\): expected input of shape \(\*, 4, 5\), "
                                         r"got \(2, 5, 4\)"):
        nn.LayerNorm((4, 5))(mg.zeros(2, 5, 4))
    with pytest.raises(TypeError, match=r"Embedding\(5, 2\): expected a tensor of integer indices, got dtype float32"):
        nn.Embedding(5, 2)(mg.zeros(3))
    with pytest.raises(IndexError, match=r"Embedding\(5, 2\): .*\[0, 5\)"):
        nn.Embedding(5, 2)(mg.tensor([7]))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 3, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Conv2d: out_channels = 3 does not split into groups=2"):
        nn.Conv2d(4, 3, 3, groups=2)


# --- default initialisation ------------------------------------------------------------------

@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Linear(400, 300), 400),
    (lambda: nn.Conv2d(16, 32, 5), 16 * 25),
    (lambda: nn.ConvTranspose2d(32, 16, 5), 16 * 25),  # weight (C_in, C_out, k, k): torch's fan_in is dim 1
])
def test_default_init_is_uniform_within_one_over_sqrt_fan_in(make, fan_in):
    layer = make()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)): gain sqrt(2/6), bound gain*sqrt(3/fan_in)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.dtype == np.float32 and layer.weight.grad_fn is None
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound
    assert abs(w.mean()) < 0.02 * bound
    assert np.abs(b).max() <= bound and b.std() > 0.3 * bound


def test_default_init_of_norm_layers_and_embedding():
    bn = nn.BatchNorm2d(5)
    assert bn.weight.tolist() == [1.0] * 5 and bn.bias.tolist() == [0.0] * 5
    assert bn.running_var.tolist() == [1.0] * 5 and bn.running_mean.tolist() == [0.0] * 5
    w = nn.Embedding(1000, 50).weight.numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02


def test_init_is_seeded_and_layers_take_dtype():
    mg.manual_seed(11)
    a = nn.Linear(3, 3, dtype=mg.float64)
    mg.manual_seed(11)
    b = nn.Linear(3, 3, dtype=mg.float64)
    assert a.weight.dtype == np.float64
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())


# --- against PyTorch -------------------------------------------------------------------------

def _twins(torch, make):
    """The same layer in both libraries, float64, with torch's weights copied into minigan's."""
    ours, theirs = make(nn).double(), make(torch.nn).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


TORCH_CASES = {
    "linear": (lambda m: m.Linear(6, 4), (5, 6)),
    "linear_3d": (lambda m: m.Linear(6, 4, bias=False), (2, 3, 6)),
    "conv": (lambda m: m.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 7)),
    "conv_dilated": (lambda m: m.Conv2d(3, 2, (3, 2), dilation=2, padding=(2, 1), bias=False), (2, 3, 8, 8)),
    "conv_same_even": (lambda m: m.Conv2d(2, 3, 4, padding="same"), (2, 2, 6, 6)),
    "conv_reflect": (lambda m: m.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 2, 6, 6)),
    "conv_transpose": (lambda m: m.ConvTranspose2d(3, 2, 4, stride=2, padding=1), (2, 3, 4, 4)),
    "conv_transpose_op": (lambda m: m.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), (2, 3, 4, 5)),
    "batchnorm1d": (lambda m: m.BatchNorm1d(4), (6, 4)),
    "batchnorm1d_3d": (lambda m: m.BatchNorm1d(4, momentum=None), (3, 4, 5)),
    "batchnorm2d": (lambda m: m.BatchNorm2d(3, momentum=0.3), (4, 3, 3, 3)),
    "layernorm": (lambda m: m.LayerNorm((3, 4)), (2, 5, 3, 4)),
    "leaky_relu": (lambda m: m.Sequential(m.LeakyReLU(0.2), m.Linear(3, 3)), (4, 3)),
    "max_pool": (lambda m: m.Sequential(m.Conv2d(2, 3, 3), m.MaxPool2d(2)), (2, 2, 7, 7)),
    "max_pool_strided": (lambda m: m.Sequential(m.Conv2d(2, 3, 3),
                                                m.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)),
                         (2, 2, 8, 8)),
    "avg_pool": (lambda m: m.Sequential(m.Conv2d(2, 3, 3),
                                        m.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)),
                 (2, 2, 8, 8)),
}


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_layers_match_pytorch_outputs_gradients_and_running_stats(case):
    torch = pytest.importorskip("torch")
    make, shape = TORCH_CASES[case]
    ours, theirs = _twins(torch, make)
    x = np.random.default_rng(0).standard_normal(shape)
    for step in range(2):  # twice, so the running statistics are updated twice
        xt = torch.tensor(x + step, requires_grad=True)
        xm = mg.tensor(x + step, requires_grad=True)
        yt, ym = theirs(xt), ours(xm)
        np.testing.assert_allclose(ym.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = np.random.default_rng(step).standard_normal(yt.shape)
        yt.backward(torch.tensor(g))
        ym.backward(mg.tensor(g))
        np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-11)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
    for name, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name].numpy(), value.numpy(), rtol=1e-12, err_msg=name)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def test_embedding_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = _twins(torch, lambda m: m.Embedding(7, 3, padding_idx=2))
    idx = np.array([[0, 2, 6], [2, 2, 1]])
    yt, ym = theirs(torch.tensor(idx)), ours(mg.tensor(idx))
    np.testing.assert_array_equal(ym.numpy(), yt.detach().numpy())
    g = np.random.default_rng(0).standard_normal(yt.shape)
    yt.backward(torch.tensor(g))
    ym.backward(mg.tensor(g))
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)


def test_default_init_matches_pytorchs_bounds():
    torch = pytest.importorskip("torch")
    for make in (lambda m: m.Linear(50, 20), lambda m: m.Conv2d(6, 10, 3), lambda m: m.ConvTranspose2d(10, 6, 4)):
        ours, theirs = make(nn), make(torch.nn)
        for name, p in theirs.named_parameters():
            mine = dict(ours.named_parameters())[name].numpy()
            bound = 1 / math.sqrt(init._calculate_fan_in_and_fan_out(ours.weight)[0])
            assert np.abs(p.detach().numpy()).max() <= bound and np.abs(mine).max() <= bound
            if name == "weight":  # enough numbers for the spreads to agree
                assert abs(mine.std() - p.detach().numpy().std()) < 0.1 * bound


# --- ConvTranspose2d padding='same' ----------------------------------------------------------

KS = [(k, s) for k in range(1, 6) for s in range(1, 4)]


@pytest.mark.parametrize("k, s", KS)
def test_transposed_same_gives_keras_sizes_or_a_clear_error(k, s):
    if s == 1 and k % 2 == 0:  # the one case PyTorch's symmetric padding cannot express
        with pytest.raises(ValueError, match=f"kernel_size {k}, stride 1 .* use an odd kernel_size or stride > 1"):
            nn.ConvTranspose2d(2, 3, k, stride=s, padding="same")
        return
    layer = nn.ConvTranspose2d(2, 3, k, stride=s, padding="same")
    for size in (1, 4, 7):
        assert layer(mg.zeros(1, 2, size, size + 1)).shape == (1, 3, size * s, (size + 1) * s)  # Keras: in * stride


def test_transposed_same_mixed_kernel_and_stride_per_dim():
    layer = nn.ConvTranspose2d(2, 3, (5, 4), stride=(2, 3), padding="same")
    assert layer.padding == (2, 1) and layer.output_padding == (1, 1)
    assert layer(mg.zeros(1, 2, 7, 5)).shape == (1, 3, 14, 15)
    with pytest.raises(ValueError, match="sets output_padding itself"):
        nn.ConvTranspose2d(2, 3, 5, stride=2, padding="same", output_padding=1)


@pytest.mark.parametrize("k, s", [(k, s) for k, s in KS if not (s == 1 and k % 2 == 0)])
def test_transposed_same_equals_pytorch_with_the_mapped_padding(k, s):
    torch = pytest.importorskip("torch")
    p, op = transposed_same_padding(k, s)
    assert p >= 0 and 0 <= op < s
    ours = nn.ConvTranspose2d(2, 3, k, stride=s, padding="same").double()
    theirs = torch.nn.ConvTranspose2d(2, 3, k, stride=s, padding=p, output_padding=op).double()
    ours.load_state_dict({n: v.detach().numpy() for n, v in theirs.state_dict().items()})
    x = np.random.default_rng(k * 10 + s).standard_normal((2, 2, 5, 3))
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("k, s", [(k, s) for k, s in KS if not (s == 1 and k % 2 == 0)])
def test_transposed_same_against_tensorflows_alignment(k, s):
    """TensorFlow's 'same' is the full transposed convolution cropped by floor((k - s)/2) at the start;
    PyTorch's padding crops ceil((k - s)/2): the same when k - s is even, else shifted by one pixel."""
    w = np.random.default_rng(k).standard_normal((1, 1, k, k))
    x = np.random.default_rng(s).standard_normal((1, 1, 4, 4))
    full = F.conv_transpose2d(mg.tensor(x), mg.tensor(w), stride=s).numpy()[0, 0]  # (3s + k) squared
    full = np.pad(full, (0, max(s - k, 0)))  # k < s: TensorFlow's output extends past the last window
    start = max(k - s, 0) // 2
    tensorflow = full[start:start + 4 * s, start:start + 4 * s]
    layer = nn.ConvTranspose2d(1, 1, k, stride=s, padding="same", bias=False, dtype=mg.float64)
    layer.weight.data[...] = w
    ours = layer(mg.tensor(x)).numpy()[0, 0]
    shift = max(k - s, 0) % 2
    np.testing.assert_allclose(ours[:4 * s - shift, :4 * s - shift], tensorflow[shift:, shift:], atol=1e-12)


def test_transposed_same_with_dilation():
    for k, s, d in [(2, 1, 3), (3, 2, 2), (3, 1, 2)]:
        layer = nn.ConvTranspose2d(1, 1, k, stride=s, dilation=d, padding="same")
        assert layer(mg.zeros(1, 1, 5, 5)).shape == (1, 1, 5 * s, 5 * s)


# --- minigan.nn.init -------------------------------------------------------------------------

def test_fans_and_gains_are_pytorchs():
    torch = pytest.importorskip("torch")
    for shape in [(3, 4), (8, 3, 5, 5), (3, 8, 4, 2), (2, 3, 4)]:
        assert init._calculate_fan_in_and_fan_out(mg.zeros(shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    for name, param in [("linear", None), ("conv_transpose2d", None), ("sigmoid", None), ("tanh", None),
                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)),
                        ("selu", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(mg.zeros(5))
    with pytest.raises(ValueError, match="Unsupported nonlinearity swish"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(mg.zeros(3, 3), mode="fan_avg")


def test_initialisers_fill_in_place_with_the_right_statistics():
    t = mg.zeros(400, 500)
    data = t.data
    for fn, kwargs, std in [
        (init.normal_, dict(mean=0.0, std=0.5), 0.5),
        (init.uniform_, dict(a=-1.0, b=1.0), 1 / math.sqrt(3)),
        (init.xavier_uniform_, dict(gain=2.0), 2.0 * math.sqrt(2 / 900)),
        (init.xavier_normal_, {}, math.sqrt(2 / 900)),
        (init.kaiming_uniform_, dict(a=0.2), math.sqrt(2 / 1.04) / math.sqrt(500)),
        (init.kaiming_normal_, dict(mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 400)),
    ]:
        assert fn(t, **kwargs) is t and t.data is data and t.dtype == np.float32
        assert abs(t.numpy().std() / std - 1) < 0.01, fn.__name__
    bound = math.sqrt(3) * math.sqrt(2 / 1.04) / math.sqrt(500)
    init.kaiming_uniform_(t, a=0.2)
    assert np.abs(t.numpy()).max() <= bound
    assert init.constant_(t, 0.3).numpy().min() == np.float32(0.3) == t.numpy().max()
    assert not init.zeros_(t).numpy().any() and (init.ones_(t).numpy() == 1).all()
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    a = init.normal_(mg.zeros(3), generator=g1).numpy().copy()
    np.testing.assert_array_equal(a, init.normal_(mg.zeros(3), generator=g2).numpy())


def test_init_records_no_graph():
    lin = nn.Linear(3, 3)
    init.xavier_normal_(lin.weight)
    assert lin.weight.grad_fn is None and lin.weight.requires_grad and lin.weight.is_leaf


def test_review_fixes_module_to_int_is_refused_and_numpy_int_kernel_sizes_work():
    with pytest.raises(TypeError, match="floating-point"):
        mg.nn.Linear(2, 2).to(np.int64)
    assert mg.nn.Conv2d(1, 2, np.int64(3)).kernel_size == (3, 3)
