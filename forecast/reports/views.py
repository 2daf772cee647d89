"""The numbers of one report: every table a section shows, computed once per scope.

All values stay in the stored unit (``nodes.unit``); formatting happens in the PDF layer.
Keeping the computation here, apart from layout, lets tests compare PDF tables with the
same numbers and lets the CSV writer and the PDF share one definition of each figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from forecast.data.geography import REGION_NAMES, province
from forecast.errors import ConfigError
from forecast.evaluation.profiles import resolve_regular
from forecast.hierarchy import OTHER_DESTINATION
from forecast.reports.blocs import BLOCS
from forecast.reports.formatting import Unit, parse_unit
from forecast.reports.inputs import HORIZONS, Meta, ReportData, growth_pct
from forecast.reports.scope import Scope
from forecast.reports.text import clean

GROUP_ORDER = ("CNNT1", "CNNT2", "CNNT3", "CNNT4")
MARKETS = ("domestic", "export")
#: Most destinations listed in the export-market table before "other markets".
MAX_MARKET_ROWS = 20
#: Relative difference between the destination sum and the export total above which the
#: market table says so (the tolerance :mod:`forecast.hierarchy` uses for its note).
COVERAGE_TOL = 0.005
_FIGURES = ("last", "prev", "year_ago", "ytd", "ytd_prev")


@dataclass(frozen=True)
class Periods:
    """Reference periods of a report (all relative to the last period with actuals)."""

    last: pd.Period
    prev: pd.Period
    year_ago: pd.Period
    ytd: pd.PeriodIndex
    ytd_prev: pd.PeriodIndex
    last12: pd.PeriodIndex
    future: pd.PeriodIndex

    @property
    def first(self) -> pd.Period:
        """First period the cumulative (year-to-date) figures cover."""
        return self.ytd[0]

    @classmethod
    def of(cls, meta: Meta, future: pd.PeriodIndex, hist: pd.DataFrame | None = None) -> Periods:
        """Reference periods; ``hist`` (nodes x periods) drops from the year to date the
        leading periods of the year that have no value in any series (a warehouse holding
        only February: "2 months" would be one month's sum, compared with two a year before).
        """
        last, py = meta.last_period, meta.per_year
        # Periods since the start of the calendar year of `last`.
        n_ytd = {12: last.month, 4: last.quarter}.get(py, 1) if py > 1 else 1
        ytd = pd.period_range(end=last, periods=n_ytd, freq=last.freq)
        if hist is not None and len(ytd) > 1:
            present = hist.reindex(columns=ytd).notna().any(axis=0).to_numpy()
            if present.any():
                ytd = ytd[int(np.argmax(present)) :]
        return cls(
            last=last,
            prev=last - 1,
            year_ago=last - py,
            ytd=ytd,
            ytd_prev=ytd - py,
            last12=pd.period_range(end=last, periods=py, freq=last.freq),
            future=future,
        )


class Geo:
    """Geographic key of a scope: ``(region, province)`` with ``''`` for "all"."""

    def __init__(self, scope: Scope) -> None:
        self.region = scope.region
        self.province = scope.province


@dataclass
class ScopeView:
    """Everything one report shows, as raw numbers (stored unit)."""

    scope: Scope
    meta: Meta
    unit: Unit
    periods: Periods
    total_node: str | None
    overview: pd.DataFrame
    overview_export: pd.DataFrame
    overview_domestic: pd.DataFrame
    markets: pd.DataFrame
    #: Destination sum over the export total, minus 1, year to date (0 when they agree
    #: within :data:`COVERAGE_TOL` or there are no destinations); see :func:`_market_rows`.
    markets_gap: float
    geo_total: pd.DataFrame
    geo_domestic: pd.DataFrame
    forecast: pd.DataFrame
    monthly: pd.DataFrame
    position: pd.DataFrame
    position_total: pd.DataFrame
    categories: pd.DataFrame
    linkage_groups: pd.DataFrame
    partners: pd.DataFrame
    leaders: pd.DataFrame
    concentration: pd.DataFrame
    models: pd.DataFrame
    accuracy: pd.DataFrame
    provinces_detail: pd.DataFrame


class _Calc:
    """Helpers over :class:`ReportData` shared by the view builders (cached per run)."""

    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.periods = Periods.of(data.meta, data.fc["yhat"].columns, data.hist)

    @cached_property
    def group_of(self) -> dict[str, str]:
        cats = self.data.nodes[self.data.nodes["category"] != ""]
        return dict(zip(cats["category"], cats["group"], strict=True))

    @cached_property
    def ranks(self) -> pd.DataFrame:
        """Province ranks and shares (see :func:`_ranks`), computed once per run."""
        return _ranks(self)

    @cached_property
    def last12(self) -> pd.Series:
        """Sum of the last 12 months (or year) per node."""
        return self.data.hist[self.periods.last12].sum(axis=1, min_count=1)

    @cached_property
    def ytd(self) -> pd.Series:
        return self.data.hist[self.periods.ytd].sum(axis=1, min_count=1)

    @cached_property
    def ytd_prev(self) -> pd.Series:
        cols = [p for p in self.periods.ytd_prev if p in self.data.hist.columns]
        return self.data.hist[cols].sum(axis=1, min_count=1) if cols else self.ytd * np.nan

    def node(
        self,
        geo: Geo,
        group: str = "",
        category: str = "",
        market: str = "total",
        destination: str = "",
    ) -> str | None:
        return self.data.node(geo.region, geo.province, group, category, market, destination)

    def figures(self, node: str | None) -> dict[str, float]:
        """Month, previous month, same month a year ago, YTD and YTD a year before."""
        p = self.periods
        if node is None:
            return dict.fromkeys(("last", "prev", "year_ago", "ytd", "ytd_prev"), np.nan)
        row = self.data.hist.loc[node]
        get = row.get
        return {
            "last": float(get(p.last, np.nan)),
            "prev": float(get(p.prev, np.nan)),
            "year_ago": float(get(p.year_ago, np.nan)),
            "ytd": float(self.ytd[node]),
            "ytd_prev": float(self.ytd_prev[node]),
        }


def _figure_rows(calc: _Calc, items: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    """Rows ``(kind, key, node)`` with the standard bulletin figures and changes."""
    rows = []
    for kind, key, node in items:
        f = calc.figures(node)
        rows.append({"kind": kind, "key": key, "node": node or "", **f})
    df = pd.DataFrame(
        rows, columns=["kind", "key", "node", "last", "prev", "year_ago", "ytd", "ytd_prev"]
    )
    df["mom"] = growth_pct(df["last"], df["prev"])
    df["yoy_month"] = growth_pct(df["last"], df["year_ago"])
    df["yoy"] = growth_pct(df["ytd"], df["ytd_prev"])
    total = df.loc[df["kind"] == "total", "ytd"]
    base = float(total.iloc[0]) if len(total) else float(df["ytd"].sum())
    df["share"] = df["ytd"] / base * 100 if base > 0 else np.nan
    return df


def product_overview(calc: _Calc, geo: Geo, market: str) -> pd.DataFrame:
    """Total, each CNNT group and its categories (sorted by YTD value) for one market."""
    nodes = calc.data.nodes
    here = nodes[
        (nodes["region"] == geo.region)
        & (nodes["province"] == geo.province)
        & (nodes["market"] == market)
        & (nodes["destination"] == "")
    ]
    items: list[tuple[str, str, str | None]] = [("total", "", calc.node(geo, market=market))]
    groups = sorted(set(here["group"]) - {""}, key=_group_key)
    for g in groups:
        items.append(("group", g, calc.node(geo, g, market=market)))
        cats = here[(here["group"] == g) & (here["category"] != "")]
        ordered = sorted(cats["node_id"], key=lambda n: -np.nan_to_num(calc.ytd[n], nan=-1))
        items.extend(("category", nodes.at[n, "category"], n) for n in ordered)
    df = _figure_rows(calc, items)
    # A line sold in the same months last year but not this year is shown (-100%): without
    # it the total's change cannot be read from the rows.
    sold = (df["ytd"].fillna(0) > 0) | (df["ytd_prev"].fillna(0) > 0)
    return df[(df["kind"] == "total") | sold].reset_index(drop=True)


def export_markets(calc: _Calc) -> pd.DataFrame:
    """National exports by destination: total, bloc rows, then countries by YTD value."""
    geo = Geo(Scope("national"))
    nodes = calc.data.nodes
    dest = nodes[
        (nodes["geo_level"] == "national")
        & (nodes["destination"] != "")
        & (nodes["market"] == "export")
    ]
    if dest.empty:
        return pd.DataFrame()
    top = dest[dest["product_level"] == "total"]
    if top.empty:  # only per-category destination nodes: sum them per destination
        cats = dest[dest["product_level"] == "category"]
        values = (
            calc.data.hist.loc[cats.index].groupby(cats["destination"].to_numpy()).sum(min_count=1)
        )
    else:
        values = calc.data.hist.loc[top.index].set_axis(top["destination"].to_numpy())
    return _market_rows(calc, values, calc.node(geo, market="export"))


def _market_rows(calc: _Calc, values: pd.DataFrame, total_node: str | None) -> pd.DataFrame:
    p = calc.periods
    ytd_prev_cols = [c for c in p.ytd_prev if c in values.columns]

    def row(kind: str, key: str, series: pd.Series) -> dict[str, object]:
        return {
            "kind": kind,
            "key": key,
            "node": "",
            "last": float(series.get(p.last, np.nan)),
            "prev": float(series.get(p.prev, np.nan)),
            "year_ago": float(series.get(p.year_ago, np.nan)),
            "ytd": float(series[list(p.ytd)].sum(min_count=1)),
            "ytd_prev": float(series[ytd_prev_cols].sum(min_count=1)),
        }

    total = calc.data.hist.loc[total_node] if total_node is not None else values.sum(min_count=1)
    rows = [row("total", "", total)]
    for bloc, members in BLOCS.items():
        present = [c for c in values.index if c in members]
        if present:
            rows.append(row("bloc", bloc, values.loc[present].sum(min_count=1)))
    # The remainder node (destinations not listed) is not a country: it joins "other".
    countries = [
        row("country", str(c), values.loc[c]) for c in values.index if c != OTHER_DESTINATION
    ]
    countries.sort(key=lambda r: (-_finite_or(r["ytd"], -1.0), str(r["key"])))
    rest_keys = [r["key"] for r in countries[MAX_MARKET_ROWS:]]
    rest_keys += [c for c in values.index if c == OTHER_DESTINATION]
    countries = countries[:MAX_MARKET_ROWS]
    if rest_keys:
        countries.append(row("other", "", values.loc[rest_keys].sum(min_count=1)))
    df = pd.DataFrame(rows + countries)
    # Destination rows come from another table (customs by importing country) than the
    # provincial export total, and the two rarely agree. Shares are of the destination sum
    # (so they add up to 100 and match the concentration table's); when that sum differs
    # from the total, a "sum of destinations" row shows it and the total's share is blank.
    listed = df["kind"].isin(["country", "other"])
    figures = {c: float(df.loc[listed, c].sum(min_count=1)) for c in _FIGURES}
    dest_ytd, total_ytd = figures["ytd"], float(df["ytd"].iloc[0])
    gap = dest_ytd / total_ytd - 1 if total_ytd > 0 and np.isfinite(dest_ytd) else np.nan
    off = bool(np.isfinite(gap) and abs(gap) > COVERAGE_TOL)
    if off:
        dest = pd.DataFrame([{"kind": "dest_sum", "key": "", "node": "", **figures}])
        df = pd.concat([df.iloc[:1], dest, df.iloc[1:]], ignore_index=True)
    df["mom"] = growth_pct(df["last"], df["prev"])
    df["yoy_month"] = growth_pct(df["last"], df["year_ago"])
    df["yoy"] = growth_pct(df["ytd"], df["ytd_prev"])
    base = dest_ytd if np.isfinite(dest_ytd) and dest_ytd > 0 else total_ytd
    df["share"] = df["ytd"] / base * 100 if base > 0 else np.nan
    if off:
        df.loc[df["kind"] == "total", "share"] = np.nan
    df.attrs["coverage_gap"] = float(gap) if off else 0.0
    return df


def _finite_or(value: object, default: float) -> float:
    v = float(value)  # type: ignore[arg-type]
    return v if np.isfinite(v) else default


def geo_breakdown(calc: _Calc, scope: Scope, market: str) -> pd.DataFrame:
    """National: the six regions; region: its provinces. Empty for a province."""
    if scope.kind == "province":
        return pd.DataFrame()
    if scope.kind == "national":
        keys = [(code, "") for code in REGION_NAMES]
    else:
        nodes = calc.data.nodes
        names = nodes.loc[
            (nodes["region"] == scope.region) & (nodes["province"] != ""), "province"
        ].unique()
        keys = [(scope.region, n) for n in sorted(names, key=lambda n: province(n).code)]
    parent = calc.data.node(scope.region, scope.province, market=market)
    items = [("total", "", parent)]
    for region, prov in keys:
        node = calc.data.node(region, prov, market=market)
        if node is not None:
            items.append(("geo", prov or region, node))
    df = _figure_rows(calc, items)
    outlook = calc.data.outlook
    df["growth_12"] = [outlook.at[n, "growth_12"] if n else np.nan for n in df["node"]]
    df["trend"] = [outlook.at[n, "trend"] if n else "" for n in df["node"]]
    body = df[df["kind"] == "geo"].sort_values("ytd", ascending=False, kind="stable")
    return pd.concat([df[df["kind"] == "total"], body], ignore_index=True)


def forecast_summary(calc: _Calc, overview: pd.DataFrame) -> pd.DataFrame:
    """Next 3/6/12 periods per row of ``overview`` (total and categories): sums and growth."""
    data, py = calc.data, calc.data.meta.per_year
    yhat = data.fc["yhat"]
    rows = []
    picked = overview[overview["kind"].isin(["total", "category"])]
    for _, r in picked.iterrows():
        node = r["node"]
        out: dict[str, object] = {"kind": r["kind"], "key": r["key"], "node": node}
        if not node or node not in data.outlook.index:
            # No such node (a total over markets in different units is not built): the
            # row is shown without figures rather than stopping every report.
            for h in HORIZONS:
                for col in (f"fc_{h}", f"fc_{h}_lo", f"fc_{h}_hi", f"base_{h}", f"growth_{h}"):
                    out[col] = np.nan
                out[f"growth_{h}_lo"] = out[f"growth_{h}_hi"] = np.nan
            out.update(trend="", p_decline=np.nan, flags="", model="")
            rows.append(out)
            continue
        o = data.outlook.loc[node]
        for h in HORIZONS:
            n = max(h * py // 12, 1)
            # A horizon shorter than the span has no sum over it (not a shorter sum).
            fc = yhat.loc[node].iloc[:n].sum(min_count=1) if n <= yhat.shape[1] else np.nan
            out[f"fc_{h}"] = float(fc)
            base = data.hist.loc[node].iloc[-py : -py + n if n < py else None]
            b = float(base.sum(min_count=1))
            g_lo, g_hi = float(o[f"growth_{h}_lo"]), float(o[f"growth_{h}_hi"])
            out[f"base_{h}"] = b
            out[f"growth_{h}"] = float(o[f"growth_{h}"])
            out[f"growth_{h}_lo"], out[f"growth_{h}_hi"] = g_lo, g_hi
            # The interval of the sum itself; from the growth interval when a run's
            # outlook predates these columns (and then only where a year before exists).
            lo, hi = float(o[f"forecast_{h}_lo"]), float(o[f"forecast_{h}_hi"])
            if not (np.isfinite(lo) and np.isfinite(hi)):
                lo, hi = b * (1 + g_lo / 100), b * (1 + g_hi / 100)
            out[f"fc_{h}_lo"], out[f"fc_{h}_hi"] = lo, hi
        out.update(
            trend=o["trend"],
            p_decline=float(o["p_decline"]),
            flags=o["flags"],
            model=data.fc_model[node],
        )
        rows.append(out)
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    # Total first, then categories by their forecast value (largest first).
    df["_order"] = np.where(df["kind"] == "total", np.inf, df["fc_12"].fillna(-1.0))
    df = df.sort_values(["_order", "key"], ascending=[False, True], kind="stable")
    return df.drop(columns="_order").reset_index(drop=True)


def monthly_forecast(calc: _Calc, node: str | None) -> pd.DataFrame:
    """Point forecast and interval bounds per future period of one node."""
    if node is None:
        return pd.DataFrame()
    cols = {name: frame.loc[node] for name, frame in calc.data.fc.items()}
    df = pd.DataFrame(cols)
    df.index.name = "period"
    return df.reset_index()


def _ranks(calc: _Calc) -> pd.DataFrame:
    """Every province's value over the last 12 periods per product and market, its share
    of the national value, ranks in the nation and in its region, and LQ (when given)."""
    nodes = calc.data.nodes
    prov = nodes[(nodes["geo_level"] == "province") & (nodes["destination"] == "")]
    v12 = calc.last12.reindex(prov.index)
    cols = ["province", "region", "product_level", "category", "market", "unit"]
    frame = prov[cols].assign(v12=v12)
    frame = frame[frame["v12"].fillna(0) > 0]
    grp = frame.groupby(["product_level", "category", "market"])["v12"]
    frame = frame.assign(
        rank_nat=grp.rank(ascending=False, method="min"),
        n_nat=grp.transform("size"),
        share_nat=frame["v12"] / grp.transform("sum") * 100,
    )
    by_region = frame.groupby(["region", "product_level", "category", "market"])["v12"]
    frame = frame.assign(
        rank_region=by_region.rank(ascending=False, method="min"),
        n_region=by_region.transform("size"),
    )
    adv = calc.data.advantage
    if adv.empty:
        return frame.assign(lq=np.nan, lq_change=np.nan).reset_index(drop=True)
    a = adv.drop_duplicates(["province", "category", "market"]).copy()
    a["lq_change"] = a["lq_change_3y"] if "lq_change_3y" in a.columns else np.nan
    a = a[["province", "category", "market", "lq", "lq_change"]]
    return frame.merge(a, on=["province", "category", "market"], how="left").reset_index(drop=True)


def advantage_table(data: ReportData) -> pd.DataFrame:
    """:func:`_ranks` for every province, categories only, sorted (for the CSV)."""
    r = _ranks(_Calc(data))
    r = r[(r["product_level"] == "category") & r["market"].isin(MARKETS)]
    return r.sort_values(["province", "category", "market"], kind="stable").reset_index(drop=True)


def position(calc: _Calc, scope: Scope) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A province's weight and rank in its region and the nation, per category and market.

    Returns the per-category table (value over the last 12 periods, share of the national
    value, rank among provinces nationally and in the region, LQ and its 3-year change) and
    the same for the province total per market.
    """
    if scope.kind != "province":
        return pd.DataFrame(), pd.DataFrame()
    ranks = calc.ranks
    mine = ranks[ranks["province"] == scope.province]
    cats = mine[(mine["product_level"] == "category") & mine["market"].isin(MARKETS)]
    cats = cats.sort_values(["market", "v12"], ascending=[True, False], kind="stable")
    totals = mine[(mine["product_level"] == "total")].sort_values("market", kind="stable")
    return cats.reset_index(drop=True), totals.reset_index(drop=True)


def category_outlook(calc: _Calc, scope: Scope) -> pd.DataFrame:
    """Per category and market (domestic, export) of the scope: weight and 12-period outlook.

    Columns: ``category, market, node, v12`` (last 12 periods), ``share`` (% of the
    scope's market total), ``growth_12``, ``trend``, ``p_decline``, ``flags`` and ``lq``
    (province scope; NaN otherwise).
    """
    data, geo = calc.data, Geo(scope)
    nodes = data.nodes
    here = nodes[
        (nodes["region"] == geo.region)
        & (nodes["province"] == geo.province)
        & (nodes["product_level"] == "category")
        & nodes["market"].isin(MARKETS)
        & (nodes["destination"] == "")
    ]
    if here.empty:
        return pd.DataFrame()
    o = data.outlook.loc[here.index]
    df = pd.DataFrame(
        {
            "category": here["category"],
            "market": here["market"],
            "node": here.index,
            "v12": calc.last12.reindex(here.index),
            "growth_12": o["growth_12"],
            "trend": o["trend"],
            "p_decline": o["p_decline"],
            "flags": o["flags"],
        }
    ).reset_index(drop=True)
    totals = {m: calc.last12.get(calc.node(geo, market=m), np.nan) for m in MARKETS}
    df["share"] = [
        v / totals[m] * 100 if totals[m] and totals[m] > 0 else np.nan
        for v, m in zip(df["v12"], df["market"], strict=True)
    ]
    df["lq"] = np.nan
    adv = data.advantage
    if scope.kind == "province" and not adv.empty:
        a = adv[adv["province"] == scope.province].drop_duplicates(["category", "market"])
        lq = a.set_index(["category", "market"])["lq"]
        df["lq"] = [
            lq.get((c, m), np.nan) for c, m in zip(df["category"], df["market"], strict=True)
        ]
    return df.sort_values(["market", "v12"], ascending=[True, False], kind="stable").reset_index(
        drop=True
    )


def _split(text: object) -> list[str]:
    """``"A;B"`` -> ``["A", "B"]``; names come from data, so they are cleaned for display."""
    return [clean(s.strip(), 60) for s in str(text or "").split(";") if s.strip()]


def linkage(calc: _Calc, scope: Scope) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Linkage groups touching the scope, and (province scope) candidate partners."""
    table = calc.data.linkage
    if table.empty:
        return pd.DataFrame(), pd.DataFrame()
    kind = table["kind"] if "kind" in table.columns else pd.Series("group", index=table.index)
    groups = table[kind == "group"].copy()
    groups["members"] = groups.get("provinces", pd.Series("", index=groups.index)).map(_split)
    groups["n"] = groups["members"].map(len)
    groups = groups[groups["n"] > 0]
    if scope.kind == "region":
        in_region = groups["members"].map(
            lambda ms: any(province(m).region.code == scope.region for m in ms if _known(m))
        )
        # astype(bool): with no groups the mask is an empty object Series, which would
        # select columns (dropping them all) instead of rows
        groups = groups[in_region.astype(bool)]
    elif scope.kind == "province":
        groups = groups[groups["members"].map(lambda ms: scope.province in ms).astype(bool)]
    sort_col = "value_12m" if "value_12m" in groups.columns else "n"
    groups = groups.sort_values([sort_col, "category"], ascending=[False, True], kind="stable")
    partners = pd.DataFrame()
    if scope.kind == "province" and {"province", "partner"} <= set(table.columns):
        p = table[kind == "partner"]
        mine = p[(p["province"] == scope.province) | (p["partner"] == scope.province)]
        other = np.where(mine["province"] == scope.province, mine["partner"], mine["province"])
        partners = pd.DataFrame(
            {
                "category": mine["category"].to_numpy(),
                "market": mine["market"].to_numpy(),
                "partner": other,
                "correlation": pd.to_numeric(mine.get("correlation"), errors="coerce").to_numpy(),
            }
        ).sort_values(["correlation", "partner"], ascending=[False, True], kind="stable")
    return groups.reset_index(drop=True), partners.reset_index(drop=True)


def _known(name: str) -> bool:
    try:
        province(name)
    except KeyError:
        return False
    return True


def leaders(calc: _Calc, scope: Scope, top: int = 3) -> pd.DataFrame:
    """Provinces with the highest LQ (> 1) per category and market within the scope."""
    adv = calc.data.advantage
    if adv.empty or scope.kind == "province":
        return pd.DataFrame()
    a = adv[pd.to_numeric(adv["lq"], errors="coerce") > 1].copy()
    # astype(bool): an empty object mask would select columns (and drop them all)
    a = a[a["province"].map(_known).astype(bool)]
    if scope.kind == "region":
        a = a[a["province"].map(lambda n: province(n).region.code) == scope.region]
    a = a.sort_values(["category", "market", "lq"], ascending=[True, True, False], kind="stable")
    return a.groupby(["category", "market"], sort=True).head(top).reset_index(drop=True)


def concentration(calc: _Calc) -> pd.DataFrame:
    """Per category: destination concentration (HHI), top destination and its share."""
    table = calc.data.destinations
    if table.empty:
        return pd.DataFrame()
    t = table.copy()
    t["share_pct"] = pd.to_numeric(t.get("share_pct"), errors="coerce")
    rows = []
    for cat, grp in t.groupby("category", sort=True):
        grp = grp.sort_values(["share_pct", "destination"], ascending=[False, True])
        grp = grp[grp["destination"] != OTHER_DESTINATION]  # not a market of its own
        if grp.empty:
            continue
        shares = grp["share_pct"].fillna(0)
        hhi = (
            pd.to_numeric(grp["hhi"], errors="coerce").iloc[0]
            if "hhi" in grp.columns
            else float((shares**2).sum())
        )
        rows.append(
            {
                "category": cat,
                "hhi": float(hhi),
                "top": grp["destination"].iloc[0],
                "top_share": float(shares.iloc[0]),
                "n": len(grp),
            }
        )
    return pd.DataFrame(rows)


def candidate_models(data: ReportData) -> tuple[str, ...]:
    """The candidate models the run compared for regular series (codes, in order).

    From the run's leaderboard (what the engine actually backtested), else from the
    ``models`` setting as the engine resolves it, else the models in the selection table.
    """
    lb = data.leaderboard
    if not lb.empty and {"profile", "model"} <= set(lb.columns):
        regular = lb[lb["profile"] == "regular"]
        rows = regular if len(regular) else lb
        return tuple(dict.fromkeys(str(m) for m in rows["model"]))
    if data.models_setting:
        try:
            return resolve_regular(data.models_setting)
        except ConfigError:  # a name this version no longer knows: show the setting
            return data.models_setting
    sel = data.selection
    if not sel.empty and "model" in sel.columns:
        return tuple(sorted({str(m) for m in sel["model"]}))
    return ()


def model_summary(calc: _Calc, scope: Scope) -> pd.DataFrame:
    """Model chosen per series group (``nodes.level``) for the scope's nodes: counts."""
    sel = calc.data.selection
    if sel.empty or "model" not in sel.columns:
        return pd.DataFrame()
    nodes = calc.data.nodes
    mine = nodes[_geo_mask(nodes, scope)]
    s = sel[sel["node_id"].isin(mine.index)].merge(
        mine[["level"]], left_on="node_id", right_index=True
    )
    counts = s.groupby(["level", "model"]).size().rename("n").reset_index()
    counts = counts.sort_values(["level", "n", "model"], ascending=[True, False, True])
    return counts.reset_index(drop=True)


def _geo_mask(nodes: pd.DataFrame, scope: Scope) -> pd.Series:
    if scope.kind == "national":
        return (nodes["region"] == "") & (nodes["province"] == "")
    if scope.kind == "region":
        return (nodes["region"] == scope.region) & (nodes["province"] == "")
    return nodes["province"] == scope.province


def accuracy(calc: _Calc) -> pd.DataFrame:
    """Backtest accuracy of the selected forecasts per level, base and reconciled."""
    acc = calc.data.accuracy
    if acc.empty or "level" not in acc.columns:
        return pd.DataFrame()
    if "model" in acc.columns and (acc["model"] == "selected").any():
        acc = acc[acc["model"] == "selected"]
    return acc.sort_values([c for c in ("level", "stage") if c in acc.columns]).reset_index(
        drop=True
    )


def provinces_detail(calc: _Calc) -> pd.DataFrame:
    """National appendix: every province's YTD value, growth, share and export share."""
    nodes = calc.data.nodes
    rows = []
    nat = calc.data.node()
    nat_ytd = calc.ytd.get(nat, np.nan) if nat else np.nan
    names = nodes.loc[nodes["geo_level"] == "province", "province"].unique()
    for name in sorted(
        names,
        key=lambda n: (
            (list(REGION_NAMES).index(province(n).region.code), province(n).code)
            if _known(n)
            else (99, n)
        ),
    ):
        region = nodes.loc[nodes["province"] == name, "region"].iloc[0]
        tot = calc.data.node(region, name)
        exp = calc.data.node(region, name, market="export")
        cats = nodes[
            (nodes["province"] == name)
            & (nodes["product_level"] == "category")
            & (nodes["market"] == "total")
        ]
        top_cat = ""
        if len(cats):
            top_cat = (
                str(cats.loc[calc.ytd.reindex(cats.index).idxmax(), "category"])
                if calc.ytd.reindex(cats.index).notna().any()
                else ""
            )
        ytd = calc.ytd.get(tot, np.nan) if tot else np.nan
        rows.append(
            {
                "province": name,
                "region": region,
                "ytd": ytd,
                "yoy": growth_pct(ytd, calc.ytd_prev.get(tot, np.nan) if tot else np.nan),
                "share": ytd / nat_ytd * 100 if nat_ytd and nat_ytd > 0 else np.nan,
                "export_share": (calc.ytd.get(exp, np.nan) / ytd * 100) if exp and ytd else np.nan,
                "top_category": top_cat,
            }
        )
    return pd.DataFrame(rows)


def _group_key(code: str) -> tuple[int, str]:
    return (GROUP_ORDER.index(code) if code in GROUP_ORDER else len(GROUP_ORDER), code)


class ViewBuilder:
    """Builds :class:`ScopeView` objects for the scopes of one run, sharing cached sums."""

    def __init__(self, data: ReportData) -> None:
        self.calc = _Calc(data)
        self.data = data

    def build(self, scope: Scope) -> ScopeView:
        """All numbers of the report for ``scope``."""
        calc, geo = self.calc, Geo(scope)
        overview = product_overview(calc, geo, "total")
        total_node = calc.node(geo)
        unit_text = self.data.unit_of(total_node) if total_node else "thousand USD"
        groups, partners = linkage(calc, scope)
        pos, pos_total = position(calc, scope)
        markets = export_markets(calc) if scope.kind == "national" else pd.DataFrame()
        return ScopeView(
            scope=scope,
            meta=self.data.meta,
            unit=parse_unit(unit_text),
            periods=calc.periods,
            total_node=total_node,
            overview=overview,
            overview_export=product_overview(calc, geo, "export"),
            overview_domestic=product_overview(calc, geo, "domestic"),
            markets=markets,
            markets_gap=float(markets.attrs.get("coverage_gap", 0.0)),
            geo_total=geo_breakdown(calc, scope, "total"),
            geo_domestic=geo_breakdown(calc, scope, "domestic"),
            forecast=forecast_summary(calc, overview),
            monthly=monthly_forecast(calc, total_node),
            position=pos,
            position_total=pos_total,
            categories=category_outlook(calc, scope),
            linkage_groups=groups,
            partners=partners,
            leaders=leaders(calc, scope),
            concentration=concentration(calc),
            models=model_summary(calc, scope),
            accuracy=accuracy(calc),
            provinces_detail=provinces_detail(calc) if scope.kind == "national" else pd.DataFrame(),
        )
