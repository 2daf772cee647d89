"""Outlook indicators: growth and its interval, trend labels, P(decline), flags."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hierarchy_fixtures import demo_hierarchy, frame, monthly, row, snaive_engine

from forecast.config import Settings
from forecast.errors import InvalidParameterError
from forecast.hierarchy import Hierarchy, build_hierarchy
from forecast.outlook import (
    BREAK_PVALUE,
    FLAG_LABELS,
    OUTLOOK_COLUMNS,
    TREND_LABELS,
    build_outlook,
    flag_text,
    structural_break_pvalue,
    trend_codes,
    volatility,
)
from forecast.reconcile import reconcile

NODE = "DBSH|Hà Nội|CNNT1|XK_WOOD|export|*"


def _one_series(values, start: str = "2024-01") -> Hierarchy:
    return build_hierarchy(frame(monthly("Hà Nội", "XK_WOOD", "export", values, start=start)))


def _forecast(h: Hierarchy, yhat, *, below=10.0, above=10.0, levels=(80,)) -> pd.DataFrame:
    """The same forecast for every node of ``h`` (they are all the one series)."""
    periods = pd.period_range(h.last_period + 1, periods=len(yhat), freq=h.freq)
    parts = []
    for node in h.nodes["node_id"]:
        f = pd.DataFrame({"node_id": node, "period": periods, "yhat": np.asarray(yhat, float)})
        for i, lv in enumerate(levels):
            f[f"lo_{lv}"] = f["yhat"] - below * (1 + i)
            f[f"hi_{lv}"] = f["yhat"] + above * (1 + i)
        parts.append(f)
    return pd.concat(parts, ignore_index=True)


def _row(out: pd.DataFrame, node: str = NODE) -> pd.Series:
    return out.set_index("node_id").loc[node]


# 2024: 80 a month; 2025: 100 a month. Forecast 2026: 110, 120, 130, then 100.
HISTORY = [80.0] * 12 + [100.0] * 12
FORECAST = [110.0, 120.0, 130.0] + [100.0] * 9


def test_growth_by_hand():
    h = _one_series(HISTORY)
    out = build_outlook(h, _forecast(h, FORECAST), Settings())
    r = _row(out)
    assert r["value_12m"] == 1200.0 and r["forecast_12m"] == 1260.0
    assert r["growth_3"] == pytest.approx(20.0)  # 360 / 300
    assert r["growth_6"] == pytest.approx(10.0)  # 660 / 600
    assert r["growth_12"] == pytest.approx(5.0)  # 1260 / 1200
    assert r["trend"] == "rise" and r["trend_vi"] == "tăng" and r["trend_en"] == "rise"
    assert str(r["peak_period"]) == "2026-03" and r["peak_month"] == 3
    assert str(r["trough_period"]) == "2026-04" and r["trough_month"] == 4
    # No cum_quantiles: per-period half-widths of 10 combined with correlation 0.5:
    # sqrt(0.5 * 12 * 10**2 + 0.5 * 120**2) = 88.3176
    assert r["interval_source"] == "approximation"
    assert r["growth_12_lo"] == pytest.approx(-2.35980, abs=1e-4)
    assert r["growth_12_hi"] == pytest.approx(12.35980, abs=1e-4)
    assert r["flags"] == "short_history"


def test_growth_interval_and_p_decline_from_cum_quantiles():
    h = _one_series(HISTORY)
    cq = pd.DataFrame(
        {
            "node_id": NODE,
            "k": 12,
            "q": [0.1, 0.5, 0.9],
            "value": [1140.0, 1260.0, 1380.0],
        }
    )
    out = build_outlook(h, _forecast(h, FORECAST), Settings(), cum_quantiles=cq)
    r = _row(out)
    assert r["interval_source"] == "quantiles"
    assert r["growth_12_lo"] == pytest.approx(-5.0)  # 1140 / 1200
    assert r["growth_12_hi"] == pytest.approx(15.0)  # 1380 / 1200
    # 1200 lies half-way between the 10% and 50% quantiles on the normal-score scale:
    # Phi(-1.28155 / 2) = 0.26083
    assert r["p_decline"] == pytest.approx(0.26083, abs=1e-4)
    # Nodes without quantiles use the approximation.
    other = _row(out, "*|*|*|*|export|*")
    assert other["interval_source"] == "approximation"


def test_interval_of_the_sum_is_given_even_without_a_year_before():
    """Nine months of history: no growth for the next 3 months, but the forecast of their
    sum still has its 80% interval (the reports show it)."""
    h = _one_series([100.0] * 9, start="2025-04")
    fc = _forecast(h, FORECAST)
    cq = pd.DataFrame(
        {"node_id": NODE, "k": 3, "q": [0.1, 0.5, 0.9], "value": [330.0, 360.0, 390.0]}
    )
    r = _row(build_outlook(h, fc, Settings(), cum_quantiles=cq))
    assert np.isnan(r["growth_3"]) and np.isnan(r["growth_3_lo"])
    assert r["forecast_3_lo"] == pytest.approx(330.0)
    assert r["forecast_3_hi"] == pytest.approx(390.0)
    # With a year before, the growth interval is the sum's interval over that year.
    h2 = _one_series(HISTORY)
    r2 = _row(build_outlook(h2, _forecast(h2, FORECAST), Settings(), cum_quantiles=cq))
    assert r2["growth_3_lo"] == pytest.approx((r2["forecast_3_lo"] / 300.0 - 1) * 100)


def test_p_decline_falls_as_the_forecast_rises():
    h = _one_series(HISTORY)
    probs = [
        _row(build_outlook(h, _forecast(h, [100.0 * f] * 12), Settings()))["p_decline"]
        for f in (0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2)
    ]
    assert all(a > b for a, b in itertools.pairwise(probs))
    assert probs[3] == pytest.approx(0.5)  # forecast sum equals last year's
    assert probs[0] > 0.99 and probs[-1] < 0.01


def test_trend_labels_at_the_thresholds():
    g = [10.0, 9.99, 3.0, 2.99, 0.0, -2.99, -3.0, -9.99, -10.0, np.nan]
    assert trend_codes(np.array(g), 3.0, 10.0) == [
        "strong_rise",
        "rise",
        "rise",
        "stable",
        "stable",
        "stable",
        "fall",
        "fall",
        "strong_fall",
        "undetermined",
    ]
    assert TREND_LABELS["strong_fall"] == ("giảm mạnh", "strong fall")
    assert TREND_LABELS["stable"] == ("ổn định", "stable")


def test_settings_thresholds_are_used():
    h = _one_series(HISTORY)
    out = build_outlook(h, _forecast(h, FORECAST), Settings(trend_mild=6.0, trend_strong=8.0))
    assert _row(out)["trend"] == "stable"  # 5% < 6%


def test_volatility_by_hand():
    # Year 2 doubles year 1, years 3 and 4 stay flat: symmetric growth 200 * 1/3 for 12
    # months, then 0 for 24 -> sample sd 31.8728.
    y = np.array([[10.0] * 12 + [20.0] * 36])
    assert volatility(y, 12)[0] == pytest.approx(31.87276, abs=1e-4)
    assert volatility(np.array([[5.0] * 48]), 12)[0] == 0.0
    assert np.isnan(volatility(np.array([[5.0] * 15]), 12)[0])  # 3 values < 6


# --------------------------------------------------------------------------------------
# Flags


def _seasonal(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.03, n))


def test_structural_break_test_on_crafted_series():
    calm = _seasonal(72, 1)
    shifted = calm * np.r_[np.ones(36), np.full(36, 2.0)]
    assert structural_break_pvalue(calm, 12) > 0.05
    assert structural_break_pvalue(shifted, 12) < BREAK_PVALUE
    assert np.isnan(structural_break_pvalue(calm[:30], 12))  # under 3 years
    assert np.isnan(structural_break_pvalue(np.zeros(48), 12))  # constant


def test_flags_on_crafted_series():
    calm = _seasonal(72, 1)
    shifted = calm * np.r_[np.ones(36), np.full(36, 2.0)]
    gappy = calm.copy().tolist()
    gappy[40] = None
    rows = (
        monthly("Hà Nội", "XK_WOOD", "export", list(calm), start="2020-01")
        + monthly("Bắc Ninh", "XK_WOOD", "export", list(shifted), start="2020-01")
        + monthly("Thanh Hóa", "XK_WOOD", "export", gappy, start="2020-01")
        + monthly("Hồ Chí Minh", "XK_WOOD", "export", list(calm[:24]), start="2024-01")
        + monthly("Hà Nội", "XK_CERAMIC", "export", list(calm[:60]), start="2020-01")
    )
    h = build_hierarchy(frame(rows))
    f = _forecast(h, [100.0] * 12, below=10, above=10, levels=(80, 95))
    wide_node = "DBSH|Bắc Ninh|CNNT1|XK_WOOD|export|*"
    wide = f["node_id"] == wide_node
    f.loc[wide, "hi_95"] = f.loc[wide, "yhat"] + 150.0  # 95% width 170 > 1.0 x 100
    prev = h.history[h.history["node_id"] == "DBSH|Hà Nội|CNNT1|XK_WOOD|export|*"].copy()
    prev.loc[prev.index[5], "value"] += 1.0
    out = build_outlook(h, f, Settings(), previous_history=prev).set_index("node_id")
    flags = out["flags"]
    assert flags["DBSH|Hà Nội|CNNT1|XK_WOOD|export|*"] == "revised"
    assert flags[wide_node] == "structural_break;wide_interval"
    assert flags["BTB_DHMT|Thanh Hóa|CNNT1|XK_WOOD|export|*"] == "data_gap"
    assert flags["DNB|Hồ Chí Minh|CNNT1|XK_WOOD|export|*"] == "short_history"
    # Ceramics stopped at 2024-12: a gap until the last period (2025-12).
    assert "data_gap" in flags["DBSH|Hà Nội|CNNT1|XK_CERAMIC|export|*"]
    # The gap is flagged on the ancestors too.
    assert "data_gap" in flags["*|*|*|*|export|*"]
    assert flag_text("structural_break;wide_interval", "en") == (
        "structural break detected; wide forecast interval"
    )
    assert flag_text("data_gap", "vi") == FLAG_LABELS["data_gap"][0] == "thiếu số liệu"
    assert flag_text("", "vi") == ""
    with pytest.raises(InvalidParameterError, match="'lang' parameter of flag_text"):
        flag_text("data_gap", "fr")


def test_unchanged_previous_history_is_not_a_revision():
    h = _one_series(HISTORY)
    out = build_outlook(h, _forecast(h, FORECAST), Settings(), previous_history=h.history)
    assert "revised" not in _row(out)["flags"]


# --------------------------------------------------------------------------------------
# Frequencies and the demo


def test_quarterly_windows_are_in_months():
    rows = [
        row(f"{y}-Q{q}", "Hà Nội", "XK_WOOD", "export", 100.0 if y == 2025 else 80.0, freq="Q")
        for y in (2024, 2025)
        for q in (1, 2, 3, 4)
    ]
    h = build_hierarchy(frame(rows))
    out = build_outlook(h, _forecast(h, [110.0, 120.0, 100.0, 100.0]), Settings())
    r = _row(out)
    assert r["growth_3"] == pytest.approx(10.0)  # one quarter: 110 / 100
    assert r["growth_6"] == pytest.approx(15.0)  # two quarters: 230 / 200
    assert r["growth_12"] == pytest.approx(7.5)  # four quarters: 430 / 400
    assert r["peak_month"] == 4  # 2026Q2 starts in April


def test_one_period_window_takes_the_period_interval_not_the_cumulative_quantiles():
    """Quarterly data: the next 3 months are the next quarter, whose interval the forecast
    table shows; the outlook gives the same one, not the k = 1 cumulative quantiles."""
    rows = [
        row(f"{y}-Q{q}", "Hà Nội", "XK_WOOD", "export", 100.0 if y == 2025 else 80.0, freq="Q")
        for y in (2024, 2025)
        for q in (1, 2, 3, 4)
    ]
    h = build_hierarchy(frame(rows))
    fc = _forecast(h, [110.0, 120.0, 100.0, 100.0])  # 80%: 110 - 10 .. 110 + 10
    cq = pd.DataFrame(
        {"node_id": NODE, "k": [1, 1, 1, 2, 2, 2], "q": [0.1, 0.5, 0.9] * 2,
         "value": [90.0, 112.0, 125.0, 200.0, 230.0, 260.0]}
    )  # fmt: skip
    r = _row(build_outlook(h, fc, Settings(), cum_quantiles=cq))
    first = fc[fc["node_id"] == NODE].iloc[0]
    assert r["forecast_3_lo"] == pytest.approx(first["lo_80"]) == 100.0
    assert r["forecast_3_hi"] == pytest.approx(first["hi_80"]) == 120.0
    assert r["growth_3_lo"] == pytest.approx(0.0) and r["growth_3_hi"] == pytest.approx(20.0)
    # Two quarters still come from the cumulative quantiles.
    assert r["forecast_6_lo"] == pytest.approx(200.0) and r["forecast_6_hi"] == 260.0


def test_annual_data_have_no_3_or_6_month_growth():
    rows = [
        row(str(y), "Hà Nội", "XK_WOOD", "export", v, freq="Y")
        for y, v in ((2023, 90.0), (2024, 100.0))
    ]
    h = build_hierarchy(frame(rows))
    r = _row(build_outlook(h, _forecast(h, [104.0]), Settings()))
    assert np.isnan(r["growth_3"]) and np.isnan(r["growth_6"])
    assert r["growth_12"] == pytest.approx(4.0) and r["trend"] == "rise"
    # The next 12 months are one year: its own interval.
    assert r["interval_source"] == "period"


def test_demo_outlook_columns_and_sanity():
    h = demo_hierarchy()
    base, _backtest = snaive_engine(h, noise=0.1)
    f = reconcile(h, base, method="bottom_up").forecasts
    out = build_outlook(h, f, Settings())
    assert list(out.columns) == list(OUTLOOK_COLUMNS)
    assert len(out) == len(h.nodes) and out["node_id"].tolist() == h.nodes["node_id"].tolist()
    assert out["p_decline"].between(0, 1).all()
    ok = out["growth_12"].notna()
    assert ok.mean() > 0.99
    assert (out.loc[ok, "growth_12_lo"] <= out.loc[ok, "growth_12"] + 1e-9).all()
    assert (out.loc[ok, "growth_12_lo_95"] <= out.loc[ok, "growth_12_lo"] + 1e-9).all()
    assert (out.loc[ok, "growth_12_hi_95"] >= out.loc[ok, "growth_12_hi"] - 1e-9).all()
    codes = {c for s in out["flags"] for c in s.split(";") if c}
    assert codes <= set(FLAG_LABELS)
    assert set(out["trend"]) <= set(TREND_LABELS)
