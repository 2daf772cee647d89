"""Validation of the data contract: normalisation, aggregation and every error message."""

import re
from datetime import date

import numpy as np
import pytest
from parts_fixtures import totals

from forecast.data.readers import read_table
from forecast.data.schema import OBSERVATION_COLUMNS, STORED_COLUMNS, validate
from forecast.errors import DataError

HEADER = "period,province,category,market,destination,value,unit\n"
TODAY = date(2026, 1, 15)


def load(tmp_path, body, *, header=HEADER, name="f.csv", today=TODAY):
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return validate(read_table(path), today=today)


def problems(tmp_path, body, **kw):
    with pytest.raises(DataError) as info:
        load(tmp_path, body, **kw)
    return info.value


def one(frame, **where):
    mask = np.logical_and.reduce([frame[k] == v for k, v in where.items()])
    rows = frame[mask]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_vietnamese_headers_and_names_are_normalised(tmp_path):
    header = "Kỳ,Tỉnh/Thành phố,Ngành hàng,Thị trường,Nước nhập khẩu,Giá trị,Đơn vị,Số lượng\n"
    body = (
        'T1/2024,TP. Hồ Chí Minh,Gỗ và sản phẩm gỗ,Xuất khẩu,Hoa Kỳ,"1,234.5",nghìn USD,10\n'
        "T1/2024,Cả nước,XK_CERAMIC,xuất khẩu,Nhật Bản,50,nghìn USD,\n"
        "T1/2024,ha noi,xk_ceramic,Trong nước,,7,triệu đồng,\n"
    )
    table = load(tmp_path, body, header=header)
    assert list(table.frame.columns) == list(STORED_COLUMNS)
    frame = totals(table)
    assert list(frame.columns) == list(OBSERVATION_COLUMNS)
    assert table.freq == "M" and table.layout == "long" and table.input_rows == 3
    hcm = one(frame, province_code="79")
    assert (hcm.period, hcm.category, hcm.market, hcm.destination) == (
        "2024-01",
        "XK_WOOD",
        "export",
        "US",
    )
    assert (hcm.value, hcm.unit, hcm.quantity) == (1234.5, "nghìn USD", 10.0)
    national = one(frame, province_code="00")
    assert national.destination == "JP" and np.isnan(national.quantity)
    assert one(frame, province_code="01").market == "domestic"


@pytest.mark.parametrize(
    ("province", "code"),
    [
        ("Hà Giang", "08"),  # old province -> Tuyên Quang
        ("ha giang", "08"),
        ("Tỉnh Hà Giang", "08"),
        ("02", "08"),  # old GSO code
        ("Tuyên Quang", "08"),
        ("08", "08"),
        ("8", "08"),
        ("Thừa Thiên Huế", "46"),
        ("Huế", "46"),
        ("Bình Dương", "79"),
        ("TP.HCM", "79"),
        ("Toàn quốc", "00"),
        ("Cả nước", "00"),
        ("national", "00"),
        ("VN", "00"),
    ],
)
def test_province_forms(tmp_path, province, code):
    table = load(tmp_path, f"2024-01,{province},XK_WOOD,export,,1,USD\n")
    assert table.frame["province_code"].tolist() == [code]


def test_old_provinces_are_summed_into_their_2025_unit(tmp_path):
    header = HEADER.replace("unit\n", "unit,quantity\n")
    body = (
        "2024-01,Hà Giang,XK_WOOD,export,,10,USD,1\n"
        "2024-01,Tuyên Quang,XK_WOOD,export,,5,USD,2\n"
        "2024-02,Hà Giang,XK_WOOD,export,,1,USD,1\n"
        "2024-02,Tuyên Quang,XK_WOOD,export,,2,USD,\n"
    )
    table = load(tmp_path, body, header=header)
    # Stored per pre-2025 province (GSO codes 02 and 08), summed into the 2025 unit.
    assert table.frame["source_unit"].tolist() == ["02", "08", "02", "08"]
    frame = totals(table)
    assert frame["province_code"].unique().tolist() == ["08"]
    jan, feb = one(frame, period="2024-01"), one(frame, period="2024-02")
    assert (jan.value, jan.quantity) == (15.0, 3.0)
    # A sum with a missing part would understate the quantity: it stays missing.
    assert feb.value == 3.0 and np.isnan(feb.quantity)


def test_old_name_after_the_merger_is_mapped_with_a_warning(tmp_path):
    body = (
        "2025-06,Hà Giang,XK_WOOD,export,,1,USD\n"
        "2025-07,Hà Giang,XK_WOOD,export,,2,USD\n"
        "2025-08,Hà Giang,XK_WOOD,export,,3,USD\n"
        "2025-08,Tuyên Quang,XK_WOOD,export,,4,USD\n"
    )
    table = load(tmp_path, body)
    assert one(totals(table), period="2025-08").value == 7.0
    # From the merger 'Tuyên Quang' is the 2025 unit (""); 'Hà Giang' stays a part.
    parts = table.frame.set_index("period")["source_unit"].groupby(level=0).agg(list)
    assert parts.to_dict() == {"2025-06": ["02"], "2025-07": ["02"], "2025-08": ["", "02"]}
    (warning,) = table.warnings
    assert warning == (
        "'Hà Giang' is a pre-2025 province, merged into 'Tuyên Quang' from 2025-07-01; "
        "its 2 row(s) for periods from 2025-07 were added to 'Tuyên Quang'"
    )


def test_new_unit_name_before_the_merger_is_read_as_that_province(tmp_path):
    table = load(tmp_path, "2020-01,Tuyên Quang,XK_WOOD,export,,1,USD\n")
    assert table.warnings == () and table.frame["province_code"].tolist() == ["08"]


def test_identical_duplicates_are_dropped_with_a_warning(tmp_path):
    body = "2024-01,Hà Nội,XK_WOOD,export,,1,USD\n" * 3 + "2024-02,ha noi,XK_WOOD,export,,1,USD\n"
    table = load(tmp_path, body)
    assert len(table.frame) == 2
    assert table.warnings == ("dropped 2 identical duplicate row(s): rows 3, 4",)


def test_unit_spellings_that_fold_alike_are_one_unit(tmp_path):
    body = (
        "2024-01,Hà Nội,XK_WOOD,export,,1,Million VND\n"
        "2024-02,Hà Nội,XK_WOOD,export,,1,million  vnd\n"
    )
    assert load(tmp_path, body).frame["unit"].unique().tolist() == ["Million VND"]


def test_formula_like_text_is_kept_verbatim(tmp_path):
    body = (
        '2024-01,Hà Nội,XK_WOOD,export,,1,=HYPERLINK("x")\n'
        "2024-01,Hà Nội,XK_TEA,export,,1,@SUM(A1)\n"
    )
    units = sorted(load(tmp_path, body).frame["unit"])
    assert units == ['=HYPERLINK("x")', "@SUM(A1)"]


# --- errors: every message is asserted ----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "2024-13,Hà Nội,XK_WOOD,export,,1,USD\n",
            "f.csv, row 2, column 'period': not a recognised period (value: '2024-13'). "
            "Fix: write the period as YYYY-MM (2024-01), YYYY-Qn (2024-Q1) or YYYY (2024)",
        ),
        (",Hà Nội,XK_WOOD,export,,1,USD\n", "row 2, column 'period': period is missing"),
        (
            "2024-01,Hà Nội,XK_WOOD,export,,1,USD\n2024-02,Hà Nội,XK_WOOD,export,,1,USD\n"
            "2024-Q1,Hà Nội,XK_WOOD,export,,1,USD\n",
            "row 4, column 'period': the file mixes frequencies: this period is quarterly "
            "but most rows are monthly (value: '2024-Q1'). Fix: put each frequency",
        ),
        (
            "2026-03,Hà Nội,XK_WOOD,export,,1,USD\n",
            "row 2, column 'period': period lies in the future (today is 2026-01-15)",
        ),
        (
            "2024-01,Ha Giangg,XK_WOOD,export,,1,USD\n",
            "row 2, column 'province': unknown province (value: 'Ha Giangg'). "
            "Fix: did you mean 'Hà Giang'? Otherwise use a province of 2025 (34)",
        ),
        (
            "2024-01,Zzzzzz,XK_WOOD,export,,1,USD\n",
            "unknown province (value: 'Zzzzzz'). Fix: use a province of 2025 (34) or before "
            "2025 (63), with or without diacritics, a GSO code, or 'Toàn quốc' for national rows",
        ),
        (
            "2024-01,Đồng bằng sông Hồng,XK_WOOD,export,,1,USD\n",
            "'Đồng bằng sông Hồng' is a region, not a province",
        ),
        ("2024-01,,XK_WOOD,export,,1,USD\n", "column 'province': province is missing"),
        (
            "2024-01,Hà Nội,Gỗ và sản phẩm,export,,1,USD\n",
            "unknown category (value: 'Gỗ và sản phẩm'). Fix: did you mean 'Gỗ và sản phẩm gỗ'?",
        ),
        ("2024-01,Hà Nội,,export,,1,USD\n", "column 'category': category is missing"),
        (
            "2024-01,Hà Nội,XK_WOOD,abroad,,1,USD\n",
            "column 'market': unknown market (value: 'abroad'). "
            "Fix: write 'domestic' or 'export' ('trong nước' or 'xuất khẩu')",
        ),
        ("2024-01,Hà Nội,XK_WOOD,,,1,USD\n", "column 'market': market is missing"),
        (
            "2024-01,Hà Nội,XK_WOOD,domestic,Japan,1,USD\n",
            "column 'destination': a destination is given on a domestic-market row",
        ),
        (
            "2024-01,Hà Nội,XK_WOOD,export,Nhat Bann,1,USD\n",
            "column 'destination': unknown country (value: 'Nhat Bann'). "
            "Fix: did you mean 'Nhật Bản'?",
        ),
        ("2024-01,Hà Nội,XK_WOOD,export,,,USD\n", "column 'value': value is missing"),
        (
            "2024-01,Hà Nội,XK_WOOD,export,,12 tấn,USD\n",
            "column 'value': not a number (value: '12 tấn'). Fix: write a plain number",
        ),
        ("2024-01,Hà Nội,XK_WOOD,export,,-5,USD\n", "column 'value': value is negative"),
        (
            "2024-01,Hà Nội,XK_WOOD,export,,1e16,USD\n",
            "value is infinite or implausibly large (over 10^15)",
        ),
        ("2024-01,Hà Nội,XK_WOOD,export,,inf,USD\n", "column 'value': not a number"),
        ("2024-01,Hà Nội,XK_WOOD,export,,1,\n", "column 'unit': unit is missing"),
        ("2024-01,Hà Nội,XK_WOOD,export,,1,USD\x07\n", "unit contains control characters"),
        ("2024-01,Hà Nội,XK_WOOD,export,,1," + "u" * 41 + "\n", "longer than 40 characters"),
        (
            "2024-01,Hà Nội,XK_WOOD,export,,1,USD\n2024-02,Hà Nội,XK_WOOD,export,,1,VND\n",
            "row 3, column 'unit': a series has more than one unit: 'VND' here but 'USD' in row 2",
        ),
        (
            "2024-01,Hà Nội,XK_WOOD,export,,1,USD\n2024-01,ha noi,XK_WOOD,export,,2,USD\n",
            "row 3, column 'value': conflicts with row 2: same province, category, market, "
            "destination and period but a different value",
        ),
        (
            '2024-01,Hà Nội,XK_WOOD,export,,"1.234,5",USD\n'
            "2024-02,Hà Nội,XK_WOOD,export,,1234.5,USD\n",
            "the file mixes decimal conventions: '1.234,5' (row 2) uses a decimal comma but "
            "'1234.5' (row 3) a decimal point",
        ),
    ],
)
def test_each_error_names_row_column_value_and_fix(tmp_path, body, expected):
    err = problems(tmp_path, body)
    assert expected in str(err)
    assert err.exit_code == 65


def test_quantity_checks(tmp_path):
    header = HEADER.replace("unit\n", "unit,quantity\n")
    err = problems(tmp_path, "2024-01,Hà Nội,XK_WOOD,export,,1,USD,-3\n", header=header)
    assert "row 2, column 'quantity': quantity is negative" in str(err)


def test_missing_columns_are_listed_with_accepted_headers(tmp_path):
    err = problems(tmp_path, "2024-01,Hà Nội,1\n", header="kỳ,tỉnh,giá trị\n")
    text = str(err)
    for column in ("category", "market", "unit"):
        assert f"missing required column '{column}'" in text
    assert "recognised columns: 'kỳ', 'tỉnh', 'giá trị'" in text
    assert "add a column headed 'market', 'thị trường'" in text


def test_header_without_rows(tmp_path):
    err = problems(tmp_path, "")
    assert (
        str(err)
        == "f.csv: the file has a header but no data rows. Fix: add data rows below the header"
    )


def test_all_problems_of_a_file_are_reported_together(tmp_path):
    body = (
        "2024-01,Ha Giangg,XK_WOOD,export,,1,USD\n"
        "2024-02,Hà Nội,XK_WOODD,export,,x,USD\n"
        "2024-03,Hà Nội,XK_WOOD,exprt,,-1,USD\n"
    )
    err = problems(tmp_path, body)
    assert [(p.row, p.column) for p in err.problems] == [
        (2, "province"),
        (3, "category"),
        (3, "value"),
        (4, "market"),
        (4, "value"),
    ]
    assert err.problems[0].fix.startswith("did you mean 'Hà Giang'?")


def test_a_repeated_bad_value_is_one_problem_listing_its_rows(tmp_path):
    body = "".join(f"2024-{m:02d},Ha Giangg,XK_WOOD,export,,1,USD\n" for m in range(1, 10))
    err = problems(tmp_path, body)
    (problem,) = err.problems
    assert problem.row == 2
    assert problem.message == "unknown province (also rows 3, 4, 5, 6, 7 and 3 more)"


def test_problems_are_capped(tmp_path):
    body = "".join(f"2024-01,Nowhere {i},XK_WOOD,export,,1,USD\n" for i in range(70))
    err = problems(tmp_path, body)
    assert len(err.problems) == 50 and err.truncated
    assert str(err).endswith("… more problems not shown; fix these and run again.")
    assert re.search(r"row 51, column 'province': unknown province", str(err))


def test_conflicts_and_unit_clashes_are_listed_with_the_other_errors(tmp_path):
    """Every problem of a file is reported together: a conflicting duplicate and a second
    unit among rows that passed were listed only after the other errors were fixed."""
    body = (
        "2025-08,Hà Nội,XK_TEA,domestic,,5,USD\n"
        "2025-08,Hà Nội,XK_TEA,domestic,,6,USD\n"
        "2025-09,Hà Nội,XK_TEA,domestic,,-1,USD\n"
        "2025-09,Bắc Ninh,XK_TEA,domestic,,1,USD\n"
        "2025-10,Bắc Ninh,XK_TEA,domestic,,1,VND\n"
        "2025-10,Hà Nội,XK_TEAA,domestic,,1,USD\n"
    )
    text = str(problems(tmp_path, body))
    assert "row 3, column 'value': conflicts with row 2" in text
    assert "row 4, column 'value': value is negative" in text
    assert "row 6, column 'unit': a series has more than one unit: 'VND' here but 'USD'" in text
    assert "row 7, column 'category': unknown category" in text
    # a row with its own error is not also reported as a conflict
    clash = "2025-08,Hà Nội,XK_TEA,domestic,,5,USD\n2025-08,Hà Nội,XK_TEA,domestic,,-6,USD\n"
    text = str(problems(tmp_path, clash))
    assert "value is negative" in text and "conflicts" not in text
