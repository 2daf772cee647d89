"""Period notation: parse what people type into ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``.

Accepted, besides the canonical forms: ``2025-1``, ``2025/01``, ``01/2025``, ``T1/2025``,
``Tháng 1 năm 2025``, ``Jan 2025``, ``202501``, ISO dates and ``dd/mm/yyyy`` (read as their
month), Excel date cells and serial numbers; ``Q1/2025``, ``2025Q1``, ``Quý I/2025``,
``Quý 1 năm 2025``; ``Năm 2025`` and ``Sơ bộ 2025`` (preliminary). Matching is
case- and diacritics-insensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import pandas as pd

from forecast.textutil import fold

Freq = Literal["M", "Q", "Y"]

#: Human names of the frequencies, for messages.
FREQ_NAMES: dict[str, str] = {"M": "monthly", "Q": "quarterly", "Y": "annual"}

_MIN_YEAR, _MAX_YEAR = 1900, 2100
_EXCEL_EPOCH = date(1899, 12, 30)
# Excel serials of 1950-01-01 .. 2100-12-31; smaller integers are years or junk.
_SERIAL_MIN, _SERIAL_MAX = 18264, 73415

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_Q = r"(?P<q>[1-4]|iv|i{1,3})"
_Y = r"(?P<y>\d{4})"
_SEP = r"\s*[-/.,_ ]?\s*"
_PATTERNS: list[tuple[Freq, re.Pattern[str]]] = [
    ("Y", re.compile(rf"(?:nam|so bo|prel\.?|preliminary)?\s*{_Y}")),
    ("M", re.compile(rf"{_Y}\s*[-/.]\s*(?P<m>\d{{1,2}})")),
    ("M", re.compile(rf"(?:t|thang)?\s*(?P<m>\d{{1,2}})\s*[-/.]\s*(?:nam\s*)?{_Y}")),
    ("M", re.compile(rf"(?:t|thang)\s*(?P<m>\d{{1,2}})\s*[-/., ]?\s*(?:nam\s*)?{_Y}")),
    ("M", re.compile(rf"{_Y}(?P<m>\d{{2}})")),
    ("M", re.compile(rf"{_Y}-(?P<m>\d{{1,2}})-\d{{1,2}}(?:[ t]\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?")),
    ("M", re.compile(rf"\d{{1,2}}/(?P<m>\d{{1,2}})/{_Y}")),
    ("M", re.compile(rf"(?P<mon>[a-z]{{3}})[a-z]*\.?{_SEP}{_Y}")),
    ("Q", re.compile(rf"{_Y}{_SEP}q{_Q}")),
    ("Q", re.compile(rf"(?:q|quy)\s*{_Q}{_SEP}(?:nam\s*)?{_Y}")),
]


@dataclass(frozen=True)
class Period:
    """A parsed period: frequency, canonical text and first day."""

    freq: Freq
    text: str
    start: date


def _make(freq: Freq, year: int, sub: int = 1) -> Period | None:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return None
    if freq == "M":
        return Period("M", f"{year:04d}-{sub:02d}", date(year, sub, 1)) if 1 <= sub <= 12 else None
    if freq == "Q":
        return Period("Q", f"{year:04d}-Q{sub}", date(year, 3 * sub - 2, 1))
    return Period("Y", f"{year:04d}", date(year, 1, 1))


def parse_period(value: object) -> Period | None:
    """Parse one period cell; None when it is not a recognisable period.

    Parameters
    ----------
    value
        Text as typed, an ``int``/``float`` (a year, or an Excel date serial), or a
        ``date``/``datetime``/``Timestamp`` (read as its month).
    """
    if isinstance(value, datetime | date):  # Timestamp is a datetime
        return _make("M", value.year, value.month)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if value != value or value != int(value):  # NaN or fractional
            return None
        number = int(value)
        if _MIN_YEAR <= number <= _MAX_YEAR:
            return _make("Y", number)
        if _SERIAL_MIN <= number <= _SERIAL_MAX:
            day = _EXCEL_EPOCH + timedelta(days=number)
            return _make("M", day.year, day.month)
        return None
    text = " ".join(fold(str(value)).split())
    text = text.removesuffix(".0") if re.fullmatch(r"\d{4}\.0", text) else text
    for freq, pattern in _PATTERNS:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        groups = m.groupdict()
        year = int(groups["y"])
        if freq == "Q":
            q = groups["q"]
            return _make("Q", year, int(q) if q.isdigit() else _ROMAN[q])
        if freq == "M":
            if "mon" in groups:
                month = _MONTHS.get(groups["mon"])
                return None if month is None else _make("M", year, month)
            return _make("M", year, int(groups["m"]))
        return _make("Y", year)
    return None


def parse_periods(cells: pd.Series) -> pd.DataFrame:
    """Parse a column of period cells, each distinct value once.

    Returns
    -------
    DataFrame
        Same index as ``cells``; columns ``period`` (canonical text), ``freq`` and ``start``
        (``datetime64``), all missing where the cell is not a period.
    """
    codes, uniques = pd.factorize(cells.to_numpy(dtype=object))
    # One extra "not a period" slot at the end, picked by factorize's -1 for missing cells.
    parsed = [parse_period(u) for u in uniques] + [None]
    period = pd.array([p.text if p else None for p in parsed], dtype="string")
    freq = pd.array([p.freq if p else None for p in parsed], dtype="string")
    start = pd.to_datetime(pd.Series([p.start if p else None for p in parsed], dtype=object))
    return pd.DataFrame(
        {
            "period": period.take(codes),
            "freq": freq.take(codes),
            "start": start.to_numpy().take(codes),
        },
        index=cells.index,
    )
