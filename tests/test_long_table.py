"""The long-table reader of predict-csv and backtest --input: the file forms ingest takes."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from text_encodings import cp1258

from forecast.data.long_table import read_long_table
from forecast.errors import DataError

EXPECTED = pd.DataFrame(
    {
        "unique_id": ["Bắc Ninh gỗ", "Bắc Ninh gỗ", "Bắc Ninh gỗ", "b"],
        "ds": ["2024-01-01", "2024-02-01", "2024-03-01", "2024-01-01"],
        "y": [1234.5, 0.25, np.nan, 7.0],
    }
)


def _text(delimiter: str, numbers: tuple[str, str, str, str]) -> str:
    rows = [["unique_id", "ds", "y"]] + [
        [uid, ds, value]
        for uid, ds, value in zip(EXPECTED["unique_id"], EXPECTED["ds"], numbers, strict=True)
    ]
    return "".join(delimiter.join(r) + "\n" for r in rows)


def _check(frame: pd.DataFrame, lines: list[int] | None = None) -> None:
    pd.testing.assert_frame_equal(
        frame.reset_index(drop=True), EXPECTED, check_dtype=False, check_index_type=False
    )
    if lines is not None:  # index = file line - 2, where Panel.from_long looks for it
        assert list(frame.index + 2) == lines


@pytest.mark.parametrize(
    ("name", "delimiter", "numbers", "encoding"),
    [
        ("plain.csv", ",", ("1234.5", "0.25", "", "7"), "utf-8"),
        ("excel_vi.csv", ";", ("1.234,5", "0,25", "-", "7"), "cp1258"),
        ("bom.csv", ";", ("1234,5", "0,25", "NaN", "7"), "utf-8-sig"),
        ("sheet.tsv", "\t", ("1,234.5", ".25", "#N/A", "7"), "utf-16"),
    ],
)
def test_csv_forms_read_to_the_same_table(
    tmp_path: Path, name: str, delimiter: str, numbers: tuple[str, str, str, str], encoding: str
) -> None:
    path = tmp_path / name
    text = _text(delimiter, numbers)
    path.write_bytes(cp1258(text) if encoding == "cp1258" else text.encode(encoding))
    table = read_long_table(path)
    _check(table.frame, [2, 3, 4, 5])
    assert table.warnings == ()


def test_gzip_title_rows_blank_lines_and_quoted_line_breaks_keep_file_lines(
    tmp_path: Path,
) -> None:
    text = (
        "Doanh thu theo tháng\nĐơn vị tính: triệu đồng\n\n"
        'unique_id,ds,y,note\n"Bắc Ninh gỗ",2024-01-01,1234.5,"two\nlines"\n'
        "Bắc Ninh gỗ,2024-02-01,0.25,\n\nBắc Ninh gỗ,2024-03-01,,\n  \nb,2024-01-01,7,\n"
    )
    path = tmp_path / "sales.csv.gz"
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    _check(read_long_table(path).frame, [5, 7, 9, 11])
    bad = text.replace("b,2024-01-01,7", "b,2024-01-01,7 tấn")
    path.write_bytes(gzip.compress(bad.encode("utf-8")))
    with pytest.raises(DataError, match=r"sales.csv.gz, row 11, column 'y': not a number"):
        read_long_table(path)


def test_xlsx_with_typed_cells_and_a_title_row(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Doanh thu CNNT (dữ liệu tổng hợp)"])
    sheet.append(["Unique_ID", "DS", "Y"])  # header case does not matter
    for uid, ds, y in zip(EXPECTED["unique_id"], EXPECTED["ds"], EXPECTED["y"], strict=True):
        sheet.append([uid, dt.datetime.fromisoformat(ds), None if np.isnan(y) else y])
    path = tmp_path / "sales.xlsx"
    book.save(path)
    _check(read_long_table(path).frame, [3, 4, 5, 6])


def test_parquet_with_datetime_dates_and_integer_ids(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "unique_id": [10, 10, 11],
            "ds": pd.to_datetime(["2024-01-01 00:00", "2024-02-01 00:00", "2024-01-01 06:00"]),
            "y": [1.0, np.nan, 3.0],
        }
    )
    path = tmp_path / "sales.parquet"
    frame.to_parquet(path)
    got = read_long_table(path).frame
    assert list(got["unique_id"]) == ["10", "10", "11"]
    # One format for the column, so that every value parses as the first does.
    assert list(got["ds"]) == ["2024-01-01 00:00:00", "2024-02-01 00:00:00", "2024-01-01 06:00:00"]
    np.testing.assert_array_equal(got["y"], [1.0, np.nan, 3.0])


def test_ambiguous_thousands_follow_the_delimiter_and_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "vi.csv"
    path.write_text("unique_id;ds;y\na;2024-01-01;1.234\na;2024-02-01;2.500\n", encoding="utf-8")
    table = read_long_table(path)
    assert list(table.frame["y"]) == [1234.0, 2500.0]
    assert len(table.warnings) == 1
    assert table.warnings[0] == (
        "vi.csv: '1.234' (row 2) and numbers like it were read as 1234, taking '.' for a "
        "thousands separator (nothing in the file decides it); write numbers without "
        "thousands separators if that is wrong"
    )
    path.write_text("unique_id,ds,y\na,2024-01-01,1.234\na,2024-02-01,2.5\n", encoding="utf-8")
    table = read_long_table(path)  # 2.5 decides: decimal point
    assert list(table.frame["y"]) == [1.234, 2.5] and table.warnings == ()
    path.write_text("unique_id,ds,y\na,2024-01-01,1.250\na,2024-02-01,2.125\n", encoding="utf-8")
    table = read_long_table(path)  # nothing decides; a comma file defaults to the point
    assert list(table.frame["y"]) == [1.25, 2.125]
    assert table.warnings[0].startswith(
        "vi.csv: '1.250' (row 2) and numbers like it were read as 1.25, taking '.' for a "
        "decimal mark"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "unique_id;ds;y\na;2024-01-01;1234,5\na;2024-02-01;1234.5\n",
            "vi.csv, column 'y': the file mixes decimal conventions: '1234,5' (row 2) uses a "
            "decimal comma but '1234.5' (row 3) a decimal point",
        ),
        (
            "unique_id,ds,y\na,2024-01-01,1\n,2024-02-01,2\na,,3\n",
            "vi.csv, row 3, column 'unique_id': unique_id is empty",
        ),
        ("unique_id,ds,y\na,2024-01-01,1\na,,3\n", "vi.csv, row 3, column 'ds': ds is empty"),
        (
            "unique_id,ds,y\na,2024-01-01,1,234\n",
            "vi.csv, row 2: row has more cells than the 3 of the header (value: '234')",
        ),
        (
            "id,date,value\na,2024-01-01,1\n",
            "vi.csv: missing column(s) unique_id, ds, y; found id, date, value",
        ),
        ("unique_id,ds,y,Y\na,2024-01-01,1,2\n", "vi.csv, row 1: the header names column(s) y"),
        ("unique_id,ds,y\na,2024-01-01,-inf\n", "row 2, column 'y': not a finite number"),
    ],
)
def test_bad_tables_name_the_row_column_and_fix(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "vi.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_long_table(path)
    assert message in " ".join(str(info.value).split())
    assert "Fix:" in str(info.value)


def test_rows_of_separators_are_skipped_and_extra_columns_ignored(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("ds,note,y,unique_id\n2024-01-01,x,5,a\n,,,\n2024-02-01,,6,a\n")
    got = read_long_table(path).frame
    assert list(got.columns) == ["unique_id", "ds", "y"]
    assert list(got["y"]) == [5.0, 6.0] and list(got.index + 2) == [2, 4]


# --- review 7: what the first version of this reader got wrong ------------------------------


def test_typed_timestamps_with_times_of_day_forecast_hourly(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from forecast.cli import app

    stamps = pd.date_range("2024-01-01", periods=72, freq="h")
    frame = pd.DataFrame({"unique_id": "a", "ds": stamps, "y": np.arange(72) % 24 + 10.0})
    for path in (tmp_path / "hourly.parquet", tmp_path / "hourly.xlsx"):
        if path.suffix == ".xlsx":
            frame.to_excel(path, index=False)
        else:
            frame.to_parquet(path)
        out = tmp_path / f"{path.stem}{path.suffix}.out.csv"
        args = ["predict-csv", str(path), "-h", "2", "--models", "naive", "-o", str(out)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.stderr
        assert list(pd.read_csv(out)["ds"]) == ["2024-01-04 00:00:00", "2024-01-04 01:00:00"]


def test_a_stray_byte_in_a_utf8_file_is_refused_not_read_as_cp1258(tmp_path: Path) -> None:
    rows = "".join(f"Bắc Ninh gỗ,2024-{m:02d}-01,{m}\n" for m in range(1, 13))
    path = tmp_path / "mixed.csv"
    path.write_bytes(("unique_id,ds,y\n" + rows).encode("utf-8") + b"Ha N\xe0m,2024-01-01,1\n")
    with pytest.raises(DataError, match=r"mixed.csv, row 14: byte 0xE0 is not UTF-8"):
        read_long_table(path)
    legacy = tmp_path / "legacy.csv"  # a whole cp1258 file is still read as cp1258
    legacy.write_bytes(cp1258("unique_id,ds,y\n" + rows))
    assert set(read_long_table(legacy).frame["unique_id"]) == {"Bắc Ninh gỗ"}


def test_quotes_long_cells_and_the_error_cap(tmp_path: Path) -> None:
    body = "".join(f"a,2024-01-{d:02d},{d}\n" for d in range(1, 29))
    path = tmp_path / "q.csv"
    path.write_text("unique_id,ds,y\n" + body[:40] + 'b,2024-01-01,"12.5\n' + body[40:])
    with pytest.raises(DataError, match=r"q.csv, row 4: this row cannot be read as CSV"):
        read_long_table(path)
    path.write_text('unique_id,ds,y,note\na,2024-01-01,1,"' + "x" * 200_000 + '"\n')
    assert list(read_long_table(path).frame["y"]) == [1.0]
    path.write_text("unique_id,ds,y\n" + "".join(f"a,{i},bad\n" for i in range(80)))
    with pytest.raises(DataError) as info:
        read_long_table(path)
    assert len(info.value.problems) == 50 and info.value.truncated


def test_workbook_notes_beside_the_table_and_excel_serial_dates(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["unique_id", "ds", "y", None, "Ghi chú"])
    for k, month in enumerate(pd.date_range("2022-01-01", periods=24, freq="MS")):
        serial = (month - pd.Timestamp("1899-12-30")).days  # a date cell that lost its format
        sheet.append(["a", serial, 10 + k, None, "số liệu sơ bộ" if k == 0 else None])
    path = tmp_path / "serial.xlsx"
    book.save(path)
    table = read_long_table(path)
    assert list(table.frame["ds"][:2]) == ["2022-01-01", "2022-02-01"]
    assert "read as Excel date serials" in table.warnings[0]


def test_parquet_decimals_an_id_index_and_duplicate_columns(tmp_path: Path) -> None:
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    values = [decimal.Decimal("100.50"), decimal.Decimal("7")]
    table = pa.table(
        {
            "unique_id": ["a", "a"],
            "ds": ["2024-01-01", "2024-02-01"],
            "y": pa.array(values, pa.decimal128(10, 2)),
        }
    )
    pq.write_table(table, tmp_path / "dec.parquet")
    assert list(read_long_table(tmp_path / "dec.parquet").frame["y"]) == [100.5, 7.0]
    frame = pd.DataFrame({"unique_id": ["a"], "ds": ["2024-01-01"], "y": [1.0]})
    frame.set_index("unique_id").to_parquet(tmp_path / "indexed.parquet")
    assert list(read_long_table(tmp_path / "indexed.parquet").frame["unique_id"]) == ["a"]
    frame.assign(Y=2.0).to_parquet(tmp_path / "dup.parquet")
    with pytest.raises(DataError, match=r"the header names column\(s\) y more than once"):
        read_long_table(tmp_path / "dup.parquet")


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (("12 345,5", "1E+05"), [12345.5, 100000.0]),  # grouped thousands; exponent: no mark
        (("1,5E+11", "0,5"), [1.5e11, 0.5]),
        (("<NA>", "5"), [np.nan, 5.0]),
    ],
)
def test_numbers_in_semicolon_files(
    tmp_path: Path, cells: tuple[str, str], expected: list[float]
) -> None:
    path = tmp_path / "n.csv"
    path.write_text(f"unique_id;ds;y\na;2024-01-01;{cells[0]}\na;2024-02-01;{cells[1]}\n")
    np.testing.assert_array_equal(read_long_table(path).frame["y"], expected)


def test_digits_split_by_a_space_are_not_a_number(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("unique_id,ds,y\na,2024-01-01,1 5\n")
    with pytest.raises(DataError, match=r"row 2, column 'y': not a number \(value: '1 5'\)"):
        read_long_table(path)


def test_a_file_over_the_size_limit_says_what_to_do_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import forecast.data.readers

    path = tmp_path / "big.csv"
    path.write_text("unique_id,ds,y\n" + "a,2024-01-01,1\n" * 100)
    monkeypatch.setattr(forecast.data.readers, "MAX_INPUT_BYTES", 1000)
    with pytest.raises(DataError, match="forecast fewer series per run") as info:
        read_long_table(path)
    assert "ingest them together" not in str(info.value)


# --- review 8 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("unique_id,ds,y\n\na,2024-01-01,1\na,2024-02-01,2\n", [3, 4]),  # blank after header
        ("unique_id,ds,y\r\n\r\na,2024-01-01,1\r\na,2024-02-01,2\r\n", [3, 4]),
        ("Title\r\runique_id,ds,y\ra,2024-01-01,1\r\ra,2024-02-01,2\r", [4, 6]),  # CR only
        ("unique_id,ds,y\na,2024-01-01,1\na,2024-02-01,2\n\n\n", [2, 3]),
        ("unique_id,ds,y,\na,2024-01-01,1,\na,2024-02-01,2", [2, 3]),  # no final newline
    ],
)
def test_every_row_is_read_at_its_line(tmp_path: Path, text: str, lines: list[int]) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode("utf-8"))
    frame = read_long_table(path).frame
    assert list(frame["y"]) == [1.0, 2.0]
    assert list(frame.index + 2) == lines


@pytest.mark.parametrize(
    "data",
    [
        "unique_id,ds,y\n« Café »\xa0x,2024-01-01,1\n".encode("cp1252"),
        "unique_id,ds,y\n„Spaß“,2024-01-01,1\n".encode("cp1252"),
        cp1258("unique_id,ds,y\n“Mỹ” Tho,2024-01-01,1\n"),
        cp1258("unique_id,ds,y\nPhủ–Lý,2024-01-01,1\n"),
    ],
)
def test_legacy_files_with_few_accents_are_not_taken_for_broken_utf8(
    tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "legacy.csv"
    path.write_bytes(data)
    assert len(read_long_table(path).frame) == 1


def test_stray_bytes_are_named_at_their_line_with_a_bom_or_cr_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(b"\xef\xbb\xbfunique_id,ds,y\na,2024-01-01,1\nb\xe0,2024-01-01,2\n")
    with pytest.raises(DataError, match="row 3: byte 0xE0 is not UTF-8, although the BOM"):
        read_long_table(path)
    rows = "".join(f"Bắc Ninh gỗ,2024-{m:02d}-01,{m}\r" for m in range(1, 4))
    path.write_bytes(("unique_id,ds,y\r" + rows).encode() + b"x\xe0,2024-01-01,1\r")
    with pytest.raises(DataError, match="row 5: byte 0xE0 is not UTF-8"):
        read_long_table(path)


def test_a_note_under_a_workbook_table_is_skipped_and_sheet_is_for_workbooks(
    tmp_path: Path,
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["unique_id", "ds", "y"])
    sheet.append(["a", "2024-01-01", 1])
    sheet.append([])
    sheet.append(["Nguồn: Sở Công Thương, số liệu sơ bộ"])
    path = tmp_path / "note.xlsx"
    book.save(path)
    assert list(read_long_table(path).frame["unique_id"]) == ["a"]
    csv_path = tmp_path / "t.csv"
    csv_path.write_text("unique_id,ds,y\na,2024-01-01,1\n")
    with pytest.raises(DataError, match="this is a CSV file, not an XLSX workbook"):
        read_long_table(csv_path, sheet="Sheet1")
