"""Broken and hostile CSV input: clear errors or documented repairs, never a crash."""

from datetime import date

import pytest

from forecast.data.readers import read_table
from forecast.data.schema import validate
from forecast.errors import DataError

H = "period,province,category,market,value,unit\n"
ROW = "2024-01,Hà Nội,XK_WOOD,export,1,USD\n"


def run(tmp_path, text):
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8", newline="")
    return validate(read_table(path), today=date(2026, 1, 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (H + "2024-01,Hà\x00Nội,XK_WOOD,export,1,USD\n", "f.csv, row 2: the file contains NUL"),
        (H + '2024-01,"Hà Nội,XK_WOOD,export,1,USD\n', "the text cannot be read as CSV (EOF"),
        (H + "2024-01,Hà Nội,XK_WOOD,export,1" + "0" * 400 + ",USD\n", "implausibly large"),
        (
            H + "2024-01,Hà Nội,XK_WOOD,export,NaN,USD\n",
            "column 'value': value is missing (the cell",
        ),
        (H + "2024-01,Hà Nội,XK_WOOD,export,-inf,USD\n", "column 'value': not a number"),
        (
            H + "2024-01,=cmd|' /C calc'!A0,XK_WOOD,export,1,USD\n",
            "unknown province (value: \"=cmd|' /C calc'!A0\")",
        ),
        (H + "2024-01,../../etc/passwd,XK_WOOD,export,1,USD\n", "(value: '../../etc/passwd')"),
        (H + "2024-01," + "Hà Nội" * 100_000 + ",XK_WOOD,export,1,USD\n", "unknown province"),
    ],
)
def test_rejected_with_a_clear_message(tmp_path, text, message):
    with pytest.raises(DataError) as info:
        run(tmp_path, text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        H.replace("\n", "\r") + ROW.replace("\n", "\r"),  # classic Mac line ends
        H.replace("\n", "\r\n") + ROW.replace("\n", "\r\n"),  # Windows
        "x" * 200_000 + "\n" + H + ROW,  # a huge title line above the header
        "sep=;\n" + (H + ROW).replace(",", ";"),  # Excel's delimiter hint line
        H + ROW.rstrip("\n"),  # no final newline
        H + ROW.replace("Hà Nội", "Hà\x1bNội"),  # names match ignoring non-letters
    ],
    ids=["cr", "crlf", "huge-title", "sep-line", "no-final-newline", "control-in-name"],
)
def test_repaired_or_read_as_is(tmp_path, text):
    frame = run(tmp_path, text).frame
    assert frame[["period", "province_code", "value"]].values.tolist() == [["2024-01", "01", 1.0]]
