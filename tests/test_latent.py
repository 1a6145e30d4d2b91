"""Tests for ode_course.latent: the ELBO's terms against hand computations and torch's
distributions, masks, batches of series with different numbers of observations, predictions
at arbitrary times, training, and every error."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from ode_course.data import IrregularBatch, collate_series, irregular_spirals
from ode_course.latent import (
    ELBOTerms,
    GRUEncoder,
    LatentDynamics,
    LatentODE,
    ODERNNEncoder,
    RNNBaseline,
    fit_series,
    gaussian_kl,
    masked_gaussian_log_likelihood,
    masked_mse,
    own_sequences,
    prediction_mse,
)

F64 = torch.float64


def uneven_batch() -> IrregularBatch:
    """Three series with 1, 3 and 6 observations at different times, one feature missing once."""
    times = [[0.75], [0.0, 0.5, 2.0], [0.25, 0.5, 1.0, 1.25, 2.5, 3.0]]
    values = [
        [[0.1, -0.2]],
        [[1.0, 0.0], [0.8, np.nan], [0.0, 1.0]],
        [[0.5, 0.5], [0.4, 0.6], [0.2, 0.7], [0.1, 0.8], [-0.3, 0.6], [-0.5, 0.4]],
    ]
    return collate_series(times, values)


def latent_model(encoder: str = "gru", **kwargs) -> LatentODE:
    torch.manual_seed(0)
    return LatentODE(obs_dim=2, latent_dim=3, hidden=8, encoder=encoder, **kwargs).double()


def rnn_model() -> RNNBaseline:
    torch.manual_seed(0)
    return RNNBaseline(obs_dim=2, hidden=8).double()


MODELS = {
    "latent-gru": lambda: latent_model("gru"),
    "latent-odernn": lambda: latent_model("odernn"),
    "rnn": rnn_model,
}


# ---------------------------------------------------------------------- the KL
def test_gaussian_kl_by_hand():
    mu, logvar = torch.tensor([1.0, 0.0], dtype=F64), torch.tensor([0.0, math.log(4.0)], dtype=F64)
    # dimension 1: ½(1 + 1 − 1 − 0) = ½; dimension 2: ½(4 + 0 − 1 − ln 4)
    assert gaussian_kl(mu, logvar).item() == pytest.approx(0.5 + 0.5 * (3 - math.log(4.0)))
    # two one-dimensional Gaussians: N(1, 4) against N(−1, 1/4)
    kl = gaussian_kl(
        *(torch.tensor([v], dtype=F64) for v in (1.0, math.log(4), -1.0, -math.log(4)))
    )
    want = 0.5 * (math.log(0.25 / 4) + (4 + 2**2) / 0.25 - 1)
    assert kl.item() == pytest.approx(want)


def test_gaussian_kl_matches_torch_distributions():
    gen = torch.Generator().manual_seed(0)
    mu_q, logvar_q, mu_p, logvar_p = (
        torch.randn(2, 5, 4, generator=gen, dtype=F64) for _ in range(4)
    )
    ours = gaussian_kl(mu_q, logvar_q, mu_p, logvar_p)
    q, p = Normal(mu_q, (0.5 * logvar_q).exp()), Normal(mu_p, (0.5 * logvar_p).exp())
    assert ours.shape == (2, 5)
    torch.testing.assert_close(ours, kl_divergence(q, p).sum(-1))
    prior = Normal(torch.zeros_like(mu_q), torch.ones_like(mu_q))
    torch.testing.assert_close(gaussian_kl(mu_q, logvar_q), kl_divergence(q, prior).sum(-1))
    assert (ours > 0).all() and gaussian_kl(mu_q, logvar_q, mu_q, logvar_q).abs().max() < 1e-12


def test_gaussian_kl_shape_error():
    with pytest.raises(ValueError, match=r"logvar_q must be of the shape of mu_q.*Fix: "):
        gaussian_kl(torch.zeros(3), torch.zeros(2))


# ---------------------------------------------------------------------- the likelihood
def test_masked_log_likelihood_by_hand():
    x = torch.tensor([[[1.0, 2.0], [0.5, 7.0]], [[0.0, 0.0], [-1.0, 3.0]]], dtype=F64)
    mean = torch.tensor([[[0.0, 2.5], [0.5, 0.0]], [[0.0, 0.0], [0.0, 0.0]]], dtype=F64)
    mask = torch.tensor([[[True, True], [True, False]], [[False, False], [True, False]]])
    std = 0.5
    const = -0.5 * math.log(2 * math.pi * std**2)
    # series 0: residuals 1, −0.5, 0 observed; series 1: residual −1 observed
    want0 = 3 * const - (1.0 + 0.25 + 0.0) / (2 * std**2)
    want1 = const - 1.0 / (2 * std**2)
    got = masked_gaussian_log_likelihood(x, mean, mask, std)
    torch.testing.assert_close(got, torch.tensor([want0, want1], dtype=F64))


def test_masked_log_likelihood_matches_torch_and_ignores_masked_entries():
    gen = torch.Generator().manual_seed(1)
    x, mean = torch.randn(4, 6, 3, generator=gen, dtype=F64), torch.randn(4, 6, 3, generator=gen)
    mean = mean.double()
    mask = torch.rand(4, 6, 3, generator=gen) < 0.5
    want = (Normal(mean, 0.3).log_prob(x) * mask).sum(dim=(1, 2))
    got = masked_gaussian_log_likelihood(x, mean, mask, 0.3)
    torch.testing.assert_close(got, want)
    spoiled = torch.where(mask, x, torch.full_like(x, float("nan")))
    torch.testing.assert_close(masked_gaussian_log_likelihood(spoiled, mean, mask, 0.3), want)


@pytest.mark.parametrize(
    "args,match",
    [
        ((torch.zeros(1, 2, 1), torch.zeros(1, 2, 2), torch.ones(1, 2, 1, dtype=torch.bool), 1.0),
         r"mean must be of the shape \(B, T, D\) of x, \(1, 2, 1\); got shape \(1, 2, 2\)"),
        ((torch.zeros(1, 2, 1), torch.zeros(1, 2, 1), torch.ones(1, 3, 1, dtype=torch.bool), 1.0),
         r"mask must be of the shape \(B, T, D\) of x"),
        ((torch.zeros(1, 2, 1), torch.zeros(1, 2, 1), torch.ones(1, 2, 1, dtype=torch.bool), 0.0),
         "std must be positive; got std=0"),
    ],
)  # fmt: skip
def test_masked_log_likelihood_errors(args, match):
    with pytest.raises(ValueError, match=match) as info:
        masked_gaussian_log_likelihood(*args)
    assert "Fix: " in str(info.value)


def test_masked_mse_by_hand_and_errors():
    prediction = torch.tensor([[[1.0], [2.0], [0.0]]])
    target = torch.tensor([[[0.0], [float("nan")], [3.0]]])
    mask = torch.tensor([[[True], [False], [True]]])
    assert masked_mse(prediction, target, mask).item() == pytest.approx((1 + 9) / 2)
    with pytest.raises(ValueError, match=r"target must be of the shape of prediction.*Fix: "):
        masked_mse(prediction, target[:, :2], mask)
    with pytest.raises(ValueError, match=r"mask must be of the shape of prediction.*Fix: "):
        masked_mse(prediction, target, mask[:, :2])
    with pytest.raises(ValueError, match=r"mask must be True for at least one entry.*Fix: "):
        masked_mse(prediction, target, torch.zeros_like(mask))


# ---------------------------------------------------------------------- the ELBO, by hand
def hand_model(obs_std: float = 0.5) -> LatentODE:
    """dz/dt = 0.5 exactly, x̂ = 2z − 1, and q(z₀ | x) = N(0.3, 0.25) whatever the data."""
    model = LatentODE(obs_dim=1, latent_dim=1, hidden=4, obs_std=obs_std).double()
    with torch.no_grad():
        model.encoder.head.weight.zero_()
        model.encoder.head.bias.copy_(torch.tensor([0.3, math.log(0.25)]))
        last = model.dynamics.net[-1]
        last.weight.zero_()
        last.bias.fill_(0.5)
        model.decoder.weight.fill_(2.0)
        model.decoder.bias.fill_(-1.0)
    return model


@pytest.mark.parametrize("t0", [None, -1.0])
def test_elbo_terms_against_a_hand_computation(t0):
    times = [[0.0, 1.0], [0.5, 1.5, 2.0]]
    values = [[0.2, 1.1], [0.0, 0.4, 2.0]]
    batch = collate_series(times, values)
    model, eps, std = hand_model(), torch.tensor([[0.5], [-1.0]], dtype=F64), 0.5
    terms = model.elbo(batch, eps=eps, t0=t0)
    assert isinstance(terms, ELBOTerms)
    start = 0.0 if t0 is None else t0
    want_ll, want_kl = [], []
    for b in range(2):
        z0 = 0.3 + math.sqrt(0.25) * eps[b, 0].item()  # the reparameterised sample
        ll = 0.0
        for t, x in zip(times[b], values[b], strict=True):
            mean = 2 * (z0 + 0.5 * (t - start)) - 1  # z(t) = z₀ + 0.5 (t − t₀)
            ll += -0.5 * math.log(2 * math.pi * std**2) - (x - mean) ** 2 / (2 * std**2)
        want_ll.append(ll)
        want_kl.append(0.5 * (0.3**2 + 0.25 - 1 - math.log(0.25)))
    torch.testing.assert_close(terms.log_likelihood, torch.tensor(want_ll, dtype=F64))
    torch.testing.assert_close(terms.kl, torch.tensor(want_kl, dtype=F64))
    torch.testing.assert_close(terms.elbo, terms.log_likelihood - terms.kl)


def test_loss_is_the_negative_mean_elbo_and_its_gradient_reaches_every_part():
    batch = uneven_batch()
    model = latent_model()
    torch.manual_seed(3)
    loss = model.loss(batch, kl_weight=0.5)
    torch.manual_seed(3)
    terms = model.elbo(batch)
    torch.testing.assert_close(loss, -(terms.log_likelihood - 0.5 * terms.kl).mean())
    loss.backward()
    for part in (model.encoder, model.dynamics, model.decoder):
        grads = [p.grad for p in part.parameters()]
        assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)


# ---------------------------------------------------------------------- masks and uneven series
@pytest.mark.parametrize("name", list(MODELS))
def test_masked_entries_do_not_influence_the_loss(name):
    batch = uneven_batch()
    gen = torch.Generator().manual_seed(2)
    noise = 1e3 * torch.randn(batch.values.shape, generator=gen, dtype=F64)
    noise[0, 0, 0] = float("nan")
    spoiled = IrregularBatch(batch.times, torch.where(batch.mask, batch.values, noise), batch.mask)
    assert not torch.equal(spoiled.values, batch.values)

    def loss_and_grads(b):
        model = MODELS[name]()
        if isinstance(model, LatentODE):
            eps = torch.linspace(-1, 1, 3 * model.latent_dim, dtype=F64).reshape(3, -1)
            loss = -model.elbo(b, eps=eps).elbo.mean()
        else:
            loss = model.loss(b)
        loss.backward()
        return loss, [p.grad.clone() for p in model.parameters() if p.grad is not None]

    loss, grads = loss_and_grads(batch)
    loss_spoiled, grads_spoiled = loss_and_grads(spoiled)
    assert torch.isfinite(loss)
    torch.testing.assert_close(loss_spoiled, loss, rtol=0, atol=0)
    for g, h in zip(grads, grads_spoiled, strict=True):
        torch.testing.assert_close(h, g, rtol=0, atol=0)


@pytest.mark.parametrize("name", list(MODELS))
def test_series_with_different_numbers_of_observations(name):
    batch = uneven_batch()
    assert batch.n_observed.tolist() == [1, 3, 6]
    model = MODELS[name]()
    if isinstance(model, LatentODE):
        terms = model.elbo(batch)
        assert terms.log_likelihood.shape == terms.kl.shape == (3,)
        assert torch.isfinite(terms.elbo).all()
    loss = model.loss(batch)
    assert loss.ndim == 0 and torch.isfinite(loss)


@pytest.mark.parametrize("encoder,tol", [("gru", 1e-12), ("odernn", 1e-6)])
def test_a_series_is_encoded_the_same_alone_or_in_a_batch(encoder, tol):
    batch = uneven_batch()
    model = latent_model(encoder, step_size=0.1)
    mu, logvar = model.encode(batch, t0=0.0)
    assert mu.shape == logvar.shape == (3, 3)
    for b in range(3):
        mu_b, logvar_b = model.encode(batch.subset([b]), t0=0.0)
        torch.testing.assert_close(mu_b[0], mu[b], rtol=0, atol=tol)
        torch.testing.assert_close(logvar_b[0], logvar[b], rtol=0, atol=tol)


def test_the_gru_encoder_reads_the_gaps():
    """Moving one observation in time, its value unchanged, changes the code."""
    model = latent_model()
    a = collate_series([[0.0, 1.0]], [[[1.0, 0.0], [0.0, 1.0]]])
    b = collate_series([[0.0, 1.5]], [[[1.0, 0.0], [0.0, 1.0]]])
    assert not torch.allclose(model.encode(a)[0], model.encode(b)[0])


def test_the_ode_rnn_state_moves_between_observations():
    """Unlike the GRU's, the ODE-RNN's code changes with t0 even before the first observation."""
    batch = collate_series([[1.0, 2.0]], [[[1.0, 0.0], [0.0, 1.0]]])
    ode = ODERNNEncoder(2, 3, 8, step_size=0.1).double()
    assert not torch.allclose(ode(batch, 0.0)[0], ode(batch, 0.5)[0])
    assert torch.equal(ode(batch, 1.0)[0], ode(batch)[0])


def test_own_sequences_forwards_and_backwards():
    batch = collate_series([[0.0, 2.0], [1.0], [0.0, 1.0, 3.0]], [[1.0, 2.0], [3.0], [4.0, 5, 6]])
    times, values, mask, lengths = own_sequences(batch)
    assert lengths.tolist() == [2, 1, 3]
    assert times.tolist() == [[0.0, 2.0, 2.0], [1.0, 1.0, 1.0], [0.0, 1.0, 3.0]]
    assert values[..., 0].tolist() == [[1.0, 2.0, 0.0], [3.0, 0.0, 0.0], [4.0, 5.0, 6.0]]
    assert mask[..., 0].tolist() == [[True, True, False], [True, False, False], [True] * 3]
    times, values, _, _ = own_sequences(batch, reverse=True)
    assert times.tolist() == [[2.0, 0.0, 0.0], [1.0, 1.0, 1.0], [3.0, 1.0, 0.0]]
    assert values[..., 0].tolist() == [[2.0, 1.0, 0.0], [3.0, 0.0, 0.0], [6.0, 5.0, 4.0]]


# ---------------------------------------------------------------------- predictions
@pytest.mark.parametrize("name", list(MODELS))
def test_predictions_inside_and_outside_the_window(name):
    batch = uneven_batch()
    model = MODELS[name]()
    times = torch.tensor([0.1, 1.1, 3.5, 6.0, 20.0], dtype=F64)  # the window ends at 3.0
    with torch.no_grad():
        prediction = model.predict(batch, times)
    assert prediction.shape == (3, 5, 2) and torch.isfinite(prediction).all()
    later = torch.tensor([4.0, 10.0], dtype=F64)
    assert model.predict(batch, later, t0=-1.0).shape == (3, 2, 2)


def test_latent_prediction_is_the_decoded_posterior_mean():
    batch, model = uneven_batch(), latent_model()
    mu, _ = model.encode(batch)
    times = torch.tensor([0.0, 1.0, 5.0], dtype=F64)
    torch.testing.assert_close(model.predict(batch, times), model.decode(mu, 0.0, times))
    path = model.latent_trajectory(batch, times)
    assert path.shape == (3, 3, 3)
    torch.testing.assert_close(model.decoder(path), model.predict(batch, times))
    torch.testing.assert_close(path[:, 0], mu)  # z(t₀) = z₀


def test_a_hand_model_predicts_its_straight_line():
    batch = collate_series([[0.0, 1.0]], [[0.2, 1.1]])
    times = torch.tensor([2.0, 10.0], dtype=F64)
    prediction = hand_model().predict(batch, times)[0, :, 0]
    torch.testing.assert_close(prediction, 2 * (0.3 + 0.5 * times) - 1)


def test_rnn_predictions_at_the_observed_times_are_its_one_step_predictions():
    batch = uneven_batch()
    model = MODELS["rnn"]()
    one_step, values, _ = model.one_step_predictions(batch)
    for b in range(3):
        series = batch.subset([b])
        predicted = model.predict(series, series.times, t0=0.0)  # the batch's t₀
        k = int(batch.n_observed[b])
        torch.testing.assert_close(predicted[0], one_step[b, :k])
        torch.testing.assert_close(values[b, :k], series.values[0].nan_to_num())


def test_rnn_rolls_out_past_the_last_observation():
    batch = collate_series([[0.0, 1.0]], [[[1.0, 0.0], [0.0, 1.0]]])
    model = MODELS["rnn"]()
    both = model.predict(batch, torch.tensor([2.0, 3.0], dtype=F64))
    alone = model.predict(batch, torch.tensor([3.0], dtype=F64))
    torch.testing.assert_close(
        both[:, 0], model.predict(batch, torch.tensor([2.0], dtype=F64))[:, 0]
    )
    assert not torch.allclose(both[:, 1], alone[:, 0])  # the guess at 2.0 was fed back in
    # inside the window the state at the latest observation is used, with the gap to the query
    inside = model.predict(batch, torch.tensor([0.5], dtype=F64))
    assert not torch.allclose(inside, model.predict(batch, torch.tensor([0.75], dtype=F64)))


# ---------------------------------------------------------------------- training
def test_training_lowers_the_loss_and_is_reproducible():
    batch = irregular_spirals(24, seed=0).batch()
    for name in ("latent-gru", "rnn"):
        runs = []
        for _ in range(2):
            torch.manual_seed(0)
            model = MODELS[name]()
            runs.append(fit_series(model, batch, iterations=25, lr=0.02, batch_size=8, seed=1))
        assert runs[0] == runs[1] and len(runs[0]) == 25
        assert np.mean(runs[0][-5:]) < np.mean(runs[0][:5])
    losses = fit_series(latent_model(), batch, iterations=3, batch_size=None, kl_warmup=2)
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses)


def test_prediction_mse_is_the_mean_squared_error():
    data = irregular_spirals(5, seed=0)
    batch, model = data.batch(), MODELS["rnn"]()
    times = torch.as_tensor(data.future_times)
    with torch.no_grad():
        prediction = model.predict(batch, times)
    want = ((prediction - torch.as_tensor(data.future_values)) ** 2).mean().item()
    assert prediction_mse(model, batch, times, data.future_values) == pytest.approx(want)
    with pytest.raises(ValueError, match=r"targets must be of shape \(B, M, D\).*Fix: "):
        prediction_mse(model, batch, times, data.future_values[:, :3])


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"encoder": "lstm"}, ValueError, "encoder must be one of 'gru', 'odernn'; got encoder="),
        ({"obs_std": 0.0}, ValueError, "obs_std must be positive; got obs_std=0"),
        ({"latent_dim": 0}, ValueError, "latent_dim must be a positive integer"),
        ({"step_size": -0.1}, ValueError, "step_size must be positive; got step_size=-0.1"),
        ({"step_size": "0.1"}, TypeError, "step_size must be a real number"),
        ({"hidden": 2.5}, TypeError, "hidden must be an integer >= 1; got float 2.5"),
        ({"backend": "scipy"}, ValueError, "backend must be one of .*got backend='scipy'"),
        ({"method": "rk45"}, ValueError, "method must be one of .*got method='rk45'"),
        (
            {"method": "rk45", "encoder": "odernn", "backend": "ode_course"},
            ValueError,
            "method must be one of",
        ),
    ],
)
def test_model_construction_errors(kwargs, error, match):
    with pytest.raises(error, match=match) as info:
        LatentODE(**kwargs)
    assert "Fix: " in str(info.value)


def test_module_construction_errors():
    with pytest.raises(ValueError, match=r"dim must be a positive integer.*Fix: "):
        LatentDynamics(0, 4)
    with pytest.raises(ValueError, match=r"obs_dim must be a positive integer.*Fix: "):
        RNNBaseline(obs_dim=0)
    with pytest.raises(ValueError, match=r"hidden must be a positive integer.*Fix: "):
        GRUEncoder(2, 2, hidden=-1)
    with pytest.raises(ValueError, match=r"backend must be one of.*Fix: "):
        ODERNNEncoder(2, 2, backend="torch")
    with pytest.raises(ValueError, match=r"step_size must be positive.*Fix: "):
        ODERNNEncoder(2, 2, step_size=0)


@pytest.mark.parametrize("name", list(MODELS))
def test_bad_batches(name):
    model, batch = MODELS[name](), uneven_batch()
    times = torch.tensor([4.0], dtype=F64)
    with pytest.raises(TypeError, match=r"batch must be an IrregularBatch; got tuple. Fix: "):
        model.predict((batch.times, batch.values), times)
    one_feature = collate_series([[0.0]], [[1.0]])
    with pytest.raises(ValueError, match=r"batch must be of 2 features .*obs_dim=1"):
        model.predict(one_feature, times)
    single = collate_series([[0.0]], [[[1.0, 2.0]]], dtype=torch.float32)
    with pytest.raises(
        TypeError, match=r"batch must be of the model's dtype.*model.to\(torch.float32\)"
    ):
        model.predict(single, times.float())


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize(
    "times,kwargs,error,match",
    [
        ([4.0, 3.0], {}, ValueError, r"times must be strictly increasing; got times\[1\]=3"),
        ([4.0, 4.0], {}, ValueError, "times must be strictly increasing"),
        ([-1.0, 4.0], {}, ValueError, "times must be no earlier than t0=0"),
        ([4.0], {"t0": 0.5}, ValueError, "t0 must be .*no later than the first observation"),
        ([4.0], {"t0": float("nan")}, ValueError, "t0 must be finite"),
        ([4.0], {"t0": "0"}, TypeError, "t0 must be a real number"),
        ([[4.0]], {}, ValueError, "times must be a non-empty 1-D tensor"),
        ([], {}, ValueError, "times must be a non-empty 1-D tensor"),
    ],
)
def test_bad_query_times(name, times, kwargs, error, match):
    model = MODELS[name]()
    with pytest.raises(error, match=match) as info:
        model.predict(uneven_batch(), torch.tensor(times, dtype=F64), **kwargs)
    assert "Fix: " in str(info.value)


def test_query_times_of_another_dtype_or_type():
    with pytest.raises(TypeError, match=r"times must be torch\.float64 like the batch.*Fix: "):
        latent_model().predict(uneven_batch(), torch.tensor([4.0]))
    with pytest.raises(TypeError, match=r"times must be a torch\.Tensor.*Fix: "):
        latent_model().predict(uneven_batch(), [4.0])


def test_bad_eps():
    with pytest.raises(ValueError, match=r"eps must be of shape \(B, L\).*Fix: "):
        latent_model().elbo(uneven_batch(), eps=torch.zeros(3, 2, dtype=F64))


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"iterations": 0}, ValueError, "iterations must be a positive integer"),
        ({"iterations": 2.0}, TypeError, "iterations must be an integer >= 1; got float"),
        ({"iterations": 2, "lr": 0}, ValueError, "lr must be positive; got lr=0"),
        ({"iterations": 2, "batch_size": 0}, ValueError, "batch_size must be a positive integer"),
        (
            {"iterations": 2, "decay_fraction": 1.5},
            ValueError,
            r"decay_fraction must be in \[0, 1\]; got decay_fraction=1.5",
        ),
        ({"iterations": 2, "kl_warmup": -1}, ValueError, "kl_warmup must be an integer >= 0"),
    ],
)
def test_fit_series_errors(kwargs, error, match):
    with pytest.raises(error, match=match) as info:
        fit_series(latent_model(), uneven_batch(), **kwargs)
    assert "Fix: " in str(info.value)


def test_kl_warmup_needs_a_kl_term():
    with pytest.raises(ValueError, match=r"kl_warmup must be 0 .*RNNBaseline, which has none"):
        fit_series(MODELS["rnn"](), uneven_batch(), iterations=2, kl_warmup=5)


# ---------------------------------------------------------------------- backends and NFE
def _elbo_and_gradients(model: LatentODE, batch: IrregularBatch):
    eps = torch.randn(batch.n_series, model.latent_dim, generator=torch.Generator().manual_seed(3))
    model.zero_grad()
    terms = model.elbo(batch, eps=eps.to(F64))
    terms.elbo.sum().backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    return terms.elbo.detach(), grads


@pytest.mark.parametrize("encoder", ["gru", "odernn"])
def test_the_adjoint_backend_gives_the_same_elbo_and_gradients(encoder):
    batch = uneven_batch()
    results = {}
    for backend in ("ode_course", "adjoint"):
        model = latent_model(encoder, method="rk4", step_size=0.05, backend=backend)
        assert model.backend == backend
        results[backend] = _elbo_and_gradients(model, batch)
    (elbo_ours, ours), (elbo_adjoint, adjoint) = results["ode_course"], results["adjoint"]
    torch.testing.assert_close(elbo_adjoint, elbo_ours, rtol=1e-6, atol=1e-10)
    assert ours.keys() == adjoint.keys() and "dynamics.net.0.weight" in ours
    for name in ours:
        torch.testing.assert_close(adjoint[name], ours[name], rtol=1e-6, atol=1e-9, msg=name)


def test_the_torchdiffeq_backend_gives_the_same_predictions():
    batch, times = uneven_batch(), torch.tensor([0.5, 4.0], dtype=F64)
    ours = latent_model("odernn", method="rk4", step_size=0.25)
    theirs = latent_model("odernn", method="rk4", step_size=0.25, backend="torchdiffeq")
    with torch.no_grad():
        torch.testing.assert_close(theirs.predict(batch, times), ours.predict(batch, times))
    assert theirs.nfe == ours.nfe > 0 and theirs.encoder.nfe == ours.encoder.nfe > 0


def test_model_nfe_is_the_cost_of_the_latest_latent_solve():
    model, batch = latent_model(), uneven_batch()  # midpoint, step 0.25
    assert model.nfe == 0
    model.elbo(batch)  # the union of times runs from 0 to 3 with 8 stops: 12 steps of 2
    assert model.nfe == model.dynamics.nfe == 24
    with torch.no_grad():
        model.predict(batch, torch.tensor([1.0], dtype=F64))  # 0 → 1: 4 steps
    assert (model.nfe, model.dynamics.nfe) == (8, 32)  # one solve; the field counts them all
    model.dynamics.nfe = 0  # the field's counter is still the one a notebook resets
    model.elbo(batch)
    assert model.dynamics.nfe == model.nfe == 24


def test_encoder_nfe_counts_every_solve_of_its_latest_pass():
    encoder = ODERNNEncoder(2, 3, 8, method="rk4", step_size=0.25).double()
    assert encoder.nfe == 0
    encoder(uneven_batch())
    # reading back over the union of times 3, 2.5, 2, 1.25, 1, 0.75, 0.5, 0.25, 0, with
    # steps of at most 0.25: 2 + 2 + 3 + 1 + 1 + 1 + 1 + 1 = 12 steps of 4 evaluations
    assert encoder.nfe == encoder.dynamics.nfe == 48
    encoder(uneven_batch())
    assert (encoder.nfe, encoder.dynamics.nfe) == (48, 96)


def test_the_adjoint_backward_pass_adds_to_model_nfe():
    model = latent_model(backend="adjoint")
    terms = model.elbo(uneven_batch())
    assert model.nfe == 24
    terms.elbo.sum().backward()
    assert model.nfe > 24


def test_counting_leaves_the_state_dict_unchanged():
    model = latent_model("odernn")
    keys = list(model.state_dict())
    model.elbo(uneven_batch())
    assert list(model.state_dict()) == keys
