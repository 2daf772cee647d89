"""GlobalGBM: forecasting other origins with ``forward`` and the shared window scale."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from forecast.errors import InvalidParameterError
from forecast.methods.global_gbm import GlobalGBM


def _panel(n_series: int = 12) -> tuple[list[np.ndarray], list[pd.PeriodIndex]]:
    rng = np.random.default_rng(1)
    ys, ps = [], []
    for i in range(n_series):
        n = 40 + 3 * i
        t = np.arange(n)
        level = 10.0 ** rng.uniform(1, 3)
        ys.append(level * (1 + 0.3 * np.sin(2 * np.pi * (t + i) / 12)) * rng.uniform(0.95, 1.05, n))
        ps.append(pd.period_range(pd.Period("2016-01", freq="M") + i, periods=n, freq="M"))
    return ys, ps


def _small() -> GlobalGBM:
    return GlobalGBM(season_length=12, max_horizon=6, max_iter=20, min_samples_leaf=5)


@cache
def _fitted(with_periods: bool) -> GlobalGBM:
    ys, ps = _panel()
    return _small().fit(ys, periods=ps if with_periods else None)


def test_forward_without_periods_after_a_calendar_fit_is_a_clear_error() -> None:
    """It used to fail with a raw IndexError (the Tết columns were dropped)."""
    model = _fitted(True)
    ys, _ = _panel()
    with pytest.raises(
        InvalidParameterError, match=r"fitted with calendar periods.*pass 'periods'"
    ):
        model.forward([y[:-3] for y in ys], h=3)


def test_forward_with_periods_after_a_fit_without_is_a_clear_error() -> None:
    """Season positions were counted from the origin in the fit; reading months from the
    calendar instead would feed the trees silently different features."""
    model = _fitted(False)
    ys, ps = _panel()
    with pytest.raises(InvalidParameterError, match=r"fitted without calendar periods"):
        model.forward(ys, periods=ps, h=3)


def test_forward_checks_that_periods_match_the_series() -> None:
    model = _fitted(True)
    ys, ps = _panel()
    with pytest.raises(
        InvalidParameterError, match=r"one PeriodIndex per series of ys; got 11 for 12"
    ):
        model.forward(ys, periods=ps[:-1], h=3)
    with pytest.raises(
        InvalidParameterError, match=r"periods\[2\] has 46 periods but ys\[2\] has 44"
    ):
        model.forward([*ys[:2], ys[2][:-2], *ys[3:]], periods=ps, h=3)


@pytest.mark.parametrize("with_periods", [True, False])
def test_forward_from_the_training_ends_is_predict(with_periods: bool) -> None:
    model = _fitted(with_periods)
    ys, ps = _panel()
    own = model.forward(ys, periods=ps if with_periods else None, h=6)
    for p, q in zip(own, model.predict(6), strict=True):
        np.testing.assert_array_equal(p.mean, q.mean)


def test_forward_at_earlier_origins_uses_their_calendar() -> None:
    """An origin one year earlier has the same season position: the seasonal shape of its
    forecast matches, and it differs from the forecast made from the end."""
    model = _fitted(True)
    ys, ps = _panel()
    early = model.forward([y[:-12] for y in ys], periods=[p[:-12] for p in ps], h=6)
    late = model.forward(ys, periods=ps, h=6)
    for a, b, y in zip(early, late, ys, strict=True):
        assert a.mean.shape == (6,) and np.isfinite(a.mean).all()
        assert not np.array_equal(a.mean, b.mean)
        assert np.corrcoef(a.mean, b.mean)[0, 1] > 0.8
        assert 0.5 * y.min() < a.mean.mean() < 2 * y.max()


def test_window_scale_ignores_the_left_padding() -> None:
    model = _small()
    win = np.array(
        [
            [np.nan, np.nan, *np.arange(1.0, 15.0)],  # padded: last season is 3..14
            [*np.full(4, -2.0), *np.zeros(12)],  # last season all zero: whole window
            [np.nan, *np.zeros(15)],  # all zero: 1
        ]
    )
    np.testing.assert_array_equal(model._scale(win), [np.arange(3.0, 15.0).mean(), 0.5, 1.0])


def test_a_single_training_row_is_a_clear_error_not_sklearn_s() -> None:
    """Five values and a 3-step horizon leave one (origin, step) row: no feature varies,
    which sklearn would report as "0 feature(s) (shape=(1, 0))"."""
    model = GlobalGBM(season_length=1, max_horizon=3)
    with pytest.raises(InvalidParameterError, match=r"1 training row.*no feature that varies"):
        model.fit([np.arange(5.0) + 1.0])
    model.fit([np.arange(6.0) + 1.0])  # two rows are enough
    assert np.isfinite(model.predict(3)[0].mean).all()


def _with_a_trough(n_series: int = 40) -> list[np.ndarray]:
    """Seasonal series near 1, plus one near 60 that falls to 0.5-3 for a year: its
    windows scale what follows the trough to 20-100, far beyond the others' ~1."""
    rng = np.random.default_rng(7)
    ys = [
        (1 + 0.2 * np.sin(2 * np.pi * np.arange(72) / 12)) * rng.uniform(0.95, 1.05, 72)
        for _ in range(n_series)
    ]
    trough = 60.0 + 20 * np.sin(2 * np.pi * np.arange(72) / 30)
    trough[30:42] = rng.uniform(0.5, 3.0, 12)
    return [*ys, trough]


def test_one_series_trough_does_not_distort_the_others() -> None:
    """Review 12 (real data: monthly sunspots at the 2008-09 minimum forecast at 255 and
    a drug-sales series near 1 at 2-5): with the squared-error loss the trees fit the few
    huge scaled targets after one series' trough and the other series' forecasts are
    four times as far off as without that series; the absolute-error loss is not moved."""
    ys = _with_a_trough()
    kw = {"season_length": 12, "max_horizon": 6, "max_iter": 100, "min_samples_leaf": 5}

    def others_error(preds: list) -> float:
        return float(np.mean([np.abs(p.mean - 1).mean() for p in preds[:40]]))

    alone = others_error(GlobalGBM(**kw).fit(ys[:-1]).predict(6))
    robust = GlobalGBM(**kw).fit(ys).predict(6)
    squared = GlobalGBM(**kw, loss="squared_error").fit(ys).predict(6)
    assert others_error(robust) < 1.5 * alone
    assert others_error(squared) > 2.5 * alone
    np.testing.assert_allclose(robust[-1].mean[:3], ys[-1][-3:], rtol=0.2)
