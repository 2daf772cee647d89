"""A realistic synthetic :class:`~forecast.results.RunResult` for report tests and timing.

The pipeline that produces real runs is built separately, so the report layer is tested
against this stand-in. It follows the contract in :mod:`forecast.results`: every node of the
hierarchy (national / region / province x total / group / category x total / domestic /
export, plus national export destinations), monthly history with a Tết dip in the Tết month
and a Q4 peak, coherent point forecasts with widening 80% and 95% intervals, and outlook,
advantage, linkage and destination tables with the columns the reports read
(:mod:`forecast.reports.inputs`).
"""

from __future__ import annotations

import zlib
from itertools import combinations
from math import erf, sqrt

import numpy as np
import pandas as pd

from forecast.data.calendar import tet_date
from forecast.data.categories import category
from forecast.data.geography import provinces
from forecast.results import RunResult, node_id

SMALL_PROVINCES = ("Hà Nội", "Bắc Ninh", "Huế", "Đắk Lắk", "Hồ Chí Minh", "Đồng Tháp")
SMALL_CATEGORIES = ("XK_WOOD", "XK_RBSC", "XK_CERAMIC", "XK_COFFEE", "XK_MACHINERY", "NNNT5")
ALL_CATEGORIES = (
    "XK_RBSC",
    "XK_CERAMIC",
    "XK_WOOD",
    "XK_BAGS_HATS",
    "XK_GLASS",
    "XK_CASHEW",
    "XK_COFFEE",
    "XK_TEA",
    "XK_PEPPER",
    "XK_CONFECT",
    "XK_FRUITVEG",
    "XK_STEEL_PROD",
    "XK_MACHINERY",
    "XK_PLASTIC_PROD",
    "NNNT5",
)
DESTINATIONS = (
    "US",
    "JP",
    "CN",
    "KR",
    "DE",
    "GB",
    "NL",
    "FR",
    "AU",
    "CA",
    "TW",
    "ES",
    "IN",
    "IT",
    "TH",
    "MY",
    "PH",
    "ID",
    "SG",
    "BE",
    "PL",
    "RU",
    "AE",
    "PK",
)
UNIT = "thousand USD"
RUN_ID = "20260115T030000Z-a1b2c3"
Z = {80: 1.2816, 95: 1.96}


def _seasonal_profile(periods: pd.PeriodIndex) -> np.ndarray:
    """Month factors: Tết month dip (~0.7), weak month after, Q4 peak."""
    base = np.array([1.0, 0.95, 1.02, 0.98, 1.0, 0.99, 1.01, 1.05, 1.07, 1.1, 1.12, 1.15])
    out = base[periods.month - 1].copy()
    for i, p in enumerate(periods):
        tet = tet_date(p.year)
        if tet.month == p.month:
            out[i] *= 0.7
        elif tet.month + 1 == p.month:
            out[i] *= 0.93
    return out


def make_result(
    *,
    province_names: tuple[str, ...] | None = SMALL_PROVINCES,
    category_codes: tuple[str, ...] = SMALL_CATEGORIES,
    destinations: tuple[str, ...] = (*DESTINATIONS[:12], "ZZ"),
    n_history: int = 48,
    last_period: str = "2025-12",
    horizon: int = 12,
    synthetic: bool = True,
    seed: int = 7,
) -> RunResult:
    """Build a coherent synthetic run.

    Parameters
    ----------
    province_names
        2025 provincial units to include; None means all 34.
    category_codes
        Category codes (each maps to its CNNT group).
    destinations
        ISO2 codes of export destinations (national level).
    n_history, last_period, horizon
        Months of history ending at ``last_period``; forecast months after it.
    synthetic
        Value of ``RunResult.synthetic``.
    seed
        Seed of the generator; the result is deterministic.
    """
    rng = np.random.default_rng(seed)
    units = [u for u in provinces() if province_names is None or u.name in province_names]
    last = pd.Period(last_period, freq="M")
    hist_idx = pd.period_range(end=last, periods=n_history, freq="M")
    fc_idx = pd.period_range(start=last + 1, periods=horizon, freq="M")
    all_idx = hist_idx.append(fc_idx)
    season = _seasonal_profile(all_idx)
    t = np.arange(len(all_idx)) / 12.0
    cats = [category(c) for c in category_codes]

    # Bottom series: province x category x market, values in thousand USD.
    bottom: dict[tuple[str, str, str], np.ndarray] = {}
    sigma: dict[tuple[str, str, str], np.ndarray] = {}
    for ui, unit in enumerate(units):
        size = 4000.0 * (1.0 + 3.0 * (unit.name in ("Hồ Chí Minh", "Hà Nội", "Bình Dương")))
        for ci, cat in enumerate(cats):
            if rng.random() < 0.15 and ui > 1:
                continue  # not every province makes every product
            for market in ("domestic", "export"):
                if market == "export" and rng.random() < 0.25 and ui > 1:
                    continue
                level = size * rng.uniform(0.05, 1.5) * (1.6 if market == "export" else 1.0)
                growth = rng.normal(0.06 if ci % 3 else -0.04, 0.08)
                path = level * np.exp(growth * t) * season
                noise = rng.normal(0, 0.06, len(all_idx))
                values = np.maximum(path * (1 + noise), 0.0)
                values[len(hist_idx) :] = path[len(hist_idx) :]
                key = (unit.name, cat.code, market)
                bottom[key] = np.round(values, 1)
                h = np.arange(1, horizon + 1)
                sigma[key] = level * 0.07 * np.sqrt(h)

    region_of = {u.name: u.region.code for u in units}
    group_of = {c.code: c.group for c in cats}
    rows: list[dict[str, object]] = []
    series: dict[str, np.ndarray] = {}
    variances: dict[str, np.ndarray] = {}

    def add(
        region: str,
        prov: str,
        group: str,
        cat: str,
        market: str,
        dest: str,
        values: np.ndarray,
        var: np.ndarray,
    ) -> None:
        nid = node_id(region, prov, group, cat, market, dest)
        if nid not in series:
            geo = "province" if prov else ("region" if region else "national")
            prod = "category" if cat else ("group" if group else "total")
            level = f"{geo}/{prod}/{market}" + ("/destination" if dest else "")
            rows.append(
                dict(
                    node_id=nid,
                    region=region,
                    province=prov,
                    group=group,
                    category=cat,
                    market=market,
                    destination=dest,
                    geo_level=geo,
                    product_level=prod,
                    level=level,
                    unit=UNIT,
                )
            )
            series[nid] = np.zeros(len(all_idx))
            variances[nid] = np.zeros(horizon)
        series[nid] = series[nid] + values
        variances[nid] = variances[nid] + var

    for (prov, cat, market), values in bottom.items():
        var = sigma[(prov, cat, market)] ** 2
        region, group = region_of[prov], group_of[cat]
        for geo in ((region, prov), (region, ""), ("", "")):
            for prod in ((group, cat), (group, ""), ("", "")):
                for mk in (market, "total"):
                    add(*geo, *prod, mk, "", values, var)

    # National export destinations: split each category's export with fixed shares.
    weights = rng.dirichlet(np.linspace(3.0, 0.3, len(destinations)) * 3, size=len(cats))
    for ci, cat in enumerate(cats):
        nat = series.get(node_id("", "", cat.group, cat.code, "export", ""))
        if nat is None:
            continue
        drift = rng.normal(0, 0.03, (len(destinations),))
        for di, dest in enumerate(destinations):
            w = weights[ci, di] * np.exp(drift[di] * t)
            values = nat * w / np.sum(weights[ci] * np.exp(np.outer(t, drift)), axis=1)
            var = variances[node_id("", "", cat.group, cat.code, "export", "")] * weights[ci, di]
            for prod in ((cat.group, cat.code), (cat.group, ""), ("", "")):
                add("", "", *prod, "export", dest, values, var)

    nodes = pd.DataFrame(rows).sort_values("node_id", ignore_index=True)
    n_h = len(hist_idx)
    history = pd.DataFrame(
        {
            "node_id": np.repeat(nodes["node_id"].to_numpy(), n_h),
            "period": np.tile(np.asarray(hist_idx), len(nodes)),
            "value": np.concatenate([series[n][:n_h] for n in nodes["node_id"]]),
        }
    )
    fc_parts = []
    for nid in nodes["node_id"]:
        yhat = series[nid][n_h:]
        sd = np.sqrt(variances[nid])
        part = {"node_id": nid, "period": np.asarray(fc_idx), "yhat": yhat}
        for lv in (80, 95):
            part[f"lo_{lv}"] = np.maximum(yhat - Z[lv] * sd, 0.0)
            part[f"hi_{lv}"] = yhat + Z[lv] * sd
        fc_parts.append(pd.DataFrame(part))
    forecasts = pd.concat(fc_parts, ignore_index=True)
    models = np.array(["ets", "theta", "snaive", "arima", "ensemble"])
    model_of = dict(zip(nodes["node_id"], models[rng.integers(0, 5, len(nodes))], strict=True))
    forecasts["model"] = forecasts["node_id"].map(model_of)
    selection = pd.DataFrame(
        {
            "node_id": nodes["node_id"],
            "model": nodes["node_id"].map(model_of),
            "reason": "lowest MASE in rolling-origin backtest",
        }
    )
    outlook = _outlook(nodes, history, forecasts, rng)
    advantage = _advantage(nodes, history, last)
    return RunResult(
        run_id=RUN_ID,
        created_at="2026-01-15T03:00:00Z",
        freq="M",
        horizon=horizon,
        levels=(80, 95),
        last_period=last,
        synthetic=synthetic,
        data_vintage="9f2c4e1ab37d",
        sources=pd.DataFrame(
            [
                dict(
                    batch_id=1,
                    source_file="demo_sales.csv",
                    source_label="synthetic-demo",
                    row_count=121422,
                    first_period="2015-01",
                    last_period=str(last),
                    ingested_at="2026-01-15T02:59:10Z",
                ),
                dict(
                    batch_id=2,
                    source_file='=HYPERLINK("http://x")',
                    source_label="@evil",
                    row_count=12,
                    first_period=str(last),
                    last_period=str(last),
                    ingested_at="2026-01-15T02:59:40Z",
                ),
            ]
        ),
        nodes=nodes,
        history=history,
        forecasts=forecasts,
        base_forecasts=forecasts.copy(),
        selection=selection,
        accuracy=_accuracy(),
        outlook=outlook,
        advantage=advantage,
        linkage=_linkage(advantage, outlook, nodes, rng),
        destinations=_destinations(nodes, history, outlook, last),
        reconcile_method="mint_shrink (chosen by backtest)",
        config={"horizon": horizon, "levels": [80, 95], "trend_strong": 10.0, "trend_mild": 3.0},
    )


def _trend(g: float) -> str:
    if not np.isfinite(g):
        return "undetermined"
    if g >= 10:
        return "strong_rise"
    if g >= 3:
        return "rise"
    if g > -3:
        return "stable"
    return "fall" if g > -10 else "strong_fall"


def _outlook(
    nodes: pd.DataFrame, history: pd.DataFrame, forecasts: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    hist = history.pivot(index="node_id", columns="period", values="value")
    yhat = forecasts.pivot(index="node_id", columns="period", values="yhat")
    lo = forecasts.pivot(index="node_id", columns="period", values="lo_80")
    hi = forecasts.pivot(index="node_id", columns="period", values="hi_80")
    out = pd.DataFrame(index=yhat.index)
    for h in (3, 6, 12):
        base = hist.iloc[:, -12 : -12 + h if h < 12 else None].sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"growth_{h}"] = (yhat.iloc[:, :h].sum(axis=1) / base - 1) * 100
            # Interval of a sum is narrower than the sum of intervals; sqrt(h) is the
            # independent-errors approximation, good enough for a fixture.
            half = (hi.iloc[:, :h].sum(axis=1) - lo.iloc[:, :h].sum(axis=1)) / 2 / np.sqrt(h)
            out[f"growth_{h}_lo"] = out[f"growth_{h}"] - half / base * 100
            out[f"growth_{h}_hi"] = out[f"growth_{h}"] + half / base * 100
    out = out.replace([np.inf, -np.inf], np.nan)
    out["trend"] = out["growth_12"].map(_trend)
    scale = (out["growth_12_hi"] - out["growth_12"]).clip(lower=0.5) / 1.2816
    out["p_decline"] = [
        0.5 * (1 + erf((-g) / (s * sqrt(2)))) if np.isfinite(g) else np.nan
        for g, s in zip(out["growth_12"], scale, strict=True)
    ]
    out["peak_month"] = yhat.to_numpy().argmax(axis=1) % 12 + 1
    out["trough_month"] = yhat.to_numpy().argmin(axis=1) % 12 + 1
    out["volatility"] = (hist.diff(axis=1).std(axis=1) / hist.mean(axis=1)).fillna(0)
    flags = np.array(
        [
            "",
            "",
            "",
            "",
            "",
            "",
            "short_history",
            "wide_interval",
            "structural_break;wide_interval",
            "data_gap",
            "revised",
        ]
    )
    out["flags"] = flags[rng.integers(0, len(flags), len(out))]
    return out.reset_index()


def _advantage(nodes: pd.DataFrame, history: pd.DataFrame, last: pd.Period) -> pd.DataFrame:
    recent = history[history["period"] > last - 12]
    v12 = recent.groupby("node_id")["value"].sum()
    n = nodes.set_index("node_id").assign(value_12m=v12)
    prov = n[(n["geo_level"] == "province") & (n["destination"] == "")]
    nat = n[(n["geo_level"] == "national") & (n["destination"] == "")]
    rows = []
    for (pname, market), grp in prov.groupby(["province", "market"]):
        if market == "total":
            continue
        prov_total = grp.loc[grp["product_level"] == "total", "value_12m"].sum()
        nat_total = nat[(nat["product_level"] == "total") & (nat["market"] == market)][
            "value_12m"
        ].sum()
        for _, r in grp[grp["product_level"] == "category"].iterrows():
            nat_cat = nat[(nat["category"] == r["category"]) & (nat["market"] == market)][
                "value_12m"
            ].sum()
            lq = (r["value_12m"] / prov_total) / (nat_cat / nat_total)
            rows.append(
                dict(
                    province=pname,
                    region=r["region"],
                    category=r["category"],
                    market=market,
                    value_12m=r["value_12m"],
                    share_pct=100 * r["value_12m"] / nat_cat,
                    lq=lq,
                    lq_change_3y=round(
                        (zlib.crc32((pname + r["category"]).encode()) % 41 - 20) / 50, 2
                    ),
                )
            )
    return pd.DataFrame(rows)


def _linkage(
    advantage: pd.DataFrame, outlook: pd.DataFrame, nodes: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    g12 = outlook.set_index("node_id")["growth_12"]
    rows = []
    strong = advantage[advantage["lq"] > 1]
    for (cat, market, region), grp in strong.groupby(["category", "market", "region"]):
        if len(grp) < 2:
            continue
        group = category(cat).group
        nid = node_id(region, "", group, cat, market, "")
        g = float(g12.get(nid, np.nan))
        rows.append(
            dict(
                category=cat,
                market=market,
                kind="group",
                scope="region",
                regions=region,
                provinces=";".join(sorted(grp["province"])),
                value_12m=grp["value_12m"].sum(),
                growth_12=g,
                trend=_trend(g),
                province="",
                partner="",
                correlation=np.nan,
            )
        )
    for (cat, market), grp in advantage.groupby(["category", "market"]):
        names = sorted(grp["province"])
        for a, b in list(combinations(names, 2))[:6]:
            corr = float(rng.uniform(0.3, 0.95))
            if corr < 0.6:
                continue
            rows.append(
                dict(
                    category=cat,
                    market=market,
                    kind="partner",
                    scope="",
                    regions="",
                    provinces="",
                    value_12m=np.nan,
                    growth_12=np.nan,
                    trend="",
                    province=a,
                    partner=b,
                    correlation=round(corr, 3),
                )
            )
    return pd.DataFrame(rows)


def _destinations(
    nodes: pd.DataFrame, history: pd.DataFrame, outlook: pd.DataFrame, last: pd.Period
) -> pd.DataFrame:
    dest_nodes = nodes[(nodes["destination"] != "") & (nodes["product_level"] != "group")]
    recent = history[history["period"] > last - 12].groupby("node_id")["value"].sum()
    g12 = outlook.set_index("node_id")["growth_12"]
    rows = []
    for cat, grp in dest_nodes.groupby("category"):
        values = grp["node_id"].map(recent)
        shares = 100 * values / values.sum()
        hhi = float((shares**2).sum())
        for (_, r), v, s in zip(grp.iterrows(), values, shares, strict=True):
            g = float(g12.get(r["node_id"], np.nan))
            rows.append(
                dict(
                    category=cat,
                    destination=r["destination"],
                    value_12m=v,
                    share_pct=s,
                    growth_12=g,
                    trend=_trend(g),
                    hhi=hhi,
                )
            )
    return pd.DataFrame(rows)


def _accuracy() -> pd.DataFrame:
    rows = []
    for i, level in enumerate(
        (
            "national/total/total",
            "region/total/total",
            "province/category/export",
            "province/category/domestic",
            "national/category/export/destination",
        )
    ):
        for stage in ("base", "reconciled"):
            for j, model in enumerate(("selected", "ets", "theta", "snaive")):
                rows.append(
                    dict(
                        level=level,
                        model=model,
                        stage=stage,
                        n_series=10 * (i + 1),
                        mase=0.6 + 0.1 * i + 0.05 * j - (0.03 if stage == "reconciled" else 0),
                        rmsse=0.7 + 0.1 * i,
                        smape=8.0 + 2 * i + j,
                        bias=0.01 * (j - 1),
                        coverage_80=0.78 + 0.01 * j,
                        coverage_95=0.93 + 0.005 * j,
                        msis_95=4.0 + i,
                    )
                )
    return pd.DataFrame(rows)


def to_quarterly(result: RunResult) -> RunResult:
    """The same run at quarterly frequency (sums of months; intervals summed, wider)."""
    import dataclasses

    def quarters(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
        q = frame.assign(period=[p.asfreq("Q") for p in frame["period"]])
        return q.groupby(["node_id", "period"], as_index=False)[cols].sum()

    fc = quarters(result.forecasts, ["yhat", "lo_80", "hi_80", "lo_95", "hi_95"])
    fc["model"] = "ets"
    outlook = result.outlook.drop(columns=["growth_3", "growth_3_lo", "growth_3_hi"])
    return dataclasses.replace(
        result,
        freq="Q",
        horizon=4,
        last_period=result.last_period.asfreq("Q"),
        history=quarters(result.history, ["value"]),
        forecasts=fc,
        base_forecasts=fc,
        outlook=outlook,
    )


def to_annual(result: RunResult) -> RunResult:
    """The same run at annual frequency (sums of months; the forecast needs 12 months per
    forecast year). 3- and 6-month growth are undefined for years, so the outlook has none."""
    import dataclasses

    years = len(result.forecasts["period"].unique()) // 12

    def annual(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
        a = frame.assign(period=[p.asfreq("Y") for p in frame["period"]])
        return a.groupby(["node_id", "period"], as_index=False)[cols].sum()

    fc = annual(result.forecasts, ["yhat", "lo_80", "hi_80", "lo_95", "hi_95"])
    fc["model"] = "ets"
    outlook = result.outlook.copy()
    for h in (3, 6):
        for s in ("", "_lo", "_hi"):
            outlook[f"growth_{h}{s}"] = np.nan
    return dataclasses.replace(
        result,
        freq="Y",
        horizon=years,
        last_period=result.last_period.asfreq("Y"),
        history=annual(result.history, ["value"]),
        forecasts=fc,
        base_forecasts=fc,
        outlook=outlook,
    )
