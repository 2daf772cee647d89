"""GlobalKNN: analogue forecasts that follow shapes seen before, whatever the level."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.errors import InvalidParameterError
from forecast.methods.global_knn import GlobalKNN


def _seasonal_panel(n_series: int = 30, n: int = 72, seed: int = 0):
    """Series with one shared seasonal shape at very different levels and phases; also
    returns the function giving the true value of series i at time t."""
    rng = np.random.default_rng(seed)
    levels = 10.0 ** rng.uniform(0, 4, n_series)

    def value(i: int, t: np.ndarray) -> np.ndarray:
        return levels[i] * (1 + 0.3 * np.sin(2 * np.pi * (t + i % 12) / 12))

    return [value(i, np.arange(n)) for i in range(n_series)], value


def test_forecast_continues_a_shape_seen_across_the_panel():
    ys, value = _seasonal_panel()
    preds = GlobalKNN(season_length=12, max_horizon=12).fit(ys).predict(12)
    for i, (y, p) in enumerate(zip(ys, preds, strict=True)):
        np.testing.assert_allclose(p.mean, value(i, np.arange(len(y), len(y) + 12)), rtol=1e-6)


def test_rescaling_one_series_rescales_only_its_forecast():
    rng = np.random.default_rng(1)
    ys = [50 + np.cumsum(rng.normal(0, 1, 60)) + 10 * np.sin(np.arange(60) / 2) for _ in range(25)]
    ys = [np.abs(y) + 1 for y in ys]
    base = GlobalKNN(season_length=12, max_horizon=6).fit(ys).predict(6)
    scaled = [y * 1000 if i == 3 else y for i, y in enumerate(ys)]
    moved = GlobalKNN(season_length=12, max_horizon=6).fit(scaled).predict(6)
    np.testing.assert_allclose(moved[3].mean, base[3].mean * 1000, rtol=1e-9)
    for i in (0, 7, 24):
        np.testing.assert_allclose(moved[i].mean, base[i].mean, rtol=1e-12)


def test_log_scale_only_when_every_value_is_positive():
    ys, _ = _seasonal_panel(n_series=10)
    assert GlobalKNN(season_length=12, max_horizon=6).fit(ys).log_ is True
    with_zero = [*ys[:-1], np.r_[0.0, ys[-1][1:]]]
    model = GlobalKNN(season_length=12, max_horizon=6).fit(with_zero)
    assert model.log_ is False
    assert all((p.mean >= 0).all() for p in model.predict(6))
    assert GlobalKNN(season_length=12, max_horizon=6, log=False).fit(ys).log_ is False


def test_short_series_give_padded_windows_and_too_short_panels_are_refused():
    ys = [np.linspace(10, 20, 20) + np.arange(20) % 4 for _ in range(5)]
    # 2 seasons of input + 8 steps = 32 > 20, but a season of input (12) + 8 fits.
    model = GlobalKNN(season_length=12, max_horizon=8).fit(ys)
    assert model.futures_.shape[1] == 8 and len(model.futures_) > 0
    with pytest.raises(InvalidParameterError, match="longer than 19 values"):
        GlobalKNN(season_length=12, max_horizon=8).fit([y[:19] for y in ys])


def test_forward_forecasts_other_origins_without_refitting():
    ys, value = _seasonal_panel()
    model = GlobalKNN(season_length=12, max_horizon=12).fit([y[:60] for y in ys])
    library = model.inputs_.copy(), model.futures_.copy()
    # From the fitted series' own ends, forward is exactly predict (the same query).
    own = model.forward([y[:60] for y in ys], h=6)
    for p, q in zip(own, model.predict(6), strict=True):
        np.testing.assert_allclose(p.mean, q.mean, rtol=1e-12)
    # From an earlier origin, with the library built at 60: the shared shape continues,
    # i.e. the true values, as a model refitted on the data up to 50 also forecasts.
    early = model.forward([y[:50] for y in ys], h=6)
    refit = GlobalKNN(season_length=12, max_horizon=12).fit([y[:50] for y in ys]).predict(6)
    for i, (p, q) in enumerate(zip(early, refit, strict=True)):
        np.testing.assert_allclose(p.mean, value(i, np.arange(50, 56)), rtol=1e-6)
        np.testing.assert_allclose(p.mean, q.mean, rtol=1e-6)
    # Each series is forecast on its own: a subset in another order gives the same rows.
    pair = model.forward([ys[7][:50], ys[2][:50]], h=6)
    np.testing.assert_array_equal(pair[0].mean, early[7].mean)
    np.testing.assert_array_equal(pair[1].mean, early[2].mean)
    # Nothing was refitted: the window library is unchanged.
    np.testing.assert_array_equal(model.inputs_, library[0])
    np.testing.assert_array_equal(model.futures_, library[1])
    with pytest.raises(InvalidParameterError, match="cannot forecast h=13"):
        model.forward(ys, h=13)


def test_intervals_come_from_the_neighbours_and_contain_the_mean():
    rng = np.random.default_rng(2)
    ys = [100 + rng.normal(0, 10, 80).cumsum() * 0.2 + rng.normal(0, 5, 80) for _ in range(40)]
    preds = GlobalKNN(season_length=12, max_horizon=6).fit(ys).predict(6, levels=(80, 95))
    for p in preds:
        assert (p.lo[95] <= p.lo[80]).all() and (p.lo[80] <= p.mean).all()
        assert (p.mean <= p.hi[80]).all() and (p.hi[80] <= p.hi[95]).all()
    widths = np.array([p.hi[95] - p.lo[95] for p in preds])
    assert (widths > 0).mean() > 0.9
