"""The engine end to end on crafted panels: selection, fallbacks and their reasons,
conformal intervals and their coverage, determinism, and the panel's input errors."""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from engine_fixtures import (  # noqa: F401 (fixtures)
    fast_gbm,
    fast_mlp,
    long_frame,
    make_panel,
    random_walk,
    seasonal,
)

from forecast import engine, profile_choice
from forecast.engine import EngineConfig, EngineResult, forecast_frame, run_engine
from forecast.errors import ConfigError, DataError, InvalidParameterError, ModelError
from forecast.evaluation import calibration, conformal, metrics, profiles
from forecast.evaluation.selection import WindowSet, choose_pooled, paired_gap, score_table
from forecast.methods.base import BaseForecaster, FloatArray, Prediction, Tags
from forecast.methods.registry import ENSEMBLE_MEMBERS, SPECS, ModelSpec
from forecast.panel import Panel

FORECAST_COLUMNS = ["unique_id", "ds", "yhat", "lo_80", "hi_80", "lo_95", "hi_95", "model"]


def selection_of(result: EngineResult, uid: str) -> pd.Series:
    return result.selection.set_index("unique_id").loc[uid]


def forecast_of(result: EngineResult, uid: str) -> pd.DataFrame:
    return result.forecasts[result.forecasts["unique_id"] == uid]


# --------------------------------------------------------------------------- selection
def test_pooled_selection_picks_the_lower_error_candidate() -> None:
    cfg = EngineConfig(horizon=6, models=("naive", "snaive", "mean"))
    seasonal_panel = make_panel({f"s{i}": seasonal(48, seed=i) for i in range(5)})
    res = run_engine(seasonal_panel, cfg)
    assert set(res.selection["model"]) == {"SeasonalNaive"}
    reason = res.selection["reason"].iloc[0]
    # 5 series x 3 windows; seasonal naive's MASE is ~1 by construction of the scale.
    assert re.fullmatch(
        r"regular series: lowest pooled backtest MASE 1\.\d{3} over 15 windows "
        r"\(next: (naive|mean) \d+\.\d{3}\)",
        reason,
    )
    lb = res.leaderboard.set_index("label")
    assert lb.loc["SeasonalNaive", "mase"] < lb.loc["Naive", "mase"] / 5
    assert lb["selected"].to_dict() == {"SeasonalNaive": True, "Naive": False, "Mean": False}
    # The same candidates on random walks: the last value is the better guess.
    walks = make_panel({f"w{i}": random_walk(48, seed=i) for i in range(5)})
    assert set(run_engine(walks, cfg).selection["model"]) == {"Naive"}


def test_pooled_is_one_choice_per_profile_per_series_follows_each_series() -> None:
    data = {f"s{i}": seasonal(48, seed=i) for i in range(3)}
    data |= {f"w{i}": random_walk(48, seed=10 + i) for i in range(3)}
    pooled = run_engine(make_panel(data), EngineConfig(horizon=6, models=("naive", "snaive")))
    assert pooled.selection["model"].nunique() == 1
    own = run_engine(
        make_panel(data),
        EngineConfig(horizon=6, models=("naive", "snaive"), selection="per_series", shrinkage=0.0),
    )
    chosen = own.selection.set_index("unique_id")["model"].to_dict()
    assert chosen == {
        **{f"s{i}": "SeasonalNaive" for i in range(3)},
        **{f"w{i}": "Naive" for i in range(3)},
    }
    assert own.selection["reason"].str.contains("own windows, shrinkage 0").all()


def test_auto_chooses_per_series_when_held_out_windows_say_so() -> None:
    """Two data sets in one profile: seasonal series and random walks. One pooled choice
    serves one of them badly; choosing per series wins on held-out windows, so ``auto``
    adopts it, and the backtest rows show the choice made without their window."""
    data = {f"s{i}": seasonal(48, seed=i) for i in range(12)}
    data |= {f"w{i}": random_walk(48, seed=10 + i) for i in range(12)}
    cfg = EngineConfig(horizon=6, models=("naive", "snaive"))
    res = run_engine(make_panel(data), cfg)
    chosen = res.selection.set_index("unique_id")["model"].to_dict()
    assert chosen == {
        **{f"s{i}": "SeasonalNaive" for i in range(12)},
        **{f"w{i}": "Naive" for i in range(12)},
    }
    assert (
        res.selection["reason"]
        .str.contains(
            r"; per-series choice adopted: held-out MASE \d\.\d{3} against \d\.\d{3} pooled "
            r"\(standard error \d\.\d{3}, 24 series\)$"
        )
        .all()
    )
    merged = res.backtest.merge(res.backtest_models, on=["unique_id", "cutoff", "ds"])
    season = merged[merged["unique_id"].str.startswith("s")]
    np.testing.assert_allclose(season["yhat"], season["SeasonalNaive"])
    pooled = run_engine(make_panel(data), dataclasses.replace(cfg, selection="pooled"))
    assert pooled.selection["model"].nunique() == 1
    # Like series (all seasonal): the pooled choice is kept, and the reason says why.
    like = {k: v for k, v in data.items() if k.startswith("s")}
    res = run_engine(make_panel(like), cfg)
    assert set(res.selection["model"]) == {"SeasonalNaive"}
    assert res.selection["reason"].str.contains("per-series choice not adopted").all()


def test_auto_reports_the_final_and_the_held_out_choices_on_every_window() -> None:
    """With per-series choice adopted, each backtest row holds the choice made without its
    window; ``backtest_final`` holds the final choice on every window and
    ``backtest_folds``, per held-out window, its choice on the other windows."""
    data = {f"s{i}": seasonal(48, seed=i) for i in range(12)}
    data |= {f"w{i}": random_walk(48, seed=10 + i) for i in range(12)}
    cfg = EngineConfig(horizon=6, models=("naive", "snaive", "drift"))
    res = run_engine(make_panel(data), cfg)
    assert res.selection["reason"].str.contains("per-series choice adopted").all()
    assert res.backtest_final is not None and res.backtest_folds is not None
    key = ["unique_id", "cutoff", "ds"]
    wide = res.backtest_models.set_index(key)
    labels = ["Naive", "SeasonalNaive", "Drift"]
    final = res.backtest_final.set_index(key)
    chosen = res.selection.set_index("unique_id")["model"]
    want = [wide.at[k, chosen[k[0]]] for k in final.index]
    np.testing.assert_allclose(final["yhat"], np.maximum(want, 0.0))
    # The candidate each backtest row used, found by its forecasts.
    used = {}
    for (uid, cut), rows in res.backtest.groupby(["unique_id", "cutoff"]):
        cand = wide.loc[list(zip(rows["unique_id"], rows["cutoff"], rows["ds"], strict=True))]
        hits = [c for c in labels if np.allclose(np.maximum(cand[c], 0.0), rows["yhat"])]
        assert len(hits) >= 1
        used[uid, cut] = hits
    folds = res.backtest_folds
    assert list(folds.columns) == ["unique_id", "fold", "cutoff", "ds", "y", "yhat"]
    assert not (folds["fold"] == folds["cutoff"]).any()
    n_windows = res.backtest.groupby("unique_id")["cutoff"].nunique()
    assert len(folds) == int((n_windows * (n_windows - 1) * cfg.horizon).sum())
    for (uid, fold), rows in folds.groupby(["unique_id", "fold"]):
        cand = wide.loc[list(zip(rows["unique_id"], rows["cutoff"], rows["ds"], strict=True))]
        assert any(np.allclose(np.maximum(cand[c], 0.0), rows["yhat"]) for c in used[uid, fold]), (
            uid,
            fold,
        )
    # Not the final choice everywhere: some series chose otherwise without a window.
    both = folds.merge(res.backtest_final, on=key, suffixes=("", "_final"))
    assert (~np.isclose(both["yhat"], both["yhat_final"])).any()
    pooled = run_engine(make_panel(data), dataclasses.replace(cfg, selection="pooled"))
    assert pooled.backtest_final is None and pooled.backtest_folds is None


def test_choose_pooled_ties_break_by_name_and_nan_scores_are_skipped() -> None:
    scores = pd.DataFrame(
        {"model": ["theta", "ets", "bad"], "mase": [0.8, 0.8, np.nan], "n_rows": [9, 9, 9]}
    )
    best, why = choose_pooled(scores, "mase")
    assert best == "ets"
    assert why == "lowest pooled backtest MASE 0.800 over 9 windows (next: theta 0.800)"


def _two_candidates(gain: float, n_series: int = 200, seed: int = 0) -> WindowSet:
    """Backtest rows (two windows per series) where ``ens_median`` is ``gain`` better on
    average than ``ens_mean``, with series-level noise of 0.1 in their difference."""
    rng = np.random.default_rng(seed)
    series = np.repeat(np.arange(n_series), 2)
    actual = np.ones((2 * n_series, 3))
    # Absolute errors of ens_mean 1.0 per row; ens_median differs by -gain + noise.
    noise = np.repeat(rng.normal(0, 0.1, n_series), 2)
    mean_f = actual + 1.0
    median_f = actual + (1.0 - gain + noise)[:, None]
    return WindowSet(
        series,
        actual,
        np.ones(2 * n_series),
        np.ones(2 * n_series),
        {"ens_mean": mean_f, "ens_median": median_f},
    )


def test_choose_pooled_keeps_equal_weights_unless_clearly_beaten() -> None:
    # SE of the paired difference: 0.1 / sqrt(200) ~ 0.007.
    close = _two_candidates(gain=0.003)
    best, why = choose_pooled(score_table(close), "mase", close, prefer="ens_mean")
    assert best == "ens_mean"
    assert "within one standard error (0.007) of the lowest, ens_median 0.99" in why
    assert choose_pooled(score_table(close), "mase")[0] == "ens_median"  # without the rule
    clear = _two_candidates(gain=0.05)
    best, why = choose_pooled(score_table(clear), "mase", clear, prefer="ens_mean")
    assert best == "ens_median"
    assert why.endswith("0.048 below ens_mean (more than its standard error 0.007)")


def test_paired_gap_treats_a_series_windows_as_one_unit() -> None:
    ws = _two_candidates(gain=0.0, n_series=50, seed=1)
    gap, se = paired_gap(ws, "ens_mean", "ens_median", "mase")
    per_series = -(ws.forecasts["ens_median"][::2, 0] - 2.0)  # mean error - median error
    assert gap == pytest.approx(per_series.mean())
    assert se == pytest.approx(per_series.std(ddof=1) / np.sqrt(50))


def _one_series(median_errors: list[float]) -> WindowSet:
    """One series, one row per window; ens_mean's absolute error is 1 in every window."""
    n = len(median_errors)
    return WindowSet(
        np.zeros(n, dtype=int),
        np.ones((n, 3)),
        np.ones(n),
        np.ones(n),
        {
            "ens_mean": np.full((n, 3), 2.0),
            "ens_median": 1.0 + np.repeat(np.array(median_errors)[:, None], 3, axis=1),
        },
    )


def test_one_series_is_weighed_by_its_windows_and_one_window_not_at_all() -> None:
    # Differences 0.05, -0.02, 0.03 over three windows: gap 0.02, standard error 0.021.
    close = _one_series([0.95, 1.02, 0.97])
    best, why = choose_pooled(score_table(close), "mase", close, prefer="ens_mean")
    assert best == "ens_mean" and "within one standard error (0.021)" in why
    clear = _one_series([0.2, 0.6, 0.3])
    best, why = choose_pooled(score_table(clear), "mase", clear, prefer="ens_mean")
    assert best == "ens_median" and "0.633 below ens_mean" in why
    one = _one_series([0.95])
    best, why = choose_pooled(score_table(one), "mase", one, prefer="ens_mean")
    assert best == "ens_median" and why.endswith("(too few windows to weigh against ens_mean)")


def test_the_engine_prefers_equal_weights_only_when_they_are_a_candidate(monkeypatch) -> None:
    import forecast.profile_choice as choice_module

    seen: list[str | None] = []

    def spy(scores, metric, ws=None, prefer=None):
        seen.append(prefer)
        return choose_pooled(scores, metric, ws, prefer)

    monkeypatch.setattr(choice_module, "choose_pooled", spy)
    panel = make_panel({f"s{i}": seasonal(48, seed=i, noise=0.3) for i in range(4)})
    run_engine(panel, EngineConfig(horizon=6, models=("theta", "ets", "ens_mean", "ens_median")))
    run_engine(panel, EngineConfig(horizon=6, models=("theta", "ets", "ens_median")))
    assert seen == ["ens_mean", None]


def test_ensembles_combine_member_forecasts() -> None:
    panel = make_panel({f"s{i}": seasonal(48, seed=i, noise=0.1) for i in range(4)})
    cfg = EngineConfig(horizon=6, models=("theta", "ets", "naive", "ens_mean", "ens_median"))
    res = run_engine(panel, cfg)
    bt = res.backtest_models
    # naive is not an ensemble member: the ensembles combine Theta and AutoETS.
    np.testing.assert_allclose(
        bt["Mean(Theta, AutoETS)"], (bt["Theta"] + bt["AutoETS"]) / 2, rtol=1e-12
    )
    np.testing.assert_allclose(bt["Median(Theta, AutoETS)"], bt["Mean(Theta, AutoETS)"])
    assert set(res.leaderboard["label"]) == {
        "Theta",
        "AutoETS",
        "Naive",
        "Mean(Theta, AutoETS)",
        "Median(Theta, AutoETS)",
    }


# --------------------------------------------------------------------------- fallbacks
@pytest.fixture(scope="module")
def mixed() -> EngineResult:
    """One panel with every awkward kind of series."""
    rng = np.random.default_rng(1)
    gaps = seasonal(48, seed=3)
    gaps[[10, 11]] = np.nan
    intermittent = np.where(rng.random(48) < 0.45, 0.0, rng.poisson(8, 48) + 1.0)
    data = {
        "reg0": seasonal(48, seed=0),
        "reg1": seasonal(48, seed=1),
        "tiny": [3.0, 5.0, 4.0],
        "constant": [7.0] * 30,
        "zeros": [0.0] * 30,
        "negative": -200 + seasonal(48, seed=2, noise=0.05),
        "gaps": gaps,
        "intermittent": intermittent,
        "short": seasonal(14, seed=4, noise=0.1),
    }
    frame = long_frame(data).dropna()
    late = long_frame({"late": seasonal(30, seed=5)}, start="2017-07-01")
    models = ("naive", "snaive", "theta", "ets", "ens_median")
    return forecast_frame(pd.concat([frame, late]), EngineConfig(horizon=6, models=models))


@pytest.mark.parametrize(
    ("uid", "profile", "model", "reason"),
    [
        ("tiny", "tiny", "Naive", "tiny series: fewer than 4 observations, last value carried"),
        ("constant", "constant", "Naive", "constant series: every value is the same"),
        ("zeros", "zero", "Naive", "zero series: every value is 0, forecast 0"),
        ("short", "short", None, "short series: "),
        ("intermittent", "intermittent", None, "intermittent series: lowest pooled"),
        ("negative", "regular", None, "regular series: lowest pooled backtest MASE"),
        ("late", "regular", None, "regular series: lowest pooled backtest MASE"),
    ],
)
def test_profiles_and_reasons(
    mixed: EngineResult, uid: str, profile: str, model: str | None, reason: str
) -> None:
    row = selection_of(mixed, uid)
    assert row["profile"] == profile
    assert row["reason"].startswith(reason)
    if model is not None:
        assert row["model"] == model


def test_output_columns_and_order(mixed: EngineResult) -> None:
    assert list(mixed.forecasts.columns) == FORECAST_COLUMNS
    ids = ["reg0", "reg1", "tiny", "constant", "zeros", "negative", "gaps", "intermittent"]
    ids = sorted([*ids, "short", "late"])  # sorted, whatever the input's row order
    assert list(mixed.selection["unique_id"]) == ids
    assert list(mixed.forecasts["unique_id"].drop_duplicates()) == ids
    assert len(mixed.forecasts) == 6 * len(ids)
    assert np.isfinite(mixed.forecasts.drop(columns=["unique_id", "ds", "model"])).all().all()


def test_constant_and_zero_series_forecast_their_value(mixed: EngineResult) -> None:
    np.testing.assert_array_equal(forecast_of(mixed, "constant")["yhat"], 7.0)
    zeros = forecast_of(mixed, "zeros")
    for col in ("yhat", "lo_80", "hi_80", "lo_95", "hi_95"):
        np.testing.assert_array_equal(zeros[col], 0.0)


def test_tiny_series_carry_the_last_value(mixed: EngineResult) -> None:
    tiny = forecast_of(mixed, "tiny")
    np.testing.assert_array_equal(tiny["yhat"], 4.0)
    assert list(tiny["ds"].astype(str)) == [f"2016-{m:02d}" for m in range(4, 10)]
    assert selection_of(mixed, "tiny")["n_windows"] == 0


def test_negative_series_are_not_clipped_and_use_additive_theta(mixed: EngineResult) -> None:
    neg = forecast_of(mixed, "negative")
    assert (neg["yhat"] < -50).all() and (neg["hi_95"] < 0).any()
    assert (neg["lo_95"] < neg["yhat"]).all()
    # Multiplicative Theta would fail on negative values and leave a failure note.
    assert not [n for n in mixed.notes if n.startswith("negative:")]
    bt = mixed.backtest_models
    theta = bt.loc[bt["unique_id"] == "negative", "Theta"]
    naive = bt.loc[bt["unique_id"] == "negative", "Naive"]
    assert not np.allclose(theta, naive)  # real Theta forecasts, not the naive stand-in


def test_missing_values_inside_the_span_are_interpolated_and_noted(mixed: EngineResult) -> None:
    assert "gaps: 2 missing period(s) interpolated" in mixed.notes
    assert selection_of(mixed, "gaps")["n_obs"] == 48
    assert np.isfinite(forecast_of(mixed, "gaps")["yhat"]).all()


def test_series_that_start_late_keep_their_own_calendar(mixed: EngineResult) -> None:
    late = selection_of(mixed, "late")
    assert late["n_obs"] == 30 and late["n_windows"] == 1
    ds = forecast_of(mixed, "late")["ds"].astype(str)
    assert list(ds) == [f"2020-{m:02d}" for m in range(1, 7)]


def test_intermittent_series_use_intermittent_demand_methods(mixed: EngineResult) -> None:
    lb = mixed.leaderboard[mixed.leaderboard["profile"] == "intermittent"]
    assert set(lb["label"]) == {"Croston", "CrostonSBA", "TSB", "Mean", "Naive"}
    # intermittent demand is chosen by RMSSE: MASE cannot tell apart forecasts between
    # zero and the order size
    best = lb.sort_values(["rmsse", "model"])["label"].iloc[0]
    assert selection_of(mixed, "intermittent")["model"] == best
    assert "RMSSE" in selection_of(mixed, "intermittent")["reason"]


def test_named_models_narrow_the_short_series_choice_and_train_no_global_model() -> None:
    """A cheap ``--models naive,theta`` reaches the short series too: they choose between
    Naive and Theta, and the global model of the short set is never trained."""
    data = {f"reg{i}": seasonal(48, seed=i) for i in range(3)}
    data |= {f"short{i}": seasonal(14, seed=10 + i, noise=0.1) for i in range(3)}
    res = run_engine(make_panel(data), EngineConfig(horizon=6, models=("naive", "theta")))
    short = res.leaderboard[res.leaderboard["profile"] == "short"]
    assert sorted(short["label"]) == ["Naive", "Theta"]
    assert res.fitted == {}
    assert set(res.selection.loc[res.selection["profile"] == "short", "model"]) <= {
        "Naive",
        "Theta",
    }
    # Named models none of which suits short series leave them their own set, noted.
    res = run_engine(make_panel(data), EngineConfig(horizon=6, models=("snaive",)))
    short = res.leaderboard[res.leaderboard["profile"] == "short"]
    assert {"Naive", "Drift", "Mean", "Theta", "AutoETS"} <= set(short["label"])
    assert any(n.startswith("short series: none of the models asked for") for n in res.notes)


def test_croston_wins_on_growing_intermittent_demand() -> None:
    """Demand every 2nd and 3rd period in turn, sizes growing: Croston tracks the recent
    rate, the mean lags behind and the last value swings between 0 and a full order.
    (Under absolute error any forecast between 0 and the order size scores alike, so
    squared error decides.) The gaps of 2 and 3 repeat every 5 periods, so the zeros do
    not come back in the same months each year: this is not a seasonal pattern."""
    t = np.arange(48)
    data = {
        f"i{k}": np.where(np.isin((t + k) % 5, (0, 2)), 10.0 + k + 0.5 * t, 0.0) for k in range(4)
    }
    res = run_engine(make_panel(data), EngineConfig(horizon=6, models=("naive",), metric="rmsse"))
    assert set(res.selection["profile"]) == {"intermittent"}
    assert set(res.selection["model"]) == {"Croston"}
    lb = res.leaderboard.set_index("label")["rmsse"]
    assert lb["Croston"] < lb["Mean"] and lb["Croston"] < lb["Naive"] - 0.2


def test_negative_series_with_many_zeros_are_not_intermittent() -> None:
    """Croston-type methods model positive demand sizes; on negative values TSB fails."""
    rng = np.random.default_rng(0)
    y = np.where(rng.random(40) < 0.5, 0.0, -5.0 - rng.random(40))
    res = run_engine(make_panel({"a": y}), EngineConfig(horizon=6, models=("naive", "theta")))
    assert selection_of(res, "a")["profile"] == "regular"
    assert not [n for n in res.notes if "tsb" in n]


@pytest.mark.usefixtures("fast_gbm")
def test_global_model_that_cannot_train_falls_back_to_naive() -> None:
    """Every series shorter than horizon + 2: the GBM has nothing to learn from."""
    rng = np.random.default_rng(0)
    data = {"a": 50 + rng.normal(0, 2, 10), "b": 60 + rng.normal(0, 2, 12)}
    res = run_engine(make_panel(data), EngineConfig(horizon=12, models=("default",)))
    assert set(res.selection["profile"]) == {"short"}
    assert any(n.startswith("GlobalGBM: final fit failed") for n in res.notes)
    assert np.isfinite(res.forecasts["yhat"]).all()


def test_ensembles_alone_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"at least one model besides ensembles; got"):
        EngineConfig(horizon=6, models=("ens_median", "ens_mean"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, r"horizon must be a positive integer; got 0"),
        ({"horizon": 2.5}, r"horizon must be a positive integer; got 2\.5"),
        ({"horizon": 6, "cum_periods": (3, -1)}, r"cumulative period length .* got \[3, -1\]"),
        ({"horizon": 6, "cum_periods": (0,)}, r"cumulative period length .* got \[0\]"),
        ({"horizon": 6, "shrinkage": -1.0}, r"shrinkage must be a finite 0 or more; got -1\.0"),
        ({"horizon": 6, "shrinkage": float("inf")}, r"shrinkage must be a finite 0 or more"),
        ({"horizon": 6, "levels": (80, 100)}, r"between 0 and 100 .* got \[80, 100\]"),
    ],
)
def test_bad_engine_settings_are_refused_with_the_value(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        EngineConfig(**kwargs)  # type: ignore[arg-type]


def test_leaderboard_is_ordered_by_the_error_each_profile_was_chosen_on() -> None:
    # a has the lower MASE and b the lower RMSSE in both profiles; intermittent series are
    # chosen by RMSSE when the metric is MASE, so their order differs.
    rows = [
        pd.DataFrame(
            {
                "model": ["a", "b"],
                "label": ["A", "B"],
                "n_rows": [10, 10],
                "mase": [0.8, 0.9],
                "rmsse": [1.2, 1.1],
                "smape": [20.0, 10.0],
                "bias": [0.0, 0.0],
                "selected": [True, False],
                "profile": profile,
            }
        )
        for profile in ("regular", "intermittent")
    ]
    coverage = pd.DataFrame({"profile": ["regular", "intermittent"], "coverage_80": [0.8, 0.8]})
    order = lambda lb, p: lb.loc[lb["profile"] == p, "model"].tolist()  # noqa: E731
    lb = engine._leaderboard(rows, coverage, "mase")
    assert order(lb, "regular") == ["a", "b"]
    assert order(lb, "intermittent") == ["b", "a"]
    lb = engine._leaderboard(rows, coverage, "smape")
    assert order(lb, "regular") == ["b", "a"] == order(lb, "intermittent")


def test_calendar_models_are_left_out_of_integer_indexed_panels() -> None:
    frame = pd.DataFrame({"unique_id": "a", "ds": range(40), "y": seasonal(40, seed=0)})
    res = forecast_frame(frame, EngineConfig(horizon=6, models=("prophet", "theta")))
    assert res.notes[0] == (
        "ProphetTet left out: it needs dates in ds (this input has an integer time index)."
    )
    assert not any("Prophet" in n for n in res.notes[1:])
    assert set(res.leaderboard["label"]) == {"Theta"}
    with pytest.raises(ConfigError, match=r"needs dates in ds .* no other candidate model"):
        forecast_frame(frame, EngineConfig(horizon=6, models=("prophet",)))


# --------------------------------------------------------------------------- intervals
def test_calibrate_uses_split_conformal_order_statistics() -> None:
    err = np.arange(-9.0, 10.0)[:, None] * np.array([[1.0, 2.0]])  # 19 rows, 2 steps
    cal = conformal.calibrate(err, (80,))
    # n = 19, a = 0.2: lower = floor(20 * 0.1) = 2nd smallest, upper = ceil(20 * 0.9) = 18th
    np.testing.assert_array_equal(cal.lo[80], [-8.0, -16.0])
    np.testing.assert_array_equal(cal.hi[80], [8.0, 16.0])
    assert cal.n_errors == 19


def test_calibrated_offsets_never_narrow_with_the_horizon() -> None:
    """Per-step order statistics are noisy; a later step is at least as wide as an
    earlier one. Here step 2's own 80% bounds (-4 and 4) are narrower than step 1's
    (-8 and 8): the monotone least-squares fit pools the two at their mean."""
    err = np.arange(-9.0, 10.0)[:, None] * np.array([[1.0, 0.5, 3.0]])
    cal = conformal.calibrate(err, (80, 95))
    np.testing.assert_array_equal(cal.lo[80], [-6.0, -6.0, -24.0])
    np.testing.assert_array_equal(cal.hi[80], [6.0, 6.0, 24.0])
    for lv in (80, 95):
        assert (np.diff(cal.lo[lv]) <= 0).all() and (np.diff(cal.hi[lv]) >= 0).all()


def test_offsets_of_steps_with_one_sign_do_not_close_the_interval() -> None:
    """Errors all positive at steps 1-3 and all negative at steps 4-6 (a bias by step, as
    a seasonal series on one calendar gives): the upper offsets of the later steps are
    cut at 0 before the monotone fit, so they cannot pull the earlier ones to 0, and no
    bound is the point itself (review 12, R1)."""
    rng = np.random.default_rng(3)
    err = np.abs(rng.normal(1.0, 0.5, (60, 6))) * np.array([1, 1, 1, -3, -3, -3])
    cal = conformal.calibrate(err, (80, 95))
    for lv in (80, 95):
        assert (cal.hi[lv] > 0.3).all() and (cal.lo[lv] < -0.3)[3:].all()
        assert (np.diff(cal.lo[lv]) <= 0).all() and (np.diff(cal.hi[lv]) >= 0).all()
    # the upper offsets of the later steps count as 0 in the monotone fit, which pools
    # all six steps at the mean of the clamped order statistics
    ranked = np.sort(err, axis=0)
    top = np.maximum(ranked[int(np.ceil(61 * 0.9)) - 1], 0.0)  # 80%: the 55th of 60
    np.testing.assert_allclose(cal.hi[80], np.full(6, top.mean()))


def _off_season_panel(n_series: int, n: int, seed: int) -> dict[str, np.ndarray]:
    """Products sold from October to March only, peaking at Tết; 0 the other months."""
    rng = np.random.default_rng(seed)
    month = np.arange(n) % 12  # January first
    shape = np.where((month >= 9) | (month <= 2), 80 + 60 * np.cos(2 * np.pi * (month - 1) / 12), 0)
    return {
        f"s{i:02d}": np.round(shape * rng.uniform(0.5, 2.0) * rng.lognormal(0, 0.15, n), 1)
        for i in range(n_series)
    }


def test_off_season_zeros_keep_seasonal_models_and_covering_intervals() -> None:
    """Half a year of zeros every year is a season, not intermittent demand: the series
    stay regular, the forecasts are seasonal (0 off season, high at Tết), and the held-out
    year is covered near the nominal level (review 12, R1: a flat mean, 80% coverage 0.22,
    zero-width intervals)."""
    full = _off_season_panel(30, 84, seed=4)
    train = {k: v[:72] for k, v in full.items()}
    res = run_engine(
        make_panel(train), EngineConfig(horizon=12, models=("snaive", "theta", "etsd"))
    )
    assert set(res.selection["profile"]) == {"regular"}
    fc = res.forecasts
    actual = np.concatenate([full[k][72:] for k in train])
    yhat = fc["yhat"].to_numpy()
    off = np.tile((np.arange(12) >= 3) & (np.arange(12) <= 8), 30)
    # never sold from April to September: forecast 0 there, whatever the model carried over
    assert (yhat[off] == 0).all() and yhat[~off].min() > 20
    assert (fc["hi_95"].to_numpy()[off] > 0).all()  # a first sale there stays possible
    # ... and the engine says which rows those are, for reconciliation to keep them at 0
    pd.testing.assert_frame_equal(
        res.closed, fc.loc[off, ["unique_id", "ds"]].reset_index(drop=True)
    )
    mae = np.abs(actual - yhat).mean()
    assert mae < 0.5 * np.abs(actual - actual.mean()).mean()
    cov80 = np.mean((fc["lo_80"] <= actual) & (actual <= fc["hi_80"]))
    cov95 = np.mean((fc["lo_95"] <= actual) & (actual <= fc["hi_95"]))
    assert 0.65 <= cov80 <= 0.95 and cov95 >= 0.85
    on = ~off
    assert (fc["hi_80"].to_numpy()[on] > yhat[on]).all()


def test_closed_positions_are_the_months_never_sold_in_every_cycle() -> None:
    """Forecast steps fall on positions counted from the series' own first value; a
    position sold in one cycle is not closed; random zeros and negative values close none."""
    year = np.array([5.0, 6, 7, 0, 0, 0, 0, 0, 0, 8, 9, 10])
    y = np.tile(year, 3)[2:]  # starts in March: steps continue from its last value
    closed = profiles.closed_positions(y, 12, 14)
    future_months = (np.arange(len(y), len(y) + 14) + 2) % 12
    np.testing.assert_array_equal(closed, (future_months >= 3) & (future_months <= 8))
    once = y.copy()
    once[5] = 1.0  # sold once in August of the first year (position 7 of the year)
    closed_once = profiles.closed_positions(once, 12, 12)
    months = (np.arange(len(y), len(y) + 12) + 2) % 12
    assert not closed_once[months == 7].any() and closed_once[months == 4].all()
    assert not profiles.closed_positions(-y, 12, 12).any()
    slow = np.random.default_rng(1).poisson(0.5, 36).astype(float)  # zeros not a season
    assert not profiles.seasonal_zeros(slow, 12)
    assert not profiles.closed_positions(slow, 12, 12).any()


def test_zeros_before_the_first_sale_are_left_out_with_a_note() -> None:
    """A product launched late whose earlier months were written as 0 is forecast as if
    those rows were absent (review 12, R2: 24 leading zeros made it intermittent and naive)."""
    data = {f"p{i}": seasonal(60, seed=i, noise=0.05) for i in range(12)}
    late = {k: np.concatenate([np.zeros(24), v[24:]]) for k, v in list(data.items())[:4]}
    with_zeros = make_panel({**data, **late})
    cfg = EngineConfig(horizon=12, models=("snaive", "theta"))
    res = run_engine(with_zeros, cfg)
    trimmed = Panel(
        ids=with_zeros.ids,
        values=tuple(
            v[24:] if k in late else v
            for k, v in zip(with_zeros.ids, with_zeros.values, strict=True)
        ),
        starts=tuple(
            s + 24 if k in late else s
            for k, s in zip(with_zeros.ids, with_zeros.starts, strict=True)
        ),
        freq="M",
        season_length=12,
    )
    ref = run_engine(trimmed, cfg)
    pd.testing.assert_frame_equal(res.forecasts, ref.forecasts)
    assert (res.selection.set_index("unique_id").loc[list(late), "profile"] == "regular").all()
    assert any(n.startswith("p0: 24 zero value(s) before the first non-zero") for n in res.notes)
    # a series with a negative value keeps its zeros: they are values, not a late start
    signed = profiles.trim_leading_zeros(make_panel({"x": [0.0, 0.0, -1.0, 2.0, 3.0]}))
    assert signed[1] == [] and len(signed[0].values[0]) == 5


def test_cumulative_quantiles_are_calibrated_as_the_step_intervals() -> None:
    rng = np.random.default_rng(0)
    err = rng.normal(0, 1, (16, 6))
    cal = conformal.calibrate(err[:, :1], (80, 95))
    cum = conformal.cumulative_quantiles(err, (1, 3))
    qs = list(conformal.CUM_QUANTILES)
    # k = 1 uses the first step's errors with the same rule as its own 80% and 95%
    # bounds (16 errors are too few for plain 95% ranks: normal extrapolation for both).
    assert cum[1][qs.index(0.025)] == pytest.approx(cal.lo[95][0])
    assert cum[1][qs.index(0.975)] == pytest.approx(cal.hi[95][0])
    assert cum[1][qs.index(0.1)] == pytest.approx(cal.lo[80][0])
    assert cum[1][qs.index(0.9)] == pytest.approx(cal.hi[80][0])
    assert cum[3][qs.index(0.5)] == pytest.approx(np.median(err[:, :3].sum(axis=1)))
    assert (np.diff(cum[3]) >= 0).all()


def test_cumulative_quantiles_without_errors_follow_a_random_walk_not_a_point() -> None:
    cum = conformal.cumulative_quantiles(np.zeros((0, 6)), (1, 3))
    qs = list(conformal.CUM_QUANTILES)
    # Sum of the first k errors of a random walk: sd 1.25 * sqrt(k (k + 1) (2k + 1) / 6).
    assert cum[1][qs.index(0.975)] == pytest.approx(1.959964 * 1.25, rel=1e-6)
    assert cum[3][qs.index(0.975)] == pytest.approx(1.959964 * 1.25 * np.sqrt(14), rel=1e-6)
    assert cum[3][qs.index(0.025)] == pytest.approx(-cum[3][qs.index(0.975)])
    assert cum[3][qs.index(0.5)] == 0.0


def test_calibrate_extrapolates_when_errors_are_too_few_for_the_level() -> None:
    """8 errors: no order statistic lies beyond the sample, which would make the 95% and
    80% intervals both the sample range; tails beyond it come from a normal fit, joined
    with the same spread around 0 (a bias seen in 8 errors does not close the other side)."""
    err = np.arange(1.0, 9.0)[:, None]  # mean 4.5, sd 2.449
    cal = conformal.calibrate(err, (80, 95))
    sd = np.std(np.arange(1.0, 9.0), ddof=1)
    # 80%: 4.5 + 1.2816 sd = 7.64 lies inside the range (8 kept); below, 0 - 1.2816 sd.
    np.testing.assert_allclose([cal.lo[80][0], cal.hi[80][0]], [-1.281552 * sd, 8.0], rtol=1e-6)
    # 95%: -1.96 sd / 4.5 + 1.96 sd = 9.30, wider than the range.
    np.testing.assert_allclose(cal.lo[95], [-1.959964 * sd], rtol=1e-6)
    np.testing.assert_allclose(cal.hi[95], [4.5 + 1.959964 * sd], rtol=1e-6)
    assert cal.hi[95][0] == pytest.approx(9.300, abs=1e-3)
    # With enough errors the order statistics stand: 39 errors reach rank 39 for 95%.
    many = conformal.calibrate(np.arange(1.0, 40.0)[:, None], (95,))
    # (offsets are cut at 0, as the bounds contain the point: the lowest error, 1, gives 0)
    assert (many.lo[95][0], many.hi[95][0]) == (0.0, 39.0)


def test_few_errors_of_one_sign_do_not_close_the_other_side() -> None:
    """Six negative errors (forecasts a little too high every time): the upper bound used
    to be the point forecast itself at 80% and 95%."""
    err = -np.array([0.10, 0.15, 0.20, 0.22, 0.28, 0.32])[:, None]
    cal = conformal.calibrate(err, (80, 95))
    sd = err.std(ddof=1)
    np.testing.assert_allclose(cal.hi[95], [1.959964 * sd], rtol=1e-6)
    np.testing.assert_allclose(cal.hi[80], [1.281552 * sd], rtol=1e-6)
    assert cal.lo[95][0] == pytest.approx(err.mean() - 1.959964 * sd)
    # Only exact fits (errors all 0): a random walk's spread, not a zero-width interval.
    exact = conformal.calibrate(np.zeros((10, 3)), (95,))
    np.testing.assert_allclose(exact.hi[95], 1.959964 * 1.25 * np.sqrt([1, 2, 3]), rtol=1e-6)
    cum = conformal.cumulative_quantiles(np.zeros((10, 3)), (1,), (0.975,))
    assert cum[1][0] == pytest.approx(1.959964 * 1.25, rel=1e-6)


def test_small_panels_get_wider_95_than_80_intervals() -> None:
    data = {f"s{i}": seasonal(48, seed=i, noise=0.05) for i in range(4)}
    res = run_engine(make_panel(data), EngineConfig(horizon=6, models=("theta", "snaive")))
    f = res.forecasts
    assert ((f["hi_95"] - f["lo_95"]) > (f["hi_80"] - f["lo_80"]) + 1e-9).all()


def test_without_any_backtest_error_intervals_follow_a_random_walk_not_zero_width() -> None:
    cal = conformal.calibrate(np.zeros((0, 4)), (80, 95))
    np.testing.assert_allclose(cal.hi[95], 1.959964 * 1.25 * np.sqrt([1, 2, 3, 4]), rtol=1e-6)
    np.testing.assert_allclose(cal.lo[80], -1.281552 * 1.25 * np.sqrt([1, 2, 3, 4]), rtol=1e-6)
    # zeros then one sale: every backtest window has a zero scale, so no usable error
    res = run_engine(make_panel({"s": np.r_[np.zeros(20), 6.0]}), EngineConfig(horizon=3))
    f = res.forecasts
    assert ((f["hi_95"] - f["lo_95"]) > 0).all()
    assert ((f["hi_95"] - f["lo_95"]) > (f["hi_80"] - f["lo_80"])).all()


def test_exact_errors_of_zero_series_do_not_shrink_borrowed_intervals() -> None:
    # Four short random walks have too few errors of their own and borrow the panel's;
    # the exact (zero) backtest errors of all-zero series must not be among them.
    walks = {f"w{i}": random_walk(30, seed=i) for i in range(4)}
    cfg = EngineConfig(horizon=3, models=("naive", "theta"))
    alone = run_engine(make_panel(walks), cfg).forecasts
    zeros = {f"z{i}": np.zeros(30) for i in range(40)}
    mixed = run_engine(make_panel(walks | zeros), cfg).forecasts
    mixed = mixed[mixed["unique_id"].str.startswith("w")].reset_index(drop=True)
    width = alone["hi_80"] - alone["lo_80"]
    assert (width > 0).all()
    np.testing.assert_allclose(mixed["hi_80"] - mixed["lo_80"], width)
    np.testing.assert_allclose(mixed["hi_95"] - mixed["lo_95"], alone["hi_95"] - alone["lo_95"])


def test_intervals_nested_contain_the_point_and_clip_at_zero() -> None:
    cal = conformal.Calibration(
        lo={80: np.array([-1.0, 0.5]), 95: np.array([-0.5, -3.0])},
        hi={80: np.array([1.0, 2.0]), 95: np.array([0.5, 4.0])},
        n_errors=100,
    )
    lo, hi = conformal.intervals(np.array([[1.0, 10.0]]), np.array([2.0]), cal, nonnegative=True)
    # 80%: 1 - 2 = -1 -> 0; the positive lower offset 0.5 is capped at 0 (point inside).
    np.testing.assert_array_equal(lo[80], [[0.0, 10.0]])
    np.testing.assert_array_equal(hi[80], [[3.0, 14.0]])
    # 95% is widened to contain the 80% interval.
    np.testing.assert_array_equal(lo[95], [[0.0, 4.0]])
    np.testing.assert_array_equal(hi[95], [[3.0, 18.0]])


def test_engine_intervals_nested_and_nonnegative(mixed: EngineResult) -> None:
    f = mixed.forecasts
    assert (f["lo_95"] <= f["lo_80"]).all() and (f["lo_80"] <= f["yhat"]).all()
    assert (f["yhat"] <= f["hi_80"]).all() and (f["hi_80"] <= f["hi_95"]).all()
    nonneg = f[f["unique_id"] != "negative"]
    assert (nonneg[["yhat", "lo_80", "lo_95"]] >= 0).all().all()
    assert (f["hi_95"] - f["lo_95"] > 0).sum() > len(f) / 2


def _ar_seasonal_panel(n_series: int, n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    t = np.arange(n)
    for i in range(n_series):
        level = rng.uniform(50, 500)
        noise = np.zeros(n)
        e = rng.normal(0, rng.uniform(0.03, 0.1) * level, n)
        for k in range(1, n):
            noise[k] = 0.5 * noise[k - 1] + e[k]
        season = rng.uniform(0, 0.3) * level * np.sin(2 * np.pi * t / 12 + rng.uniform(0, 6))
        out[f"s{i}"] = level + season + noise + rng.uniform(-0.5, 0.5) * t
    return out


def test_conformal_coverage_is_near_nominal_on_future_data() -> None:
    h, n = 6, 60
    data = _ar_seasonal_panel(300, n + h, seed=42)
    train = make_panel({k: v[:n] for k, v in data.items()})
    res = run_engine(train, EngineConfig(horizon=h, models=("theta", "snaive")))
    actual = np.concatenate([v[n:] for v in data.values()])
    f = res.forecasts
    cov95 = np.mean((actual >= f["lo_95"]) & (actual <= f["hi_95"]))
    cov80 = np.mean((actual >= f["lo_80"]) & (actual <= f["hi_80"]))
    assert 0.90 <= cov95 <= 0.99
    assert 0.72 <= cov80 <= 0.88
    # The cross-fitted backtest estimate in the leaderboard agrees with the future.
    sel = res.leaderboard[res.leaderboard["selected"]].iloc[0]
    assert abs(sel["coverage_95"] - cov95) < 0.04


def _growing_panel(n_series: int, n: int, seed: int) -> dict[str, np.ndarray]:
    """Multiplicative growth of 0.5-3% a month with random-walk and seasonal log noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    out = {}
    for i in range(n_series):
        log_y = (
            np.log(rng.uniform(50, 500))
            + rng.uniform(0.005, 0.03) * t
            + np.cumsum(rng.normal(0, 0.03, n))
            + 0.15 * np.sin(2 * np.pi * t / 12 + rng.uniform(0, 6))
            + rng.normal(0, 0.05, n)
        )
        out[f"g{i}"] = np.exp(log_y)
    return out


def test_growing_series_are_not_under_covered() -> None:
    """Errors grow with the level, so each backtest origin's errors are scaled by that
    origin's own history. Scaling them by the whole series' scale (the one issued
    intervals use) would calibrate them at a level higher than they were made at and
    under-cover: 0.92 at 95% on this panel, against 0.95 as scaled now (0.75 at 80%)."""
    h, n = 12, 60
    data = _growing_panel(300, n + h, seed=5)
    train = make_panel({k: v[:n] for k, v in data.items()})
    res = run_engine(train, EngineConfig(horizon=h, models=("theta", "snaive", "drift")))
    f = res.forecasts.set_index("unique_id")
    actual = np.concatenate([v[n:] for v in data.values()])
    f = f.loc[list(data)]
    cov95 = np.mean((actual >= f["lo_95"].to_numpy()) & (actual <= f["hi_95"].to_numpy()))
    cov80 = np.mean((actual >= f["lo_80"].to_numpy()) & (actual <= f["hi_80"].to_numpy()))
    assert 0.935 <= cov95 <= 0.97
    assert 0.72 <= cov80 <= 0.85


def test_one_series_that_alone_widens_everyones_intervals_is_named() -> None:
    """Twenty clean seasonal series and one with a level shift of +200 inside its backtest
    windows: pooled, its errors set every series' 95% bounds (12x as wide, review of
    2026-12-08). The intervals stay as calibrated (a break is possible), but a note names
    the series; the clean panel alone gets no such note."""
    rng = np.random.default_rng(1)
    t = np.arange(72)
    clean = {
        f"reg{i}": 100 + 15 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 3, 72) for i in range(20)
    }
    shifted = 100 + 15 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 3, 72)
    shifted[48:] += 200
    cfg = EngineConfig(horizon=12, models=("snaive", "theta", "etsd"))
    alone = run_engine(make_panel(clean), cfg)
    both = run_engine(make_panel({**clean, "levelshift": shifted}), cfg)
    assert not any("alone;" in n for n in alone.notes)
    named = [n for n in both.notes if "backtest errors of 'levelshift' alone" in n]
    assert len(named) == 1 and named[0].startswith("regular series: the 95% intervals of all 21")
    ratio = float(re.search(r"are ([0-9.]+)x as wide", named[0]).group(1))
    w_alone = (alone.forecasts["hi_95"] - alone.forecasts["lo_95"]).mean()
    f = both.forecasts[both.forecasts["unique_id"] != "levelshift"]
    assert ratio > 4 and (f["hi_95"] - f["lo_95"]).mean() > 4 * w_alone


def test_dominant_series_needs_five_series_and_a_doubling() -> None:
    rng = np.random.default_rng(0)
    err = rng.normal(size=(60, 6))
    rows = np.repeat(np.arange(20), 3)
    assert calibration.dominant_series(err, rows, 95) is None
    spiked = err.copy()
    spiked[rows == 7] *= 30
    pos, ratio = calibration.dominant_series(spiked, rows, 95)
    assert pos == 7 and ratio > 2
    few = np.repeat(np.arange(4), 15)
    assert calibration.dominant_series(np.where((few == 1)[:, None], spiked, err), few, 95) is None
    # nine series are enough (the pooled-error minimum does not apply to the note)
    nine = np.repeat(np.arange(9), 3)
    shifted = rng.normal(size=(27, 6)) + np.where(nine == 4, 30.0, 0.0)[:, None]
    assert calibration.dominant_series(shifted, nine, 95)[0] == 4
    # one spike of heavy-tailed noise is not a break: its window's median stays typical
    spike = err.copy()
    spike[10, 2] = 400.0
    assert calibration.dominant_series(spike, rows, 95) is None


def test_cum_quantiles_monotone_in_q_and_centred_on_the_sum(mixed: EngineResult) -> None:
    cq = mixed.cum_quantiles
    assert list(cq.columns) == ["unique_id", "k", "q", "value"]
    assert set(cq["k"]) == {3, 6}  # 12 months is longer than the horizon
    for (_uid, _k), g in cq.groupby(["unique_id", "k"]):
        assert list(g["q"]) == list(conformal.CUM_QUANTILES)
        assert (np.diff(g["value"].to_numpy()) >= 0).all()
    reg = cq[(cq["unique_id"] == "reg0") & (cq["k"] == 6)].set_index("q")["value"]
    total = forecast_of(mixed, "reg0")["yhat"].sum()
    assert reg.loc[0.025] < total < reg.loc[0.975]
    assert (cq.loc[cq["unique_id"] != "negative", "value"] >= 0).all()


# --------------------------------------------------------------------------- determinism
@pytest.mark.usefixtures("fast_gbm", "fast_mlp")
def test_same_forecasts_with_one_or_two_workers() -> None:
    # Every seeded and global member of the default set: with two workers the local
    # backtest runs in batches and each global model's two fits in worker processes.
    data = {f"s{i}": seasonal(40, seed=i, noise=0.08) for i in range(8)}
    data["short"] = seasonal(15, seed=9)
    models = ("naive", "theta", "ets", "etsd", "gbm", "knn", "mlp", "ens_median")
    one = run_engine(make_panel(data), EngineConfig(horizon=6, models=models, n_jobs=1))
    two = run_engine(make_panel(data), EngineConfig(horizon=6, models=models, n_jobs=2))
    assert {"GlobalGBM", "GlobalKNN", "GlobalMLP"} <= set(one.backtest_models.columns)
    regular = one.backtest_models[one.backtest_models["unique_id"] != "short"]
    assert regular[["GlobalGBM", "GlobalKNN", "GlobalMLP"]].notna().all().all()
    pd.testing.assert_frame_equal(one.forecasts, two.forecasts, check_exact=True)
    pd.testing.assert_frame_equal(one.selection, two.selection, check_exact=True)
    pd.testing.assert_frame_equal(one.backtest_models, two.backtest_models, check_exact=True)
    pd.testing.assert_frame_equal(one.cum_quantiles, two.cum_quantiles, check_exact=True)


# --------------------------------------------------------------------------- panel input
def _frame(**cols: list[object]) -> pd.DataFrame:
    return pd.DataFrame(cols)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (
            _frame(unique_id=["a"], ds=["2020-01-01"], value=[1.0]),
            r"f\.csv: missing column\(s\) y; found unique_id, ds, value\. Fix: provide a long "
            r"table with columns unique_id,ds,y",
        ),
        (
            _frame(unique_id=["a"] * 3, ds=["2020-01-01", "2020-02-01", "2020-13-01"], y=[1, 2, 3]),
            r"f\.csv, row 4, column 'ds': not a date \(value: '2020-13-01'\)\. Fix: write dates",
        ),
        (
            _frame(unique_id=["a"] * 3, ds=["2020-01-01", "2020-02-01", "2020-02-01"], y=[1, 2, 3]),
            r"row 3, column 'ds': series 'a' has this period more than once \(value: '2020-02-01'",
        ),
        (
            _frame(unique_id=["a"] * 3, ds=[1, 2, 2], y=[1, 2, 3]),
            r"row 4, column 'ds': series 'a' has this period more than once \(value: '2'\)",
        ),
        (
            _frame(unique_id=["a"] * 2, ds=["2020-01-01", "2020-02-01"], y=["1", "abc"]),
            r"row 3, column 'y': not a number \(value: 'abc'\)",
        ),
        (
            _frame(unique_id=["a"] * 2, ds=["2020-01-01", "2020-02-01"], y=[None, None]),
            r"column 'y': series 'a' has no numeric value",
        ),
        (
            _frame(unique_id=["a"] * 3, ds=["2020-01-15", "2020-02-01", "2020-03-31"], y=[1] * 3),
            r"cannot infer the frequency of the dates\. Fix: pass --freq",
        ),
        (_frame(unique_id=[], ds=[], y=[]), r"f\.csv: the table has no rows"),
    ],
)
def test_panel_errors_name_the_file_row_and_fix(frame: pd.DataFrame, match: str) -> None:
    with pytest.raises(DataError, match=match):
        Panel.from_long(frame, source="f.csv")


def test_panel_unsupported_frequency() -> None:
    frame = _frame(unique_id=["a"] * 2, ds=["2020-01-01", "2020-02-01"], y=[1, 2])
    with pytest.raises(DataError, match=r"Unsupported frequency 'X'\. Use one of: M \(monthly\)"):
        Panel.from_long(frame, freq="X")


def test_panel_integer_index_keeps_gaps_and_sorts_the_series() -> None:
    frame = _frame(unique_id=["b", "b", "a", "b"], ds=[3, 1, 5, 2], y=[30.0, 10.0, 5.0, 20.0])
    panel = Panel.from_long(frame)
    assert panel.ids == ("a", "b") and panel.freq is None and panel.season_length == 1
    assert panel.starts == (5, 1)
    np.testing.assert_array_equal(panel.values[1], [10.0, 20.0, 30.0])
    gaps = Panel.from_long(_frame(unique_id=["a"] * 3, ds=[1, 2, 4], y=[1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(gaps.values[0], [1.0, 2.0, np.nan, 3.0])
    np.testing.assert_array_equal(gaps.future(0, 2), [5, 6])


def test_panel_float_integer_index_is_an_integer_index() -> None:
    """A time index read as floats (e.g. after NaN handling) is still an index, not
    nanoseconds since 1970."""
    panel = Panel.from_long(_frame(unique_id=["a"] * 3, ds=[1.0, 2.0, 3.0], y=[1.0, 2.0, 3.0]))
    assert panel.freq is None and panel.starts == (1,)


def test_panel_dates_quarterly_with_trimmed_ends() -> None:
    frame = _frame(
        unique_id=["a"] * 4,
        ds=["2020-01-01", "2020-04-01", "2020-07-01", "2020-10-01"],
        y=[None, 2.0, 3.0, None],
    )
    panel = Panel.from_long(frame)
    assert panel.freq == "Q" and panel.season_length == 4
    assert str(panel.starts[0]) == "2020Q2"
    np.testing.assert_array_equal(panel.values[0], [2.0, 3.0])


def test_panel_infers_the_frequency_despite_gaps_at_the_start() -> None:
    """The first dates skip months ("2MS" to pandas): still monthly, with gaps."""
    ds = ["2020-01-01", "2020-03-01", "2020-05-01", "2020-06-01", "2020-07-01"]
    panel = Panel.from_long(_frame(unique_id=["a"] * 5, ds=ds, y=[1.0, 2.0, 3.0, 4.0, 5.0]))
    assert panel.freq == "M"
    np.testing.assert_array_equal(panel.values[0], [1.0, np.nan, 2.0, np.nan, 3.0, 4.0, 5.0])


# --------------------------------------------------------------------------- failed fits
class _Offset(BaseForecaster):
    """Last value plus ``offset``; refuses series shorter than ``min_len`` as a model
    with a minimum length does, and fails on series of the lengths in ``fail_at``."""

    tags: ClassVar[Tags] = Tags(min_length=1)

    def __init__(self, *, offset: float = 0.0, min_len: int = 1, fail_at: tuple = ()) -> None:
        self.offset = offset
        self.min_len = min_len
        self.fail_at = fail_at

    def _fit(self, y: FloatArray, periods: pd.PeriodIndex | None) -> None:
        if len(y) < self.min_len:
            raise InvalidParameterError(f"needs {self.min_len} values, got {len(y)}")
        if len(y) in self.fail_at:
            raise ModelError(f"diverged on {len(y)} values")
        self.last_ = float(y[-1])

    def _predict(self, h: int, levels: tuple[int, ...]) -> Prediction:
        return Prediction(np.full(h, self.last_ + self.offset))


@pytest.fixture
def offsets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Models ``off<k>`` (last value + k), ``late`` (+1000, needs 34 values), ``never``
    (+1000, needs 41 values), ``early`` (+500, fails on 34 values) and ``nofinal`` (+2,
    fails on the 40 values of the full series), all ensemble members."""
    specs = {f"off{k}": (float(k), 1, ()) for k in range(4)} | {
        "late": (1000.0, 34, ()),
        "never": (1000.0, 41, ()),
        "early": (500.0, 1, (34,)),
        "nofinal": (2.0, 1, (40,)),
    }
    for name, (off, n, bad) in specs.items():
        build = functools.partial(
            lambda c, o, n, b: _Offset(offset=o, min_len=n, fail_at=b), o=off, n=n, b=bad
        )
        monkeypatch.setitem(SPECS, name, ModelSpec(name, name.upper(), build))
    monkeypatch.setattr(profile_choice, "ENSEMBLE_MEMBERS", (*ENSEMBLE_MEMBERS, *specs))


@pytest.mark.usefixtures("offsets")
def test_a_model_never_fitted_in_the_backtest_is_left_out_of_the_choice() -> None:
    panel = make_panel({f"w{i}": random_walk(40, seed=i) for i in range(4)})
    res = run_engine(panel, EngineConfig(horizon=6, n_windows=3, models=("off0", "never")))
    # Windows at 28 and 34 values: "never" fits neither (it needs 41); its naive stand-in
    # would have scored exactly as off0 under its own name.
    assert "NEVER" not in res.backtest_models.columns
    assert set(res.selection["model"]) == {"OFF0"}
    assert set(res.leaderboard["label"]) == {"OFF0"}
    assert "NEVER left out of the choice for regular series: not fitted on 8 of 8 " in (
        " ".join(res.notes)
    )


@pytest.mark.usefixtures("offsets")
def test_candidates_are_compared_where_all_were_fitted_and_ensembles_use_fitted_members() -> None:
    walks = {f"w{i}": random_walk(40, seed=i) for i in range(4)}
    cfg = EngineConfig(horizon=6, n_windows=3, models=("off0", "off1", "late", "ens_mean"))
    res = run_engine(make_panel(walks), cfg)
    # "late" fits at 34 values, not at 28: every candidate is scored on the 4 windows
    # at 34 only, and the mean combines off0 and off1 alone at 28.
    assert set(res.leaderboard["n_rows"]) == {4}
    bt = res.backtest_models
    mean = next(c for c in bt.columns if c.startswith("Mean("))
    at28 = bt["cutoff"] == bt["cutoff"].min()
    np.testing.assert_allclose(
        bt.loc[at28, mean], (bt.loc[at28, "OFF0"] + bt.loc[at28, "OFF1"]) / 2
    )
    np.testing.assert_allclose(
        bt.loc[~at28, mean],
        (bt.loc[~at28, "OFF0"] + bt.loc[~at28, "OFF1"] + bt.loc[~at28, "LATE"]) / 3,
    )
    # Where "late" was not fitted its column is empty, not the naive stand-in.
    assert bt.loc[at28, "LATE"].isna().all()
    assert bt.loc[~at28, "LATE"].notna().all()
    # The stand-in errors of "late" at 28 are not the model's: its scores are those at 34.
    lb = res.leaderboard.set_index("label")
    late = bt.loc[~at28]
    expected = np.mean(
        [
            np.mean(np.abs(g["y"] - g["LATE"])) / g["scale"].iloc[0]
            for _, g in late.groupby("unique_id")
        ]
    )
    assert lb.loc["LATE", "mase"] == pytest.approx(expected)


@pytest.mark.usefixtures("offsets")
def test_best_three_members_are_chosen_on_the_other_half_of_the_series() -> None:
    # Flat series at even positions (off0 best), series rising by 3 per period at odd
    # positions (off3 best): each half's best-three ensemble takes the other half's best.
    rng = np.random.default_rng(0)
    data = {}
    for i in range(8):
        trend = 0.0 if i % 2 == 0 else 3.0
        data[f"s{i}"] = 100 + trend * np.arange(40) + rng.normal(0, 0.2, 40)
    cfg = EngineConfig(horizon=6, n_windows=1, models=("off0", "off1", "off2", "off3", "ens_mean3"))
    res = run_engine(make_panel(data), cfg)
    bt = res.backtest_models
    mean3 = next(c for c in bt.columns if c.startswith("Mean("))
    even = bt["unique_id"].isin([f"s{i}" for i in range(0, 8, 2)])
    # Odd (rising) series rank off3, off2, off1; even (flat) ones off0, off1, off2.
    np.testing.assert_allclose(bt.loc[even, mean3], bt.loc[even, ["OFF1", "OFF2", "OFF3"]].mean(1))
    np.testing.assert_allclose(
        bt.loc[~even, mean3], bt.loc[~even, ["OFF0", "OFF1", "OFF2"]].mean(1)
    )


@pytest.mark.usefixtures("offsets")
def test_candidates_failing_on_different_windows_are_not_scored_on_stand_ins() -> None:
    # "late" fails at 28 values and "early" at 34: each is unfitted on half the windows, so
    # no window has all three; the one listed later leaves, and the others are compared
    # on the windows where both were fitted.
    walks = {f"w{i}": random_walk(40, seed=i) for i in range(4)}
    cfg = EngineConfig(horizon=6, n_windows=3, models=("off0", "late", "early"))
    res = run_engine(make_panel(walks), cfg)
    assert "EARLY left out of the choice for regular series: not fitted on 4 of 8 " in (
        " ".join(res.notes)
    )
    assert set(res.leaderboard["label"]) == {"OFF0", "LATE"}
    assert set(res.leaderboard["n_rows"]) == {4}


@pytest.mark.usefixtures("offsets")
def test_best_three_with_one_series_is_cross_fitted_over_windows_or_left_out() -> None:
    rng = np.random.default_rng(1)
    y = 100 + 3.0 * np.arange(40) + rng.normal(0, 0.2, 40)
    models = ("off0", "off1", "off2", "off3", "ens_mean3")
    res = run_engine(make_panel({"s": y}), EngineConfig(horizon=6, n_windows=3, models=models))
    bt = res.backtest_models
    mean3 = next(c for c in bt.columns if c.startswith("Mean("))
    # Two windows (28 and 34 values); each window's members come from the other one, and
    # on this rising series both rank off3, off2, off1 first.
    np.testing.assert_allclose(bt[mean3], bt[["OFF1", "OFF2", "OFF3"]].mean(axis=1))
    one = run_engine(make_panel({"s": y}), EngineConfig(horizon=6, n_windows=1, models=models))
    assert not any(c.startswith("Mean(") for c in one.backtest_models.columns)
    assert any(n.startswith("ens_mean3 left out of the choice for regular") for n in one.notes)


@pytest.mark.usefixtures("offsets")
def test_a_model_whose_full_series_fit_fails_is_not_shipped_under_its_name() -> None:
    walks = {f"w{i}": 100 + 2.0 * np.arange(40) + i for i in range(4)}  # +2 per step
    alone = run_engine(make_panel(walks), EngineConfig(horizon=6, models=("off0", "nofinal")))
    # nofinal (+2) wins the backtest but fails on the 40 values of the full series.
    sel = alone.selection.set_index("unique_id")
    assert set(sel["model"]) == {"Naive"}
    assert (
        sel["reason"].str.endswith("; its fit on the full series failed: naive forecast used").all()
    )
    w0 = alone.forecasts[alone.forecasts["unique_id"] == "w0"]
    np.testing.assert_array_equal(w0["yhat"], walks["w0"][-1])
    # In a mean, the failed member leaves that series' final combination. A drift of 0.4
    # per step makes the mean's +4/3 better than +0 and +2 over six steps.
    rng = np.random.default_rng(5)
    walks = {f"w{i}": 100 + 0.4 * np.arange(40) + rng.normal(0, 0.05, 40) for i in range(4)}
    cfg = EngineConfig(horizon=6, models=("off0", "off2", "nofinal", "ens_mean"))
    res = run_engine(make_panel(walks), cfg)
    sel = res.selection.set_index("unique_id")
    # Labelled as issued: the mean of the two members that were fitted, not of three.
    assert set(sel["model"]) == {"Mean(OFF0, OFF2)"}
    assert set(res.forecasts["model"]) == {"Mean(OFF0, OFF2)"}
    assert (
        sel["reason"]
        .str.endswith("; NOFINAL failed on the full series and left this series' combination")
        .all()
    )
    w0 = res.forecasts[res.forecasts["unique_id"] == "w0"]
    np.testing.assert_allclose(w0["yhat"], walks["w0"][-1] + 1.0)  # mean of +0 and +2


def test_declining_nonnegative_series_keep_uncertainty_above_a_zero_forecast() -> None:
    """Drift runs below 0 on product lines being phased out; the point is clipped at 0
    and the bounds are built around that, so the interval is [0, something], not [0, 0]."""
    rng = np.random.default_rng(0)
    data = {
        f"s{i}": np.maximum(0.5, 50 - (2.0 + 0.2 * i) * np.arange(22) + rng.normal(0, 1.0, 22))
        for i in range(6)
    }
    res = run_engine(
        make_panel(data), EngineConfig(horizon=12, n_windows=3, models=("naive", "theta", "drift"))
    )
    f = res.forecasts
    at_zero = f[f["yhat"] == 0]
    assert len(at_zero) > 12  # the data do reach the clipping
    assert (at_zero["lo_95"] == 0).all()
    assert (at_zero["hi_95"] > 0).all() and (at_zero["hi_80"] > 0).all()


def test_backtest_bounds_are_those_issued_and_scored_as_such() -> None:
    """Non-negative series declining to 0, where drift forecasts go below 0: the backtest
    table's points are clipped at 0 and its bounds built around them, as the issued
    forecasts' are (nested, containing the point, never below 0), and the leaderboard's
    coverage and MSIS are those of the table's intervals."""
    rng = np.random.default_rng(1)
    data = {}
    for i in range(24):
        y = np.maximum(0, np.linspace(60, 0, 40) + rng.normal(0, 4, 40))
        y[-6:] = np.maximum(0, y[-6:] * 0.2)
        data[f"s{i}"] = y.round(3)
    res = run_engine(make_panel(data), EngineConfig(horizon=6, n_windows=3, models=("drift",)))
    bt = res.backtest
    assert (bt["yhat"] == 0).sum() > 20 and (bt["y"] == 0).sum() > 20  # the data reach 0
    assert (bt["lo_95"] >= 0).all()
    assert ((bt["lo_95"] <= bt["lo_80"]) & (bt["lo_80"] <= bt["yhat"])).all()
    assert ((bt["yhat"] <= bt["hi_80"]) & (bt["hi_80"] <= bt["hi_95"])).all()
    assert (bt.loc[bt["yhat"] == 0, "hi_80"] > 0).all()
    sel = res.leaderboard[res.leaderboard["selected"]].iloc[0]
    y, lo, hi = (bt[c].to_numpy()[:, None] for c in ("y", "lo_95", "hi_95"))
    msis = np.mean(metrics.interval_score(y, lo, hi, 95) / bt["scale"].to_numpy())
    assert sel["msis_95"] == pytest.approx(msis)
    for lv in (80, 95):
        inside = (bt["y"] >= bt[f"lo_{lv}"]) & (bt["y"] <= bt[f"hi_{lv}"])
        assert sel[f"coverage_{lv}"] == pytest.approx(inside.mean())


def test_constant_series_intervals_do_not_depend_on_how_many_there_are() -> None:
    """Constant series never calibrate on their own exact errors (which would give a
    zero-width interval once they are 50 windows): they borrow the other series'."""
    walks = {f"w{i}": random_walk(36, seed=i) for i in range(6)}
    widths = []
    for n_const in (16, 17):  # 48 and 51 windows of the constant profile
        data = walks | {f"c{i}": np.full(36, 40.0) for i in range(n_const)}
        res = run_engine(
            make_panel(data), EngineConfig(horizon=6, n_windows=3, models=("naive", "theta"))
        )
        c0 = forecast_of(res, "c0")
        widths.append((c0["hi_95"] - c0["lo_95"]).to_numpy())
        assert (c0["yhat"] == 40.0).all()
    np.testing.assert_allclose(widths[0], widths[1])
    assert (widths[1] > 0).all()
    # Only constant series: no informative error to borrow, a random walk's spread in
    # units of a tenth of the level, +-1.96 * 1.25 * sqrt(k) * 4 at step k.
    only = run_engine(
        make_panel({"c": np.full(36, 40.0)}), EngineConfig(horizon=6, models=("naive",))
    )
    c = forecast_of(only, "c")
    expected = 1.959964 * 1.25 * np.sqrt(np.arange(1, 7)) * 4.0
    np.testing.assert_allclose(c["hi_95"] - 40.0, expected, rtol=1e-5)


def _monthly(uid: str, y: list[float] | np.ndarray, start: str = "2020-01-01") -> pd.DataFrame:
    ds = pd.date_range(start, periods=len(y), freq="MS").strftime("%Y-%m-%d")
    return _frame(unique_id=[uid] * len(y), ds=list(ds), y=list(np.asarray(y, float)))


def test_shuffled_rows_give_the_same_forecasts_with_a_global_model() -> None:
    """The global model learns from the series in panel order, so the panel's order must
    not depend on the order of the input rows (it is sorted by id)."""
    frame = pd.concat(
        [_monthly(f"s{i}", seasonal(48, seed=i) + 5 * i) for i in (3, 1, 2, 0)],
        ignore_index=True,
    )
    shuffled = frame.sample(frac=1.0, random_state=7).reset_index(drop=True)
    cfg = EngineConfig(horizon=6, models=("gbm", "naive"))
    first = forecast_frame(frame, cfg).forecasts
    second = forecast_frame(shuffled, cfg).forecasts
    assert list(first["unique_id"].drop_duplicates()) == ["s0", "s1", "s2", "s3"]
    pd.testing.assert_frame_equal(first, second)


def test_panel_reads_yyyymm_integers_as_months() -> None:
    ds = [202111, 202112, 202201, 202202]
    panel = Panel.from_long(_frame(unique_id=["a"] * 4, ds=ds, y=[1.0, 2.0, 3.0, 4.0]))
    assert panel.freq == "M" and panel.season_length == 12
    assert panel.starts == (pd.Period("2021-11", freq="M"),)
    np.testing.assert_array_equal(panel.values[0], [1.0, 2.0, 3.0, 4.0])  # no invented months
    assert [str(p) for p in panel.future(0, 2)] == ["2022-03", "2022-04"]
    assert any("yyyymm" in n for n in panel.notes)
    # Not months: 202113 is no month, so this stays an integer index.
    index = Panel.from_long(_frame(unique_id=["a"] * 3, ds=[202112, 202113, 202114], y=[1.0] * 3))
    assert index.freq is None and list(index.future(0, 1)) == [202115]


def test_panel_integer_index_with_a_step_keeps_it() -> None:
    frame = _frame(unique_id=["a"] * 4 + ["b"] * 3, ds=[0, 10, 20, 40, 5, 15, 25], y=[1.0] * 7)
    panel = Panel.from_long(frame)
    assert panel.step == 10
    np.testing.assert_array_equal(panel.values[0], [1.0, 1.0, 1.0, np.nan, 1.0])
    assert list(panel.labels(1)) == [5, 15, 25] and list(panel.future(0, 2)) == [50, 60]
    assert any("steps of 10" in n for n in panel.notes)


def test_panel_reads_long_integer_text_as_an_index_and_yyyymmdd_as_dates() -> None:
    """Seven digits and more are an index too (review 12, R3: refused as 'not a date');
    a column of valid yyyymmdd dates stays dates."""
    text = [str(1_000_000 + k) for k in range(4)]
    panel = Panel.from_long(_frame(unique_id=["a"] * 4, ds=text, y=[1.0, 2.0, 3.0, 4.0]))
    assert panel.freq is None and list(panel.future(0, 2)) == [1_000_004, 1_000_005]
    days = Panel.from_long(
        _frame(
            unique_id=["a"] * 4, ds=["20240129", "20240130", "20240131", "20240201"], y=[1.0] * 4
        )
    )
    assert days.freq == "D" and str(days.starts[0]) == "2024-01-29"
    # eight digits that are no date (month 13) are an index
    index = Panel.from_long(
        _frame(unique_id=["a"] * 3, ds=["20241301", "20241302", "20241303"], y=[1.0] * 3)
    )
    assert index.freq is None


def test_panel_refuses_a_series_of_a_coarser_frequency() -> None:
    monthly = _monthly("a", list(range(1, 25)))
    quarterly = _frame(
        unique_id=["b"] * 8,
        ds=list(pd.date_range("2020-01-01", periods=8, freq="QS").strftime("%Y-%m-%d")),
        y=[float(v) for v in range(8)],
    )
    with pytest.raises(DataError) as err:
        Panel.from_long(pd.concat([monthly, quarterly], ignore_index=True), source="mix.csv")
    text = str(err.value)
    assert "mix.csv" in text and "'b'" in text and "every 3 months" in text
    assert "'a'" not in text


def test_panel_refuses_a_frequency_that_would_invent_most_values() -> None:
    """``--freq D`` on monthly dates: 30 of every 31 days would be interpolated."""
    frame = _monthly("a", list(range(1, 13)))
    with pytest.raises(DataError, match=r"values for only 12 of the 336 days .* --freq D"):
        Panel.from_long(frame, freq="D")
    # A few real gaps are still filled (and noted by the engine), not refused.
    gappy = frame.drop(index=[3, 4, 7]).reset_index(drop=True)
    assert np.isnan(Panel.from_long(gappy).values[0]).sum() == 3


def test_panel_refuses_business_day_dates() -> None:
    ds = pd.bdate_range("2023-01-02", periods=30).strftime("%Y-%m-%d")
    frame = _frame(unique_id=["a"] * 30, ds=list(ds), y=[float(v) for v in range(30)])
    with pytest.raises(DataError, match="business days"):
        Panel.from_long(frame, source="b.csv")
    # Daily data with its weekends is daily data.
    days = pd.date_range("2023-01-02", periods=30).strftime("%Y-%m-%d")
    ok = Panel.from_long(_frame(unique_id=["a"] * 30, ds=list(days), y=[1.0] * 30))
    assert ok.freq == "D" and ok.season_length == 7


def test_panel_checks_the_weekday_of_an_anchored_weekly_freq() -> None:
    mondays = pd.date_range("2023-01-02", periods=20, freq="W-MON").strftime("%Y-%m-%d")
    frame = _frame(unique_id=["a"] * 20, ds=list(mondays), y=[float(v) for v in range(20)])
    with pytest.raises(DataError) as err:
        Panel.from_long(frame, freq="W-SUN", source="w.csv")
    text = str(err.value)
    assert "w.csv, row 2, column 'ds'" in text
    assert "fall on a Monday, but --freq W-SUN labels each week by its Sunday" in text
    assert "--freq W-MON" in text
    # The matching anchor, or plain W, reads the same weeks.
    assert Panel.from_long(frame, freq="W-MON").starts == Panel.from_long(frame, freq="W").starts
    # Dates on several weekdays are grouped into Monday-to-Sunday weeks, so another anchor
    # (whose weeks would differ) is refused rather than silently ignored.
    shifted = pd.to_datetime(mondays) + pd.to_timedelta(np.arange(20) % 3, unit="D")
    mixed = frame.assign(ds=shifted.strftime("%Y-%m-%d"))
    with pytest.raises(DataError, match=r"row 2, .*several weekdays.*W-WED"):
        Panel.from_long(mixed, freq="W-WED")
    assert len(Panel.from_long(mixed, freq="W-SUN").values[0]) == 20


def test_panel_reads_iso_dates_of_mixed_precision() -> None:
    """pandas infers one format from the first cell: "2019" first must not make every
    full ISO date after it "not a date"."""
    ds = ["2019", "2020-01-01", "2021-01-01", "2022", "2023-01-01", "2024-01-01"]
    frame = _frame(unique_id=["a"] * 6, ds=ds, y=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    panel = Panel.from_long(frame)
    assert panel.freq == "Y" and panel.starts[0] == pd.Period("2019", freq="Y")
    np.testing.assert_array_equal(panel.values[0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    # A cell that is no date is still the one named.
    bad = frame.assign(ds=[*ds[:3], "2022-13-01", *ds[4:]])
    with pytest.raises(DataError, match=r"row 5, column 'ds': not a date \(value: '2022-13-01'\)"):
        Panel.from_long(bad)


def test_panel_says_when_the_frequency_is_coarser_than_the_dates() -> None:
    with pytest.raises(DataError) as err:
        Panel.from_long(_monthly("a", list(range(1, 13))), freq="Q", source="m.csv")
    text = str(err.value)
    assert "more than one date in this quarterly period" in text and "omit --freq" in text
    # Without --freq the advice is not to omit it: a weekly series in a file of monthly
    # ones has several dates per month of the inferred frequency.
    monthly = pd.concat([_monthly(k, list(range(1, 25))) for k in "abc"], ignore_index=True)
    weeks = pd.date_range("2020-01-06", periods=20, freq="W-MON")
    weekly = pd.DataFrame({"unique_id": "w", "ds": weeks.strftime("%Y-%m-%d"), "y": 1.0})
    with pytest.raises(DataError) as err:
        Panel.from_long(pd.concat([monthly, weekly], ignore_index=True), source="mix.csv")
    text = str(err.value)
    assert "series 'w' has more than one date in this monthly period" in text
    assert "omit --freq" not in text and "one file holds one frequency" in text
    repeated = pd.concat([_monthly("a", [1.0, 2.0, 3.0])] * 2, ignore_index=True)
    with pytest.raises(DataError, match="has this period more than once"):
        Panel.from_long(repeated)


def test_panel_notes_empty_periods_at_the_ends() -> None:
    frame = _monthly("a", [np.nan, 2.0, 3.0, 4.0, np.nan, np.nan])
    panel = Panel.from_long(frame)
    np.testing.assert_array_equal(panel.values[0], [2.0, 3.0, 4.0])
    assert panel.starts == (pd.Period("2020-02", freq="M"),)
    assert panel.notes == (
        "a: its first 1 period(s) and its last 2 period(s) have no value and were left "
        "out; its forecasts start after its last value",
    )
    res = forecast_frame(
        pd.concat([frame, _monthly("b", seasonal(36, 1))]),
        EngineConfig(horizon=2, models=("naive",)),
    )
    assert panel.notes[0] in res.notes
    assert [str(p) for p in forecast_of(res, "a")["ds"]] == ["2020-05", "2020-06"]


def test_a_scale_that_is_only_round_off_falls_back() -> None:
    """A float sine repeats each season up to its last bits: its seasonal-naive error
    (~1e-14) is round-off, and dividing by it made its scaled errors ~1e14, swamping the
    pooled choice and every other series' interval."""
    t = np.arange(36)
    sine = 100 + 10 * np.sin(2 * np.pi * t / 12)
    assert 0 < metrics.seasonal_scale(sine, 12) < 1e-12
    s1, s2 = profiles.scales(sine, 12)
    assert s1 == pytest.approx(metrics.seasonal_scale(sine, 1)) and s1 > 1
    assert s2 == pytest.approx(metrics.seasonal_scale(sine, 1, power=2))
    noisy = {f"n{i}": seasonal(36, seed=i, noise=0.05) for i in range(4)}
    res = run_engine(make_panel({**noisy, "sine": sine}), EngineConfig(horizon=6))
    assert res.leaderboard["mase"].max() < 10
    out = forecast_of(res, "sine")
    assert (out["hi_95"] > out["lo_95"]).all()


def test_empty_backtest_coverage_is_explained() -> None:
    data = {f"s{i}": seasonal(36, seed=i, noise=0.05) for i in range(3)}
    res = run_engine(make_panel(data), EngineConfig(horizon=6, models=("naive", "snaive")))
    assert res.leaderboard["coverage_95"].isna().all()
    assert any(
        n.startswith("regular series: backtest coverage and MSIS left empty, too few windows (6)")
        for n in res.notes
    )
    more = {f"s{i}": seasonal(36, seed=i, noise=0.05) for i in range(12)}
    full = run_engine(make_panel(more), EngineConfig(horizon=6, models=("naive", "snaive")))
    assert full.leaderboard["coverage_95"].notna().any()
    assert not any("coverage and MSIS left empty" in n for n in full.notes)


def test_one_sparse_series_does_not_decide_the_frequency() -> None:
    """The first series (by id) starts with a row every quarter, then goes monthly; the
    file is still monthly, from the most common step over all series."""
    sparse = _monthly("A_new", list(range(1, 37))).drop(index=[1, 2, 4, 5]).reset_index(drop=True)
    others = [_monthly(f"s{i}", seasonal(36, seed=i)) for i in range(3)]
    panel = Panel.from_long(pd.concat([sparse, *others], ignore_index=True))
    assert panel.freq == "M" and panel.ids[0] == "A_new"
    assert np.isnan(panel.values[0]).sum() == 4


def test_blank_cells_count_as_invented_values() -> None:
    y = [np.nan] * 48
    y[0], y[47] = 1.0, 2.0
    y[10] = 3.0
    frame = pd.concat([_monthly("blank", y), _monthly("ok", seasonal(48, 1))], ignore_index=True)
    with pytest.raises(DataError, match=r"'blank' has values for only 3 of the 48 months"):
        Panel.from_long(frame)


@pytest.mark.parametrize(("missing", "refused"), [(16, False), (20, True)])
def test_more_than_forty_percent_invented_is_refused(missing: int, refused: bool) -> None:
    y = seasonal(48, 2)
    frame = _monthly("a", y).drop(index=range(10, 10 + missing)).reset_index(drop=True)
    if refused:
        with pytest.raises(DataError, match="add them with y = 0"):
            Panel.from_long(frame)
    else:
        assert np.isnan(Panel.from_long(frame).values[0]).sum() == missing


def test_a_business_day_series_among_daily_ones_is_refused_by_name() -> None:
    days = pd.date_range("2023-01-02", periods=28).strftime("%Y-%m-%d")
    bdays = pd.bdate_range("2023-01-02", periods=20).strftime("%Y-%m-%d")
    frame = pd.concat(
        [
            _frame(unique_id=["daily"] * 28, ds=list(days), y=[1.0] * 28),
            _frame(unique_id=["shop"] * 20, ds=list(bdays), y=[2.0] * 20),
        ],
        ignore_index=True,
    )
    with pytest.raises(DataError) as err:
        Panel.from_long(frame, source="d.csv")
    assert "'shop' is dated on business days" in str(err.value)
    assert "'daily'" not in str(err.value)


def test_yyyymm_within_one_year_stays_an_index_unless_freq_says_months() -> None:
    """Year-week codes 202401..202410 look like months; only crossing a year, or
    --freq, makes them months."""
    frame = _frame(unique_id=["a"] * 10, ds=list(range(202401, 202411)), y=[1.0] * 10)
    index = Panel.from_long(frame)
    assert index.freq is None and list(index.future(0, 2)) == [202411, 202412]
    assert any("pass --freq MS" in n for n in index.notes)
    months = Panel.from_long(frame, freq="MS")
    assert months.freq == "M" and months.yyyymm
    assert [str(p) for p in months.future(0, 3)] == ["2024-11", "2024-12", "2025-01"]
    quarterly = _frame(
        unique_id=["q"] * 6, ds=[202003, 202006, 202009, 202012, 202103, 202106], y=[1.0] * 6
    )
    q = Panel.from_long(quarterly)
    assert q.freq == "Q" and q.yyyymm and len(q.values[0]) == 6


def test_a_typo_among_yyyymm_months_is_named() -> None:
    ds = [202110, 202111, 202112, 202201, 202202, 202203, 202204, 202205, 202206, 202213]
    with pytest.raises(DataError, match=r"row 11, column 'ds': not a yyyymm month"):
        Panel.from_long(_frame(unique_id=["a"] * 10, ds=ds, y=[1.0] * 10), source="m.csv")


def test_series_that_end_early_are_noted() -> None:
    frame = pd.concat(
        [_monthly("full", seasonal(36, 0)), _monthly("early", seasonal(30, 1))], ignore_index=True
    )
    panel = Panel.from_long(frame)
    assert (
        "1 series end before the last period (2022-12), so their forecasts start earlier: "
        "early (2022-06)"
    ) in panel.notes
    assert not any("end before" in n for n in Panel.from_long(_monthly("x", [1.0] * 5)).notes)


def test_a_value_thousands_of_times_its_series_size_is_noted_at_its_line() -> None:
    # A 1,000x slip (unit or decimal separator) in one cell: named with its file line.
    base = seasonal(36, 3)
    slipped = base.copy()
    slipped[26] *= 1000
    frame = pd.concat([_monthly("ok", base), _monthly("typo", slipped)], ignore_index=True)
    notes = [
        n for n in Panel.from_long(frame, source="sales.csv").notes if "x the series' median" in n
    ]
    assert len(notes) == 1
    line = 36 + 26 + 2  # the 63rd data row, after the header
    assert notes[0].startswith(f"sales.csv: line {line}, series 'typo' (2022-03")
    assert "correct it" in notes[0]
    # Intermittent demand (one large order among zeros), a steady climb from 1 to 50, a
    # Tết month 25x the others every year, a one-off month 40x the others and short series
    # are not flagged.
    orders = np.zeros(36)
    orders[[5, 20]] = [3.0, 400.0]
    tet = np.where(np.arange(36) % 12 == 0, 1000.0, 40.0)
    once = np.full(36, 40.0)
    once[30] = 1600.0
    calm = pd.concat(
        [
            _monthly("orders", orders),
            _monthly("climb", np.linspace(1, 50, 36)),
            _monthly("tet", tet),
            _monthly("tet_first_year", tet[:14]),
            _monthly("once", once),
            _monthly("short", [1.0, 1.0, 500.0]),
        ],
        ignore_index=True,
    )
    assert not [n for n in Panel.from_long(calm).notes if "x the series' median" in n]
    many = pd.concat([_monthly(f"t{i}", slipped) for i in range(12)], ignore_index=True)
    listed = [
        n for n in Panel.from_long(many).notes if "x the series' median" in n or "more extreme" in n
    ]
    assert len(listed) == 11 and listed[-1].endswith("2 more extreme value(s) not listed")


def test_long_problem_lists_count_what_they_leave_out_and_name_its_series() -> None:
    rows = [_monthly(f"s{i}", seasonal(12, i)) for i in range(3)]
    twice = pd.concat(rows + rows, ignore_index=True)  # every row twice: 72 problem rows
    with pytest.raises(DataError) as err:
        Panel.from_long(twice)
    text = str(err.value)
    assert text.count("has this period more than once") == 20
    assert text.endswith(
        # the first 20 rows are s0's 12 and 8 of s1's: s2 is the series the list misses
        "… 52 more like these not shown, in series 's2'; fix them all and run again."
    )
    bad = pd.concat(rows, ignore_index=True).assign(ds="Tháng 07/2021")
    with pytest.raises(DataError, match=r"… 16 more like these not shown, in series 's2';"):
        Panel.from_long(bad)


def test_a_year_pandas_cannot_date_is_named_as_such() -> None:
    frame = _monthly("a", seasonal(12, 0))
    frame.loc[5, "ds"] = "2922-06-01"
    with pytest.raises(DataError, match=r"row 7, column 'ds': a date outside 1678-2261") as err:
        Panel.from_long(frame)
    assert "a slip such as 2922 for 2022" in str(err.value)


def test_a_horizon_past_the_dates_pandas_can_hold_is_refused_with_the_longest_that_fits() -> None:
    panel = Panel.from_long(_monthly("a", seasonal(24, 0)))  # ends 2021-12
    panel.check_horizon(2883)  # to 2262-03
    with pytest.raises(
        ConfigError,
        match=r"--horizon 2884 would forecast to 2262-04, past 2262-03.*use --horizon 2883 or less",
    ):
        panel.check_horizon(2884)
    Panel.from_long(_frame(unique_id=["i"] * 3, ds=[1, 2, 3], y=[1.0, 2.0, 3.0])).check_horizon(
        10**9
    )


def test_a_horizon_longer_than_every_series_is_noted() -> None:
    res = forecast_frame(
        _monthly("a", seasonal(24, 0)), EngineConfig(horizon=30, models=("naive",))
    )
    assert any(
        n.startswith("the horizon (30) is longer than the longest series (24 values)")
        for n in res.notes
    )
    res = forecast_frame(
        _monthly("a", seasonal(24, 0)), EngineConfig(horizon=12, models=("naive",))
    )
    assert not any("longer than the longest series" in n for n in res.notes)


def test_ids_padded_with_spaces_are_the_same_series_with_a_note() -> None:
    y = seasonal(24, 1)
    frame = _monthly("s0", y)
    frame.loc[:9, "unique_id"] = "s0 "  # an export that padded some cells
    frame.loc[10:11, "unique_id"] = " s0"
    panel = Panel.from_long(frame, source="f.csv")
    assert panel.ids == ("s0",)
    np.testing.assert_array_equal(panel.values[0], y)
    assert panel.notes == (
        "f.csv: 12 unique_id cell(s) had spaces at the start or end, removed ('s0 ', ' s0'); "
        "the forecasts use the trimmed ids",
    )


class _Buggy(BaseForecaster):
    """Fails with ``error`` on every fit: a stand-in for a model with a bug."""

    tags: ClassVar[Tags] = Tags(min_length=1)

    def __init__(self, *, error: type[Exception] = NotImplementedError) -> None:
        self.error = error

    def _fit(self, y: FloatArray, periods: pd.PeriodIndex | None) -> None:
        raise self.error("a code path nobody wrote")

    def _predict(self, h: int, levels: tuple[int, ...]) -> Prediction:
        raise AssertionError("never fitted")


@pytest.mark.parametrize("error", [NotImplementedError, RecursionError, IndexError, KeyError])
def test_a_bug_in_a_model_stops_the_run_instead_of_passing_as_naive_forecasts(
    monkeypatch: pytest.MonkeyPatch, error: type[Exception]
) -> None:
    monkeypatch.setitem(SPECS, "buggy", ModelSpec("buggy", "BUGGY", lambda c: _Buggy(error=error)))
    panel = make_panel({"a": seasonal(36, 0)})
    with pytest.raises(error, match="a code path nobody wrote"):
        run_engine(panel, EngineConfig(horizon=6, models=("naive", "buggy")))


def test_a_model_failing_on_the_data_falls_back_to_naive_with_a_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        SPECS, "buggy", ModelSpec("buggy", "BUGGY", lambda c: _Buggy(error=ModelError))
    )
    res = run_engine(
        make_panel({"a": seasonal(36, 0)}), EngineConfig(horizon=6, models=("naive", "buggy"))
    )
    assert np.isfinite(res.forecasts["yhat"]).all()
    assert "a: buggy on full series: ModelError: a code path nobody wrote" in res.notes
    assert set(res.selection["model"]) == {"Naive"}


def test_ids_equal_once_trimmed_with_the_same_periods_say_why_they_repeat() -> None:
    y = seasonal(12, 1)
    both = pd.concat([_monthly("s0", y), _monthly("s0 ", y)], ignore_index=True)
    with pytest.raises(DataError) as err:
        Panel.from_long(both)
    first = str(err.value).splitlines()[0]
    assert "ids that differ only by spaces at their ends ('s0 ') are read as one series" in first
    blank = _monthly("  ", y)
    with pytest.raises(DataError, match=r"row 2, column 'unique_id': unique_id is only spaces"):
        Panel.from_long(blank)


def test_bad_values_and_bad_dates_share_one_list_of_twenty() -> None:
    frame = _monthly("s", seasonal(40, 0)).astype({"y": object})
    frame.loc[:35, "y"] = "x"
    frame.loc[15:, "ds"] = "bad"  # 25 bad dates, 21 of them on rows with a bad value too
    with pytest.raises(DataError) as err:
        Panel.from_long(frame)
    lines = str(err.value).splitlines()
    assert len(lines) == 21 and lines[-1].startswith("… 41 more like these not shown")


def test_format_ds_writes_the_forecasts_in_the_input_form_for_library_callers() -> None:
    from forecast.date_labels import format_ds

    cells = [f"{y}Q{q}" for y in range(2015, 2021) for q in (1, 2, 3, 4)]
    raw = _frame(unique_id=["a"] * 24, ds=cells, y=[100.0 + (i % 4) * 5 + i for i in range(24)])
    res = forecast_frame(raw, EngineConfig(horizon=2, models=("naive",)))
    assert list(format_ds(res.forecasts, Panel.from_long(raw), raw)) == ["2021Q1", "2021Q2"]
    days = [f"{2020 + i // 12}-{i % 12 + 1:02d}-15" for i in range(24)]
    iso = _frame(unique_id=["m"] * 24, ds=days, y=list(seasonal(24, 0)))
    res = forecast_frame(iso, EngineConfig(horizon=2, models=("naive",)))
    assert list(format_ds(res.forecasts, Panel.from_long(iso), iso)) == ["2022-01-15", "2022-02-15"]


def test_a_slip_made_twice_is_still_noted_and_one_spelling_is_not_blamed() -> None:
    # Annual-like data (m = 1): two slips must not hide each other; and two Junes alike.
    flat = np.full(40, 100.0)
    flat[[7, 30]] = 1e6
    rows = _frame(unique_id=["i"] * 40, ds=list(range(1, 41)), y=list(flat))
    assert len([n for n in Panel.from_long(rows).notes if "x the series' median" in n]) == 2
    june = np.full(36, 100.0)
    june[[5, 17]] = 1e5
    assert (
        len([n for n in Panel.from_long(_monthly("m", june)).notes if "x the series' median" in n])
        == 2
    )
    # Every row spelt " s0", one period repeated: the repeat is the problem, not spaces.
    frame = _monthly(" s0", seasonal(12, 0))
    with pytest.raises(DataError) as err:
        Panel.from_long(pd.concat([frame, frame.iloc[[3]]], ignore_index=True))
    assert "differ only by spaces" not in str(err.value)
    assert "has this period more than once" in str(err.value)


def test_slips_are_noted_from_ten_values_even_two_of_them() -> None:
    ten = np.full(10, 140.0)
    ten[5] = 140_200.0
    assert len([n for n in Panel.from_long(_monthly("a", ten)).notes if "median" in n]) == 1
    two = np.full(12, 140.0)
    two[[2, 9]] = 140_000.0
    assert len([n for n in Panel.from_long(_monthly("b", two)).notes if "median" in n]) == 2


@pytest.mark.parametrize("cell", ["1677-12-01", "2262-01-01", "2922-06-01"])
def test_dates_at_the_edge_of_what_pandas_can_hold_are_named_not_crashed_on(cell: str) -> None:
    frame = _monthly("a", seasonal(24, 0), start="2022-01-01")
    frame.loc[5, "ds"] = cell
    with pytest.raises(DataError, match=r"row 7, column 'ds': a date outside 1678-2261"):
        Panel.from_long(frame)
