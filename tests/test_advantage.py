"""Comparative advantage (LQ, shares, ranks), destination concentration (HHI), linkage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hierarchy_fixtures import demo_hierarchy, frame, monthly, snaive_engine

from forecast.advantage import (
    ADVANTAGE_COLUMNS,
    DESTINATION_COLUMNS,
    destination_outlook,
    location_quotients,
)
from forecast.config import Settings
from forecast.hierarchy import Hierarchy, build_hierarchy
from forecast.linkage import LINKAGE_COLUMNS, NEIGHBOURS, build_linkage, linkage_groups, partners
from forecast.outlook import build_outlook

# Monthly export sales, 48 months. Months 1-12 (the window 3 years before the last 12
# months): every series 10 a month. Months 13-48:
#   Hà Nội      wood 10, ceramic 30   (last 12 months: 120, 360; total 480)
#   Bắc Ninh    wood 20, ceramic 10   (240, 120; total 360)
#   Thanh Hóa   wood 30               (360; total 360)
# Nation: wood 720, ceramic 480, all 1200.
SERIES = {
    ("Hà Nội", "XK_WOOD"): 10.0,
    ("Hà Nội", "XK_CERAMIC"): 30.0,
    ("Bắc Ninh", "XK_WOOD"): 20.0,
    ("Bắc Ninh", "XK_CERAMIC"): 10.0,
    ("Thanh Hóa", "XK_WOOD"): 30.0,
}
# Destinations, national: wood 60 a month = US 36, JP 18, KR 6 (60/30/10%), ceramic 40 =
# 10 each to US, JP, KR, DE (25% each). Months 1-12 keep the same shares of 30 and 20.
DEST = {
    "XK_WOOD": {"US": 0.6, "JP": 0.3, "KR": 0.1},
    "XK_CERAMIC": {"US": 0.25, "JP": 0.25, "KR": 0.25, "DE": 0.25},
}


def _fixture() -> Hierarchy:
    rows = []
    for (prov, cat), v in SERIES.items():
        rows += monthly(prov, cat, "export", [10.0] * 12 + [v] * 36)
    for cat, shares in DEST.items():
        early = 10.0 * sum(1 for (_, c) in SERIES if c == cat)
        late = sum(v for (_, c), v in SERIES.items() if c == cat)
        for d, s in shares.items():
            rows += monthly(
                "Toàn quốc", cat, "export", [early * s] * 12 + [late * s] * 36, destination=d
            )
    return build_hierarchy(frame(rows))


def _grown(h: Hierarchy, factor: float) -> pd.DataFrame:
    """Forecasts: every node's last 12 months times ``factor`` (coherent)."""
    ids = h.nodes["node_id"].to_numpy()
    last = np.nan_to_num(h.matrix(ids, outside=0.0))[:, -12:] * factor
    periods = pd.period_range(h.last_period + 1, periods=12, freq="M")
    return pd.DataFrame(
        {
            "node_id": np.repeat(ids, 12),
            "period": np.tile(periods, len(ids)),
            "yhat": last.ravel(),
            "lo_80": last.ravel() * 0.9,
            "hi_80": last.ravel() * 1.1,
        }
    )


def test_location_quotients_shares_and_ranks_by_hand():
    a = location_quotients(_fixture())
    assert list(a.columns) == list(ADVANTAGE_COLUMNS)
    a = a.set_index(["province", "category"])
    # LQ = (X_pc / X_p) / (X_c / X)
    assert a.loc[("Hà Nội", "XK_WOOD"), "lq"] == pytest.approx((120 / 480) / (720 / 1200))
    assert a.loc[("Hà Nội", "XK_WOOD"), "lq"] == pytest.approx(0.416667, abs=1e-6)
    assert a.loc[("Hà Nội", "XK_CERAMIC"), "lq"] == pytest.approx(1.875)
    assert a.loc[("Bắc Ninh", "XK_WOOD"), "lq"] == pytest.approx(1.111111, abs=1e-6)
    assert a.loc[("Bắc Ninh", "XK_CERAMIC"), "lq"] == pytest.approx(0.833333, abs=1e-6)
    assert a.loc[("Thanh Hóa", "XK_WOOD"), "lq"] == pytest.approx(1.666667, abs=1e-6)
    wood = a.xs("XK_WOOD", level="category")
    assert wood["value_12m"].to_dict() == {"Hà Nội": 120.0, "Bắc Ninh": 240.0, "Thanh Hóa": 360.0}
    assert wood["share_nation_pct"].round(3).to_dict() == {
        "Hà Nội": 16.667,
        "Bắc Ninh": 33.333,
        "Thanh Hóa": 50.0,
    }
    assert wood["rank_nation"].tolist() == [3, 2, 1]
    assert wood["share_region_pct"].round(3).to_dict() == {
        "Hà Nội": 33.333,
        "Bắc Ninh": 66.667,
        "Thanh Hóa": 100.0,
    }
    assert wood["rank_region"].tolist() == [2, 1, 1]
    # Three years earlier every series sold 120: Hà Nội wood (120/240) / (360/600) = 0.8333.
    assert a.loc[("Hà Nội", "XK_WOOD"), "lq_3y_ago"] == pytest.approx(0.833333, abs=1e-6)
    assert a.loc[("Hà Nội", "XK_WOOD"), "lq_change_3y"] == pytest.approx(-0.416667, abs=1e-6)
    assert a.loc[("Thanh Hóa", "XK_WOOD"), "lq_change_3y"] == pytest.approx(0.0)


def test_lq_needs_three_years_for_the_change():
    h = build_hierarchy(frame(monthly("Hà Nội", "XK_WOOD", "export", [1.0] * 24)))
    a = location_quotients(h)
    assert a["lq"].tolist() == [1.0] and np.isnan(a["lq_3y_ago"].iat[0])


def test_hhi_shares_and_destination_outlook_by_hand():
    h = _fixture()
    f = _grown(h, 1.05)
    d = destination_outlook(h, f, build_outlook(h, f, Settings()))
    assert list(d.columns) == list(DESTINATION_COLUMNS)
    wood = d[d["category"] == "XK_WOOD"].set_index("destination")
    assert wood.index.tolist() == ["US", "JP", "KR"]  # largest share first
    assert wood["share_pct"].round(6).tolist() == [60.0, 30.0, 10.0]
    # HHI = 60^2 + 30^2 + 10^2
    assert wood["hhi"].iat[0] == pytest.approx(4600.0)
    assert wood["concentration"].iat[0] == "high"
    assert wood["value_12m"]["US"] == pytest.approx(432.0)  # 36 x 12
    assert wood["forecast_12m"]["US"] == pytest.approx(453.6)  # x 1.05
    assert wood["growth_12"]["US"] == pytest.approx(5.0) and wood["trend"]["US"] == "rise"
    ceramic = d[d["category"] == "XK_CERAMIC"]
    assert ceramic["hhi"].iat[0] == pytest.approx(2500.0)  # 4 x 25^2
    assert ceramic["concentration"].iat[0] == "moderate"
    # All products: US 36+10, JP 18+10, KR 6+10, DE 10 of 100 -> 46^2+28^2+16^2+10^2
    total = d[d["category"] == ""]
    assert total["hhi"].iat[0] == pytest.approx(3256.0)
    assert total["hhi_next_12m"].iat[0] == pytest.approx(3256.0)


def test_destination_remainder_is_left_out_of_hhi():
    rows = monthly("Hà Nội", "XK_WOOD", "export", [10.0] * 12)
    rows += monthly("Toàn quốc", "XK_WOOD", "export", [5.0] * 12, destination="US")
    rows += monthly("Toàn quốc", "XK_WOOD", "export", [3.0] * 12, destination="JP")
    h = build_hierarchy(frame(rows))
    d = destination_outlook(h, _grown(h, 1.0))
    cat = d[d["category"] == "XK_WOOD"].set_index("destination")
    assert cat["share_pct"].round(6).to_dict() == {"US": 50.0, "JP": 30.0, "ZZ": 20.0}
    assert cat["hhi"].iat[0] == pytest.approx(50.0**2 + 30.0**2)
    assert set(cat["trend"]) == {""} and cat["growth_12"].isna().all()


def test_no_destinations_give_an_empty_table():
    h = build_hierarchy(frame(monthly("Hà Nội", "XK_WOOD", "export", [1.0] * 12)))
    assert destination_outlook(h, _grown(h, 1.0)).empty


# --------------------------------------------------------------------------------------
# Linkage


def test_neighbouring_region_group_with_combined_outlook():
    h = _fixture()
    a = location_quotients(h)
    link = build_linkage(h, a, _grown(h, 1.05), Settings())
    assert list(link.columns) == list(LINKAGE_COLUMNS)
    groups = link[link["kind"] == "group"]
    # LQ > 1: Thanh Hóa and Bắc Ninh in wood, in two regions that touch; Hà Nội in
    # ceramics alone. No region has two specialised provinces.
    assert len(groups) == 1
    g = groups.iloc[0]
    assert (g["category"], g["market"], g["scope"]) == ("XK_WOOD", "export", "neighbours")
    assert g["regions"] == "DBSH;BTB_DHMT" and g["provinces"] == "Thanh Hóa;Bắc Ninh"
    assert g["value_12m"] == 600.0 and g["forecast_12m"] == pytest.approx(630.0)
    assert g["growth_12"] == pytest.approx(5.0) and g["trend"] == "rise"


def test_region_groups_from_a_hand_made_advantage_table():
    h = _fixture()
    nodes = {
        "Hà Nội": ("DBSH", 100.0, 1.5),
        "Bắc Ninh": ("DBSH", 50.0, 1.2),
        "Hưng Yên": ("DBSH", 30.0, 0.9),
        "Đồng Nai": ("DNB", 80.0, 2.0),
        "Lâm Đồng": ("TN", 40.0, 1.1),
    }
    adv = pd.DataFrame(
        [
            {
                "node_id": f"{r}|{p}|CNNT1|XK_WOOD|domestic|*",
                "region": r,
                "province": p,
                "group": "CNNT1",
                "category": "XK_WOOD",
                "market": "domestic",
                "value_12m": v,
                "lq": lq,
            }
            for p, (r, v, lq) in nodes.items()
        ]
    )
    periods = pd.period_range(h.last_period + 1, periods=12, freq="M")
    f = pd.DataFrame(
        {
            "node_id": np.repeat(adv["node_id"], 12),
            "period": np.tile(periods, 5),
            "yhat": np.repeat(adv["value_12m"].to_numpy() / 12 * 0.8, 12),
        }
    )
    g = linkage_groups(h, adv, f, Settings()).set_index("regions")
    assert g.index.tolist() == ["DBSH", "TN;DNB"]
    assert g.loc["DBSH", "provinces"] == "Hà Nội;Bắc Ninh"  # Hưng Yên has LQ < 1
    assert g.loc["DBSH", "value_12m"] == 150.0 and g.loc["DBSH", "forecast_12m"] == pytest.approx(
        120.0
    )
    assert (
        g.loc["DBSH", "growth_12"] == pytest.approx(-20.0)
        and g.loc["DBSH", "trend"] == "strong_fall"
    )
    assert g.loc["TN;DNB", "provinces"] == "Đồng Nai;Lâm Đồng"
    # Six months of forecasts (--horizon 6) are no next-12-month sum: no growth, no trend
    # (it read as a -47% "strong fall" against 12 months of actuals).
    six = linkage_groups(h, adv, f[f["period"] < periods[6]], Settings()).set_index("regions")
    assert six["forecast_12m"].isna().all() and six["growth_12"].isna().all()
    assert (six["trend"] != "strong_fall").all()


def test_partners_co_move():
    t = np.arange(48)
    base = 100 * (1 + 0.3 * np.sin(2 * np.pi * t / 17)) * (1 + 0.2 * np.sin(2 * np.pi * t / 12))
    rows = (
        monthly("Hà Nội", "XK_WOOD", "domestic", list(base))
        + monthly("Thanh Hóa", "XK_WOOD", "domestic", list(base * 3))
        + monthly("Hồ Chí Minh", "XK_WOOD", "domestic", [50.0] * 48)
    )
    h = build_hierarchy(frame(rows))
    p = partners(h)
    assert len(p) == 1
    r = p.iloc[0]
    assert (r["province"], r["partner"]) == ("Hà Nội", "Thanh Hóa")
    assert r["correlation"] == pytest.approx(1.0) and r["n_overlap"] == 36
    assert r["kind"] == "partner" and r["regions"] == "DBSH;BTB_DHMT"
    # A flat series has no growth variance: never a partner. Too little overlap: none.
    assert partners(h, min_overlap=37).empty


def test_neighbours_are_documented_pairs_of_known_regions():
    from forecast.data.geography import REGION_NAMES

    assert all(a in REGION_NAMES and b in REGION_NAMES for a, b in NEIGHBOURS)
    assert ("BTB_DHMT", "DNB") not in NEIGHBOURS and len(NEIGHBOURS) == 6


def test_demo_tables_are_complete():
    # Their time is measured by make bench-scale, not here.
    h = demo_hierarchy()
    base, _ = snaive_engine(h)
    a = location_quotients(h)
    d = destination_outlook(h, base)
    link = build_linkage(h, a, base, Settings())
    assert len(a) == 591 and a["lq"].notna().all()
    # Σ shares of a category's provinces is 100% in each market.
    sums = a.groupby(["market", "category"])["share_nation_pct"].sum()
    np.testing.assert_allclose(sums, 100.0)
    assert d["category"].nunique() == 16 and d["hhi"].between(0, 10_000).all()
    assert set(link["kind"]) == {"group", "partner"}
    assert (link.loc[link["kind"] == "partner", "correlation"] >= 0.6).all()
