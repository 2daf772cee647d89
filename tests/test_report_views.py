"""The numbers behind the reports: bulletin figures, positions, key points, recommendations."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from report_fixtures import make_result

from forecast.errors import RegistryError
from forecast.reports.inputs import ReportData
from forecast.reports.narrative import key_points
from forecast.reports.recommend import recommendations
from forecast.reports.scope import national, province_scope, region_scope
from forecast.reports.text import Wording
from forecast.reports.views import ViewBuilder


@pytest.fixture(scope="module")
def result():
    return make_result()


@pytest.fixture(scope="module")
def builder(result):
    return ViewBuilder(ReportData(result))


def _series(result, node):
    h = result.history[result.history["node_id"] == node]
    return h.set_index("period")["value"]


def test_overview_figures_match_the_history(result, builder):
    view = builder.build(national())
    total = view.overview.iloc[0]
    s = _series(result, "*|*|*|*|total|*")
    last = pd.Period("2025-12", freq="M")
    ytd = s[[p for p in s.index if p.year == 2025]].sum()
    ytd_prev = s[[p for p in s.index if p.year == 2024]].sum()
    assert total["kind"] == "total"
    assert total["last"] == pytest.approx(s[last])
    assert total["ytd"] == pytest.approx(ytd)
    assert total["yoy"] == pytest.approx((ytd / ytd_prev - 1) * 100)
    assert total["mom"] == pytest.approx((s[last] / s[last - 1] - 1) * 100)
    assert total["share"] == pytest.approx(100)
    cats = view.overview[view.overview["kind"] == "category"]
    assert cats["share"].sum() == pytest.approx(100)
    # groups come in CNNT order, each followed by its categories sorted by value
    kinds = view.overview["kind"].tolist()
    assert kinds[:2] == ["total", "group"]
    assert view.overview[view.overview["kind"] == "group"]["key"].tolist() == sorted(
        view.overview[view.overview["kind"] == "group"]["key"]
    )


def test_export_market_table_adds_up(builder):
    m = builder.build(national()).markets
    total = m.iloc[0]
    countries = m[m["kind"] == "country"]
    other = m[m["kind"] == "other"]
    assert total["kind"] == "total"
    assert "ZZ" not in set(countries["key"])  # the remainder is "other markets", last
    assert other.index[0] == m.index[-1]
    assert countries["ytd"].sum() + other["ytd"].sum() == pytest.approx(total["ytd"])
    assert list(countries["ytd"]) == sorted(countries["ytd"], reverse=True)
    eu = m[(m["kind"] == "bloc") & (m["key"] == "EU")].iloc[0]
    members = countries[countries["key"].isin(["DE", "NL", "FR", "ES", "IT", "BE", "PL"])]
    assert eu["ytd"] == pytest.approx(members["ytd"].sum())


def test_region_breakdown_and_province_position(builder):
    nat = builder.build(national())
    regions = nat.geo_domestic[nat.geo_domestic["kind"] == "geo"]
    assert regions["share"].sum() == pytest.approx(100)
    view = builder.build(province_scope("Đắk Lắk"))
    pos = view.position
    assert set(pos["market"]) == {"domestic", "export"}
    assert (pos["rank_nat"] >= 1).all() and (pos["rank_nat"] <= pos["n_nat"]).all()
    assert pos["lq"].notna().all()
    total = view.position_total[view.position_total["market"] == "total"].iloc[0]
    share = nat.provinces_detail.set_index("province").loc["Đắk Lắk", "share"]
    assert total["share_nat"] == pytest.approx(share)  # December: last 12 months == YTD


def test_forecast_summary_sums_the_monthly_forecasts(result, builder):
    view = builder.build(region_scope("DBSH"))
    row = view.forecast.iloc[0]
    fc = result.forecasts[result.forecasts["node_id"] == row["node"]]
    assert row["fc_12"] == pytest.approx(fc["yhat"].sum())
    assert row["fc_3"] == pytest.approx(fc["yhat"].iloc[:3].sum())
    assert len(view.monthly) == 12


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("scope", [national(), region_scope("DBSH"), province_scope("Đắk Lắk")])
def test_key_points_are_three_to_five_sentences_with_figures(builder, scope, lang):
    points = key_points(builder.build(scope), Wording(lang))
    assert 3 <= len(points) <= 5
    assert all(any(ch.isdigit() for ch in p) for p in points)
    assert all(p.endswith(".") for p in points)


def test_recommendations_state_the_rule_that_fired(builder):
    recs = recommendations(builder.build(national()), Wording("vi"))
    assert recs
    assert {r.rule for r in recs} >= {"diversify", "linkage"}
    for r in recs:
        assert r.title and r.text and r.basis
    diversify = next(r for r in recs if r.rule == "diversify")
    assert "xác suất giảm 12 tháng tới ≥ 60%" in diversify.basis


def test_recommendation_rules_fire_on_their_conditions(result):
    """Push one export category over the trade-promotion and concentration thresholds."""
    outlook = result.outlook.copy()
    wood = "*|*|CNNT1|XK_WOOD|export|*"
    outlook.loc[outlook["node_id"] == wood, ["growth_12", "p_decline"]] = [25.0, 0.01]
    dest = result.destinations.copy()
    dest.loc[dest["category"] == "XK_WOOD", "hhi"] = 4200.0
    changed = dataclasses.replace(result, outlook=outlook, destinations=dest)
    view = ViewBuilder(ReportData(changed)).build(national())
    recs = {}
    for r in recommendations(view, Wording("en")):
        recs.setdefault(r.rule, r)  # the first of each rule is the strongest
    assert "wood" in recs["trade_promotion"].title.lower()
    assert "≥ 10%" in recs["trade_promotion"].basis
    assert "HHI 4,200" in recs["concentration"].text
    # Its text opens with the main destination, written with "the" inside sentences.
    top = view.concentration.set_index("category").at["XK_WOOD", "top"]
    assert top == "NL"
    assert recs["concentration"].text.startswith("The Netherlands takes ")
    assert recs["concentration"].basis == "export-destination HHI ≥ 2,500"


def test_missing_outlook_columns_are_computed(result):
    bare = dataclasses.replace(
        result,
        outlook=pd.DataFrame(),
        linkage=pd.DataFrame(),
        advantage=pd.DataFrame(),
        destinations=pd.DataFrame(),
    )
    data = ReportData(bare)
    node = "*|*|*|*|total|*"
    fc = bare.forecasts[bare.forecasts["node_id"] == node]["yhat"].sum()
    h = _series(bare, node)
    base = h[[p for p in h.index if p.year == 2025]].sum()
    assert data.outlook.at[node, "growth_12"] == pytest.approx((fc / base - 1) * 100)
    assert data.outlook.at[node, "trend"] in {
        "strong_rise",
        "rise",
        "stable",
        "fall",
        "strong_fall",
    }
    view = ViewBuilder(data).build(province_scope("Huế"))
    assert view.linkage_groups.empty and np.isnan(view.position["lq"]).all()


def test_a_table_lacking_required_columns_is_a_contract_error(result):
    broken = dataclasses.replace(result, forecasts=result.forecasts.drop(columns=["hi_95"]))
    with pytest.raises(RegistryError, match=r"table 'forecasts' lacks column\(s\) hi_95"):
        ReportData(broken)
    broken = dataclasses.replace(result, advantage=result.advantage.drop(columns=["lq"]))
    with pytest.raises(RegistryError, match="table 'advantage' lacks column"):
        ReportData(broken)


def test_one_linkage_project_per_category_and_market(result):
    link = result.linkage.copy()
    groups = link[link["kind"] == "group"]
    dup = groups.iloc[[0]].assign(scope="neighbours", regions="DBSH;BTB_DHMT")
    changed = dataclasses.replace(result, linkage=pd.concat([link, dup], ignore_index=True))
    view = ViewBuilder(ReportData(changed)).build(national())
    recs = [r for r in recommendations(view, Wording("vi")) if r.rule == "linkage"]
    assert len({r.title for r in recs}) == len(recs)


def test_a_six_month_horizon_has_no_next_12_month_sum_or_growth():
    """--horizon 6: the 6-month sum was shown as "next 12 months" and compared with 12
    months of actuals (a "strong fall" of -47%)."""
    from forecast.reports.views import forecast_summary

    short = make_result(horizon=6)
    b = ViewBuilder(ReportData(short))
    view = b.build(national())
    row = view.forecast.iloc[0]
    fc = short.forecasts[short.forecasts["node_id"] == row["node"]]
    assert row["fc_6"] == pytest.approx(fc["yhat"].sum()) and np.isnan(row["fc_12"])
    for lang in ("vi", "en"):
        text = " ".join(key_points(view, Wording(lang)))
        assert "nan" not in text.lower() and "None" not in text
    # A row whose node does not exist (no total over markets in different units) is shown
    # without figures instead of stopping every report.
    overview = view.overview.iloc[:1].assign(node="")
    empty = forecast_summary(b.calc, overview)
    assert empty["node"].tolist() == [""] and np.isnan(empty["fc_12"].iloc[0])


def test_a_regions_concentration_risk_says_the_figures_are_national(result):
    """Export destinations are known for the nation only: a region's key point on
    concentration says so instead of quoting the nation's figures as the region's own."""
    outlook = result.outlook.copy()
    outlook["p_decline"] = 0.1  # no decline risk, so concentration is the main risk
    dest = result.destinations.copy()
    dest.loc[dest["category"] == "XK_WOOD", "hhi"] = 4200.0
    changed = ViewBuilder(
        ReportData(dataclasses.replace(result, outlook=outlook, destinations=dest))
    )
    for lang, nat_words, region_words in [
        ("vi", "Rủi ro chính: xuất khẩu", "của cả nước tập trung vào"),
        ("en", "Main risk: exports of", "Main risk: national exports of"),
    ]:
        w = Wording(lang)
        nat = [p for p in key_points(changed.build(national()), w) if "HHI" in p]
        region = [p for p in key_points(changed.build(region_scope("TN")), w) if "HHI" in p]
        assert len(nat) == 1 and nat[0].startswith(nat_words) and region_words not in nat[0]
        assert len(region) == 1 and region_words in region[0]
        assert ("4.200" if lang == "vi" else "4,200") in region[0]


def test_movers_sentence_says_it_ranks_only_the_larger_categories_when_a_small_one_moved_more(
    builder,
):
    """A category under 1% of sales is not named as a mover; when it fell further than the
    "slowest riser", the sentence says the ranking covers the larger categories only."""
    from forecast.reports.narrative import _products

    view = builder.build(national())
    cats = view.overview[view.overview["kind"] == "category"].head(3).copy()
    keys = cats["key"].tolist()
    cats["share"], cats["yoy"], cats["ytd"] = [60.0, 39.5, 0.5], [5.0, 1.3, -4.1], [60, 39.5, 0.5]
    w = Wording("vi")
    small_falls = _products(dataclasses.replace(view, overview=cats), w)
    assert "trong các ngành hàng chiếm từ 1,0% tổng giá trị trở lên, tăng mạnh nhất" in small_falls
    assert "tăng chậm nhất là " + w.category(keys[1], inline=True) in small_falls
    cats["yoy"] = [5.0, 1.3, 2.0]  # the small one within the range: no qualifier needed
    within = _products(dataclasses.replace(view, overview=cats), w)
    assert "trong các ngành hàng chiếm" not in within and "tăng chậm nhất" in within
    falls = cats.assign(yoy=[5.0, 1.3, -4.1])
    en = _products(dataclasses.replace(view, overview=falls), Wording("en"))
    assert "; among categories with at least 1.0% of the total, the fastest riser was" in en


def test_a_category_that_stopped_selling_stays_in_the_table_at_minus_100_percent(result):
    """Exports of one category fell to 0 this year: its row stays (-100%), so the rows
    still explain the total's change."""
    node = "*|*|CNNT1|XK_WOOD|export|*"
    history = result.history.copy()
    this_year = (history["node_id"] == node) & (history["period"].dt.year == 2025)
    assert this_year.sum() == 12
    history.loc[this_year, "value"] = 0.0
    view = ViewBuilder(ReportData(dataclasses.replace(result, history=history))).build(national())
    rows = view.overview_export.set_index("key")
    assert rows.at["XK_WOOD", "ytd"] == 0
    assert rows.at["XK_WOOD", "ytd_prev"] > 0
    assert rows.at["XK_WOOD", "yoy"] == pytest.approx(-100.0)
