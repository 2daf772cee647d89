"""GlobalMLP: a network across series that learns shapes whatever the level."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from forecast.errors import InvalidParameterError
from forecast.methods.global_mlp import GlobalMLP


def _seasonal_panel(n_series: int = 40, n: int = 72, seed: int = 0):
    """One shared seasonal shape at very different levels and phases, with a little
    noise; also returns the noise-free value of series i at time t."""
    rng = np.random.default_rng(seed)
    levels = 10.0 ** rng.uniform(0, 4, n_series)

    def value(i: int, t: np.ndarray) -> np.ndarray:
        return levels[i] * (1 + 0.3 * np.sin(2 * np.pi * (t + i % 12) / 12))

    ys = [value(i, np.arange(n)) * (1 + rng.normal(0, 0.01, n)) for i in range(n_series)]
    return ys, value


def _small(**kw) -> GlobalMLP:
    return GlobalMLP(season_length=12, max_horizon=12, hidden_layer_sizes=(32,), **kw)


def test_learns_a_seasonal_shape_shared_by_the_panel():
    ys, value = _seasonal_panel()
    preds = _small(max_iter=60).fit(ys).predict(12)
    errors, naive = [], []
    for i, (y, p) in enumerate(zip(ys, preds, strict=True)):
        truth = value(i, np.arange(len(y), len(y) + 12))
        errors.append(np.abs(p.mean - truth).mean() / truth.mean())
        naive.append(np.abs(y[-1] - truth).mean() / truth.mean())
    # Within a few percent of the true path, far better than carrying the last value on.
    assert np.median(errors) < 0.03
    assert np.mean(errors) < 0.2 * np.mean(naive)


def test_horizon_one_fits_without_library_warnings():
    """A one-column target is passed as 1-d (scikit-learn warned four times; review 12, R6)."""
    ys, _ = _seasonal_panel(n_series=10, n=48)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        preds = (
            GlobalMLP(season_length=12, max_horizon=1, hidden_layer_sizes=(8,)).fit(ys).predict(1)
        )
    assert all(p.mean.shape == (1,) and np.isfinite(p.mean).all() for p in preds)


def test_rescaling_one_series_rescales_only_its_forecast():
    ys, _ = _seasonal_panel(n_series=20)
    base = _small(max_iter=5).fit(ys).predict(6)
    scaled = [y * 1000 if i == 3 else y for i, y in enumerate(ys)]
    moved = _small(max_iter=5).fit(scaled).predict(6)
    np.testing.assert_allclose(moved[3].mean, base[3].mean * 1000, rtol=1e-5)
    for i in (0, 7, 19):
        np.testing.assert_allclose(moved[i].mean, base[i].mean, rtol=1e-5)


def test_smooth_windows_weigh_more_than_noisy_ones():
    model = _small().fit(_seasonal_panel(n_series=5)[0])
    rng = np.random.default_rng(3)
    smooth = np.tile(np.linspace(-0.1, 0.1, 36), (50, 1))
    noisy = smooth + rng.normal(0, 0.3, smooth.shape)
    w = model._weights(np.vstack([smooth, noisy]))
    assert w.mean() == pytest.approx(1.0)
    assert w[:50].min() > 5 * w[50:].max()


def test_seed_fixes_the_forecasts_and_changes_them():
    ys, _ = _seasonal_panel(n_series=15)
    a = _small(max_iter=5, random_state=7).fit(ys).predict(6)
    b = _small(max_iter=5, random_state=7).fit(ys).predict(6)
    c = _small(max_iter=5, random_state=8).fit(ys).predict(6)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.mean, q.mean)
    assert any(not np.array_equal(p.mean, q.mean) for p, q in zip(a, c, strict=True))


def test_early_stopping_only_with_enough_windows():
    ys, _ = _seasonal_panel(n_series=10)  # 72 values: 25 windows per series
    at_threshold = _small(max_iter=5, max_origins=20).fit(ys)  # 200 windows
    # Scored on held-out windows every epoch.
    assert all(len(net.validation_scores_) == net.n_iter_ for net in at_threshold.networks_)
    below = _small(max_iter=5, max_origins=19).fit(ys)  # 190 windows
    assert all(net.validation_scores_ is None for net in below.networks_)
    assert len(below.networks_) == 2


def test_any_integer_seed_works_and_seeds_are_reduced_mod_2_32():
    ys, _ = _seasonal_panel(n_series=5)
    neg = _small(max_iter=2, random_state=-1).fit(ys).predict(6)
    big = _small(max_iter=2, random_state=2**32 - 1).fit(ys).predict(6)
    for p, q in zip(neg, big, strict=True):
        np.testing.assert_array_equal(p.mean, q.mean)


def test_log_scale_only_when_every_value_is_positive():
    ys, _ = _seasonal_panel(n_series=10)
    assert _small(max_iter=2).fit(ys).log_ is True
    with_zero = [*ys[:-1], np.r_[0.0, ys[-1][1:]]]
    model = _small(max_iter=2).fit(with_zero)
    assert model.log_ is False
    assert all((p.mean >= 0).all() for p in model.predict(6, levels=(80,)))


def test_short_series_give_padded_windows_and_too_short_panels_are_refused():
    ys = [np.linspace(10, 20, 20) + np.arange(20) % 4 for _ in range(5)]
    # 3 seasons of input + 8 steps = 44 > 20, but a season of input (12) + 8 fits.
    model = GlobalMLP(season_length=12, max_horizon=8, max_iter=2).fit(ys)
    assert len(model.predict(8)) == 5
    with pytest.raises(InvalidParameterError, match=r"longer than 19 values.*shorter horizon"):
        GlobalMLP(season_length=12, max_horizon=8).fit([y[:19] for y in ys])


def test_forward_matches_predict_and_checks_the_horizon():
    ys, _ = _seasonal_panel(n_series=15)
    model = _small(max_iter=3).fit([y[:60] for y in ys])
    own = model.forward([y[:60] for y in ys], h=6)
    for p, q in zip(own, model.predict(6), strict=True):
        np.testing.assert_allclose(p.mean, q.mean, rtol=1e-12)
    assert [len(p.mean) for p in model.forward([y[:50] for y in ys], h=4)] == [4] * 15
    with pytest.raises(InvalidParameterError, match="cannot forecast h=13"):
        model.forward(ys, h=13)
