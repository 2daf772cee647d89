"""Readers: formats, encodings, delimiters, decimal comma, title rows, layouts."""

import gzip
import re
import zipfile
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest
from parts_fixtures import totals
from text_encodings import cp1258

from forecast.data.readers import decode_text, read_table
from forecast.data.schema import validate
from forecast.errors import DataError

TODAY = date(2026, 1, 15)
ROWS = [
    ("2024-01", "Hà Nội", "Gốm sứ mỹ nghệ", "Trong nước", "", "1234.5", "triệu đồng"),
    ("2024-02", "Hà Nội", "XK_CERAMIC", "Xuất khẩu", "Nhật Bản", "99", "nghìn USD"),
    ("2024-02", "Thừa Thiên Huế", "XK_WOOD", "export", "Hoa Kỳ", "7", "nghìn USD"),
]
ROWS = [(r[0], r[1], "XK_CERAMIC" if r[2] == "Gốm sứ mỹ nghệ" else r[2], *r[3:]) for r in ROWS]
HEADER = ("kỳ", "tỉnh", "ngành hàng", "thị trường", "nước nhập khẩu", "giá trị", "đơn vị")


def csv_text(rows=ROWS, sep=",", header=HEADER):
    return "\n".join(sep.join(r) for r in [header, *rows]) + "\n"


def frame_of(path, **kw):
    return validate(read_table(path, **kw), today=TODAY).frame


def expected_values():
    return {("01", "2024-01"): 1234.5, ("01", "2024-02"): 99.0, ("46", "2024-02"): 7.0}


def assert_standard(frame):
    got = {(r.province_code, r.period): r.value for r in frame.itertuples()}
    assert got == expected_values()
    assert set(frame["destination"]) == {"", "JP", "US"}


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: t.encode("utf-8-sig"),
        lambda t: t.encode("utf-16"),  # with BOM, native (LE)
        lambda t: b"\xfe\xff" + t.encode("utf-16-be"),
        lambda t: t.encode("utf-16-le"),  # no BOM
        cp1258,
    ],
    ids=["utf8", "utf8-bom", "utf16-le-bom", "utf16-be-bom", "utf16-le-nobom", "cp1258"],
)
def test_encodings(tmp_path, encode):
    path = tmp_path / "f.csv"
    path.write_bytes(encode(csv_text()))
    assert_standard(frame_of(path))


def test_cp1252_fallback(tmp_path):
    # 0x8A (Š) is undefined in cp1258, so only cp1252 decodes this Western file.
    text = (
        "period,province,category,market,value,unit,note\n"
        "2024-01,Ha Noi,XK_WOOD,export,1,USD,Škoda\n"
    )
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode("cp1252"))
    table = read_table(path)
    assert "'note'" in table.notes[0]
    assert frame_of(path)["value"].tolist() == [1.0]


def test_a_western_file_without_vietnamese_tones_is_read_as_cp1252():
    """cp1258 reads 0xE3 as ă, cp1252 as ã: a file without a single tone mark is not
    Vietnamese, so São Paulo stays São Paulo; with tones, the same byte is ă."""
    text = "period,province,note\n2024-01,01,{}\n"
    assert decode_text("f.csv", text.format("São Paulo").encode("cp1252")).endswith("São Paulo\n")
    vietnamese = cp1258(text.format("Thăng Long, Hà Nội"))
    assert decode_text("f.csv", vietnamese).endswith("Thăng Long, Hà Nội\n")


def test_a_utf8_file_with_a_stray_byte_is_refused_naming_the_line(tmp_path):
    """Read as cp1258, every Vietnamese name of the file would come out garbled."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(csv_text().encode("utf-8") + b"2024-03,H\xe0 N\xf4i,XK_WOOD,export,,1,USD\n")
    with pytest.raises(DataError, match=r"mixed.csv, row 5: byte 0xE0 is not UTF-8"):
        read_table(path)


def test_spaces_group_only_thousands(tmp_path):
    rows = [(*ROWS[0][:5], "12 345,5", ROWS[0][6]), (*ROWS[1][:5], "1 5", ROWS[1][6])]
    path = tmp_path / "spaces.csv"
    path.write_text(csv_text(rows, sep=";"), encoding="utf-8")
    with pytest.raises(DataError, match=r"row 3, column 'giá trị': not a number \(value: '1 5'\)"):
        frame_of(path)
    path.write_text(csv_text(rows[:1], sep=";"), encoding="utf-8")
    assert list(frame_of(path)["value"]) == [12345.5]


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_delimiters_are_sniffed(tmp_path, sep):
    path = tmp_path / "f.csv"
    path.write_text(csv_text(sep=sep), encoding="utf-8")
    assert_standard(frame_of(path))


def test_decimal_comma_and_thousands_in_semicolon_file(tmp_path):
    rows = [
        ("2024-01", "Hà Nội", "XK_WOOD", "export", "", "1.234.567,5", "USD"),
        ("2024-02", "Hà Nội", "XK_WOOD", "export", "", "1234,5", "USD"),
        ("2024-03", "Hà Nội", "XK_WOOD", "export", "", "1.234", "USD"),
    ]
    path = tmp_path / "f.csv"
    path.write_text(csv_text(rows, sep=";"), encoding="utf-8")
    assert frame_of(path)["value"].tolist() == [1234567.5, 1234.5, 1234.0]


def test_plain_decimal_comma_in_comma_separated_file(tmp_path):
    rows = [("2024-01", "Hà Nội", "XK_WOOD", "export", "", '"1234,5"', "USD")]
    path = tmp_path / "f.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    assert frame_of(path)["value"].tolist() == [1234.5]


def test_thousands_separators_with_decimal_point(tmp_path):
    rows = [
        ("2024-01", "Hà Nội", "XK_WOOD", "export", "", '"1,234,567.5"', "USD"),
        ("2024-02", "Hà Nội", "XK_WOOD", "export", "", '"12,345"', "USD"),
    ]
    path = tmp_path / "f.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    assert frame_of(path)["value"].tolist() == [1234567.5, 12345.0]


def test_gzip_csv_is_read_transparently(tmp_path):
    path = tmp_path / "f.csv.gz"
    path.write_bytes(gzip.compress(csv_text().encode("utf-8")))
    assert_standard(frame_of(path))


def test_title_rows_unit_line_and_note_rows(tmp_path):
    text = (
        "Bảng 3. Giá trị sản xuất CNNT\n"
        "Đơn vị tính: triệu đồng\n"
        "\n"
        "Kỳ,Tỉnh,Ngành hàng,Thị trường,Giá trị\n"
        "2024-01,Hà Nội,XK_WOOD,trong nước,5\n"
        "\n"
        "2024-02,Hà Nội,XK_WOOD,trong nước,bad\n"
        "Nguồn: Cục Thống kê,,,,\n"
    )
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8")
    table = read_table(path)
    assert table.default_unit == "triệu đồng"
    assert table.notes == ["skipped 1 note row(s) with text in the first cell only (rows 8)"]
    # Rows are numbered as a spreadsheet shows them, counting title and blank rows.
    with pytest.raises(DataError, match=r"f\.csv, row 7, column 'Giá trị': not a number"):
        validate(table, today=TODAY)


def test_unit_in_value_header_brackets(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(
        "kỳ,tỉnh,ngành hàng,thị trường,giá trị (nghìn USD)\n2024,Hà Nội,XK_WOOD,export,3\n"
    )
    frame = frame_of(path)
    assert frame[["period", "unit"]].values.tolist() == [["2024", "nghìn USD"]]


def workbook(path, rows, *, title="Data", hidden_first=False, extra_sheet=None):
    book = openpyxl.Workbook()
    ws = book.active
    if hidden_first:
        ws.title = "Hidden"
        ws.append(["nothing here"])
        ws.sheet_state = "hidden"
        ws = book.create_sheet(title)
    else:
        ws.title = title
    for row in rows:
        ws.append(list(row))
    if extra_sheet:
        other = book.create_sheet(extra_sheet[0])
        for row in extra_sheet[1]:
            other.append(list(row))
    book.save(path)
    return path


def test_xlsx_with_title_rows_dates_and_numbers(tmp_path):
    rows = [
        ("BÁO CÁO XUẤT KHẨU",),
        (),
        ("Kỳ", "Tỉnh", "Ngành hàng", "Thị trường", "Giá trị", "Đơn vị"),
        (datetime(2024, 1, 1), "Hà Nội", "XK_WOOD", "export", 1.5, "USD"),
        (datetime(2024, 2, 1), 1, "XK_WOOD", "export", 2, "USD"),
        (datetime(2024, 3, 1), "Hà Nội", "XK_WOOD", "export", "x", "USD"),
    ]
    path = workbook(tmp_path / "f.xlsx", rows)
    with pytest.raises(DataError) as info:
        frame_of(path)
    (problem,) = info.value.problems
    assert (problem.row, problem.column, problem.value) == (6, "Giá trị", "x")
    path = workbook(tmp_path / "g.xlsx", rows[:-1])
    frame = frame_of(path)
    assert frame[["period", "province_code", "value"]].values.tolist() == [
        ["2024-01", "01", 1.5],
        ["2024-02", "01", 2.0],
    ]


def test_xlsx_first_visible_sheet_and_sheet_option(tmp_path):
    rows = [
        ("period", "province", "category", "market", "value", "unit"),
        ("2024", "Hà Nội", "XK_WOOD", "export", 1, "USD"),
    ]
    other = ("Other", [rows[0], ("2023", "Hà Nội", "XK_WOOD", "export", 9, "USD")])
    path = workbook(tmp_path / "f.xlsx", rows, hidden_first=True, extra_sheet=other)
    table = read_table(path)
    assert table.sheet == "Data"
    assert frame_of(path, sheet="Other")["value"].tolist() == [9.0]
    with pytest.raises(
        DataError, match=r"there is no sheet named 'Nope'.*one of: 'Hidden', 'Data', 'Other'"
    ):
        read_table(path, sheet="Nope")


def test_wide_xlsx_with_year_headers(tmp_path):
    rows = [
        ("Giá trị xuất khẩu theo tỉnh", None, None, None, None),
        ("Đơn vị tính: nghìn USD", None, None, None, None),
        ("Tỉnh", "Ngành hàng", "Thị trường", 2022, 2023),
        ("Hà Giang", "XK_WOOD", "export", 1, 2),
        ("Tuyên Quang", "XK_WOOD", "export", 10, "-"),
    ]
    table = read_table(workbook(tmp_path / "f.xlsx", rows))
    assert table.layout == "wide"
    frame = totals(validate(table, today=TODAY))
    assert frame[["period", "province_code", "value", "unit"]].values.tolist() == [
        ["2022", "08", 11.0, "nghìn USD"],
        ["2023", "08", 2.0, "nghìn USD"],
    ]


def test_wide_xlsx_with_a_two_row_header_year_over_months(tmp_path):
    """Yearbooks print the year merged over its months: ``Năm 2024`` over ``T1``, ``T2``,
    ``T3``. The lower row is the header, each month taking the year above it (a merged
    cell holds its text in its first column only); it was read as a data row."""
    rows = [
        ("Giá trị tiêu thụ trong nước", None, None, None, None, None, None),
        ("Đơn vị tính: triệu đồng", None, None, None, None, None, None),
        ("Tỉnh", "Ngành hàng", "Thị trường", "Năm 2024", None, None, "Năm 2025"),
        (None, None, None, "T1", "T2", "T3", "T1"),
        ("Hà Nội", "XK_TEA", "domestic", 1, 2, 3, 4),
        ("Huế", "XK_TEA", "domestic", 5, 6, 7, "-4"),
    ]
    path = tmp_path / "f.xlsx"
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(list(row))
    book.active.merge_cells("D3:F3")
    book.save(path)
    with pytest.raises(DataError) as info:
        frame_of(path)
    (problem,) = info.value.problems  # the data rows are numbered as the sheet shows
    assert (problem.row, problem.column, problem.message) == (6, "T1/2025", "value is negative")
    rows[-1] = (*rows[-1][:-1], 8)
    workbook(path, rows)
    frame = frame_of(path).sort_values(["province_code", "period"])
    assert frame[["province_code", "period", "value", "unit"]].values.tolist() == [
        ["01", "2024-01", 1.0, "triệu đồng"],
        ["01", "2024-02", 2.0, "triệu đồng"],
        ["01", "2024-03", 3.0, "triệu đồng"],
        ["01", "2025-01", 4.0, "triệu đồng"],
        ["46", "2024-01", 5.0, "triệu đồng"],
        ["46", "2024-02", 6.0, "triệu đồng"],
        ["46", "2024-03", 7.0, "triệu đồng"],
        ["46", "2025-01", 8.0, "triệu đồng"],
    ]
    # Full periods in the lower row need no year above them; a first data row below a
    # one-row header is never taken for a second header.
    csv_path = tmp_path / "w.csv"
    csv_path.write_text(
        "Tỉnh,Ngành hàng,Thị trường,Đơn vị,Năm 2024,,\n"
        ",,,,T1/2024,T2/2024,T3/2024\n"
        "Hà Nội,XK_WOOD,export,USD,1,2,3\n",
        encoding="utf-8",
    )
    assert frame_of(csv_path)["period"].tolist() == ["2024-01", "2024-02", "2024-03"]
    # A row numbering the columns under the years is not a month row (no 2022-01 out of
    # "1" under 2022), and months under a year must be of that year: either row stays
    # data, refused for its missing province.
    for head, lower in [("2022,2023", "1,2"), ("Năm 2024,", "T1/2023,T2/2023")]:
        csv_path.write_text(
            f"Tỉnh,Ngành hàng,Thị trường,{head},Đơn vị\n,,,{lower},\n"
            "Hà Nội,XK_TEA,export,500,600,USD\n",
            encoding="utf-8",
        )
        with pytest.raises(DataError, match="row 2, column 'Tỉnh': province is missing"):
            frame_of(csv_path)


def test_wide_csv_monthly_and_error_points_at_the_period_column(tmp_path):
    text = (
        "Tỉnh,Ngành hàng,Thị trường,Đơn vị,T1/2024,T2/2024,T3/2024\n"
        "Hà Nội,XK_WOOD,export,USD,1,2,..\n"
        "Huế,XK_WOOD,export,USD,3,,4\n"
    )
    path = tmp_path / "w.csv"
    path.write_text(text, encoding="utf-8")
    frame = frame_of(path).sort_values(["province_code", "period"])
    assert frame[["province_code", "period", "value"]].values.tolist() == [
        ["01", "2024-01", 1.0],
        ["01", "2024-02", 2.0],
        ["46", "2024-01", 3.0],
        ["46", "2024-03", 4.0],
    ]
    path.write_text(text.replace("Huế,XK_WOOD,export,USD,3,,4", "Huế,XK_WOOD,export,USD,3,,-4"))
    with pytest.raises(DataError, match=r"w\.csv, row 3, column 'T3/2024': value is negative"):
        frame_of(path)


def test_wide_quarterly_with_explicit_layout(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(
        "province,category,market,unit,Q1/2024,Q2/2024\nHà Nội,XK_WOOD,export,USD,1,2\n"
    )
    table = read_table(path, layout="wide")
    assert validate(table, today=TODAY).frame["period"].tolist() == ["2024-Q1", "2024-Q2"]


def test_layout_errors(tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text("province,category,market,unit,2023,2024\nHà Nội,XK_WOOD,export,USD,1,2\n")
    with pytest.raises(
        DataError,
        match=re.escape(
            "no 'period' column, but the headers '2023', '2024' are periods: this looks like "
            "a wide table. Fix: use --layout wide"
        ),
    ):
        read_table(wide, layout="long")
    long = tmp_path / "long.csv"
    long.write_text(csv_text())
    with pytest.raises(DataError, match="no period columns found for a wide table"):
        read_table(long, layout="wide")


def test_parquet(tmp_path):
    frame = pd.DataFrame(
        ROWS, columns=["period", "province", "category", "market", "destination", "value", "unit"]
    )
    frame["value"] = frame["value"].astype(float)
    path = tmp_path / "f.parquet"
    frame.to_parquet(path)
    assert_standard(frame_of(path))
    frame.loc[1, "value"] = -1.0
    frame.to_parquet(path)
    with pytest.raises(DataError, match=r"f\.parquet, row 3, column 'value': value is negative"):
        frame_of(path)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "f.csv", "f.csv: the file is empty"),
        (b"\x1f\x8b\x08broken", "f.csv.gz", "looks gzip-compressed but cannot be decompressed"),
        (b"\xd0\xcf\x11\xe0rest", "f.xls", r"old Excel \(.xls\) files are not supported"),
        (b"PAR1garbage", "f.parquet", "not a readable Parquet file"),
        (b"a|b|c\n1|2|3\n", "f.csv", "no header row found in the first 30 rows"),
    ],
)
def test_unreadable_files(tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_table(path)


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "f.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(DataError, match=r"not a readable \.xlsx workbook"):
        read_table(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: cannot read the file"):
        read_table(tmp_path / "nope.csv")


def test_duplicate_columns_and_ragged_rows(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("period,province,category,market,giá trị,trị giá,unit\n")
    with pytest.raises(
        DataError,
        match="two columns mean the same thing \\('giá trị' and 'trị giá' are both 'value'\\)",
    ):
        read_table(path)
    # An unquoted thousands separator shifts the cells: caught, not misread.
    path.write_text(
        "period,province,category,market,value,unit\n2024,Hà Nội,XK_WOOD,export,1,234,USD\n"
    )
    with pytest.raises(
        DataError,
        match=re.escape(
            "f.csv, row 2: row has more cells than the 6 of the header (value: 'USD'). Fix: quote"
        ),
    ):
        read_table(path)
    path.write_text(
        "period,province,category,market,value,unit\n"
        "2024,Hà Nội,XK_WOOD,export,1,USD\n"
        "2025,Hà Nội,XK_WOOD,export,1,234,USD\n"
    )
    with pytest.raises(
        DataError, match=r"f.csv, row 3: row has 7 cells, more than the 6 of the rows above"
    ):
        read_table(path)
