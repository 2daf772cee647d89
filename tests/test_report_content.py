"""Report wording and figures on awkward runs: destinations that do not add up to the export
total, a year to date with leading months missing, short horizons, quarterly and annual
data, and the appendix's method text (review 11: R9, R13, R16, R17, R19)."""

import csv
import dataclasses
import io
import re

import numpy as np
import pandas as pd
import pypdf
import pytest
from report_fixtures import make_result, to_annual, to_quarterly

from forecast.reports import write_reports
from forecast.reports.csv import OutlookTable, advantage_csv
from forecast.reports.inputs import ReconcileChoice, ReportData
from forecast.reports.narrative import key_points
from forecast.reports.pdf.appendix import models_sentence, reconcile_sentence
from forecast.reports.scope import national
from forecast.reports.text import Wording
from forecast.reports.views import ViewBuilder, candidate_models


@pytest.fixture(scope="module")
def result():
    return make_result()


def _text(path) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(path).pages)


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _scaled_destinations(result, factor: float):
    """Destination history scaled by ``factor`` (customs data disagreeing with the
    provincial export totals); forecasts left as they are (reconciled to the total)."""
    dest = set(result.nodes.loc[result.nodes["destination"] != "", "node_id"])
    h = result.history.copy()
    h.loc[h["node_id"].isin(dest), "value"] *= factor
    return dataclasses.replace(result, history=h)


# -- R9: destinations adding up to more than the export total ------------------------------


def test_destination_shares_add_up_to_100_and_the_gap_is_shown(result, tmp_path):
    over = _scaled_destinations(result, 1.2)
    view = ViewBuilder(ReportData(over)).build(national())
    m = view.markets
    total = m[m["kind"] == "total"].iloc[0]
    dest = m[m["kind"] == "dest_sum"].iloc[0]
    listed = m[m["kind"].isin(["country", "other"])]
    assert dest["ytd"] == pytest.approx(1.2 * total["ytd"], rel=1e-9)
    assert view.markets_gap == pytest.approx(0.2, abs=1e-9)
    assert listed["share"].sum() == pytest.approx(100.0)
    assert dest["share"] == pytest.approx(100.0)
    assert np.isnan(total["share"])  # a share of the destination sum would be 83.3 %
    top = listed.iloc[0]
    assert top["share"] == pytest.approx(top["ytd"] / dest["ytd"] * 100)
    points = " ".join(key_points(view, Wording("vi")))
    assert "tổng các thị trường, " in points and "tỷ trọng, " not in points

    write_reports(over, tmp_path / "vi", scopes=("national",), formats=("pdf",))
    write_reports(over, tmp_path / "en", scopes=("national",), formats=("pdf",), lang="en")
    vi, en = _text(tmp_path / "vi" / "national.pdf"), _text(tmp_path / "en" / "national.pdf")
    assert "Cộng các thị trường" in vi
    assert re.search(r"tổng các thị trường là [\d,]+ tỷ USD, cao hơn 20,0% so với tổng kim", vi)
    assert "Sum of destinations" in en
    assert re.search(r"destinations add up to USD [\d.]+ billion, 20.0% more than the", en)


def test_destinations_that_agree_get_no_note_and_the_usual_shares(result):
    view = ViewBuilder(ReportData(result)).build(national())
    m = view.markets
    assert view.markets_gap == 0.0
    assert "dest_sum" not in set(m["kind"])
    assert m.loc[m["kind"] == "total", "share"].iloc[0] == pytest.approx(100.0)


def test_csv_destination_rows_carry_the_gap_in_data_note(result):
    over = _scaled_destinations(dataclasses.replace(result, synthetic=False), 0.9)
    rows = _rows(OutlookTable(ReportData(over), Wording("vi")).full())
    dest = [r for r in rows if r["destination"]]
    assert dest and all("thấp hơn 10,0% so với tổng kim ngạch" in r["data_note"] for r in dest)
    assert all(r["data_note"] == "" for r in rows if not r["destination"])
    # With synthetic data both notes are kept.
    synth = _rows(OutlookTable(ReportData(_scaled_destinations(result, 0.9)), Wording("en")).full())
    note = next(r["data_note"] for r in synth if r["destination"])
    assert note.startswith("Synthetic demonstration data") and "10.0% less than" in note


# -- R13: the appendix's reconciliation and model text --------------------------------------

RECORDS = {
    "default_kept": (
        "mint_shrink — mint_shrink chosen by backtest (the default; no method was lower in all "
        "2 window(s) by more than one standard error): mean MASE over levels 0.839 (base 0.866; "
        "wls_var 0.839, lower in 0 of 2)"
    ),
    "default_unscored": (
        "mint_shrink — mint_shrink chosen by backtest (the default: in no window were there "
        "errors enough to score mint_shrink itself, so no window could count against it): mean "
        "MASE over levels 0.839 (base 0.866)"
    ),
    "beat_default": (
        "wls_var — wls_var chosen by backtest (the first of mint_shrink, wls_var, bottom_up, "
        "top_down lower than mint_shrink in all 3 window(s) by more than one standard error): "
        "mean MASE over levels 0.801 (base 0.850); the base forecasts (not coherent) scored "
        "better in the backtest"
    ),
    "no_backtest": "bottom_up — bottom_up (no backtest window to choose by)",
    "config": "mint_shrink -> wls_struct (too few residual periods (1 < 2)) — mint_shrink (set "
    "in configuration)",
}


@pytest.mark.parametrize("how", sorted(RECORDS))
def test_reconcile_record_is_read_into_fields(how):
    c = ReconcileChoice.parse(RECORDS[how])
    assert c.how == how
    if how == "beat_default":
        assert (c.method, c.default, c.n_windows, c.base_better) == (
            "wls_var",
            "mint_shrink",
            3,
            True,
        )
        assert c.mase == pytest.approx(0.801)
    if how == "config":
        assert (c.method, c.used) == ("mint_shrink", "wls_struct")


def test_reconcile_sentence_is_vietnamese_and_whole():
    vi, en = Wording("vi"), Wording("en")
    kept = reconcile_sentence(RECORDS["default_kept"], vi)
    assert kept == (
        "MinT với ma trận hiệp phương sai co rút (mint_shrink), chọn theo kiểm định ngược: là "
        "phương pháp mặc định và không phương pháp nào khác có sai số thấp hơn trong cả 2 cửa "
        "sổ kiểm định với mức chênh quá một sai số chuẩn (sai số MASE bình quân các cấp 0,839)"
    )
    for record in RECORDS.values():
        text = reconcile_sentence(record, vi)
        assert "…" not in text and "chosen" not in text and "backtest)" not in text
    beat = reconcile_sentence(RECORDS["beat_default"], en)
    assert (
        "lower than the default MinT with a shrunk covariance matrix (mint_shrink) in all 3" in beat
    )
    assert "base forecasts (not reconciled" in beat
    assert "in all 3 backtest windows by more" in beat
    kept_en = reconcile_sentence(RECORDS["default_kept"], en)
    assert "lower in both backtest windows by more" in kept_en and "(s)" not in kept_en
    one = reconcile_sentence(
        RECORDS["default_kept"]
        .replace("of 2", "of 1")
        .replace("all 2 window(s)", "all 1 window(s)"),
        vi,
    )
    assert "trong cửa sổ kiểm định duy nhất" in one
    fallback = reconcile_sentence(RECORDS["config"], vi)
    assert "theo thiết lập của người dùng" in fallback and "(wls_struct)" in fallback
    # Text of an unknown form is data: shown cleaned, not cut at 80 characters.
    odd = "x" * 120
    assert reconcile_sentence(odd, vi) == odd


def test_models_paragraph_lists_the_runs_candidates_and_its_rule(result, tmp_path):
    lb = pd.DataFrame(
        {
            "profile": ["regular", "regular", "regular", "short"],
            "label": ["Theta", "Naive", "SeasonalNaive", "Drift"],
            "model": ["theta", "naive", "snaive", "drift"],
        }
    )
    run = dataclasses.replace(result, extra={**result.extra, "leaderboard": lb})
    data = ReportData(run)
    assert candidate_models(data) == ("theta", "naive", "snaive")
    text = models_sentence(candidate_models(data), (80, 95), Wording("vi"))
    assert "(Theta, Naive, Naive mùa vụ)" in text and "ARIMA" not in text
    assert "ens_mean" not in text
    write_reports(run, tmp_path, scopes=("national",), formats=("pdf",))
    pdf = _text(tmp_path / "national.pdf")
    assert "các mô hình ứng viên của lần chạy này (Theta, Naive, Naive mùa vụ)" in pdf
    assert "ARIMA và tổ hợp" not in pdf
    # The default set: resolved from the setting, with the equal-weight mean rule.
    run = dataclasses.replace(result, config={**result.config, "models": ["default"]})
    models = candidate_models(ReportData(run))
    assert models[:3] == ("naive", "snaive", "theta") and "ens_mean" in models
    text = models_sentence(models, (80, 95), Wording("en"))
    assert "ens_mean) is kept unless the leader beats it by more than one standard error" in text


# -- R16: wording slips ----------------------------------------------------------------------


def test_quarterly_history_caption_does_not_double_the_word(result, tmp_path):
    write_reports(to_quarterly(result), tmp_path, scopes=("national",), formats=("pdf",))
    text = _text(tmp_path / "national.pdf")
    assert "hằng quý quý" not in text
    assert "Giá trị tiêu thụ hằng quý (quý I/2022–quý IV/2025)" in text
    assert "Dự báo 1 quý tới (quý I/2026)" in text and "3 tháng tới" not in text
    assert "Dự báo 4 quý tới (+/- %)" in text


def test_year_to_date_covers_only_the_months_with_data(tmp_path):
    run = make_result(last_period="2026-02", n_history=26)
    # January 2026 is not in the warehouse at all.
    jan = pd.Period("2026-01", freq="M")
    run = dataclasses.replace(run, history=run.history[run.history["period"] != jan])
    data = ReportData(run)
    view = ViewBuilder(data).build(national())
    feb = pd.Period("2026-02", freq="M")
    assert list(view.periods.ytd) == [feb]
    assert list(view.periods.ytd_prev) == [feb - 12]
    t = view.overview.iloc[0]
    s = run.history[run.history["node_id"] == "*|*|*|*|total|*"].set_index("period")["value"]
    assert t["ytd"] == pytest.approx(s[feb])
    assert t["yoy"] == pytest.approx((s[feb] / s[feb - 12] - 1) * 100)  # Feb on Feb
    points = key_points(view, Wording("vi"))
    assert points[0].startswith("Tháng 2/2026, tổng giá trị")
    assert "2 tháng đầu năm" not in points[0] and "riêng tháng 2/2026" not in points[0]
    # January is missing: no change on the previous month, said once, not "so sánh so với".
    assert "chưa có số liệu tháng trước để so sánh" in points[0]
    assert not any("so sánh so với" in p for p in points)
    write_reports(run, tmp_path, scopes=("national",), formats=("pdf",))
    text = _text(tmp_path / "national.pdf")
    assert "2T/2026" not in text and "2 tháng đầu năm 2026" not in text
    assert "(trong nước và xuất khẩu) tháng 2/2026" in text


def test_forecast_key_point_gives_the_interval_without_a_year_before(result):
    """No year before to compare with: the growth is undefined, the interval of the sum
    (new outlook columns ``forecast_3_lo/hi``) is still shown."""
    out = result.outlook.copy()
    for s in ("", "_lo", "_hi"):
        out[f"growth_3{s}"] = np.nan
    out["forecast_3_lo"], out["forecast_3_hi"] = 1.5e6, 2.5e6
    view = ViewBuilder(ReportData(dataclasses.replace(result, outlook=out))).build(national())
    sentence = next(p for p in key_points(view, Wording("vi")) if p.startswith("Dự báo"))
    assert (
        "(khoảng 80%: 1,50–2,50 tỷ USD), chưa có số liệu cùng kỳ năm trước để so sánh" in sentence
    )
    assert "so sánh so với" not in sentence


def test_short_horizon_uses_the_horizon_it_has():
    run = make_result(horizon=6)
    view = ViewBuilder(ReportData(run)).build(national())
    assert view.meta.spans() == [(3, 3), (6, 6)]
    en = next(p for p in key_points(view, Wording("en")) if p.startswith("Sales in"))
    assert "next 12 months" not in en and "no comparison available" not in en
    assert re.search(r"over the next 6 months they are expected to be (up|down) [\d.]+%\.$", en)
    vi = next(p for p in key_points(view, Wording("vi")) if p.startswith("Dự báo"))
    assert "cả 6 tháng tới dự kiến" in vi and "12 tháng" not in vi


# -- R17: units in advantage-full.csv --------------------------------------------------------


def test_advantage_csv_has_the_unit_of_each_row(result):
    nodes = result.nodes.copy()
    nodes.loc[nodes["market"] == "domestic", "unit"] = "million VND"
    data = ReportData(dataclasses.replace(result, nodes=nodes))
    rows = _rows(advantage_csv(data, Wording("vi")))
    assert rows and list(rows[0])[7:10] == ["unit", "unit_label", "value_12m"]
    units = {(r["market"], r["unit"], r["unit_label"]) for r in rows}
    assert units == {
        ("domestic", "million VND", "triệu đồng"),
        ("export", "thousand USD", "nghìn USD"),
    }
    en = {r["unit_label"] for r in _rows(advantage_csv(data, Wording("en")))}
    assert en == {"VND million", "USD thousand"}


# -- R19: annual data -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def annual():
    return to_annual(make_result(horizon=36))


def test_annual_key_points_have_one_figure_each(annual):
    view = ViewBuilder(ReportData(annual)).build(national())
    assert view.meta.spans() == [(12, 1)]
    points = key_points(view, Wording("vi"))
    head = points[0]
    assert head.startswith("Năm 2025, tổng giá trị") and "riêng năm 2025" not in head
    assert head.count("đạt") == 1
    fc = next(p for p in points if p.startswith("Dự báo"))
    assert fc.startswith("Dự báo năm 2026 đạt")
    assert "so với năm trước" in fc
    assert "chưa có số liệu" not in fc and "12 tháng" not in fc and "cả " not in fc


def test_annual_forecast_table_has_one_next_year_column(annual, tmp_path):
    write_reports(annual, tmp_path, scopes=("national",), formats=("pdf",))
    text = _text(tmp_path / "national.pdf")
    assert "Dự báo năm tới (năm 2026)" in text
    assert "tháng tới (năm 2026)" not in text
    assert "Dự báo giá trị tiêu thụ năm tới theo ngành hàng" in text
