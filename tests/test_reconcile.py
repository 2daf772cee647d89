"""Reconciliation: coherence, non-negativity, fallbacks, intervals, method choice."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from hierarchy_fixtures import demo_hierarchy, frame, monthly, snaive_engine

import forecast.reconcile as rc
from forecast.errors import InvalidParameterError
from forecast.hierarchy import Hierarchy, build_hierarchy
from forecast.reconcile import (
    COHERENT_METHODS,
    METHODS,
    adjust_intervals,
    reconcile,
    reconcile_cum_quantiles,
    residual_matrix,
)
from forecast.reconcile_choice import CHOICE_COLUMNS, accuracy_table, choice_reason, choose_method
from forecast.results import ACCURACY_BASE_COLUMNS


@functools.cache
def _demo_engine() -> tuple[pd.DataFrame, pd.DataFrame]:
    # 10% noise per node and period makes the base forecasts incoherent.
    return snaive_engine(demo_hierarchy(), noise=0.1)


def _wide(h: Hierarchy, forecasts: pd.DataFrame, column: str = "yhat") -> np.ndarray:
    ids = h.nodes["node_id"].to_numpy()
    table = forecasts.pivot(index="node_id", columns="period", values=column)
    return table.reindex(ids).to_numpy()


def _max_incoherence(h: Hierarchy, forecasts: pd.DataFrame) -> float:
    """Largest relative gap between a node and the sum of its bottoms, both structures."""
    values = _wide(h, forecasts)
    ids = pd.Index(h.nodes["node_id"])
    worst = 0.0
    for st in filter(None, (h.structure, h.destinations)):
        block = values[ids.get_indexer(st.node_ids)]
        summed = st.S @ block[st.n_aggregates :]
        gap = np.abs(summed - block) / np.maximum(np.abs(block), 1.0)
        worst = max(worst, float(gap.max()))
    return worst


def _nested(forecasts: pd.DataFrame) -> bool:
    f = forecasts
    return bool(
        (
            (f["lo_95"] <= f["lo_80"])
            & (f["lo_80"] <= f["yhat"])
            & (f["yhat"] <= f["hi_80"])
            & (f["hi_80"] <= f["hi_95"])
            & (f["lo_95"] >= 0)
        ).all()
    )


# --------------------------------------------------------------------------------------
# Demo data: every method


@pytest.mark.parametrize("method", COHERENT_METHODS)
def test_demo_every_method_is_coherent_non_negative_and_nested(method):
    h = demo_hierarchy()
    base, backtest = _demo_engine()
    assert _max_incoherence(h, base) > 0.01  # the base forecasts are not coherent
    result = reconcile(h, base, method=method, backtest=backtest)
    f = result.forecasts
    assert result.method_used == method and result.fallback is None
    assert len(f) == len(h.nodes) * 12 and f["node_id"].is_unique is False
    assert _max_incoherence(h, f) < 1e-6
    assert (f["yhat"] >= 0).all()
    assert _nested(f)
    assert set(f["model"]) == {"snaive"}


def test_demo_base_is_unchanged():
    h = demo_hierarchy()
    base, _ = _demo_engine()
    result = reconcile(h, base, method="base")
    got = result.forecasts.set_index(["node_id", "period"])
    want = base.set_index(["node_id", "period"]).reindex(got.index)
    np.testing.assert_array_equal(got["yhat"], want["yhat"])
    np.testing.assert_array_equal(got["hi_95"], want["hi_95"])


def test_demo_destinations_keep_base_proportions_under_the_reconciled_total():
    h = demo_hierarchy()
    base, backtest = _demo_engine()
    f = reconcile(h, base, method="mint_shrink", backtest=backtest).forecasts
    f = f.join(h.nodes.set_index("node_id")[["level", "category", "destination"]], on="node_id")
    dest = f[f["level"] == "national/category/export/destination"]
    tops = f[f["level"] == "national/category/export"].set_index(["category", "period"])["yhat"]
    summed = dest.groupby(["category", "period"])["yhat"].sum()
    np.testing.assert_allclose(summed, tops.reindex(summed.index), rtol=1e-9)
    b = base.join(h.nodes.set_index("node_id")[["level", "category"]], on="node_id")
    b = b[b["level"] == "national/category/export/destination"]
    share_base = b["yhat"] / b.groupby(["category", "period"])["yhat"].transform("sum")
    share_rec = dest["yhat"] / dest.groupby(["category", "period"])["yhat"].transform("sum")
    np.testing.assert_allclose(
        share_rec.to_numpy(), share_base.reindex(dest.index).to_numpy(), rtol=1e-9
    )


def test_demo_choice_keeps_mint_shrink_and_records_every_window():
    h = demo_hierarchy()
    _, backtest = _demo_engine()
    method, table = choose_method(h, backtest)
    assert list(table.columns) == list(CHOICE_COLUMNS)
    # 30 levels + "all" pooled over windows, and one row per window (3), per method.
    assert len(table) == (1 + len(COHERENT_METHODS)) * (31 + 3)
    pooled = table[(table["window"] == "all") & (table["level"] == "all")]
    overall = pooled.set_index("method")["mase"]
    assert set(overall.index) == {"base", *COHERENT_METHODS}
    by_window = table[table["window"] != "all"].pivot(
        index="window", columns="method", values="mase"
    )
    assert list(by_window.index) == ["2022-12", "2023-12", "2024-12"]
    # MinT is best in every window here, so no margin was needed and both rules agree.
    assert (by_window[list(COHERENT_METHODS)].idxmin(axis=1) == "mint_shrink").all()
    assert table["margin"].isna().all()
    assert method == "mint_shrink" == overall[list(COHERENT_METHODS)].idxmin()
    assert overall["mint_shrink"] == pytest.approx(1.2791, abs=1e-4)
    assert overall["mint_shrink"] < overall["base"]
    assert table.loc[table["chosen"], "method"].unique().tolist() == [method]
    assert choice_reason(method, table).startswith(
        "mint_shrink chosen by backtest (the default; no method was lower in all 3 window(s)"
    )
    acc = accuracy_table(table, method)
    assert list(acc.columns) == list(ACCURACY_BASE_COLUMNS)
    assert set(acc["stage"]) == {"base", "reconciled"} and len(acc) == 60


# --------------------------------------------------------------------------------------
# Small fixtures with hand-computed values


def _two_provinces() -> Hierarchy:
    """Hà Nội and Bắc Ninh, wood exports only: one market, one region, one category."""
    rows = monthly("Hà Nội", "XK_WOOD", "export", [6, 6])
    rows += monthly("Bắc Ninh", "XK_WOOD", "export", [4, 4])
    return build_hierarchy(frame(rows))


def _base(h: Hierarchy, values: dict[str, float], period: str = "2020-03") -> pd.DataFrame:
    ids = h.nodes["node_id"]
    yhat = ids.map(values).to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "node_id": ids,
            "period": pd.Period(period, "M"),
            "yhat": yhat,
            "lo_80": yhat - 2,
            "hi_80": yhat + 2,
            "lo_95": yhat - 4,
            "hi_95": yhat + 4,
            "model": "m",
        }
    )


HN = "DBSH|Hà Nội|CNNT1|XK_WOOD|export|*"
BN = "DBSH|Bắc Ninh|CNNT1|XK_WOOD|export|*"


def _point(result, node: str) -> float:
    f = result.forecasts
    return float(f.loc[f["node_id"] == node, "yhat"].iat[0])


def test_bottom_up_and_top_down_by_hand():
    h = _two_provinces()
    # Aggregates forecast 30, provinces 10 each (incoherent).
    values = {i: 30.0 for i in h.nodes["node_id"]} | {HN: 10.0, BN: 10.0}
    base = _base(h, values)
    bu = reconcile(h, base, method="bottom_up")
    assert _point(bu, "*|*|*|*|export|*") == 20.0
    td = reconcile(h, base, method="top_down")
    # 30 split in the base proportions 10:10.
    assert _point(td, HN) == pytest.approx(15.0) and _point(td, BN) == pytest.approx(15.0)
    assert _point(td, "DBSH|*|*|*|export|*") == pytest.approx(30.0)
    values[HN] = 30.0  # proportions 30:10 -> 22.5 and 7.5
    td = reconcile(h, _base(h, values), method="top_down")
    assert _point(td, HN) == pytest.approx(22.5) and _point(td, BN) == pytest.approx(7.5)


@pytest.mark.parametrize("method", COHERENT_METHODS)
def test_negative_base_forecasts_give_non_negative_coherent_results(method):
    h = _two_provinces()
    values = {i: 5.0 for i in h.nodes["node_id"]} | {HN: -8.0, BN: 3.0}
    base = _base(h, values)
    backtest = _backtest(h, seed=1)
    result = reconcile(h, base, method=method, backtest=backtest)
    f = result.forecasts
    assert (f["yhat"] >= 0).all() and _nested(f)
    assert _max_incoherence(h, f) < 1e-9
    assert result.n_negative_base == 1


@pytest.mark.parametrize("method", COHERENT_METHODS)
def test_a_closed_season_position_stays_0_and_the_rest_stays_coherent(method):
    # Hà Nội never sold in March (forecast 0), Bắc Ninh 10, every aggregate 30: MinT and
    # WLS move the aggregates' surplus into the bottoms, but not into Hà Nội's March.
    h = _two_provinces()
    values = {i: 30.0 for i in h.nodes["node_id"]} | {HN: 0.0, BN: 10.0}
    zeros = pd.DataFrame({"node_id": [HN, "no such node"], "period": ["2020-03", "2020-03"]})
    result = reconcile(
        h, _base(h, values), method=method, backtest=_backtest(h, seed=1), zeros=zeros
    )
    f = result.forecasts
    assert _point(result, HN) == 0.0
    assert _point(result, BN) >= 10.0
    assert _point(result, "*|*|*|*|export|*") == pytest.approx(_point(result, BN))
    assert _max_incoherence(h, f) < 1e-9 and _nested(f)
    hn = f[f["node_id"] == HN].iloc[0]
    assert hn["hi_80"] > 0 and hn["hi_95"] > hn["hi_80"]  # a first sale stays possible


def test_a_zero_forecast_not_marked_closed_is_reconciled_as_any_other():
    # Without ``zeros`` MinT moves the same 0 (it may be a product that ran out, which
    # the aggregates' evidence can revise), and a zero in another period pins nothing.
    h = _two_provinces()
    values = {i: 30.0 for i in h.nodes["node_id"]} | {HN: 0.0, BN: 10.0}
    base, bt = _base(h, values), _backtest(h, seed=1)
    free = reconcile(h, base, method="mint_shrink", backtest=bt)
    assert _point(free, HN) > 1.0
    other = pd.DataFrame({"node_id": [HN], "period": ["2020-04"]})
    moved = reconcile(h, base, method="mint_shrink", backtest=bt, zeros=other)
    assert _point(moved, HN) == pytest.approx(_point(free, HN))
    with pytest.raises(InvalidParameterError, match="zeros"):
        reconcile(h, base, method="mint_shrink", zeros=pd.DataFrame({"node_id": [HN]}))


def _backtest(h: Hierarchy, *, seed: int, n: int = 24, constant: str | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = h.nodes["node_id"].to_numpy()
    periods = pd.period_range("2018-01", periods=n, freq="M")
    y = rng.uniform(5, 10, (len(ids), n))
    yhat = y + rng.normal(0, 1, y.shape)
    if constant is not None:
        yhat[list(ids).index(constant)] = y[list(ids).index(constant)] - 1.0
    return pd.DataFrame(
        {
            "node_id": np.repeat(ids, n),
            "cutoff": pd.Period("2017-12", "M"),
            "period": np.tile(periods, len(ids)),
            "y": y.ravel(),
            "yhat": yhat.ravel(),
        }
    )


def test_mint_falls_back_and_records_why(monkeypatch):
    h = _two_provinces()
    base = _base(h, {i: 10.0 for i in h.nodes["node_id"]})
    # A constant (biased) error is a proper uncentred second moment: no fallback needed.
    biased = reconcile(h, base, method="mint_shrink", backtest=_backtest(h, seed=2, constant=HN))
    assert biased.method_used == "mint_shrink" and biased.fallback is None
    short = reconcile(h, base, method="mint_shrink", backtest=_backtest(h, seed=2, n=4))
    assert short.method_used == "wls_struct"
    assert short.fallback == "too few residual periods (4 < 10)"
    none = reconcile(h, base, method="mint_shrink")
    assert none.fallback == "no backtest residuals"
    ok = reconcile(h, base, method="mint_shrink", backtest=_backtest(h, seed=2))
    assert ok.method_used == "mint_shrink" and ok.fallback is None
    monkeypatch.setattr(rc, "ledoit_wolf", lambda z, **kw: (np.full((len(z.T),) * 2, np.nan), 0))
    broken = reconcile(h, base, method="mint_shrink", backtest=_backtest(h, seed=2))
    assert broken.method_used == "wls_var"
    assert broken.describe().startswith("mint_shrink -> wls_var (the shrunk error matrix")
    for r in (biased, short, none, ok, broken):
        assert _max_incoherence(h, r.forecasts) < 1e-9


def test_mint_shrink_uses_the_uncentred_error_matrix():
    h = _two_provinces()
    st = h.structure
    n = len(st.node_ids)
    y_hat = np.linspace(5.0, 9.0, n)[:, None] * np.ones((1, 2))
    # Orthogonal error rows: no correlation to shrink, so MinT equals wls_var exactly.
    from scipy.linalg import hadamard

    rows = hadamard(32)[1 : n + 1].astype(float) * np.arange(1.0, n + 1.0)[:, None]
    diag = rc._wls_solve(st.S, y_hat, rc._wls_weights(st, "wls_var", rows, y_hat), False)
    np.testing.assert_allclose(rc._mint_shrink(st.S, y_hat, rows), diag, rtol=1e-9)
    # Bias shared by two nodes enters the matrix (a covariance would centre it away).
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.1, (n, 32))
    biased = noise.copy()
    biased[:2] += 3.0
    assert not np.allclose(
        rc._mint_shrink(st.S, y_hat, biased), rc._mint_shrink(st.S, y_hat, noise)
    )


def test_top_down_falls_back_when_the_tree_is_incomplete():
    # Two units within the domestic market: region and national domestic nodes are not
    # built, so no tree reaches the provinces from the top.
    h = build_hierarchy(
        frame(
            monthly("Hà Nội", "XK_WOOD", "domestic", [1, 2], unit="million VND")
            + monthly("Thanh Hóa", "XK_WOOD", "domestic", [3, 4])
        )
    )
    result = reconcile(h, _base(h, {i: 5.0 for i in h.nodes["node_id"]}), method="top_down")
    assert result.method_used == "bottom_up" and "tree" in result.fallback
    assert _max_incoherence(h, result.forecasts) < 1e-9


def test_missing_base_rows_are_filled_and_noted():
    h = _two_provinces()
    base = _base(h, {i: 10.0 for i in h.nodes["node_id"]})
    base = base[base["node_id"] != BN]
    extra = base.iloc[:1].assign(node_id="no|such|node|*|export|*")
    result = reconcile(h, pd.concat([base, extra]), method="bottom_up")
    assert _point(result, BN) == 0.0 and _point(result, HN) == 10.0
    assert any("1 missing base forecast" in n for n in result.notes)
    assert any("1 base forecast row(s) for nodes outside" in n for n in result.notes)


def test_bad_inputs_raise():
    h = _two_provinces()
    base = _base(h, {i: 1.0 for i in h.nodes["node_id"]})
    with pytest.raises(InvalidParameterError, match="'method' parameter of reconcile"):
        reconcile(h, base, method="ols")
    with pytest.raises(InvalidParameterError, match="lacks column"):
        reconcile(h, base.drop(columns="yhat"), method="bottom_up")
    with pytest.raises(InvalidParameterError, match="no forecast for any node"):
        reconcile(h, base.assign(node_id="x"), method="bottom_up")
    with pytest.raises(InvalidParameterError, match="'base' is always reported"):
        choose_method(h, _backtest(h, seed=3), methods=("base",))
    assert METHODS == ("base", "bottom_up", "top_down", "mint_shrink", "wls_var")


# --------------------------------------------------------------------------------------
# Intervals


def test_adjust_intervals_by_hand():
    b = np.array([10.0, 10.0, 10.0, -2.0])
    r = np.array([12.0, 0.0, 40.0, 3.0])
    bounds = {
        "lo_80": b - np.array([2, 2, 2, 1.0]),
        "hi_80": b + 3,
        "lo_95": b - np.array([4, 4, 4, 2.0]),
        "hi_95": b + 6,
    }
    out = adjust_intervals(b, r, bounds, (95, 80))
    # s = 1.2: 12 - 1.2*2, 12 + 1.2*3, 12 - 1.2*4, 12 + 1.2*6
    assert out["lo_80"][0] == pytest.approx(9.6) and out["hi_80"][0] == pytest.approx(15.6)
    assert out["lo_95"][0] == pytest.approx(7.2) and out["hi_95"][0] == pytest.approx(19.2)
    # r = 0: s bounded at 0.5; lower bounds clipped at 0.
    assert out["lo_80"][1] == 0 and out["hi_80"][1] == pytest.approx(1.5)
    # r = 40: s bounded at 2.
    assert out["hi_95"][2] == pytest.approx(52.0) and out["lo_95"][2] == pytest.approx(32.0)
    # Negative base: s = 1, plain shift.
    assert out["lo_80"][3] == pytest.approx(2.0) and out["hi_80"][3] == pytest.approx(6.0)
    lo95, lo80, hi80, hi95 = out["lo_95"], out["lo_80"], out["hi_80"], out["hi_95"]
    assert ((lo95 <= lo80) & (lo80 <= r) & (r <= hi80) & (hi80 <= hi95)).all()


def test_adjust_intervals_repairs_crossed_base_bounds():
    b, r = np.array([10.0]), np.array([10.0])
    bounds = {
        "lo_80": np.array([12.0]),
        "hi_80": np.array([9.0]),
        "lo_95": np.array([11.0]),
        "hi_95": np.array([10.5]),
    }
    out = adjust_intervals(b, r, bounds, (80, 95))
    assert out["lo_95"][0] <= out["lo_80"][0] <= 10.0 <= out["hi_80"][0] <= out["hi_95"][0]


def test_reconcile_cum_quantiles_by_hand():
    p = pd.period_range("2026-01", periods=3, freq="M")
    base = pd.DataFrame({"node_id": "a", "period": p, "yhat": [10.0, 10.0, 10.0]})
    rec = pd.DataFrame({"node_id": "a", "period": p, "yhat": [11.0, 11.0, 11.0]})
    cq = pd.DataFrame({"node_id": "a", "k": 3, "q": [0.1, 0.5, 0.9], "value": [24.0, 30.0, 36.0]})
    out = reconcile_cum_quantiles(cq, base, rec)
    # sums 30 -> 33, s = 1.1: 33 - 1.1*6, 33, 33 + 1.1*6
    np.testing.assert_allclose(out["value"], [26.4, 33.0, 39.6])


def test_wls_var_solves_as_hierarchicalforecast_does():
    from hierarchicalforecast.methods import MinTrace

    h = _two_provinces()
    base = _base(h, {i: float(5 + k) for k, i in enumerate(h.nodes["node_id"])})
    backtest = _backtest(h, seed=3)
    st = h.structure
    resid = residual_matrix(h, backtest)
    y_hat = np.tile(np.arange(5.0, 5.0 + len(st.node_ids))[:, None], (1, 3))
    for kind in ("wls_var", "wls_struct"):
        ours = rc._wls_solve(st.S, y_hat, rc._wls_weights(st, kind, resid, y_hat), False)
        theirs = MinTrace(kind).fit_predict(
            S=st.S.toarray(), y_hat=y_hat, y_insample=resid, y_hat_insample=np.zeros_like(resid)
        )["mean"]
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)
    result = reconcile(h, base, method="wls_var", backtest=backtest)
    assert result.method_used == "wls_var" and result.fallback is None


def test_wls_var_imputes_nodes_without_errors_instead_of_pinning_them():
    h = _two_provinces()
    st = h.structure
    backtest = _backtest(h, seed=4)
    resid = residual_matrix(h, backtest)
    y_hat = np.full((len(st.node_ids), 2), 10.0)
    hn = list(st.node_ids).index(HN)
    missing = resid.copy()
    missing[hn] = np.nan
    zeros = resid.copy()
    zeros[hn] = 0.0
    w_full = rc._wls_weights(st, "wls_var", resid, y_hat)
    rel = np.median(np.delete(w_full - 2e-8, hn) / 100.0)
    for r in (missing, zeros):
        w = rc._wls_weights(st, "wls_var", r, y_hat)
        assert w[hn] == pytest.approx(rel * 100.0 + 2e-8)
        np.testing.assert_allclose(np.delete(w, hn), np.delete(w_full, hn))
    drop = backtest[backtest["node_id"] != HN]  # the province has no backtest at all
    base = _base(h, {i: 10.0 for i in h.nodes["node_id"]} | {HN: 30.0})
    result = reconcile(h, base, method="wls_var", backtest=drop)
    assert result.method_used == "wls_var" and result.fallback is None
    got = result.forecasts.groupby("node_id")["yhat"].first()
    assert got[HN] < 29.0  # not pinned to its base forecast of 30
    assert _max_incoherence(h, result.forecasts) < 1e-9
