"""Report formatting and wording: Vietnamese and English numbers, units, periods, labels."""

import re
import string

import pandas as pd
import pytest

from forecast.errors import InvalidParameterError
from forecast.reports import text_en, text_vi
from forecast.reports.formatting import Formatter, parse_unit
from forecast.reports.scope import province_scope, region_scope, resolve_province, resolve_region
from forecast.reports.text import Wording

VI, EN = Formatter("vi"), Formatter("en")
M = pd.Period("2025-03", freq="M")


@pytest.mark.parametrize(
    ("value", "decimals", "vi", "en"),
    [
        (1234.5, 1, "1.234,5", "1,234.5"),
        (54709115, 0, "54.709.115", "54,709,115"),
        (610.69, 2, "610,69", "610.69"),
        (-3.25, 1, "-3,2", "-3.2"),
        (-0.04, 1, "0,0", "0.0"),
        (float("nan"), 1, "-", "-"),
        (None, 1, "-", "-"),
    ],
)
def test_numbers(value, decimals, vi, en):
    assert VI.number(value, decimals) == vi
    assert EN.number(value, decimals) == en


def test_percentages_and_signs():
    assert VI.percent(12.345) == "12,3%"
    assert EN.percent(12.345) == "12.3%"
    assert VI.pct(3.2, sign=True) == "+3,2"
    assert VI.pct(-3.2, sign=True) == "-3,2"
    assert VI.percent(float("nan")) == "-"


@pytest.mark.parametrize(
    ("text", "currency", "factor"),
    [
        ("thousand USD", "USD", 1e3),
        ("nghìn USD", "USD", 1e3),
        ("1000 USD", "USD", 1e3),
        ("USD", "USD", 1.0),
        ("triệu đồng", "VND", 1e6),
        ("Tỷ đồng", "VND", 1e9),
        ("million VND", "VND", 1e6),
        ("kg", None, 1.0),
    ],
)
def test_parse_unit(text, currency, factor):
    unit = parse_unit(text)
    assert (unit.currency, unit.factor) == (currency, factor)


def test_money_picks_the_unit_from_the_magnitude():
    usd_k = parse_unit("thousand USD")
    assert VI.money(20_345_678.9, usd_k) == "20,35 tỷ USD"
    assert EN.money(20_345_678.9, usd_k) == "USD 20.35 billion"
    assert VI.money(610_690, usd_k) == "610,7 triệu USD"
    assert VI.money(5_432.1, usd_k) == "5,43 triệu USD"
    assert VI.money(123, usd_k) == "123,0 nghìn USD"
    assert VI.money(236_200_000, parse_unit("triệu đồng")) == "236,2 nghìn tỷ đồng"
    assert EN.money(236_200_000, parse_unit("triệu đồng")) == "VND 236.2 trillion"
    assert EN.money(42, parse_unit("tỷ đồng")) == "VND 42.00 billion"
    assert VI.money_range(1_530_000, 1_580_000, usd_k) == "1,53–1,58 tỷ USD"
    assert VI.money(7, parse_unit("kg")) == "7,0 kg"


def test_table_units_keep_one_scale_per_column():
    usd_k = parse_unit("thousand USD")
    du = VI.display_unit([7_032_906.7, 12.5], usd_k)
    assert (du.label, du.multiplier, du.decimals) == ("triệu USD", 1e-3, 1)
    assert EN.display_unit([5_000], usd_k).label == "USD thousand"
    # tables never switch to billions, whatever the size
    assert VI.display_unit([9e12], usd_k).label == "triệu USD"


def test_period_labels():
    assert VI.period(M) == "T3/2025"
    assert VI.period(M, long=True) == "tháng 3/2025"
    assert EN.period(M) == "Mar 2025"
    assert VI.period(pd.Period("2025Q1", freq="Q")) == "quý I/2025"
    assert EN.period(pd.Period("2025Q4", freq="Q")) == "Q4 2025"
    assert VI.period(pd.Period("2025", freq="Y")) == "năm 2025"
    assert VI.year_to_date(pd.Period("2025-09", freq="M")) == "9 tháng đầu năm 2025"
    assert EN.year_to_date(pd.Period("2025-09", freq="M")) == "first 9 months of 2025"
    assert VI.year_to_date(pd.Period("2025-12", freq="M")) == "năm 2025"
    assert VI.year_to_date(pd.Period("2025-01", freq="M")) == "tháng 1/2025"
    assert VI.year_to_date(pd.Period("2025Q2", freq="Q")) == "2 quý đầu năm 2025"
    assert VI.ytd_short(M) == "3T/2025"
    assert EN.ytd_short(M) == "Jan–Mar 2025"
    assert VI.ytd_lead(pd.Period("2025-12", freq="M")) == "Năm 2025"
    assert EN.ytd_lead(pd.Period("2025-12", freq="M")) == "In 2025"
    assert EN.ytd_lead(pd.Period("2025-09", freq="M")) == "In the first 9 months of 2025"
    first, last = pd.Period("2026-01", freq="M"), pd.Period("2026-03", freq="M")
    assert VI.period_range(first, last) == "T1–T3/2026"
    assert EN.period_range(first, last) == "Jan–Mar 2026"
    assert VI.period_range(pd.Period("2025-11", freq="M"), last) == "T11/2025–T3/2026"
    assert VI.date("2026-01-15T03:00:00Z") == "15/01/2026"
    assert EN.date("2026-01-15") == "15 Jan 2026"


def test_moments_are_dated_in_vietnam_time_and_plain_dates_as_written():
    """Run and ingest times are stored in UTC: a run at 23:47 UTC on 7 December is issued
    on 8 December in Vietnam (UTC+7), whether the stamp carries its zone or not."""
    assert VI.date("2026-12-07T23:47:50Z") == "08/12/2026"
    assert EN.date("2026-12-07T23:47:50Z") == "8 Dec 2026"
    assert VI.date("2026-12-07 23:47:50.123456") == "08/12/2026"
    assert VI.date("2026-12-07T16:59:59Z") == "07/12/2026"
    assert VI.date("2026-12-07T23:47:50+07:00") == "07/12/2026"
    assert VI.date("2026-12-07") == "07/12/2026"
    assert VI.date("") == VI.date("NaT") == VI.date("nan") == "-"


def test_cumulative_labels_name_only_the_periods_with_data():
    """Year to date starting after January (the months before have no data): the label
    names the periods covered instead of "2 tháng đầu năm"."""
    feb, mar = pd.Period("2026-02", freq="M"), pd.Period("2026-03", freq="M")
    assert VI.year_to_date(feb, feb) == "tháng 2/2026"
    assert VI.ytd_short(feb, feb) == "T2/2026"
    assert VI.ytd_lead(feb, feb) == "Tháng 2/2026"
    assert VI.year_to_date(mar, feb) == "T2–T3/2026"
    assert EN.ytd_short(mar, feb) == "Feb–Mar 2026"
    assert EN.ytd_lead(mar, feb) == "In Feb–Mar 2026"
    # From the first period of the year: the usual labels.
    jan = pd.Period("2026-01", freq="M")
    assert VI.year_to_date(mar, jan) == "3 tháng đầu năm 2026"
    assert VI.ytd_short(mar, jan) == "3T/2026"
    q2, q3 = pd.Period("2026Q2", freq="Q"), pd.Period("2026Q3", freq="Q")
    assert VI.year_to_date(q3, q2) == "quý II/2026–quý III/2026"


def test_unknown_language_is_refused():
    with pytest.raises(InvalidParameterError, match="'lang' parameter of Formatter"):
        Formatter("fr")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'lang' parameter of the reports"):
        Wording("fr")  # type: ignore[arg-type]


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_both_languages_have_the_same_keys_and_fields():
    assert set(text_vi.TEXT) == set(text_en.TEXT)
    for key in text_vi.TEXT:
        assert _fields(text_vi.TEXT[key]) == _fields(text_en.TEXT[key]), key
    assert set(text_vi.TRENDS) == set(text_en.TRENDS)
    assert set(text_vi.FLAGS) == set(text_en.FLAGS)
    assert set(text_vi.LEVELS) == set(text_en.LEVELS)
    assert len(text_vi.GLOSSARY) == len(text_en.GLOSSARY)


def test_vietnamese_wording_is_nfc_with_diacritics():
    import unicodedata

    for value in [*text_vi.TEXT.values(), text_vi.SYNTHETIC_LABEL]:
        assert unicodedata.is_normalized("NFC", value)
    assert text_vi.SYNTHETIC_LABEL == (
        "Dữ liệu minh họa tổng hợp (synthetic) — không phải số liệu thống kê chính thức"
    )
    assert text_en.SYNTHETIC_LABEL == "Synthetic demonstration data — not official statistics"


def test_names_and_labels():
    vi, en = Wording("vi"), Wording("en")
    assert vi.category("XK_WOOD") == "Gỗ và sản phẩm gỗ"
    assert vi.category("XK_WOOD", inline=True) == "gỗ và sản phẩm gỗ"
    assert en.category("XK_WOOD") == "Wood and wood products"
    assert vi.country("US") == "Hoa Kỳ"
    assert en.country("US", inline=True) == "the United States"
    assert vi.country("EU") == "EU (27 nước)"
    assert vi.trend("strong_fall") == "giảm mạnh"
    assert en.trend("rise") == "rise"
    assert vi.flags("short_history;=evil") == "chuỗi số liệu ngắn, =evil"
    assert vi.country("ZZ") == "Thị trường khác"
    assert vi.change(12.34) == "tăng 12,3%"
    assert vi.change(-3.21) == "giảm 3,2%"
    assert en.change(0.01) == "unchanged"
    assert vi.level("province/category/export") == "Tỉnh · ngành hàng · xuất khẩu"
    assert Wording.model("snaive") == "Seasonal naive"
    # An ensemble's label is shown whole, as in the CSV (it was cut to 40 characters).
    label = (
        "Mean(Theta, DynamicOptimizedTheta, DampedETS, AutoCES, GlobalGBM, GlobalKNN, GlobalMLP)"
    )
    assert Wording.model(label) == label


def test_scope_names_and_slugs():
    hcm = province_scope("Hồ Chí Minh")
    assert hcm.slug == "province-ho-chi-minh"
    assert hcm.name("vi") == "Thành phố Hồ Chí Minh"
    assert hcm.inline_name("vi") == "thành phố Hồ Chí Minh"
    assert hcm.name("en") == "Hồ Chí Minh City"
    dak = province_scope("Đắk Lắk")
    assert (dak.slug, dak.name("vi"), dak.region) == ("province-dak-lak", "Tỉnh Đắk Lắk", "TN")
    reg = region_scope("DBSH")
    assert reg.slug == "region-dong-bang-song-hong"
    assert reg.inline_name("en") == "the Red River Delta region"
    for scope in (hcm, dak, reg):
        assert re.fullmatch(r"[a-z0-9-]+", scope.slug)


def test_name_resolution_and_errors():
    assert resolve_province("dak lak") == "Đắk Lắk"
    assert resolve_province("TP. HCM") == "Hồ Chí Minh"
    assert resolve_province("Hà Giang") == "Tuyên Quang"  # pre-2025 name
    assert resolve_region("dong bang song hong") == "DBSH"
    assert resolve_region("Mekong River Delta") == "DBSCL"
    with pytest.raises(InvalidParameterError, match=r"Unknown province '\.\./\.\./etc'"):
        resolve_province("../../etc")
    with pytest.raises(InvalidParameterError, match="Did you mean 'Hà Nội'"):
        resolve_province("Ha Noii")
    with pytest.raises(InvalidParameterError, match="Unknown region '=cmd'"):
        resolve_region("=cmd")


def test_labels_match_the_outlook_module():
    from forecast.outlook import FLAG_LABELS, TREND_LABELS

    for code, (vi, en) in FLAG_LABELS.items():
        assert (text_vi.FLAGS[code], text_en.FLAGS[code]) == (vi, en)
    for code, (vi, en) in TREND_LABELS.items():
        assert (text_vi.TRENDS[code], text_en.TRENDS[code]) == (vi, en)


def test_a_missing_source_label_is_left_out_not_written_none():
    """A file ingested without --source has no label: "Nguồn: None" was printed."""
    from types import SimpleNamespace

    import numpy as np

    from forecast.reports.pdf.context import Ctx
    from forecast.reports.text import clean

    assert clean(None) == "" and clean(np.nan) == "" and clean("Sở CT") == "Sở CT"
    src = pd.DataFrame({"source_label": [None, "Sở Công Thương", np.nan, "Sở Công Thương"]})
    ctx = SimpleNamespace(data=SimpleNamespace(sources=src))
    assert Ctx.sources(ctx) == "Sở Công Thương"  # type: ignore[arg-type]
    none = SimpleNamespace(data=SimpleNamespace(sources=src.iloc[[0, 2]]))
    assert Ctx.sources(none) == "-"  # type: ignore[arg-type]
