"""Regional linkage: groups of specialised provinces and candidate partner provinces.

:func:`build_linkage` returns one table (columns :data:`LINKAGE_COLUMNS`) with two kinds
of rows per category and market:

``kind == "group"``
    Provinces with a location quotient above 1 (:func:`forecast.advantage.location_quotients`)
    that could form an inter-provincial project: ``scope == "region"``, the specialised
    provinces of one region (at least 2); ``scope == "neighbours"``, those of two
    neighbouring regions when both have at least one. ``regions`` and ``provinces`` are
    ``;``-joined (provinces largest first); ``value_12m`` and ``forecast_12m`` are the
    members' combined sales over the last 12 months and forecast over the next 12,
    ``growth_12`` the growth (%) of the latter over the former and ``trend`` its label
    (thresholds from settings).
``kind == "partner"``
    Two provinces selling the category in the market whose year-on-year growth
    co-moves: Pearson ``correlation`` of their symmetric year-on-year growth
    (``200 (y_t - y_{t-12}) / (y_t + y_{t-12})``) over the last :data:`PARTNER_YEARS`
    years, at least :data:`MIN_OVERLAP` common periods (``n_overlap``), correlation at least
    :data:`MIN_CORRELATION`, and among the :data:`MAX_PARTNERS` best-correlated partners of
    at least one of the two (a common national shock makes many pairs co-move; a report
    can act on a few). ``province`` and ``partner`` name the pair (each pair once, in
    north-to-south order).

Neighbouring regions (:data:`NEIGHBOURS`), north to south on the 2025 map: Northern
Midlands and Mountains - Red River Delta (Phú Thọ/Thái Nguyên - Hà Nội/Bắc Ninh, Lạng Sơn
- Quảng Ninh); Northern Midlands - North Central (Sơn La/Phú Thọ - Thanh Hóa); Red River
Delta - North Central (Ninh Bình - Thanh Hóa); North Central - Central Highlands (Quảng
Ngãi - Gia Lai, Khánh Hòa - Đắk Lắk/Lâm Đồng); Central Highlands - Southeast (Lâm Đồng -
Đồng Nai/Hồ Chí Minh); Southeast - Mekong Delta (Tây Ninh/Hồ Chí Minh - Đồng Tháp/Vĩnh
Long). North Central and the Southeast no longer touch since Bình Thuận joined Lâm Đồng
(Central Highlands) in 2025.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from forecast.config import Settings
from forecast.data.geography import REGION_NAMES, provinces
from forecast.hierarchy import SEASON, Hierarchy
from forecast.outlook import trend_codes

NEIGHBOURS: Final = (
    ("TDMNPB", "DBSH"),
    ("TDMNPB", "BTB_DHMT"),
    ("DBSH", "BTB_DHMT"),
    ("BTB_DHMT", "TN"),
    ("TN", "DNB"),
    ("DNB", "DBSCL"),
)
LINKAGE_COLUMNS: Final = (
    "category",
    "group",
    "market",
    "kind",
    "scope",
    "regions",
    "provinces",
    "n_provinces",
    "value_12m",
    "forecast_12m",
    "growth_12",
    "trend",
    "province",
    "partner",
    "correlation",
    "n_overlap",
)
PARTNER_YEARS: Final = 3
MIN_OVERLAP: Final = 24
MIN_CORRELATION: Final = 0.6
MAX_PARTNERS: Final = 5
MIN_REGION_GROUP: Final = 2


def build_linkage(
    hierarchy: Hierarchy, advantage: pd.DataFrame, forecasts: pd.DataFrame, settings: Settings
) -> pd.DataFrame:
    """Linkage groups and partner pairs (see the module docstring).

    Parameters
    ----------
    hierarchy
        The run's hierarchy.
    advantage
        :func:`forecast.advantage.location_quotients` output.
    forecasts
        Reconciled forecasts ``node_id, period, yhat``.
    settings
        ``trend_mild`` and ``trend_strong`` label the groups' growth.

    Returns
    -------
    DataFrame
        Columns :data:`LINKAGE_COLUMNS`; groups first, then partners.
    """
    groups = linkage_groups(hierarchy, advantage, forecasts, settings)
    pairs = partners(hierarchy)
    frames = [f for f in (groups, pairs) if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(LINKAGE_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(LINKAGE_COLUMNS)]


def linkage_groups(
    hierarchy: Hierarchy, advantage: pd.DataFrame, forecasts: pd.DataFrame, settings: Settings
) -> pd.DataFrame:
    """``kind == "group"`` rows: specialised provinces per region and neighbouring regions.

    Parameters
    ----------
    hierarchy
        The run's hierarchy (its frequency sets the 12-month sum).
    advantage
        Location quotients per node (``lq > 1``: specialised).
    forecasts
        Reconciled forecasts ``node_id, period, yhat``.
    settings
        The run's settings.

    Returns
    -------
    DataFrame
        Columns ``LINKAGE_COLUMNS``; empty when no province is specialised.
    """
    m = SEASON[hierarchy.freq]
    spec = advantage[advantage["lq"] > 1].copy()
    if spec.empty:
        return pd.DataFrame(columns=list(LINKAGE_COLUMNS))
    future = forecasts[forecasts["node_id"].isin(spec["node_id"])]
    future = future.sort_values(["node_id", "period"], kind="mergesort")
    # A year of forecasts or none: a shorter horizon's sum is no "next 12 months".
    next_12 = future.groupby("node_id")["yhat"].apply(
        lambda s: s.iloc[:m].sum() if len(s) >= m else np.nan
    )
    spec["forecast_12m"] = spec["node_id"].map(next_12)
    order = {p.name: i for i, p in enumerate(provinces())}
    rows = []
    for (category, market), grp in spec.groupby(["category", "market"], sort=True):
        by_region = {r: g for r, g in grp.groupby("region")}
        candidates: list[tuple[str, tuple[str, ...]]] = [
            ("region", (r,)) for r in REGION_NAMES if len(by_region.get(r, ())) >= MIN_REGION_GROUP
        ]
        candidates += [
            ("neighbours", pair) for pair in NEIGHBOURS if all(r in by_region for r in pair)
        ]
        for scope, regions in candidates:
            members = pd.concat([by_region[r] for r in regions])
            members = members.assign(_o=members["province"].map(order))
            members = members.sort_values(["value_12m", "_o"], ascending=[False, True])
            rows.append(
                {
                    "category": category,
                    "group": members["group"].iat[0],
                    "market": market,
                    "kind": "group",
                    "scope": scope,
                    "regions": ";".join(regions),
                    "provinces": ";".join(members["province"]),
                    "n_provinces": len(members),
                    "value_12m": members["value_12m"].sum(),
                    "forecast_12m": members["forecast_12m"].sum(min_count=len(members)),
                }
            )
    out = pd.DataFrame(rows, columns=list(LINKAGE_COLUMNS))
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(
            out["value_12m"] > 0, (out["forecast_12m"] / out["value_12m"] - 1) * 100, np.nan
        )
    out["growth_12"] = growth
    out["trend"] = trend_codes(growth, settings.trend_mild, settings.trend_strong)
    out[["province", "partner"]] = ""
    return out


def partners(
    hierarchy: Hierarchy,
    *,
    years: int = PARTNER_YEARS,
    min_overlap: int = MIN_OVERLAP,
    min_correlation: float = MIN_CORRELATION,
    max_partners: int | None = MAX_PARTNERS,
) -> pd.DataFrame:
    """``kind == "partner"`` rows: province pairs whose year-on-year growth co-moves.

    Parameters
    ----------
    hierarchy
        The run's hierarchy; province x category bottom series are compared within each
        category and market.
    years, min_overlap, min_correlation, max_partners
        Look-back (years of growth values), fewest common periods, the correlation a pair
        needs, and how many best partners per province are kept (None: all).
    """
    h = hierarchy
    m = SEASON[h.freq]
    bottoms = h.nodes[
        h.nodes["level"].isin(["province/category/domestic", "province/category/export"])
    ]
    if bottoms.empty:
        return pd.DataFrame(columns=list(LINKAGE_COLUMNS))
    values = h.matrix(bottoms["node_id"].to_numpy(), outside=0.0)
    window = values[:, -(years * m + m) :]
    cur, prev = window[:, m:], window[:, :-m]
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where((cur + prev) > 0, 200 * (cur - prev) / (cur + prev), np.nan)
    order = {p.name: i for i, p in enumerate(provinces())}
    keys = bottoms.reset_index(drop=True)
    keys = keys.assign(_o=keys["province"].map(order).fillna(len(order)))
    rows = []
    for (category, market), grp in keys.groupby(["category", "market"], sort=True):
        grp = grp.sort_values(["_o", "province"])
        g = pd.DataFrame(growth[grp.index].T, columns=grp["province"].to_numpy())
        corr = g.corr(min_periods=min_overlap).to_numpy()
        valid = np.isfinite(g.to_numpy())
        overlap = valid.T.astype(int) @ valid.astype(int)
        i, j = np.triu_indices(len(grp), k=1)
        hit = np.isfinite(corr[i, j]) & (corr[i, j] >= min_correlation)
        names, regions = grp["province"].to_numpy(), grp["region"].to_numpy()
        for a, b in zip(i[hit], j[hit], strict=True):
            rows.append(
                {
                    "category": category,
                    "group": grp["group"].iat[0],
                    "market": market,
                    "kind": "partner",
                    "scope": "",
                    "regions": f"{regions[a]};{regions[b]}",
                    "provinces": f"{names[a]};{names[b]}",
                    "n_provinces": 2,
                    "province": names[a],
                    "partner": names[b],
                    "correlation": float(corr[a, b]),
                    "n_overlap": int(overlap[a, b]),
                }
            )
    out = pd.DataFrame(rows, columns=list(LINKAGE_COLUMNS))
    out["trend"] = out["trend"].fillna("")
    if max_partners is not None and len(out):
        keys = [out["category"], out["market"]]
        rank_a = out.groupby([*keys, out["province"]])["correlation"].rank(
            ascending=False, method="first"
        )
        rank_b = out.groupby([*keys, out["partner"]])["correlation"].rank(
            ascending=False, method="first"
        )
        out = out[(rank_a <= max_partners) | (rank_b <= max_partners)]
    return out.sort_values(
        ["category", "market", "correlation"], ascending=[True, True, False], kind="mergesort"
    ).reset_index(drop=True)


__all__ = [
    "LINKAGE_COLUMNS",
    "MIN_CORRELATION",
    "MIN_OVERLAP",
    "NEIGHBOURS",
    "PARTNER_YEARS",
    "build_linkage",
    "linkage_groups",
    "partners",
]
