"""Read a long ``unique_id,ds,y`` table: the input of ``predict-csv`` and ``backtest --input``.

The files are handled as ingest handles them (:mod:`forecast.data.readers`): CSV, TSV or
TXT, optionally gzip-compressed, in UTF-8 (with or without BOM), UTF-16, cp1258 or cp1252,
separated by commas, semicolons or tabs; XLSX; Parquet. Text is Unicode-normalised (NFC),
so ids typed on different systems compare equal. Numbers may be typed as people type
them (``1234.5``, ``1.234,5``, ``1,234.5``), one convention per file
(:mod:`forecast.data.numbers`; ``;``-separated files default to the decimal comma). Title
and blank lines above the header are skipped, as are blank lines in the data.

Each row's index is its file line (sheet row) minus 2, which is where
:meth:`forecast.panel.Panel.from_long` looks for the line to name in an error.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from forecast.data.numbers import Decimal, ambiguity_note, analyse, choose_decimal
from forecast.data.problems import MAX_PROBLEMS
from forecast.data.readers import (
    DELIMITERS,
    HEADER_SCAN_ROWS,
    MAX_INPUT_BYTES,
    decode_text,
    load_input,
    read_parquet_frame,
    xlsx_rows,
)
from forecast.data.schema import NO_DATA_MARKS, cell_text
from forecast.errors import DataError, Problem

#: The columns of a long table, in the order of the ``predict-csv`` contract.
COLUMNS = ("unique_id", "ds", "y")
_NUMBER_FIX = "write a plain number such as 1234.5 or 1.234,5, or leave the cell empty"
_TOO_LARGE_FIX = (
    "forecast fewer series per run (split the file by series), or store the data with "
    "`forecast ingest` and use `forecast run`"
)
#: Excel stores dates as days since 1899-12-30; numbers in this range (1954-10-04 to
#: 2119-01-10) in a workbook's date column are such serials when its format was lost.
_EXCEL_SERIALS = (20_000.0, 80_000.0)
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
Kind = Literal["csv", "xlsx", "parquet"]


@dataclass(frozen=True)
class LongTable:
    """A long table as read.

    Attributes
    ----------
    frame
        Columns ``unique_id`` and ``ds`` as text, ``y`` as float (NaN where blank or a
        no-data mark such as ``-`` or ``NaN``); the index is each row's file line - 2.
    warnings
        What the reader decided that the user may want to check (e.g. how ``1.234`` was
        read).
    """

    frame: pd.DataFrame
    warnings: tuple[str, ...] = ()


def read_long_table(path: Path | str, *, sheet: str | None = None) -> LongTable:
    """Read a long ``unique_id,ds,y`` table from CSV, TSV, XLSX or Parquet.

    Parameters
    ----------
    path
        The file; the format is taken from its first bytes, then its extension.
    sheet
        XLSX sheet to read; default: the first visible one.

    Returns
    -------
    LongTable
        The rows with a date or a value (blank rows, and rows with only text in the id
        column, such as a source note under the table, are skipped).

    Raises
    ------
    DataError
        The file is missing, unreadable or malformed, has no header naming the three
        columns, or holds cells that are not numbers; the problems name the line and
        column and say what to do.
    """
    path = Path(path)
    _check_path(path)
    loaded = load_input(path, too_large_fix=_TOO_LARGE_FIX)
    name = loaded.name
    hint: Decimal | None = None
    if sheet is not None and loaded.kind != "xlsx":
        raise DataError(
            Problem.whole_file(
                name,
                f"a sheet ({sheet!r}) was asked for, but this is a {loaded.kind.upper()} file, "
                "not an XLSX workbook",
                "leave out --sheet",
            )
        )
    if loaded.kind == "parquet":
        frame = _parquet_frame(name, loaded.data)
    elif loaded.kind == "xlsx":
        rows, _title = xlsx_rows(name, loaded.data, sheet, too_large_fix=_TOO_LARGE_FIX)
        records = ((i + 1, list(r)) for i, r in enumerate(rows))
        frame = _rows_frame(name, records, "xlsx", check_width=False)
    else:
        text = decode_text(name, loaded.data)
        delimiter = _delimiter(text)
        hint = "," if delimiter == ";" else None
        frame = _csv_frame(name, text, delimiter)
    return _typed(name, frame, hint, loaded.kind)


def _check_path(path: Path) -> None:
    """Clear messages for what is not a readable file, before reading it."""
    try:  # a folder on the way that cannot be entered makes even these raise
        exists, is_dir = path.exists(), path.is_dir()
    except OSError as exc:
        raise DataError(
            Problem.whole_file(
                path.name,
                f"cannot read the file ({exc.strerror or exc}; path {path})",
                "check that the file and its folders are readable by this user",
            )
        ) from None
    if not exists:
        raise DataError(Problem.whole_file(path.name, "file not found", "check the path"))
    if is_dir:
        raise DataError(
            Problem.whole_file(
                path.name,
                f"is a folder, not a file ({path})",
                "pass the path of a file with columns unique_id,ds,y",
            )
        )


# --- CSV ------------------------------------------------------------------------------------


def _delimiter(text: str) -> str:
    """The delimiter under which a header row names all three columns (else ``,``)."""
    head = "".join(islice(io.StringIO(text, newline=""), HEADER_SCAN_ROWS))
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        if any(_header_positions(r) is not None for r in rows):
            return delimiter
    return ","


def _csv_frame(name: str, text: str, delimiter: str) -> pd.DataFrame:
    """The CSV body: pandas' parser where lines and records coincide (no quotes, no lone
    ``\r`` line ends, every row within the header's width) and it returns one row per
    line, else the csv module, which knows each record's line."""

    def by_records() -> pd.DataFrame:
        return _rows_frame(name, _csv_records(name, text, delimiter), "csv")

    if '"' in text or text.count("\r") != text.count("\r\n"):
        return by_records()
    header_line, width, positions = _find_header(name, _csv_records(name, text, delimiter), "csv")
    lines = io.StringIO(text, newline="")
    body_text = text[sum(len(next(lines)) for _ in range(header_line)) :]
    n_lines = body_text.count("\n") + (not body_text.endswith("\n") and bool(body_text))
    if n_lines == 0:
        body = pd.DataFrame(columns=range(width), dtype=object)
    else:
        try:
            body = pd.read_csv(
                io.StringIO(body_text),
                sep=delimiter,
                header=None,
                index_col=False,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                engine="c",
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError):  # e.g. a row too wide
            return by_records()
        if len(body) != n_lines:  # pandas merged or dropped some lines
            return by_records()
    if body.shape[1] > width and (body.iloc[:, width:] != "").to_numpy().any():
        return by_records()
    for column in range(body.shape[1], width):  # every row shorter than the header
        body[column] = ""
    frame = pd.DataFrame({c: body[positions[c]].to_numpy(dtype=object) for c in COLUMNS})
    frame.index = pd.RangeIndex(header_line + 1, header_line + 1 + len(frame)) - 2
    return frame


def _csv_records(name: str, text: str, delimiter: str) -> Iterator[tuple[int, list[object]]]:
    """(first file line, cells) of each record; quoted cells may span lines."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_INPUT_BYTES))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    try:
        for cells in reader:
            yield line, list(cells)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(
            Problem(
                name, line, None, None,
                f"this row cannot be read as CSV ({exc}): a quoted cell starts here and "
                "does not end where it should",
                'check the quotes on this row: a cell that starts with " must end with " '
                '(write "" for a quote inside it)',
            )
        ) from None  # fmt: skip


# --- rows to a frame ------------------------------------------------------------------------


def _key(cell: object) -> str:
    return cell_text(cell).lower()


def _header_positions(cells: Sequence[object]) -> dict[str, int] | None:
    """Position of each column when the row names all three, else None."""
    keys = [_key(c) for c in cells]
    if not all(c in keys for c in COLUMNS):
        return None
    return {c: keys.index(c) for c in COLUMNS}


def _missing_columns(name: str, rows: list[list[object]], kind: Kind) -> DataError:
    first = next((r for r in rows if any(_key(c) for c in r)), [])
    found = [cell_text(c) for c in first if cell_text(c)]
    keys = {_key(c) for c in first}
    missing = [c for c in COLUMNS if c not in keys]
    fix = {
        "csv": "put one header row naming unique_id, ds and y above the data, separated by "
        "commas, semicolons or tabs",
        "xlsx": "put one header row naming unique_id, ds and y above the data, or pass "
        "--sheet NAME to read the sheet that holds them",
        "parquet": "name the columns unique_id, ds and y",
    }[kind]
    return DataError(
        Problem(
            name, None, None, None,
            f"missing column(s) {', '.join(missing)}; found {', '.join(found) or 'no header'}",
            fix,
        )
    )  # fmt: skip


def _check_duplicates(name: str, line: int | None, header: Sequence[object]) -> None:
    keys = [_key(c) for c in header]
    twice = sorted({c for c in COLUMNS if keys.count(c) > 1})
    if twice:
        raise DataError(
            Problem(
                name, line, None, None,
                f"the header names column(s) {', '.join(twice)} more than once",
                "keep one column each for unique_id, ds and y (rename or delete the others)",
            )
        )  # fmt: skip


def _find_header(
    name: str, records: Iterator[tuple[int, list[object]]], kind: Kind
) -> tuple[int, int, dict[str, int]]:
    """(line, width, column positions) of the header among the first rows; the records
    are read up to it."""
    scanned: list[list[object]] = []
    for line, cells in records:
        positions = _header_positions(cells)
        if positions is not None:
            _check_duplicates(name, line, cells)
            return line, len(cells), positions
        scanned.append(cells)
        if len(scanned) >= HEADER_SCAN_ROWS:
            break
    raise _missing_columns(name, scanned, kind)


def _rows_frame(
    name: str, records: Iterable[tuple[int, list[object]]], kind: Kind, *, check_width: bool = True
) -> pd.DataFrame:
    """The three columns of the rows below the header, indexed by file line - 2.

    ``check_width``: cells beyond the header are an error (a delimiter inside an unquoted
    cell shifts the row); in a workbook they are notes beside the table, and ignored.
    """
    records = iter(records)
    _line, width, positions = _find_header(name, records, kind)
    take = [positions[c] for c in COLUMNS]
    lines: list[int] = []
    values: dict[str, list[object]] = {c: [] for c in COLUMNS}
    wide: list[Problem] = []
    n_wide = 0
    for line, cells in records:
        if not any(_filled(c) for c in cells):
            continue  # blank line, or a line of separators or spaces
        if check_width and len(cells) > width and any(_filled(c) for c in cells[width:]):
            n_wide += 1
            if len(wide) < MAX_PROBLEMS:
                shown = ", ".join(cell_text(c) for c in cells[width:] if _filled(c))
                wide.append(
                    Problem(
                        name, line, None, shown,
                        f"row has more cells than the {width} of the header",
                        "quote text that contains the delimiter, and write numbers without "
                        "thousands separators when the delimiter is a comma",
                    )
                )  # fmt: skip
            continue
        lines.append(line)
        for column, pos in zip(COLUMNS, take, strict=True):
            values[column].append(cells[pos] if pos < len(cells) else None)
    if wide:
        raise DataError(wide, truncated=n_wide > len(wide))
    index = pd.Index(np.asarray(lines, dtype=np.int64) - 2)
    frame = pd.DataFrame({c: pd.Series(values[c], dtype=object) for c in COLUMNS})
    return frame.set_axis(index, axis=0)


def _filled(cell: object) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


# --- Parquet --------------------------------------------------------------------------------


def _parquet_frame(name: str, data: bytes) -> pd.DataFrame:
    table = read_parquet_frame(name, data, too_large_fix=_TOO_LARGE_FIX)
    if _header_positions(list(table.columns)) is None and any(table.index.names):
        table = table.reset_index()  # e.g. written with the series id as the index
    header = list(table.columns)
    positions = _header_positions(header)
    if positions is None:
        raise _missing_columns(name, [header], "parquet")
    _check_duplicates(name, None, header)
    frame = pd.DataFrame({c: table.iloc[:, positions[c]] for c in COLUMNS})
    return frame.set_axis(pd.RangeIndex(len(frame)), axis=0)  # row i is "line" i + 2


# --- types ----------------------------------------------------------------------------------


def _per_value(cells: pd.Series, fn: Callable[[object], object]) -> pd.Series:
    """``cells.map(fn)`` with ``fn`` called once per distinct value (ids and dates repeat)."""
    codes, uniques = pd.factorize(cells.to_numpy(dtype=object), use_na_sentinel=True)
    mapped = np.array([*(fn(u) for u in uniques), fn(None)], dtype=object)
    return pd.Series(mapped[codes], index=cells.index)  # code -1 (None, NaN) takes fn(None)


def _blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, float) and np.isnan(cell)) or cell is pd.NaT


def _id_text(cell: object) -> str | None:
    """An id as text: whole numbers without ``.0``, text as written (spaces may be part
    of an id); None when blank."""
    if _blank(cell):
        return None
    if isinstance(cell, float | np.floating) and float(cell).is_integer():
        return str(int(cell))
    text = str(cell)
    return text if text.strip() else None


def _is_stamp(cell: object) -> bool:
    return isinstance(cell, dt.date) and not _blank(cell)  # datetime, Timestamp, date


def _dates_text(cells: pd.Series, kind: Kind) -> tuple[pd.Series, list[str]]:
    """Date cells as text, in one format per column so that the parser reads them all:
    dates alone when every typed value is at midnight, else with the time of day. In a
    workbook, numbers in the range of Excel's date serials are dates whose format was
    lost; elsewhere whole numbers are a period index."""
    notes: list[str] = []
    codes, uniques = pd.factorize(cells.to_numpy(dtype=object), use_na_sentinel=True)
    values = list(uniques)
    numbers = [
        i
        for i, v in enumerate(values)
        if isinstance(v, int | float | np.number) and not isinstance(v, bool) and not _blank(v)
    ]
    low, high = _EXCEL_SERIALS
    if (
        kind == "xlsx"
        and numbers
        and not any(isinstance(v, str) or _is_stamp(v) for v in values)
        and all(low <= float(values[i]) <= high for i in numbers)
    ):
        for i in numbers:
            values[i] = _EXCEL_EPOCH + pd.to_timedelta(float(values[i]), unit="D").round("s")
        notes.append(
            "the ds column holds numbers such as "
            f"{float(uniques[numbers[0]]):g}; they were read as Excel date serials "
            "(give the column a date format in the workbook to avoid this note)"
        )
    stamps = [pd.Timestamp(v) for v in values if _is_stamp(v)]
    naive = [s for s in stamps if s.tzinfo is None]
    with_time = any(s != s.normalize() for s in naive)

    def text(cell: object) -> str | None:
        if _blank(cell):
            return None
        if _is_stamp(cell):
            stamp = pd.Timestamp(cell)  # type: ignore[arg-type]
            if stamp.tzinfo is not None:
                return stamp.isoformat()
            return stamp.strftime("%Y-%m-%d %H:%M:%S" if with_time else "%Y-%m-%d")
        return _id_text(cell)

    mapped = np.array([*(text(v) for v in values), None], dtype=object)
    return pd.Series(mapped[codes], index=cells.index), notes


def _no_data(cell: object) -> bool:
    return isinstance(cell, str) and cell.strip().lower() in NO_DATA_MARKS


def _is_inf_text(cell: object) -> bool:
    if not isinstance(cell, str):
        return False
    try:
        return bool(np.isinf(float(cell.strip())))
    except ValueError:
        return False


def _date_problems(
    name: str, ds: pd.Series, ids: pd.Series, lines: np.ndarray, filled: np.ndarray
) -> list[Problem]:
    """``ds`` cells that are no date, read as :meth:`forecast.panel.Panel.from_long` reads
    them (an integer index when every cell is a whole number)."""
    from forecast.panel import DATE_FIX, parse_dates

    keep = filled & ds.notna().to_numpy()
    text = ds[keep].astype(str)
    if not len(text) or text.str.fullmatch(r"\s*-?\d+(?:\.0*)?\s*").all():
        return []
    parsed = parse_dates(text, ids[keep])
    rows = np.flatnonzero(keep)[parsed.isna().to_numpy()]
    return [
        Problem(name, int(lines[r]), "ds", cell_text(ds.iat[r]), "not a date", DATE_FIX)
        for r in rows
    ]


def _typed(name: str, frame: pd.DataFrame, hint: Decimal | None, kind: Kind) -> LongTable:
    """Ids and dates as text, values as numbers under the file's decimal convention."""
    lines = frame.index.to_numpy() + 2
    ids = _per_value(frame["unique_id"], _id_text)
    ds, warnings = _dates_text(frame["ds"], kind)
    raw_y = frame["y"]
    if pd.api.types.is_numeric_dtype(raw_y) and not pd.api.types.is_bool_dtype(raw_y):
        no_data = pd.Series(False, index=frame.index)
        cells = raw_y
    else:
        no_data = _per_value(raw_y, _no_data).astype(bool)
        cells = raw_y.where(~no_data, None)
    analysed = analyse(cells)
    choice = choose_decimal([analysed], hint=hint)
    if choice.comma_example is not None and choice.point_example is not None:
        (ci, ctext), (pi, ptext) = choice.comma_example, choice.point_example
        raise DataError(
            Problem(
                name, None, "y", None,
                f"the file mixes decimal conventions: '{ctext}' (row {ci + 2}) uses a decimal "
                f"comma but '{ptext}' (row {pi + 2}) a decimal point",
                "use one convention in the whole file (1234.5 or 1234,5)",
            )
        )  # fmt: skip
    y, bad = analysed.parse(choice.decimal)
    y = y.astype(float)
    bad_mask = bad.to_numpy()
    infinite = np.isinf(y.to_numpy())
    infinite[bad_mask] = raw_y[bad_mask].map(_is_inf_text).to_numpy(bool)
    wrong = np.flatnonzero(bad_mask | infinite)
    problems = [
        Problem(
            name, int(lines[r]), "y", cell_text(raw_y.iat[r]),
            "not a finite number" if infinite[r] else "not a number", _NUMBER_FIX,
        )
        for r in wrong[:MAX_PROBLEMS]
    ]  # fmt: skip
    n_problems = len(wrong)
    # A row with only an id is a note under or between the data ("Nguồn: ..."), as ingest
    # reads it; it carries no observation either way.
    filled = (ds.notna() | y.notna() | no_data).to_numpy()
    for column, series, fix in (
        ("unique_id", ids, "fill in the series id or delete the row"),
        ("ds", ds, "fill in the date (YYYY-MM-DD) or period index, or delete the row"),
    ):
        empty = np.flatnonzero(series.isna().to_numpy() & filled)
        n_problems += len(empty)
        problems += [
            Problem(name, int(lines[r]), column, None, f"{column} is empty", fix)
            for r in empty[:MAX_PROBLEMS]
        ]
    if problems:
        # Dates are checked when the panel is built; list bad ones now too, so that every
        # problem of the file is reported at once.
        bad_dates = _date_problems(name, ds, ids, lines, filled)
        n_problems += len(bad_dates)
        problems += bad_dates[:MAX_PROBLEMS]
        problems.sort(key=lambda p: (p.row or 0, COLUMNS.index(p.column or "y")))
        raise DataError(problems[:MAX_PROBLEMS], truncated=n_problems > MAX_PROBLEMS)
    out = pd.DataFrame({"unique_id": ids, "ds": ds, "y": y}, index=frame.index).loc[filled]
    if choice.ambiguous:
        found = analysed.first("ambiguous")
        if found is not None:
            label, example = found
            warnings.append(ambiguity_note(example, label + 2, float(y.loc[label]), choice.decimal))
    return LongTable(out, tuple(f"{name}: {w}" for w in warnings))
