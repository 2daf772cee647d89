"""Rolling-origin backtest: cutoffs, no window ever sees its future, failures recorded."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from engine_fixtures import Spy, fast_gbm, make_panel, seasonal, spy  # noqa: F401 (fixtures)

from forecast.engine import EngineConfig, run_engine
from forecast.errors import ModelError
from forecast.evaluation.backtest import SeriesTask, cutoffs, run_series
from forecast.methods.base import GlobalForecaster, Prediction
from forecast.methods.registry import SPECS, ModelContext, ModelSpec
from forecast.panel import Panel


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((30, 6, 3, 6, 8), (12, 18, 24)),  # n - h - j * step, oldest first
        ((30, 6, 3, 3, 8), (18, 21, 24)),
        ((20, 6, 3, 6, 8), (8, 14)),  # 2 is below min_train
        ((10, 6, 3, 6, 8), ()),  # no window fits
        ((8, 6, 3, 1, 0), (1, 2)),  # min_train below 1 still needs one value
        ((30, 6, 1, 6, 8), (24,)),
    ],
)
def test_cutoffs(args: tuple[int, int, int, int, int], expected: tuple[int, ...]) -> None:
    assert cutoffs(*args) == expected


@pytest.mark.usefixtures("spy")
def test_every_window_trains_on_its_past_only() -> None:
    y = np.arange(1.0, 41.0)  # value = position + 1: the last value seen tells the length
    task = SeriesTask(0, y, None, ("spy",), ModelContext(12, 6), cutoffs(40, 6, 3, 6, 8))
    assert task.cutoffs == (22, 28, 34)
    run = run_series(task, 6)
    assert [len(s) for s in Spy.seen] == [22, 28, 34, 40]  # three windows, then the final fit
    for seen, c in zip(Spy.seen, [22, 28, 34, 40], strict=True):
        np.testing.assert_array_equal(seen, y[:c])
    np.testing.assert_array_equal(run.backtest["spy"][:, 0], [22.0, 28.0, 34.0])
    np.testing.assert_array_equal(run.final["spy"], np.full(6, 40.0))
    assert run.failures == []


@pytest.mark.usefixtures("spy")
def test_failed_fits_are_recorded_and_naive_stands_in() -> None:
    y = np.arange(1.0, 31.0)
    run = run_series(SeriesTask(3, y, None, ("broken",), ModelContext(12, 4), (18, 22)), 4)
    np.testing.assert_array_equal(run.backtest["broken"], [[18.0] * 4, [22.0] * 4])
    np.testing.assert_array_equal(run.final["broken"], [30.0] * 4)
    assert run.failures == [
        "broken at origin 18: RuntimeError: optimizer diverged",
        "broken at origin 22: RuntimeError: optimizer diverged",
        "broken on full series: RuntimeError: optimizer diverged",
    ]


@pytest.mark.usefixtures("spy")
def test_engine_backtest_windows_see_only_their_past() -> None:
    panel = make_panel({"a": np.arange(1.0, 41.0), "b": 100 + np.arange(30.0)})
    result = run_engine(panel, EngineConfig(horizon=6, models=("spy",), n_windows=3))
    bt = result.backtest_models
    a = bt[bt["unique_id"] == "a"]
    # Regular series train on at least 2 seasons (24 values): origin 22 is dropped.
    assert sorted(a["cutoff"].astype(str).unique()) == ["2018-04", "2018-10"]
    # The forecast of every window is the last value before its cutoff (spy = naive).
    first = a.groupby("cutoff")["Spy"].first().to_numpy()
    np.testing.assert_array_equal(first, [28.0, 34.0])
    np.testing.assert_array_equal(a.groupby("cutoff")["y"].first().to_numpy(), [29.0, 35.0])
    # b (30 values, regular needs 24 training values) has a single window.
    assert bt[bt["unique_id"] == "b"]["cutoff"].nunique() == 1


@pytest.mark.usefixtures("fast_gbm")
def test_huge_values_after_the_last_cutoff_change_no_backtest_forecast() -> None:
    """Every model (local, global, ensembles): multiply the actuals of the last window by
    1000; no window forecast may move, while the final forecasts do."""
    rng = np.random.default_rng(0)
    base = {f"s{i}": seasonal(48, seed=i) + rng.normal(0, 1, 48) for i in range(6)}
    cfg = EngineConfig(
        horizon=6, n_windows=3, models=("naive", "theta", "ets", "gbm", "ens_median")
    )
    before = run_engine(make_panel(base), cfg)
    last_cut = 48 - 6
    shocked = {k: np.concatenate([v[:last_cut], v[last_cut:] * 1000]) for k, v in base.items()}
    after = run_engine(make_panel(shocked), cfg)
    models = [c for c in before.backtest_models.columns if c not in ("unique_id", "cutoff", "ds")]
    models = [c for c in models if c not in ("y", "scale")]
    assert {"Naive", "Theta", "AutoETS", "GlobalGBM"} <= set(models)
    assert any(c.startswith("Median(") for c in models)
    pd.testing.assert_frame_equal(before.backtest_models[models], after.backtest_models[models])
    assert not np.allclose(before.forecasts["yhat"], after.forecasts["yhat"])


def test_window_forecasts_ignore_everything_after_their_own_cutoff() -> None:
    """Shock the data right after the oldest cutoff: the oldest window is unchanged, the
    later ones (which train on the shocked values) change."""
    base = {f"s{i}": seasonal(48, seed=i) for i in range(4)}
    cfg = EngineConfig(horizon=6, n_windows=3, models=("theta", "ets"))
    before = run_engine(make_panel(base), cfg).backtest_models
    oldest = 48 - 6 - 2 * 6
    shocked = {k: np.concatenate([v[:oldest], v[oldest:] * 50]) for k, v in base.items()}
    after = run_engine(make_panel(shocked), cfg).backtest_models
    first_cut = before["cutoff"] == before["cutoff"].min()
    for col in ("Theta", "AutoETS"):
        np.testing.assert_array_equal(before.loc[first_cut, col], after.loc[first_cut, col])
        assert not np.allclose(before.loc[~first_cut, col], after.loc[~first_cut, col])


def test_a_zero_after_the_cutoff_does_not_change_the_windows_model_form() -> None:
    """Theta's decomposition and `etsl`'s log form depend on the values being positive:
    decided on the training part of each window, a zero in the last month (an export
    that stopped) leaves the older windows as they were."""
    base = {f"s{i}": seasonal(48, seed=i) for i in range(4)}
    cfg = EngineConfig(horizon=6, n_windows=3, models=("theta", "etsl"))
    before = run_engine(make_panel(base), cfg).backtest_models
    zeroed = dict(base, s0=np.r_[base["s0"][:-1], 0.0])
    after = run_engine(make_panel(zeroed), cfg).backtest_models
    for col in ("Theta", "LogDampedETS"):
        np.testing.assert_array_equal(before[col], after[col])
    # A zero before a cutoff does change that window's form (additive Theta, ETS on the
    # original scale) from then on, and not before.
    early = dict(base, s0=np.r_[base["s0"][:35], 0.0, base["s0"][36:]])
    moved = run_engine(make_panel(early), cfg).backtest_models
    s0 = before["unique_id"] == "s0"
    cut = before["cutoff"].astype(str)
    oldest, last = s0 & (cut == cut[s0].min()), s0 & (cut == cut[s0].max())
    np.testing.assert_array_equal(before.loc[oldest, "Theta"], moved.loc[oldest, "Theta"])
    assert not np.allclose(before.loc[last, "Theta"], moved.loc[last, "Theta"])


def _panel_ending_together(series: dict[str, np.ndarray]) -> Panel:
    """Monthly series of different lengths that all end in December 2019."""
    end = pd.Period("2019-12", freq="M")
    return Panel(
        ids=tuple(series),
        values=tuple(series.values()),
        starts=tuple(end - (len(v) - 1) for v in series.values()),
        freq="M",
        season_length=12,
    )


@pytest.mark.parametrize("model", ["knn", "gbm"])
@pytest.mark.usefixtures("fast_gbm")
def test_global_backtest_ignores_other_series_after_the_oldest_cutoff(model: str) -> None:
    """A shorter series has fewer windows; its values after the long series' oldest cutoff
    are that window's future and must not reach the global model's backtest fit."""
    rng = np.random.default_rng(3)
    base = {f"long{i}": seasonal(48, seed=i) + rng.normal(0, 1, 48) for i in range(3)}
    base["short"] = seasonal(30, seed=7)
    cfg = EngineConfig(horizon=6, n_windows=3, models=("naive", model))
    before = run_engine(_panel_ending_together(base), cfg).backtest_models
    # The long series' oldest cutoff is 2018-06 (48 - 6 - 2 * 6 = 30 values); the short
    # series has only one window (cut 24), and its values from 2018-07 on are shocked.
    shocked = dict(base, short=np.r_[base["short"][:12], base["short"][12:] * 40])
    after = run_engine(_panel_ending_together(shocked), cfg).backtest_models
    oldest = (before["cutoff"] == before["cutoff"].min()) & before["unique_id"].str.startswith(
        "long"
    )
    assert str(before.loc[oldest, "cutoff"].iloc[0]) == "2018-06"
    label = {"knn": "GlobalKNN", "gbm": "GlobalGBM"}[model]
    np.testing.assert_array_equal(before.loc[oldest, label], after.loc[oldest, label])


class _FlakyGlobal(GlobalForecaster):
    """A global model forecasting each series' last value, except NaN for series whose
    last value exceeds ``nan_above`` and an error in ``forward`` when ``fail`` is set."""

    def __init__(self, *, nan_above: float = np.inf, fail: bool = False) -> None:
        self.nan_above = nan_above
        self.fail = fail

    def _fit(self, ys: list[np.ndarray], periods: list[pd.PeriodIndex] | None) -> None:
        self.fitted_ = True

    def forward(
        self, ys: list[np.ndarray], *, periods: list[pd.PeriodIndex] | None = None, h: int
    ) -> list[Prediction]:
        if self.fail:
            raise ModelError("forward broke")
        return [Prediction(np.full(h, np.nan if y[-1] > self.nan_above else y[-1])) for y in ys]

    def _predict(self, h: int, levels: tuple[int, ...]) -> list[Prediction]:
        return self.forward(self.train_ys_, h=h)


def _flaky(monkeypatch: pytest.MonkeyPatch, **params: object) -> None:
    monkeypatch.setitem(
        SPECS, "flaky", ModelSpec("flaky", "Flaky", lambda c: _FlakyGlobal(**params), True)
    )


def test_non_finite_global_forecasts_are_unscored_and_replaced_by_naive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Series "hi" ends above 500 at every origin: the model gives NaN for it there.
    data = {f"s{i}": 100 + np.arange(40.0) + i for i in range(3)} | {"hi": 600 + np.arange(40.0)}
    _flaky(monkeypatch, nan_above=500.0)
    res = run_engine(make_panel(data), EngineConfig(horizon=6, n_windows=2, models=("flaky",)))
    assert "Flaky: 2 backtest forecast(s) not finite; left unscored" in res.notes
    assert "Flaky: 1 final forecast(s) not finite; naive stands in" in res.notes
    hi = res.forecasts[res.forecasts["unique_id"] == "hi"]
    np.testing.assert_array_equal(hi["yhat"], 639.0)  # the naive stand-in
    assert np.isfinite(res.forecasts[["yhat", "lo_95", "hi_95"]].to_numpy()).all()
    assert res.leaderboard.set_index("label").loc["Flaky", "n_rows"] == 6  # 3 series x 2


def test_a_global_model_failing_to_forecast_does_not_stop_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = {f"s{i}": 100 + np.arange(40.0) + i for i in range(3)}
    _flaky(monkeypatch, fail=True)
    res = run_engine(make_panel(data), EngineConfig(horizon=6, models=("flaky", "naive")))
    assert any(
        n.startswith("Flaky: final fit failed (forecasting: ModelError: forward broke)")
        for n in res.notes
    )
    assert set(res.selection["model"]) == {"Naive"}
    assert "flaky" not in res.fitted


class _Recorder(_FlakyGlobal):
    """Records the lengths of the series each fit trains on."""

    trained: ClassVar[list[list[int]]] = []

    def _fit(self, ys: list[np.ndarray], periods: list[pd.PeriodIndex] | None) -> None:
        _Recorder.trained.append(sorted(len(y) for y in ys))
        self.fitted_ = True


def test_global_backtest_cut_is_set_by_regular_series_not_by_short_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Regular series of 30 months have one window (24 values); a short series of 23
    # needs only 3 training values and has windows at 5, 11 and 17. Its two older
    # windows are left unscored for the global model instead of cutting every learner
    # 18 periods back (to 12 values).
    _Recorder.trained = []
    monkeypatch.setitem(SPECS, "gbm", ModelSpec("gbm", "Recorder", lambda c: _Recorder(), True))
    data = {f"r{i}": 100 + np.arange(30.0) + i for i in range(3)} | {"s": 50 + np.arange(23.0)}
    panel = _panel_ending_together(data)
    # Naive beside it: the short series choose among the named ones (see profiles).
    res = run_engine(panel, EngineConfig(horizon=6, n_windows=3, models=("gbm", "naive")))
    backtest_fit, final_fit = _Recorder.trained
    assert backtest_fit == [17, 24, 24, 24]
    assert final_fit == [23, 30, 30, 30]
    assert (
        "Recorder: 2 backtest window(s) of short or early-ending series older than its "
        "backtest fit's cutoff left unscored"
    ) in res.notes
    # Unfitted on 2 of the short series' 3 windows, it leaves the short series' choice.
    assert (
        "Recorder left out of the choice for short series: not fitted on 2 of 3 backtest windows"
    ) in res.notes
    regular = res.leaderboard[res.leaderboard["profile"] == "regular"].set_index("label")
    assert regular.loc["Recorder", "n_rows"] == 3


@pytest.mark.parametrize("model", ["knn", "gbm"])
@pytest.mark.usefixtures("fast_gbm")
def test_early_ending_series_windows_are_not_forecast_by_a_fit_that_saw_their_future(
    model: str,
) -> None:
    """On one calendar, a series that ends a year before the others has windows before
    the global backtest fit's cutoff: the others' values up to that cut are their
    future. Those windows are left unscored (a common shock after them must not reach
    them), while competition-style panels ending at unrelated dates stay end-aligned."""
    rng = np.random.default_rng(5)
    data = {f"r{i}": seasonal(60, seed=i) + rng.normal(0, 1, 60) for i in range(4)}
    data["early"] = seasonal(48, seed=9)
    cfg = EngineConfig(horizon=6, n_windows=2, models=("naive", model))
    res = run_engine(make_panel(data), cfg)  # all start in 2016-01: "early" ends 2019-12
    label = {"knn": "GlobalKNN", "gbm": "GlobalGBM"}[model]
    assert any(
        n.startswith(f"{label}: 2 backtest window(s) of short or early-ending series")
        for n in res.notes
    )
    early = res.backtest_models[res.backtest_models["unique_id"] == "early"]
    assert len(early) == 12 and early[label].isna().all()  # unscored
    assert res.backtest_models.loc[res.backtest_models["unique_id"] != "early", label].notna().all()
    # Series ending at unrelated dates (fewer than half on the last period) are aligned at
    # their ends, as before: every window is forecast by the global model.
    spread = Panel(
        ids=tuple(data),
        values=tuple(data.values()),
        starts=tuple(pd.Period("2016-01", freq="M") + 3 * i for i in range(len(data))),
        freq="M",
        season_length=12,
    )
    res = run_engine(spread, cfg)
    assert not any("early-ending" in n for n in res.notes)
    assert res.backtest_models[label].notna().all()


@pytest.mark.usefixtures("fast_gbm")
def test_series_the_global_model_could_not_be_backtested_on_choose_apart() -> None:
    """Series that end early on one calendar have every global window unscored, so they
    add nothing to a pooled choice of the global model: it would reach them unchecked.
    They choose apart, among the candidates fitted on their windows."""
    rng = np.random.default_rng(5)
    data = {f"r{i}": seasonal(60, seed=i) + rng.normal(0, 1, 60) for i in range(6)}
    # A second data set ending a year earlier: straight lines, which drift forecasts.
    early = [f"e{i}" for i in range(3)]
    data.update({e: 100 + 3 * np.arange(48) + rng.normal(0, 1, 48) for e in early})
    cfg = EngineConfig(horizon=6, n_windows=2, models=("naive", "drift", "gbm"))
    res = run_engine(make_panel(data), cfg)
    sel = res.selection.set_index("unique_id")
    assert (sel.loc[[f"r{i}" for i in range(6)], "model"] == "GlobalGBM").all()
    assert (sel.loc[early, "model"] == "Drift").all()
    assert sel.loc[early, "reason"].str.startswith("early-ending regular series: lowest").all()
    assert (sel.loc[early, "profile"] == "regular").all()
    assert any(
        n.startswith("3 regular series end before the panel's last period, so GlobalGBM")
        for n in res.notes
    )
    lb = res.leaderboard.set_index(["profile", "model"])
    assert set(lb.loc["early-ending regular"].index) == {"naive", "drift"}
    assert lb.loc[("early-ending regular", "drift"), "n_rows"] == 6
    assert lb.loc[("regular", "gbm"), "n_rows"] == 12
    # The issued forecasts are the drift model's: the last value plus the mean step.
    fc = res.forecasts[res.forecasts["unique_id"] == "e0"]["yhat"].to_numpy()
    y = data["e0"]
    step = (y[-1] - y[0]) / (len(y) - 1)
    np.testing.assert_allclose(fc, y[-1] + step * np.arange(1, 7), rtol=1e-9)
    # With every series on the last period there is one group, as before.
    same = {k: v for k, v in data.items() if k.startswith("r")}
    res = run_engine(make_panel(same), cfg)
    assert set(res.leaderboard["profile"]) == {"regular"}
