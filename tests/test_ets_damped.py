"""Damped ETS on the log scale (``etsl``) and how the registry builds it."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.errors import InvalidParameterError
from forecast.methods.ets_damped import DampedETS, LogDampedETS
from forecast.methods.registry import DEFAULT_MODELS, ENSEMBLE_MEMBERS, SPECS, ModelContext


def _growing(n: int = 60, seed: int = 0) -> np.ndarray:
    """Positive monthly series growing 2% a period with a seasonal ratio and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50.0 * 1.02**t * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.02, n))


def test_forecasts_are_exp_of_damped_ets_on_the_logs() -> None:
    y = _growing()
    got = LogDampedETS(season_length=12).fit(y).predict(18, levels=(80, 95))
    ref = DampedETS(season_length=12, model="AZZ").fit(np.log(y)).predict(18, levels=(80, 95))
    np.testing.assert_allclose(got.mean, np.exp(ref.mean))
    for lv in (80, 95):
        np.testing.assert_allclose(got.lo[lv], np.exp(ref.lo[lv]))
        np.testing.assert_allclose(got.hi[lv], np.exp(ref.hi[lv]))
    # Positive, nested, and following the growth: the next year is above the last one.
    assert (got.lo[95] > 0).all() and (got.lo[95] <= got.lo[80]).all()
    assert (got.hi[80] <= got.hi[95]).all()
    assert got.mean[:12].sum() > y[-12:].sum()


@pytest.mark.parametrize("bad", [0.0, -3.0])
def test_non_positive_values_are_refused_with_their_position(bad: float) -> None:
    y = _growing()
    y[7] = bad
    model = LogDampedETS(season_length=12)
    with pytest.raises(InvalidParameterError, match=rf"value {bad:g} at position 7 is not"):
        model.fit(y)
    assert not any(a.endswith("_") for a in vars(model))


def test_registry_builds_damped_ets_on_the_values_for_series_that_are_not_positive() -> None:
    ctx = ModelContext(season_length=12, horizon=18, positive=True)
    assert isinstance(SPECS["etsl"].build(ctx), LogDampedETS)
    other = SPECS["etsl"].build(ModelContext(season_length=12, horizon=18, positive=False))
    assert type(other) is DampedETS
    y = np.r_[0.0, _growing()[1:]]
    ref = DampedETS(season_length=12).fit(y).predict(6).mean
    np.testing.assert_allclose(other.fit(y).predict(6).mean, ref)


def test_log_ets_is_an_ensemble_member_but_not_a_default_candidate() -> None:
    assert "etsl" in ENSEMBLE_MEMBERS and "etsl" not in DEFAULT_MODELS
    members = [n for n in ENSEMBLE_MEMBERS if n in DEFAULT_MODELS]
    assert members == ["theta", "dotm", "etsd", "ces", "gbm", "knn", "mlp"]
