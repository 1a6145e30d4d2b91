"""Check functions for the exercises: each prints a verdict, or raises :class:`CheckFailed`
with a message that says exactly what is wrong and how to look for the fix."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ode_course.autodiff import Value

__all__ = [
    "CheckFailed",
    "check_adam_bias_correction",
    "check_augmented_dynamics",
    "check_gaussian_kl",
    "check_hutchinson",
    "check_masked_log_likelihood",
    "check_momentum_step",
    "check_odefunc_parameters",
    "check_path_sum",
    "check_rk4_nfe",
    "check_rk4_step",
    "check_saved_bytes",
    "check_sigmoid_backward",
    "check_softmax_cross_entropy_grad",
    "check_softplus",
    "check_stability_limit",
]


class CheckFailed(AssertionError):
    """An exercise answer is wrong; the message explains what to change."""


def _close(a: float, b: float, tol: float = 1e-6) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


def check_path_sum(de_da: float, de_db: float) -> None:
    """Chapter 1: ∂e/∂a and ∂e/∂b for e = (a + b)(b + 1) at a = 1, b = 2, found by path sums.

    Raises:
        CheckFailed: an answer is wrong; the message names the path that was missed or the
            factor that was mis-evaluated.
    """
    a, b = 1.0, 2.0
    c, d = a + b, b + 1
    want_a, want_b = d * 1.0, d * 1.0 + c * 1.0  # paths a→c→e; b→c→e plus b→d→e
    problems = []
    if not isinstance(de_da, int | float) or not isinstance(de_db, int | float):
        raise CheckFailed("give both answers as numbers, e.g. check_path_sum(1.5, -2.0)")
    if not _close(de_da, want_a):
        problems.append(
            f"∂e/∂a = {de_da:g} is not right. a reaches e by one path, a → c → e: multiply "
            "∂c/∂a (= 1) by ∂e/∂c (= d = b + 1, evaluated at b = 2)."
        )
    if not _close(de_db, want_b):
        if _close(de_db, c) or _close(de_db, d):
            hint = (
                f"you have {de_db:g}, the contribution of one path only. b reaches e by two "
                "paths, b → c → e and b → d → e: add both products."
            )
        else:
            hint = (
                f"∂e/∂b = {de_db:g} is not right. Sum the two paths: ∂c/∂b · ∂e/∂c + "
                "∂d/∂b · ∂e/∂d, where ∂e/∂c = d and ∂e/∂d = c."
            )
        problems.append(hint)
    if problems:
        raise CheckFailed("\n".join(problems))
    print(f"Correct: ∂e/∂a = {want_a:g} and ∂e/∂b = {want_b:g} (two paths: {d:g} + {c:g}).")


def check_softplus(softplus: Callable[[Value], Value]) -> None:
    """Chapter 1: ``softplus(x)`` must return a Value equal to ln(1 + eˣ) with gradient σ(x).

    Raises:
        CheckFailed: the function returns something other than a Value, the value is wrong,
            the result is not connected to ``x``, or the local derivative is wrong.
    """
    points = [-3.0, -0.5, 0.0, 0.7, 2.5]
    for x0 in points:
        x = Value(x0, label="x")
        try:
            y = softplus(x)
        except Exception as exc:  # report the learner's error in the exercise's terms
            raise CheckFailed(f"softplus(Value({x0})) raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(y, Value):
            raise CheckFailed(
                f"softplus(Value({x0})) returned {type(y).__name__}, not a Value. Build the "
                "result with Value.from_op(data, (x,), (local_grad,)) so gradients can flow."
            )
        want = math.log1p(math.exp(x0))
        if not _close(y.data, want, 1e-9):
            raise CheckFailed(
                f"softplus({x0}) = {y.data:.6g}, expected ln(1 + e^{x0}) = {want:.6g}."
            )
        y.backward()
        slope = 1.0 / (1.0 + math.exp(-x0))
        if x.grad == 0.0 and slope != 0.0:
            raise CheckFailed(
                f"the gradient did not reach x (x.grad = 0 at x = {x0}). Pass (x,) as the parents "
                "in Value.from_op so that backward can find x."
            )
        if not _close(x.grad, slope, 1e-9):
            raise CheckFailed(
                f"d softplus/dx at x = {x0} is {x.grad:.6g}, expected {slope:.6g}. The local "
                "derivative of ln(1 + eˣ) is eˣ / (1 + eˣ) = σ(x), the sigmoid."
            )
    print(f"Correct: values and gradients of softplus match at {len(points)} points.")


def _call(fn: Callable, name: str, *args):
    try:
        return fn(*args)
    except Exception as exc:  # report the learner's error in the exercise's terms
        raise CheckFailed(f"{name} raised {type(exc).__name__}: {exc}") from exc


def _array_result(out, shape: tuple[int, ...], name: str) -> np.ndarray:
    if out is None:
        raise CheckFailed(f"{name} returned None: did you forget the return statement?")
    out = np.asarray(out, dtype=np.float64)
    if out.shape != shape:
        raise CheckFailed(f"{name} returned shape {out.shape}; expected {shape}.")
    return out


def check_sigmoid_backward(
    sigmoid_backward: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> None:
    """Chapter 2: ``sigmoid_backward(a, grad_out)`` must return ∂L/∂z = grad_out · a (1 − a).

    Here a = σ(z) is the layer's cached output and grad_out = ∂L/∂a, both of shape (N, n).

    Raises:
        CheckFailed: the result has the wrong shape or values; the message names the likely slip.
    """
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 3))
    a = 1.0 / (1.0 + np.exp(-z))
    g = rng.normal(size=(4, 3))
    out = _array_result(
        _call(sigmoid_backward, "sigmoid_backward", a.copy(), g.copy()), a.shape, "sigmoid_backward"
    )
    want = g * a * (1 - a)
    if np.allclose(out, want, rtol=1e-10, atol=1e-12):
        print("Correct: sigmoid_backward returns grad_out * a * (1 - a).")
        return
    slips = {
        "a * (1 - a) without grad_out (the chain rule multiplies by the upstream gradient)": (
            a * (1 - a)
        ),
        "grad_out * a: the local derivative of σ is a (1 − a), not a": g * a,
        "grad_out * (1 - a**2): that is tanh's derivative; σ'(z) = a (1 − a)": g * (1 - a**2),
        "grad_out * σ(a): apply the derivative formula to a = σ(z), do not apply σ again": g
        / (1 + np.exp(-a)),
    }
    for slip, value in slips.items():
        if np.allclose(out, value):
            raise CheckFailed(f"sigmoid_backward computes {slip}.")
    raise CheckFailed(
        "sigmoid_backward returns wrong values (max error "
        f"{np.abs(out - want).max():.3g}). Expected grad_out * a * (1 - a), elementwise."
    )


def check_softmax_cross_entropy_grad(
    grad_fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> None:
    """Chapter 2: ``grad_fn(z, y)`` must return ∂L/∂z = (softmax(z) − onehot(y)) / N.

    ``z`` are logits (N, K) and ``y`` integer labels (N,); L is the *mean* cross-entropy.

    Raises:
        CheckFailed: the result has the wrong shape or values; the message names the likely slip.
    """
    rng = np.random.default_rng(1)
    z, y = rng.normal(size=(5, 4)) * 3, np.array([0, 3, 1, 1, 2])
    out = _array_result(_call(grad_fn, "grad_fn", z.copy(), y.copy()), z.shape, "grad_fn")
    shifted = z - z.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    onehot = np.eye(4)[y]
    want = (p - onehot) / len(y)
    if np.allclose(out, want, rtol=1e-9, atol=1e-12):
        big = _call(grad_fn, "grad_fn", np.array([[1000.0, 0.0, -1000.0]]), np.array([0]))
        if not np.all(np.isfinite(big)):
            raise CheckFailed(
                "correct for moderate logits, but logits of ±1000 give inf or nan. Subtract the "
                "row maximum before exponentiating: softmax(z) = softmax(z − max z)."
            )
        print("Correct: the gradient is (softmax(z) − onehot(y)) / N, and it is stable.")
        return
    slips = {
        "softmax(z) − onehot(y) without dividing by N (the loss is a mean over the batch)": p
        - onehot,
        "onehot(y) − softmax(z): the sign is flipped": (onehot - p) / len(y),
        "softmax(z) / N: subtract 1 at the true class": p / len(y),
    }
    for slip, value in slips.items():
        if np.allclose(out, value):
            raise CheckFailed(f"grad_fn returns {slip}.")
    raise CheckFailed(
        f"grad_fn returns wrong values (max error {np.abs(out - want).max():.3g}). Expected "
        "(softmax(z) − onehot(y)) / N."
    )


def _quadratic_gradients(theta: np.ndarray) -> np.ndarray:
    """∇f for f(θ) = ½ θᵀ diag(1, 10) θ, the ill-conditioned bowl the optimizer checks use."""
    return np.array([1.0, 10.0]) * theta


def check_momentum_step(momentum_step: Callable) -> None:
    """Chapter 3: ``momentum_step(theta, grad, velocity, lr, mu)`` returns (theta, velocity).

    The textbook heavy ball: v ← μ v − lr g, then θ ← θ + v. Thirty steps on a quadratic bowl
    must follow the package's :class:`~ode_course.optim.Momentum` (torch's formulation, the same
    trajectory for a constant lr).

    Raises:
        CheckFailed: the function returns the wrong thing or follows a different trajectory; the
            message names the likely slip.
    """
    from ode_course.optim import Momentum

    lr, mu = 0.05, 0.9
    reference = np.array([1.0, 1.0])
    opt = Momentum(lr=lr, momentum=mu)
    theta, velocity = np.array([1.0, 1.0]), np.zeros(2)

    def variants(t, v, g):
        return {
            "v ← μ v + lr g: the step must go against the gradient (v ← μ v − lr g)": (
                t + (mu * v + lr * g),
                mu * v + lr * g,
            ),
            "v ← v − lr g: the old velocity must be scaled by μ": (t + v - lr * g, v - lr * g),
            "θ moved with the old velocity: update v first, then θ ← θ + v_new": (
                t + v,
                mu * v - lr * g,
            ),
        }

    for k in range(30):
        g = _quadratic_gradients(theta)
        out = _call(momentum_step, "momentum_step", theta.copy(), g.copy(), velocity.copy(), lr, mu)
        if not isinstance(out, tuple) or len(out) != 2:
            raise CheckFailed(
                "momentum_step must return a pair (new_theta, new_velocity); got "
                f"{type(out).__name__}."
            )
        new_theta = _array_result(out[0], (2,), "new_theta")
        new_velocity = _array_result(out[1], (2,), "new_velocity")
        opt.step([reference], [_quadratic_gradients(reference)])
        if not np.allclose(new_theta, reference, rtol=1e-10, atol=1e-12):
            for slip, (t_bad, _) in variants(theta, velocity, g).items():
                if np.allclose(new_theta, t_bad, rtol=1e-10, atol=1e-12):
                    raise CheckFailed(f"at step {k + 1}: {slip}.")
            raise CheckFailed(
                f"at step {k + 1} theta is {new_theta.round(6)}, expected {reference.round(6)} "
                "(v ← μ v − lr g, then θ ← θ + v)."
            )
        want_velocity = mu * velocity - lr * g
        if not np.allclose(new_velocity, want_velocity, rtol=1e-10, atol=1e-12):
            raise CheckFailed(
                f"at step {k + 1} the returned velocity is {new_velocity.round(6)}, expected "
                f"μ v − lr g = {want_velocity.round(6)}: return the updated velocity too."
            )
        theta, velocity = new_theta, new_velocity
    print("Correct: 30 steps of your heavy ball match ode_course.optim.Momentum exactly.")


def check_adam_bias_correction(bias_correct: Callable) -> None:
    """Chapter 3: ``bias_correct(m, v, t, beta1, beta2)`` returns (m̂, v̂) = (m/(1−β₁ᵗ), v/(1−β₂ᵗ)).

    ``t`` counts steps from 1; the check tries t = 1, 2, 10 and 1000.

    Raises:
        CheckFailed: the correction is wrong; the message names the likely slip.
    """
    rng = np.random.default_rng(2)
    beta1, beta2 = 0.9, 0.999
    for t in (1, 2, 10, 1000):
        m, v = rng.normal(size=3), rng.random(3)
        out = _call(bias_correct, "bias_correct", m.copy(), v.copy(), t, beta1, beta2)
        if not isinstance(out, tuple) or len(out) != 2:
            raise CheckFailed(f"bias_correct must return a pair (m_hat, v_hat); got {out!r:.60}.")
        m_hat = _array_result(out[0], (3,), "m_hat")
        v_hat = _array_result(out[1], (3,), "v_hat")
        want_m, want_v = m / (1 - beta1**t), v / (1 - beta2**t)
        if np.allclose(m_hat, want_m) and np.allclose(v_hat, want_v):
            continue
        if not (np.all(np.isfinite(m_hat)) and np.all(np.isfinite(v_hat))):
            raise CheckFailed(
                f"at t = {t} the result is not finite: t counts steps from 1, so use β**t "
                "(β**(t − 1) is 1 at the first step and divides by zero)."
            )
        if np.allclose(m_hat, m * (1 - beta1**t)):
            raise CheckFailed("m_hat multiplies by (1 − β₁ᵗ); the correction divides by it.")
        if np.allclose(m_hat, m / (1 - beta2**t)) or np.allclose(v_hat, v / (1 - beta1**t)):
            raise CheckFailed("β₁ and β₂ are swapped: m̂ uses β₁ and v̂ uses β₂.")
        if np.allclose(m_hat, m / (1 - beta1)) and t > 1:
            raise CheckFailed("the power of β is missing: divide by 1 − β₁ᵗ, not by 1 − β₁.")
        raise CheckFailed(
            f"at t = {t}: m_hat = {m_hat.round(4)}, expected {want_m.round(4)}; "
            f"v_hat = {v_hat.round(6)}, expected {want_v.round(6)}."
        )
    print("Correct: m / (1 − β₁ᵗ) and v / (1 − β₂ᵗ) at t = 1, 2, 10 and 1000.")


def check_stability_limit(max_stable_lr: Callable[[np.ndarray], float]) -> None:
    """Chapter 4: ``max_stable_lr(H)`` returns the largest stable gradient-descent rate, 2/λ_max(H).

    Gradient descent on L = ½ θᵀ H θ multiplies the error by (I − lr H) each step, which
    shrinks every component only if |1 − lr λ| < 1 for every eigenvalue λ of H.

    Raises:
        CheckFailed: the answer is wrong on one of several symmetric positive definite matrices;
            the message names the likely slip.
    """
    rng = np.random.default_rng(4)
    for n in (2, 5, 8):
        q, _ = np.linalg.qr(rng.normal(size=(n, n)))
        eig = np.sort(rng.uniform(0.5, 50.0, size=n))
        hessian = q @ np.diag(eig) @ q.T
        got = _call(max_stable_lr, "max_stable_lr", hessian.copy())
        try:
            got = float(got)
        except (TypeError, ValueError) as exc:
            raise CheckFailed(f"max_stable_lr must return a number; got {got!r:.60}") from exc
        want = 2.0 / eig[-1]
        if np.isclose(got, want, rtol=1e-8):
            continue
        slips = {
            "1/λ_max: the step may be up to twice that, since |1 − lr λ| < 1 allows lr λ < 2": (
                1.0 / eig[-1]
            ),
            "2/λ_min: the largest eigenvalue, not the smallest, limits the step": 2.0 / eig[0],
            "2/trace(H): use the largest eigenvalue (np.linalg.eigvalsh), not the sum": (
                2.0 / eig.sum()
            ),
            "2/max|H_ij|: the limit depends on eigenvalues, not on matrix entries": (
                2.0 / np.abs(hessian).max()
            ),
        }
        for slip, value in slips.items():
            if np.isclose(got, value, rtol=1e-8):
                raise CheckFailed(f"max_stable_lr returns {slip}.")
        raise CheckFailed(
            f"for a {n}×{n} Hessian you return {got:.6g}; expected 2/λ_max = {want:.6g}."
        )
    print("Correct: the stable learning rates are lr < 2/λ_max, checked on 3 Hessians.")


def check_rk4_step(rk4_step: Callable) -> None:
    """Chapter 5: ``rk4_step(f, t, y, h)`` returns y + h/6 (k₁ + 2k₂ + 2k₃ + k₄).

    k₁ = f(t, y), k₂ = f(t + h/2, y + h/2 k₁), k₃ = f(t + h/2, y + h/2 k₂), k₄ = f(t + h, y + h k₃).
    The check compares one step on a time-dependent linear system with the package's RK4.

    Raises:
        CheckFailed: the step is wrong; the message names the likely slip.
    """
    import torch

    from ode_course.solvers import RK4

    A = torch.tensor([[-0.5, 1.0], [-1.0, -0.2]], dtype=torch.float64)

    def f(t, y):
        return (y @ A.T) * (1.0 + t)

    y, t, h = torch.tensor([1.0, 0.5], dtype=torch.float64), 0.3, 0.2
    out = _call(rk4_step, "rk4_step", f, t, y.clone(), h)
    if not isinstance(out, torch.Tensor) or out.shape != y.shape:
        raise CheckFailed(
            f"rk4_step must return a tensor shaped like y {tuple(y.shape)}; got {out!r:.60}"
        )
    times = torch.tensor([t, t + h], dtype=torch.float64)
    want = RK4(step_size=h).integrate(f, y, times).ys[-1]
    if torch.allclose(out, want, rtol=1e-12, atol=1e-14):
        print("Correct: one step of your RK4 equals ode_course.solvers.RK4 to 12 digits.")
        return
    k1 = f(t, y)
    k2 = f(t + h / 2, y + h / 2 * k1)
    k3 = f(t + h / 2, y + h / 2 * k2)
    k4 = f(t + h, y + h * k3)
    slips = {
        "the weights: use (k₁ + 2k₂ + 2k₃ + k₄)/6": y + h * (k1 + k2 + k3 + k4) / 4,
        "the times: k₂ and k₃ are evaluated at t + h/2, k₄ at t + h": y
        + h / 6 * (k1 + 2 * f(t, y + h / 2 * k1) + 2 * f(t, y + h / 2 * k2) + f(t, y + h * k3)),
        "the step: multiply the weighted slope by h": y + (k1 + 2 * k2 + 2 * k3 + k4) / 6,
        "an Euler step, y + h f(t, y); RK4 averages four slopes": y + h * k1,
    }
    for slip, value in slips.items():
        if torch.allclose(out, value, rtol=1e-12, atol=1e-14):
            raise CheckFailed(f"rk4_step gets {slip}.")
    raise CheckFailed(f"rk4_step returns {out.tolist()}, expected {want.tolist()}.")


def check_rk4_nfe(nfe: int) -> None:
    """Chapter 5: the number of evaluations of f by RK4 over [0, 1] with step 0.25.

    Raises:
        CheckFailed: the number is wrong; the message says how to count.
    """
    if nfe == 16:
        print("Correct: 4 steps of 4 stages each, 16 evaluations of f.")
        return
    hints = {
        4: "4 is the number of steps; each RK4 step evaluates f four times.",
        5: "RK4 does not reuse the last stage (no FSAL): count 4 evaluations per step.",
        17: "the start is not evaluated separately: k₁ of the first step is f(t₀, y₀).",
    }
    raise CheckFailed(hints.get(nfe, f"{nfe} is not right: count steps × stages per step."))


def check_odefunc_parameters(n_params: int) -> None:
    """Chapter 5: the number of trainable parameters of ``ODEFunc(dim=64, hidden=64)``.

    The vector field is Linear(64 + 1, 64) → tanh → Linear(64, 64): the first layer also reads
    the time t. Each Linear(n_in, n_out) has n_in·n_out weights and n_out biases.

    Raises:
        CheckFailed: the number is wrong; the message names the likely slip.
    """
    want = (65 * 64 + 64) + (64 * 64 + 64)
    if not isinstance(n_params, int | np.integer) or isinstance(n_params, bool):
        raise CheckFailed(
            "give the count as an integer, e.g. check_odefunc_parameters(1234); "
            f"got {n_params!r:.60}"
        )
    if n_params == want:
        print(f"Correct: (65·64 + 64) + (64·64 + 64) = {want} parameters, whatever the depth.")
        return
    hints = {
        (64 * 64 + 64) * 2: "that is a ResBlock(64, 64): ODEFunc's first layer also reads t, "
        "so it has 65 inputs.",
        65 * 64 + 64 * 64: "the biases are missing: each Linear(n_in, n_out) adds n_out of them.",
        6 * want: "an ODE block has one vector field, shared by every step: do not multiply by "
        "the number of steps or blocks.",
        16 * want: "an ODE block has one vector field, shared by every evaluation: do not "
        "multiply by the NFE.",
    }
    raise CheckFailed(
        hints.get(
            int(n_params), f"{n_params} is not right: add up weights and biases of both layers."
        )
    )


# ---------------------------------------------------------------------- Chapter 6: the adjoint
def _adjoint_test_field():
    """A small field with a non-symmetric Jacobian: f(t, z) = (1 + t) · W₂ tanh(W₁ z + b₁)."""
    import torch

    generator = torch.Generator().manual_seed(6)

    class Field(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w1 = torch.nn.Parameter(
                torch.randn(4, 2, generator=generator, dtype=torch.float64)
            )
            self.b1 = torch.nn.Parameter(torch.randn(4, generator=generator, dtype=torch.float64))
            self.w2 = torch.nn.Parameter(
                torch.randn(2, 4, generator=generator, dtype=torch.float64)
            )

        def forward(self, t, z):
            return (1 + t) * torch.tanh(z @ self.w1.T + self.b1) @ self.w2.T

    z = torch.randn(3, 2, generator=generator, dtype=torch.float64)
    a = torch.randn(3, 2, generator=generator, dtype=torch.float64)
    return Field(), torch.tensor(0.3, dtype=torch.float64), z, a


def check_augmented_dynamics(augmented_dynamics: Callable) -> None:
    """Chapter 6: ``augmented_dynamics(func, t, z, a)`` returns (f, −aᵀ ∂f/∂z, −aᵀ ∂f/∂θ).

    ``func`` is a ``torch.nn.Module`` called as ``func(t, z)``; ``z`` and the adjoint ``a`` have
    the shape (B, D) of a batch of states. The result is a tuple ``(dz, da, dtheta)``: ``dz`` and
    ``da`` shaped like ``z``, and ``dtheta`` a list with one tensor per parameter of ``func``
    (in the order of ``func.parameters()``), shaped like it. The check compares them with
    products of explicit Jacobians computed by ``torch.autograd.functional.jacobian``.

    Raises:
        CheckFailed: a result is missing, has the wrong shape or the wrong values; the message
            names the likely slip (a sign, a transposed Jacobian, a missing parameter).
    """
    import torch
    from torch.autograd.functional import jacobian
    from torch.func import functional_call

    func, t, z, a = _adjoint_test_field()
    names = [name for name, _ in func.named_parameters()]
    params = [p.detach() for p in func.parameters()]
    out = _call(augmented_dynamics, "augmented_dynamics", func, t, z.clone(), a.clone())
    if out is None:
        raise CheckFailed("augmented_dynamics returned None: did you forget the return statement?")
    if not isinstance(out, tuple | list) or len(out) != 3:
        raise CheckFailed(
            "augmented_dynamics must return three things, (dz, da, dtheta): dz/dt = f(t, z), "
            "da/dt = −aᵀ ∂f/∂z and d(dL/dθ)/dt = −aᵀ ∂f/∂θ."
        )
    dz, da, dtheta = out
    with torch.no_grad():
        want_dz = func(t, z)
    jac_z = jacobian(lambda z_: func(t, z_), z).reshape(z.numel(), z.numel())
    want_da = -(a.reshape(-1) @ jac_z).reshape(z.shape)
    want_dtheta = []
    for name, p in zip(names, params, strict=True):

        def f_of_p(p_, name=name):
            return functional_call(func, {name: p_}, (t, z))

        jac_p = jacobian(f_of_p, p).reshape(z.numel(), p.numel())
        want_dtheta.append(-(a.reshape(-1) @ jac_p).reshape(p.shape))

    def as_tensor(x, shape, what):
        if not isinstance(x, torch.Tensor):
            raise CheckFailed(f"{what} must be a tensor of shape {tuple(shape)}; got {x!r:.60}.")
        if x.shape != shape:
            raise CheckFailed(
                f"{what} has shape {tuple(x.shape)}; expected {tuple(shape)}. "
                + (
                    "A product aᵀ J is a vector shaped like z (or θ), not a Jacobian matrix: "
                    "use torch.autograd.grad(f, z, grad_outputs=a) instead of building J."
                    if x.numel() > math.prod(shape)
                    else ""
                )
            )
        return x.detach()

    def close(x, y):
        return torch.allclose(x, y, rtol=1e-8, atol=1e-10)

    dz = as_tensor(dz, z.shape, "dz")
    if not close(dz, want_dz):
        hint = " You returned a, not f(t, z)." if close(dz, a) else ""
        raise CheckFailed(f"dz is not f(t, z), the original dynamics.{hint}")
    da = as_tensor(da, z.shape, "da")
    if not close(da, want_da):
        slips = {
            "the sign: da/dt = −aᵀ ∂f/∂z, with a minus (the adjoint runs backwards)": -want_da,
            "a transposed Jacobian: you computed −(∂f/∂z) a; the adjoint needs aᵀ ∂f/∂z, "
            "the vector–Jacobian product (grad_outputs=a), not a Jacobian–vector product": -(
                jac_z @ a.reshape(-1)
            ).reshape(z.shape),
            "a itself: da/dt multiplies a by the Jacobian ∂f/∂z": a,
        }
        for slip, value in slips.items():
            if close(da, value):
                raise CheckFailed(f"da gets {slip}.")
        raise CheckFailed(
            f"da is wrong (max error {(da - want_da).abs().max().item():.3g}); expected "
            "−aᵀ ∂f/∂z, e.g. torch.autograd.grad(f, z, grad_outputs=-a)."
        )
    if not isinstance(dtheta, tuple | list) or len(dtheta) != len(params):
        raise CheckFailed(
            f"dtheta must be a list with one tensor per parameter of func ({len(params)}: "
            f"{', '.join(names)}); got {type(dtheta).__name__}"
            + (f" of length {len(dtheta)}" if isinstance(dtheta, tuple | list) else "")
            + ". Pass tuple(func.parameters()) to torch.autograd.grad with z."
        )
    for name, p, got, want in zip(names, params, dtheta, want_dtheta, strict=True):
        got = as_tensor(got, p.shape, f"dtheta for {name}")
        if close(got, want):
            continue
        if close(got, -want):
            raise CheckFailed(
                f"dtheta for {name} has the wrong sign: dL/dθ accumulates −aᵀ ∂f/∂θ as the "
                "solve runs from t_N back to t_0."
            )
        raise CheckFailed(
            f"dtheta for {name} is wrong (max error {(got - want).abs().max().item():.3g}); "
            "expected −aᵀ ∂f/∂θ, from the same torch.autograd.grad call as da."
        )
    print("Correct: f, −aᵀ∂f/∂z and −aᵀ∂f/∂θ match products with explicit Jacobians.")


def check_saved_bytes(saved_bytes_per_step: Callable) -> None:
    """Chapter 6: the bytes that backprop through a fixed-step solver saves per step.

    ``saved_bytes_per_step(batch, dim, hidden, n_stages, itemsize)`` predicts, for the field
    f(t, y) = Linear(hidden, dim)(tanh(Linear(dim, hidden)(y))) on a batch of states of shape
    (batch, dim), and a Runge–Kutta method with ``n_stages`` evaluations of f per step, the
    memory that autograd keeps for the backward pass per solver step: each evaluation saves
    the input of the first layer and the output of tanh (which the second layer also reads);
    ``itemsize`` is the bytes per number (4 for float32).

    Raises:
        CheckFailed: the prediction is wrong for one of several configurations; the message
            names the likely slip.
    """
    configs = [(256, 64, 32, 4, 8), (32, 8, 100, 2, 4), (10, 3, 7, 1, 4)]
    for batch, dim, hidden, stages, itemsize in configs:
        got = _call(
            saved_bytes_per_step,
            "saved_bytes_per_step",
            batch,
            dim,
            hidden,
            stages,
            itemsize,
        )
        try:
            got = float(got)
        except (TypeError, ValueError) as exc:
            raise CheckFailed(
                f"saved_bytes_per_step must return a number; got {got!r:.60}"
            ) from exc
        want = stages * batch * (dim + hidden) * itemsize
        if _close(got, want, 1e-9):
            continue
        slips = {
            "one evaluation of f only: every stage of the method saves its own activations": (
                batch * (dim + hidden) * itemsize
            ),
            "only the hidden activations: the first Linear saves its input, a state (dim)": (
                stages * batch * hidden * itemsize
            ),
            "only the inputs: tanh's output (hidden) is saved too": stages * batch * dim * itemsize,
            "numbers, not bytes: multiply by itemsize": stages * batch * (dim + hidden),
            "tanh's input and output: only the output is kept (tanh' = 1 − tanh²)": (
                stages * batch * (dim + 2 * hidden) * itemsize
            ),
        }
        for slip, value in slips.items():
            if _close(got, value, 1e-9):
                raise CheckFailed(f"saved_bytes_per_step counts {slip}.")
        raise CheckFailed(
            f"for batch={batch}, dim={dim}, hidden={hidden}, n_stages={stages}, itemsize="
            f"{itemsize} you predict {got:g} bytes; count, per stage, what the first Linear "
            "and tanh keep for the backward pass."
        )
    print("Correct: n_stages × batch × (dim + hidden) × itemsize bytes per step.")


# ------------------------------------------------------------------------------------ Chapter 7
def check_hutchinson(hutchinson: Callable) -> None:
    """Chapter 7: ``hutchinson(fz, z, eps)`` returns εᵀ(∂f/∂z)ε for every row, shape (N,).

    ``z`` has shape (N, D) and requires grad, ``fz = f(z)`` row by row, and ``eps`` holds one
    probe per row. The estimate must use one vector–Jacobian product, εᵀ(∂f/∂z) =
    ``torch.autograd.grad(fz, z, grad_outputs=eps)``, then a dot product with ε. The check tries
    a linear f(z) = Az and a small network, and compares with
    :func:`ode_course.cnf.hutchinson_trace`.

    Raises:
        CheckFailed: the estimate is wrong, has the wrong shape, draws its own noise or takes
            more than one backward pass; the message names the likely slip.
    """
    import torch

    from ode_course.cnf import TimeMLP, exact_trace, hutchinson_trace, sample_probe

    gen = torch.Generator().manual_seed(7)
    n, d = 5, 3
    A = torch.randn(d, d, dtype=torch.float64, generator=gen)
    with torch.random.fork_rng():  # the network's initial weights, without touching the seed
        torch.manual_seed(7)
        net = TimeMLP(d, hidden=(8,)).double()
    fields = {"f(z) = Az": lambda z: z @ A.T, "a small network": lambda z: net(0.5, z)}
    for name, f in fields.items():
        z = torch.randn(n, d, dtype=torch.float64, generator=gen).requires_grad_()
        eps = sample_probe(
            (n, d), "rademacher" if name == "a small network" else "gaussian", generator=gen
        )
        fz = f(z)
        passes = []
        fz.register_hook(lambda g, passes=passes: passes.append(1))
        out = _call(hutchinson, "hutchinson", fz, z, eps.clone())
        n_passes = len(passes)
        if out is None:
            raise CheckFailed("hutchinson returned None: did you forget the return statement?")
        if not isinstance(out, torch.Tensor):
            raise CheckFailed(f"hutchinson must return a tensor; got {type(out).__name__}.")
        out = out.detach()
        fresh = f(z)
        if out.shape != (n,):
            if out.numel() == 1:
                hint = "you summed (or averaged) over the rows too; sum over dim=1 only"
            elif out.shape == (n, d):
                hint = "sum the product εᵢ (εᵀJ)ᵢ over the last dimension"
            else:
                hint = "return one number per row"
            raise CheckFailed(
                f"for {n} points hutchinson must return shape ({n},), one estimate per point; "
                f"got {tuple(out.shape)}: {hint}."
            )
        want = hutchinson_trace(fresh, z, eps)
        if torch.allclose(out, want, rtol=1e-9, atol=1e-12):
            if n_passes > 1:
                raise CheckFailed(
                    f"the values are right, but they took {n_passes} backward passes through f. "
                    "One vector–Jacobian product is the point of the estimator: "
                    "torch.autograd.grad(fz, z, grad_outputs=eps) gives εᵀJ for all rows at once."
                )
            continue
        (vjp,) = torch.autograd.grad(fresh, z, grad_outputs=eps, retain_graph=True)
        (ones_vjp,) = torch.autograd.grad(fresh, z, torch.ones_like(eps), retain_graph=True)
        slips = {
            "the exact trace tr(∂f/∂z). The estimator does not look at the diagonal: it uses "
            "the probe, εᵀ(∂f/∂z)ε": exact_trace(fresh, z),
            "the sum of εᵀJ: multiply it elementwise by ε before summing": vjp.sum(dim=1),
            "εᵀf(z): differentiate f first, torch.autograd.grad(fz, z, grad_outputs=eps)": (
                eps * fresh
            )
            .sum(dim=1)
            .detach(),
            "1ᵀJ1 with a vector of ones: use the probe eps that is passed in": ones_vjp.sum(dim=1),
        }
        for slip, value in slips.items():
            if torch.allclose(out, value.detach(), rtol=1e-9, atol=1e-12):
                raise CheckFailed(f"for {name}, hutchinson returns {slip}.")
        again = _call(hutchinson, "hutchinson", f(z), z, eps.clone())
        if isinstance(again, torch.Tensor) and not torch.allclose(out, again.detach()):
            raise CheckFailed(
                "two calls with the same eps give different estimates: hutchinson draws its own "
                "noise. Use the probe eps that is passed in (a CNF must hold it fixed during a "
                "solve)."
            )
        raise CheckFailed(
            f"for {name}, hutchinson returns {out.tolist()}, expected εᵀ(∂f/∂z)ε = "
            f"{want.tolist()} (max error {(out - want).abs().max().item():.3g})."
        )
    print("Correct: εᵀ(∂f/∂z)ε with one backward pass, for a linear map and a network.")


# ---------------------------------------------------------------------- chapter 8: latent ODEs
def _tensor_result(out, shape: tuple[int, ...], name: str):
    import torch

    if out is None:
        raise CheckFailed(f"{name} returned None: did you forget the return statement?")
    if not isinstance(out, torch.Tensor):
        raise CheckFailed(f"{name} must return a torch.Tensor; got {type(out).__name__}.")
    if tuple(out.shape) != shape:
        hint = ""
        if out.ndim > len(shape):
            hint = " Sum over the dimensions that are not the batch (e.g. .sum(dim=-1))."
        raise CheckFailed(f"{name} returned shape {tuple(out.shape)}; expected {shape}.{hint}")
    return out


def _diagnose(out, want, slips: dict, what: str, formula: str) -> None:
    import torch

    if torch.allclose(out, want, rtol=1e-9, atol=1e-12):
        return
    if not bool(torch.isfinite(out).all()):
        raise CheckFailed(
            f"{what} is not finite (inf or nan). Masked-out entries may hold nan: select with "
            "torch.where(mask, ..., 0) rather than multiplying by the mask (nan · 0 = nan)."
        )
    for slip, value in slips.items():
        if torch.allclose(out, value, rtol=1e-9, atol=1e-12):
            raise CheckFailed(f"{what} computes {slip}.")
    raise CheckFailed(f"{what} returns {out.tolist()}; expected {want.tolist()}: {formula}.")


def check_gaussian_kl(kl_fn: Callable) -> None:
    """Chapter 8: ``kl_fn(mu_q, logvar_q, mu_p, logvar_p)`` is KL(q ‖ p) for diagonal Gaussians.

    q = N(μ_q, diag e^{logvar_q}) and p = N(μ_p, diag e^{logvar_p}); the inputs have shape
    (..., L) and the result, summed over the L dimensions, shape (...):
    ½ Σₗ [ln σ_p² − ln σ_q² + (σ_q² + (μ_q − μ_p)²)/σ_p² − 1]. The check compares with
    :func:`~ode_course.latent.gaussian_kl` for a general p and for p = N(0, I).

    Raises:
        CheckFailed: the result has the wrong shape or values; the message names the likely slip.
    """
    import torch

    from ode_course.latent import gaussian_kl

    gen = torch.Generator().manual_seed(8)
    shape = (4, 3)
    mu_q, logvar_q, mu_p, logvar_p = (
        torch.randn(shape, generator=gen, dtype=torch.float64) for _ in range(4)
    )
    zeros = torch.zeros(shape, dtype=torch.float64)
    for p_mu, p_logvar, name in ((mu_p, logvar_p, "a general p"), (zeros, zeros, "p = N(0, I)")):
        args = (mu_q.clone(), logvar_q.clone(), p_mu.clone(), p_logvar.clone())
        out = _tensor_result(_call(kl_fn, "kl_fn", *args), shape[:-1], "kl_fn")
        want = gaussian_kl(mu_q, logvar_q, p_mu, p_logvar)

        def kl(lq, lp, d2):
            return 0.5 * (lp - lq + (lq.exp() + d2) / lp.exp() - 1).sum(-1)

        d2 = (mu_q - p_mu) ** 2
        slips = {
            "twice the KL: the closed form has a factor ½": 2 * want,
            "the KL plus L/2: subtract 1 once per dimension, inside the sum": want + 0.5 * 3,
            "KL(p ‖ q): the divergence is not symmetric; q (the posterior) comes first": kl(
                p_logvar, logvar_q, d2
            ),
            "(μ_q − μ_p)² without dividing by σ_p²": kl(logvar_q, p_logvar, d2 * p_logvar.exp()),
            "σ = e^{logvar}: logvar is ln σ², so σ² = e^{logvar}": kl(
                2 * logvar_q, 2 * p_logvar, d2
            ),
        }
        formula = "½ Σ [logvar_p − logvar_q + (e^{logvar_q} + (μ_q − μ_p)²)/e^{logvar_p} − 1]"
        _diagnose(out, want, slips, f"for {name}, kl_fn", formula)
    print("Correct: your KL matches the closed form for a general p and for p = N(0, I).")


def check_masked_log_likelihood(log_likelihood: Callable) -> None:
    """Chapter 8: ``log_likelihood(x, mean, mask, std)`` sums log N(x; mean, std²) where observed.

    x, mean and mask have shape (B, T, D) (mask bool) and the result, one number per series,
    shape (B,): Σ_{t,d: mask} [−½ ln(2π std²) − (x − mean)²/(2 std²)]. Masked-out entries of x
    hold nan in the check, as missing values can in real data. The check compares with
    :func:`~ode_course.latent.masked_gaussian_log_likelihood`.

    Raises:
        CheckFailed: the result has the wrong shape or values; the message names the likely slip.
    """
    import torch

    from ode_course.latent import masked_gaussian_log_likelihood

    gen = torch.Generator().manual_seed(9)
    shape, std = (3, 5, 2), 0.3
    mean = torch.randn(shape, generator=gen, dtype=torch.float64)
    clean = mean + std * torch.randn(shape, generator=gen, dtype=torch.float64)
    mask = torch.rand(shape, generator=gen) < 0.6
    mask[:, 0] = True  # every series observed at least once
    x = torch.where(mask, clean, torch.full_like(clean, float("nan")))
    args = (x.clone(), mean.clone(), mask.clone(), std)
    out = _call(log_likelihood, "log_likelihood", *args)
    out = _tensor_result(out, shape[:1], "log_likelihood")
    want = masked_gaussian_log_likelihood(x, mean, mask, std)
    r2 = torch.where(mask, clean - mean, torch.zeros_like(mean)) ** 2
    m = mask.to(mean.dtype)
    const = -0.5 * math.log(2 * math.pi * std**2)

    def total(values):
        return (values * m).sum(dim=(1, 2))

    slips = {
        "the mean over observed entries, not the sum (the likelihood multiplies densities)": want
        / m.sum(dim=(1, 2)),
        "(x − mean)²/std² without the ½ of the Gaussian exponent": total(const - r2 / std**2),
        "(x − mean)²/(2 std): divide by the variance std², not by std": total(
            const - r2 / (2 * std)
        ),
        "no −½ ln(2π std²): the normalising constant counts once per observed entry": total(
            -r2 / (2 * std**2)
        ),
    }
    formula = "Σ over observed entries of −½ ln(2π std²) − (x − mean)²/(2 std²)"
    _diagnose(out, want, slips, "log_likelihood", formula)
    print("Correct: the masked Gaussian log-likelihood matches, and masked nans are ignored.")
