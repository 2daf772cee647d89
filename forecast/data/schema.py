"""The data contract: which columns an input file has, and how each cell is validated.

A reader (:mod:`forecast.data.readers`) turns any file into a :class:`RawTable` of raw cells
under canonical column names; :func:`validate` checks every cell, normalises names and codes,
maps pre-2025 provinces to their 2025 unit (keeping the province as ``source_unit``, so the
warehouse can sum parts sent in separate files), and returns a :class:`ValidatedTable`
ready for the warehouse. Each distinct value is resolved once and
mapped back onto the rows, so validation stays vectorised on large files.

Rules worth knowing (README "Data contract" has the full list):

- Province names of the 63 pre-2025 provinces are accepted for every period, including
  periods from 2025-07 (after the merger): they are mapped to their 2025 unit and summed,
  and rows after the merger are reported in a warning, since the province no longer exists.
  Before the merger, a 2025 unit's name or a GSO code means the pre-2025 province of that
  name or code (see :class:`~forecast.data.geography.ProvinceMatch`).
- National rows (``Toàn quốc``, ``Cả nước``, ``national``, ``VN``) get province code ``00``.
- Identical duplicate rows are dropped with a warning; duplicates that disagree are errors.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

import numpy as np
import pandas as pd

from forecast.data.categories import lookup_category, suggest_category
from forecast.data.countries import lookup_country, suggest_country
from forecast.data.geography import (
    MERGER_DATE,
    REGION_NAMES,
    lookup_province,
    suggest_province,
)
from forecast.data.numbers import Decimal, ambiguity_note, analyse, choose_decimal
from forecast.data.periods import FREQ_NAMES, Freq, parse_periods
from forecast.data.problems import MAX_PROBLEMS, ProblemLog, display
from forecast.textutil import key

Layout = Literal["long", "wide"]

#: Province code and name of national-level rows.
NATIONAL_CODE = "00"
NATIONAL_NAME = "Toàn quốc"
MARKETS = ("domestic", "export")
#: Largest accepted value or quantity; anything above is a unit or separator mistake.
MAX_NUMBER = 1e15
MAX_UNIT_LENGTH = 40
_SUGGEST_MAX_LENGTH = 80

#: Columns of an observation of a 2025 unit; the first six identify an observation.
KEY_COLUMNS = ("freq", "period", "province_code", "category", "market", "destination")
OBSERVATION_COLUMNS = (*KEY_COLUMNS, "value", "unit", "quantity")
#: Columns of a stored observation: one per reporting unit (``source_unit``, see
#: :class:`ValidatedTable`), summed over ``source_unit`` into the observation of the 2025 unit.
PART_KEY_COLUMNS = (*KEY_COLUMNS, "source_unit")
STORED_COLUMNS = (*OBSERVATION_COLUMNS, "source_unit")


@dataclass(frozen=True)
class Column:
    """One column of the contract and the headers that name it (matched folded)."""

    name: str
    required: bool
    aliases: tuple[str, ...]
    example: str


COLUMNS: dict[str, Column] = {
    c.name: c
    for c in (
        Column(
            "period",
            True,
            (
                "kỳ",
                "kỳ báo cáo",
                "thời gian",
                "thời kỳ",
                "tháng",
                "quý",
                "năm",
                "date",
                "time",
                "month",
                "quarter",
                "year",
            ),
            "2024-01, 2024-Q1 or 2024",
        ),
        Column(
            "province",
            True,
            (
                "tỉnh",
                "tỉnh thành",
                "tỉnh/thành phố",
                "tỉnh, thành phố",
                "tỉnh/tp",
                "địa phương",
                "địa bàn",
                "mã tỉnh",
                "province code",
                "province name",
            ),
            "Hà Giang, Tuyên Quang, 08 or Toàn quốc",
        ),
        Column(
            "category",
            True,
            (
                "ngành hàng",
                "mặt hàng",
                "nhóm hàng",
                "sản phẩm",
                "nhóm sản phẩm",
                "mã ngành hàng",
                "product",
                "category code",
            ),
            "XK_WOOD or Gỗ và sản phẩm gỗ",
        ),
        Column("market", True, ("thị trường", "loại thị trường"), "domestic or export"),
        Column(
            "destination",
            False,
            (
                "nước nhập khẩu",
                "thị trường nhập khẩu",
                "thị trường xuất khẩu",
                "nước đến",
                "quốc gia",
                "country",
                "destination country",
                "partner",
            ),
            "Hoa Kỳ, Japan or US",
        ),
        Column(
            "value",
            True,
            ("giá trị", "trị giá", "kim ngạch", "doanh thu", "doanh số", "sales", "amount"),
            "1234.5",
        ),
        Column("unit", True, ("đơn vị", "đơn vị tính", "đvt", "units"), "million VND"),
        Column("quantity", False, ("số lượng", "khối lượng", "lượng", "qty"), "120"),
    )
}

_PARENS = re.compile(r"\(.*?\)|\[.*?\]")
_HEADER_INDEX = {key(alias): c.name for c in COLUMNS.values() for alias in (c.name, *c.aliases)}
_NATIONAL = {
    key(t) for t in ("Toàn quốc", "Cả nước", "national", "nationwide", "VN", "Việt Nam", "Vietnam")
}
_REGIONS = {key(n): vi for vi, en in REGION_NAMES.values() for n in (vi, en)}
_MARKET_INDEX = {
    **{key(t): "domestic" for t in ("domestic", "trong nước", "nội địa", "home", "local")},
    **{key(t): "export" for t in ("export", "exports", "xuất khẩu", "xk")},
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def header_column(cell: object) -> str | None:
    """The contract column a header cell names (``"Giá trị (triệu đồng)"`` -> ``value``)."""
    if cell is None or not isinstance(cell, str):
        return None
    return _HEADER_INDEX.get(key(_PARENS.sub("", cell)))


def header_unit(cell: str) -> str | None:
    """The unit written in brackets in a header (``"Giá trị (triệu đồng)"`` -> ``triệu đồng``)."""
    m = re.search(r"\((.+?)\)|\[(.+?)\]", cell)
    return (m.group(1) or m.group(2)).strip() if m else None


@dataclass
class RawTable:
    """A file as read, before validation: raw cells under contract column names.

    Parameters
    ----------
    name
        File name used in messages.
    frame
        One row per observation candidate; contract columns present in the file, ``_row``
        (row number as a spreadsheet shows it) and, for wide tables, ``_cell`` (header of
        the period column the value came from).
    headers
        Contract column -> header text as written in the file.
    layout
        ``long`` or ``wide``.
    sha256
        Hash of the file's bytes.
    sheet
        Sheet read (XLSX only).
    decimal_hint
        Decimal convention suggested by the file format (``,`` for ``;``-separated CSV).
    default_unit
        Unit stated above the table or in the value header, used when no unit column.
    notes
        Warnings from reading (ignored columns, skipped note rows...).
    ignored
        Headers of the columns that are not in the contract, as written.
    """

    name: str
    frame: pd.DataFrame
    headers: dict[str, str]
    layout: Layout
    sha256: str
    sheet: str | None = None
    decimal_hint: Decimal | None = None
    default_unit: str | None = None
    notes: list[str] = field(default_factory=list)
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValidatedTable:
    """Observations that satisfy the contract, normalised, one row per reporting unit.

    ``frame`` has :data:`STORED_COLUMNS`: ``freq`` (M/Q/Y), ``period`` (canonical
    text), ``province_code`` (2025 GSO code, ``00`` national), ``category`` (code),
    ``market`` (domestic/export), ``destination`` (ISO2 or ``""``), ``value``, ``unit``,
    ``quantity`` (NaN when absent) and ``source_unit``: the pre-2025 GSO code of the
    province a row names (:attr:`~forecast.data.geography.ProvinceMatch.old_code`) for
    periods before the merger, and for later periods when the row names a pre-2025 province
    that no longer exists; ``""`` for a 2025 unit from the merger date and for national
    rows. The warehouse stores these parts so that separate files of provinces that merged
    add up rather than replace each other, and sums them into 2025 units when read.
    """

    name: str
    frame: pd.DataFrame
    freq: Freq
    input_rows: int
    layout: Layout
    sha256: str
    sheet: str | None
    warnings: tuple[str, ...]


def validate(
    raw: RawTable, *, today: date | None = None, max_problems: int = MAX_PROBLEMS
) -> ValidatedTable:
    """Check a raw table against the contract and normalise it.

    Parameters
    ----------
    raw
        Output of a reader.
    today
        Date after which periods count as "in the future" (default: today, UTC).
    max_problems
        Problems reported before "… more".

    Raises
    ------
    DataError
        Listing every problem found (file, row, column, value, fix), up to ``max_problems``.
    """
    log = ProblemLog(raw.name, cap=max_problems)
    _check_columns(raw, log)
    log.raise_if_any()
    df = raw.frame
    if df.empty:
        log.add(
            "the file has a header but no data rows",
            "add data rows below the header",
        )
        log.raise_if_any()
    cells = df  # raw cells, kept for messages; `out` collects the parsed values
    out = pd.DataFrame(index=cells.index)
    header = _header_names(raw)
    warnings = list(raw.notes)

    _periods(cells, out, log, header, today or datetime.now(UTC).date())
    _provinces(cells, out, log, header)
    _categories(cells, out, log, header)
    _markets(cells, out, log, header)
    _numbers(raw, out, log, header, warnings)
    _units(raw, out, log, header)
    if log:
        # Every problem in a file is reported together: conflicts among the rows that
        # passed are listed with the other errors, not after those are fixed.
        ok = ~cells["_row"].isin(log.rows).to_numpy()
        passed = out[ok].copy()
        _check_units_per_series(cells[ok], passed, log, header)
        _check_duplicates(cells[ok], passed, log, header)
        log.raise_if_any()

    _check_units_per_series(cells, out, log, header)
    dropped = _check_duplicates(cells, out, log, header)
    log.raise_if_any()
    if dropped:
        warnings.append(dropped)
    warnings.extend(_merger_warnings(out))
    frame = _parts(out)
    return ValidatedTable(
        name=raw.name,
        frame=frame,
        freq=out["freq"].iat[0],
        input_rows=len(df),
        layout=raw.layout,
        sha256=raw.sha256,
        sheet=raw.sheet,
        warnings=tuple(warnings),
    )


# --- columns -------------------------------------------------------------------------------


def _check_columns(raw: RawTable, log: ProblemLog) -> None:
    present = set(raw.frame.columns)
    found = ", ".join(repr(h) for h in raw.headers.values()) or "none"
    for column in COLUMNS.values():
        if not column.required or column.name in present:
            continue
        if column.name == "unit" and raw.default_unit:
            continue
        accepted = ", ".join(repr(a) for a in (column.name, *column.aliases[:4]))
        near = _nearest_header(column, raw.ignored)
        rename = (
            f"if the column headed {near!r} holds it, rename it '{column.name}'; otherwise "
            if near
            else ""
        )
        log.add(
            f"missing required column '{column.name}' (recognised columns: {found})",
            f"{rename}add a column headed {accepted}, e.g. {column.example}",
        )


def _nearest_header(column: Column, headers: Sequence[str]) -> str | None:
    """The unrecognised header most like a name of ``column`` (a typo such as 'provinse')."""
    names = [key(a) for a in (column.name, *column.aliases)]
    best, best_ratio = None, 0.75
    for header in headers:
        folded = key(_PARENS.sub("", header))
        if not folded or len(folded) > _SUGGEST_MAX_LENGTH:
            continue
        for name in names:
            ratio = difflib.SequenceMatcher(None, folded, name).ratio()
            if ratio > best_ratio:
                best, best_ratio = header, ratio
    return best


def _header_names(raw: RawTable) -> Callable[[str], pd.Series | str]:
    """Header shown for a column: as in the file; per row for wide-table periods/values."""

    def name(column: str) -> pd.Series | str:
        if column in ("period", "value") and "_cell" in raw.frame:
            return raw.frame["_cell"]
        return raw.headers.get(column, column)

    return name


def _map_unique(
    cells: pd.Series, fn: Callable[[object], tuple[object, ...]], columns: Sequence[str]
) -> pd.DataFrame:
    """Apply ``fn`` to each distinct cell once and spread the results over the rows."""
    codes, uniques = pd.factorize(cells.to_numpy(dtype=object))
    table = pd.DataFrame([fn(u) for u in uniques] + [fn(None)], columns=list(columns))
    result = table.take(codes)  # code -1 (blank cell) takes the last row: fn(None)
    result.index = cells.index
    return result


def cell_text(value: object) -> str:
    """A cell as clean text: NFC, single spaces, trimmed; ``""`` for blanks."""
    shown = display(value)
    return "" if shown is None else " ".join(unicodedata.normalize("NFC", shown).split())


def blank_cells(cells: pd.Series) -> pd.Series:
    """True where a cell is empty, None/NaN or only whitespace (each distinct value once)."""
    codes, uniques = pd.factorize(cells.to_numpy(dtype=object))
    blank = np.array([isinstance(u, str) and not u.strip() for u in uniques] + [True])
    return pd.Series(blank[codes], index=cells.index)


# --- periods -------------------------------------------------------------------------------

_PERIOD_FIX = (
    "write the period as YYYY-MM (2024-01), YYYY-Qn (2024-Q1) or YYYY (2024); "
    "T1/2024, 01/2024 and Quý I/2024 are also accepted"
)


def _periods(
    cells: pd.DataFrame, out: pd.DataFrame, log: ProblemLog, header: Callable, today: date
) -> None:
    parsed = parse_periods(cells["period"])
    out["period"], out["freq"], out["start"] = parsed["period"], parsed["freq"], parsed["start"]
    blank = blank_cells(cells["period"])
    log.add_rows(blank, cells, "period", "period is missing", _PERIOD_FIX, headers=header("period"))
    bad = parsed["period"].isna() & ~blank
    log.add_rows(
        bad, cells, "period", "not a recognised period", _PERIOD_FIX, headers=header("period")
    )
    counts = out["freq"].value_counts()
    if len(counts) > 1:
        main = str(counts.index[0])
        odd = out["freq"].notna() & out["freq"].ne(main)
        log.add_rows(
            odd,
            cells,
            "period",
            lambda v: (
                f"the file mixes frequencies: this period is "
                f"{FREQ_NAMES[str(_freq_of(v))]} but most rows are {FREQ_NAMES[main]}"
            ),
            "put each frequency (monthly, quarterly, annual) in its own file",
            headers=header("period"),
        )
    future = out["start"] > pd.Timestamp(today)
    log.add_rows(
        future,
        cells,
        "period",
        f"period lies in the future (today is {today.isoformat()})",
        "check the year; only periods that have started can be ingested",
        headers=header("period"),
    )


def _freq_of(text: str) -> str | None:
    parsed = parse_periods(pd.Series([text], dtype=object))
    return parsed["freq"].iat[0]


# --- provinces -----------------------------------------------------------------------------

_PROVINCE_FIX = (
    "use a province of 2025 (34) or before 2025 (63), with or without diacritics, "
    "a GSO code, or 'Toàn quốc' for national rows"
)


def _resolve_province(value: object) -> tuple[object, ...]:
    """(code, pre-2025 code, old name, problem) for one province cell."""
    text = cell_text(value)
    if not text:
        return None, None, None, "missing"
    if key(text) in _NATIONAL or text.strip("0") == "":
        return NATIONAL_CODE, "", None, None
    match = lookup_province(text)
    if match is None:
        return None, None, None, "unknown"
    return match.unit.code, match.old_code, match.old_name, None


def _province_message(value: str) -> str:
    region = _REGIONS.get(key(value))
    if region:
        return f"'{value}' is a region, not a province"
    return "unknown province"


def _province_fix(value: str) -> str:
    if key(value) in _REGIONS:
        return "give rows per province; regional totals are computed from the provinces"
    return _did_you_mean(_nearest(suggest_province, value), _PROVINCE_FIX)


def _nearest(suggest: Callable[[str], str | None], value: str) -> str | None:
    """``suggest(value)``, skipped for long text (names are short; difflib is quadratic)."""
    return suggest(value) if len(value) <= _SUGGEST_MAX_LENGTH else None


def _did_you_mean(hint: str | None, fix: str) -> str:
    """Prefix ``fix`` with the nearest valid name, if any."""
    return f"did you mean '{hint}'? Otherwise {fix}" if hint else fix


def _provinces(cells: pd.DataFrame, out: pd.DataFrame, log: ProblemLog, header: Callable) -> None:
    res = _map_unique(
        cells["province"], _resolve_province, ["code", "old_code", "old_name", "problem"]
    )
    out["province_code"], out["old_name"] = res["code"], res["old_name"]
    # The reporting unit: before the merger every province row is a pre-2025 province; from
    # it, a row is the 2025 unit itself ("") unless it names a province that no longer
    # exists (added to its unit, with a warning). National rows have "".
    before = out["start"] < pd.Timestamp(MERGER_DATE)
    out["source_unit"] = res["old_code"].where(before | res["old_name"].notna(), "")
    log.add_rows(
        res["problem"].eq("missing"),
        cells,
        "province",
        "province is missing",
        _PROVINCE_FIX,
        headers=header("province"),
    )
    log.add_rows(
        res["problem"].eq("unknown"),
        cells,
        "province",
        _province_message,
        _province_fix,
        headers=header("province"),
    )


def _merger_warnings(out: pd.DataFrame) -> list[str]:
    """Warn about rows that name a pre-2025 province for periods after the merger."""
    late = out["old_name"].notna() & (out["start"] >= pd.Timestamp(MERGER_DATE))
    if not late.any():
        return []
    from forecast.data.geography import provinces  # local: only needed on this rare path

    names = {p.code: p.name for p in provinces()}
    counts = out[late].groupby(["old_name", "province_code"]).size()
    return [
        f"'{old}' is a pre-2025 province, merged into '{names[code]}' from "
        f"{MERGER_DATE.isoformat()}; its {n} row(s) for periods from "
        f"{MERGER_DATE:%Y-%m} were added to '{names[code]}'"
        for (old, code), n in counts.items()
    ]


# --- categories, markets, destinations -----------------------------------------------------

_CATEGORY_FIX = (
    "use a category code or name from categories.csv (e.g. XK_WOOD or Gỗ và sản phẩm gỗ)"
)


def _resolve_category(value: object) -> tuple[object, ...]:
    text = cell_text(value)
    if not text:
        return None, "missing"
    found = lookup_category(text)
    return (found.code, None) if found else (None, "unknown")


def _category_fix(value: str) -> str:
    return _did_you_mean(_nearest(suggest_category, value), _CATEGORY_FIX)


def _categories(cells: pd.DataFrame, out: pd.DataFrame, log: ProblemLog, header: Callable) -> None:
    res = _map_unique(cells["category"], _resolve_category, ["code", "problem"])
    out["category"] = res["code"]
    log.add_rows(
        res["problem"].eq("missing"),
        cells,
        "category",
        "category is missing",
        _CATEGORY_FIX,
        headers=header("category"),
    )
    log.add_rows(
        res["problem"].eq("unknown"),
        cells,
        "category",
        "unknown category",
        _category_fix,
        headers=header("category"),
    )


_MARKET_FIX = "write 'domestic' or 'export' ('trong nước' or 'xuất khẩu')"


def _resolve_destination(value: object) -> tuple[object, ...]:
    text = cell_text(value)
    if not text:
        return "", None
    found = lookup_country(text)
    return (found.iso2, None) if found else (None, "unknown")


def _destination_fix(value: str) -> str:
    return _did_you_mean(
        _nearest(suggest_country, value),
        "use a country name in Vietnamese or English, or its ISO code (US, JP, CN)",
    )


def _markets(cells: pd.DataFrame, out: pd.DataFrame, log: ProblemLog, header: Callable) -> None:
    market = _map_unique(
        cells["market"],
        lambda v: (_MARKET_INDEX.get(key(cell_text(v))), cell_text(v)),
        ["market", "text"],
    )
    out["market"] = market["market"]
    blank = market["text"].eq("")
    log.add_rows(blank, cells, "market", "market is missing", _MARKET_FIX, headers=header("market"))
    log.add_rows(
        market["market"].isna() & ~blank,
        cells,
        "market",
        "unknown market",
        _MARKET_FIX,
        headers=header("market"),
    )
    if "destination" not in cells:
        out["destination"] = ""
        return
    dest = _map_unique(cells["destination"], _resolve_destination, ["iso2", "problem"])
    out["destination"] = dest["iso2"]
    log.add_rows(
        dest["problem"].eq("unknown"),
        cells,
        "destination",
        "unknown country",
        _destination_fix,
        headers=header("destination"),
    )
    domestic = out["market"].eq("domestic") & dest["iso2"].ne("") & dest["problem"].isna()
    log.add_rows(
        domestic,
        cells,
        "destination",
        "a destination is given on a domestic-market row",
        "leave the destination empty for domestic sales, or set the market to 'export'",
        headers=header("destination"),
    )


# --- numbers and units ---------------------------------------------------------------------


def _numbers(
    raw: RawTable, out: pd.DataFrame, log: ProblemLog, header: Callable, warnings: list[str]
) -> None:
    cells = raw.frame
    numeric = {c: analyse(cells[c]) for c in ("value", "quantity") if c in cells}
    choice = choose_decimal(list(numeric.values()), hint=raw.decimal_hint)
    out["quantity"] = np.nan
    if choice.comma_example and choice.point_example:
        (ci, ctext), (pi, ptext) = choice.comma_example, choice.point_example
        log.add(
            f"the file mixes decimal conventions: '{ctext}' (row {cells.at[ci, '_row']}) "
            f"uses a decimal comma but '{ptext}' (row {cells.at[pi, '_row']}) a decimal point",
            "use one convention in the whole file (1234.5 or 1234,5)",
        )
        out["value"] = np.nan
        return
    if choice.ambiguous:
        analysed = next(a for a in numeric.values() if a.first("ambiguous"))
        label, example = analysed.first("ambiguous")  # type: ignore[misc]
        value = float(analysed.parse(choice.decimal)[0].loc[label])
        row = cells.at[label, "_row"]
        warnings.append(ambiguity_note(example, row, value, choice.decimal))
    fix = "write a plain number such as 1234.5 or 1.234,5, without units or text"
    empty = "delete the row" if raw.layout == "long" else "leave the cell empty"
    for column, analysed in numeric.items():
        values, bad = analysed.parse(choice.decimal)
        out[column] = values
        name = header(column)
        blank = values.isna() & ~bad
        # '-', 'NaN', '#N/A'... say "no data": a missing value, not a malformed number (and
        # simply no quantity, since quantities are optional).
        marked = bad & _no_data_marks(cells[column])
        bad &= ~marked
        if column == "value":
            log.add_rows(
                blank,
                cells,
                column,
                "value is missing",
                "enter the value (0 if nothing was sold) or delete the row",
                headers=name,
            )
            log.add_rows(
                marked,
                cells,
                column,
                "value is missing (the cell holds a no-data mark)",
                f"{empty} if there is no data, or enter the value (0 if nothing was sold)",
                headers=name,
            )
        log.add_rows(bad, cells, column, "not a number", fix, headers=name)
        log.add_rows(
            (values < 0) & ~(values.abs() > MAX_NUMBER),  # -inf is reported as infinite
            cells,
            column,
            f"{column} is negative",
            "sales values and quantities are 0 or more; correct the sign or delete the row",
            headers=name,
        )
        log.add_rows(
            values.abs() > MAX_NUMBER,  # includes infinity; NaN compares False
            cells,
            column,
            f"{column} is infinite or implausibly large (over 10^15)",
            "check the unit and the decimal separator",
            headers=name,
        )


#: Cells that mean "no data" in statistical tables and spreadsheet exports (folded).
NO_DATA_MARKS = frozenset(
    {"-", "–", "—", "--", "..", "...", "…", "x", "n/a", "na", "nan", "null", "none", "#n/a", "<na>"}
)


def _no_data_marks(cells: pd.Series) -> pd.Series:
    """True where a cell is a no-data mark such as ``-``, ``..``, ``NaN`` or ``#N/A``."""
    codes, uniques = pd.factorize(cells.to_numpy(dtype=object))
    marks = [isinstance(u, str) and u.strip().lower() in NO_DATA_MARKS for u in uniques]
    return pd.Series(np.array([*marks, False])[codes], index=cells.index)


def _resolve_unit(value: object) -> tuple[str, str | None]:
    text = cell_text(value)
    if not text:
        return text, "missing"
    if _CONTROL.search(text):
        return text, "control"
    return text, "long" if len(text) > MAX_UNIT_LENGTH else None


def _units(raw: RawTable, out: pd.DataFrame, log: ProblemLog, header: Callable) -> None:
    cells = raw.frame
    default = cell_text(raw.default_unit)
    if "unit" not in cells:
        out["unit"] = default
        return
    res = _map_unique(cells["unit"], _resolve_unit, ["unit", "problem"])
    if default:
        res.loc[res["problem"].eq("missing"), ["unit", "problem"]] = [default, None]
    out["unit"] = res["unit"]
    checks = {
        "missing": (
            "unit is missing",
            "write the unit of the value, e.g. 'million VND' or 'thousand USD'",
        ),
        "control": ("unit contains control characters", "retype the unit as plain text"),
        "long": (
            f"unit is longer than {MAX_UNIT_LENGTH} characters",
            "write a short unit such as 'million VND'",
        ),
    }
    for problem, (message, fix) in checks.items():
        log.add_rows(
            res["problem"].eq(problem), cells, "unit", message, fix, headers=header("unit")
        )


def _check_units_per_series(
    cells: pd.DataFrame, out: pd.DataFrame, log: ProblemLog, header: Callable
) -> None:
    """One unit per series: spellings that fold alike are one unit; others are errors."""
    out["unit_key"] = _map_unique(out["unit"], lambda u: (key(str(u)),), ["k"])["k"]
    # One spelling per unit across the file (the first seen), e.g. "Million VND".
    out["unit"] = out.groupby("unit_key", sort=False)["unit"].transform("first")
    grouped = out.groupby(["province_code", "category", "market", "destination"], sort=False)
    odd = out.index[out["unit_key"].ne(grouped["unit_key"].transform("first"))]
    if odd.empty:
        return
    first_unit = grouped["unit"].transform("first")
    first_row = cells["_row"].groupby(grouped.ngroup()).transform("first")
    for idx in odd[: log.cap]:
        log.add(
            f"a series has more than one unit: '{out.at[idx, 'unit']}' here but "
            f"'{first_unit[idx]}' in row {first_row[idx]}",
            "use one unit per province, category, market and destination; convert the values",
            row=int(cells.at[idx, "_row"]),
            column=_at(header("unit"), idx),
            value=out.at[idx, "unit"],
        )
    log.add_uncounted(len(odd) - log.cap)


def _check_duplicates(
    cells: pd.DataFrame, out: pd.DataFrame, log: ProblemLog, header: Callable
) -> str | None:
    """Drop identical duplicate rows (returns a warning); record conflicting ones."""
    # Same reporting unit: 'Hà Giang' and '02' before the merger are one province, 'Hà
    # Giang' and 'Tuyên Quang' are two parts (summed), 'Tuyên Quang' and '08' are one.
    ident = ["freq", "period", "province_code", "source_unit", "category", "market", "destination"]
    same = out.duplicated([*ident, "value", "quantity", "unit_key"], keep="first")
    dropped = None
    if same.any():
        rows = cells.loc[same, "_row"].tolist()
        listed = ", ".join(map(str, rows[:10])) + (" …" if len(rows) > 10 else "")
        dropped = f"dropped {len(rows)} identical duplicate row(s): rows {listed}"
        out.drop(index=out.index[same], inplace=True)
    clash = out.duplicated(ident, keep=False)
    if clash.any():
        group = out[clash].groupby(ident, sort=False).ngroup()
        first_row = cells.loc[group.index, "_row"].groupby(group.to_numpy()).transform("first")
        later = first_row.ne(cells.loc[group.index, "_row"])
        extra = later[later].index
        for idx in extra[: log.cap]:
            log.add(
                f"conflicts with row {first_row[idx]}: same province, category, market, "
                "destination and period but a different value, quantity or unit",
                "keep one of the two rows, or correct the period or province",
                row=int(cells.at[idx, "_row"]),
                column=str(_at(header("value"), idx)),
                value=cells.at[idx, "value"],
            )
        log.add_uncounted(len(extra) - log.cap)
    return dropped


def _at(names: pd.Series | str, idx: object) -> str:
    return names if isinstance(names, str) else str(names.at[idx])


def _parts(out: pd.DataFrame) -> pd.DataFrame:
    """The rows to store, one per observation key and reporting unit, sorted.

    Duplicates are resolved before (identical dropped, conflicting rejected), so each
    (key, ``source_unit``) occurs once; summing into 2025 units happens when reading.
    """
    frame = out[list(STORED_COLUMNS)].sort_values(list(PART_KEY_COLUMNS), kind="stable")
    return frame.reset_index(drop=True)
