"""Realised accuracy of published runs against later actuals, and its alerts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.monitoring import MIN_POINTS, Thresholds, evaluate_run, node_scales

DEFAULT = Thresholds()


def _nodes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "node_id": ["a", "b"],
            "level": ["province/category/export", "province/category/export"],
            "category": ["XK_WOOD", "XK_CERAMIC"],
        }
    )


def _history() -> pd.DataFrame:
    # a: 0..23 (seasonal-naive errors all 12 -> scale 12); b: constant 10 then 11 (lag-12
    # pairs: 12 months differ by 1 -> scale 1)
    periods = pd.period_range("2023-01", periods=24, freq="M")
    a = pd.DataFrame({"node_id": "a", "period": periods, "value": np.arange(24.0)})
    b = pd.DataFrame({"node_id": "b", "period": periods, "value": [10.0] * 12 + [11.0] * 12})
    return pd.concat([a, b], ignore_index=True)


def _forecasts(n: int, yhat: float, half_width: float) -> pd.DataFrame:
    periods = pd.period_range("2025-01", periods=n, freq="M")
    rows = []
    for node in ("a", "b"):
        for p in periods:
            rows.append(
                {
                    "node_id": node,
                    "period": p,
                    "yhat": yhat,
                    "lo_80": yhat - half_width,
                    "hi_80": yhat + half_width,
                    "lo_95": yhat - 2 * half_width,
                    "hi_95": yhat + 2 * half_width,
                }
            )
    return pd.DataFrame(rows)


def _actuals(n: int, value: float) -> pd.DataFrame:
    periods = pd.period_range("2025-01", periods=n, freq="M")
    return pd.DataFrame(
        [{"node_id": nd, "period": p, "value": value} for nd in ("a", "b") for p in periods]
    )


def _backtest(err: float) -> pd.DataFrame:
    """Backtest rows with scaled error ``err`` and actuals inside every interval."""
    rows = [
        {"node_id": nd, "cutoff": "x", "period": i, "y": 100.0, "yhat": 100.0 + err,
         "scale": 1.0, "lo_80": 0.0, "hi_80": 1e9, "lo_95": 0.0, "hi_95": 1e9}
        for nd in ("a", "b") for i in range(12)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def _evaluate(forecasts, actuals, backtest, thresholds: Thresholds = DEFAULT):
    return evaluate_run(
        run_id="r1",
        freq="M",
        origin="2024-12",
        levels=(80, 95),
        nodes=_nodes(),
        history=_history(),
        forecasts=forecasts,
        backtest=backtest,
        actuals=actuals,
        thresholds=thresholds,
    )


def test_node_scales_pair_values_one_season_apart_even_with_gaps():
    scales = node_scales(_history(), "M")
    assert scales["a"] == pytest.approx(12.0) and scales["b"] == pytest.approx(1.0)
    gappy = _history().drop(index=[5, 6])  # two months missing from node a
    assert node_scales(gappy, "M")["a"] == pytest.approx(12.0)  # no shifted pairs
    short = _history().groupby("node_id").head(6)  # shorter than a season: lag 1
    assert node_scales(short, "M")["a"] == pytest.approx(1.0)


def test_node_scales_follow_the_engines_profile_seasons_and_fallbacks():
    """The backtest MASE scales short and intermittent series by the lag-1 error; the
    realised MASE it is compared with must too (a short trending node: 12 against 1)."""
    from forecast.evaluation import profiles

    seasons = pd.Series({"a": 1, "b": 12})
    scales = node_scales(_history(), "M", seasons)
    assert scales["a"] == pytest.approx(1.0) and scales["b"] == pytest.approx(1.0)
    y = _history().query("node_id == 'a'")["value"].to_numpy()
    assert scales["a"] == pytest.approx(profiles.scales(y, 1)[0])
    # A node repeating exactly (no seasonal error) falls back to lag 1, as the engine does.
    periods = pd.period_range("2023-01", periods=24, freq="M")
    flat = pd.DataFrame({"node_id": "c", "period": periods, "value": np.tile(np.arange(12.0), 2)})
    assert node_scales(flat, "M")["c"] == pytest.approx(
        profiles.scales(flat["value"].to_numpy(), 12)[0]
    )
    # Seasons from the run's selection: regular nodes one season apart, the others lag 1.
    selection = pd.DataFrame({"node_id": ["a", "b"], "profile": ["short", "regular"]})
    bad = _forecasts(12, 26.0, 5.0)
    got = evaluate_run(
        run_id="r1", freq="M", origin="2024-12", levels=(80, 95), nodes=_nodes(),
        history=_history(), forecasts=bad, actuals=_actuals(12, 20.0),
        backtest=_backtest(0.5), selection=selection,
    )  # fmt: skip
    # |26 - 20| = 6 over node a's lag-1 scale 1 (not its seasonal 12: 0.5); node b is
    # regular and keeps its seasonal scale 1.
    assert got.query("by == 'category' and key == 'XK_WOOD'")["mase"].item() == pytest.approx(6.0)
    plain = _evaluate(bad, _actuals(12, 20.0), _backtest(0.5))
    assert plain.query("by == 'category' and key == 'XK_WOOD'")["mase"].item() == pytest.approx(0.5)


def test_realised_mase_and_coverage_by_level_category_and_all():
    fc = _forecasts(6, yhat=30.0, half_width=5.0)
    act = _actuals(6, value=36.0)  # |error| 6: MASE 6/12 for a, 6/1 for b; outside 80%, inside 95%
    table = _evaluate(fc, act, _backtest(err=2.0))
    lvl = table[table["by"] == "level"].iloc[0]
    assert lvl["n_series"] == 2 and lvl["n_points"] == 12
    assert lvl["mase"] == pytest.approx((0.5 + 6.0) / 2)
    assert lvl["backtest_mase"] == pytest.approx(2.0)
    assert lvl["coverage_80"] == 0.0 and lvl["coverage_95"] == 1.0
    assert lvl["backtest_coverage_80"] == 1.0
    assert lvl["first_period"] == "2025-01" and lvl["last_period"] == "2025-06"
    cat = table[table["by"] == "category"].set_index("key")
    assert cat.loc["XK_WOOD", "mase"] == pytest.approx(0.5)
    assert cat.loc["XK_CERAMIC", "mase"] == pytest.approx(6.0)
    assert set(table["by"]) == {"level", "category", "all"}


def test_alerts_when_much_worse_than_backtest_or_coverage_below_nominal():
    fc = _forecasts(6, yhat=30.0, half_width=5.0)
    table = _evaluate(fc, _actuals(6, value=36.0), _backtest(err=2.0)).set_index("key")
    # level: MASE 3.25 > 1.5 x 2.0 and > 1; 80% coverage 0% < 70%
    reason = table.loc["province/category/export", "alert_reason"]
    assert table.loc["province/category/export", "alert"]
    assert "MASE 3.25 > 1.5 x backtest 2.00" in reason and "80% interval covers 0% < 70%" in reason
    assert "95%" not in reason  # 100% covered
    # XK_WOOD alone: MASE 0.5 is below 1 -> no MASE alert, only coverage
    assert "MASE" not in table.loc["XK_WOOD", "alert_reason"]


def test_no_alert_when_close_to_backtest_or_too_few_points():
    fc = _forecasts(6, yhat=30.0, half_width=50.0)
    table = _evaluate(fc, _actuals(6, value=36.0), _backtest(err=3.0))
    assert not table["alert"].any()  # MASE 3.25 < 1.5 x 3.0, all covered
    few = MIN_POINTS // 2 - 1  # per node, two nodes
    table = _evaluate(_forecasts(few, 30.0, 0.1), _actuals(few, 99.0), _backtest(err=0.1))
    assert not table["alert"].any()


def test_thresholds_are_configurable():
    fc = _forecasts(6, yhat=30.0, half_width=50.0)
    strict = Thresholds(mase_ratio=1.0, coverage_margin=0.0)
    table = _evaluate(fc, _actuals(6, value=36.0), _backtest(err=3.0), strict)
    assert table.set_index("key").loc["province/category/export", "alert"]


def test_no_actuals_yet_gives_an_empty_table_with_the_columns():
    table = _evaluate(_forecasts(6, 30.0, 5.0), _actuals(0, 1.0), _backtest(1.0))
    assert table.empty and {"mase", "coverage_80", "alert"} <= set(table.columns)
