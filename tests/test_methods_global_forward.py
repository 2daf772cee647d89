"""``forward`` of every global model: how calendar periods must match the fit, and the
window scale the models share."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecast.errors import InvalidParameterError
from forecast.methods.global_knn import GlobalKNN
from forecast.methods.global_mlp import GlobalMLP
from forecast.methods.registry import SPECS, ModelContext
from forecast.methods.scaled_windows import WindowScale

GLOBAL = sorted(n for n in SPECS if SPECS[n].is_global)
#: Models that read the calendar, so ``forward`` must get periods exactly when the fit did.
CALENDAR = {"gbm"}


def _panel() -> tuple[list[np.ndarray], list[pd.PeriodIndex]]:
    rng = np.random.default_rng(5)
    ys = []
    for i in range(8):
        t = np.arange(48 + 2 * i)
        ys.append(
            100.0 * (i + 1) * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 2, len(t))
        )
    return ys, [pd.period_range("2017-01", periods=len(y), freq="M") for y in ys]


def _build(name: str) -> Any:
    model = SPECS[name].build(ModelContext(season_length=12, horizon=6))
    params = model.get_params()
    if "min_samples_leaf" in params:
        model.set_params(max_iter=20, min_samples_leaf=5)
    elif "hidden_layer_sizes" in params:
        model.set_params(max_iter=5, hidden_layer_sizes=(16,))
    return model


def test_every_global_model_is_classified() -> None:
    assert set(GLOBAL) == {"gbm", "knn", "mlp"}


@pytest.mark.parametrize("fit_periods", [True, False])
@pytest.mark.parametrize("name", GLOBAL)
def test_forward_periods_follow_the_fit(name: str, fit_periods: bool) -> None:
    ys, ps = _panel()
    model = _build(name).fit(ys, periods=ps if fit_periods else None)
    cut, cut_p = [y[:-4] for y in ys], [p[:-4] for p in ps]
    same = model.forward(cut, periods=cut_p if fit_periods else None, h=6)
    assert len(same) == len(ys) and all(np.isfinite(p.mean).all() for p in same)
    other = cut_p if not fit_periods else None
    if name in CALENDAR:
        with pytest.raises(InvalidParameterError, match=r"fitted with(out)? calendar periods"):
            model.forward(cut, periods=other, h=6)
    else:  # the calendar is never read: periods change nothing
        for p, q in zip(same, model.forward(cut, periods=other, h=6), strict=True):
            np.testing.assert_array_equal(p.mean, q.mean)


@pytest.mark.parametrize("name", GLOBAL)
def test_forward_refuses_a_horizon_that_is_not_a_positive_integer(name: str) -> None:
    """As ``predict`` does: h=-2 used to give max_horizon - 2 steps, h=0 none."""
    ys, ps = _panel()
    model = _build(name).fit(ys, periods=ps)
    for bad in (0, -2, 2.5, True, "3"):
        with pytest.raises(InvalidParameterError, match=r"'h' parameter of .*forward"):
            model.forward(ys, periods=ps, h=bad)
    assert all(len(p.mean) == 3 for p in model.forward(ys, periods=ps, h=3))


@pytest.mark.parametrize("cls", [GlobalKNN, GlobalMLP])
def test_forward_forecasts_equal_predict_from_the_training_ends(cls: type) -> None:
    ys, ps = _panel()
    model = _build("knn" if cls is GlobalKNN else "mlp").fit(ys, periods=ps)
    for p, q in zip(model.forward(ys, periods=ps, h=6), model.predict(6), strict=True):
        np.testing.assert_array_equal(p.mean, q.mean)


def test_shared_scale_is_the_plain_mean_on_windows_without_nan() -> None:
    """GlobalKNN and GlobalMLP used ``mean``; the shared (NaN-aware) scale must give them
    the same bits."""

    class Model(WindowScale):
        season_length = 12

    rng = np.random.default_rng(0)
    win = rng.lognormal(0, 2, (500, 30)) * rng.choice([-1.0, 1.0], (500, 30))
    win[:5, -12:] = 0.0  # last season zero: the whole window's mean
    win[5] = 0.0  # all zero: 1
    plain = np.abs(win[:, -12:]).mean(axis=1)
    plain = np.where(plain > 0, plain, np.abs(win).mean(axis=1))
    plain = np.where(plain > 0, plain, 1.0)
    np.testing.assert_array_equal(Model()._scale(win), plain)
    assert plain[5] == 1.0 and plain[0] == np.abs(win[0]).mean()
