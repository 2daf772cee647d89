"""ProphetTet specifics: Tết regressors per period, Tết effects that move with the lunar
calendar, quiet and restored logging, parameter checks, sampled intervals without leaking
global RNG state. (The generic contract is in test_methods_conformance.py.)"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from forecast.errors import InvalidParameterError, ModelError
from forecast.methods.adapters.prophet import ProphetTet, quiet_loggers, tet_regressors


def test_tet_regressors_are_shares_of_each_window_inside_the_period() -> None:
    # Tết 2019: first day 5 Feb; holidays 4-8 Feb (5 days); pre-Tết 15 Jan - 4 Feb
    # (17 days in Jan, 4 in Feb); post-Tết 9-22 Feb (14 days).
    reg = tet_regressors(pd.period_range("2019-01", periods=3, freq="M"))
    assert list(reg.columns) == ["tet_days", "pre_tet_days", "post_tet_days"]
    np.testing.assert_allclose(reg["tet_days"], [0, 5 / 7, 0])
    np.testing.assert_allclose(reg["pre_tet_days"], [17 / 21, 4 / 21, 0])
    np.testing.assert_allclose(reg["post_tet_days"], [0, 1, 0])
    q = tet_regressors(pd.period_range("2019Q1", periods=4, freq="Q"))
    np.testing.assert_allclose(q["pre_tet_days"], [1, 0, 0, 0])
    assert q.to_numpy().max() <= 1.0


def _tet_series(n: int = 96, effect: float = -40.0) -> tuple[np.ndarray, pd.PeriodIndex]:
    """Monthly sales with a smooth yearly pattern and a dip in the Tết month."""
    p = pd.period_range("2014-01", periods=n, freq="M")
    t = np.arange(n)
    reg = tet_regressors(p)
    rng = np.random.default_rng(0)
    y = 200 + 0.3 * t + 10 * np.sin(2 * np.pi * t / 12) + effect * reg["tet_days"].to_numpy()
    return y + rng.normal(0, 1.5, n), p


def test_tet_effect_moves_with_the_lunar_calendar() -> None:
    """Tết falls in January in 2023 (22 Jan) and in February in 2024 (10 Feb): the dip
    must follow it, which a fixed yearly pattern cannot do."""
    y, p = _tet_series()  # history 2014-01 .. 2021-12
    pred = ProphetTet().fit(y, periods=p).predict(36).mean  # 2022-01 .. 2024-12
    future = pd.period_range(p[-1] + 1, periods=36)
    jan23, feb23 = future.get_loc(pd.Period("2023-01")), future.get_loc(pd.Period("2023-02"))
    jan24, feb24 = future.get_loc(pd.Period("2024-01")), future.get_loc(pd.Period("2024-02"))
    assert pred[jan23] < pred[feb23] - 15
    assert pred[feb24] < pred[jan24] - 15
    no_tet = ProphetTet(tet=False).fit(y, periods=p).predict(36).mean
    # Without the regressors the model cannot tell the two years apart.
    assert abs((no_tet[jan23] - no_tet[feb23]) - (no_tet[jan24] - no_tet[feb24])) < 5


def test_yearly_order_follows_frequency_and_history() -> None:
    y, p = _tet_series()
    assert ProphetTet().fit(y, periods=p).yearly_order_ == 4
    assert ProphetTet(yearly_order=2).fit(y, periods=p).yearly_order_ == 2
    assert ProphetTet(season_length=1).fit(y, periods=p).yearly_order_ == 0
    assert ProphetTet().fit(y[:23], periods=p[:23]).yearly_order_ == 0  # < 2 years
    q = pd.period_range("2010Q1", periods=20, freq="Q")
    assert ProphetTet(season_length=4).fit(np.arange(20.0) + 5, periods=q).yearly_order_ == 2
    a = pd.period_range("2000", periods=12, freq="Y")
    annual = ProphetTet(season_length=1).fit(np.arange(12.0) + 5, periods=a)
    assert annual.yearly_order_ == 0 and not annual.tet_


def test_logging_is_silent_and_levels_are_restored(capfd: pytest.CaptureFixture[str]) -> None:
    cmd, pro = logging.getLogger("cmdstanpy"), logging.getLogger("prophet")
    cmd.setLevel(logging.DEBUG)
    pro.setLevel(logging.INFO)
    try:
        y, p = _tet_series(48)
        ProphetTet().fit(y, periods=p).predict(3)
        out, err = capfd.readouterr()
        assert "Chain" not in out + err and "cmdstanpy" not in out + err
        assert (cmd.level, pro.level) == (logging.DEBUG, logging.INFO)
        assert not cmd.disabled and not pro.disabled
    finally:
        cmd.setLevel(logging.NOTSET)
        pro.setLevel(logging.NOTSET)


def test_quiet_loggers_restores_after_an_error() -> None:
    lg = logging.getLogger("cmdstanpy")
    lg.setLevel(logging.WARNING)
    with pytest.raises(KeyError, match="boom"), quiet_loggers():
        assert lg.disabled
        raise KeyError("boom")
    assert lg.level == logging.WARNING and not lg.disabled
    lg.setLevel(logging.NOTSET)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"seasonality_mode": "both"}, r"'seasonality_mode' parameter of ProphetTet must be"),
        ({"changepoint_prior_scale": 0}, r"'changepoint_prior_scale' .* must be a float > 0"),
        ({"tet_prior_scale": -1.0}, r"'tet_prior_scale' .* must be a float > 0. Got -1.0"),
        ({"season_length": 0}, r"'season_length' .* must be an int >= 1. Got 0 instead"),
        ({"uncertainty_samples": -5}, r"'uncertainty_samples' .* must be an int >= 0"),
        ({"yearly_order": 2.5}, r"'yearly_order' .* must be None or an int >= 0"),
        ({"optimizer": "adam"}, r"'optimizer' .* must be 'LBFGS', 'Newton' or 'BFGS'"),
    ],
)
def test_invalid_parameters_raise_at_fit(params: dict[str, object], match: str) -> None:
    y, p = _tet_series(36)
    model = ProphetTet(**params)  # type: ignore[arg-type]
    assert model.get_params()[next(iter(params))] == next(iter(params.values()))
    with pytest.raises(InvalidParameterError, match=match):
        model.fit(y, periods=p)


def test_sampled_intervals_are_seeded_and_leave_global_rng_alone() -> None:
    y, p = _tet_series(48)
    np.random.seed(99)
    state = np.random.get_state()
    a = ProphetTet(uncertainty_samples=200, seed=3).fit(y, periods=p).predict(6, levels=(80, 95))
    b = ProphetTet(uncertainty_samples=200, seed=3).fit(y, periods=p).predict(6, levels=(80, 95))
    np.testing.assert_array_equal(a.lo[95], b.lo[95])
    np.testing.assert_array_equal(np.random.get_state()[1], state[1])
    assert (a.lo[95] <= a.lo[80]).all() and (a.lo[80] <= a.mean).all()
    assert (a.mean <= a.hi[80]).all() and (a.hi[80] <= a.hi[95]).all()
    assert (a.hi[95] - a.lo[95] > 0).all()


def test_residual_intervals_widen_with_the_horizon() -> None:
    y, p = _tet_series(48)
    pred = ProphetTet().fit(y, periods=p).predict(12, levels=(95,))
    width = pred.hi[95] - pred.lo[95]
    assert width[-1] > width[0] > 0
    np.testing.assert_allclose(width / width[0], np.sqrt(np.arange(1, 13)), rtol=1e-9)


def test_stan_failures_become_model_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    from prophet import Prophet

    def broken(self: Prophet, *args: object, **kwargs: object) -> None:
        raise RuntimeError("Error during optimization! Command 'prophet_model.bin' failed")

    monkeypatch.setattr(Prophet, "fit", broken)
    y, p = _tet_series(36)
    model = ProphetTet()
    with pytest.raises(ModelError, match=r"ProphetTet failed to fit: RuntimeError: Error during"):
        model.fit(y, periods=p)
    assert not hasattr(model, "model_")


def test_a_failed_refit_forgets_the_previous_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    from prophet import Prophet

    from forecast.errors import NotFittedError

    y, p = _tet_series(36)
    model = ProphetTet().fit(y, periods=p)
    first = model.predict(3).mean

    def broken(self: Prophet, *args: object, **kwargs: object) -> None:
        raise RuntimeError("Error during optimization!")

    with monkeypatch.context() as patched:
        patched.setattr(Prophet, "fit", broken)
        with pytest.raises(ModelError, match="ProphetTet failed to fit"):
            model.fit(y + 100.0, periods=p)
    assert not any(a.endswith("_") for a in vars(model))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.predict(3)
    np.testing.assert_array_equal(model.fit(y, periods=p).predict(3).mean, first)


def test_fit_without_periods_is_a_typed_error_even_past_the_public_check() -> None:
    """The calendar check lives in ``BaseForecaster.fit``; ``_fit`` refuses a missing
    calendar by itself too (it used to be an ``assert``, gone under ``python -O``)."""
    y, _ = _tet_series(36)
    with pytest.raises(InvalidParameterError, match=r"ProphetTet.fit needs 'periods'"):
        ProphetTet()._fit(y, None)
