"""Messages for broken headers: unsupported separators, misspelt names, unheaded data."""

from __future__ import annotations

from datetime import date

import openpyxl
import pytest

from forecast.data.geography import suggest_province
from forecast.data.readers import read_table
from forecast.data.schema import validate
from forecast.errors import DataError

ROW = ["2024-01", "Hà Nội", "XK_WOOD", "export", "1", "USD"]
COLUMNS = ["period", "province", "category", "market", "value", "unit"]


def _problems(path):
    with pytest.raises(DataError) as info:
        validate(read_table(path), today=date(2026, 1, 15))
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(("separator", "shown"), [("|", "'|'"), (" ", "spaces"), (":", "':'")])
def test_an_unsupported_separator_is_named(tmp_path, separator, shown):
    path = tmp_path / "f.csv"
    path.write_text(separator.join(COLUMNS) + "\n" + separator.join(ROW) + "\n", "utf-8")
    assert _problems(path) == [
        f"f.csv: the header row is separated by {shown}, which is not a supported column "
        f"separator (value: {separator.join(COLUMNS)!r}). Fix: save the file with commas, "
        "semicolons or tabs between the columns (in Excel: Save As > CSV UTF-8)"
    ]


def test_a_title_split_at_its_spaces_is_not_taken_for_a_header(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("Giá trị xuất khẩu theo tỉnh năm 2024\n1,2,3\n", "utf-8")
    assert _problems(path)[0].startswith("f.csv: no header row found in the first 30 rows")


def test_a_misspelt_header_is_suggested_for_the_missing_column(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("kỳ,tỉnhh,ngành hàng,thị trường,giá trị,đơn vị\n" + ",".join(ROW), "utf-8")
    assert _problems(path) == [
        "f.csv: missing required column 'province' (recognised columns: 'kỳ', 'ngành hàng', "
        "'thị trường', 'giá trị', 'đơn vị'). Fix: if the column headed 'tỉnhh' holds it, "
        "rename it 'province'; otherwise add a column headed 'province', 'tỉnh', "
        "'tỉnh thành', 'tỉnh/thành phố', 'tỉnh, thành phố', e.g. Hà Giang, Tuyên Quang, 08 "
        "or Toàn quốc"
    ]


def test_an_unrelated_extra_header_is_not_suggested(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("period,ghi chú,category,market,value,unit\n" + ",".join(ROW), "utf-8")
    (problem,) = _problems(path)
    assert "Fix: add a column headed 'province'" in problem


def test_cells_under_an_empty_header_cell_are_reported(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["period", "province", "category", "market", "value", None, "unit"])
    sheet.merge_cells("E1:F1")  # one header cell over two columns of numbers
    sheet.append(["2024-01", "Hà Nội", "XK_WOOD", "export", 1, 2, "USD"])
    sheet.append(["2024-02", "Hà Nội", "XK_WOOD", "export", 1, None, "USD"])
    book.save(tmp_path / "f.xlsx")
    table = validate(read_table(tmp_path / "f.xlsx"), today=date(2026, 1, 15))
    assert table.frame["value"].tolist() == [1.0, 1.0]
    assert table.warnings == (
        "ignored 1 filled cell(s) in column F, which has no header (first: row 2, '2'); "
        "give the column a header if it holds data",
    )


def test_a_blank_cell_is_not_shown_as_an_empty_value(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(",".join(COLUMNS) + "\n2024-01,Hà Nội,XK_WOOD,export,  ,USD\n", "utf-8")
    assert _problems(path) == [
        "f.csv, row 2, column 'value': value is missing. Fix: enter the value (0 if nothing "
        "was sold) or delete the row"
    ]


@pytest.mark.parametrize("mark", ["-", "..", "NaN", "#N/A", "null"])
def test_a_no_data_mark_is_a_missing_value_not_a_malformed_number(tmp_path, mark):
    path = tmp_path / "f.csv"
    path.write_text(",".join(COLUMNS) + f"\n2024-01,Hà Nội,XK_WOOD,export,{mark},USD\n", "utf-8")
    assert _problems(path) == [
        f"f.csv, row 2, column 'value': value is missing (the cell holds a no-data mark) "
        f"(value: {mark!r}). Fix: delete the row if there is no data, or enter the value "
        "(0 if nothing was sold)"
    ]


def test_a_no_data_mark_in_a_wide_table_says_to_leave_the_cell_empty(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("province,category,market,unit,2024\nHà Nội,XK_WOOD,export,USD,NaN\n", "utf-8")
    (problem,) = _problems(path)
    assert problem.endswith(
        "Fix: leave the cell empty if there is no data, or enter the value (0 if nothing was sold)"
    )


def test_a_no_data_mark_as_quantity_means_no_quantity(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(
        ",".join([*COLUMNS, "quantity"]) + "\n2024-01,Hà Nội,XK_WOOD,export,5,USD,-\n", "utf-8"
    )
    frame = validate(read_table(path), today=date(2026, 1, 15)).frame
    assert frame["value"].tolist() == [5.0] and frame["quantity"].isna().all()


def test_minus_infinity_is_reported_once_as_infinite(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(",".join(COLUMNS) + "\n2024-01,Hà Nội,XK_WOOD,export,-1e999,USD\n", "utf-8")
    assert _problems(path) == [
        "f.csv, row 2, column 'value': value is infinite or implausibly large (over 10^15) "
        "(value: '-1e999'). Fix: check the unit and the decimal separator"
    ]


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("Atlantis", None),  # was 'Gia Lai'
        ("=cmd|' /C calc'!A0", None),  # was 'Đắk Lắk'
        ("Ha Giangg", "Hà Giang"),
        ("Vac Ninh", "Bắc Ninh"),  # close enough to differ in the first letter
        ("Daklak province", "Đắk Lắk"),
    ],
)
def test_province_suggestions_are_close_or_start_alike(typed, suggested):
    assert suggest_province(typed) == suggested


def test_one_further_row_with_the_same_bad_value_is_named_in_the_singular(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(
        ",".join(COLUMNS) + "\n" + "2024-01,Hà Nội,XK_WOOD,export,-3,USD\n"
        "2024-02,Hà Nội,XK_WOOD,export,-3,USD\n",
        "utf-8",
    )
    (problem,) = _problems(path)
    assert problem.startswith("f.csv, row 2, column 'value': value is negative (also row 3) ")
