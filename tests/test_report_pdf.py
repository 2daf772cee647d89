"""Generated PDF bulletins, read back with pypdf: headings, names, labels and numbers."""

import csv
import dataclasses
import io
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import pandas as pd
import pypdf
import pytest
from report_fixtures import make_result

from forecast.reports import charts, charts_grid, write_reports
from forecast.reports.formatting import Formatter
from forecast.reports.inputs import ReportData
from forecast.reports.pdf import render_pdf
from forecast.reports.scope import national, province_scope
from forecast.reports.text import Wording
from forecast.reports.views import ViewBuilder

LABEL = {
    "vi": "Dữ liệu minh họa tổng hợp (synthetic) — không phải số liệu thống kê chính thức",
    "en": "Synthetic demonstration data — not official statistics",
}
SCALE = {"nghìn USD": 1.0, "triệu USD": 1e-3, "USD thousand": 1.0, "USD million": 1e-3}


@pytest.fixture(scope="module")
def result():
    return make_result()


@pytest.fixture(scope="module")
def reports(result, tmp_path_factory):
    """National, one region and two provinces in Vietnamese; national and one in English."""
    root = tmp_path_factory.mktemp("reports")
    write_reports(result, root / "vi", names=["DBSH", "Đắk Lắk", "Hồ Chí Minh"], lang="vi")
    write_reports(
        result, root / "en", scopes=("national", "province"), names=["Hồ Chí Minh"], lang="en"
    )
    return root


def pages(path: Path) -> list[str]:
    """Text of every page, whitespace collapsed (pypdf breaks lines where the PDF does)."""
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(path).pages]


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def test_files_written(reports):
    assert sorted(p.name for p in (reports / "vi").glob("*.pdf")) == [
        "national.pdf",
        "province-dak-lak.pdf",
        "province-ho-chi-minh.pdf",
        "region-dong-bang-song-hong.pdf",
    ]
    assert sorted(p.name for p in (reports / "en").glob("*.pdf")) == [
        "national.pdf",
        "province-ho-chi-minh.pdf",
    ]


@pytest.mark.parametrize(
    ("lang", "headings"),
    [
        (
            "vi",
            [
                "1. Tóm tắt – Điểm nhấn",
                "2. Tổng quan kỳ qua",
                "3. Thị trường xuất khẩu",
                "4. Thị trường trong nước",
                "5. Dự báo",
                "6. Liên kết vùng và lợi thế so sánh",
                "7. Nhận định và khuyến nghị cho địa phương",
                "8. Phụ lục",
                "TIÊU ĐIỂM",
                "Tổng kim ngạch xuất khẩu",
                "F. Thuật ngữ",
                "Căn cứ:",
            ],
        ),
        (
            "en",
            [
                "1. Summary – key points",
                "2. Overview of the period",
                "3. Export markets",
                "4. Domestic market",
                "5. Forecast",
                "6. Regional linkage and comparative advantage",
                "7. Assessment and recommendations for localities",
                "8. Appendix",
                "IN FOCUS",
                "Total exports",
                "F. Glossary",
                "Basis:",
            ],
        ),
    ],
)
def test_national_headings_and_cover(reports, lang, headings):
    text = pages(reports / lang / "national.pdf")
    whole = " ".join(text)
    for heading in headings:
        assert heading in whole, heading
    cover = text[0]
    if lang == "vi":
        assert "BỘ CÔNG THƯƠNG" in cover
        assert "CỤC ĐỔI MỚI SÁNG TẠO, CHUYỂN ĐỔI XANH VÀ KHUYẾN CÔNG" in cover
        assert "BÁO CÁO TRIỂN VỌNG THỊ TRƯỜNG SẢN PHẨM CÔNG NGHIỆP NÔNG THÔN" in cover
        assert "Kỳ báo cáo: tháng 12/2025" in cover
        assert "Ngày phát hành: 15/01/2026" in cover
    else:
        assert "Reporting period: December 2025" in cover
    assert "20260115T030000Z-a1b2c3" in cover


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_page_carries_the_synthetic_label_and_a_page_number(reports, lang):
    paths = sorted((reports / lang).glob("*.pdf"))
    assert paths, f"no PDF in {reports / lang}"
    for path in paths:
        text = pages(path)
        for i, page in enumerate(text, start=1):
            assert LABEL[lang] in page, f"{path.name} page {i}"
            number = f"Trang {i}/{len(text)}" if lang == "vi" else f"Page {i} of {len(text)}"
            assert number in page


def test_province_names_keep_their_diacritics(reports):
    dak = pages(reports / "vi" / "province-dak-lak.pdf")
    assert "TỈNH ĐẮK LẮK" in dak[0]
    assert "Tỉnh Đắk Lắk" in dak[1]  # running head
    assert "6. Vị thế, lợi thế so sánh và liên kết của địa phương" in " ".join(dak)
    hcm = pages(reports / "vi" / "province-ho-chi-minh.pdf")
    assert "THÀNH PHỐ HỒ CHÍ MINH" in hcm[0]
    assert "thành phố Hồ Chí Minh" in " ".join(hcm)
    region = " ".join(pages(reports / "vi" / "region-dong-bang-song-hong.pdf"))
    assert "Vùng Đồng bằng sông Hồng" in region
    assert "Bắc Ninh" in region and "Hà Nội" in region
    en = pages(reports / "en" / "province-ho-chi-minh.pdf")
    assert "HỒ CHÍ MINH CITY" in en[0]


def _unit_after(text: str, caption: str, unit_word: str) -> float:
    units = "|".join(map(re.escape, SCALE))
    match = re.search(f"{re.escape(caption)}.*?{unit_word}: ({units})", text)
    assert match, caption
    return SCALE[match.group(1)]


@pytest.mark.parametrize(
    ("lang", "caption", "unit_word", "suffix"),
    [
        ("vi", "Dự báo hằng tháng", "ĐVT", "dự báo"),
        ("en", "Monthly sales forecast", "Unit", "forecast"),
    ],
)
def test_monthly_forecast_table_equals_the_csv(reports, lang, caption, unit_word, suffix):
    fmt = Formatter(lang)
    folder = reports / lang
    rows = [
        r
        for r in read_csv(folder / "province-ho-chi-minh.csv")
        if r["level"] == "province/total/total"
    ]
    assert len(rows) == 12
    text = " ".join(pages(folder / "province-ho-chi-minh.pdf"))
    scale = _unit_after(text, caption, unit_word)
    for r in rows:
        period = fmt.period(pd.Period(r["period"], freq="M"))
        cells = [
            fmt.number(float(r[c]) * scale, 1) for c in ("yhat", "lo_80", "hi_80", "lo_95", "hi_95")
        ]
        assert f"{period} ({suffix}) {' '.join(cells)}" in text


def test_twelve_month_total_equals_the_csv_sum(reports):
    fmt = Formatter("vi")
    rows = read_csv(reports / "vi" / "national.csv")
    total = [r for r in rows if r["level"] == "national/total/total"]
    fc12 = sum(float(r["yhat"]) for r in total)
    growth = float(total[0]["growth_12"])
    text = " ".join(pages(reports / "vi" / "national.pdf"))
    scale = _unit_after(text, "Dự báo giá trị tiêu thụ 3, 6 và 12 tháng", "ĐVT")
    row = re.search(
        r"Bảng \d+\. Dự báo giá trị tiêu thụ 3, 6 và 12 tháng.*?Tổng ([^A-Za-zĐ]+)", text
    )
    assert row
    cells = row.group(1).split()
    assert cells[4] == fmt.number(fc12 * scale, 1)
    assert cells[5] == fmt.pct(growth, 1)


def test_export_market_table_shows_destinations(reports):
    text = " ".join(pages(reports / "vi" / "national.pdf"))
    assert "EU (27 nước)" in text and "Hoa Kỳ" in text and "Nhật Bản" in text
    en = " ".join(pages(reports / "en" / "national.pdf"))
    assert "United States" in en and "Unit: USD million" in en


def test_no_label_when_the_data_are_not_synthetic(result):
    real = dataclasses.replace(result, synthetic=False)
    data = ReportData(real)
    pdf = render_pdf(ViewBuilder(data).build(province_scope("Huế")), data, Wording("vi"))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = [" ".join(p.extract_text().split()) for p in reader.pages]
    assert not any(LABEL["vi"] in page or "SYNTHETIC" in page for page in text)


def test_pdf_bytes_are_reproducible_and_embed_dejavu(result):
    data = ReportData(result)
    builder = ViewBuilder(data)
    first = render_pdf(builder.build(national()), data, Wording("en"))
    render_pdf(builder.build(province_scope("Huế")), data, Wording("en"))  # reuse the grid
    again = render_pdf(builder.build(national()), data, Wording("en"))
    assert first == again
    assert b"DejaVuSans" in first
    assert b"CreationDate (D:20260115030000Z" in first


def test_charts_use_matplotlib_fonts_and_reused_grids_match_fresh_ones():
    assert charts.font_path().is_relative_to(Path(matplotlib.get_data_path()))
    found = matplotlib.font_manager.findfont("DejaVu Sans", fallback_to_default=False)
    assert Path(found).is_relative_to(Path(matplotlib.get_data_path()))
    idx = pd.period_range("2024-01", periods=24, freq="M")
    fidx = pd.period_range("2026-01", periods=12, freq="M")
    text = charts.ChartText(
        number=str,
        month_label=lambda p: f"T{p.month}",
        unit="u",
        words={
            "actual": "a",
            "forecast": "f",
            "band": "{level}%",
            "tet": "Tết",
            "total": "t",
            "domestic": "d",
            "export": "e",
            "lq_line": "l",
        },
    )

    def panels(k):
        fc = pd.DataFrame({"yhat": range(k, k + 12)}, index=fidx, dtype=float)
        for lv in (80, 95):
            fc[f"lo_{lv}"], fc[f"hi_{lv}"] = fc["yhat"] - lv / 20, fc["yhat"] + lv / 20
        hist = pd.Series(range(k, k + 24), index=idx, dtype=float)
        return [(f"panel {i}", hist * (i + 1), fc * (i + 1)) for i in range(5)]

    charts_grid.clear_templates()
    fresh = charts_grid.fan_grid(panels(1), (80, 95), text)
    charts_grid.fan_grid(panels(50), (80, 95), text)
    reused = charts_grid.fan_grid(panels(1), (80, 95), text)
    assert fresh.tobytes() == reused.tobytes()
    png = charts.to_png(fresh)
    assert png.startswith(b"\x89PNG") and b"Software" not in png and b"tIME" not in png

    # Long titles stay within their panel (the right-hand one ran past the figure's edge
    # when they were cut by a count of characters), on two lines at most.
    titles = [
        "Thủy tinh và các sản phẩm từ thủy tinh",
        "Sản xuất đồ gỗ, mây tre đan, gốm sứ, thủy tinh, dệt may, sợi, thêu ren, đan lát",
        "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW",
        "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW and more words",
    ]
    charts_grid.fan_grid(
        [(t, h, fc) for t, (_, h, fc) in zip(titles, panels(1)[:4], strict=True)], (80, 95), text
    )
    template = next(reversed(charts_grid._TEMPLATES.values()))
    renderer = template.fig.canvas.get_renderer()
    shown = []
    for panel in template.panels[:4]:
        box, axes = panel.title.get_window_extent(renderer), panel.ax.get_window_extent(renderer)
        assert box.x1 <= axes.x1 + 0.5
        shown.append(panel.title.get_text())
    assert all(t.count("\n") <= 1 for t in shown)
    assert shown[1].endswith("…") and shown[2].endswith("…")
    assert shown[0].replace("\n", " ") == titles[0]


def test_quarterly_runs_get_quarter_labels(result, tmp_path):
    from report_fixtures import to_quarterly

    paths = write_reports(
        to_quarterly(result),
        tmp_path,
        scopes=("national", "province"),
        names=["Huế"],
        formats=("pdf", "csv"),
    )
    text = " ".join(pages(tmp_path / "province-hue.pdf"))
    assert "Kỳ báo cáo: quý IV/2025" in text
    assert "quý I/2026 (dự báo)" in text
    assert "+/- so với quý III/2025 (%)" in text
    assert len([p for p in paths if p.suffix == ".pdf"]) == 2
    rows = read_csv(tmp_path / "national.csv")
    assert {r["period"] for r in rows} == {"2026Q1", "2026Q2", "2026Q3", "2026Q4"}


def test_many_categories_cap_the_charts_and_say_so(result, monkeypatch):
    import importlib

    # the package re-exports section functions under the same names as their modules
    pdf_forecast = importlib.import_module("forecast.reports.pdf.forecast")
    pdf_linkage = importlib.import_module("forecast.reports.pdf.linkage")

    data = ReportData(result)
    view = ViewBuilder(data).build(province_scope("Hồ Chí Minh"))
    n_cats = int((view.overview["kind"] == "category").sum())
    assert n_cats > 1
    monkeypatch.setattr(pdf_forecast, "MAX_CATEGORY_FANS", 1)
    monkeypatch.setattr(pdf_linkage, "MAX_LQ_BARS", 1)
    pdf = render_pdf(view, data, Wording("en"))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert f"Charts for the 1 largest of {n_cats} categories" in text
    assert "The 1 highest LQs of" in text


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_no_table_cell_breaks_a_word_across_lines(result, tmp_path, monkeypatch, lang):
    """Every word of every table cell (headings included) fits its column: the English
    forecast table once printed "Probabili / ty of / decline (%)" in every report."""
    from forecast.reports.pdf import table

    broken: set[tuple[str, float]] = set()
    wrap = table.wrap

    def spy(pdf, text, width):
        for word in text.replace("\n", " ").split(" "):
            if pdf.get_string_width(word) > width:
                broken.add((word, round(width, 1)))
        return wrap(pdf, text, width)

    monkeypatch.setattr(table, "wrap", spy)
    write_reports(result, tmp_path, names=["DBSH", "Hồ Chí Minh", "Huế"], lang=lang)
    assert len(list(tmp_path.glob("*.pdf"))) == 4
    assert not broken


@pytest.mark.parametrize(
    ("lang", "span"), [("vi", "T1/2015 – T12/2025"), ("en", "Jan 2015 – Dec 2025")]
)
def test_source_table_names_periods_in_the_report_language(reports, lang, span):
    """The sources table gave the batches' periods as stored (``2015-01 – 2025-12``)."""
    text = " ".join(pages(reports / lang / "national.pdf"))
    assert span in text
    assert "2015-01" not in text


def test_charts_leave_the_callers_matplotlib_settings_alone():
    # The style applies while a chart is built and drawn, not from the import on: checked
    # in a fresh interpreter, against whatever settings it starts with.
    script = """
import matplotlib, pandas as pd
keys = ["font.size", "axes.spines.top", "axes.grid", "legend.frameon"]
before = {k: matplotlib.rcParams[k] for k in keys}
backend = matplotlib.get_backend()
from forecast.reports import charts
import forecast.publish
idx = pd.period_range("2024-01", periods=12, freq="M")
text = charts.ChartText(number=str, month_label=str, unit="u", words={"actual": "a", "tet": "T"})
image = charts.history_chart({"actual": pd.Series(range(12), index=idx, dtype=float)}, text)
assert image.size[0] > 0
assert {k: matplotlib.rcParams[k] for k in keys} == before, (before, dict(matplotlib.rcParams))
assert matplotlib.get_backend() == backend
assert all(charts.STYLE[k] != before[k] for k in keys)  # the style differs from them
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
