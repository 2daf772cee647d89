"""One conformance suite for every model of the registry (local and global).

Every entry of :data:`forecast.methods.registry.SPECS` is built the way the engine builds
it and checked against the estimator contract: shapes, finite values, nested intervals,
no mutation of parameters or of the caller's data, clone and refit, determinism with a
seed (and no use of numpy's global RNG), typed errors with clear messages, monthly and
quarterly calendars, and non-negative forecasts where a model promises them. Series are
short and few so the whole suite stays fast; the global models are built small (20 boosting
iterations; 16-unit networks of at most 20 epochs).
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from functools import cache
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from forecast.errors import InvalidParameterError, ModelError, NotFittedError
from forecast.methods.base import GlobalForecaster, Prediction
from forecast.methods.registry import SPECS, ModelContext

ALL = sorted(SPECS)
LOCAL = [n for n in ALL if not SPECS[n].is_global]
GLOBAL = [n for n in ALL if SPECS[n].is_global]
#: Models whose repeated fits cost most (AutoARIMA's order search, ~0.4 s a fit): the
#: basic checks run for them in the fast suite, the repeats (clone, refit...) only in
#: ``make bench``.
SLOW = {"arima"}


def _marked(names: list[str]) -> list[Any]:
    return [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in names]


#: frequency name -> (pandas period frequency, season length, first period, horizon, length)
FREQS = {
    "monthly": ("M", 12, "2018-01", 6, 40),
    "quarterly": ("Q", 4, "2012Q1", 4, 28),
}
LEVELS = (80, 95)
#: Models that promise non-negative point forecasts on non-negative data.
NONNEG_MEAN = {"naive", "snaive", "mean", "croston", "sba", "tsb", "prophet", "gbm", "knn", "mlp"}
#: ... and non-negative interval bounds too.
NONNEG_BOUNDS = {"prophet", "gbm", "knn", "mlp"}


# --------------------------------------------------------------------------- helpers
def build(name: str, m: int, h: int, seed: int = 0) -> Any:
    """The model as the engine builds it (global model made small and fast)."""
    model = SPECS[name].build(ModelContext(season_length=m, horizon=h, seed=seed))
    params = model.get_params()
    if "min_samples_leaf" in params:  # GlobalGBM
        model.set_params(max_iter=20, min_samples_leaf=5)
    elif "hidden_layer_sizes" in params:  # GlobalMLP
        model.set_params(max_iter=20, hidden_layer_sizes=(16,))
    return model


def series(n: int, m: int, seed: int, level: float = 100.0) -> np.ndarray:
    """Positive trending seasonal series with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    season = 0.15 * level * np.sin(2 * np.pi * t / m) if m > 1 else 0.0
    return level + 0.5 * t + season + rng.normal(0, 0.03 * level, n)


def panel(freq: str, n_series: int = 4) -> tuple[list[np.ndarray], list[pd.PeriodIndex]]:
    pfreq, m, start, _h, n = FREQS[freq]
    ys = [series(n - 2 * i, m, seed=i, level=50.0 * (i + 1)) for i in range(n_series)]
    ps = [pd.period_range(start, periods=len(y), freq=pfreq) for y in ys]
    return ys, ps


def fit(model: Any, ys: list[np.ndarray], ps: list[pd.PeriodIndex] | None) -> Any:
    """Fit a local model on the first series, a global one on all."""
    if isinstance(model, GlobalForecaster):
        return model.fit(ys, periods=ps)
    return model.fit(ys[0], periods=None if ps is None else ps[0])


def predict(model: Any, h: int, levels: tuple[int, ...] = LEVELS) -> list[Prediction]:
    out = model.predict(h, levels=levels)
    return out if isinstance(out, list) else [out]


def assert_same(a: list[Prediction], b: list[Prediction]) -> None:
    assert len(a) == len(b)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.mean, q.mean)
        assert p.lo.keys() == q.lo.keys() and p.hi.keys() == q.hi.keys()
        for lv in p.lo:
            np.testing.assert_array_equal(p.lo[lv], q.lo[lv])
            np.testing.assert_array_equal(p.hi[lv], q.hi[lv])


@cache
def reference(name: str, freq: str) -> tuple[Prediction, ...]:
    """Forecasts of a default build on the standard panel, computed once per session."""
    _pfreq, m, _start, h, _n = FREQS[freq]
    ys, ps = panel(freq)
    return tuple(predict(fit(build(name, m, h), ys, ps), h))


@pytest.fixture(params=list(FREQS))
def freq(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("name", ALL)
def test_fit_predict_shapes_and_finite(name: str, freq: str) -> None:
    _pfreq, _m, _start, h, _n = FREQS[freq]
    preds = reference(name, freq)
    assert len(preds) == (len(panel(freq)[0]) if SPECS[name].is_global else 1)
    for p in preds:
        assert p.mean.shape == (h,)
        assert p.mean.dtype == np.float64
        assert set(p.lo) == set(p.hi) == set(LEVELS)
        for arr in (p.mean, *p.lo.values(), *p.hi.values()):
            assert arr.shape == (h,)
            assert np.isfinite(arr).all()


@pytest.mark.parametrize("name", ALL)
def test_intervals_nested(name: str, freq: str) -> None:
    tol = 1e-9
    for p in reference(name, freq):
        assert (p.lo[95] <= p.lo[80] + tol).all()
        assert (p.lo[80] <= p.mean + tol).all()
        assert (p.mean <= p.hi[80] + tol).all()
        assert (p.hi[80] <= p.hi[95] + tol).all()
        # Intervals say something: not all collapsed onto the point forecast.
        assert (p.hi[95] - p.lo[95]).max() > 0


@pytest.mark.parametrize("name", ALL)
def test_forecasts_follow_the_data(name: str) -> None:
    """Forecasts sit in the range of the data (level 50..~70), not at 0 or 10x off."""
    preds = reference(name, "monthly")
    assert preds
    assert 25 < preds[0].mean.mean() < 110


@pytest.mark.parametrize("name", _marked(ALL))
def test_predict_without_levels_gives_point_only(name: str) -> None:
    _pfreq, m, _start, h, _n = FREQS["monthly"]
    ys, ps = panel("monthly")
    model = fit(build(name, m, h), ys, ps)
    preds = predict(model, h, levels=())
    for p, ref in zip(preds, reference(name, "monthly"), strict=True):
        assert p.lo == {} and p.hi == {}
        np.testing.assert_allclose(p.mean, ref.mean, rtol=1e-12)


# --------------------------------------------------------------------------- no mutation
@pytest.mark.parametrize("name", ALL)
def test_fit_does_not_mutate_params(name: str, freq: str) -> None:
    _pfreq, m, _start, h, _n = FREQS[freq]
    model = build(name, m, h)
    before = copy.deepcopy(model.get_params(deep=True))
    ys, ps = panel(freq)
    fit(model, ys, ps)
    predict(model, h)
    assert model.get_params(deep=True) == before
    # Fitted state is separate from parameters: every learned attribute ends in "_".
    learned = set(vars(model)) - set(before)
    assert learned and all(a.endswith("_") for a in learned)


@pytest.mark.parametrize("name", _marked(ALL))
def test_fit_does_not_mutate_caller_data(name: str) -> None:
    _pfreq, m, _start, h, _n = FREQS["monthly"]
    ys, ps = panel("monthly")
    for y in ys:
        y.setflags(write=False)  # any in-place write raises
    ys_copy = [y.copy() for y in ys]
    ps_copy = [p.copy() for p in ps]
    ys_list = list(ys)
    model = fit(build(name, m, h), ys, ps)
    predict(model, h)
    assert len(ys) == len(ys_list) and all(a is b for a, b in zip(ys, ys_list, strict=True))
    for y, y0, p, p0 in zip(ys, ys_copy, ps, ps_copy, strict=True):
        np.testing.assert_array_equal(y, y0)
        assert p.equals(p0)


# --------------------------------------------------------------------------- clone, refit
@pytest.mark.parametrize("name", _marked(ALL))
def test_clone_gives_identical_forecasts(name: str) -> None:
    _pfreq, m, _start, h, _n = FREQS["monthly"]
    ys, ps = panel("monthly")
    fitted = fit(build(name, m, h), ys, ps)
    twin = clone(fitted)
    assert twin.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        twin.predict(h)
    assert_same(predict(fit(twin, ys, ps), h), list(reference(name, "monthly")))


@pytest.mark.parametrize("name", _marked(ALL))
def test_refit_forgets_the_previous_fit(name: str) -> None:
    _pfreq, m, _start, h, _n = FREQS["monthly"]
    ys, ps = panel("monthly")
    other = [2.0 * y[::-1] + 7.0 for y in ys]
    model = build(name, m, h)
    fit(model, other, ps)
    fit(model, ys, ps)
    assert_same(predict(model, h), list(reference(name, "monthly")))


@pytest.mark.parametrize("name", _marked(LOCAL))
def test_fitted_structure_refits(name: str) -> None:
    """The engine refits with ``set_params(**fitted_structure())``: that must work and
    keep the structure."""
    _pfreq, m, _start, h, _n = FREQS["monthly"]
    ys, ps = panel("monthly")
    model = fit(build(name, m, h), ys, ps)
    structure = model.fitted_structure()
    again = fit(clone(model).set_params(**structure), ys, ps)
    assert again.fitted_structure() == structure
    assert np.isfinite(again.predict(h).mean).all()


@pytest.mark.parametrize("name", _marked(LOCAL))
def test_fitted_structure_of_a_constant_training_part_refits_on_a_moving_series(
    name: str,
) -> None:
    """A series flat at its oldest backtest origin (36 months at 10) that moves later:
    the structure found on the flat part must not stop the run (AutoCES fitted a constant
    with no season type, and reading it raised KeyError, exit 1 for the whole panel)."""
    flat = np.full(36, 10.0)
    moving = np.r_[flat, 20.0 + np.random.default_rng(0).normal(size=36)]
    periods = pd.period_range("2018-01", periods=72, freq="M")
    model = build(name, 12, 12)
    model.fit(flat, periods=periods[:36])
    structure = model.fitted_structure()
    again = clone(model).set_params(**structure).fit(moving, periods=periods)
    assert np.isfinite(again.predict(12).mean).all()


# --------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("name", _marked(ALL))
def test_deterministic_with_seed_and_no_global_rng(name: str, freq: str) -> None:
    _pfreq, m, _start, h, _n = FREQS[freq]
    ys, ps = panel(freq)
    np.random.seed(12345)
    state = np.random.get_state()
    a = predict(fit(build(name, m, h, seed=7), ys, ps), h)
    b = predict(fit(build(name, m, h, seed=7), ys, ps), h)
    assert_same(a, b)
    after = np.random.get_state()
    assert after[0] == state[0] and after[2:] == state[2:]
    np.testing.assert_array_equal(after[1], state[1])


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("name", ALL)
def test_predict_before_fit_raises(name: str) -> None:
    model = build(name, 12, 6)
    with pytest.raises(NotFittedError, match=rf"This {type(model).__name__} instance is not"):
        model.predict(6)
    if not SPECS[name].is_global:
        with pytest.raises(NotFittedError, match="not fitted yet"):
            model.fitted_structure()


def _bad_series(kind: str, y: np.ndarray) -> Any:
    if kind == "nan":
        return np.where(np.arange(len(y)) == 5, np.nan, y)
    if kind == "inf":
        return np.where(np.arange(len(y)) == 5, np.inf, y)
    if kind == "2d":
        return np.column_stack([y, y])
    if kind == "text":
        return ["a"] * len(y)
    raise AssertionError(kind)


BAD_SERIES = {
    "nan": r"got 1 missing or infinite values",
    "inf": r"got 1 missing or infinite values",
    "2d": r"expects a 1-D array; got shape \(40, 2\)",
    "text": r"expects a 1-D numeric array",
}


@pytest.mark.parametrize("kind", list(BAD_SERIES))
@pytest.mark.parametrize("name", ALL)
def test_bad_series_raise(name: str, kind: str) -> None:
    _pfreq, m, _start, h, _n = FREQS["monthly"]
    ys, ps = panel("monthly")
    bad = _bad_series(kind, ys[0])
    model = build(name, m, h)
    with pytest.raises(InvalidParameterError, match=BAD_SERIES[kind]):
        fit(model, [bad, *ys[1:]], ps)
    assert not any(a.endswith("_") for a in vars(model))  # a failed fit leaves no state


@pytest.mark.parametrize("name", LOCAL)
def test_too_short_raises_and_minimum_length_fits(name: str, freq: str) -> None:
    """The declared minimum length is honest: one value less is refused with a clear
    message, exactly the minimum fits and forecasts finite values."""
    pfreq, m, start, h, _n = FREQS[freq]
    for season in (m, 1):
        model = build(name, season, h)
        need = model.tags.required_length(season)
        y = series(need + 5, max(season, 2), seed=3)
        p = pd.period_range(start, periods=len(y), freq=pfreq)
        with pytest.raises(
            InvalidParameterError,
            match=rf"only contains {need - 1} values but {type(model).__name__} requires "
            rf"at least {need}",
        ):
            model.fit(y[: need - 1], periods=p[: need - 1])
        pred = model.fit(y[:need], periods=p[:need]).predict(h, levels=LEVELS)
        assert np.isfinite(pred.mean).all()
        assert all(np.isfinite(v).all() for v in (*pred.lo.values(), *pred.hi.values()))


@pytest.mark.parametrize("name", GLOBAL)
def test_global_needs_series(name: str) -> None:
    model = build(name, 12, 6)
    with pytest.raises(InvalidParameterError, match="needs at least one series"):
        model.fit([])
    with pytest.raises(InvalidParameterError, match="needs at least one series longer than"):
        model.fit([series(7, 12, seed=0), series(5, 12, seed=1)])


@pytest.mark.parametrize("h", [0, -1, 2.5, True, "3", None])
@pytest.mark.parametrize("name", ALL)
def test_bad_horizon_raises(name: str, h: Any) -> None:
    model = _fitted(name)
    with pytest.raises(
        InvalidParameterError, match=r"The 'h' parameter of \w+\.predict must be a positive"
    ):
        model.predict(h)


@pytest.mark.parametrize("levels", [(0,), (100,), (80, 150), (-5,)])
@pytest.mark.parametrize("name", ALL)
def test_bad_levels_raise(name: str, levels: tuple[int, ...]) -> None:
    model = _fitted(name)
    with pytest.raises(InvalidParameterError, match=r"must be between 0 and 100 \(exclusive\)"):
        model.predict(3, levels=levels)


@cache
def _fitted(name: str) -> Any:
    _pfreq, m, _start, h, _n = FREQS["monthly"]
    ys, ps = panel("monthly")
    return fit(build(name, m, h), ys, ps)


@pytest.mark.parametrize("name", [n for n in LOCAL if build(n, 12, 6).tags.needs_periods])
def test_calendar_models_need_periods(name: str) -> None:
    y = series(40, 12, seed=0)
    model = build(name, 12, 6)
    with pytest.raises(InvalidParameterError, match=r"needs 'periods' \(a PeriodIndex as long"):
        model.fit(y)
    with pytest.raises(InvalidParameterError, match="needs 'periods'"):
        model.fit(y, periods=pd.period_range("2020-01", periods=39, freq="M"))


@pytest.mark.parametrize(
    "name", _marked([n for n in ALL if not build(n, 12, 6).tags.needs_periods])
)
def test_models_without_calendar_work_on_an_integer_index(name: str) -> None:
    _pfreq, m, _start, h, _n = FREQS["monthly"]
    ys, _ps = panel("monthly")
    preds = predict(fit(build(name, m, h), ys, None), h)
    assert all(p.mean.shape == (h,) and np.isfinite(p.mean).all() for p in preds)
    if not SPECS[name].is_global:  # the calendar is not used: same forecasts
        assert_same(preds, list(reference(name, "monthly")))


# --------------------------------------------------------------------------- sign
@pytest.mark.parametrize("name", sorted(NONNEG_MEAN))
def test_nonnegative_forecasts_on_nonnegative_data(name: str) -> None:
    """A series falling to zero: linear extrapolation would go below 0."""
    _pfreq, m, start, h, n = FREQS["monthly"]
    rng = np.random.default_rng(4)
    base = [np.clip(60 - 2.0 * np.arange(n) + rng.normal(0, 3, n), 0, None) for _ in range(4)]
    ps = [pd.period_range(start, periods=n, freq="M")] * 4
    assert min(y.min() for y in base) == 0.0
    for p in predict(fit(build(name, m, h), base, ps), h):
        assert (p.mean >= 0).all()
        if name in NONNEG_BOUNDS:
            assert all((v >= 0).all() for v in (*p.lo.values(), *p.hi.values()))


def test_nonnegative_promises_are_not_vacuous() -> None:
    """Drift on the same falling series does go negative: the data really test clipping."""
    n = FREQS["monthly"][4]
    rng = np.random.default_rng(4)
    y = np.clip(60 - 2.0 * np.arange(n) + rng.normal(0, 3, n), 0, None)
    p = pd.period_range("2018-01", periods=n, freq="M")
    assert (build("drift", 12, 6).fit(y, periods=p).predict(12).mean < 0).any()
    raw = build("prophet", 12, 6).fit(y, periods=p)
    assert (
        raw.model_.predict(raw._frame(pd.period_range(p[-1] + 1, periods=12), True))["yhat"] < 0
    ).any()


# --------------------------------------------------------------------------- library failures
LIBRARY_FAILURES: dict[str, Callable[[], np.ndarray]] = {
    # statsforecast's AutoCES raises a bare Exception("no model able to be fitted") here.
    "ces": lambda: 5.0 + np.arange(30.0) % 3,
}


@pytest.mark.parametrize("name", sorted(LIBRARY_FAILURES))
def test_library_failures_become_model_errors(name: str) -> None:
    y = LIBRARY_FAILURES[name]()
    with pytest.raises(ModelError, match=r"AutoCES failed to fit: Exception: no model able"):
        build(name, 12, 6).fit(y)


# --------------------------------------------------------------------------- global models
@pytest.mark.parametrize("name", GLOBAL)
def test_saved_global_model_gives_the_same_forecasts(name: str) -> None:
    """The run registry stores fitted global models with joblib; a loaded one must
    forecast exactly as the one that was saved."""
    _pfreq, m, _start, h, _n = FREQS["monthly"]
    ys, ps = panel("monthly")
    model = fit(build(name, m, h), ys, ps)
    buf = io.BytesIO()
    joblib.dump(model, buf)
    loaded = joblib.load(io.BytesIO(buf.getvalue()))
    assert_same(predict(model, h), predict(loaded, h))


#: Integer parameters each global model checks before it fits.
INT_PARAMS = {
    "gbm": ["max_horizon", "stride", "max_origins", "max_windows", "n_lags"],
    "knn": ["max_horizon", "n_neighbors", "max_origins", "max_windows", "n_lags"],
    "mlp": [
        *("max_horizon", "max_iter", "n_models", "batch_size", "n_iter_no_change"),
        *("max_origins", "max_windows", "n_lags"),
    ],
}


def _int_param_cases() -> list[tuple[str, str, Any]]:
    return [
        (name, param, bad)
        for name, params in INT_PARAMS.items()
        for param in params
        for bad in (0, -2, 1.5, True)
    ]


def test_every_global_model_has_its_integer_parameters_listed() -> None:
    assert sorted(INT_PARAMS) == GLOBAL


@pytest.mark.parametrize(("name", "param", "bad"), _int_param_cases())
def test_bad_integer_parameters_are_named(name: str, param: str, bad: Any) -> None:
    _pfreq, m, _start, h, _n = FREQS["monthly"]
    ys, ps = panel("monthly")
    model = build(name, m, h).set_params(**{param: bad})
    cls = type(model).__name__
    with pytest.raises(InvalidParameterError, match=rf"'{param}' parameter of {cls} must be an"):
        fit(model, ys, ps)
    assert not any(a.endswith("_") for a in vars(model))


def test_programming_errors_in_a_library_are_not_turned_into_model_failures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A changed library API (TypeError) must stop the run, not make every fit naive."""
    import statsforecast.models as sfm

    def broken(self: Any, *args: Any, **kwargs: Any) -> None:
        raise TypeError("__init__() got an unexpected keyword argument 'season_length'")

    monkeypatch.setattr(sfm.Theta, "__init__", broken)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        build("theta", 12, 6).fit(series(40, 12, seed=0))
    # Awkward data still becomes a typed model failure (see the test above).
    with pytest.raises(ModelError):
        build("ces", 12, 6).fit(LIBRARY_FAILURES["ces"]())
