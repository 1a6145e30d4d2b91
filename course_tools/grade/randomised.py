"""The grader's randomised comparisons: the learner's function on inputs the notebook never shows.

Each function takes the exercise's answers (a dict of the names in ``grade.answer``) and a
``numpy.random.Generator`` seeded by the grader, draws shapes, sizes and values, calls the
learner's function through ``ode_course.checks.harness.call`` and compares the result with
a reference computed on the same inputs (the package's implementation, torch autograd, or a
measurement), within a tolerance. A mismatch raises
:class:`~ode_course.checks.harness.CheckFailed` saying on which input; a match returns a short
summary. The chapter's own check runs first, so these only see answers that pass it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ode_course.checks.harness import CheckFailed, array_result, call, close, number_result

__all__: list[str] = []

F64 = torch.float64
Answers = dict[str, Any]


def _torch_gen(rng: np.random.Generator) -> torch.Generator:
    return torch.Generator().manual_seed(int(rng.integers(2**31)))


def softplus(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 1: values and gradients of ``softplus`` at random points, some far out."""
    from ode_course.autodiff import Value

    fn = answers["softplus"]
    xs = np.concatenate([rng.normal(0, 4, 6), rng.uniform(40, 700, 2) * rng.choice([-1, 1], 2)])
    for x0 in (float(x) for x in xs):
        x = Value(x0)
        y = call(fn, f"softplus(Value({x0:.6g}))", x)
        if not isinstance(y, Value):
            raise CheckFailed(
                f"softplus(Value({x0:.6g})) returned {type(y).__name__}, not a Value."
            )
        t = torch.tensor(x0, dtype=F64, requires_grad=True)
        want = nn.functional.softplus(t, threshold=50)
        want.backward()
        if not close(y.data, want.item(), 1e-9):
            raise CheckFailed(f"softplus({x0:.6g}) = {y.data:.10g}, expected {want.item():.10g}.")
        y.backward()
        assert t.grad is not None
        if not close(x.grad, t.grad.item(), 1e-9):
            raise CheckFailed(
                f"d softplus/dx at x = {x0:.6g} is {x.grad:.10g}, expected {t.grad.item():.10g}."
            )
    return f"{len(xs)} random points"


def sigmoid_backward(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 2: ∂L/∂z of a sigmoid layer on a random batch, against torch autograd."""
    fn = answers["sigmoid_backward"]
    shape = (int(rng.integers(2, 10)), int(rng.integers(1, 8)))
    z = torch.tensor(rng.normal(0, 3, shape), dtype=F64, requires_grad=True)
    g = torch.tensor(rng.normal(size=shape), dtype=F64)
    a = torch.sigmoid(z)
    a.backward(g)
    assert z.grad is not None
    got = array_result(
        call(fn, "sigmoid_backward", a.detach().numpy().copy(), g.numpy().copy()),
        shape,
        "sigmoid_backward",
    )
    if not np.allclose(got, z.grad.numpy(), rtol=1e-9, atol=1e-12):
        raise CheckFailed(f"sigmoid_backward is wrong on a random batch of shape {shape}.")
    return f"a random batch of shape {shape}"


def softmax_ce_grad(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 2: the gradient of the mean cross-entropy on random logits, rows far apart."""
    fn = answers["softmax_ce_grad"]
    n, k = int(rng.integers(3, 12)), int(rng.integers(2, 9))
    z = rng.normal(0, 1, (n, k)) * rng.uniform(1, 20, (n, 1)) + rng.uniform(-600, 600, (n, 1))
    y = rng.integers(0, k, n)
    zt = torch.tensor(z, dtype=F64, requires_grad=True)
    nn.functional.cross_entropy(zt, torch.tensor(y)).backward()
    assert zt.grad is not None
    with np.errstate(all="ignore"):
        got = array_result(call(fn, "softmax_ce_grad", z.copy(), y.copy()), (n, k), "grad_fn")
    if not np.allclose(got, zt.grad.numpy(), rtol=1e-8, atol=1e-12):
        raise CheckFailed(
            f"softmax_ce_grad is wrong on a random batch of {n} rows and {k} classes whose rows "
            "have very different scales."
        )
    return f"{n} random rows of {k} logits"


def momentum_step(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 3: 25 steps on a random quadratic, against the package's Momentum."""
    from ode_course.optim import Momentum

    fn = answers["momentum_step"]
    d = int(rng.integers(2, 7))
    curv = rng.uniform(0.5, 20, d)
    lr, mu = float(rng.uniform(0.005, 0.05)), float(rng.uniform(0.5, 0.95))
    start = rng.normal(size=d)
    ref, theta, velocity = start.copy(), start.copy(), np.zeros(d)
    opt = Momentum(lr=lr, momentum=mu)
    for k in range(25):
        g = curv * theta
        out = call(fn, "momentum_step", theta.copy(), g.copy(), velocity.copy(), lr, mu)
        if not isinstance(out, tuple) or len(out) != 2:
            raise CheckFailed("momentum_step must return a pair (new_theta, new_velocity).")
        opt.step([ref], [curv * ref])
        theta = array_result(out[0], (d,), "new_theta")
        velocity = array_result(out[1], (d,), "new_velocity")
        if not np.allclose(theta, ref, rtol=1e-9, atol=1e-12):
            raise CheckFailed(
                f"at step {k + 1} on a random quadratic (lr = {lr:.4g}, mu = {mu:.3g}) theta "
                "differs from the package's Momentum."
            )
    return f"25 steps on a random {d}-dimensional quadratic"


def bias_correct(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 3: Adam's corrected moments for random β₁, β₂ and step counts."""
    fn = answers["bias_correct"]
    for t in (1, int(rng.integers(2, 30)), int(rng.integers(100, 5000))):
        b1, b2 = float(rng.uniform(0.5, 0.99)), float(rng.uniform(0.9, 0.9999))
        d = int(rng.integers(1, 6))
        m, v = rng.normal(size=d), rng.random(d)
        out = call(fn, "bias_correct", m.copy(), v.copy(), t, b1, b2)
        if not isinstance(out, tuple) or len(out) != 2:
            raise CheckFailed("bias_correct must return a pair (m_hat, v_hat).")
        m_hat, v_hat = array_result(out[0], (d,), "m_hat"), array_result(out[1], (d,), "v_hat")
        if not (np.allclose(m_hat, m / (1 - b1**t)) and np.allclose(v_hat, v / (1 - b2**t))):
            raise CheckFailed(
                f"bias_correct is wrong at t = {t}, beta1 = {b1:.4g}, beta2 = {b2:.5g}."
            )
    return "three random step counts and betas"


def max_stable_lr(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 4: the stability limit for random symmetric positive definite Hessians."""
    fn = answers["max_stable_lr"]
    for _ in range(3):
        n = int(rng.integers(2, 11))
        q, _ = np.linalg.qr(rng.normal(size=(n, n)))
        eig = rng.uniform(0.1, 100.0, n)
        hessian = q @ np.diag(eig) @ q.T
        got = number_result(call(fn, "max_stable_lr", hessian.copy()), "max_stable_lr")
        if not np.isclose(got, 2.0 / eig.max(), rtol=1e-8):
            raise CheckFailed(f"max_stable_lr is wrong for a random {n}×{n} Hessian.")
    return "three random Hessians"


def rk4_step(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 5: one step on a random nonlinear, time-dependent field, against solvers.RK4."""
    from ode_course.solvers import RK4

    fn = answers["rk4_step"]
    gen = _torch_gen(rng)
    n, d = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    a = torch.randn(d, d, generator=gen, dtype=F64)
    w = float(rng.uniform(0.5, 3))

    def field(t: Any, y: torch.Tensor) -> torch.Tensor:
        return torch.tanh(y @ a.T) * (1 + t) + torch.sin(w * torch.as_tensor(t, dtype=F64))

    y = torch.randn(n, d, generator=gen, dtype=F64)
    t, h = float(rng.uniform(-1, 1)), float(rng.uniform(0.01, 0.5))
    got = call(fn, "rk4_step", field, t, y.clone(), h)
    want = RK4(step_size=h).integrate(field, y, torch.tensor([t, t + h], dtype=F64)).ys[-1]
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise CheckFailed(f"rk4_step must return a tensor shaped like y {tuple(y.shape)}.")
    if not torch.allclose(got, want, rtol=1e-10, atol=1e-12):
        raise CheckFailed(f"rk4_step is wrong for a random field, t = {t:.3g}, h = {h:.3g}.")
    return f"a random field in {d}-D, h = {h:.3g}"


class _RandomField(nn.Module):
    """(1 + t) · W₂ tanh(W₁ z + b₁) with random sizes and weights."""

    def __init__(self, d: int, hidden: int, gen: torch.Generator) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(hidden, d, generator=gen, dtype=F64))
        self.b1 = nn.Parameter(torch.randn(hidden, generator=gen, dtype=F64))
        self.w2 = nn.Parameter(torch.randn(d, hidden, generator=gen, dtype=F64))

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return (1 + t) * torch.tanh(z @ self.w1.T + self.b1) @ self.w2.T


def augmented_dynamics(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 6: (f, −aᵀ∂f/∂z, −aᵀ∂f/∂θ) for a random field, against torch autograd."""
    fn = answers["augmented_dynamics"]
    gen = _torch_gen(rng)
    b, d, hidden = int(rng.integers(1, 5)), int(rng.integers(1, 5)), int(rng.integers(2, 7))
    func = _RandomField(d, hidden, gen)
    z, a = (torch.randn(b, d, generator=gen, dtype=F64) for _ in range(2))
    t = torch.tensor(float(rng.uniform(0, 2)), dtype=F64)
    zz = z.clone().requires_grad_()
    dz = func(t, zz)
    want = torch.autograd.grad(dz, (zz, *func.parameters()), grad_outputs=-a)
    with torch.no_grad():
        out = call(fn, "augmented_dynamics", func, t, z.clone(), a.clone())
    if not isinstance(out, tuple | list) or len(out) != 3:
        raise CheckFailed("augmented_dynamics must return three things, (dz, da, dtheta).")
    got = [out[0], out[1], *list(out[2])]
    wants = [dz.detach(), *want]
    if len(got) != len(wants) or not all(
        isinstance(g, torch.Tensor)
        and g.shape == w.shape
        and torch.allclose(g.detach(), w, rtol=1e-8, atol=1e-10)
        for g, w in zip(got, wants, strict=False)
    ):
        raise CheckFailed(
            f"augmented_dynamics is wrong for a random field (batch {b}, dim {d}, hidden {hidden})."
        )
    return f"a random field (batch {b}, dim {d}, hidden {hidden})"


def saved_bytes_per_step(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 6: the learner's prediction against the bytes measured for random sizes."""
    from ode_course.checks.adjoint import measured_saved_bytes

    fn = answers["saved_bytes_per_step"]
    for _ in range(3):
        config = (
            int(rng.integers(1, 300)),
            int(rng.integers(1, 65)),
            int(rng.integers(1, 129)),
            int(rng.integers(1, 5)),
            int(rng.choice([4, 8])),
        )
        got = number_result(call(fn, "saved_bytes_per_step", *config), "saved_bytes_per_step")
        if not close(got, measured_saved_bytes(*config), 1e-9):
            batch, dim, hidden, stages, itemsize = config
            raise CheckFailed(
                f"for batch={batch}, dim={dim}, hidden={hidden}, n_stages={stages}, "
                f"itemsize={itemsize} the prediction differs from what autograd saves."
            )
    return "three random sizes, measured"


def log_det(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 7: log|det e^{tA}| for random matrices and times, against slogdet(matrix_exp)."""
    fn = answers["log_det"]
    gen = _torch_gen(rng)
    for _ in range(3):
        d, t = int(rng.integers(2, 7)), float(rng.uniform(0.1, 3))
        a = torch.randn(d, d, generator=gen, dtype=F64)
        got = number_result(call(fn, "log_det", a.clone(), t), "log_det")
        want = torch.linalg.slogdet(torch.linalg.matrix_exp(t * a)).logabsdet.item()
        if not close(got, want, 1e-8):
            raise CheckFailed(f"log_det is wrong for a random {d}×{d} A and t = {t:.3g}.")
    return "three random matrices and times"


def hutchinson(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 7: εᵀ(∂f/∂z)ε for a random network and probe, against cnf.hutchinson_trace."""
    from ode_course.cnf import TimeMLP, hutchinson_trace

    fn = answers["hutchinson"]
    gen = _torch_gen(rng)
    n, d = int(rng.integers(2, 9)), int(rng.integers(1, 6))
    with torch.random.fork_rng():
        torch.manual_seed(int(rng.integers(2**31)))
        net = TimeMLP(d, hidden=(int(rng.integers(3, 12)),)).double()
    z = torch.randn(n, d, generator=gen, dtype=F64).requires_grad_()
    eps = torch.randn(n, d, generator=gen, dtype=F64)
    got = call(fn, "hutchinson", net(0.3, z), z, eps.clone())
    want = hutchinson_trace(net(0.3, z), z, eps)
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise CheckFailed(f"hutchinson must return a tensor of shape ({n},).")
    if not torch.allclose(got.detach(), want, rtol=1e-9, atol=1e-12):
        raise CheckFailed(f"hutchinson is wrong for a random network on {n} points in {d}-D.")
    return f"a random network on {n} points in {d}-D"


def rademacher_field(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 7: one Rademacher probe gives the exact trace at new random points."""
    from ode_course.cnf import exact_trace, hutchinson_trace, sample_probe

    fn = answers["field"]
    gen = _torch_gen(rng)
    scale = float(rng.uniform(0.5, 4))
    z = (scale * torch.randn(64, 4, generator=gen, dtype=F64)).requires_grad_()
    fz = call(fn, "field", z)
    if not isinstance(fz, torch.Tensor) or fz.shape != z.shape or not fz.requires_grad:
        raise CheckFailed("field must return a tensor of shape (N, 4) that depends on z.")
    exact = exact_trace(fz, z)
    for _ in range(3):
        estimate = hutchinson_trace(fz, z, sample_probe(z.shape, "rademacher", generator=gen))
        if not torch.allclose(estimate, exact, rtol=1e-9, atol=1e-9):
            raise CheckFailed(
                f"one Rademacher probe misses the trace at random points (scale {scale:.3g})."
            )
    return f"64 random points of scale {scale:.3g}"


def redrawn_probe(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 7: the augmented field on a random network: f, and an unbiased fresh estimate."""
    from ode_course.cnf import TimeMLP, exact_trace

    field_class = answers["RedrawnProbe"]
    n, d = 4000, int(rng.integers(1, 4))
    with torch.random.fork_rng():
        torch.manual_seed(int(rng.integers(2**31)))
        net = TimeMLP(d, hidden=(int(rng.integers(4, 17)),)).double()
        point = torch.randn(1, d, dtype=F64)
        state = torch.cat([point.expand(n, d), torch.zeros(n, 1, dtype=F64)], dim=1)
        field = call(field_class, "RedrawnProbe", net)
        with torch.no_grad():
            first = call(field, "the field", 0.7, state.clone())
            second = call(field, "the field", 0.7, state.clone())
    if not all(isinstance(x, torch.Tensor) and x.shape == (n, d + 1) for x in (first, second)):
        raise CheckFailed(f"the field must return a tensor of shape (N, D + 1) = ({n}, {d + 1}).")
    z = point.clone().requires_grad_()
    fz = net(0.7, z)
    trace = exact_trace(fz, z).item()
    ell = first[:, d]
    se = ell.std().item() / n**0.5
    if (
        not torch.allclose(first[:, :d], fz.detach().expand(n, d), rtol=1e-9, atol=1e-12)
        or torch.equal(first[:, d], second[:, d])
        or abs(ell.mean().item() + trace) > 6 * se + 1e-9
    ):
        raise CheckFailed(f"the field is wrong for a random network in {d}-D.")
    return f"a random network in {d}-D"


def gaussian_kl(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 8: KL(q ‖ p) on random shapes, against latent.gaussian_kl."""
    from ode_course.latent import gaussian_kl as reference

    fn = answers["kl_diagonal_gaussians"]
    gen = _torch_gen(rng)
    shape = (int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(1, 7)))
    args = [
        float(rng.uniform(0.5, 2)) * torch.randn(shape, generator=gen, dtype=F64) for _ in "abcd"
    ]
    got = call(fn, "kl_diagonal_gaussians", *(x.clone() for x in args))
    want = reference(*args)
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise CheckFailed(f"the KL of inputs of shape {shape} must have shape {shape[:-1]}.")
    if not torch.allclose(got, want, rtol=1e-9, atol=1e-12):
        raise CheckFailed(f"kl_diagonal_gaussians is wrong on random inputs of shape {shape}.")
    return f"random Gaussians of shape {shape}"


def masked_log_likelihood(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 8: the masked log-likelihood on random series, against the package's."""
    from ode_course.latent import masked_gaussian_log_likelihood

    fn = answers["masked_log_likelihood"]
    gen = _torch_gen(rng)
    shape = (int(rng.integers(1, 6)), int(rng.integers(2, 9)), int(rng.integers(1, 4)))
    std = float(rng.uniform(0.05, 2))
    mean = torch.randn(shape, generator=gen, dtype=F64)
    mask = torch.rand(shape, generator=gen) < float(rng.uniform(0.3, 0.9))
    mask[:, 0] = True
    x = torch.where(mask, mean + std * torch.randn(shape, generator=gen, dtype=F64), torch.nan)
    got = call(fn, "masked_log_likelihood", x.clone(), mean.clone(), mask.clone(), std)
    want = masked_gaussian_log_likelihood(x, mean, mask, std)
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise CheckFailed(
            f"the log-likelihood of series of shape {shape} must have shape ({shape[0]},)."
        )
    if not torch.allclose(got, want, rtol=1e-9, atol=1e-10):
        raise CheckFailed(f"masked_log_likelihood is wrong on random series of shape {shape}.")
    return f"random series of shape {shape}, std {std:.3g}"


def conditional_velocity(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 9: the target velocity of random pairs, against flow_matching's."""
    import inspect

    from ode_course.flow_matching import conditional_velocity as reference

    fn = answers["conditional_target"]
    gen = _torch_gen(rng)
    n, d = int(rng.integers(2, 12)), int(rng.integers(1, 6))
    x0 = torch.randn(n, d, generator=gen, dtype=F64)
    x1 = float(rng.uniform(-3, 3)) + torch.randn(n, d, generator=gen, dtype=F64)
    t = torch.rand(n, 1, generator=gen, dtype=F64)
    try:
        takes_t = len(inspect.signature(fn).parameters) >= 3
    except (TypeError, ValueError):
        takes_t = False
    args = (x0.clone(), x1.clone(), t) if takes_t else (x0.clone(), x1.clone())
    got = call(fn, "conditional_target", *args)
    want = reference(x0, x1)
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise CheckFailed(f"the target velocity of {n} pairs in {d}-D must have shape ({n}, {d}).")
    if not torch.allclose(got.detach().to(F64), want, rtol=1e-9, atol=1e-11):
        raise CheckFailed(f"the target velocity is wrong for {n} random pairs in {d}-D.")
    return f"{n} random pairs in {d}-D"


def euler_sampler(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 9: an Euler sampler on a random field, against flow_matching.sample_flow."""
    from ode_course.flow_matching import sample_flow

    fn = answers["euler_sampler"]
    gen = _torch_gen(rng)
    n, d, steps = int(rng.integers(2, 9)), int(rng.integers(1, 4)), int(rng.integers(2, 13))
    a = torch.randn(d, d, generator=gen, dtype=F64)
    b = torch.randn(d, generator=gen, dtype=F64)

    def field(t: Any, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x @ a.T) + 3.0 * torch.as_tensor(t, dtype=F64).reshape(-1, 1)[:1] * b

    x0 = torch.randn(n, d, generator=gen, dtype=F64)
    got = call(fn, "euler_sampler", field, x0.clone(), steps)
    want = sample_flow(field, x0, method="euler", steps=steps).x
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise CheckFailed(f"the sampler must return x(1) of shape ({n}, {d}).")
    if not torch.allclose(got.detach().to(F64), want, rtol=1e-9, atol=1e-11):
        raise CheckFailed(f"the sampler is wrong with steps={steps} on a random field in {d}-D.")
    return f"a random field in {d}-D with {steps} steps"


def straightness(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 9: the detour of random paths, against flow_matching.path_straightness."""
    from ode_course.flow_matching import path_straightness

    fn = answers["straightness"]
    gen = _torch_gen(rng)
    steps, n, d = int(rng.integers(2, 15)), int(rng.integers(2, 20)), int(rng.integers(1, 4))
    traj = torch.randn(steps + 1, n, d, generator=gen, dtype=F64).cumsum(dim=0)
    got = number_result(call(fn, "straightness", traj.clone()), "straightness")
    if not close(got, float(path_straightness(traj)), 1e-9):
        raise CheckFailed(f"straightness is wrong for {n} random paths of {steps} steps.")
    return f"{n} random paths of {steps} steps in {d}-D"


def vp_marginal(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 10: the forward marginal for random β's, times and shapes, against VPSchedule."""
    from ode_course.diffusion import VPSchedule

    fn = answers["vp_marginal"]
    gen = _torch_gen(rng)
    n, d = int(rng.integers(1, 9)), int(rng.integers(1, 5))
    b_min = float(rng.uniform(0.01, 2))
    b_max = b_min + float(rng.uniform(0.5, 30))
    x0 = torch.randn(n, d, generator=gen, dtype=F64)
    t = torch.rand(n, 1, generator=gen, dtype=F64) * 0.99 + 0.01
    out = call(fn, "vp_marginal", x0.clone(), t.clone(), b_min, b_max)
    if not isinstance(out, tuple | list) or len(out) != 2:
        raise CheckFailed("vp_marginal must return a pair (mean, std).")
    want_mean, want_std = VPSchedule(b_min, b_max).marginal(x0, t)
    try:
        mean = out[0].detach().to(F64).expand(n, d)
        std = out[1].detach().to(F64).expand(n, d)
    except (AttributeError, RuntimeError) as exc:
        raise CheckFailed(
            f"vp_marginal returns a mean and std of shapes that do not fit ({n}, {d})."
        ) from exc
    if not (
        torch.allclose(mean, want_mean, rtol=1e-9, atol=1e-12)
        and torch.allclose(std, want_std.expand(n, d), rtol=1e-9, atol=1e-12)
    ):
        raise CheckFailed(
            f"vp_marginal is wrong for β_min = {b_min:.3g}, β_max = {b_max:.3g} at random times."
        )
    return f"{n} random times, β_min = {b_min:.3g}, β_max = {b_max:.3g}"


def ddim_step(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 10: DDIM steps between random times of a random schedule, against ddim_step."""
    from ode_course.diffusion import VPSchedule
    from ode_course.diffusion import ddim_step as reference

    fn = answers["ddim"]
    gen = _torch_gen(rng)
    b_min = float(rng.uniform(0.05, 1))
    vp = VPSchedule(b_min, b_min + float(rng.uniform(1, 25)))
    n, d = int(rng.integers(1, 7)), int(rng.integers(1, 5))
    for _ in range(3):
        t = float(rng.uniform(0.02, 1))
        s = float(rng.uniform(0.001, t * 0.99))
        x = torch.randn(n, d, generator=gen, dtype=F64)
        eps = torch.randn(n, d, generator=gen, dtype=F64)
        got = call(fn, "ddim", x.clone(), eps.clone(), t, s, vp)
        want = reference(x, eps, t, s, vp)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            raise CheckFailed(f"ddim must return a tensor of shape ({n}, {d}).")
        if not torch.allclose(got.detach().to(F64), want, rtol=1e-9, atol=1e-11):
            raise CheckFailed(f"ddim is wrong from t = {t:.3g} to {s:.3g} on a random schedule.")
    return "three random steps of a random schedule"


def pf_drift(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 10: the probability-flow drift of a random score, schedule and time."""
    from ode_course.diffusion import VPSchedule

    fn = answers["pf_drift"]
    gen = _torch_gen(rng)
    n, d = int(rng.integers(1, 9)), int(rng.integers(1, 5))
    b_min = float(rng.uniform(0.05, 1))
    vp = VPSchedule(b_min, b_min + float(rng.uniform(1, 25)))
    a = torch.randn(d, d, generator=gen, dtype=F64)
    c = float(rng.uniform(-2, 2))

    def score(t: Any, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x @ a.T) + c * torch.as_tensor(t, dtype=F64)

    t = float(rng.uniform(0.001, 1))
    x = torch.randn(n, d, generator=gen, dtype=F64)
    got = call(fn, "pf_drift", score, t, x.clone(), vp)
    want = -0.5 * vp.beta(t) * (x + score(t, x))
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise CheckFailed(f"pf_drift must return a tensor of shape ({n}, {d}).")
    if not torch.allclose(got.detach().to(F64), want, rtol=1e-9, atol=1e-11):
        raise CheckFailed(f"pf_drift is wrong at t = {t:.3g} for a random score and schedule.")
    return f"a random score in {d}-D at t = {t:.3g}"


def kinetic_field(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 11: [f, |f|²] for a random linear field in a random dimension."""
    fn = answers["kinetic_field"]
    gen = _torch_gen(rng)
    n, d = int(rng.integers(1, 9)), int(rng.integers(1, 5))
    a = torch.randn(d, d, generator=gen, dtype=F64)
    c = float(rng.uniform(-2, 2))

    def field(t: Any, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z @ a.T) + c * torch.as_tensor(t, dtype=F64)

    t = torch.tensor(float(rng.uniform(0, 1)), dtype=F64)
    state = torch.randn(n, d + 1, generator=gen, dtype=F64)
    with torch.no_grad():
        got = call(fn, "kinetic_field", field, t, state.clone())
        fz = field(t, state[:, :-1])
    want = torch.cat([fz, (fz**2).sum(dim=1, keepdim=True)], dim=1)
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise CheckFailed(f"kinetic_field must return a tensor of shape ({n}, {d + 1}).")
    if not torch.allclose(got.detach().to(F64), want, rtol=1e-9, atol=1e-11):
        raise CheckFailed(f"kinetic_field is wrong for a random field in {d}-D.")
    return f"a random field in {d}-D"


def rnode_loss(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 11: the regularised loss from a random backward solve's end state and weight."""
    from ode_course.cnf import standard_normal_log_prob

    fn = answers["rnode_loss"]
    gen = _torch_gen(rng)
    n, d = int(rng.integers(1, 9)), int(rng.integers(1, 5))
    weight = float(rng.uniform(0.01, 2))
    z0 = torch.randn(n, d, generator=gen, dtype=F64)
    ell = torch.randn(n, generator=gen, dtype=F64)
    energy = -torch.rand(n, generator=gen, dtype=F64) * 3
    frob = -torch.rand(n, generator=gen, dtype=F64) * 3
    end = torch.cat([z0, ell[:, None], energy[:, None], frob[:, None]], dim=1)
    got = call(fn, "rnode_loss", end.clone(), weight)
    nll = -(standard_normal_log_prob(z0) - ell).mean()
    want = nll + weight * (-energy.mean() - frob.mean())
    if not isinstance(got, torch.Tensor) or got.numel() != 1:
        raise CheckFailed("rnode_loss must return a 0-d tensor.")
    if not torch.allclose(got.detach().to(F64).reshape(()), want, rtol=1e-9, atol=1e-11):
        raise CheckFailed(f"rnode_loss is wrong for a random state in {d}-D, weight {weight:.3g}.")
    return f"a random end state in {d}-D, weight {weight:.3g}"


def frobenius_estimate(answers: Answers, rng: np.random.Generator) -> str:
    """Chapter 11: |εᵀJ|² for a random nonlinear field and random probes."""
    from ode_course.regularisation import hutchinson_frobenius

    fn = answers["frobenius_estimate"]
    gen = _torch_gen(rng)
    n, d = int(rng.integers(1, 9)), int(rng.integers(1, 5))
    a = torch.randn(d, d, generator=gen, dtype=F64)
    z = torch.randn(n, d, generator=gen, dtype=F64).requires_grad_()
    eps = torch.randn(n, d, generator=gen, dtype=F64)
    got = call(fn, "frobenius_estimate", torch.sin(z @ a.T), z, eps.clone())
    want = hutchinson_frobenius(torch.sin(z @ a.T), z, eps).detach()
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise CheckFailed(f"frobenius_estimate must return a tensor of shape ({n},).")
    if not torch.allclose(got.detach().to(F64), want, rtol=1e-9, atol=1e-11):
        raise CheckFailed(f"frobenius_estimate is wrong for a random field in {d}-D.")
    return f"a random field in {d}-D"
