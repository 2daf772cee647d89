"""Number, unit and period formatting for reports, in Vietnamese or English.

Vietnamese statistical publications write ``1.234,5`` (dot for thousands, comma for
decimals), ``12,3%``, ``triệu USD`` and periods such as ``T3/2025``, ``quý I/2025`` or
``9 tháng đầu năm 2025``; English ones ``1,234.5``, ``USD million``, ``Mar 2025``,
``Q1 2025`` and ``first 9 months of 2025``. Every formatted figure in a report goes through
:class:`Formatter` so that a table, a sentence and a chart axis show the same digits.

CSV files never use this module: they keep machine-readable dot decimals.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Literal

import pandas as pd

from forecast.errors import InvalidParameterError
from forecast.textutil import fold

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")

#: Shown for a missing or undefined figure (no data, division by zero).
MISSING = "-"

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS_EN_LONG = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ROMAN = ("I", "II", "III", "IV")

# Scale words per currency: (factor, vi, en). Ordered from small to large.
_SCALES: dict[str, tuple[tuple[float, str, str], ...]] = {
    "USD": (
        (1.0, "USD", "USD"),
        (1e3, "nghìn USD", "USD thousand"),
        (1e6, "triệu USD", "USD million"),
        (1e9, "tỷ USD", "USD billion"),
    ),
    "VND": (
        (1.0, "đồng", "VND"),
        (1e3, "nghìn đồng", "VND thousand"),
        (1e6, "triệu đồng", "VND million"),
        (1e9, "tỷ đồng", "VND billion"),
        (1e12, "nghìn tỷ đồng", "VND trillion"),
    ),
}

# Unit words in data files (folded) -> factor; the currency is found separately.
_FACTOR_WORDS = (
    (("nghin", "ngan", "thousand", "thous", "000", "1000", "k"), 1e3),
    (("trieu", "million", "mn", "mln", "m"), 1e6),
    (("ty", "billion", "bn"), 1e9),
)
_CURRENCY_WORDS = {"usd": "USD", "dong": "VND", "vnd": "VND", "d": "VND"}


@dataclass(frozen=True)
class Unit:
    """A value unit as stored with a series.

    Parameters
    ----------
    currency
        ``"USD"`` or ``"VND"``; ``None`` when the unit is not a known currency (then values
        are shown as they are, with the unit text verbatim).
    factor
        Size of one stored unit in currency units (1000 for ``thousand USD``).
    text
        The unit text as stored.
    """

    currency: str | None
    factor: float
    text: str


def parse_unit(text: str) -> Unit:
    """Read a stored unit such as ``thousand USD``, ``nghìn USD`` or ``triệu đồng``."""
    words = re.findall(r"[a-z0-9]+", fold(text))
    currency = next((_CURRENCY_WORDS[w] for w in words if w in _CURRENCY_WORDS), None)
    if currency is None:
        return Unit(None, 1.0, text)
    factor = 1.0
    for names, value in _FACTOR_WORDS:
        if any(w in names for w in words if w not in _CURRENCY_WORDS):
            factor = value
    return Unit(currency, factor, text)


@dataclass(frozen=True)
class DisplayUnit:
    """How a column or figure is shown: stored values are multiplied by ``multiplier``.

    ``label`` is the unit wording (``triệu USD``); ``decimals`` the digits after the
    decimal sign.
    """

    multiplier: float
    label: str
    decimals: int


class Formatter:
    """Locale-aware formatting of numbers, percentages, money and periods.

    Parameters
    ----------
    lang
        ``"vi"`` (default in reports) or ``"en"``.

    Examples
    --------
    >>> Formatter("vi").number(1234.5, 1)
    '1.234,5'
    >>> Formatter("en").number(1234.5, 1)
    '1,234.5'
    >>> Formatter("vi").percent(12.345)
    '12,3%'
    """

    def __init__(self, lang: Lang = "vi") -> None:
        if lang not in LANGS:
            raise InvalidParameterError(
                "The 'lang' parameter of Formatter must be one of 'vi', 'en'. "
                f"Got {lang!r} instead."
            )
        self.lang: Lang = lang
        thousands, decimal = (".", ",") if lang == "vi" else (",", ".")
        self._table = str.maketrans(",.", thousands + decimal)

    # -- numbers -------------------------------------------------------------------------
    def number(self, value: float | None, decimals: int = 1) -> str:
        """``1234.5`` -> ``1.234,5`` (vi) or ``1,234.5`` (en); NaN -> ``-``."""
        if value is None or not math.isfinite(value):
            return MISSING
        rounded = round(float(value), decimals)
        if rounded == 0:
            rounded = 0.0  # no "-0,0"
        text = f"{rounded:,.{decimals}f}"
        return text.translate(self._table)

    def percent(self, value: float | None, decimals: int = 1, *, sign: bool = False) -> str:
        """A percentage with its sign: ``12,3%``; ``sign=True`` adds ``+`` to gains."""
        return self.pct(value, decimals, sign=sign) + ("" if _missing(value) else "%")

    def pct(self, value: float | None, decimals: int = 1, *, sign: bool = False) -> str:
        """A percentage without the ``%`` sign, for table columns headed ``(%)``."""
        text = self.number(value, decimals)
        if sign and not _missing(value) and round(float(value), decimals) > 0:  # type: ignore[arg-type]
            text = "+" + text
        return text

    # -- units ---------------------------------------------------------------------------
    def display_unit(self, values: object, unit: Unit, *, table: bool = True) -> DisplayUnit:
        """Choose the display scale for ``values`` stored in ``unit``.

        A table uses one scale for a whole column (as ministry tables print one ĐVT), chosen
        so that its largest figure has at least two integer digits and at most five; a
        single figure in a sentence uses the largest scale in which it is at least 1.
        """
        if unit.currency is None:
            return DisplayUnit(1.0, unit.text, 1)
        arr = pd.to_numeric(pd.Series(values, dtype="float64"), errors="coerce").abs()
        top = float(arr.max()) * unit.factor if arr.notna().any() else 0.0
        scales = _SCALES[unit.currency]
        # Tables stop one step short of the largest word (triệu USD, tỷ đồng), as ministry
        # tables print them; sentences may use "tỷ USD" or "nghìn tỷ đồng".
        usable = scales[:-1] if table else scales
        threshold = 10.0 if table else 1.0
        chosen = usable[0]
        for factor, vi, en in usable:
            if top / factor >= threshold:
                chosen = (factor, vi, en)
        factor, vi, en = chosen
        decimals = 1 if table else (2 if top / factor < 100 else 1)
        return DisplayUnit(unit.factor / factor, vi if self.lang == "vi" else en, decimals)

    def unit_label(self, text: str) -> str:
        """A stored unit in the report language (``thousand USD`` -> ``nghìn USD`` /
        ``USD thousand``); a unit that is no known currency scale is kept as written."""
        unit = parse_unit(text)
        if unit.currency is not None:
            for factor, vi, en in _SCALES[unit.currency]:
                if factor == unit.factor:
                    return vi if self.lang == "vi" else en
        return text

    def money(self, value: float | None, unit: Unit) -> str:
        """A single figure with its unit: ``20,35 tỷ USD`` or ``USD 20.35 billion``."""
        if _missing(value):
            return MISSING
        du = self.display_unit([value], unit, table=False)
        digits = self.number(float(value) * du.multiplier, du.decimals)  # type: ignore[arg-type]
        if self.lang == "en" and unit.currency is not None:
            currency, _, rest = du.label.partition(" ")
            return f"{currency} {digits}" + (f" {rest}" if rest else "")
        return f"{digits} {du.label}"

    def money_range(self, low: float | None, high: float | None, unit: Unit) -> str:
        """Two figures in one unit: ``1,53–1,58 tỷ USD`` or ``USD 1.53–1.58 billion``."""
        if _missing(low) or _missing(high):
            return MISSING
        du = self.display_unit([low, high], unit, table=False)
        lo = self.number(float(low) * du.multiplier, du.decimals)  # type: ignore[arg-type]
        hi = self.number(float(high) * du.multiplier, du.decimals)  # type: ignore[arg-type]
        if self.lang == "en" and unit.currency is not None:
            currency, _, rest = du.label.partition(" ")
            return f"{currency} {lo}–{hi}" + (f" {rest}" if rest else "")
        return f"{lo}–{hi} {du.label}"

    def scaled(self, value: float | None, du: DisplayUnit) -> str:
        """``value`` (stored unit) in the display unit ``du``, without the unit."""
        if _missing(value):
            return MISSING
        return self.number(float(value) * du.multiplier, du.decimals)  # type: ignore[arg-type]

    # -- periods -------------------------------------------------------------------------
    def period(self, period: pd.Period, *, long: bool = False) -> str:
        """``T3/2025`` / ``tháng 3/2025`` / ``quý I/2025`` / ``năm 2025`` and English forms."""
        kind = _kind(period)
        year = period.year
        if kind == "M":
            m = period.month
            if self.lang == "vi":
                return f"tháng {m}/{year}" if long else f"T{m}/{year}"
            return f"{(_MONTHS_EN_LONG if long else _MONTHS_EN)[m - 1]} {year}"
        if kind == "Q":
            q = period.quarter
            return f"quý {_ROMAN[q - 1]}/{year}" if self.lang == "vi" else f"Q{q} {year}"
        return f"năm {year}" if self.lang == "vi" else str(year)

    def period_range(self, first: pd.Period, last: pd.Period) -> str:
        """``T1–T3/2026``, ``T11/2025–T1/2026`` or ``Jan–Mar 2026``."""
        if first == last:
            return self.period(first)
        if _kind(first) == "M" and first.year == last.year:
            if self.lang == "vi":
                return f"T{first.month}–T{last.month}/{last.year}"
            return f"{_MONTHS_EN[first.month - 1]}–{_MONTHS_EN[last.month - 1]} {last.year}"
        return f"{self.period(first)}–{self.period(last)}"

    def year_to_date(self, last: pd.Period, first: pd.Period | None = None) -> str:
        """Cumulative label: ``9 tháng đầu năm 2025``, ``năm 2025``, ``first 9 months of 2025``.

        ``first`` is the first period the cumulative figures cover; when it is not the
        first period of the year (the months before it have no data), the label names the
        periods covered (``tháng 2/2026``, ``T2–T3/2026``) instead of claiming the whole
        year to date.
        """
        if first is not None and first != _year_start(last):
            return self.period(last, long=True) if first == last else self.period_range(first, last)
        kind = _kind(last)
        year = last.year
        if kind == "M":
            n, full = last.month, 12
            unit_vi, unit_en = "tháng", "months"
        elif kind == "Q":
            n, full = last.quarter, 4
            unit_vi, unit_en = "quý", "quarters"
        else:
            n, full = 1, 1
            unit_vi, unit_en = "", ""
        if n == full:
            return f"năm {year}" if self.lang == "vi" else f"full year {year}"
        if n == 1:
            return self.period(last, long=True)
        if self.lang == "vi":
            return f"{n} {unit_vi} đầu năm {year}"
        return f"first {n} {unit_en} of {year}"

    def ytd_lead(self, last: pd.Period, first: pd.Period | None = None) -> str:
        """Cumulative label opening a sentence: ``9 tháng đầu năm 2025`` -> ``9 tháng…``,
        ``Năm 2025``; English ``In the first 9 months of 2025``, ``In 2025``."""
        label = self.year_to_date(last, first)
        if self.lang == "vi":
            return label[:1].upper() + label[1:]
        if label.startswith("full year "):
            return "In " + label.removeprefix("full year ")
        return ("In the " if label.startswith("first ") else "In ") + label

    def ytd_short(self, last: pd.Period, first: pd.Period | None = None) -> str:
        """Short cumulative label for table headings: ``9T/2025`` or ``Jan–Sep 2025``
        (``T2/2026`` when the cumulative figures start after January, see
        :meth:`year_to_date`)."""
        kind = _kind(last)
        partial = first is not None and first != _year_start(last)
        if kind == "M":
            if partial:
                return self.period_range(first, last)  # type: ignore[arg-type]
            if self.lang == "vi":
                return f"{last.month}T/{last.year}"
            start = pd.Period(f"{last.year}-01", freq=last.freq)
            return self.period_range(start, last)
        return self.year_to_date(last, first)

    def date(self, iso: str) -> str:
        """An ISO date or date-time as ``31/12/2025`` (vi) or ``31 Dec 2025`` (en).

        A date-time is a moment (run and ingest times are stored in UTC, naive ones
        included) and is dated in Vietnam, where the reports are read: 23:47 UTC on
        7 December is 8 December there. A plain date is kept as written.
        """
        try:
            ts = pd.Timestamp(iso)
        except (ValueError, TypeError):
            return str(iso)
        if ts is pd.NaT:
            return "-" if str(iso).strip().lower() in ("", "nat", "nan", "none") else str(iso)
        if _has_time(str(iso)):
            ts = (ts if ts.tzinfo else ts.tz_localize("UTC")).tz_convert(_VIETNAM)
        if self.lang == "vi":
            return f"{ts.day:02d}/{ts.month:02d}/{ts.year}"
        return f"{ts.day} {_MONTHS_EN[ts.month - 1]} {ts.year}"


# Vietnam keeps UTC+7 all year (no daylight saving since 1975); a fixed offset needs no
# time-zone database on the machine.
_VIETNAM = timezone(timedelta(hours=7))


def _has_time(iso: str) -> bool:
    """Whether an ISO text is a moment (it has a time of day), not a calendar date."""
    return ":" in iso


def _missing(value: float | None) -> bool:
    return value is None or not math.isfinite(float(value))


def _year_start(period: pd.Period) -> pd.Period:
    """The first period of ``period``'s calendar year (itself for annual periods)."""
    kind = _kind(period)
    if kind == "M":
        return period - (period.month - 1)
    if kind == "Q":
        return period - (period.quarter - 1)
    return period


def _kind(period: pd.Period) -> str:
    """``M``, ``Q`` or ``Y`` for a period of any monthly/quarterly/annual frequency."""
    name = period.freqstr.upper()
    if name.startswith("M"):
        return "M"
    if name.startswith("Q"):
        return "Q"
    return "Y"
