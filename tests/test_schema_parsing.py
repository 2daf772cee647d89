"""Cell-level parsing of the data contract: periods, numbers, countries, categories."""

from datetime import date, datetime

import pandas as pd
import pytest

from forecast.data.categories import lookup_category, suggest_category
from forecast.data.countries import lookup_country, suggest_country
from forecast.data.numbers import analyse, choose_decimal
from forecast.data.periods import parse_period, parse_periods


@pytest.mark.parametrize(
    ("cell", "freq", "text"),
    [
        ("2025-01", "M", "2025-01"),
        ("2025-1", "M", "2025-01"),
        ("2025/01", "M", "2025-01"),
        ("01/2025", "M", "2025-01"),
        ("1-2025", "M", "2025-01"),
        ("T1/2025", "M", "2025-01"),
        ("t12-2024", "M", "2024-12"),
        ("Tháng 3/2025", "M", "2025-03"),
        ("tháng 3 năm 2025", "M", "2025-03"),
        ("Thang 3 2025", "M", "2025-03"),
        ("Jan 2025", "M", "2025-01"),
        ("September-2024", "M", "2024-09"),
        ("202502", "M", "2025-02"),
        ("2025-02-15", "M", "2025-02"),
        ("15/02/2025", "M", "2025-02"),
        (datetime(2025, 2, 1), "M", "2025-02"),
        (date(2025, 2, 28), "M", "2025-02"),
        (pd.Timestamp("2025-02-01"), "M", "2025-02"),
        (45689, "M", "2025-02"),  # Excel serial of 2025-02-01
        ("2025-Q1", "Q", "2025-Q1"),
        ("2025Q2", "Q", "2025-Q2"),
        ("Q3/2025", "Q", "2025-Q3"),
        ("q4-2024", "Q", "2024-Q4"),
        ("Quý I/2025", "Q", "2025-Q1"),
        ("quý IV/2024", "Q", "2024-Q4"),
        ("QUÝ 2 NĂM 2025", "Q", "2025-Q2"),
        ("Quy III 2023", "Q", "2023-Q3"),
        ("2024", "Y", "2024"),
        (2024, "Y", "2024"),
        (2024.0, "Y", "2024"),
        ("2024.0", "Y", "2024"),
        ("Năm 2024", "Y", "2024"),
        ("Sơ bộ 2024", "Y", "2024"),
    ],
)
def test_period_notations(cell, freq, text):
    period = parse_period(cell)
    assert period is not None
    assert (period.freq, period.text) == (freq, text)


@pytest.mark.parametrize(
    "cell", ["2025-13", "13/2025", "Q5/2025", "Quý V/2025", "1899", "abc", "", None, True, 12.5]
)
def test_not_periods(cell):
    assert parse_period(cell) is None


def test_parse_periods_is_vectorised_and_keeps_the_index():
    cells = pd.Series(["T1/2025", None, "x", "2025-01"], index=[10, 11, 12, 13], dtype=object)
    out = parse_periods(cells)
    assert list(out.index) == [10, 11, 12, 13]
    assert out["period"].tolist()[0] == "2025-01" and out["period"].tolist()[3] == "2025-01"
    assert out["period"].isna().tolist() == [False, True, True, False]
    assert out["start"].iloc[0] == pd.Timestamp("2025-01-01")


def _numbers(cells, hint=None):
    analysed = analyse(pd.Series(cells, dtype=object))
    choice = choose_decimal([analysed], hint=hint)
    values, bad = analysed.parse(choice.decimal)
    return choice, values.tolist(), bad.tolist()


@pytest.mark.parametrize(
    ("cells", "decimal", "values"),
    [
        (["1.234,5", "12", "1.234"], ",", [1234.5, 12.0, 1234.0]),
        (["1234,5", "7"], ",", [1234.5, 7.0]),
        (["1.234.567", "8"], ",", [1234567.0, 8.0]),
        (["1,234.5", "1,234"], ".", [1234.5, 1234.0]),
        (["1234.5", "0.25"], ".", [1234.5, 0.25]),
        (["1 234 567", "2\u00a0000"], ".", [1234567.0, 2000.0]),
        (["1e3", "2"], ".", [1000.0, 2.0]),
        (["0.125", "1.234"], ".", [0.125, 1.234]),  # 0.125 cannot be thousands
        (["0,125", "1.234"], ",", [0.125, 1234.0]),
        ([".125", "3"], ".", [0.125, 3.0]),
    ],
)
def test_decimal_convention_is_detected_per_file(cells, decimal, values):
    choice, parsed, bad = _numbers(cells)
    assert choice.decimal == decimal
    assert parsed == values
    assert not any(bad)


def test_ambiguous_numbers_follow_the_delimiter_hint_and_are_flagged():
    choice, values, _ = _numbers(["1.234", "12.345"])
    assert choice.decimal == "." and choice.ambiguous and values == [1.234, 12.345]
    choice, values, _ = _numbers(["1.234", "12.345"], hint=",")
    assert choice.decimal == "," and values == [1234.0, 12345.0]


def test_mixed_conventions_are_reported_with_examples():
    choice, _, _ = _numbers(["1.234,5", "3", "1234.5"])
    assert choice.mixed
    assert choice.comma_example == (0, "1.234,5")
    assert choice.point_example == (2, "1234.5")


def test_bad_numbers_are_flagged_but_blanks_are_not():
    _, values, bad = _numbers(["abc", "", None, "inf", "nan", "1,2,3", "12 kg", 5, True])
    assert bad == [True, False, False, True, True, True, True, False, True]
    assert values[7] == 5.0


@pytest.mark.parametrize(
    ("text", "iso2"),
    [
        ("Hoa Kỳ", "US"),
        ("Mỹ", "US"),
        ("my", "US"),
        ("USA", "US"),
        ("United States", "US"),
        ("Nhật Bản", "JP"),
        ("nhat ban", "JP"),
        ("Trung Quốc", "CN"),
        ("Hàn Quốc", "KR"),
        ("Đài Loan", "TW"),
        ("Đài Loan (Trung Quốc)", "TW"),
        ("Anh", "GB"),
        ("UK", "GB"),
        ("Đức", "DE"),
        ("Pháp", "FR"),
        ("Hà Lan", "NL"),
        ("Úc", "AU"),
        ("Ôxtrâylia", "AU"),
        ("Canada", "CA"),
        ("Ấn Độ", "IN"),
        ("Tây Ban Nha", "ES"),
        ("Bỉ", "BE"),
        ("Ý", "IT"),
        ("Italia", "IT"),
        ("MY", "MY"),  # upper-case ISO2 wins: Malaysia
        ("jp", "JP"),
    ],
)
def test_country_spellings(text, iso2):
    found = lookup_country(text)
    assert found is not None and found.iso2 == iso2


def test_country_unknown_and_suggestion():
    assert lookup_country("Atlantis") is None
    assert lookup_country("") is None
    assert suggest_country("Nhat Bann") == "Nhật Bản"


@pytest.mark.parametrize(
    ("text", "code", "group"),
    [
        ("XK_WOOD", "XK_WOOD", "CNNT1"),
        ("xk_wood", "XK_WOOD", "CNNT1"),
        ("Gỗ và sản phẩm gỗ", "XK_WOOD", "CNNT1"),
        ("go va san pham go", "XK_WOOD", "CNNT1"),
        ("Wood and wood products", "XK_WOOD", "CNNT1"),
        ("Hạt điều", "XK_CASHEW", "CNNT2"),
        ("CNNT3", "CNNT3", "CNNT3"),
    ],
)
def test_category_codes_and_names(text, code, group):
    found = lookup_category(text)
    assert found is not None and (found.code, found.group) == (code, group)


def test_category_suggestion():
    assert lookup_category("Go va san pham") is None
    assert suggest_category("Gỗ và sản phẩm") == "Gỗ và sản phẩm gỗ"
