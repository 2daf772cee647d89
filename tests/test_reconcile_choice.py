"""How ``auto`` chooses a reconciliation method: the default, consistency and margins."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hierarchy_fixtures import frame, monthly, seasonal_series

import forecast.reconcile as rc
import forecast.reconcile_choice as rcc
from forecast.errors import InvalidParameterError
from forecast.hierarchy import Hierarchy, build_hierarchy
from forecast.reconcile import residual_matrix
from forecast.reconcile_choice import (
    AUTO_DEFAULT,
    CHOICE_COLUMNS,
    auto_pick,
    choice_reason,
    choose_method,
)

# --------------------------------------------------------------------------------------
# The rule on its scores, by hand


def _scores(per_window: dict[str, list[float]], margin: dict[str, list[float]] | None = None):
    pw = pd.DataFrame(per_window)
    mg = pd.DataFrame(np.nan, index=pw.index, columns=pw.columns)
    for m, values in (margin or {}).items():
        mg[m] = values
    return pw, mg, pw.mean()


METHODS = ("mint_shrink", "wls_var", "bottom_up", "top_down")


def test_auto_pick_keeps_the_default_unless_beaten_in_every_window():
    pw, mg, pooled = _scores(
        {
            "mint_shrink": [1.00, 1.00],
            "wls_var": [0.95, 1.02],  # better in one window only
            "bottom_up": [0.96, 0.99],  # better in both, but within its margin in the second
            "top_down": [0.90, 0.98],  # better in both by more than its margin
        },
        {"bottom_up": [0.0, 0.02], "top_down": [0.01, 0.01]},
    )
    assert auto_pick(pw, mg, pooled, METHODS, None) == "top_down"  # plain lowest mean
    assert auto_pick(pw, mg, pooled, METHODS, "mint_shrink") == "top_down"
    mg.loc[1, "top_down"] = 0.025  # now within the noise in the second window
    assert auto_pick(pw, mg, pooled, METHODS, "mint_shrink") == "mint_shrink"
    mg.loc[1, "bottom_up"] = 0.005  # bottom_up clears both margins
    assert auto_pick(pw, mg, pooled, METHODS, "mint_shrink") == "bottom_up"
    mg.loc[1, "top_down"] = 0.01
    # Both beat the default: the first by preference, not the lower mean.
    assert pooled["top_down"] < pooled["bottom_up"]
    assert auto_pick(pw, mg, pooled, METHODS, "mint_shrink") == "bottom_up"
    pw.loc[1, "wls_var"] = 0.99
    assert auto_pick(pw, mg, pw.mean(), METHODS, "mint_shrink") == "wls_var"


def test_auto_pick_ties_missing_windows_and_no_scores():
    pw, mg, pooled = _scores(
        {"mint_shrink": [1.0, 1.0], "top_down": [0.9, 0.9], "bottom_up": [0.9, 0.9]}
    )
    # Ties go to the order of COHERENT_METHODS (bottom_up before top_down), whatever the
    # order of the candidates.
    assert auto_pick(pw, mg, pooled, ("mint_shrink", "top_down", "bottom_up"), AUTO_DEFAULT) == (
        "bottom_up"
    )
    assert auto_pick(pw, mg, pooled, ("mint_shrink", "top_down", "bottom_up"), None) == (
        "bottom_up"
    )
    # A window the default has no score in is no evidence either way.
    pw.loc[1, "mint_shrink"] = np.nan
    pw.loc[0, "top_down"] = 1.1
    pooled = pw.mean()
    assert auto_pick(pw, mg, pooled, ("mint_shrink", "top_down"), AUTO_DEFAULT) == "mint_shrink"
    nothing = pw * np.nan
    assert auto_pick(nothing, mg, nothing.mean(), ("top_down", "mint_shrink"), None) == "top_down"


# --------------------------------------------------------------------------------------
# choose_method on a small hierarchy with two 12-month windows

HN = "DBSH|Hà Nội|CNNT1|XK_WOOD|export|*"


@functools.cache
def _hierarchy() -> Hierarchy:
    """Hà Nội and Bắc Ninh wood exports, 2020-2023 (9 aggregates, 2 bottoms)."""
    rows = monthly("Hà Nội", "XK_WOOD", "export", list(seasonal_series(48, 60.0, 1)))
    rows += monthly("Bắc Ninh", "XK_WOOD", "export", list(seasonal_series(48, 40.0, 2)))
    return build_hierarchy(frame(rows))


def _backtest(h: Hierarchy, factors: list[Callable[[str], float]]) -> pd.DataFrame:
    """Windows ending 2021-12 and 2022-12: actuals times ``factor(level)`` and 2% noise."""
    rng = np.random.default_rng(0)
    ids = h.nodes["node_id"].to_numpy()
    level = h.nodes["level"].to_numpy()
    y = h.matrix(ids)
    parts = []
    for k, factor in enumerate(factors):
        end = 24 + 12 * k
        actual = y[:, end : end + 12]
        scale = np.array([factor(lv) for lv in level])[:, None]
        yhat = actual * scale * np.exp(rng.normal(0, 0.02, actual.shape))
        parts.append(
            pd.DataFrame(
                {
                    "node_id": np.repeat(ids, 12),
                    "cutoff": h.periods[end - 1],
                    "period": np.tile(h.periods[end : end + 12], len(ids)),
                    "y": actual.ravel(),
                    "yhat": yhat.ravel(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _split(level: str) -> float:
    """Bottoms 50% too high, aggregates right: top-down is nearly exact."""
    return 1.5 if level == "province/category/export" else 1.0


def _national_high(level: str) -> float:
    """National nodes 10% too high, the rest right: top-down carries that error down."""
    return 1.1 if level.startswith("national") else 1.0


def _window_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["window"] != "all"].pivot(index="window", columns="method", values="mase")


def test_a_method_better_in_one_window_only_does_not_replace_the_default():
    h = _hierarchy()
    bt = _backtest(h, [_split, _national_high])
    methods = ("mint_shrink", "bottom_up", "top_down")
    plain, _ = choose_method(h, bt, methods=methods, default=None)
    method, table = choose_method(h, bt, methods=methods)
    assert list(table.columns) == list(CHOICE_COLUMNS)
    by_window = _window_rows(table)
    assert list(by_window.index) == ["2021-12", "2022-12"]
    # top_down has the lowest pooled mean (the old rule's pick) but loses the second window.
    assert plain == "top_down"
    assert by_window.at["2021-12", "top_down"] == pytest.approx(0.3075, abs=1e-3)
    assert by_window.at["2022-12", "top_down"] > by_window.at["2022-12", "mint_shrink"]
    assert method == "mint_shrink"
    assert table.loc[table["chosen"], "method"].unique().tolist() == ["mint_shrink"]
    reason = choice_reason(method, table)
    assert reason.startswith(
        "mint_shrink chosen by backtest (the default; no method was lower in all 2 window(s)"
    )
    assert "top_down 1.249, lower in 1 of 2)" in reason


def test_a_method_better_in_every_window_by_more_than_its_margin_is_chosen():
    h = _hierarchy()
    bt = _backtest(h, [_split, _national_high])
    method, table = choose_method(h, bt)
    # wls_var beats mint_shrink in both windows; top_down (lower pooled mean) in one.
    assert method == "wls_var"
    by_window = _window_rows(table)
    rows = table[(table["method"] == "wls_var") & (table["window"] != "all")]
    lead = by_window["mint_shrink"] - by_window["wls_var"]
    assert (lead.to_numpy() > rows["margin"].to_numpy()).all()
    assert (rows["margin"] > 0).all()
    assert choice_reason(method, table).startswith(
        "wls_var chosen by backtest (the first of mint_shrink, wls_var, bottom_up, top_down "
        "lower than mint_shrink in all 2 window(s) by more than one standard error): "
        "mean MASE over levels 1.813"
    )


def test_the_margin_is_the_split_half_standard_error_of_the_lead():
    h = _hierarchy()
    bt = _backtest(h, [_split, _national_high])
    _, table = choose_method(h, bt)
    row = table[(table["method"] == "wls_var") & (table["window"] == "2021-12")]
    # Recompute: the window's errors come from the other window, split odd / even periods.
    ids = h.nodes["node_id"].to_numpy()
    window = bt[bt["cutoff"] == bt["cutoff"].min()]
    resid = residual_matrix(h, bt[bt["cutoff"] != bt["cutoff"].min()])
    periods = pd.PeriodIndex(sorted(window["period"].unique()), freq="M")
    yhat = rc.to_wide(window, "yhat", ids, periods)
    actual = rc.to_wide(window, "y", ids, periods)
    full = h.matrix(ids, outside=0.0)
    scale, _ = rcc._scales(full, h, pd.Period("2021-12", "M"))
    level = h.nodes["level"].to_numpy()

    def score(method: str, half: np.ndarray) -> float:
        points, _ = rc._points(h, yhat, method, half, min_residuals=2)
        mase = np.nanmean(np.abs(points - actual), axis=1) / scale
        return float(pd.Series(mase).groupby(level).mean().mean())

    leads = [
        score("mint_shrink", r) - score("wls_var", r) for r in (resid[:, 0::2], resid[:, 1::2])
    ]
    assert row["margin"].iat[0] == pytest.approx(abs(leads[0] - leads[1]) / 2, rel=1e-9)


def test_no_margin_without_error_estimates():
    h = _hierarchy()
    # Between methods that use no backtest errors there is no estimation noise.
    split = _backtest(h, [_split, _split])
    method, table = choose_method(h, split, methods=("top_down", "bottom_up"), default="bottom_up")
    rows = table[(table["method"] == "top_down") & (table["window"] != "all")]
    assert method == "top_down" and rows["margin"].tolist() == [0.0, 0.0]


def test_windows_where_the_default_fell_back_are_no_evidence_against_it():
    h = _hierarchy()
    bt = _backtest(h, [_split, _split])
    # Windows of 6 months: 6 error periods < MIN_RESIDUALS, so MinT fell back to wls_struct
    # in both and was never scored itself.
    short = bt[bt["period"].dt.month <= 6]
    method, table = choose_method(h, short)
    mint = table[(table["method"] == "mint_shrink") & (table["window"] != "all")]
    assert set(mint["method_used"]) == {"wls_struct"}
    # top_down is lower than the fallback in both windows, yet the default stays.
    by_window = _window_rows(table)
    assert (by_window["top_down"] < by_window["mint_shrink"]).all()
    assert method == "mint_shrink"
    assert table.attrs == {"default": "mint_shrink", "evidence_windows": 0}
    assert "in no window were there errors enough to score mint_shrink itself" in (
        choice_reason(method, table)
    )
    # One backtest window: no other window's errors at all.
    one = bt[bt["cutoff"] == bt["cutoff"].max()]
    method, table = choose_method(h, one)
    assert method == "mint_shrink" and table.attrs["evidence_windows"] == 0


def test_the_reason_describes_the_rule_that_was_applied():
    h = _hierarchy()
    bt = _backtest(h, [_split, _national_high])
    method, table = choose_method(h, bt, default=None)
    assert table.attrs["default"] is None
    reason = choice_reason(method, table)
    assert reason.startswith(f"{method} chosen by backtest: mean MASE over levels")
    assert "standard error" not in reason and "lower in" not in reason


def test_choose_method_rejects_a_default_outside_the_candidates():
    h = _hierarchy()
    bt = _backtest(h, [_split, _split])
    with pytest.raises(InvalidParameterError, match="'default' parameter of choose_method"):
        choose_method(h, bt, methods=("top_down", "bottom_up"))


def test_scales_count_a_late_node_from_its_first_period_as_the_engine_does(monkeypatch):
    """The months before a province's first sale are no history: read as zeros, the jump
    to its first season inflated its MASE scale 3.5x (so its errors counted for less)."""
    from forecast.evaluation import profiles

    early = seasonal_series(72, 100.0, 1)  # 2020-01 .. 2025-12
    late = seasonal_series(24, 100.0, 2)  # 2024-01 .. 2025-12
    rows = monthly("Hà Nội", "XK_WOOD", "export", early) + monthly(
        "Bắc Ninh", "XK_WOOD", "export", late, start="2024-01"
    )
    h = build_hierarchy(frame(rows))
    ids = h.nodes["node_id"].to_numpy()
    y = h.matrix(ids)
    cutoff = pd.Period("2025-06", "M")
    end = h.periods.get_loc(cutoff) + 1
    bt = pd.DataFrame(
        {
            "node_id": np.repeat(ids, 6),
            "cutoff": cutoff,
            "period": np.tile(h.periods[end : end + 6], len(ids)),
            "y": y[:, end : end + 6].ravel(),
            "yhat": 1.1 * y[:, end : end + 6].ravel(),
        }
    )
    got: list[np.ndarray] = []
    real = rcc._scales
    monkeypatch.setattr(rcc, "_scales", lambda *a: got.append(real(*a)[0]) or real(*a))
    choose_method(h, bt)
    (scale,) = got
    late_rows = 0
    for k, nid in enumerate(ids):
        row = y[k, :end]
        span = row[np.flatnonzero(np.isfinite(row))[0] :]  # the node's history to the cutoff
        assert scale[k] == pytest.approx(profiles.scales(span, 12)[0])
        late_rows += "Bắc Ninh" in nid
    assert late_rows >= 2


def test_overlapping_windows_do_not_lend_each_other_the_scored_periods(monkeypatch):
    """With a backtest step shorter than the horizon, windows share periods; the errors
    that set a window's MinT/WLS weights must not include those periods' actuals."""
    h = _hierarchy()
    two = _backtest(h, [_split, _split])
    second = two["cutoff"] == two["cutoff"].max()
    # Move the second window 6 months back: it now covers 2022-07..2023-06 and shares
    # 2022-07..2022-12 with the first (2022-01..2022-12).
    shifted = two[~second].copy()
    shifted["cutoff"] = h.periods[29]
    shifted["period"] = shifted["period"] + 6
    ids = h.nodes["node_id"].to_numpy()
    y = pd.DataFrame(h.matrix(ids), index=ids, columns=h.periods)
    shifted["y"] = [y.at[n, p] for n, p in zip(shifted["node_id"], shifted["period"], strict=True)]
    shifted["yhat"] = shifted["y"] * 1.5
    bt = pd.concat([two[~second], shifted], ignore_index=True)
    seen: list[set[pd.Period]] = []
    real = rc.residual_matrix

    def spy(hierarchy, frame):
        seen.append(set(frame["period"]))
        return real(hierarchy, frame)

    monkeypatch.setattr(rcc, "residual_matrix", spy)
    choose_method(h, bt)
    windows = [set(g["period"]) for _, g in bt.groupby("cutoff")]
    assert len(seen) == 2 and all(len(w & windows[0] & windows[1]) == 6 for w in windows)
    for used, scored in zip(seen, windows, strict=True):
        assert used and not used & scored  # errors from the other window's own periods only


def test_each_window_takes_its_errors_from_the_models_chosen_without_it():
    """Per-series choice made without each window: a window's MinT errors come from the
    models that forecast it (``folds``), on the other windows, not from the other
    windows' own choices."""
    h = _hierarchy()
    bt = _backtest(h, [_split, _national_high])
    alt = _backtest(h, [_national_high, _split])  # what the other choices forecast
    first, second = sorted(bt["cutoff"].unique())
    folds = pd.concat(
        [
            alt[alt["cutoff"] == second].assign(fold=first),
            alt[alt["cutoff"] == first].assign(fold=second),
        ],
        ignore_index=True,
    )
    _, table = choose_method(h, bt, folds=folds)
    got = _window_rows(table)
    plain = _window_rows(choose_method(h, bt)[1])
    for held, other in ((first, second), (second, first)):
        mixed = pd.concat([bt[bt["cutoff"] == held], alt[alt["cutoff"] == other]])
        want = _window_rows(choose_method(h, mixed)[1])
        assert got.loc[str(held)].to_dict() == pytest.approx(want.loc[str(held)].to_dict())
    # The error-based methods moved; the others use no errors and did not.
    assert got.at[str(first), "mint_shrink"] != pytest.approx(plain.at[str(first), "mint_shrink"])
    for m in ("base", "bottom_up", "top_down"):
        assert got[m].to_numpy() == pytest.approx(plain[m].to_numpy())
    # Folds holding the backtest's own other windows change nothing.
    same = pd.concat(
        [
            bt[bt["cutoff"] == second].assign(fold=first),
            bt[bt["cutoff"] == first].assign(fold=second),
        ],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(choose_method(h, bt, folds=same)[1], choose_method(h, bt)[1])
    with pytest.raises(InvalidParameterError, match="folds"):
        choose_method(h, bt, folds=folds.drop(columns="fold"))


def test_nodes_without_a_base_forecast_in_a_window_are_not_scored_there():
    """A node the backtest has no forecast for (too short for the window) is filled for the
    reconciliation, not scored: every method is judged on the nodes the base forecast."""
    h = _hierarchy()
    bt = _backtest(h, [_split, _national_high])
    first, second = sorted(bt["cutoff"].unique())
    lvl = "province/category/export"
    gone, kept = h.nodes.loc[h.nodes["level"] == lvl, "node_id"].tolist()
    partial = bt[~((bt["node_id"] == gone) & (bt["cutoff"] == first))]
    _, full = choose_method(h, bt)
    _, table = choose_method(h, partial)

    def count(t: pd.DataFrame, window: str, method: str) -> int:
        return int(t.loc[(t["window"] == window) & (t["method"] == method), "n_series"].iloc[0])

    n_nodes = len(h.nodes)
    assert count(full, str(first), "base") == n_nodes
    for m in ("base", "bottom_up", "top_down", "mint_shrink", "wls_var"):
        assert count(table, str(first), m) == n_nodes - 1, m  # every method, not only base
        assert count(table, str(second), m) == n_nodes, m
    # The bottom level's pooled base MASE by hand: per node, the mean over the windows it
    # was scored in of mean |y - yhat| / its scale up to the cutoff; then over the nodes.
    ids = h.nodes["node_id"].to_numpy()
    span = h.matrix(ids)

    def node_mase(node: str, cutoff: object) -> float:
        scale = rcc._scales(span, h, pd.Period(cutoff, h.freq))[0][list(ids).index(node)]
        rows = bt[(bt["node_id"] == node) & (bt["cutoff"] == cutoff)]
        return float((rows["y"] - rows["yhat"]).abs().mean() / scale)

    want = (node_mase(gone, second) + (node_mase(kept, first) + node_mase(kept, second)) / 2) / 2
    pooled = table[(table["window"] == "all") & (table["level"] == lvl)].set_index("method")
    assert pooled.loc["base", "mase"] == pytest.approx(want)
    assert pooled.loc["base", "n_series"] == 2  # the node still has the second window
