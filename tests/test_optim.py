"""minigan.optim: each optimizer against a hand computation and step for step against PyTorch's,
float32 staying float32, parameter groups, zero_grad, and state_dict round trips."""
import json
import math

import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim


def gradient(theta):
    """A nonlinear gradient field, so every step depends on the whole trajectory before it."""
    return theta ** 3 - 0.5 * theta + 0.1


def start_values(dtype=np.float64):
    rng = np.random.default_rng(0)
    return [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(5).astype(dtype)]


CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05, betas=(0.5, 0.999), weight_decay=0.1)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.3)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.005, alpha=0.9, eps=1e-6, centered=True, momentum=0.5, weight_decay=0.01)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CONFIGS]


def step_ours(opt, params, step):
    for i, p in enumerate(params):
        # the second parameter gets no gradient at step 2: optimizers must skip it, as torch's do
        p.grad = None if (i == 1 and step == 2) else mg.tensor(gradient(p.numpy()))
    opt.step()


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_step_for_step_against_pytorch(name, kwargs):
    torch = pytest.importorskip("torch")
    ours = [nn.Parameter(mg.tensor(v)) for v in start_values()]
    theirs = [torch.nn.Parameter(torch.tensor(v)) for v in start_values()]
    opt = getattr(optim, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    for step in range(8):
        step_ours(opt, ours, step)
        for i, p in enumerate(theirs):
            p.grad = None if (i == 1 and step == 2) else torch.tensor(gradient(p.detach().numpy()))
        topt.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-6, err_msg=f"step {step}")
    for p, q in zip(ours, theirs):  # the trajectories agree far beyond the required 1e-6
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-13)


def test_param_groups_with_their_own_hyperparameters_against_pytorch():
    torch = pytest.importorskip("torch")
    a, b = (nn.Parameter(mg.tensor(v)) for v in start_values())
    ta, tb = (torch.nn.Parameter(torch.tensor(v)) for v in start_values())
    opt = optim.SGD([{"params": [a], "lr": 0.01, "nesterov": True}, {"params": b}], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([{"params": [ta], "lr": 0.01, "nesterov": True}, {"params": tb}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[1]["lr"] == 0.1
    for _ in range(5):
        for p in (a, b):
            p.grad = mg.tensor(gradient(p.numpy()))
        for p in (ta, tb):
            p.grad = torch.tensor(gradient(p.detach().numpy()))
        opt.step()
        topt.step()
    for p, q in ((a, ta), (b, tb)):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-12)


# --- one step by hand ------------------------------------------------------------------------

def one_param(values, dtype=mg.float64):
    return nn.Parameter(mg.tensor(values, dtype=dtype))


def test_sgd_by_hand():
    p = one_param([1.0, -2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    for _ in range(2):
        p.grad = mg.tensor([0.5, 0.5], dtype=mg.float64)
        opt.step()
        if _ == 0:  # g = 0.5 + 0.1 theta = (0.6, 0.3); b = g; theta -= 0.1 b
            np.testing.assert_allclose(p.numpy(), [0.94, -2.03])
    # g = (0.594, 0.297); b = 0.9 (0.6, 0.3) + g = (1.134, 0.567); theta -= 0.1 b
    np.testing.assert_allclose(p.numpy(), [0.8266, -2.0867])
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [1.134, 0.567])


def test_adam_and_adamw_first_step_by_hand():
    # step 1: m = (1 - b1) g and v = (1 - b2) g^2, so the corrected ratio is g / (|g| + eps)
    g = np.array([0.5, -4.0])
    p = one_param([1.0, -2.0])
    p.grad = mg.tensor(g)
    optim.Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.numpy(), np.array([1.0, -2.0]) - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-14)
    p = one_param([1.0, -2.0])
    p.grad = mg.tensor(g)
    optim.AdamW([p], lr=0.1, weight_decay=0.5).step()  # decay first: theta (1 - 0.1 * 0.5)
    np.testing.assert_allclose(p.numpy(), np.array([0.95, -1.9]) - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-14)
    p = one_param([1.0, -2.0])
    p.grad = mg.tensor(g)
    optim.Adam([p], lr=0.1, weight_decay=0.5).step()  # L2: g + 0.5 theta = (1, -5)
    np.testing.assert_allclose(p.numpy(), np.array([1.0, -2.0]) - 0.1 * np.sign([1, -5]) / (1 + 1e-8), rtol=1e-7)


@pytest.mark.parametrize("layout", ["C", "F"])
def test_adam_in_blocks_is_the_plain_formula(layout):
    """A weight of several BLOCKs is updated block by block (`optim.optimizer.blocks`), in C or in
    Fortran order, with a transposed gradient: the formula must hold element for element."""
    from minigan.optim.optimizer import BLOCK, blocks

    theta = np.random.default_rng(1).standard_normal((BLOCK // 100 * 3 + 7, 100))
    p = nn.Parameter(mg.tensor(theta))
    p.data = np.asarray(p.data, order=layout)
    assert p.data.flags.c_contiguous == (layout == "C")
    assert len(blocks(p.data)) == 4
    opt = optim.Adam([p], lr=0.01, betas=(0.5, 0.99))
    expected, m, v = theta.copy(), np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, 4):
        g = gradient(expected)
        p.grad = mg.tensor(np.ascontiguousarray(g.T))
        p.grad.data = p.grad.data.T  # a view, as the weight gradient of x @ W.mT is
        opt.step()
        m, v = 0.5 * m + 0.5 * g, 0.99 * v + 0.01 * g * g
        expected -= 0.01 / (1 - 0.5 ** t) * m / (np.sqrt(v / (1 - 0.99 ** t)) + 1e-8)
        np.testing.assert_allclose(p.numpy(), expected, rtol=1e-12, atol=1e-12, err_msg=f"step {t}")


@pytest.mark.parametrize("shape", [(), (0, 3), (7,)])
def test_adam_on_scalar_empty_and_vector_parameters(shape):
    theta = np.full(shape, 0.5)
    p = nn.Parameter(mg.tensor(theta))
    p.grad = mg.tensor(np.full(shape, 2.0))
    optim.Adam([p], lr=0.1).step()  # step 1: the corrected m / sqrt(v) is g / |g| = 1
    assert p.shape == shape
    np.testing.assert_allclose(p.numpy(), theta - 0.1 / (1 + 1e-8 / 2), rtol=1e-14)


def test_sgd_momentum_with_weight_decay_on_a_scalar_parameter():
    """NumPy makes the decayed gradient of a 0-d parameter a scalar; the momentum buffer must still update in place."""
    p = nn.Parameter(mg.tensor(0.3, dtype=mg.float64))
    opt = optim.SGD([p], lr=0.05, momentum=0.9, weight_decay=0.1)
    theta, buf = 0.3, None
    for _ in range(4):
        p.grad = mg.tensor(gradient(p.numpy()))
        opt.step()
        g = gradient(theta) + 0.1 * theta
        buf = g if buf is None else 0.9 * buf + g
        theta -= 0.05 * buf
    assert p.item() == pytest.approx(theta, rel=1e-14)


def test_rmsprop_first_step_by_hand():
    g = np.array([0.5, -4.0])
    p = one_param([1.0, -2.0])
    p.grad = mg.tensor(g)
    opt = optim.RMSprop([p], lr=0.01)
    opt.step()  # v = 0.01 g^2, so theta -= 0.01 g / (0.1 |g| + eps)
    np.testing.assert_allclose(p.numpy(), np.array([1.0, -2.0]) - 0.01 * g / (0.1 * np.abs(g) + 1e-8), rtol=1e-14)
    assert opt.state[p]["step"] == 1
    p = one_param([1.0, -2.0])
    p.grad = mg.tensor(g)
    optim.RMSprop([p], lr=0.01, centered=True).step()  # v - gbar^2 = 0.01 g^2 - 0.0001 g^2
    np.testing.assert_allclose(p.numpy(), np.array([1.0, -2.0]) - 0.01 * g / (math.sqrt(0.0099) * np.abs(g) + 1e-8),
                               rtol=1e-14)


# --- dtypes, groups, zero_grad, closures, errors ----------------------------------------------

@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_float32_parameters_and_state_stay_float32(name, kwargs):
    params = [nn.Parameter(mg.tensor(v)) for v in start_values(np.float32)]
    opt = getattr(optim, name)(params, **kwargs)
    for step in range(3):
        step_ours(opt, params, step)
    assert all(p.dtype == np.float32 for p in params)
    assert all(v.dtype == np.float32 for s in opt.state.values() for v in s.values() if hasattr(v, "dtype"))


def test_zero_grad_closure_and_changing_lr():
    p = one_param([1.0, 2.0])
    opt = optim.SGD([p], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 5.0
    np.testing.assert_allclose(p.numpy(), [0.0, 0.0])  # theta - 0.5 * 2 theta
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
    opt.step()  # no gradient: nothing moves
    p.grad = mg.tensor([1.0, 1.0], dtype=mg.float64)
    opt.param_groups[0]["lr"] = 0.25  # how learning-rate schedules work
    opt.step()
    np.testing.assert_allclose(p.numpy(), [-0.25, -0.25])


def test_constructor_errors():
    p = one_param([1.0])
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="but got a Tensor"):
        optim.Adam(p)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([{"params": [p]}, {"params": [p]}])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2])
    with pytest.raises(ValueError, match="Invalid lr value: -1"):
        optim.RMSprop([p], lr=-1)
    with pytest.raises(ValueError, match=r"Invalid beta parameter at index 1: 1\.0"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        optim.SGD([p], lr=0.1, nesterov=True)


def test_defaults_are_pytorchs():
    p = one_param([1.0])
    assert optim.SGD([p]).defaults == dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)
    assert optim.Adam([p]).defaults == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                                            decoupled_weight_decay=False)
    assert optim.AdamW([p]).defaults["weight_decay"] == 1e-2
    assert optim.RMSprop([p]).defaults == dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                                               centered=False)


def test_training_a_small_model_lowers_the_loss():
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((64, 3)).astype(np.float32))
    y = mg.tensor((x.numpy() @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)) + 0.3)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 * losses[0]


# --- state_dict -------------------------------------------------------------------------------

def as_if_saved(state):
    """What a checkpoint without pickle gives back: string keys, 0-d arrays, lists for tuples."""
    json.dumps({"param_groups": state["param_groups"],
                "steps": {k: v["step"] for k, v in state["state"].items() if "step" in v}})  # JSON-able
    return {
        "state": {str(k): {n: np.asarray(v) for n, v in s.items()} for k, s in state["state"].items()},
        "param_groups": json.loads(json.dumps(state["param_groups"])),
    }


@pytest.mark.parametrize("name, kwargs", [CONFIGS[i] for i in (3, 5, 7, 11)], ids=[IDS[i] for i in (3, 5, 7, 11)])
def test_state_dict_round_trip_continues_identically(name, kwargs):
    # a 0-d parameter too: its moving averages are 0-d arrays, which must stay arrays, unlike the step count
    params = [nn.Parameter(mg.tensor(v)) for v in [*start_values(), np.array(0.3)]]
    opt = getattr(optim, name)(params, **kwargs)
    for step in range(3):
        step_ours(opt, params, step)
    state = opt.state_dict()
    assert sorted(state) == ["param_groups", "state"] and state["param_groups"][0]["params"] == [0, 1, 2]
    assert set(state["state"]) == {0, 1, 2}
    frozen = {k: {n: np.copy(v) for n, v in s.items()} for k, s in state["state"].items()}

    copies = [nn.Parameter(mg.tensor(p.numpy().copy())) for p in params]
    restored = getattr(optim, name)(copies, lr=123.0)  # hyperparameters come from the state_dict
    restored.load_state_dict(as_if_saved(state))
    assert restored.param_groups[0]["lr"] == kwargs.get("lr", opt.defaults["lr"])
    for step in range(3, 8):
        step_ours(opt, params, step)
        step_ours(restored, copies, step)
        for p, q in zip(params, copies):
            np.testing.assert_array_equal(p.numpy(), q.numpy())
    for k, s in frozen.items():  # the saved state is a copy, not a view of the live one
        for n, v in s.items():
            np.testing.assert_array_equal(state["state"][k][n], v)
    assert repr(restored) == repr(opt)


def test_load_state_dict_errors():
    a, b = (nn.Parameter(mg.tensor(v)) for v in start_values())
    opt = optim.Adam([a, b])
    for step in range(2):
        step_ours(opt, [a, b], step)
    state = opt.state_dict()
    with pytest.raises(ValueError, match="has 1 parameter groups, this optimizer has 2"):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(state)
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters, this optimizer's has 1"):
        optim.Adam([a]).load_state_dict(state)
    with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 0 has shape \(3, 4\), but the parameter "
                                         r"has shape \(5,\)"):
        optim.Adam([b, a]).load_state_dict(state)


def test_state_dict_survives_a_json_round_trip_with_arrays_as_lists():
    w = mg.tensor(np.arange(3.0), requires_grad=True)
    opt = mg.optim.Adam([w], lr=0.1)
    w.grad = mg.ones(3, dtype=mg.float64)
    opt.step()
    text = json.dumps(opt.state_dict(), default=lambda a: a.tolist())
    w2 = mg.tensor(w.numpy(), requires_grad=True)
    opt2 = mg.optim.Adam([w2], lr=0.1)
    opt2.load_state_dict(json.loads(text))
    for p, o in ((w, opt), (w2, opt2)):
        p.grad = mg.ones(3, dtype=mg.float64)
        o.step()
    np.testing.assert_array_equal(w.numpy(), w2.numpy())


@pytest.mark.parametrize("kwargs", [dict(start_factor=1.0, end_factor=0.0, total_iters=10), dict(),
                                    dict(start_factor=0.5, end_factor=0.1, total_iters=3)])
def test_linear_lr_against_pytorch(kwargs):
    torch = pytest.importorskip("torch")
    ours = optim.Adam([mg.tensor([1.0], requires_grad=True)], lr=0.01)
    theirs = torch.optim.Adam([torch.nn.Parameter(torch.tensor([1.0]))], lr=0.01)
    ours_schedule, their_schedule = optim.lr_scheduler.LinearLR(ours, **kwargs), \
        torch.optim.lr_scheduler.LinearLR(theirs, **kwargs)
    for _ in range(13):
        assert ours_schedule.get_last_lr() == pytest.approx(their_schedule.get_last_lr(), rel=1e-12, abs=1e-15)
        theirs.step()
        ours_schedule.step(), their_schedule.step()


def test_linear_lr_by_hand_and_resumed_from_its_state():
    param = mg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([param], lr=0.1)
    schedule = optim.lr_scheduler.LinearLR(opt, 1.0, 0.0, total_iters=4)
    seen = []
    for _ in range(6):
        seen.append(opt.param_groups[0]["lr"])
        schedule.step()
    assert seen == pytest.approx([0.1, 0.075, 0.05, 0.025, 0.0, 0.0])
    state = json.loads(json.dumps(schedule.state_dict()))
    fresh_opt = optim.SGD([param], lr=0.1)
    fresh = optim.lr_scheduler.LinearLR(fresh_opt, 1.0, 0.0, total_iters=4)
    assert fresh_opt.param_groups[0]["lr"] == 0.1
    state["last_epoch"] = 2
    fresh.load_state_dict(state)
    assert fresh_opt.param_groups[0]["lr"] == pytest.approx(0.05)
    with pytest.raises(ValueError, match="LinearLR: total_iters=0"):
        optim.lr_scheduler.LinearLR(opt, total_iters=0)
    with pytest.raises(ValueError, match="start_factor=0"):
        optim.lr_scheduler.LinearLR(opt, start_factor=0)


def test_ema_averages_parameters_and_copies_buffers():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    start = [p.numpy().copy() for p in model.parameters()]
    ema = optim.EMA(model, decay=0.9)
    assert all(not p.requires_grad for p in ema.module.parameters())
    expected = [s.copy() for s in start]
    rng = np.random.default_rng(0)
    # Three updates warm up with beta_t = (1 + t) / (10 + t); then, long after, beta = decay.
    for t, beta in [(1, 2 / 11), (2, 3 / 12), (3, 4 / 13), (10**6, 0.9)]:
        ema.num_updates = t - 1
        for p in model.parameters():
            p.data[...] = p.data + rng.standard_normal(p.shape).astype(np.float32)
        model(mg.tensor(rng.standard_normal((8, 3)).astype(np.float32)))  # moves BatchNorm's running stats
        ema.update(model)
        expected = [beta * e + (1 - beta) * p.numpy() for e, p in zip(expected, model.parameters())]
    for e, average, p, s in zip(expected, ema.module.parameters(), model.parameters(), start):
        np.testing.assert_allclose(average.numpy(), e, rtol=1e-5, atol=1e-6)
        assert not np.allclose(average.numpy(), p.numpy()) and not np.allclose(average.numpy(), s)
    for mine, theirs in zip(ema.module.buffers(), model.buffers()):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    with pytest.raises(ValueError, match="EMA: decay=1"):
        optim.EMA(model, decay=1.0)
