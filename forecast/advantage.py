"""Comparative advantage of provinces and concentration of export destinations.

:func:`location_quotients` — one row per province x category x market (``domestic``,
``export``) with a series, columns :data:`ADVANTAGE_COLUMNS`:

``value_12m``
    Sales over the last 12 months (``X_pc``; gaps count as 0).
``share_region_pct``, ``rank_region``, ``share_nation_pct``, ``rank_nation``
    The province's share (%) of its region's and of the nation's sales of the category in
    that market, and its rank (1 = largest; ties share the best rank).
``lq``
    Location quotient ``(X_pc / X_p) / (X_c / X)``: the category's share of the province's
    sales in that market over the category's share of national sales in that market.
    Above 1, the province is more specialised in the category than the country. NaN when
    the province sold nothing in that market or the category nothing nationally.
``lq_3y_ago``, ``lq_change_3y``
    The same over the 12 months ending 36 months earlier, and ``lq - lq_3y_ago``.

:func:`destination_outlook` — one row per category (``''`` = all products) and export
destination, columns :data:`DESTINATION_COLUMNS`: ``value_12m`` and ``share_pct`` (% of
the category's exports over the last 12 months), ``forecast_12m``, ``growth_12`` and
``trend`` (from the outlook table), and the category's ``hhi``: the Herfindahl-Hirschman
index of destination shares in % (``sum(share_pct**2)``, 0..10,000; 10,000 = a single
market), over the last 12 months and (``hhi_next_12m``) over the forecast year.
``concentration`` labels it ``low`` (< 1,500), ``moderate`` (1,500-2,500) or ``high``
(> 2,500), the bands of the US 2010 Horizontal Merger Guidelines, a common yardstick for
export-market concentration. The remainder destination ``ZZ`` (other destinations, see
:mod:`forecast.hierarchy`) gets a share row but is left out of the HHI: it lumps many
markets together and would overstate concentration.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from forecast.hierarchy import OTHER_DESTINATION, SEASON, Hierarchy

ADVANTAGE_COLUMNS: Final = (
    "node_id",
    "region",
    "province",
    "group",
    "category",
    "market",
    "value_12m",
    "share_region_pct",
    "rank_region",
    "share_nation_pct",
    "rank_nation",
    "lq",
    "lq_3y_ago",
    "lq_change_3y",
)
DESTINATION_COLUMNS: Final = (
    "node_id",
    "group",
    "category",
    "destination",
    "value_12m",
    "share_pct",
    "forecast_12m",
    "growth_12",
    "trend",
    "hhi",
    "hhi_next_12m",
    "concentration",
)
HHI_BANDS: Final = (1500.0, 2500.0)
YEARS_BACK: Final = 3


def location_quotients(hierarchy: Hierarchy) -> pd.DataFrame:
    """Location quotients, shares and ranks of every province x category x market.

    Parameters
    ----------
    hierarchy
        The run's hierarchy; the province x category bottom series are used.

    Returns
    -------
    DataFrame
        Columns :data:`ADVANTAGE_COLUMNS` (see the module docstring); empty when the data
        have no province series.
    """
    h = hierarchy
    m = SEASON[h.freq]
    bottoms = h.nodes[
        h.nodes["level"].isin(["province/category/domestic", "province/category/export"])
    ]
    if bottoms.empty:
        return pd.DataFrame(columns=list(ADVANTAGE_COLUMNS))
    values = np.nan_to_num(h.matrix(bottoms["node_id"].to_numpy(), outside=0.0))
    out = bottoms[["node_id", "region", "province", "group", "category", "market"]].copy()
    out = out.reset_index(drop=True)
    out["value_12m"] = _window_sum(values, len(h.periods), m)
    keys = ["market", "category"]
    region_total = out.groupby([*keys, "region"])["value_12m"].transform("sum")
    nation_total = out.groupby(keys)["value_12m"].transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share_region_pct"] = np.where(
            region_total > 0, 100 * out["value_12m"] / region_total, np.nan
        )
        out["share_nation_pct"] = np.where(
            nation_total > 0, 100 * out["value_12m"] / nation_total, np.nan
        )
    out["rank_region"] = _rank(out, [*keys, "region"])
    out["rank_nation"] = _rank(out, keys)
    out["lq"] = _lq(out, out["value_12m"])
    then = len(h.periods) - YEARS_BACK * m
    past = pd.Series(_window_sum(values, then, m) if then >= m else np.nan, index=out.index)
    out["lq_3y_ago"] = _lq(out, past)
    out["lq_change_3y"] = out["lq"] - out["lq_3y_ago"]
    return out[list(ADVANTAGE_COLUMNS)]


def destination_outlook(
    hierarchy: Hierarchy, forecasts: pd.DataFrame, outlook: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Destination shares, outlook and concentration per category.

    Parameters
    ----------
    hierarchy
        The run's hierarchy (destination nodes and history).
    forecasts
        Reconciled forecasts ``node_id, period, yhat``, for ``forecast_12m`` and
        ``hhi_next_12m``.
    outlook
        :func:`forecast.outlook.build_outlook` output, for ``growth_12`` and ``trend``
        (NaN/empty without it).

    Returns
    -------
    DataFrame
        Columns :data:`DESTINATION_COLUMNS`, rows by category then share (largest first);
        empty when the data have no destination rows.
    """
    h = hierarchy
    m = SEASON[h.freq]
    levels = ["national/category/export/destination", "national/total/export/destination"]
    dest = h.nodes[h.nodes["level"].isin(levels)]
    if dest.empty:
        return pd.DataFrame(columns=list(DESTINATION_COLUMNS))
    ids = dest["node_id"].to_numpy()
    out = dest[["node_id", "group", "category", "destination"]].reset_index(drop=True)
    values = np.nan_to_num(h.matrix(ids, outside=0.0))
    out["value_12m"] = _window_sum(values, len(h.periods), m)
    future = forecasts[forecasts["node_id"].isin(ids)].sort_values(["node_id", "period"])
    # A year of forecasts or none: a shorter horizon's sum is no "next 12 months".
    next_12 = future.groupby("node_id")["yhat"].apply(
        lambda s: s.iloc[:m].sum() if len(s) >= m else np.nan
    )
    out["forecast_12m"] = out["node_id"].map(next_12)
    by_cat = out.groupby("category")
    out["share_pct"] = 100 * out["value_12m"] / by_cat["value_12m"].transform("sum")
    next_share = 100 * out["forecast_12m"] / by_cat["forecast_12m"].transform("sum")
    listed = out["destination"] != OTHER_DESTINATION
    out["hhi"] = (out["share_pct"].where(listed) ** 2).groupby(out["category"]).transform("sum")
    out["hhi_next_12m"] = (next_share.where(listed) ** 2).groupby(out["category"]).transform("sum")
    lo, hi = HHI_BANDS
    out["concentration"] = np.select(
        [out["hhi"] < lo, out["hhi"] <= hi], ["low", "moderate"], default="high"
    )
    if outlook is not None and len(outlook):
        o = outlook.set_index("node_id")
        out["growth_12"] = out["node_id"].map(o["growth_12"])
        out["trend"] = out["node_id"].map(o["trend"]).fillna("")
    else:
        out["growth_12"] = np.nan
        out["trend"] = ""
    out = out.sort_values(
        ["category", "share_pct", "destination"], ascending=[True, False, True], kind="mergesort"
    )
    return out[list(DESTINATION_COLUMNS)].reset_index(drop=True)


def _window_sum(values: np.ndarray, end: int, m: int) -> np.ndarray:
    """Sum of the ``m`` periods before column ``end`` (one year)."""
    return values[:, max(end - m, 0) : end].sum(axis=1)


def _lq(frame: pd.DataFrame, x: pd.Series) -> pd.Series:
    """Location quotients of ``x`` (one value per row of ``frame``)."""
    x_p = x.groupby([frame["market"], frame["province"]]).transform("sum")
    x_c = x.groupby([frame["market"], frame["category"]]).transform("sum")
    x_all = x.groupby(frame["market"]).transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        lq = (x / x_p) / (x_c / x_all)
    return lq.where((x_p > 0) & (x_c > 0))


def _rank(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    ranks = frame.groupby(keys)["value_12m"].rank(method="min", ascending=False)
    return ranks.astype("Int64")


__all__ = [
    "ADVANTAGE_COLUMNS",
    "DESTINATION_COLUMNS",
    "HHI_BANDS",
    "destination_outlook",
    "location_quotients",
]
