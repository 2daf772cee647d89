"""The shared estimator checks of :mod:`forecast.methods.base`: interval levels, fitted
state, and what a failed refit leaves behind."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecast.errors import InvalidParameterError, ModelError, NotFittedError
from forecast.methods.base import GlobalForecaster, check_is_fitted, check_levels
from forecast.methods.registry import SPECS, ModelContext

ALL = sorted(SPECS)
#: AutoARIMA's order search makes its fits the slowest (see the conformance suite).
FAST = [n for n in ALL if n != "arima"]


def _series(n: int, seed: int, level: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return level + 0.5 * t + 0.15 * level * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)


def _panel() -> tuple[list[np.ndarray], list[pd.PeriodIndex]]:
    ys = [_series(40 - 2 * i, seed=i, level=50.0 * (i + 1)) for i in range(4)]
    return ys, [pd.period_range("2018-01", periods=len(y), freq="M") for y in ys]


def _build(name: str) -> Any:
    model = SPECS[name].build(ModelContext(season_length=12, horizon=6))
    params = model.get_params()
    if "min_samples_leaf" in params:  # GlobalGBM, made small
        model.set_params(max_iter=20, min_samples_leaf=5)
    elif "hidden_layer_sizes" in params:  # GlobalMLP, made small
        model.set_params(max_iter=20, hidden_layer_sizes=(16,))
    return model


def _fit(model: Any, ys: list[np.ndarray], ps: list[pd.PeriodIndex]) -> Any:
    if isinstance(model, GlobalForecaster):
        return model.fit(ys, periods=ps)
    return model.fit(ys[0], periods=ps[0])


@cache
def _fitted(name: str) -> Any:
    return _fit(_build(name), *_panel())


# --------------------------------------------------------------------------- levels
@pytest.mark.parametrize(
    ("levels", "expected"),
    [((95, 80), (80, 95)), ((80.0, 95.0), (80, 95)), (80, (80,)), ((50, 50, 1, 99), (1, 50, 99))],
)
def test_whole_levels_are_accepted_sorted_and_deduplicated(levels: Any, expected: Any) -> None:
    assert check_levels(levels, "M") == expected


@pytest.mark.parametrize(
    ("levels", "shown"),
    [((99.5,), r"\[99.5\]"), ((0.5,), r"\[0.5\]"), ((80, 95.25, 97.5), r"\[95.25, 97.5\]")],
)
def test_fractional_levels_are_refused_and_named(levels: Any, shown: str) -> None:
    """99.5 used to become the 99 % interval and 0.5 the invalid level 0."""
    with pytest.raises(InvalidParameterError, match=rf"of M must be a whole percent .*got {shown}"):
        check_levels(levels, "M")


@pytest.mark.parametrize(
    ("levels", "shown"),
    [((0,), r"\[0\]"), ((80, 150), r"\[80, 150\]"), ((-5,), r"\[-5\]"), ((np.nan,), r"\[nan\]")],
)
def test_levels_outside_0_100_are_refused_with_their_values(levels: Any, shown: str) -> None:
    with pytest.raises(
        InvalidParameterError, match=rf"between 0 and 100 \(exclusive\)\. Got: {shown}"
    ):
        check_levels(levels, "M")


def test_non_numeric_levels_are_a_typed_error() -> None:
    with pytest.raises(InvalidParameterError, match=r"'levels' of M must be numbers .*'high'"):
        check_levels(("high",), "M")


@pytest.mark.parametrize("name", FAST)
def test_every_model_refuses_fractional_levels_and_reads_whole_floats(name: str) -> None:
    model = _fitted(name)
    with pytest.raises(InvalidParameterError, match=r"whole percent .*got \[99\.5\]"):
        model.predict(3, levels=(80, 99.5))
    as_int = model.predict(3, levels=(80, 95))
    as_float = model.predict(3, levels=(80.0, 95.0))
    for p, q in zip(np.atleast_1d(as_int), np.atleast_1d(as_float), strict=True):
        assert sorted(q.lo) == [80, 95]
        np.testing.assert_array_equal(p.lo[95], q.lo[95])
        np.testing.assert_array_equal(p.hi[80], q.hi[80])


# --------------------------------------------------------------------------- fitted state
def test_check_is_fitted_names_the_class() -> None:
    class Thing:
        pass

    thing = Thing()
    with pytest.raises(NotFittedError, match=r"This Thing instance is not fitted yet"):
        check_is_fitted(thing, "n_obs_")
    thing.n_obs_ = 3  # type: ignore[attr-defined]
    check_is_fitted(thing, "n_obs_")


@pytest.mark.parametrize("name", FAST)
def test_a_failed_refit_forgets_the_previous_fit(name: str) -> None:
    """A refit that is refused (here: a NaN in the data) must not leave the estimator
    looking fitted to the data of the fit before."""
    model = copy.deepcopy(_fitted(name))
    assert any(a.endswith("_") for a in vars(model))
    ys, ps = _panel()
    bad = [np.where(np.arange(len(ys[0])) == 5, np.nan, ys[0]), *ys[1:]]
    with pytest.raises(InvalidParameterError, match="missing or infinite values"):
        _fit(model, bad, ps)
    assert not any(a.endswith("_") for a in vars(model))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.predict(3)
    # ... and it can be fitted again, to the same forecasts as a fresh estimator.
    again = np.atleast_1d(_fit(model, ys, ps).predict(6))
    for p, q in zip(again, np.atleast_1d(_fitted(name).predict(6)), strict=True):
        np.testing.assert_array_equal(p.mean, q.mean)


def test_a_fit_that_fails_inside_the_model_leaves_no_state() -> None:
    """Failures after some learned attributes were set (GlobalGBM sets ``keep_`` before
    its trees are trained) are cleaned up too."""
    model = copy.deepcopy(_fitted("gbm")).set_params(loss="no-such-loss")
    ys, ps = _panel()
    with pytest.raises(ValueError, match="loss"):
        model.fit(ys, periods=ps)
    assert not any(a.endswith("_") for a in vars(model))


@pytest.mark.parametrize(
    ("raised", "seen"),
    [
        (ValueError("awkward data"), ModelError),
        (IndexError("library edge case"), ModelError),
        (Exception("no model able to be fitted"), ModelError),
        (TypeError("API changed"), TypeError),
        (NotImplementedError("missing branch"), NotImplementedError),
        (RecursionError("runaway"), RecursionError),
    ],
)
def test_library_errors_wrap_data_failures_and_let_code_errors_through(raised, seen):
    from forecast.methods.adapters import library_errors

    with pytest.raises(seen) as err, library_errors("AutoCES", "fit"):
        raise raised
    if seen is ModelError:
        assert str(err.value).startswith(f"AutoCES failed to fit: {type(raised).__name__}: ")
