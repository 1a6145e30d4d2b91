"""Tests for ode_course.optim.optimizer and the six optimizers through it: trajectories
against torch.optim in float64 (with and without a schedule), behaviour, and every input check."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ode_course.optim import (
    OPTIMIZERS,
    SGD,
    Adagrad,
    Adam,
    CosineAnnealing,
    ExponentialDecay,
    Momentum,
    Nesterov,
    Optimizer,
    RMSprop,
    Schedule,
    StepDecay,
)

RTOL = 1e-10
STEPS = 100
SHAPES = [(3,), (2, 4), (2, 3, 2), ()]


def make_problem(seed: int = 0):
    """Initial parameters and a gradient oracle grad(k, params): the gradient of a diagonal
    quadratic at the current parameters plus the k-th of a fixed sequence of random kicks."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s) for s in SHAPES]
    curvature = [rng.uniform(0.5, 2.0, size=s) for s in SHAPES]
    target = [rng.normal(size=s) for s in SHAPES]
    kicks = [[rng.normal(scale=0.3, size=s) for s in SHAPES] for _ in range(STEPS)]

    def grad(k: int, ps: list[np.ndarray]) -> list[np.ndarray]:
        return [
            np.asarray(c * (p - t) + n)
            for c, p, t, n in zip(curvature, ps, target, kicks[k], strict=True)
        ]

    return params, grad


def run_ours(opt: Optimizer, params, grad, lrs=None) -> list[list[np.ndarray]]:
    ps = [p.copy() for p in params]
    trajectory = []
    for k in range(STEPS):
        if lrs is not None:
            opt.lr = lrs(k)
        opt.step(ps, grad(k, ps))
        trajectory.append([p.copy() for p in ps])
    return trajectory


def run_torch(make_opt, params, grad, make_scheduler=None) -> list[list[np.ndarray]]:
    ts = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    opt = make_opt(ts)
    scheduler = make_scheduler(opt) if make_scheduler is not None else None
    trajectory = []
    for k in range(STEPS):
        for t, g in zip(ts, grad(k, [t.detach().numpy() for t in ts]), strict=True):
            t.grad = torch.as_tensor(g)
        opt.step()
        if scheduler is not None:
            scheduler.step()
        trajectory.append([t.detach().numpy().copy() for t in ts])
    return trajectory


def assert_same_trajectory(ours, theirs) -> None:
    for k, (a_step, b_step) in enumerate(zip(ours, theirs, strict=True)):
        for i, (a, b) in enumerate(zip(a_step, b_step, strict=True)):
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=0, err_msg=f"step {k}, param {i}")


# (our name, our kwargs, torch class, torch kwargs); torch's own defaults are used where we pass
# nothing, so the first case of each optimizer also checks that our defaults equal torch's.
CASES = [
    ("sgd", {"lr": 0.1}, torch.optim.SGD, {"lr": 0.1}),
    ("sgd", {"lr": 0.05, "weight_decay": 0.1}, torch.optim.SGD, {"lr": 0.05, "weight_decay": 0.1}),
    ("momentum", {"lr": 0.05, "momentum": 0.9}, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    (
        "momentum",
        {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.1},
        torch.optim.SGD,
        {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.1},
    ),
    (
        "nesterov",
        {"lr": 0.05, "momentum": 0.9},
        torch.optim.SGD,
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    ),
    (
        "nesterov",
        {"lr": 0.02, "momentum": 0.6, "weight_decay": 0.1},
        torch.optim.SGD,
        {"lr": 0.02, "momentum": 0.6, "nesterov": True, "weight_decay": 0.1},
    ),
    ("adagrad", {"lr": 0.1}, torch.optim.Adagrad, {"lr": 0.1}),
    (
        "adagrad",
        {"lr": 0.5, "eps": 1e-6, "weight_decay": 0.05},
        torch.optim.Adagrad,
        {"lr": 0.5, "eps": 1e-6, "weight_decay": 0.05},
    ),
    ("rmsprop", {"lr": 0.01}, torch.optim.RMSprop, {"lr": 0.01}),
    (
        "rmsprop",
        {"lr": 0.003, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.05},
        torch.optim.RMSprop,
        {"lr": 0.003, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.05},
    ),
    ("adam", {"lr": 0.01}, torch.optim.Adam, {"lr": 0.01}),
    (
        "adam",
        {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05},
        torch.optim.Adam,
        {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05},
    ),
]


def case_id(case) -> str:
    name, kwargs, *_ = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_trajectory_matches_torch(case):
    name, kwargs, torch_cls, torch_kwargs = case
    params, grad = make_problem()
    ours = run_ours(OPTIMIZERS[name](**kwargs), params, grad)
    theirs = run_torch(lambda ts: torch_cls(ts, **torch_kwargs), params, grad)
    assert_same_trajectory(ours, theirs)


@pytest.mark.parametrize("case", CASES[::2], ids=case_id)
def test_trajectory_with_a_schedule_matches_torch(case):
    """opt.lr = schedule(k) before each step equals a torch scheduler stepped after each step;
    the cosine reaches lr = 0 at step 40 and rises again, so every optimizer sees lr change."""
    name, kwargs, torch_cls, torch_kwargs = case
    params, grad = make_problem(seed=1)
    schedule = CosineAnnealing(lr0=kwargs["lr"], t_max=40)
    ours = run_ours(OPTIMIZERS[name](**kwargs), params, grad, lrs=schedule)
    theirs = run_torch(
        lambda ts: torch_cls(ts, **torch_kwargs),
        params,
        grad,
        make_scheduler=lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=40),
    )
    assert_same_trajectory(ours, theirs)


# ------------------------------------------------------------------ behaviour
@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("sgd", {"lr": 0.15}),
        ("momentum", {"lr": 0.02, "momentum": 0.9}),
        ("nesterov", {"lr": 0.02, "momentum": 0.9}),
        ("adagrad", {"lr": 0.5}),
        ("rmsprop", {"lr": 0.01}),
        ("adam", {"lr": 0.05}),
    ],
)
def test_minimises_an_ill_conditioned_quadratic(name, kwargs):
    """L(θ) = ½ Σ hᵢ (θᵢ − 1)² with condition number 10 falls by a factor 10⁴ or more."""
    h = np.array([1.0, 10.0])
    theta = np.array([-2.0, 3.0])
    loss0 = 0.5 * np.sum(h * (theta - 1) ** 2)
    opt = OPTIMIZERS[name](**kwargs)
    for _ in range(500):
        opt.step([theta], [h * (theta - 1)])
    assert 0.5 * np.sum(h * (theta - 1) ** 2) < 1e-4 * loss0


def test_state_is_created_lazily_per_parameter():
    opt = Adam(lr=0.1)
    assert opt.state == [] and opt.t == 0
    params = [np.ones(3), np.ones((2, 2))]
    opt.step(params, [np.ones(3), np.ones((2, 2))])
    opt.step(params, [np.ones(3), np.ones((2, 2))])
    assert opt.t == 2
    assert [sorted(s) for s in opt.state] == [["m", "v"], ["m", "v"]]
    assert [s["m"].shape for s in opt.state] == [(3,), (2, 2)]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_updates_in_place_and_leaves_grads_alone(name):
    theta = np.array([1.0, -2.0], dtype=np.float32)
    g = np.array([0.5, 0.25])
    same_object = theta
    OPTIMIZERS[name](lr=0.1, weight_decay=0.1).step([theta], [g])
    assert theta is same_object and theta.dtype == np.float32
    assert not np.array_equal(theta, [1.0, -2.0])
    np.testing.assert_array_equal(g, [0.5, 0.25])


@pytest.mark.parametrize("name", ["momentum", "nesterov"])
def test_momentum_buffer_does_not_alias_a_reused_gradient_array(name):
    """Layers often overwrite one gradient array in place every step (mlp.Linear does)."""
    params, grad = make_problem()
    fresh = run_ours(OPTIMIZERS[name](lr=0.05), params, grad)
    buffers = [np.zeros(s) for s in SHAPES]

    def grad_in_buffers(k, ps):
        for buf, g in zip(buffers, grad(k, ps), strict=True):
            buf[...] = g
        return buffers

    assert_same_trajectory(run_ours(OPTIMIZERS[name](lr=0.05), params, grad_in_buffers), fresh)


def test_registry_and_repr():
    assert OPTIMIZERS == {
        "sgd": SGD,
        "momentum": Momentum,
        "nesterov": Nesterov,
        "adagrad": Adagrad,
        "rmsprop": RMSprop,
        "adam": Adam,
    }
    assert all(issubclass(cls, Optimizer) for cls in OPTIMIZERS.values())
    assert repr(Adam(lr=0.01)) == "Adam(lr=0.01, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0)"
    assert repr(StepDecay(0.1, 5)) == "StepDecay(lr0=0.1, step_size=5, gamma=0.1)"


# ------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize(
    "make,error,match",
    [
        (lambda: SGD(lr=0.0), ValueError, r"lr must be positive; got lr=0"),
        (lambda: Adam(lr=-1e-3), ValueError, r"lr must be positive"),
        (lambda: SGD(lr=math.nan), ValueError, r"lr must be finite"),
        (lambda: RMSprop(lr=math.inf), ValueError, r"lr must be finite"),
        (lambda: SGD(lr="0.1"), TypeError, r"lr must be a real number"),
        (lambda: SGD(lr=True), TypeError, r"lr must be a real number"),
        (lambda: SGD(lr=0.1, weight_decay=-0.1), ValueError, r"weight_decay must be >= 0"),
        (lambda: Adam(weight_decay=-1e-4), ValueError, r"weight_decay must be >= 0"),
        (lambda: Momentum(lr=0.1, momentum=1.0), ValueError, r"momentum must be in \[0, 1\)"),
        (lambda: Momentum(lr=0.1, momentum=-0.1), ValueError, r"momentum must be in \[0, 1\)"),
        (lambda: Nesterov(lr=0.1, momentum=1.5), ValueError, r"momentum must be in \[0, 1\)"),
        (lambda: Adam(betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be in \[0, 1\)"),
        (lambda: Adam(betas=(-0.1, 0.999)), ValueError, r"betas\[0\] must be in \[0, 1\)"),
        (lambda: Adam(betas=(0.9,)), ValueError, r"betas must be a pair \(β₁, β₂\); got betas="),
        (lambda: Adam(betas=0.9), ValueError, r"betas must be a pair"),
        (lambda: Adam(betas=(0.9, "0.999")), TypeError, r"betas\[1\] must be a real number"),
        (lambda: RMSprop(alpha=1.0), ValueError, r"alpha must be in \[0, 1\)"),
        (lambda: RMSprop(alpha=-0.5), ValueError, r"alpha must be in \[0, 1\)"),
        (lambda: Adagrad(eps=0.0), ValueError, r"eps must be positive"),
        (lambda: RMSprop(eps=-1e-8), ValueError, r"eps must be positive"),
        (lambda: Adam(eps=0.0), ValueError, r"eps must be positive"),
        (lambda: StepDecay(lr0=0.0, step_size=5), ValueError, r"lr0 must be positive"),
        (lambda: StepDecay(0.1, step_size=0), ValueError, r"step_size must be a positive int"),
        (lambda: StepDecay(0.1, step_size=2.5), TypeError, r"step_size must be an integer >= 1"),
        (lambda: StepDecay(0.1, 5, gamma=0.0), ValueError, r"gamma must be in \(0, 1\]"),
        (lambda: ExponentialDecay(0.1, gamma=1.5), ValueError, r"gamma must be in \(0, 1\]"),
        (lambda: CosineAnnealing(0.1, t_max=0), ValueError, r"t_max must be a positive integer"),
        (lambda: CosineAnnealing(0.1, 10, eta_min=-0.1), ValueError, r"eta_min must be in"),
        (
            lambda: CosineAnnealing(0.1, 10, eta_min=0.2),
            ValueError,
            r"eta_min must be in \[0, 0\.1\]; got eta_min=0\.2",
        ),
        (lambda: StepDecay(0.1, 5)(-1), ValueError, r"step must be an integer >= 0; got step=-1"),
        (lambda: ExponentialDecay(0.1, 0.9)(1.5), TypeError, r"step must be an integer >= 0"),
    ],
)
def test_bad_hyperparameters(make, error, match):
    with pytest.raises(error, match=match) as info:
        make()
    assert "Fix: " in str(info.value)


def test_lr_setter_validates_but_allows_zero():
    opt = SGD(lr=0.1)
    opt.lr = 0.0  # a schedule may anneal to eta_min = 0
    opt.lr = np.float64(0.05)
    assert opt.lr == 0.05 and isinstance(opt.lr, float)
    with pytest.raises(ValueError, match=r"lr must be >= 0; got lr=-0.1\. Fix: check the schedule"):
        opt.lr = -0.1
    with pytest.raises(ValueError, match=r"lr must be finite.*Fix: "):
        opt.lr = math.nan


A, B = np.ones(3), np.ones((2, 3))


@pytest.mark.parametrize(
    "params,grads,error,match",
    [
        ((A, B), [A, B], TypeError, r"params must be a list of numpy arrays; got tuple"),
        (A, [A], TypeError, r"params must be a list.*got ndarray.*opt.step\(\[theta\], \[g\]\)"),
        ([A], A, TypeError, r"grads must be a list of numpy arrays; got ndarray"),
        (
            [A, B],
            [A],
            ValueError,
            r"grads must be one gradient per parameter \(params has 2 arrays\); got 1 arrays",
        ),
        (
            [A, B],
            [A, np.ones(3)],
            ValueError,
            r"grads\[1\] must be of the shape of params\[1\], \(2, 3\); got shape \(3,\)",
        ),
        ([1.0], [1.0], TypeError, r"params\[0\] must be a numpy array; got float"),
        (
            [A, np.array([1, 2], dtype=np.int64)],
            [A, np.ones(2)],
            TypeError,
            r"params\[1\] must be a floating-point array.*got dtype int64.*astype\(float\)",
        ),
    ],
)
@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_bad_step_inputs(name, params, grads, error, match):
    opt = OPTIMIZERS[name](lr=0.1)
    with pytest.raises(error, match=match) as info:
        opt.step(params, grads)
    assert "Fix: " in str(info.value)
    np.testing.assert_array_equal(A, 1.0)  # nothing was updated before the error
    assert opt.t == 0 and opt.state == []


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_parameters_that_change_between_steps(name):
    opt = OPTIMIZERS[name](lr=0.1)
    a, b = np.ones(3), np.ones((2, 2))
    opt.step([a, b], [a, b])
    with pytest.raises(ValueError, match=r"params must be the 2 parameters.*Fix: create a new"):
        opt.step([a], [a])
    with pytest.raises(ValueError, match=r"shapes \[\(3,\), \(2, 2\)\].*got 2 with shapes"):
        opt.step([a, np.ones(4)], [a, np.ones(4)])
    assert opt.t == 1


def test_the_base_classes_say_what_a_subclass_must_define():
    class Half(Optimizer):
        pass

    with pytest.raises(NotImplementedError, match=r"Half\._update.*must be defined.*Fix: "):
        Half(lr=0.1).step([np.ones(2)], [np.ones(2)])

    class Flat(Schedule):
        pass

    with pytest.raises(NotImplementedError, match=r"Flat\._lr.*must be defined.*Fix: "):
        Flat(lr0=0.1)(0)
