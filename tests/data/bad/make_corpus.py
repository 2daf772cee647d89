"""Write the corpus of bad input files into this folder (run it to regenerate them).

    python tests/data/bad/make_corpus.py

Each file is small and shows one way provincial data arrives broken or hostile. The
expected outcome of every file (the exact error lines, or the documented repair and the
rows stored) is in ``EXPECTED.toml``; ``tests/test_bad_inputs.py`` checks them all. Text
files are written byte for byte (encodings, BOMs, line ends and NULs are the point), so
regenerating them gives the same bytes; XLSX files carry a save time, so their bytes
change but not their content.
"""

from __future__ import annotations

import gzip
import io
import unicodedata
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd

HERE = Path(__file__).resolve().parent
H = "period,province,category,market,value,unit\n"
HD = "period,province,category,market,destination,value,unit\n"
VI = "Kỳ,Tỉnh/Thành phố,Ngành hàng,Thị trường,Giá trị,Đơn vị tính\n"
# Vietnamese tone marks that cp1258 stores as combining characters after the letter.
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258(text: str) -> bytes:
    """``text`` as Vietnamese Windows (cp1258) writes it: base letters, then tone marks."""
    out = []
    for ch in text:
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
            out.append((base + "".join(c for c in parts if c in _TONES)).encode("cp1258"))
    return b"".join(out)


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


def rows(*lines: str, header: str = H) -> bytes:
    return utf8(header + "".join(line + "\n" for line in lines))


def text_files() -> dict[str, bytes]:
    wood = "Hà Nội,XK_WOOD,export"
    return {
        # --- whole-file problems
        "empty.csv": b"",
        "blank_lines.csv": b"\n   \n\t\n\n",
        "header_only.csv": utf8(H),
        "unknown_columns.csv": utf8("Mã,Tên,Ghi chú\n1,Hà Nội,x\n"),
        "misspelt_column.csv": rows(
            "2024-01,Hà Nội,XK_WOOD,export,1,USD",
            header="Kỳ,Tỉnhh,Ngành hàng,Thị trường,Giá trị,Đơn vị tính\n",
        ),
        "missing_columns.csv": utf8("period,province,value\n2024-01,Hà Nội,1\n"),
        "wrong_delimiter.csv": utf8(
            "period|province|category|market|value|unit\n2024-01|Hà Nội|XK_WOOD|export|1|USD\n"
        ),
        "shifted_columns.csv": rows(f"2024-01,{wood},1,234.5,USD", f"2024-02,{wood},17,USD"),
        "unbalanced_quote.csv": rows('2024-01,"Hà Nội,XK_WOOD,export,1,USD'),
        "nul_byte.csv": rows(f"2024-01,{wood},1,USD", "2024-02,Hà Nội,XK_\x00WOOD,export,2,USD"),
        "cr_line_ends.csv": rows(f"2024-01,{wood},1,USD", f"2024-02,{wood},2,USD").replace(
            b"\n", b"\r"
        ),
        "long_title_line.csv": utf8("Báo cáo " + "rất dài " * 6000 + "\n")
        + rows(f"2024-01,{wood},5,USD"),
        # --- numbers
        "mixed_decimals.csv": rows(
            f'2024-01,{wood},"1234,5",USD', f"2024-02,{wood},1234.5,USD", f"2024-03,{wood},7,USD"
        ),
        "thousands_point.csv": rows(
            f'2024-01,{wood},"1,234,567.5",USD',
            f'2024-02,{wood},"1,234.25",USD',
            f"2024-03,{wood},1 234.5,USD",
        ),
        "thousands_comma.csv": rows(
            f"2024-01;{wood.replace(',', ';')};1.234.567,5;USD",
            f"2024-02;{wood.replace(',', ';')};1.234,25;USD",
            f"2024-03;{wood.replace(',', ';')};0,5;USD",
            header=H.replace(",", ";"),
        ),
        "thousands_ambiguous.csv": rows(
            f"2024-01;{wood.replace(',', ';')};1.234;USD",
            f"2024-02;{wood.replace(',', ';')};12;USD",
            header=H.replace(",", ";"),
        ),
        "negative.csv": rows(
            f"2024-01,{wood},-3,USD,5",
            f"2024-02,{wood},4,USD,-1",
            f"2024-03,{wood},-3,USD,5",
            header="period,province,category,market,value,unit,quantity\n",
        ),
        "non_numeric.csv": rows(
            f"2024-01,{wood},abc,USD",
            f"2024-02,{wood},12 USD,USD",
            f"2024-03,{wood},1.2.3,USD",
            f"2024-04,{wood},,USD",
            f"2024-05,{wood},-,USD",
        ),
        "nan.csv": rows(
            f"2024-01,{wood},NaN,USD",
            f"2024-02,{wood},nan,USD",
            f"2024-03,{wood},#N/A,USD",
            f"2024-04,{wood},NULL,USD",
        ),
        "inf.csv": rows(
            f"2024-01,{wood},inf,USD",
            f"2024-02,{wood},-inf,USD",
            f"2024-03,{wood},Infinity,USD",
            f"2024-04,{wood},∞,USD",
            f"2024-05,{wood},1e999,USD",
        ),
        "huge.csv": rows(
            f"2024-01,{wood},1e16,USD",
            f"2024-02,{wood},1{'0' * 400},USD",
            f"2024-03,{wood},999999999999999,USD",
        ),
        # --- encodings
        "utf16le_tab.txt": (
            "\ufeff" + VI.replace(",", "\t") + "T1/2024\tHà Nội\tGỗ và sản "
            "phẩm gỗ\txuất khẩu\t12,5\tnghìn USD\n"
        ).encode("utf-16-le"),
        "utf16be_no_bom.csv": (
            VI + "2024-02,Huế,Gỗ và sản phẩm gỗ,trong nước,7,triệu đồng\n"
        ).encode("utf-16-be"),
        "cp1258.csv": cp1258(
            VI + "2024-03,Đắk Lắk,Gỗ và sản phẩm gỗ,xuất khẩu,3,nghìn USD\n"
            '2024-03,Thừa Thiên Huế,"Sản phẩm gốm, sứ",xuất khẩu,4,nghìn USD\n'
        ),
        "bom_utf8.csv": b"\xef\xbb\xbf"
        + utf8(VI + "Tháng 1/2024,TP. Hồ Chí Minh,XK_WOOD,XK,9,USD\n"),
        # --- duplicates
        "duplicates_identical.csv": rows(
            f"2024-01,{wood},1,USD", f"2024-01,{wood},1,USD", f"2024-02,{wood},2,USD"
        ),
        "duplicates_conflicting.csv": rows(
            f"2024-01,{wood},1,USD", f"2024-02,{wood},2,USD", f"2024-01,{wood},3,USD"
        ),
        # --- periods
        "future_period.csv": rows(
            f"2026-01,{wood},1,USD", f"2026-02,{wood},1,USD", f"2030-01,{wood},1,USD"
        ),
        "mixed_frequencies.csv": rows(
            f"2024-01,{wood},1,USD",
            f"2024-02,{wood},1,USD",
            f"2024-Q1,{wood},3,USD",
            f"2024,{wood},12,USD",
        ),
        "bad_periods.csv": rows(
            f"2024-13,{wood},1,USD", f"hôm qua,{wood},1,USD", f",{wood},1,USD", f"1899,{wood},1,USD"
        ),
        "gaps.csv": rows(f"2024-01,{wood},1,USD", f"2024-02,{wood},2,USD", f"2024-06,{wood},6,USD"),
        # --- names
        "unknown_province.csv": rows(
            "2024-01,Ha Giangg,XK_WOOD,export,1,USD",
            "2024-02,Ha Giangg,XK_WOOD,export,1,USD",
            "2024-03,Ha Giangg,XK_WOOD,export,1,USD",
            "2024-01,Đồng bằng sông Hồng,XK_WOOD,export,1,USD",
            "2024-01,Atlantis,XK_WOOD,export,1,USD",
            "2024-01,,XK_WOOD,export,1,USD",
        ),
        "unknown_category.csv": rows(
            "2024-01,Hà Nội,XK_WOODD,export,1,USD",
            "2024-01,Hà Nội,Gỗ và sản phẩm,export,1,USD",
            "2024-01,Hà Nội,Bánh mì,export,1,USD",
            "2024-01,Hà Nội,XK_WOOD,abroad,1,USD",
        ),
        "destination_problems.csv": rows(
            "2024-01,Hà Nội,XK_WOOD,domestic,Hoa Kỳ,1,USD",
            "2024-01,Toàn quốc,XK_WOOD,export,Hoa Kì,1,USD",
            header=HD,
        ),
        "old_province_after_merger.csv": rows(
            "2025-06,Hà Giang,XK_WOOD,export,1,USD",
            "2025-08,Hà Giang,XK_WOOD,export,2,USD",
            "2025-08,Tuyên Quang,XK_WOOD,export,3,USD",
            "2025-09,Tỉnh Hà Giang,XK_WOOD,export,4,USD",
        ),
        "new_unit_before_merger.csv": rows(
            "2024-08,Tuyên Quang,XK_WOOD,export,10,USD",
            "2024-08,Hà Giang,XK_WOOD,export,5,USD",
            "2024-08,Huế,XK_WOOD,export,7,USD",
        ),
        # --- series shapes
        "one_observation.csv": rows(f"2024-05,{wood},42,USD"),
        "all_zero.csv": rows(*(f"2023-{m:02d},{wood},0,USD" for m in range(1, 13))),
        # --- hostile text
        "formula_text.csv": rows(
            '2024-01,Hà Nội,XK_WOOD,export,1,=HYPERLINK("http://x.example")',
            "2024-01,Hà Nội,XK_TEA,export,1,+cmd|' /C calc'!A0",
            "2024-01,Hà Nội,XK_CERAMIC,export,1,-2+3",
            "2024-01,Hà Nội,XK_RBSC,export,1,@SUM(A1:A9)",
        ),
        "formula_names.csv": rows(
            "2024-01,=cmd|' /C calc'!A0,XK_WOOD,export,1,USD",
            "2024-01,Hà Nội,+XK_WOOD,export,1,USD",
            "2024-01,@SUM(A1),-2+3,export,1,USD",
        ),
        "long_strings.csv": rows(
            f"2024-01,{'Hà Nội' * 2000},XK_WOOD,export,1,USD",
            f"2024-01,Hà Nội,XK_WOOD,export,1,{'triệu đồng ' * 10}",
            f"{'2024-01' * 1000},Hà Nội,XK_WOOD,export,1,USD",
        ),
        "control_in_unit.csv": rows(f"2024-01,{wood},1,US\x07D", f"2024-02,{wood},1,US\x1b[2JD"),
        "control_in_names.csv": rows(
            "2024-01,Hà\x1bNội,XK_\x07WOOD,export,1,USD", "2024-02,Hà\tNội,XK_WOOD,export\x0b,2,USD"
        ),
        "path_like_names.csv": rows(
            "2024-01,../../etc/passwd,XK_WOOD,export,,1,USD",
            "2024-01,Hà Nội,..\\..\\Windows\\System32,export,,1,USD",
            "2024-01,Hà Nội,XK_WOOD,export,/etc/shadow,1,USD",
            header=HD,
        ),
        "sql_like_text.csv": rows(f"2024-01,{wood},1,'); DROP TABLE observations;--"),
        # --- units and the warehouse
        "two_units_in_series.csv": rows(f"2024-01,{wood},1,USD", f"2024-02,{wood},1,VND"),
        "unit_conflict_with_warehouse.csv": rows(
            "2024-01,Cao Bằng,XK_TEA,export,1,USD", "2024-01,Hà Nội,XK_TEA,export,1,USD"
        ),
        "already_stored.csv": rows(
            "2023-03,Cao Bằng,XK_TEA,export,3,thousand USD",
            "2023-01,Cao Bằng,XK_TEA,export,1,thousand USD",
        ),
        # --- wide tables (statistical yearbook layout)
        "wide_bad_cells.csv": utf8(
            "province,category,market,unit,2024-01,2024-02,2024-03\n"
            "Hà Nội,XK_WOOD,export,USD,1,abc,-4\n"
            "Hà Nội,XK_TEA,export,USD,-,2,3\n"
        ),
        "wide_yearbook.csv": utf8(
            "Đơn vị tính: tỷ đồng\n"
            "Tỉnh,Ngành hàng,Thị trường,Năm 2021,Năm 2022,Sơ bộ 2023\n"
            "Hà Nội,Gỗ và sản phẩm gỗ,trong nước,-,..,1.5\n"
            "Bắc Ninh,Gỗ và sản phẩm gỗ,trong nước,2,…,3\n"
            "Nguồn: Niên giám thống kê\n"
        ),
        # --- compressed
        "corrupt.csv.gz": b"\x1f\x8b\x08\x00" + b"not really gzip",
        "old_excel.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        "not_really.xlsx": utf8(H + "2024-01,Hà Nội,XK_WOOD,export,1,USD\n"),
        "broken_zip.xlsx": b"PK\x03\x04" + b"\x00" * 60,
    }


def long_series() -> bytes:
    """100 years of monthly data, gzip-compressed (mtime 0, so the bytes are stable)."""
    lines = [
        f"{y}-{m:02d},Lạng Sơn,XK_RBSC,export,{100 + (y - 1926) + m},thousand USD"
        for y in range(1926, 2026)
        for m in range(1, 13)
    ]
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as fh:
        fh.write(rows(*lines))
    return buf.getvalue()


def nan_inf_parquet() -> bytes:
    frame = pd.DataFrame(
        {
            "period": ["2024-01", "2024-02", "2024-03", "2024-04"],
            "province": ["Hà Nội"] * 4,
            "category": ["XK_WOOD"] * 4,
            "market": ["export"] * 4,
            "value": [1.0, float("nan"), float("inf"), -float("inf")],
            "unit": ["USD"] * 4,
        }
    )
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False, engine="pyarrow")
    return buf.getvalue()


def _book() -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    book.properties.created = book.properties.modified = datetime(2025, 1, 1)
    return book


def xlsx_files() -> dict[str, openpyxl.Workbook]:
    books = {}

    # Title rows and merged cells above the table, a unit line, a note row below,
    # a date cell, a number cell, and an extra column not in the contract.
    book = _book()
    sheet = book.active
    sheet.title = "Xuất khẩu"
    sheet["A1"] = "BÁO CÁO KIM NGẠCH XUẤT KHẨU SẢN PHẨM CNNT"
    sheet.merge_cells("A1:G1")
    sheet["A2"] = "Đơn vị tính: nghìn USD"
    sheet.merge_cells("A2:G2")
    sheet["A3"] = "Thông tin chung"
    sheet.merge_cells("A3:D3")
    sheet["E3"] = "Số liệu"
    sheet.merge_cells("E3:F3")
    sheet.append(["Kỳ", "Tỉnh", "Ngành hàng", "Thị trường", "Giá trị", "Số lượng", "Ghi chú"])
    sheet.append(["T1/2024", "Bắc Ninh", "XK_WOOD", "xuất khẩu", 12.5, 3, "ước tính"])
    sheet.append([date(2024, 2, 1), "Bắc Ninh", "XK_WOOD", "xuất khẩu", "13,5", 4, None])
    sheet.append(["Nguồn: Sở Công Thương Bắc Ninh"])
    books["title_rows.xlsx"] = book

    # One header cell merged over two columns: the second column has no header.
    book = _book()
    sheet = book.active
    sheet.append(["period", "province", "category", "market", "value", None, "unit"])
    sheet.merge_cells("E1:F1")
    sheet.append(["2024-01", "Hà Nội", "XK_WOOD", "export", 1, 2, "USD"])
    sheet.append(["2024-02", "Hà Nội", "XK_WOOD", "export", 3, None, "USD"])
    books["merged_header.xlsx"] = book

    # The first sheet is hidden (an old draft with other numbers); the visible one is read.
    book = _book()
    hidden = book.active
    hidden.title = "Ẩn"
    hidden.append(["period", "province", "category", "market", "value", "unit"])
    hidden.append(["2024-01", "Hà Nội", "XK_WOOD", "export", 999, "USD"])
    hidden.sheet_state = "hidden"
    data = book.create_sheet("Data")
    data.append(["period", "province", "category", "market", "value", "unit"])
    data.append(["2024-01", "Hà Nội", "XK_WOOD", "export", 1, "USD"])
    secret = book.create_sheet("Secret")
    secret.append(["period", "province", "category", "market", "value", "unit"])
    secret.append(["2024-01", "Hà Nội", "XK_WOOD", "export", 555, "USD"])
    secret.sheet_state = "veryHidden"
    books["hidden_sheet.xlsx"] = book

    book = _book()
    books["empty_sheet.xlsx"] = book

    book = _book()
    sheet = book.active
    sheet.append(["period", "province", "category", "market", "value", "unit"])
    sheet.append(["2024-01", "Hà Nội", "XK_WOOD", "export", "#DIV/0!", "USD"])
    sheet.append(["2024-02", "Hà Nội", "XK_WOOD", "export", "#N/A", "USD"])
    sheet.append(["2024-03", "Hà Nội", "XK_WOOD", "export", True, "USD"])
    sheet.append(["2024-04", "Hà Nội", "XK_WOOD", "export", date(2024, 4, 1), "USD"])
    books["error_cells.xlsx"] = book
    return books


def main() -> None:
    for name, data in text_files().items():
        (HERE / name).write_bytes(data)
    (HERE / "long_series_100y.csv.gz").write_bytes(long_series())
    (HERE / "nan_inf.parquet").write_bytes(nan_inf_parquet())
    for name, book in xlsx_files().items():
        book.save(HERE / name)
    print(f"wrote {len(text_files()) + 2 + len(xlsx_files())} files to {HERE}")


if __name__ == "__main__":
    main()
